/* Host <-> ocivm-init channel framing (see chan.h).  Self-contained: the
 * static guest init links this file alone, so it uses nothing else from
 * common/. */
#include "chan.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

static const char *const chan_names[CHAN_TYPE_MAX + 1] = {
	[CHAN_HELLO] = "HELLO",     [CHAN_SPEC] = "SPEC",
	[CHAN_READY] = "READY",     [CHAN_START] = "START",
	[CHAN_STARTED] = "STARTED", [CHAN_SIGNAL] = "SIGNAL",
	[CHAN_STDIN] = "STDIN",     [CHAN_STDIN_EOF] = "STDIN_EOF",
	[CHAN_STDOUT] = "STDOUT",   [CHAN_STDERR] = "STDERR",
	[CHAN_EXITED] = "EXITED",   [CHAN_ERROR] = "ERROR",
	[CHAN_LOG] = "LOG",         [CHAN_RESIZE] = "RESIZE",
	[CHAN_STDIN_ACK] = "STDIN_ACK", [CHAN_EXEC] = "EXEC",
	[CHAN_OUT_ACK] = "OUT_ACK", [CHAN_RESUME] = "RESUME",
	[CHAN_RESUMED] = "RESUMED",
};

void chan_put_u64(uint8_t *b, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

uint64_t chan_get_u64(const uint8_t *b)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

const char *chan_type_name(int type)
{
	if (type < 1 || type > CHAN_TYPE_MAX || !chan_names[type])
		return "UNKNOWN";
	return chan_names[type];
}

void chan_hdr_encode(uint8_t out[CHAN_HDR_LEN], uint8_t type, uint32_t len)
{
	chan_hdr_encode_proc(out, type, 0, len);
}

void chan_hdr_encode_proc(uint8_t out[CHAN_HDR_LEN], uint8_t type, uint8_t proc, uint32_t len)
{
	out[0] = CHAN_MAGIC & 0xff;
	out[1] = CHAN_MAGIC >> 8;
	out[2] = type;
	out[3] = proc;
	out[4] = len & 0xff;
	out[5] = (len >> 8) & 0xff;
	out[6] = (len >> 16) & 0xff;
	out[7] = (len >> 24) & 0xff;
}

int chan_hdr_decode(const uint8_t in[CHAN_HDR_LEN], struct chan_hdr *ret)
{
	uint16_t magic = (uint16_t)(in[0] | (in[1] << 8));
	uint32_t len = (uint32_t)in[4] | ((uint32_t)in[5] << 8) |
		       ((uint32_t)in[6] << 16) | ((uint32_t)in[7] << 24);

	if (magic != CHAN_MAGIC || in[2] < 1 || in[2] > CHAN_TYPE_MAX ||
	    len > CHAN_MAX_PAYLOAD)
		return -EPROTO;
	ret->magic = magic;
	ret->type = in[2];
	ret->stream = in[3];
	ret->len = len;
	return 0;
}

void chan_reader_init(struct chan_reader *r) { r->have = 0; }

/* The first k (<= 8) bytes of h could begin a valid header. */
static int chan_hdr_plausible(const uint8_t *h, size_t k)
{
	struct chan_hdr x;

	if (k >= 1 && h[0] != (CHAN_MAGIC & 0xff))
		return 0;
	if (k >= 2 && h[1] != CHAN_MAGIC >> 8)
		return 0;
	if (k >= 3 && (h[2] < 1 || h[2] > CHAN_TYPE_MAX))
		return 0;
	return k < CHAN_HDR_LEN || chan_hdr_decode(h, &x) == 0;
}

size_t chan_sync_skip(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t k = n - i;
		if (chan_hdr_plausible(p + i, k < CHAN_HDR_LEN ? k : CHAN_HDR_LEN))
			return i;
	}
	return n;
}

/* Bytes still missing from the frame being assembled; 0 when it is
 * complete or its header is malformed (chan_reader_next reports that). */
