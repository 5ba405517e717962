#!/usr/bin/env bash
# System test of ocivm: the commands that need no tree, the fast error paths
# against a real ocivmfs mount (started by ocivm itself under --root), and
# the full create/start/state/kill/delete/run/list cycle with the busybox
# bundle (boots VMs: slow under QEMU/TCG, run once).
# Prints one line per case and "N passed, N failed, N skipped".
set -u
BUILD=${BUILD:-build}
OCIVM=$(realpath -m "$BUILD/bin/ocivm")
OCIVMFS=$(realpath -m "$BUILD/bin/ocivmfs")
BUNDLE=$(realpath -m "$BUILD/bundle/busybox")
pass=0 fail=0 skip=0
tmp=$(mktemp -d /tmp/ocivm-cli.XXXXXX)
root=$tmp/root

ok()   { echo "ok   $1"; pass=$((pass + 1)); }
bad()  { echo "FAIL $1${2:+: $2}"; fail=$((fail + 1)); }
skp()  { echo "skip $1: $2"; skip=$((skip + 1)); }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
# expect_fail NAME PHRASE ocivm-args...: exit 1 and PHRASE on stderr
expect_fail() {
	local name=$1 phrase=$2; shift 2
	local out rc
	out=$("$OCIVM" --root "$root" "$@" 2>&1 >/dev/null); rc=$?
	if [ "$rc" = 1 ] && grep -qF -- "$phrase" <<<"$out"; then ok "$name"
	else bad "$name" "rc=$rc stderr=$out"; fi
}
finish() {
	if [ -n "${mnt:-}" ] && mountpoint -q "$mnt" 2>/dev/null; then
		for c in $(ls "$mnt/containers" 2>/dev/null); do
			"$OCIVM" --root "$root" delete --force "$c" >/dev/null 2>&1
		done
		fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -uz "$mnt" 2>/dev/null
	fi
	rm -rf "$tmp"
	echo "$pass passed, $fail failed, $skip skipped"
	exit $(( fail > 0 ))   # a bare exit in an EXIT trap keeps the status before the trap
}
trap finish EXIT

if [ ! -x "$OCIVM" ]; then bad "ocivm built" "$OCIVM missing"; exit; fi

# ---- A: no tree needed -------------------------------------------------
check "version" bash -c "'$OCIVM' --version | grep -q 'ocivm version'"
check "help" bash -c "'$OCIVM' --help | grep -q 'create \[--bundle'"
mkdir -p "$tmp/spec"
check "spec writes config.json" bash -c "'$OCIVM' spec --bundle '$tmp/spec' 2>/dev/null &&
	grep -q '\"rootfs\"' '$tmp/spec/config.json'"
if [ -e "$BUILD/guest/vmlinuz" ]; then
	check "spec: vm.kernel is the build's guest kernel" grep -q "\"path\":.*$(realpath "$BUILD/guest/vmlinuz")" "$tmp/spec/config.json"
else
	check "spec: no guest kernel, no vm section" bash -c "! grep -q '\"vm\"' '$tmp/spec/config.json'"
fi
check "spec --kernel names the kernel" bash -c "rm -f '$tmp/spec/config.json' &&
	'$OCIVM' spec -b '$tmp/spec' --kernel /k/vmlinuz && grep -q '/k/vmlinuz' '$tmp/spec/config.json'"
expect_fail "spec --kernel relative" "absolute" spec -b "$tmp/spec2" --kernel k
expect_fail "spec refuses to overwrite" "exists" spec --bundle "$tmp/spec"
check "features (no tree)" bash -c "'$OCIVM' --root '$root' features | grep -q ociVersionMax"
# the daemon's exec failure comes back through both forks as its errno
mkdir -p "$tmp/nobundle"
out=$(OCIVMFS=$tmp/no-ocivmfs "$OCIVM" --root "$tmp/root-nobin" create --bundle "$tmp/nobundle" c0 2>&1)
check "a missing daemon binary: starting it is ENOENT" grep -qF \
	"starting $tmp/no-ocivmfs: No such file or directory" <<<"$out"
