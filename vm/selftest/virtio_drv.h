/* A minimal virtio-mmio driver for the guest self-test payload (freestanding,
 * no SSE): enough to negotiate features, set up split queues and run
 * request/response chains with interrupts through the IOAPIC. */
#ifndef OCIVM_ST_VIRTIO_DRV_H
#define OCIVM_ST_VIRTIO_DRV_H

#ifdef STV_HOST_SIM
#include "st_host.h"   /* host-side simulation (tests/vm/virtio/st_host.c) */
#else
#include "selftest.h"
#endif

#define STV_QSIZE 16u
#define STV_MAX_Q 2u

#define STV_F_INDIRECT (1ull << 28)
#define STV_F_EVENT_IDX (1ull << 29)
#define STV_F_VERSION_1 (1ull << 32)

struct stv_seg {
	const void *buf;
	uint32_t len;
	int write;   /* device-writable */
};

struct stv_queue {
	volatile uint8_t *desc;
	volatile uint16_t *avail;   /* flags, idx, ring[], used_event */
	volatile uint8_t *used;
	uint16_t avail_idx, last_used;
	void *indirect;             /* one page for an indirect table */
	uint16_t event_ahead;       /* used_event = last_used + this (0: next) */
};

struct stv_dev {
	uint64_t base;
	uint32_t gsi;
	uint32_t device_id;
	uint64_t offered, features;
	struct stv_queue q[STV_MAX_Q];
	unsigned nq;
};

/* The identity registers look right (magic, version 2, a device id). */
bool stv_probe(uint64_t base, uint32_t *ret_device_id);
/* Reset, ACK, DRIVER, features = offered & want (must include VERSION_1),
 * FEATURES_OK (checked), nq queues of STV_QSIZE, DRIVER_OK, IRQ enabled.
 * 0, or a negative step number that failed. */
int stv_init(struct stv_dev *d, uint64_t base, uint32_t gsi, uint64_t want, unsigned nq);
/* Post a chain (through an indirect table if asked and negotiated) and kick. */
void stv_post(struct stv_dev *d, unsigned qi, const struct stv_seg *s, unsigned n, bool indirect);
/* Wait for the next used entry (interrupt-driven, timeout in ms): true and
 * its length, or false. */
bool stv_wait(struct stv_dev *d, unsigned qi, uint32_t *ret_len, unsigned timeout_ms);
uint32_t stv_status(const struct stv_dev *d);
uint8_t stv_cfg8(const struct stv_dev *d, unsigned off);
uint32_t stv_cfg32(const struct stv_dev *d, unsigned off);
uint64_t stv_cfg64(const struct stv_dev *d, unsigned off);

/* virtio_blk_checks.c */
void stv_blk_checks(const struct st_env *env);
/* virtio_net_checks.c */
void stv_net_checks(const struct st_env *env);

#endif
