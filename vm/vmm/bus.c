#include <errno.h>
#include <stddef.h>

#include "vm/vmm/bus.h"

static int overlaps(const struct bus_range *r, uint64_t base, uint64_t len)
{
	return base < r->base + r->len && r->base < base + len;
}

int bus_add(struct bus *b, uint64_t base, uint64_t len, bus_read_fn rd,
	    bus_write_fn wr, void *opaque)
{
	if (len == 0 || base + len < base)
		return -EINVAL;
	for (unsigned i = 0; i < b->n; i++)
		if (overlaps(&b->r[i], base, len))
			return -EEXIST;
	if (b->n >= BUS_MAX_RANGES)
		return -ENOSPC;
	b->r[b->n++] = (struct bus_range){ base, len, rd, wr, opaque };
	return 0;
}

const struct bus_range *bus_find(const struct bus *b, uint64_t addr, unsigned len)
{
	for (unsigned i = 0; i < b->n; i++) {
		const struct bus_range *r = &b->r[i];
		if (addr >= r->base && addr - r->base < r->len &&
		    len <= r->len - (addr - r->base))
			return r;
	}
	return NULL;
}
