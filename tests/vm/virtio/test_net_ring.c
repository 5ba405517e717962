/* virtio-net ring logic against fake guest memory: TX chains checked
 * (writable parts, lengths, offloads not negotiated, headers split into
 * 1-byte pieces), RX into one chain or merged over several, held packets,
 * a ring too small for a packet, malformed RX chains given back, broken
 * rings. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vm/virtio/net_ring.h"

#define BASE 0x10000ull
#define RAM (256 * 1024)
#define NUM 8
#define DESC (BASE + 0x0)
#define AVAIL (BASE + 0x1000)
#define USED (BASE + 0x2000)
#define DATA (BASE + 0x4000)
#define F(b) (1ull << (b))
#define W VIRTQ_DESC_F_WRITE
#define N VIRTQ_DESC_F_NEXT

struct fx {
	uint8_t ram[RAM];
	struct gmem mem;
	struct virtq q;
	struct virtq_chain c;
	struct net_rx rx;
	uint8_t bounce[NET_RX_BOUNCE];
	uint16_t avail_idx;
	struct iovec iov[VIRTQ_CHAIN_MAX];
};

static uint8_t *at(struct fx *f, uint64_t gpa) { return f->ram + (gpa - BASE); }

static void desc(struct fx *f, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		 uint16_t next)
{
	struct virtq_desc d = { addr, len, flags, next };
	memcpy(at(f, DESC) + 16 * i, &d, 16);
}

static void avail(struct fx *f, uint16_t head)
{
	uint16_t *a = (uint16_t *)at(f, AVAIL);
	a[2 + f->avail_idx % NUM] = head;
	a[1] = ++f->avail_idx;
}

static void used_entry(struct fx *f, unsigned i, uint32_t *id, uint32_t *len)
{
	uint32_t *u = (uint32_t *)at(f, USED);
	*id = u[1 + 2 * i];
	*len = u[2 + 2 * i];
}

static void activate(struct fx *f, uint64_t features)
{
	memset(&f->q, 0, sizeof(f->q));
	f->q.num = NUM;
	f->q.desc_gpa = DESC;
	f->q.avail_gpa = AVAIL;
	f->q.used_gpa = USED;
	f->q.ready = true;
	assert_int_equal(virtq_activate(&f->q, &f->mem, features | F(VIRTIO_F_VERSION_1)), 0);
	net_rx_init(&f->rx, &f->q, features, f->bounce);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->mem.n = 1;
	f->mem.r[0] = (struct gmem_region){ BASE, RAM, f->ram };
	activate(f, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

/* ---- TX ---- */

static void put_hdr(struct fx *f, uint64_t gpa, uint8_t flags, uint8_t gso)
{
	memset(at(f, gpa), 0, NET_HDR_LEN);
	at(f, gpa)[0] = flags;
	at(f, gpa)[1] = gso;
}

static int tx(struct fx *f, uint64_t features, int *n)
{
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	return net_tx_iov(&f->c, features, f->iov, n);
}

static void test_tx_valid(void **state)
{
	struct fx *f = *state;
	int n;
	put_hdr(f, DATA, 0, 0);
	memcpy(at(f, DATA + 100), "frame-bytes", 11);
	desc(f, 0, DATA, NET_HDR_LEN, N, 1);
	desc(f, 1, DATA + 100, 11, 0, 0);
	avail(f, 0);
	assert_int_equal(tx(f, 0, &n), 0);
	assert_int_equal(n, 2);
	assert_ptr_equal(f->iov[0].iov_base, at(f, DATA));
	assert_int_equal(f->iov[1].iov_len, 11);
	assert_memory_equal(f->iov[1].iov_base, "frame-bytes", 11);
}

