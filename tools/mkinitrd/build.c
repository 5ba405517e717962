/* Build the initrd: /init, /dev/console, /modules/<name>.ko and
 * /modules/load (one file name per line, load order).  The output is cached:
 * OUT.key holds the kernel release, the init binary's hash and the resolved
 * module list, and a matching key means OUT is current. */
#include "mkinitrd.h"
#include "cleanup.h"
#include "cpio.h"
#include "fileio.h"
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MKINITRD_KEY_MAX 65536

const char *const mkinitrd_default_modules[] = {
	"virtio_mmio", "virtio_blk", "virtio_console", "virtio_net", "overlay", "ext4", "erofs", NULL,
};

int mkinitrd_hash_file(const char *path, uint64_t *ret, uint64_t *ret_size)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint64_t h = 0xcbf29ce484222325ull, size = 0;
	unsigned char buf[65536];
	ssize_t n;

	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			h = (h ^ buf[i]) * 0x100000001b3ull;
		size += (uint64_t)n;
	}
	if (n < 0)
		return -errno;
	*ret = h;
	*ret_size = size;
	return 0;
}

static int mkinitrd_key(const struct mkinitrd_opts *o, const struct modres_list *l,
			char *key, size_t cap, struct oerr *err)
{
	uint64_t h, size;
	size_t off;
	int r = mkinitrd_hash_file(o->init, &h, &size);

	if (r < 0)
		return oerr_sys(err, -r, "%s", o->init);
	off = (size_t)snprintf(key, cap, "ocivm-mkinitrd 1\nrelease %s\ninit %016llx %llu\ncompress %d\n",
			       o->release, (unsigned long long)h, (unsigned long long)size,
			       (int)o->compress);
	for (size_t i = 0; i < l->n && off < cap; i++)
		off += (size_t)snprintf(key + off, cap - off, "module %s %s\n", l->names[i], l->paths[i]);
	if (off >= cap)
		return oerr_set(err, E2BIG, "cache key too long");
	return 0;
}

static int mkinitrd_is_current(const char *out, const char *key)
{
	char path[PATH_MAX];
	_cleanup_free_ char *old = NULL;

	snprintf(path, sizeof(path), "%s.key", out);
	if (access(out, R_OK) < 0 || file_read_all(path, MKINITRD_KEY_MAX, &old, NULL) < 0)
		return 0;
	return strcmp(old, key) == 0;
}

static int mkinitrd_write_cpio(int fd, const struct mkinitrd_opts *o,
			       const struct modres_list *l)
{
	static const char *const dirs[] = { "dev", "proc", "sys", "mnt", "run", "tmp", "modules" };
	struct cpio_writer w;
	char name[256], load[MODRES_MAX * 80];
	size_t off = 0;
	int r = 0;

	cpio_init(&w, fd);
	for (size_t i = 0; i < ARRAY_SIZE(dirs) && r == 0; i++)
		r = cpio_add_dir(&w, dirs[i], 0755);
	if (r == 0)
		r = cpio_add_chardev(&w, "dev/console", 0600, 5, 1);
	if (r == 0)
		r = cpio_add_file(&w, "init", 0755, o->init);
	for (size_t i = 0; i < l->n && r == 0; i++) {
		snprintf(name, sizeof(name), "modules/%s.ko", l->names[i]);
		r = cpio_add_file(&w, name, 0644, l->paths[i]);
		off += (size_t)snprintf(load + off, sizeof(load) - off, "%s.ko\n", l->names[i]);
	}
	if (r == 0)
		r = cpio_add_data(&w, "modules/load", 0644, load, off);
	if (r == 0)
		r = cpio_finish(&w);
	return r;
}

/* Pipe the cpio through `gzip -n -9` into out_fd. */
static int mkinitrd_write_gzip(int out_fd, const struct mkinitrd_opts *o,
			       const struct modres_list *l)
{
	static char *const argv[] = { "gzip", "-n", "-9", NULL };
	int p[2], st, r;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	struct proc_spawn ps = { .argv = argv, .fd = { p[0], out_fd, 2 }, .exec_fd = -1,
				 .flags = PROC_PATH };
	if ((r = proc_spawn(&ps, &pid, NULL)) < 0) {   /* -ENOENT: no gzip */
		close(p[0]);
		close(p[1]);
		return r;
	}
	close(p[0]);
	r = mkinitrd_write_cpio(p[1], o, l);
	close(p[1]);
	if ((pid = proc_wait(pid, &st)) < 0)
		return pid;
	if (r == 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
		r = -EIO;
	return r;
}

static int mkinitrd_write(const struct mkinitrd_opts *o, const struct modres_list *l,
			  struct oerr *err)
{
	char tmp[PATH_MAX];
	int r;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", o->out, (long)getpid());
	_cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return oerr_sys(err, errno, "%s", tmp);
	r = o->compress == MKINITRD_GZIP ? mkinitrd_write_gzip(fd, o, l)
					 : mkinitrd_write_cpio(fd, o, l);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r == 0 && rename(tmp, o->out) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return oerr_sys(err, -r, "writing %s", o->out);
	}
	return 0;
}

int mkinitrd_build(const struct mkinitrd_opts *o, int *ret_cached, struct oerr *err)
{
	_cleanup_free_ char *key = malloc(MKINITRD_KEY_MAX);
	char moddir[PATH_MAX], keypath[PATH_MAX];
	struct modres_list l;
	int r;

	if (!key)
		return oerr_set(err, ENOMEM, "out of memory");
	r = modres_find_dir(o->modules_dir, o->release, moddir, sizeof(moddir), err);
	if (r < 0)
		return r;
	r = modres_resolve(moddir, o->modules, o->n_modules, &l, err);
	if (r < 0)
		return r;
	r = mkinitrd_key(o, &l, key, MKINITRD_KEY_MAX, err);
	if (r == 0 && mkinitrd_is_current(o->out, key)) {
		*ret_cached = 1;
	} else if (r == 0) {
		*ret_cached = 0;
		r = mkinitrd_write(o, &l, err);
		snprintf(keypath, sizeof(keypath), "%s.key", o->out);
		if (r == 0 && (r = file_write_atomic(keypath, key, strlen(key), 0644)) < 0)
			oerr_sys(err, -r, "%s", keypath);
	}
	modres_free(&l);
	return r;
}
