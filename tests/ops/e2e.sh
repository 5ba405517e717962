#!/usr/bin/env bash
# ops/ end to end over the real VM drivers (QEMU/TCG here), without FUSE:
# tests/ops/ops_e2e.c creates, starts, feeds, waits for and deletes a
# busybox container, then checks a failing create leaves nothing behind.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
BIN=$BUILD/tests/ops-e2e
for f in "$BIN" "$BUILD/guest/vmlinuz" "$BUILD/guest/initrd.img" "$BUILD/bundle/busybox/rootfs"; do
	if [ ! -e "$f" ]; then
		echo "skip - ops e2e: $f missing (run: make BUILD=$BUILD all guest)"
		echo "0 passed, 0 failed, 1 skipped"; exit 0
	fi
done
T=$(mktemp -d /tmp/ops-e2e.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/bundle" "$T/bad"
ROOTFS=$(realpath "$BUILD/bundle/busybox/rootfs")
cat > "$T/bundle/config.json" <<JSON
{ "ociVersion": "1.2.0",
  "root": { "path": "$ROOTFS", "readonly": false },
  "process": { "terminal": false, "user": { "uid": 0, "gid": 0 }, "cwd": "/",
    "args": [ "sh", "-c", "echo hello-ops; echo rw-ok > /rwcheck && cat /rwcheck; read x; echo got \$x; exit 7" ],
    "env": [ "PATH=/bin:/sbin:/usr/bin" ] },
  "hostname": "opse2e",
  "mounts": [ { "destination": "/proc", "type": "proc", "source": "proc" } ] }
JSON
sed 's|"hostname"|"vm": { "kernel": { "path": "/nonexistent/vmlinuz" } }, "hostname"|' \
	"$T/bundle/config.json" > "$T/bad/config.json"
exec "$BIN" "$T/state" "$(realpath "$BUILD/guest/vmlinuz")" "$(realpath "$BUILD/guest/initrd.img")" \
	"$T/bundle" "$T/bad"
