/* Extra processes of a running container (ops.h: ops_exec ...): the table
 * of a container's exec'd processes by number (the channel's process id),
 * their stream files under STATE/ID/exec/NAME/, and the VM callbacks that
 * keep them up to date. */
#include "ops/runtime_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"

#define OPS_EXEC_START_MS 30000   /* from EXEC to STARTED or ERROR */

static void exec_close(struct ops_exec *e)
{
	for (int s = 1; s <= 2; s++)
		if (e->out_fd[s] >= 0) {
			close(e->out_fd[s]);
			e->out_fd[s] = -1;
		}
}

void ops_exec_free_all(struct ctr *c)
{
	for (unsigned i = 1; i <= OPS_EXEC_MAX; i++)
		if (c->execs[i]) {
			exec_close(c->execs[i]);
			free(c->execs[i]);
			c->execs[i] = NULL;
		}
}

static struct ops_exec *exec_by_name(struct ctr *c, const char *name)
{
	for (unsigned i = 1; i <= OPS_EXEC_MAX; i++)
		if (c->execs[i] && strcmp(c->execs[i]->info.name, name) == 0)
			return c->execs[i];
	return NULL;
}

/* "<time> ID exec NAME what", sent with the lock NOT held. */
static void exec_event(struct ops *ops, const char *id, const char *name, const char *what)
{
	char ts[64], line[OPS_ID_MAX + OPS_EXEC_NAME_MAX + 96];

	ops_rfc3339(ts, sizeof(ts));
	snprintf(line, sizeof(line), "%s %s exec %s %s", ts, id, name, what);
	if (ops->l.on_event)
		ops->l.on_event(ops->lctx, id, line);
}

/* Lock held: it stopped with status (255 and no exit when unknown). */
static void exec_mark_stopped(struct ctr *c, struct ops_exec *e, int status, bool exited)
{
	e->info.status = OPS_STOPPED;
	e->info.exited = exited;
	e->info.exit_status = status;
	exec_close(e);
	c->generation++;
	pthread_cond_broadcast(&c->ops->cond);
}

void ops_exec_stop_all(struct ctr *c)
{
	for (unsigned i = 1; i <= OPS_EXEC_MAX; i++) {
		struct ops_exec *e = c->execs[i];
		if (e && e->info.status != OPS_STOPPED) {
			snprintf(e->last_error, sizeof(e->last_error), "the container stopped first");
			exec_mark_stopped(c, e, 255, false);
		}
	}
}

void ops_exec_cb_started(void *ctx, unsigned proc, pid_t pid)
{
	struct ctr *c = ctx;
	char name[OPS_EXEC_NAME_MAX + 1] = "";

	pthread_mutex_lock(&c->ops->lock);
	struct ops_exec *e = proc <= OPS_EXEC_MAX ? c->execs[proc] : NULL;
	if (e && e->info.status == OPS_CREATING) {
		e->started = true;
		e->info.status = OPS_RUNNING;
		e->info.pid = pid;
		c->generation++;
		snprintf(name, sizeof(name), "%s", e->info.name);
		pthread_cond_broadcast(&c->ops->cond);
	}
	pthread_mutex_unlock(&c->ops->lock);
	if (name[0])
		exec_event(c->ops, c->rec.id, name, "started");
}

void ops_exec_cb_output(void *ctx, unsigned proc, int stream, const void *buf, size_t len)
{
	struct ctr *c = ctx;
	struct ops *ops = c->ops;

	if (stream != 1 && stream != 2)
		return;
	pthread_mutex_lock(&ops->lock);
	struct ops_exec *e = proc <= OPS_EXEC_MAX ? c->execs[proc] : NULL;
	if (e && e->out_fd[stream] >= 0) {
		/* capped like the container's streams: the rest is dropped */
		uint64_t room = e->out_len[stream] < ops->max_output ?
				ops->max_output - e->out_len[stream] : 0;
		size_t n = len < room ? len : (size_t)room;
		ssize_t w = n ? write(e->out_fd[stream], buf, n) : 0;
		if (w > 0)
			e->out_len[stream] += (uint64_t)w;
		c->generation++;
	}
	pthread_mutex_unlock(&ops->lock);
	if (e && ops->l.on_output)
		ops->l.on_output(ops->lctx, c->rec.id, OPS_STREAM_EXEC(proc, stream));
}

