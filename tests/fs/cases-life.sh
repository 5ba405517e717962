# Cases of tree-fast.sh with containers of the fake ops/ (sourced).

cases_lifecycle() {   # MOUNT
	local m=$1 c=$1/containers/life
	check "life: create via ctl with options" bash -c "echo 'create life $T/b pid=$$ terminal=0' > $m/ctl"
	check "life: containers/ID appears" test -d "$c"
	check "life: status is created" test "$(cat "$c/status")" = created
	check_with jq "life: state is OCI JSON" test "$(jq -r .status "$c/state")" = created
	check "life: bundle is a symlink to it" test "$(readlink "$c/bundle")" = "$T/b"
	check "life: config.json is the bundle's" diff -q "$c/config.json" "$T/b/config.json"
	check "life: exit is empty before it stops" test ! -s "$c/exit" -a -z "$(cat "$c/exit")"
	expect_err "life: duplicate id is EEXIST" "File exists" ln -sT "$T/b" "$c"
	expect_err "life: duplicate via ctl is EEXIST" "File exists" bash -c "echo 'create life $T/b' > $m/ctl"
	check "life: start" bash -c "echo start > $c/ctl"
	check "life: status is running" test "$(cat "$c/status")" = running
	expect_err "life: start twice is EBUSY" "Device or resource busy" bash -c "echo start > $c/ctl"
	check "life: ... vm/last_error has the reason" grep -q 'not created' "$c/vm/last_error"
	check "life: ... and so has log" grep -q 'start life.*not created' "$m/log"
	expect_err "life: unknown word in ID/ctl is EINVAL" "Invalid argument" bash -c "echo frob > $c/ctl"
	check "life: ... vm/last_error says which" grep -q 'unknown command "frob"' "$c/vm/last_error"
	expect_err "life: rmdir while running is EBUSY" "Device or resource busy" rmdir "$c"
	check "life: pause" bash -c "echo pause > $c/ctl && test \$(cat $c/status) = paused"
	check "life: resume" bash -c "echo resume > $c/ctl && test \$(cat $c/status) = running"
	expect_err "life: unknown signal is EINVAL" "Invalid argument" bash -c "echo 'kill NOSIG' > $c/ctl"
	check "life: kill KILL" bash -c "echo 'kill KILL' > $c/ctl"
	check "life: wait gives the exit status" test "$(cat "$c/wait")" = 137
	check "life: exit gives it too" test "$(cat "$c/exit")" = 137
	check "life: rmdir deletes a stopped container" rmdir "$c"
	check "life: ... and it is gone" test ! -e "$c"
	check "life: ln -s creates" ln -s "$T/b" "$m/containers/life2"
	check "life: ... the next lookup is the directory" test -d "$m/containers/life2" -a -f "$m/containers/life2/state"
	check "life: delete via its ctl" bash -c "echo delete > $m/containers/life2/ctl"
	check "life: ... and it is gone" test ! -e "$m/containers/life2"
}

