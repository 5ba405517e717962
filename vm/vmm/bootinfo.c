#include <errno.h>
#include <string.h>

#include "vm/vmm/layout.h"
#include "vm/vmm/loader.h"

unsigned e820_build(uint64_t ram, struct e820_entry *out, unsigned max)
{
	unsigned n = 0;
	uint64_t low = ram < LAYOUT_HOLE_START ? ram : LAYOUT_HOLE_START;

	if (max < 4)
		return 0;
	out[n++] = (struct e820_entry){ 0, LAYOUT_EBDA, E820_RAM };
	out[n++] = (struct e820_entry){ LAYOUT_EBDA, LAYOUT_HIMEM - LAYOUT_EBDA, E820_RESERVED };
	if (low > LAYOUT_HIMEM)
		out[n++] = (struct e820_entry){ LAYOUT_HIMEM, low - LAYOUT_HIMEM, E820_RAM };
	if (ram > LAYOUT_HOLE_START)
		out[n++] = (struct e820_entry){ LAYOUT_HOLE_END, ram - LAYOUT_HOLE_START, E820_RAM };
	return n;
}

int initrd_place(const struct gmem *m, uint64_t size, uint64_t floor,
		 uint64_t limit, uint64_t *ret_gpa, struct oerr *err)
{
	uint64_t top = m->r[0].gpa + m->r[0].size;

	if (limit && top > limit + 1)
		top = limit + 1;
	floor = (floor + 0xfff) & ~0xfffull;
	if (size > top || ((top - size) & ~0xfffull) < floor)
		return oerr_set(err, ENOMEM, "initrd of %llu bytes does not fit in guest RAM "
				"above the kernel", (unsigned long long)size);
	*ret_gpa = (top - size) & ~0xfffull;
	return 0;
}

int pvh_write_start_info(const struct gmem *m, const struct boot_info *bi,
			 struct oerr *err)
{
	struct e820_entry e[E820_MAX];
	unsigned n = e820_build(bi->ram_bytes, e, E820_MAX);
	struct hvm_start_info *si = gmem_ptr(m, LAYOUT_START_INFO, sizeof(*si));
	struct hvm_modlist_entry *mod = gmem_ptr(m, LAYOUT_MODLIST, sizeof(*mod));
	struct hvm_memmap_entry *mm = gmem_ptr(m, LAYOUT_MEMMAP, n * sizeof(*mm));

	if (!si || !mod || !mm)
		return oerr_set(err, ENOMEM, "guest RAM too small for the PVH start info");
	*si = (struct hvm_start_info){
		.magic = HVM_START_MAGIC, .version = 1,
		.cmdline_paddr = bi->cmdline_gpa, .rsdp_paddr = bi->rsdp_gpa,
		.memmap_paddr = LAYOUT_MEMMAP, .memmap_entries = n,
	};
	if (bi->initrd_size) {
		*mod = (struct hvm_modlist_entry){ bi->initrd_gpa, bi->initrd_size, 0, 0 };
		si->nr_modules = 1;
		si->modlist_paddr = LAYOUT_MODLIST;
	}
	for (unsigned i = 0; i < n; i++)
		mm[i] = (struct hvm_memmap_entry){ e[i].addr, e[i].size, e[i].type, 0 };
	return 0;
}

/* boot_params offsets (Documentation/arch/x86/zero-page.rst, boot.rst). */
#define ZP_ACPI_RSDP 0x070
#define ZP_EXT_RAMDISK_IMAGE 0x0c0
#define ZP_EXT_RAMDISK_SIZE 0x0c4
#define ZP_EXT_CMD_LINE_PTR 0x0c8
#define ZP_E820_ENTRIES 0x1e8
#define ZP_HDR 0x1f1
#define ZP_VID_MODE 0x1fa
#define ZP_BOOT_FLAG 0x1fe
#define ZP_HDR_MAGIC 0x202
#define ZP_VERSION 0x206
#define ZP_LOADER 0x210
#define ZP_LOADFLAGS 0x211
#define ZP_RAMDISK_IMAGE 0x218
#define ZP_RAMDISK_SIZE 0x21c
#define ZP_HEAP_END 0x224
#define ZP_CMD_LINE_PTR 0x228
#define ZP_E820_TABLE 0x2d0

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static void zp_copy_header(uint8_t *zp, const struct kernel_image *k)
{
	if (k->setup && k->setup_len > 0x202) {
		size_t end = 0x202 + k->setup[0x201];
		if (end > k->setup_len)
			end = k->setup_len;
		if (end > 0x1000)
			end = 0x1000;
		memcpy(zp + ZP_HDR, k->setup + ZP_HDR, end - ZP_HDR);
		return;
	}
	put16(zp + ZP_BOOT_FLAG, 0xaa55);
	memcpy(zp + ZP_HDR_MAGIC, "HdrS", 4);
	put16(zp + ZP_VERSION, 0x020c);
}

