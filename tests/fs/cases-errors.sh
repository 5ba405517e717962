# Cases of tree-fast.sh that need no running container (sourced).

cases_static() {   # MOUNT LABEL
	local m=$1 l=$2
	check "$l: README says how to create" grep -q 'ln -s /abs/path/to/bundle containers/ID' "$m/README"
	check_with jq "$l: features.json is JSON" jq -e .ociVersionMin "$m/features.json" >/dev/null
	check "$l: hypervisor says which driver" test -s "$m/hypervisor"
	check "$l: log has the mount line" grep -q 'mounted' "$m/log"
	check "$l: tree lists the contract's names" \
		test "$(ls "$m" | tr '\n' ' ')" = "README containers ctl events features.json hypervisor incoming log templates "
	check "$l: tree owned by the mounting user" test "$(stat -c %u "$m/ctl")" = "$(id -u)"
}

# templates/ over the fake ops, which keeps one template until rmdir
cases_templates() {   # MOUNT
	local m=$1 k=f00dfeed0123456789abcdef0123456789abcdef0123456789abcdef01234567
	check "templates: the directory lists the template" test "$(ls "$m/templates")" = "$k"
	check "templates: KEY holds inputs size created uses" \
		test "$(ls "$m/templates/$k" | tr '\n' ' ')" = "created inputs size uses "
	check "templates: inputs" grep -qx 'driver fake' "$m/templates/$k/inputs"
	check "templates: size, uses" test "$(cat "$m/templates/$k/size") $(cat "$m/templates/$k/uses")" = "4096 2"
	check "templates: created is RFC 3339 UTC" grep -qx '2025-12-05T02:00:00Z' "$m/templates/$k/created"
	check "templates: an unknown key is ENOENT" test ! -e "$m/templates/0000"
	expect_err "templates: rm of a file is refused" "Operation not permitted" rm -f "$m/templates/$k/uses"
	check "templates: ... log says rmdir drops one" grep -q 'rmdir templates/KEY drops a template' "$m/log"
	check "templates: rmdir drops it" rmdir "$m/templates/$k"
	check "templates: ... it is gone" test -z "$(ls "$m/templates")"
	expect_err "templates: rmdir again is ENOENT" "No such file or directory" rmdir "$m/templates/$k"
}

cases_errors() {   # MOUNT LABEL
	local m=$1 l=$2
	expect_err "$l: unknown ctl command is EINVAL" "Invalid argument" bash -c "echo frobnicate x > $m/ctl"
	check "$l: ... and log names it" grep -q 'unknown command "frobnicate"' "$m/log"
	expect_err "$l: empty ctl command is EINVAL" "Invalid argument" bash -c "echo > $m/ctl"
	expect_err "$l: two commands in one write is EINVAL" "Invalid argument" \
		bash -c "printf 'start a\nstart b\n' > $T/two; dd if=$T/two of=$m/ctl bs=64 count=1 status=none"
	expect_err "$l: oversized ctl write is E2BIG" "Argument list too long" \
		bash -c "head -c 9000 /dev/zero | tr '\\0' a > $T/big; dd if=$T/big of=$m/ctl bs=9000 count=1 status=none"
	expect_err "$l: id '..' is EINVAL" "Invalid argument" bash -c "echo 'create .. $T/b' > $m/ctl"
	expect_err "$l: id with '/' is EINVAL" "Invalid argument" bash -c "echo 'create a/b $T/b' > $m/ctl"
	expect_err "$l: id over the length limit is EINVAL" "Invalid argument" \
		bash -c "echo 'create $(printf 'x%.0s' $(seq 300)) $T/b' > $m/ctl"
	# the one limit (OPS_ID_MAX 250, ops/ops.h) and rule, through fs/
	local id250; id250=L$(printf 'x%.0s' $(seq 249))
	if [ "$l" = fake ]; then   # the real daemon cannot boot $T/b: tree-vm.sh has it
		check "$l: a 250-byte id is accepted (ln -s)" ln -s "$T/b" "$m/containers/$id250"
		check "$l: ... and removed (rmdir)" rmdir "$m/containers/$id250"
	else
		ln -s "$T/b" "$m/containers/$id250" 2>/dev/null
		check "$l: a 250-byte id is not refused for its id" \
			bash -c "grep -F '(ln -s) $id250: ' '$m/log' | tail -n 1 | grep -qv ': id[: ]'"
	fi
	expect_err "$l: a 251-byte id is EINVAL" "Invalid argument" ln -s "$T/b" "$m/containers/${id250}y"
	check "$l: ... log says why" grep -q 'id: longer than 250 bytes' "$m/log"
	expect_err "$l: id 'a..b' is EINVAL" "Invalid argument" bash -c "echo 'create a..b $T/b' > $m/ctl"
	check "$l: ... log says why" grep -qF 'contain ".."' "$m/log"
	expect_err "$l: id with raw bytes (0xff, ESC) is EINVAL" "Invalid argument" \
		bash -c "printf 'create bad\\377\\033[2J $T/b\\n' > $m/ctl"
	check "$l: ... log escapes them (\\xff, \\x1b)" grep -qF 'bad\xff\x1b[2J' "$m/log"
	check "$l: ... log holds no raw control or 8-bit byte" \
		bash -c "! LC_ALL=C grep -q \$'[\\x01-\\x09\\x0b-\\x1f\\x7f-\\xff]' '$m/log'"
	expect_err "$l: a 900-byte bundle path is EINVAL" "Invalid argument" \
		bash -c "echo 'create longpath $T$(printf '/%099d' $(seq 9))' > $m/ctl"
	check "$l: ... its log line keeps the errno at the end" \
		grep -qE 'create longpath: .*\.\.\..*\(EINVAL\)$' "$m/log"
	expect_err "$l: id with a space via ln -s is EINVAL" "Invalid argument" ln -s "$T/b" "$m/containers/a b"
	expect_err "$l: relative bundle is EINVAL" "Invalid argument" bash -c "echo 'create rel b' > $m/ctl"
	expect_err "$l: ln -s of a relative bundle is EINVAL" "Invalid argument" ln -s b "$m/containers/rel"
	expect_err "$l: bundle without config.json is EINVAL" "Invalid argument" ln -s "$T/nojson" "$m/containers/nojson"
	check "$l: ... and log names config.json" grep -q 'nojson.*config.json' "$m/log"
	expect_err "$l: invalid config.json is EINVAL" "Invalid argument" ln -s "$T/badjson" "$m/containers/badjson"
	check "$l: ... nothing is left behind" test ! -e "$m/containers/badjson" -a ! -e "$m/containers/nojson"
	expect_err "$l: unknown create option is EINVAL" "Invalid argument" \
		bash -c "echo 'create opt $T/b color=red' > $m/ctl"
	expect_err "$l: start of a missing container is ENOENT" "No such file" bash -c "echo 'start nosuch' > $m/ctl"
	expect_err "$l: mkdir containers/ID is refused" "Operation not permitted" mkdir "$m/containers/x"
	check "$l: ... and log says how to create" grep -q 'mkdir containers/ID.*ln -s' "$m/log"
	expect_err "$l: writing a read-only file fails" "Permission denied" bash -c "echo x > $m/README"
	check "$l: ... and log says why" grep -q 'open README: not open for that access mode' "$m/log"
	expect_err "$l: creating files outside incoming/ fails" "Permission denied" touch "$m/newfile"
	expect_err "$l: rmdir of a missing container is ENOENT" "No such file" rmdir "$m/containers/nosuch"
}

