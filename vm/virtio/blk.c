/* virtio-blk: placeholder until the device lands (same commit series). */
#include <errno.h>

#include "vm/virtio/virtio.h"

int virtio_blk_create(const struct virtio_host *host, uint64_t base,
		      const struct virtio_blk_opts *opts, struct virtio_mmio **ret)
{
	return -ENOSYS;
}