cases_blocking() {   # MOUNT
	local m=$1 c=$1/containers/blk
	exec 7< "$m/events"   # opened now: events from here on
	timeout 300 cat <&7 > "$T/events.out" & local evpid=$!   # killed below; a backstop only
	exec 7<&-
	ln -s "$T/b" "$c" || bad "blk: create"
	cat "$c/stdout" > "$T/stdout.out" & local outpid=$!
	cat "$c/wait" > "$T/wait.out" & local waitpid=$!
	sleep 0.3
	check "blk: stdout read blocks before start" kill -0 $outpid
	check "blk: wait blocks while not stopped" kill -0 $waitpid
	echo start > "$c/ctl"
	check "blk: stdout follows the output" wait_until 10 grep -q "hello from blk" "$T/stdout.out"
	check "blk: stdin reaches the container" bash -c "echo ping > $c/stdin"
	check "blk: ... and its echo arrives" wait_until 10 grep -q ping "$T/stdout.out"
	echo 'kill TERM' > "$c/ctl"
	check "blk: wait returns when it stops" wait_until 10 eval "! kill -0 $waitpid 2>/dev/null"
	check "blk: ... with the status" test "$(cat "$T/wait.out")" = 143
	check "blk: stdout reaches EOF when it stops" wait_until 10 eval "! kill -0 $outpid 2>/dev/null"
	check "blk: events has created, running, stopped" wait_until 10 eval \
		"grep -q ' blk created\$' $T/events.out && grep -q ' blk running\$' $T/events.out && grep -q ' blk stopped\$' $T/events.out"
	check "blk: events lines are '<rfc3339> <id> <status>'" \
		grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z blk created$' "$T/events.out"
	[ -n "${DEBUG_FS_TEST:-}" ] && cat "$T/events.out"
	kill $evpid 2>/dev/null; wait $evpid 2>/dev/null
	cat "$m/events" > /dev/null & local intpid=$!
	sleep 0.3
	kill -TERM $intpid
	check "blk: a blocked reader can be killed (FUSE interrupt)" wait_until 10 eval "! kill -0 $intpid 2>/dev/null"
	check_with python3 "blk: a signal handler interrupts a blocked read (EINTR)" python3 -c "
import os,signal,sys
class Alarm(Exception): pass
def h(s,f): raise Alarm()
signal.signal(signal.SIGALRM, h); signal.alarm(1)
fd=os.open('$m/events', os.O_RDONLY)
try: os.read(fd,64); sys.exit(1)
except Alarm: sys.exit(0)"
	check_with python3 "blk: 300 reads interrupted at random moments all return (none left parked)" \
		timeout 60 python3 -c "
import os,random,signal,sys,time
class Alarm(Exception): pass
def h(s,f): raise Alarm()
signal.signal(signal.SIGALRM, h)
for i in range(300):
    fd=os.open('$m/events', os.O_RDONLY)
    try:
        signal.setitimer(signal.ITIMER_REAL, random.uniform(0.00005, 0.002))
        os.read(fd,64)
    except Alarm: pass
    finally: signal.setitimer(signal.ITIMER_REAL, 0)
    os.close(fd)"
	check_with python3 "blk: O_NONBLOCK read at no event is EAGAIN" python3 -c "
import os,errno,sys
fd=os.open('$m/events', os.O_RDONLY|os.O_NONBLOCK)
try: os.read(fd,4096); sys.exit(1)
except BlockingIOError: sys.exit(0)"
	check_with python3 "blk: poll on events wakes on a change" python3 -c "
import os,select,subprocess,sys
fd=os.open('$m/events', os.O_RDONLY|os.O_NONBLOCK)
p=select.poll(); p.register(fd, select.POLLIN)
if p.poll(200): sys.exit(2)
subprocess.run(['sh','-c','echo delete force > $c/ctl'], check=True)
sys.exit(0 if p.poll(10000) and b'blk' in os.read(fd,4096) else 1)"
	[ -d "$c" ] && echo "delete force" > "$c/ctl"
	check "blk: deleted" test ! -e "$c"
}

