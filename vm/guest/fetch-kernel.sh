#!/bin/sh
# fetch-kernel.sh GUEST_DIR [CACHE_DIR]
# Puts Debian's cloud kernel under GUEST_DIR/root (apt-get download +
# dpkg-deb -x, then depmod -b), writes GUEST_DIR/release and the stable link
# GUEST_DIR/vmlinuz.  Idempotent: nothing is downloaded when the tree is
# there.  With CACHE_DIR (holding an unpacked root/), that tree is linked
# instead.  Never touches the host's /boot or /lib/modules; reads no stdin.
set -eu
dir=$1
cache=${2:-}
pkg=linux-image-cloud-amd64
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

release_of() { ls "$1/lib/modules" 2>/dev/null | head -n 1; }

if [ -n "$cache" ] && [ ! -e "$dir/root" ]; then
	[ -d "$cache/root/lib/modules" ] || { echo "fetch-kernel: $cache/root has no kernel tree" >&2; exit 1; }
	ln -s "$(cd "$cache/root" && pwd)" "$dir/root"
fi

if [ -z "$(release_of "$dir/root")" ] || ! ls "$dir"/root/boot/vmlinuz-* >/dev/null 2>&1; then
	command -v apt-get >/dev/null || { echo "fetch-kernel: needs apt-get (Debian)" >&2; exit 1; }
	mkdir -p "$dir/debs"
	chown _apt "$dir/debs" 2>/dev/null || true   # apt-get download drops to _apt
	cd "$dir/debs"
	if ! apt-cache show "$pkg" >/dev/null 2>&1; then
		apt-get update -qq </dev/null
	fi
	ver=$(apt-cache depends "$pkg" | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\).*/\1/p' | head -n 1)
	[ -n "$ver" ] || { echo "fetch-kernel: cannot resolve the versioned package behind $pkg" >&2; exit 1; }
	echo "fetch-kernel: apt-get download $pkg $ver"
	apt-get download -qq "$pkg" "$ver" </dev/null
	rm -rf "$dir/root.tmp"
	mkdir -p "$dir/root.tmp"
	for deb in ./*.deb; do dpkg-deb -x "$deb" "$dir/root.tmp"; done
	rm -rf "$dir/root"
	mv "$dir/root.tmp" "$dir/root"
	cd "$dir"
fi

rel=$(release_of "$dir/root")
if [ ! -e "$dir/root/lib/modules/$rel/modules.dep" ]; then
	depmod -b "$dir/root" "$rel"
fi
echo "$rel" > "$dir/release.tmp" && mv "$dir/release.tmp" "$dir/release"
ln -sfn "root/boot/vmlinuz-$rel" "$dir/vmlinuz"
echo "fetch-kernel: $dir/vmlinuz -> $rel"
