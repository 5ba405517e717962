/* Frames to ocivm-init wait in bounded queues until the socket takes them,
 * so no caller ever blocks on a guest that does not read, and no frame is
 * ever cut in half.  Two queues: control frames (SPEC, START, SIGNAL,
 * RESIZE) never wait behind stdin data; a control frame goes out between
 * two whole data frames.  STDIN is also held to a window of unacknowledged
 * bytes (VM_STDIN_WINDOW) when the guest acknowledges it, so the guest
 * never has to stop reading the channel, and a kill behind megabytes of
 * unread stdin still arrives.  vm_dispatch() flushes the rest when EPOLLOUT
 * says so, or when a STDIN_ACK opens the window. */
#include "vm_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

static bool is_data(uint8_t type)
{
	return type == CHAN_STDIN || type == CHAN_STDIN_EOF;
}

static void head_frame(const struct vm_outq *q, uint8_t *type, size_t *size)
{
	struct chan_hdr h = { 0 };
	chan_hdr_decode(q->buf + q->head, &h);   /* we wrote it: valid */
	*type = h.type;
	*size = CHAN_HDR_LEN + h.len;
}

/* May the head data frame start now?  (STDIN waits for the window.) */
static bool data_may_start(const struct vm *vm)
{
	uint8_t type;
	size_t size;

	if (!vm->dataq.len)
		return false;
	if (vm->dataq.sent || !vm->stdin_window)
		return true;
	head_frame(&vm->dataq, &type, &size);
	return type != CHAN_STDIN || vm->stdin_inflight + (size - CHAN_HDR_LEN) <= VM_STDIN_WINDOW;
}

/* The queue whose frame goes next, or NULL: a half-sent frame first. */
static struct vm_outq *next_queue(struct vm *vm)
{
	if (vm->ctlq.sent)
		return &vm->ctlq;
	if (vm->dataq.sent)
		return &vm->dataq;
	if (vm->ctlq.len)
		return &vm->ctlq;
	return data_may_start(vm) ? &vm->dataq : NULL;
}

/* Arm or disarm EPOLLOUT to match what could be sent (wlock held): not
 * for data held back by the window (an ACK re-flushes), else it would spin. */
static void outq_interest(struct vm *vm)
{
	bool want = next_queue(vm) != NULL;
	struct epoll_event ev = { .events = EPOLLIN | (want ? EPOLLOUT : 0), .data.fd = vm->chan };

	if (want == vm->want_out || vm->epfd < 0 || vm->chan < 0)
		return;
	if (epoll_ctl(vm->epfd, EPOLL_CTL_MOD, vm->chan, &ev) == 0)
		vm->want_out = want;
}

static void outq_clear(struct vm_outq *q)
{
	q->head = q->len = q->sent = 0;
}

void vm_outq_reset(struct vm *vm)
{
	outq_clear(&vm->ctlq);
	outq_clear(&vm->dataq);
	vm->stdin_inflight = 0;
}

