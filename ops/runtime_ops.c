/* start, kill, pause, resume, delete, stdin: each checks the lifecycle
 * table first, so a refused operation changes nothing. */
#include "ops/runtime_int.h"
#include "ops/staging.h"
#include "ops/hooks.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Find id, check op against the table, optionally mark busy; holds a ref. */
static struct ctr *begin(struct ops *ops, const char *id, enum ops_op op, bool busy,
			 struct oerr *err)
{
	struct ops_transition t;
	struct ctr *c;

	pthread_mutex_lock(&ops->lock);
	c = id ? ops_find(ops, id) : NULL;
	if (!c) {
		pthread_mutex_unlock(&ops->lock);
		oerr_set(err, ENOENT, "%.64s: no such container", id ? id : "(null)");
		return NULL;
	}
	bool refused = true;
	if (c->busy)
		oerr_set(err, EBUSY, "%s: %s: another operation is under way", id, ops_op_name(op));
	else if (ops_transition(c->rec.status, op, &t, err) < 0)
		oerr_prefix(err, "%s: ", id);
	else
		refused = false;
	if (refused) {   /* ID/vm/last_error shows refusals too */
		snprintf(c->rec.last_error, sizeof(c->rec.last_error), "%s", err->msg);
		pthread_mutex_unlock(&ops->lock);
		return NULL;
	}
	c->refs++;
	c->busy = busy;
	pthread_mutex_unlock(&ops->lock);
	return c;
}

static void end(struct ops *ops, struct ctr *c, struct oerr *err)
{
	pthread_mutex_lock(&ops->lock);
	if (err && err->code)
		snprintf(c->rec.last_error, sizeof(c->rec.last_error), "%s", err->msg);
	c->busy = false;
	pthread_cond_broadcast(&ops->cond);
	ops_unref_locked(ops, c);
	pthread_mutex_unlock(&ops->lock);
}

/* Destroy the VM and mark the container stopped (status if not exited). */
static void stop_vm(struct ops *ops, struct ctr *c, int status, const char *reason)
{
	struct ops_note n = { 0 };

	pthread_mutex_lock(&ops->lock);
	struct vm *vm = ops_take_vm(ops, c);
	ops_wait_reaped(ops, c);
	ops_mark_stopped(ops, c, status, reason, &n);
	pthread_mutex_unlock(&ops->lock);
	if (vm)
		vm_destroy(vm, OPS_DESTROY_GRACE_MS);
	ops_notify(ops, &n);
}

/* Wait until the process started, failed, or the VM stopped. */
static int wait_started(struct ops *ops, struct ctr *c, struct oerr *err)
{
	struct timespec dl;
	int r = 0;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += ops->start_timeout_ms / 1000;
	dl.tv_nsec += (long)(ops->start_timeout_ms % 1000) * 1000000;
	if (dl.tv_nsec >= 1000000000) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&ops->lock);
	while (!c->started && !c->start_err[0] && c->rec.status != OPS_STOPPED && r == 0)
		r = pthread_cond_timedwait(&ops->cond, &ops->lock, &dl);
	if (c->started)
		r = 0;
	else if (c->start_err[0])
		r = oerr_set(err, EIO, "start: %s", c->start_err);
	else if (c->rec.status == OPS_STOPPED)
		r = oerr_set(err, EIO, "start: the VM stopped (status %d)%s%s", c->rec.exit_status,
			     c->rec.last_error[0] ? ": " : "", c->rec.last_error);
	else
		r = oerr_set(err, ETIMEDOUT, "start: no answer from the guest within %u s",
			     ops->start_timeout_ms / 1000);
	pthread_mutex_unlock(&ops->lock);
	return r;
}

static int start_vm(struct ops *ops, struct ctr *c, struct oerr *err)
{
	pthread_mutex_lock(&ops->lock);
	c->started = false;
	c->start_err[0] = '\0';
	pthread_mutex_unlock(&ops->lock);
	struct vm *vm = ops_vm_get(ops, c);
	if (!vm)
		return oerr_set(err, EIO, "start: the VM is gone");
	int r = vm_start(vm, err);
	ops_vm_put(ops, c);
	return r < 0 ? r : wait_started(ops, c, err);
}

int ops_start(struct ops *ops, const char *id, struct oerr *err)
{
	OERR_LOCAL(err);
	struct ops_note n = { 0 };
	struct ops_transition t;
	struct ctr *c = begin(ops, id, OPS_OP_START, true, err);
	int r;

	if (!c)
		return -err->code;
	if ((r = ops_run_hooks(ops, c, OPS_HOOK_START_CONTAINER, err)) < 0 ||
	    (r = start_vm(ops, c, err)) < 0) {
		oerr_prefix(err, "%s: ", id);
		stop_vm(ops, c, 255, err->msg);
		end(ops, c, err);
		return r;
	}
	pthread_mutex_lock(&ops->lock);
	if (ops_transition(c->rec.status, OPS_OP_STARTED, &t, NULL) == 0)
		ops_set_status(ops, c, t.next, &n);
	pthread_mutex_unlock(&ops->lock);
	ops_notify(ops, &n);
	ops_run_hooks_warn(ops, c, OPS_HOOK_POSTSTART); /* runtime.md: log, go on */
	pthread_mutex_lock(&ops->lock);
	struct vm *gone = c->rec.status == OPS_STOPPED ? ops_take_vm(ops, c) : NULL;
	pthread_mutex_unlock(&ops->lock);
	if (gone) /* it ended while we were busy */
		vm_destroy(gone, OPS_DESTROY_GRACE_MS);
	end(ops, c, err);
	return r;
}

