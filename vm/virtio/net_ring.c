/* virtio-net ring logic.  See net_ring.h. */
#include "vm/virtio/net_ring.h"

#include <errno.h>
#include <string.h>

#define F(bit) (1ull << (bit))

static bool has(uint64_t features, int bit)
{
	return features & F(bit);
}

/* The offloads a TX header may ask for, given the features. */
static int tx_hdr_check(const uint8_t *h, uint64_t f)
{
	uint8_t flags = h[0], gso = h[1];

	if ((flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && !has(f, VIRTIO_NET_F_CSUM))
		return -EINVAL;
	switch (gso) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return 0;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		return has(f, VIRTIO_NET_F_HOST_TSO4) ? 0 : -EINVAL;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		return has(f, VIRTIO_NET_F_HOST_TSO6) ? 0 : -EINVAL;
	default:   /* UDP, ECN, USO: not offered */
		return -EINVAL;
	}
}

int net_tx_iov(const struct virtq_chain *c, uint64_t features, struct iovec *iov,
	       int *ret_n)
{
	uint8_t h[NET_HDR_LEN];

	if (c->n_read != c->n || c->read_len < NET_HDR_LEN ||
	    c->read_len > NET_HDR_LEN + NET_FRAME_MAX)
		return -EINVAL;
	if (c->seg[0].len >= NET_HDR_LEN)
		memcpy(h, c->seg[0].p, NET_HDR_LEN);   /* one read: the guest may change it */
	else
		virtq_chain_read(c, 0, h, NET_HDR_LEN);
	if (tx_hdr_check(h, features) < 0)
		return -EINVAL;
	for (unsigned i = 0; i < c->n; i++)
		iov[i] = (struct iovec){ c->seg[i].p, c->seg[i].len };
	*ret_n = (int)c->n;
	return 0;
}

void net_rx_init(struct net_rx *r, struct virtq *q, uint64_t features, uint8_t *bounce)
{
	r->q = q;
	r->features = features;
	r->mrg = has(features, VIRTIO_NET_F_MRG_RXBUF);
	r->bounce = bounce;
	net_rx_reset(r);
}

void net_rx_reset(struct net_rx *r)
{
	r->have = r->holding = false;
	r->nused = 0;
	r->held_len = r->held_off = 0;
}

/* The writable byte at offset off of a chain (its header is <= 12 bytes in). */
static uint8_t *wbyte(const struct virtq_chain *c, size_t off)
{
	for (unsigned i = c->n_read; i < c->n; i++) {
		if (off < c->seg[i].len)
			return c->seg[i].p + off;
		off -= c->seg[i].len;
	}
	return NULL;
}

/* A chain the driver got wrong (readable parts, too small): back, unused. */
static void give_back(struct net_rx *r, uint16_t head)
{
	virtq_push(r->q, head, 0);
	r->bad_chains++;
}

int net_rx_prepare(struct net_rx *r, const struct iovec **ret_iov, int *ret_n)
{
	while (!r->have) {
		struct virtq_chain *c = &r->cur;
		int p = virtq_pop(r->q, c);
		if (p <= 0)
			return p;
		if (c->n_read || c->write_len < NET_HDR_LEN) {
			give_back(r, c->head);
			continue;
		}
		for (unsigned i = 0; i < c->n; i++)
			r->iov[i] = (struct iovec){ c->seg[i].p, c->seg[i].len };
		r->iov[c->n] = (struct iovec){ r->bounce, NET_RX_BOUNCE };
		r->niov = (int)c->n + 1;
		r->cap = c->write_len > NET_RX_BOUNCE ? NET_RX_BOUNCE : (uint32_t)c->write_len;
		r->have = true;
	}
	*ret_iov = r->iov;
	*ret_n = r->niov;
	return 1;
}

/* The first chain of a packet holds its header: remember where. */
static void first_chain(struct net_rx *r, uint32_t len)
{
	static const unsigned at[4] = { 0, 1, NET_HDR_NUM_BUFFERS, NET_HDR_NUM_BUFFERS + 1 };
	for (unsigned i = 0; i < 4; i++)
		r->hdr[i] = wbyte(&r->cur, at[i]);   /* write_len >= 12: never NULL */
	r->used[0] = (struct net_rx_used){ r->cur.head, len };
	r->nused = 1;
	r->have = false;
}

/* Header fixes, then every chain of the packet to the used ring. */
static int deliver(struct net_rx *r)
{
	if (!has(r->features, VIRTIO_NET_F_GUEST_CSUM))
		*r->hdr[0] = 0;   /* flags: the kernel checksummed it (no TUN_F_CSUM) */
	if (!has(r->features, VIRTIO_NET_F_GUEST_TSO4) && !has(r->features, VIRTIO_NET_F_GUEST_TSO6))
		*r->hdr[1] = VIRTIO_NET_HDR_GSO_NONE;
	*r->hdr[2] = (uint8_t)r->nused;
	*r->hdr[3] = (uint8_t)(r->nused >> 8);
	for (unsigned i = 0; i < r->nused; i++)
		virtq_push(r->q, r->used[i].head, r->used[i].len);
	r->nused = 0;
	r->holding = false;
	return 1;
}

int net_rx_complete(struct net_rx *r, size_t n)
{
	if (!r->have || n < NET_HDR_LEN)
		return 0;
	if (n <= r->cap) {
		first_chain(r, (uint32_t)n);
		return deliver(r);
	}
	if (!r->mrg || n > (size_t)r->cap + NET_RX_BOUNCE)
		return 0;   /* does not fit one chain: dropped, the chain stays ours */
	first_chain(r, r->cap);
	r->holding = true;
	r->held_len = (uint32_t)(n - r->cap);
	r->held_off = 0;
	return net_rx_continue(r);
}

/* Copy bounce bytes into a chain's writable segments; returns bytes copied. */
static uint32_t fill(const struct virtq_chain *c, const uint8_t *src, uint32_t len)
{
	uint32_t done = 0;
	for (unsigned i = 0; i < c->n && done < len; i++) {
		uint32_t k = c->seg[i].len < len - done ? c->seg[i].len : len - done;
		memcpy(c->seg[i].p, src + done, k);
		done += k;
	}
	return done;
}

/* The ring cannot take the packet: its chains go back empty. */
static int drop_held(struct net_rx *r)
{
	for (unsigned i = 0; i < r->nused; i++)
		virtq_push(r->q, r->used[i].head, 0);
	r->nused = 0;
	r->holding = false;
	return 0;
}

int net_rx_continue(struct net_rx *r)
{
	while (r->holding && r->held_off < r->held_len) {
		if (r->nused >= r->q->num || r->nused >= VIRTQ_MAX_SIZE)
			return drop_held(r);
		struct virtq_chain *c = &r->cur;
		int p = virtq_pop(r->q, c);
		if (p < 0)
			return -EIO;
		if (p == 0)
			return 2;
		if (c->n_read || c->write_len == 0) {
			give_back(r, c->head);
			continue;
		}
		uint32_t k = fill(c, r->bounce + r->held_off, r->held_len - r->held_off);
		r->used[r->nused++] = (struct net_rx_used){ c->head, k };
		r->held_off += k;
	}
	return r->holding ? deliver(r) : 0;
}