static void test_tx_bad_shapes(void **state)
{
	struct fx *f = *state;
	int n;
	put_hdr(f, DATA, 0, 0);
	desc(f, 0, DATA, 64, N, 1);            /* a writable part */
	desc(f, 1, DATA + 64, 64, W, 0);
	avail(f, 0);
	assert_int_equal(tx(f, 0, &n), -EINVAL);
	desc(f, 2, DATA, NET_HDR_LEN - 1, 0, 0);   /* shorter than the header */
	avail(f, 2);
	assert_int_equal(tx(f, 0, &n), -EINVAL);
	desc(f, 3, DATA, NET_HDR_LEN + NET_FRAME_MAX + 1, 0, 0);   /* too long */
	avail(f, 3);
	assert_int_equal(tx(f, 0, &n), -EINVAL);
	desc(f, 4, DATA, NET_HDR_LEN + NET_FRAME_MAX, 0, 0);       /* just fits */
	avail(f, 4);
	assert_int_equal(tx(f, 0, &n), 0);
}

static void test_tx_offloads(void **state)
{
	struct fx *f = *state;
	static const struct { uint8_t flags, gso; uint64_t feat; int want; } cases[] = {
		{ VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, -EINVAL },
		{ VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, F(VIRTIO_NET_F_CSUM), 0 },
		{ 1, VIRTIO_NET_HDR_GSO_TCPV4, F(VIRTIO_NET_F_CSUM), -EINVAL },
		{ 1, VIRTIO_NET_HDR_GSO_TCPV4, F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4), 0 },
		{ 1, VIRTIO_NET_HDR_GSO_TCPV6, F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4), -EINVAL },
		{ 1, VIRTIO_NET_HDR_GSO_TCPV6, F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO6), 0 },
		{ 1, 3 /* UDP */, ~0ull, -EINVAL },
		{ 1, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, ~0ull, -EINVAL },
		{ 0, 0x42, ~0ull, -EINVAL },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n;
		put_hdr(f, DATA, cases[i].flags, cases[i].gso);
		desc(f, i % NUM, DATA, 100, 0, 0);
		avail(f, (uint16_t)(i % NUM));
		assert_int_equal(tx(f, cases[i].feat, &n), cases[i].want);
	}
}

static void test_tx_header_in_pieces(void **state)
{
	struct fx *f = *state;
	int n;
	put_hdr(f, DATA, 0, VIRTIO_NET_HDR_GSO_TCPV4);
	for (unsigned i = 0; i < 7; i++)   /* 1-byte pieces: the check sees the whole header */
		desc(f, i, DATA + i, 1, N, (uint16_t)(i + 1));
	desc(f, 7, DATA + 7, 60, 0, 0);
	avail(f, 0);
	assert_int_equal(tx(f, F(VIRTIO_NET_F_CSUM), &n), -EINVAL);
	avail(f, 0);
	assert_int_equal(tx(f, F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4), &n), 0);
	assert_int_equal(n, 8);
}

/* ---- RX ---- */

/* What readv does: the packet over the iovecs; returns bytes placed. */
static size_t scatter(const struct iovec *iov, int n, const uint8_t *pkt, size_t len)
{
	size_t done = 0;
	for (int i = 0; i < n && done < len; i++) {
		size_t k = iov[i].iov_len < len - done ? iov[i].iov_len : len - done;
		memcpy(iov[i].iov_base, pkt + done, k);
		done += k;
	}
	return done;
}

static uint8_t pkt[NET_RX_BOUNCE];

static size_t mkpkt(size_t len, uint8_t flags)
{
	for (size_t i = 0; i < len; i++)
		pkt[i] = (uint8_t)(i * 7 + 3);
	memset(pkt, 0, NET_HDR_LEN);
	pkt[0] = flags;
	pkt[1] = 1;
	return len;
}

static int receive(struct fx *f, size_t len)
{
	const struct iovec *iov;
	int n;
	int r = net_rx_prepare(&f->rx, &iov, &n);
	if (r != 1)
		return r == 0 ? -ENOBUFS : r;
	return net_rx_complete(&f->rx, scatter(iov, n, pkt, len));
}

static uint16_t num_buffers(struct fx *f, uint64_t gpa)
{
	uint16_t v;
	memcpy(&v, at(f, gpa) + NET_HDR_NUM_BUFFERS, 2);
	return v;
}

