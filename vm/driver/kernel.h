/* Kernels for QEMU: a bzImage whose payload is LZ4 and whose vmlinux carries
 * a PVH entry note is booted as that vmlinux, skipping the guest's
 * decompressor (under TCG 0.1-1.4 s of a 2-5 s boot; vm/driver/README.md). */
#ifndef OCIVM_VM_DRIVER_KERNEL_H
#define OCIVM_VM_DRIVER_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VM_KERNEL_MAX_VMLINUX (512u << 20)

/* The vmlinux inside a bzImage held in memory: 0 and a malloc'd ELF,
 * -ENOTSUP when it is not an LZ4 bzImage, -EINVAL when it is malformed. */
int vm_bzimage_extract(const uint8_t *img, size_t len, uint8_t **ret, size_t *ret_len);
/* Does an ELF64 image carry Xen's PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)? */
bool vm_elf_has_pvh(const uint8_t *elf, size_t len);
/* For a kernel file, the path of its cached PVH vmlinux (built on first
 * use under cache_dir/kernels/): 0 and a malloc'd path, or -ENOTSUP when
 * the kernel is not an LZ4 bzImage with a PVH vmlinux, or -errno. */
int vm_kernel_pvh(const char *cache_dir, const char *kernel, char **ret_path);

#endif