cases_incoming() {   # MOUNT STATE
	local m=$1 st=$2
	check "inc: cp -r a bundle into incoming/" cp -r "$T/b" "$m/incoming/inc1"
	check "inc: files, symlinks and contents kept" sh -c \
		"cmp -s $T/b/config.json $m/incoming/inc1/config.json && test \$(readlink $m/incoming/inc1/rootfs/bin/link) = file"
	check "inc: stored under the state dir" test -f "$st/.incoming/inc1/config.json"
	check "inc: rename inside incoming/" bash -c "mv $m/incoming/inc1 $m/incoming/inc2 && test -d $m/incoming/inc2"
	check "inc: mv incoming/ID containers/ID creates" mv "$m/incoming/inc2" "$m/containers/inc"
	check "inc: ... it is created" test "$(cat "$m/containers/inc/status")" = created
	check "inc: ... and left incoming/" test ! -e "$m/incoming/inc2"
	check "inc: bundle points into the state dir" test "$(readlink "$m/containers/inc/bundle")" = "$st/.bundles/inc"
	cp -r "$T/nojson" "$m/incoming/bad"
	check "inc: mv of a bundle without config.json fails (EINVAL)" eval "! mv $m/incoming/bad $m/containers/bad 2>/dev/null"
	check "inc: ... and log says why" grep -q 'create (mv) bad.*config.json.*(EINVAL)' "$m/log"
	check "inc: ... the bundle goes back to incoming/" test -d "$m/incoming/bad" -a ! -e "$m/containers/bad"
	check "inc: rm -r in incoming/" rm -r "$m/incoming/bad"
	check "inc: rmdir deletes, and the stored bundle goes" bash -c "rmdir $m/containers/inc && test ! -e $st/.bundles/inc"
}

# 200 files that each come and go under incoming/: the numbers of the
# inodes the kernel forgot are handed out again (fs/inctab.c), so the table
# holds the live ones only.  Before, every file ever looked up kept its
# entry and a number of its own (200 distinct numbers here), and each lookup
# scanned them all.
cases_incoming_numbers() {   # MOUNT
	local m=$1 n
	n=$(for i in $(seq 1 200); do
		echo x > "$m/incoming/num$i" && stat -c %i "$m/incoming/num$i" && rm "$m/incoming/num$i"
	    done | sort -u | wc -l)
	check "inc: 200 files in turn use few inode numbers ($n distinct; forgets are asynchronous)" \
		test "$n" -gt 0 -a "$n" -lt 100
}

cases_concurrent() {   # MOUNT
	local m=$1 pids=() n=0
	exec 7< "$m/events"
	timeout 300 cat <&7 > "$T/cc.events" & local evpid=$!   # killed below; a backstop only
	exec 7<&-
	for i in $(seq 0 15); do (echo "create cc$i $T/b" > "$m/ctl") & pids+=($!); done
	for p in "${pids[@]}"; do wait "$p" && n=$((n + 1)); done
	check "cc: 16 concurrent creates on one ctl all succeed" test $n = 16
	check "cc: ... 16 containers exist" test "$(ls "$m/containers" | grep -c '^cc')" = 16
	check "cc: ... each created exactly once (16 events)" wait_until 10 eval \
		"test \$(grep -c ' cc[0-9]* created\$' $T/cc.events) = 16"
	pids=(); n=0
	for i in $(seq 0 15); do (echo start > "$m/containers/cc0/ctl") 2>/dev/null & pids+=($!); done
	for p in "${pids[@]}"; do wait "$p" && n=$((n + 1)); done
	check "cc: 16 concurrent starts of one container: exactly one applies" test $n = 1
	kill $evpid 2>/dev/null; wait $evpid 2>/dev/null
	for i in $(seq 0 15); do echo "delete cc$i force" > "$m/ctl"; done
	check "cc: all deleted" test -z "$(ls "$m/containers")"
}

