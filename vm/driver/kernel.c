/* bzImage -> PVH vmlinux (see kernel.h); the formats are vm/kimage.c's. */
#include "kernel.h"
#include "cleanup.h"
#include "fileio.h"
#include "vm/kimage.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BZ_MAX_FILE (64u << 20)

int vm_bzimage_extract(const uint8_t *img, size_t len, uint8_t **ret, size_t *ret_len)
{
	return kimg_bzimage_vmlinux(img, len, ret, ret_len);
}

bool vm_elf_has_pvh(const uint8_t *elf, size_t len)
{
	uint64_t entry;
	return kimg_elf_pvh_entry(elf, len, &entry) == 0;
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
