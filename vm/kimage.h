/* Kernel image formats, shared by ocivm-vmm's loader (vm/vmm/) and the QEMU
 * driver's PVH shortcut (vm/driver/kernel.c).  Pure functions over bytes in
 * memory: every offset and length read from the image is checked against the
 * buffer before use (the file may be hostile).
 *
 * bzImage: the Linux boot protocol's layout, "HdrS" at 0x202, setup_sects at
 * 0x1f1, payload_offset / payload_length at 0x248 / 0x24c relative to the
 * protected-mode code at (setup_sects + 1) * 512.  An LZ4 payload is the
 * legacy frame format (magic 0x184c2102, then blocks of le32 size + data,
 * each at most 8 MiB decompressed) followed by the le32 decompressed size. */
#ifndef OCIVM_VM_KIMAGE_H
#define OCIVM_VM_KIMAGE_H

#include <stddef.h>
#include <stdint.h>

#define KIMG_MAX_VMLINUX (512u << 20)
#define KIMG_LZ4_LEGACY_MAGIC 0x184c2102u
#define KIMG_LZ4_LEGACY_BLOCK (8u << 20)

/* The vmlinux inside a bzImage whose payload is LZ4: 0 and a malloc'd ELF;
 * -ENOTSUP when img is not a bzImage with an LZ4 payload, -EINVAL when the
 * payload is malformed or does not decompress to its recorded size, -ENOMEM. */
int kimg_bzimage_vmlinux(const uint8_t *img, size_t len, uint8_t **ret_elf, size_t *ret_len);

/* The 32-bit PVH entry of an ELF64 image (Xen's XEN_ELFNOTE_PHYS32_ENTRY note
 * in any PT_NOTE segment): 0 and the entry; -ENOENT when there is none,
 * -EINVAL when the ELF headers do not fit in the buffer. */
int kimg_elf_pvh_entry(const uint8_t *elf, size_t len, uint64_t *ret_entry);

#endif
