/* net_echo IFNAME MAC [TIMEOUT_S]: the host side of the self-test's NIC
 * check (vm/selftest/virtio_net_checks.c).  Waits up to TIMEOUT_S (default
 * 30) for the tap IFNAME to appear in this network namespace, brings it up,
 * and answers every frame of ethertype 0x88b5 from MAC that carries the
 * guest's TX marker with one to MAC carrying the RX marker.  Ends when the
 * tap goes (the VM's end) or at the timeout.  Prints one line per case:
 *   PASS|FAIL net_echo.tx_seen: the guest's frame on the tap
 * Exit 0 when a frame was seen and answered. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/vm/virtio/ifup.h"

#define ETHERTYPE 0x88b5
#define TX_MARK "ocivm-st-net tx"
#define RX_MARK "ocivm-st-net rx"

static long long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static bool parse_mac(const char *s, unsigned char mac[6])
{
	unsigned v[6];
	char end;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &end) != 6)
		return false;
	for (int i = 0; i < 6; i++)
		mac[i] = (unsigned char)v[i];
	return true;
}

int main(int argc, char **argv)
{
	unsigned char mac[6], f[2048];
	if (argc < 3 || !parse_mac(argv[2], mac)) {
		fprintf(stderr, "usage: net_echo IFNAME MAC [TIMEOUT_S]\n");
		return 2;
	}
	const char *ifname = argv[1];
	long long end = now_ms() + 1000LL * (argc > 3 ? atoi(argv[3]) : 30);
	unsigned idx = 0;
	while (!(idx = if_nametoindex(ifname)) && now_ms() < end)
		usleep(20 * 1000);
	if (!idx) {
		printf("FAIL net_echo.tx_seen: no interface %s appeared\n", ifname);
		return 1;
	}
	/* up first: a packet socket bound to a down interface gets ENETDOWN */
	int s = test_ifup(ifname) < 0 ? -1 : socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETHERTYPE));
	struct sockaddr_ll a = { .sll_family = AF_PACKET, .sll_protocol = htons(ETHERTYPE),
				 .sll_ifindex = (int)idx };
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		printf("FAIL net_echo.tx_seen: %s: %s\n", ifname, strerror(errno));
		return 1;
	}
	unsigned seen = 0, answered = 0;
	size_t n = sizeof(TX_MARK) - 1;
	for (;;) {
		long long left = end - now_ms();
		struct pollfd p = { .fd = s, .events = POLLIN };
		if (left <= 0 || poll(&p, 1, (int)left) <= 0 || (p.revents & (POLLERR | POLLHUP)))
			break;   /* the timeout, or the tap went (ENETDOWN) */
		ssize_t len = recv(s, f, sizeof(f), 0);
		if (len < 0)
			break;
		if ((size_t)len < 14 + n || memcmp(f + 6, mac, 6) != 0 || memcmp(f + 14, TX_MARK, n) != 0)
			continue;
		seen++;
		unsigned char r[60] = { 0 };
		memcpy(r, mac, 6);
		memcpy(r + 6, (const unsigned char[6]){ 0x02, 0x6f, 0x63, 0x76, 0x65, 0x01 }, 6);
		r[12] = ETHERTYPE >> 8;
		r[13] = ETHERTYPE & 0xff;
		memcpy(r + 14, RX_MARK, sizeof(RX_MARK) - 1);
		answered += sendto(s, r, sizeof(r), 0, (struct sockaddr *)&a, sizeof(a)) == sizeof(r);
	}
	bool ok = seen > 0 && answered > 0;
	printf("%s net_echo.tx_seen: %u frames from %s on %s, %u answered\n", ok ? "PASS" : "FAIL", seen,
	       argv[2], ifname, answered);
	return ok ? 0 : 1;
}
