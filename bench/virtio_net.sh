#!/bin/sh
# bench/virtio_net.sh: the virtio-net device model (fake driver, no guest:
# the figure measures our code, not the emulated CPU) on a tap, side by side
# with raw tap I/O by our own loop (write / read until EAGAIN) in the same
# run, rounds alternating raw/dev so machine noise hits both alike; a ratio
# is total device packets / total raw packets.  1514-byte frames; RX frames
# come from a host thread on an AF_PACKET socket (its rate bounds both).
# Then callgrind counts the instructions of the device's I/O thread per
# packet, TX and RX (instr_per_packet = the larger).  Needs root (a tap in
# a network namespace of its own).
# Last line: virtio_net tx_pps=<n> rx_pps=<n> tx_vs_raw=<r> instr_per_packet=<n>
# Env: BUILD (build dir), NET_ROUNDS (3), NET_ROUND_S (1.5), NET_CG_PKTS (20000).
set -eu
BUILD=${BUILD:-build}
BIN=$BUILD/bin/bench_virtio_net
ROUNDS=${NET_ROUNDS:-3}
ROUND_S=${NET_ROUND_S:-1.5}
CG_PKTS=${NET_CG_PKTS:-20000}

[ -x "$BIN" ] || { echo "virtio_net: $BIN missing (make BUILD=$BUILD all)"; exit 1; }
if ! "$BIN" raw tx 0.01 >/dev/null 2>&1; then
	echo "# virtio_net: cannot make a tap in a network namespace (root and /dev/net/tun needed)"
	echo "virtio_net tx_pps=NA rx_pps=NA tx_vs_raw=NA instr_per_packet=NA"
	exit 0
fi
NOTES=$(mktemp)
trap 'rm -f "$NOTES"' EXIT
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }

side_by_side() {   # side_by_side tx|rx -> sets PPS (device) and RATIO
	raw=0 dev=0 i=0
	while [ $i -lt "$ROUNDS" ]; do
		r=$("$BIN" raw "$1" "$ROUND_S" | field pkts)
		d=$("$BIN" dev "$1" "$ROUND_S" 2>"$NOTES" | field pkts)
		raw=$((raw + r)) dev=$((dev + d)) i=$((i + 1))
	done
	secs=$(awk "BEGIN{print $ROUNDS*$ROUND_S}")
	RATIO=$(awk "BEGIN{printf \"%.2f\", $dev/$raw}")
	PPS=$(awk "BEGIN{printf \"%.0f\", $dev/$secs}")
	cat "$NOTES"
	awk "BEGIN{printf \"%s  raw tap %9.0f pps   virtio-net %9.0f pps   ratio %s\n\", \
		\"$1\", $raw/$secs, $dev/$secs, \"$RATIO\"}"
}

side_by_side tx; TX_PPS=$PPS TX_RATIO=$RATIO
side_by_side rx; RX_PPS=$PPS RX_RATIO=$RATIO
echo "rx_vs_raw=$RX_RATIO (the injector thread shares the CPUs with both)"

IPP=NA
if command -v valgrind >/dev/null 2>&1; then
	out=$(mktemp)
	worst=0
	for dir in tx rx; do
		valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect=net_thread \
			"$BIN" dev $dir 120 "$CG_PKTS" >/dev/null 2>"$NOTES" || { worst=NA; break; }
		ir=$(sed -n 's/^summary: //p' "$out")
		pk=$(grep -o "pkts=[0-9]*" "$NOTES" | tail -1 | cut -d= -f2)
		[ -n "$pk" ] || pk=$CG_PKTS
		n=$((ir / pk))
		echo "$dir: $n instructions per packet in the device I/O thread (callgrind, $CG_PKTS packets)"
		[ "$n" -gt "$worst" ] && worst=$n
	done
	rm -f "$out"
	IPP=$worst
else
	echo "# valgrind not installed: instructions per packet not measured"
fi
echo "virtio_net tx_pps=$TX_PPS rx_pps=$RX_PPS tx_vs_raw=$TX_RATIO instr_per_packet=$IPP"