/* A request that only sends (kill, pause, resume, stdin). */
static int send_req(struct ops *ops, struct ctr *c, int (*fn)(struct vm *, void *, struct oerr *),
		    void *arg, struct oerr *err)
{
	struct vm *vm = ops_vm_get(ops, c);
	if (!vm)
		return oerr_set(err, EPIPE, "%s: the VM is gone", c->rec.id);
	int r = fn(vm, arg, err);
	ops_vm_put(ops, c);
	return r;
}

static int do_signal(struct vm *vm, void *arg, struct oerr *err) { return vm_signal(vm, *(int *)arg, err); }
static int do_pause(struct vm *vm, void *arg, struct oerr *err) { return vm_pause(vm, err); }
static int do_resume(struct vm *vm, void *arg, struct oerr *err) { return vm_resume(vm, err); }

int ops_kill(struct ops *ops, const char *id, int signo, struct oerr *err)
{
	OERR_LOCAL(err);
	if (signo <= 0 || signo >= 65)
		return oerr_set(err, EINVAL, "kill: bad signal %d", signo);
	struct ctr *c = begin(ops, id, OPS_OP_KILL, false, err);
	if (!c)
		return -err->code;
	int r = send_req(ops, c, do_signal, &signo, err);
	if (r == -EPIPE) {   /* it ended between the check and the send */
		oerr_clear(err);
		r = oerr_set(err, EBUSY, "%s: kill: the container is ending (its channel is closed)", id);
		pthread_mutex_lock(&ops->lock);
		snprintf(c->rec.last_error, sizeof(c->rec.last_error), "%s", err->msg);
		pthread_mutex_unlock(&ops->lock);
	}
	ops_unref(ops, c);
	return r;
}

static int pause_resume(struct ops *ops, const char *id, enum ops_op op, struct oerr *err)
{
	OERR_LOCAL(err);
	struct ops_note n = { 0 };
	struct ops_transition t;
	struct ctr *c = begin(ops, id, op, true, err);

	if (!c)
		return -err->code;
	int r = send_req(ops, c, op == OPS_OP_PAUSE ? do_pause : do_resume, NULL, err);
	pthread_mutex_lock(&ops->lock);
	if (r == 0 && ops_transition(c->rec.status, op, &t, NULL) == 0)
		ops_set_status(ops, c, t.next, &n);
	pthread_mutex_unlock(&ops->lock);
	ops_notify(ops, &n);
	end(ops, c, err);
	return r;
}

int ops_pause(struct ops *ops, const char *id, struct oerr *err)
{
	return pause_resume(ops, id, OPS_OP_PAUSE, err);
}

int ops_resume(struct ops *ops, const char *id, struct oerr *err)
{
	return pause_resume(ops, id, OPS_OP_RESUME, err);
}

int ops_delete(struct ops *ops, const char *id, bool force, struct oerr *err)
{
	OERR_LOCAL(err);
	struct ops_note n = { 0 };
	struct ctr *c = begin(ops, id, force ? OPS_OP_DELETE_FORCE : OPS_OP_DELETE, true, err);

	if (!c)
		return -err->code;
	stop_vm(ops, c, 128 + SIGKILL, NULL);
	ops_run_poststop(ops, c);
	if (c->rec.image_held && vm_image_release(ops->cache_dir, c->rec.id, NULL) == 0)
		c->rec.image_held = false;
	pthread_mutex_lock(&ops->lock);
	ops_close_streams(c);
	int r = ops_store_remove(c->dir);
	char trash[PATH_MAX];
	bool moved = r == 0 && ops_staging_detach(ops->state_dir, id, trash, sizeof(trash)) == 0;
	if (r < 0) {
		/* keep the container: the user can see it and try again */
		oerr_sys(err, -r, "%s: cannot remove %s", id, c->dir);
	} else {
		char ts[48];
		ops_rfc3339(ts, sizeof(ts));
		snprintf(n.id, sizeof(n.id), "%s", id);
		snprintf(n.line, sizeof(n.line), "%s %s deleted", ts, id);
		n.event = true;
		ops_remove(ops, c);
	}
	pthread_mutex_unlock(&ops->lock);
	if (moved)
		ops_staging_remove(trash);   /* a bundle moved in by mv */
	end(ops, c, err);
	ops_notify(ops, &n);
	return r;
}

struct stdin_arg { const void *buf; size_t len; };
static int do_stdin(struct vm *vm, void *arg, struct oerr *err)
{
	struct stdin_arg *a = arg;
	return vm_write_stdin(vm, a->buf, a->len, err);
}
static int do_close_stdin(struct vm *vm, void *arg, struct oerr *err) { return vm_close_stdin(vm, err); }

static int stdin_req(struct ops *ops, const char *id, int (*fn)(struct vm *, void *, struct oerr *),
		     void *arg, struct oerr *err)
{
	OERR_LOCAL(err);
	struct ctr *c = ops_find_ref(ops, id, err);
	if (!c)
		return -err->code;
	pthread_mutex_lock(&ops->lock);
	bool stopped = c->rec.status == OPS_STOPPED;
	pthread_mutex_unlock(&ops->lock);
	int r = stopped ? oerr_set(err, EPIPE, "%s: stdin: the container has stopped", id)
			: send_req(ops, c, fn, arg, err);
	ops_unref(ops, c);
	return r;
}

int ops_write_stdin(struct ops *ops, const char *id, const void *buf, size_t len,
		    struct oerr *err)
{
	struct stdin_arg a = { buf, len };
	return stdin_req(ops, id, do_stdin, &a, err);
}

int ops_close_stdin(struct ops *ops, const char *id, struct oerr *err)
{
	return stdin_req(ops, id, do_close_stdin, NULL, err);
}
