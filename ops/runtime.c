/* The runtime behind ops/ops.h: the container table, references, the
 * supervisor thread that dispatches every VM's events, the VM callbacks,
 * and ops_open/ops_close (reload after a restart).  One mutex guards the
 * table and every container; blocking work (vm_create, hooks, destroy) runs
 * with it dropped, guarded by the container's busy flag instead. */
#include "ops/runtime_int.h"
#include "cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void ops_logf(struct ops *ops, const char *fmt, ...)
{
	char raw[2048], line[1024];
	va_list ap;

	if (!ops->l.on_log)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	text_fit(line, sizeof(line), raw);   /* escaped; a long one keeps its end */
	ops->l.on_log(ops->lctx, line);
}

void ops_logf_locked(struct ops *ops, const char *fmt, ...)
{
	char raw[2048];
	va_list ap;

	if (ops->n_held_log == (int)ARRAY_SIZE(ops->held_log))
		return; /* a burst: the first lines say enough */
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	text_fit(ops->held_log[ops->n_held_log++], sizeof(ops->held_log[0]), raw);
}

static void flush_held_log(struct ops *ops)
{
	char lines[ARRAY_SIZE(ops->held_log)][sizeof(ops->held_log[0])];
	int n;

	pthread_mutex_lock(&ops->lock);
	n = ops->n_held_log;
	memcpy(lines, ops->held_log, sizeof(lines[0]) * (size_t)n);
	ops->n_held_log = 0;
	pthread_mutex_unlock(&ops->lock);
	for (int i = 0; i < n; i++)
		if (ops->l.on_log)
			ops->l.on_log(ops->lctx, lines[i]);
}

struct ctr *ops_find(struct ops *ops, const char *id)
{
	for (size_t i = 0; i < ops->n; i++)
		if (strcmp(ops->v[i]->rec.id, id) == 0)
			return ops->v[i];
	return NULL;
}

static struct ctr *find_serial(struct ops *ops, uint64_t serial)
{
	for (size_t i = 0; i < ops->n; i++)
		if (ops->v[i]->serial == serial)
			return ops->v[i];
	return NULL;
}

struct ctr *ops_find_ref(struct ops *ops, const char *id, struct oerr *err)
{
	pthread_mutex_lock(&ops->lock);
	struct ctr *c = id ? ops_find(ops, id) : NULL;
	if (c)
		c->refs++;
	pthread_mutex_unlock(&ops->lock);
	if (!c)
		oerr_set(err, ENOENT, "%.64s: no such container", id ? id : "(null)");
	return c;
}

static void ctr_free(struct ctr *c)
{
	ops_close_streams(c);
	ops_exec_free_all(c);
	ops_record_free(&c->rec);
	ops_config_free(c->cfg);
	free(c->config_text);
	free(c->dir);
	free(c);
}

void ops_unref_locked(struct ops *ops, struct ctr *c)
{
	if (--c->refs == 0 && c->removed)
		ctr_free(c);
}

void ops_unref(struct ops *ops, struct ctr *c)
{
	pthread_mutex_lock(&ops->lock);
	ops_unref_locked(ops, c);
	pthread_mutex_unlock(&ops->lock);
}

struct ctr *ops_ctr_new(struct ops *ops, const char *id)
{
	struct ctr *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->ops = ops;
	c->out_fd[0] = c->out_fd[1] = c->out_fd[2] = -1;
	snprintf(c->rec.id, sizeof(c->rec.id), "%s", id);
	if (asprintf(&c->dir, "%s/%s", ops->state_dir, id) < 0) {
		free(c);
		return NULL;
	}
	return c;
}

