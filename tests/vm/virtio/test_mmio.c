/* virtio-mmio register model: identity, feature negotiation, queue setup
 * rules, reset, interrupt status/ack, config space. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/vm/virtio/drv.h"

static int setup(void **state)
{
	struct drv *d = calloc(1, sizeof(*d));
	assert_int_equal(drv_init(d, 1 << 20), 0);
	struct virtio_console_opts o = { .max_buffered = 4096 };
	assert_int_equal(virtio_console_create(&d->host, 0xd0000000, &o, &d->m), 0);
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	drv_fini(*state);
	free(*state);
	return 0;
}

static void test_identity(void **state)
{
	struct drv *d = *state;
	assert_int_equal(drv_rd(d, 0x0), 0x74726976);
	assert_int_equal(drv_rd(d, 0x4), 2);
	assert_int_equal(drv_rd(d, 0x8), 3);
	assert_int_not_equal(drv_rd(d, 0xc), 0);
	/* undefined offsets and odd sizes read as zero, writes are ignored */
	assert_int_equal(drv_rd(d, 0x3c), 0);
	uint16_t h = 0xffff;
	virtio_mmio_read(d->m, 0x0, &h, 2);
	assert_int_equal(h, 0);
	drv_wr(d, 0x1fc, 0x1234);
	uint8_t big[8];
	virtio_mmio_read(d->m, VIRTIO_MMIO_WINDOW - 4, big, 8);   /* beyond the window */
	/* the ioeventfds were registered, one per queue */
	assert_true(d->q[0].kick >= 0 && d->q[1].kick >= 0);
}

static uint64_t dev_features(struct drv *d)
{
	drv_wr(d, 0x14, 0);
	uint64_t f = drv_rd(d, 0x10);
	drv_wr(d, 0x14, 1);
	return f | (uint64_t)drv_rd(d, 0x10) << 32;
}

static void test_features(void **state)
{
	struct drv *d = *state;
	uint64_t f = dev_features(d);
	assert_true(f & (1ull << 32));   /* VERSION_1 */
	assert_true(f & (1ull << 29));   /* EVENT_IDX */
	assert_true(f & (1ull << 28));   /* INDIRECT_DESC */
	drv_wr(d, 0x14, 7);
	assert_int_equal(drv_rd(d, 0x10), 0);
	/* a feature the device did not offer: FEATURES_OK does not stick */
	drv_wr(d, 0x70, 1);
	drv_wr(d, 0x70, 3);
	drv_wr(d, 0x24, 0);
	drv_wr(d, 0x20, 1u << 5);
	drv_wr(d, 0x24, 1);
	drv_wr(d, 0x20, 1);
	drv_wr(d, 0x70, 0xb);
	assert_int_equal(drv_rd(d, 0x70), 3);
	/* legacy driver (no VERSION_1): refused too */
	drv_wr(d, 0x24, 0);
	drv_wr(d, 0x20, 0);
	drv_wr(d, 0x24, 1);
	drv_wr(d, 0x20, 0);
	drv_wr(d, 0x70, 0xb);
	assert_int_equal(drv_rd(d, 0x70), 3);
	/* a proper subset */
	assert_int_equal(drv_setup(d, (1ull << 32) | (1ull << 29), 2, 16), 0xf);
	assert_true(d->event_idx);
}

static void test_queue_regs(void **state)
{
	struct drv *d = *state;
	drv_wr(d, 0x30, 0);
	assert_int_equal(drv_rd(d, 0x34), 256);
	drv_wr(d, 0x30, 2);   /* no such queue */
	assert_int_equal(drv_rd(d, 0x34), 0);
	drv_wr(d, 0x44, 1);
	assert_int_equal(drv_rd(d, 0x44), 0);
	/* a ring outside guest memory: DRIVER_OK leads to NEEDS_RESET */
	drv_wr(d, 0x70, 1);
	drv_wr(d, 0x70, 3);
	drv_wr(d, 0x24, 1);
	drv_wr(d, 0x20, 1);
	drv_wr(d, 0x70, 0xb);
	drv_wr(d, 0x30, 0);
	drv_wr(d, 0x38, 16);
	drv_wr(d, 0x80, 0);
	drv_wr(d, 0x84, 0x10);   /* 64 GiB: not RAM */
	drv_wr(d, 0x44, 1);
	assert_int_equal(drv_rd(d, 0x44), 1);
	drv_wr(d, 0x70, 0xf);
	assert_true(drv_rd(d, 0x70) & 0x40);
	/* reset clears everything */
	drv_wr(d, 0x70, 0);
	assert_int_equal(drv_rd(d, 0x70), 0);
	assert_int_equal(drv_rd(d, 0x44), 0);
}

static void test_live_queue_locked(void **state)
{
	struct drv *d = *state;
	assert_int_equal(drv_setup(d, ~0ull, 2, 16), 0xf);
	drv_wr(d, 0x30, 0);
	drv_wr(d, 0x38, 64);        /* ignored while DRIVER_OK */
	drv_wr(d, 0x44, 0);
	assert_int_equal(drv_rd(d, 0x44), 1);
	/* features cannot change after FEATURES_OK */
	drv_wr(d, 0x24, 0);
	drv_wr(d, 0x20, 0);
	drv_wr(d, 0x70, 0);
	assert_int_equal(drv_setup(d, ~0ull, 2, 16), 0xf);
}

static void test_isr_ack(void **state)
{
	struct drv *d = *state;
	assert_int_equal(drv_setup(d, ~0ull, 2, 16), 0xf);
	/* guest output makes the device use a TX buffer: interrupt bit 0 */
	uint64_t buf = drv_alloc(d, 16, 16);
	memcpy(drv_ptr(d, buf), "hi", 2);
	struct drv_seg s = { buf, 2, false };
	drv_add(d, 1, &s, 1, false);
	drv_kick(d, 1);
	uint32_t id, len;
	assert_int_equal(drv_wait_used(d, 1, &id, &len, 5000), 1);
	drv_wait_reg(d, 0x60, 1);
	assert_int_equal(drv_rd(d, 0x60) & 1, 1);
	drv_wr(d, 0x64, 1);
	assert_int_equal(drv_rd(d, 0x60) & 1, 0);
}

static void test_notify_without_ioeventfd(void **state)
{
	struct drv *d = calloc(1, sizeof(*d));
	assert_int_equal(drv_init(d, 1 << 20), 0);
	d->host.ioeventfd_add = NULL;   /* platform forwards QueueNotify writes */
	assert_int_equal(virtio_console_create(&d->host, 0, NULL, &d->m), 0);
	assert_int_equal(d->q[1].kick, -1);
	assert_int_equal(drv_setup(d, ~0ull, 2, 16), 0xf);
	uint64_t buf = drv_alloc(d, 16, 16);
	struct drv_seg s = { buf, 2, false };
	drv_add(d, 1, &s, 1, false);
	drv_kick(d, 1);   /* goes through virtio_mmio_write(0x50) */
	uint32_t id, len;
	assert_int_equal(drv_wait_used(d, 1, &id, &len, 5000), 1);
	drv_fini(d);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
		T(test_identity), T(test_features), T(test_queue_regs),
		T(test_live_queue_locked), T(test_isr_ack),
		cmocka_unit_test(test_notify_without_ioeventfd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
