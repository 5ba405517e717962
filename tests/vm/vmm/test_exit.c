/* handle_exit fed synthetic kvm_run exits; the bus it dispatches through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>
#include <linux/kvm.h>

#include "vm/vmm/coalesce.h"
#include "vm/vmm/exit.h"

struct fake {
	uint8_t last[8];
	uint64_t off;
	unsigned len, writes, reads;
	enum exit_action action;
};

static void fake_read(void *o, uint64_t off, void *data, unsigned len)
{
	struct fake *f = o;
	f->reads++;
	f->off = off;
	memset(data, 0x5a, len);
}

static enum exit_action fake_write(void *o, uint64_t off, const void *data, unsigned len)
{
	struct fake *f = o;
	f->writes++;
	f->off = off;
	f->len = len;
	memcpy(f->last, data, len);
	return f->action;
}

struct env {
	struct bus pio, mmio;
	struct exit_stats stats;
	struct exit_ctx ctx;
	struct fake dev, power;
	union {
		struct kvm_run run;
		uint8_t page[4096];
	} r;
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	assert_int_equal(bus_add(&e->pio, 0x3f8, 8, fake_read, fake_write, &e->dev), 0);
	assert_int_equal(bus_add(&e->pio, 0x501, 1, NULL, fake_write, &e->power), 0);
	assert_int_equal(bus_add(&e->mmio, 0xd0000000, 0x200, fake_read, fake_write, &e->dev), 0);
	e->power.action = EXIT_POWEROFF;
	e->ctx = (struct exit_ctx){ &e->pio, &e->mmio, &e->stats, "" };
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static void io_exit(struct env *e, uint8_t dir, uint16_t port, uint8_t size, uint32_t count)
{
	e->r.run.exit_reason = KVM_EXIT_IO;
	e->r.run.io.direction = dir;
	e->r.run.io.port = port;
	e->r.run.io.size = size;
	e->r.run.io.count = count;
	e->r.run.io.data_offset = 1024;
}

static void test_pio_out_dispatch(void **state)
{
	struct env *e = *state;
	io_exit(e, KVM_EXIT_IO_OUT, 0x3f9, 1, 1);
	e->r.page[1024] = 'A';
	assert_int_equal(handle_exit(&e->ctx, &e->r.run), EXIT_CONTINUE);
	assert_int_equal(e->dev.writes, 1);
	assert_int_equal(e->dev.off, 1);
	assert_int_equal(e->dev.last[0], 'A');
	assert_int_equal(e->stats.io, 1);
	assert_int_equal(e->stats.total, 1);
}

static void test_pio_rep_outs(void **state)
{
	struct env *e = *state;
	io_exit(e, KVM_EXIT_IO_OUT, 0x3f8, 1, 3);
	memcpy(e->r.page + 1024, "xyz", 3);
	assert_int_equal(handle_exit(&e->ctx, &e->r.run), EXIT_CONTINUE);
	assert_int_equal(e->dev.writes, 3);
	assert_int_equal(e->dev.last[0], 'z');
}

static void test_pio_in_unclaimed_reads_ones(void **state)
{
	struct env *e = *state;
	io_exit(e, KVM_EXIT_IO_IN, 0x80, 2, 1);
	memset(e->r.page + 1024, 0, 2);
	assert_int_equal(handle_exit(&e->ctx, &e->r.run), EXIT_CONTINUE);
	assert_int_equal(e->r.page[1024], 0xff);
	assert_int_equal(e->r.page[1025], 0xff);
	assert_int_equal(e->stats.unhandled_io, 1);
}

static void test_pio_straddling_range_is_unclaimed(void **state)
{
	struct env *e = *state;
	io_exit(e, KVM_EXIT_IO_OUT, 0x3fe, 4, 1);   /* 0x3fe..0x401 crosses the end */
	assert_int_equal(handle_exit(&e->ctx, &e->r.run), EXIT_CONTINUE);
	assert_int_equal(e->dev.writes, 0);
	assert_int_equal(e->stats.unhandled_io, 1);
}

