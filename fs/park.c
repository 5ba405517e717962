/* fs/park: reads that wait (events, wait, stdout/stderr/console at EOF).
 * A read that cannot be answered is parked — no FUSE worker thread waits —
 * and answered from fsd_kick(), which the ops listener calls on every state
 * change and output.  A wake sequence number closes the window between
 * "nothing to read" and "parked"; interrupts (Ctrl-C) answer EINTR. */
#include "fsd.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"

struct park {
	struct park *next;
	fuse_req_t req;
	struct fh *fh;
	size_t size;
	off_t off;
};

/* Set while this thread registers an interrupt callback: libfuse calls it
 * at once, under the request's lock, if the request is already interrupted;
 * the reply must then wait until registration returns. */
static __thread bool tl_registering, tl_interrupted;

static int try_events(struct fsd *fs, fuse_req_t req, struct fh *fh, size_t size)
{
	_cleanup_free_ char *out = malloc(size ? size : 1);
	size_t len;

	if (!out) {
		fuse_reply_err(req, ENOMEM);
		return 1;
	}
	pthread_mutex_lock(&fs->lock);
	len = fsd_events_copy_locked(fs, &fh->ev_next, out, size);
	pthread_mutex_unlock(&fs->lock);
	if (len == 0)
		return 0;
	fuse_reply_buf(req, out, len);
	return 1;
}

/* The container's, or for a node under ID/exec/NAME/ that process's, end:
 * 0 and whether it stopped (with its status when known), or -errno. */
struct fh_end { bool stopped, exited; int status; };

static int fh_end(struct fsd *fs, const struct fh *fh, struct fh_end *ret)
{
	struct ops_info info;
	struct ops_exec_info ei;
	int r;

	if (fh->node.exec) {
		r = ops_exec_get(fs->ops, fh->id, NULL, (unsigned)fh->node.exec, &ei, NULL);
		*ret = (struct fh_end){ ei.status == OPS_STOPPED, ei.exited, ei.exit_status };
		return r;
	}
	r = ops_get(fs->ops, fh->id, &info, NULL);
	*ret = (struct fh_end){ info.status == OPS_STOPPED, info.exited, info.exit_status };
	return r;
}

static int try_wait(struct fsd *fs, fuse_req_t req, struct fh *fh, size_t size, off_t off)
{
	struct fh_end end;
	char text[32];
	int r = fh_end(fs, fh, &end);

	if (r < 0) {
		fuse_reply_err(req, -r);
		return 1;
	}
	if (!end.stopped)
		return 0;
	int n = end.exited ? snprintf(text, sizeof(text), "%d\n", end.status)
			   : snprintf(text, sizeof(text), "unknown\n");
	if (off >= n)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, text + off, size < (size_t)(n - off) ? size : (size_t)(n - off));
	return 1;
}

static int try_stream(struct fsd *fs, fuse_req_t req, struct fh *fh, size_t size, off_t off)
{
	struct fh_end end;
	ssize_t n = 0;

	if (fh->fd < 0)
		fsd_stream_open(fs, fh);
	_cleanup_free_ char *buf = malloc(size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return 1;
	}
	if (fh->fd >= 0) {
		n = pread(fh->fd, buf, size, off);
		if (n < 0) {
			fuse_reply_err(req, errno);
			return 1;
		}
	}
	if (n == 0 && size > 0 && fh_end(fs, fh, &end) == 0 && !end.stopped)
		return 0;
	fh->ev_next = (uint64_t)off + (uint64_t)n;
	fuse_reply_buf(req, buf, (size_t)n);
	return 1;
}

int fsd_try_read(struct fsd *fs, fuse_req_t req, struct fh *fh, size_t size, off_t off)
{
	switch (fh->node.kind) {
	case FK_EVENTS: return try_events(fs, req, fh, size);
	case FK_WAIT:   return try_wait(fs, req, fh, size, off);
	case FK_STREAM: return try_stream(fs, req, fh, size, off);
	default:
		fuse_reply_err(req, EINVAL);
		return 1;
	}
}

static struct park *park_take_locked(struct fsd *fs, fuse_req_t req)
{
	for (struct park **pp = &fs->parks; *pp; pp = &(*pp)->next) {
		if ((*pp)->req == req) {
			struct park *p = *pp;
			*pp = p->next;
			return p;
		}
	}
	return NULL;
}

