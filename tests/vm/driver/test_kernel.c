/* bzImage -> PVH vmlinux: a synthetic bzImage (boot protocol header, LZ4
 * legacy payload of a small ELF with or without Xen's PVH note), the real
 * guest kernel where `make guest` has run, and the cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <elf.h>
#include <errno.h>
#include <lz4.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "vm/driver/kernel.h"

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

/* A minimal ELF64: header, one PT_NOTE, a note (Xen type `type`), padding. */
static size_t make_elf(uint8_t *buf, size_t cap, uint32_t type)
{
	Elf64_Ehdr eh = { .e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB, EV_CURRENT },
			  .e_type = ET_EXEC, .e_machine = EM_X86_64, .e_phoff = sizeof(Elf64_Ehdr),
			  .e_ehsize = sizeof(Elf64_Ehdr), .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 1 };
	size_t note_off = sizeof(eh) + sizeof(Elf64_Phdr);
	Elf64_Nhdr nh = { .n_namesz = 4, .n_descsz = 4, .n_type = type };
	Elf64_Phdr ph = { .p_type = PT_NOTE, .p_offset = note_off, .p_filesz = sizeof(nh) + 8 };
	memset(buf, 0x90, cap);
	memcpy(buf, &eh, sizeof(eh));
	memcpy(buf + sizeof(eh), &ph, sizeof(ph));
	memcpy(buf + note_off, &nh, sizeof(nh));
	memcpy(buf + note_off + sizeof(nh), "Xen", 4);
	put32(buf + note_off + sizeof(nh) + 4, 0x01000850);
	return cap;
}

/* bzImage: setup_sects=1, "HdrS", LZ4 legacy payload of elf, + size. */
static size_t make_bzimage(uint8_t *out, size_t cap, const uint8_t *elf, size_t elf_len,
			   size_t block)
{
	size_t setup = 2 * 512, pos = setup + 4;
	memset(out, 0, setup);
	out[0x1f1] = 1;
	memcpy(out + 0x202, "HdrS", 4);
	put32(out + setup, 0x184c2102);
	for (size_t off = 0; off < elf_len; off += block) {
		size_t n = elf_len - off < block ? elf_len - off : block;
		int c = LZ4_compress_default((const char *)elf + off, (char *)out + pos + 4, (int)n,
					     (int)(cap - pos - 4));
		assert_true(c > 0);
		put32(out + pos, (uint32_t)c);
		pos += 4 + (size_t)c;
	}
	put32(out + pos, (uint32_t)elf_len);
	pos += 4;
	put32(out + 0x248, 0);
	put32(out + 0x24c, (uint32_t)(pos - setup));
	return pos;
}

static uint8_t elf[300000], bz[400000];

static void test_extract_pvh(void **state)
{
	size_t elf_len = make_elf(elf, sizeof(elf), 18);
	size_t bz_len = make_bzimage(bz, sizeof(bz), elf, elf_len, 65536);   /* 5 blocks */
	uint8_t *out = NULL;
	size_t out_len = 0;

	assert_int_equal(vm_bzimage_extract(bz, bz_len, &out, &out_len), 0);
	assert_int_equal(out_len, elf_len);
	assert_memory_equal(out, elf, elf_len);
	assert_true(vm_elf_has_pvh(out, out_len));
	free(out);
}

static void test_not_convertible(void **state)
{
	size_t elf_len = make_elf(elf, sizeof(elf), 17);   /* a Xen note, not PVH */
	uint8_t *out = NULL;
	size_t out_len;

	assert_false(vm_elf_has_pvh(elf, elf_len));
	assert_false(vm_elf_has_pvh(elf, 10));
	size_t bz_len = make_bzimage(bz, sizeof(bz), elf, elf_len, 8u << 20);
	put32(bz + bz_len - 4, (uint32_t)elf_len + 1);   /* size trailer disagrees */
	assert_int_equal(vm_bzimage_extract(bz, bz_len, &out, &out_len), -EINVAL);
	put32(bz + bz_len - 4, (uint32_t)elf_len);
	memset(bz + 1024 + 8, 0xff, 64);   /* garbage where the first block's tokens are */
	assert_int_equal(vm_bzimage_extract(bz, bz_len, &out, &out_len), -EINVAL);
	memcpy(bz + 0x202, "Nope", 4);
	assert_int_equal(vm_bzimage_extract(bz, bz_len, &out, &out_len), -ENOTSUP);
	assert_int_equal(vm_bzimage_extract(bz, 100, &out, &out_len), -ENOTSUP);
	/* a gzip payload is left alone */
	bz_len = make_bzimage(bz, sizeof(bz), elf, elf_len, 65536);
	bz[1024] = 0x1f;
	bz[1025] = 0x8b;
	assert_int_equal(vm_bzimage_extract(bz, bz_len, &out, &out_len), -ENOTSUP);
	/* a payload that claims to run past the file */
	bz_len = make_bzimage(bz, sizeof(bz), elf, elf_len, 65536);
	put32(bz + 0x24c, 0x7fffffff);
	assert_int_equal(vm_bzimage_extract(bz, bz_len, &out, &out_len), -EINVAL);
}

static void test_cache(void **state)
{
	char dir[] = "/tmp/vmkernel.XXXXXX", kpath[128], cmd[160];
	char *p1 = NULL, *p2 = NULL;

	assert_non_null(mkdtemp(dir));
	snprintf(kpath, sizeof(kpath), "%s/vmlinuz", dir);
	size_t bz_len = make_bzimage(bz, sizeof(bz), elf, make_elf(elf, sizeof(elf), 18), 65536);
	assert_int_equal(file_write_atomic(kpath, bz, bz_len, 0644), 0);
	assert_int_equal(vm_kernel_pvh(dir, kpath, &p1), 0);
	assert_int_equal(vm_kernel_pvh(dir, kpath, &p2), 0);   /* cached */
	assert_string_equal(p1, p2);
	assert_int_equal(access(p1, R_OK), 0);
	assert_int_equal(vm_kernel_pvh(NULL, kpath, &p2), -ENOTSUP);
	assert_int_equal(vm_kernel_pvh(dir, "/nonexistent", &p2), -ENOTSUP);
	free(p1);
	free(p2);
	/* not convertible: remembered, still -ENOTSUP */
	size_t elf_len = make_elf(elf, sizeof(elf), 17);
	bz_len = make_bzimage(bz, sizeof(bz), elf, elf_len, 65536);
	assert_int_equal(file_write_atomic(kpath, bz, bz_len, 0644), 0);
	assert_int_equal(vm_kernel_pvh(dir, kpath, &p1), -ENOTSUP);
	assert_int_equal(vm_kernel_pvh(dir, kpath, &p1), -ENOTSUP);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* The real Debian kernel, where make guest has put it. */
static void test_real_kernel(void **state)
{
	const char *build = getenv("BUILD");
	char path[512];
	char *img = NULL;
	uint8_t *out = NULL;
	size_t len, out_len;

	snprintf(path, sizeof(path), "%s/guest/vmlinuz", build && *build ? build : "build");
	if (file_read_all(path, 64u << 20, &img, &len) < 0)
		skip();
	assert_int_equal(vm_bzimage_extract((uint8_t *)img, len, &out, &out_len), 0);
	assert_true(out_len > 20u << 20);
	assert_true(vm_elf_has_pvh(out, out_len));
	free(out);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_extract_pvh),
		cmocka_unit_test(test_not_convertible),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_real_kernel),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
