/* Rootfs images cached by content (vm/vm.h: vm_image_acquire/release).
 *
 *   CACHE/images/KEY.ext4     the image (mke2fs -t ext4 -d ROOTFS, no journal:
 *                             it is attached read-only and shared)
 *   CACHE/refs/KEY/OWNER      one empty file per user of the image
 *   CACHE/owners/OWNER        symlink -> KEY: what an owner holds
 *   CACHE/locks/KEY.lock      flock: building and reference changes of KEY
 *
 * Concurrent creates of the same rootfs take the same lock, so the image is
 * built once; the last release removes it. */
#include "vm/vm.h"
#include "image.h"
#include "spawn.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define IMAGE_MKE2FS_PATHS "/usr/sbin/mke2fs"

static int owner_valid(const char *owner, struct oerr *err)
{
	size_t n = owner ? strlen(owner) : 0;
	if (n == 0 || n > 200 || strchr(owner, '/') || strcmp(owner, ".") == 0 ||
	    strcmp(owner, "..") == 0)
		return oerr_set(err, EINVAL, "image owner %.60s: not a valid name", owner ? owner : "");
	return 0;
}

static int mkdirs(const char *cache_dir, struct oerr *err)
{
	static const char *const subs[] = { "", "/images", "/refs", "/owners", "/locks" };
	char p[PATH_MAX];

	if (strlen(cache_dir) > PATH_MAX - 300)
		return oerr_set(err, ENAMETOOLONG, "image cache dir: path too long");
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++) {
		snprintf(p, sizeof(p), "%s%s", cache_dir, subs[i]);
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return oerr_sys(err, errno, "creating %s", p);
	}
	return 0;
}

static int lock_key(const char *cache_dir, const char *key, struct oerr *err)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/locks/%s.lock", cache_dir, key);
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return oerr_sys(err, errno, "opening %s", p);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int e = errno;
			close(fd);
			return oerr_sys(err, e, "locking %s", p);
		}
	}
	return fd;
}

