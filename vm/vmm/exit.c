#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>

#include "vm/vmm/exit.h"

/* Port reads nobody claims return all ones (an absent ISA device). */
static enum exit_action pio_one(struct exit_ctx *ctx, uint16_t port, uint8_t *data,
				unsigned size, int is_out)
{
	const struct bus_range *r = bus_find(ctx->pio, port, size);
	if (!r) {
		atomic_fetch_add(&ctx->stats->unhandled_io, 1);
		if (!is_out)
			memset(data, 0xff, size);
		return EXIT_CONTINUE;
	}
	if (is_out)
		return r->write ? r->write(r->opaque, port - r->base, data, size)
				: EXIT_CONTINUE;
	if (r->read)
		r->read(r->opaque, port - r->base, data, size);
	else
		memset(data, 0xff, size);
	return EXIT_CONTINUE;
}

static enum exit_action exit_io(struct exit_ctx *ctx, struct kvm_run *run)
{
	unsigned size = run->io.size, count = run->io.count;
	int is_out = run->io.direction == KVM_EXIT_IO_OUT;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;

	atomic_fetch_add(&ctx->stats->io, 1);
	if (size != 1 && size != 2 && size != 4)
		return EXIT_CONTINUE;
	for (unsigned i = 0; i < count; i++, data += size) {
		enum exit_action a = pio_one(ctx, run->io.port, data, size, is_out);
		if (a != EXIT_CONTINUE) {
			snprintf(ctx->reason, sizeof(ctx->reason),
				 "guest wrote port 0x%x: %s", run->io.port,
				 exit_action_name(a));
			return a;
		}
	}
	return EXIT_CONTINUE;
}

static enum exit_action exit_mmio(struct exit_ctx *ctx, struct kvm_run *run)
{
	uint64_t addr = run->mmio.phys_addr;
	unsigned len = run->mmio.len;
	const struct bus_range *r;

	atomic_fetch_add(&ctx->stats->mmio, 1);
	if (len == 0 || len > sizeof(run->mmio.data))
		return EXIT_CONTINUE;
	r = bus_find(ctx->mmio, addr, len);
	if (!r) {
		atomic_fetch_add(&ctx->stats->unhandled_mmio, 1);
		if (!run->mmio.is_write)
			memset(run->mmio.data, 0, len);
		return EXIT_CONTINUE;
	}
	if (run->mmio.is_write) {
		enum exit_action a = r->write ? r->write(r->opaque, addr - r->base,
							 run->mmio.data, len)
					      : EXIT_CONTINUE;
		if (a != EXIT_CONTINUE)
			snprintf(ctx->reason, sizeof(ctx->reason),
				 "guest wrote 0x%llx: %s", (unsigned long long)addr,
				 exit_action_name(a));
		return a;
	}
	memset(run->mmio.data, 0, len);
	if (r->read)
		r->read(r->opaque, addr - r->base, run->mmio.data, len);
	return EXIT_CONTINUE;
}

static enum exit_action exit_system_event(struct exit_ctx *ctx, struct kvm_run *run)
{
	switch (run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		snprintf(ctx->reason, sizeof(ctx->reason), "system event: shutdown");
		return EXIT_POWEROFF;
	case KVM_SYSTEM_EVENT_RESET:
		snprintf(ctx->reason, sizeof(ctx->reason), "system event: reset");
		return EXIT_RESET;
	default:
		snprintf(ctx->reason, sizeof(ctx->reason), "system event: type %u",
			 run->system_event.type);
		return EXIT_SHUTDOWN;
	}
}

enum exit_action handle_exit(struct exit_ctx *ctx, struct kvm_run *run)
{
	ctx->reason[0] = '\0';
	atomic_fetch_add(&ctx->stats->total, 1);
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		return exit_io(ctx, run);
	case KVM_EXIT_MMIO:
		return exit_mmio(ctx, run);
	case KVM_EXIT_HLT:
		atomic_fetch_add(&ctx->stats->hlt, 1);
		return EXIT_CONTINUE;
	case KVM_EXIT_INTR:
		atomic_fetch_add(&ctx->stats->intr, 1);
		return EXIT_CONTINUE;
	case KVM_EXIT_SHUTDOWN:
		atomic_fetch_add(&ctx->stats->other, 1);
		snprintf(ctx->reason, sizeof(ctx->reason), "shutdown exit (triple fault)");
		return EXIT_SHUTDOWN;
	case KVM_EXIT_SYSTEM_EVENT:
		atomic_fetch_add(&ctx->stats->other, 1);
		return exit_system_event(ctx, run);
	case KVM_EXIT_INTERNAL_ERROR:
		atomic_fetch_add(&ctx->stats->other, 1);
		snprintf(ctx->reason, sizeof(ctx->reason), "KVM internal error, suberror %u",
			 run->internal.suberror);
		return EXIT_INTERNAL;
	case KVM_EXIT_FAIL_ENTRY:
		atomic_fetch_add(&ctx->stats->other, 1);
		snprintf(ctx->reason, sizeof(ctx->reason),
			 "KVM entry failed, hardware reason 0x%llx",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		return EXIT_INTERNAL;
	default:
		atomic_fetch_add(&ctx->stats->other, 1);
		snprintf(ctx->reason, sizeof(ctx->reason), "unhandled exit reason %u",
			 run->exit_reason);
		return EXIT_INTERNAL;
	}
}

int exit_action_status(enum exit_action a)
{
	switch (a) {
	case EXIT_POWEROFF:
	case EXIT_STOPPED:
		return 0;
	case EXIT_RESET:
		return 1;
	case EXIT_SHUTDOWN:
		return 2;
	default:
		return 3;
	}
}

const char *exit_action_name(enum exit_action a)
{
	static const char *const names[] = {
		[EXIT_CONTINUE] = "continue", [EXIT_POWEROFF] = "power off",
		[EXIT_RESET] = "reset", [EXIT_SHUTDOWN] = "shutdown",
		[EXIT_INTERNAL] = "internal error", [EXIT_STOPPED] = "stopped",
	};
	return (unsigned)a < sizeof(names) / sizeof(names[0]) ? names[a] : "?";
}
