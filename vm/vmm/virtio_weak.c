/* Weak fallbacks so ocivm-vmm links and runs (UART only, no virtio
 * devices) while vm/virtio/ is not built in; the real definitions there
 * replace these. */
#include <errno.h>

#include "vm/virtio/net.h"
#include "vm/virtio/virtio.h"

__attribute__((weak)) int virtio_console_create(const struct virtio_host *host, uint64_t base,
						const struct virtio_console_opts *opts,
						struct virtio_mmio **ret)
{
	return -ENOSYS;
}

__attribute__((weak)) int virtio_console_attach(struct virtio_mmio *console, int fd)
{
	return -ENOSYS;
}

__attribute__((weak)) int virtio_blk_create(const struct virtio_host *host, uint64_t base,
					    const struct virtio_blk_opts *opts,
					    struct virtio_mmio **ret)
{
	return -ENOSYS;
}

__attribute__((weak)) int virtio_net_create(const struct virtio_host *host, uint64_t base,
					    const struct virtio_net_opts *opts,
					    struct virtio_mmio **ret)
{
	return -ENOSYS;
}

__attribute__((weak)) int virtio_net_stats(struct virtio_mmio *m, struct net_stats *ret)
{
	return -ENOSYS;
}

__attribute__((weak)) int net_tap_open(const char *name, int *ret_fd)
{
	return -ENOSYS;
}

__attribute__((weak)) int net_tap_adopt(int fd)
{
	return -ENOSYS;
}

__attribute__((weak)) int net_parse_mac(const char *s, uint8_t mac[6])
{
	return -ENOSYS;
}

__attribute__((weak)) void virtio_mmio_read(struct virtio_mmio *m, uint64_t offset,
					    void *data, unsigned len)
{
}

__attribute__((weak)) void virtio_mmio_write(struct virtio_mmio *m, uint64_t offset,
					     const void *data, unsigned len)
{
}

__attribute__((weak)) void virtio_mmio_destroy(struct virtio_mmio *m)
{
}
