#!/usr/bin/env bash
# Slow test: the VM process of a container is confined (vm/driver/README.md
# "Confinement"): not root, no capabilities (bounding set included),
# no_new_privs, a seccomp filter, its own mount namespace with an empty
# root, rlimits, its own cgroup; the container still runs, and rmdir
# removes the cgroup.  Then the same with --no-confine, which must differ.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/fs/lib.sh
BUILD=${BUILD:-build}
BIN=$BUILD/bin/ocivmfs
BUNDLE=${OCIVMFS_TEST_BUNDLE:-$BUILD/bundle/busybox}

if ! why=$(can_fuse); then echo "skip - all: $why"; SKIP=1; summary; exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "skip - all: confinement needs a root daemon"; SKIP=1; summary; exit 0; fi
need_vm "$BIN" "$BUILD/guest/vmlinuz" "$BUILD/guest/initrd.img" "$BUNDLE/config.json"
T=$(mktemp -d /tmp/ocivmfs-confine.XXXXXX)
M=$T/m C=$T/m/containers/cf
cleanup() {
	[ -d "$C" ] && echo "delete force" > "$C/ctl" 2>/dev/null
	is_mounted "$M" && fusermount3 -u "$M"
	rm -rf "$T"
}
trap cleanup EXIT

status_field() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

expect_err "an unknown --vm-user is refused at mount" "no-such-user-h6: no such user" \
	"$BIN" --foreground --state-dir "$T/s0" --vm-user no-such-user-h6 "$T/m0"

mount_tree "$BIN" "$M" "$T/state" || { bad "mount"; summary; exit 1; }
echo "# $(cat "$M/hypervisor")"
check "hypervisor says VMs run confined" grep -q "VMs run confined as user" "$M/hypervisor"
check "ln -s creates the container (boots the VM)" ln -s "$(realpath "$BUNDLE")" "$C"
P=$(cat "$C/pid" 2>/dev/null)
echo "# driver $(cat "$C/vm/driver" 2>/dev/null), pid $P"
grep -E '^(Uid|Gid|Groups|Cap|NoNewPrivs|Seccomp)' "/proc/$P/status" | sed 's/^/# /'
check "Uid is not 0" test "$(status_field "$P" Uid)" != 0
check "Gid is not 0" test "$(status_field "$P" Gid)" != 0
check "CapEff is 0" test "$(status_field "$P" CapEff)" = 0000000000000000
check "CapPrm is 0" test "$(status_field "$P" CapPrm)" = 0000000000000000
check "CapBnd is 0 (bounding set emptied)" test "$(status_field "$P" CapBnd)" = 0000000000000000
check "NoNewPrivs is 1" test "$(status_field "$P" NoNewPrivs)" = 1
check "Seccomp is 2 (filter)" test "$(status_field "$P" Seccomp)" = 2
check "its own mount namespace" test "$(readlink "/proc/$P/ns/mnt")" != "$(readlink /proc/self/ns/mnt)"
# pid 1 of its own pid namespace: with the shared vm user of the default, an
# escaped VMM could otherwise signal or ptrace another VM's process
check "its own pid namespace, pid 1 in it (NSpid $(awk '$1 == "NSpid:"' "/proc/$P/status" | cut -f2-))" \
	eval "test \"\$(readlink /proc/$P/ns/pid)\" != \"\$(readlink /proc/self/ns/pid)\" && awk '\$1 == \"NSpid:\" { exit !(NF == 3 && \$3 == 1) }' /proc/$P/status"
check "its own network and IPC namespaces (no network)" eval \
	"test \"\$(readlink /proc/$P/ns/net)\" != \"\$(readlink /proc/self/ns/net)\" && test \"\$(readlink /proc/$P/ns/ipc)\" != \"\$(readlink /proc/self/ns/ipc)\""
