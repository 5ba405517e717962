/* See kimage.h. */
#include "vm/kimage.h"

#include <elf.h>
#include <errno.h>
#include <lz4.h>
#include <stdlib.h>
#include <string.h>

#define KIMG_XEN_PHYS32_ENTRY 18u

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Decompress the legacy LZ4 frame src[0, len) into out[0, total). */
static int lz4_legacy(const uint8_t *src, size_t len, uint8_t *out, size_t total)
{
	size_t pos = 4, have = 0, end = len - 4;   /* the last 4: the total */

	while (pos + 4 <= end) {
		uint32_t csize = le32(src + pos);
		pos += 4;
		if (csize == KIMG_LZ4_LEGACY_MAGIC)
			continue;   /* concatenated frames */
		if (csize == 0 || csize > end - pos ||
		    csize > (uint32_t)LZ4_compressBound(KIMG_LZ4_LEGACY_BLOCK))
			return -EINVAL;
		size_t room = total - have < KIMG_LZ4_LEGACY_BLOCK ? total - have : KIMG_LZ4_LEGACY_BLOCK;
		int n = LZ4_decompress_safe((const char *)src + pos, (char *)out + have,
					    (int)csize, (int)room);
		if (n < 0)
			return -EINVAL;
		have += (size_t)n;
		pos += csize;
	}
	return have == total ? 0 : -EINVAL;
}

int kimg_bzimage_vmlinux(const uint8_t *img, size_t len, uint8_t **ret_elf, size_t *ret_len)
{
	if (len < 0x250 || memcmp(img + 0x202, "HdrS", 4) != 0)
		return -ENOTSUP;
	size_t setup = ((size_t)(img[0x1f1] ? img[0x1f1] : 4) + 1) * 512;
	size_t off = le32(img + 0x248), plen = le32(img + 0x24c);
	if (setup > len || off > len - setup || plen > len - setup - off)
		return -EINVAL;
	const uint8_t *p = img + setup + off;
	if (plen < 8 || le32(p) != KIMG_LZ4_LEGACY_MAGIC)
		return -ENOTSUP;
	uint32_t total = le32(p + plen - 4);
	if (total == 0 || total > KIMG_MAX_VMLINUX)
		return -EINVAL;
	uint8_t *out = malloc(total);
	if (!out)
		return -ENOMEM;
	int r = lz4_legacy(p, plen, out, total);
	if (r < 0) {
		free(out);
		return r;
	}
	*ret_elf = out;
	*ret_len = total;
	return 0;
}

/* Walk one PT_NOTE segment p[0, len) for the PVH entry. */
static int notes_pvh(const uint8_t *p, size_t len, uint64_t *ret_entry)
{
	size_t pos = 0;

	while (len - pos >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;
		memcpy(&nh, p + pos, sizeof(nh));
		size_t name = (nh.n_namesz + 3u) & ~3u, desc = (nh.n_descsz + 3u) & ~3u;
		pos += sizeof(nh);
		if (name > len - pos || desc > len - pos - name)
			return -EINVAL;
		if (nh.n_type == KIMG_XEN_PHYS32_ENTRY && nh.n_namesz == 4 &&
		    memcmp(p + pos, "Xen", 4) == 0 && (nh.n_descsz == 4 || nh.n_descsz == 8)) {
			uint64_t e = 0;
			memcpy(&e, p + pos + name, nh.n_descsz);   /* little-endian host */
			*ret_entry = nh.n_descsz == 4 ? (uint32_t)e : e;
			return 0;
		}
		pos += name + desc;
	}
	return -ENOENT;
}

int kimg_elf_pvh_entry(const uint8_t *elf, size_t len, uint64_t *ret_entry)
{
	Elf64_Ehdr eh;

	if (len < sizeof(eh))
		return -EINVAL;
	memcpy(&eh, elf, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phoff > len ||
	    eh.e_phnum > (len - eh.e_phoff) / sizeof(Elf64_Phdr))
		return -EINVAL;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, elf + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_NOTE || ph.p_offset > len || ph.p_filesz > len - ph.p_offset)
			continue;
		if (notes_pvh(elf + ph.p_offset, ph.p_filesz, ret_entry) == 0)
			return 0;
	}
	return -ENOENT;
}
