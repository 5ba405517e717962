/* fs/ll: the libfuse low-level handlers of the tree.  Each ends in exactly
 * one fuse_reply_*; incoming/ inodes are handed to incoming.c.
 * Cache policy: names and the attributes of directories, ctl and links are
 * cached for a second (they do not change while the name exists); the
 * attributes of generated files are not (their sizes change).  A name that
 * goes away is invalidated: rmdir by the kernel itself, `delete` through a
 * ctl file by fsd_forget_name(); the entry that ln -s or mv leaves behind
 * is a different inode with a zero timeout, so the next lookup finds the
 * container's directory. */
#include "fsd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"

#define FIXED_ENTRY_TIMEOUT 1.0

static bool is_inc(fuse_ino_t ino) { return ino == INO_INCOMING || (ino & INO_INC_BIT); }

static struct fsd *fsd_of(fuse_req_t req) { return fuse_req_userdata(req); }

/* Refuse with an errno and its reason in MOUNT/log. */
static void refuse(fuse_req_t req, int code, const char *what)
{
	log_warn("%s: %s", what, strerror(code));
	fuse_reply_err(req, code);
}

static double attr_timeout(const struct node *n)
{
	return S_ISDIR(n->mode) || n->kind == FK_CTL || n->kind == FK_GCTL ||
	       n->kind == FK_STDIN ? FIXED_ENTRY_TIMEOUT : 0.0;
}

void fsd_reply_entry(fuse_req_t req, struct fsd *fs, const struct node *n,
		     const char *id, double entry_timeout)
{
	struct fuse_entry_param e = { .ino = n->ino, .generation = 1,
				      .entry_timeout = entry_timeout,
				      .attr_timeout = entry_timeout ? attr_timeout(n) : 0.0 };
	fsd_stat(fs, n, id, &e.attr);
	fuse_reply_entry(req, &e);
}

static void ll_init(void *userdata, struct fuse_conn_info *conn)
{
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
}

static void ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fsd *fs = fsd_of(req);
	struct node dir, n;
	char id[FS_ID_MAX];
	int r;

	if (is_inc(parent))
		return fsd_inc_ops.lookup(req, parent, name);
	r = fsd_node_of(fs, parent, &dir, id);
	if (r == 0)
		r = fsd_child(fs, &dir, id, name, &n);
	if (r < 0)
		return (void)fuse_reply_err(req, -r);
	if (n.ino == INO_INCOMING)
		return (void)fsd_inc_lookup_root(fs, req, name);
	if (parent == INO_CONTAINERS || parent == INO_TEMPLATES)
		strcpy(id, name);
	fsd_reply_entry(req, fs, &n, id, FIXED_ENTRY_TIMEOUT);
}

static void ll_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	if (ino & INO_INC_BIT)
		return fsd_inc_ops.forget(req, ino, nlookup);
	fuse_reply_none(req);
}

static void ll_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *f)
{
	for (size_t i = 0; i < count; i++)
		if (f[i].ino & INO_INC_BIT)
			fsd_inc_forget(fsd_of(req), f[i].ino, f[i].nlookup);
	fuse_reply_none(req);
}

static void ll_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fsd *fs = fsd_of(req);
	struct node n;
	struct stat st;
	char id[FS_ID_MAX];
	int r;

	if (is_inc(ino))
		return fsd_inc_ops.getattr(req, ino, fi);
	r = fsd_node_of(fs, ino, &n, id);
	if (r < 0)
		return (void)fuse_reply_err(req, -r);
	fsd_stat(fs, &n, id, &st);
	fuse_reply_attr(req, &st, attr_timeout(&n));
}

/* Only the truncation that `echo cmd > ctl` implies is accepted. */
static void ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	struct fsd *fs = fsd_of(req);
	struct node n;
	char id[FS_ID_MAX];

	if (is_inc(ino))
		return fsd_inc_ops.setattr(req, ino, attr, to_set, fi);
	if (fsd_node_of(fs, ino, &n, id) < 0)
		return (void)fuse_reply_err(req, ENOENT);
	if (to_set == FUSE_SET_ATTR_SIZE && attr->st_size == 0 &&
	    (n.kind == FK_CTL || n.kind == FK_GCTL || n.kind == FK_STDIN))
		return ll_getattr(req, ino, fi);
	refuse(req, EPERM, "setattr: the tree's files cannot be changed that way");
}

