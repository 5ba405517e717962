#!/bin/sh
# End-to-end test of the guest side: boot Debian's cloud kernel under QEMU
# TCG (microvm, ACPI, virtio-mmio) with `make guest`'s initrd, attach the
# busybox bundle's rootfs as an ext4 virtio-blk disk (serial "rootfs"), and
# talk to ocivm-init through the virtconsole socket with tests/guest-peer.
# Cases (one boot each): `echo hello; exit 3` -> "hello" and status 3;
# a missing binary -> ERROR "...not found" and status 127; a host that
# reconnects after the first HELLO gets another, then sends START before the
# SPEC -> ERROR naming it, status 255; a channel port
# that appears late (hot-plugged over QMP once init has waited 15 s for it,
# longer than the 10 s it used to give up after) -> the conversation still
# happens, and the console said meanwhile what init was waiting for.
# Skips (exit 0) when the kernel, QEMU or mke2fs is not there.
set -u
BUILD=${BUILD:-build}
G=$BUILD/guest
PEER=$BUILD/tests/guest-peer
ARGV=$BUILD/tests/guest-qemu-argv
QMP=$BUILD/tests/guest-qmp
pass=0 fail=0 skip=0

skip_all() {
	echo "skip: $1"
	echo "0 passed, 0 failed, 5 skipped"
	exit 0
}
[ -e "$G/vmlinuz" ] && [ -e "$G/initrd.img" ] || skip_all "no guest kernel/initrd in $G (run: make guest)"
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 not installed"
command -v mke2fs >/dev/null || skip_all "mke2fs not installed"
[ -x "$PEER" ] && [ -x "$ARGV" ] && [ -x "$QMP" ] || skip_all "$PEER, $ARGV or $QMP not built (run: make all)"

