#!/usr/bin/env bash
# Slow test: the bundled busybox container through the real ocivmfs and the
# hypervisor it picks here (QEMU/TCG on kvm_pvm machines), driven only by
# file operations: ln -s, ctl, stdin, stdout, wait, exit, events, rmdir.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/fs/lib.sh
. tests/fs/cases-vm-devices.sh
. tests/fs/cases-vm-binds.sh
BUILD=${BUILD:-build}
BIN=$BUILD/bin/ocivmfs
BUNDLE=${OCIVMFS_TEST_BUNDLE:-$BUILD/bundle/busybox}

if ! why=$(can_fuse); then echo "skip - all: $why"; SKIP=1; summary; exit 0; fi
for f in "$BIN" "$BUILD/guest/vmlinuz" "$BUILD/guest/initrd.img" "$BUNDLE/config.json"; do
	if [ ! -e "$f" ]; then
		echo "skip - all: $f missing (run: make BUILD=$BUILD all guest)"; SKIP=1; summary; exit 0
	fi
done
T=$(mktemp -d /tmp/ocivmfs-vm.XXXXXX)
M=$T/m C=$T/m/containers/bb
cleanup() {
	[ -d "$C" ] && echo "delete force" > "$C/ctl" 2>/dev/null
	is_mounted "$M" && fusermount3 -u "$M"
	rm -rf "$T"
}
trap cleanup EXIT
mount_tree "$BIN" "$M" "$T/state" || { bad "mount"; summary; exit 1; }
echo "# $(cat "$M/hypervisor")"

exec 7< "$M/events"
timeout 300 cat <&7 > "$T/events" & EVPID=$!
exec 7<&-
check "ln -s creates the busybox container (boots the VM)" ln -s "$(realpath "$BUNDLE")" "$C"
check "status is created" test "$(cat "$C/status" 2>/dev/null)" = created
check "pid is a live host process" kill -0 "$(cat "$C/pid" 2>/dev/null)"
check "vm/driver names the driver" grep -q . "$C/vm/driver"
VMPID=$(cat "$C/pid" 2>/dev/null)
kill $EVPID 2>/dev/null; wait $EVPID 2>/dev/null
kill -TERM "$(pgrep -f "^$BIN .*--state-dir $T/state " | head -1)"
check "daemon: SIGTERM unmounts" wait_until 10 eval '! is_mounted "$M"'
check "daemon: the container's VM keeps running" kill -0 "$VMPID"
mount_tree "$BIN" "$M" "$T/state" || bad "daemon: remount on the same state dir"
check "daemon: after a restart the container shows again, created" \
	test "$(cat "$C/status" 2>/dev/null)" = created
check "daemon: log says it re-attached (and nothing about lost output: the guest held it)" \
	bash -c "grep -qE 'bb: re-attached to its VM \((ocivm-vmm|qemu)\)\$' '$M/log' && ! grep -q 'is lost' '$M/log'"
exec 7< "$M/events"
timeout 300 cat <&7 >> "$T/events" & EVPID=$!
exec 7<&-
cat "$C/stdout" > "$T/stdout" 2>/dev/null & OUTPID=$!
check "start" bash -c "echo start > $C/ctl"
expect_err "start again is EBUSY" "Device or resource busy" bash -c "echo start > $C/ctl"
check "... vm/last_error says why" grep -q 'start: container is running' "$C/vm/last_error"
expect_err "rmdir while running is EBUSY" "Device or resource busy" rmdir "$C"
check "... and log says why" grep -q 'delete bb: .*container is running' "$M/log"
cat "$C/console" > "$T/console.live" 2>/dev/null & CONPID=$!
sleep 0.5   # at the end of console now, parked; nothing else happens meanwhile
echo "marker-from-the-test" >> "$T/state/bb/vm/console"   # as the hypervisor would
check "console: a waiting reader sees new lines without other activity" \
	wait_until 5 grep -q marker-from-the-test "$T/console.live"
check "stdin takes a script" bash -c "printf 'echo hello from busybox\nexit 3\n' > $C/stdin"
code=$(timeout 120 cat "$C/wait" 2>/dev/null)
check "wait gives the exit status 3" test "$code" = 3
check "exit says 3" test "$(cat "$C/exit" 2>/dev/null)" = 3
check "stdout has the output" wait_until 10 grep -q "hello from busybox" "$T/stdout"
check "stdout reader got EOF" wait_until 10 eval "! kill -0 $OUTPID 2>/dev/null"
check "console: the reader ends when the container stops" wait_until 10 eval "! kill -0 $CONPID 2>/dev/null"
check "the VM is gone once it stopped" wait_until 20 eval "! kill -0 $VMPID 2>/dev/null"
timeout 10 cat "$C/console" > "$T/console" 2>/dev/null
check "console is still readable after the VM ended" grep -qiE 'linux|ocivm' "$T/console"
check "events saw created, running, stopped" wait_until 10 eval \
	"grep -q ' bb created\$' $T/events && grep -q ' bb running\$' $T/events && grep -q ' bb stopped\$' $T/events"
check "rmdir deletes it" rmdir "$C"
check "it is gone" test ! -e "$C"
kill $EVPID 2>/dev/null
cases_vm_devices "$M"
cases_vm_binds "$M"
if ! summary; then
	echo "# last log lines:"; tail -n 8 "$M/log" | sed 's/^/# /'
	echo "# events:"; sed 's/^/# /' "$T/events"
	echo "# console (head):"; head -n 5 "$T/console" | sed 's/^/# /'
	exit 1
fi
