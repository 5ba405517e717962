/* The privileged steps of ocivm-init, before READY: early mounts, modules,
 * disks by virtio serial, the container root (image + overlay), and the
 * config that belongs to the whole guest or the root (mounts, devices,
 * masked/readonly paths, sysctl, hostname).  Each returns 0 or -errno with
 * a one-line reason in eb; non-fatal problems go to the note callback. */
#ifndef OCIVM_GUEST_SETUP_H
#define OCIVM_GUEST_SETUP_H

#include <stddef.h>

#include "plan.h"

#define GSETUP_ROOT "/mnt/root"

typedef void (*gsetup_note_fn)(void *ctx, const char *msg);

int gsetup_early(char *eb, size_t cap);
/* Load every module named in list_path (one file name per line, relative to
 * its directory) in order; a module that fails is noted, not fatal.
 * Returns the number loaded. */
int gsetup_modules(const char *list_path, gsetup_note_fn note, void *ctx);
/* Mount the rootfs (and vm.image), each disk found by serial and waited
 * for without a limit (disk.h; notes every 5 s), and assemble GSETUP_ROOT. */
int gsetup_rootfs(const struct gplan *p, gsetup_note_fn note, void *ctx, char *eb, size_t cap);
int gsetup_config(const struct gplan *p, const char *root, gsetup_note_fn note, void *ctx,
		  char *eb, size_t cap);
/* Parts of gsetup_config the container's process repeats in its own
 * namespaces (ns.c): a masked or read-only path under root (absent: 0),
 * a sysctl (in the caller's ipc/uts namespace), hostname and domainname. */
int gsetup_masked(const char *root, const char *path, char *eb, size_t cap);
int gsetup_readonly(const char *root, const char *path, char *eb, size_t cap);
int gsetup_sysctl(const struct gplan_sysctl *s, char *eb, size_t cap);
int gsetup_names(const struct gplan *p, char *eb, size_t cap);

/* Helpers with no privilege needed (unit-tested). */
/* Format "what: strerror(err)" into eb (just "what" when err is 0) and
 * return -err (-EINVAL when err is 0). */
int gsetup_fail(char *eb, size_t cap, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* root + path, refusing results that resolve outside root (symlinks). The
 * path must already exist. */
int gsetup_in_root(const char *root, const char *path, char *out, size_t cap);

#endif
