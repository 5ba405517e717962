#!/bin/sh
# bench/vmm: ocivm-vmm next to qemu-system-x86_64 -M microvm -enable-kvm on
# the same guest self-test payload, VMM-neutral part (st.only=tables: entry,
# start info, e820, initrd bytes, ACPI), and briefly on Debian's kernel:
#   exec -> first KVM_RUN (ocivm-vmm's own clock), exec -> guest verdict on
#   the serial console (both), VM exits by reason (KVM binary stats, both;
#   port I/O counted by ocivm-vmm itself), RSS beyond guest RAM (both).
# Confinement's cost, side by side in the same loop: ocivm-vmm once more
# with --jail-root/--jail-user (mount namespace, uid drop, seccomp) ->
#   confine vmm_start_ms_delta=<median exec->first KVM_RUN, jailed - not>
# Medians of RUNS runs.  Last line:
#   vmm first_run_ms=<x> rss_overhead_mib=<y> exits_vs_qemu=<z>
set -u
BUILD=${BUILD:-build}
RUNS=${RUNS:-3}
VMM=$BUILD/bin/ocivm-vmm
CTL=$BUILD/bin/ocivm-vmmctl
QMP=$BUILD/bin/bench_vmm_qmp
PAYLOAD=$BUILD/share/ocivmfs/guest-selftest
KERNEL=${OCIVM_GUEST_KERNEL:-$BUILD/guest/vmlinuz}
LINUX_SECS=${LINUX_SECS:-5}
MEM=128

for f in "$VMM" "$CTL" "$QMP" "$PAYLOAD"; do
	[ -e "$f" ] || { echo "bench/vmm: missing $f (make BUILD=$BUILD first)"; exit 1; }
done
if ! [ -c /dev/kvm ] || ! (exec 3<>/dev/kvm) 2>/dev/null; then
	echo "bench/vmm: skipped: /dev/kvm is not usable here"
	echo "confine vmm_start_ms_delta=NA (no /dev/kvm; bench-create prints the QEMU driver's)"
	echo "vmm first_run_ms=NA rss_overhead_mib=NA exits_vs_qemu=NA"
	exit 0
fi
HAVE_QEMU=1
command -v qemu-system-x86_64 >/dev/null || HAVE_QEMU=0
T=$(mktemp -d /tmp/ocivm-bench-vmm.XXXXXX)
PIDS=
trap 'for p in $PIDS; do kill $p 2>/dev/null; done; rm -rf "$T"' EXIT INT TERM

perl -e 'print pack("V*", map { ($_ * 2654435761) & 0xffffffff } 0..16386)' > "$T/initrd"
CMDLINE="ocivm.selftest st.mem=$MEM st.vcpus=1 st.initrd=65548 st.ndev=1 st.console_echo=0 st.only=tables st.after=wait st.end"

now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "NA"}'; }
# RSS of pid beyond its guest-RAM mapping (the one of MEM MiB .. MEM+4 MiB), kB.
rss_overhead_kb() {
	awk -v lo=$((MEM * 1024)) -v hi=$((MEM * 1024 + 4096)) '
		/^Size:/ { guest = ($2 >= lo && $2 <= hi) }
		/^Rss:/ { total += $2; if (guest) g += $2 }
		END { print total - g }' "/proc/$1/smaps"
}
wait_verdict() {   # wait_verdict FILE PID: 0 when SELFTEST appears
	i=0
	while [ $i -lt 3000 ]; do
		grep -q SELFTEST "$1" 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.01
		i=$((i + 1))
	done
	return 1
}

run_ours() {   # one run; appends "first_us verdict_ms exits mmio io_user rss_kb" to ${OUT:-$T/ours}
	rm -f "$T/c" "$T/o.txt"
	t0=$(now_ns)
	# shellcheck disable=SC2086
	OCIVM_VMM_STATS=1 OCIVM_VMM_T0=$t0 "$VMM" --kernel "$PAYLOAD" --initrd "$T/initrd" \
		--memory $MEM --cmdline "$CMDLINE" --console "$T/o.txt" --control "$T/c" ${JAIL:-} 2>"$T/err" &
	pid=$!
	PIDS="$PIDS $pid"
	wait_verdict "$T/o.txt" $pid || { echo "ocivm-vmm: no verdict"; cat "$T/err"; return 1; }
	tv=$(( ($(now_ns) - t0) / 1000000 ))
	st=$("$CTL" "$T/c" status)
	rss=$(rss_overhead_kb $pid)
	"$CTL" "$T/c" stop >/dev/null
	wait $pid
	first=$(sed -n 's/.*first_run_us=\([0-9-]*\).*/\1/p' "$T/err")
	kx=$(echo "$st" | sed -n 's/.*"kvm":{"exits":\([0-9]*\).*/\1/p')
	km=$(echo "$st" | sed -n 's/.*"mmio_exits":\([0-9]*\).*/\1/p')
	io=$(echo "$st" | sed -n 's/.*"io":\([0-9]*\).*/\1/p')
	echo "$first $tv $kx $km $io $rss" >> "${OUT:-$T/ours}"
}

