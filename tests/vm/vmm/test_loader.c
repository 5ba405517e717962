/* Loaders against synthetic images: ELF (PVH note or not), bzImage (64-bit
 * boot protocol, LZ4 payload), e820, PVH start info, boot_params, initrd. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <elf.h>
#include <errno.h>
#include <lz4.h>

#include "vm/vmm/layout.h"
#include "vm/vmm/loader.h"

#define RAM (64u << 20)

struct env {
	struct gmem m;
	uint8_t img[8192];
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	e->m.r[0] = (struct gmem_region){ 0, RAM, calloc(1, RAM) };
	e->m.n = 1;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	free(e->m.r[0].host);
	free(e);
	return 0;
}

/* ELF64 with one PT_LOAD (0x100 bytes of 0xcc at 0x1000000, memsz 0x300) and
 * optionally a PT_NOTE with the Xen PVH entry (desc 4 or 8 bytes). */
static size_t make_elf(uint8_t *img, int note_desc, uint64_t paddr)
{
	Elf64_Ehdr eh = { .e_ident = { 0x7f, 'E', 'L', 'F', ELFCLASS64, ELFDATA2LSB, EV_CURRENT },
			  .e_type = ET_EXEC, .e_machine = EM_X86_64, .e_entry = 0x1000040,
			  .e_phoff = sizeof(Elf64_Ehdr), .e_phentsize = sizeof(Elf64_Phdr),
			  .e_phnum = note_desc ? 2 : 1 };
	Elf64_Phdr ld = { .p_type = PT_LOAD, .p_offset = 0x1000, .p_paddr = paddr,
			  .p_filesz = 0x100, .p_memsz = 0x300 };
	Elf64_Phdr nt = { .p_type = PT_NOTE, .p_offset = 0x800, .p_filesz = 24 };
	memset(img, 0, 0x1100);
	memcpy(img, &eh, sizeof(eh));
	memcpy(img + sizeof(eh), &ld, sizeof(ld));
	memcpy(img + sizeof(eh) + sizeof(ld), &nt, sizeof(nt));
	memset(img + 0x1000, 0xcc, 0x100);
	if (note_desc) {
		Elf64_Nhdr nh = { 4, (Elf64_Word)note_desc, 18 };
		uint64_t entry = 0x1000010;
		memcpy(img + 0x800, &nh, sizeof(nh));
		memcpy(img + 0x80c, "Xen", 4);
		memcpy(img + 0x810, &entry, (size_t)note_desc);
	}
	return 0x1100;
}

static void test_elf_pvh(void **state)
{
	struct env *e = *state;
	struct kernel_image k;
	uint8_t *ram = e->m.r[0].host;

	memset(ram + 0x1000100, 0x77, 0x200);   /* bss must be zeroed */
	for (int desc = 4; desc <= 8; desc += 4) {
		size_t len = make_elf(e->img, desc, 0x1000000);
		assert_int_equal(elf_load(&e->m, e->img, len, &k, NULL), 0);
		assert_int_equal(k.mode, BOOT_PVH);
		assert_int_equal(k.entry, 0x1000010);
		assert_int_equal(k.load_end, 0x1000300);
		assert_int_equal(ram[0x1000000], 0xcc);
		assert_int_equal(ram[0x10000ff], 0xcc);
		assert_int_equal(ram[0x1000100], 0);
		assert_int_equal(ram[0x10002ff], 0);
	}
}

static void test_elf_no_note_is_linux64(void **state)
{
	struct env *e = *state;
	struct kernel_image k;
	size_t len = make_elf(e->img, 0, 0x1000000);
	assert_int_equal(elf_load(&e->m, e->img, len, &k, NULL), 0);
	assert_int_equal(k.mode, BOOT_LINUX64);
	assert_int_equal(k.entry, 0x1000040);
}

