#!/bin/sh
# bench/stat.sh: what a stat of a container's generated files costs (issue
# 16 point 8: a stat rendered the whole text to give its size).  One busybox
# VM created through the tree from a bundle with ANN annotations of 100
# bytes (default 250; ops takes at most 256), then N stats (default
# 2000) of state, config.json and status, each file through python's
# os.stat, warm; the daemon and its kernel/initrd as BIN KERNEL INITRD
# (defaults: $BUILD's), so an older build can be measured in the same run.
# Last line: stat state_us=<a> config_us=<b> status_us=<c> state_bytes=<n> config_bytes=<m>
set -eu
BUILD=${BUILD:-build}
BIN=${1:-$BUILD/bin/ocivmfs}
KERNEL=${2:-$BUILD/guest/vmlinuz}
INITRD=${3:-$BUILD/guest/initrd.img}
N=${N:-2000} ANN=${ANN:-250}
for f in "$BIN" "$KERNEL" "$INITRD" "$BUILD/bundle/busybox/config.json"; do
	[ -e "$f" ] || { echo "stat: $f missing (make all guest)"; exit 1; }
done
T=$(mktemp -d /tmp/ocivm-statbench.XXXXXX)
M=$T/m
cleanup() {
	[ -d "$M/containers/s" ] && echo "delete force" > "$M/containers/s/ctl" 2>/dev/null
	mountpoint -q "$M" && fusermount3 -u "$M"
	rm -rf "$T"
}
trap cleanup EXIT
cp -a "$BUILD/bundle/busybox" "$T/b"
python3 - "$T/b/config.json" "$ANN" <<'PY'
import json, sys
p, n = sys.argv[1], int(sys.argv[2])
c = json.load(open(p))
c.setdefault("annotations", {}).update({"org.example.bench.k%04d" % i: "v" * 77 for i in range(n)})
json.dump(c, open(p, "w"))
PY
mkdir -p "$M"
"$BIN" --state-dir "$T/state" --kernel "$(realpath "$KERNEL")" --initrd "$(realpath "$INITRD")" "$M"
ln -s "$T/b" "$M/containers/s" || { tail -3 "$M/log"; exit 1; }
python3 - "$M/containers/s" "$N" <<'PY'
import os, sys, time
d, n = sys.argv[1], int(sys.argv[2])
res = {}
for f in ("state", "config.json", "status"):
    p = os.path.join(d, f)
    for _ in range(50):
        os.stat(p)
    t = time.perf_counter()
    for _ in range(n):
        st = os.stat(p)
    res[f] = ((time.perf_counter() - t) / n * 1e6, st.st_size)
    assert st.st_size == len(open(p, "rb").read()), f
print("stat state_us=%.1f config_us=%.1f status_us=%.1f state_bytes=%d config_bytes=%d" %
      (res["state"][0], res["config.json"][0], res["status"][0], res["state"][1], res["config.json"][1]))
PY
