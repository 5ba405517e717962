/* gsetup_config: the container config applied to the guest and the root:
 * mounts, default device nodes, linux.devices, masked and read-only paths, sysctl,
 * hostname and domainname. */
#include "setup.h"
#include "fresh.h"
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define MS_PROPAGATION (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE)

/* Create dest (a directory, or an empty file when is_file) inside root
 * and return its resolved path. */
static int gc_target(const char *root, const char *dest, int is_file, char *out, size_t cap)
{
	char path[PATH_MAX];
	int r;

	if ((size_t)snprintf(path, sizeof(path), "%s%s", root, dest) >= sizeof(path))
		return -ENAMETOOLONG;
	if (is_file) {
		char *slash = strrchr(path, '/');
		*slash = '\0';
		r = mkdir_p(path, 0755);
		*slash = '/';
		int fd = r < 0 ? -1 : open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0 && r == 0 && errno != EISDIR)
			r = -errno;
		if (fd >= 0)
			close(fd);
	} else {
		r = mkdir_p(path, 0755);
	}
	if (r < 0)
		return r;
	return gsetup_in_root(root, dest, out, cap);
}

/* Where the copies of bind mounts (copy records) are made: init's /run,
 * outside the container's root. */
#define GC_COPY_DIR "/run/ocivm-copy"

static int gc_copy_path(const struct gplan_copy *c, char *out, size_t cap)
{
	int n = strcmp(c->rel, ".") ? snprintf(out, cap, GC_COPY_DIR "/%d/%s", c->n, c->rel)
				    : snprintf(out, cap, GC_COPY_DIR "/%d", c->n);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static int gc_copy_one(const struct gplan_copy *c)
{
	char path[PATH_MAX];
	int fd, r = gc_copy_path(c, path, sizeof(path));

	if (r < 0)
		return r;
	if (c->kind == 'l')
		return symlink(c->data, path) < 0 || lchown(path, c->uid, c->gid) < 0 ? -errno : 0;
	if (c->kind == 'd')
		return mkdir(path, 0700) < 0 || chown(path, c->uid, c->gid) < 0 ||
		       chmod(path, c->mode) < 0 ? -errno : 0;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	r = fd_write_all(fd, c->data, c->len);
	if (r == 0 && (fchown(fd, c->uid, c->gid) < 0 || fchmod(fd, c->mode) < 0))
		r = -errno;
	close(fd);
	return r;
}

/* The copies of host bind mount sources, made before any mount. */
static int gc_copies(const struct gplan *p, char *eb, size_t cap)
{
	char dir[64];

	if (p->n_copies && mkdir(GC_COPY_DIR, 0700) < 0 && errno != EEXIST)
		return gsetup_fail(eb, cap, errno, "mkdir %s", GC_COPY_DIR);
	for (int i = 0; i < p->n_copies; i++) {
		const struct gplan_copy *c = &p->copies[i];
		snprintf(dir, sizeof(dir), GC_COPY_DIR "/%d", c->n);
		if (strcmp(c->rel, ".") && mkdir(dir, 0700) < 0 && errno != EEXIST)
			return gsetup_fail(eb, cap, errno, "mkdir %s", dir);
		int r = gc_copy_one(c);
		if (r < 0)
			return gsetup_fail(eb, cap, -r, "copy %d %s", c->n, c->rel);
	}
	return 0;
}

static int gc_bind(const char *root, const struct gplan_mount *m, const struct gmntopts *o,
		   gsetup_note_fn note, void *ctx, char *eb, size_t cap)
{
	char src[PATH_MAX], dst[PATH_MAX], msg[PATH_MAX + 128];
	struct stat st;
	int r;

	if (m->copy >= 0) {
		/* a host source, copied into the guest (copy records) */
		snprintf(src, sizeof(src), GC_COPY_DIR "/%d", m->copy);
		if (lstat(src, &st) < 0)
			return gsetup_fail(eb, cap, errno, "bind mount %s: copy %s", m->dest, src);
	} else if (gsetup_in_root(root, m->source, src, sizeof(src)) < 0 || stat(src, &st) < 0) {
		/* an old daemon's record: sources in the container's own tree */
		snprintf(msg, sizeof(msg), "bind mount %s: source %s is not in the guest; skipped",
			 m->dest, m->source);
		note(ctx, msg);
		return 0;
	}
	if ((r = gc_target(root, m->dest, !S_ISDIR(st.st_mode), dst, sizeof(dst))) < 0)
		return gsetup_fail(eb, cap, -r, "mount %s", m->dest);
	if (mount(src, dst, NULL, MS_BIND | (o->recursive ? MS_REC : 0), NULL) < 0)
		return gsetup_fail(eb, cap, errno, "bind %s on %s", m->source, m->dest);
	unsigned long fl = o->flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
	if (fl && mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | fl, NULL) < 0)
		return gsetup_fail(eb, cap, errno, "remount %s", m->dest);
	if (o->propagation && mount(NULL, dst, NULL, o->propagation, NULL) < 0)
		return gsetup_fail(eb, cap, errno, "propagation of %s", m->dest);
	return 0;
}