int zero_page_write(const struct gmem *m, const struct kernel_image *k,
		    const struct boot_info *bi, struct oerr *err)
{
	struct e820_entry e[E820_MAX];
	unsigned n = e820_build(bi->ram_bytes, e, E820_MAX);
	uint8_t *zp = gmem_ptr(m, LAYOUT_ZERO_PAGE, 0x1000);

	if (!zp)
		return oerr_set(err, ENOMEM, "guest RAM too small for boot_params");
	memset(zp, 0, 0x1000);
	zp_copy_header(zp, k);
	put16(zp + ZP_VID_MODE, 0xffff);
	zp[ZP_LOADER] = 0xff;
	zp[ZP_LOADFLAGS] |= 0x01 | 0x80;   /* LOADED_HIGH, CAN_USE_HEAP */
	put16(zp + ZP_HEAP_END, 0xfe00);
	put32(zp + ZP_CMD_LINE_PTR, (uint32_t)bi->cmdline_gpa);
	zp[ZP_EXT_CMD_LINE_PTR] = (uint8_t)(bi->cmdline_gpa >> 32);
	put32(zp + ZP_RAMDISK_IMAGE, (uint32_t)bi->initrd_gpa);
	put32(zp + ZP_RAMDISK_SIZE, (uint32_t)bi->initrd_size);
	put32(zp + ZP_EXT_RAMDISK_IMAGE, (uint32_t)(bi->initrd_gpa >> 32));
	put32(zp + ZP_EXT_RAMDISK_SIZE, (uint32_t)(bi->initrd_size >> 32));
	put64(zp + ZP_ACPI_RSDP, bi->rsdp_gpa);
	zp[ZP_E820_ENTRIES] = (uint8_t)n;
	for (unsigned i = 0; i < n; i++) {
		uint8_t *p = zp + ZP_E820_TABLE + i * 20;
		put64(p, e[i].addr);
		put64(p + 8, e[i].size);
		put32(p + 16, e[i].type);
	}
	return 0;
}

int boot_write_tables(const struct gmem *m, struct oerr *err)
{
	static const uint64_t gdt[] = {
		0,                          /* null */
		0x00cf9b000000ffffull,      /* 0x08: 32-bit code (PVH) */
		0x00af9b000000ffffull,      /* 0x10: 64-bit code (__BOOT_CS) */
		0x00cf93000000ffffull,      /* 0x18: data (__BOOT_DS) */
		0x00808b000000ffffull,      /* 0x20: TSS */
	};
	uint64_t *g = gmem_ptr(m, LAYOUT_GDT, sizeof(gdt));
	uint64_t *pml4 = gmem_ptr(m, LAYOUT_PML4, 0x1000);
	uint64_t *pdpt = gmem_ptr(m, LAYOUT_PDPT, 0x1000);
	uint64_t *pd = gmem_ptr(m, LAYOUT_PD, 4 * 0x1000);

	if (!g || !pml4 || !pdpt || !pd)
		return oerr_set(err, ENOMEM, "guest RAM too small for the boot tables");
	memcpy(g, gdt, sizeof(gdt));
	memset(pml4, 0, 0x1000);
	memset(pdpt, 0, 0x1000);
	pml4[0] = LAYOUT_PDPT | 0x3;
	for (unsigned i = 0; i < 4; i++)
		pdpt[i] = (LAYOUT_PD + i * 0x1000ull) | 0x3;
	for (unsigned i = 0; i < 4 * 512; i++)
		pd[i] = ((uint64_t)i << 21) | 0x83;   /* present, rw, 2 MiB */
	return 0;
}
