#!/usr/bin/env bash
# bench/ctl: how fast the tree answers, side by side in one run.
#  - reading ID/state through the tree vs `crun state ID` on an equivalent
#    crun container vs reading a tmpfs file (in-process, and as a command);
#  - ctl write latency; event latency (write ctl -> line readable in events).
# The container is the bundled busybox booted by the real daemon when `make
# guest` outputs exist, else the daemon over the fake ops (said below).
# Last line: the headline (state read vs crun state, as commands).
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
TIME=$BUILD/bench/ctl_time
REAL=$BUILD/bin/ocivmfs
FAKE=$BUILD/bench/ocivmfs-fakeops
N_IN=${N_IN:-2000} N_CMD=${N_CMD:-20} N_EV=${N_EV:-200}

die() { echo "bench/ctl: $*"; exit 1; }
[ -x "$TIME" ] && [ -x "$FAKE" ] || die "build first: make BUILD=$BUILD all"
[ -c /dev/fuse ] || { echo "bench/ctl: skipped: no /dev/fuse"; exit 0; }
T=$(mktemp -d /tmp/ocivmfs-bench.XXXXXX)
cleanup() {
	for m in "$T"/m*; do mountpoint -q "$m" && { echo "delete b force" > "$m/ctl"; fusermount3 -u "$m"; }; done 2>/dev/null
	[ -d "$T/crun" ] && crun --root "$T/crun" delete -f bench >/dev/null 2>&1
	mountpoint -q "$T/shm" && umount "$T/shm"
	rm -rf "$T"
}
trap cleanup EXIT
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }

# a trivial bundle (static busybox) for the fake daemon and crun
mkdir -p "$T/tb/rootfs/bin" "$T/tb/rootfs/dev" "$T/tb/rootfs/proc"
cp /bin/busybox "$T/tb/rootfs/bin/busybox" 2>/dev/null || die "needs busybox-static"
ln -s busybox "$T/tb/rootfs/bin/sleep"; ln -s busybox "$T/tb/rootfs/bin/sh"
cat > "$T/tb/config.json" <<'JSON'
{"ociVersion":"1.0.2","process":{"terminal":false,"user":{"uid":0,"gid":0},"args":["/bin/sleep","100000"],"cwd":"/"},
 "root":{"path":"rootfs"},"mounts":[{"destination":"/proc","type":"proc","source":"proc"}],"linux":{"namespaces":[{"type":"pid"},{"type":"ipc"},{"type":"uts"},{"type":"mount"}]}}
JSON

# the tree: real daemon + booted VM if possible, else fake ops
M=$T/m1; mkdir -p "$M"
if [ -x "$REAL" ] && [ -e "$BUILD/guest/vmlinuz" ] && [ -e "$BUILD/guest/initrd.img" ] &&
   [ -f "$BUILD/bundle/busybox/config.json" ]; then
	"$REAL" --state-dir "$T/state1" "$M" || die "mount failed"
	ln -s "$(realpath "$BUILD/bundle/busybox")" "$M/containers/b" || die "create failed: $(tail -1 "$M/log")"
	echo "tree: real ocivmfs, busybox container booted ($(cat "$M/hypervisor" | cut -c1-60)...)"
else
	"$FAKE" --state-dir "$T/state1" "$M" || die "mount failed"
	ln -s "$T/tb" "$M/containers/b" || die "create failed"
	echo "tree: ocivmfs over the fake ops/ (no make guest outputs; VM path not measured)"
fi
S=$M/containers/b/state

# tmpfs copy of the same text
mkdir -p "$T/shm"; mount -t tmpfs tmpfs "$T/shm" 2>/dev/null || true
cat "$S" > "$T/shm/state"

med() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for r in 1 2 3 4 5; do
	"$TIME" read "$S" $((N_IN / 5)) >> "$T/r.in.tree" || die "tree read failed"
	"$TIME" read "$T/shm/state" $((N_IN / 5)) >> "$T/r.in.tmpfs"
done
tree_in=$(med < "$T/r.in.tree") tmpfs_in=$(med < "$T/r.in.tmpfs")
echo "state read, in process (median of 5 alternating rounds x $((N_IN / 5))): tree ${tree_in} us, tmpfs ${tmpfs_in} us (tree costs $(ratio "$tree_in" "$tmpfs_in")x tmpfs)"

# crun needs a pure cgroup2 view on these hybrid-cgroup machines: give it one
# in a private mount namespace (the FUSE mount is visible there too)
crun_cmd=""
if command -v crun >/dev/null; then
	out=$(unshare -m --propagation private bash -c '
		mountpoint -q /sys/fs/cgroup && [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ] &&
			mount -t cgroup2 none /sys/fs/cgroup 2>/dev/null
		CR="crun --cgroup-manager=disabled --root '"$T/crun"'"
		$CR create --bundle '"$T/tb"' bench >/dev/null 2>&1 || { echo "ERR crun create failed"; exit 0; }
		# alternating rounds, so that load from elsewhere hits all three alike
		med() { sort -n | awk "{ v[NR] = \$1 } END { print v[int((NR + 1) / 2)] }"; }
		for r in 1 2 3 4 5; do
			'"$TIME"' spawn '"$N_CMD"' $CR state bench >> '"$T"'/r.crun || { echo "ERR crun state failed"; exit 0; }
			'"$TIME"' spawn '"$N_CMD"' cat '"$S"' >> '"$T"'/r.tree
			'"$TIME"' spawn '"$N_CMD"' cat '"$T/shm/state"' >> '"$T"'/r.tmpfs
		done
		$CR delete -f bench >/dev/null 2>&1
		echo "$(med < '"$T"'/r.crun) $(med < '"$T"'/r.tree) $(med < '"$T"'/r.tmpfs)"')
	case $out in ERR*) echo "crun: ${out#ERR }";; *) crun_cmd=$out;; esac
else
	echo "crun: not installed (apt-get install crun): the crun comparison is skipped"
fi
if [ -n "$crun_cmd" ]; then
	read -r crun_us cat_us catf_us <<< "$crun_cmd"
	echo "state read, as a command (median of 5 alternating rounds x $N_CMD): cat tree ${cat_us} us, cat tmpfs ${catf_us} us, crun state ${crun_us} us"
	echo "state read in process vs crun state: $(ratio "$crun_us" "$tree_in")x faster"
fi

# ctl write latency and event latency on a container that can change state
ctl_real=$("$TIME" write "$M/containers/b/ctl" "frobnicate" "$N_EV")
echo "ctl write, rejected command (median of $N_EV): ${ctl_real} us"
M2=$T/m2; mkdir -p "$M2"
"$FAKE" --state-dir "$T/shm/state2" "$M2" && ln -s "$T/tb" "$M2/containers/b" && echo start > "$M2/containers/b/ctl" ||
	die "fake daemon setup failed"
ctl_ok=$("$TIME" event "$M2/events" "$M2/containers/b/ctl" pause resume "$N_EV") || die "event timing failed"
echo "ctl write applied -> event line readable (pause/resume, fake ops, state on tmpfs, median of $N_EV): ${ctl_ok} us"
if [ -n "$crun_cmd" ]; then
	echo "ctl: reading ID/state is $(ratio "$crun_us" "$tree_in")x faster than crun state (open+read+close ${tree_in} us vs crun state ${crun_us} us; as commands cat vs crun state $(ratio "$crun_us" "$cat_us")x, process start dominating; target >= 5x)"
else
	echo "ctl: reading ID/state takes ${tree_in} us in process (crun comparison unavailable here)"
fi
