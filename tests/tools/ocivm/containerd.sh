#!/usr/bin/env bash
# containerd uses ocivm through its runc shim (io.containerd.runc.v2):
#   ctr run --rm --runc-binary $BUILD/bin/ocivm IMAGE t1 uname -r
# with a private containerd (own root, state and socket under a temp dir) and
# an image imported from a local busybox tarball (via podman save; nothing is
# pulled).  The tree is mounted first under the shim's runc root
# (/run/containerd/runc/NAMESPACE), so the daemon is not adopted by the shim.
set -u
BUILD=${BUILD:-build}
OCIVM=$(realpath -m "$BUILD/bin/ocivm")
OCIVMFS=$(realpath -m "$BUILD/bin/ocivmfs")
NS=ocivm-test
ROOT=/run/containerd/runc/$NS
pass=0 fail=0 skip=0
finish() {
	if [ -n "${tmp:-}" ]; then
		ctr -a "$tmp/sock" -n $NS tasks kill -s KILL t1 >/dev/null 2>&1
		ctr -a "$tmp/sock" -n $NS containers rm t1 >/dev/null 2>&1
		ctr -a "$tmp/sock" -n $NS tasks kill -s KILL t2 >/dev/null 2>&1
		ctr -a "$tmp/sock" -n $NS tasks rm -f t2 >/dev/null 2>&1
		ctr -a "$tmp/sock" -n $NS containers rm t2 >/dev/null 2>&1
		[ -n "${ctd:-}" ] && kill "$ctd" 2>/dev/null && wait "$ctd" 2>/dev/null
		mountpoint -q "$ROOT/mnt" 2>/dev/null &&
			{ fusermount3 -u "$ROOT/mnt" 2>/dev/null || fusermount3 -uz "$ROOT/mnt"; }
		"${P[@]}" system reset -f >/dev/null 2>&1
		rm -rf "$tmp" "$ROOT"
	fi
	echo "$pass passed, $fail failed, $skip skipped"
	exit $(( fail > 0 ))   # a bare exit in an EXIT trap keeps the status before the trap
}
trap finish EXIT
skp() { echo "skip $1: $2"; skip=$((skip + 1)); exit 0; }

command -v containerd >/dev/null && command -v ctr >/dev/null ||
	skp "ctr run" "containerd is not installed (apt-get install containerd)"
command -v containerd-shim-runc-v2 >/dev/null || skp "ctr run" "no containerd-shim-runc-v2"
command -v podman >/dev/null || skp "ctr run" "podman is needed to build the OCI image archive"
[ -x "$OCIVM" ] || skp "ctr run" "no $OCIVM"
[ -c /dev/fuse ] || skp "ctr run" "no /dev/fuse"
BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] || skp "ctr run" "no busybox binary"
mode=real
if [ ! -x "$OCIVMFS" ]; then
	mode=fake
	echo "skip real tree: no $OCIVMFS (fs/ daemon not built): using the test double"
	skip=$((skip + 1))
	OCIVMFS=$(realpath -m "$BUILD/bin/ocivm-faketree")
	[ -x "$OCIVMFS" ] || skp "ctr run" "no $OCIVMFS either"
fi
mountpoint -q "$ROOT/mnt" 2>/dev/null && skp "ctr run" "$ROOT/mnt is in use"

tmp=$(mktemp -d /tmp/ocivm-ctr.XXXXXX)
# own --tmpdir: system reset (finish) removes it whole, and the default
# /run/libpod holds the exit files of every podman on the machine
P=(podman --root "$tmp/storage" --runroot "$tmp/run" --tmpdir "$tmp/libpod" --storage-driver vfs)
mkdir -p "$tmp/rootfs/bin"
cp "$BUSYBOX" "$tmp/rootfs/bin/busybox"
for t in sh echo cat uname sleep; do ln -s busybox "$tmp/rootfs/bin/$t"; done
tar -C "$tmp/rootfs" -cf "$tmp/busybox.tar" .
cat >"$tmp/config.toml" <<TOML
version = 2
root = "$tmp/root"
state = "$tmp/state"
[grpc]
  address = "$tmp/sock"