check "its root holds /usr, of /etc only ld.so.cache, no /root, /work, /var" \
	eval "test -d /proc/$P/root/usr/bin && test \"\$(ls /proc/$P/root/etc)\" = ld.so.cache && ! test -e /proc/$P/root/root && ! test -e /proc/$P/root/work && ! test -e /proc/$P/root/var"
check "its root is read-only" eval "grep -E '^[0-9]+ [0-9]+ [0-9:]+ / / ro,' /proc/$P/mountinfo >/dev/null"
check "rlimits: no core, 1024 fds" eval \
	"grep -qE '^Max core file size +0 +0 ' /proc/$P/limits && grep -qE '^Max open files +1024 +1024 ' /proc/$P/limits"
CG=$(grep -oE '/ocivmfs/cf$' "/proc/$P/cgroup" | head -1)
check "its own cgroup (…/ocivmfs/cf)" test -n "$CG"
CGDIRS=$(grep '^/sys/fs/cgroup' "$T/state/cf/vm/cgroups" 2>/dev/null | tr '\n' ' ')
cgroups_gone() { [ -n "$CGDIRS" ] || return 1; for d in $CGDIRS; do [ ! -e "$d" ] || return 1; done; }
check "cgroup limits memory and pids" eval "grep -qE 'memory.max [0-9]+ MiB pids.max [0-9]+' '$C/vm/confinement'"
check "vm/confinement names the user and the seccomp filter" \
	eval "grep -q '^user ' '$C/vm/confinement' && grep -q '^seccomp ' '$C/vm/confinement'"
check "vm/confinement shows live cgroup figures" grep -qE '^(memory.usage_in_bytes|memory.current) [0-9]+' "$C/vm/confinement"
check "log says which user and confinement the VM got" grep -qE "cf: VM process $P user [a-z]+ uid [0-9]+" "$M/log"
sed 's/^/# /' "$C/vm/confinement"

# A daemon restart: the confined VM keeps running, is re-attached, and
# what it got is still shown (read from its run_dir).
kill -TERM "$(pgrep -f "^$BIN .*--state-dir $T/state " | head -1)"
check "restart: SIGTERM unmounts" wait_until 10 eval '! is_mounted "$M"'
mount_tree "$BIN" "$M" "$T/state" || bad "restart: remount"
check "restart: re-attached to the confined VM" \
	grep -qE 'cf: re-attached to its VM \(qemu\)$' "$M/log"
check "restart: the same process, still confined" \
	eval "test \"\$(cat $C/pid)\" = $P && test \"\$(status_field $P Seccomp)\" = 2"
check "restart: vm/confinement still says what it got" grep -q '^user ' "$C/vm/confinement"

cat "$C/stdout" > "$T/stdout" 2>/dev/null & OUTPID=$!
check "start" bash -c "echo start > $C/ctl"
check "stdin takes a script" bash -c "printf 'echo hello from a confined VM\nexit 3\n' > $C/stdin"
code=$(timeout 120 cat "$C/wait" 2>/dev/null)
check "wait gives the exit status 3" test "$code" = 3
check "stdout has the output" wait_until 10 grep -q "hello from a confined VM" "$T/stdout"
check "the VM is gone once it stopped" wait_until 20 eval "! kill -0 $P 2>/dev/null"
check "rmdir deletes it" rmdir "$C"
check "rmdir removed its cgroups" cgroups_gone
kill $OUTPID 2>/dev/null

# pid 1 of its own pid namespace: a signal it neither handles nor blocks,
# sent from outside, does not reach it (only the kernel's own SIGSYS of a
# seccomp kill does, and SIGKILL); the SIGSYS report is checked below,
# under --no-confine, where a host kill -SYS still lands.
C2=$T/m/containers/cf2
check "a second container boots" ln -s "$(realpath "$BUNDLE")" "$C2"
P2=$(cat "$C2/pid" 2>/dev/null)
check "start it" bash -c "echo start > $C2/ctl"
kill -SYS "$P2" 2>/dev/null
check "a host kill -SYS does not reach the confined VM (pid namespace init)" \
	eval "sleep 2; kill -0 $P2 && test \"\$(cat $C2/status)\" = running"
