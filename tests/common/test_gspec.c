/* gspec writer and parser: round trip, encoding, truncation, malformed text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gspec.h"

static char *finish(struct gspec_writer *w, size_t *len)
{
	char *t = NULL;
	assert_int_equal(gspec_finish(w, &t, len), 0);
	gspec_writer_free(w);
	return t;
}

static void test_round_trip(void **state)
{
	struct gspec_writer w;
	const char *mount[] = { "/proc", "proc", "proc", "nosuid,noexec" };
	const char *rl[] = { "RLIMIT_NOFILE", "1024", "2048" };
	const char *args[] = { "sh", "-c", "echo 'a b'\n%x", "" };
	const char *hi[] = { "caf\xc3\xa9\x7f\x01" };
	size_t len;

	gspec_writer_init(&w);
	gspec_putf(&w, "version", "%d", 1);
	gspec_put(&w, "mount", 4, mount);
	gspec_put(&w, "rlimit", 3, rl);
	for (int i = 0; i < 4; i++)
		gspec_put(&w, "arg", 1, &args[i]);
	gspec_put(&w, "hostname", 1, hi);
	gspec_put(&w, "terminal", 0, NULL);
	char *t = finish(&w, &len);
	assert_int_equal(strlen(t), len);
	assert_non_null(strstr(t, "arg echo%20'a%20b'%0A%25x\n"));
	assert_non_null(strstr(t, "arg %00\n"));
	assert_non_null(strstr(t, "hostname caf%C3%A9%7F%01\n"));
	assert_string_equal(t + len - 4, "end\n");

	struct gspec_parser ps;
	struct gspec_record r;
	gspec_parser_init(&ps, t, len);
	assert_int_equal(gspec_next(&ps, &r), 1);
	assert_string_equal(r.key, "version");
	assert_int_equal(r.nfields, 1);
	assert_string_equal(r.fields[0], "1");
	assert_int_equal(gspec_next(&ps, &r), 1);
	assert_string_equal(r.key, "mount");
	assert_int_equal(r.nfields, 4);
	for (int i = 0; i < 4; i++)
		assert_string_equal(r.fields[i], mount[i]);
	assert_int_equal(gspec_next(&ps, &r), 1);
	assert_int_equal(r.nfields, 3);
	assert_string_equal(r.fields[2], "2048");
	for (int i = 0; i < 4; i++) {
		assert_int_equal(gspec_next(&ps, &r), 1);
		assert_string_equal(r.key, "arg");
		assert_int_equal(r.nfields, 1);
		assert_string_equal(r.fields[0], args[i]);
	}
	assert_int_equal(gspec_next(&ps, &r), 1);
	assert_string_equal(r.fields[0], hi[0]);
	assert_int_equal(gspec_next(&ps, &r), 1);
	assert_string_equal(r.key, "terminal");
	assert_int_equal(r.nfields, 0);
	assert_int_equal(gspec_next(&ps, &r), 0);
	assert_int_equal(gspec_next(&ps, &r), 0); /* stays at end */
	free(t);
}

static void test_all_bytes(void **state)
{
	char raw[256];
	struct gspec_writer w;
	size_t len;

	for (int i = 0; i < 255; i++)
		raw[i] = (char)(i + 1);
	raw[255] = '\0';
	const char *f[] = { raw };
	gspec_writer_init(&w);
	gspec_put(&w, "env", 1, f);
	char *t = finish(&w, &len);
	/* exactly one space (after the key) and two newlines */
	int sp = 0, nl = 0;
	for (size_t i = 0; i < len; i++) {
		sp += t[i] == ' ';
		nl += t[i] == '\n';
		assert_true(((unsigned char)t[i] >= 0x20 && (unsigned char)t[i] < 0x7f) || t[i] == '\n');
	}
	assert_int_equal(sp, 1);
	assert_int_equal(nl, 2);
	struct gspec_parser ps;
	struct gspec_record r;
	gspec_parser_init(&ps, t, len);
	assert_int_equal(gspec_next(&ps, &r), 1);
	assert_memory_equal(r.fields[0], raw, 256);
	assert_int_equal(gspec_next(&ps, &r), 0);
	free(t);
}