cases_permissions() {   # MOUNT BINARY
	local m=$1 bin=$2
	local as_nobody="setpriv --reuid=65534 --regid=65534 --clear-groups"
	check "perm: others may read with --allow-other" $as_nobody cat "$m/README" >/dev/null
	expect_err "perm: others may not write ctl" "Permission denied" $as_nobody bash -c "echo 'create p $T/b' > $m/ctl"
	expect_err "perm: others may not create by ln -s" "Permission denied" $as_nobody ln -s "$T/b" "$m/containers/p"
	mount_tree "$bin" "$T/m2" "$T/state2" || bad "perm: second mount"
	expect_err "perm: without --allow-other others may not read" "Permission denied" \
		$as_nobody cat "$T/m2/README"
	unmount_tree "$T/m2"
}

# The state dir is made by ops_open (ops/staging.c): missing parents 0755,
# the dir 0700, relative paths the caller's; one that cannot be made stops
# the mount with errno and path, exit status 1, nothing mounted.
cases_state_dir() {   # BINARY LABEL
	local bin l=$2 m=$T/msd-$2 out rc want
	bin=$(realpath "$1")
	mkdir -p "$m"
	: > "$T/plain-$l"
	out=$("$bin" --state-dir "$T/plain-$l/state" "$m" 2>&1); rc=$?
	check "statedir ($l): one under a regular file: exit status 1" test "$rc" = 1
	want="ocivmfs: state dir $T/plain-$l/state: Not a directory"
	check "statedir ($l): ... says \"$want\" (got \"$out\")" test "$out" = "$want"
	check "statedir ($l): ... nothing mounted" eval "! is_mounted '$m'"
	out=$(cd "$T" && "$bin" --state-dir "new-$l/a/state" "$m" 2>&1); rc=$?
	check "statedir ($l): missing parents (relative): mounted (got \"$out\")" test "$rc" = 0 -a -e "$m/README"
	want=$(printf '%o %o 700' $((0755 & ~$(umask))) $((0755 & ~$(umask))))
	check "statedir ($l): ... parents $(printf '%o' $((0755 & ~$(umask)))) (0755 & ~umask), the dir 0700" \
		test "$(stat -c %a "$T/new-$l" "$T/new-$l/a" "$T/new-$l/a/state" | tr '\n' ' ')" = "$want "
	check "statedir ($l): ... log names it by its absolute path" \
		grep -q "(state $T/new-$l/a/state," "$m/log"
	unmount_tree "$m"
}
