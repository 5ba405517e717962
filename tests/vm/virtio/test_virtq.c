/* Split virtqueue against fake guest memory, including malicious rings. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vm/virtio/virtq.h"

#define BASE 0x10000ull
#define RAM (64 * 1024)
#define NUM 8
#define DESC (BASE + 0x0)
#define AVAIL (BASE + 0x1000)
#define USED (BASE + 0x2000)
#define DATA (BASE + 0x4000)

struct fx {
	uint8_t ram[RAM];
	struct gmem mem;
	struct virtq q;
	struct virtq_chain c;
};

static uint8_t *at(struct fx *f, uint64_t gpa) { return f->ram + (gpa - BASE); }

static void desc(struct fx *f, uint64_t table, unsigned i, uint64_t addr, uint32_t len,
		 uint16_t flags, uint16_t next)
{
	struct virtq_desc d = { addr, len, flags, next };
	memcpy(at(f, table) + 16 * i, &d, 16);
}

static void avail_put(struct fx *f, uint16_t idx_after, uint16_t head)
{
	uint16_t *a = (uint16_t *)at(f, AVAIL);
	a[2 + (idx_after - 1) % NUM] = head;
	a[1] = idx_after;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->mem.n = 1;
	f->mem.r[0] = (struct gmem_region){ BASE, RAM, f->ram };
	f->q.num = NUM;
	f->q.desc_gpa = DESC;
	f->q.avail_gpa = AVAIL;
	f->q.used_gpa = USED;
	f->q.ready = true;
	assert_int_equal(virtq_activate(&f->q, &f->mem,
		(1ull << VIRTIO_F_INDIRECT_DESC) | (1ull << VIRTIO_F_EVENT_IDX)), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static void test_simple_chain(void **state)
{
	struct fx *f = *state;
	desc(f, DESC, 0, DATA, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(f, DESC, 1, DATA + 16, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	desc(f, DESC, 2, DATA + 528, 1, VIRTQ_DESC_F_WRITE, 0);
	assert_int_equal(virtq_pop(&f->q, &f->c), 0);
	avail_put(f, 1, 0);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(f->c.n, 3);
	assert_int_equal(f->c.n_read, 1);
	assert_int_equal(f->c.read_len, 16);
	assert_int_equal(f->c.write_len, 513);
	assert_ptr_equal(f->c.seg[1].p, at(f, DATA + 16));
	assert_int_equal(virtq_pop(&f->q, &f->c), 0);
	virtq_push(&f->q, 0, 513);
	f->q.signalled = 0;
	uint16_t *a = (uint16_t *)at(f, AVAIL);
	a[2 + NUM] = 0;   /* used_event 0: wants an interrupt once used passes 0 */
	assert_true(virtq_publish(&f->q));
	uint32_t *u = (uint32_t *)at(f, USED);
	assert_int_equal(u[0] >> 16, 1);
	assert_int_equal(u[1], 0);
	assert_int_equal(u[2], 513);
}

