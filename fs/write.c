/* fs/write: the writes that change things — ctl commands, stdin, and
 * creating/deleting containers by ln -s, mv and rmdir.  This is where an
 * ops error becomes an errno for the writer plus a line in MOUNT/log. */
#include "fsd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"

void fsd_fail(struct fsd *fs, const char *id, const char *what, const struct oerr *err)
{
	const char *name = strerrorname_np(err->code);
	log_warn("%s%s%s: %s (%s)", what, id && id[0] ? " " : "", id ? id : "",
		 err->msg[0] ? err->msg : strerror(err->code), name ? name : "?");
}

static int fail(struct fsd *fs, const char *id, const char *what, struct oerr *err, int r)
{
	if (!err->code)
		oerr_set(err, -r, "%s", strerror(-r));
	fsd_fail(fs, id, what, err);
	return -err->code;
}

int fsd_delete(struct fsd *fs, const char *id, bool force)
{
	struct oerr err = { 0 };
	int r = ops_delete(fs->ops, id, force, &err);

	if (r < 0)
		return fail(fs, id, "delete", &err, r);
	fsd_slot_free(fs, id);
	log_info("deleted %s", id);
	return 0;
}

/* Drop the kernel's cached containers/ID entry.  Safe from a ctl write
 * handler: it holds no lock on containers/ (rmdir, which does, leaves the
 * dentry to the kernel and must not call this). */
void fsd_forget_name(struct fsd *fs, const char *id)
{
	if (fs->se)
		fuse_lowlevel_notify_inval_entry(fs->se, INO_CONTAINERS, id, strlen(id));
}

/* A create failed: a lookup while it showed as creating may have given the
 * id a slot; free it, else the id made again would get the same inode
 * numbers (and the table would keep it for good).  True when it was gone. */
static bool create_failed(struct fsd *fs, const char *id)
{
	struct ops_info info;

	if (!id || ops_get(fs->ops, id, &info, NULL) == 0)
		return false;   /* EEXIST: another's */
	fsd_slot_free(fs, id);
	return true;
}

static int create(struct fsd *fs, const char *id, const char *bundle,
		  const char *const *kv, size_t n_kv, const char *how)
{
	struct oerr err = { 0 };
	int r = ops_id_valid(id, &err);

	if (r == 0)
		r = ops_create(fs->ops, id, bundle, kv, n_kv, &err);
	if (r < 0) {
		r = fail(fs, id, how, &err, r);
		create_failed(fs, id);
		return r;
	}
	log_info("created %s from %s (%s)", id, bundle, how);
	return 0;
}

int fsd_create_link(struct fsd *fs, const char *id, const char *bundle)
{
	if (bundle[0] != '/') {
		struct oerr err = { 0 };
		oerr_set(&err, EINVAL, "ln -s: bundle \"%.256s\" must be an absolute path",
			 bundle);
		return fail(fs, id, "create", &err, -EINVAL);
	}
	return create(fs, id, bundle, NULL, 0, "create (ln -s)");
}

/* mv MOUNT/incoming/NAME MOUNT/containers/ID: ops moves the bundle into
 * the state dir and back on failure (ops_create_moved). */
int fsd_create_moved(struct fsd *fs, const char *id, int inc_dirfd, const char *name)
{
	struct oerr err = { 0 };
	struct ops_info info;
	int r = ops_create_moved(fs->ops, id, inc_dirfd, name, &err);

	if (r < 0) {
		r = fail(fs, id, "create (mv)", &err, r);
		create_failed(fs, id);
		return r;
	}
	log_info("created %s from %s (create (mv))", id,
		 ops_get(fs->ops, id, &info, NULL) == 0 ? info.bundle : name);
	return 0;
}

static int run(struct fsd *fs, const char *id, const struct ctl_cmd *cmd, struct oerr *err)
{
	switch (cmd->verb) {
	case CTL_EXEC:   return ops_exec(fs->ops, id, cmd->name, cmd->process, err);
	case CTL_RESIZE: return ops_resize(fs->ops, id, NULL, cmd->rows, cmd->cols, err);
	case CTL_CREATE:
		return ops_create(fs->ops, id, cmd->bundle, cmd->kv, cmd->n_kv, err);
	case CTL_START:  return ops_start(fs->ops, id, err);
	case CTL_KILL:   return ops_kill(fs->ops, id, cmd->signo, err);
	case CTL_PAUSE:  return ops_pause(fs->ops, id, err);
	case CTL_RESUME: return ops_resume(fs->ops, id, err);
	case CTL_DELETE: return ops_delete(fs->ops, id, cmd->force, err);
	}
	return -EINVAL;
}