static int gc_mount(const char *root, const struct gplan_mount *m,
		    gsetup_note_fn note, void *ctx, char *eb, size_t cap)
{
	char dst[PATH_MAX];
	struct gmntopts o;
	const char *type = m->type;
	int r;

	if (gtab_mntopts(m->opts, &o) < 0)
		return gsetup_fail(eb, cap, EINVAL, "mount %s: options", m->dest);
	if (o.bind || strcmp(type, "bind") == 0)
		return gc_bind(root, m, &o, note, ctx, eb, cap);
	if (strcmp(type, "cgroup") == 0)
		type = "cgroup2";   /* the guest kernel has no v1 hierarchy in use */
	if ((r = gc_target(root, m->dest, 0, dst, sizeof(dst))) < 0)
		return gsetup_fail(eb, cap, -r, "mount %s", m->dest);
	if (mount(m->source, dst, type, o.flags, o.data[0] ? o.data : NULL) < 0)
		return gsetup_fail(eb, cap, errno, "mount %s (%s, %s)", m->dest, type, m->opts);
	if (o.propagation && mount(NULL, dst, NULL, o.propagation, NULL) < 0)
		return gsetup_fail(eb, cap, errno, "propagation of %s", m->dest);
	return 0;
}

/* The device nodes and links a container expects in /dev (as runc makes
 * them); existing ones are kept, a read-only /dev is left alone. */
static void gc_devices(const char *root)
{
	static const struct { const char *name; unsigned maj, min; } devs[] = {
		{ "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 },
		{ "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
	};
	static const struct { const char *name, *target; } links[] = {
		{ "fd", "/proc/self/fd" }, { "stdin", "/proc/self/fd/0" },
		{ "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" },
		{ "ptmx", "pts/ptmx" },
	};
	char dev[PATH_MAX], path[PATH_MAX + 32];

	if (gsetup_in_root(root, "/dev", dev, sizeof(dev)) < 0)
		return;
	for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dev, devs[i].name);
		if (mknod(path, S_IFCHR | 0666, makedev(devs[i].maj, devs[i].min)) == 0)
			chmod(path, 0666);
	}
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dev, links[i].name);
		if (symlink(links[i].target, path) < 0)
			continue;   /* exists (the image's own is fine) or /dev is read-only */
	}
}

/* linux.devices[i]: a node of a device the guest kernel has (a host device
 * is not passed through, so a node for one would name nothing, or another
 * device of the guest's), replacing what is at its path. */
static int gc_node(const char *root, const struct gplan_device *d, int i, char *eb, size_t cap)
{
	char sys[64], dir[PATH_MAX], rdir[PATH_MAX], path[PATH_MAX + 256];
	const char *base = strrchr(d->path, '/') + 1;
	mode_t fmt = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
	struct stat st;
	int r;

	if (d->type != 'p') {
		snprintf(sys, sizeof(sys), "/sys/dev/%s/%u:%u", d->type == 'b' ? "block" : "char",
			 d->major, d->minor);
		if (access(sys, F_OK) < 0)
			return gsetup_fail(eb, cap, 0, "linux.devices[%d] %s (%c %u:%u): no such device "
					   "in the VM (host devices are not passed through)", i, d->path,
					   d->type, d->major, d->minor);
	}
	if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
		return gsetup_fail(eb, cap, 0, "linux.devices[%d] %s: not a file name", i, d->path);
	snprintf(dir, sizeof(dir), "%.*s", (int)(base - d->path), d->path);
	if ((r = gc_target(root, dir, 0, rdir, sizeof(rdir))) < 0)
		return gsetup_fail(eb, cap, -r, "linux.devices[%d] %s", i, d->path);
	snprintf(path, sizeof(path), "%s/%s", rdir, base);
	if (lstat(path, &st) == 0 && (S_ISDIR(st.st_mode) || unlink(path) < 0))
		return gsetup_fail(eb, cap, S_ISDIR(st.st_mode) ? EISDIR : errno,
				   "linux.devices[%d] %s", i, d->path);
	if (mknod(path, fmt | (d->mode & 07777), fmt == S_IFIFO ? 0 : makedev(d->major, d->minor)) < 0 ||
	    chmod(path, d->mode & 07777) < 0 || chown(path, d->uid, d->gid) < 0)
		return gsetup_fail(eb, cap, errno, "linux.devices[%d] %s", i, d->path);
	return 0;
}