/* Send the rest of q's head frame, as far as the socket takes it. */
static int send_frame(struct vm *vm, struct vm_outq *q)
{
	uint8_t type;
	size_t size;

	head_frame(q, &type, &size);
	for (;;) {
		ssize_t n = send(vm->chan, q->buf + q->head + q->sent, size - q->sent,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		if (q->sent == 0 && type == CHAN_STDIN)
			vm->stdin_inflight += size - CHAN_HDR_LEN;
		q->sent += (size_t)n;
		if (q->sent < size)
			continue;
		q->head += size;
		q->len -= size;
		q->sent = 0;
		if (!q->len)
			q->head = 0;
		return 0;
	}
}

static long outq_flush_locked(struct vm *vm)
{
	struct vm_outq *q;

	while ((q = next_queue(vm))) {
		int r = send_frame(vm, q);
		if (r == -EAGAIN)
			break;
		if (r < 0) {
			vm->chan_broken = true;
			vm_outq_reset(vm);
			return r;
		}
	}
	outq_interest(vm);
	return (long)(vm->ctlq.len + vm->dataq.len);
}

long vm_outq_flush(struct vm *vm)
{
	long r = 0;
	pthread_mutex_lock(&vm->wlock);
	if (vm->chan >= 0 && !vm->chan_broken)
		r = outq_flush_locked(vm);
	pthread_mutex_unlock(&vm->wlock);
	return r;
}

void vm_outq_ack(struct vm *vm, uint32_t bytes)
{
	pthread_mutex_lock(&vm->wlock);
	vm->stdin_window = true;   /* also after a re-attach: the guest acknowledges */
	vm->stdin_inflight = bytes < vm->stdin_inflight ? vm->stdin_inflight - bytes : 0;
	pthread_mutex_unlock(&vm->wlock);
}

size_t vm_outq_stdin_queued(struct vm *vm)
{
	pthread_mutex_lock(&vm->wlock);
	size_t n = vm->dataq.len;
	pthread_mutex_unlock(&vm->wlock);
	return n;
}

/* Room for n more bytes after the queued ones (wlock held). */
static int outq_reserve(struct vm_outq *q, size_t n)
{
	if (q->head && q->head + q->len + n > q->cap) {
		memmove(q->buf, q->buf + q->head, q->len);
		q->head = 0;
	}
	if (q->head + q->len + n <= q->cap)
		return 0;
	size_t cap = q->cap ? q->cap : 65536;
	while (cap < q->len + n)
		cap *= 2;
	uint8_t *b = realloc(q->buf, cap);
	if (!b)
		return -ENOMEM;
	q->buf = b;
	q->cap = cap;
	return 0;
}

int vm_session_send(struct vm *vm, uint8_t type, const void *payload, uint32_t len,
		    struct oerr *err)
{
	return vm_session_send_proc(vm, type, 0, payload, len, err);
}

int vm_session_send_proc(struct vm *vm, uint8_t type, uint8_t proc, const void *payload,
			 uint32_t len, struct oerr *err)
{
	size_t n = CHAN_HDR_LEN + len;
	long r;

	if (len > CHAN_MAX_PAYLOAD)
		return oerr_set(err, EMSGSIZE, "frame of %u bytes is too large", len);
	pthread_mutex_lock(&vm->wlock);
	if (vm->chan < 0 || vm->chan_broken) {
		pthread_mutex_unlock(&vm->wlock);
		return oerr_set(err, EPIPE, "the channel to ocivm-init is closed");
	}
	struct vm_outq *q = is_data(type) ? &vm->dataq : &vm->ctlq;
	size_t limit = is_data(type) ? VM_OUTQ_STDIN_MAX : VM_OUTQ_CTL_MAX;
	if (q->len + n > limit) {
		size_t queued = q->len;
		pthread_mutex_unlock(&vm->wlock);
		return is_data(type) ? oerr_set(err, EAGAIN, "the container is not reading: %zu bytes wait for it", queued)
				     : oerr_set(err, EAGAIN, "ocivm-init is not reading: %zu bytes of requests wait", queued);
	}
	r = outq_reserve(q, n);
	if (r == 0) {
		chan_hdr_encode_proc(q->buf + q->head + q->len, type, proc, len);
		if (len)
			memcpy(q->buf + q->head + q->len + CHAN_HDR_LEN, payload, len);
		q->len += n;
		r = outq_flush_locked(vm);
	}
	pthread_mutex_unlock(&vm->wlock);
	if (r == -ENOMEM)
		return oerr_set(err, ENOMEM, "out of memory");
	if (r < 0)
		return oerr_sys(err, (int)-r, "sending %s to ocivm-init", chan_type_name(type));
	return 0;
}

void vm_outq_free(struct vm *vm)
{
	free(vm->ctlq.buf);
	free(vm->dataq.buf);
	memset(&vm->ctlq, 0, sizeof(vm->ctlq));
	memset(&vm->dataq, 0, sizeof(vm->dataq));
}
