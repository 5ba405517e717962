/* PVH start info layout (xen/include/public/arch-x86/hvm/start_info.h):
 * the ABI between ocivm-vmm's loader and a PVH guest.  Only <stdint.h>, so
 * the freestanding self-test payload reads it through the same header. */
#ifndef OCIVM_PVH_H
#define OCIVM_PVH_H

#include <stdint.h>

#define HVM_START_MAGIC 0x336ec578u
struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};
struct hvm_modlist_entry {
	uint64_t paddr, size, cmdline_paddr, reserved;
};
struct hvm_memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

#endif
