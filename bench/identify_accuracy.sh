#!/usr/bin/env bash
# Accuracy of identification from the binaries alone (issue 5): recall and precision on
# (product, upstream version) over the products data/signatures covers, against exact truth:
#  1. the corpus builder's images from real Debian packages (one image per root file system; truth
#     = the packages the builder installed, from its *.truth.json), among them the "components"
#     root file systems (60+ covered products each, one per suite and architecture);
#  2. one root file system unpacked from the Debian 12 packages in bench/identify_debs.txt
#     (downloaded with apt-get download into $CACHE; truth = each .deb's Package/Version);
#  3. the real OpenWrt images, against their own opkg status.
# Every image is scanned with FIRMWARDEN_IDENTIFY_SKIP=dpkg,opkg,apk, so the package databases
# are not read. Prints Markdown tables (bench/identify_accuracy.py).
#   bash bench/identify_accuracy.sh [FIRMWARDEN] [CORPUS_DIR] [FIRMWARE_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${1:-build/release/firmwarden}")
CORPUS=${2:-${FIRMWARDEN_CORPUS_DIR:-build/corpus}}
FIRMWARE=${3:-${FIRMWARDEN_SHARED_DIR:-../shared}/corpora/firmware}
CACHE=${CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/firmwarden-bench/debs}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
CASES=()

# 1. corpus images
if [ -f "$CORPUS/index.json" ]; then
  python3 - "$CORPUS" > "$TMP/corpus.json" <<'PY'
import json, os, sys
root = sys.argv[1]
idx = json.load(open(os.path.join(root, 'index.json')))
seen, cases = set(), []
for im in idx['images']:
    if im['rootfs'] in seen or not (im.get('components') or
                                    im['format'] in ('tar-gnu', 'ext4', 'squashfs-xz')):
        continue
    seen.add(im['rootfs'])
    truth = json.load(open(os.path.join(root, im['truth'])))
    cases.append({'name': 'corpus %s (%s/%s, %s)' % (im['rootfs'], im['suite'], im['arch'],
                                                   im['format']),
                  'image': os.path.join(root, im['image']),
                  'packages': [[p['name'], p['version']] for p in truth.get('packages', [])]})
print(json.dumps(cases))
PY
  CASES+=("$TMP/corpus.json")
fi

# 2. Debian 12 packages unpacked into one root file system
mkdir -p "$CACHE"
missing=()
while read -r p; do
  case "$p" in ''|'#'*) continue ;; esac
  ls "$CACHE/${p}"_*.deb >/dev/null 2>&1 || missing+=("$p")
done < bench/identify_debs.txt
if [ ${#missing[@]} -gt 0 ]; then
  (cd "$CACHE" && apt-get download "${missing[@]}" >/dev/null 2>&1) || echo "warning: apt-get download failed for some of: ${missing[*]}" >&2
fi
mkdir -p "$TMP/debroot"
echo '[' > "$TMP/debs.list"
first=1
while read -r p; do
  case "$p" in ''|'#'*) continue ;; esac
  for d in "$CACHE/${p}"_*.deb; do
    [ -f "$d" ] || continue
    # Only packages that ship a program or library count: a metapackage (nginx-core) or one whose
    # binary lives in another package (miniupnpd) has nothing for the signatures to find.
    rm -rf "$TMP/one" && mkdir -p "$TMP/one" && dpkg-deb -x "$d" "$TMP/one"
    python3 -c "
import os, sys
for d, _, fs in os.walk(sys.argv[1]):
    for f in fs:
        p = os.path.join(d, f)
        if os.path.isfile(p) and not os.path.islink(p) and open(p, 'rb').read(4) == b'\\x7fELF':
            sys.exit(0)
sys.exit(1)" "$TMP/one" || continue
    cp -a "$TMP/one/." "$TMP/debroot/"
    [ $first = 1 ] || echo ',' >> "$TMP/debs.list"
    first=0
    printf '["%s", "%s"]' "$(dpkg-deb -f "$d" Package)" "$(dpkg-deb -f "$d" Version)" >> "$TMP/debs.list"
  done
done < bench/identify_debs.txt
echo ']' >> "$TMP/debs.list"
tar -C "$TMP/debroot" -cf "$TMP/debian12.tar" .
python3 -c "import json,sys; print(json.dumps([{'name': 'Debian 12 amd64 packages (%d)' % len(json.load(open(sys.argv[1]))), 'image': sys.argv[2], 'packages': json.load(open(sys.argv[1]))}]))" "$TMP/debs.list" "$TMP/debian12.tar" > "$TMP/debian.json"
rm -rf "$TMP/debroot"
CASES+=("$TMP/debian.json")

# 3. real OpenWrt images against their opkg status
echo '[' > "$TMP/openwrt.json"
first=1
for img in "$FIRMWARE"/openwrt-*; do
  [ -f "$img" ] || continue
  out="$TMP/x-$(basename "$img")"
  "$BIN" extract "$img" -o "$out" >/dev/null 2>&1 || true
  status=$(find "$out" -path '*/usr/lib/opkg/status' -type f | head -1)
  [ -n "$status" ] || continue
  [ $first = 1 ] || echo ',' >> "$TMP/openwrt.json"
  first=0
  python3 - "$img" "$status" >> "$TMP/openwrt.json" <<'PY'
import json, os, sys
pkgs, cur = [], {}
for line in open(sys.argv[2], errors='replace').read().split('\n') + ['']:
    if not line.strip():
        if 'Package' in cur and 'Version' in cur:
            pkgs.append([cur['Package'], cur['Version']])
        cur = {}
    elif ':' in line and not line[0].isspace():
        k, v = line.split(':', 1)
        cur[k.strip()] = v.strip()
print(json.dumps({'name': os.path.basename(sys.argv[1]), 'image': sys.argv[1], 'packages': pkgs}))
PY
  rm -rf "$out"
done
echo ']' >> "$TMP/openwrt.json"
CASES+=("$TMP/openwrt.json")

python3 -c "import json,sys; print(json.dumps(sum((json.load(open(f)) for f in sys.argv[1:]), [])))" "${CASES[@]}" > "$TMP/cases.json"
python3 bench/identify_accuracy.py "$BIN" data/signatures "$TMP/cases.json"
