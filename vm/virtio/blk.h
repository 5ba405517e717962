/* virtio-blk internals shared with tests and the benchmark. */
#ifndef OCIVM_VIRTIO_BLK_H
#define OCIVM_VIRTIO_BLK_H

#include <stdint.h>

#include "vm/virtio/blk_engine.h"
#include "vm/virtio/blk_req.h"
#include "vm/virtio/virtio.h"

struct blk_stats {
	uint64_t kicks, reaps, irqs, submitted, completed;
	const char *engine;   /* "io_uring" or "sync" */
	uint64_t capacity;    /* sectors */
	bool direct;          /* an O_DIRECT fd is open */
};
/* A snapshot (racy while the device runs; exact when it is idle). */
int virtio_blk_stats(struct virtio_mmio *m, struct blk_stats *ret);

#endif
