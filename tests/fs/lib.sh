# Helpers of the fs/ tree tests (sourced).  Each case prints one line;
# summary() prints "N passed, N failed, N skipped" and sets the exit status.
PASS=0 FAIL=0 SKIP=0
ok()   { PASS=$((PASS + 1)); echo "ok   - $*"; }
bad()  { FAIL=$((FAIL + 1)); echo "FAIL - $*"; }
skip() { SKIP=$((SKIP + 1)); echo "skip - $*"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
# check_with TOOL NAME CMD...: like check, skipped when TOOL is not installed
check_with() {
	local tool=$1; shift
	if command -v "$tool" >/dev/null; then check "$@"; else skip "$1 (needs $tool)"; fi
}
summary() {
	echo "$PASS passed, $FAIL failed, $SKIP skipped"
	[ "$FAIL" -eq 0 ]
}

# expect_err NAME "strerror text" CMD...: CMD fails and says that text
expect_err() {
	local name=$1 want=$2 out; shift 2
	if out=$( ("$@") 2>&1 ); then
		bad "$name (succeeded; expected \"$want\")"
	elif [[ "$out" == *"$want"* ]]; then
		ok "$name"
	else
		bad "$name (got: $out)"
	fi
}

# wait_until SECONDS CMD...: poll CMD every 50 ms (for conditions, not timing)
wait_until() {
	local t=$(( $1 * 20 )); shift
	while [ "$t" -gt 0 ]; do "$@" 2>/dev/null && return 0; sleep 0.05; t=$((t - 1)); done
	return 1
}

is_mounted() { grep -q " $(realpath "$1") fuse" /proc/mounts; }

# mount_tree BINARY MOUNT STATE [args...]: starts the daemon (it returns
# once mounted); unmount_tree MOUNT
# OCIVMFS_TEST_MOUNT_ARGS: more options for every mount (e.g. "--templates
# off" to run a layer's tests with cold boots; templates are the default
# under QEMU/TCG)
mount_tree() {
	local bin=$1 mnt=$2 state=$3; shift 3
	# shellcheck disable=SC2086 # word splitting wanted
	set -- ${OCIVMFS_TEST_MOUNT_ARGS:-} "$@"
	mkdir -p "$mnt" "$state" 2>/dev/null   # a dead mount says ENOTCONN here
	if [ -n "${OCIVMFS_TEST_LOG:-}" ]; then   # keep the daemon's stderr (ASan reports)
		"$bin" --foreground --state-dir "$state" "$@" "$mnt" >> "$OCIVMFS_TEST_LOG" 2>&1 &
		wait_until 10 test -e "$mnt/README"   # not is_mounted: a dead mount counts there
		return
	fi
	"$bin" --state-dir "$state" "$@" "$mnt"
}
unmount_tree() {
	is_mounted "$1" && fusermount3 -u "$1"
	wait_until 10 eval '! is_mounted "$1"'
}

# can_fuse: prints why not and returns 1 when /dev/fuse cannot be used
can_fuse() {
	if [ ! -c /dev/fuse ]; then echo "no /dev/fuse"; return 1; fi
	if [ ! -r /dev/fuse ] || [ ! -w /dev/fuse ]; then echo "/dev/fuse is not usable by $(id -un)"; return 1; fi
	if ! command -v fusermount3 >/dev/null; then echo "no fusermount3 (apt-get install fuse3)"; return 1; fi
	return 0
}

# need_vm FILE...: the VM layers' preamble: with no usable /dev/fuse or any
# FILE missing, print why, count everything as skipped and exit 0 (the
# Makefile's run-checks fails that under make test, which built them all)
need_vm() {
	local why f
	if ! why=$(can_fuse); then echo "skip - all: $why"; SKIP=1; summary; exit 0; fi
	for f in "$@"; do
		if [ ! -e "$f" ]; then
			echo "skip - all: $f missing (run: make BUILD=${BUILD:-build} all guest)"
			SKIP=1; summary; exit 0
		fi
	done
}

make_bundle() {   # make_bundle DIR [config text]
	local def='{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"args":["/bin/sh"],"cwd":"/"}}'
	mkdir -p "$1/rootfs/bin"
	printf '%s\n' "${2:-$def}" > "$1/config.json"   # not ${2:-{...}}: its first } ends it
	echo hi > "$1/rootfs/bin/file"
	ln -sf file "$1/rootfs/bin/link"
}