static void ll_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct fsd *fs = fsd_of(req);
	struct ops_info info;
	struct node n;
	char id[FS_ID_MAX];

	if (is_inc(ino))
		return fsd_inc_ops.readlink(req, ino);
	if (fsd_node_of(fs, ino, &n, id) < 0 || n.kind != FK_LINK)
		return (void)fuse_reply_err(req, EINVAL);
	if (ops_get(fs->ops, id, &info, NULL) < 0)
		return (void)fuse_reply_err(req, ENOENT);
	fuse_reply_readlink(req, info.bundle);
}

static int dirbuf_build(fuse_req_t req, struct fsd *fs, const struct node *dir,
			const char *id, struct fh *fh)
{
	struct node *nodes = NULL;
	char **names = NULL;
	size_t n = 0, len = 0, cap = 4096;
	struct stat st = { 0 };
	int r = fsd_list(fs, dir, id, &nodes, &names, &n);

	if (r < 0)
		return r;
	fh->buf = malloc(cap);
	for (size_t i = 0; i < n + 2 && fh->buf; i++) {
		const char *name = i == 0 ? "." : i == 1 ? ".." : names[i - 2];
		st.st_ino = i < 2 ? dir->ino : nodes[i - 2].ino;
		st.st_mode = i < 2 ? S_IFDIR : nodes[i - 2].mode;
		size_t need = fuse_add_direntry(req, NULL, 0, name, NULL, 0);
		if (len + need > cap) {
			char *b = realloc(fh->buf, cap * 2);
			if (!b) {
				free(fh->buf);
				fh->buf = NULL;
				break;
			}
			fh->buf = b;
			cap *= 2;
		}
		fuse_add_direntry(req, fh->buf + len, need, name, &st, (off_t)(len + need));
		len += need;
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(nodes);
	fh->len = len;
	return fh->buf ? 0 : -ENOMEM;
}

static void ll_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fsd *fs = fsd_of(req);
	struct fh *fh;
	char id[FS_ID_MAX];
	int r;

	if (is_inc(ino))
		return fsd_inc_ops.opendir(req, ino, fi);
	fh = calloc(1, sizeof(*fh));
	if (!fh)
		return (void)fuse_reply_err(req, ENOMEM);
	fh->fd = -1;
	r = fsd_node_of(fs, ino, &fh->node, id);
	if (r == 0)
		r = dirbuf_build(req, fs, &fh->node, id, fh);
	if (r < 0) {
		free(fh);
		return (void)fuse_reply_err(req, -r);
	}
	fi->fh = (uintptr_t)fh;
	fuse_reply_open(req, fi);
}

/* Replies from a private copy: once the reply is written the kernel may let
 * the reader close the file, and release() free fh->buf, while libfuse (or
 * a sanitizer's writev check) still looks at the buffer it was handed. */
static void reply_slice(fuse_req_t req, const char *buf, size_t len, size_t size, off_t off)
{
	if (off < 0 || (size_t)off >= len)
		return (void)fuse_reply_buf(req, NULL, 0);
	size_t n = len - (size_t)off < size ? len - (size_t)off : size;
	_cleanup_free_ char *copy = malloc(n);
	if (!copy)
		return (void)fuse_reply_err(req, ENOMEM);
	memcpy(copy, buf + off, n);
	fuse_reply_buf(req, copy, n);
}

static void ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct fh *fh = (struct fh *)(uintptr_t)fi->fh;

	if (is_inc(ino))
		return fsd_inc_ops.readdir(req, ino, size, off, fi);
	reply_slice(req, fh->buf, fh->len, size, off);
}

static void ll_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fh *fh = (struct fh *)(uintptr_t)fi->fh;

	if (is_inc(ino))
		return fsd_inc_ops.releasedir(req, ino, fi);
	free(fh->buf);
	free(fh);
	fuse_reply_err(req, 0);
}

static int open_check(const struct node *n, int flags)
{
	int acc = flags & O_ACCMODE;

	if (S_ISDIR(n->mode))
		return -EISDIR;
	if (n->kind == FK_STDIN)
		return acc == O_WRONLY ? 0 : -EACCES;
	if (n->kind == FK_CTL || n->kind == FK_GCTL)
		return acc == O_RDWR ? -EACCES : 0;
	return acc == O_RDONLY ? 0 : -EACCES;
}

