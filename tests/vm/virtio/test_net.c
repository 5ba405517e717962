/* virtio-net, the device end to end through the fake driver: config space
 * (MAC, link), TX and RX over a SOCK_SEQPACKET pair (one message = virtio
 * header + frame, as a tap), merged RX buffers, a packet held until the
 * guest posts buffers, back-pressure from the backend, malformed TX chains,
 * the link going down when the peer goes; then a real tap in a private
 * network namespace (root only, else skipped): a guest frame seen on the
 * host interface, a host frame delivered to the guest, TUNSETOFFLOAD for
 * the guest's features, the tap deleted under the running device; and the
 * tap/MAC helpers. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/vm/virtio/drv.h"
#include "tests/vm/virtio/ifup.h"
#include "vm/virtio/net.h"

#define F(b) (1ull << (b))
#define RXQ 0
#define TXQ 1
#define QNUM 16
#define ETYPE 0x88b5   /* IEEE local experimental */

static const uint8_t mac[6] = { 0x02, 0x00, 0x00, 0xaa, 0xbb, 0x01 };

struct fx {
	struct drv d;
	int peer;
};

static struct fx *make(uint64_t want, int fd, bool tap, int peer)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_int_equal(drv_init(&f->d, 8 << 20), 0);
	struct virtio_net_opts o = { .fd = fd, .tap = tap };
	memcpy(o.mac, mac, 6);
	assert_int_equal(virtio_net_create(&f->d.host, 0xd0000000, &o, &f->d.m), 0);
	assert_int_equal(drv_setup(&f->d, want, 2, QNUM), 0xf);
	f->peer = peer;
	return f;
}

