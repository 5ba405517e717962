#!/usr/bin/env bash
# Slow test: the network the caller made (issue 13) through the real tree
# and guest.  As the project's test hosts do, it makes its own network
# namespace and veth pair (ip netns add, ip link), puts the path in
# linux.namespaces, and creates the container with ln -s: the guest's eth0
# has the veth's MAC, MTU, addresses and routes; the guest pings the host
# side and serves HTTP to it; nothing of the taps and tc filters is left
# after the VMM is killed -9 (under the daemon, or while none runs: the
# next one cleans up), nor after delete.  Then templates on (below),
# an interface deleted while the VM runs (it runs on, the log says so),
# IPv6 only, MTU 9000, two interfaces and IPv6 (cold, then restored from a
# template of two NICs), and the bad paths (EINVAL with the reason).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/fs/lib.sh
BUILD=${BUILD:-build}
BIN=$BUILD/bin/ocivmfs
BUNDLE=${OCIVMFS_TEST_BUNDLE:-$BUILD/bundle/busybox}

need_vm "$BIN" "$BUILD/guest/vmlinuz" "$BUILD/guest/initrd.img" "$BUNDLE/config.json"
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null || ! command -v tc >/dev/null; then
	echo "skip - all: needs root, ip and tc (iproute2) to make a network namespace"
	SKIP=1; summary; exit 0
