/* Unit tests for fs/ctl.c: the ctl command language, text -> struct. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <string.h>

#include "fs/ctl.h"
#include "signame.h"

static struct ctl_cmd cmd;

static int parse(const char *s, bool with_id, struct oerr *err)
{
	oerr_clear(err);
	return ctl_parse(s, strlen(s), with_id, &cmd, err);
}

static void test_create(void **state)
{
	struct oerr err;
	assert_int_equal(parse("create web /b/web pid=42 terminal=1\n", true, &err), 0);
	assert_int_equal(cmd.verb, CTL_CREATE);
	assert_string_equal(cmd.id, "web");
	assert_string_equal(cmd.bundle, "/b/web");
	assert_int_equal(cmd.n_kv, 2);
	assert_string_equal(cmd.kv[0], "pid=42");
	assert_string_equal(cmd.kv[1], "terminal=1");
}

static void test_create_errors(void **state)
{
	struct oerr err;
	assert_int_equal(parse("create web", true, &err), -EINVAL);
	assert_int_equal(err.code, EINVAL);
	assert_int_equal(parse("create web rel/path", true, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "absolute"));
	assert_int_equal(parse("create web /b novalue", true, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "key=value"));
	assert_int_equal(parse("create web /b =x", true, &err), -EINVAL);
	assert_int_equal(parse("create", true, &err), -EINVAL);
	assert_int_equal(parse("start", false, &err), 0);
	assert_int_equal(parse("create x /b", false, &err), -EINVAL);
}

static void test_container_verbs(void **state)
{
	struct oerr err;
	assert_int_equal(parse("start\n", false, &err), 0);
	assert_int_equal(cmd.verb, CTL_START);
	assert_null(cmd.id);
	assert_int_equal(parse("kill", false, &err), 0);
	assert_int_equal(cmd.signo, SIGTERM);
	assert_int_equal(parse("kill KILL", false, &err), 0);
	assert_int_equal(cmd.signo, SIGKILL);
	assert_int_equal(parse("  kill\tsigusr1  ", false, &err), 0);
	assert_int_equal(cmd.signo, SIGUSR1);
	assert_int_equal(parse("kill 9", false, &err), 0);
	assert_int_equal(cmd.signo, 9);
	assert_int_equal(parse("delete", false, &err), 0);
	assert_false(cmd.force);
	assert_int_equal(parse("delete force", false, &err), 0);
	assert_true(cmd.force);
	assert_int_equal(parse("pause", false, &err), 0);
	assert_int_equal(cmd.verb, CTL_PAUSE);
	assert_int_equal(parse("resume", false, &err), 0);
	assert_int_equal(cmd.verb, CTL_RESUME);
}

static void test_global_verbs(void **state)
{
	struct oerr err;
	assert_int_equal(parse("kill web HUP", true, &err), 0);
	assert_string_equal(cmd.id, "web");
	assert_int_equal(cmd.signo, SIGHUP);
	assert_int_equal(parse("start", true, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "container id"));
}

static void test_bad_input(void **state)
{
	struct oerr err;
	assert_int_equal(parse("", false, &err), -EINVAL);
	assert_int_equal(parse("\n", false, &err), -EINVAL);
	assert_int_equal(parse("   ", false, &err), -EINVAL);
	assert_int_equal(parse("frobnicate", false, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "frobnicate"));
	assert_int_equal(parse("start now", false, &err), -EINVAL);
	assert_int_equal(parse("kill NOPE", false, &err), -EINVAL);
	assert_int_equal(parse("kill 0", false, &err), -EINVAL);
	assert_int_equal(parse("kill 65", false, &err), -EINVAL);
	assert_int_equal(parse("kill 9x", false, &err), -EINVAL);
	assert_int_equal(parse("kill 1 2", false, &err), -EINVAL);
	assert_int_equal(parse("delete now", false, &err), -EINVAL);
	assert_int_equal(parse("start\nstart\n", false, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "one command"));
	oerr_clear(&err);
	assert_int_equal(ctl_parse("st\0art", 6, false, &cmd, &err), -EINVAL);
}

static void test_too_long(void **state)
{
	static char big[CTL_MAX_LEN + 2];
	struct oerr err;
	memset(big, 'a', sizeof(big));
	oerr_clear(&err);
	assert_int_equal(ctl_parse(big, sizeof(big), true, &cmd, &err), -E2BIG);
	assert_int_equal(err.code, E2BIG);
	/* at the limit it is parsed (and rejected only as unknown) */
	oerr_clear(&err);
	assert_int_equal(ctl_parse(big, CTL_MAX_LEN, true, &cmd, &err), -EINVAL);
}

static void test_too_many_words(void **state)
{
	char s[1024] = "create web /b";
	struct oerr err;
	for (int i = 0; i < CTL_MAX_KV; i++)
		strcat(s, " k=v");
	assert_int_equal(parse(s, true, &err), 0);
	assert_int_equal(cmd.n_kv, CTL_MAX_KV);
	strcat(s, " k=v");
	assert_int_equal(parse(s, true, &err), -EINVAL);
}

static void test_signal_names(void **state)
{
	int s = 0;
	assert_int_equal(ctl_signal_parse("SIGTERM", &s), 0);
	assert_int_equal(s, SIGTERM);
	assert_int_equal(ctl_signal_parse("winch", &s), 0);
	assert_int_equal(s, SIGWINCH);
	assert_int_equal(ctl_signal_parse("64", &s), 0);
	assert_int_equal(s, 64);
	assert_int_equal(ctl_signal_parse("SIG", &s), -EINVAL);
	assert_int_equal(ctl_signal_parse("", &s), -EINVAL);
	assert_int_equal(ctl_signal_parse("-1", &s), -EINVAL);
	assert_int_equal(ctl_signal_parse("99999999999999999999", &s), -EINVAL);
	/* one parser with the CLI (common/signame.c): real-time names and the
	 * aliases work here too */
	assert_int_equal(ctl_signal_parse("RTMIN+1", &s), 0);
	assert_int_equal(s, SIGRTMIN + 1);
	assert_int_equal(ctl_signal_parse("SIGRTMAX-1", &s), 0);
	assert_int_equal(s, SIGRTMAX - 1);
	assert_int_equal(ctl_signal_parse("RTMAX+1", &s), -EINVAL);
	assert_int_equal(ctl_signal_parse("RTMIN+", &s), -EINVAL);
	assert_int_equal(ctl_signal_parse("iot", &s), 0);
	assert_int_equal(s, SIGABRT);
	assert_int_equal(ctl_signal_parse("POLL", &s), 0);
	assert_int_equal(s, SIGIO);
	assert_int_equal(ctl_signal_parse("STKFLT", &s), 0);
	assert_int_equal(s, SIGSTKFLT);
	for (int i = 1; i < 32; i++)   /* every classic signal by its own name */
		if (sig_name(i)) {
			assert_int_equal(ctl_signal_parse(sig_name(i), &s), 0);
			assert_int_equal(s, i);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create),
		cmocka_unit_test(test_create_errors),
		cmocka_unit_test(test_container_verbs),
		cmocka_unit_test(test_global_verbs),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_too_many_words),
		cmocka_unit_test(test_signal_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
