/* fs/incoming: MOUNT/incoming/ passes through to the staging directory ops
 * hands out (STATE/.incoming, ops/staging.h), so that
 * `cp -r BUNDLE MOUNT/incoming/ID` stores real files.  Each inode holds an
 * O_PATH descriptor of its file (in the manner of libfuse's passthrough_ll),
 * so renames inside the staging area need no bookkeeping. */
#include "fsd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs/inctab.h"

#define INC_TIMEOUT 1.0

struct inc {
	pthread_mutex_t lock;
	struct inode_e root;
	struct inctab tab;      /* number = ino & ~INO_INC_BIT */
};

struct incdir { DIR *dp; off_t off; struct dirent *entry; };

static struct fsd *fs_of(fuse_req_t req) { return fuse_req_userdata(req); }

/* A descriptor of its own of inode ino's file, which the caller closes; or
 * -ENOENT (or the dup's -errno).  Duplicated under the lock: once the lock
 * is released a forget may close the inode's descriptor and free it, and
 * another thread's open may get the same number for another file. */
static int fd_get(struct inc *inc, fuse_ino_t ino)
{
	int fd, e = ENOENT;

	if (ino == INO_INCOMING) {   /* closed only by fsd_inc_free */
		fd = fcntl(inc->root.fd, F_DUPFD_CLOEXEC, 0);
		return fd < 0 ? -errno : fd;
	}
	pthread_mutex_lock(&inc->lock);
	struct inode_e *n = inctab_get(&inc->tab, (size_t)(ino & ~INO_INC_BIT));
	fd = n ? fcntl(n->fd, F_DUPFD_CLOEXEC, 0) : -1;
	if (n && fd < 0)
		e = errno;
	pthread_mutex_unlock(&inc->lock);
	return fd < 0 ? -e : fd;
}

static int fd_of(fuse_req_t req, fuse_ino_t ino)
{
	return fd_get(fs_of(req)->inc, ino);
}

static void procpath(char *buf, size_t n, int fd)
{
	snprintf(buf, n, "/proc/self/fd/%d", fd);
}

int fsd_inc_init(struct fsd *fs, struct oerr *err)
{
	struct stat st;
	struct inc *inc = calloc(1, sizeof(*inc));

	if (!inc)
		return -ENOMEM;
	pthread_mutex_init(&inc->lock, NULL);
	inc->root.fd = ops_incoming_open(fs->ops, err);   /* ops owns the state dir */
	if (inc->root.fd < 0 || fstat(inc->root.fd, &st) < 0) {
		int r = inc->root.fd < 0 ? inc->root.fd : oerr_sys(err, errno, "incoming/");
		if (inc->root.fd >= 0)
			close(inc->root.fd);
		free(inc);
		return r;
	}
	inc->root.dev = st.st_dev;
	inc->root.rino = st.st_ino;
	fs->inc = inc;
	return 0;
}

static void inode_drop(struct inode_e *e)
{
	close(e->fd);
	free(e);
}

void fsd_inc_free(struct fsd *fs)
{
	struct inc *inc = fs->inc;

	if (!inc)
		return;
	inctab_clear(&inc->tab, inode_drop);
	close(inc->root.fd);
	free(inc);
	fs->inc = NULL;
}

int fsd_inc_root_fd(struct fsd *fs) { return fs->inc->root.fd; }

int fsd_inc_fd_of(struct fsd *fs, fuse_ino_t ino)
{
	return fd_get(fs->inc, ino);
}

/* Find or add the inode of fd (which this takes over); ret_ino its number. */
static int remember(struct inc *inc, int fd, const struct stat *st, fuse_ino_t *ret_ino)
{
	pthread_mutex_lock(&inc->lock);
	struct inode_e *e = inctab_find(&inc->tab, st->st_dev, st->st_ino);
	if (e) {
		e->nlookup++;
		pthread_mutex_unlock(&inc->lock);
		close(fd);
		*ret_ino = INO_INC_BIT | e->idx;
		return 0;
	}
	if (!(e = calloc(1, sizeof(*e))))
		goto nomem;
	*e = (struct inode_e){ .fd = fd, .dev = st->st_dev, .rino = st->st_ino, .nlookup = 1 };
	if (inctab_add(&inc->tab, e) < 0) {
		free(e);
		goto nomem;
	}
	*ret_ino = INO_INC_BIT | e->idx;
	pthread_mutex_unlock(&inc->lock);
	return 0;
nomem:
	pthread_mutex_unlock(&inc->lock);
	close(fd);
	return -ENOMEM;
}

