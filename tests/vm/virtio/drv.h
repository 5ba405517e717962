/* A fake virtio driver for host-side tests and the benchmark: guest memory is
 * a malloc'd region, registers go through virtio_mmio_read/write, kicks are
 * written to the ioeventfds the device registered, interrupts are read from
 * the irqfd.  No KVM. */
#ifndef OCIVM_TEST_DRV_H
#define OCIVM_TEST_DRV_H

#include <stdbool.h>
#include <stdint.h>

#include "vm/virtio/virtio.h"

#define DRV_GPA_BASE 0x100000ull
#define DRV_MAX_Q 2

struct drv_seg {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

struct drv_queue {
	uint16_t num;
	uint64_t desc, avail, used;
	uint16_t avail_idx, last_used, next_desc;
	uint16_t kicked_idx;   /* avail idx at the last notification */
	uint64_t kicks, kicks_suppressed;
	int kick;
};

struct drv {
	struct gmem mem;
	uint8_t *ram;
	uint64_t size, brk;
	struct virtio_host host;
	struct virtio_mmio *m;
	struct drv_queue q[DRV_MAX_Q];
	bool event_idx;
};

int drv_init(struct drv *d, uint64_t ram_size);
void drv_fini(struct drv *d);   /* destroys d->m too */
uint64_t drv_alloc(struct drv *d, uint64_t size, uint64_t align);
void *drv_ptr(struct drv *d, uint64_t gpa);
uint32_t drv_rd(struct drv *d, uint64_t off);
void drv_wr(struct drv *d, uint64_t off, uint32_t val);
/* ACK, DRIVER, features (offered & want), FEATURES_OK, nq queues of num,
 * DRIVER_OK.  Returns the final status register. */
uint32_t drv_setup(struct drv *d, uint64_t want, unsigned nq, uint16_t num);
/* Put a chain on queue qi (no kick). indirect: through one indirect table. */
uint16_t drv_add(struct drv *d, unsigned qi, const struct drv_seg *s, unsigned n, bool indirect);
/* Notify the device, unless it suppressed notifications (EVENT_IDX
 * avail_event or the NO_NOTIFY flag), as a Linux driver does. */
void drv_kick(struct drv *d, unsigned qi);
/* Next used entry: 1 and fills id/len, 0 if none. */
int drv_used(struct drv *d, unsigned qi, uint32_t *id, uint32_t *len);
/* Wait (poll the irqfd) until a used entry appears; 1, or 0 on timeout. */
int drv_wait_used(struct drv *d, unsigned qi, uint32_t *id, uint32_t *len, int timeout_ms);
/* Poll register off until (value & mask) is set: true, or false after
 * DRV_WAIT_MS of wall time (generous: the device's thread may be starved on
 * a loaded machine, under ASan). */
#define DRV_WAIT_MS 30000
bool drv_wait_reg(struct drv *d, uint64_t off, uint32_t mask);

#endif