tmp=$(mktemp -d /tmp/ocivm-guest-e2e.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
bundle=$BUILD/bundle/busybox
[ -d "$bundle/rootfs" ] || { bundle=$tmp/bundle; tools/bundle/mkbundle.sh "$bundle" >/dev/null || skip_all "cannot make the busybox bundle"; }
truncate -s 32M "$tmp/rootfs.ext4"
mke2fs -q -t ext4 -d "$bundle/rootfs" "$tmp/rootfs.ext4" || skip_all "mke2fs -d failed"
# A vm.image disk for the first boot: the rootfs is mounted over it, so its
# files show through where the rootfs has none.
mkdir -p "$tmp/imagedir/etc" && echo from-image > "$tmp/imagedir/etc/image-marker"
truncate -s 8M "$tmp/image.ext4"
mke2fs -q -t ext4 -d "$tmp/imagedir" "$tmp/image.ext4" || skip_all "mke2fs -d failed"
# The second boot takes the same tree as erofs (when mkfs.erofs is there),
# so both rootfs formats are covered without a third boot.
missing_fs=ext4
if command -v mkfs.erofs >/dev/null && mkfs.erofs --quiet "$tmp/rootfs.erofs" "$bundle/rootfs" >/dev/null 2>&1; then
	missing_fs=erofs
fi

# late_port RUN QPID PORT_DEVICE: once ocivm-init has said on the console
# that it has waited 15 s or more for its channel, hot-plug the port
# (device_add with the argv's own virtserialport options); 1 if the VM
# went away first (an init that gives up powers it off).
late_port() {
	json=$(printf '%s\n' "$3" | sed 's/^\([^,]*\)/"driver":"\1"/; s/,\([^=,]*\)=\([^,]*\)/,"\1":"\2"/g')
	while kill -0 "$2" 2>/dev/null; do
		if grep -q 'ocivm-init: waiting \(1[5-9]\|[2-9][0-9]\|[0-9]\{3,\}\) s for the channel' "$1/console" 2>/dev/null; then
			"$QMP" -s "$1/control.sock" "{\"execute\":\"device_add\",\"arguments\":{$json}}"
			return
		fi
		sleep 0.2
	done
	echo "the VM ended before ocivm-init had waited 15 s for its channel"
	return 1
}

# boot NAME ROOTFS VMIMAGE|- PEER_ARGS... -- ARGS... : one VM, one
# conversation; peer output in $tmp/NAME.out.  The disks are attached
# read-only, as vm_create attaches rootfs images.  With late=1, the VM
# starts without its channel port (late_port adds it).
boot() {
	name=$1 img=$2 vmimg=$3; shift 3
	run=$tmp/$name
	mkdir -p "$run"
	disk2=
	[ "$vmimg" = - ] || disk2="-d $vmimg:image"
	# shellcheck disable=SC2086  # $disk2 is two words or none
	"$ARGV" -r "$run" -k "$G/vmlinuz" -i "$G/initrd.img" -d "$img:rootfs" $disk2 >"$run/argv" ||
		{ echo "  guest-qemu-argv failed"; return 1; }
	port=
	if [ "${late:-0}" = 1 ]; then
		port=$(grep '^virtserialport,' "$run/argv") || { echo "  no virtserialport in the argv"; return 1; }
		# the argv without "-device" + the port
		awk '$0 == "-device" { held = 1; next }
		     held { held = 0; if ($0 ~ /^virtserialport,/) next; print "-device" }
		     { print }' "$run/argv" >"$run/argv.late" && mv "$run/argv.late" "$run/argv"
	fi
	(
		set --
		while IFS= read -r a; do set -- "$@" "$a"; done <"$run/argv"
		exec "$@" </dev/null >"$run/qemu.log" 2>&1
	) &
	qpid=$!
	lpid=
	[ -z "$port" ] || { late_port "$run" "$qpid" "$port" >"$run/late.out" 2>&1 & lpid=$!; }
	"$PEER" -s "$run/chan.sock" "$@" >"$tmp/$name.out" 2>&1
	rc=$?
	if [ -n "$lpid" ]; then
		wait "$lpid" || rc=1
		sed 's/^/  late port: /' "$run/late.out"
	fi
	# init powers the VM off after EXITED (and the peer's hang-up); give it
	# time even on a loaded machine (polled), then make sure
	i=0
	while kill -0 "$qpid" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	if kill -0 "$qpid" 2>/dev/null; then
		echo "  (VM did not power off by itself)"
		kill "$qpid"
		rc=1
	fi
	wait "$qpid" 2>/dev/null
	sed 's/^/  /' "$tmp/$name.out"
	if [ $rc -ne 0 ]; then
		echo "  --- console tail"
		tail -n 15 "$run/console" | sed 's/^/  /'
		sed 's/^/  /' "$run/qemu.log"
	fi
	return $rc
}

result() {
	if [ "$2" -eq 0 ]; then echo "PASS $1"; pass=$((pass + 1)); else echo "FAIL $1"; fail=$((fail + 1)); fi
}

# The same boot also checks what init applied from the SPEC the peer sends
# (hostname, masked /proc/kcore, read-only /proc/sys, overlay upper layer,
# default /dev nodes, the vm.image lower layer) -- one line each, after "hello" -- and pushes 2 MiB
# through stderr (heavy output over virtio-console, counted by the peer).
probe='echo hello; echo host=$(hostname); echo kcore=$(head -c 16 /proc/kcore | wc -c);
(echo x > /proc/sys/kernel/domainname) 2>/dev/null || echo sysctl-ro=yes;
echo x > /etc/rwtest && echo rootfs-rw=yes; [ -c /dev/null ] && echo devnull=yes;
cat /etc/image-marker; head -c 2097152 /dev/zero >&2; exit 3'
boot hello "$tmp/rootfs.ext4" "$tmp/image.ext4" -i ext4 -o from-image -o hello -o host=e2e -o kcore=0 -o sysctl-ro=yes -o rootfs-rw=yes -o devnull=yes \
	-E 2097152 -x 3 -- /bin/sh -c "$probe"
result "hello-exit3: stdout 'hello', status 3 (and config applied)" $?
# A host that stops reading: once in the middle of stderr, once just before
# its end (EXITED and the tail wait in the guest and in QEMU's port while the
# peer sleeps; nothing may be dropped, and the VM must not power off first).
# A background `sleep` holds both pipes: init must end it (kill(-1) as PID 1)
# for the pipes to reach EOF and EXITED to come.
boot stall "$tmp/rootfs.ext4" - -o done -E 2097152 -S 1048576:3000 -S 2031616:3000 -x 5 -- \
	/bin/sh -c 'sleep 1000 & head -c 2097152 /dev/zero >&2; echo done; exit 5'
result "stall: host stops reading twice for 3 s, a background holder: all 2 MiB of stderr, 'done', status 5" $?
boot missing "$tmp/rootfs.$missing_fs" - -f $missing_fs -e "No such file or directory" -x 127 -- /no/such/binary
result "missing-binary ($missing_fs rootfs): ERROR + status 127" $?

# A host that hangs up after the first HELLO and connects again (a daemon
# restarting before the SPEC) must get HELLO again; then its first frame is
# not the SPEC: init says so (ERROR), exits 255.
boot badfirst "$tmp/rootfs.ext4" - -R -B -e "no SPEC from the host: its first frame is START" -x 255 -- /bin/true
r=$?
grep -q "HELLO again after connecting again" "$tmp/badfirst.out" || r=1
result "reconnect + bad-first-frame: HELLO again after a reconnect; START before SPEC -> ERROR naming it, status 255" $r
# The channel port appears late: init must wait for it (saying so on the
# console), not give up.
late=1 boot late "$tmp/rootfs.ext4" - -o late-ok -x 0 -- /bin/sh -c 'echo late-ok'
r=$?
grep -q 'ocivm-init: waiting [0-9]* s for the channel: no virtio port named org.ocivm.chan (ports: none)' "$tmp/late/console" ||
	{ echo "  the console does not say what init waited for"; r=1; }
grep 'ocivm-init: \(waiting\|channel:\)' "$tmp/late/console" | tail -n 2 | sed 's/^/  /'
result "late-port: the channel port is hot-plugged after init waited 15 s for it: conversation, status 0" $r

echo "initrd: $(stat -c %s "$G/initrd.img") bytes"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
