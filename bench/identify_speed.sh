#!/usr/bin/env bash
# Speed of identification (issue 5): `firmwarden scan`, best of 3, on root file systems of real
# Debian packages: one of at least TARGET_MB (default 30) MB of files built from the first packages
# of bench/identify_debs.txt (from $CACHE, see bench/identify_accuracy.sh), and the corpus
# builder's three "components" root file systems when CORPUS_DIR has them. For each: the identify
# stage (limit 0.5 s), the same with the signature source left out
# (FIRMWARDEN_IDENTIFY_SKIP=signatures), from the difference the throughput of the signature pass
# over the bytes it reads, and the reference the issue names for it, the memory bandwidth of one
# scan: one thread mapping the same files and reading every byte once (bench/read_bandwidth.cc,
# built here with the system compiler). Then the identify stage on every real image. Prints
# Markdown tables.
#   bash bench/identify_speed.sh [FIRMWARDEN] [TARGET_MB] [CORPUS_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${1:-build/release/firmwarden}")
TARGET_MB=${2:-30}
CORPUS=${3:-${FIRMWARDEN_CORPUS_DIR:-build/corpus}}
CACHE=${CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/firmwarden-bench/debs}
FIRMWARE=${FIRMWARE:-${FIRMWARDEN_SHARED_DIR:-../shared}/corpora/firmware}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
c++ -O2 -o "$TMP/read_bandwidth" bench/read_bandwidth.cc

# The files the signature pass reads: regular files up to 64 MiB, documentation skipped
# (src/identify/sources/signatures.cc).
scanned() {
  find "$1" -type f -size -65537k \
    -not -regex '.*/usr/share/\(doc\|man\|info\|locale\|lintian\|common-licenses\|help\|gtk-doc\)/.*'
}

mkdir -p "$TMP/root"
while read -r p; do
  case "$p" in ''|'#'*) continue ;; esac
  for d in "$CACHE/${p}"_*.deb; do [ -f "$d" ] && dpkg-deb -x "$d" "$TMP/root"; done
  rm -rf "$TMP/root/usr/share/doc" "$TMP/root/usr/share/man"
  size=$(scanned "$TMP/root" | xargs -r -d '\n' stat -c %s | awk '{s+=$1} END {print int(s/1e6)}')
  [ "$size" -ge "$TARGET_MB" ] && break
done < bench/identify_debs.txt
tar -C "$TMP/root" -cf "$TMP/debian12.tar" .

best() {  # best-of-3 identify seconds of `scan` on $1 with env $2
  local b=""
  for run in 1 2 3; do
    env $2 "$BIN" scan "$1" --format json -o "$TMP/r.json" --sbom "$TMP/s.json" >/dev/null 2>&1 || true
    t=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['times']['identify'])" "$TMP/r.json")
    if [ -z "$b" ] || [ "$(echo "$t < $b" | bc -l)" = 1 ]; then b=$t; fi
  done
  echo "$b"
}

echo '| root file system | files | MB read | identify s (best of 3) | limit | ratio | of which signatures s | signature pass MB/s | one-pass read MB/s | signature pass / read |'
echo '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|'
row() {  # name image tree
  scanned "$3" > "$TMP/files"
  local files bw with without
  files=$(wc -l < "$TMP/files")
  bw=$("$TMP/read_bandwidth" < "$TMP/files")
  with=$(best "$2" "FIRMWARDEN_NOTHING=1")
  without=$(best "$2" "FIRMWARDEN_IDENTIFY_SKIP=signatures")
  python3 - "$1" "$files" "$with" "$without" $bw <<'PY'
import sys
name, n, w, wo = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
b, rd_mbs = int(sys.argv[5]), float(sys.argv[7])
sig = max(w - wo, 1e-6)
mbs = b / 1e6 / sig
print('| %s | %d | %.1f | %.3f | 0.5 | %.2fx | %.3f | %.0f | %.0f | %.2f |' % (
    name, n, b / 1e6, w, w / 0.5, sig, mbs, rd_mbs, mbs / rd_mbs))
PY
}
row "Debian 12 amd64 packages" "$TMP/debian12.tar" "$TMP/root"
rm -rf "$TMP/root"
for img in "$CORPUS"/*-components/squashfs-gzip.sqfs; do
  [ -f "$img" ] || continue
  name=$(basename "$(dirname "$img")")
  "$BIN" extract "$img" -o "$TMP/x" >/dev/null 2>&1 || true
  row "$name" "$img" "$(find "$TMP/x" -mindepth 1 -maxdepth 1 -type d | head -1)"
  rm -rf "$TMP/x"
done
echo
echo "| real image | identify s (best of 3) | components |"
echo "|---|---:|---:|"
for img in "$FIRMWARE"/*; do
  case "$img" in *README*|*SHA256SUMS*) continue ;; esac
  t=$(best "$img" "FIRMWARDEN_NOTHING=1")
  n=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1])).get('components', [])))" "$TMP/s.json" 2>/dev/null || echo "?")
  echo "| $(basename "$img") | $t | $n |"
done
