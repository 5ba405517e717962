/* Put the kernel, command line, initrd, ACPI tables and boot information
 * into guest memory and decide the entry (vm->entry). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "fileio.h"
#include "vm/vmm/acpi.h"
#include "vm/vmm/vmm.h"

#define KERNEL_MAX (512ull << 20)
#define INITRD_MAX (1ull << 30)

/* bzImage: prefer the host-side LZ4 -> vmlinux -> PVH path (no guest
 * decompressor); else the 64-bit boot protocol. */
static int load_image(struct kvm_vm *vm, const uint8_t *img, size_t len,
		      struct kernel_image *k, struct oerr *err)
{
	if (bzimage_probe(img, len) == 0 && vm->cfg->bzimage_direct)
		return bzimage_load(&vm->mem, img, len, k, err);
	if (bzimage_probe(img, len) == 0) {
		_cleanup_free_ uint8_t *elf = NULL;
		size_t elf_len = 0;
		int r = bzimage_extract_lz4(img, len, &elf, &elf_len, err);
		if (r < 0 && r != -ENOENT)
			return r;
		if (r == 0 && elf_load(&vm->mem, elf, elf_len, k, NULL) == 0 &&
		    k->mode == BOOT_PVH)
			return 0;
		return bzimage_load(&vm->mem, img, len, k, err);
	}
	return elf_load(&vm->mem, img, len, k, err);
}

static int load_initrd(struct kvm_vm *vm, const struct kernel_image *k,
		       struct boot_info *bi, struct oerr *err)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int r;

	if (!vm->cfg->initrd)
		return 0;
	r = file_read_all(vm->cfg->initrd, INITRD_MAX, &data, &len);
	if (r < 0)
		return oerr_sys(err, -r, "--initrd %s", vm->cfg->initrd);
	r = initrd_place(&vm->mem, len, k->load_end, k->initrd_max, &bi->initrd_gpa, err);
	if (r < 0)
		return r;
	memcpy(gmem_ptr(&vm->mem, bi->initrd_gpa, len), data, len);
	bi->initrd_size = len;
	return 0;
}

static int write_cmdline(struct kvm_vm *vm, struct boot_info *bi, struct oerr *err)
{
	const char *s = vm->cfg->cmdline ? vm->cfg->cmdline : "";
	size_t n = strlen(s) + 1;
	char *dst = gmem_ptr(&vm->mem, LAYOUT_CMDLINE, LAYOUT_CMDLINE_MAX);

	if (n > LAYOUT_CMDLINE_MAX)
		return oerr_set(err, E2BIG, "--cmdline: longer than %u bytes",
				LAYOUT_CMDLINE_MAX - 1);
	if (!dst)
		return oerr_set(err, ENOMEM, "guest RAM too small for the command line");
	memcpy(dst, s, n);
	bi->cmdline_gpa = LAYOUT_CMDLINE;
	return 0;
}

static int write_acpi(struct kvm_vm *vm, struct boot_info *bi, struct oerr *err)
{
	struct acpi_device devs[LAYOUT_VIRTIO_MAX];
	struct acpi_config c = { .ncpus = vm->n_vcpus, .devs = devs };
	uint8_t *dst = gmem_ptr(&vm->mem, LAYOUT_ACPI, LAYOUT_ACPI_SIZE);
	size_t used;

	if (!dst)
		return oerr_set(err, ENOMEM, "guest RAM too small for ACPI tables");
	c.ndevs = (unsigned)kvm_vm_acpi_devices(vm, devs);
	bi->rsdp_gpa = LAYOUT_ACPI;
	return acpi_build(&c, dst, LAYOUT_ACPI_SIZE, LAYOUT_ACPI, &used, err);
}

int kvm_vm_load_kernel(struct kvm_vm *vm, struct oerr *err)
{
	_cleanup_free_ char *img = NULL;
	struct kernel_image k;
	struct boot_info bi = { .ram_bytes = vm->cfg->memory_mib << 20 };
	size_t len = 0;
	int r;

	r = file_read_all(vm->cfg->kernel, KERNEL_MAX, &img, &len);
	if (r < 0)
		return oerr_sys(err, -r, "--kernel %s", vm->cfg->kernel);
	r = load_image(vm, (const uint8_t *)img, len, &k, err);
	if (r == 0)
		r = write_cmdline(vm, &bi, err);
	if (r == 0)
		r = load_initrd(vm, &k, &bi, err);
	if (r == 0)
		r = write_acpi(vm, &bi, err);
	if (r == 0)
		r = boot_write_tables(&vm->mem, err);
	if (r < 0)
		return r;
	if (k.mode == BOOT_PVH) {
		r = pvh_write_start_info(&vm->mem, &bi, err);
		vm->entry = (struct boot_entry){ BOOT_PVH, k.entry, LAYOUT_START_INFO };
	} else {
		r = zero_page_write(&vm->mem, &k, &bi, err);
		vm->entry = (struct boot_entry){ BOOT_LINUX64, k.entry, LAYOUT_ZERO_PAGE };
	}
	return r;
}
