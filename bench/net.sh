#!/usr/bin/env bash
# make bench: the container's network (issue 13), ocivm side by side with
# runc (else crun) in one run, both driven by podman on its CNI bridge, the
# same busybox workload: the container's httpd serves a file of NET_MIB MiB (made in the
# container's /tmp) and a 6-byte one; from the host, curl fetches the big
# one NET_N times (TCP throughput, container -> host; the median) and the
# small one NET_RR times (request latency: connect + GET + answer; the
# median).  The last line is the headline:
#   net ocivm_gbps=<x> peer_gbps=<y> rr_us_ocivm=<a> rr_us_peer=<b>
# Under TCG (no /dev/kvm here) the ocivm figures are the emulated guest's,
# not the device's; bench/virtio_net.sh measures ocivm-vmm's device model.
# OCIVM_BENCH_ROOT: another ocivm root than /run/ocivm (a shared machine).
set -u
BUILD=${BUILD:-build}
OCIVM=$(realpath -m "$BUILD/bin/ocivm")
OCIVMFS=$(realpath -m "$BUILD/bin/ocivmfs")
NET_MIB=${NET_MIB:-32}
NET_N=${NET_N:-3}
NET_RR=${NET_RR:-20}
# podman asks for RLIMIT_NOFILE and RLIMIT_NPROC 1048576 by default, more
# than this machine's hard limits allow (the peer then fails: setrlimit
# EPERM); both runtimes get 4096 of each
NOFILE=4096 NPROC=4096
ROOT=${OCIVM_BENCH_ROOT:-/run/ocivm}
# the peer: runc (crun under podman fails on this machine's hybrid cgroup
# hierarchy), else crun
PEER=$(command -v runc || command -v crun) || { echo "bench net: skipped (no runc or crun)"; exit 0; }
for need in podman busybox curl; do
	command -v $need >/dev/null || { echo "bench net: skipped ($need not installed)"; exit 0; }
done
[ "$(id -u)" = 0 ] || { echo "bench net: skipped (podman's CNI bridge needs root)"; exit 0; }
[ -x "$OCIVM" ] && [ -x "$OCIVMFS" ] || { echo "bench net: skipped (no $OCIVM or $OCIVMFS)"; exit 0; }
mountpoint -q "$ROOT/mnt" && { echo "bench net: skipped ($ROOT/mnt in use)"; exit 0; }

tmp=$(mktemp -d /tmp/ocivm-bench-net.XXXXXX)
P=(podman --root "$tmp/storage" --runroot "$tmp/run" --storage-driver vfs)
PO=("${P[@]}" --runtime "$OCIVM" --runtime-flag "ocivmfs=$OCIVMFS")
[ "$ROOT" = /run/ocivm ] || PO+=(--runtime-flag "root=$ROOT")
PC=("${P[@]}" --runtime "$PEER")
cleanup() {
	"${P[@]}" rm -af >/dev/null 2>&1
	"${P[@]}" system reset -f >/dev/null 2>&1
	mountpoint -q "$ROOT/mnt" && { fusermount3 -u "$ROOT/mnt" || fusermount3 -uz "$ROOT/mnt"; }
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/rootfs/bin" "$tmp/rootfs/tmp" "$tmp/rootfs/proc" "$tmp/rootfs/sys" "$tmp/rootfs/dev"
cp "$(command -v busybox)" "$tmp/rootfs/bin/busybox"
for t in sh httpd dd mkdir echo; do ln -s busybox "$tmp/rootfs/bin/$t"; done
tar -C "$tmp/rootfs" -cf "$tmp/bb.tar" .
"${P[@]}" import "$tmp/bb.tar" localhost/ocivm-bench-net >/dev/null 2>&1 ||
	{ echo "bench net: podman import failed"; exit 1; }
"$OCIVM" --root "$ROOT" --ocivmfs "$OCIVMFS" mount >/dev/null ||
	{ echo "bench net: ocivm mount failed"; exit 1; }

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
SERVE="mkdir -p /tmp/w && echo small > /tmp/w/s && dd if=/dev/zero of=/tmp/w/big bs=1M count=$NET_MIB 2>/dev/null && echo READY && exec httpd -f -p 80 -h /tmp/w"

# run NAME PODMAN...: start the server; prints "gbps rr_us"
run() {
	local name=$1; shift
	"$@" run -d --name "$name" --ulimit "nofile=$NOFILE:$NOFILE" --ulimit "nproc=$NPROC:$NPROC" localhost/ocivm-bench-net sh -c "$SERVE" >/dev/null 2>"$tmp/$name.err" ||
		{ echo "bench net: $name: $(tail -1 "$tmp/$name.err")" >&2; echo "na na"; return; }
	local ip i
	ip=$("$@" inspect --format '{{.NetworkSettings.IPAddress}}' "$name" 2>/dev/null)
	for i in $(seq 1 600); do   # the VM boots and makes the file (TCG: seconds)
		curl -s -m 5 -o /dev/null "http://$ip/s" && break
		sleep 0.5
	done
	local size
	size=$(curl -s -m 600 -o /dev/null -w '%{size_download}' "http://$ip/big")
	[ "$size" = $((NET_MIB << 20)) ] || { echo "bench net: $name: got $size bytes" >&2; echo "na na"; return; }
	local bps rr
	bps=$(for i in $(seq "$NET_N"); do
		curl -s -m 600 -o /dev/null -w '%{speed_download}\n' "http://$ip/big"; done | median)
	rr=$(for i in $(seq "$NET_RR"); do
		curl -s -m 60 -o /dev/null -w '%{time_total}\n' "http://$ip/s"; done | median)
	"$@" rm -f "$name" >/dev/null 2>&1
	awk -v b="$bps" -v r="$rr" 'BEGIN { printf "%.3f %.0f\n", b * 8 / 1e9, r * 1e6 }'
}
read -r peer_gbps peer_rr < <(run bench-net-peer "${PC[@]}")
read -r ocivm_gbps ocivm_rr < <(run bench-net-ocivm "${PO[@]}")
pn=$(basename "$PEER")
echo "TCP container->host (curl of $NET_MIB MiB, median of $NET_N): $pn $peer_gbps Gbit/s, ocivm $ocivm_gbps Gbit/s"
echo "HTTP request (curl, connect+GET+answer, median of $NET_RR): $pn $peer_rr us, ocivm $ocivm_rr us"
echo "ocivm: $(head -1 "$ROOT/mnt/hypervisor" 2>/dev/null)"
echo "net ocivm_gbps=$ocivm_gbps peer_gbps=$peer_gbps rr_us_ocivm=$ocivm_rr rr_us_peer=$peer_rr"