static void test_indirect(void **state)
{
	struct fx *f = *state;
	uint64_t t = DATA + 0x1000;
	desc(f, t, 0, DATA, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(f, t, 1, DATA + 16, 1, VIRTQ_DESC_F_WRITE, 0);
	desc(f, DESC, 3, t, 32, VIRTQ_DESC_F_INDIRECT, 0);
	avail_put(f, 1, 3);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(f->c.head, 3);
	assert_int_equal(f->c.n, 2);
}

static void expect_broken(struct fx *f)
{
	assert_int_equal(virtq_pop(&f->q, &f->c), -EIO);
	assert_true(f->q.broken);
	assert_int_equal(virtq_pop(&f->q, &f->c), -EIO);   /* stays broken */
}

static void test_cycle(void **state)
{
	struct fx *f = *state;
	desc(f, DESC, 0, DATA, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(f, DESC, 1, DATA, 16, VIRTQ_DESC_F_NEXT, 0);
	avail_put(f, 1, 0);
	expect_broken(f);
}

static void test_indirect_cycle(void **state)
{
	struct fx *f = *state;
	uint64_t t = DATA + 0x1000;
	desc(f, t, 0, DATA, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(f, t, 1, DATA, 16, VIRTQ_DESC_F_NEXT, 0);
	desc(f, DESC, 0, t, 32, VIRTQ_DESC_F_INDIRECT, 0);
	avail_put(f, 1, 0);
	expect_broken(f);
}

static void test_out_of_range(void **state)
{
	struct fx *f = *state;
	desc(f, DESC, 0, BASE + RAM - 8, 16, 0, 0);   /* crosses the end */
	avail_put(f, 1, 0);
	expect_broken(f);
}

static void test_addr_overflow(void **state)
{
	struct fx *f = *state;
	desc(f, DESC, 0, UINT64_MAX - 4, 16, 0, 0);
	avail_put(f, 1, 0);
	expect_broken(f);
}

static void test_next_out_of_ring(void **state)
{
	struct fx *f = *state;
	desc(f, DESC, 0, DATA, 16, VIRTQ_DESC_F_NEXT, NUM + 3);
	avail_put(f, 1, 0);
	expect_broken(f);
}

static void test_head_out_of_ring(void **state)
{
	struct fx *f = *state;
	avail_put(f, 1, 1000);
	expect_broken(f);
}

static void test_oversized_indirect(void **state)
{
	struct fx *f = *state;
	desc(f, DESC, 0, DATA, 16 * (VIRTQ_CHAIN_MAX + 1), VIRTQ_DESC_F_INDIRECT, 0);
	avail_put(f, 1, 0);
	expect_broken(f);
}

static void test_indirect_bad_len(void **state)
{
	struct fx *f = *state;
	desc(f, DESC, 0, DATA, 24, VIRTQ_DESC_F_INDIRECT, 0);
	avail_put(f, 1, 0);
	expect_broken(f);
}

static void test_nested_indirect(void **state)
{
	struct fx *f = *state;
	uint64_t t = DATA + 0x1000;
	desc(f, t, 0, t, 16, VIRTQ_DESC_F_INDIRECT, 0);
	desc(f, DESC, 0, t, 16, VIRTQ_DESC_F_INDIRECT, 0);
	avail_put(f, 1, 0);
	expect_broken(f);
}

static void test_indirect_not_negotiated(void **state)
{
	struct fx *f = *state;
	assert_int_equal(virtq_activate(&f->q, &f->mem, 0), 0);
	uint64_t t = DATA + 0x1000;
	desc(f, t, 0, DATA, 16, 0, 0);
	desc(f, DESC, 0, t, 16, VIRTQ_DESC_F_INDIRECT, 0);
	avail_put(f, 1, 0);
	expect_broken(f);
}

static void test_read_after_write(void **state)
{
	struct fx *f = *state;
	desc(f, DESC, 0, DATA, 16, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	desc(f, DESC, 1, DATA, 16, 0, 0);
	avail_put(f, 1, 0);
	expect_broken(f);
}

static void test_avail_jump(void **state)
{
	struct fx *f = *state;
	desc(f, DESC, 0, DATA, 16, 0, 0);
	uint16_t *a = (uint16_t *)at(f, AVAIL);
	a[1] = NUM + 1;
	assert_int_equal(virtq_pending(&f->q), -EIO);
	expect_broken(f);
}

static void test_avail_full_ring_ok(void **state)
{
	struct fx *f = *state;
	desc(f, DESC, 0, DATA, 16, 0, 0);
	uint16_t *a = (uint16_t *)at(f, AVAIL);
	a[1] = NUM;   /* exactly a full ring is legal */
	assert_int_equal(virtq_pending(&f->q), NUM);
	for (int i = 0; i < NUM; i++)
		assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(virtq_pop(&f->q, &f->c), 0);
}

static void test_avail_wraps(void **state)
{
	struct fx *f = *state;
	desc(f, DESC, 0, DATA, 16, 0, 0);
	f->q.last_avail = 0xfffe;
	uint16_t *a = (uint16_t *)at(f, AVAIL);
	a[1] = 2;   /* 4 ahead across the wrap */
	assert_int_equal(virtq_pending(&f->q), 4);
}

static void test_ring_outside_memory(void **state)
{
	struct fx *f = *state;
	f->q.used_gpa = BASE + RAM - 8;
	assert_int_equal(virtq_activate(&f->q, &f->mem, 0), -EINVAL);
	f->q.used_gpa = USED;
	f->q.num = 6;   /* not a power of two */
	assert_int_equal(virtq_activate(&f->q, &f->mem, 0), -EINVAL);
	f->q.num = 512; /* above the maximum */
	assert_int_equal(virtq_activate(&f->q, &f->mem, 0), -EINVAL);
	f->q.num = NUM;
	f->q.desc_gpa = DESC + 8; /* misaligned */
	assert_int_equal(virtq_activate(&f->q, &f->mem, 0), -EINVAL);
}

static void test_need_event(void **state)
{
	/* spec: notify iff event lies in [old, new) */
	assert_true(virtq_need_event(0, 1, 0));
	assert_false(virtq_need_event(1, 1, 0));
	assert_true(virtq_need_event(5, 10, 2));
	assert_false(virtq_need_event(10, 10, 2));
	assert_false(virtq_need_event(1, 10, 2));
	assert_true(virtq_need_event(0xffff, 2, 0xfffe));   /* across the wrap */
	assert_false(virtq_need_event(3, 2, 0xfffe));
}

static void test_event_idx_suppression(void **state)
{
	struct fx *f = *state;
	uint16_t *a = (uint16_t *)at(f, AVAIL);
	a[2 + NUM] = 2;   /* used_event: interrupt when used passes 2 */
	virtq_push(&f->q, 0, 0);
	assert_false(virtq_publish(&f->q));   /* used 1 */
	virtq_push(&f->q, 0, 0);
	assert_false(virtq_publish(&f->q));   /* used 2 */
	virtq_push(&f->q, 0, 0);
	assert_true(virtq_publish(&f->q));    /* used 3: passed event 2 */
	assert_false(virtq_publish(&f->q));   /* nothing new */
	/* avail_event written when notifications are enabled */
	f->q.last_avail = 5;
	a[1] = 5;
	assert_false(virtq_enable_notify(&f->q));
	uint16_t *u = (uint16_t *)at(f, USED);
	assert_int_equal(u[2 + 4 * NUM], 5);
	a[1] = 6;
	assert_true(virtq_enable_notify(&f->q));
}

static void test_no_interrupt_flag(void **state)
{
	struct fx *f = *state;
	assert_int_equal(virtq_activate(&f->q, &f->mem, 0), 0);
	uint16_t *a = (uint16_t *)at(f, AVAIL);
	a[0] = VIRTQ_AVAIL_F_NO_INTERRUPT;
	virtq_push(&f->q, 0, 0);
	assert_false(virtq_publish(&f->q));
	a[0] = 0;
	virtq_push(&f->q, 0, 0);
	assert_true(virtq_publish(&f->q));
	virtq_disable_notify(&f->q);
	assert_int_equal(((uint16_t *)at(f, USED))[0], VIRTQ_USED_F_NO_NOTIFY);
	virtq_enable_notify(&f->q);
	assert_int_equal(((uint16_t *)at(f, USED))[0], 0);
}

static void test_chain_read(void **state)
{
	struct fx *f = *state;
	memcpy(at(f, DATA), "abcd", 4);
	memcpy(at(f, DATA + 100), "efgh", 4);
	desc(f, DESC, 0, DATA, 4, VIRTQ_DESC_F_NEXT, 1);
	desc(f, DESC, 1, DATA + 100, 4, 0, 0);
	avail_put(f, 1, 0);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	char buf[8] = { 0 };
	assert_int_equal(virtq_chain_read(&f->c, 2, buf, 8), 6);
	assert_memory_equal(buf, "cdefgh", 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
		T(test_simple_chain), T(test_indirect), T(test_cycle), T(test_indirect_cycle),
		T(test_out_of_range), T(test_addr_overflow), T(test_next_out_of_ring),
		T(test_head_out_of_ring), T(test_oversized_indirect), T(test_indirect_bad_len),
		T(test_nested_indirect), T(test_indirect_not_negotiated), T(test_read_after_write),
		T(test_avail_jump), T(test_avail_full_ring_ok), T(test_avail_wraps),
		T(test_ring_outside_memory), T(test_need_event), T(test_event_idx_suppression),
		T(test_no_interrupt_flag), T(test_chain_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