static struct fx *make_pair_buf(uint64_t want, int sndbuf)
{
	int sp[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
	if (sndbuf)
		assert_int_equal(setsockopt(sp[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
	return make(want, sp[0], false, sp[1]);
}

static struct fx *make_pair(uint64_t want)
{
	return make_pair_buf(want, 0);
}

static void destroy(struct fx *f)
{
	drv_fini(&f->d);
	if (f->peer >= 0)
		close(f->peer);
	free(f);
}

/* A frame (header + Ethernet) in guest memory, queued on TX and kicked. */
static void guest_tx(struct fx *f, const char *payload, uint8_t hflags)
{
	size_t len = NET_HDR_LEN + 14 + strlen(payload);
	uint64_t b = drv_alloc(&f->d, len, 16);
	uint8_t *p = drv_ptr(&f->d, b);
	memset(p, 0, NET_HDR_LEN);
	p[0] = hflags;
	memset(p + NET_HDR_LEN, 0xff, 6);
	memcpy(p + NET_HDR_LEN + 6, mac, 6);
	p[NET_HDR_LEN + 12] = ETYPE >> 8;
	p[NET_HDR_LEN + 13] = ETYPE & 0xff;
	memcpy(p + NET_HDR_LEN + 14, payload, strlen(payload));
	struct drv_seg s[2] = { { b, NET_HDR_LEN, false }, { b + NET_HDR_LEN, (uint32_t)(len - NET_HDR_LEN), false } };
	drv_add(&f->d, TXQ, s, 2, false);
	drv_kick(&f->d, TXQ);
}

static uint64_t guest_rx_buf(struct fx *f, uint32_t len)
{
	uint64_t b = drv_alloc(&f->d, len, 16);
	struct drv_seg s = { b, len, true };
	drv_add(&f->d, RXQ, &s, 1, false);
	return b;
}

static ssize_t recv_timeout(int fd, void *buf, size_t len, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, ms) <= 0)
		return -1;
	return recv(fd, buf, len, 0);
}

/* A message from the host side: header (num_buffers garbage) + frame. */
static size_t host_msg(uint8_t *m, size_t frame_len, uint8_t seed)
{
	memset(m, 0, NET_HDR_LEN);
	m[NET_HDR_NUM_BUFFERS] = 0x77;
	for (size_t i = 0; i < frame_len; i++)
		m[NET_HDR_LEN + i] = (uint8_t)(seed + i * 13);
	return NET_HDR_LEN + frame_len;
}

static void test_config_space(void **state)
{
	struct fx *f = make_pair(~0ull);
	uint8_t cfg[8];
	assert_int_equal(drv_rd(&f->d, 0x008), VIRTIO_NET_ID);
	for (unsigned i = 0; i < 8; i++)
		virtio_mmio_read(f->d.m, 0x100 + i, &cfg[i], 1);
	assert_memory_equal(cfg, mac, 6);
	assert_int_equal(cfg[6], VIRTIO_NET_S_LINK_UP);
	destroy(f);
}

static void test_tx_to_backend(void **state)
{
	struct fx *f = make_pair(~0ull);
	uint8_t buf[256];
	uint32_t id, len;
	guest_tx(f, "hello-host", 0);
	ssize_t n = recv_timeout(f->peer, buf, sizeof(buf), DRV_WAIT_MS);
	assert_int_equal(n, NET_HDR_LEN + 14 + 10);
	assert_memory_equal(buf + NET_HDR_LEN + 14, "hello-host", 10);
	assert_int_equal(drv_wait_used(&f->d, TXQ, &id, &len, DRV_WAIT_MS), 1);
	assert_int_equal(len, 0);
	struct net_stats st;
	assert_int_equal(virtio_net_stats(f->d.m, &st), 0);
	assert_int_equal(st.tx_packets, 1);
	assert_int_equal(st.tx_bytes, 24);
	destroy(f);
}

static void test_tx_bad_chain_goes_on(void **state)
{
	/* NEEDS_CSUM without CSUM negotiated: refused, returned, next one sent */
	struct fx *f = make_pair(~F(VIRTIO_NET_F_CSUM));
	uint8_t buf[256];
	uint32_t id, len;
	guest_tx(f, "refused", VIRTIO_NET_HDR_F_NEEDS_CSUM);
	guest_tx(f, "sent", 0);
	ssize_t n = recv_timeout(f->peer, buf, sizeof(buf), DRV_WAIT_MS);
	assert_int_equal(n, NET_HDR_LEN + 14 + 4);
	assert_int_equal(drv_wait_used(&f->d, TXQ, &id, &len, DRV_WAIT_MS), 1);
	assert_int_equal(drv_wait_used(&f->d, TXQ, &id, &len, DRV_WAIT_MS), 1);
	struct net_stats st;
	virtio_net_stats(f->d.m, &st);
	assert_int_equal(st.tx_errors, 1);
	assert_int_equal(st.tx_packets, 1);
	destroy(f);
}

static void test_rx_from_backend(void **state)
{
	struct fx *f = make_pair(~F(VIRTIO_NET_F_MRG_RXBUF));
	static uint8_t m[2048];
	uint32_t id, len;
	uint64_t b = guest_rx_buf(f, 2048);
	drv_kick(&f->d, RXQ);
	size_t ml = host_msg(m, 1514, 1);
	assert_int_equal(send(f->peer, m, ml, 0), (ssize_t)ml);
	assert_int_equal(drv_wait_used(&f->d, RXQ, &id, &len, DRV_WAIT_MS), 1);
	assert_int_equal(len, ml);
	uint8_t *g = drv_ptr(&f->d, b);
	assert_int_equal(g[NET_HDR_NUM_BUFFERS], 1);
	assert_memory_equal(g + NET_HDR_LEN, m + NET_HDR_LEN, 1514);
	destroy(f);
}

static void test_rx_merged_and_held(void **state)
{
	struct fx *f = make_pair(~0ull);
	static uint8_t m[4096];
	uint32_t id, len, total = 0;
	uint64_t b[8];
	size_t ml = host_msg(m, 1500, 9);
	/* the packet comes before any buffer: it waits, then is delivered */
	assert_int_equal(send(f->peer, m, ml, 0), (ssize_t)ml);
	usleep(20000);
	for (int i = 0; i < 2; i++)
		b[i] = guest_rx_buf(f, 512);
	drv_kick(&f->d, RXQ);
	usleep(20000);   /* 1024 bytes posted: the rest waits in the device */
	for (int i = 2; i < 8; i++)
		b[i] = guest_rx_buf(f, 512);
	drv_kick(&f->d, RXQ);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(drv_wait_used(&f->d, RXQ, &id, &len, DRV_WAIT_MS), 1);
		assert_int_equal(len, i < 2 ? 512 : ml - 1024);
		assert_memory_equal(drv_ptr(&f->d, b[i]) + (i ? 0 : NET_HDR_LEN),
				    m + 512 * i + (i ? 0 : NET_HDR_LEN), len - (i ? 0 : NET_HDR_LEN));
		total += len;
	}
	assert_int_equal(total, ml);
	assert_int_equal(((uint8_t *)drv_ptr(&f->d, b[0]))[NET_HDR_NUM_BUFFERS], 3);
	destroy(f);
}

static void test_tx_backpressure(void **state)
{
	/* a small send buffer on the device's end: its writes hit EAGAIN */
	struct fx *f = make_pair_buf(~0ull, 4096);
	uint8_t buf[2048];
	char payload[1000];
	uint32_t id, len;
	for (int i = 0; i < QNUM / 2; i++) {   /* two descriptors each */
		memset(payload, 'a' + i, sizeof(payload) - 1);
		payload[sizeof(payload) - 1] = 0;
		guest_tx(f, payload, 0);
	}
	usleep(50000);
	for (int i = 0; i < QNUM / 2; i++) {
		ssize_t n = recv_timeout(f->peer, buf, sizeof(buf), DRV_WAIT_MS);
		assert_int_equal(n, NET_HDR_LEN + 14 + 999);
		assert_int_equal(buf[NET_HDR_LEN + 14], 'a' + i);   /* in order, none lost */
	}
	for (int i = 0; i < QNUM / 2; i++)
		assert_int_equal(drv_wait_used(&f->d, TXQ, &id, &len, DRV_WAIT_MS), 1);
	destroy(f);
}

static uint8_t cfg_status(struct fx *f)
{
	uint8_t s;
	virtio_mmio_read(f->d.m, 0x106, &s, 1);
	return s;
}

/* The device thread clears the status, then moves the generation and
 * raises the interrupt (link_down, vdev_config_changed): a driver that sees
 * the status first may still be ahead of the other two, so wait for all. */
static bool link_down_seen(struct fx *f)
{
	return cfg_status(f) == 0 && (drv_rd(&f->d, 0x060) & 2) && drv_rd(&f->d, 0x0fc) != 0;
}

static void wait_link_down(struct fx *f)
{
	for (int i = 0; i < DRV_WAIT_MS && !link_down_seen(f); i += 10)
		usleep(10000);
	assert_int_equal(cfg_status(f), 0);
	assert_true(drv_rd(&f->d, 0x060) & 2);    /* configuration change interrupt */
	assert_int_not_equal(drv_rd(&f->d, 0x0fc), 0);   /* generation moved */
}

static void test_link_down_when_peer_goes(void **state)
{
	struct fx *f = make_pair(~0ull);
	uint32_t id, len;
	guest_rx_buf(f, 2048);
	drv_kick(&f->d, RXQ);
	assert_int_equal(drv_rd(&f->d, 0x0fc), 0);
	close(f->peer);
	f->peer = -1;
	wait_link_down(f);
	guest_tx(f, "into-the-void", 0);   /* consumed and dropped: no stall */
	assert_int_equal(drv_wait_used(&f->d, TXQ, &id, &len, DRV_WAIT_MS), 1);
	struct net_stats st;
	virtio_net_stats(f->d.m, &st);
	assert_false(st.link_up);
	assert_int_equal(st.link_errno, EPIPE);
	assert_int_equal(st.tx_dropped, 1);
	destroy(f);
}

static void test_helpers(void **state)
{
	uint8_t m[6];
	int p[2];
	assert_int_equal(net_parse_mac("02:00:00:AA:bb:01", m), 0);
	assert_memory_equal(m, mac, 6);
	assert_int_equal(net_parse_mac("03:00:00:aa:bb:01", m), -EINVAL);   /* multicast */
	assert_int_equal(net_parse_mac("00:00:00:00:00:00", m), -EINVAL);
	assert_int_equal(net_parse_mac("02:00:00:aa:bb:1", m), -EINVAL);
	assert_int_equal(net_parse_mac("02-00-00-aa-bb-01", m), -EINVAL);
	assert_int_equal(net_parse_mac("02:00:00:aa:bb:0g", m), -EINVAL);
	assert_int_equal(net_parse_mac(" 2:00:00:aa:bb:01", m), -EINVAL);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(net_tap_adopt(p[0]), -EINVAL);
	close(p[0]);
	close(p[1]);
	assert_int_equal(net_tap_offload_flags(F(VIRTIO_NET_F_GUEST_TSO4)), 0);   /* needs CSUM */
	assert_int_equal(net_tap_offload_flags(F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO6)),
			 TUN_F_CSUM | TUN_F_TSO6);
	assert_int_equal(net_tap_open("", &p[0]), -EINVAL);
	assert_int_equal(net_tap_open("this-name-is-too-long", &p[0]), -EINVAL);
	struct virtio_net_opts o = { .fd = -1 };
	struct drv d;
	struct virtio_mmio *dm;
	assert_int_equal(drv_init(&d, 1 << 16), 0);
	assert_int_equal(virtio_net_create(&d.host, 0, &o, &dm), -EINVAL);
	drv_fini(&d);
}

