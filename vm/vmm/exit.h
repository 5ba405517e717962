/* handle_exit: the decision taken after each KVM_RUN, as a pure function of
 * the kvm_run exit record and the buses (no ioctls), so it is unit-tested
 * with synthetic exits. */
#ifndef OCIVM_VMM_EXIT_H
#define OCIVM_VMM_EXIT_H

#include <stdatomic.h>
#include <stdint.h>

#include "vm/vmm/bus.h"

struct kvm_run;

/* Exit counters (all vCPUs): KVM's stats fd does not count port I/O. */
struct exit_stats {
	atomic_uint_fast64_t total, io, mmio, hlt, intr, other;
	atomic_uint_fast64_t unhandled_io, unhandled_mmio;
};

struct exit_ctx {
	const struct bus *pio, *mmio;
	struct exit_stats *stats;
	/* Filled for a terminal action: one line for the log. */
	char reason[160];
};

enum exit_action handle_exit(struct exit_ctx *ctx, struct kvm_run *run);
/* Process exit status for an action (0 powered off / stopped, 1 reset,
 * 2 shutdown, 3 internal error). */
int exit_action_status(enum exit_action a);
const char *exit_action_name(enum exit_action a);

#endif
