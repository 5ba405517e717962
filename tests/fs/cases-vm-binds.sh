# Cases of tree-vm.sh: bind mounts of small host files and directories are
# copies in the guest (podman's /etc/resolv.conf, /etc/hosts, ... style);
# issue 17 item 8.  Uses vm_bundle from cases-vm-devices.sh.

cases_vm_binds() {   # MOUNT
	local m=$1 c=$1/containers/bm code h=$T/hostfiles
	if ! command -v jq >/dev/null; then skip "binds: needs jq"; return; fi
	mkdir -p "$h/dir/sub"
	printf 'nameserver 192.0.2.53\n' > "$h/resolv.conf"
	printf 'in-a-dir\n' > "$h/dir/sub/f"
	ln -s sub/f "$h/dir/link"
	vm_bundle bm --arg h "$h" '.process.args = ["sh","-c","cat /etc/resolv.conf /mnt/d/link; ls -ld /mnt/d/sub | cut -c1-10; echo w > /etc/resolv.conf || echo ro-refused; echo w > /mnt/d/sub/f && cat /mnt/d/sub/f"] |
	  .mounts += [{"destination":"/etc/resolv.conf","type":"bind","source":($h + "/resolv.conf"),"options":["rbind","ro"]},
	              {"destination":"/mnt/d","type":"bind","source":($h + "/dir"),"options":["rbind","rw"]}]'
	check "binds: create with host bind mounts (copied)" ln -s "$T/bm" "$c"
	cat "$c/stdout" > "$T/bm.out" 2>/dev/null &
	check "binds: start" bash -c "echo start > $c/ctl"
	code=$(timeout 120 cat "$c/wait" 2>/dev/null)
	check "binds: ran (exit 0)" test "$code" = 0
	wait_until 10 grep -q '^w$' "$T/bm.out"
	check "binds: a host file's content at the destination" grep -qx 'nameserver 192.0.2.53' "$T/bm.out"
	check "binds: a host tree, its symlink and subdirectory" \
		bash -c "grep -qx in-a-dir '$T/bm.out' && grep -qx drwxr-xr-x '$T/bm.out'"
	check "binds: ro is read-only in the guest" grep -qx ro-refused "$T/bm.out"
	check "binds: rw is writable in the guest, and the host file is untouched (a copy)" \
		bash -c "grep -qx w '$T/bm.out' && test \"\$(cat '$h/dir/sub/f')\" = in-a-dir"
	[ "$FAIL" -gt 0 ] && sed 's/^/# bm: /' "$T/bm.out"
	rmdir "$c" 2>/dev/null
}