TOML
containerd --config "$tmp/config.toml" >"$tmp/containerd.log" 2>&1 &
ctd=$!
for i in $(seq 1 100); do ctr -a "$tmp/sock" version >/dev/null 2>&1 && break; sleep 0.1; done
C=(ctr -a "$tmp/sock" -n $NS)
if "${P[@]}" import "$tmp/busybox.tar" localhost/ocivm-busybox >/dev/null 2>&1 &&
   "${P[@]}" save --format oci-archive -o "$tmp/oci.tar" localhost/ocivm-busybox >/dev/null 2>&1 &&
   "${C[@]}" images import --base-name localhost/ocivm-busybox "$tmp/oci.tar" >/dev/null 2>&1; then
	echo "ok   image imported into containerd"; pass=$((pass + 1))
else
	echo "FAIL image import (containerd log: $(tail -1 "$tmp/containerd.log"))"; fail=$((fail + 1)); exit
fi
"$OCIVM" --root "$ROOT" --ocivmfs "$OCIVMFS" mount >/dev/null ||
	{ echo "FAIL ocivm mount"; fail=$((fail + 1)); exit; }

out=$(timeout 900 "${C[@]}" run --rm --runc-binary "$OCIVM" localhost/ocivm-busybox:latest t1 \
	sh -c 'echo hello; uname -r' 2>"$tmp/run.err")
rc=$?
want=hello
[ "$mode" = real ] && want=$(printf 'hello\n%s' "$(cat "$BUILD/guest/release" 2>/dev/null)")
if [ "$rc" = 0 ] && { [ "$out" = "$want" ] || { [ "$mode" = fake ] && grep -qx hello <<<"$out"; }; }; then
	echo "ok   ctr run --runc-binary ocivm: $(tr '\n' ' ' <<<"$out")"; pass=$((pass + 1))
else
	echo "FAIL ctr run: rc=$rc out='$out' err: $(tail -2 "$tmp/run.err" | tr '\n' ' ')"
	fail=$((fail + 1))
fi
# ctr task exec into a running task (the shim runs `ocivm exec --process F
# --detach --pid-file P t2`)
if timeout 900 "${C[@]}" run -d --runc-binary "$OCIVM" localhost/ocivm-busybox:latest t2 \
	sleep 1000 >/dev/null 2>"$tmp/run2.err"; then
	if [ ! -d "$ROOT/mnt/containers/t2/exec" ]; then
		echo "skip ctr task exec: the tree has no ID/exec/ (issue 12 items 1-3)"; skip=$((skip + 1))
	else
		out=$(timeout 600 "${C[@]}" task exec --exec-id e1 t2 sh -c 'echo hi-exec; exit 4' 2>"$tmp/x.err")
		rc=$?
		if [ "$out" = hi-exec ] && [ "$rc" = 4 ]; then
			echo "ok   ctr task exec: output and exit status 4"; pass=$((pass + 1))
		else
			echo "FAIL ctr task exec: rc=$rc out='$out' err: $(tail -2 "$tmp/x.err" | tr '\n' ' ')"
			fail=$((fail + 1))
		fi
	fi
	"${C[@]}" tasks kill -s KILL t2 >/dev/null 2>&1
	for i in $(seq 1 100); do "${C[@]}" tasks rm t2 >/dev/null 2>&1 && break; sleep 0.1; done
	"${C[@]}" containers rm t2 >/dev/null 2>&1
else
	echo "FAIL ctr run -d: $(tail -2 "$tmp/run2.err" | tr '\n' ' ')"; fail=$((fail + 1))
fi
for i in $(seq 1 100); do [ -z "$(ls "$ROOT/mnt/containers" 2>/dev/null)" ] && break; sleep 0.1; done
if [ -z "$(ls "$ROOT/mnt/containers" 2>/dev/null)" ]; then
	echo "ok   the shim deleted the container from the tree"; pass=$((pass + 1))
else
	echo "FAIL left in the tree: $(ls "$ROOT/mnt/containers")"; fail=$((fail + 1))
fi
