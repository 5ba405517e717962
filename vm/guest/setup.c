/* See setup.h. */
#include "setup.h"
#include "fileio.h"

#include <dirent.h>
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
#include <time.h>
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

static int gs_serial_matches(const char *blk, const char *serial)
{
	char path[512], buf[128];
	int fd, ok = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/block/%s/serial", blk);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0) {
		buf[n] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		ok = strcmp(buf, serial) == 0;
	}
	return ok;
}

static int gs_scan_disks(const char *serial, char *dev, size_t cap)
{
	DIR *d = opendir("/sys/block");
	struct dirent *e;
	int found = 0;

	if (!d)
		return 0;
	while (!found && (e = readdir(d)))
		if (strncmp(e->d_name, "vd", 2) == 0 && gs_serial_matches(e->d_name, serial)) {
			snprintf(dev, cap, "/dev/%s", e->d_name);
			found = 1;
		}
	closedir(d);
	return found;
}

int gsetup_find_disk(const char *serial, unsigned timeout_ms, char *dev, size_t cap)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	struct stat st;

	for (unsigned waited = 0;; waited += 10) {
		if (gs_scan_disks(serial, dev, cap) && stat(dev, &st) == 0)
			return 0;
		if (waited >= timeout_ms)
			return -ENODEV;
		nanosleep(&ts, NULL);
	}
}

static int gs_mount_disk(const char *serial, const char *fstype, const char *dst,
			 char *eb, size_t cap)
{
	char dev[64];

	if (gsetup_find_disk(serial, 5000, dev, sizeof(dev)) < 0)
		return gsetup_fail(eb, cap, ENODEV, "no virtio disk with serial %s", serial);
	if (mkdir_p(dst, 0755) < 0)
		return gsetup_fail(eb, cap, errno, "mkdir %s", dst);
	if (mount(dev, dst, fstype, MS_RDONLY, NULL) < 0)
		return gsetup_fail(eb, cap, errno, "mount %s (%s, serial %s) on %s", dev, fstype, serial, dst);
	return 0;
}

int gsetup_rootfs(const struct gplan *p, char *eb, size_t cap)
{
	char opts[512];
	int r;

	if ((r = gs_mount_disk(p->rootfs_serial, p->rootfs_fstype, "/mnt/lower", eb, cap)) < 0)
		return r;
	if (p->image_serial &&
	    (r = gs_mount_disk(p->image_serial, p->image_fstype, "/mnt/image", eb, cap)) < 0)
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
