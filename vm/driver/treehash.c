/* The content key of a rootfs tree (see image.h for what it covers).  Two
 * 64-bit hashes (FNV-1a and a multiply-rotate mix) side by side: a cache
 * key, not a cryptographic digest. */
#include "image.h"
#include "cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

struct hasher {
	uint64_t a, b;
	struct vm_tree_sum *sum;
};

static void hash_bytes(struct hasher *h, const void *data, size_t n)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < n; i++) {
		h->a = (h->a ^ p[i]) * 0x100000001b3ull;
		h->b = ((h->b ^ p[i]) * 0x9e3779b97f4a7c15ull);
		h->b = (h->b << 27) | (h->b >> 37);
	}
}

static void hash_u64(struct hasher *h, uint64_t v)
{
	hash_bytes(h, &v, sizeof(v));
}

/* The bytes of a small regular file (read through an fd checked to be the
 * entry lstat saw; O_NONBLOCK so a swapped-in FIFO cannot block us).  Not
 * inlined: its buffer must not sit in every frame of the recursive walk. */
static __attribute__((noinline)) int hash_small_file(struct hasher *h, const char *abs,
						      const struct stat *st)
{
	unsigned char buf[8192];
	struct stat fst;
	uint64_t got = 0;
	_cleanup_close_ int fd = open(abs, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &fst) < 0)
		return -errno;
	if (!S_ISREG(fst.st_mode) || fst.st_ino != st->st_ino || fst.st_dev != st->st_dev)
		return -EAGAIN;   /* replaced while we walked */
	while (got < VM_IMAGE_HASH_CONTENT_MAX) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		hash_bytes(h, buf, (size_t)n);
		got += (uint64_t)n;
	}
	hash_u64(h, got);
	return 0;
}

static int name_cmp(const struct dirent **x, const struct dirent **y)
{
	return strcmp((*x)->d_name, (*y)->d_name);
}

static int no_dots(const struct dirent *d)
{
	return strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0;
}

static int hash_entry(struct hasher *h, const char *abs, const char *rel, int depth);

static int hash_dir(struct hasher *h, const char *abs, const char *rel, int depth)
{
	struct dirent **list = NULL;
	int n = scandir(abs, &list, no_dots, name_cmp), r = 0;
	char a[PATH_MAX], b[PATH_MAX];

	if (n < 0)
		return -errno;
	if (depth > VM_IMAGE_MAX_DEPTH)
		r = -ELOOP;
	for (int i = 0; i < n; i++) {
		if (r == 0 && (snprintf(a, sizeof(a), "%s/%s", abs, list[i]->d_name) >= (int)sizeof(a) ||
			       snprintf(b, sizeof(b), "%s/%s", rel, list[i]->d_name) >= (int)sizeof(b)))
			r = -ENAMETOOLONG;
		if (r == 0)
			r = hash_entry(h, a, b, depth + 1);
		free(list[i]);
	}
	free(list);
	return r;
}

static int hash_entry(struct hasher *h, const char *abs, const char *rel, int depth)
{
	struct stat st;
	char target[PATH_MAX];

	if (lstat(abs, &st) < 0)
		return -errno;
	if (++h->sum->entries > VM_IMAGE_MAX_ENTRIES)
		return -EFBIG;
	hash_bytes(h, rel, strlen(rel) + 1);
	hash_u64(h, st.st_mode);
	hash_u64(h, st.st_uid);
	hash_u64(h, st.st_gid);
	hash_u64(h, (uint64_t)st.st_size);
	hash_u64(h, (uint64_t)st.st_mtim.tv_sec);
	hash_u64(h, (uint64_t)st.st_mtim.tv_nsec);
	hash_u64(h, S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? (uint64_t)st.st_rdev : 0);
	if (S_ISREG(st.st_mode)) {
		h->sum->bytes += ((uint64_t)st.st_size + 4095) & ~4095ull;
		if (st.st_size <= VM_IMAGE_HASH_CONTENT_MAX) {
			int r = hash_small_file(h, abs, &st);
			if (r < 0)
				return r;
		}
	}
	if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlink(abs, target, sizeof(target));
		if (n < 0)
			return -errno;
		hash_bytes(h, target, (size_t)n);
		h->sum->bytes += n > 60 ? 4096 : 0;   /* short targets live in the inode */
	}
	if (S_ISDIR(st.st_mode)) {
		h->sum->bytes += 4096;
		return hash_dir(h, abs, rel, depth);
	}
	return 0;
}

int vm_tree_hash(const char *dir, struct vm_tree_sum *ret)
{
	struct vm_tree_sum sum = { 0 };
	struct hasher h = { .a = 0xcbf29ce484222325ull, .b = 0x243f6a8885a308d3ull, .sum = &sum };
	struct stat st;

	if (stat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	hash_bytes(&h, "ocivm-rootfs-v2 " VM_IMAGE_FSTYPE, sizeof("ocivm-rootfs-v2 " VM_IMAGE_FSTYPE));
	int r = hash_entry(&h, dir, ".", 0);
	if (r < 0)
		return r;
	snprintf(sum.hex, sizeof(sum.hex), "%016llx%016llx",
		 (unsigned long long)h.a, (unsigned long long)h.b);
	*ret = sum;
	return 0;
}

uint64_t vm_image_size_for(const struct vm_tree_sum *sum)
{
	uint64_t inodes = sum->entries + 256;
	uint64_t size = sum->bytes + inodes * 256;
	size += size / 4 + (16ull << 20);
	return (size + 0xfffff) & ~0xfffffull;   /* whole MiB */
}
