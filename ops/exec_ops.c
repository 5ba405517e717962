/* The requests on exec'd processes (ops.h: ops_exec_kill ... ops_resize):
 * find the process by name, check its state, send through the VM. */
#include "ops/runtime_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Under the lock: the container and its exec'd process (name NULL: the
 * container's own, number 0); with the VM taken for use (ops_vm_put). */
struct exec_req {
	struct ctr *c;
	struct vm *vm;
	unsigned num;
};

static int req_begin(struct ops *ops, const char *id, const char *name, struct exec_req *q,
		     struct oerr *err)
{
	q->c = ops_find_ref(ops, id, err);
	q->vm = NULL;
	q->num = 0;
	if (!q->c)
		return -err->code;
	pthread_mutex_lock(&ops->lock);
	struct ops_exec *e = NULL;
	int r = 0;
	if (name) {
		for (unsigned i = 1; i <= OPS_EXEC_MAX && !e; i++)
			if (q->c->execs[i] && strcmp(q->c->execs[i]->info.name, name) == 0)
				e = q->c->execs[i];
		if (!e)
			r = oerr_set(err, ENOENT, "%s: no exec'd process %.80s", id, name);
		else if (e->info.status != OPS_RUNNING)
			r = oerr_set(err, EBUSY, "%s: exec %s: not running (%s)", id, name,
				     ops_status_name(e->info.status));
		else
			q->num = e->info.num;
	} else if (q->c->rec.status != OPS_RUNNING && q->c->rec.status != OPS_CREATED) {
		r = oerr_set(err, EBUSY, "%s: the container is %s", id,
			     ops_status_name(q->c->rec.status));
	}
	if (r == 0 && !(q->vm = q->c->vm))
		r = oerr_set(err, EBUSY, "%s: the container has no VM", id);
	if (r == 0)
		q->c->vm_users++;
	pthread_mutex_unlock(&ops->lock);
	if (r < 0)
		ops_unref(ops, q->c);
	return r;
}

static int req_end(struct ops *ops, struct exec_req *q, int r)
{
	ops_vm_put(ops, q->c);
	ops_unref(ops, q->c);
	return r;
}

int ops_exec_kill(struct ops *ops, const char *id, const char *name, int signo,
		  struct oerr *err)
{
	OERR_LOCAL(err);
	struct exec_req q;
	int r = req_begin(ops, id, name, &q, err);

	return r < 0 ? r : req_end(ops, &q, vm_proc_signal(q.vm, q.num, signo, err));
}

int ops_exec_write_stdin(struct ops *ops, const char *id, const char *name, const void *buf,
			 size_t len, struct oerr *err)
{
	OERR_LOCAL(err);
	struct exec_req q;
	int r = req_begin(ops, id, name, &q, err);

	return r < 0 ? r : req_end(ops, &q, vm_proc_write_stdin(q.vm, q.num, buf, len, err));
}

int ops_exec_close_stdin(struct ops *ops, const char *id, const char *name, struct oerr *err)
{
	OERR_LOCAL(err);
	struct exec_req q;
	int r = req_begin(ops, id, name, &q, err);

	return r < 0 ? r : req_end(ops, &q, vm_proc_close_stdin(q.vm, q.num, err));
}

int ops_resize(struct ops *ops, const char *id, const char *name, unsigned rows,
	       unsigned cols, struct oerr *err)
{
	OERR_LOCAL(err);
	struct exec_req q;
	int r = req_begin(ops, id, name, &q, err);

	return r < 0 ? r : req_end(ops, &q, vm_proc_resize(q.vm, q.num, rows, cols, err));
}

int ops_exec_remove(struct ops *ops, const char *id, const char *name, struct oerr *err)
{
	OERR_LOCAL(err);
	char path[4096];
	struct ctr *c = ops_find_ref(ops, id, err);
	int r = 0;

	if (!c)
		return -err->code;
	pthread_mutex_lock(&ops->lock);
	struct ops_exec *e = NULL;
	for (unsigned i = 1; i <= OPS_EXEC_MAX && !e; i++)
		if (c->execs[i] && strcmp(c->execs[i]->info.name, name) == 0)
			e = c->execs[i];
	if (!e)
		r = oerr_set(err, ENOENT, "%s: no exec'd process %.80s", id, name);
	else if (e->info.status != OPS_STOPPED)
		r = oerr_set(err, EBUSY, "%s: exec %s: still running (kill it first)", id, name);
	if (r == 0) {
		snprintf(path, sizeof(path), "%s/exec/%s", c->dir, e->info.name);
		ops_store_remove(path);
		c->execs[e->info.num] = NULL;
		free(e);   /* its streams were closed when it stopped */
		c->generation++;
	}
	pthread_mutex_unlock(&ops->lock);
	ops_unref(ops, c);
	return r;
}

int ops_exec_get(struct ops *ops, const char *id, const char *name, unsigned num,
		 struct ops_exec_info *ret, struct oerr *err)
{
	OERR_LOCAL(err);
	int r = 0;

	pthread_mutex_lock(&ops->lock);
	struct ctr *c = ops_find(ops, id);
	struct ops_exec *e = NULL;
	if (c && name) {
		for (unsigned i = 1; i <= OPS_EXEC_MAX && !e; i++)
			if (c->execs[i] && strcmp(c->execs[i]->info.name, name) == 0)
				e = c->execs[i];
	} else if (c && num >= 1 && num <= OPS_EXEC_MAX) {
		e = c->execs[num];
	}
	if (e)
		*ret = e->info;
	else
		r = oerr_set(err, ENOENT, "%.64s: no such exec'd process", id);
	pthread_mutex_unlock(&ops->lock);
	return r;
}

int ops_exec_list(struct ops *ops, const char *id, struct ops_exec_info **ret, size_t *ret_n)
{
	struct ops_exec_info *v = NULL;
	size_t n = 0;
	int r = 0;

	pthread_mutex_lock(&ops->lock);
	struct ctr *c = ops_find(ops, id);
	if (!c)
		r = -ENOENT;
	for (unsigned i = 1; c && i <= OPS_EXEC_MAX; i++)
		n += c->execs[i] != NULL;
	if (c && n && !(v = calloc(n, sizeof(*v))))
		r = -ENOMEM;
	n = 0;
	for (unsigned i = 1; c && v && i <= OPS_EXEC_MAX; i++)
		if (c->execs[i])
			v[n++] = c->execs[i]->info;
	pthread_mutex_unlock(&ops->lock);
	if (r < 0)
		return r;
	*ret = v;
	*ret_n = n;
	return 0;
}