# stat's st_size of a generated file is the length a read gives, also for
# the large ones a stat no longer renders (state and config.json are
# remembered per container instance, status and pid; log, README,
# features.json counted): cmp and the page-cached README rely on it.
size_is_len() {   # FILE: it exists, is not empty, and stat's size is what cat reads
	local s n
	s=$(stat -c %s "$1") && n=$(cat "$1" | wc -c) && [ "$n" -gt 0 ] && [ "$s" = "$n" ] ||
		{ echo "# $1: stat size '${s:-}' read '${n:-}'"; return 1; }
}
cases_sizes() {   # MOUNT
	local m=$1 c=$1/containers/big b=$T/bigb ann f
	ann=$(for i in $(seq 1 300); do printf '"org.example.k%03d":"%s",' "$i" "$(printf 'v%.0s' $(seq 1 50))"; done)
	make_bundle "$b" "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"annotations\":{${ann%,}}}"
	check "sizes: ln -s of a container with a 20 KB config" ln -s "$b" "$c"
	for f in README features.json hypervisor log containers/big/state containers/big/config.json \
		 containers/big/status containers/big/pid containers/big/vm/driver; do
		check "sizes: $f: stat size = bytes read" size_is_len "$m/$f"
	done
	check "sizes: config.json is over 20 KB and the bundle's" \
		bash -c "test \$(stat -c %s $c/config.json) -gt 20000 && cmp -s $c/config.json $b/config.json"
	check "sizes: a second stat of state gives the same" test "$(stat -c %s "$c/state")" = "$(stat -c %s "$c/state")"
	check "sizes: start" bash -c "echo start > $c/ctl"
	check "sizes: state after start: stat size = bytes read" size_is_len "$c/state"
	check "sizes: ... and it says running" grep -q '"status":"running"' "$c/state"
	check "sizes: kill, stopped" bash -c "echo 'kill KILL' > $c/ctl && cat $c/wait >/dev/null"
	check "sizes: state when stopped: stat size = bytes read" size_is_len "$c/state"
	check "sizes: exit: stat size = bytes read" size_is_len "$c/exit"
	check "sizes: rmdir" rmdir "$c"
	# the same id made again from a smaller config: nothing of the first is kept
	check "sizes: ln -s big again from a small config" ln -s "$T/b" "$c"
	check "sizes: ... its config.json: stat size = bytes read" size_is_len "$c/config.json"
	check "sizes: ... and is the small one" cmp -s "$c/config.json" "$T/b/config.json"
	check "sizes: ... its state: stat size = bytes read" size_is_len "$c/state"
	check "sizes: log after all that: stat size = bytes read" size_is_len "$m/log"
	check "sizes: rmdir again" rmdir "$c"
}

# A create that fails after the container showed as creating (the fake's
# fake-boot-ms, then fake-fail-create: as a VM that dies while booting).  A
# lookup meanwhile gave the id a slot (its inode numbers); the failed create
# must free it: the id made again gets other inode numbers, so an inode the
# kernel kept of the failed one never names the new container.  Before, the
# slot stayed (the same inode came back, and every such id stayed in the
# table for good).
cases_create_fails_late() {   # MOUNT
	local m=$1 b=$T/latefail p i1 i2
	make_bundle "$b"
	echo 2000 > "$b/fake-boot-ms"
	touch "$b/fake-fail-create"
	(echo "create late $b" > "$m/ctl") 2>/dev/null & p=$!
	check "late: shows while creating" wait_until 20 test -d "$m/containers/late"
	i1=$(stat -c %i "$m/containers/late" 2>/dev/null)
	check "late: ... as creating" grep -q '"status":"creating"' "$m/containers/late/state"
	check "late: the create fails" eval "! wait $p"
	check "late: ... and log says why" grep -q 'late: the bundle has fake-fail-create' "$m/log"
	check "late: it is gone" test ! -e "$m/containers/late/state"
	rm "$b/fake-boot-ms" "$b/fake-fail-create"
	# the kernel may keep the name for its 1 s entry timeout: EEXIST until then
	check "late: made again" wait_until 10 ln -s "$b" "$m/containers/late"
	i2=$(stat -c %i "$m/containers/late" 2>/dev/null)
	check "late: ... with other inode numbers than the failed one ($i1, $i2)" \
		test -n "$i1" -a -n "$i2" -a "$i1" != "$i2"
	check "late: rmdir" rmdir "$m/containers/late"
}

