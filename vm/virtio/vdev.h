/* What a virtio device model sees of its transport (internal to vm/virtio/).
 * The device never knows it sits on virtio-mmio: it gets its queues, one
 * kick eventfd per queue, the negotiated features, and two calls back. */
#ifndef OCIVM_VDEV_H
#define OCIVM_VDEV_H

#include <stdint.h>

#include "vm/virtio/virtq.h"

#define VDEV_MAX_QUEUES 2u

#define VIRTIO_STATUS_ACKNOWLEDGE 1u
#define VIRTIO_STATUS_DRIVER 2u
#define VIRTIO_STATUS_DRIVER_OK 4u
#define VIRTIO_STATUS_FEATURES_OK 8u
#define VIRTIO_STATUS_NEEDS_RESET 64u
#define VIRTIO_STATUS_FAILED 128u

struct vdev {
	const struct gmem *mem;
	uint64_t features;                 /* negotiated, valid while started */
	unsigned nq;
	struct virtq q[VDEV_MAX_QUEUES];
	int kick[VDEV_MAX_QUEUES];         /* eventfds the guest's notifies signal */
	void (*thread_init)(void *ctx);    /* virtio_host.thread_init, may be NULL */
	void *thread_ctx;
};

/* First call of a device's I/O thread. */
static inline void vdev_thread_init(struct vdev *v)
{
	if (v->thread_init)
		v->thread_init(v->thread_ctx);
}

struct vdev_ops {
	uint32_t device_id;
	uint64_t features;                 /* offered (VERSION_1 is added) */
	unsigned nqueues;
	/* device config space (offset from 0x100); unknown bytes read as 0 */
	void (*config_read)(void *dev, uint64_t off, void *data, unsigned len);
	/* DRIVER_OK: start the I/O thread. 0 or -errno (device then FAILED). */
	int (*start)(void *dev, struct vdev *v);
	/* reset or destroy: stop the I/O thread; afterwards the device touches
	 * neither queues nor guest memory. */
	void (*stop)(void *dev);
	void (*destroy)(void *dev);
};

/* Used-buffer interrupt: sets InterruptStatus bit 0 and signals the irqfd. */
void vdev_signal(struct vdev *v);
/* The device cannot go on (broken ring): status |= NEEDS_RESET, and a
 * configuration-change interrupt. */
void vdev_fail(struct vdev *v);

/* The device's config space changed (e.g. virtio-net link status):
 * ConfigGeneration moves on, and a configuration-change interrupt. */
void vdev_config_changed(struct vdev *v);

/* Build a transport around a device (ops/dev stay owned by the caller until
 * this succeeds; then virtio_mmio_destroy destroys dev via ops->destroy). */
int virtio_mmio_new(const struct virtio_host *host, uint64_t base,
		    const struct vdev_ops *ops, void *dev, struct virtio_mmio **ret);

/* The device behind a transport, if it is of that device id (else NULL). */
void *virtio_mmio_device(struct virtio_mmio *m, uint32_t device_id);

#endif
