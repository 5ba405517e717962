#!/bin/sh
# bench/treehash.sh: what the rootfs cache key costs.  On one ~200 MB tree
# (the busybox rootfs plus files of 4 KiB to 64 MiB of random bytes), warm
# in the page cache, best of 3 each, side by side in this run:
#   read    cat of every file to /dev/null (the floor: bytes must be read)
#   sha256  coreutils sha256sum of every file (the same digest, another program)
#   ours    bench-treehash: vm_tree_hash (SHA-256 over metadata + contents)
# and, for scale, what a create pays anyway: mke2fs -d of the same tree.
# Last line: treehash ours_mbps=<x> sha256sum_mbps=<y> read_mbps=<z> ours_vs_sha256sum=<r> ours_vs_mke2fs=<r>
set -eu
BUILD=${BUILD:-build}
BIN=$BUILD/bin/bench-treehash
[ -x "$BIN" ] || { echo "treehash: $BIN missing (make BUILD=$BUILD all)"; exit 1; }
T=$(mktemp -d /var/tmp/ocivm-treehash.XXXXXX)
trap 'rm -rf "$T"' EXIT
R=$T/rootfs
if [ -d "$BUILD/bundle/busybox/rootfs" ]; then cp -a "$BUILD/bundle/busybox/rootfs" "$R"; else mkdir -p "$R"; fi
mkdir -p "$R/data"
i=0
for kb in 4 16 64 256 1024 4096 16384 65536 65536 49152; do
	head -c $((kb * 1024)) /dev/urandom > "$R/data/f$i"; i=$((i + 1))
done
for j in $(seq 1 500); do head -c 4096 /dev/urandom > "$R/data/s$j"; done
MB=$(du -sm --apparent-size "$R" | cut -f1)

best() {   # best CMD...: best wall time of 3 runs, in ms
	b=
	for k in 1 2 3; do
		t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N)
		ms=$(( (t1 - t0) / 1000000 ))
		[ -z "$b" ] || [ "$ms" -lt "$b" ] && b=$ms
	done
	[ "$b" -gt 0 ] || b=1
	echo "$b"
}
find "$R" -type f -exec cat {} + > /dev/null   # warm the page cache
read_ms=$(best sh -c "find '$R' -type f -exec cat {} + > /dev/null")
sha_ms=$(best sh -c "find '$R' -type f -exec sha256sum {} + > /dev/null")
ours=$("$BIN" "$R" 3)
ours_ms=$(echo "$ours" | sed -n 's/.* ms=\([0-9.]*\).*/\1/p' | cut -d. -f1)
[ "$ours_ms" -gt 0 ] || ours_ms=1
mke2fs_ms=$(best sh -c "rm -f '$T/img'; truncate -s $(( MB * 2 + 64 ))M '$T/img'; mke2fs -q -t ext4 -d '$R' '$T/img'")
echo "# tree: $MB MB, $(find "$R" | wc -l) entries"
echo "# $ours"
echo "read      ${read_ms} ms  $(( MB * 1000 / read_ms )) MB/s"
echo "sha256sum ${sha_ms} ms  $(( MB * 1000 / sha_ms )) MB/s"
echo "ours      ${ours_ms} ms  $(( MB * 1000 / ours_ms )) MB/s"
echo "mke2fs -d ${mke2fs_ms} ms (what the first create of this rootfs pays)"
awk -v m="$MB" -v o="$ours_ms" -v s="$sha_ms" -v r="$read_ms" -v e="$mke2fs_ms" 'BEGIN {
	printf "treehash ours_mbps=%.0f sha256sum_mbps=%.0f read_mbps=%.0f ours_vs_sha256sum=%.2f ours_vs_mke2fs=%.3f\n",
	       m * 1000 / o, m * 1000 / s, m * 1000 / r, s / o, o / e }'