/* ---- a real tap, in a network namespace of our own ---- */

#define TAP "ocvt0"

static bool own_netns(void)
{
	static int done = -1;
	if (done < 0)
		done = geteuid() == 0 && unshare(CLONE_NEWNET) == 0 &&
		       access("/dev/net/tun", R_OK | W_OK) == 0;
	return done;
}

static int packet_socket(const char *name)
{
	FILE *ip6 = fopen("/proc/sys/net/ipv6/conf/" TAP "/disable_ipv6", "w");
	if (ip6) {   /* fewer frames of the host's own */
		fputs("1\n", ip6);
		fclose(ip6);
	}
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	struct sockaddr_ll a = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
				 .sll_ifindex = (int)if_nametoindex(name) };
	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	return s;
}

static bool ours(const uint8_t *fr, ssize_t n)
{
	return n >= 14 && fr[12] == ETYPE >> 8 && fr[13] == (ETYPE & 0xff);
}

static void test_tap_both_ways(void **state)
{
	if (!own_netns())
		skip();
	int fd;
	assert_int_equal(net_tap_open(TAP, &fd), 0);
	assert_int_equal(test_ifup(TAP), 0);
	int ps = packet_socket(TAP);
	/* CSUM + TSO for the guest: TUNSETOFFLOAD must take them (else no DRIVER_OK) */
	struct fx *f = make(~0ull, fd, true, -1);
	uint8_t fr[2048];
	uint32_t id, len;

	guest_tx(f, "guest-to-host", 0);
	ssize_t n;
	do
		n = recv_timeout(ps, fr, sizeof(fr), DRV_WAIT_MS);
	while (n > 0 && !ours(fr, n));
	assert_int_equal(n, 14 + 13);
	assert_memory_equal(fr + 6, mac, 6);
	assert_memory_equal(fr + 14, "guest-to-host", 13);

	uint64_t b[4];
	for (int i = 0; i < 4; i++)
		b[i] = guest_rx_buf(f, 2048);
	drv_kick(&f->d, RXQ);
	memcpy(fr, mac, 6);
	memcpy(fr + 6, "\x02\x00\x00\x00\x00\x09", 6);
	fr[12] = ETYPE >> 8;
	fr[13] = ETYPE & 0xff;
	memcpy(fr + 14, "host-to-guest", 13);
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(TAP),
				  .sll_halen = 6 };
	assert_int_equal(sendto(ps, fr, 60, 0, (struct sockaddr *)&to, sizeof(to)), 60);
	bool seen = false;
	for (int i = 0; i < 4 && !seen; i++) {
		if (drv_wait_used(&f->d, RXQ, &id, &len, DRV_WAIT_MS) != 1)
			break;
		uint8_t *g = drv_ptr(&f->d, b[id]);
		seen = len == NET_HDR_LEN + 60 && ours(g + NET_HDR_LEN, len - NET_HDR_LEN) &&
		       memcmp(g + NET_HDR_LEN + 14, "host-to-guest", 13) == 0;
	}
	assert_true(seen);
	close(ps);
	destroy(f);
}

