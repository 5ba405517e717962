#!/usr/bin/env bash
# bench/template: VM templates (issue 15), one run, side by side, through the
# real tree on the bundled busybox:
#  - create->READY (ID/vm/timings "ready": from vm_create to init's READY)
#    cold (--templates off) vs restored from a template (--templates on,
#    after the one create that built it), medians of N_CREATE (default 5)
#    each, interleaved; and the build itself;
#  - host memory: the sum of the PSS of the VM processes of 1, 10, ...
#    (IDLE_COUNTS, default "1 10"; IDLE_COUNTS="1 10 50" for the README)
#    idle containers, cold (up to COLD_MAX, default 10: ~210 MiB each) and
#    from a template, with their private dirty memory; the template's RAM
#    the daemon holds once; the marginal PSS between the two largest counts
#    and what fits on 24 GiB at that rate.
# NET=1 (root, iproute2): every container gets a network namespace of its
# own with one veth (eth0, an address), as podman's CNI gives: the cold VM
# and the template then have a NIC (a template of one NIC, its own key).
# Last line: template cold_ms=A warm_ms=B speedup=A/B pss_per_idle_mib=C
# (C: per idle template container, at the largest count).
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
BIN=$BUILD/bin/ocivmfs
BUNDLE=$BUILD/bundle/busybox
N_CREATE=${N_CREATE:-5} IDLE_COUNTS=${IDLE_COUNTS:-"1 10"} COLD_MAX=${COLD_MAX:-10} NET=${NET:-0}

die() { echo "bench/template: $*"; exit 1; }
[ -x "$BIN" ] || die "build first: make BUILD=$BUILD all"
for f in "$BUILD/guest/vmlinuz" "$BUILD/guest/initrd.img" "$BUNDLE/config.json"; do
	[ -e "$f" ] || { echo "bench/template: skipped: $f missing (make guest)"; exit 0; }
