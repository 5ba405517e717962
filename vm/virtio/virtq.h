/* Split virtqueue (virtio 1.x, 2.6) as seen from the device, over guest
 * memory that is hostile: every descriptor address and length goes through
 * gmem_ptr, chains have a hop limit, indirect tables are bounded and never
 * nested, and an avail index that runs more than the queue size ahead marks
 * the queue broken (the device then reports NEEDS_RESET).
 *
 * Threading: a queue is configured by the transport (vCPU thread) while the
 * device is stopped, and then used by exactly one device I/O thread. */
#ifndef OCIVM_VIRTQ_H
#define OCIVM_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>

#include "vm/virtio/virtio.h"

#define VIRTQ_DESC_F_NEXT 1u
#define VIRTQ_DESC_F_WRITE 2u
#define VIRTQ_DESC_F_INDIRECT 4u
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1u
#define VIRTQ_USED_F_NO_NOTIFY 1u

#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

#define VIRTQ_MAX_SIZE 256u   /* QueueNumMax we offer; power of two */
#define VIRTQ_CHAIN_MAX 256u  /* segments per chain, direct + indirect */

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_seg {
	uint8_t *p;      /* host pointer, range-checked */
	uint32_t len;
	bool write;      /* device-writable */
};

struct virtq_chain {
	uint16_t head;
	unsigned n;              /* segments in seg[] */
	unsigned n_read;         /* device-readable segments (they come first) */
	uint64_t read_len, write_len;
	struct virtq_seg seg[VIRTQ_CHAIN_MAX];
};

struct virtq {
	/* written by the driver through the transport */
	uint16_t num;
	bool ready;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	/* device state, valid after virtq_activate() */
	const struct gmem *mem;
	volatile struct virtq_desc *desc;
	volatile uint16_t *avail;   /* flags, idx, ring[num], used_event */
	volatile uint32_t *used;    /* flags|idx as u16 pair, ring[num] pairs, avail_event */
	bool event_idx, indirect;
	bool broken;
	uint16_t last_avail;   /* next avail entry to take */
	uint16_t used_idx;     /* next used entry to fill (published on publish) */
	uint16_t signalled;    /* used idx at the last interrupt */
};

/* Resolve the ring addresses for the negotiated features. 0, or -EINVAL when
 * a ring lies outside guest memory, is misaligned, or num is not a power of
 * two <= VIRTQ_MAX_SIZE. */
int virtq_activate(struct virtq *q, const struct gmem *mem, uint64_t features);
/* Forget everything (device reset). */
void virtq_reset(struct virtq *q);

/* Take the next available chain: 1 (filled c), 0 (none), -EIO when the ring
 * is malformed (the queue is then broken and stays so until reset). */
int virtq_pop(struct virtq *q, struct virtq_chain *c);
/* Give back the chain just taken (nothing was done with it). */
void virtq_unpop(struct virtq *q);
/* Number of chains the driver has made available and we have not taken, or
 * -EIO if the avail index is bogus. */
int virtq_pending(struct virtq *q);
/* Return a chain: fills a used entry (not yet visible to the driver). */
void virtq_push(struct virtq *q, uint16_t head, uint32_t len);
/* Make pushed entries visible, and say whether the driver wants an interrupt
 * now (EVENT_IDX used_event or the NO_INTERRUPT flag). */
bool virtq_publish(struct virtq *q);

/* Kick suppression: stop / restart notifications from the driver. enable
 * returns true if chains became available meanwhile (process them again). */
void virtq_disable_notify(struct virtq *q);
bool virtq_enable_notify(struct virtq *q);

/* vring_need_event from the spec: true when new_idx passed event since old. */
static inline bool virtq_need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

/* Copy up to len bytes out of the chain's readable part starting at byte off;
 * returns bytes copied. */
size_t virtq_chain_read(const struct virtq_chain *c, size_t off, void *buf, size_t len);

#endif
