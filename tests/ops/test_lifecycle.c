/* Every (state, operation) pair of the lifecycle table, and id validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "ops/lifecycle.h"

/* Expected outcomes written out independently of the table in lifecycle.c:
 * "-" refused (EBUSY), "X" allowed and the container goes away, else the
 * first letter of the next state (r)unning, (c)reated, (p)aused, (s)topped. */
static const char *const expect[OPS_STATUS_COUNT] = {
	/*             start kill pause resume delete force ready started exited */
	[OPS_CREATING] = "- - - - - - c - s",
	[OPS_CREATED]  = "r c - - - X - r s",
	[OPS_RUNNING]  = "- r p - - X - - s",
	[OPS_PAUSED]   = "- - - r - X - - s",
	[OPS_STOPPED]  = "- - - - X X - - -",
};

static void test_every_pair(void **state)
{
	int pairs = 0;

	for (int s = 0; s < OPS_STATUS_COUNT; s++) {
		for (int op = 0; op < OPS_OP_COUNT; op++) {
			char want = expect[s][op * 2];
			struct ops_transition t;
			struct oerr err = { 0 };
			int r = ops_transition(s, op, &t, &err);
			if (want == '-') {
				if (r != -EBUSY || err.code != EBUSY || !strstr(err.msg, ops_status_name(s)))
					fail_msg("%s on %s: want EBUSY, got %d", ops_op_name(op),
						 ops_status_name(s), r);
			} else if (r != 0 || err.code) {
				fail_msg("%s on %s: want allowed, got %d (%s)", ops_op_name(op),
					 ops_status_name(s), r, err.msg);
			} else if (want == 'X') {
				assert_true(t.gone);
			} else {
				assert_false(t.gone);
				assert_int_equal(ops_status_name(t.next)[0], want);
			}
			pairs++;
		}
	}
	assert_int_equal(pairs, OPS_STATUS_COUNT * OPS_OP_COUNT);
}

static void test_runtime_md_musts(void **state)
{
	struct ops_transition t;
	/* start only from created */
	for (int s = 0; s < OPS_STATUS_COUNT; s++)
		assert_int_equal(ops_transition(s, OPS_OP_START, &t, NULL) == 0, s == OPS_CREATED);
	/* kill only in created or running */
	for (int s = 0; s < OPS_STATUS_COUNT; s++)
		assert_int_equal(ops_transition(s, OPS_OP_KILL, &t, NULL) == 0,
				 s == OPS_CREATED || s == OPS_RUNNING);
	/* delete only when stopped */
	for (int s = 0; s < OPS_STATUS_COUNT; s++)
		assert_int_equal(ops_transition(s, OPS_OP_DELETE, &t, NULL) == 0, s == OPS_STOPPED);
	struct oerr err = { 0 };
	assert_int_equal(ops_transition(OPS_RUNNING, OPS_OP_DELETE, &t, &err), -EBUSY);
	assert_string_equal(err.msg, "delete: container is running; delete needs a stopped "
			    "container (kill it first, or delete force)");
	assert_int_equal(ops_transition(5, OPS_OP_START, &t, NULL), -EINVAL);
	assert_int_equal(ops_transition(OPS_CREATED, OPS_OP_COUNT, &t, NULL), -EINVAL);
}

static void test_names(void **state)
{
	assert_string_equal(ops_status_name(OPS_CREATING), "creating");
	assert_string_equal(ops_status_name(OPS_STOPPED), "stopped");
	assert_string_equal(ops_status_name(9), "unknown");
	assert_string_equal(ops_op_name(OPS_OP_DELETE_FORCE), "delete force");
}

static void test_ids(void **state)
{
	static const char *good[] = { "a", "web-1", "A.b_c+d", "0", "x.y", "c0ffee" };
	static const char *bad[] = { "", ".", "..", ".hidden", "a/b", "/", "a b", "a..b", "x..",
				     "ü", "a\n", "a:b", "a*", "-" "\x01" };
	char longid[OPS_ID_MAX + 2];

	for (size_t i = 0; i < 5; i++)
		assert_int_equal(ops_id_valid(good[i], NULL), 0);
	assert_int_equal(ops_id_valid(good[5], NULL), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct oerr err = { 0 };
		if (ops_id_valid(bad[i], &err) != -EINVAL || err.code != EINVAL)
			fail_msg("id \"%s\" accepted", bad[i]);
	}
	assert_int_equal(ops_id_valid(NULL, NULL), -EINVAL);
	memset(longid, 'a', sizeof(longid));
	longid[OPS_ID_MAX] = '\0';
	assert_int_equal(ops_id_valid(longid, NULL), 0);
	longid[OPS_ID_MAX] = 'a';
	longid[OPS_ID_MAX + 1] = '\0';
	struct oerr err = { 0 };
	assert_int_equal(ops_id_valid(longid, &err), -EINVAL);
	assert_string_equal(err.msg, "id: longer than 250 bytes");
	/* every name derived from an id fits a file name (ops/ops.h) */
	assert_true(OPS_ID_MAX + OPS_ID_SUFFIX_MAX <= NAME_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_pair),
		cmocka_unit_test(test_runtime_md_musts),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_ids),
	};
	return cmocka_run_group_tests_name("ops_lifecycle", tests, NULL, NULL);
}