static void test_elf_hostile(void **state)
{
	struct env *e = *state;
	struct kernel_image k;
	struct oerr err = { 0 };
	size_t len = make_elf(e->img, 0, RAM - 0x100);   /* memsz runs past RAM */
	assert_int_equal(elf_load(&e->m, e->img, len, &k, &err), -ENOMEM);
	assert_non_null(strstr(err.msg, "does not fit"));
	len = make_elf(e->img, 0, UINT64_MAX - 0x10);    /* address wraps */
	assert_int_equal(elf_load(&e->m, e->img, len, &k, NULL), -ENOMEM);
	len = make_elf(e->img, 0, 0x1000000);
	assert_int_equal(elf_load(&e->m, e->img, 0x1050, &k, NULL), -EINVAL);  /* truncated */
	assert_int_equal(elf_load(&e->m, e->img, 40, &k, NULL), -ENOEXEC);
	len = make_elf(e->img, 4, 0x1000000);
	Elf64_Nhdr nh = { 0xffffffff, 4, 18 };          /* absurd namesz: no note */
	memcpy(e->img + 0x800, &nh, sizeof(nh));
	assert_int_equal(elf_load(&e->m, e->img, len, &k, NULL), 0);
	assert_int_equal(k.mode, BOOT_LINUX64);
	e->img[EI_CLASS] = ELFCLASS32;
	assert_int_equal(elf_load(&e->m, e->img, len, &k, NULL), -ENOEXEC);
	memcpy(e->img, "\x7f" "ELF", 4);
	e->img[0] = 'M';
	assert_int_equal(elf_load(&e->m, e->img, len, &k, NULL), -ENOEXEC);
}

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* setup_sects 1 -> protected-mode code at 0x400. */
static size_t make_bzimage(uint8_t *img, size_t cap, uint16_t version, const uint8_t *payload,
			   size_t plen)
{
	memset(img, 0, cap);
	img[0x1f1] = 1;
	put16(img + 0x1fe, 0xaa55);
	img[0x201] = 0x66;                     /* header ends at 0x268 */
	memcpy(img + 0x202, "HdrS", 4);
	put16(img + 0x206, version);
	put32(img + 0x22c, 0x37ffffff);
	img[0x234] = 1;                        /* relocatable */
	put16(img + 0x236, 1);                 /* XLF_KERNEL_64 */
	put32(img + 0x248, 0x10);              /* payload offset in pm code */
	put32(img + 0x24c, (uint32_t)plen);
	put64(img + 0x258, 0x1000000);         /* pref_address */
	put32(img + 0x260, 0x10000);           /* init_size */
	memset(img + 0x400, 0x90, 0x10);
	memcpy(img + 0x410, payload, plen);
	return 0x410 + plen;
}

static void test_bzimage_64bit(void **state)
{
	struct env *e = *state;
	struct kernel_image k;
	uint8_t pl[16] = { 1, 2, 3 };
	size_t len = make_bzimage(e->img, sizeof(e->img), 0x020f, pl, sizeof(pl));
	uint8_t *ram = e->m.r[0].host;

	assert_int_equal(bzimage_probe(e->img, len), 0);
	assert_int_equal(bzimage_load(&e->m, e->img, len, &k, NULL), 0);
	assert_int_equal(k.mode, BOOT_LINUX64);
	assert_int_equal(k.entry, 0x1000200);
	assert_int_equal(k.load_end, 0x1010000);
	assert_int_equal(k.initrd_max, 0x37ffffff);
	assert_int_equal(ram[0x1000000], 0x90);
	assert_int_equal(ram[0x1000010], 1);
	/* Not LZ4: no extraction. */
	uint8_t *out = NULL;
	size_t olen;
	assert_int_equal(bzimage_extract_lz4(e->img, len, &out, &olen, NULL), -ENOENT);
	/* Too old a protocol. */
	len = make_bzimage(e->img, sizeof(e->img), 0x020b, pl, sizeof(pl));
	assert_int_equal(bzimage_probe(e->img, len), -ENOTSUP);
	assert_int_equal(bzimage_load(&e->m, e->img, len, &k, NULL), -ENOEXEC);
}

