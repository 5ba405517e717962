#!/usr/bin/env bash
# The README's main command (`make demo` runs it with the build dir as $1):
# mounts the ocivmfs tree in a temp dir and runs the bundled busybox
# container through it with plain file operations, printing each one.
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/.." || exit 1
BIN=$BUILD/bin/ocivmfs
BUNDLE=$BUILD/bundle/busybox

die() { echo "demo: $*" >&2; exit 1; }
say() { printf '\n# %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
sh_run() { printf '$ %s\n' "$1"; bash -c "$1"; }

[ -x "$BIN" ] || die "$BIN missing: run make BUILD=$BUILD all"
for f in vmlinuz initrd.img; do
	[ -e "$BUILD/guest/$f" ] || die "$BUILD/guest/$f missing: run make BUILD=$BUILD guest"
done
if [ ! -f "$BUNDLE/config.json" ]; then
	tools/bundle/mkbundle.sh "$BUNDLE" || die "could not build the busybox bundle"
fi
BUNDLE=$(realpath "$BUNDLE")
T=$(mktemp -d /tmp/ocivmfs-demo.XXXXXX)
M=$T/mnt C=$T/mnt/containers/demo
mkdir -p "$M"
cleanup() {
	[ -d "$C" ] && echo "delete force" > "$C/ctl" 2>/dev/null
	mountpoint -q "$M" && fusermount3 -u "$M"
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "demo: $* failed; the daemon's log says:" >&2; tail -n 5 "$M/log" >&2; exit 1; }

say "mount the control tree (the daemon returns once mounted)"
run "$BIN" --state-dir "$T/state" "$M" || die "mount failed"
run ls "$M"
run cat "$M/hypervisor"
say "create the container from the bundle: ln -s returns once the VM is booted"
run ln -s "$BUNDLE" "$C" || fail "create"
run ls "$C"
run cat "$C/status"
say "start it (process: sh, reading its stdin) and give it a script"
sh_run "echo start > $C/ctl" || fail "start"
run cat "$C/status"
sh_run "printf 'echo hello from busybox in a VM; uname -sr; exit 3\n' > $C/stdin" || fail "stdin"
say "its output; cat blocks for more while it runs and ends when it stops"
run timeout 120 cat "$C/stdout"
say "wait blocks until it stops, then gives the exit status"
run timeout 120 cat "$C/wait" || fail "wait"
run cat "$C/exit"
run cat "$C/state"
run cat "$C/vm/timings"
say "delete it, then unmount"
run rmdir "$C" || fail "rmdir"
run ls "$M/containers"
run tail -n 4 "$M/log"
run fusermount3 -u "$M"
echo; echo "demo: done"
