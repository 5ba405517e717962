/* Unit tests for fs/rings.c: the MOUNT/log and MOUNT/events rings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fsd.h"

static struct fsd *fs_new(void)
{
	struct fsd *fs = calloc(1, sizeof(*fs));
	pthread_mutex_init(&fs->lock, NULL);
	return fs;
}

static void test_events_whole_lines(void **state)
{
	struct fsd *fs = fs_new();
	char out[64];
	uint64_t next = 0;

	fsd_event_push_locked(fs, "t a created");
	fsd_event_push_locked(fs, "t a running\n(ignored after a newline)");
	size_t n = fsd_events_copy_locked(fs, &next, out, sizeof(out));
	assert_int_equal(n, strlen("t a created\nt a running\n"));
	assert_memory_equal(out, "t a created\nt a running\n", n);
	assert_int_equal(next, 2);
	/* nothing new: nothing copied, cursor unchanged */
	assert_int_equal(fsd_events_copy_locked(fs, &next, out, sizeof(out)), 0);
	/* a buffer that holds one line only gets one line */
	fsd_event_push_locked(fs, "t b created");
	fsd_event_push_locked(fs, "t b running");
	assert_int_equal(fsd_events_copy_locked(fs, &next, out, 14), 12);
	assert_memory_equal(out, "t b created\n", 12);
	assert_int_equal(next, 3);
	/* a buffer smaller than a line gets the line cut, and moves on */
	assert_int_equal(fsd_events_copy_locked(fs, &next, out, 5), 5);
	assert_memory_equal(out, "t b r", 5);
	assert_int_equal(next, 4);
	free(fs);
}

static void test_events_slow_reader_skips(void **state)
{
	struct fsd *fs = fs_new();
	char line[32], out[64];
	uint64_t next = 0;

	for (int i = 0; i < FS_EVENT_LINES + 10; i++) {
		snprintf(line, sizeof(line), "e%d", i);
		fsd_event_push_locked(fs, line);
	}
	size_t n = fsd_events_copy_locked(fs, &next, out, 4);
	assert_int_equal(n, 4);
	assert_memory_equal(out, "e10\n", 4);   /* the oldest kept line */
	assert_int_equal(next, 11);
	free(fs);
}

static void test_log_ring(void **state)
{
	struct fsd *fs = fs_new();
	char *text = NULL;
	size_t len = 0;

	fsd_log_sink(fs, LOG_WARN, "first\nline");
	for (int i = 0; i < FS_LOG_LINES; i++)
		fsd_log_sink(fs, LOG_INFO, "filler");
	fsd_log_sink(fs, LOG_ERR, "last");
	assert_int_equal(fsd_log_snapshot(fs, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	assert_null(strstr(text, "first"));          /* rotated out */
	assert_non_null(strstr(text, " error last\n"));
	int lines = 0;
	for (char *p = text; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, FS_LOG_LINES);
	assert_true(text[0] >= '2' && text[4] == '-' && text[10] == 'T');   /* rfc3339 */
	free(text);
	free(fs);
}

static void test_log_newlines_escaped(void **state)
{
	struct fsd *fs = fs_new();
	char *text = NULL;
	size_t len = 0;

	log_set_sink(fsd_log_sink, fs);   /* log_msg escapes what the sink gets */
	log_warn("two\nlines\xff");
	log_set_sink(NULL, NULL);
	assert_int_equal(fsd_log_snapshot(fs, &text, &len), 0);
	assert_non_null(strstr(text, " warn two\\x0alines\\xff\n"));
	free(text);
	free(fs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_events_whole_lines),
		cmocka_unit_test(test_events_slow_reader_skips),
		cmocka_unit_test(test_log_ring),
		cmocka_unit_test(test_log_newlines_escaped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
