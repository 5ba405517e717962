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
		if [ -n "${keep:-}" ] && mountpoint -q "/run/netns/$keep" 2>/dev/null; then
			umount "/run/netns/$keep"; rm -f "/run/netns/$keep"
		fi
		if [ "${started_tree:-}" = 1 ]; then
			fusermount3 -u "$ROOT/mnt" 2>/dev/null || fusermount3 -uz "$ROOT/mnt"
		fi
		"${P[@]}" system reset -f >/dev/null 2>&1
		rm -rf "$tmp"
	fi
	echo "$pass passed, $fail failed, $skip skipped"
	exit $(( fail > 0 ))   # a bare exit in an EXIT trap keeps the status before the trap
}
trap finish EXIT
skp() { echo "skip $1: $2"; skip=$((skip + 1)); exit 0; }

command -v podman >/dev/null || skp "podman run" "podman is not installed"
[ -x "$OCIVM" ] || skp "podman run" "no $OCIVM"
[ -c /dev/fuse ] || skp "podman run" "no /dev/fuse"
mode=real
if [ ! -x "$OCIVMFS" ]; then
	mode=fake
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

# The default --root: podman's cleanup process runs `ocivm delete --force ID`
# without the --runtime-flag options, so a private root would leak containers.
# OCIVM_TEST_ROOT: another root, for a machine where /run/ocivm serves
# another build; podman's own cleanup still goes to /run/ocivm then, so
# that check is skipped.
ROOT=${OCIVM_TEST_ROOT:-/run/ocivm}
if mountpoint -q "$ROOT/mnt" 2>/dev/null; then
	echo "note: using the tree already mounted at $ROOT/mnt"
else
	# mounted here, not by the first `ocivm create`: a daemon started under
	# conmon would be adopted by that container's conmon (a subreaper)
	started_tree=1
	"$OCIVM" --root "$ROOT" --ocivmfs "$OCIVMFS" mount >/dev/null ||
		{ echo "FAIL ocivm mount"; fail=$((fail + 1)); exit; }
fi
tmp=$(mktemp -d /tmp/ocivm-podman.XXXXXX)
# --tmpdir too: podman's default (/run/libpod) holds conmon's exit files
# (exits/ID) for every podman on the machine, and `system reset` (finish,
# below) removes it whole.  A parallel run's reset then made conmon fail to
# write a running container's exit file: podman waited 20 s and answered
# "no such exit code (container in state running)", rc 127, for a container
# that exited 3 (reproduced by removing exits/ while a container ran).
P=(podman --root "$tmp/storage" --runroot "$tmp/run" --tmpdir "$tmp/libpod" --storage-driver vfs
   --runtime "$OCIVM" --runtime-flag "ocivmfs=$OCIVMFS")
[ "$ROOT" = /run/ocivm ] || P+=(--runtime-flag "root=$ROOT")

# a minimal busybox rootfs tarball
mkdir -p "$tmp/rootfs/bin" "$tmp/rootfs/proc" "$tmp/rootfs/sys" "$tmp/rootfs/dev" \
	"$tmp/rootfs/etc" "$tmp/rootfs/tmp" "$tmp/rootfs/www"
cp "$BUSYBOX" "$tmp/rootfs/bin/busybox"
for t in sh echo cat ls sleep uname tty httpd ip wget; do ln -s busybox "$tmp/rootfs/bin/$t"; done
echo hello-web > "$tmp/rootfs/www/index.html"
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
# exit status, and (real tree) the process ran on the guest kernel
out=$(timeout 900 "${P[@]}" run --rm localhost/ocivm-busybox sh -c 'uname -r; exit 7' 2>"$tmp/run.err")
rc=$?
want=
[ "$mode" = real ] && want=$(cat "$BUILD/guest/release" 2>/dev/null)
if [ "$rc" = 7 ] && { [ "$mode" = fake ] || [ "$out" = "$want" ]; }; then
	echo "ok   exit status 7 reaches podman${want:+; uname -r in the container: $out}"; pass=$((pass + 1))
else
	echo "FAIL exit status/kernel: rc=$rc out='$out' want '$want'"; fail=$((fail + 1))