static void test_pio_poweroff(void **state)
{
	struct env *e = *state;
	io_exit(e, KVM_EXIT_IO_OUT, 0x501, 1, 1);
	assert_int_equal(handle_exit(&e->ctx, &e->r.run), EXIT_POWEROFF);
	assert_non_null(strstr(e->ctx.reason, "0x501"));
	assert_int_equal(exit_action_status(EXIT_POWEROFF), 0);
}

static void test_mmio_read_write(void **state)
{
	struct env *e = *state;
	e->r.run.exit_reason = KVM_EXIT_MMIO;
	e->r.run.mmio.phys_addr = 0xd0000070;
	e->r.run.mmio.len = 4;
	e->r.run.mmio.is_write = 0;
	assert_int_equal(handle_exit(&e->ctx, &e->r.run), EXIT_CONTINUE);
	assert_int_equal(e->dev.off, 0x70);
	assert_int_equal(e->r.run.mmio.data[3], 0x5a);
	e->r.run.mmio.is_write = 1;
	memcpy(e->r.run.mmio.data, "\x01\x02\x03\x04", 4);
	assert_int_equal(handle_exit(&e->ctx, &e->r.run), EXIT_CONTINUE);
	assert_int_equal(e->dev.len, 4);
	assert_memory_equal(e->dev.last, "\x01\x02\x03\x04", 4);
	assert_int_equal(e->stats.mmio, 2);
}

static void test_mmio_unclaimed_reads_zero(void **state)
{
	struct env *e = *state;
	e->r.run.exit_reason = KVM_EXIT_MMIO;
	e->r.run.mmio.phys_addr = 0xe0000000;
	e->r.run.mmio.len = 8;
	e->r.run.mmio.is_write = 0;
	memset(e->r.run.mmio.data, 0xee, 8);
	assert_int_equal(handle_exit(&e->ctx, &e->r.run), EXIT_CONTINUE);
	for (int i = 0; i < 8; i++)
		assert_int_equal(e->r.run.mmio.data[i], 0);
	e->r.run.mmio.len = 200;   /* bogus length: ignored, not dispatched */
	assert_int_equal(handle_exit(&e->ctx, &e->r.run), EXIT_CONTINUE);
	assert_int_equal(e->dev.reads, 0);
}

static void test_terminal_exits(void **state)
{
	struct env *e = *state;
	e->r.run.exit_reason = KVM_EXIT_SHUTDOWN;
	assert_int_equal(handle_exit(&e->ctx, &e->r.run), EXIT_SHUTDOWN);
	assert_int_equal(exit_action_status(EXIT_SHUTDOWN), 2);
	e->r.run.exit_reason = KVM_EXIT_INTERNAL_ERROR;
	e->r.run.internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
	assert_int_equal(handle_exit(&e->ctx, &e->r.run), EXIT_INTERNAL);
	assert_non_null(strstr(e->ctx.reason, "suberror 1"));
	assert_int_equal(exit_action_status(EXIT_INTERNAL), 3);
	e->r.run.exit_reason = KVM_EXIT_FAIL_ENTRY;
	assert_int_equal(handle_exit(&e->ctx, &e->r.run), EXIT_INTERNAL);
	e->r.run.exit_reason = 9999;
	assert_int_equal(handle_exit(&e->ctx, &e->r.run), EXIT_INTERNAL);
	assert_non_null(strstr(e->ctx.reason, "9999"));
	e->r.run.exit_reason = KVM_EXIT_SYSTEM_EVENT;
	e->r.run.system_event.type = KVM_SYSTEM_EVENT_RESET;
	assert_int_equal(handle_exit(&e->ctx, &e->r.run), EXIT_RESET);
	assert_int_equal(exit_action_status(EXIT_RESET), 1);
	e->r.run.system_event.type = KVM_SYSTEM_EVENT_SHUTDOWN;
	assert_int_equal(handle_exit(&e->ctx, &e->r.run), EXIT_POWEROFF);
}