check "delete it" bash -c "echo 'delete force' > $C2/ctl"
check "delete (SIGTERM, then SIGKILL) ends it" wait_until 30 eval "! kill -0 $P2 2>/dev/null"

# linux.resources: cpu quota/period, shares and cpus bound the VM process's
# own cgroup; pids.limit is the container's cgroup in the guest.
RB=$T/rb C3=$T/m/containers/cr
mkdir -p "$RB" && ln -s "$(realpath "$BUNDLE")/rootfs" "$RB/rootfs"
sed 's/"linux": {/"linux": { "resources": { "cpu": { "quota": 100000, "period": 100000, "shares": 512, "cpus": "0" }, "pids": { "limit": 16 } },/' \
	"$BUNDLE/config.json" > "$RB/config.json"
check "resources: a bundle with linux.resources boots" ln -s "$RB" "$C3"
check "resources: vm/confinement says what the VM's cgroup got" grep -q \
	'^cgroup cpu quota 100000 period 100000 shares 512 (weight 20) cpus 0$' "$C3/vm/confinement"
cg_file() { # the first of the VM's cgroup dirs holding FILE
	for d in $(grep '^/sys/fs/cgroup' "$T/state/cr/vm/cgroups"); do
		[ -e "$d/$1" ] && { echo "$d/$1"; return; }
	done
}
cg_is() { local f; f=$(cg_file "$1"); [ -n "$f" ] && [ "$(cat "$f")" = "$2" ]; }
check "resources: the VM's cgroup has the quota (cpu.cfs_quota_us or cpu.max)" eval \
	"cg_is cpu.cfs_quota_us 100000 || cg_is cpu.max '100000 100000'"
check "resources: the VM's cgroup has the shares (cpu.shares or cpu.weight)" eval \
	"cg_is cpu.shares 512 || cg_is cpu.weight 20"
check "resources: the VM's cgroup has cpuset.cpus 0" cg_is cpuset.cpus 0
P3=$(cat "$C3/pid" 2>/dev/null)
CGDIRS=$(grep '^/sys/fs/cgroup' "$T/state/cr/vm/cgroups" 2>/dev/null | tr '\n' ' ')
echo "# the VM's cgroups: $CGDIRS"
check "resources: the VM process is in them" eval \
	"grep -qE ':cpu(,cpuacct)?:.*/ocivmfs/cr$|^0::.*/ocivmfs/cr$' /proc/$P3/cgroup"
check "resources: quota 1 CPU -> 1 vCPU" grep -qx 1 "$C3/vm/vcpus"
check "resources: vm/cgroup has the live figures (memory, pids, cpu.stat)" eval \
	"grep -qE '^(memory.usage_in_bytes|memory.current) [0-9]+' '$C3/vm/cgroup' && grep -qE '^pids.current [0-9]+' '$C3/vm/cgroup' && grep -q '^cpu.stat ' '$C3/vm/cgroup'"
sed 's/^/# vm\/cgroup: /' "$C3/vm/cgroup" | head -4
cat "$C3/stdout" > "$T/stdout3" 2>/dev/null & OUTPID=$!
check "resources: start" bash -c "echo start > $C3/ctl"
check "resources: stdin takes a script that forks 40 sleeps" bash -c \
	"printf 'i=0; while [ \$i -lt 40 ]; do sleep 60 & i=\$((i+1)); done; echo forked \$i\nexit 0\n' > $C3/stdin"
timeout 120 cat "$C3/wait" >/dev/null 2>&1
check "resources: pids.limit 16 stops it in the guest (can't fork)" \
	wait_until 10 grep -q "can't fork" "$T/stdout3"
