/* Frames to ocivm-init wait in a bounded queue until the socket takes them,
 * so no caller ever blocks on a guest that does not read, and no frame is
 * ever cut in half.  vm_dispatch() flushes the rest when EPOLLOUT says so. */
#include "vm_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

/* Arm or disarm EPOLLOUT to match the queue (wlock held). */
static void outq_interest(struct vm *vm)
{
	bool want = vm->outq_len > 0;
	struct epoll_event ev = { .events = EPOLLIN | (want ? EPOLLOUT : 0), .data.fd = vm->chan };

	if (want == vm->want_out || vm->epfd < 0 || vm->chan < 0)
		return;
	if (epoll_ctl(vm->epfd, EPOLL_CTL_MOD, vm->chan, &ev) == 0)
		vm->want_out = want;
}

static long outq_flush_locked(struct vm *vm)
{
	while (vm->outq_len) {
		ssize_t n = send(vm->chan, vm->outq + vm->outq_head, vm->outq_len,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			int e = errno;
			vm->chan_broken = true;
			vm->outq_len = vm->outq_head = 0;
			return -e;
		}
		vm->outq_head += (size_t)n;
		vm->outq_len -= (size_t)n;
	}
	if (!vm->outq_len)
		vm->outq_head = 0;
	outq_interest(vm);
	return (long)vm->outq_len;
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

/* Room for n more bytes after the queued ones (wlock held). */
static int outq_reserve(struct vm *vm, size_t n)
{
	if (vm->outq_head && vm->outq_head + vm->outq_len + n > vm->outq_cap) {
		memmove(vm->outq, vm->outq + vm->outq_head, vm->outq_len);
		vm->outq_head = 0;
	}
	if (vm->outq_head + vm->outq_len + n <= vm->outq_cap)
		return 0;
	size_t cap = vm->outq_cap ? vm->outq_cap : 65536;
	while (cap < vm->outq_len + n)
		cap *= 2;
	uint8_t *q = realloc(vm->outq, cap);
	if (!q)
		return -ENOMEM;
	vm->outq = q;
	vm->outq_cap = cap;
	return 0;
}

int vm_session_send(struct vm *vm, uint8_t type, const void *payload, uint32_t len,
		    struct oerr *err)
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
	size_t limit = type == CHAN_STDIN ? VM_OUTQ_STDIN_MAX : VM_OUTQ_MAX;
	if (vm->outq_len + n > limit) {
		size_t queued = vm->outq_len;
		pthread_mutex_unlock(&vm->wlock);
		return oerr_set(err, EAGAIN, "the container is not reading: %zu bytes wait for it", queued);
	}
	r = outq_reserve(vm, n);
	if (r == 0) {
		chan_hdr_encode(vm->outq + vm->outq_head + vm->outq_len, type, len);
		if (len)
			memcpy(vm->outq + vm->outq_head + vm->outq_len + CHAN_HDR_LEN, payload, len);
		vm->outq_len += n;
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
	free(vm->outq);
	vm->outq = NULL;
	vm->outq_len = vm->outq_head = vm->outq_cap = 0;
}