/* A legacy LZ4 frame around an ELF, as the kernel build writes it. */
static void test_bzimage_lz4(void **state)
{
	struct env *e = *state;
	static uint8_t elf[0x1100], frame[0x1400], img[0x2000];
	size_t elen = make_elf(elf, 8, 0x1000000);
	int c = LZ4_compress_default((const char *)elf, (char *)frame + 8, (int)elen, 0x1300);
	assert_true(c > 0);
	put32(frame, 0x184c2102);
	put32(frame + 4, (uint32_t)c);
	put32(frame + 8 + c, (uint32_t)elen);   /* trailing uncompressed size */
	size_t len = make_bzimage(img, sizeof(img), 0x020f, frame, (size_t)c + 12);
	uint8_t *out = NULL;
	size_t olen = 0;
	struct kernel_image k;

	assert_int_equal(bzimage_extract_lz4(img, len, &out, &olen, NULL), 0);
	assert_int_equal(olen, elen);
	assert_memory_equal(out, elf, elen);
	assert_int_equal(elf_load(&e->m, out, olen, &k, NULL), 0);
	assert_int_equal(k.mode, BOOT_PVH);
	free(out);
	/* Corrupt block: an error, not a crash. */
	put32(img + 0x410 + 4, (uint32_t)c - 5);
	memset(img + 0x410 + 8, 0xff, 16);
	struct oerr err = { 0 };
	int r = bzimage_extract_lz4(img, len, &out, &olen, &err);
	if (r == 0)
		free(out);
	else
		assert_int_equal(r, -EINVAL);
}

static void test_e820(void **state)
{
	struct e820_entry m[E820_MAX];
	(void)state;
	unsigned n = e820_build(128u << 20, m, E820_MAX);
	assert_int_equal(n, 3);
	assert_int_equal(m[0].addr, 0);
	assert_int_equal(m[0].size, LAYOUT_EBDA);
	assert_int_equal(m[1].type, E820_RESERVED);
	assert_int_equal(m[2].addr, LAYOUT_HIMEM);
	assert_int_equal(m[2].addr + m[2].size, 128u << 20);
	n = e820_build(4ull << 30, m, E820_MAX);
	assert_int_equal(n, 4);
	assert_int_equal(m[2].addr + m[2].size, LAYOUT_HOLE_START);
	assert_int_equal(m[3].addr, LAYOUT_HOLE_END);
	assert_int_equal(m[3].size, (4ull << 30) - LAYOUT_HOLE_START);
	assert_int_equal(e820_build(1, m, 2), 0);
}

static void test_pvh_start_info(void **state)
{
	struct env *e = *state;
	struct boot_info bi = { .cmdline_gpa = LAYOUT_CMDLINE, .initrd_gpa = 0x3000000,
				.initrd_size = 1234, .rsdp_gpa = LAYOUT_ACPI, .ram_bytes = RAM };
	uint8_t *ram = e->m.r[0].host;
	struct hvm_start_info si;
	struct hvm_modlist_entry mod;
	struct hvm_memmap_entry mm[3];

	assert_int_equal(pvh_write_start_info(&e->m, &bi, NULL), 0);
	memcpy(&si, ram + LAYOUT_START_INFO, sizeof(si));
	assert_int_equal(si.magic, HVM_START_MAGIC);
	assert_int_equal(si.version, 1);
	assert_int_equal(si.nr_modules, 1);
	assert_int_equal(si.cmdline_paddr, LAYOUT_CMDLINE);
	assert_int_equal(si.rsdp_paddr, LAYOUT_ACPI);
	assert_int_equal(si.memmap_entries, 3);
	memcpy(&mod, ram + si.modlist_paddr, sizeof(mod));
	assert_int_equal(mod.paddr, 0x3000000);
	assert_int_equal(mod.size, 1234);
	memcpy(mm, ram + si.memmap_paddr, sizeof(mm));
	assert_int_equal(mm[2].addr + mm[2].size, RAM);
	assert_int_equal(mm[2].type, 1);
	/* modlist and memmap must not overlap the start info */
	assert_true(si.modlist_paddr >= LAYOUT_START_INFO + sizeof(si));
	assert_true(si.memmap_paddr >= si.modlist_paddr + sizeof(mod));
}

