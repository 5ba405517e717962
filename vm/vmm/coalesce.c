#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vm/vmm/coalesce.h"

#define RING_PAGE 4096u

unsigned coalesce_replay(struct kvm_coalesced_mmio_ring *ring, unsigned max,
			 const struct bus *pio, const struct bus *mmio)
{
	unsigned n = 0;
	uint32_t first = __atomic_load_n(&ring->first, __ATOMIC_RELAXED);
	uint32_t last = __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE);

	if (first >= max || last >= max)
		return 0;
	while (first != last) {
		struct kvm_coalesced_mmio e = ring->coalesced_mmio[first];
		const struct bus *b = e.pio ? pio : mmio;
		const struct bus_range *r;
		if (e.len && e.len <= sizeof(e.data) && (r = bus_find(b, e.phys_addr, e.len)) &&
		    r->write)
			(void)r->write(r->opaque, e.phys_addr - r->base, e.data, e.len);
		first = (first + 1) % max;
		__atomic_store_n(&ring->first, first, __ATOMIC_RELEASE);
		n++;
	}
	return n;
}

void coalesce_init(struct coalesce *c, int vm_fd, void *ring_page, uint16_t port)
{
	*c = (struct coalesce){ .ring = ring_page, .vm_fd = vm_fd, .port = port,
		.max = (RING_PAGE - sizeof(struct kvm_coalesced_mmio_ring)) /
		       sizeof(struct kvm_coalesced_mmio) };
	pthread_mutex_init(&c->lock, NULL);
}

void coalesce_drain(struct coalesce *c, const struct bus *pio, const struct bus *mmio)
{
	if (!c->ring || __atomic_load_n(&c->ring->first, __ATOMIC_RELAXED) ==
			__atomic_load_n(&c->ring->last, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&c->lock);
	c->replayed += coalesce_replay(c->ring, c->max, pio, mmio);
	pthread_mutex_unlock(&c->lock);
}

int coalesce_set(struct coalesce *c, bool on)
{
	struct kvm_coalesced_mmio_zone z = { .addr = c->port, .size = 1, .pio = 1 };

	if (!c->ring || on == c->registered)
		return 0;
	if (ioctl(c->vm_fd, on ? KVM_REGISTER_COALESCED_MMIO : KVM_UNREGISTER_COALESCED_MMIO,
		  &z) < 0)
		return -errno;
	c->registered = on;
	return 0;
}

void coalesce_destroy(struct coalesce *c)
{
	if (c->ring)
		pthread_mutex_destroy(&c->lock);
	c->ring = NULL;
}
