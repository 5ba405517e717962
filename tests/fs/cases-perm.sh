# Cases of tree-fast.sh (root only): with --allow-other, other users see
# the tree's public files but nothing of a container; --group GID lets
# that group read a container's files and write its ctl (issue 17 item 9).

cases_privacy() {   # MOUNT (fake, --allow-other) BINARY
	local m=$1 bin=$2 c=$1/containers/priv g=$T/mg
	local nobody="setpriv --reuid=65534 --regid=65534 --clear-groups"
	local member="setpriv --reuid=65534 --regid=65534 --groups=4242"
	ln -s "$T/b" "$c" && echo start > "$c/ctl"
	wait_until 10 grep -q hello "$c/stdout"
	check "priv: others read README and features.json" \
		$nobody bash -c "cat '$m/README' '$m/features.json' >/dev/null"
	check "priv: others list the ids" $nobody bash -c "ls '$m/containers' | grep -qx priv"
	local f
	for f in stdout config.json state console; do
		expect_err "priv: others may not read containers/ID/$f" "Permission denied" \
			$nobody timeout 10 cat "$c/$f"
	done
	expect_err "priv: others may not read log" "Permission denied" $nobody cat "$m/log"
	expect_err "priv: others may not list incoming/" "Permission denied" $nobody ls "$m/incoming"
	expect_err "priv: others may not create through MOUNT/ctl" "Permission denied" \
		$nobody bash -c "echo 'create x $T/b' > '$m/ctl'"
	expect_err "priv: others may not ln -s into containers/" "Permission denied" \
		$nobody ln -s "$T/b" "$m/containers/x"
	expect_err "priv: others may not kill through containers/ID/ctl" "Permission denied" \
		$nobody bash -c "echo 'kill KILL' > '$c/ctl'"
	check "priv: and nothing of theirs exists" test ! -e "$m/containers/x"
	check "priv: modes: dir 0700, stdout 0400, ctl 0600, stdin 0200, README 0444" \
		test "$(stat -c %a "$c" "$c/stdout" "$c/ctl" "$c/stdin" "$m/README" | tr '\n' ' ')" = "700 400 600 200 444 "
	echo 'delete force' > "$c/ctl"

	mount_tree "$bin" "$g" "$T/stateg" --allow-other --group 4242 || { bad "priv: mount --group"; return; }
	ln -s "$T/b" "$g/containers/gp"
	check "priv: --group: modes 0750 dir, 0440 stdout, 0660 ctl, 0220 stdin, group 4242" \
		test "$(stat -c '%a %g' "$g/containers/gp" "$g/containers/gp/stdout" "$g/containers/gp/ctl" \
			"$g/containers/gp/stdin" | tr '\n' ' ')" = "750 4242 440 4242 660 4242 220 4242 "
	check "priv: --group: a member may start it (ctl)" $member bash -c "echo start > '$g/containers/gp/ctl'"
	check "priv: --group: a member reads stdout" \
		wait_until 10 $member timeout 5 grep -q 'hello from gp' "$g/containers/gp/stdout"
	check "priv: --group: a member reads config.json and log" \
		$member bash -c "cat '$g/containers/gp/config.json' '$g/log' >/dev/null"
	expect_err "priv: --group: a member may not create (MOUNT/ctl)" "Permission denied" \
		$member bash -c "echo 'create x $T/b' > '$g/ctl'"
	expect_err "priv: --group: others still may not read stdout" "Permission denied" \
		$nobody timeout 10 cat "$g/containers/gp/stdout"
	echo 'delete force' > "$g/containers/gp/ctl"
	unmount_tree "$g"
	expect_err "priv: --group with an unknown name is refused" "no such group" \
		"$bin" --state-dir "$T/stateg2" --group no-such-group-here "$T/mg2"
}
