/* bench_virtio_net MODE DIR SECONDS [MAXPKTS]
 *   MODE  raw (our own loop on the tap fd: write / poll+read) | dev (the
 *         virtio-net device model on the same tap, driven by the fake driver:
 *         a 256-entry ring kept full, kicks through the queue eventfd,
 *         completions through the irqfd; no guest)
 *   DIR   tx (guest -> tap: 1514-byte frames the host stack drops) | rx (tap
 *         -> guest: a host thread sends 1514-byte frames on the tap through
 *         an AF_PACKET socket, as fast as it can; what the tap queue cannot
 *         hold is dropped by the kernel, so rx counts what was delivered)
 * Runs in a network namespace of its own (root).  Prints one line:
 * "<mode> <dir> pps=<n> pkts=<n>". */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/vm/virtio/drv.h"
#include "tests/vm/virtio/ifup.h"
#include "vm/virtio/net.h"

#define TAP "ocvb0"
#define FRAME 1514
#define QN 256
#define RXBUF 2048

static const uint8_t guest_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t host_mac[6] = { 0x02, 0, 0, 0, 0, 0x99 };
static volatile int stop_inject;

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void frame(uint8_t *p, const uint8_t *dst, const uint8_t *src)
{
	memcpy(p, dst, 6);
	memcpy(p + 6, src, 6);
	p[12] = 0x88;
	p[13] = 0xb5;
	for (int i = 14; i < FRAME; i++)
		p[i] = (uint8_t)i;
}

static int setup_tap(int *fd)
{
	if (unshare(CLONE_NEWNET) < 0 || net_tap_open(TAP, fd) < 0)
		return -1;
	FILE *f = fopen("/proc/sys/net/ipv6/conf/" TAP "/disable_ipv6", "w");
	if (f) {
		fputs("1\n", f);
		fclose(f);
	}
	return test_ifup(TAP);
}

/* The RX source: AF_PACKET frames out of the tap's host side, 32 a call. */
static void *inject(void *arg)
{
	static uint8_t fr[FRAME];
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(TAP),
				  .sll_halen = 6 };
	struct mmsghdr m[32];
	struct iovec v = { fr, FRAME };
	int s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	frame(fr, guest_mac, host_mac);
	for (int i = 0; i < 32; i++)
		m[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &to, .msg_namelen = sizeof(to),
						      .msg_iov = &v, .msg_iovlen = 1 } };
	while (!stop_inject)
		if (sendmmsg(s, m, 32, 0) < 0 && errno != ENOBUFS && errno != EAGAIN)
			break;
	close(s);
	return NULL;
}

static long raw_tx(int fd, double secs, long max)
{
	static uint8_t buf[NET_HDR_LEN + FRAME];
	frame(buf + NET_HDR_LEN, host_mac, guest_mac);
	long n = 0;
	for (double end = now() + secs; now() < end && (max <= 0 || n < max);)
		if (write(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf))
			n++;
	return n;
}

static long raw_rx(int fd, double secs, long max)
{
	static uint8_t buf[NET_RX_BOUNCE];
	long n = 0;
	for (double end = now() + secs; now() < end && (max <= 0 || n < max);) {
		if (read(fd, buf, sizeof(buf)) > 0) {   /* until EAGAIN, as the device */
			n++;
			continue;
		}
		struct pollfd p = { .fd = fd, .events = POLLIN };
		poll(&p, 1, 100);
	}
	return n;
}

/* Keep queue qi full of one-descriptor chains; count completions. */
static long dev_run(int fd, unsigned qi, double secs, long max)
{
	static struct drv d;
	uint64_t buf[QN];
	if (drv_init(&d, 16ull << 20) < 0)
		return -1;
	struct virtio_net_opts o = { .fd = fd, .tap = true };
	memcpy(o.mac, guest_mac, 6);
	if (virtio_net_create(&d.host, 0xd0000000, &o, &d.m) < 0 || drv_setup(&d, ~0ull, 2, QN) != 0xf)
		return -1;
	uint32_t len = qi == 0 ? RXBUF : NET_HDR_LEN + FRAME;
	uint64_t shared = drv_alloc(&d, len, 64);
	memset(drv_ptr(&d, shared), 0, NET_HDR_LEN);
	frame((uint8_t *)drv_ptr(&d, shared) + NET_HDR_LEN, host_mac, guest_mac);
	for (unsigned i = 0; i < QN; i++) {   /* TX: all share one frame */
		buf[i] = qi == 0 ? drv_alloc(&d, RXBUF, 64) : shared;
		struct drv_seg s = { buf[i], len, qi == 0 };
		drv_add(&d, qi, &s, 1, false);
	}
	drv_kick(&d, qi);
	long done = 0;
	for (double end = now() + secs; now() < end && (max <= 0 || done < max);) {
		struct pollfd p = { .fd = d.host.irqfd, .events = POLLIN };
		uint64_t junk;
		if (poll(&p, 1, 100) <= 0 || read(d.host.irqfd, &junk, 8) < 0)
			continue;
		uint32_t id, ulen;
		unsigned n = 0;
		while (drv_used(&d, qi, &id, &ulen)) {
			struct drv_seg s = { buf[id], len, qi == 0 };
			drv_add(&d, qi, &s, 1, false);
			n++;
		}
		if (n)
			drv_kick(&d, qi);
		done += n;
	}
	struct net_stats st;
	virtio_net_stats(d.m, &st);
	fprintf(stderr, "# dev %s: per packet %.3f guest kicks (%.3f suppressed), %.3f device "
		"wakeups on a kick, %.3f interrupts; tx_errors %llu rx_dropped %llu\n",
		qi ? "tx" : "rx", (double)d.q[qi].kicks / done, (double)d.q[qi].kicks_suppressed / done,
		(double)st.kicks / done, (double)st.irqs / done,
		(unsigned long long)st.tx_errors, (unsigned long long)st.rx_dropped);
	drv_fini(&d);
	return done;
}

int main(int argc, char **argv)
{
	int fd;
	pthread_t inj;
	if (argc < 4) {
		fprintf(stderr, "usage: bench_virtio_net raw|dev tx|rx SECONDS [MAXPKTS]\n");
		return 2;
	}
	bool dev = !strcmp(argv[1], "dev"), rx = !strcmp(argv[2], "rx");
	double secs = atof(argv[3]);
	long max = argc > 4 ? atol(argv[4]) : 0;
	if (setup_tap(&fd) < 0) {
		perror("bench_virtio_net: a tap in a network namespace of our own (root?)");
		return 1;
	}
	if (rx && pthread_create(&inj, NULL, inject, NULL) != 0)
		return 1;
	double t0 = now();
	long n = dev ? dev_run(fd, rx ? 0 : 1, secs, max) : rx ? raw_rx(fd, secs, max) : raw_tx(fd, secs, max);
	double t = now() - t0;
	if (rx) {
		stop_inject = 1;
		pthread_join(inj, NULL);
	}
	if (n < 0) {
		fprintf(stderr, "bench_virtio_net: %s %s failed\n", argv[1], argv[2]);
		return 1;
	}
	printf("%s %s pps=%.0f pkts=%ld\n", argv[1], argv[2], n / t, n);
	return 0;
}
