/* virtio-net ring logic, transport- and backend-agnostic (the fuzz target):
 * a TX chain checked and described as iovecs (virtio header + frame, the
 * layout a tap with IFF_VNET_HDR takes), and RX delivery into the driver's
 * buffers: one chain per packet, or with VIRTIO_NET_F_MRG_RXBUF a packet
 * spread over as many chains as it needs (num_buffers).
 *
 * RX reads straight into the first chain's buffers; what does not fit lands
 * in a host bounce buffer behind them and is copied into further chains,
 * which may have to wait for the driver to post more (the packet is held,
 * nothing is lost).  Every guest address went through virtq_pop (gmem_ptr). */
#ifndef OCIVM_VIRTIO_NET_RING_H
#define OCIVM_VIRTIO_NET_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vm/virtio/virtq.h"

/* Feature bits (virtio 1.2, 5.1.3). */
#define VIRTIO_NET_F_CSUM 0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_HOST_TSO4 11
#define VIRTIO_NET_F_HOST_TSO6 12
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16

#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1u
#define VIRTIO_NET_HDR_GSO_NONE 0u
#define VIRTIO_NET_HDR_GSO_TCPV4 1u
#define VIRTIO_NET_HDR_GSO_TCPV6 4u
#define VIRTIO_NET_HDR_GSO_ECN 0x80u

#define VIRTIO_NET_S_LINK_UP 1u

/* struct virtio_net_hdr_v1: with VERSION_1 num_buffers is always there. */
#define NET_HDR_LEN 12u
#define NET_HDR_NUM_BUFFERS 10u   /* offset of the le16 num_buffers */
/* Largest frame either way: a 64 KiB GSO packet + Ethernet + VLAN header. */
#define NET_FRAME_MAX 65550u
#define NET_RX_BOUNCE (NET_HDR_LEN + NET_FRAME_MAX)

/* Check a TX chain and describe its bytes.  0, or -EINVAL when the chain
 * has device-writable segments, is shorter than the header or longer than
 * header + NET_FRAME_MAX, or its header asks for an offload that was not
 * negotiated (NEEDS_CSUM without CSUM, TCPv4/v6 GSO without HOST_TSO4/6,
 * any other GSO type).  iov needs c->n entries. */
int net_tx_iov(const struct virtq_chain *c, uint64_t features, struct iovec *iov,
	       int *ret_n);

struct net_rx_used {
	uint16_t head;
	uint32_t len;
};

struct net_rx {
	struct virtq *q;
	uint64_t features;
	bool mrg;
	uint8_t *bounce;          /* NET_RX_BOUNCE bytes, owned by the caller */
	/* the chain ready for the next packet */
	bool have;
	struct virtq_chain cur;
	uint32_t cap;             /* its writable bytes */
	struct iovec iov[VIRTQ_CHAIN_MAX + 1];
	int niov;
	/* a packet whose tail (in bounce) waits for more chains */
	bool holding;
	uint32_t held_len, held_off;
	uint8_t *hdr[4];          /* flags, gso_type, num_buffers lo/hi */
	unsigned nused;
	struct net_rx_used used[VIRTQ_MAX_SIZE];
	uint64_t bad_chains;      /* chains given back unused (malformed) */
};

/* Bind to the receive queue and the negotiated features (after activate). */
void net_rx_init(struct net_rx *r, struct virtq *q, uint64_t features, uint8_t *bounce);
/* Forget every chain (device reset). */
void net_rx_reset(struct net_rx *r);

/* Buffers for the next packet: 1 and *ret_iov / *ret_n set (the chain's
 * buffers, then the bounce buffer), 0 when the driver has posted none,
 * -EIO when the ring is broken.  Not while holding. */
int net_rx_prepare(struct net_rx *r, const struct iovec **ret_iov, int *ret_n);
/* n bytes (header included) were read into those buffers: 1 delivered
 * (used entries pushed), 0 dropped (too short, or larger than the chain
 * without MRG_RXBUF; the chain is kept for the next packet), 2 held
 * (waiting for more chains: call net_rx_continue after the next RX kick),
 * -EIO broken ring. */
int net_rx_complete(struct net_rx *r, size_t n);
/* Go on with a held packet: 1 delivered, 2 still held, 0 dropped (the
 * ring cannot hold it), -EIO broken ring. */
int net_rx_continue(struct net_rx *r);

#endif
