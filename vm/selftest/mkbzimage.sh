#!/bin/sh
# mkbzimage.sh ELF OUT: wrap the self-test payload in a bzImage (boot
# protocol 2.12, relocatable, preferred address 16 MiB, 64-bit entry at
# +0x200 = linux64_entry) so the VMM's bzImage path is tested end to end.
set -eu
elf=$1 out=$2
tmp=$out.tmp
objcopy -O binary -R .bss "$elf" "$tmp.pm"
end=$(nm "$elf" | awk '$3 == "_end" { print $1 }')
entry=$(nm "$elf" | awk '$3 == "linux64_entry" { print $1 }')
[ "$entry" = "0000000001000200" ] || { echo "mkbzimage: linux64_entry must be at 0x1000200" >&2; exit 1; }
perl -e '
	my ($end) = @ARGV;
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
	substr($s, 0x258, 8) = pack("Q<", 0x1000000);   # pref_address
	substr($s, 0x260, 4) = pack("V", $init);        # init_size
	print $s;' "$end" > "$tmp.setup"
cat "$tmp.setup" "$tmp.pm" > "$out"
rm -f "$tmp.setup" "$tmp.pm"
