#!/bin/sh
# Linux end to end on ocivm-vmm: Debian's cloud kernel with a busybox initrd
# whose /init loads virtio_mmio + virtio_console, prints a marker on the
# serial console and on /dev/hvc0 (read back through the control socket),
# then powers off (ACPI S5).  Runs where /dev/kvm executes guests at
# hardware speed; on an emulating KVM (kvm_pvm: ~1 us per instruction) a
# stock kernel cannot boot in reasonable time, so it skips itself and says
# so.  OCIVM_E2E_FORCE=1 runs it anyway (nice'd, E2E_TIMEOUT seconds, with
# E2E_CPUID_MASK) and reports how far the kernel got.
# Kernel: OCIVM_GUEST_KERNEL (default $BUILD/guest/vmlinuz from `make guest`),
# modules: OCIVM_GUEST_ROOT (default $BUILD/guest/root).
set -u
BUILD=${BUILD:-build}
VMM=$BUILD/bin/ocivm-vmm
CTL=$BUILD/bin/ocivm-vmmctl
PAYLOAD=$BUILD/share/ocivmfs/guest-selftest
KERNEL=${OCIVM_GUEST_KERNEL:-$BUILD/guest/vmlinuz}
ROOT=${OCIVM_GUEST_ROOT:-$BUILD/guest/root}
BUSYBOX=${BUSYBOX:-/bin/busybox}
FORCE=${OCIVM_E2E_FORCE:-0}
TIMEOUT=${E2E_TIMEOUT:-120}
MASK=${E2E_CPUID_MASK:-}

pass=0 fail=0 skip=0
ok()  { echo "PASS $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
finish() { echo "$pass passed, $fail failed, $skip skipped"; [ "$fail" -eq 0 ]; exit; }
skipall() { echo "SKIP linux_e2e: $*"; skip=$((skip + 1)); finish; }

for f in "$VMM" "$CTL" "$PAYLOAD"; do
	[ -e "$f" ] || { echo "missing $f: run make BUILD=$BUILD first"; bad build; finish; }
done
[ -c /dev/kvm ] && (exec 3<>/dev/kvm) 2>/dev/null || skipall "/dev/kvm is absent or not accessible"
[ -r "$KERNEL" ] || skipall "no guest kernel at $KERNEL (run make guest, or set OCIVM_GUEST_KERNEL)"
REL=$(ls "$ROOT/lib/modules" 2>/dev/null | head -1)
[ -n "$REL" ] || skipall "no kernel modules under $ROOT/lib/modules (run make guest, or set OCIVM_GUEST_ROOT)"
[ -x "$BUSYBOX" ] || skipall "no static busybox at $BUSYBOX (Debian: busybox-static)"
command -v cpio >/dev/null || skipall "cpio is not installed"

T=$(mktemp -d /tmp/ocivm-e2e.XXXXXX)
BG=
trap '[ -n "$BG" ] && kill $BG 2>/dev/null; rm -rf "$T"' EXIT INT TERM

# --- how fast does this KVM run guest code?  2M instructions, timed ---
t_run() {   # t_run N -> ms for a payload run of N loop iterations
	t0=$(date +%s%N)
	"$VMM" --kernel "$PAYLOAD" --cmdline "ocivm.selftest st.loop=$1 st.end" \
		--console "$T/loop.txt" 2>/dev/null
	echo $(( ($(date +%s%N) - t0) / 1000000 ))
}
base=$(t_run 1)
loop=$(t_run 1000000)
ns=$(( (loop - base) * 1000000 / 2000000 ))
echo "# guest speed: $ns ns per instruction (2M-instruction loop: $loop ms, baseline $base ms)"
if [ "$ns" -gt 20 ] && [ "$FORCE" != 1 ]; then
	skipall "this KVM emulates guest code (~$ns ns per instruction; kvm_pvm-like, not hardware): a stock kernel cannot boot here; OCIVM_E2E_FORCE=1 tries anyway"
fi

# --- initrd: busybox + the virtio modules + /init ---
mkdir -p "$T/rd/bin" "$T/rd/lib/modules" "$T/rd/proc" "$T/rd/sys" "$T/rd/dev"
cp "$BUSYBOX" "$T/rd/bin/busybox"
for m in drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_mmio \
	 drivers/char/virtio_console; do
	cp "$ROOT/lib/modules/$REL/kernel/$m.ko" "$T/rd/lib/modules/" || { bad "initrd: module $m"; finish; }
done
cat > "$T/rd/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in virtio_ring virtio virtio_mmio virtio_console; do insmod /lib/modules/$m.ko; done
echo "OCIVM-E2E-CONSOLE marker from init" > /dev/console
i=0
while [ ! -e /dev/hvc0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
echo "OCIVM-E2E-HVC marker from init" > /dev/hvc0
sleep 0.5
poweroff -f
INIT
chmod +x "$T/rd/init"
(cd "$T/rd" && find . | cpio -o -H newc --quiet) > "$T/initrd.cpio" || { bad "initrd: cpio"; finish; }
ok "initrd: busybox, 4 virtio modules of $REL, /init"

# --- boot ---
ARGS="--kernel $KERNEL --initrd $T/initrd.cpio --memory 512 --vcpus 1 --console $T/console.txt --control $T/ctl"
[ -n "$MASK" ] && ARGS="$ARGS --cpuid-mask $MASK"
CMDLINE="console=ttyS0 earlyprintk=ttyS0 panic=-1 rdinit=/init ${E2E_CMDLINE:-}"
# shellcheck disable=SC2086
nice -n 19 timeout -s TERM "$TIMEOUT" "$VMM" $ARGS --cmdline "$CMDLINE" 2>"$T/vmm.err" &
VPID=$!
BG=$VPID
i=0
while [ ! -S "$T/ctl" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
"$CTL" "$T/ctl" console < /dev/null > "$T/hvc.txt" 2>/dev/null &
CPID=$!
wait $VPID
rc=$?
BG=
kill $CPID 2>/dev/null
wait $CPID 2>/dev/null
echo "# vmm: $(tr '\n' ' ' < "$T/vmm.err")"
echo "# console: $(wc -c < "$T/console.txt") bytes; last lines:"
tail -5 "$T/console.txt" | tr -d '\r' | sed 's/^/#   /'
if [ "$rc" -eq 0 ]; then ok "vmm.exit: guest powered off (0)"; else bad "vmm.exit: status $rc (124 = timeout after ${TIMEOUT}s)"; fi
if grep -q "OCIVM-E2E-CONSOLE" "$T/console.txt"; then ok "console marker (ttyS0)"; else bad "console marker (ttyS0)"; fi
if grep -q "OCIVM-E2E-HVC" "$T/hvc.txt"; then ok "virtio-console marker (/dev/hvc0 via the control socket)"; else bad "virtio-console marker (/dev/hvc0)"; fi
finish
