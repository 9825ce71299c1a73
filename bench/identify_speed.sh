#!/usr/bin/env bash
# Speed of identification (issue 5): `firmwarden scan` on a root file system of about 30 MB built
# from real Debian 12 packages (the first packages of bench/identify_debs.txt, from $CACHE, see
# bench/identify_accuracy.sh), best of 3: the identify stage (limit 0.5 s), the same with the
# signature source left out (FIRMWARDEN_IDENTIFY_SKIP=signatures), and from the difference the
# throughput of the signature pass over the bytes it reads. Then the identify stage on every real
# image. Prints Markdown tables.
#   bash bench/identify_speed.sh [FIRMWARDEN] [TARGET_MB]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${1:-build/release/firmwarden}")
TARGET_MB=${2:-30}
CACHE=${CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/firmwarden-bench/debs}
FIRMWARE=${FIRMWARE:-${FIRMWARDEN_SHARED_DIR:-../shared}/corpora/firmware}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/root"
while read -r p; do
  case "$p" in ''|'#'*) continue ;; esac
  for d in "$CACHE/${p}"_*.deb; do [ -f "$d" ] && dpkg-deb -x "$d" "$TMP/root"; done
  size=$(du -sm "$TMP/root" | cut -f1)
  [ "$size" -ge "$TARGET_MB" ] && break
done < bench/identify_debs.txt
rm -rf "$TMP/root/usr/share/doc" "$TMP/root/usr/share/man"
tar -C "$TMP/root" -cf "$TMP/rootfs.tar" .
# The bytes the signature pass reads: every regular file up to 64 MiB.
bytes=$(find "$TMP/root" -type f -size -65537k -printf '%s\n' | awk '{s+=$1} END {print s}')
files=$(find "$TMP/root" -type f | wc -l)

best() {  # best-of-3 identify seconds of `scan` on $1 with env $2
  local b=""
  for run in 1 2 3; do
    env $2 "$BIN" scan "$1" --format json -o "$TMP/r.json" --sbom "$TMP/s.json" >/dev/null 2>&1 || true
    t=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['times']['identify'])" "$TMP/r.json")
    if [ -z "$b" ] || [ "$(echo "$t < $b" | bc -l)" = 1 ]; then b=$t; fi
  done
  echo "$b"
}
with=$(best "$TMP/rootfs.tar" "FIRMWARDEN_NOTHING=1")
without=$(best "$TMP/rootfs.tar" "FIRMWARDEN_IDENTIFY_SKIP=signatures")
python3 - "$bytes" "$files" "$with" "$without" <<'PY'
import sys
b, n, w, wo = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
sig = max(w - wo, 1e-6)
print('| root file system | files | MB read | identify s (best of 3) | limit | ratio | of which signatures s | signature pass MB/s |')
print('|---|---:|---:|---:|---:|---:|---:|---:|')
print('| Debian 12 packages | %d | %.1f | %.3f | 0.5 | %.2fx | %.3f | %.0f |' % (n, b / 1e6, w, w / 0.5, sig, b / 1e6 / sig))
PY
echo
echo "| real image | identify s (best of 3) | components |"
echo "|---|---:|---:|"
for img in "$FIRMWARE"/*; do
  case "$img" in *README*|*SHA256SUMS*) continue ;; esac
  t=$(best "$img" "FIRMWARDEN_NOTHING=1")
  n=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1])).get('components', [])))" "$TMP/s.json" 2>/dev/null || echo "?")
  echo "| $(basename "$img") | $t | $n |"
done