static void test_benign_exits(void **state)
{
	struct env *e = *state;
	e->r.run.exit_reason = KVM_EXIT_HLT;
	assert_int_equal(handle_exit(&e->ctx, &e->r.run), EXIT_CONTINUE);
	e->r.run.exit_reason = KVM_EXIT_INTR;
	assert_int_equal(handle_exit(&e->ctx, &e->r.run), EXIT_CONTINUE);
	assert_int_equal(e->stats.hlt, 1);
	assert_int_equal(e->stats.intr, 1);
	assert_string_equal(e->ctx.reason, "");
}

static void test_bus_rules(void **state)
{
	struct bus b = { 0 };
	(void)state;
	assert_int_equal(bus_add(&b, 0x100, 0x10, NULL, NULL, NULL), 0);
	assert_int_equal(bus_add(&b, 0x10f, 1, NULL, NULL, NULL), -EEXIST);
	assert_int_equal(bus_add(&b, 0xf8, 9, NULL, NULL, NULL), -EEXIST);
	assert_int_equal(bus_add(&b, 0x110, 0, NULL, NULL, NULL), -EINVAL);
	assert_int_equal(bus_add(&b, UINT64_MAX - 1, 4, NULL, NULL, NULL), -EINVAL);
	assert_int_equal(bus_add(&b, 0x110, 1, NULL, NULL, NULL), 0);
	assert_non_null(bus_find(&b, 0x10c, 4));
	assert_null(bus_find(&b, 0x10d, 4));
	for (unsigned i = 2; i < BUS_MAX_RANGES; i++)
		assert_int_equal(bus_add(&b, 0x1000 + i, 1, NULL, NULL, NULL), 0);
	assert_int_equal(bus_add(&b, 0x9000, 1, NULL, NULL, NULL), -ENOSPC);
}

/* Deferred writes replay in order, wrap around, and skip junk entries. */
static void test_coalesce_replay(void **state)
{
	struct env *e = *state;
	union {
		struct kvm_coalesced_mmio_ring ring;
		uint8_t page[4096];
	} *r = calloc(1, sizeof(*r));
	unsigned max = (4096 - sizeof(struct kvm_coalesced_mmio_ring)) /
		       sizeof(struct kvm_coalesced_mmio);
	struct kvm_coalesced_mmio *m = r->ring.coalesced_mmio;

	r->ring.first = r->ring.last = max - 1;
	m[max - 1] = (struct kvm_coalesced_mmio){ .phys_addr = 0x3f8, .len = 1, .pio = 1, .data = "a" };
	m[0] = (struct kvm_coalesced_mmio){ .phys_addr = 0x3f8, .len = 1, .pio = 1, .data = "b" };
	m[1] = (struct kvm_coalesced_mmio){ .phys_addr = 0x9999, .len = 1, .pio = 1 };  /* no device */
	m[2] = (struct kvm_coalesced_mmio){ .phys_addr = 0x3f8, .len = 99, .pio = 1 };  /* bad len */
	m[3] = (struct kvm_coalesced_mmio){ .phys_addr = 0xd0000010, .len = 4, .pio = 0, .data = "wxyz" };
	r->ring.last = 4;
	assert_int_equal(coalesce_replay(&r->ring, max, &e->pio, &e->mmio), 5);
	assert_int_equal(r->ring.first, 4);
	assert_int_equal(e->dev.writes, 3);                    /* a, b, then the MMIO write */
	assert_memory_equal(e->dev.last, "wxyz", 4);
	assert_int_equal(e->dev.off, 0x10);
	assert_int_equal(coalesce_replay(&r->ring, max, &e->pio, &e->mmio), 0);
	r->ring.last = max + 7;                                /* corrupt index: ignored */
	assert_int_equal(coalesce_replay(&r->ring, max, &e->pio, &e->mmio), 0);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pio_out_dispatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pio_rep_outs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pio_in_unclaimed_reads_ones, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pio_straddling_range_is_unclaimed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pio_poweroff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmio_read_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmio_unclaimed_reads_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(test_terminal_exits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_benign_exits, setup, teardown),
		cmocka_unit_test(test_bus_rules),
		cmocka_unit_test_setup_teardown(test_coalesce_replay, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
