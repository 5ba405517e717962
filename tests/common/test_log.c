/* Unit tests for the printable, errno-keeping lines of common/err.c
 * (text_fit, oerr_*) and common/log.c (what a sink receives). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "log.h"

static int all_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

static int ends_with(const char *s, const char *end)
{
	size_t a = strlen(s), b = strlen(end);
	return a >= b && strcmp(s + a - b, end) == 0;
}

static void test_fit_escapes(void **state)
{
	char out[128];
	assert_int_equal(text_fit(out, sizeof(out), "a\xff" "b\x1b[31mc\nd\te"), 25);
	assert_string_equal(out, "a\\xffb\\x1b[31mc\\x0ad\\x09e");
	char again[128];   /* idempotent: escaped text is printable */
	text_fit(again, sizeof(again), out);
	assert_string_equal(again, out);
	text_fit(out, sizeof(out), "plain \\x41 text");
	assert_string_equal(out, "plain \\x41 text");
}

static void test_fit_keeps_the_end(void **state)
{
	char in[3000], out[200];
	memset(in, 'a', sizeof(in));
	strcpy(in + 2500, ": a reason (EINVAL)");
	size_t n = text_fit(out, sizeof(out), in);
	assert_int_equal(n, strlen(out));
	assert_true(n <= sizeof(out) - 1);
	assert_true(n >= sizeof(out) - 8);
	assert_true(ends_with(out, ": a reason (EINVAL)"));
	assert_non_null(strstr(out, "..."));
	assert_int_equal(strncmp(out, "aaaa", 4), 0);
}

static void test_fit_never_splits_an_escape(void **state)
{
	char in[1000], out[101];
	memset(in, 0xff, sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	text_fit(out, sizeof(out), in);
	assert_true(all_printable(out));
	const char *mid = strstr(out, "...");
	assert_non_null(mid);
	for (const char *p = out; p < mid; p += 4)   /* whole \xff units */
		assert_int_equal(strncmp(p, "\\xff", 4), 0);
	for (const char *p = mid + 3; *p; p += 4)
		assert_int_equal(strncmp(p, "\\xff", 4), 0);
}

static void test_oerr_sys_keeps_strerror(void **state)
{
	char big[2000];
	struct oerr e = {0};
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	oerr_sys(&e, ENOSPC, "state.json of %s\x1b", big);
	assert_true(strlen(e.msg) < sizeof(e.msg));
	assert_true(ends_with(e.msg, ": No space left on device"));
	assert_true(all_printable(e.msg));
}

static void test_oerr_prefix_keeps_the_end(void **state)
{
	char big[600];
	struct oerr e = {0};
	memset(big, 'p', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	oerr_set(&e, EINVAL, "%.*s: the reason", 400, big);
	oerr_prefix(&e, "%s\xff: ", big);
	assert_true(ends_with(e.msg, ": the reason"));
	assert_true(all_printable(e.msg));
}

static char got[LOG_LINE_MAX + 64];
static void sink(void *ctx, enum log_level level, const char *line)
{
	snprintf(got, sizeof(got), "%s", line);
}

static void test_log_line_is_printable_and_keeps_errno(void **state)
{
	char id[1500];
	memset(id, 'i', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	id[3] = '\xff';
	id[700] = '\x1b';
	log_set_sink(sink, NULL);
	log_warn("create %s: a container with this id exists (%s)", id, "EEXIST");
	log_set_sink(NULL, NULL);
	assert_true(strlen(got) < LOG_LINE_MAX);
	assert_true(all_printable(got));
	assert_true(ends_with(got, "exists (EEXIST)"));
	assert_int_equal(strncmp(got, "create iii\\xffi", 15), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fit_escapes),
		cmocka_unit_test(test_fit_keeps_the_end),
		cmocka_unit_test(test_fit_never_splits_an_escape),
		cmocka_unit_test(test_oerr_sys_keeps_strerror),
		cmocka_unit_test(test_oerr_prefix_keeps_the_end),
		cmocka_unit_test(test_log_line_is_printable_and_keeps_errno),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
