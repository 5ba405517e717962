/* Template files: sparse copies with a layout-free SHA-256, the header,
 * memfds, removal (template.h). */
#include "template.h"
#include "cleanup.h"
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define TPL_BLOCK (64u << 10)    /* hashing and sparse copy unit */

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)f;
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void vm_tpl_rmtree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static void hex(const uint8_t *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static bool all_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* Copy the non-zero TPL_BLOCKs of in (its data extents) to out at the same
 * offsets, hashing each as (offset, bytes): the digest does not depend on
 * how either file lays out its holes.  out -1: hash only. */
int vm_tpl_sparse_copy(int in, int out, uint64_t size, char digest_hex[65])
{
	_cleanup_free_ uint8_t *buf = malloc(TPL_BLOCK);
	struct sha256_ctx h;
	uint8_t dg[SHA256_DIGEST_SIZE];
	off_t pos = 0;

	if (!buf)
		return -ENOMEM;
	sha256_init(&h);
	while ((uint64_t)pos < size) {
		off_t data = lseek(in, pos, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break;
		if (data < 0)
			return -errno;
		off_t end = lseek(in, data, SEEK_HOLE);
		if (end < 0)
			return -errno;
		for (off_t o = data & ~(off_t)(TPL_BLOCK - 1); o < end && (uint64_t)o < size;
		     o += TPL_BLOCK) {
			size_t want = (uint64_t)o + TPL_BLOCK > size ? (size_t)(size - (uint64_t)o) : TPL_BLOCK;
			ssize_t n = pread(in, buf, want, o);
			if (n < 0)
				return -errno;
			if (n == 0 || all_zero(buf, (size_t)n))
				continue;
			uint64_t off = (uint64_t)o;
			sha256_update(&h, sizeof(off), (const uint8_t *)&off);
			sha256_update(&h, (size_t)n, buf);
			if (out >= 0 && pwrite(out, buf, (size_t)n, o) != n)
				return errno ? -errno : -EIO;
		}
		pos = (end + TPL_BLOCK - 1) & ~(off_t)(TPL_BLOCK - 1);
		if (pos <= data)
			pos = end;
	}
	sha256_digest(&h, sizeof(dg), dg);
	hex(dg, sizeof(dg), digest_hex);
	return 0;
}

int vm_tpl_sha256_fd(int fd, char digest_hex[65], uint64_t *ret_size)
{
	uint8_t buf[16384], dg[SHA256_DIGEST_SIZE];
	struct sha256_ctx h;
	uint64_t total = 0;
	ssize_t n;

	sha256_init(&h);
	while ((n = pread(fd, buf, sizeof(buf), (off_t)total)) > 0) {
		sha256_update(&h, (size_t)n, buf);
		total += (uint64_t)n;
	}
	if (n < 0)
		return -errno;
	sha256_digest(&h, sizeof(dg), dg);
	hex(dg, sizeof(dg), digest_hex);
	*ret_size = total;
	return 0;
}

int vm_tpl_header_read(const char *path, struct vm_tpl_header *h)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r = file_read_all(path, 4096, &text, &len);

	memset(h, 0, sizeof(*h));
	if (r < 0)
		return r;
	char *save = NULL;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (sscanf(l, "ocivm-template %u", &h->version) == 1 ||
		    sscanf(l, "mem_bytes %llu", &h->mem_bytes) == 1 ||
		    sscanf(l, "state_bytes %llu", &h->state_bytes) == 1 ||
		    sscanf(l, "created %llu", &h->created) == 1 ||
		    sscanf(l, "mem_sha256 %64[0-9a-f]", h->mem_sha) == 1 ||
		    sscanf(l, "state_sha256 %64[0-9a-f]", h->state_sha) == 1)
			continue;
		if (strncmp(l, "hello ", 6) == 0)
			snprintf(h->hello, sizeof(h->hello), "%s", l + 6);
	}
	return 0;
}

static int memfd_new_(uint64_t bytes)
{
	int fd = (int)syscall(SYS_memfd_create, "ocivm-template", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)bytes) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

int vm_tpl_memfd_new(uint64_t bytes)
{
	return memfd_new_(bytes);
}

