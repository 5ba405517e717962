/* bzImage -> PVH vmlinux (see kernel.h).  The bzImage layout is the Linux
 * boot protocol's: "HdrS" at 0x202, setup_sects at 0x1f1, payload_offset /
 * payload_length at 0x248 / 0x24c relative to the protected-mode code at
 * (setup_sects + 1) * 512.  The LZ4 payload is the legacy frame format
 * (magic 0x184c2102, then blocks of u32 size + data, each at most 8 MiB
 * when decompressed) followed by the u32 decompressed size. */
#include "kernel.h"
#include "cleanup.h"
#include "fileio.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <lz4.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LZ4_LEGACY_MAGIC 0x184c2102u
#define XEN_ELFNOTE_PHYS32_ENTRY 18u
#define BZ_MAX_FILE (64u << 20)

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int lz4_legacy(const uint8_t *src, size_t len, uint8_t **ret, size_t *ret_len)
{
	if (len < 8 || le32(src) != LZ4_LEGACY_MAGIC)
		return -ENOTSUP;
	uint32_t total = le32(src + len - 4);
	if (total == 0 || total > VM_KERNEL_MAX_VMLINUX)
		return -EINVAL;
	uint8_t *out = malloc(total);
	size_t pos = 4, have = 0, end = len - 4;
	if (!out)
		return -ENOMEM;
	while (pos + 4 <= end) {
		uint32_t csize = le32(src + pos);
		pos += 4;
		if (csize == LZ4_LEGACY_MAGIC)
			continue;
		if (csize > end - pos || csize > (uint32_t)LZ4_compressBound(8 << 20))
			break;
		int n = LZ4_decompress_safe((const char *)src + pos, (char *)out + have,
					    (int)csize, (int)(total - have));
		if (n < 0) {
			free(out);
			return -EINVAL;
		}
		have += (size_t)n;
		pos += csize;
	}
	if (have != total) {
		free(out);
		return -EINVAL;
	}
	*ret = out;
	*ret_len = have;
	return 0;
}

int vm_bzimage_extract(const uint8_t *img, size_t len, uint8_t **ret, size_t *ret_len)
{
	if (len < 0x250 || memcmp(img + 0x202, "HdrS", 4) != 0)
		return -ENOTSUP;
	size_t setup = ((size_t)(img[0x1f1] ? img[0x1f1] : 4) + 1) * 512;
	size_t off = le32(img + 0x248), plen = le32(img + 0x24c);
	if (setup > len || off > len - setup || plen > len - setup - off)
		return -EINVAL;
	return lz4_legacy(img + setup + off, plen, ret, ret_len);
}

/* Walk one PT_NOTE segment for Xen's PHYS32_ENTRY. */
static bool notes_have_pvh(const uint8_t *p, size_t len)
{
	size_t pos = 0;
	while (pos + sizeof(Elf64_Nhdr) <= len) {
		Elf64_Nhdr nh, *n = &nh;
		memcpy(&nh, p + pos, sizeof(nh));
		size_t name = (n->n_namesz + 3u) & ~3u, desc = (n->n_descsz + 3u) & ~3u;
		pos += sizeof(*n);
		if (name > len - pos || desc > len - pos - name)
			return false;
		if (n->n_type == XEN_ELFNOTE_PHYS32_ENTRY && n->n_namesz == 4 &&
		    memcmp(p + pos, "Xen", 4) == 0)
			return true;
		pos += name + desc;
	}
	return false;
}

bool vm_elf_has_pvh(const uint8_t *elf, size_t len)
{
	Elf64_Ehdr eh;
	if (len < sizeof(eh))
		return false;
	memcpy(&eh, elf, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phoff > len ||
	    eh.e_phnum > (len - eh.e_phoff) / sizeof(Elf64_Phdr))
		return false;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, elf + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_NOTE && ph.p_offset <= len && ph.p_filesz <= len - ph.p_offset &&
		    notes_have_pvh(elf + ph.p_offset, ph.p_filesz))
			return true;
	}
	return false;
}

static int build_vmlinux(const char *kernel, const char *out)
{
	_cleanup_free_ char *img = NULL;
	_cleanup_free_ uint8_t *elf = NULL;
	size_t len = 0, elf_len = 0;
	int r = file_read_all(kernel, BZ_MAX_FILE, &img, &len);

	if (r == 0)
		r = vm_bzimage_extract((const uint8_t *)img, len, &elf, &elf_len);
	if (r == 0 && !vm_elf_has_pvh(elf, elf_len))
		r = -ENOTSUP;
	if (r == 0)
		r = file_write_atomic(out, elf, elf_len, 0644);
	return r;
}

int vm_kernel_pvh(const char *cache_dir, const char *kernel, char **ret_path)
{
	struct stat st;
	char dir[4096], path[4200], no[4300];

	if (!cache_dir || stat(kernel, &st) < 0 || !S_ISREG(st.st_mode))
		return -ENOTSUP;
	if (snprintf(dir, sizeof(dir), "%s/kernels", cache_dir) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	/* keyed by the file's identity and mtime: a rebuilt kernel gets a new one */
	snprintf(path, sizeof(path), "%s/%llx-%llx-%llx-%llx.vmlinux", dir,
		 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
		 (unsigned long long)st.st_size,
		 (unsigned long long)st.st_mtim.tv_sec * 1000000000ull + (unsigned long long)st.st_mtim.tv_nsec);
	snprintf(no, sizeof(no), "%s.none", path);   /* remembered: not convertible */
	if (access(no, F_OK) == 0)
		return -ENOTSUP;
	if (access(path, R_OK) != 0) {
		mkdir(cache_dir, 0700);
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return -errno;
		int r = build_vmlinux(kernel, path);
		if (r == -ENOTSUP || r == -EINVAL)
			close(open(no, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
		if (r < 0)
			return r == -EINVAL ? -ENOTSUP : r;
	}
	*ret_path = strdup(path);
	return *ret_path ? 0 : -ENOMEM;
}
