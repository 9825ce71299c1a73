#!/usr/bin/env bash
# Benchmark: `firmwarden extract` against Debian's `binwalk -Me` on the real images, and against
# `unsquashfs` on a SquashFS-xz of a Debian root filesystem (>= 30 MB unpacked), in one run, on the
# same machine. Prints wall time, peak RSS and the ratio for each.
#
# usage: bench/extract_vs_peers.sh [FIRMWARDEN_BINARY]
# needs: scripts/setup packages, ../shared, and network on the first run (the large rootfs is built
# from real Debian packages by tests/corpus/build --profile large, then cached).
set -euo pipefail
cd "$(dirname "$0")/.."
FW=${1:-build/release/firmwarden}
SHARED=${FIRMWARDEN_SHARED_DIR:-../shared}
# Output goes to tmpfs (/dev/shm) by default for every tool alike, so the comparison measures the
# tools and not ext4's inode allocator; BENCH_TMP=/some/dir to measure on a disk instead.
WORK=$(mktemp -d -p "${BENCH_TMP:-/dev/shm}")
trap 'rm -rf "$WORK"' EXIT
REPEAT=${BENCH_REPEAT:-3}

# best-of-N wall seconds and max RSS (KiB) of a command; output dirs are cleaned between runs.
measure() {  # measure OUTDIR CMD...
  local out=$1; shift
  local best="" rss=0
  for _ in $(seq "$REPEAT"); do
    rm -rf "$out"
    /usr/bin/time -q -f '%e %M' -o "$WORK/time" "$@" >/dev/null 2>&1 || true
    read -r t m < <(tail -1 "$WORK/time")
    if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
    [ "$m" -gt "$rss" ] && rss=$m
  done
  echo "$best $rss"
}

count_files() { find "$1" -mindepth 1 2>/dev/null | wc -l; }

echo "output on $(df --output=fstype "$WORK" | tail -1) ($WORK); best of $REPEAT runs for each tool"
printf '%-52s %7s %7s %8s %9s %7s %8s %8s\n' image "fw s" "fw MiB" "fw files" "binwalk s" "bw MiB" "bw files" speedup
for img in "$SHARED"/corpora/firmware/*.{bin,trx,jffs2,cramfs,fw}; do
  name=$(basename "$img")
  read -r fw_t fw_m < <(measure "$WORK/fw" "$FW" extract "$img" -o "$WORK/fw")
  read -r bw_t bw_m < <(measure "$WORK/bw" binwalk -Me -q --run-as=root -C "$WORK/bw" "$img")
  ratio=$(awk "BEGIN{ if ($fw_t > 0) printf \"%.1fx\", $bw_t / $fw_t; else print \"inf\" }")
  # Regular files each tool left on disk (firmwarden: extracted entries and raw blobs).
  fw_n=$(find "$WORK/fw" -type f ! -name manifest.json | wc -l)
  bw_n=$(find "$WORK/bw" -type f | wc -l)
  printf '%-52s %7s %7.1f %8s %9s %7.1f %8s %8s\n' "${name:0:52}" "$fw_t" "$(awk "BEGIN{print $fw_m/1024}")" \
    "$fw_n" "$bw_t" "$(awk "BEGIN{print $bw_m/1024}")" "$bw_n" "$ratio"
done

echo
echo "SquashFS-xz of a Debian root filesystem: firmwarden extract vs unsquashfs"
tests/corpus/build --out build/corpus-large --profile large >/dev/null 2>&1
SQ=$(find build/corpus-large -name 'squashfs-xz.sqfs' | head -1)
# Interleaved, best of 7 each: the tools take turns, so a burst of load on this shared 2-core
# machine hits both alike.
fw_t="" us_t="" us1_t="" fw_m=0 us_m=0 us1_m=0
for _ in $(seq 7); do
  read -r t m < <(REPEAT=1 measure "$WORK/fw" "$FW" extract "$SQ" -o "$WORK/fw")
  { [ -z "$fw_t" ] || awk "BEGIN{exit !($t < $fw_t)}"; } && fw_t=$t; [ "$m" -gt "$fw_m" ] && fw_m=$m
  read -r t m < <(REPEAT=1 measure "$WORK/us" unsquashfs -q -n -d "$WORK/us" "$SQ")
  { [ -z "$us_t" ] || awk "BEGIN{exit !($t < $us_t)}"; } && us_t=$t; [ "$m" -gt "$us_m" ] && us_m=$m
  read -r t m < <(REPEAT=1 measure "$WORK/us1" unsquashfs -q -n -p 1 -d "$WORK/us1" "$SQ")
  { [ -z "$us1_t" ] || awk "BEGIN{exit !($t < $us1_t)}"; } && us1_t=$t; [ "$m" -gt "$us1_m" ] && us1_m=$m
done
echo "image: $SQ ($(du -sm "$SQ" | cut -f1) MB), $(du -sm "$WORK/us" 2>/dev/null | cut -f1) MB unpacked"
printf '%-28s %8s s %8.1f MiB\n' "firmwarden extract" "$fw_t" "$(awk "BEGIN{print $fw_m/1024}")"
printf '%-28s %8s s %8.1f MiB\n' "unsquashfs (all cores)" "$us_t" "$(awk "BEGIN{print $us_m/1024}")"
printf '%-28s %8s s %8.1f MiB\n' "unsquashfs -p 1" "$us1_t" "$(awk "BEGIN{print $us1_m/1024}")"
echo "time ratio firmwarden/unsquashfs: $(awk "BEGIN{printf \"%.2f\", $fw_t/$us_t}") (target <= 1.5)"