static int parse_all(const char *text, int *ret_line)
{
	char *t = strdup(text);
	struct gspec_parser ps;
	struct gspec_record r;
	int rc;

	gspec_parser_init(&ps, t, strlen(t));
	while ((rc = gspec_next(&ps, &r)) == 1)
		;
	if (ret_line)
		*ret_line = ps.line;
	free(t);
	return rc;
}

static void test_truncated(void **state)
{
	int line;
	assert_int_equal(parse_all("version 1\nid a\n", &line), -EINVAL);
	assert_int_equal(line, 3);
	assert_int_equal(parse_all("version 1\nid a", NULL), -EINVAL);
	assert_int_equal(parse_all("", NULL), -EINVAL);
	assert_int_equal(parse_all("version 1\nen", NULL), -EINVAL);
	assert_int_equal(parse_all("version 1\nend", NULL), 0); /* LF-less end ok */
	assert_int_equal(parse_all("version 1\nend\n", NULL), 0);
}

static void test_malformed(void **state)
{
	static const char *bad[] = {
		"\nend\n",                  /* empty line */
		" version 1\nend\n",        /* leading space */
		"version  1\nend\n",        /* empty field */
		"version 1 \nend\n",        /* trailing space */
		"Version 1\nend\n",         /* key charset */
		"ver-sion 1\nend\n",
		"id a%\nend\n",             /* short escape */
		"id a%4\nend\n",
		"id a%zz\nend\n",           /* bad hex */
		"id a%00b\nend\n",          /* NUL inside a field */
		"id a\tb\nend\n",           /* raw control byte */
		"id a\xc3\xa9\nend\n",      /* raw high byte */
		"id a\r\nend\n",
		"k 1 2 3 4 5 6 7 8 9\nend\n", /* too many fields */
		"version 1\nend\nid x\n",   /* bytes after end */
		"end \n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int line = 0;
		int rc = parse_all(bad[i], &line);
		if (rc != -EINVAL)
			fail_msg("case %zu (%s) returned %d", i, bad[i], rc);
		assert_true(line >= 1);
	}
	/* an embedded NUL byte in the text */
	char t[] = "id a\0b\nend\n";
	struct gspec_parser ps;
	struct gspec_record r;
	gspec_parser_init(&ps, t, sizeof(t) - 1);
	assert_int_equal(gspec_next(&ps, &r), -EINVAL);
	/* eight fields is the maximum that parses */
	assert_int_equal(parse_all("k 1 2 3 4 5 6 7 8\nend\n", NULL), 0);
	assert_int_equal(parse_all("id a%2fb%2Fc\nend\n", NULL), 0);
}

static void test_writer_limits(void **state)
{
	struct gspec_writer w;
	char *t = NULL;
	size_t len;
	const char *f[9] = { "1", "2", "3", "4", "5", "6", "7", "8", "9" };

	gspec_writer_init(&w);
	gspec_put(&w, "k", 9, f);
	assert_int_equal(gspec_finish(&w, &t, &len), -EINVAL);
	assert_null(t);
	gspec_writer_free(&w);

	gspec_writer_init(&w);
	gspec_put(&w, "Bad Key", 1, f);
	assert_int_equal(gspec_finish(&w, &t, &len), -EINVAL);
	gspec_writer_free(&w);

	char *big = malloc(10000);
	memset(big, 'x', 9999);
	big[9999] = '\0';
	const char *bf[] = { big };
	gspec_writer_init(&w);
	for (int i = 0; i < 5; i++)
		gspec_put(&w, "env", 1, bf);
	assert_int_equal(gspec_finish(&w, &t, &len), 0); /* 50024 bytes fit */
	free(t);
	gspec_writer_free(&w);
	gspec_writer_init(&w);
	for (int i = 0; i < 7; i++)
		gspec_put(&w, "env", 1, bf);
	assert_int_equal(gspec_finish(&w, &t, &len), -E2BIG);
	gspec_writer_free(&w);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_all_bytes),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_writer_limits),
	};
	return cmocka_run_group_tests_name("gspec", tests, NULL, NULL);
}