/* Entries right under incoming/ get a zero entry timeout: one of them may
 * be renamed into containers/, and the moved dentry must be looked up again
 * there (it becomes the container's directory). */
static int do_lookup(fuse_req_t req, fuse_ino_t parent, int pfd, const char *name,
		     struct fuse_entry_param *e)
{
	struct fsd *fs = fs_of(req);
	int fd = openat(pfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	memset(e, 0, sizeof(*e));
	if (fd < 0)
		return -errno;
	if (fstatat(fd, "", &e->attr, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	int r = remember(fs->inc, fd, &e->attr, &e->ino);
	if (r < 0)
		return r;
	e->attr.st_ino = e->ino;
	e->generation = 1;
	e->attr_timeout = INC_TIMEOUT;
	e->entry_timeout = parent == INO_INCOMING ? 0.0 : INC_TIMEOUT;
	return 0;
}

/* pfd: parent's descriptor from fd_of, or its -errno. */
static void reply_lookup(fuse_req_t req, fuse_ino_t parent, int pfd, const char *name)
{
	struct fuse_entry_param e;
	int r = pfd < 0 ? pfd : do_lookup(req, parent, pfd, name, &e);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_entry(req, &e);
}

int fsd_inc_lookup_root(struct fsd *fs, fuse_req_t req, const char *name)
{
	struct fuse_entry_param e = { .ino = INO_INCOMING, .generation = 1,
				      .attr_timeout = 0, .entry_timeout = INC_TIMEOUT };
	if (fstatat(fs->inc->root.fd, "", &e.attr, AT_EMPTY_PATH) < 0)
		return fuse_reply_err(req, errno);
	e.attr.st_ino = INO_INCOMING;
	return fuse_reply_entry(req, &e);
}

static void inc_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	_cleanup_close_ int pfd = fd_of(req, parent);
	reply_lookup(req, parent, pfd, name);
}

static void forget_one(struct inc *inc, fuse_ino_t ino, uint64_t n)
{
	size_t i = (size_t)(ino & ~INO_INC_BIT);
	struct inode_e *e = NULL;

	pthread_mutex_lock(&inc->lock);
	if ((e = inctab_get(&inc->tab, i))) {
		e->nlookup -= n < e->nlookup ? n : e->nlookup;
		if (e->nlookup == 0)
			inctab_del(&inc->tab, e);
		else
			e = NULL;
	}
	pthread_mutex_unlock(&inc->lock);
	if (e)
		inode_drop(e);
}

static void inc_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	forget_one(fs_of(req)->inc, ino, nlookup);
	fuse_reply_none(req);
}

void fsd_inc_forget(struct fsd *fs, fuse_ino_t ino, uint64_t nlookup)
{
	forget_one(fs->inc, ino, nlookup);
}

static void reply_attr(fuse_req_t req, fuse_ino_t ino, int fd)
{
	struct stat st;

	if (fd < 0 || fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return (void)fuse_reply_err(req, fd < 0 ? -fd : errno);
	st.st_ino = ino;
	fuse_reply_attr(req, &st, INC_TIMEOUT);
}

static void inc_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	_cleanup_close_ int fd = fd_of(req, ino);
	reply_attr(req, ino, fd);
}

static int setattr_apply(int fd, int ffd, struct stat *a, int set)
{
	char p[64];
	struct stat st;

	procpath(p, sizeof(p), fd);
	if (fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if ((set & FUSE_SET_ATTR_MODE) && !S_ISLNK(st.st_mode) && chmod(p, a->st_mode) < 0)
		return -errno;
	if (set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		uid_t u = set & FUSE_SET_ATTR_UID ? a->st_uid : (uid_t)-1;
		gid_t g = set & FUSE_SET_ATTR_GID ? a->st_gid : (gid_t)-1;
		if (fchownat(fd, "", u, g, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
	}
	if ((set & FUSE_SET_ATTR_SIZE) &&
	    (ffd >= 0 ? ftruncate(ffd, a->st_size) : truncate(p, a->st_size)) < 0)
		return -errno;
	if ((set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)) && !S_ISLNK(st.st_mode)) {
		struct timespec tv[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_nsec = UTIME_OMIT } };
		if (set & FUSE_SET_ATTR_ATIME_NOW) tv[0].tv_nsec = UTIME_NOW;
		else if (set & FUSE_SET_ATTR_ATIME) tv[0] = a->st_atim;
		if (set & FUSE_SET_ATTR_MTIME_NOW) tv[1].tv_nsec = UTIME_NOW;
		else if (set & FUSE_SET_ATTR_MTIME) tv[1] = a->st_mtim;
		if (utimensat(AT_FDCWD, p, tv, 0) < 0)
			return -errno;
	}
	return 0;
}

static void inc_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
			struct fuse_file_info *fi)
{
	_cleanup_close_ int fd = fd_of(req, ino);
	int r = fd < 0 ? fd : setattr_apply(fd, fi ? (int)fi->fh : -1, attr, to_set);
	if (r < 0)
		return (void)fuse_reply_err(req, -r);
	reply_attr(req, ino, fd);
}

static void inc_readlink(fuse_req_t req, fuse_ino_t ino)
{
	char buf[4097];
	_cleanup_close_ int fd = fd_of(req, ino);
	ssize_t n = fd < 0 ? -1 : readlinkat(fd, "", buf, sizeof(buf) - 1);

	if (n < 0)
		return (void)fuse_reply_err(req, fd < 0 ? -fd : errno);
	buf[n] = '\0';
	fuse_reply_readlink(req, buf);
}

static void inc_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      dev_t rdev)
{
	_cleanup_close_ int pfd = fd_of(req, parent);
	if (pfd < 0 || mknodat(pfd, name, mode, rdev) < 0)
		return (void)fuse_reply_err(req, pfd < 0 ? -pfd : errno);
	reply_lookup(req, parent, pfd, name);
}

