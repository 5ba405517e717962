/* Coalesced port writes for the UART's THR (KVM_CAP_COALESCED_PIO): the
 * guest's byte writes to 0x3f8 land in a ring shared with KVM instead of
 * exiting; the VMM replays them, in order, before handling any exit and
 * every few milliseconds.  Only while no UART interrupt depends on a THR
 * write (THRI off, no loopback), so nothing the guest waits for is delayed.
 * Halves the exits of a polled serial console (LSR read + THR write). */
#ifndef OCIVM_VMM_COALESCE_H
#define OCIVM_VMM_COALESCE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vm/vmm/bus.h"

struct kvm_coalesced_mmio_ring;

struct coalesce {
	struct kvm_coalesced_mmio_ring *ring;   /* NULL: not in use */
	unsigned max;                           /* ring entries */
	int vm_fd;
	uint16_t port;
	bool registered;                        /* changed under the UART lock */
	pthread_mutex_t lock;                   /* one consumer at a time */
	uint64_t replayed;
};

/* Pure: replay the ring's pending entries through the buses, advance
 * ring->first; returns how many. */
unsigned coalesce_replay(struct kvm_coalesced_mmio_ring *ring, unsigned max,
			 const struct bus *pio, const struct bus *mmio);
/* ring is the page at KVM_COALESCED_MMIO_PAGE_OFFSET of a vCPU's kvm_run. */
void coalesce_init(struct coalesce *c, int vm_fd, void *ring_page, uint16_t port);
void coalesce_drain(struct coalesce *c, const struct bus *pio, const struct bus *mmio);
/* Register (on) or unregister (off) the zone; 0 or -errno. */
int coalesce_set(struct coalesce *c, bool on);
void coalesce_destroy(struct coalesce *c);

#endif
