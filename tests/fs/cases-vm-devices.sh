# Cases of tree-vm.sh: linux.devices are made in the guest with every field,
# and one the VM cannot have is refused at create (sourced; issue 17 item 10).

# vm_bundle NAME JQ-FILTER: the busybox bundle's config changed by jq; the
# rootfs is shared (root.path absolute), so its cached image is reused
# (vm_bundle NAME --arg K V FILTER passes one more jq variable)
vm_bundle() {
	local name=$1; shift
	local extra=(); [ "$1" = --arg ] && { extra=(--arg "$2" "$3"); shift 3; }
	mkdir -p "$T/$name"
	jq "${extra[@]}" --arg root "$(realpath "$BUNDLE/rootfs")" \
		".root.path = \$root | .process.terminal = false | $1" \
		"$BUNDLE/config.json" > "$T/$name/config.json"
}

cases_vm_devices() {   # MOUNT
	local m=$1 c=$1/containers/dv code
	if ! command -v jq >/dev/null; then skip "devices: needs jq"; return; fi
	vm_bundle dv '.process.args = ["sh","-c","stat -c \"%n|%F|%t %T|%a|%u %g\" /dev/test1 /dev/blk /dev/fifo /dev/sub/null2"] |
	  .linux.devices = [
	    {"path":"/dev/test1","type":"c","major":1,"minor":3,"fileMode":420,"uid":1,"gid":2},
	    {"path":"/dev/blk","type":"b","major":254,"minor":0,"fileMode":384,"uid":0,"gid":6},
	    {"path":"/dev/fifo","type":"p","fileMode":438},
	    {"path":"/dev/sub/null2","type":"u","major":1,"minor":3}]'
	check "devices: create with linux.devices" ln -s "$T/dv" "$c"
	cat "$c/stdout" > "$T/dv.out" 2>/dev/null &
	check "devices: start" bash -c "echo start > $c/ctl"
	code=$(timeout 120 cat "$c/wait" 2>/dev/null)
	check "devices: stat ran (exit 0)" test "$code" = 0
	wait_until 10 grep -q null2 "$T/dv.out"
	check "devices: /dev/test1 c 1:3 0644 uid 1 gid 2" grep -qx '/dev/test1|character special file|1 3|644|1 2' "$T/dv.out"
	check "devices: /dev/blk b 254:0 0600 gid 6" grep -qx '/dev/blk|block special file|fe 0|600|0 6' "$T/dv.out"
	check "devices: /dev/fifo p 0666" grep -qx '/dev/fifo|fifo|0 0|666|0 0' "$T/dv.out"
	check "devices: u is a char device; defaults 0666 0:0; parent made" \
		grep -qx '/dev/sub/null2|character special file|1 3|666|0 0' "$T/dv.out"
	[ "$FAIL" -gt 0 ] && sed 's/^/# dv: /' "$T/dv.out"
	rmdir "$c" 2>/dev/null
	vm_bundle dvbad '.linux.devices = [{"path":"/dev/null","type":"c","major":1,"minor":3},
	    {"path":"/dev/kvm","type":"c","major":10,"minor":232,"fileMode":438}]'
	expect_err "devices: a host device the VM has not (/dev/kvm) fails the create" "Input/output error" \
		ln -s "$T/dvbad" "$m/containers/dvbad"
	check "devices: ... log says which and why" \
		grep -q 'dvbad: .*linux.devices\[1\] /dev/kvm (c 10:232): no such device in the VM (host devices are not passed through)' "$m/log"
	check "devices: ... nothing left behind" test ! -e "$m/containers/dvbad"
}