int ops_insert(struct ops *ops, struct ctr *c)
{
	if (ops->n == ops->cap) {
		size_t ncap = ops->cap ? ops->cap * 2 : 16;
		struct ctr **nv = realloc(ops->v, ncap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		ops->v = nv;
		ops->cap = ncap;
	}
	c->serial = ++ops->next_serial;
	ops->v[ops->n++] = c;
	c->refs++; /* the table's */
	return 0;
}

void ops_remove(struct ops *ops, struct ctr *c)
{
	for (size_t i = 0; i < ops->n; i++)
		if (ops->v[i] == c) {
			ops->v[i] = ops->v[--ops->n];
			c->removed = true;
			ops_unref_locked(ops, c);
			return;
		}
}

void ops_rfc3339(char *buf, size_t n)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t k = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + k, n - k, ".%03ldZ", ts.tv_nsec / 1000000);
}

int ops_persist(struct ops *ops, struct ctr *c, struct oerr *err)
{
	struct oerr mine = { 0 };
	int r = ops_store_save(c->dir, &c->rec, err ? err : &mine);
	if (r < 0 && !err)
		ops_logf_locked(ops, "%s: %s", c->rec.id, mine.msg);
	return r;
}

int ops_set_status(struct ops *ops, struct ctr *c, enum ops_status s, struct ops_note *n)
{
	char ts[48];

	c->rec.status = s;
	c->generation++;
	int r = ops_persist(ops, c, NULL);
	ops_rfc3339(ts, sizeof(ts));
	snprintf(n->id, sizeof(n->id), "%s", c->rec.id);
	snprintf(n->line, sizeof(n->line), "%s %s %s", ts, c->rec.id, ops_status_name(s));
	n->event = true;
	pthread_cond_broadcast(&ops->cond);
	return r;
}

void ops_notify(struct ops *ops, const struct ops_note *n)
{
	flush_held_log(ops);
	if (n->event && ops->l.on_event)
		ops->l.on_event(ops->lctx, n->id, n->line);
	if (n->output && ops->l.on_output) {
		ops->l.on_output(ops->lctx, n->id, OPS_STREAM_STDOUT);
		ops->l.on_output(ops->lctx, n->id, OPS_STREAM_STDERR);
	}
}

void ops_mark_stopped(struct ops *ops, struct ctr *c, int status, const char *reason,
		      struct ops_note *n)
{
	if (c->rec.status == OPS_STOPPED)
		return;
	c->rec.exited = true;
	c->rec.exit_status = status;
	if (reason && *reason)
		snprintf(c->rec.last_error, sizeof(c->rec.last_error), "%s", reason);
	n->output = true;
	ops_set_status(ops, c, OPS_STOPPED, n);
	ops_close_streams(c); /* on_exit is the last callback: no more output */
	ops_exec_stop_all(c);
}

/* ---- streams ---- */

int ops_open_streams(struct ctr *c, struct oerr *err)
{
	static const char *const names[3] = { NULL, "stdout", "stderr" };
	char path[PATH_MAX];

	for (int s = 1; s <= 2; s++) {
		if (c->out_fd[s] >= 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", c->dir, names[s]);
		c->out_fd[s] = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (c->out_fd[s] < 0)
			return oerr_sys(err, errno, "%s", path);
		/* a re-attach goes on counting; past the cap the marker is there */
		struct stat st;
		c->out_len[s] = fstat(c->out_fd[s], &st) == 0 ? (uint64_t)st.st_size : 0;
		c->out_capped[s] = c->out_len[s] > c->ops->max_output;
	}
	return 0;
}

void ops_close_streams(struct ctr *c)
{
	for (int s = 1; s <= 2; s++)
		if (c->out_fd[s] >= 0) {
			close(c->out_fd[s]);
			c->out_fd[s] = -1;
		}
}

/* ---- VM handle sharing ---- */

struct vm *ops_vm_get(struct ops *ops, struct ctr *c)
{
	pthread_mutex_lock(&ops->lock);
	struct vm *vm = c->vm;
	if (vm)
		c->vm_users++;
	pthread_mutex_unlock(&ops->lock);
	return vm;
}

void ops_vm_put(struct ops *ops, struct ctr *c)
{
	pthread_mutex_lock(&ops->lock);
	c->vm_users--;
	pthread_cond_broadcast(&ops->cond);
	pthread_mutex_unlock(&ops->lock);
}

struct vm *ops_take_vm(struct ops *ops, struct ctr *c)
{
	struct vm *vm = c->vm;

	if (!vm)
		return NULL;
	if (c->in_epoll) {
		epoll_ctl(ops->epfd, EPOLL_CTL_DEL, vm_fd(vm), NULL);
		c->in_epoll = false;
	}
	c->vm = NULL; /* no new users */
	while (c->vm_users > 0)
		pthread_cond_wait(&ops->cond, &ops->lock);
	return vm;
}

void ops_wait_reaped(struct ops *ops, struct ctr *c)
{
	while (c->reaping > 0)
		pthread_cond_wait(&ops->cond, &ops->lock);
}

int ops_watch(struct ops *ops, struct ctr *c)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = c->serial };

	if (!c->vm || c->in_epoll)
		return 0;
	if (epoll_ctl(ops->epfd, EPOLL_CTL_ADD, vm_fd(c->vm), &ev) < 0)
		return -errno;
	c->in_epoll = true;
	return 0;
}