static void test_tap_deleted(void **state)
{
	if (!own_netns() || system("command -v ip >/dev/null 2>&1") != 0)
		skip();
	int fd;
	uint32_t id, len;
	assert_int_equal(net_tap_open(TAP, &fd), 0);
	assert_int_equal(test_ifup(TAP), 0);
	struct fx *f = make(~0ull, fd, true, -1);
	guest_rx_buf(f, 2048);
	drv_kick(&f->d, RXQ);
	assert_int_equal(system("ip link del " TAP), 0);
	wait_link_down(f);
	guest_tx(f, "after-delete", 0);
	assert_int_equal(drv_wait_used(&f->d, TXQ, &id, &len, DRV_WAIT_MS), 1);
	struct net_stats st;
	virtio_net_stats(f->d.m, &st);
	assert_int_equal(st.link_errno, EBADFD);
	destroy(f);
}

static void test_tap_adopt(void **state)
{
	if (!own_netns())
		skip();
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	snprintf(ifr.ifr_name, IFNAMSIZ, "ocvt1");
	assert_int_equal(ioctl(fd, TUNSETIFF, &ifr), 0);
	assert_int_equal(net_tap_adopt(fd), -EINVAL);   /* no IFF_VNET_HDR */
	close(fd);
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	assert_int_equal(ioctl(fd, TUNSETIFF, &ifr), 0);
	assert_int_equal(net_tap_adopt(fd), 0);
	int sz = 0;
	assert_int_equal(ioctl(fd, TUNGETVNETHDRSZ, &sz), 0);
	assert_int_equal(sz, NET_HDR_LEN);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_space), cmocka_unit_test(test_tx_to_backend),
		cmocka_unit_test(test_tx_bad_chain_goes_on), cmocka_unit_test(test_rx_from_backend),
		cmocka_unit_test(test_rx_merged_and_held), cmocka_unit_test(test_tx_backpressure),
		cmocka_unit_test(test_link_down_when_peer_goes), cmocka_unit_test(test_helpers),
		cmocka_unit_test(test_tap_both_ways), cmocka_unit_test(test_tap_deleted),
		cmocka_unit_test(test_tap_adopt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
