/* Bring a host interface (the tests' and benches' tap) up: 0, or -1 with
 * errno.  One copy for test_net, net_echo, test_seccomp_dev and
 * bench/virtio_net. */
#ifndef OCIVM_TESTS_VIRTIO_IFUP_H
#define OCIVM_TESTS_VIRTIO_IFUP_H

#include <net/if.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static inline int test_ifup(const char *name)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = -1;

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		r = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	if (s >= 0)
		close(s);
	return r;
}

#endif