fi
# -t: the pty goes to conmon through --console-socket
if [ "$mode" = fake ]; then
	echo "skip podman run -t: the test double runs no terminal"; skip=$((skip + 1))
else
out=$(timeout 900 "${P[@]}" run -t --rm localhost/ocivm-busybox sh -c 'tty; echo hi-tty' </dev/null 2>"$tmp/run.err")
if grep -q '^/dev/pts/' <<<"$out" && grep -q 'hi-tty' <<<"$out"; then
	echo "ok   podman run -t: a terminal in the container"; pass=$((pass + 1))
else
	echo "FAIL podman run -t: out='$out' err: $(tail -2 "$tmp/run.err" | tr '\n' ' ')"; fail=$((fail + 1))
fi
fi
# podman stop: SIGTERM through `ocivm kill`, then podman rm (a second VM)
"${P[@]}" run -d --name ocivm-stop localhost/ocivm-busybox sleep 1000 >/dev/null 2>"$tmp/d.err"
# --cpus and --pids-limit (linux.resources): the VM gets ceil(cpus) vCPUs,
# the container's cgroup in the guest pids.max (a fork past it fails there)
if [ "$mode" = fake ]; then
	echo "skip podman --cpus/--pids-limit: the test double boots no guest"; skip=$((skip + 1))
else
out=$(timeout 900 "${P[@]}" run --rm --cpus 1.5 --pids-limit 8 localhost/ocivm-busybox sh -c \
	'busybox nproc; i=0; while [ $i -lt 20 ]; do sleep 30 & i=$((i+1)); done; echo forked $i' 2>&1)
if [ "$(head -1 <<<"$out")" = 2 ] && grep -q "can't fork" <<<"$out" && ! grep -q 'forked 20' <<<"$out"; then
	echo "ok   podman --cpus 1.5 --pids-limit 8: 2 vCPUs, the 9th process cannot fork"; pass=$((pass + 1))
else
	echo "FAIL podman --cpus/--pids-limit: out='$(head -3 <<<"$out" | tr '\n' ' ')'"; fail=$((fail + 1))
fi
fi
# its exit file goes where only this test's podman looks and resets
cpid=$("${P[@]}" inspect --format '{{.State.ConmonPid}}' ocivm-stop 2>/dev/null)
edir=$(tr '\0' '\n' < "/proc/${cpid:-0}/cmdline" 2>/dev/null | sed -n '/^--exit-dir$/{n;p;q}')
if [ -n "$edir" ] && [ "$edir" = "$tmp/libpod/exits" ]; then
	echo "ok   conmon's exit dir is this test's own ($edir)"; pass=$((pass + 1))
else
	echo "FAIL conmon's exit dir '$edir' (conmon '$cpid'): another podman's system reset removes it"
	fail=$((fail + 1))
fi
# podman exec into it: `ocivm exec --process F -d --pid-file P [--console-socket S] ID`
cid=$("${P[@]}" inspect --format '{{.Id}}' ocivm-stop 2>/dev/null)
if [ ! -d "$ROOT/mnt/containers/$cid/exec" ]; then
	echo "skip podman exec: the tree has no ID/exec/ (issue 12 items 1-3)"; skip=$((skip + 1))