static void test_rx_one_chain(void **state)
{
	struct fx *f = *state;
	uint32_t id, len;
	desc(f, 5, DATA, 2048, W, 0);
	avail(f, 5);
	memset(at(f, DATA), 0xee, 2048);
	assert_int_equal(receive(f, mkpkt(1000, VIRTIO_NET_HDR_F_NEEDS_CSUM)), 1);
	used_entry(f, 0, &id, &len);
	assert_int_equal(id, 5);
	assert_int_equal(len, 1000);
	assert_int_equal(num_buffers(f, DATA), 1);
	assert_int_equal(at(f, DATA)[0], 0);   /* no GUEST_CSUM: flags cleared */
	assert_int_equal(at(f, DATA)[1], 0);   /* no GUEST_TSO: GSO none */
	assert_memory_equal(at(f, DATA) + NET_HDR_LEN, pkt + NET_HDR_LEN, 1000 - NET_HDR_LEN);
	assert_int_equal(receive(f, mkpkt(100, 0)), -ENOBUFS);
}

static void test_rx_flags_kept_with_guest_csum(void **state)
{
	struct fx *f = *state;
	activate(f, F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO4));
	desc(f, 0, DATA, 2048, W, 0);
	avail(f, 0);
	assert_int_equal(receive(f, mkpkt(500, VIRTIO_NET_HDR_F_NEEDS_CSUM)), 1);
	assert_int_equal(at(f, DATA)[0], VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(at(f, DATA)[1], 1);
}

static void test_rx_too_big_without_mrg(void **state)
{
	struct fx *f = *state;
	uint32_t id, len;
	desc(f, 2, DATA, 256, W, 0);
	avail(f, 2);
	assert_int_equal(receive(f, mkpkt(257, 0)), 0);   /* dropped, chain kept */
	assert_int_equal(((uint16_t *)at(f, USED))[1], 0);
	assert_int_equal(receive(f, mkpkt(256, 0)), 1);
	used_entry(f, 0, &id, &len);
	assert_int_equal(id, 2);
	assert_int_equal(len, 256);
}

static void test_rx_merged(void **state)
{
	struct fx *f = *state;
	uint32_t id, len;
	activate(f, F(VIRTIO_NET_F_MRG_RXBUF));
	for (unsigned i = 0; i < 3; i++) {
		desc(f, i, DATA + 0x1000 * i, 100, W, 0);
		avail(f, (uint16_t)i);
	}
	assert_int_equal(receive(f, mkpkt(250, 0)), 1);
	uint32_t want[3] = { 100, 100, 50 };
	for (unsigned i = 0; i < 3; i++) {
		used_entry(f, i, &id, &len);
		assert_int_equal(id, i);
		assert_int_equal(len, want[i]);
		assert_memory_equal(at(f, DATA + 0x1000 * i) + (i ? 0 : NET_HDR_LEN),
				    pkt + 100 * i + (i ? 0 : NET_HDR_LEN), want[i] - (i ? 0 : NET_HDR_LEN));
	}
	assert_int_equal(num_buffers(f, DATA), 3);
}

static void test_rx_held_until_buffers(void **state)
{
	struct fx *f = *state;
	uint32_t id, len;
	activate(f, F(VIRTIO_NET_F_MRG_RXBUF));
	desc(f, 0, DATA, 100, W, 0);
	avail(f, 0);
	assert_int_equal(receive(f, mkpkt(180, 0)), 2);
	assert_true(f->rx.holding);
	assert_int_equal(((uint16_t *)at(f, USED))[1], 0);   /* nothing pushed yet */
	assert_int_equal(net_rx_continue(&f->rx), 2);
	desc(f, 1, DATA + 0x1000, 100, W, 0);
	avail(f, 1);
	assert_int_equal(net_rx_continue(&f->rx), 1);
	used_entry(f, 1, &id, &len);
	assert_int_equal(id, 1);
	assert_int_equal(len, 80);
	assert_int_equal(num_buffers(f, DATA), 2);
	assert_memory_equal(at(f, DATA + 0x1000), pkt + 100, 80);
}

