/* libFuzzer target: a hostile guest's virtio-net rings.  The input is guest
 * RAM (a TX ring at 0x0, an RX ring at 0x400, data) plus knobs: the
 * negotiated features and the lengths of the frames the "tap" delivers.
 * Every TX chain is checked and its iovecs read as writev would; every RX
 * frame is scattered into the iovecs net_rx_prepare gives (as readv would)
 * and completed / continued, so ASan sees any escape from guest memory or
 * the bounce buffer.  Build: make fuzz; run: see vm/virtio/README.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vm/virtio/net_ring.h"

#define RAM 16384u
#define NUM 16u
#define KNOBS 8u

static size_t scatter(const struct iovec *iov, int n, size_t len)
{
	size_t done = 0;
	for (int i = 0; i < n && done < len; i++) {
		size_t k = iov[i].iov_len < len - done ? iov[i].iov_len : len - done;
		memset(iov[i].iov_base, 0x5a, k);
		done += k;
	}
	return done;
}

static uint64_t features(uint8_t k)
{
	static const int bits[8] = { VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX,
		VIRTIO_NET_F_MRG_RXBUF, VIRTIO_NET_F_CSUM, VIRTIO_NET_F_GUEST_CSUM,
		VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO6, VIRTIO_NET_F_GUEST_TSO4 };
	uint64_t f = 1ull << VIRTIO_F_VERSION_1;
	for (int i = 0; i < 8; i++)
		if (k & (1u << i))
			f |= 1ull << bits[i];
	return f;
}

static void tx(struct virtq *q, uint64_t f)
{
	static struct virtq_chain c;
	static struct iovec iov[VIRTQ_CHAIN_MAX];
	volatile uint8_t sink = 0;
	int n;
	for (int i = 0; i < 64 && virtq_pop(q, &c) > 0; i++) {
		if (net_tx_iov(&c, f, iov, &n) == 0)
			for (int k = 0; k < n; k++)
				for (size_t b = 0; b < iov[k].iov_len; b += 97)
					sink ^= ((uint8_t *)iov[k].iov_base)[b];
		virtq_push(q, c.head, 0);
	}
	(void)sink;
}

static void rx(struct net_rx *r, const uint8_t *lens)
{
	for (unsigned i = 0; i < KNOBS - 4; i += 2) {
		size_t len = (size_t)(lens[i] | lens[i + 1] << 8) * 2;   /* up to 128 KiB */
		const struct iovec *iov;
		int n;
		if (r->holding) {
			if (net_rx_continue(r) < 0)
				return;
			continue;
		}
		if (net_rx_prepare(r, &iov, &n) != 1)
			return;
		if (net_rx_complete(r, scatter(iov, n, len)) < 0)
			return;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < KNOBS)
		return 0;
	uint8_t *ram = calloc(1, RAM);   /* exact sizes: ASan flags any overrun */
	uint8_t *bounce = malloc(NET_RX_BOUNCE);
	memcpy(ram, data + KNOBS, size - KNOBS < RAM ? size - KNOBS : RAM);
	struct gmem mem = { .n = 1, .r = { { .gpa = 0, .size = RAM, .host = ram } } };
	struct virtq txq = { .num = NUM, .ready = true, .desc_gpa = 0, .avail_gpa = 0x100,
			     .used_gpa = 0x200 };
	struct virtq rxq = { .num = NUM, .ready = true, .desc_gpa = 0x400, .avail_gpa = 0x500,
			     .used_gpa = 0x600 };
	uint64_t f = features(data[0]);
	if (virtq_activate(&txq, &mem, f) < 0 || virtq_activate(&rxq, &mem, f) < 0)
		abort();
	rxq.last_avail = data[1];
	tx(&txq, f);
	static struct net_rx r;
	net_rx_init(&r, &rxq, f, bounce);
	rx(&r, data + 2);
	if (r.holding)
		net_rx_continue(&r);
	virtq_publish(&txq);
	virtq_publish(&rxq);
	free(bounce);
	free(ram);
	return 0;
}