static void test_zero_page(void **state)
{
	struct env *e = *state;
	struct kernel_image k;
	uint8_t pl[16] = { 0 };
	size_t len = make_bzimage(e->img, sizeof(e->img), 0x020f, pl, sizeof(pl));
	struct boot_info bi = { .cmdline_gpa = LAYOUT_CMDLINE, .initrd_gpa = 0x3000000,
				.initrd_size = 4096, .rsdp_gpa = LAYOUT_ACPI, .ram_bytes = RAM };
	uint8_t *zp = (uint8_t *)e->m.r[0].host + LAYOUT_ZERO_PAGE;
	uint32_t v32;
	uint64_t v64;

	assert_int_equal(bzimage_load(&e->m, e->img, len, &k, NULL), 0);
	assert_int_equal(zero_page_write(&e->m, &k, &bi, NULL), 0);
	assert_memory_equal(zp + 0x202, "HdrS", 4);
	assert_int_equal(zp[0x210], 0xff);                 /* type_of_loader */
	assert_true(zp[0x211] & 0x81);                     /* LOADED_HIGH | CAN_USE_HEAP */
	memcpy(&v32, zp + 0x228, 4);
	assert_int_equal(v32, LAYOUT_CMDLINE);
	memcpy(&v32, zp + 0x218, 4);
	assert_int_equal(v32, 0x3000000);
	memcpy(&v32, zp + 0x21c, 4);
	assert_int_equal(v32, 4096);
	memcpy(&v64, zp + 0x070, 8);
	assert_int_equal(v64, LAYOUT_ACPI);
	assert_int_equal(zp[0x1e8], 3);                    /* e820 entries */
	memcpy(&v64, zp + 0x2d0 + 2 * 20, 8);
	assert_int_equal(v64, LAYOUT_HIMEM);
	/* vmlinux (no setup header): a minimal header is synthesised. */
	k.setup = NULL;
	assert_int_equal(zero_page_write(&e->m, &k, &bi, NULL), 0);
	assert_memory_equal(zp + 0x202, "HdrS", 4);
}

static void test_boot_tables(void **state)
{
	struct env *e = *state;
	uint8_t *ram = e->m.r[0].host;
	uint64_t v;
	assert_int_equal(boot_write_tables(&e->m, NULL), 0);
	memcpy(&v, ram + LAYOUT_PML4, 8);
	assert_int_equal(v, LAYOUT_PDPT | 3);
	memcpy(&v, ram + LAYOUT_PD + 8 * 2047, 8);
	assert_int_equal(v, (2047ull << 21) | 0x83);      /* maps up to 4 GiB */
	memcpy(&v, ram + LAYOUT_GDT + 0x10, 8);
	assert_int_equal(v, 0x00af9b000000ffffull);      /* __BOOT_CS: 64-bit */
}

static void test_initrd_place(void **state)
{
	struct env *e = *state;
	uint64_t gpa;
	struct oerr err = { 0 };
	assert_int_equal(initrd_place(&e->m, 10000, 0x1000300, UINT32_MAX, &gpa, NULL), 0);
	assert_int_equal(gpa & 0xfff, 0);
	assert_true(gpa + 10000 <= RAM);
	assert_true(gpa >= 0x1000300);
	assert_int_equal(initrd_place(&e->m, 10000, 0, 0x2000000 - 1, &gpa, NULL), 0);
	assert_true(gpa + 10000 <= 0x2000000);
	assert_int_equal(initrd_place(&e->m, RAM, 0x1000000, UINT32_MAX, &gpa, &err), -ENOMEM);
	assert_int_equal(initrd_place(&e->m, RAM - 0x1000000, 0x1000300, UINT32_MAX, &gpa, NULL), -ENOMEM);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_elf_pvh), T(test_elf_no_note_is_linux64), T(test_elf_hostile),
		T(test_bzimage_64bit), T(test_bzimage_lz4), T(test_e820),
		T(test_pvh_start_info), T(test_zero_page), T(test_boot_tables),
		T(test_initrd_place),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
