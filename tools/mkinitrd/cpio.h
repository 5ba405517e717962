/* A minimal newc ("070701") cpio writer: directories, regular files from
 * memory or from a file, character devices, symlinks, and the trailer.
 * Everything is owned by root; mtime is 0 so the output is reproducible. */
#ifndef OCIVM_CPIO_H
#define OCIVM_CPIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cpio_writer {
	int fd;
	uint64_t off;      /* bytes written so far (for padding) */
	uint32_t ino;      /* next inode number */
};

void cpio_init(struct cpio_writer *w, int fd);
int cpio_add_dir(struct cpio_writer *w, const char *name, mode_t perm);
int cpio_add_data(struct cpio_writer *w, const char *name, mode_t perm,
		  const void *data, size_t len);
/* Copy the file at src (regular files up to 512 MiB). */
int cpio_add_file(struct cpio_writer *w, const char *name, mode_t perm, const char *src);
int cpio_add_chardev(struct cpio_writer *w, const char *name, mode_t perm,
		     unsigned major, unsigned minor);
int cpio_add_symlink(struct cpio_writer *w, const char *name, const char *target);
/* "TRAILER!!!" entry, padded to a 512-byte block. */
int cpio_finish(struct cpio_writer *w);

#endif
