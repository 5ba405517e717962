/* Unit tests for fs/slots.c: the id <-> slot tables of the tree's inodes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "fs/fsd.h"

static void test_slot_reuse_and_stale(void **state)
{
	struct fsd fs = { .lock = PTHREAD_MUTEX_INITIALIZER };
	char id[FS_ID_MAX];

	int a = fsd_slot_of(&fs, "web");
	assert_true(a > 0);
	assert_int_equal(fsd_slot_of(&fs, "web"), a);   /* stable while it lives */
	assert_int_equal(fsd_slot_id(&fs, a, id), 0);
	assert_string_equal(id, "web");
	fsd_slot_note(&fs, "web", "start: EBUSY");
	char line[64];
	assert_true(fsd_slot_last_error(&fs, "web", line, sizeof(line)));
	assert_string_equal(line, "start: EBUSY\n");
	fsd_slot_free(&fs, "web");
	/* the old inode names nothing now, and the re-created id gets another
	 * slot: a stale inode never reaches the new container */
	assert_int_equal(fsd_slot_id(&fs, a, id), -ENOENT);
	int b = fsd_slot_of(&fs, "web");
	assert_true(b > 0 && b != a);
	assert_false(fsd_slot_last_error(&fs, "web", line, sizeof(line)));
	fsd_slot_note(&fs, "nosuch", "x");   /* notes never allocate */
	assert_int_equal((int)fsd_slots_live(&fs), 1);
	assert_int_equal(fsd_slot_of(&fs, ""), fsd_slot_of(&fs, ""));
	char longid[FS_ID_MAX + 1];
	memset(longid, 'a', FS_ID_MAX);
	longid[FS_ID_MAX] = '\0';
	assert_int_equal(fsd_slot_of(&fs, longid), -EINVAL);
	fsd_slots_free_all(&fs);
}

/* 100,000 podman-style random ids created and deleted: the table holds only
 * the live ones (it used to keep every id ever seen, and scan them all). */
static void test_slots_freed(void **state)
{
	struct fsd fs = { .lock = PTHREAD_MUTEX_INITIALIZER };
	char id[80];

	for (int i = 0; i < 100000; i++) {
		snprintf(id, sizeof(id), "%064x", (unsigned)i * 2654435761u);
		assert_true(fsd_slot_of(&fs, id) > 0);
		if (i >= 10)   /* keep ten alive */
			snprintf(id, sizeof(id), "%064x", (unsigned)(i - 10) * 2654435761u),
			fsd_slot_free(&fs, id);
	}
	assert_int_equal((int)fsd_slots_live(&fs), 10);
	assert_true(fs.slot_cap <= 64);
	/* many live ids: every one still maps both ways */
	for (int i = 0; i < 5000; i++) {
		snprintf(id, sizeof(id), "c%d", i);
		assert_true(fsd_slot_of(&fs, id) > 0);
	}
	for (int i = 0; i < 5000; i++) {
		char back[FS_ID_MAX];
		snprintf(id, sizeof(id), "c%d", i);
		int s = fsd_slot_of(&fs, id);
		assert_int_equal(fsd_slot_id(&fs, s, back), 0);
		assert_string_equal(back, id);
	}
	assert_int_equal((int)fsd_slots_live(&fs), 5010);
	fsd_slots_free_all(&fs);
}

/* Slot numbers wrap at 2^24 and skip the ones still held. */
static void test_slot_wrap(void **state)
{
	struct fsd fs = { .lock = PTHREAD_MUTEX_INITIALIZER };

	int keep = fsd_slot_of(&fs, "keep");
	assert_int_equal(keep, 1);
	fs.slot_next = (1 << 24) - 2;   /* as after 16M creates */
	assert_int_equal(fsd_slot_of(&fs, "x"), (1 << 24) - 1);
	assert_int_equal(fsd_slot_of(&fs, "y"), 2);   /* wrapped, 1 is held */
	fsd_slots_free_all(&fs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slot_reuse_and_stale),
		cmocka_unit_test(test_slots_freed),
		cmocka_unit_test(test_slot_wrap),
	};
	return cmocka_run_group_tests_name("fs_slots", tests, NULL, NULL);
}
