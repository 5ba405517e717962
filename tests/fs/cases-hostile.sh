# Cases of tree-fast.sh: hostile configs the real ocivmfs refuses at create,
# before anything is built or booted (sourced; issue 17 items 5, 8).

# hostile_bundle NAME VM-JSON [TOP-JSON]: a bundle with a kernel inside it
hostile_bundle() {
	make_bundle "$T/$1" "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[\"/bin/sh\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0}},\"vm\":{\"kernel\":{\"path\":\"$T/$1/vmlinuz\"}$2}${3:-}}"
	echo k > "$T/$1/vmlinuz"
}

cases_hostile() {   # MOUNT STATE
	local m=$1 st=$2 q=/usr/bin/qemu-system-x86_64
	# item 5: hypervisor parameters that ran host code or wrote host files
	printf '#!/bin/sh\ntouch %s/helper-ran\n' "$T" > "$T/helper.sh"; chmod 755 "$T/helper.sh"
	hostile_bundle hnet ",\"hypervisor\":{\"path\":\"$q\",\"parameters\":[\"-netdev\",\"bridge,id=n0,br=br0,helper=$T/helper.sh\",\"-device\",\"virtio-net-device,netdev=n0\"]}"
	expect_err "hostile: -netdev bridge,helper= is EINVAL" "Invalid argument" ln -s "$T/hnet" "$m/containers/hnet"
	check "hostile: ... log names the JSON path and the parameter" \
		grep -q 'hnet: vm.hypervisor.parameters\[0\] "-netdev": not on qemu.s allowlist.*(EINVAL)' "$m/log"
	check "hostile: ... the helper did not run, nothing left" \
		test ! -e "$T/helper-ran" -a ! -e "$m/containers/hnet" -a ! -e "$st/hnet"
	hostile_bundle hlog ",\"hypervisor\":{\"path\":\"$q\",\"parameters\":[\"-smp\",\"1\",\"-D\",\"$T/root-owned\"]}"
	expect_err "hostile: -D FILE is EINVAL" "Invalid argument" ln -s "$T/hlog" "$m/containers/hlog"
	check "hostile: ... log names it, no file made" \
		bash -c "grep -q 'hlog: vm.hypervisor.parameters\[2\] \"-D\"' '$m/log' && test ! -e '$T/root-owned'"
	hostile_bundle hcpu ",\"hypervisor\":{\"path\":\"$q\",\"parameters\":[\"-cpu\",\"max,x=/etc/shadow\"]}"
	expect_err "hostile: a path in a -cpu value is EINVAL" "Invalid argument" ln -s "$T/hcpu" "$m/containers/hcpu"
	check "hostile: ... log says the value is refused" \
		grep -q 'hcpu: vm.hypervisor.parameters\[1\] "max,x=/etc/shadow": not allowed as the value of -cpu' "$m/log"
	# item 5: a hypervisor binary anyone but root could have written
	cp "$T/helper.sh" "$T/qemu-system-x86_64"
	hostile_bundle hbin ",\"hypervisor\":{\"path\":\"$T/qemu-system-x86_64\"}"
	expect_err "hostile: vm.hypervisor.path under /tmp is EINVAL" "Invalid argument" ln -s "$T/hbin" "$m/containers/hbin"
	check "hostile: ... log says why, and it did not run" \
		bash -c "grep -q 'hbin: vm.hypervisor.path $T/qemu-system-x86_64: /tmp is not root.s or is writable by others than root' '$m/log' && test ! -e '$T/helper-ran'"
	# item 5: host files as the VM image, kernel or initrd
	hostile_bundle himg ",\"image\":{\"path\":\"/etc/shadow\",\"format\":\"raw\"}"
	expect_err "hostile: vm.image.path /etc/shadow is EINVAL" "Invalid argument" ln -s "$T/himg" "$m/containers/himg"
	check "hostile: ... log says why" \
		grep -q 'himg: vm.image.path /etc/shadow: outside the bundle and not readable by all: refused' "$m/log"
	hostile_bundle hlnk ",\"image\":{\"path\":\"$T/hlnk/disk\",\"format\":\"raw\"}"
	ln -s /etc/shadow "$T/hlnk/disk"
	expect_err "hostile: an image symlink out of the bundle is EINVAL" "Invalid argument" \
		ln -s "$T/hlnk" "$m/containers/hlnk"
	check "hostile: ... log names its target" grep -q 'hlnk: vm.image.path /etc/shadow: outside' "$m/log"
	make_bundle "$T/hini" "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[\"/bin/sh\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0}},\"vm\":{\"kernel\":{\"path\":\"$T/hini/k\",\"initrd\":\"/etc/shadow\"}}}"
	echo k > "$T/hini/k"
	expect_err "hostile: vm.kernel.initrd /etc/shadow is EINVAL" "Invalid argument" ln -s "$T/hini" "$m/containers/hini"
	check "hostile: ... log says why" grep -q 'hini: vm.kernel.initrd /etc/shadow: outside the bundle' "$m/log"
	# item 8: a bind mount of a host path is copied when small, else refused
	hostile_bundle hetc "" ",\"mounts\":[{\"destination\":\"/etc\",\"type\":\"bind\",\"source\":\"/etc\",\"options\":[\"rbind\",\"ro\"]}]"
	expect_err "hostile: a bind mount of host /etc is EINVAL" "Invalid argument" ln -s "$T/hetc" "$m/containers/hetc"
	check "hostile: ... log says it cannot be shared with the VM" \
		grep -qE 'hetc: mounts\[0\] \(bind mount of host /etc on /etc\): .*(more than 64 entries|more than 16384 bytes|only regular files)' "$m/log"
	hostile_bundle hshadow "" ",\"mounts\":[{\"destination\":\"/s\",\"type\":\"none\",\"source\":\"/etc/shadow\",\"options\":[\"bind\"]}]"
	expect_err "hostile: a bind mount of /etc/shadow is EINVAL" "Invalid argument" ln -s "$T/hshadow" "$m/containers/hshadow"
	check "hostile: ... log says why (not readable by all)" \
		grep -q 'hshadow: mounts\[0\] (bind mount of host /etc/shadow on /s): /etc/shadow: outside the bundle and not readable by all' "$m/log"
	check "hostile: ... nothing left behind" \
		test -z "$(ls "$m/containers" | grep '^h')$(ls "$st" | grep '^h')"
}
