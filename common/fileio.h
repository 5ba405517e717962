/* Small file helpers shared by the host programs. All return 0 or -errno. */
#ifndef OCIVM_FILEIO_H
#define OCIVM_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

/* Write data to path atomically: temp file in the same directory, fsync,
 * rename.  On failure nothing at path changes and the temp file is gone. */
int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* Read a whole file (at most max bytes, else -EFBIG) into a NUL-terminated
 * malloc'd buffer. */
int file_read_all(const char *path, size_t max, char **ret_data, size_t *ret_len);
/* mkdir -p: create path and its missing parents (existing ones are fine). */
int mkdir_p(const char *path, mode_t mode);
/* write()/read() the whole buffer, retrying on EINTR and short counts. */
int fd_write_all(int fd, const void *buf, size_t len);
int fd_read_exact(int fd, void *buf, size_t len);

/* A file shipped with ocivmfs (kernel, initrd, ocivm-init), found beside the
 * running program so that a copied or DESTDIR-installed prefix works:
 * EXE_DIR/../guest/NAME (a build tree: $(BUILD)/bin + $(BUILD)/guest), else
 * EXE_DIR/../share/ocivmfs/NAME (an installed prefix, wherever it now is),
 * else FALLBACK_DIR/NAME (the share dir compiled in) even when absent.  exe
 * NULL means /proc/self/exe.  A malloc'd path, or NULL when out of memory. */
char *share_file(const char *exe, const char *name, const char *fallback_dir);

#endif
