#!/bin/sh
# bench/blk.sh: the virtio-blk device model (fake driver, no guest: the
# figure measures our code, not the emulated CPU) side by side with raw
# io_uring (O_DIRECT, our own loop) on the same 1 GiB file, in the same run.
# Rounds alternate raw/dev so the shared disk's noise hits both alike; a
# ratio is total device requests / total raw requests.  Then callgrind counts
# the instructions of the device I/O thread per request.
# Last line: blk qd1=<r> qd32=<r> seq=<r> instr_per_req=<n>
# Env: BUILD (build dir), BLK_BENCH_FILE (default /var/tmp/ocivm-blk-bench.img),
#      BLK_ROUNDS (4), BLK_ROUND_S (1.5).
set -eu
BUILD=${BUILD:-build}
BIN=$BUILD/bin/bench_blk
FILE=${BLK_BENCH_FILE:-/var/tmp/ocivm-blk-bench.img}
ROUNDS=${BLK_ROUNDS:-4}
ROUND_S=${BLK_ROUND_S:-1.5}

[ -x "$BIN" ] || { echo "blk: $BIN missing (make BUILD=$BUILD all)"; exit 1; }
if [ "$(stat -c %s "$FILE" 2>/dev/null || echo 0)" != 1073741824 ]; then
	echo "# writing the 1 GiB test file $FILE (kept for later runs)"
	dd if=/dev/urandom of="$FILE" bs=1M count=1024 oflag=direct status=none
fi

NOTES=$(mktemp)
trap 'rm -f "$NOTES"' EXIT
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }

ratio_of() {   # ratio_of WORKLOAD -> prints a line, sets RATIO
	raw=0 dev=0 i=0
	while [ $i -lt "$ROUNDS" ]; do
		r=$("$BIN" "$FILE" raw "$1" "$ROUND_S" | field reqs)
		d=$("$BIN" "$FILE" dev "$1" "$ROUND_S" 2>"$NOTES" | field reqs)
		raw=$((raw + r)) dev=$((dev + d)) i=$((i + 1))
	done
	secs=$(awk "BEGIN{print $ROUNDS*$ROUND_S}")
	RATIO=$(awk "BEGIN{printf \"%.2f\", $dev/$raw}")
	sed "s/^# dev:/# $1 dev:/" "$NOTES"
	awk "BEGIN{printf \"%-5s raw io_uring %8.0f IOPS   virtio-blk %8.0f IOPS   ratio %s\n\", \
		\"$1\", $raw/$secs, $dev/$secs, \"$RATIO\"}"
}

ratio_of qd1; QD1=$RATIO
ratio_of qd32; QD32=$RATIO
ratio_of seq; SEQ=$RATIO

IPR=NA
if command -v valgrind >/dev/null 2>&1; then
	out=$(mktemp)
	for wl in qd1 qd32; do
		valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect=blk_thread \
			"$BIN" "$FILE" dev $wl 60 4000 >/dev/null 2>&1 || { IPR=NA; break; }
		ir=$(sed -n 's/^summary: //p' "$out")
		n=$((ir / 4000))
		echo "$wl: $n instructions per request in the device I/O thread (callgrind, 4000 requests)"
		[ $wl = qd1 ] && IPR=$n
	done
	rm -f "$out"
else
	echo "# valgrind not installed: instructions per request not measured"
fi
echo "blk qd1=$QD1 qd32=$QD32 seq=$SEQ instr_per_req=$IPR"