QEMU_ARGS="-M microvm,acpi=on,pic=off,rtc=off -enable-kvm -smp 1 -nodefaults
 -no-user-config -display none -global virtio-mmio.force-legacy=false
 -device virtio-serial-device -chardev null,id=c0 -device virtconsole,chardev=c0"

run_qemu() {   # one run; appends "verdict_ms exits mmio rss_kb" to $T/qemu
	rm -f "$T/q" "$T/q.txt"
	t0=$(now_ns)
	# shellcheck disable=SC2086
	qemu-system-x86_64 $QEMU_ARGS -m $MEM -serial "file:$T/q.txt" -qmp "unix:$T/q,server=on,wait=off" \
		-kernel "$PAYLOAD" -initrd "$T/initrd" -append "$CMDLINE" 2>"$T/qerr" &
	pid=$!
	PIDS="$PIDS $pid"
	wait_verdict "$T/q.txt" $pid || { echo "qemu: no verdict"; cat "$T/qerr"; return 1; }
	tv=$(( ($(now_ns) - t0) / 1000000 ))
	"$QMP" "$T/q" stats > "$T/qstats" || return 1
	rss=$(rss_overhead_kb $pid)
	"$QMP" "$T/q" quit >/dev/null
	wait $pid
	echo "$tv $(sed -n 's/^exits=//p' "$T/qstats") $(sed -n 's/^mmio_exits=//p' "$T/qstats") $rss" >> "$T/qemu"
}

: > "$T/ours"
: > "$T/qemu"
mkdir -p "$T/jroot"
HAVE_JAIL=$( [ "$(id -u)" = 0 ] && echo 1 || echo 0)
for r in $(seq "$RUNS"); do
	run_ours || exit 1
	if [ $HAVE_JAIL = 1 ]; then
		JAIL="--jail-root $T/jroot --jail-user 65534:65534" OUT="$T/oursj"
		run_ours || HAVE_JAIL=0
		JAIL= OUT=
	fi
	[ $HAVE_QEMU = 1 ] && { run_qemu || HAVE_QEMU=0; }
done
col() { awk -v c="$2" '{print $c}' "$1" | median; }
o_first=$(col "$T/ours" 1); o_verdict=$(col "$T/ours" 2); o_exits=$(col "$T/ours" 3)
o_mmio=$(col "$T/ours" 4); o_io=$(col "$T/ours" 5); o_rss=$(col "$T/ours" 6)
echo "self-test payload, $MEM MiB, 1 vCPU, median of $RUNS:"
printf '  %-28s %12s %12s\n' "" ocivm-vmm qemu-microvm
if [ $HAVE_QEMU = 1 ]; then
	q_verdict=$(col "$T/qemu" 1); q_exits=$(col "$T/qemu" 2); q_mmio=$(col "$T/qemu" 3); q_rss=$(col "$T/qemu" 4)
else
	q_verdict=NA q_exits=NA q_mmio=NA q_rss=NA
	echo "  (qemu-system-x86_64 unavailable or failed: no comparison)"
fi
printf '  %-28s %12s %12s\n' "exec -> first KVM_RUN (us)" "$o_first" "n/a"
printf '  %-28s %12s %12s\n' "exec -> verdict (ms)" "$o_verdict" "$q_verdict"
printf '  %-28s %12s %12s\n' "KVM exits (total)" "$o_exits" "$q_exits"
printf '  %-28s %12s %12s\n' "  of which MMIO" "$o_mmio" "$q_mmio"
printf '  %-28s %12s %12s\n' "  port I/O (VMM count)" "$o_io" "n/a"
printf '  %-28s %12s %12s\n' "RSS beyond guest RAM (KiB)" "$o_rss" "$q_rss"
ratio() { [ "$2" != NA ] && [ "$2" != 0 ] && awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}' || echo NA; }
echo "  ratios ocivm-vmm/qemu: verdict $(ratio "$o_verdict" "$q_verdict"), exits $(ratio "$o_exits" "$q_exits"), rss $(ratio "$o_rss" "$q_rss")"