# 100 ctl commands in flight on 100 containers, each waiting 20 s (the
# fake's fake-start-ms, as a start waits for the guest): a command that waits
# for a VM holds no FUSE worker (there are 64; fs/jobs.c), so reading
# another container's state answers at once.  Before, the first 64 starts
# held every worker for 20 s and the read waited for them.
cases_commands_in_flight() {   # MOUNT
	local m=$1 b=$T/slowstart pids=() n=0 t0 t1
	make_bundle "$b"
	echo "create fl-other $T/b" > "$m/ctl"
	for i in $(seq 1 100); do echo "create fl$i $b" > "$m/ctl"; done
	echo 20000 > "$b/fake-start-ms"
	for i in $(seq 1 100); do (echo start > "$m/containers/fl$i/ctl") & pids+=($!); done
	sleep 2   # let them reach the daemon (the check below does not depend on it)
	t0=$(date +%s%N)
	check "fl: with 100 starts waiting, cat state of another container answers" \
		timeout 15 grep -q created "$m/containers/fl-other/state"
	t1=$(date +%s%N)
	echo "# fl: cat state took $(( (t1 - t0) / 1000000 )) ms with 100 starts in flight"
	for p in "${pids[@]}"; do wait "$p" && n=$((n + 1)); done
	check "fl: all 100 starts then succeed" test $n = 100
	rm -f "$b/fake-start-ms"
	for i in $(seq 1 100); do echo "delete fl$i force" > "$m/ctl"; done
	echo "delete fl-other force" > "$m/ctl"
	check "fl: all deleted" test -z "$(ls "$m/containers")"
}

# 100 creates in flight: 50 by ln -s, 50 by MOUNT/ctl, the first of each
# booting 8 s, the others 100 ms (the fake's fake-boot-ms).  The kernel
# serializes each kind (the lock of containers/, the write lock of
# MOUNT/ctl: README "Known limits"), so most queue there, and the daemon
# answers each from a thread of its own (fs/jobs.c), not one of its 64
# workers.  Meanwhile reads of another container's state (its name cached,
# as after any use) answer at once: nothing the reads need is held across a
# boot (a lock held over the fake's boot fails this: 8 s).
cases_creates_in_flight() {   # MOUNT
	local m=$1 b=$T/slowboot b2=$T/fastboot pids=() n=0 t0 t1 worst=0 ms
	make_bundle "$b"
	make_bundle "$b2"
	echo "create cf-other $T/b" > "$m/ctl"
	cat "$m/containers/cf-other/state" > /dev/null
	echo 8000 > "$b/fake-boot-ms"
	echo 100 > "$b2/fake-boot-ms"
	ln -s "$b" "$m/containers/cf1" & pids+=($!)
	(echo "create cg1 $b" > "$m/ctl") & pids+=($!)
	sleep 1   # let them reach the daemon (not by reading: a read may be what waits)
	for i in $(seq 2 50); do
		ln -s "$b2" "$m/containers/cf$i" & pids+=($!)
		(echo "create cg$i $b2" > "$m/ctl") & pids+=($!)
	done
	for i in $(seq 1 10); do
		t0=$(date +%s%N)
		timeout 60 grep -q '"status":"created"' "$m/containers/cf-other/state" || worst=999999
		t1=$(date +%s%N)
		ms=$(( (t1 - t0) / 1000000 ))
		[ "$ms" -gt "$worst" ] && worst=$ms
		sleep 0.2
	done
	echo "# cf: with 100 creates in flight, the slowest of 10 reads of another state took $worst ms"
	check "cf: with 100 creates in flight, state of another container answers (under 3 s each)" \
		test "$worst" -lt 3000
	for p in "${pids[@]}"; do wait "$p" && n=$((n + 1)); done
	check "cf: all 100 creates then succeed" test $n = 100
	for i in $(seq 1 50); do echo "delete cf$i" > "$m/ctl"; echo "delete cg$i" > "$m/ctl"; done
	echo "delete cf-other" > "$m/ctl"
	check "cf: all deleted" test -z "$(ls "$m/containers")"
}

