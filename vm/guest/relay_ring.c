/* Protocol 3 (common/chan.h): the container's output is kept until the host
 * acknowledges it, and sent again from the host's counts after RESUME. */
#include "relay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint64_t ring_held(const struct relay_ring *g)
{
	return g->total - g->acked;
}

size_t relay_ring_room(const struct relay *r, int s)
{
	const struct relay_ring *g = &r->ring[s];

	if (!r->acking || ring_held(g) + CHAN_MAX_PAYLOAD <= CHAN_OUT_WINDOW)
		return CHAN_MAX_PAYLOAD;
	return ring_held(g) < CHAN_OUT_WINDOW ? (size_t)(CHAN_OUT_WINDOW - ring_held(g)) : 0;
}

/* Copy n bytes of stream position `at` out of / into the ring (wraps). */
static void ring_copy(struct relay_ring *g, uint64_t at, uint8_t *p, size_t n, int in)
{
	while (n) {
		size_t pos = (size_t)(at % g->cap), k = g->cap - pos < n ? g->cap - pos : n;
		if (in)
			memcpy(g->buf + pos, p, k);
		else
			memcpy(p, g->buf + pos, k);
		at += k;
		p += k;
		n -= k;
	}
}

int relay_ring_put(struct relay *r, int s, const uint8_t *p, size_t n)
{
	struct relay_ring *g = &r->ring[s];

	if (!g->buf) {
		g->buf = malloc(CHAN_OUT_WINDOW);
		if (!g->buf)
			return -ENOMEM;
		g->cap = CHAN_OUT_WINDOW;
	}
	if (n > g->cap) {   /* only without acknowledgements: keep the tail */
		p += n - g->cap;
		g->total += n - g->cap;
		n = g->cap;
	}
	if (ring_held(g) + n > g->cap)
		g->acked = g->total + n - g->cap;   /* a host that does not acknowledge */
	ring_copy(g, g->total, (uint8_t *)p, n, 1);
	g->total += n;
	return 0;
}

void relay_ring_free(struct relay *r)
{
	for (int s = 1; s <= 2; s++) {
		free(r->ring[s].buf);
		r->ring[s] = (struct relay_ring){ 0 };
	}
}

void relay_outq_sent(struct relay *r, size_t n)
{
	struct chan_hdr h;

	r->outq_off += n;
	while (r->outq_frm + CHAN_HDR_LEN <= r->outq_off &&
	       chan_hdr_decode(r->outq + r->outq_frm, &h) == 0 &&
	       r->outq_frm + CHAN_HDR_LEN + h.len <= r->outq_off)
		r->outq_frm += CHAN_HDR_LEN + h.len;
}

/* A new acknowledged count for stream s: never backwards, never past what
 * was framed. */
static void ring_ack(struct relay_ring *g, uint64_t v)
{
	if (v > g->total)
		v = g->total;
	if (v > g->acked)
		g->acked = v;
}

int relay_on_out_ack(struct relay *r, const uint8_t *p, uint32_t len)
{
	if (len != 16 && len != 20)
		return relay_queue(r, CHAN_LOG, "OUT_ACK: bad payload", 20);
	r->acking = 1;
	ring_ack(&r->ring[1], chan_get_u64(p));
	ring_ack(&r->ring[2], chan_get_u64(p + 8));
	if (len == 20 && (relay_get_u32(p + 16) & CHAN_ACK_EXITED) && r->reported)
		r->exit_acked = 1;
	return 0;
}

/* Append one frame to q (sized by the caller). */
static size_t put_frame(uint8_t *q, uint8_t type, uint8_t proc, const void *p, uint32_t len)
{
	chan_hdr_encode_proc(q, type, proc, len);
	if (len)
		memcpy(q + CHAN_HDR_LEN, p, len);
	return CHAN_HDR_LEN + len;
}

/* The frames of the old queue from outq_frm on (the one being written
 * too: the host drops everything before RESUMED) that RESUME does not
 * replace: all but the container's STDOUT, STDERR and EXITED. */
static size_t keep_frames(const struct relay *r, uint8_t *q)
{
	size_t n = 0;
	struct chan_hdr h;

	for (size_t at = r->outq_frm; at + CHAN_HDR_LEN <= r->outq_len; at += CHAN_HDR_LEN + h.len) {
		if (chan_hdr_decode(r->outq + at, &h) < 0)
			break;   /* cannot happen: the queue holds our own frames */
		int mine = h.stream == 0 && (h.type == CHAN_STDOUT || h.type == CHAN_STDERR ||
					     h.type == CHAN_EXITED);
		if (!mine) {
			if (q)
				memcpy(q + n, r->outq + at, CHAN_HDR_LEN + h.len);
			n += CHAN_HDR_LEN + h.len;
		}
	}
	return n;
}

/* RESUME <nonce> <stdout> <stderr>: a host re-attached.  The queue becomes
 * RESUMED, the frames kept, each stream from the host's count (or from the
 * oldest byte still held: the host then sees the gap), EXITED again. */
int relay_on_resume(struct relay *r, const uint8_t *p, uint32_t len)
{
	uint8_t b[CHAN_RESUME_LEN];
	uint64_t from[3];
	size_t need = CHAN_HDR_LEN + CHAN_RESUME_LEN + keep_frames(r, NULL) + CHAN_HDR_LEN + 8;

	if (len != CHAN_RESUME_LEN)
		return relay_queue(r, CHAN_LOG, "RESUME: bad payload", 19);
	memcpy(b, p, 8);   /* the nonce, echoed */
	for (int s = 1; s <= 2; s++) {
		struct relay_ring *g = &r->ring[s];
		uint64_t want = chan_get_u64(p + 8 * s);
		from[s] = want < g->acked ? g->acked : want > g->total ? g->total : want;
		g->acked = from[s];
		chan_put_u64(b + 8 * s, from[s]);
		uint64_t n = g->total - from[s];
		need += (size_t)n + CHAN_HDR_LEN * (size_t)(n / CHAN_MAX_PAYLOAD + 1);
	}
	uint8_t *q = malloc(need);
	if (!q)
		return -ENOMEM;
	size_t n = put_frame(q, CHAN_RESUMED, 0, b, CHAN_RESUME_LEN);
	n += keep_frames(r, q + n);
	for (int s = 1; s <= 2; s++) {
		struct relay_ring *g = &r->ring[s];
		for (uint64_t at = from[s]; at < g->total;) {
			uint32_t k = g->total - at > CHAN_MAX_PAYLOAD ? CHAN_MAX_PAYLOAD
								     : (uint32_t)(g->total - at);
			chan_hdr_encode_proc(q + n, s == 1 ? CHAN_STDOUT : CHAN_STDERR, 0, k);
			ring_copy(g, at, q + n + CHAN_HDR_LEN, k, 0);
			n += CHAN_HDR_LEN + k;
			at += k;
		}
	}
	if (r->reported) {
		relay_put_u32(b, r->exit_kind);
		relay_put_u32(b + 4, r->exit_value);
		n += put_frame(q + n, CHAN_EXITED, 0, b, 8);
	}
	free(r->outq);
	r->outq = q;
	r->outq_cap = need;
	r->outq_len = n;
	r->outq_off = r->outq_frm = 0;
	r->acking = 1;
	r->exit_acked = 0;
	return 0;
}
