/* The tap side of virtio-net: open or adopt a tap with virtio headers, and
 * the offloads the guest can take.  See net.h. */
#include "vm/virtio/net.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int set_hdr_nonblock(int fd)
{
	int sz = NET_HDR_LEN;
	if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0)
		return -errno;
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

int net_tap_open(const char *name, int *ret_fd)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };

	if (!name || !*name || strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	memcpy(ifr.ifr_name, name, strlen(name));
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = ioctl(fd, TUNSETIFF, &ifr) < 0 ? -errno : set_hdr_nonblock(fd);
	if (r < 0) {
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

int net_tap_adopt(int fd)
{
	struct ifreq ifr = { 0 };

	if (ioctl(fd, TUNGETIFF, &ifr) < 0)
		return errno == EBADF ? -EBADF : -EINVAL;   /* not a tun/tap fd */
	if ((ifr.ifr_flags & (IFF_TAP | IFF_TUN)) != IFF_TAP ||
	    !(ifr.ifr_flags & IFF_VNET_HDR) || !(ifr.ifr_flags & IFF_NO_PI))
		return -EINVAL;
	return set_hdr_nonblock(fd);
}

unsigned net_tap_offload_flags(uint64_t f)
{
	unsigned fl = 0;
	if (!(f & (1ull << VIRTIO_NET_F_GUEST_CSUM)))
		return 0;   /* the TSO flags need TUN_F_CSUM */
	fl |= TUN_F_CSUM;
	if (f & (1ull << VIRTIO_NET_F_GUEST_TSO4))
		fl |= TUN_F_TSO4;
	if (f & (1ull << VIRTIO_NET_F_GUEST_TSO6))
		fl |= TUN_F_TSO6;
	return fl;
}

int net_tap_set_offload(int fd, uint64_t features)
{
	return ioctl(fd, TUNSETOFFLOAD, (unsigned long)net_tap_offload_flags(features)) < 0 ? -errno : 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int net_parse_mac(const char *s, uint8_t mac[6])
{
	static const uint8_t zero[6];

	if (!s || strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	if (mac[0] & 1)
		return -EINVAL;   /* multicast */
	return memcmp(mac, zero, 6) ? 0 : -EINVAL;
}