# Debian's kernel, as far as it gets in LINUX_SECS (it does not boot on
# kvm_pvm): same kernel and command line on both.
linux_ours() {
	rm -f "$T/c" "$T/l.txt"
	t0=$(now_ns)
	OCIVM_VMM_STATS=1 OCIVM_VMM_T0=$t0 "$VMM" --kernel "$KERNEL" --memory $MEM \
		--cmdline "$LCMD" --console "$T/l.txt" --control "$T/c" 2>"$T/lerr" &
	pid=$!
	PIDS="$PIDS $pid"
	sleep "$LINUX_SECS"
	st=$("$CTL" "$T/c" status)
	l_rss=$(rss_overhead_kb $pid)
	"$CTL" "$T/c" stop >/dev/null
	wait $pid
	l_first=$(sed -n 's/.*first_run_us=\([0-9-]*\).*/\1/p' "$T/lerr")
	l_exits=$(echo "$st" | sed -n 's/.*"kvm":{"exits":\([0-9]*\).*/\1/p')
	l_rip=$(sed -n 's/.*was at rip \(0x[0-9a-f]*\).*/\1/p' "$T/lerr")
	l_bytes=$(wc -c < "$T/l.txt")
}
linux_qemu() {
	rm -f "$T/q" "$T/lq.txt"
	# shellcheck disable=SC2086
	qemu-system-x86_64 $QEMU_ARGS -m $MEM -serial "file:$T/lq.txt" \
		-qmp "unix:$T/q,server=on,wait=off" -kernel "$KERNEL" -append "$LCMD" 2>"$T/lqerr" &
	pid=$!
	PIDS="$PIDS $pid"
	sleep "$LINUX_SECS"
	"$QMP" "$T/q" stats > "$T/lqstats" || return 1
	lq_rss=$(rss_overhead_kb $pid)
	"$QMP" "$T/q" quit >/dev/null
	wait $pid
	lq_exits=$(sed -n 's/^exits=//p' "$T/lqstats")
	lq_bytes=$(wc -c < "$T/lq.txt")
}
if [ -r "$KERNEL" ]; then
	MEM=512
	LCMD="console=ttyS0 earlyprintk=ttyS0"
	linux_ours
	lq_exits=NA lq_rss=NA lq_bytes=NA
	[ $HAVE_QEMU = 1 ] && linux_qemu
	echo "Debian kernel $(basename "$KERNEL"), $MEM MiB, first $LINUX_SECS s"
	echo "  (ocivm-vmm: LZ4 -> vmlinux -> PVH on the host; qemu: the bzImage decompressor in the guest):"
	printf '  %-28s %12s %12s\n' "exec -> first KVM_RUN (us)" "$l_first" "n/a"
	printf '  %-28s %12s %12s\n' "KVM exits" "$l_exits" "$lq_exits"
	printf '  %-28s %12s %12s\n' "console bytes" "$l_bytes" "$lq_bytes"
	printf '  %-28s %12s %12s\n' "RSS beyond guest RAM (KiB)" "$l_rss" "$lq_rss"
	echo "  ocivm-vmm's vCPU 0 was at rip $l_rip when stopped"
	MEM=128
else
	echo "Debian kernel: not measured ($KERNEL missing; make guest or set OCIVM_GUEST_KERNEL)"
fi
if [ $HAVE_JAIL = 1 ]; then
	echo "confine vmm_start_ms_delta=$(awk -v a="$(col "$T/oursj" 1)" -v b="$o_first" 'BEGIN {printf "%.2f", (a - b) / 1000}')"
else
	echo "confine vmm_start_ms_delta=NA (jailed runs need root and must succeed)"
fi
echo "vmm first_run_ms=$(awk -v u="$o_first" 'BEGIN {printf "%.1f", u / 1000}') rss_overhead_mib=$(awk -v k="$o_rss" 'BEGIN {printf "%.1f", k / 1024}') exits_vs_qemu=$(ratio "$o_exits" "$q_exits")"