static void park_interrupted(fuse_req_t req, void *data)
{
	struct fsd *fs = data;

	if (tl_registering) {
		tl_interrupted = true;
		return;
	}
	pthread_mutex_lock(&fs->lock);
	struct park *p = park_take_locked(fs, req);
	pthread_mutex_unlock(&fs->lock);
	if (p) {
		free(p);
		fuse_reply_err(req, EINTR);
	}
}

/* 0 parked, -EAGAIN: something changed since seq, try again. */
static int park(struct fsd *fs, fuse_req_t req, struct fh *fh, size_t size, off_t off,
		uint64_t seq)
{
	struct park *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	*p = (struct park){ .req = req, .fh = fh, .size = size, .off = off };
	tl_registering = true;
	tl_interrupted = false;
	fuse_req_interrupt_func(req, park_interrupted, fs);
	tl_registering = false;
	if (tl_interrupted) {
		free(p);
		return -EINTR;
	}
	pthread_mutex_lock(&fs->lock);
	if (fs->wake_seq != seq) {
		pthread_mutex_unlock(&fs->lock);
		free(p);
		return -EAGAIN;
	}
	/* An INTERRUPT that came between the registration above and here found
	 * no park and did nothing; libfuse sends it once, and the kernel waits
	 * for the reply even on SIGKILL.  Checked under fs->lock: a later one
	 * runs park_interrupted after we link, and finds the park. */
	if (fuse_req_interrupted(req)) {
		pthread_mutex_unlock(&fs->lock);
		free(p);
		return -EINTR;
	}
	p->next = fs->parks;
	fs->parks = p;
	pthread_mutex_unlock(&fs->lock);
	return 0;
}

void fsd_read_blocking(struct fsd *fs, fuse_req_t req, struct fh *fh, size_t size,
		       off_t off, bool nonblock)
{
	for (;;) {
		pthread_mutex_lock(&fs->lock);
		uint64_t seq = fs->wake_seq;
		pthread_mutex_unlock(&fs->lock);
		if (fsd_try_read(fs, req, fh, size, off))
			return;
		if (nonblock) {
			fuse_reply_err(req, EAGAIN);
			return;
		}
		int r = park(fs, req, fh, size, off, seq);
		if (r == 0)
			return;
		if (r != -EAGAIN) {
			fuse_reply_err(req, -r);
			return;
		}
	}
}

static bool fh_matches(const struct fh *fh, const char *id, bool events)
{
	if (fh->node.kind == FK_EVENTS)
		return events;
	return id && strcmp(fh->id, id) == 0;
}

/* Poll handles are taken (under the lock) in batches and notified outside
 * it; a poller that polls again registers a new handle. */
static void notify_pollers(struct fsd *fs, const char *id, bool events)
{
	struct fuse_pollhandle *phs[64];
	size_t n;

	do {
		n = 0;
		pthread_mutex_lock(&fs->lock);
		for (struct fh *w = fs->waiters; w && n < ARRAY_SIZE(phs); w = w->wnext)
			if (w->ph && fh_matches(w, id, events))
				phs[n++] = TAKE_PTR(w->ph);
		pthread_mutex_unlock(&fs->lock);
		for (size_t i = 0; i < n; i++) {
			fuse_lowlevel_notify_poll(phs[i]);
			fuse_pollhandle_destroy(phs[i]);
		}
	} while (n == ARRAY_SIZE(phs));
}

/* Something happened to id (NULL: nothing container-specific); events:
 * a line was added to MOUNT/events.  Answers the parked reads it concerns
 * and notifies pollers.  Called with no fs lock held. */
void fsd_kick(struct fsd *fs, const char *id, bool events)
{
	struct park *mine = NULL;

	pthread_mutex_lock(&fs->lock);
	fs->wake_seq++;
	for (struct park **pp = &fs->parks; *pp;) {
		struct park *p = *pp;
		if (fh_matches(p->fh, id, events)) {
			*pp = p->next;
			p->next = mine;
			mine = p;
		} else {
			pp = &p->next;
		}
	}
	pthread_mutex_unlock(&fs->lock);

	while (mine) {
		struct park *p = mine;
		mine = p->next;
		fsd_read_blocking(fs, p->req, p->fh, p->size, p->off, false);
		free(p);
	}
	notify_pollers(fs, id, events);
}

void fsd_waiter_add(struct fsd *fs, struct fh *fh)
{
	pthread_mutex_lock(&fs->lock);
	fh->wprev = NULL;
	fh->wnext = fs->waiters;
	if (fs->waiters)
		fs->waiters->wprev = fh;
	fs->waiters = fh;
	fh->waiter = true;
	pthread_mutex_unlock(&fs->lock);
}