/* ID/exec/NAME/ctl: kill [SIGNAL] | resize ROWS COLS */
static int write_ex_ctl(struct fsd *fs, struct fh *fh, const char *buf, size_t len)
{
	static __thread struct ctl_cmd cmd;
	struct oerr err = { 0 };
	struct ops_exec_info ei;
	int r = ctl_parse(buf, len, false, &cmd, &err);

	if (r == 0 && cmd.verb != CTL_KILL && cmd.verb != CTL_RESIZE)
		r = oerr_set(&err, EINVAL, "ctl: an exec'd process takes kill [SIGNAL] or "
			     "resize ROWS COLS");
	if (r == 0)
		r = ops_exec_get(fs->ops, fh->id, NULL, (unsigned)fh->node.exec, &ei, &err);
	if (r == 0)
		r = cmd.verb == CTL_KILL ? ops_exec_kill(fs->ops, fh->id, ei.name, cmd.signo, &err)
					 : ops_resize(fs->ops, fh->id, ei.name, cmd.rows, cmd.cols, &err);
	if (r < 0)
		return fail(fs, fh->id, "exec ctl of", &err, r);
	return 0;
}

static int write_ex_stdin(struct fsd *fs, struct fh *fh, const char *buf, size_t len)
{
	struct oerr err = { 0 };
	struct ops_exec_info ei;
	int r = ops_exec_get(fs->ops, fh->id, NULL, (unsigned)fh->node.exec, &ei, &err);

	if (r == 0)
		r = ops_exec_write_stdin(fs->ops, fh->id, ei.name, buf, len, &err);
	if (r < 0)
		return fail(fs, fh->id, "exec stdin of", &err, r);
	fh->wrote = true;
	return 0;
}

static int write_ctl(struct fsd *fs, struct fh *fh, const char *buf, size_t len)
{
	static __thread struct ctl_cmd cmd;
	struct oerr err = { 0 };
	bool global = fh->node.kind == FK_GCTL;
	const char *id = global ? NULL : fh->id;
	int r = ctl_parse(buf, len, global, &cmd, &err);

	if (r < 0) {
		fsd_slot_note(fs, id, err.msg);   /* ops never sees it */
		return fail(fs, id, global ? "ctl" : "ctl of", &err, r);
	}
	if (global)
		id = cmd.id;
	r = ops_id_valid(id, &err);
	if (r == 0)
		r = run(fs, id, &cmd, &err);
	if (r < 0) {
		fsd_slot_note(fs, id, NULL);   /* ops keeps this one */
		r = fail(fs, id, ctl_verb_name(cmd.verb), &err, r);
		if (cmd.verb == CTL_CREATE && create_failed(fs, id))
			fsd_forget_name(fs, id);   /* no lock on containers/ here */
		return r;
	}
	fsd_slot_note(fs, id, NULL);
	if (cmd.verb == CTL_DELETE) {
		fsd_slot_free(fs, id);
		fsd_forget_name(fs, id);
	}
	log_info("%s %s: done", ctl_verb_name(cmd.verb), id);
	return 0;
}

int fsd_write(struct fsd *fs, struct fh *fh, const char *buf, size_t len)
{
	struct oerr err = { 0 };
	int r;

	switch (fh->node.kind) {
	case FK_GCTL:
	case FK_CTL:
		if (fh->node.exec)
			return write_ex_ctl(fs, fh, buf, len);
		return write_ctl(fs, fh, buf, len);
	case FK_STDIN:
		if (fh->node.exec)
			return write_ex_stdin(fs, fh, buf, len);
		r = ops_write_stdin(fs->ops, fh->id, buf, len, &err);
		if (r < 0)
			return fail(fs, fh->id, "stdin of", &err, r);
		fh->wrote = true;
		return 0;
	default:
		return -EACCES;
	}
}

int fsd_rmdir_exec(struct fsd *fs, fuse_ino_t parent, const char *name)
{
	struct oerr err = { 0 };
	char id[FS_ID_MAX];
	struct node dir;

	if (fsd_node_of(fs, parent, &dir, id) < 0 || !dir.slot || dir.exec ||
	    (dir.ino & 0xff) != CT_IDX_EXECDIR) {
		oerr_set(&err, EPERM, "rmdir: only containers/ID and containers/ID/exec/NAME "
			 "can be removed");
		return fail(fs, NULL, "rmdir", &err, -EPERM);
	}
	int r = ops_exec_remove(fs->ops, id, name, &err);
	return r < 0 ? fail(fs, id, "rmdir exec of", &err, r) : 0;
}

void fsd_stdin_release(struct fsd *fs, struct fh *fh)
{
	struct ops_exec_info ei;

	if (!fh->node.exec)
		ops_close_stdin(fs->ops, fh->id, NULL);
	else if (ops_exec_get(fs->ops, fh->id, NULL, (unsigned)fh->node.exec, &ei, NULL) == 0)
		ops_exec_close_stdin(fs->ops, fh->id, ei.name, NULL);
}
