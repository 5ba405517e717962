#!/usr/bin/env bash
# podman uses ocivm as its runtime: a busybox rootfs tarball is imported
# locally (nothing is pulled), then
#   podman --runtime $BUILD/bin/ocivm run --rm IMAGE echo hello
# must print hello.  podman runs with its own storage under a temp dir
# (vfs driver), so the host's images and containers are not touched.
set -u
BUILD=${BUILD:-build}
OCIVM=$(realpath -m "$BUILD/bin/ocivm")
OCIVMFS=$(realpath -m "$BUILD/bin/ocivmfs")
pass=0 fail=0 skip=0
finish() {
	if [ -n "${tmp:-}" ]; then
		"${P[@]}" rm -af >/dev/null 2>&1
		mountpoint -q "$tmp/ocivm/mnt" 2>/dev/null && fusermount3 -u "$tmp/ocivm/mnt"
		"${P[@]}" system reset -f >/dev/null 2>&1
		rm -rf "$tmp"
	fi
	echo "$pass passed, $fail failed, $skip skipped"
	[ "$fail" = 0 ]
	exit
}
trap finish EXIT
skp() { echo "skip $1: $2"; skip=$((skip + 1)); exit 0; }

command -v podman >/dev/null || skp "podman run" "podman is not installed"
[ -x "$OCIVM" ] || skp "podman run" "no $OCIVM"
[ -c /dev/fuse ] || skp "podman run" "no /dev/fuse"
if [ ! -x "$OCIVMFS" ]; then
	# The fs/ daemon is not built: podman <-> ocivm is still checked, against
	# the tree's test double (the "container" is a host process, no VM).
	echo "skip real tree: no $OCIVMFS (fs/ daemon not built): using the test double"
	skip=$((skip + 1))
	OCIVMFS=$(realpath -m "$BUILD/bin/ocivm-faketree")
	[ -x "$OCIVMFS" ] || skp "podman run" "no $OCIVMFS either"
fi
BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] || skp "podman run" "no busybox binary (apt-get install busybox-static)"
file -L "$BUSYBOX" 2>/dev/null | grep -q dynamic && skp "podman run" "busybox is not static"

tmp=$(mktemp -d /tmp/ocivm-podman.XXXXXX)
P=(podman --root "$tmp/storage" --runroot "$tmp/run" --storage-driver vfs
   --runtime "$OCIVM" --runtime-flag "root=$tmp/ocivm"
   ${OCIVMFS:+--runtime-flag "ocivmfs=$OCIVMFS"})

# a minimal busybox rootfs tarball
mkdir -p "$tmp/rootfs/bin" "$tmp/rootfs/proc" "$tmp/rootfs/sys" "$tmp/rootfs/dev" \
	"$tmp/rootfs/etc" "$tmp/rootfs/tmp"
cp "$BUSYBOX" "$tmp/rootfs/bin/busybox"
for t in sh echo cat ls sleep; do ln -s busybox "$tmp/rootfs/bin/$t"; done
tar -C "$tmp/rootfs" -cf "$tmp/busybox.tar" .
if "${P[@]}" import "$tmp/busybox.tar" localhost/ocivm-busybox >/dev/null 2>"$tmp/import.err"; then
	echo "ok   podman import busybox"; pass=$((pass + 1))
else
	echo "FAIL podman import: $(tail -1 "$tmp/import.err")"; fail=$((fail + 1)); exit
fi

out=$(timeout 900 "${P[@]}" run --rm localhost/ocivm-busybox echo hello 2>"$tmp/run.err")
rc=$?
if [ "$rc" = 0 ] && [ "$out" = hello ]; then
	echo "ok   podman --runtime ocivm run --rm IMAGE echo hello"; pass=$((pass + 1))
else
	echo "FAIL podman run: rc=$rc out='$out' err: $(tail -3 "$tmp/run.err" | tr '\n' ' ')"
	fail=$((fail + 1))
fi
