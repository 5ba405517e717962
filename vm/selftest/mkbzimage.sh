#!/bin/sh
# mkbzimage.sh ELF OUT [lz4]: wrap the self-test payload in a bzImage (boot
# protocol 2.12, relocatable, preferred address 16 MiB, 64-bit entry at
# +0x200 = linux64_entry) so the VMM's bzImage path is tested end to end.
# With "lz4", the ELF itself is also appended as the bzImage payload in the
# kernel's legacy LZ4 format (+ le32 size), as Debian's kernel carries its
# vmlinux: ocivm-vmm then extracts it and enters through PVH.
set -eu
elf=$1 out=$2 mode=${3:-}
tmp=$out.tmp
objcopy -O binary -R .bss "$elf" "$tmp.pm"
poff=0 plen=0
if [ "$mode" = lz4 ]; then
	pad=$(( (16 - $(stat -c %s "$tmp.pm") % 16) % 16 ))
	head -c "$pad" /dev/zero >> "$tmp.pm"
	poff=$(stat -c %s "$tmp.pm")
	lz4 -l -q -f "$elf" "$tmp.lz4"
	perl -e 'print pack("V", $ARGV[0])' "$(stat -c %s "$elf")" >> "$tmp.lz4"
	plen=$(stat -c %s "$tmp.lz4")
	cat "$tmp.lz4" >> "$tmp.pm"
	rm -f "$tmp.lz4"
fi
end=$(nm "$elf" | awk '$3 == "_end" { print $1 }')
entry=$(nm "$elf" | awk '$3 == "linux64_entry" { print $1 }')
[ "$entry" = "0000000001000200" ] || { echo "mkbzimage: linux64_entry must be at 0x1000200" >&2; exit 1; }
perl -e '
	my ($end, $poff, $plen) = @ARGV;
	my $init = (hex($end) - 0x1000000 + 0xfff) & ~0xfff;
	my $s = "\0" x 1024;
	substr($s, 0x1f1, 1) = pack("C", 1);            # setup_sects
	substr($s, 0x1fe, 2) = pack("v", 0xaa55);       # boot_flag
	substr($s, 0x200, 2) = pack("CC", 0xeb, 0x66);  # jump: header ends at 0x268
	substr($s, 0x202, 4) = "HdrS";
	substr($s, 0x206, 2) = pack("v", 0x020c);       # version 2.12
	substr($s, 0x211, 1) = pack("C", 0x01);         # loadflags: LOADED_HIGH
	substr($s, 0x22c, 4) = pack("V", 0x7fffffff);   # initrd_addr_max
	substr($s, 0x230, 4) = pack("V", 0x200000);     # kernel_alignment
	substr($s, 0x234, 1) = pack("C", 1);            # relocatable_kernel
	substr($s, 0x236, 2) = pack("v", 0x1);          # xloadflags: XLF_KERNEL_64
	substr($s, 0x238, 4) = pack("V", 4095);         # cmdline_size
	substr($s, 0x248, 4) = pack("V", $poff);        # payload_offset
	substr($s, 0x24c, 4) = pack("V", $plen);        # payload_length
	substr($s, 0x258, 8) = pack("Q<", 0x1000000);   # pref_address
	substr($s, 0x260, 4) = pack("V", $init);        # init_size
	print $s;' "$end" "$poff" "$plen" > "$tmp.setup"
cat "$tmp.setup" "$tmp.pm" > "$out"
rm -f "$tmp.setup" "$tmp.pm"
