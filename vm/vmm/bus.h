/* Address-range dispatch for port I/O and MMIO exits. */
#ifndef OCIVM_VMM_BUS_H
#define OCIVM_VMM_BUS_H

#include <stdint.h>

/* What the vCPU loop does after an exit. */
enum exit_action {
	EXIT_CONTINUE = 0,
	EXIT_POWEROFF,        /* guest powered off: status 0 */
	EXIT_RESET,           /* guest asked for reset/reboot: status 1 */
	EXIT_SHUTDOWN,        /* triple fault / shutdown exit: status 2 */
	EXIT_INTERNAL,        /* KVM internal error, failed entry, unknown: 3 */
	EXIT_STOPPED,         /* stopped by a control request: status 0 */
};

/* Reads fill data (len bytes); a write may end the VM by returning an
 * action other than EXIT_CONTINUE. off is relative to the range base. */
typedef void (*bus_read_fn)(void *opaque, uint64_t off, void *data, unsigned len);
typedef enum exit_action (*bus_write_fn)(void *opaque, uint64_t off,
					 const void *data, unsigned len);

struct bus_range {
	uint64_t base, len;
	bus_read_fn read;
	bus_write_fn write;
	void *opaque;
};

#define BUS_MAX_RANGES 32

/* Filled before the vCPUs start, read-only afterwards (no lock needed). */
struct bus {
	struct bus_range r[BUS_MAX_RANGES];
	unsigned n;
};

/* 0, -EEXIST on overlap, -ENOSPC when full, -EINVAL for an empty range. */
int bus_add(struct bus *b, uint64_t base, uint64_t len, bus_read_fn rd,
	    bus_write_fn wr, void *opaque);
/* The range holding [addr, addr+len), or NULL. */
const struct bus_range *bus_find(const struct bus *b, uint64_t addr, unsigned len);

#endif