void ops_exec_cb_error(void *ctx, unsigned proc, const char *reason)
{
	struct ctr *c = ctx;

	pthread_mutex_lock(&c->ops->lock);
	struct ops_exec *e = proc <= OPS_EXEC_MAX ? c->execs[proc] : NULL;
	if (e)
		snprintf(e->last_error, sizeof(e->last_error), "%s", reason);
	pthread_mutex_unlock(&c->ops->lock);
	ops_logf(c->ops, "%s: exec %u: %s", c->rec.id, proc, reason);
}

void ops_exec_cb_exit(void *ctx, unsigned proc, int status, const struct vm_proc_times *times)
{
	struct ctr *c = ctx;
	char name[OPS_EXEC_NAME_MAX + 1] = "", what[48];
	bool started = false;

	pthread_mutex_lock(&c->ops->lock);
	struct ops_exec *e = proc <= OPS_EXEC_MAX ? c->execs[proc] : NULL;
	if (e && e->info.status != OPS_STOPPED) {
		started = e->started;
		if (times) {
			e->info.spawn_us = (int64_t)(times->spawn_us & INT64_MAX);
			e->info.guest_us = (int64_t)(times->guest_us & INT64_MAX);
		}
		exec_mark_stopped(c, e, status, true);
		snprintf(name, sizeof(name), "%s", e->info.name);
	}
	pthread_mutex_unlock(&c->ops->lock);
	if (!name[0])
		return;
	if (c->ops->l.on_output) {   /* readers at EOF and wait get their answer */
		c->ops->l.on_output(c->ops->lctx, c->rec.id, OPS_STREAM_EXEC(proc, 1));
		c->ops->l.on_output(c->ops->lctx, c->rec.id, OPS_STREAM_EXEC(proc, 2));
	}
	snprintf(what, sizeof(what), "exited %d", status);
	if (started)
		exec_event(c->ops, c->rec.id, name, what);
}

/* Lock held: a new entry with its stream files, number num. */
static int exec_add(struct ctr *c, unsigned num, const char *name, struct oerr *err)
{
	static const char *const names[3] = { NULL, "stdout", "stderr" };
	char path[PATH_MAX];
	struct ops_exec *e = calloc(1, sizeof(*e));

	if (!e)
		return oerr_set(err, ENOMEM, "out of memory");
	e->out_fd[0] = e->out_fd[1] = e->out_fd[2] = -1;
	snprintf(e->info.name, sizeof(e->info.name), "%s", name);
	e->info.num = num;
	e->info.status = OPS_CREATING;
	e->info.spawn_us = e->info.guest_us = -1;
	snprintf(path, sizeof(path), "%s/exec/%s", c->dir, name);
	ops_store_remove(path);   /* a leftover of a daemon that was killed */
	int r = mkdir_p(path, 0700);
	for (int s = 1; r == 0 && s <= 2; s++) {
		snprintf(path, sizeof(path), "%s/exec/%s/%s", c->dir, name, names[s]);
		e->out_fd[s] = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
		if (e->out_fd[s] < 0)
			r = -errno;
	}
	if (r < 0) {
		exec_close(e);
		free(e);
		return oerr_sys(err, -r, "%s/exec/%s", c->dir, name);
	}
	c->execs[num] = e;
	return 0;
}

/* Lock held: forget it and its files. */
static void exec_drop(struct ctr *c, struct ops_exec *e)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/exec/%s", c->dir, e->info.name);
	ops_store_remove(path);
	c->execs[e->info.num] = NULL;
	exec_close(e);
	free(e);
	c->generation++;
}