check "resources: never all 40" eval "! grep -q 'forked 40' '$T/stdout3'"
kill $OUTPID 2>/dev/null
sed 's/^/# /' "$T/stdout3" | head -3
check "resources: delete" bash -c "echo 'delete force' > $C3/ctl"
check "resources: its cgroups (cpu, cpuset too) are removed" wait_until 20 cgroups_gone
check "resources: there were four (v1) or one (v2)" eval "set -- \$CGDIRS; test \$# = 4 || test \$# = 1"

# Symlinks in a rootfs that point at host paths are copied as symlinks:
# in the guest they resolve inside the guest, never to the host's files.
LB=$T/lb C4=$T/m/containers/cl
mkdir -p "$LB" && cp -a "$(realpath "$BUNDLE")/rootfs" "$LB/rootfs" && cp "$BUNDLE/config.json" "$LB/"
echo "HOST-SECRET-h7" > "$T/secret"
ln -s "$T/secret" "$LB/rootfs/leak"
ln -s "$T" "$LB/rootfs/hostdir"
check "symlinks: a rootfs with links to host paths boots" ln -s "$LB" "$C4"
cat "$C4/stdout" > "$T/stdout4" 2>/dev/null & OUTPID=$!
check "symlinks: start" bash -c "echo start > $C4/ctl"
check "symlinks: stdin takes a script" bash -c \
	"printf 'cat /leak; ls /hostdir; echo leak-done\nexit 0\n' > $C4/stdin"
timeout 120 cat "$C4/wait" >/dev/null 2>&1
check "symlinks: the script ran" wait_until 10 grep -q "^leak-done" "$T/stdout4"
check "symlinks: the host file behind rootfs/leak is not in the guest" \
	eval "! grep -q HOST-SECRET-h7 '$T/stdout4' && grep -q 'No such file' '$T/stdout4'"
check "symlinks: nor the host dir behind rootfs/hostdir" eval "! grep -qw secret '$T/stdout4'"
kill $OUTPID 2>/dev/null
check "symlinks: delete" bash -c "echo 'delete force' > $C4/ctl"
unmount_tree "$M"

# --vm-uids: each VM its own uid, so one hypervisor cannot signal or read
# /proc of another; a uid is free again once its container is deleted, and
# after a restart the re-attached VMs' uids are not handed out again.
U0=2147418112
mount_tree "$BIN" "$M" "$T/state3" --vm-uids $U0:3 || { bad "mount --vm-uids"; summary; exit 1; }
CA=$T/m/containers/ua CB=$T/m/containers/ub CC=$T/m/containers/uc
check "vm-uids: two containers boot" eval "ln -s '$(realpath "$BUNDLE")' '$CA' && ln -s '$(realpath "$BUNDLE")' '$CB'"
PA=$(cat "$CA/pid" 2>/dev/null) PB=$(cat "$CB/pid" 2>/dev/null)
check "vm-uids: the first VM runs as FIRST" test "$(status_field "$PA" Uid | head -c 10)" = $U0
check "vm-uids: the second as FIRST+1, gid too" eval \
	"test \"\$(awk '/^Uid:/ {print \$2} /^Gid:/ {print \$2}' /proc/$PB/status | tr '\n' ' ')\" = '$((U0 + 1)) $((U0 + 1)) '"
check "vm-uids: still confined (CapEff 0, Seccomp 2)" eval \
	"test \"\$(status_field $PB CapEff)\" = 0000000000000000 && test \"\$(status_field $PB Seccomp)\" = 2"
expect_err "vm-uids: the first VM's uid may not signal the second VM" "Operation not permitted" \
	setpriv --reuid=$U0 --regid=$U0 --clear-groups kill -0 "$PB"
expect_err "vm-uids: nor read its /proc/PID/environ" "Permission denied" \
	setpriv --reuid=$U0 --regid=$U0 --clear-groups cat "/proc/$PB/environ"
