#!/bin/sh
# The guest self-test's virtio checks, run on the host against the real
# device models (no KVM): disks from selftest_disks.sh, the console echoed by
# console_echo through a control socket, then the host verifies the bytes
# the "guest" wrote.  Needs only io_uring (falls back to the sync engine).
# As root (with ip and /dev/net/tun) the NIC too: the simulator runs in a
# network namespace of its own with a tap there (as ocivm-vmm --net
# tap=NAME,mac=MAC makes it), net_echo answers the guest's frame on it;
# otherwise the NIC part is counted as skipped.
set -u
BUILD=${BUILD:-build}
HERE=$(dirname "$0")
SIM=$BUILD/tests/virtio_guest_sim
ECHO=$BUILD/tests/console_echo
NETECHO=$BUILD/tests/net_echo
for b in "$SIM" "$ECHO" "$NETECHO"; do
	[ -x "$b" ] || { echo "guest_sim: $b missing (make BUILD=$BUILD all)"; echo "0 passed, 1 failed"; exit 1; }
done
dir=$(mktemp -d)
NS=ocivm-stn-$$ TAP=stn$$ MAC=02:6f:63:73:74:01
net=0 skip=0 IN=
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null && [ -c /dev/net/tun ] && ip netns add "$NS" 2>/dev/null; then
	net=1 IN="ip netns exec $NS"
else
	echo "SKIP virtio.net: the NIC needs root, ip and /dev/net/tun (a tap in a network namespace of its own)"
	skip=1
fi
trap '[ $net = 1 ] && ip netns del "$NS"; rm -rf "$dir"' EXIT
"$HERE/selftest_disks.sh" prepare "$dir" >/dev/null
"$ECHO" "$dir/control.sock" 10 2>"$dir/echo.log" &
echo_pid=$!
if [ $net = 1 ]; then
	$IN "$NETECHO" "$TAP" "$MAC" 60 > "$dir/net_echo.out" &
	net_pid=$!
	out=$(timeout 60 $IN "$SIM" "$dir/control.sock" "$dir/rw.img" "$dir/ro.img" "st.net_mac=$MAC" "$TAP" "$MAC")
else
	out=$(timeout 60 "$SIM" "$dir/control.sock" "$dir/rw.img" "$dir/ro.img")
fi
sim_rc=$?
wait "$echo_pid"
echo_rc=$?
nout=
if [ $net = 1 ]; then
	wait "$net_pid"   # it ends when the simulator's tap goes
	net_rc=$?
	nout=$(cat "$dir/net_echo.out")
	[ $net_rc -eq 0 ] || printf '%s\n' "$nout" | grep -q '^FAIL' || nout="FAIL net_echo.exit: status $net_rc"
	# every NIC check ran and passed (a group that drops out is a failure)
	for c in features mac link tx rx irq; do
		printf '%s\n' "$out" | grep -q "^PASS virtio.net.$c:" || nout="$nout
FAIL virtio.net.$c: did not pass or did not run"
	done
fi
printf '%s\n' "$out" | grep -v ' passed, '
[ -n "$nout" ] && printf '%s\n' "$nout"
ver=$("$HERE/selftest_disks.sh" verify "$dir")
printf '%s\n' "$ver" | grep -v ' passed, '
p=$(printf '%s\n%s\n%s\n' "$out" "$ver" "$nout" | grep -c '^PASS')
f=$(printf '%s\n%s\n%s\n' "$out" "$ver" "$nout" | grep -c '^FAIL')
[ "$sim_rc" -eq 0 ] || { [ "$f" -gt 0 ] || f=1; echo "FAIL guest_sim.exit: status $sim_rc"; }
if [ "$echo_rc" -eq 0 ]; then echo "PASS console_echo.exit"; p=$((p + 1)); else echo "FAIL console_echo.exit: $echo_rc"; f=$((f + 1)); fi
echo "$p passed, $f failed, $skip skipped"
[ "$f" -eq 0 ]
