#!/usr/bin/env bash
# Fast tests of the mounted tree, driven only by file operations on a real
# /dev/fuse mount in a temp dir.  Part 1 runs the daemon over a fake ops/
# (tests/fs/fake_ops.c: containers without VMs) to cover the whole tree:
# errors, ids, permissions, events, log, blocking reads, incoming/, 16
# concurrent writers, ENOSPC, restart.  Part 2 runs the real ocivmfs over
# the real ops/ on the cases that need no VM (tests/fs/cases-real.sh).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/fs/lib.sh
BUILD=${BUILD:-build}
FAKE=$BUILD/tests/fs/ocivmfs-fakeops
REAL=$BUILD/bin/ocivmfs

if ! why=$(can_fuse); then
	echo "skip - all: $why"; SKIP=1; summary; exit 0
fi
ROOT=; [ "$(id -u)" = 0 ] && ROOT=1
T=$(mktemp -d /tmp/ocivmfs-test.XXXXXX)
chmod 755 "$T"
M=$T/m
cleanup() {
	for m in "$T"/m*; do is_mounted "$m" 2>/dev/null && fusermount3 -u "$m"; done
	for s in "$T"/small*; do mountpoint -q "$s" 2>/dev/null && umount "$s"; done
	rm -rf "$T"
}
trap cleanup EXIT
make_bundle "$T/b"
make_bundle "$T/nojson"; rm "$T/nojson/config.json"
make_bundle "$T/badjson" '{"ociVersion": "1.0.2", "root": '

. tests/fs/cases-errors.sh
. tests/fs/cases-life.sh
. tests/fs/cases-real.sh
. tests/fs/cases-hostile.sh
. tests/fs/cases-perm.sh

if [ ! -x "$FAKE" ]; then
	bad "fake daemon $FAKE missing (make BUILD=$BUILD all)"
else
	# a phase after which the daemon is gone ends the run (one line, not 100)
	phase() {
		"$@"
		if ! is_mounted "$M"; then
			bad "the daemon died during $1 (OCIVMFS_TEST_LOG=FILE keeps its stderr)"
			summary; exit 1
		fi
	}
	cases_state_dir "$FAKE" fake
	mount_tree "$FAKE" "$M" "$T/state" ${ROOT:+--allow-other} || { bad "mount (fake)"; summary; exit 1; }
	phase cases_static "$M" fake
	phase cases_errors "$M" fake
	phase cases_templates "$M"
	if [ -n "$ROOT" ]; then phase cases_permissions "$M" "$FAKE"; phase cases_privacy "$M" "$FAKE"
	else skip "perm: needs root (allow_other, setpriv to another user)"; fi
	phase cases_lifecycle "$M"
	phase cases_blocking "$M"
	phase cases_incoming "$M" "$T/state"
	phase cases_incoming_numbers "$M"
	phase cases_concurrent "$M"
	phase cases_commands_in_flight "$M"
	phase cases_creates_in_flight "$M"
	phase cases_sizes "$M"
	phase cases_create_fails_late "$M"
	phase cases_restart "$M" "$FAKE" "$T/state"
	unmount_tree "$M"
	if [ -n "$ROOT" ]; then cases_enospc "$FAKE"
	else skip "enospc: needs root (a small tmpfs as the state dir)"; fi
	if [ -n "$ROOT" ]; then cases_dead_mount_stuck "$FAKE"
	else skip "dead mount: needs root (to drop CAP_SYS_ADMIN)"; fi
fi

if [ -x "$REAL" ]; then
	real_bundles
	cases_state_dir "$REAL" real
	real_seed "$T/state-real"
	mount_tree "$REAL" "$T/mreal" "$T/state-real" --max-output 2 --cache-dir "$T/cache/images" ||
		bad "mount (real ocivmfs)"
	cases_static "$T/mreal" real
	cases_errors "$T/mreal" real
	cases_real "$T/mreal" "$T/state-real"
	cases_hostile "$T/mreal" "$T/state-real"
	unmount_tree "$T/mreal"
	cases_real_killed_build "$REAL"
	if [ -n "$ROOT" ]; then cases_real_enospc "$REAL"
	else skip "real enospc: needs root (a small tmpfs as the state dir)"; fi
else
	skip "real ocivmfs cases: $REAL not built"
fi
summary
