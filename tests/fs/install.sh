#!/usr/bin/env bash
# `make install DESTDIR=$T PREFIX=/opt/o`, then the installed ocivmfs, run
# from where DESTDIR put it, finds its kernel and initrd in the prefix it was
# installed to (found beside the binary at run time, not the share dir
# compiled into fs/main.o, which stays /usr/local/share/ocivmfs when make
# install does not rebuild), and a create boots with that kernel.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/fs/lib.sh
BUILD=${BUILD:-build}
BUNDLE=${OCIVMFS_TEST_BUNDLE:-$BUILD/bundle/busybox}

need_vm "$BUILD/bin/ocivmfs" "$BUILD/guest/vmlinuz" "$BUILD/guest/initrd.img" "$BUNDLE/config.json"
T=$(mktemp -d /tmp/ocivmfs-install.XXXXXX)
P=$T/root/opt/o M=$T/m C=$T/m/containers/inst
cleanup() {
	[ -d "$C" ] && echo "delete force" > "$C/ctl" 2>/dev/null
	is_mounted "$M" && fusermount3 -u "$M"
	rm -rf "$T"
}
trap cleanup EXIT

check "make install DESTDIR=\$T PREFIX=/opt/o" \
	bash -c "make -s --no-print-directory BUILD='$BUILD' DESTDIR='$T/root' PREFIX=/opt/o install >'$T/install.log' 2>&1"
check "the prefix holds ocivmfs, vmlinuz and initrd.img" \
	test -x "$P/bin/ocivmfs" -a -r "$P/share/ocivmfs/vmlinuz" -a -r "$P/share/ocivmfs/initrd.img"
mount_tree "$P/bin/ocivmfs" "$M" "$T/state" || { bad "mount with the installed ocivmfs"; summary; exit 1; }
check "the installed daemon names the prefix's kernel and initrd in its log" \
	grep -qF "kernel $P/bin/../share/ocivmfs/vmlinuz, initrd $P/bin/../share/ocivmfs/initrd.img" "$M/log"
check "a create boots with that kernel (ID/vm/kernel)" \
	bash -c "ln -s '$(realpath "$BUNDLE")' '$C' && grep -qF '$P/bin/../share/ocivmfs/vmlinuz' '$C/vm/kernel'"
[ $FAIL -eq 0 ] || { echo "# log:"; sed 's/^/#   /' "$M/log" | tail -5; }
summary