static void test_rx_ring_too_small(void **state)
{
	struct fx *f = *state;
	uint32_t id, len;
	activate(f, F(VIRTIO_NET_F_MRG_RXBUF));
	for (unsigned i = 0; i < NUM; i++) {
		desc(f, i, DATA + 64 * i, 16, W, 0);
		avail(f, (uint16_t)i);
	}
	/* 8 chains of 16 bytes cannot hold 1000: all go back empty, nothing held */
	assert_int_equal(receive(f, mkpkt(1000, 0)), 0);
	assert_false(f->rx.holding);
	for (unsigned i = 0; i < NUM; i++) {
		used_entry(f, i, &id, &len);
		assert_int_equal(len, 0);
	}
}

static void test_rx_bad_chains_given_back(void **state)
{
	struct fx *f = *state;
	uint32_t id, len;
	desc(f, 0, DATA, 64, N, 1);          /* readable part in an RX chain */
	desc(f, 1, DATA + 64, 64, W, 0);
	desc(f, 2, DATA, NET_HDR_LEN - 1, W, 0);   /* no room for the header */
	desc(f, 3, DATA + 0x1000, 2048, W, 0);
	avail(f, 0);
	avail(f, 2);
	avail(f, 3);
	assert_int_equal(receive(f, mkpkt(300, 0)), 1);
	assert_int_equal(f->rx.bad_chains, 2);
	used_entry(f, 0, &id, &len);
	assert_int_equal(id, 0);
	assert_int_equal(len, 0);
	used_entry(f, 1, &id, &len);
	assert_int_equal(id, 2);
	assert_int_equal(len, 0);
	used_entry(f, 2, &id, &len);
	assert_int_equal(id, 3);
	assert_int_equal(len, 300);
}

static void test_rx_header_in_pieces(void **state)
{
	struct fx *f = *state;
	activate(f, F(VIRTIO_NET_F_MRG_RXBUF));
	for (unsigned i = 0; i < 7; i++)
		desc(f, i, DATA + 16 * i, 2, W | N, (uint16_t)(i + 1));   /* 2-byte pieces, spread */
	desc(f, 7, DATA + 0x1000, 1000, W, 0);
	avail(f, 0);
	assert_int_equal(receive(f, mkpkt(400, VIRTIO_NET_HDR_F_NEEDS_CSUM)), 1);
	/* num_buffers = bytes 10, 11 = the 6th piece */
	assert_int_equal(at(f, DATA + 80)[0], 1);
	assert_int_equal(at(f, DATA + 81)[0], 0);
	assert_int_equal(at(f, DATA)[0], 0);
}

static void test_rx_short_read_and_broken_ring(void **state)
{
	struct fx *f = *state;
	const struct iovec *iov;
	int n;
	desc(f, 0, DATA, 2048, W, 0);
	avail(f, 0);
	assert_int_equal(net_rx_prepare(&f->rx, &iov, &n), 1);
	assert_int_equal(n, 2);   /* the chain, then the bounce buffer */
	assert_int_equal(iov[1].iov_len, NET_RX_BOUNCE);
	assert_int_equal(net_rx_complete(&f->rx, NET_HDR_LEN - 1), 0);
	assert_true(f->rx.have);
	f->rx.have = false;
	((uint16_t *)at(f, AVAIL))[1] = (uint16_t)(f->avail_idx + NUM + 1);   /* jumps */
	assert_int_equal(net_rx_prepare(&f->rx, &iov, &n), -EIO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
		T(test_tx_valid), T(test_tx_bad_shapes), T(test_tx_offloads),
		T(test_tx_header_in_pieces), T(test_rx_one_chain),
		T(test_rx_flags_kept_with_guest_csum), T(test_rx_too_big_without_mrg),
		T(test_rx_merged), T(test_rx_held_until_buffers), T(test_rx_ring_too_small),
		T(test_rx_bad_chains_given_back), T(test_rx_header_in_pieces),
		T(test_rx_short_read_and_broken_ring),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