/* ---- callbacks (from vm_dispatch or vm_create, never with our lock) ---- */

static void cb_started(void *ctx, pid_t guest_pid)
{
	struct ctr *c = ctx;
	pthread_mutex_lock(&c->ops->lock);
	c->started = true;
	pthread_cond_broadcast(&c->ops->cond);
	pthread_mutex_unlock(&c->ops->lock);
}

/* Past max_output the guest could fill the state dir (host RAM on /run):
 * write up to the cap, one marker line, then only count.  Lock held. */
static void append_capped(struct ops *ops, struct ctr *c, int s, const char *buf, size_t len)
{
	static const char *const names[3] = { NULL, "stdout", "stderr" };
	int fd = c->out_fd[s];
	uint64_t room = c->out_len[s] < ops->max_output ? ops->max_output - c->out_len[s] : 0;
	size_t n = len < room ? len : (size_t)room;
	char mark[96];

	if (fd < 0)
		return;
	if (n > 0) {
		ssize_t w = write(fd, buf, n);
		if (w > 0) {
			c->out_len[s] += (uint64_t)w;
			c->out_last[s] = buf[w - 1];
		}
		if (w != (ssize_t)n)
			ops_logf_locked(ops, "%s: output lost: %s", c->rec.id,
					w < 0 ? strerror(errno) : "short write");
	}
	if (n == len)
		return;
	c->out_dropped[s] += len - n;
	if (c->out_capped[s])
		return;
	c->out_capped[s] = true;
	int k = snprintf(mark, sizeof(mark), "%s[ocivmfs: output truncated after %llu bytes]\n",
			 c->out_len[s] > 0 && c->out_last[s] != '\n' ? "\n" : "",
			 (unsigned long long)ops->max_output);
	if (write(fd, mark, (size_t)k) != k) {
		/* the cap still holds; the log line says what happened */
	}
	ops_logf_locked(ops, "%s: %s reached %llu bytes (--max-output): the rest is discarded "
			"and counted in vm/output", c->rec.id, names[s],
			(unsigned long long)ops->max_output);
}

static void cb_output(void *ctx, int stream, const void *buf, size_t len)
{
	struct ctr *c = ctx;
	struct ops *ops = c->ops;

	if (stream != 1 && stream != 2)
		return;
	pthread_mutex_lock(&ops->lock);
	append_capped(ops, c, stream, buf, len);
	c->generation++;
	bool held = ops->n_held_log > 0;
	pthread_mutex_unlock(&ops->lock);
	if (held)
		flush_held_log(ops);
	if (ops->l.on_output)
		ops->l.on_output(ops->lctx, c->rec.id, stream);
}

static void cb_log(void *ctx, const char *line)
{
	struct ctr *c = ctx;
	ops_logf(c->ops, "%s: init: %s", c->rec.id, line);
}

