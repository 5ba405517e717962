/* Unit tests for fs/inctab.c: incoming/'s inode table (by number and by
 * the host file's dev+ino), which hands forgotten numbers out again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "fs/inctab.h"

static struct inode_e *mk(dev_t dev, ino_t ino)
{
	struct inode_e *e = calloc(1, sizeof(*e));
	assert_non_null(e);
	e->dev = dev;
	e->rino = ino;
	e->fd = -1;
	return e;
}

static void drop(struct inode_e *e) { free(e); }

/* 100k files that each come and go (cp into incoming/, mv out): the table
 * holds the live ones only and their numbers stay small. */
static void test_numbers_come_back(void **state)
{
	struct inctab t = { 0 };
	struct inode_e *keep[10];
	size_t max = 0;

	for (int i = 0; i < 10; i++) {
		keep[i] = mk(1, (ino_t)(1000000 + i));
		assert_int_equal(inctab_add(&t, keep[i]), 0);
	}
	for (int i = 0; i < 100000; i++) {
		struct inode_e *e = mk(1, (ino_t)i);
		assert_int_equal(inctab_add(&t, e), 0);
		assert_true(e->idx > 0);
		if (e->idx > max)
			max = e->idx;
		assert_ptr_equal(inctab_find(&t, 1, (ino_t)i), e);
		assert_ptr_equal(inctab_get(&t, e->idx), e);
		inctab_del(&t, e);
		assert_null(inctab_find(&t, 1, (ino_t)i));
		free(e);
	}
	assert_true(max <= 11);
	assert_int_equal((int)t.live, 10);
	for (int i = 0; i < 10; i++) {
		assert_ptr_equal(inctab_find(&t, 1, (ino_t)(1000000 + i)), keep[i]);
		assert_ptr_equal(inctab_get(&t, keep[i]->idx), keep[i]);
	}
	assert_null(inctab_find(&t, 2, 1000000));   /* another device */
	assert_null(inctab_get(&t, 0));
	assert_null(inctab_get(&t, 1u << 30));
	inctab_clear(&t, drop);
}

/* Many live at once: all found by key and number, distinct numbers. */
static void test_many_live(void **state)
{
	struct inctab t = { 0 };
	enum { N = 50000 };
	struct inode_e **v = calloc(N, sizeof(*v));

	assert_non_null(v);
	for (int i = 0; i < N; i++) {
		v[i] = mk((dev_t)(i & 3), (ino_t)(i * 7919));
		assert_int_equal(inctab_add(&t, v[i]), 0);
	}
	for (int i = 0; i < N; i++) {
		assert_ptr_equal(inctab_find(&t, (dev_t)(i & 3), (ino_t)(i * 7919)), v[i]);
		assert_ptr_equal(inctab_get(&t, v[i]->idx), v[i]);
	}
	for (int i = 0; i < N; i += 2)
		inctab_del(&t, v[i]);
	for (int i = 0; i < N; i++)
		assert_ptr_equal(inctab_find(&t, (dev_t)(i & 3), (ino_t)(i * 7919)),
				 i % 2 ? v[i] : NULL);
	for (int i = 0; i < N; i += 2)
		free(v[i]);
	inctab_clear(&t, NULL);
	for (int i = 1; i < N; i += 2)
		free(v[i]);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers_come_back),
		cmocka_unit_test(test_many_live),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
