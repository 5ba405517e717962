/* virtio-blk request parsing (virtio 1.x, 5.2.6): a descriptor chain from the
 * virtqueue becomes a typed request with host iovecs, or an immediate status.
 * Pure: no I/O, no allocation; this is the fuzz target. */
#ifndef OCIVM_BLK_REQ_H
#define OCIVM_BLK_REQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vm/virtio/virtq.h"

#define VIRTIO_BLK_T_IN 0u
#define VIRTIO_BLK_T_OUT 1u
#define VIRTIO_BLK_T_FLUSH 4u
#define VIRTIO_BLK_T_GET_ID 8u
#define VIRTIO_BLK_T_DISCARD 11u
#define VIRTIO_BLK_T_WRITE_ZEROES 13u

#define VIRTIO_BLK_S_OK 0u
#define VIRTIO_BLK_S_IOERR 1u
#define VIRTIO_BLK_S_UNSUPP 2u

#define VIRTIO_BLK_ID_BYTES 20u
#define VIRTIO_BLK_SECTOR 512u
#define BLK_SEG_MAX (VIRTQ_CHAIN_MAX - 2)      /* data segments per request */
#define BLK_MAX_DISCARD_SECTORS (1u << 22)     /* 2 GiB per discard/zeroes */
#define BLK_MAX_REQ_BYTES (1u << 30)           /* data per IN/OUT request */

struct blk_limits {
	uint64_t capacity;   /* sectors */
	bool readonly;
	bool discard;        /* DISCARD and WRITE_ZEROES offered */
};

struct blk_req {
	uint32_t type;
	uint64_t sector;      /* IN/OUT: start; DISCARD/WZ: from the segment */
	uint64_t len;         /* bytes of data (IN/OUT), or of the range (DISCARD/WZ) */
	bool unmap;           /* WRITE_ZEROES may deallocate */
	uint8_t *status;      /* where the status byte goes */
	uint32_t used_len;    /* bytes the device writes into the chain on success */
	int iovcnt;
	struct iovec iov[BLK_SEG_MAX];
};

/* Parse chain c.  Returns:
 *   -EINVAL  no writable byte for a status: return the chain with used len 0;
 *   VIRTIO_BLK_S_OK       r is ready to go to the engine (or, for GET_ID,
 *                         complete: the id was written);
 *   VIRTIO_BLK_S_IOERR / VIRTIO_BLK_S_UNSUPP  answer at once (r->status set). */
int blk_req_parse(const struct virtq_chain *c, const struct blk_limits *lim,
		  const char serial[VIRTIO_BLK_ID_BYTES], struct blk_req *r);

#endif
