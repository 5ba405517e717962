/* The content key of a rootfs tree (see image.h for what it covers): one
 * SHA-256 (nettle) over the walk's metadata records and every file's bytes. */
#include "image.h"
#include "cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define TREEHASH_BUF (128u * 1024)

struct hasher {
	struct sha256_ctx ctx;
	struct vm_tree_sum *sum;
	unsigned char *buf;      /* TREEHASH_BUF bytes, one per walk */
};

static void hash_bytes(struct hasher *h, const void *data, size_t n)
{
	sha256_update(&h->ctx, n, data);
}

/* Fixed width, little-endian: the same key on every host. */
static void hash_u64(struct hasher *h, uint64_t v)
{
	unsigned char b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	hash_bytes(h, b, sizeof(b));
}

/* The bytes of a regular file, streamed (read through an fd checked to be
 * the entry lstat saw; O_NONBLOCK so a swapped-in FIFO cannot block us).  A
 * file that grew or shrank while read is -EAGAIN: its key would lie. */
static int hash_file(struct hasher *h, const char *abs, const struct stat *st)
{
	struct stat fst;
	uint64_t got = 0;
	_cleanup_close_ int fd = open(abs, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &fst) < 0)
		return -errno;
	if (!S_ISREG(fst.st_mode) || fst.st_ino != st->st_ino || fst.st_dev != st->st_dev)
		return -EAGAIN;   /* replaced while we walked */
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	for (;;) {
		ssize_t n = read(fd, h->buf, TREEHASH_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		hash_bytes(h, h->buf, (size_t)n);
		got += (uint64_t)n;
	}
	if (got != (uint64_t)st->st_size)
		return -EAGAIN;   /* changed while we read it */
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
		int r = hash_file(h, abs, &st);
		if (r < 0)
			return r;
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
	struct hasher h = { .sum = &sum };
	uint8_t digest[SHA256_DIGEST_SIZE];
	struct stat st;

	if (stat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	_cleanup_free_ unsigned char *buf = malloc(TREEHASH_BUF);
	if (!buf)
		return -ENOMEM;
	h.buf = buf;
	sha256_init(&h.ctx);
	hash_bytes(&h, "ocivm-rootfs-v3 " VM_IMAGE_FSTYPE, sizeof("ocivm-rootfs-v3 " VM_IMAGE_FSTYPE));
	int r = hash_entry(&h, dir, ".", 0);
	if (r < 0)
		return r;
	sha256_digest(&h.ctx, sizeof(digest), digest);
	for (size_t i = 0; i < sizeof(digest); i++)
		snprintf(sum.hex + 2 * i, 3, "%02x", digest[i]);
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