else
	out=$(timeout 600 "${P[@]}" exec ocivm-stop echo hi-exec 2>"$tmp/x.err")
	if [ "$out" = hi-exec ]; then echo "ok   podman exec"; pass=$((pass + 1))
	else echo "FAIL podman exec: out='$out' err: $(tail -2 "$tmp/x.err" | tr '\n' ' ')"; fail=$((fail + 1)); fi
	timeout 600 "${P[@]}" exec ocivm-stop sh -c 'exit 5' >/dev/null 2>&1
	rc=$?
	if [ "$rc" = 5 ]; then echo "ok   podman exec: exit status 5"; pass=$((pass + 1))
	else echo "FAIL podman exec: exit status $rc, want 5"; fail=$((fail + 1)); fi
	if [ "$mode" = fake ] || ! command -v script >/dev/null; then
		echo "skip podman exec -it: ${mode/real/no script(1)}"; skip=$((skip + 1))
	else
		# -it through a pty of our own (script): conmon gets the pty master
		# over --console-socket and sets its size, which the guest must see.
		# The size is waited for: podman 4.3 puts no consoleSize in the
		# exec's process (nor in config.json for run -t) and resizes only
		# after the runtime's exec returned, so a size read at once is 0 0
		# under any runtime (podman issues 10560, 10710; seen 1 in 12 here).
		# ocivm's own part (consoleSize applied before the process runs) is
		# checked strictly by exec.sh.  The size line is anchored; the tty's
		# is not: podman's client can send script's queued EOF on as a NUL,
		# echoed '^@' in front of it (README Known limits; not ocivm's
		# code: exec.sh checks that `ocivm exec -t` sends none); the '^@'
		# may come in front of the size line instead (seen under two CPU
		# hogs: out='/dev/pts/0 ^@31 97'), so a leading '^@' is allowed there
		out=$(COLUMNS=97 LINES=31 timeout 600 env SHELL=/bin/sh script -qec "stty rows 31 cols 97; ${P[*]} exec -it ocivm-stop sh -c 'tty; i=0; set -- \$(stty size 2>/dev/null) 0; while [ \$1 = 0 ] && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i+1)); set -- \$(stty size 2>/dev/null) 0; done; echo \$1 \$2'" /dev/null </dev/null 2>&1)
		if grep -q '/dev/pts/' <<<"$out" && grep -qE '^(\^@)*31 97' <<<"$out"; then
			echo "ok   podman exec -it: a terminal of the caller's size"; pass=$((pass + 1))
		else
			echo "FAIL podman exec -it: out='$(tr '\r\n' '  ' <<<"$out")'"; fail=$((fail + 1))
		fi
	fi
	for i in $(seq 1 50); do [ -z "$(ls "$ROOT/mnt/containers/$cid/exec" 2>/dev/null)" ] && break; sleep 0.1; done
	if [ -z "$(ls "$ROOT/mnt/containers/$cid/exec" 2>/dev/null)" ]; then
		echo "ok   podman exec: nothing left in ID/exec/"; pass=$((pass + 1))
	else echo "FAIL left in ID/exec/: $(ls "$ROOT/mnt/containers/$cid/exec")"; fail=$((fail + 1)); fi
fi
if "${P[@]}" stop -t 30 ocivm-stop >/dev/null 2>>"$tmp/d.err" &&
   "${P[@]}" rm ocivm-stop >/dev/null 2>>"$tmp/d.err"; then
	echo "ok   podman run -d, stop, rm"; pass=$((pass + 1))
else
	echo "FAIL podman run -d/stop/rm: $(tail -2 "$tmp/d.err" | tr '\n' ' ')"; fail=$((fail + 1))
fi
# networking (issue 13): podman's network namespace (CNI bridge) is handed
# to the VM: -p reaches the container's httpd, a second container reaches
# it by IP, and its eth0 has the address podman gave
if [ "$mode" = fake ]; then
	echo "skip podman networking: the test double boots no guest"; skip=$((skip + 1))