/* Lock held: the free number, the checks of state and name. */
static int exec_reserve(struct ctr *c, const char *name, unsigned *ret, struct oerr *err)
{
	if (c->rec.status != OPS_RUNNING || !c->vm)
		return oerr_set(err, EBUSY, "%s: exec: the container is not running (%s)",
				c->rec.id, ops_status_name(c->rec.status));
	if (exec_by_name(c, name))
		return oerr_set(err, EEXIST, "%s: exec %s: the name is taken", c->rec.id, name);
	for (unsigned i = 1; i <= OPS_EXEC_MAX; i++)
		if (!c->execs[i]) {
			*ret = i;
			return 0;
		}
	return oerr_set(err, EBUSY, "%s: exec: %d processes are kept: rmdir stopped ones",
			c->rec.id, OPS_EXEC_MAX);
}

static int exec_spec(const char *id, const char *name, const char *path, char **ret,
		     size_t *ret_len, struct oerr *err)
{
	_cleanup_free_ char *json = NULL;
	struct ops_process p;
	size_t len = 0;
	int r;

	if (ops_id_valid(name, NULL) < 0 || strlen(name) > OPS_EXEC_NAME_MAX)
		return oerr_set(err, EINVAL, "exec: bad name \"%.80s\": letters, digits and "
				"\"_+-.\" (at most %d)", name, OPS_EXEC_NAME_MAX);
	if (path[0] != '/')
		return oerr_set(err, EINVAL, "exec %s: %s: the process.json path must be absolute",
				name, path);
	if ((r = file_read_all(path, 1 << 20, &json, &len)) < 0)
		return oerr_sys(err, -r == ENOENT ? ENOENT : -r, "exec %s: %s", name, path);
	if ((r = ops_process_parse(json, len, &p, err)) < 0) {
		char msg[OERR_MSG_MAX];
		snprintf(msg, sizeof(msg), "%s", err->msg);
		oerr_clear(err);
		return oerr_set(err, -r, "exec %s: %s", name, msg);
	}
	r = ops_build_exec_gspec(&p, id, ret, ret_len, err);
	ops_process_free(&p);
	return r;
}

/* Wait (lock held) until it runs or failed to start. */
static int exec_wait_started(struct ops *ops, struct ctr *c, struct ops_exec *e, struct oerr *err)
{
	struct timespec dl;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += OPS_EXEC_START_MS / 1000;
	while (!e->started && e->info.status != OPS_STOPPED)
		if (pthread_cond_timedwait(&ops->cond, &ops->lock, &dl) == ETIMEDOUT)
			return oerr_set(err, ETIMEDOUT, "%s: exec %s: no answer from ocivm-init "
					"within %d s", c->rec.id, e->info.name, OPS_EXEC_START_MS / 1000);
	if (e->started)
		return 0;
	int code = !e->info.exited ? EIO : e->info.exit_status == 127 ? ENOENT : EACCES;
	return oerr_set(err, code, "%s: exec %s: %s", c->rec.id, e->info.name,
			e->last_error[0] ? e->last_error : "the container stopped");
}

int ops_exec(struct ops *ops, const char *id, const char *name, const char *process_json,
	     struct oerr *err)
{
	OERR_LOCAL(err);
	_cleanup_free_ char *spec = NULL;
	size_t len = 0;
	unsigned num = 0;
	struct ctr *c = ops_find_ref(ops, id, err);

	if (!c)
		return -err->code;
	int r = exec_spec(id, name, process_json, &spec, &len, err);
	pthread_mutex_lock(&ops->lock);
	if (r == 0)
		r = exec_reserve(c, name, &num, err);
	if (r == 0)
		r = exec_add(c, num, name, err);
	struct vm *vm = r == 0 ? c->vm : NULL;
	if (vm)
		c->vm_users++;
	pthread_mutex_unlock(&ops->lock);
	if (vm) {
		r = vm_exec(vm, num, spec, len, err);
		ops_vm_put(ops, c);
	}
	pthread_mutex_lock(&ops->lock);
	struct ops_exec *e = num ? c->execs[num] : NULL;
	if (e && r == 0)
		r = exec_wait_started(ops, c, e, err);
	/* a process that never ran leaves nothing behind */
	if (e && r < 0 && !e->started)
		exec_drop(c, e);
	pthread_mutex_unlock(&ops->lock);
	ops_unref(ops, c);
	return r == 0 ? 0 : -err->code;
}