static int open_fh(struct fsd *fs, struct fh *fh, int flags)
{
	struct oerr err = { 0 };
	int acc = flags & O_ACCMODE;

	switch (fh->node.kind) {
	case FK_EVENTS:
		pthread_mutex_lock(&fs->lock);
		fh->ev_next = fs->ev_n;
		pthread_mutex_unlock(&fs->lock);
		fsd_waiter_add(fs, fh);
		return 0;
	case FK_STREAM:
		fsd_stream_open(fs, fh);
		/* fall through */
	case FK_WAIT:
		fsd_waiter_add(fs, fh);
		return 0;
	case FK_STDIN:
		return 0;
	case FK_CTL:
	case FK_GCTL:
		if (acc != O_RDONLY)
			return 0;
		/* fall through */
	default:
		return fsd_content(fs, &fh->node, fh->id, &fh->buf, &fh->len, &err);
	}
}

static void ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fsd *fs = fsd_of(req);
	struct fh *fh;
	int r;

	if (is_inc(ino))
		return fsd_inc_ops.open(req, ino, fi);
	fh = calloc(1, sizeof(*fh));
	if (!fh)
		return (void)fuse_reply_err(req, ENOMEM);
	fh->fd = -1;
	r = fsd_node_of(fs, ino, &fh->node, fh->id);
	if (r == 0 && (r = open_check(&fh->node, fi->flags)) < 0)
		log_warn("open %s%s%s: %s", fh->id, fh->id[0] ? "/" : "", fh->node.name,
			 r == -EACCES ? "not open for that access mode (read-only, or ctl/stdin)"
				      : strerror(-r));
	if (r == 0)
		r = open_fh(fs, fh, fi->flags);
	if (r < 0) {
		fsd_waiter_del(fs, fh);
		free(fh->buf);
		free(fh);
		return (void)fuse_reply_err(req, -r);
	}
	fi->fh = (uintptr_t)fh;
	fi->direct_io = fh->node.ino != INO_README;
	fi->nonseekable = fh->node.kind == FK_EVENTS;
	fuse_reply_open(req, fi);
}

static void ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct fh *fh = (struct fh *)(uintptr_t)fi->fh;
	enum fkind k;

	if (is_inc(ino))
		return fsd_inc_ops.read(req, ino, size, off, fi);
	k = fh->node.kind;
	if (k == FK_EVENTS || k == FK_WAIT || k == FK_STREAM)
		return fsd_read_blocking(fsd_of(req), req, fh, size, off,
					 fi->flags & O_NONBLOCK);
	reply_slice(req, fh->buf, fh->len, size, off);
}

static void ll_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
		     off_t off, struct fuse_file_info *fi)
{
	struct fh *fh = (struct fh *)(uintptr_t)fi->fh;

	if (is_inc(ino))
		return fsd_inc_ops.write(req, ino, buf, size, off, fi);
	if (fh->node.kind == FK_CTL || fh->node.kind == FK_GCTL)
		return fsd_job_ctl_write(fsd_of(req), req, fh, buf, size);   /* may wait for a VM */
	int r = fsd_write(fsd_of(req), fh, buf, size);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_write(req, size);
}

static void ll_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fsd *fs = fsd_of(req);
	struct fh *fh = (struct fh *)(uintptr_t)fi->fh;

	if (is_inc(ino))
		return fsd_inc_ops.release(req, ino, fi);
	fsd_waiter_del(fs, fh);
	if (fh->node.kind == FK_STDIN && fh->wrote)
		fsd_stdin_release(fs, fh);
	if (fh->fd >= 0)
		close(fh->fd);
	free(fh->buf);
	free(fh);
	fuse_reply_err(req, 0);
}

static void ll_poll(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		    struct fuse_pollhandle *ph)
{
	struct fh *fh = (struct fh *)(uintptr_t)fi->fh;
	enum fkind k = fh && !is_inc(ino) ? fh->node.kind : FK_NONE;

	if (k == FK_EVENTS || k == FK_WAIT || k == FK_STREAM)
		return fsd_poll(fsd_of(req), req, fh, ph);
	if (ph)
		fuse_pollhandle_destroy(ph);
	fuse_reply_poll(req, POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM);
}


