/* fs/perm.c: what others and the --group see of each kind of node. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fs/perm.h"

static void test_public_nodes_unchanged(void **state)
{
	assert_int_equal(fsd_perm(S_IFREG | 0444, false, false), S_IFREG | 0444);  /* README */
	assert_int_equal(fsd_perm(S_IFREG | 0644, false, true), S_IFREG | 0644);   /* MOUNT/ctl */
	assert_int_equal(fsd_perm(S_IFDIR | 0755, false, false), S_IFDIR | 0755);  /* containers/ */
	assert_int_equal(fsd_perm(S_IFLNK | 0777, true, false), S_IFLNK | 0777);   /* a link */
}

static void test_private_owner_only(void **state)
{
	assert_int_equal(fsd_perm(S_IFREG | 0444, true, false), S_IFREG | 0400);   /* stdout */
	assert_int_equal(fsd_perm(S_IFREG | 0644, true, false), S_IFREG | 0600);   /* ctl */
	assert_int_equal(fsd_perm(S_IFREG | 0200, true, false), S_IFREG | 0200);   /* stdin */
	assert_int_equal(fsd_perm(S_IFDIR | 0755, true, false), S_IFDIR | 0700);   /* containers/ID */
	assert_int_equal(fsd_perm(S_IFDIR | 0555, true, false), S_IFDIR | 0500);   /* vm/ */
}

static void test_private_group(void **state)
{
	assert_int_equal(fsd_perm(S_IFREG | 0444, true, true), S_IFREG | 0440);
	assert_int_equal(fsd_perm(S_IFREG | 0644, true, true), S_IFREG | 0660);
	assert_int_equal(fsd_perm(S_IFREG | 0200, true, true), S_IFREG | 0220);
	assert_int_equal(fsd_perm(S_IFDIR | 0755, true, true), S_IFDIR | 0750);   /* no writes in dirs */
	assert_int_equal(fsd_perm(S_IFDIR | 0555, true, true), S_IFDIR | 0550);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_public_nodes_unchanged),
		cmocka_unit_test(test_private_owner_only),
		cmocka_unit_test(test_private_group),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