done
[ -c /dev/fuse ] || { echo "bench/template: skipped: no /dev/fuse"; exit 0; }
T=$(mktemp -d /tmp/ocivmfs-bench-tpl.XXXXXX)
cleanup() {
	for m in "$T/cold" "$T/warm"; do
		mountpoint -q "$m" || continue
		for d in "$m"/containers/*; do [ -d "$d" ] && echo "delete force" > "$d/ctl"; done
		fusermount3 -u "$m"
	done 2>/dev/null
	for n in $(ip netns list 2>/dev/null | grep -o "^ocb-$$-[0-9]*"); do ip netns del "$n"; done
	rm -rf "$T"
}
trap cleanup EXIT
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

ROOTFS=$(realpath "$BUNDLE/rootfs")
mkdir -p "$T/b"
sed -e 's/"terminal": *true/"terminal": false/' \
    -e 's#"args": *\[ *"sh" *\]#"args": [ "sleep", "100000" ]#' \
    -e "s#\"path\": *\"rootfs\"#\"path\": \"$ROOTFS\"#" "$BUNDLE/config.json" > "$T/b/config.json"

# bundle ID: $T/b, or with NET=1 a bundle of its own in a new network
# namespace (ocb-PID-N, a veth whose host end is obPID-N, 10.R.S.2/24;
# N counted in a file: bundle runs in $(...))
bundle() {
	[ "$NET" = 1 ] || { echo "$T/b"; return; }
	local n=$(( $(cat "$T/nns" 2>/dev/null || echo 0) + 1 ))
	echo "$n" > "$T/nns"
	local ns=ocb-$$-$n vh=ob$$-$n net=10.$((240 + n / 250)).$((n % 250)) b=$T/b-$1
	ip netns add "$ns" &&
		ip link add "$vh" type veth peer name eth0 netns "$ns" &&
		ip addr add "$net.1/24" dev "$vh" && ip link set "$vh" up &&
		ip -n "$ns" addr add "$net.2/24" dev eth0 && ip -n "$ns" link set eth0 up ||
		die "making the network namespace $ns"
	mkdir -p "$b"
	python3 -c 'import json, sys
c = json.load(open(sys.argv[1])); c["linux"]["namespaces"].append({"type": "network", "path": sys.argv[3]})
json.dump(c, open(sys.argv[2], "w"))' "$T/b/config.json" "$b/config.json" "/run/netns/$ns"
	echo "$b"
}
[ "$NET" = 1 ] && echo "# NET=1: each container in a network namespace of its own with one veth"
mkdir -p "$T/cold" "$T/warm"
"$BIN" --state-dir "$T/sc" --cache-dir "$T/cache" --templates off "$T/cold" || die "mount (cold)"
"$BIN" --state-dir "$T/sw" --cache-dir "$T/cache" --templates on "$T/warm" || die "mount (warm)"
echo "# $(cat "$T/warm/hypervisor")"
echo "# load: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cpus"

ready() { awk '/^ready / { print $2 }' "$1/containers/$2/vm/timings"; }
create() {   # MOUNT ID: create, print ready ms, delete
	ln -s "$(bundle "$2")" "$1/containers/$2" || return 1
	ready "$1" "$2"
	echo "delete force" > "$1/containers/$2/ctl"
}
build=$(create "$T/warm" build0) || die "the first templated create failed"
echo "template build + first restore: create->READY ${build} ms"
: > "$T/cold.ms"; : > "$T/warm.ms"
for i in $(seq 1 "$N_CREATE"); do
	c=$(create "$T/cold" c$i) || die "cold create $i failed"
	w=$(create "$T/warm" w$i) || die "templated create $i failed"
	grep -q '^restored ' "$T/warm/containers/w$i/vm/template" 2>/dev/null ||
		[ ! -e "$T/warm/containers/w$i" ] || die "w$i was not restored"
	echo "$c" >> "$T/cold.ms"; echo "$w" >> "$T/warm.ms"
	echo "  create $i: cold ${c} ms, template ${w} ms"
done
cold=$(median < "$T/cold.ms") warm=$(median < "$T/warm.ms")
echo "create->READY median of $N_CREATE: cold ${cold} ms, template ${warm} ms"

pss_sum() {   # MOUNT PREFIX COUNT FIELD: sum of FIELD (Pss, Private_Dirty; KiB) of the VM processes
	local s=0 k
	for i in $(seq 1 "$3"); do
		k=$(awk -v f="$4:" '$1 == f { print $2 }' "/proc/$(cat "$1/containers/$2$i/pid")/smaps_rollup")
		s=$((s + k))
	done
	echo "$s"
}
# idle N containers of KIND, wait for all running, settle, print
# "PSS_KIB PRIVATE_KIB", delete them
idle() {
	local kind=$1 n=$2 i t
	for i in $(seq 1 "$n"); do
		ln -s "$(bundle "$kind-i$n-$i")" "$T/$kind/containers/i$i" && echo start > "$T/$kind/containers/i$i/ctl" ||
			die "$kind idle $i failed"
	done
	for t in $(seq 1 600); do
		[ "$(cat "$T/$kind"/containers/i*/status | grep -c running)" = "$n" ] && break
		sleep 0.5
	done
	sleep 5   # settle: the guest's boot work and init's first writes are done
	echo "$(pss_sum "$T/$kind" i "$n" Pss) $(pss_sum "$T/$kind" i "$n" Private_Dirty)"
	for i in $(seq 1 "$n"); do echo "delete force" > "$T/$kind/containers/i$i/ctl"; done
}
# the template's RAM, held once by the daemon (a sealed memfd: shmem, in no
# process's PSS), as big as the non-zero blocks of its mem file
tpl_kib=$(du -k "$T/cache/templates"/*/mem 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
echo "template RAM held once by the daemon: $((tpl_kib / 1024)) MiB"
per=0 prev_n=0 prev_kib=0 marg=0
for n in $IDLE_COUNTS; do
	for kind in cold warm; do
		if [ "$kind" = cold ] && [ "$n" -gt "$COLD_MAX" ]; then
			echo "idle x$n cold: skipped (COLD_MAX=$COLD_MAX: ~210 MiB each)"; continue
		fi
		read -r kib priv < <(idle "$kind" "$n")
		echo "idle x$n $kind: PSS $((kib / 1024)) MiB in all, $(awk -v k="$kib" -v n="$n" 'BEGIN { printf "%.1f", k / 1024 / n }') MiB each (private dirty $(awk -v k="$priv" -v n="$n" 'BEGIN { printf "%.1f", k / 1024 / n }') MiB each)"
		[ "$kind" = warm ] || continue
		per=$(awk -v k="$kib" -v n="$n" 'BEGIN { printf "%.1f", k / 1024 / n }')
		[ "$prev_n" -gt 0 ] && marg=$(awk -v a="$prev_kib" -v b="$kib" -v m="$prev_n" -v n="$n" \
			'BEGIN { printf "%.1f", (b - a) / 1024 / (n - m) }')
		prev_n=$n prev_kib=$kib
	done
done
[ "$marg" != 0 ] && echo "24 GiB host: $(awk -v m="$marg" -v t="$tpl_kib" 'BEGIN { printf "%d", (24 * 1024 - t / 1024) / m }') idle template containers (each further one ${marg} MiB PSS, the template $((tpl_kib / 1024)) MiB once; host kernel and daemon not counted)"
echo "template cold_ms=$cold warm_ms=$warm speedup=$(awk -v a="$cold" -v b="$warm" 'BEGIN { printf "%.1f", a / b }') pss_per_idle_mib=$per"