static void cb_error(void *ctx, const char *reason)
{
	struct ctr *c = ctx;
	pthread_mutex_lock(&c->ops->lock);
	snprintf(c->start_err, sizeof(c->start_err), "%s", reason);
	snprintf(c->rec.last_error, sizeof(c->rec.last_error), "%s", reason);
	pthread_cond_broadcast(&c->ops->cond);
	pthread_mutex_unlock(&c->ops->lock);
	ops_logf(c->ops, "%s: %s", c->rec.id, reason);
}

static void cb_exit(void *ctx, int status, const char *reason)
{
	struct ctr *c = ctx;
	struct ops_note n = { 0 };

	bool news = false;

	pthread_mutex_lock(&c->ops->lock);
	if (c->rec.status != OPS_CREATING) { /* a failing create cleans up itself */
		/* a reason not said yet (an ERROR frame was logged by cb_error):
		 * the VM died without an exit status, and how */
		news = reason && *reason && strcmp(reason, c->rec.last_error) != 0;
		ops_mark_stopped(c->ops, c, status, reason, &n);
	}
	pthread_mutex_unlock(&c->ops->lock);
	if (news)
		ops_logf(c->ops, "%s: stopped (status %d): %s", c->rec.id, status, reason);
	ops_notify(c->ops, &n);
}

const struct vm_callbacks ops_vm_callbacks = {
	.on_started = cb_started, .on_output = cb_output, .on_log = cb_log,
	.on_error = cb_error, .on_exit = cb_exit,
	.on_proc_started = ops_exec_cb_started, .on_proc_output = ops_exec_cb_output,
	.on_proc_error = ops_exec_cb_error, .on_proc_exit = ops_exec_cb_exit,
};

/* ---- supervisor ---- */

static void dispatch_one(struct ops *ops, uint64_t serial)
{
	struct ops_note n = { 0 };

	pthread_mutex_lock(&ops->lock);
	struct ctr *c = find_serial(ops, serial);
	if (!c || !c->vm || !c->in_epoll) {
		pthread_mutex_unlock(&ops->lock);
		return;
	}
	struct vm *vm = c->vm;
	c->vm_users++;
	c->refs++;
	pthread_mutex_unlock(&ops->lock);

	int r = vm_dispatch(vm);

	pthread_mutex_lock(&ops->lock);
	c->vm_users--;
	pthread_cond_broadcast(&ops->cond);
	struct vm *gone = NULL;
	if (r != 0 && c->vm == vm && !c->busy) {
		c->reaping++; /* before the wait in ops_take_vm drops the lock */
		gone = ops_take_vm(ops, c);
		if (r < 0)
			ops_logf_locked(ops, "%s: lost the VM: %s", c->rec.id, strerror(-r));
		ops_mark_stopped(ops, c, 255, r < 0 ? "lost contact with the VM" : NULL, &n);
	} else if (r != 0 && c->in_epoll) {
		/* a busy operation owns the VM: stop watching, it cleans up */
		epoll_ctl(ops->epfd, EPOLL_CTL_DEL, vm_fd(vm), NULL);
		c->in_epoll = false;
	}
	pthread_mutex_unlock(&ops->lock);
	if (gone) {
		vm_destroy(gone, 0);
		pthread_mutex_lock(&ops->lock);
		c->reaping--;
		pthread_cond_broadcast(&ops->cond);
		pthread_mutex_unlock(&ops->lock);
	}
	ops_notify(ops, &n);
	ops_unref(ops, c);
}

void *ops_supervisor(void *arg)
{
	struct ops *ops = arg;
	struct epoll_event evs[16];

	for (;;) {
		int n = epoll_wait(ops->epfd, evs, 16, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return NULL;
		for (int i = 0; i < n; i++) {
			if (evs[i].data.u64 == 0)
				return NULL; /* ops_close */
			dispatch_one(ops, evs[i].data.u64);
		}
	}
}