static void inc_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	_cleanup_close_ int pfd = fd_of(req, parent);
	if (pfd < 0 || mkdirat(pfd, name, mode) < 0)
		return (void)fuse_reply_err(req, pfd < 0 ? -pfd : errno);
	reply_lookup(req, parent, pfd, name);
}

static void inc_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	_cleanup_close_ int pfd = fd_of(req, parent);
	if (pfd < 0 || symlinkat(link, pfd, name) < 0)
		return (void)fuse_reply_err(req, pfd < 0 ? -pfd : errno);
	reply_lookup(req, parent, pfd, name);
}

static void inc_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *name)
{
	char p[64];
	_cleanup_close_ int fd = fd_of(req, ino);
	_cleanup_close_ int pfd = fd_of(req, newparent);

	if (fd < 0 || pfd < 0)
		return (void)fuse_reply_err(req, fd < 0 ? -fd : -pfd);
	procpath(p, sizeof(p), fd);
	if (linkat(AT_FDCWD, p, pfd, name, AT_SYMLINK_FOLLOW) < 0)
		return (void)fuse_reply_err(req, errno);
	reply_lookup(req, newparent, pfd, name);
}

static void inc_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	_cleanup_close_ int pfd = fd_of(req, parent);
	fuse_reply_err(req, pfd < 0 ? -pfd : unlinkat(pfd, name, 0) < 0 ? errno : 0);
}

static void inc_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	_cleanup_close_ int pfd = fd_of(req, parent);
	fuse_reply_err(req, pfd < 0 ? -pfd : unlinkat(pfd, name, AT_REMOVEDIR) < 0 ? errno : 0);
}

static void inc_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		       fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	_cleanup_close_ int pfd = fd_of(req, parent);
	_cleanup_close_ int npfd = fd_of(req, newparent);

	if (pfd < 0 || npfd < 0)
		return (void)fuse_reply_err(req, pfd < 0 ? -pfd : -npfd);
	fuse_reply_err(req, renameat2(pfd, name, npfd, newname, flags) < 0 ? errno : 0);
}

