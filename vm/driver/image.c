/* Rootfs images cached by content (vm/vm.h: vm_image_acquire/release).
 *
 *   CACHE/images/KEY.ext4     the image (mke2fs -t ext4 -d ROOTFS, no journal:
 *                             it is attached read-only and shared)
 *   CACHE/refs/KEY/OWNER      one empty file per user of the image
 *   CACHE/owners/OWNER        symlink -> KEY: what an owner holds
 *   CACHE/locks/KEY.lock      flock: building and reference changes of KEY
 *
 * Concurrent creates of the same rootfs take the same lock, so the image is
 * built once; the last release removes it and its lock file.  A builder
 * writes KEY.ext4.tmp.PID under the lock, and its mke2fs dies with it
 * (PR_SET_PDEATHSIG): a temporary whose lock is free is stale, and
 * vm_image_reclaim (at daemon start) removes it. */
#include "vm/vm.h"
#include "image.h"
#include "spawn.h"
#include "cleanup.h"
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define IMAGE_MKE2FS_PATHS "/usr/sbin/mke2fs"

static int owner_valid(const char *owner, struct oerr *err)
{
	size_t n = owner ? strlen(owner) : 0;
	if (n == 0 || n > NAME_MAX || strchr(owner, '/') || strcmp(owner, ".") == 0 ||
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

/* Is fd (locked) still the file at path?  A lock file is unlinked by the
 * last holder of a gone image: one who waited on the old inode retries. */
static bool lock_is_current(int fd, const char *path)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
	       a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

static int lock_key_how(const char *cache_dir, const char *key, int how, struct oerr *err)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/locks/%s.lock", cache_dir, key);
	for (;;) {
		int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return oerr_sys(err, errno, "opening %s", p);
		int r;
		while ((r = flock(fd, how)) < 0 && errno == EINTR)
			;
		if (r < 0) {
			int e = errno;
			close(fd);
			return e == EWOULDBLOCK ? -EWOULDBLOCK : oerr_sys(err, e, "locking %s", p);
		}
		if (lock_is_current(fd, p))
			return fd;
		close(fd);
	}
}

static int lock_key(const char *cache_dir, const char *key, struct oerr *err)
{
	return lock_key_how(cache_dir, key, LOCK_EX, err);
}

/* Under the key's lock: with no image and no user left, the lock file goes
 * too (else every rootfs ever seen leaves one). */
static void unlock_key(const char *cache_dir, const char *key, int fd)
{
	char p[PATH_MAX];
	struct stat st;

	snprintf(p, sizeof(p), "%s/images/%s." VM_IMAGE_FSTYPE, cache_dir, key);
	bool image = stat(p, &st) == 0;
	snprintf(p, sizeof(p), "%s/refs/%s", cache_dir, key);
	if (!image && stat(p, &st) < 0) {
		snprintf(p, sizeof(p), "%s/locks/%s.lock", cache_dir, key);
		unlink(p);
	}
	close(fd);
}

/* Run mke2fs; its own words become the error. */
static int run_mke2fs(char *const argv[], struct oerr *err)
{
	_cleanup_close_ int out = memfd_create("mke2fs-out", MFD_CLOEXEC);
	char msg[300] = "";
	int status;

	if (out < 0)
		return oerr_sys(err, errno, "memfd_create");
	/* PDEATHSIG: it dies with the thread that waits for it (a killed
	 * daemon must not leave mke2fs writing a temporary nobody renames) */
	struct proc_spawn ps = { .argv = argv, .fd = { -1, out, out }, .exec_fd = -1,
				 .flags = PROC_PDEATHSIG };
	pid_t pid;
	int r = proc_spawn(&ps, &pid, NULL);
	if (r < 0)
		return oerr_sys(err, -r, "running %s", argv[0]);
	if ((r = proc_wait(pid, &status)) < 0)
		return oerr_sys(err, -r, "waitpid");
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
static int owner_key(const char *cache_dir, const char *owner, char key[VM_IMAGE_KEY_LEN + 1])
{
	char link[PATH_MAX];
	snprintf(link, sizeof(link), "%s/owners/%s", cache_dir, owner);
	ssize_t n = readlink(link, key, VM_IMAGE_KEY_LEN + 1);
	if (n < 0)
		return -errno;
	if (n != VM_IMAGE_KEY_LEN && n != VM_IMAGE_KEY_LEN_V2)
		return -EINVAL;
	key[n] = '\0';
	return 0;
}

int vm_image_acquire(const char *cache_dir, const char *rootfs_dir, const char *owner,
		     char **ret_path, struct oerr *err)
{
	struct vm_tree_sum sum;
	char img[PATH_MAX], held[VM_IMAGE_KEY_LEN + 1];
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
	unlock_key(cache_dir, sum.hex, lock);
	if (r < 0)
		return r;
	*ret_path = strdup(img);
	return *ret_path ? 0 : oerr_set(err, ENOMEM, "out of memory");
}

int vm_image_release(const char *cache_dir, const char *owner, struct oerr *err)
{
	char key[VM_IMAGE_KEY_LEN + 1], p[PATH_MAX];
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
	unlock_key(cache_dir, key, lock);
	return 0;
}

/* The length of the key name starts with followed by suffix (a prefix
 * match when prefix_only), or 0: SHA-256 keys and the older 128-bit ones. */
static size_t key_prefix(const char *name, const char *suffix, bool prefix_only)
{
	size_t hexlen = strspn(name, "0123456789abcdef");

	if (hexlen != VM_IMAGE_KEY_LEN && hexlen != VM_IMAGE_KEY_LEN_V2)
		return 0;
	if (prefix_only ? strncmp(name + hexlen, suffix, strlen(suffix)) != 0
			: strcmp(name + hexlen, suffix) != 0)
		return 0;
	return hexlen;
}

/* images/KEY.ext4.tmp.PID: the key, when name is such a temporary. */
static bool tmp_key(const char *name, char key[VM_IMAGE_KEY_LEN + 1])
{
	size_t n = key_prefix(name, "." VM_IMAGE_FSTYPE ".tmp.", true);

	if (!n)
		return false;
	memcpy(key, name, n);
	key[n] = '\0';
	return true;
}

/* Each entry of CACHE/sub whose key's lock is free right now: a temporary
 * image (its builder is gone: builders hold the lock) or a lock file of an
 * image that is gone (unlock_key removes it).  Returns how many went. */
static unsigned reclaim_dir(const char *cache_dir, const char *sub, bool tmps)
{
	char dir[PATH_MAX], key[VM_IMAGE_KEY_LEN + 1];
	struct dirent *e;
	unsigned n = 0;

	snprintf(dir, sizeof(dir), "%s/%s", cache_dir, sub);
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		size_t klen = tmps ? 0 : key_prefix(e->d_name, ".lock", false);
		if (tmps ? !tmp_key(e->d_name, key) : !klen)
			continue;
		if (!tmps)
			snprintf(key, sizeof(key), "%.*s", (int)klen, e->d_name);
		int fd = lock_key_how(cache_dir, key, LOCK_EX | LOCK_NB, NULL);
		if (fd < 0)
			continue;   /* being built or used right now */
		if (tmps && unlinkat(dirfd(d), e->d_name, 0) == 0)
			n++;
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s/locks/%s.lock", cache_dir, key);
		bool had = access(p, F_OK) == 0;
		unlock_key(cache_dir, key, fd);
		if (!tmps && had && access(p, F_OK) < 0)
			n++;
	}
	closedir(d);
	return n;
}

void vm_image_reclaim(const char *cache_dir, unsigned *ret_tmps, unsigned *ret_locks)
{
	*ret_tmps = reclaim_dir(cache_dir, "images", true);
	*ret_locks = reclaim_dir(cache_dir, "locks", false);
}

bool vm_image_is_cached(const char *path)
{
	const char *base = path ? strrchr(path, '/') : NULL;
	size_t hexlen = strspn(base ? base + 1 : "", "0123456789abcdef");

	if (!base || (hexlen != VM_IMAGE_KEY_LEN && hexlen != VM_IMAGE_KEY_LEN_V2) ||
	    strcmp(base + 1 + hexlen, "." VM_IMAGE_FSTYPE) != 0)
		return false;
	return base - path >= 7 && strncmp(base - 7, "/images", 7) == 0;
}
