/* Hooks with real tiny shell scripts in a temp dir: order, stdin, args and
 * env, failures, timeouts, exec errors, hooks that never read stdin. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "ops/hooks.h"

static char dir[64];

static int setup(void **state)
{
	strcpy(dir, "/tmp/ops-hooks-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *script(const char *name, const char *body)
{
	char *path;
	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	char *text;
	assert_true(asprintf(&text, "#!/bin/sh\n%s\n", body) > 0);
	assert_int_equal(file_write_atomic(path, text, strlen(text), 0755), 0);
	free(text);
	return path;
}

static char *slurp(const char *name)
{
	char path[128], *data = NULL;
	size_t len;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (file_read_all(path, 1 << 20, &data, &len) < 0)
		return NULL;
	return data;
}

static char *strv1(const char *s)
{
	return strdup(s);
}

static struct ops_config *cfg_with(enum ops_hook_kind kind, size_t n, char **paths)
{
	struct ops_config *cfg = calloc(1, sizeof(*cfg));
	cfg->hooks[kind].v = calloc(n + 1, sizeof(struct ops_hook));
	cfg->hooks[kind].n = n;
	for (size_t i = 0; i < n; i++)
		cfg->hooks[kind].v[i].path = paths[i];
	return cfg;
}

static void test_order_and_stdin(void **state)
{
	char body[256];
	char *p[3];
	for (int i = 0; i < 3; i++) {
		snprintf(body, sizeof(body), "echo hook%d >> %s/order; cat > %s/stdin%d", i, dir, dir, i);
		char name[16];
		snprintf(name, sizeof(name), "h%d", i);
		p[i] = script(name, body);
	}
	struct ops_config *cfg = cfg_with(OPS_HOOK_CREATE_RUNTIME, 3, p);
	const char *json = "{\"ociVersion\":\"1.2.0\",\"id\":\"x\",\"status\":\"creating\"}";
	struct oerr err = { 0 };
	assert_int_equal(ops_hooks_run(cfg, OPS_HOOK_CREATE_RUNTIME, json, -1, 5, &err), 0);
	char *order = slurp("order");
	assert_string_equal(order, "hook0\nhook1\nhook2\n");
	free(order);
	char *in = slurp("stdin2");
	assert_string_equal(in, json);
	free(in);
	ops_config_free(cfg);
}

static void test_args_env(void **state)
{
	char *p[1] = { strdup("/bin/sh") };
	struct ops_config *cfg = cfg_with(OPS_HOOK_POSTSTART, 1, p);
	struct ops_hook *h = &cfg->hooks[OPS_HOOK_POSTSTART].v[0];
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "echo \"$0 $1 $FOO ${HOME:-nohome}\" > %s/args", dir);
	h->args.n = 4;
	h->args.v = calloc(5, sizeof(char *));
	h->args.v[0] = strv1("myhook");
	h->args.v[1] = strv1("-c");
	h->args.v[2] = strv1(cmd);
	h->args.v[3] = strv1("one");
	/* sh -c CMD myhook... : $0 is the word after CMD */
	free(h->args.v[3]);
	h->args.v[3] = strv1("zero");
	h->args.n = 4;
	h->env.n = 1;
	h->env.v = calloc(2, sizeof(char *));
	h->env.v[0] = strv1("FOO=bar");
	assert_int_equal(ops_hooks_run(cfg, OPS_HOOK_POSTSTART, "{}", -1, 5, NULL), 0);
	char *out = slurp("args");
	assert_string_equal(out, "zero  bar nohome\n"); /* env is exactly the hook's */
	free(out);
	ops_config_free(cfg);
}

static void warn(void *ctx, const char *msg)
{
	(*(int *)ctx)++;
	assert_non_null(strstr(msg, "hooks.poststop[0]"));
}