cases_restart() {   # MOUNT BINARY STATE
	local m=$1 bin=$2 st=$3
	echo "create keep $T/b" > "$m/ctl"
	echo "create run $T/b" > "$m/ctl" && echo start > "$m/containers/run/ctl"
	local pid; pid=$(pgrep -n -f "^$bin .*--state-dir $st ")
	kill -TERM "$pid"
	check "restart: SIGTERM unmounts cleanly" wait_until 10 eval "! is_mounted $m"
	mount_tree "$bin" "$m" "$st" ${ROOT:+--allow-other} || bad "restart: remount"
	check "restart: containers show again" test -d "$m/containers/keep" -a -d "$m/containers/run"
	check "restart: created stays created" test "$(cat "$m/containers/keep/status")" = created
	check "restart: bundle kept" test "$(readlink "$m/containers/keep/bundle")" = "$T/b"
	pid=$(pgrep -n -f "^$bin .*--state-dir $st ")
	kill -KILL "$pid"
	wait_until 10 eval "! kill -0 $pid"
	mount_tree "$bin" "$m" "$st" ${ROOT:+--allow-other} || bad "restart: remount after SIGKILL"
	check "restart: after SIGKILL the dead mount is replaced" grep -q 'dead ocivmfs mount' "$m/log"
	check "restart: ... and the containers show again" test "$(cat "$m/containers/keep/status")" = created
	echo "delete keep force" > "$m/ctl"; echo "delete run force" > "$m/ctl"
}

# A dead mount that neither umount2 nor fusermount3 can detach (the daemon
# runs without CAP_SYS_ADMIN, so the setuid helper has none either): the
# daemon says why in its log (stderr under --debug), then fails to mount.
cases_dead_mount_stuck() {   # BINARY
	local bin=$1 m=$T/mdead st=$T/stdead pid out sp
	sp=$(command -v setpriv) || { skip "dead mount: needs setpriv"; return; }
	mount_tree "$bin" "$m" "$st" || { bad "dead mount: mount"; return; }
	pid=$(pgrep -n -f "^$bin .*--state-dir $st ")
	kill -KILL "$pid"
	wait_until 10 eval "! kill -0 $pid"
	out=$(timeout 120 env PATH="/nonexistent-$$" "$sp" --bounding-set -sys_admin \
		--inh-caps -sys_admin "$bin" --foreground --debug --state-dir "$st" "$m" 2>&1)
	check "dead mount: no fusermount3 on PATH: the reason, not silence" grep -q \
		"cannot detach the dead mount: umount2: Operation not permitted; running fusermount3: No such file or directory" <<<"$out"
	out=$(timeout 120 "$sp" --bounding-set -sys_admin --inh-caps -sys_admin \
		"$bin" --foreground --debug --state-dir "$st" "$m" 2>&1)
	check "dead mount: fusermount3 fails too: its exit status" grep -q \
		"cannot detach the dead mount: umount2: Operation not permitted; fusermount3 -u -z: exit status 1" <<<"$out"
	check "dead mount: ... and the daemon does not mount" grep -q "cannot mount on $m" <<<"$out"
	umount -l "$m"
}

cases_enospc() {   # BINARY
	local bin=$1 m=$T/m3
	mkdir -p "$T/small"
	if ! mount -t tmpfs -o size=256k tmpfs "$T/small" 2>/dev/null; then
		skip "enospc: cannot mount a small tmpfs here"; return
	fi
	mount_tree "$bin" "$m" "$T/small/state" || bad "enospc: mount"
	dd if=/dev/zero of="$T/small/fill" bs=4k 2>/dev/null
	expect_err "enospc: create on a full state dir is ENOSPC" "No space left" \
		bash -c "echo 'create full $T/b' > $m/ctl"
	check "enospc: ... nothing left behind" test ! -e "$m/containers/full"
	expect_err "enospc: cp into a full incoming/ is ENOSPC" "No space left" cp -r "$T/b" "$m/incoming/x"
	unmount_tree "$m"
	wait_until 10 eval "! pgrep -f '^$bin .*--state-dir $T/small/state ' >/dev/null"
	umount "$T/small" || bad "enospc: the daemon still holds the state dir after unmount"
}
