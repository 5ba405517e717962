# Cases of tree-vm.sh: the id limit (OPS_ID_MAX, ops/ops.h) holds in every
# layer, whatever the state dir (sourced; issue 16 point 1).  Under a state
# dir of ~600 bytes the longest valid id (250) creates, survives a daemon
# restart, starts and runs: the VM's sockets (STATE/ID/vm/*.sock, ~880
# bytes, where sun_path holds 108) are bound and reached through their
# directory.  One byte more is EINVAL with the reason in MOUNT/log.

cases_vm_longid() {
	local st=$T/ls ml=$T/ml id250 id251 c code vmpid
	st=$st$(printf '/%099d' 1 2 3 4 5 6)   # ~620 bytes
	id250=L$(printf 'x%.0s' $(seq 249))
	id251=${id250}y
	c=$ml/containers/$id250
	mount_tree "$BIN" "$ml" "$st" --cache-dir "$T/state/.images" ||
		{ bad "long id: mount with a ${#st}-byte state dir"; return; }
	echo "# long id: state dir ${#st} bytes, id ${#id250}, socket path $(( ${#st} + ${#id250} + 15 )) bytes"
	check "long id: a 250-byte id creates (VM boots)" ln -s "$(realpath "$BUNDLE")" "$c"
	check "long id: its sockets are in its run dir" \
		test -S "$st/$id250/vm/chan.sock" -a -S "$st/$id250/vm/control.sock"
	vmpid=$(cat "$c/pid" 2>/dev/null)
	unmount_tree "$ml"
	wait_until 10 eval "! pgrep -f '^$BIN .*--state-dir $st ' >/dev/null"
	check "long id: the VM outlives the daemon" kill -0 "$vmpid"
	mount_tree "$BIN" "$ml" "$st" --cache-dir "$T/state/.images" || bad "long id: remount"
	check "long id: after a restart it is re-attached, created" \
		test "$(cat "$c/status" 2>/dev/null)" = created
	check "long id: ... log says so" grep -q "re-attached to its VM" "$ml/log"
	cat "$c/stdout" > "$T/ls.out" 2>/dev/null &
	check "long id: start (through the re-attached channel)" bash -c "echo start > '$c/ctl'"
	check "long id: stdin takes a script" bash -c "printf 'echo long-id-runs\nexit 4\n' > '$c/stdin'"
	code=$(timeout 120 cat "$c/wait" 2>/dev/null)
	check "long id: wait gives 4" test "$code" = 4
	check "long id: stdout has its output" wait_until 10 grep -q long-id-runs "$T/ls.out"
	check "long id: rmdir deletes it" rmdir "$c"
	check "long id: ... and its image reference (owner = the id)" \
		test ! -e "$T/state/.images/owners/$id250"
	expect_err "long id: 251 bytes is EINVAL (ln -s)" "Invalid argument" \
		ln -s "$(realpath "$BUNDLE")" "$ml/containers/$id251"
	check "long id: ... log says why" grep -q "id: longer than 250 bytes" "$ml/log"
	expect_err "long id: 251 bytes is EINVAL (ctl create)" "Invalid argument" \
		bash -c "echo 'create $id251 $(realpath "$BUNDLE")' > '$ml/ctl'"
	check "long id: ... nothing was left in the state dir" test ! -e "$st/$id251"
	expect_err "long id: 'a..b' is EINVAL" "Invalid argument" \
		ln -s "$(realpath "$BUNDLE")" "$ml/containers/a..b"
	check "long id: ... log says why" grep -qF 'must not start with '"'"'.'"'"' or contain ".."' "$ml/log"
	unmount_tree "$ml"
}
