#!/usr/bin/env bash
# `firmwarden scan` on every real image in ../shared/corpora/firmware: wall time (best of 3, the
# limit from issue 4 is 2 s per image on this 2-core machine), the per-stage times of the best run,
# and the findings by severity with the checks that fired. Prints a Markdown table.
#   bash bench/scan_real_images.sh [FIRMWARDEN] [CORPUS_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build/release/firmwarden}
DIR=${2:-../shared/corpora/firmware}
CREDS=()
[ -d ../shared/data/credentials ] && CREDS=(--credentials ../shared/data/credentials)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
echo "| image | wall s (best of 3) | unpack | facts | checks | of which credentials | critical | high | medium | low | info | checks that fired |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
for img in "$DIR"/*; do
  case "$img" in *README*|*SHA256SUMS*) continue ;; esac
  best=""
  for run in 1 2 3; do
    s=$(date +%s.%N)
    "$BIN" scan "$img" "${CREDS[@]}" --format json -o "$TMP/r$run.json" 2>/dev/null || true
    e=$(date +%s.%N)
    w=$(echo "$e - $s" | bc)
    if [ -z "$best" ] || [ "$(echo "$w < $best" | bc)" = 1 ]; then best=$w; cp "$TMP/r$run.json" "$TMP/best.json"; fi
  done
  python3 - "$img" "$best" "$TMP/best.json" <<'PY'
import json, os, sys
img, wall, path = sys.argv[1], float(sys.argv[2]), sys.argv[3]
r = json.load(open(path))
t = r["times"]
sev = {s: 0 for s in ["critical", "high", "medium", "low", "info"]}
checks = []
for f in r["findings"]:
    sev[f["severity"]] += 1
    if f["check"] not in checks:
        checks.append(f["check"])
print("| %s | %.2f | %.2f | %.2f | %.2f | %.2f | %d | %d | %d | %d | %d | %s |" % (
    os.path.basename(img), wall, t["unpack"], t["facts"], t["checks"], t["credentials"],
    sev["critical"], sev["high"], sev["medium"], sev["low"], sev["info"], ", ".join(checks) or "–"))
PY
done
