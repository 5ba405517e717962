#!/usr/bin/env bash
# System test: runtime-spec points a VM must not excuse (issue 18), through
# `ocivm run` on the real tree (QEMU/TCG here, one boot per case):
# - linux.resources.memory.limit is the container's cgroup memory.max in
#   the guest, not the VM's RAM: 16, 48.25, 64 and 128 MiB limits boot, the
#   process sees its limit, one that allocates past it is OOM-killed (137)
#   while the VM lives on;
# - linux.uidMappings/gidMappings with a user namespace: the process reads
#   them in /proc/self/{uid,gid}_map, is root inside and owns nothing of the
#   (unmapped) rootfs; mappings without a user namespace are refused.
# Prints one line per case and "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/../../.." || exit 1
BUILD=${BUILD:-build}
OCIVM=$(realpath -m "$BUILD/bin/ocivm")
OCIVMFS=$(realpath -m "$BUILD/bin/ocivmfs")
BUNDLE=$(realpath -m "$BUILD/bundle/busybox")
pass=0 fail=0 skip=0
ok()   { echo "ok   $1"; pass=$((pass + 1)); }
bad()  { echo "FAIL $1${2:+: $2}"; fail=$((fail + 1)); }
skp()  { echo "skip $1: $2"; skip=$((skip + 1)); }
summary() { echo "$pass passed, $fail failed, $skip skipped"; [ "$fail" = 0 ]; }

for f in "$OCIVM" "$OCIVMFS" "$BUILD/guest/vmlinuz" "$BUILD/guest/initrd.img" "$BUNDLE/config.json"; do
	[ -e "$f" ] || { skp all "$f missing (run: make all guest)"; summary; exit 0; }
done
[ -c /dev/fuse ] || { skp all "no /dev/fuse"; summary; exit 0; }
command -v python3 >/dev/null || { skp all "python3 needed to edit config.json"; summary; exit 0; }
tmp=$(mktemp -d /tmp/ocivm-conf.XXXXXX)
root=$tmp/root mnt=$tmp/root/mnt
export OCIVMFS
finish() {
	if mountpoint -q "$mnt" 2>/dev/null; then
		for c in $(ls "$mnt/containers" 2>/dev/null); do
			"$OCIVM" --root "$root" delete --force "$c" >/dev/null 2>&1
		done
		fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -uz "$mnt" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap finish EXIT

# mkbundle DIR ARGS-JSON PATCH-PY: the busybox bundle's config with other
# args, then PATCH-PY (python statements on the dict c)
mkbundle() {
	mkdir -p "$1"
	python3 - "$BUNDLE/config.json" "$1/config.json" "$2" "$BUNDLE/rootfs" "$3" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["args"] = json.loads(sys.argv[3])
c["process"]["terminal"] = False
c["root"]["path"] = sys.argv[4]
exec(sys.argv[5])
json.dump(c, open(sys.argv[2], "w"))
PY
}
# run NAME BUNDLE: ocivm run, stdout+stderr in $tmp/NAME.out, status in $rc
run() {
	timeout 600 "$OCIVM" --root "$root" run --bundle "$2" "$1" >"$tmp/$1.out" 2>&1 </dev/null
	rc=$?
}

# ---- memory.limit: the container's cgroup, not the VM's RAM ----------------
CGMOUNT='c["mounts"].append({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
  "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]})'
for lim in 16777216 50593792 67108864 134217728; do
	mib=$(( (lim + 1048575) / 1048576 ))
	limit="c.setdefault('linux', {}).setdefault('resources', {})['memory'] = {'limit': $lim}"
	mkbundle "$tmp/m$mib" '["sh","-c","echo max=$(cat /sys/fs/cgroup/memory.max); echo cg=$(cat /proc/self/cgroup); echo alive"]' \
		"$limit
$CGMOUNT"
	run "m$mib" "$tmp/m$mib"
	if [ "$rc" = 0 ] && grep -qx "max=$lim" "$tmp/m$mib.out" && grep -qx 'cg=0::/' "$tmp/m$mib.out"; then
		ok "memory.limit $lim: boots, the process sees memory.max $lim in its own cgroup"
	else
		bad "memory.limit $lim: boots, the process sees memory.max $lim in its own cgroup" "rc=$rc $(tr '\n' ' ' < "$tmp/m$mib.out" | tail -c 400)"
	fi
	# past the limit: the process is OOM-killed (SIGKILL, 137), not the VM;
	# a shell in the same cgroup sees its child killed and reports it
	mkbundle "$tmp/o$mib" '["sh","-c","sh -c '\''s=xxxxxxxxxxxxxxxx; while :; do s=$s$s; done'\''; echo child=$?; grep oom_kill /sys/fs/cgroup/memory.events; exec sh -c '\''s=xxxxxxxxxxxxxxxx; while :; do s=$s$s; done'\''"]' \
		"$limit
$CGMOUNT"
	run "o$mib" "$tmp/o$mib"
	if [ "$rc" = 137 ] && grep -qx 'child=137' "$tmp/o$mib.out" && grep -q '^oom_kill [1-9]' "$tmp/o$mib.out"; then
		ok "memory.limit $lim: allocating past it is OOM-killed in the cgroup (137), the VM lives on"
	else
		bad "memory.limit $lim: allocating past it is OOM-killed in the cgroup (137), the VM lives on" "rc=$rc $(tr '\n' ' ' < "$tmp/o$mib.out" | tail -c 400)"
	fi
done

# ---- user namespace with mappings --------------------------------------------
USERNS='c["linux"]["namespaces"].append({"type": "user"})
c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 1000, "size": 10}]
c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 2000, "size": 10}]'
mkbundle "$tmp/u1" '["sh","-c","echo uid_map $(cat /proc/self/uid_map); echo gid_map $(cat /proc/self/gid_map); echo id $(id -u) $(id -g); echo bin-owner $(stat -c %u /bin)"]' "$USERNS"
run u1 "$tmp/u1"
if [ "$rc" = 0 ] && grep -qx 'uid_map 0 1000 10' "$tmp/u1.out" && grep -qx 'gid_map 0 2000 10' "$tmp/u1.out" &&
   grep -qx 'id 0 0' "$tmp/u1.out" && grep -qx 'bin-owner 65534' "$tmp/u1.out"; then
	ok "user namespace: /proc/self/uid_map and gid_map are the config's mappings, root inside"
else
	bad "user namespace: /proc/self/uid_map and gid_map are the config's mappings, root inside" "rc=$rc $(tr '\n' ' ' < "$tmp/u1.out" | tail -c 400)"
fi
mkbundle "$tmp/u2" '["true"]' 'c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 1000, "size": 10}]
c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 1000, "size": 10}]'
run u2 "$tmp/u2"
if [ "$rc" = 1 ] && grep -q 'linux.uidMappings: mappings need a user namespace' "$tmp/u2.out"; then
	ok "mappings without a user namespace: refused at create"
else
	bad "mappings without a user namespace: refused at create" "rc=$rc $(tr '\n' ' ' < "$tmp/u2.out" | tail -c 400)"
fi

summary
