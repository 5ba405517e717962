#!/bin/sh
# The guest self-test payload on the real /dev/kvm (issue 3), plus the VMM's
# exit statuses and its control socket.  One line per case, then
# "N passed, N failed, N skipped".  BUILD names the build directory.
set -u
BUILD=${BUILD:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
VMM=$BUILD/bin/ocivm-vmm
CTL=$BUILD/bin/ocivm-vmmctl
PAYLOAD=$BUILD/share/ocivmfs/guest-selftest
ECHO=$BUILD/tests/console_echo
DISKS=$HERE/virtio/selftest_disks.sh
TIMEOUT=${SELFTEST_TIMEOUT:-60}

pass=0 fail=0 skip=0
ok()   { echo "PASS $*"; pass=$((pass + 1)); }
bad()  { echo "FAIL $*"; fail=$((fail + 1)); }
skp()  { echo "SKIP $*"; skip=$((skip + 1)); }
check() { name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
finish() {
	echo "$pass passed, $fail failed, $skip skipped"
	exit $(( fail > 0 ))   # a bare exit in an EXIT trap keeps the status before the trap
}

for f in "$VMM" "$CTL" "$PAYLOAD"; do
	[ -e "$f" ] || { echo "missing $f: run make BUILD=$BUILD first"; bad build; finish; }
done
T=$(mktemp -d /tmp/ocivm-selftest.XXXXXX)
BG=
cleanup() {
	[ -n "$BG" ] && kill $BG 2>/dev/null
	[ -n "${NBG:-}" ] && { kill "$NBG" 2>/dev/null; ip netns del "$NETNS" 2>/dev/null; }
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

# require_checks FILE NAME...: each named guest check passed in FILE (a
# console).  A group that drops out silently (no ACPI found, one vCPU seen,
# no disk, no echo) is a failure, not a pass (issue 16 point 7).
require_checks() {
	f=$1; shift; missing=
	for n in "$@"; do
		re="^PASS $(printf '%s' "$n" | sed 's/\./\\./g')(:|\$)"
		tr -d '\r' < "$f" | grep -qE "$re" || missing="$missing $n"
	done
	[ -z "$missing" ] && return 0
	echo "# checks that did not pass or did not run:$missing"
	return 1
}
# The checker itself, on canned consoles (no KVM needed): it must catch a
# missing check and a check named only as a prefix of another.
printf 'PASS a.b: x\r\nPASS a.c\nFAIL a.d: y\nPASS a.ee: z\n' > "$T/canned"
check "selftest.require_checks.accepts" require_checks "$T/canned" a.b a.c a.ee
fails() { ! "$@" >/dev/null; }
check "selftest.require_checks.missing" fails require_checks "$T/canned" a.b a.x
check "selftest.require_checks.failed_is_missing" fails require_checks "$T/canned" a.d
check "selftest.require_checks.prefix_is_missing" fails require_checks "$T/canned" a.e

# --- usage errors need no KVM ---
"$VMM" --bogus >/dev/null 2>&1; check "vmm.usage.unknown_option (64)" test $? -eq 64
"$VMM" >/dev/null 2>&1; check "vmm.usage.no_kernel (64)" test $? -eq 64
"$VMM" --kernel "$PAYLOAD" --vcpus 0 >/dev/null 2>&1; check "vmm.usage.vcpus (64)" test $? -eq 64
"$VMM" --help | grep -q -- '--cpuid-mask'; check "vmm.usage.help" test $? -eq 0
# its defaults are vm/defaults.h's, not literals of their own
mib=$(sed -n 's/^#define VM_DEFAULT_MEMORY_MIB \([0-9]*\)u.*/\1/p' "$HERE/../../vm/defaults.h")
cpus=$(sed -n 's/^#define VM_DEFAULT_VCPUS \([0-9]*\)u.*/\1/p' "$HERE/../../vm/defaults.h")
help=$("$VMM" --help)
check "vmm.usage.help_memory_default ($mib MiB, vm/defaults.h)" \
	eval 'test -n "$mib" && printf "%s" "$help" | grep -q -- "--memory MIB .*(default $mib;"'
check "vmm.usage.help_vcpus_default ($cpus, vm/defaults.h)" \
	eval 'test -n "$cpus" && printf "%s" "$help" | grep -q -- "--vcpus N .*(default $cpus)"'
"$VMM" --kernel "$PAYLOAD" --jail-root "$T" >/dev/null 2>&1
check "vmm.usage.jail_root_needs_user (64)" test $? -eq 64

if ! [ -c /dev/kvm ] || ! (exec 3<>/dev/kvm) 2>/dev/null; then
	skp "selftest: /dev/kvm is absent or not accessible (no KVM on this host)"
	finish
fi
"$VMM" --kernel "$T/nonexistent" --console "$T/c0" >/dev/null 2>&1
check "vmm.config.missing_kernel (65)" test $? -eq 65
"$VMM" --kernel "$PAYLOAD" --console "$T/c0" --disk "$T/nonexistent.img" 2>"$T/disk.err" >/dev/null
rc=$?
check "vmm.config.missing_disk (65): $(head -c 100 "$T/disk.err")" test $rc -eq 65
"$VMM" --kernel "$PAYLOAD" --console "$T/no/such/dir/console" >/dev/null 2>&1
check "vmm.config.bad_console (65)" test $? -eq 65
"$VMM" --kernel "$PAYLOAD" --console "$T/c0" --cpuid-mask nosuchflag 2>"$T/mask.err" >/dev/null
rc=$?
check "vmm.config.bad_cpuid_mask (65)" sh -c "test $rc -eq 65 && grep -q nosuchflag '$T/mask.err'"

# Known initrd: little-endian word k = k * 2654435761 mod 2^32, 65548 bytes.
perl -e 'print pack("V*", map { ($_ * 2654435761) & 0xffffffff } 0..16386)' > "$T/initrd"
MEM=128 VCPUS=2

run_vmm() {   # run_vmm NAME EXTRA_CMDLINE [VMM ARGS...]: sets rc
	name=$1 extra=$2
	shift 2
	${IN:-} timeout "$TIMEOUT" "$VMM" --kernel "$PAYLOAD" --initrd "$T/initrd" \
		--memory $MEM --vcpus $VCPUS --console "$T/$name.console" \
		--cmdline "ocivm.selftest st.mem=$MEM st.vcpus=$VCPUS st.initrd=65548 $extra st.end" \
		"$@" 2>"$T/$name.err"
	rc=$?
}

# --- the full self-test, with the virtio disks and console echo if present ---
DISK_ARGS= NDEV=1 ECHO_ARG=st.console_echo=0
if [ -x "$DISKS" ]; then
	DISK_ARGS=$("$DISKS" prepare "$T/disks") || bad "disks.prepare"
	NDEV=$((1 + $(echo "$DISK_ARGS" | grep -o -- '--disk' | wc -l)))
fi
if [ -x "$ECHO" ]; then
	"$ECHO" "$T/ctl" 30 2>"$T/echo.err" &
	BG=$!
	ECHO_ARG=st.console_echo=1
fi
# the NIC (issue 13): a tap made by --net tap=NAME,mac=M in a network
# namespace of our own; net_echo answers the guest's frame on it
NET_ARGS= NET_CMD= NETNS=ocivm-st-$$ TAP=stn$$ MAC=02:6f:63:73:74:02 NBG=
NETECHO=$BUILD/tests/net_echo
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null && [ -c /dev/net/tun ] && [ -x "$NETECHO" ] &&
   ip netns add "$NETNS" 2>/dev/null; then
	NET_ARGS="--net tap=$TAP,mac=$MAC" NET_CMD="st.net_mac=$MAC st.net_echo=1" NDEV=$((NDEV + 1))
	ip netns exec "$NETNS" "$NETECHO" "$TAP" "$MAC" "$TIMEOUT" > "$T/net_echo.out" &
	NBG=$!
else
	skp "selftest.net: the NIC needs root, ip, /dev/net/tun and $NETECHO"
fi
IN=${NET_ARGS:+ip netns exec $NETNS}
# shellcheck disable=SC2086
run_vmm main "st.ndev=$NDEV $ECHO_ARG st.cpuid_masked=cx16 $NET_CMD" --control "$T/ctl" --cpuid-mask cx16 \
	$DISK_ARGS $NET_ARGS
IN=
[ -n "$BG" ] && { wait "$BG" 2>/dev/null; BG=; }
if [ -n "$NBG" ]; then
	wait "$NBG"   # ends when the VMM's tap goes
	nrc=$? NBG=
	ip netns del "$NETNS"
	grep -E '^(PASS|FAIL) ' "$T/net_echo.out"
	pass=$((pass + $(grep -c '^PASS ' "$T/net_echo.out"))) fail=$((fail + $(grep -c '^FAIL ' "$T/net_echo.out")))
	[ $nrc -eq 0 ] || grep -q '^FAIL ' "$T/net_echo.out" || bad "net_echo.exit ($nrc)"
fi
grep -E '^(PASS|FAIL) ' "$T/main.console" | sed 's/^\(PASS\|FAIL\) /\1 guest./' | tr -d '\r'
npass=$(grep -c '^PASS ' "$T/main.console")
nfail=$(grep -c '^FAIL ' "$T/main.console")
pass=$((pass + npass)) fail=$((fail + nfail))
check "selftest.verdict: $(grep -a 'SELFTEST' "$T/main.console" | tr -d '\r')" \
	grep -q '^SELFTEST PASS' "$T/main.console"
REQ="pvh.start_info entry.mode entry.cr4 e820.sane cmdline.content initrd.bytes
	cpuid.hypervisor cpuid.mask time.tsc acpi.rsdp acpi.xsdt acpi.madt acpi.fadt acpi.dsdt
	irq.ioapic irq.uart smp.ap_startup alloc virtio.console.present virtio.console.features
	virtio.console.tx"
[ -n "$DISK_ARGS" ] && REQ="$REQ virtio.blk.get_id virtio.blk.read virtio.blk.write virtio.blk.flush virtio.blk.ro.write"
[ "$ECHO_ARG" = st.console_echo=1 ] && REQ="$REQ virtio.console.echo"
[ -n "$NET_ARGS" ] && REQ="$REQ virtio.net.features virtio.net.mac virtio.net.link virtio.net.tx virtio.net.rx virtio.net.irq"
# shellcheck disable=SC2086
check "selftest.all_groups_ran" require_checks "$T/main.console" $REQ
check "vmm.exit.poweroff (0; got $rc)" test "$rc" -eq 0
check "vmm.exit.reason_logged" grep -q 'power off' "$T/main.err"
check "vmm.control.socket_removed" test ! -e "$T/ctl"
if [ -n "$DISK_ARGS" ]; then
	"$DISKS" verify "$T/disks" > "$T/verify.out"
	vrc=$?
	grep -E '^(PASS|FAIL) ' "$T/verify.out"
	pass=$((pass + $(grep -c '^PASS ' "$T/verify.out")))
	fail=$((fail + $(grep -c '^FAIL ' "$T/verify.out")))
	[ $vrc -eq 0 ] || [ "$(grep -c '^FAIL ' "$T/verify.out")" -gt 0 ] || bad "disks.verify (exit $vrc)"
fi
if [ "$nfail" -gt 0 ] || ! grep -q '^SELFTEST' "$T/main.console"; then
	echo "# console tail:"; tail -5 "$T/main.console" | sed 's/^/#   /'
	echo "# vmm stderr:"; sed 's/^/#   /' "$T/main.err"
fi

# --- the same payload as a bzImage: the 64-bit boot protocol path ---
BZ=$BUILD/tests/guest-selftest.bzImage
if [ -e "$BZ" ]; then
	timeout "$TIMEOUT" "$VMM" --kernel "$BZ" --initrd "$T/initrd" --memory $MEM --vcpus $VCPUS \
		--console "$T/bz.console" 2>"$T/bz.err" \
		--cmdline "ocivm.selftest st.mem=$MEM st.vcpus=$VCPUS st.initrd=65548 st.ndev=1 st.console_echo=0 st.end"
	rc=$?
	nf=$(grep -c '^FAIL ' "$T/bz.console")
	check "bzimage.linux64_entry: $(grep -c '^PASS ' "$T/bz.console") guest checks passed, $nf failed" \
		sh -c "grep -q '^# boot protocol: linux64' '$T/bz.console' && grep -q '^SELFTEST PASS' '$T/bz.console' && test $rc -eq 0"
	check "bzimage.linux64_checks_ran" require_checks "$T/bz.console" linux64.boot_params entry.mode \
		e820.sane initrd.bytes acpi.rsdp irq.ioapic smp.ap_startup
	[ "$nf" -gt 0 ] && grep '^FAIL ' "$T/bz.console" | sed 's/^/#   bzImage: /'
else
	bad "bzimage: $BZ missing (make all)"
fi

# --- a bzImage carrying the ELF as an LZ4 payload: extracted on the host, PVH ---
LZ=$BUILD/tests/guest-selftest-lz4.bzImage
if [ -e "$LZ" ]; then
	timeout "$TIMEOUT" "$VMM" --kernel "$LZ" --initrd "$T/initrd" --memory $MEM --vcpus $VCPUS \
		--console "$T/lz.console" 2>"$T/lz.err" \
		--cmdline "ocivm.selftest st.mem=$MEM st.vcpus=$VCPUS st.initrd=65548 st.ndev=1 st.console_echo=0 st.end"
	rc=$?
	check "bzimage.lz4_to_pvh: $(grep -c '^PASS ' "$T/lz.console") guest checks passed, $(grep -c '^FAIL ' "$T/lz.console") failed" \
		sh -c "grep -q '^# boot protocol: pvh' '$T/lz.console' && grep -q '^SELFTEST PASS' '$T/lz.console' && test $rc -eq 0"
else
	skp "bzimage.lz4_to_pvh: $LZ not built (the lz4 command is not installed)"
fi

# --- 4 GiB of RAM: the part above the 3 GiB hole is mapped at 4 GiB ---
timeout "$TIMEOUT" "$VMM" --kernel "$PAYLOAD" --memory 4096 --console "$T/big.console" 2>/dev/null \
	--cmdline "ocivm.selftest st.mem=4096 st.vcpus=1 st.ndev=1 st.console_echo=0 st.end"
rc=$?
check "vmm.memory.4g: e820 $(grep -c '^# e820' "$T/big.console") entries, $(grep '^SELFTEST' "$T/big.console")" \
	sh -c "grep -q '^# e820 3: \[0x100000000, 0x140000000) type 1' '$T/big.console' && grep -q '^SELFTEST PASS' '$T/big.console' && test $rc -eq 0"

# --- exit statuses: reset (1), triple fault (2) ---
run_vmm reset "st.ndev=1 st.console_echo=0 st.after=reset"
check "vmm.exit.reset (1; got $rc)" test "$rc" -eq 1
run_vmm triple "st.ndev=1 st.console_echo=0 st.after=triple"
if [ "$rc" -eq 3 ] && grep -q 'KVM internal error, suberror 1 (rip 0x' "$T/triple.err"; then
	# kvm_pvm (an emulating KVM) cannot deliver the faults and reports an
	# emulation failure instead of a shutdown exit: status 3 with the RIP.
	ok "vmm.exit.internal_error (3; logged: $(head -1 "$T/triple.err" | cut -c12-90))"
	skp "vmm.exit.triple_fault: this KVM reports the triple fault as an internal error"
else
	check "vmm.exit.triple_fault (2; got $rc)" test "$rc" -eq 2
fi

# --- control socket: status, pause, resume, stop on a ticking guest ---
run_vmm wait "st.ndev=1 st.console_echo=0 st.after=tick" --control "$T/wctl" &
VPID=$!
BG=$VPID
i=0
while ! grep -q '^SELFTEST' "$T/wait.console" 2>/dev/null && [ $i -lt $((TIMEOUT * 10)) ]; do
	sleep 0.1; i=$((i + 1))
done
exits() { "$CTL" "$T/wctl" status | sed -n 's/.*"exits":{"total":\([0-9]*\).*/\1/p'; }
st=$("$CTL" "$T/wctl" status)
check "vmm.control.status: $st" sh -c "echo '$st' | grep -q '\"state\":\"running\"' && echo '$st' | grep -q '\"vcpus\":2'"
e1=$(exits); sleep 0.5; e2=$(exits)
check "vmm.control.running_guest_exits ($e1 -> $e2)" test "$e2" -gt "$e1"
check "vmm.control.pause" test "$("$CTL" "$T/wctl" pause)" = ok
check "vmm.control.status_paused" sh -c "'$CTL' '$T/wctl' status | grep -q '\"state\":\"paused\"'"
p1=$(exits); sleep 0.5; p2=$(exits)
check "vmm.control.paused_guest_frozen ($p1 -> $p2)" test "$p2" -eq "$p1"
check "vmm.control.resume" test "$("$CTL" "$T/wctl" resume)" = ok
check "vmm.control.status_running" sh -c "'$CTL' '$T/wctl' status | grep -q '\"state\":\"running\"'"
sleep 0.5; r1=$(exits)
check "vmm.control.resumed_guest_runs ($p2 -> $r1)" test "$r1" -gt "$p2"
bad=$("$CTL" "$T/wctl" frobnicate 2>&1)   # an empty reply is a failure too
check "vmm.control.bad_request ($bad)" sh -c "echo '$bad' | grep -q '^error unknown request'"
check "vmm.control.stop" test "$("$CTL" "$T/wctl" stop)" = ok
wait $VPID
rc=$?
BG=
check "vmm.exit.stopped (0; got $rc)" test "$rc" -eq 0
check "vmm.exit.stop_logged" grep -q 'stopped by control request' "$T/wait.err"

# --- confined (issue 14): jail + per-thread seccomp, the self-test still passes ---
field() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
if [ "$(id -u)" != 0 ]; then
	skp "vmm.confined: the jail needs root (run as root)"
	finish
fi
mkdir "$T/jail"
run_vmm jailed "st.ndev=1 st.console_echo=0 st.after=tick" --control "$T/jctl" \
	--jail-root "$T/jail" --jail-user 65534:65534 &
BG=$!
i=0
while ! grep -q '^SELFTEST' "$T/jailed.console" 2>/dev/null && [ $i -lt $((TIMEOUT * 10)) ]; do
	sleep 0.1; i=$((i + 1))
done
JP=$("$CTL" "$T/jctl" status | sed -n 's/.*"pid":\([0-9]*\).*/\1/p')
check "vmm.confined.selftest: $(grep -a SELFTEST "$T/jailed.console" | tr -d '\r')" \
	grep -q '^SELFTEST PASS' "$T/jailed.console"
check "vmm.confined.status_answers (pid $JP)" test -n "$JP"
if [ -n "$JP" ]; then
	check "vmm.confined.uid ($(field "$JP" Uid))" test "$(field "$JP" Uid)" = 65534
	check "vmm.confined.capeff_0" test "$(field "$JP" CapEff)" = 0000000000000000
	check "vmm.confined.capbnd_0" test "$(field "$JP" CapBnd)" = 0000000000000000
	check "vmm.confined.no_new_privs" test "$(field "$JP" NoNewPrivs)" = 1
	check "vmm.confined.seccomp_2" test "$(field "$JP" Seccomp)" = 2
	check "vmm.confined.own_mount_ns" test "$(readlink "/proc/$JP/ns/mnt")" != "$(readlink /proc/self/ns/mnt)"
	check "vmm.confined.own_net_ns" test "$(readlink "/proc/$JP/ns/net")" != "$(readlink /proc/self/ns/net)"
	check "vmm.confined.empty_root" sh -c "! test -e /proc/$JP/root/etc && ! test -e /proc/$JP/root/dev/kvm"
	check "vmm.confined.no_core" grep -qE '^Max core file size +0 +0' "/proc/$JP/limits"
fi
check "vmm.confined.pause_resume" sh -c "test \"\$('$CTL' '$T/jctl' pause)\" = ok && test \"\$('$CTL' '$T/jctl' resume)\" = ok"
check "vmm.confined.stop" test "$("$CTL" "$T/jctl" stop)" = ok
wait $BG
rc=$?
BG=
check "vmm.confined.exit_0 (got $rc; stderr: $(head -c 120 "$T/jailed.err"))" test "$rc" -eq 0

KNOBS=$BUILD/tests/ocivm-vmm-knobs
if [ -x "$KNOBS" ]; then
	mkdir "$T/jail2"
	OCIVM_VMM_TEST_FORBIDDEN_SYSCALL=1 timeout "$TIMEOUT" "$KNOBS" --kernel "$PAYLOAD" \
		--console "$T/knob.console" --jail-root "$T/jail2" --jail-user 65534:65534 \
		--cmdline "ocivm.selftest st.mem=128 st.vcpus=1 st.ndev=1 st.console_echo=0 st.end" 2>/dev/null
	rc=$?
	check "vmm.confined.forbidden_syscall_kills (SIGSYS: 128+31; got $rc)" test "$rc" -eq 159
else
	bad "vmm.confined.forbidden_syscall: $KNOBS missing (make all)"
fi
finish
