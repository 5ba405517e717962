# Cases of tree-fast.sh against the real ocivmfs over the real ops/ (sourced).
# No VM boots: every create here fails before the boot, and the containers
# that must exist are stopped records seeded into the state dir before the
# mount (the daemon reloads them as a restart would).

# seed_stopped STATE ID BUNDLE: a record of a stopped container
seed_stopped() {
	mkdir -p "$1/$2"
	cp "$3/config.json" "$1/$2/config.json"
	printf '{"id":"%s","bundle":"%s","status":"stopped","created":1,"exited":true,"exitStatus":3}\n' \
		"$2" "$3" > "$1/$2/state.json"
}

# real_bundles: bundles the real config parser accepts or refuses by path
real_bundles() {
	make_bundle "$T/rb" '{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"args":["/bin/sh"],"cwd":"/","user":{"uid":0,"gid":0}}}'
	make_bundle "$T/rbpath" '{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"args":"sh","cwd":"/","user":{"uid":0,"gid":0}}}'
}

# real_seed STATE: what cases_real expects to find at the mount
real_seed() {
	local st=$1
	seed_stopped "$st" old "$T/rb"
	for i in $(seq 0 15); do seed_stopped "$st" "s$i" "$T/rb"; done
	mkdir -p "$st/half"   # a create that died before its first record
	mkdir -p "$st/.bundles" && cp -r "$T/rb" "$st/.bundles/lost"   # ... of a mv create
}

cases_real() {   # MOUNT STATE
	local m=$1 st=$2 c=$1/containers/old pids n
	check "real: a seeded stopped container shows" test "$(cat "$c/status" 2>/dev/null)" = stopped
	check "real: a state dir entry without a record is removed at mount" test ! -e "$st/half"
	check "real: ... and log says so" grep -q 'half: removed: a create stopped before' "$m/log"
	check "real: the bundle of an unfinished mv create is back in incoming/" \
		test -f "$m/incoming/lost/config.json" -a ! -e "$st/.bundles/lost"
	check "real: ... and log says so" grep -q 'incoming/lost: the bundle of a create of lost' "$m/log"
	rm -rf "$m/incoming/lost"

	expect_err "real: duplicate id via ctl is EEXIST" "File exists" bash -c "echo 'create old $T/rb' > $m/ctl"
	check "real: ... and log says why" grep -q 'create old: old: a container with this id exists (EEXIST)' "$m/log"
	expect_err "real: duplicate id wins over a bad bundle (EEXIST, as runc)" "File exists" \
		bash -c "echo 'create old $T/nojson' > $m/ctl"
	expect_err "real: duplicate id via ln -s is EEXIST" "File exists" ln -sT "$T/rb" "$c"
	cp -r "$T/rb" "$m/incoming/dup"
	expect_err "real: duplicate id via mv is EEXIST" "File exists" mv -T "$m/incoming/dup" "$c"
	check "real: ... the bundle stays in incoming/" test -f "$m/incoming/dup/config.json"
	rm -rf "$m/incoming/dup"

	local op
	for op in start kill pause resume; do
		expect_err "real: $op of a stopped container is EBUSY" "Device or resource busy" \
			bash -c "echo $op > $c/ctl"
		check "real: ... log says why" grep -q "$op old: old: $op: container is stopped" "$m/log"
	done
	check "real: ... vm/last_error has the last reason" grep -q 'resume: container is stopped' "$c/vm/last_error"
	check "real: the refusals changed nothing" test "$(cat "$c/status")/$(cat "$c/exit")" = stopped/3
	check "real: vm/output shows the --max-output cap" grep -qx 'max_output 2097152' "$c/vm/output"
	check "real: ... and is listed in vm/" bash -c "ls $c/vm | grep -qx output"
	check "real: --cache-dir is made with its parents (no STATE/.images)" \
		test -d "$T/cache/images" -a ! -e "$st/.images"

	expect_err "real: empty id is EINVAL" "Invalid argument" bash -c "echo create > $m/ctl"
	check "real: ... and log says why" grep -q 'create needs a container id' "$m/log"
	expect_err "real: id with a leading dot is EINVAL" "Invalid argument" \
		bash -c "echo 'create .x $T/rb' > $m/ctl"
	check "real: oversized write: log gives the limit" grep -q 'the limit is 8192' "$m/log"
	expect_err "real: a wrong type in config.json is EINVAL" "Invalid argument" ln -s "$T/rbpath" "$m/containers/p"
	check "real: ... log names the JSON path" grep -q 'create (ln -s) p: process.args: must be an array (EINVAL)' "$m/log"
	check "real: ... log of the invalid JSON names the file" grep -q 'badjson.*config.json' "$m/log"
	check "real: ... log of the missing config.json says it is missing" \
		grep -q "nojson: bundle: $T/nojson/config.json: no such file" "$m/log"
	expect_err "real: a missing bundle directory is EINVAL" "Invalid argument" \
		bash -c "echo 'create nob $T/no/such/bundle' > $m/ctl"
	check "real: ... log says it is missing" grep -q "create nob: bundle $T/no/such/bundle: no such directory" "$m/log"
	check "real: ... nothing is left behind" test ! -e "$m/containers/p" -a ! -e "$st/p"

	pids=(); n=0
	for i in $(seq 0 15); do (echo delete > "$m/containers/s0/ctl") 2>/dev/null & pids+=($!); done
	for p in "${pids[@]}"; do wait "$p" && n=$((n + 1)); done
	check "real: 16 writers of delete on one ctl: exactly one applies" test $n = 1
	check "real: ... s0 is gone, state dir too" test ! -e "$m/containers/s0" -a ! -e "$st/s0"
	pids=(); n=0
	for i in $(seq 1 15); do (echo "delete s$i" > "$m/ctl") & pids+=($!); done
	(echo "delete s1" > "$m/ctl") 2>/dev/null & pids+=($!)
	for p in "${pids[@]}"; do wait "$p" && n=$((n + 1)); done
	check "real: 16 writers on MOUNT/ctl: 15 deletes apply, the repeat does not" test $n = 15
	check "real: ... each once in log" test "$(grep -c 'info delete s[0-9]*: done' "$m/log")" = 16
	check "real: ... the repeat has its reason" grep -q 'delete s1: s1: no such container (ENOENT)' "$m/log"
	check "real: ... no record left" test -z "$(ls "$st" | grep '^s[0-9]')"
	pids=(); n=0
	for i in $(seq 0 15); do (echo "create f$i $T/nojson" > "$m/ctl") 2>/dev/null & pids+=($!); done
	for p in "${pids[@]}"; do wait "$p" || n=$((n + 1)); done
	check "real: 16 concurrent bad creates: 16 refusals" test $n = 16
	check "real: ... 16 reasons in log" test "$(grep -c 'create f[0-9]*: .*config.json.*(EINVAL)' "$m/log")" = 16
	check "real: ... nothing left" test -z "$(ls "$st" | grep '^f[0-9]')$(ls "$m/containers" | grep '^f')"
	check "real: rmdir of a stopped container deletes it" rmdir "$c"
}