static void ll_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	struct fsd *fs = fsd_of(req);

	if (is_inc(parent))
		return fsd_inc_ops.symlink(req, link, parent, name);
	if (parent != INO_CONTAINERS)
		return refuse(req, EPERM, "ln -s: only containers/ID links create containers");
	fsd_job_create_link(fs, req, name, link);   /* boots a VM */
}

static void ll_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	struct fsd *fs = fsd_of(req);

	if (is_inc(parent) && is_inc(newparent))
		return fsd_inc_ops.rename(req, parent, name, newparent, newname, flags);
	if (!is_inc(parent) || newparent != INO_CONTAINERS)
		return refuse(req, EPERM, "rename: only mv incoming/NAME containers/ID is possible");
	if (flags & ~RENAME_NOREPLACE)   /* creating never replaces anything */
		return refuse(req, EINVAL, "rename: mv incoming/NAME containers/ID takes no "
			      "exchange or whiteout");
	int dirfd = fsd_inc_fd_of(fs, parent);
	if (dirfd < 0)
		return (void)fuse_reply_err(req, -dirfd);
	fsd_job_create_moved(fs, req, newname, dirfd, name);   /* boots a VM */
}

static void ll_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	if (is_inc(parent))
		return fsd_inc_ops.rmdir(req, parent, name);
	if (parent == INO_TEMPLATES)
		return (void)fuse_reply_err(req, -fsd_tpl_rmdir(fsd_of(req), name));
	fuse_reply_err(req, parent != INO_CONTAINERS ? -fsd_rmdir_exec(fsd_of(req), parent, name)
						     : -fsd_delete(fsd_of(req), name, false));
}

static void ll_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	if (is_inc(parent))
		return fsd_inc_ops.mkdir(req, parent, name, mode);
	if (parent == INO_CONTAINERS)
		return refuse(req, EPERM, "mkdir containers/ID: create with "
			      "ln -s /abs/bundle containers/ID or mv incoming/ID containers/ID");
	refuse(req, EPERM, "mkdir: not here (incoming/ is writable)");
}

static void ll_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	if (is_inc(parent))
		return fsd_inc_ops.unlink(req, parent, name);
	if (parent == INO_CONTAINERS)
		return refuse(req, EISDIR, "rm containers/ID: rmdir deletes a container");
	if (parent == INO_TEMPLATES || fsd_is_tpl_ino(parent))
		return refuse(req, parent == INO_TEMPLATES ? EISDIR : EPERM,
			      "rm templates/KEY...: rmdir templates/KEY drops a template");
	refuse(req, EPERM, "rm: only files in incoming/ can be removed");
}

static void ll_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	if (is_inc(parent))
		return fsd_inc_ops.create(req, parent, name, mode, fi);
	refuse(req, EACCES, "create: files can only be created in incoming/");
}

static void ll_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		     dev_t rdev)
{
	if (is_inc(parent))
		return fsd_inc_ops.mknod(req, parent, name, mode, rdev);
	refuse(req, EPERM, "mknod: only in incoming/");
}

static void ll_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *name)
{
	if (is_inc(ino) && is_inc(newparent))
		return fsd_inc_ops.link(req, ino, newparent, name);
	refuse(req, EPERM, "ln: hard links only inside incoming/");
}

static void ll_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	if (is_inc(ino) && fsd_inc_ops.fsync)
		return fsd_inc_ops.fsync(req, ino, datasync, fi);
	fuse_reply_err(req, 0);
}

const struct fuse_lowlevel_ops fsd_ll_ops = {
	.init = ll_init,
	.lookup = ll_lookup,
	.forget = ll_forget,
	.forget_multi = ll_forget_multi,
	.getattr = ll_getattr,
	.setattr = ll_setattr,
	.readlink = ll_readlink,
	.mknod = ll_mknod,
	.mkdir = ll_mkdir,
	.unlink = ll_unlink,
	.rmdir = ll_rmdir,
	.symlink = ll_symlink,
	.rename = ll_rename,
	.link = ll_link,
	.open = ll_open,
	.read = ll_read,
	.write = ll_write,
	/* no .flush: the kernel stops sending FLUSH after the first ENOSYS,
	 * one round trip less per close */
	.release = ll_release,
	.fsync = ll_fsync,
	.opendir = ll_opendir,
	.readdir = ll_readdir,
	.releasedir = ll_releasedir,
	.create = ll_create,
	.poll = ll_poll,
};