check "list (no tree): empty" bash -c "[ -z \"\$('$OCIVM' --root '$root' list -q)\" ] &&
	[ \"\$('$OCIVM' --root '$root' list -f json)\" = '[]' ]"
expect_fail "state (no tree)" "container does not exist" state nope
expect_fail "exec (no tree)" "container does not exist" exec nope sh
expect_fail "unknown command" "unknown command" frobnicate
expect_fail "bad log format" "invalid log format" --log-format xml state x
"$OCIVM" --root "$root" --log "$tmp/log.json" --log-format=json state nope 2>/dev/null
check "json log line" grep -q '^{"level":"error","msg":"container does not exist","time":"' "$tmp/log.json"
"$OCIVM" --root "$root" --log "$tmp/log.txt" --debug --systemd-cgroup state nope 2>/dev/null
check "text log + ignored flag debug line" bash -c "grep -q 'level=error msg=\"container does not exist\"' '$tmp/log.txt' &&
	grep -q 'level=debug msg=\"ignoring flag --systemd-cgroup\"' '$tmp/log.txt'"

# ---- B: a mounted tree, fast error paths ------------------------------------
# error_paths LABEL: ocivm starts $OCIVMFS under a fresh --root, then the
# errors that need no VM.
error_paths() {
	local label=$1
	root=$tmp/root-$label; mnt=$root/mnt
	mkdir -p "$tmp/nobundle"
	expect_fail "$label: create without config.json is refused" "create container" \
		create --bundle "$tmp/nobundle" c0
	check "$label: ocivm started the daemon under --root" mountpoint -q "$mnt"
	check "$label: refused create leaves nothing" bash -c "[ -z \"\$(ls '$mnt/containers')\" ]"
	expect_fail "$label: state missing" "container does not exist" state nope
	expect_fail "$label: start missing" "container does not exist" start nope
	expect_fail "$label: kill missing" "container does not exist" kill nope KILL
	expect_fail "$label: delete missing" "container does not exist" delete nope
	expect_fail "$label: pause missing" "container does not exist" pause nope
	expect_fail "$label: ps missing" "container does not exist" ps nope
	expect_fail "$label: kill bad signal" "unknown signal" kill nope SIGFOO
	expect_fail "$label: invalid id" "invalid container id" start ../x
	check "$label: features from the tree" bash -c "'$OCIVM' --root '$root' features | grep -q ociVersion"
	check "$label: list on the tree: empty" bash -c "[ -z \"\$('$OCIVM' --root '$root' list -q)\" ]"
}
unmount() { fusermount3 -u "$1" 2>/dev/null || fusermount3 -uz "$1" 2>/dev/null; }

if [ ! -c /dev/fuse ]; then skp "tree tests" "no /dev/fuse"; exit; fi
# fs/'s FUSE glue over its fake ops (no VMs): checks the errnos ocivm maps
FAKEOPS=$(realpath -m "$BUILD/tests/fs/ocivmfs-fakeops")
if [ -x "$FAKEOPS" ]; then
	OCIVMFS_REAL=$OCIVMFS
	export OCIVMFS=$FAKEOPS
	error_paths fsglue
	unmount "$mnt"
	OCIVMFS=$OCIVMFS_REAL
else
	skp "fs glue" "no $FAKEOPS"
fi
# The real daemon when it is built; else the test double (host processes
# instead of VMs), which checks ocivm's own logic but not the product.
if [ -x "$OCIVMFS" ]; then
	mode=real
else
	mode=fake
	export OCIVMFS=$(realpath -m "$BUILD/bin/ocivm-faketree")
	skp "real tree" "no $(realpath -m "$BUILD/bin/ocivmfs") (fs/ daemon not built): using the test double $OCIVMFS"
	[ -x "$OCIVMFS" ] || { bad "test double built"; exit; }
fi
export OCIVMFS
error_paths $mode

# The daemon ocivm starts holds none of the caller's fds: a pipe from
# `ocivm mount` reaches EOF although the daemon keeps running.
check "started daemon does not hold the caller's pipe" \
	timeout 20 bash -c "'$OCIVM' --root '$tmp/root-pipe' mount 2>&1 | cat >/dev/null"
unmount "$tmp/root-pipe/mnt"

# Callers race to start the daemon on a fresh root: one daemon, all succeed.
race=$tmp/root-race
for i in 1 2 3 4; do "$OCIVM" --root "$race" mount >/dev/null 2>&1 & done
rcs=0; for j in $(jobs -p); do wait "$j" || rcs=$((rcs + 1)); done
check "racing starts: all succeed" [ "$rcs" = 0 ]
check "racing starts: one daemon" [ "$(pgrep -fc -- "--state-dir $race/state")" = 1 ]
unmount "$race/mnt"

# ---- C: the full cycle with a VM ---------------------------------------------
if [ "$mode" = real ] && [ ! -d "$BUNDLE/rootfs" ]; then
	skp "container cycle" "no busybox bundle at $BUNDLE (make guest)"; exit; fi
if ! command -v python3 >/dev/null; then skp "container cycle" "python3 needed to edit config.json"; exit; fi
if [ "$mode" = fake ]; then
	mkdir -p "$tmp/base/rootfs" && "$OCIVM" spec -b "$tmp/base" && BUNDLE=$tmp/base
fi
mkbundle() { # DIR ARGS-JSON: the base bundle's config with other args; root.path
	# names the base rootfs itself (one cached image for all of them)
	mkdir -p "$1"
	python3 - "$BUNDLE/config.json" "$1/config.json" "$2" "$(realpath "$BUNDLE/rootfs")" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["args"] = json.loads(sys.argv[3])
c["process"]["terminal"] = False
c["root"]["path"] = sys.argv[4]
json.dump(c, open(sys.argv[2], "w"))
PY
}
mkbundle "$tmp/b1" '["sh","-c","echo hello-from-c1; exec sleep 1000"]'
mkbundle "$tmp/b2" '["sh","-c","echo out2; echo err2 >&2; exit 3"]'

"$OCIVM" --root "$root" create --bundle "$tmp/b1" --pid-file "$tmp/c1.pid" c1 \
	>"$tmp/c1.out" 2>"$tmp/c1.err" </dev/null
check "create c1" [ "$("$OCIVM" --root "$root" state c1 | grep -o '"status": *"[a-z]*"' | grep -o '[a-z]*"$')" = 'created"' ]
pid=$(cat "$tmp/c1.pid" 2>/dev/null)
check "pid file: bare number" bash -c "[[ \$(cat '$tmp/c1.pid') =~ ^[0-9]+\$ ]] && [ \$(tail -c1 '$tmp/c1.pid' | od -An -c | tr -d ' ') != '\\n' ]"
check "shim alive" kill -0 "${pid:-0}"
check "tree pid = pid file" [ "$(cat "$mnt/containers/c1/pid" 2>/dev/null)" = "$pid" ]
check "state pid = pid file" bash -c "'$OCIVM' --root '$root' state c1 | grep -q '\"pid\": *$pid'"
expect_fail "create duplicate" "container with given ID already exists" create --bundle "$tmp/b1" c1
check "list shows c1 created" bash -c "'$OCIVM' --root '$root' list | grep -q '^c1 .*created'"
check "start c1" "$OCIVM" --root "$root" start c1
expect_fail "start again" "cannot start an already running container" start c1
for i in $(seq 1 600); do grep -q hello-from-c1 "$tmp/c1.out" && break; sleep 0.1; done
check "c1 stdout reaches create's stdout" grep -q hello-from-c1 "$tmp/c1.out"
check "list -f json" bash -c "'$OCIVM' --root '$root' list -f json | grep -q '\"status\":\"running\"'"
check "ps -f json: the shim's pid" [ "$("$OCIVM" --root "$root" ps -f json c1)" = "[$pid]" ]
check "events --stats" bash -c "'$OCIVM' --root '$root' events --stats c1 | grep -q '\"type\":\"stats\",\"id\":\"c1\"'"
check "pause c1" bash -c "'$OCIVM' --root '$root' pause c1 && [ \"\$(cat '$mnt/containers/c1/status')\" = paused ]"
expect_fail "pause paused" "container not running" pause c1
check "resume c1" bash -c "'$OCIVM' --root '$root' resume c1 && [ \"\$(cat '$mnt/containers/c1/status')\" = running ]"
expect_fail "resume running" "container not paused" resume c1
check "kill c1 KILL" "$OCIVM" --root "$root" kill c1 KILL
for i in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
check "shim exits with the container" bash -c "! kill -0 $pid 2>/dev/null"
check "c1 stopped" [ "$(cat "$mnt/containers/c1/status")" = stopped ]
expect_fail "start stopped" "cannot start a container that has stopped" start c1
expect_fail "kill stopped" "container not running" kill c1
check "delete c1" "$OCIVM" --root "$root" delete c1
expect_fail "state after delete" "container does not exist" state c1

"$OCIVM" --root "$root" run --bundle "$tmp/b2" c2 >"$tmp/c2.out" 2>"$tmp/c2.err" </dev/null
rc=$?
check "run: exit status 3" [ "$rc" = 3 ]
check "run: stdout" grep -qx out2 "$tmp/c2.out"
check "run: stderr" grep -qx err2 "$tmp/c2.err"
expect_fail "run: container removed" "container does not exist" state c2

mkbundle "$tmp/b3" '["cat"]'
out=$(printf 'line-one\nline-two\n' | "$OCIVM" --root "$root" run --bundle "$tmp/b3" c3 2>&1)
check "run: stdin reaches the container, EOF ends it" [ "$out" = "$(printf 'line-one\nline-two')" ]

# A caller that reads late: every byte still reaches it after the exit (the
# shim used to give its output pumps 3 s after the exit, then left).
mkbundle "$tmp/b10" '["sh","-c","head -c 1000000 /dev/zero; exit 4"]'
out=$( ("$OCIVM" --root "$root" run --bundle "$tmp/b10" c10 </dev/null; echo "rc=$?" >"$tmp/c10.rc") |
	(sleep 5; wc -c) )
check "run: all 1000000 bytes reach a caller that reads 5 s late" [ "$(echo $out)" = 1000000 ]
check "run: ... and the status 4" grep -qx rc=4 "$tmp/c10.rc"

# --console-socket: receive the pty master as conmon does, read the output
# (pid 1 of its pid namespace: SIGTERM reaches it only through a handler)
mkbundle "$tmp/b4" '["sh","-c","trap \"exit 143\" TERM; echo tty-hello; sleep 1000 & wait"]'
python3 - "$tmp/console.sock" "$tmp/console.out" <<'PY' &
import socket, sys, os
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1); s.settimeout(600)
c, _ = s.accept()
msg, fds, _, _ = socket.recv_fds(c, 1024, 1)
out = open(sys.argv[2], "wb")
out.write(b"name=" + msg + b"\n"); out.flush()
while True:
    try: d = os.read(fds[0], 4096)
    except OSError: break
    if not d: break
    out.write(d); out.flush()
PY
srv=$!
for i in $(seq 1 100); do [ -S "$tmp/console.sock" ] && break; sleep 0.05; done
"$OCIVM" --root "$root" create --bundle "$tmp/b4" --console-socket "$tmp/console.sock" \
	--pid-file "$tmp/c4.pid" c4 >/dev/null 2>&1 </dev/null
check "console: create with --console-socket" [ "$(cat "$mnt/containers/c4/status" 2>/dev/null)" = created ]
"$OCIVM" --root "$root" start c4
for i in $(seq 1 600); do grep -q tty-hello "$tmp/console.out" 2>/dev/null && break; sleep 0.1; done
check "console: pty master received over SCM_RIGHTS" grep -q '^name=/dev/pts/' "$tmp/console.out"
check "console: output on the pty" grep -q tty-hello "$tmp/console.out"
pid=$(cat "$tmp/c4.pid" 2>/dev/null)
kill -TERM "${pid:-0}" 2>/dev/null  # the shim forwards it to the container
for i in $(seq 1 600); do kill -0 "${pid:-0}" 2>/dev/null || break; sleep 0.1; done
check "signal to the shim reaches the container" [ "$(cat "$mnt/containers/c4/exit" 2>/dev/null)" = 143 ]
"$OCIVM" --root "$root" delete c4
kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null

# A bundle made by `ocivm spec` (its vm section names the guest kernel)
if [ "$mode" = real ]; then
	mkdir -p "$tmp/b8" && "$OCIVM" spec -b "$tmp/b8" 2>/dev/null
	python3 - "$tmp/b8/config.json" "$(realpath "$BUNDLE/rootfs")" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["root"]["path"] = sys.argv[2]
c["process"]["args"] = ["sh", "-c", "echo spec-bundle-ok"]
json.dump(c, open(sys.argv[1], "w"))
PY
	out=$("$OCIVM" --root "$root" run --bundle "$tmp/b8" c8 2>&1 </dev/null)
	check "run a bundle made by ocivm spec" [ "$out" = spec-bundle-ok ]
fi

# More stdin than the tree queues (1 MiB) for a container that reads late:
# the shim waits for room on EAGAIN instead of dropping the rest.
mkbundle "$tmp/b9" '["sh","-c","sleep 3; wc -c"]'
out=$(head -c 10000000 /dev/zero | timeout 120 "$OCIVM" --root "$root" run --bundle "$tmp/b9" c9 2>&1)
check "run: 10 MB of stdin reach a container that reads late" [ "$(echo $out)" = 10000000 ]

# The daemon restarts under a running container (real tree only: the test
# double keeps no state): the shim reattaches its streams and its wait.
if [ "$mode" != real ]; then skp "daemon restart" "the test double keeps no state"; exit; fi
mkbundle "$tmp/b5" '["sh","-c","i=0; while true; do echo tick$i; i=$((i+1)); sleep 1; done"]'
"$OCIVM" --root "$root" create --bundle "$tmp/b5" --pid-file "$tmp/c5.pid" c5 \
	>"$tmp/c5.out" 2>/dev/null </dev/null
"$OCIVM" --root "$root" start c5
pid=$(cat "$tmp/c5.pid" 2>/dev/null)
for i in $(seq 1 300); do grep -q tick1 "$tmp/c5.out" && break; sleep 0.1; done
daemon=$(pgrep -f -x ".*ocivmfs --state-dir $root/state $mnt")
check "restart: found the daemon" [ -n "$daemon" ]
kill "${daemon:-0}" 2>/dev/null
for i in $(seq 1 600); do kill -0 "${daemon:-0}" 2>/dev/null || break; sleep 0.1; done
check "restart: daemon gone, shim alive" bash -c "! kill -0 ${daemon:-0} 2>/dev/null && kill -0 ${pid:-0}"
check "restart: ocivm mount starts it again" bash -c "'$OCIVM' --root '$root' mount >/dev/null"
n=$(grep -c tick "$tmp/c5.out")
for i in $(seq 1 300); do [ "$(grep -c tick "$tmp/c5.out")" -gt $((n + 1)) ] && break; sleep 0.1; done
check "restart: output flows again through the shim" [ "$(grep -c tick "$tmp/c5.out")" -gt $((n + 1)) ]
check "restart: c5 still running" [ "$(cat "$mnt/containers/c5/status" 2>/dev/null)" = running ]
"$OCIVM" --root "$root" kill c5 KILL
for i in $(seq 1 600); do kill -0 "${pid:-0}" 2>/dev/null || break; sleep 0.1; done
check "restart: shim exits with the container" bash -c "! kill -0 ${pid:-0} 2>/dev/null"
"$OCIVM" --root "$root" delete c5

# create interrupted while the VM boots (what a caller's timeout does):
# exit 1, and the container is deleted again.
"$OCIVM" --root "$root" create --bundle "$tmp/b5" --pid-file "$tmp/c6.pid" c6 \
	>/dev/null 2>"$tmp/c6.err" </dev/null &
cpid=$!
for i in $(seq 1 600); do [ -e "$mnt/containers/c6" ] && break; sleep 0.05; done
kill -INT $cpid
wait $cpid
rc=$?
check "interrupted create: exit 1, says so" bash -c "[ $rc = 1 ] && grep -q interrupted '$tmp/c6.err'"
check "interrupted create: nothing left" bash -c "[ ! -e '$mnt/containers/c6' ]"

# The id limit is the daemon's own (OPS_ID_MAX 250, ops/ops.h), whatever the
# --root: under one of ~600 bytes the longest id creates, survives a daemon
# restart, starts and runs (its VM's sockets sit ~900 bytes deep, where
# sun_path holds 108); one byte more and 'a..b' are refused by ocivm itself
# with the daemon's reason (ocivm took 1024 bytes and 'a..b' before).
unmount "$mnt"
root=$tmp/lr$(printf '/%099d' 1 2 3 4 5 6); mnt=$root/mnt
lid=L$(printf 'x%.0s' $(seq 249))
mkdir -p "$root"
"$OCIVM" --root "$root" create --bundle "$tmp/b5" --pid-file "$tmp/lid.pid" "$lid" \
	>"$tmp/lid.out" 2>"$tmp/lid.err" </dev/null
check "long id: create (${#lid} bytes, --root ${#root} bytes)" \
	[ "$(cat "$mnt/containers/$lid/status" 2>/dev/null)" = created ]
daemon=$(pgrep -f -x ".*ocivmfs --state-dir $root/state $mnt")
kill "${daemon:-0}" 2>/dev/null
for i in $(seq 1 600); do kill -0 "${daemon:-0}" 2>/dev/null || break; sleep 0.1; done
check "long id: daemon restarted by ocivm, container still created" \
	bash -c "'$OCIVM' --root '$root' mount >/dev/null && [ \"\$(cat '$mnt/containers/$lid/status')\" = created ]"
check "long id: start" "$OCIVM" --root "$root" start "$lid"
for i in $(seq 1 300); do grep -q tick1 "$tmp/lid.out" && break; sleep 0.1; done
check "long id: its output reaches create's stdout" grep -q tick1 "$tmp/lid.out"
check "long id: kill, delete" bash -c "'$OCIVM' --root '$root' kill '$lid' KILL &&
	for i in \$(seq 1 600); do [ \"\$(cat '$mnt/containers/$lid/status')\" = stopped ] && break; sleep 0.1; done &&
	'$OCIVM' --root '$root' delete '$lid'"
expect_fail "long id: 251 bytes is refused with the daemon's reason" \
	"invalid container id: id: longer than 250 bytes" create --bundle "$tmp/b5" "${lid}y"
expect_fail "long id: 'a..b' is refused" "contain \"..\"" create --bundle "$tmp/b5" a..b
expect_fail "long id: '..' is refused" "invalid container id" start ..
check "long id: nothing was created" bash -c "[ -z \"\$(ls '$mnt/containers')\" ]"
