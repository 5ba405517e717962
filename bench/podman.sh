#!/usr/bin/env bash
# make bench: ocivm side by side with crun, both driven by podman, and the
# CLI's own cost over a bare file read.  Medians of N runs; the last line is
# the headline (podman run --rm ... true: ocivm time / crun time).
set -u
BUILD=${BUILD:-build}
OCIVM=$(realpath -m "$BUILD/bin/ocivm")
OCIVMFS=$(realpath -m "$BUILD/bin/ocivmfs")
N=${N:-3}
ROOT=/run/ocivm
for need in podman crun busybox; do
	command -v $need >/dev/null || { echo "bench ocivm: skipped ($need not installed)"; exit 0; }
done
[ -x "$OCIVM" ] && [ -x "$OCIVMFS" ] || { echo "bench ocivm: skipped (no $OCIVM or $OCIVMFS)"; exit 0; }
mountpoint -q "$ROOT/mnt" && { echo "bench ocivm: skipped ($ROOT/mnt in use)"; exit 0; }

tmp=$(mktemp -d /tmp/ocivm-bench.XXXXXX)
P=(podman --root "$tmp/storage" --runroot "$tmp/run" --storage-driver vfs)
cleanup() {
	"${P[@]}" system reset -f >/dev/null 2>&1
	mountpoint -q "$ROOT/mnt" && { fusermount3 -u "$ROOT/mnt" || fusermount3 -uz "$ROOT/mnt"; }
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/rootfs/bin"
cp "$(command -v busybox)" "$tmp/rootfs/bin/busybox"
for t in sh true; do ln -s busybox "$tmp/rootfs/bin/$t"; done
tar -C "$tmp/rootfs" -cf "$tmp/bb.tar" .
"${P[@]}" import "$tmp/bb.tar" localhost/ocivm-bench >/dev/null 2>&1
"$OCIVM" --root "$ROOT" --ocivmfs "$OCIVMFS" mount >/dev/null

now() { date +%s.%N; }
calc() { awk "BEGIN { print $1 }"; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_runs() { # N command...: median seconds
	for i in $(seq "$N"); do
		s=$(now); "$@" >/dev/null 2>&1; e=$(now)
		calc "$e - $s"
	done | median
}
"${P[@]}" --runtime "$OCIVM" run --rm localhost/ocivm-bench true >/dev/null 2>&1 # warm the image cache
crun_s=$(time_runs "${P[@]}" --runtime crun run --rm localhost/ocivm-bench true)
ocivm_s=$(time_runs "${P[@]}" --runtime "$OCIVM" run --rm localhost/ocivm-bench true)

# CLI overhead: `ocivm state` vs `cat MOUNT/containers/ID/state`, 100 each
mkdir -p "$tmp/b" && "$OCIVM" spec -b "$tmp/b" 2>/dev/null
python3 - "$tmp/b/config.json" "$tmp/rootfs" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["root"]["path"] = sys.argv[2]
c["process"]["args"] = ["sh", "-c", "read x"]
json.dump(c, open(sys.argv[1], "w"))
PY
"$OCIVM" --root "$ROOT" create -b "$tmp/b" benchc </dev/null >/dev/null 2>&1
s=$(now); for i in $(seq 100); do "$OCIVM" --root "$ROOT" state benchc >/dev/null; done; e=$(now)
state_ms=$(calc "($e - $s) * 10")
s=$(now); for i in $(seq 100); do cat "$ROOT/mnt/containers/benchc/state" >/dev/null; done; e=$(now)
cat_ms=$(calc "($e - $s) * 10")
"$OCIVM" --root "$ROOT" delete --force benchc

printf 'ocivm state: %.2f ms, cat state: %.2f ms (ratio %.2f)\n' "$state_ms" "$cat_ms" \
	"$(calc "$state_ms / $cat_ms")"
printf 'podman run --rm IMAGE true (median of %d): crun %.2f s, ocivm %.2f s\n' "$N" "$crun_s" "$ocivm_s"
printf 'podman run --rm, ocivm (a VM, %s) / crun: %.1fx\n' \
	"$(cat "$ROOT/mnt/hypervisor" 2>/dev/null | cut -d: -f1 | head -1)" \
	"$(calc "$ocivm_s / $crun_s")"
