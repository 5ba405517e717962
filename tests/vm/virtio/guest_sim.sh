#!/bin/sh
# The guest self-test's virtio checks, run on the host against the real
# device models (no KVM): disks from selftest_disks.sh, the console echoed by
# console_echo through a control socket, then the host verifies the bytes
# the "guest" wrote.  Needs only io_uring (falls back to the sync engine).
set -u
BUILD=${BUILD:-build}
HERE=$(dirname "$0")
SIM=$BUILD/tests/virtio_guest_sim
ECHO=$BUILD/tests/console_echo
for b in "$SIM" "$ECHO"; do
	[ -x "$b" ] || { echo "guest_sim: $b missing (make BUILD=$BUILD all)"; echo "0 passed, 1 failed"; exit 1; }
done
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$HERE/selftest_disks.sh" prepare "$dir" >/dev/null
"$ECHO" "$dir/control.sock" 10 2>"$dir/echo.log" &
echo_pid=$!
out=$(timeout 60 "$SIM" "$dir/control.sock" "$dir/rw.img" "$dir/ro.img")
sim_rc=$?
wait "$echo_pid"
echo_rc=$?
printf '%s\n' "$out" | grep -v ' passed, '
ver=$("$HERE/selftest_disks.sh" verify "$dir")
printf '%s\n' "$ver" | grep -v ' passed, '
p=$(printf '%s\n%s\n' "$out" "$ver" | grep -c '^PASS')
f=$(printf '%s\n%s\n' "$out" "$ver" | grep -c '^FAIL')
[ "$sim_rc" -eq 0 ] || { [ "$f" -gt 0 ] || f=1; echo "FAIL guest_sim.exit: status $sim_rc"; }
if [ "$echo_rc" -eq 0 ]; then echo "PASS console_echo.exit"; p=$((p + 1)); else echo "FAIL console_echo.exit: $echo_rc"; f=$((f + 1)); fi
echo "$p passed, $f failed"
[ "$f" -eq 0 ]
