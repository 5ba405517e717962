#!/bin/sh
# Disks for the guest self-test's virtio-blk checks (vm/selftest/virtio_blk_checks.c).
#   selftest_disks.sh prepare DIR   make DIR/rw.img and DIR/ro.img and print
#                                   the extra ocivm-vmm arguments (one line)
#   selftest_disks.sh verify DIR    check on the host what the guest wrote;
#                                   one line per case, then "N passed, N failed"
# Layout (1 MiB each): sector s < 64 holds the byte (s + 1) & 0xff.  The
# guest writes (0xa0 + s) into sectors 8..15, discards 16..23 and zeroes
# 24..31 of rw.img; ro.img must stay as it was.
set -eu

SECTORS=64

sector_bytes() {   # sector_bytes VALUE -> 512 bytes of that value
	head -c 512 /dev/zero | tr '\000' "\\$(printf '%03o' "$1")"
}

make_image() {
	rm -f "$1"
	s=0
	while [ $s -lt $SECTORS ]; do
		sector_bytes $(( (s + 1) & 255 ))
		s=$((s + 1))
	done > "$1"
	truncate -s 1M "$1"
}

same_sector() {   # same_sector IMG SECTOR VALUE
	a=$(dd if="$1" bs=512 skip="$2" count=1 status=none | od -An -v -tx1 | tr -d ' \n')
	b=$(sector_bytes "$3" | od -An -v -tx1 | tr -d ' \n')
	[ "$a" = "$b" ]
}

pass=0
fail=0
case_() {   # case_ NAME COND...
	name=$1
	shift
	if "$@"; then
		echo "PASS $name"
		pass=$((pass + 1))
	else
		echo "FAIL $name"
		fail=$((fail + 1))
	fi
}

range_is() {   # range_is IMG FIRST LAST VALUE|pattern|guest
	img=$1 s=$2
	while [ "$s" -le "$3" ]; do
		case $4 in
		pattern) v=$(( (s + 1) & 255 )) ;;
		guest) v=$(( (0xa0 + s) & 255 )) ;;
		*) v=$4 ;;
		esac
		same_sector "$img" "$s" "$v" || return 1
		s=$((s + 1))
	done
}

case "${1:-}" in
prepare)
	[ $# -eq 2 ] || { echo "usage: $0 prepare DIR" >&2; exit 2; }
	mkdir -p "$2"
	make_image "$2/rw.img"
	make_image "$2/ro.img"
	chmod a-w "$2/ro.img"
	echo "--disk $2/rw.img,serial=ocivm-st-rw --disk $2/ro.img,ro,serial=ocivm-st-ro"
	;;
verify)
	[ $# -eq 2 ] || { echo "usage: $0 verify DIR" >&2; exit 2; }
	rw=$2/rw.img ro=$2/ro.img
	case_ disks.rw.untouched range_is "$rw" 0 7 pattern
	case_ disks.rw.written range_is "$rw" 8 15 guest
	case_ disks.rw.discarded range_is "$rw" 16 23 0
	case_ disks.rw.zeroed range_is "$rw" 24 31 0
	case_ disks.rw.rest range_is "$rw" 32 63 pattern
	case_ disks.rw.size test "$(stat -c %s "$rw")" -eq 1048576
	case_ disks.ro.untouched range_is "$ro" 0 63 pattern
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	;;
*)
	echo "usage: $0 prepare DIR | verify DIR" >&2
	exit 2
	;;
esac