cases_real_enospc() {   # BINARY
	local bin=$1 m=$T/m4 small=$T/small4 st
	st=$small/state
	mkdir -p "$small"
	if ! mount -t tmpfs -o size=256k tmpfs "$small" 2>/dev/null; then
		skip "real enospc: cannot mount a small tmpfs here"; return
	fi
	mount_tree "$bin" "$m" "$st" || bad "real enospc: mount"
	dd if=/dev/zero of="$small/fill" bs=4k 2>/dev/null
	expect_err "real enospc: create on a full state dir is ENOSPC" "No space left" \
		bash -c "echo 'create full $T/rb' > $m/ctl"
	check "real enospc: ... log says which file" grep -q "create full: .*No space left on device (ENOSPC)" "$m/log"
	check "real enospc: ... nothing left behind" test ! -e "$m/containers/full" -a ! -e "$st/full"
	rm -f "$small/fill"
	dd if=/dev/zero of="$small/fill" bs=1k count=200 2>/dev/null   # room for the record, not the image
	expect_err "real enospc: no room for the rootfs image is ENOSPC" "No space left" \
		ln -s "$T/rb" "$m/containers/full2"
	check "real enospc: ... log names root.path" grep -q "create full2: .*root.path: .*(ENOSPC)" "$m/log"
	check "real enospc: ... nothing left behind" test ! -e "$st/full2" -a -z "$(ls "$st/.images/images")"
	unmount_tree "$m"
	wait_until 10 eval "! pgrep -f '^$bin .*--state-dir $st ' >/dev/null"
	umount "$small" || bad "real enospc: the daemon still holds the state dir"
}

# A daemon killed during an image build: its mke2fs dies with it
# (PR_SET_PDEATHSIG) and the next start removes the temporary image and the
# lock file (lock-checked).  A fake mke2fs (first in PATH) writes the
# temporary and waits, so the kill surely lands mid-build.
cases_real_killed_build() {   # BINARY
	local bin=$1 m=$T/m5 st=$T/state5 fake=$T/fakebin tag="ocivm-test-mke2fs-$$" dpid
	mkdir -p "$fake"
	printf '#!/bin/bash\nfor a; do tmp=$prev; prev=$a; done\necho partial > "$tmp"\nexec -a %s sleep 1000\n' \
		"$tag" > "$fake/mke2fs"
	chmod +x "$fake/mke2fs"
	PATH="$fake:$PATH" mount_tree "$bin" "$m" "$st" || bad "killed build: mount"
	ln -s "$T/rb" "$m/containers/kb" 2>/dev/null &
	check "killed build: the build runs (temporary image written)" \
		wait_until 30 eval "ls '$st'/.images/images/*.ext4.tmp.* >/dev/null 2>&1 && pgrep -f '^$tag' >/dev/null"
	dpid=$(pgrep -f "^$bin .*--state-dir $st " | head -1)
	kill -9 $dpid
	check "killed build: its mke2fs dies with the daemon" wait_until 10 eval "! pgrep -f '^$tag' >/dev/null"
	pkill -9 -f "^$tag" 2>/dev/null   # only this test's fake (unique tag)
	wait
	fusermount3 -u "$m" 2>/dev/null || fusermount3 -u -z "$m" 2>/dev/null
	mount_tree "$bin" "$m" "$st" || bad "killed build: remount"
	check "killed build: the restart removed the temporary image" \
		test -z "$(ls "$st/.images/images" "$st/.images/locks" 2>/dev/null | grep -v ':$' | grep .)"
	check "killed build: ... and log says so" grep -q 'removed 1 temporary image' "$m/log"
	check "killed build: the half-made container is gone" test ! -e "$m/containers/kb"
	unmount_tree "$m"
}