static void test_failure_stops(void **state)
{
	char body[128];
	snprintf(body, sizeof(body), "touch %s/ran2", dir);
	char *p[2] = { script("fail", "exit 3"), script("second", body) };
	struct ops_config *cfg = cfg_with(OPS_HOOK_START_CONTAINER, 2, p);
	struct oerr err = { 0 };
	assert_int_equal(ops_hooks_run(cfg, OPS_HOOK_START_CONTAINER, "{}", -1, 5, &err), -EIO);
	assert_non_null(strstr(err.msg, "hooks.startContainer[0]: "));
	assert_non_null(strstr(err.msg, "exited with status 3"));
	char path[128];
	snprintf(path, sizeof(path), "%s/ran2", dir);
	assert_int_equal(access(path, F_OK), -1); /* the second never ran */

	/* poststop: all run, failures only counted and reported */
	struct ops_config *c2 = cfg_with(OPS_HOOK_POSTSTOP, 2, (char *[]){ strdup(p[0]), strdup(p[1]) });
	int warned = 0;
	assert_int_equal(ops_hooks_run_all(c2, OPS_HOOK_POSTSTOP, "{}", -1, 5, warn, &warned), 1);
	assert_int_equal(warned, 1);
	assert_int_equal(access(path, F_OK), 0);
	ops_config_free(c2);
	ops_config_free(cfg);
}

/* running or sleeping; a zombie waiting for a reaper counts as gone */
static int alive(pid_t pid)
{
	char path[64], *st = NULL;
	size_t len;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (file_read_all(path, 4096, &st, &len) < 0)
		return 0;
	char *p = strrchr(st, ')');
	int r = p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
	free(st);
	return r;
}

static void test_timeout(void **state)
{
	char body[128];
	snprintf(body, sizeof(body), "sleep 30 & echo $! > %s/child; wait", dir);
	char *p[1] = { script("slow", body) };
	struct ops_config *cfg = cfg_with(OPS_HOOK_PRESTART, 1, p);
	cfg->hooks[OPS_HOOK_PRESTART].v[0].timeout = 1;
	struct oerr err = { 0 };
	assert_int_equal(ops_hooks_run(cfg, OPS_HOOK_PRESTART, "{}", -1, 0, &err), -ETIMEDOUT);
	assert_non_null(strstr(err.msg, "killed after its timeout of 1 s"));
	/* the whole process group went: the background sleep is gone too */
	char *c = slurp("child");
	assert_non_null(c);
	pid_t child = atoi(c);
	free(c);
	for (int i = 0; i < 3000 && alive(child); i++)
		usleep(10000);
	assert_false(alive(child));
	/* the daemon-wide default applies when the hook has none */
	cfg->hooks[OPS_HOOK_PRESTART].v[0].timeout = 0;
	oerr_clear(&err);
	assert_int_equal(ops_hooks_run(cfg, OPS_HOOK_PRESTART, "{}", -1, 1, &err), -ETIMEDOUT);
	ops_config_free(cfg);
}

static void test_exec_errors(void **state)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/missing", dir);
	char *p[2] = { strdup(path), script("noexec", "exit 0") };
	chmod(p[1], 0644);
	struct ops_config *cfg = cfg_with(OPS_HOOK_CREATE_CONTAINER, 1, p);
	struct oerr err = { 0 };
	assert_int_equal(ops_hooks_run(cfg, OPS_HOOK_CREATE_CONTAINER, "{}", -1, 5, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "cannot run: No such file or directory"));
	struct ops_hook h = { .path = p[1] };
	oerr_clear(&err);
	assert_int_equal(ops_hook_run(&h, "{}", -1, 5, &err), -EACCES);
	free(p[1]);
	/* killed by a signal */
	char *k = script("selfkill", "kill -9 $$");
	struct ops_hook hk = { .path = k };
	oerr_clear(&err);
	assert_int_equal(ops_hook_run(&hk, "{}", -1, 5, &err), -EIO);
	assert_non_null(strstr(err.msg, "killed by signal 9"));
	free(k);
	ops_config_free(cfg);
}

static void test_ignores_stdin_and_output(void **state)
{
	/* 1 MiB of state to a hook that never reads: no hang, no SIGPIPE */
	size_t n = 1 << 20;
	char *big = malloc(n + 1);
	memset(big, 'x', n);
	big[n] = '\0';
	char *p = script("deaf", "echo out; echo err >&2; exit 0");
	struct ops_hook h = { .path = p };
	char log[128];
	snprintf(log, sizeof(log), "%s/hook.log", dir);
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ops_hook_run(&h, big, fd, 5, NULL), 0);
	close(fd);
	char *out = slurp("hook.log");
	assert_string_equal(out, "out\nerr\n");
	free(out);
	free(big);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order_and_stdin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_args_env, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_stops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ignores_stdin_and_output, setup, teardown),
	};
	return cmocka_run_group_tests_name("ops_hooks", tests, NULL, NULL);
}
