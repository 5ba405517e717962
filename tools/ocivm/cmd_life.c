/* create, start, run, kill, delete, pause, resume: one line written to a
 * ctl file each, with the errno mapped to the phrases runc's callers match. */
#include "ocivm.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"

int cmd_open_tree(const struct ocivm_args *a, struct ocivm_tree *t, bool start)
{
	struct oerr err = { 0 };
	int r = tree_open(t, a->root, start, &err);

	if (r == -ENOENT && !start)
		return ocivm_fail("container does not exist");
	if (r < 0)
		return ocivm_fail("%s", err.msg);
	return 0;
}

/* The container id argument, checked; NULL after reporting the failure. */
static const char *need_id(const struct ocivm_args *a)
{
	if (a->n_pos < 1) {
		ocivm_fail("%s: requires a container id", a->cmd_name);
		return NULL;
	}
	struct oerr ierr = { 0 };
	if (!ocivm_id_valid(a->pos[0], &ierr)) {
		ocivm_fail("invalid container id: %s", ierr.msg);
		return NULL;
	}
	return a->pos[0];
}

/* Reports a failed ctl write: the mapped phrase, then the tree's reason. */
int cmd_fail_op(const struct ocivm_tree *t, enum ocivm_op op, int r, const char *id)
{
	char status[32], msg[512], reason[1024];

	tree_status(t, id, status, sizeof(status));
	ocivm_errmap(op, r, id, status, msg, sizeof(msg));
	tree_last_log(t, id, reason, sizeof(reason));
	if (*reason && r != -ENOENT)
		return ocivm_fail("%s: %s", msg, reason);
	return ocivm_fail("%s", msg);
}

/* One command on an existing container: a status pre-check gives runc's
 * phrases without a round trip, the tree's errno settles the rest. */
static int simple_op(const struct ocivm_args *a, enum ocivm_op op, const char *line)
{
	struct ocivm_tree t;
	const char *id = need_id(a);
	char status[32], msg[512];
	int r;

	if (!id || cmd_open_tree(a, &t, false))
		return 1;
	tree_status(&t, id, status, sizeof(status));
	if (!*status && !tree_exists(&t, id))
		return ocivm_fail("container does not exist");
	if (op == OP_START && strcmp(status, "created")) {
		ocivm_errmap(op, EBUSY, id, status, msg, sizeof(msg));
		return ocivm_fail("%s", msg);
	}
	ocivm_debug("%s: echo %s > %s/containers/%s/ctl", id, line, t.mount, id);
	r = tree_ctl(&t, id, line);
	return r < 0 ? cmd_fail_op(&t, op, r, id) : 0;
}

int cmd_start(const struct ocivm_args *a) { return simple_op(a, OP_START, "start"); }

int cmd_pause_resume(const struct ocivm_args *a, bool pause)
{
	return simple_op(a, pause ? OP_PAUSE : OP_RESUME, pause ? "pause" : "resume");
}

int cmd_kill(const struct ocivm_args *a)
{
	const char *name = a->n_pos > 1 ? a->pos[1] : "TERM";
	int sig = sig_parse(name);
	char line[32];

	if (sig < 0)
		return ocivm_fail("unknown signal %s", name);
	snprintf(line, sizeof(line), "kill %d", sig);
	return simple_op(a, OP_KILL, line);
}

int cmd_delete(const struct ocivm_args *a)
{
	struct ocivm_tree t;
	const char *id = need_id(a);
	char status[32];
	const char *line;
	int r;

	if (!id || cmd_open_tree(a, &t, false))
		return 1;
	tree_status(&t, id, status, sizeof(status));
	if (!*status && !tree_exists(&t, id))
		return ocivm_fail("container does not exist");
	/* runc deletes a created (never started) container without --force */
	line = a->force || !strcmp(status, "created") ? "delete force" : "delete";
	ocivm_debug("%s: echo %s > ctl (status %s)", id, line, status);
	r = tree_ctl(&t, id, line);
	if (r == -ENOENT)
		return 0; /* gone meanwhile: what delete wanted */
	return r < 0 ? cmd_fail_op(&t, OP_DELETE, r, id) : 0;
}