static void inc_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	char p[64];
	_cleanup_close_ int fd = fd_of(req, ino);

	if (fd < 0)
		return (void)fuse_reply_err(req, -fd);
	procpath(p, sizeof(p), fd);
	int ffd = open(p, (fi->flags & ~O_NOFOLLOW) | O_CLOEXEC);
	if (ffd < 0)
		return (void)fuse_reply_err(req, errno);
	fi->fh = (uint64_t)ffd;
	fuse_reply_open(req, fi);
}

static void inc_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		       struct fuse_file_info *fi)
{
	struct fuse_entry_param e;
	_cleanup_close_ int pfd = fd_of(req, parent);
	int ffd = pfd < 0 ? -1 : openat(pfd, name, (fi->flags | O_CREAT) & ~O_NOFOLLOW, mode);

	if (ffd < 0)
		return (void)fuse_reply_err(req, pfd < 0 ? -pfd : errno);
	int r = do_lookup(req, parent, pfd, name, &e);
	if (r < 0) {
		close(ffd);
		return (void)fuse_reply_err(req, -r);
	}
	fi->fh = (uint64_t)ffd;
	fuse_reply_create(req, &e, fi);
}

static void inc_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	_cleanup_free_ char *buf = malloc(size ? size : 1);
	ssize_t n = buf ? pread((int)fi->fh, buf, size, off) : -1;

	if (n < 0)
		return (void)fuse_reply_err(req, buf ? errno : ENOMEM);
	fuse_reply_buf(req, buf, (size_t)n);
}

static void inc_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
		      off_t off, struct fuse_file_info *fi)
{
	ssize_t n = pwrite((int)fi->fh, buf, size, off);
	if (n < 0)
		return (void)fuse_reply_err(req, errno);
	fuse_reply_write(req, (size_t)n);
}

static void inc_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	close((int)fi->fh);
	fuse_reply_err(req, 0);
}

static void inc_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	int r = datasync ? fdatasync((int)fi->fh) : fsync((int)fi->fh);
	fuse_reply_err(req, r < 0 ? errno : 0);
}

static void inc_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	_cleanup_close_ int fd = fd_of(req, ino);
	struct incdir *d = calloc(1, sizeof(*d));
	int dfd = fd < 0 || !d ? -1 : openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0 || !(d->dp = fdopendir(dfd))) {
		int e = fd < 0 ? -fd : !d ? ENOMEM : errno;
		if (dfd >= 0)
			close(dfd);
		free(d);
		return (void)fuse_reply_err(req, e);
	}
	fi->fh = (uintptr_t)d;
	fuse_reply_open(req, fi);
}

static void inc_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			struct fuse_file_info *fi)
{
	struct incdir *d = (struct incdir *)(uintptr_t)fi->fh;
	_cleanup_free_ char *buf = malloc(size);
	size_t len = 0;

	if (!buf)
		return (void)fuse_reply_err(req, ENOMEM);
	if (off != d->off) {
		seekdir(d->dp, off);
		d->entry = NULL;
		d->off = off;
	}
	for (;;) {
		if (!d->entry && !(d->entry = readdir(d->dp)))
			break;
		struct stat st = { .st_ino = d->entry->d_ino,
				   .st_mode = (mode_t)d->entry->d_type << 12 };
		off_t next = telldir(d->dp);
		size_t n = fuse_add_direntry(req, buf + len, size - len, d->entry->d_name,
					     &st, next);
		if (n > size - len)
			break;
		len += n;
		d->entry = NULL;
		d->off = next;
	}
	fuse_reply_buf(req, buf, len);
}

static void inc_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct incdir *d = (struct incdir *)(uintptr_t)fi->fh;
	closedir(d->dp);
	free(d);
	fuse_reply_err(req, 0);
}

const struct fuse_lowlevel_ops fsd_inc_ops = {
	.lookup = inc_lookup, .forget = inc_forget,
	.getattr = inc_getattr, .setattr = inc_setattr, .readlink = inc_readlink,
	.mknod = inc_mknod, .mkdir = inc_mkdir, .unlink = inc_unlink, .rmdir = inc_rmdir,
	.symlink = inc_symlink, .rename = inc_rename, .link = inc_link, .open = inc_open,
	.read = inc_read, .write = inc_write, .release = inc_release, .fsync = inc_fsync,
	.opendir = inc_opendir, .readdir = inc_readdir, .releasedir = inc_releasedir,
	.create = inc_create,
};