static size_t chan_reader_need(const struct chan_reader *r)
{
	struct chan_hdr h;

	if (r->have < CHAN_HDR_LEN)
		return CHAN_HDR_LEN - r->have;
	if (chan_hdr_decode(r->buf, &h) < 0)
		return 0;
	return CHAN_HDR_LEN + h.len - r->have;
}

size_t chan_reader_feed(struct chan_reader *r, const void *data, size_t n)
{
	size_t taken = 0;

	while (taken < n) {
		size_t need = chan_reader_need(r);
		size_t k = n - taken < need ? n - taken : need;
		if (k == 0)
			break;
		memcpy(r->buf + r->have, (const uint8_t *)data + taken, k);
		r->have += k;
		taken += k;
	}
	return taken;
}

/* A returned frame stays in buf until the next feed; `have` drops to 0 at
 * once so the next feed starts a new frame over it. */
int chan_reader_next(struct chan_reader *r, uint8_t *ret_type,
		     const uint8_t **ret_payload, uint32_t *ret_len)
{
	struct chan_hdr h;

	if (r->have < CHAN_HDR_LEN)
		return 0;
	if (chan_hdr_decode(r->buf, &h) < 0)
		return -EPROTO;
	if (r->have < CHAN_HDR_LEN + h.len)
		return 0;
	r->have = 0;
	*ret_type = h.type;
	*ret_payload = r->buf + CHAN_HDR_LEN;
	*ret_len = h.len;
	return 1;
}

uint8_t chan_reader_proc(const struct chan_reader *r) { return r->buf[3]; }

/* Wait until fd is writable (for fds left in O_NONBLOCK by an event loop). */
static int chan_wait_out(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	for (;;) {
		int r = poll(&p, 1, -1);
		if (r >= 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

int chan_send(int fd, uint8_t type, const void *payload, uint32_t len)
{
	return chan_send_proc(fd, type, 0, payload, len);
}

int chan_send_proc(int fd, uint8_t type, uint8_t proc, const void *payload, uint32_t len)
{
	uint8_t hdr[CHAN_HDR_LEN];
	struct iovec iov[2] = {
		{ .iov_base = hdr, .iov_len = CHAN_HDR_LEN },
		{ .iov_base = (void *)payload, .iov_len = payload ? len : 0 },
	};
	struct iovec *v = iov;
	int nv = 2;

	if (len > CHAN_MAX_PAYLOAD || (len && !payload))
		return -EINVAL;
	chan_hdr_encode_proc(hdr, type, proc, len);
	while (nv > 0) {
		ssize_t n = writev(fd, v, nv);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				int r = chan_wait_out(fd);
				if (r < 0)
					return r;
				continue;
			}
			return -errno;
		}
		while (nv > 0 && (size_t)n >= v->iov_len) {
			n -= (ssize_t)v->iov_len;
			v++;
			nv--;
		}
		if (nv > 0) {
			v->iov_base = (uint8_t *)v->iov_base + n;
			v->iov_len -= (size_t)n;
		}
	}
	return 0;
}

static int chan_read_exact(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd pf = { .fd = fd, .events = POLLIN };
				if (poll(&pf, 1, -1) < 0 && errno != EINTR)
					return -errno;
				continue;
			}
			return -errno;
		}
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int chan_recv(int fd, uint8_t *ret_type, void *buf, size_t cap, uint32_t *ret_len)
{
	uint8_t hdr[CHAN_HDR_LEN];
	struct chan_hdr h;
	int r;

	r = chan_read_exact(fd, hdr, sizeof(hdr));
	if (r < 0)
		return r;
	r = chan_hdr_decode(hdr, &h);
	if (r < 0)
		return r;
	if (h.len > cap)
		return -EMSGSIZE;
	r = chan_read_exact(fd, buf, h.len);
	if (r < 0)
		return r;
	*ret_type = h.type;
	*ret_len = h.len;
	return 0;
}