check "vm-uids: vm/confinement names the uid" grep -q "^user vm-uid-$((U0 + 1)) uid $((U0 + 1)) gid $((U0 + 1))" "$CB/vm/confinement"
cat "$CA/stdout" > "$T/stdout5" 2>/dev/null & OUTPID=$!
check "vm-uids: a container runs" bash -c "echo start > $CA/ctl && printf 'echo hello uid\nexit 0\n' > $CA/stdin"
check "vm-uids: its output arrives" wait_until 60 grep -q "^hello uid" "$T/stdout5"
kill $OUTPID 2>/dev/null
check "vm-uids: delete the first" bash -c "echo 'delete force' > $CA/ctl"
kill -TERM "$(pgrep -f "^$BIN .*--state-dir $T/state3 " | head -1)"
check "vm-uids: restart: SIGTERM unmounts" wait_until 10 eval '! is_mounted "$M"'
mount_tree "$BIN" "$M" "$T/state3" --vm-uids $U0:2 || bad "vm-uids: remount"
check "vm-uids: a new container after the restart gets the freed FIRST, not the re-attached FIRST+1" \
	eval "ln -s '$(realpath "$BUNDLE")' '$CC' && test \"\$(status_field \$(cat $CC/pid) Uid)\" = $U0"
expect_err "vm-uids: none free: EAGAIN with the reason" "Resource temporarily unavailable" \
	ln -s "$(realpath "$BUNDLE")" "$T/m/containers/ud"
check "vm-uids: MOUNT/log says why" grep -q "no free VM uid in --vm-uids $U0:2" "$M/log"
for x in "$CB" "$CC"; do echo 'delete force' > "$x/ctl"; done
unmount_tree "$M"
expect_err "vm-uids: a bad range is refused at mount" "--vm-uids 0:5: FIRST must be above 0" \
	"$BIN" --foreground --state-dir "$T/s4" --vm-uids 0:5 "$T/m4"

# --no-confine: the same checks must see root and no filter.
mount_tree "$BIN" "$M" "$T/state2" --no-confine || { bad "mount --no-confine"; summary; exit 1; }
check "--no-confine: hypervisor says so" grep -q "VMs run unconfined" "$M/hypervisor"
check "--no-confine: ln -s creates the container" ln -s "$(realpath "$BUNDLE")" "$C"
P=$(cat "$C/pid" 2>/dev/null)
check "--no-confine: Uid is 0 and Seccomp 0 (the checks above can fail)" \
	eval "test '$(status_field "$P" Uid)' = 0 && test '$(status_field "$P" Seccomp)' = 0"
check "--no-confine: vm/confinement is empty" test ! -s "$C/vm/confinement"
check "--no-confine: no pid namespace of its own" \
	test "$(readlink "/proc/$P/ns/pid")" = "$(readlink /proc/self/ns/pid)"
check "--no-confine: delete" bash -c "echo 'delete force' > $C/ctl"
# A seccomp kill is SIGSYS: the daemon names it when the VM dies so.
C2=$T/m/containers/cf2
check "a second container boots" ln -s "$(realpath "$BUNDLE")" "$C2"
P2=$(cat "$C2/pid" 2>/dev/null)
check "start it" bash -c "echo start > $C2/ctl"
kill -SYS "$P2" 2>/dev/null
check "its VM dies of SIGSYS: the log says a system call outside its seccomp filter" \
	wait_until 30 grep -qE "cf2: .*killed by signal 31 .*outside its seccomp filter" "$M/log"
check "its status is stopped" wait_until 10 eval "test \"\$(cat $C2/status)\" = stopped"
check "vm/last_error names the signal" grep -q "killed by signal 31" "$C2/vm/last_error"
check "delete it" bash -c "echo 'delete force' > $C2/ctl"
if ! summary; then
	echo "# last log lines:"; tail -n 8 "$M/log" | sed 's/^/# /'
	exit 1
fi
