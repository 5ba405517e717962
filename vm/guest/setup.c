/* See setup.h. */
#include "setup.h"
#include "fileio.h"
#include "disk.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int gsetup_fail(char *eb, size_t cap, int err, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(eb, cap, fmt, ap);
	va_end(ap);
	n = strlen(eb);
	if (err)
		snprintf(eb + n, cap - n, ": %s", strerror(err));
	return err ? -err : -EINVAL;
}

int gsetup_in_root(const char *root, const char *path, char *out, size_t cap)
{
	char joined[PATH_MAX], real[PATH_MAX], rroot[PATH_MAX];
	size_t rl;

	if ((size_t)snprintf(joined, sizeof(joined), "%s/%s", root, path) >= sizeof(joined))
		return -ENAMETOOLONG;
	if (!realpath(root, rroot) || !realpath(joined, real))
		return -errno;
	rl = strlen(rroot);
	if (strcmp(rroot, "/") && (strncmp(real, rroot, rl) || (real[rl] && real[rl] != '/')))
		return -EXDEV;
	if ((size_t)snprintf(out, cap, "%s", real) >= cap)
		return -ENAMETOOLONG;
	return 0;
}

int gsetup_early(char *eb, size_t cap)
{
	static const struct { const char *src, *dst, *type; unsigned long fl; const char *data; } m[] = {
		{ "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
		{ "sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
		{ "devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755" },
		{ "devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "ptmxmode=0666,mode=0620" },
		{ "tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755" },
	};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		if (mkdir(m[i].dst, 0755) < 0 && errno != EEXIST)
			return gsetup_fail(eb, cap, errno, "mkdir %s", m[i].dst);
		if (mount(m[i].src, m[i].dst, m[i].type, m[i].fl, m[i].data) < 0 && errno != EBUSY)
			return gsetup_fail(eb, cap, errno, "mount %s on %s", m[i].type, m[i].dst);
	}
	return 0;
}

int gsetup_modules(const char *list_path, gsetup_note_fn note, void *ctx)
{
	char dir[PATH_MAX], line[256], path[PATH_MAX + 256], msg[PATH_MAX + 320];
	FILE *f = fopen(list_path, "re");
	int loaded = 0;

	if (!f) {
		snprintf(msg, sizeof(msg), "module list %s: %s", list_path, strerror(errno));
		note(ctx, msg);
		return 0;
	}
	snprintf(dir, sizeof(dir), "%s", list_path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!line[0])
			continue;
		snprintf(path, sizeof(path), "%s/%s", slash ? dir : ".", line);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && (syscall(SYS_finit_module, fd, "", 0) == 0 || errno == EEXIST)) {
			loaded++;
		} else {
			snprintf(msg, sizeof(msg), "module %s: %s", line, strerror(errno));
			note(ctx, msg);
		}
		if (fd >= 0)
			close(fd);
	}
	fclose(f);
	return loaded;
}

/* Waited for as long as it takes (disk.h): the host's READY deadline ends
 * a VM whose disk never comes, quoting the console's last note. */
static int gs_mount_disk(const char *serial, const char *what, const char *fstype, const char *dst,
			 gsetup_note_fn note, void *ctx, char *eb, size_t cap)
{
	char dev[64];

	if (gdisk_find(&gdisk_where_real, &gchan_clock_real, GCHAN_NOTE_EVERY_MS, serial, what,
		       note, ctx, dev, sizeof(dev)) < 0)
		return gsetup_fail(eb, cap, ENODEV, "no virtio disk with serial %s", serial);
	if (mkdir_p(dst, 0755) < 0)
		return gsetup_fail(eb, cap, errno, "mkdir %s", dst);
	if (mount(dev, dst, fstype, MS_RDONLY, NULL) < 0)
		return gsetup_fail(eb, cap, errno, "mount %s (%s, serial %s) on %s", dev, fstype, serial, dst);
	return 0;
}

int gsetup_rootfs(const struct gplan *p, gsetup_note_fn note, void *ctx, char *eb, size_t cap)
{
	char opts[512];
	int r;

	if ((r = gs_mount_disk(p->rootfs_serial, "the rootfs", p->rootfs_fstype, "/mnt/lower",
				 note, ctx, eb, cap)) < 0)
		return r;
	if (p->image_serial &&
	    (r = gs_mount_disk(p->image_serial, "vm.image", p->image_fstype, "/mnt/image",
			       note, ctx, eb, cap)) < 0)
		return r;
	mkdir_p(GSETUP_ROOT, 0755);
	if (p->rootfs_ro && !p->image_serial) {
		if (mount("/mnt/lower", GSETUP_ROOT, NULL, MS_BIND, NULL) < 0)
			return gsetup_fail(eb, cap, errno, "bind rootfs on %s", GSETUP_ROOT);
		return 0;
	}
	snprintf(opts, sizeof(opts), "lowerdir=/mnt/lower%s", p->image_serial ? ":/mnt/image" : "");
	if (!p->rootfs_ro) {
		if (mkdir_p("/mnt/rw", 0755) < 0 ||
		    mount("tmpfs", "/mnt/rw", "tmpfs", 0, "mode=0755") < 0 ||
		    mkdir_p("/mnt/rw/upper", 0755) < 0 || mkdir_p("/mnt/rw/work", 0755) < 0)
			return gsetup_fail(eb, cap, errno, "tmpfs for the overlay upper layer");
		strncat(opts, ",upperdir=/mnt/rw/upper,workdir=/mnt/rw/work", sizeof(opts) - strlen(opts) - 1);
	}
	if (mount("overlay", GSETUP_ROOT, "overlay", p->rootfs_ro ? MS_RDONLY : 0, opts) < 0)
		return gsetup_fail(eb, cap, errno, "overlay on %s (%s)", GSETUP_ROOT, opts);
	return 0;
}