int gsetup_masked(const char *root, const char *path, char *eb, size_t cap)
{
	char dst[PATH_MAX];
	struct stat st;

	if (gsetup_in_root(root, path, dst, sizeof(dst)) < 0 || stat(dst, &st) < 0)
		return 0;   /* absent: nothing to hide */
	if (S_ISDIR(st.st_mode)) {
		if (mount("tmpfs", dst, "tmpfs", MS_RDONLY, "size=0") < 0)
			return gsetup_fail(eb, cap, errno, "masking %s", path);
	} else if (mount("/dev/null", dst, NULL, MS_BIND, NULL) < 0) {
		return gsetup_fail(eb, cap, errno, "masking %s", path);
	}
	return 0;
}

int gsetup_readonly(const char *root, const char *path, char *eb, size_t cap)
{
	char dst[PATH_MAX];

	if (gsetup_in_root(root, path, dst, sizeof(dst)) < 0)
		return 0;
	if (mount(dst, dst, NULL, MS_BIND | MS_REC, NULL) < 0 ||
	    mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, NULL) < 0)
		return gsetup_fail(eb, cap, errno, "read-only %s", path);
	return 0;
}

int gsetup_sysctl(const struct gplan_sysctl *s, char *eb, size_t cap)
{
	char path[PATH_MAX];
	size_t n = strlen(s->value);
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/%s", s->key);
	for (char *c = path + 10; *c; c++)
		if (*c == '.')
			*c = '/';
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, s->value, n) != (ssize_t)n) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return gsetup_fail(eb, cap, e, "sysctl %s", s->key);
	}
	close(fd);
	return 0;
}

int gsetup_config(const struct gplan *p, const char *root, gsetup_note_fn note, void *ctx,
		  char *eb, size_t cap)
{
	int r = gc_copies(p, eb, cap);

	for (int i = 0; i < p->n_mounts && r == 0; i++)
		r = gc_mount(root, &p->mounts[i], note, ctx, eb, cap);
	/* after the config's mounts (a bundle's own machine-id), before the
	 * masked paths (a masked one reads empty) */
	if (r == 0)
		r = gfresh_machine_id(p, root, note, ctx, eb, cap);
	if (r == 0)
		gc_devices(root);
	for (int i = 0; i < p->n_devices && r == 0; i++)
		r = gc_node(root, &p->devices[i], i, eb, cap);
	for (int i = 0; i < p->n_masked && r == 0; i++)
		r = gsetup_masked(root, p->masked[i], eb, cap);
	for (int i = 0; i < p->n_readonly && r == 0; i++)
		r = gsetup_readonly(root, p->readonly[i], eb, cap);
	for (int i = 0; i < p->n_sysctls && r == 0; i++)
		r = gsetup_sysctl(&p->sysctls[i], eb, cap);
	/* with a uts namespace the process sets them in its own (ns.c) */
	if (r == 0 && !(p->ns & GNS_UTS))
		r = gsetup_names(p, eb, cap);
	return r;
}

int gsetup_names(const struct gplan *p, char *eb, size_t cap)
{
	if (p->hostname && sethostname(p->hostname, strlen(p->hostname)) < 0)
		return gsetup_fail(eb, cap, errno, "hostname %s", p->hostname);
	if (p->domainname && setdomainname(p->domainname, strlen(p->domainname)) < 0)
		return gsetup_fail(eb, cap, errno, "domainname %s", p->domainname);
	return 0;
}
