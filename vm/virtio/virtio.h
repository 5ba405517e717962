/* The contract between the VMM platform (vm/vmm/: KVM, memory, vCPUs, bus,
 * ACPI) and the virtio code (vm/virtio/: virtqueues, the virtio-mmio
 * transport, the console and block devices, their I/O engines).
 *
 * The virtio code never touches KVM: the platform hands it guest memory, an
 * irqfd per device and a way to register ioeventfds, and forwards MMIO
 * accesses in the device's window.  The device code never knows it sits on
 * mmio (kvmtool's split). */
#ifndef OCIVM_VIRTIO_H
#define OCIVM_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Guest RAM as the host sees it: up to two regions (below the 32-bit MMIO
 * hole, and above 4 GiB). */
struct gmem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host;
};
struct gmem {
	struct gmem_region r[2];
	int n;
};

/* Host pointer for [gpa, gpa+len), or NULL unless the whole range lies in one
 * region (overflow-safe).  Every guest address goes through this. */
static inline void *gmem_ptr(const struct gmem *m, uint64_t gpa, uint64_t len)
{
	for (int i = 0; i < m->n; i++) {
		const struct gmem_region *r = &m->r[i];
		if (gpa >= r->gpa && gpa - r->gpa <= r->size &&
		    len <= r->size - (gpa - r->gpa))
			return r->host + (gpa - r->gpa);
	}
	return NULL;
}

/* What the platform gives each virtio-mmio device. */
struct virtio_host {
	const struct gmem *mem;
	int irqfd;   /* eventfd bound with KVM_IRQFD to this device's GSI (edge) */
	/* Register/unregister an ioeventfd on the QueueNotify register:
	 * a 4-byte guest write of `datamatch` at gpa signals fd. 0 or -errno. */
	int (*ioeventfd_add)(void *ctx, uint64_t gpa, uint32_t datamatch, int fd);
	int (*ioeventfd_del)(void *ctx, uint64_t gpa, uint32_t datamatch, int fd);
	/* Optional: the first call of each device I/O thread (ocivm-vmm loads
	 * the thread's seccomp filter there). */
	void (*thread_init)(void *ctx);
	void *ctx;
};

#define VIRTIO_MMIO_WINDOW 0x200u /* bytes of MMIO space per device */

struct virtio_mmio;  /* transport + its device; opaque to the platform */

/* Called by the platform on a vCPU thread for an access inside the window
 * [base, base + VIRTIO_MMIO_WINDOW); offset is relative to base, len 1/2/4/8.
 * Accesses the device does not define read as zero and are ignored. */
void virtio_mmio_read(struct virtio_mmio *m, uint64_t offset, void *data, unsigned len);
void virtio_mmio_write(struct virtio_mmio *m, uint64_t offset, const void *data, unsigned len);
/* Stop the device's threads and free it (accepts NULL). */
void virtio_mmio_destroy(struct virtio_mmio *m);

/* Device constructors (each returns a transport ready to be mapped at base). */
struct virtio_console_opts {
	size_t max_buffered;  /* guest output kept while no host client (bytes) */
};
int virtio_console_create(const struct virtio_host *host, uint64_t base,
			  const struct virtio_console_opts *opts, struct virtio_mmio **ret);
/* Give the console its host side: a connected stream fd (ownership passes to
 * the device; a previous client fd is closed).  Thread-safe. */
int virtio_console_attach(struct virtio_mmio *console, int fd);

struct virtio_blk_opts {
	const char *path;
	bool readonly;
	const char *serial;   /* GET_ID, <= 20 bytes */
	bool use_io_uring;    /* false: the synchronous engine */
};
int virtio_blk_create(const struct virtio_host *host, uint64_t base,
		      const struct virtio_blk_opts *opts, struct virtio_mmio **ret);

/* virtio-net over a tap (or, in tests, a datagram socket carrying the same
 * virtio header + frame per message).  The device owns fd from the call on
 * (closed on failure too).  tap: fd is a tap opened with IFF_TAP |
 * IFF_NO_PI | IFF_VNET_HDR (net_tap_open/net_tap_adopt); the guest's
 * offloads are then set with TUNSETOFFLOAD when it starts the device. */
struct virtio_net_opts {
	int fd;
	bool tap;
	uint8_t mac[6];
};
int virtio_net_create(const struct virtio_host *host, uint64_t base,
		      const struct virtio_net_opts *opts, struct virtio_mmio **ret);

#endif