fi
T=$(mktemp -d /tmp/ocivmfs-net.XXXXXX)
M=$T/m
K=$(( $$ % 200 + 20 ))                 # 10.231.K.0/24: this run's subnet
NS=ocivm-net-$$ NS2=ocivm-netb-$$ NS3=ocivm-netc-$$ NS4=ocivm-netd-$$
VH=ovn$$ VH2=ovn$$b VH3=ovn$$c VH4=ovn$$d VH5=ovn$$e   # the host ends of the veths
HOST4=10.231.$K.1 CTR4=10.231.$K.2
cleanup() {
	for d in "$M"/containers/*; do [ -d "$d" ] && echo "delete force" > "$d/ctl" 2>/dev/null; done
	is_mounted "$M" && fusermount3 -u "$M"
	is_mounted "$T/mt" && fusermount3 -u "$T/mt"
	for n in "$NS" "$NS2" "$NS3" "$NS4"; do ip netns del "$n" 2>/dev/null; done
	for v in "$VH" "$VH2" "$VH3" "$VH4" "$VH5"; do ip link del "$v" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT

# the caller's network: NS with eth0 (a veth; its peer VH on the host)
ip netns add "$NS" && ip link add "$VH" type veth peer name eth0 netns "$NS" &&
	ip addr add "$HOST4/24" dev "$VH" && ip link set "$VH" up &&
	ip -n "$NS" link set eth0 address 02:42:0a:e7:$(printf %02x $K):02 &&
	ip -n "$NS" addr add "$CTR4/24" dev eth0 && ip -n "$NS" link set eth0 up &&
	ip -n "$NS" link set lo up && ip -n "$NS" route add default via "$HOST4" ||
	{ bad "making the network namespace $NS"; summary; exit 1; }
mount_tree "$BIN" "$M" "$T/state" || { bad "mount"; summary; exit 1; }

# bundle NAME NETNS_PATH SCRIPT: busybox running sh -c SCRIPT in that netns
bundle() {
	mkdir -p "$T/$1"
	ln -sfn "$(realpath "$BUNDLE/rootfs")" "$T/$1/rootfs"
	python3 - "$BUNDLE/config.json" "$T/$1/config.json" "$2" "$3" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["terminal"] = False
c["process"]["args"] = ["sh", "-c", sys.argv[4]]
if sys.argv[3] != "-":   # "-": no network namespace path (only lo)
    c["linux"]["namespaces"].append({"type": "network", "path": sys.argv[3]})
for k in ("bounding", "effective", "permitted"):   # ping's raw socket, as docker's default
    c["process"]["capabilities"][k].append("CAP_NET_RAW")
json.dump(c, open(sys.argv[2], "w"))
PY
}
# (not check ... >/dev/null: that would hide the check's own line)
ping_ok() { busybox ping -q -c 1 -W "$1" "$2" >/dev/null; }
ping6_ok() { busybox ping6 -q -c 1 -W 5 "$1" >/dev/null; }
no_taps() { ! ip -n "$1" link show | grep -q ' tap'; }
no_filters() { [ -z "$(tc -n "$1" filter show dev "$2" ingress)" ] &&
	! tc -n "$1" qdisc show dev "$2" | grep -q ingress; }

C=$M/containers/net1
bundle net1 "/run/netns/$NS" "ip -o addr show; ip -o link show eth0; ip route; \
ping -c 1 -W 20 $HOST4 >/dev/null && echo PING-OK; mkdir -p /tmp/www && echo hello-net > /tmp/www/index.html; \
echo SERVING; exec httpd -f -p 8080 -h /tmp/www"
check "ln -s creates the container in $NS" ln -s "$T/net1" "$C"
check "$NS has a tap for it, up, with eth0's MTU" \
	bash -c "ip -n $NS -d link show | grep -A2 ' tap0_' | grep -q 'mtu 1500'"
check "tc redirects eth0 -> tap (mirred, ingress)" \
	bash -c "tc -n $NS filter show dev eth0 ingress | grep -q 'Egress Redirect to device tap0_'"
check "tc redirects tap -> eth0" \
	bash -c "tc -n $NS filter show dev \$(ip -n $NS -o link show | grep -o 'tap0_[0-9a-f]*' | head -1) ingress | grep -q 'Egress Redirect to device eth0'"
check "the hypervisor got the tap" grep -qE 'tap,id=net0,fd=[0-9]+|--net tapfd=' "$C/vm/hypervisor_cmdline"
cat "$C/stdout" > "$T/out1" 2>/dev/null & OUT=$!
check "start" bash -c "echo start > $C/ctl"
check "the guest pings the host side ($HOST4) through the tap" wait_until 120 grep -q PING-OK "$T/out1"
check "the guest's eth0 has the veth's address" grep -q "eth0 *inet $CTR4/24" "$T/out1"
check "... and the veth's MAC" grep -qi "link/ether 02:42:0a:e7:$(printf %02x $K):02" "$T/out1"
check "... and the default route" grep -q "default via $HOST4 dev eth0" "$T/out1"
check "lo is up in the guest" grep -q 'lo *inet 127.0.0.1/8' "$T/out1"
wait_until 60 grep -q SERVING "$T/out1"
check "the host reaches the guest's httpd at $CTR4:8080" \
	wait_until 60 bash -c "curl -s -m 10 http://$CTR4:8080/index.html | grep -q hello-net"
check "the guest answers the host's ping" ping_ok 10 "$CTR4"
VMPID=$(cat "$C/pid")
kill -9 "$VMPID"
check "VMM killed -9: the container stops" wait_until 60 grep -qx stopped "$C/status"
check "... and no tap is left in $NS" wait_until 10 no_taps "$NS"
check "... nor a tc filter or ingress qdisc on eth0" no_filters "$NS" eth0
check "... and eth0 is still there, untouched" bash -c "ip -n $NS -o addr show eth0 | grep -q $CTR4/24"
check "rmdir deletes it" rmdir "$C"
kill $OUT 2>/dev/null

# again, across a daemon restart, ended by delete (not by the VMM's death)
C=$M/containers/net2
bundle net2 "/run/netns/$NS" "sleep 100000"
check "a second container on the same namespace (the first is gone)" ln -s "$T/net2" "$C"
check "start" bash -c "echo start > $C/ctl"
check "the host pings it" wait_until 60 ping_ok 5 "$CTR4"
# the daemon restarts under it: the VM and its network live on; the new
# daemon re-attaches (run_dir/net read again) and still cleans up at delete
VMPID=$(cat "$C/pid")
kill -TERM "$(pgrep -f "^$BIN .*--state-dir $T/state " | head -1)"
check "daemon: SIGTERM unmounts" wait_until 10 eval '! is_mounted "$M"'
check "daemon gone: the VM runs and the host still pings it" bash -c \
	"kill -0 $VMPID && busybox ping -q -c 1 -W 5 $CTR4 >/dev/null"
mount_tree "$BIN" "$M" "$T/state" || bad "daemon: remount on the same state dir"
check "daemon: after a restart the container is running again" \
	test "$(cat "$C/status" 2>/dev/null)" = running
check "... the tap and its redirect are still there" bash -c \
	"ip -n $NS -o link show | grep -q ' tap0_' && tc -n $NS filter show dev eth0 ingress | grep -q mirred"
check "delete force" bash -c "echo delete force > $C/ctl"
check "after delete: no tap in $NS" wait_until 10 no_taps "$NS"
check "after delete: no filter or qdisc on eth0" no_filters "$NS" eth0

# the VMM killed -9 while no daemon runs: the tap goes with its fds, the tc
# filter on eth0 stays until the next daemon finds the VM gone (vm_attach)
C=$M/containers/net2b
bundle net2b "/run/netns/$NS" "sleep 100000"
check "killed while no daemon: a third container, start" bash -c "ln -s $T/net2b $C && echo start > $C/ctl"
check "... the host pings it" wait_until 60 ping_ok 5 "$CTR4"
VMPID=$(cat "$C/pid")
kill -TERM "$(pgrep -f "^$BIN .*--state-dir $T/state " | head -1)"
check "... daemon: SIGTERM unmounts" wait_until 10 eval '! is_mounted "$M"'
kill -9 "$VMPID"
check "... its VMM killed -9 (no daemon)" wait_until 20 eval "! kill -0 $VMPID 2>/dev/null"
check "... eth0's redirect is still there meanwhile" bash -c "tc -n $NS filter show dev eth0 ingress | grep -q mirred"
mount_tree "$BIN" "$M" "$T/state" || bad "daemon: remount on the same state dir"
check "... after the restart it is stopped" test "$(cat "$C/status" 2>/dev/null)" = stopped
check "... no tap in $NS" wait_until 10 no_taps "$NS"
check "... no filter or ingress qdisc on eth0" no_filters "$NS" eth0
check "... eth0 untouched" bash -c "ip -n $NS -o addr show eth0 | grep -q $CTR4/24"
check "... rmdir" rmdir "$C"

# templates on: a container with interfaces is restored from a template of
# as many NICs (no backend in the template; the restore gives the same
# device its tap, the guest gives it the veth's MAC); two at once (NS and
# NS4) show their own MACs and answer TCP; one without interfaces comes from
# a template without a NIC and has only lo; a restore that fails boots cold
# with the reason, and its network works; nothing of tap/tc is left
MT=$T/mt TD=$T/statet/.images/templates
MAC1=02:42:0a:e7:$(printf %02x $K):02 MAC2=02:42:0a:ea:$(printf %02x $K):02
HOST4B=10.234.$K.1 CTR4B=10.234.$K.2
ip netns add "$NS4" && ip link add "$VH5" type veth peer name eth0 netns "$NS4" &&
	ip addr add "$HOST4B/24" dev "$VH5" && ip link set "$VH5" up &&
	ip -n "$NS4" link set eth0 address "$MAC2" &&
	ip -n "$NS4" addr add "$CTR4B/24" dev eth0 && ip -n "$NS4" link set eth0 up ||
	bad "making the network namespace $NS4"
# tplnet ID NETNS HOST: its eth0, a ping of HOST, a TCP server (httpd)
tplnet() {
	bundle "$1" "/run/netns/$2" "ip -o link show eth0; ip -o addr show eth0; \
echo FEAT \$(cat /sys/class/net/eth0/device/features); ping -c 1 -W 20 $3 >/dev/null && echo PING-OK; mkdir -p /tmp/www && echo hello-$1 > /tmp/www/index.html; \
echo SERVING; exec httpd -f -p 8080 -h /tmp/www"
	ln -s "$T/$1" "$MT/containers/$1" || return 1
	: > "$T/out-$1"
	cat "$MT/containers/$1/stdout" > "$T/out-$1" 2>/dev/null &
	echo start > "$MT/containers/$1/ctl"
}
mac_of() { grep -o 'link/ether [0-9a-f:]*' "$T/out-$1" | cut -d' ' -f2; }
# offload: the guest negotiated VIRTIO_NET_F_CSUM (bit 0) and HOST_TSO4
# (bit 11), as a cold boot does: not if the template's NIC had no
# vnet-header backend (bulk TCP 5-7x slower)
offload() { local f; f=$(grep '^FEAT ' "$T/out-$1" | cut -d' ' -f2); [ "${f:0:1}${f:11:1}" = 11 ]; }
if mount_tree "$BIN" "$MT" "$T/statet" --templates on; then
	check "templates on: ln -s with a network namespace, start" tplnet net4 "$NS" "$HOST4"
	check "... restored from a template" grep -qE '^restored [0-9a-f]{64}$' "$MT/containers/net4/vm/template"
	KEYN=$(awk '{print $2}' "$MT/containers/net4/vm/template")
	check "... of one NIC (inputs: nics 1)" grep -qx 'nics 1' "$MT/templates/$KEYN/inputs"
	check "... built for it (the log)" \
		grep -q "template ${KEYN:0:16}: built" "$MT/log"
	check "a second one in $NS4, start" tplnet net6 "$NS4" "$HOST4B"
	check "... from the same template" grep -qx "restored $KEYN" "$MT/containers/net6/vm/template"
	check "... the first pings the host side ($HOST4)" wait_until 120 grep -q PING-OK "$T/out-net4"
	check "... the second pings its host side ($HOST4B)" wait_until 120 grep -q PING-OK "$T/out-net6"
	check "... the first's eth0 has the veth's MAC ($MAC1)" test "$(mac_of net4)" = "$MAC1"
	check "... the second's has its own ($MAC2)" test "$(mac_of net6)" = "$MAC2"
	check "... two containers of one template: distinct MACs ($(mac_of net4) / $(mac_of net6))" \
		test -n "$(mac_of net4)" -a "$(mac_of net4)" != "$(mac_of net6)"
	check "... the first negotiated checksum and TSO offloads" offload net4
	check "... the first's eth0 has the veth's address" grep -q "eth0 *inet $CTR4/24" "$T/out-net4"
	check "... the second's too" grep -q "eth0 *inet $CTR4B/24" "$T/out-net6"
	check "... the host reaches the first's httpd (TCP)" wait_until 60 bash -c \
		"curl -s -m 10 http://$CTR4:8080/index.html | grep -q hello-net4"
	check "... and the second's" wait_until 60 bash -c \
		"curl -s -m 10 http://$CTR4B:8080/index.html | grep -q hello-net6"
	check "... on the wire the first is the veth's MAC (host ARP: $(ip neigh show "$CTR4" dev "$VH" | grep -o 'lladdr [0-9a-f:]*'))" \
		bash -c "ip neigh show $CTR4 dev $VH | grep -qi 'lladdr $MAC1'"
	check "... and the second its own" bash -c "ip neigh show $CTR4B dev $VH5 | grep -qi 'lladdr $MAC2'"
	bundle net7 - "ls /sys/class/net; echo END"
	check "no interfaces, templates on: ln -s, start" bash -c \
		"ln -s $T/net7 $MT/containers/net7 && echo start > $MT/containers/net7/ctl"
	check "... it ran" test "$(timeout 120 cat "$MT/containers/net7/wait")" = 0
	check "... only lo in the guest" test "$(tr '\n' ' ' < "$MT/containers/net7/stdout")" = "lo END "
	KEY0=$(awk '{print $2}' "$MT/containers/net7/vm/template")
	check "... restored from a template without a NIC (inputs: nics 0)" bash -c \
		"[ -n '$KEY0' ] && [ '$KEY0' != '$KEYN' ] && grep -qx 'nics 0' $MT/templates/$KEY0/inputs"
	check "... delete force" bash -c "echo delete force > $MT/containers/net4/ctl && echo delete force > $MT/containers/net6/ctl"
	check "... no tap left in $NS nor $NS4" wait_until 10 bash -c "$(declare -f no_taps); no_taps $NS && no_taps $NS4"
	check "... nor a tc filter or ingress qdisc" bash -c "$(declare -f no_filters); no_filters $NS eth0 && no_filters $NS4 eth0"
	# a state QEMU refuses, with a matching checksum: the restore fails and
	# the create boots cold (its tap made again), the reason in vm/last_error
	head -c 4096 /dev/zero > "$TD/$KEYN/state"
	sum=$(sha256sum "$TD/$KEYN/state" | cut -d' ' -f1)
	sed -i -e "s/^state_sha256 .*/state_sha256 $sum/" -e "s/^state_bytes .*/state_bytes 4096/" "$TD/$KEYN/header"
	check "a restore with a NIC that fails: ln -s, start" tplnet net8 "$NS" "$HOST4"
	check "... vm/template says why" grep -q '^cold: .*restoring' "$MT/containers/net8/vm/template"
	check "... vm/last_error too" grep -q '^template: .*booted cold' "$MT/containers/net8/vm/last_error"
	check "... the cold VM pings the host side" wait_until 120 grep -q PING-OK "$T/out-net8"
	check "... with the veth's MAC" test "$(mac_of net8)" = "$MAC1"
	check "... and the offloads (as restored ones)" offload net8
	check "... delete force" bash -c "echo delete force > $MT/containers/net8/ctl"
	check "... no tap left in $NS" wait_until 10 no_taps "$NS"
	check "... nor a tc filter or ingress qdisc" no_filters "$NS" eth0
	fusermount3 -u "$MT"
else
	bad "mount --templates on"
fi

# IPv6 only, and an interface that disappears while the VM runs: the VM
# runs on, the log says so (NS3 of its own; eth0 is deleted from the host
# side of its veth)
H6=2001:db8:$K:3::1 C6=2001:db8:$K:3::2
if ip netns add "$NS3" && ip link add "$VH4" type veth peer name eth0 netns "$NS3" &&
	ip addr add "$H6/64" dev "$VH4" nodad && ip link set "$VH4" up &&
	ip -n "$NS3" addr add "$C6/64" dev eth0 nodad && ip -n "$NS3" link set eth0 up; then
	C=$M/containers/net5
	# pid 1 of its pid namespace: SIGTERM reaches it only through a handler
	bundle net5 "/run/netns/$NS3" "trap 'exit 143' TERM; ip -o addr show eth0; echo LISTED; sleep 100000 & wait"
	: > "$T/out5"
	check "IPv6 only: ln -s, start" bash -c "ln -s $T/net5 $C && echo start > $C/ctl"
	cat "$C/stdout" > "$T/out5" 2>/dev/null & OUT=$!
	check "IPv6 only: the host pings the guest at $C6" wait_until 60 ping6_ok "$C6"
	check "... the guest listed eth0" wait_until 60 grep -q LISTED "$T/out5"
	check "... eth0 has $C6/64 and no IPv4 address" bash -c \
		"grep -q 'eth0 *inet6 $C6/64' $T/out5 && ! grep -q 'eth0 *inet ' $T/out5"
	VMPID=$(cat "$C/pid")
	# a daemon restarted meanwhile watches too (vm_attach opens the watch)
	kill -TERM "$(pgrep -f "^$BIN .*--state-dir $T/state " | head -1)"
	wait_until 10 eval '! is_mounted "$M"'
	mount_tree "$BIN" "$M" "$T/state" || bad "daemon: remount on the same state dir"
	check "gone: the daemon restarted, the container is running" test "$(cat "$C/status" 2>/dev/null)" = running
	check "gone: the veth is deleted (ip link del $VH4)" ip link del "$VH4"
	check "... the log says eth0 left $NS3 and the VM keeps running" wait_until 20 \
		grep -q "net5: network: interface eth0 (index [0-9]*) left /run/netns/$NS3 (deleted or moved): the guest's eth0 has no traffic now; the VM keeps running" "$M/log"
	check "... once" test "$(grep -c 'net5: network: interface eth0' "$M/log")" = 1
	check "... the VM process runs" kill -0 "$VMPID"
	check "... the container is running" test "$(cat "$C/status")" = running
	check "... and the guest still obeys: kill TERM" bash -c "echo kill TERM > $C/ctl"
	check "... wait gives 143" test "$(timeout 60 cat "$C/wait" 2>/dev/null)" = 143
	check "... rmdir" rmdir "$C"
	check "... no tap left in $NS3" no_taps "$NS3"
	check "... no qdisc or filter left in $NS3" bash -c "[ -z \"\$(tc -n $NS3 filter show)\" ] && ! tc -n $NS3 qdisc show | grep -q ingress"
	kill $OUT 2>/dev/null
else
	bad "making the network namespace $NS3"
fi

# bad paths: EINVAL with the reason, nothing made
bundle bad1 /proc/self/ns/pid "true"
expect_err "a pid namespace path is EINVAL" "Invalid argument" ln -s "$T/bad1" "$M/containers/bad1"
check "... the log says why" grep -q 'path /proc/self/ns/pid: a namespace, but not a network namespace' "$M/log"
bundle bad2 "/run/netns/$NS-gone" "true"
expect_err "a missing namespace is EINVAL" "Invalid argument" ln -s "$T/bad2" "$M/containers/bad2"
check "... the log says why" grep -q "path /run/netns/$NS-gone: No such file or directory" "$M/log"
bundle bad3 /etc/hostname "true"
expect_err "a regular file is EINVAL" "Invalid argument" ln -s "$T/bad3" "$M/containers/bad3"
check "... the log says why" grep -q 'path /etc/hostname: not a namespace file' "$M/log"

# MTU 9000, two interfaces, IPv6 (a NS2 of its own)
ip netns add "$NS2" &&
	ip link add "$VH2" mtu 9000 type veth peer name eth0 mtu 9000 netns "$NS2" &&
	ip link add "$VH3" type veth peer name eth1 netns "$NS2" &&
	ip addr add 10.232.$K.1/24 dev "$VH2" && ip addr add 2001:db8:$K::1/64 dev "$VH2" nodad &&
	ip addr add 10.233.$K.1/24 dev "$VH3" && ip link set "$VH2" up && ip link set "$VH3" up &&
	ip -n "$NS2" addr add 10.232.$K.2/24 dev eth0 && ip -n "$NS2" addr add 2001:db8:$K::2/64 dev eth0 nodad &&
	ip -n "$NS2" addr add 10.233.$K.2/24 dev eth1 &&
	ip -n "$NS2" link set eth0 up && ip -n "$NS2" link set eth1 up ||
	bad "making the network namespace $NS2"
C=$M/containers/net3
bundle net3 "/run/netns/$NS2" "cat /sys/class/net/eth0/mtu; ip -o addr show; \
ping -c 1 -W 20 10.232.$K.1 >/dev/null && echo PING0-OK; ping -c 1 -W 20 10.233.$K.1 >/dev/null && echo PING1-OK; \
ping6 -c 1 -W 20 2001:db8:$K::1 >/dev/null && echo PING6-OK; ping -c 1 -s 8000 -W 20 10.232.$K.1 >/dev/null && echo JUMBO-OK; echo END"
cat /dev/null > "$T/out3"
check "ln -s with two interfaces" ln -s "$T/net3" "$C"
cat "$C/stdout" > "$T/out3" 2>/dev/null & OUT=$!
check "start" bash -c "echo start > $C/ctl"
check "the guest ran its checks" wait_until 180 grep -q END "$T/out3"
check "eth0's MTU is 9000" bash -c "head -1 $T/out3 | grep -qx 9000"
check "eth1 has its address" grep -q "eth1 *inet 10.233.$K.2/24" "$T/out3"
check "eth0 has its IPv6 address" grep -q "eth0 *inet6 2001:db8:$K::2/64" "$T/out3"
check "pings over eth0 and eth1" bash -c "grep -q PING0-OK $T/out3 && grep -q PING1-OK $T/out3"
check "ping6 over eth0" grep -q PING6-OK "$T/out3"
check "an 8000-byte ping (MTU 9000 end to end)" grep -q JUMBO-OK "$T/out3"
timeout 60 cat "$C/wait" >/dev/null 2>&1
check "rmdir" rmdir "$C"
check "no tap left in $NS2" no_taps "$NS2"
check "no filter left on eth0, eth1" bash -c "$(declare -f no_filters); no_filters $NS2 eth0 && no_filters $NS2 eth1"
kill $OUT 2>/dev/null

# the same two interfaces under templates: a template of two NICs, the
# second NIC found by the second placeholder MAC and given eth1's
if mount_tree "$BIN" "$MT" "$T/statet" --templates on; then
	C=$MT/containers/net9
	bundle net9 "/run/netns/$NS2" "cat /sys/class/net/eth0/mtu; ip -o link show; ip -o addr show; \
ping -c 1 -W 20 10.232.$K.1 >/dev/null && echo PING0-OK; ping -c 1 -W 20 10.233.$K.1 >/dev/null && echo PING1-OK; \
ping -c 1 -s 8000 -W 20 10.232.$K.1 >/dev/null && echo JUMBO-OK; echo END"
	: > "$T/out9"
	check "templates on, two interfaces: ln -s" ln -s "$T/net9" "$C"
	cat "$C/stdout" > "$T/out9" 2>/dev/null & OUT=$!
	check "... start" bash -c "echo start > $C/ctl"
	KEY2=$(awk '{print $2}' "$C/vm/template")
	check "... restored from a template of two NICs" bash -c \
		"grep -qE '^restored ' $C/vm/template && grep -qx 'nics 2' $MT/templates/$KEY2/inputs"
	check "... the guest ran its checks" wait_until 180 grep -q END "$T/out9"
	for e in eth0 eth1; do
		mac=$(ip -n "$NS2" -o link show "$e" | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
		check "... $e has its veth's MAC ($mac)" grep -q ": $e: .*link/ether $mac " "$T/out9"
	done
	check "... eth0's MTU is 9000" bash -c "head -1 $T/out9 | grep -qx 9000"
	check "... eth1 has its address" grep -q "eth1 *inet 10.233.$K.2/24" "$T/out9"
	check "... pings over eth0 and eth1" bash -c "grep -q PING0-OK $T/out9 && grep -q PING1-OK $T/out9"
	check "... an 8000-byte ping (MTU 9000 end to end)" grep -q JUMBO-OK "$T/out9"
	timeout 60 cat "$C/wait" >/dev/null 2>&1
	check "... rmdir" rmdir "$C"
	check "... no tap left in $NS2" no_taps "$NS2"
	check "... no filter left on eth0, eth1" bash -c "$(declare -f no_filters); no_filters $NS2 eth0 && no_filters $NS2 eth1"
	kill $OUT 2>/dev/null
	fusermount3 -u "$MT"
else
	bad "mount --templates on (two interfaces)"
fi
[ "$FAIL" -eq 0 ] || { echo "# out1:"; cat "$T/out1" 2>/dev/null; echo "# out3:"; cat "$T/out3" 2>/dev/null;
	echo "# out9:"; cat "$T/out9" 2>/dev/null; echo "# log:"; tail -20 "$M/log"; }
summary