void fsd_waiter_del(struct fsd *fs, struct fh *fh)
{
	struct fuse_pollhandle *ph;

	if (!fh->waiter)
		return;
	pthread_mutex_lock(&fs->lock);
	if (fh->wprev)
		fh->wprev->wnext = fh->wnext;
	else
		fs->waiters = fh->wnext;
	if (fh->wnext)
		fh->wnext->wprev = fh->wprev;
	ph = TAKE_PTR(fh->ph);
	fh->waiter = false;
	pthread_mutex_unlock(&fs->lock);
	if (ph)
		fuse_pollhandle_destroy(ph);
}

static bool fh_ready(struct fsd *fs, struct fh *fh)
{
	struct fh_end end;
	struct stat st;

	if (fh->node.kind == FK_EVENTS) {
		pthread_mutex_lock(&fs->lock);
		bool r = fh->ev_next < fs->ev_n;
		pthread_mutex_unlock(&fs->lock);
		return r;
	}
	if (fh_end(fs, fh, &end) < 0 || end.stopped)
		return true;
	if (fh->node.kind == FK_STREAM) {
		if (fh->fd < 0)
			fsd_stream_open(fs, fh);
		return fh->fd >= 0 && fstat(fh->fd, &st) == 0 &&
		       (uint64_t)st.st_size > fh->ev_next;
	}
	return false;
}

void fsd_poll(struct fsd *fs, fuse_req_t req, struct fh *fh, struct fuse_pollhandle *ph)
{
	struct fuse_pollhandle *old = NULL;

	if (ph) {
		pthread_mutex_lock(&fs->lock);
		old = fh->ph;
		fh->ph = ph;
		pthread_mutex_unlock(&fs->lock);
		if (old)
			fuse_pollhandle_destroy(old);
	}
	fuse_reply_poll(req, fh_ready(fs, fh) ? POLLIN | POLLRDNORM : 0);
}

/* At unmount: parked readers get EINTR. */
void fsd_parks_drop(struct fsd *fs)
{
	pthread_mutex_lock(&fs->lock);
	struct park *p = TAKE_PTR(fs->parks);
	pthread_mutex_unlock(&fs->lock);
	while (p) {
		struct park *next = p->next;
		fuse_reply_err(p->req, EINTR);
		free(p);
		p = next;
	}
}

#define TICK_MS 200
#define TICK_IDS 64

/* Ids with a reader of console open (readers and pollers), at most n. */
static size_t console_ids_locked(struct fsd *fs, char (*ids)[FS_ID_MAX], size_t n)
{
	size_t k = 0;

	for (struct fh *w = fs->waiters; w && k < n; w = w->wnext) {
		if (w->node.kind != FK_STREAM || w->node.sub != OPS_STREAM_CONSOLE)
			continue;
		size_t i = 0;
		while (i < k && strcmp(ids[i], w->id) != 0)
			i++;
		if (i == k)
			snprintf(ids[k++], FS_ID_MAX, "%s", w->id);
	}
	return k;
}

static void *ticker_run(void *arg)
{
	struct fsd *fs = arg;
	static char ids[TICK_IDS][FS_ID_MAX];   /* one ticker per daemon */
	struct timespec dl;

	pthread_mutex_lock(&fs->lock);
	while (!fs->ticker_stop) {
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_nsec += TICK_MS * 1000000L;
		if (dl.tv_nsec >= 1000000000L) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&fs->ticker_cond, &fs->lock, &dl);
		if (fs->ticker_stop)
			break;
		size_t n = console_ids_locked(fs, ids, TICK_IDS);
		pthread_mutex_unlock(&fs->lock);
		for (size_t i = 0; i < n; i++)
			fsd_kick(fs, ids[i], false);
		pthread_mutex_lock(&fs->lock);
	}
	pthread_mutex_unlock(&fs->lock);
	return NULL;
}

int fsd_ticker_start(struct fsd *fs)
{
	pthread_cond_init(&fs->ticker_cond, NULL);
	fs->ticker_stop = false;
	if (pthread_create(&fs->ticker, NULL, ticker_run, fs) != 0)
		return -EAGAIN;
	fs->ticker_on = true;
	return 0;
}

void fsd_ticker_stop(struct fsd *fs)
{
	if (!fs->ticker_on)
		return;
	pthread_mutex_lock(&fs->lock);
	fs->ticker_stop = true;
	pthread_cond_signal(&fs->ticker_cond);
	pthread_mutex_unlock(&fs->lock);
	pthread_join(fs->ticker, NULL);
	fs->ticker_on = false;
}
