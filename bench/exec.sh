#!/usr/bin/env bash
# bench/exec: exec of /bin/true into a running container, side by side in
# one run on the same busybox rootfs:
#   ocivm  the tree: `exec NAME JSON` on ID/ctl until ID/exec/NAME/wait
#          returns (bench/exec_time, in-process; rmdir not timed), and the
#          same through the CLI (`ocivm exec ID /bin/true`, a fork+exec each);
#   peer   `crun exec ID /bin/true` (a fork+exec each, as the CLI).
# Also printed: the guest's own figures of each exec, from
# ID/exec/NAME/times (ocivm-init: spawn_us, its fork of the process to its
# reaping; guest_us, EXEC taken off the channel to EXITED sent), the ctl
# write alone (it returns at STARTED), and the host's fork+exec of /bin/true
# (the floor).  Medians of N (default 30).
# Last line: exec ocivm_ms=<x> peer_ms=<y> ratio=<x/y> spawn_ms=<s> overhead_ms=<x-s>
#   (overhead: what exec adds over the guest's process spawn, the medians'
#   difference; target <= 5 ms.  The per-exec difference's median and
#   smallest are printed above it: on a loaded host its tail is scheduling.)
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
BIN=$BUILD/bin/ocivmfs
OCIVM=$(realpath -m "$BUILD/bin/ocivm")
ET=$BUILD/bench/exec_time
CT=$BUILD/bench/ctl_time
N=${N:-30}
die() { echo "bench/exec: $*"; exit 1; }
for f in "$BIN" "$OCIVM" "$ET" "$CT" "$BUILD/guest/vmlinuz" "$BUILD/bundle/busybox/rootfs/bin/busybox"; do
	[ -e "$f" ] || { echo "bench/exec: skipped: $f missing (make BUILD=$BUILD all guest)"; exit 0; }
done
[ -c /dev/fuse ] || { echo "bench/exec: skipped: no /dev/fuse"; exit 0; }
command -v jq >/dev/null || { echo "bench/exec: skipped: needs jq"; exit 0; }
PEER=$(command -v crun || command -v runc) || { echo "bench/exec: skipped: no crun or runc"; exit 0; }
ROOTFS=$(realpath "$BUILD/bundle/busybox/rootfs")
T=$(mktemp -d /tmp/ocivmfs-bench-exec.XXXXXX)
M=$T/m
cleanup() {
	if mountpoint -q "$M"; then
		for c in "$M"/containers/*; do [ -d "$c" ] && echo "delete force" > "$c/ctl"; done 2>/dev/null
		fusermount3 -u "$M" || fusermount3 -uz "$M"
	fi
	rm -rf "$T"
}
trap cleanup EXIT

jq -n --arg root "$ROOTFS" \
	'{ociVersion: "1.0.2", root: {path: $root, readonly: true},
	  process: {terminal: false, user: {uid: 0, gid: 0}, cwd: "/",
		    env: ["PATH=/bin:/sbin:/usr/bin:/usr/sbin"], args: ["sleep", "100000"]},
	  mounts: [{destination: "/proc", type: "proc", source: "proc"},
		   {destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "mode=755"]}],
	  linux: {namespaces: [{type: "pid"}, {type: "ipc"}, {type: "uts"}, {type: "mount"}]}}' > "$T/config.json"
mkdir -p "$T/vb" "$T/cb"
cp "$T/config.json" "$T/vb/config.json"
cp "$T/config.json" "$T/cb/config.json"
jq -n '{args: ["/bin/true"], cwd: "/", env: ["PATH=/bin"], user: {uid: 0, gid: 0}}' > "$T/true.json"
ms() { awk "BEGIN { printf \"%.2f\", $1 / 1000 }"; }

# --- ocivm: one daemon, one running container
mkdir -p "$M"; "$BIN" --state-dir "$T/state" "$M" || die "mount failed"
echo "ocivm: $(head -n 1 "$M/hypervisor")"
C=$M/containers/benchexec
ln -s "$T/vb" "$C" || die "create failed: $(tail -n 1 "$M/log")"
echo start > "$C/ctl" || die "start failed: $(cat "$C/vm/last_error" 2>/dev/null)"
[ -d "$C/exec" ] || { echo "bench/exec: skipped: the tree has no ID/exec/ (issue 12 items 1-3)"; exit 0; }
"$ET" "$C" "$T/true.json" 3 >/dev/null || die "exec failed: $(tail -n 2 "$M/log")"   # warm
read -r ocivm_us write_us spawn_us guest_us over_us over_min_us < <("$ET" "$C" "$T/true.json" "$N") &&
	[ -n "${over_min_us:-}" ] || die "exec failed: $(tail -n 2 "$M/log")"
cli_us=$("$CT" spawn "$N" "$OCIVM" --root "$M" exec benchexec /bin/true) || die "ocivm exec failed"
echo "delete force" > "$C/ctl"

# --- the peer: the same rootfs, a host container (cgroups off: this host's
# hybrid hierarchy is not crun's; a private cgroup2 mount, as bench/relay)
peer_us=$(unshare -m --propagation private bash -c '
	mountpoint -q /sys/fs/cgroup && [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ] &&
		mount -t cgroup2 none /sys/fs/cgroup 2>/dev/null
	P="$1 --root $2/peer"; [ "$(basename "$1")" = crun ] && P="$1 --cgroup-manager=disabled --root $2/peer"
	$P run -d --bundle "$2/cb" benchexec >/dev/null 2>&1 </dev/null || { echo "ERR run failed"; exit 0; }
	"$3" spawn 3 $P exec benchexec /bin/true >/dev/null || { echo "ERR exec failed"; exit 0; }
	"$3" spawn "$4" $P exec benchexec /bin/true || echo "ERR exec failed"
	$P delete -f benchexec >/dev/null 2>&1' _ "$PEER" "$T" "$CT" "$N")
case $peer_us in ERR*|"") die "$(basename "$PEER"): ${peer_us:-no result}";; esac
floor_us=$("$CT" spawn "$N" /bin/true)

[ "$spawn_us" = na ] && die "the tree gives no ID/exec/NAME/times (an initrd older than protocol 4?)"
echo "exec of /bin/true, median of $N:"
echo "  ocivm tree ctl->wait   $(ms "$ocivm_us") ms"
echo "    ctl write (STARTED)  $(ms "$write_us") ms"
echo "    guest: init EXEC->EXITED $(ms "$guest_us") ms, of which fork->reap (spawn) $(ms "$spawn_us") ms"
echo "    host + channel       $(ms "($ocivm_us - $guest_us)") ms (ctl->wait minus init's EXEC->EXITED)"
echo "    per exec, ctl->wait minus its spawn: median $(ms "$over_us") ms, smallest $(ms "$over_min_us") ms"
echo "  ocivm exec (CLI)       $(ms "$cli_us") ms"
echo "  $(basename "$PEER") exec             $(ms "$peer_us") ms"
echo "  host fork+exec (floor) $(ms "$floor_us") ms"
echo "exec ocivm_ms=$(ms "$ocivm_us") peer_ms=$(ms "$peer_us") ratio=$(awk "BEGIN { printf \"%.2f\", $ocivm_us / $peer_us }") spawn_ms=$(ms "$spawn_us") overhead_ms=$(ms "($ocivm_us - $spawn_us)")"
