/* virtio-net internals shared with the VMM, tests and the benchmark. */
#ifndef OCIVM_VIRTIO_NET_H
#define OCIVM_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "vm/virtio/net_ring.h"
#include "vm/virtio/virtio.h"

#define VIRTIO_NET_ID 1u

struct net_stats {
	uint64_t tx_packets, tx_bytes, tx_errors, tx_dropped;
	uint64_t rx_packets, rx_bytes, rx_dropped, rx_bad_chains;
	uint64_t kicks, irqs;
	bool link_up;
	int link_errno;       /* why the link went down (0: it did not) */
};
/* A snapshot (racy while the device runs; exact when it is idle). */
int virtio_net_stats(struct virtio_mmio *m, struct net_stats *ret);

/* Tap helpers (net_tap.c), each 0 or -errno.
 * open: /dev/net/tun, TUNSETIFF NAME with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR,
 * a 12-byte vnet header, non-blocking.  adopt: an fd opened by someone else
 * must be a tap with IFF_VNET_HDR (-EINVAL otherwise: the flag cannot be
 * added later); sets the header size and O_NONBLOCK.  offload: the
 * TUNSETOFFLOAD flags that follow from the guest's features. */
int net_tap_open(const char *name, int *ret_fd);
int net_tap_adopt(int fd);
int net_tap_set_offload(int fd, uint64_t features);
unsigned net_tap_offload_flags(uint64_t features);
/* "aa:bb:cc:dd:ee:ff" -> 6 bytes; -EINVAL unless a unicast MAC. */
int net_parse_mac(const char *s, uint8_t mac[6]);

#endif