else
	port=$(( 18000 + $$ % 1000 ))
	"${P[@]}" run -d --name ocivm-web -p "$port:80" localhost/ocivm-busybox httpd -f -p 80 -h /www \
		>/dev/null 2>"$tmp/n.err"
	web_ip=$("${P[@]}" inspect --format '{{.NetworkSettings.IPAddress}}' ocivm-web 2>/dev/null)
	sk=$("${P[@]}" inspect --format '{{.NetworkSettings.SandboxKey}}' ocivm-web 2>/dev/null)
	got=
	for i in $(seq 1 60); do
		got=$(curl -s -m 5 "http://127.0.0.1:$port/index.html") && [ "$got" = hello-web ] && break
		sleep 2
	done
	if [ "$got" = hello-web ]; then
		echo "ok   podman run -d -p $port:80 httpd: curl localhost:$port answers"; pass=$((pass + 1))
	else
		echo "FAIL podman -p $port:80: curl got '$got' (ip '$web_ip') err: $(tail -2 "$tmp/n.err" | tr '\n' ' ')"
		fail=$((fail + 1))
	fi
	out=$(timeout 900 "${P[@]}" run --rm localhost/ocivm-busybox sh -c \
		"ip -o -4 addr show eth0; wget -q -O - http://$web_ip/index.html; cat /etc/resolv.conf; echo HOSTS; cat /etc/hosts" 2>&1)
	if [ -n "$web_ip" ] && grep -q "eth0 *inet ${web_ip%.*}\." <<<"$out" && grep -q hello-web <<<"$out"; then
		echo "ok   podman: a second container has an address of the network and reaches the first by IP"
		pass=$((pass + 1))
	else
		echo "FAIL podman: second container: out='$(tr '\n' ' ' <<<"$out")' (first at '$web_ip')"
		fail=$((fail + 1))
	fi
	if grep -q '^nameserver ' <<<"$out"; then
		echo "ok   podman: /etc/resolv.conf (a bind mount from the bundle) is there"; pass=$((pass + 1))
	else echo "FAIL podman: no nameserver in /etc/resolv.conf"; fail=$((fail + 1)); fi
	# the image has an empty /etc: what is there came from podman's bind mount
	if sed -n '/^HOSTS$/,$p' <<<"$out" | grep -q '^127\.0\.0\.1[[:space:]].*localhost'; then
		echo "ok   podman: /etc/hosts (a bind mount from the bundle) is there"; pass=$((pass + 1))
	else echo "FAIL podman: no localhost line in /etc/hosts: '$(sed -n '/^HOSTS$/,$p' <<<"$out" | tr '\n' ' ')'"
		fail=$((fail + 1)); fi
	# hold the namespace (a bind mount of our own), so that after podman rm
	# (which drops its own) there is still something to look into
	keep=ocivm-keep-$$
	if [ -n "$sk" ] && mkdir -p /run/netns && touch "/run/netns/$keep" &&
	   mount --bind "$sk" "/run/netns/$keep"; then
		if ip -n "$keep" -o link show | grep -q ' tap' &&
		   tc -n "$keep" filter show dev eth0 ingress | grep -q mirred; then
			echo "ok   podman: while it runs, its namespace has our tap and eth0's tc redirect"
			pass=$((pass + 1))
		else echo "FAIL podman: no tap or redirect in $sk: $(ip -n "$keep" -o link show | tr '\n' ' ')"
			fail=$((fail + 1)); fi
		"${P[@]}" rm -f ocivm-web >/dev/null 2>&1
		left=
		for i in $(seq 1 100); do
			left=$(ip -n "$keep" -o link show | grep ' tap'; for d in $(ip -n "$keep" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1); do
				tc -n "$keep" filter show dev "$d" ingress; tc -n "$keep" qdisc show dev "$d" | grep ingress; done)
			[ -z "$left" ] && break
			sleep 0.1
		done
		if [ -z "$left" ]; then
			echo "ok   podman rm: no tap, tc filter or ingress qdisc left in its namespace"; pass=$((pass + 1))
		else echo "FAIL podman rm: left in $sk: $(tr '\n' ' ' <<<"$left")"; fail=$((fail + 1)); fi
		umount "/run/netns/$keep"
		rm -f "/run/netns/$keep"
	else
		echo "FAIL podman: no network namespace to look into ('$sk')"; fail=$((fail + 1))
		"${P[@]}" rm -f ocivm-web >/dev/null 2>&1
	fi
fi
if [ "$ROOT" != /run/ocivm ]; then
	echo "skip podman's cleanup: OCIVM_TEST_ROOT is set (it runs ocivm with /run/ocivm)"; skip=$((skip + 1))
	exit
fi
for i in $(seq 1 100); do [ -z "$(ls "$ROOT/mnt/containers" 2>/dev/null)" ] && break; sleep 0.1; done
if [ -z "$(ls "$ROOT/mnt/containers" 2>/dev/null)" ]; then
	echo "ok   podman's cleanup deleted the container from the tree"; pass=$((pass + 1))
else
	echo "FAIL containers left in $ROOT/mnt/containers: $(ls "$ROOT/mnt/containers")"
	fail=$((fail + 1))
fi
