/* Kernel loaders and boot information, as pure functions over guest memory
 * (struct gmem) so they are unit-tested against synthetic images.
 * Every address a file or a header names is range-checked. */
#ifndef OCIVM_VMM_LOADER_H
#define OCIVM_VMM_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "vm/virtio/virtio.h"
#include "vm/vmm/pvh.h"

enum boot_mode { BOOT_PVH, BOOT_LINUX64 };

struct boot_entry {
	enum boot_mode mode;
	uint64_t rip;       /* PVH: 32-bit entry; LINUX64: 64-bit entry */
	uint64_t arg;       /* PVH: ebx = hvm_start_info; LINUX64: rsi = boot_params */
};

struct kernel_image {
	enum boot_mode mode;
	uint64_t entry;
	uint64_t load_end;        /* highest guest address the kernel uses */
	uint64_t initrd_max;      /* highest initrd byte allowed (bzImage) */
	const uint8_t *setup;     /* bzImage: the setup header's sector, or NULL */
	size_t setup_len;
};

#define E820_RAM 1u
#define E820_RESERVED 2u
#define E820_MAX 128u

struct e820_entry {
	uint64_t addr, size;
	uint32_t type;
};

/* The e820 map of a guest with ram_bytes of RAM (layout.h); returns the
 * number of entries. */
unsigned e820_build(uint64_t ram_bytes, struct e820_entry *out, unsigned max);

/* Load an ELF64 x86-64 image (PT_LOAD at p_paddr).  With a Xen PVH note
 * (XEN_ELFNOTE_PHYS32_ENTRY) the mode is BOOT_PVH, else BOOT_LINUX64 at
 * e_entry. */
int elf_load(const struct gmem *m, const uint8_t *img, size_t len,
	     struct kernel_image *ret, struct oerr *err);
/* Recognise a bzImage (boot protocol >= 2.12, 64-bit entry). */
int bzimage_probe(const uint8_t *img, size_t len);
/* Load the protected-mode part and prepare a BOOT_LINUX64 entry. */
int bzimage_load(const struct gmem *m, const uint8_t *img, size_t len,
		 struct kernel_image *ret, struct oerr *err);
/* If the bzImage payload is LZ4 (legacy frame), decompress it into a
 * malloc'd buffer (the vmlinux ELF). -ENOENT when it is not LZ4. */
int bzimage_extract_lz4(const uint8_t *img, size_t len, uint8_t **ret_buf,
			size_t *ret_len, struct oerr *err);

/* Place the initrd in low RAM below limit and above floor; returns its gpa. */
int initrd_place(const struct gmem *m, uint64_t size, uint64_t floor,
		 uint64_t limit, uint64_t *ret_gpa, struct oerr *err);

struct boot_info {
	uint64_t cmdline_gpa;
	uint64_t initrd_gpa, initrd_size;   /* size 0: none */
	uint64_t rsdp_gpa;
	uint64_t ram_bytes;
};
/* Write hvm_start_info, module list and memory map (PVH). */
int pvh_write_start_info(const struct gmem *m, const struct boot_info *bi,
			 struct oerr *err);
/* Write boot_params (the zero page); setup may be NULL (vmlinux). */
int zero_page_write(const struct gmem *m, const struct kernel_image *k,
		    const struct boot_info *bi, struct oerr *err);
/* Identity page tables for the first 4 GiB and the boot GDT. */
int boot_write_tables(const struct gmem *m, struct oerr *err);


#endif
