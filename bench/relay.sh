#!/usr/bin/env bash
# bench/relay: container output reaching a host reader, side by side in one
# run: ocivmfs (VM, the guest relay, the channel, the daemon, the tree's
# stdout file read by cat) vs crun (the same busybox bundle, the same `dd`
# writing to a pipe read by cat).  MB/s from `start` to the reader's end of
# file; CPU time per MB on the host (daemon, reader) and in the guest (the
# guest kernel's own busy time, /proc/stat before and after, and the
# hypervisor process that runs it); for crun, all of it (runtime, container
# and reader: it is all host).  Medians of N rounds (N, default 3).
# Last line: relay ocivm_mbps=<x> crun_mbps=<y>
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
BIN=$BUILD/bin/ocivmfs
MIB=${BENCH_RELAY_MIB:-32}
N=${N:-3}
die() { echo "bench/relay: $*"; exit 1; }
for f in "$BIN" "$BUILD/guest/vmlinuz" "$BUILD/guest/initrd.img" "$BUILD/bundle/busybox/rootfs/bin/busybox"; do
	[ -e "$f" ] || { echo "bench/relay: skipped: $f missing (make BUILD=$BUILD all guest)"; exit 0; }
done
[ -c /dev/fuse ] || { echo "bench/relay: skipped: no /dev/fuse"; exit 0; }
command -v jq >/dev/null || { echo "bench/relay: skipped: needs jq"; exit 0; }
ROOTFS=$(realpath "$BUILD/bundle/busybox/rootfs")
T=$(mktemp -d /tmp/ocivmfs-bench-relay.XXXXXX)
M=$T/m
cleanup() {
	if mountpoint -q "$M"; then
		for c in "$M"/containers/*; do [ -d "$c" ] && echo "delete force" > "$c/ctl"; done 2>/dev/null
		fusermount3 -u "$M"
	fi
	[ -d "$T/crun" ] && crun --root "$T/crun" delete -f benchrelay >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT

# The process: guest busy jiffies to stderr, MIB MiB of zeros to stdout, jiffies again.
SCRIPT="busy() { head -n 1 /proc/stat | awk '{ print \$2 + \$3 + \$4 + \$7 + \$8 }' >&2; }
busy; dd if=/dev/zero bs=1048576 count=$MIB 2>/dev/null; busy"
jq -n --arg root "$ROOTFS" --arg script "$SCRIPT" \
	'{ociVersion: "1.0.2", root: {path: $root, readonly: true},
	  process: {terminal: false, user: {uid: 0, gid: 0}, cwd: "/",
		    env: ["PATH=/bin:/sbin:/usr/bin:/usr/sbin"], args: ["sh", "-c", $script]},
	  mounts: [{destination: "/proc", type: "proc", source: "proc"},
		   {destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "mode=755"]}],
	  linux: {namespaces: [{type: "pid"}, {type: "ipc"}, {type: "uts"}, {type: "mount"}]}}' > "$T/config.json"
mkdir -p "$T/vb" "$T/cb"
cp "$T/config.json" "$T/vb/config.json"
cp "$T/config.json" "$T/cb/config.json"

now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.2f\", $1 }"; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
cpu_s() { awk '{ print ($14 + $15) / 100 }' "/proc/$1/stat" 2>/dev/null; }   # empty once gone   # utime+stime, USER_HZ 100
BYTES=$((MIB * 1048576)) MB=$(calc "$MIB * 1.048576")

# --- ocivm: one daemon; per round a container, booted before the clock runs
mkdir -p "$M"; "$BIN" --state-dir "$T/state" "$M" || die "mount failed"
DPID=$(pgrep -n -f "^$BIN --state-dir $T/state ")
echo "ocivm: $(head -n 1 "$M/hypervisor")"
for r in $(seq "$N"); do
	C=$M/containers/r$r
	ln -s "$T/vb" "$C" || die "create failed: $(tail -n 1 "$M/log")"
	VPID=$(cat "$C/pid")
	d0=$(cpu_s "$DPID") v0=$(cpu_s "$VPID")
	exec 8< "$C/stdout"
	# the hypervisor ends with the container, before the reader's EOF: sample it
	(while v=$(cpu_s "$VPID") && [ -n "$v" ]; do echo "$v" > "$T/vcpu"; sleep 0.05; done) & SPID=$!
	s=$(now)
	/usr/bin/time -f "%U %S" -o "$T/reader.time" wc -c <&8 > "$T/n" & RPID=$!
	echo start > "$C/ctl" || die "start failed: $(cat "$C/vm/last_error")"
	wait $RPID; e=$(now); exec 8<&-
	d1=$(cpu_s "$DPID"); wait $SPID; v1=$(cat "$T/vcpu")
	st=$(timeout 600 cat "$C/wait")
	[ "$(cat "$T/n")" = "$BYTES" ] && [ "$st" = 0 ] || die "round $r: $(cat "$T/n") bytes (want $BYTES), status $st"
	g=$(cat "$C/stderr" | awk 'NR == 1 { a = $1 } NR == 2 { print ($1 - a) / 100 }')   # guest USER_HZ 100
	rd=$(awk '{ print $1 + $2 }' "$T/reader.time")
	echo "$(calc "$MB / ($e - $s)")" >> "$T/o.mbps"
	echo "$(calc "($d1 - $d0) * 1000 / $MB")" >> "$T/o.daemon"
	echo "$(calc "$rd * 1000 / $MB")" >> "$T/o.reader"
	echo "$(calc "$g * 1000 / $MB")" >> "$T/o.guest"
	[ -n "$v1" ] && echo "$(calc "($v1 - $v0) * 1000 / $MB")" >> "$T/o.vmm"
	rmdir "$C" 2>/dev/null || echo "delete force" > "$C/ctl"
done
fusermount3 -u "$M"
o_mbps=$(median < "$T/o.mbps")
echo "ocivm ($MIB MiB, median of $N): $o_mbps MB/s start->reader EOF;" \
	"CPU ms/MB: host daemon $(median < "$T/o.daemon"), host reader $(median < "$T/o.reader")," \
	"guest kernel+relay+dd $(median < "$T/o.guest"), hypervisor process (runs the guest) $(median < "$T/o.vmm" 2>/dev/null || echo "n/a: it had ended")"

# --- crun: the same bundle, stdout a pipe read by wc -c (as the tree's reader)
crun_mbps=n/a
if command -v crun >/dev/null; then
	out=$(unshare -m --propagation private bash -c '
		mountpoint -q /sys/fs/cgroup && [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ] &&
			mount -t cgroup2 none /sys/fs/cgroup 2>/dev/null
		CR="crun --cgroup-manager=disabled --root '"$T"'/crun"
		mkfifo '"$T"'/fifo
		for r in $(seq '"$N"'); do
			# MB/s: created first (its stdout the fifo), the clock runs from start
			wc -c < '"$T"'/fifo > '"$T"'/cn & w=$!
			$CR create --bundle '"$T"'/cb benchrelay > '"$T"'/fifo 2>/dev/null ||
				{ echo "ERR crun create failed"; exit 0; }
			s=$(date +%s.%N); $CR start benchrelay; wait $w; e=$(date +%s.%N)
			[ "$(cat '"$T"'/cn)" = '"$BYTES"' ] || { echo "ERR crun: $(cat '"$T"'/cn) bytes"; exit 0; }
			$CR delete -f benchrelay
			# CPU: crun run, reader included (all of it on the host; container start too)
			/usr/bin/time -f "%U %S" -o '"$T"'/crun.time bash -c "$CR run --bundle '"$T"'/cb benchrelay 2>/dev/null | wc -c" > '"$T"'/cn
			[ "$(cat '"$T"'/cn)" = '"$BYTES"' ] || { echo "ERR crun run: $(cat '"$T"'/cn) bytes"; exit 0; }
			echo "$s $e $(cat '"$T"'/crun.time)"
		done')
	case $out in
	ERR*|"") echo "crun: ${out#ERR }";;
	*)
		echo "$out" | awk -v mb="$MB" '{ printf "%.2f\n", mb / ($2 - $1) }' > "$T/c.mbps"
		echo "$out" | awk -v mb="$MB" '{ printf "%.2f\n", ($3 + $4) * 1000 / mb }' > "$T/c.cpu"
		crun_mbps=$(median < "$T/c.mbps")
		echo "crun ($MIB MiB, median of $N): $crun_mbps MB/s start->reader EOF;" \
			"CPU ms/MB (crun run: runtime, container, reader, all host; its start included): $(median < "$T/c.cpu")"
		;;
	esac
else
	echo "crun: not installed (apt-get install crun)"
fi
echo "relay ocivm_mbps=$o_mbps crun_mbps=$crun_mbps"
