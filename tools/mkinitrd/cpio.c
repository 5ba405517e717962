/* newc cpio writer (see cpio.h).  Header: magic "070701" then 13 fields of
 * 8 hex digits, the NUL-terminated name padded to 4 bytes, then the data
 * padded to 4 bytes. */
#include "cpio.h"
#include "cleanup.h"
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define CPIO_MAX_FILE (512u << 20)

void cpio_init(struct cpio_writer *w, int fd)
{
	w->fd = fd;
	w->off = 0;
	w->ino = 1;
}

static int cpio_write(struct cpio_writer *w, const void *p, size_t n)
{
	int r = fd_write_all(w->fd, p, n);
	if (r == 0)
		w->off += n;
	return r;
}

static int cpio_pad(struct cpio_writer *w, unsigned align)
{
	static const char zeros[512];
	size_t n = (size_t)((align - w->off % align) % align);
	return n ? cpio_write(w, zeros, n) : 0;
}

static int cpio_header(struct cpio_writer *w, const char *name, mode_t mode,
		       size_t size, unsigned rmaj, unsigned rmin)
{
	char hdr[111];
	size_t namesize = strlen(name) + 1;
	int r;

	if (size > 0xffffffffu || namesize > 4096)
		return -EFBIG;
	snprintf(hdr, sizeof(hdr),
		 "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		 w->ino++, (unsigned)mode, 0u, 0u, S_ISDIR(mode) ? 2u : 1u, 0u,
		 (unsigned)size, 0u, 0u, rmaj, rmin, (unsigned)namesize, 0u);
	r = cpio_write(w, hdr, 110);
	if (r == 0)
		r = cpio_write(w, name, namesize);
	if (r == 0)
		r = cpio_pad(w, 4);
	return r;
}

int cpio_add_dir(struct cpio_writer *w, const char *name, mode_t perm)
{
	return cpio_header(w, name, S_IFDIR | (perm & 07777), 0, 0, 0);
}

int cpio_add_data(struct cpio_writer *w, const char *name, mode_t perm,
		  const void *data, size_t len)
{
	int r = cpio_header(w, name, S_IFREG | (perm & 07777), len, 0, 0);
	if (r == 0)
		r = cpio_write(w, data, len);
	if (r == 0)
		r = cpio_pad(w, 4);
	return r;
}

int cpio_add_file(struct cpio_writer *w, const char *name, mode_t perm, const char *src)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	int r = file_read_all(src, CPIO_MAX_FILE, &data, &len);
	if (r < 0)
		return r;
	return cpio_add_data(w, name, perm, data, len);
}

int cpio_add_chardev(struct cpio_writer *w, const char *name, mode_t perm,
		     unsigned major, unsigned minor)
{
	return cpio_header(w, name, S_IFCHR | (perm & 07777), 0, major, minor);
}

int cpio_add_symlink(struct cpio_writer *w, const char *name, const char *target)
{
	size_t len = strlen(target);
	int r = cpio_header(w, name, S_IFLNK | 0777, len, 0, 0);
	if (r == 0)
		r = cpio_write(w, target, len);
	if (r == 0)
		r = cpio_pad(w, 4);
	return r;
}

int cpio_finish(struct cpio_writer *w)
{
	int r = cpio_header(w, "TRAILER!!!", 0, 0, 0, 0);
	if (r == 0)
		r = cpio_pad(w, 512);
	return r;
}