/* Run mke2fs; its own words become the error. */
static int run_mke2fs(char *const argv[], struct oerr *err)
{
	_cleanup_close_ int out = memfd_create("mke2fs-out", MFD_CLOEXEC);
	char msg[300] = "";
	int status;

	if (out < 0)
		return oerr_sys(err, errno, "memfd_create");
	pid_t pid = fork();
	if (pid < 0)
		return oerr_sys(err, errno, "fork");
	if (pid == 0) {
		dup2(out, 1);
		dup2(out, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return oerr_sys(err, errno, "waitpid");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	ssize_t n = pread(out, msg, sizeof(msg) - 1, 0);
	msg[n > 0 ? n : 0] = '\0';
	for (char *c = msg; *c; c++)
		if (*c == '\n')
			*c = ' ';
	return oerr_set(err, EIO, "mke2fs -d failed (status %d): %s", status, msg);
}

static int build_image(const char *rootfs, const struct vm_tree_sum *sum, const char *path,
		       struct oerr *err)
{
	_cleanup_free_ char *mke2fs = NULL;
	char tmp[PATH_MAX], size_k[32], inodes[32];
	int r = vm_find_binary("mke2fs", &mke2fs);

	if (r < 0 && vm_find_binary(IMAGE_MKE2FS_PATHS, &mke2fs) < 0)
		return oerr_set(err, ENOENT, "mke2fs not found (Debian package e2fsprogs)");
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return oerr_set(err, ENAMETOOLONG, "image path too long");
	snprintf(size_k, sizeof(size_k), "%lluk", (unsigned long long)(vm_image_size_for(sum) >> 10));
	snprintf(inodes, sizeof(inodes), "%llu", (unsigned long long)(sum->entries + 256));
	char *argv[] = { mke2fs, "-q", "-F", "-t", "ext4", "-O", "^has_journal", "-m", "0",
			 "-N", inodes, "-L", "rootfs", "-d", (char *)rootfs, tmp, size_k, NULL };
	unlink(tmp);
	r = run_mke2fs(argv, err);
	if (r == 0 && rename(tmp, path) < 0)
		r = oerr_sys(err, errno, "renaming %s", tmp);
	if (r < 0)
		unlink(tmp);
	return r;
}

/* Under the key's lock: build if missing, add the reference. */
static int acquire_locked(const char *cache_dir, const char *rootfs, const char *owner,
			  const struct vm_tree_sum *sum, const char *img, struct oerr *err)
{
	char p[PATH_MAX], link[PATH_MAX];
	int r = 0;

	if (access(img, F_OK) < 0)
		r = build_image(rootfs, sum, img, err);
	if (r < 0)
		return r;
	snprintf(p, sizeof(p), "%s/refs/%s", cache_dir, sum->hex);
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		return oerr_sys(err, errno, "creating %s", p);
	snprintf(p, sizeof(p), "%s/refs/%s/%s", cache_dir, sum->hex, owner);
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return oerr_sys(err, errno, "creating %s", p);
	close(fd);
	snprintf(link, sizeof(link), "%s/owners/%s", cache_dir, owner);
	if (symlink(sum->hex, link) < 0 && errno != EEXIST)
		return oerr_sys(err, errno, "creating %s", link);
	return 0;
}

/* The key an owner holds, or -ENOENT. */
static int owner_key(const char *cache_dir, const char *owner, char key[33])
{
	char link[PATH_MAX];
	snprintf(link, sizeof(link), "%s/owners/%s", cache_dir, owner);
	ssize_t n = readlink(link, key, 33);
	if (n < 0)
		return -errno;
	if (n != 32)
		return -EINVAL;
	key[32] = '\0';
	return 0;
}

int vm_image_acquire(const char *cache_dir, const char *rootfs_dir, const char *owner,
		     char **ret_path, struct oerr *err)
{
	struct vm_tree_sum sum;
	char img[PATH_MAX], held[33];
	int r = owner_valid(owner, err);

	if (r < 0)
		return r;
	/* One resolved path for the hash, the cache key and mke2fs -d: a
	 * symlinked root.path is its target (lstat would see one entry, while
	 * mke2fs follows it, and the key would be the link's, not the tree's). */
	_cleanup_free_ char *rootfs = realpath(rootfs_dir, NULL);
	if (!rootfs)
		return oerr_sys(err, errno, "rootfs %s", rootfs_dir);
	r = vm_tree_hash(rootfs, &sum);
	if (r < 0)
		return oerr_sys(err, -r, "rootfs %s", rootfs);
	if (owner_key(cache_dir, owner, held) == 0 && strcmp(held, sum.hex) != 0)
		return oerr_set(err, EEXIST, "image owner %s already holds another image", owner);
	r = mkdirs(cache_dir, err);
	if (r < 0)
		return r;
	snprintf(img, sizeof(img), "%s/images/%s." VM_IMAGE_FSTYPE, cache_dir, sum.hex);
	int lock = lock_key(cache_dir, sum.hex, err);
	if (lock < 0)
		return lock;
	r = acquire_locked(cache_dir, rootfs, owner, &sum, img, err);
	close(lock);
	if (r < 0)
		return r;
	*ret_path = strdup(img);
	return *ret_path ? 0 : oerr_set(err, ENOMEM, "out of memory");
}

int vm_image_release(const char *cache_dir, const char *owner, struct oerr *err)
{
	char key[33], p[PATH_MAX];
	int r = owner_valid(owner, err);

	if (r < 0)
		return r;
	r = owner_key(cache_dir, owner, key);
	if (r == -ENOENT)
		return 0;   /* holds nothing: releasing twice is harmless */
	if (r < 0)
		return oerr_sys(err, -r, "image owner %s", owner);
	int lock = lock_key(cache_dir, key, err);
	if (lock < 0)
		return lock;
	snprintf(p, sizeof(p), "%s/refs/%s/%s", cache_dir, key, owner);
	unlink(p);
	snprintf(p, sizeof(p), "%s/owners/%s", cache_dir, owner);
	unlink(p);
	snprintf(p, sizeof(p), "%s/refs/%s", cache_dir, key);
	if (rmdir(p) == 0) {   /* empty: nobody else holds it */
		snprintf(p, sizeof(p), "%s/images/%s." VM_IMAGE_FSTYPE, cache_dir, key);
		unlink(p);
	}
	close(lock);
	return 0;
}

bool vm_image_is_cached(const char *path)
{
	const char *base = path ? strrchr(path, '/') : NULL;
	size_t hexlen = strspn(base ? base + 1 : "", "0123456789abcdef");

	if (!base || hexlen != 32 || strcmp(base + 1 + 32, "." VM_IMAGE_FSTYPE) != 0)
		return false;
	return base - path >= 7 && strncmp(base - 7, "/images", 7) == 0;
}
