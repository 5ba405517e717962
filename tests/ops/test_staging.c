/* ops/staging.c: STATE/.incoming and STATE/.bundles (ops/staging.h).  The
 * helpers alone (take, give back, detach, recovery with its name rules),
 * then through the runtime over the fake VM: ops_create_moved (success,
 * failure, EEXIST), delete, and a daemon killed mid-create-by-mv whose
 * bundle the next ops_open gives back to incoming/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fake_vm.h"
#include "fileio.h"
#include "ops/ops.h"
#include "ops/staging.h"

static char tmp[64], st[128], src[128];
static char log_text[16384];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void on_log(void *ctx, const char *line)
{
	pthread_mutex_lock(&mu);
	strncat(log_text, line, sizeof(log_text) - strlen(log_text) - 2);
	strcat(log_text, "\n");
	pthread_mutex_unlock(&mu);
}
static void on_event(void *ctx, const char *id, const char *line) {}
static void on_output(void *ctx, const char *id, int stream) {}
static const struct ops_listener listener = { on_event, on_output, on_log };

static int exists(const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", st, rel);
	return access(p, F_OK) == 0;
}

static const char *config =
	"{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"},"
	"\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0}}}";

/* A bundle at STATE/REL (with config.json unless bare). */
static void bundle_at(const char *rel, bool bare)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", st, rel);
	assert_int_equal(mkdir_p(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/%s/rootfs", st, rel);
	assert_int_equal(mkdir_p(p, 0755), 0);
	if (!bare) {
		snprintf(p, sizeof(p), "%s/%s/config.json", st, rel);
		assert_int_equal(file_write_atomic(p, config, strlen(config), 0644), 0);
	}
}

static int setup(void **state)
{
	strcpy(tmp, "/tmp/ops-stg-h3-XXXXXX");
	if (!mkdtemp(tmp))
		return -1;
	snprintf(st, sizeof(st), "%s/state", tmp);
	snprintf(src, sizeof(src), "%s/src", tmp);
	mkdir(st, 0700);
	mkdir(src, 0700);
	fake_reset();
	log_text[0] = '\0';
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

static bool live_none(void *ctx, const char *id) { return false; }
static bool live_keep(void *ctx, const char *id) { return strcmp(id, "keep") == 0; }
static void log_line(void *ctx, const char *line) { on_log(NULL, line); }

static void test_init_take_give_back(void **state)
{
	struct oerr err = { 0 };
	char dst[4096];

	assert_int_equal(ops_staging_init(st, &err), 0);
	assert_int_equal(ops_staging_init(st, &err), 0);   /* again: fine */
	assert_true(exists(".incoming") && exists(".bundles"));
	bundle_at(".incoming/b1", false);
	bundle_at(".bundles/b1", true);   /* a leftover of an earlier daemon */
	char inc[256];
	snprintf(inc, sizeof(inc), "%s/.incoming", st);
	int ifd = open(inc, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(ifd >= 0);
	assert_int_equal(ops_staging_take(st, "c1", ifd, "b1", dst, sizeof(dst), &err), 0);
	assert_true(strstr(dst, "/.bundles/c1") != NULL);
	assert_true(exists(".bundles/c1/config.json") && !exists(".incoming/b1"));
	assert_true(exists(".bundles/b1"));   /* another id's: untouched */
	assert_int_equal(ops_staging_give_back(st, "c1", ifd, "b1"), 0);
	assert_true(exists(".incoming/b1/config.json") && !exists(".bundles/c1"));
	/* a name that is not there: the reason names it */
	assert_int_equal(ops_staging_take(st, "c2", ifd, "nope", dst, sizeof(dst), &err), -ENOENT);
	assert_non_null(strstr(err.msg, "incoming/nope"));
	/* delete: detach, then remove */
	assert_int_equal(ops_staging_take(st, "c3", ifd, "b1", dst, sizeof(dst), NULL), 0);
	char trash[4096];
	assert_int_equal(ops_staging_detach(st, "c3", trash, sizeof(trash)), 0);
	assert_false(exists(".bundles/c3"));
	assert_non_null(strstr(trash, "/.bundles/" OPS_STAGING_GONE));
	ops_staging_remove(trash);
	assert_int_equal(access(trash, F_OK), -1);
	assert_int_equal(ops_staging_detach(st, "c3", trash, sizeof(trash)), -ENOENT);
	close(ifd);
}

/* What a dead daemon leaves in .bundles, and what recovery makes of it. */
static void test_recover_rules(void **state)
{
	assert_int_equal(ops_staging_init(st, NULL), 0);
	bundle_at(".bundles/lost", false);        /* -> incoming/lost */
	bundle_at(".bundles/dup", false);         /* incoming/dup taken -> dup.1 */
	bundle_at(".incoming/dup", false);
	bundle_at(".bundles/full", false);        /* full and full.1..9 taken: stays */
	bundle_at(".incoming/full", true);
	for (int i = 1; i <= 9; i++) {
		char rel[64];
		snprintf(rel, sizeof(rel), ".incoming/full.%d", i);
		bundle_at(rel, true);
	}
	bundle_at(".bundles/keep", false);        /* a live container's: stays */
	bundle_at(".bundles/" OPS_STAGING_GONE "77.1", false);   /* half-removed: goes */

	int n = ops_staging_recover(st, live_keep, NULL, log_line, NULL);
	assert_int_equal(n, 2);
	assert_true(exists(".incoming/lost/config.json") && !exists(".bundles/lost"));
	assert_true(exists(".incoming/dup.1/config.json") && !exists(".bundles/dup"));
	assert_true(exists(".bundles/full/config.json") && !exists(".incoming/full/config.json"));
	assert_true(exists(".bundles/keep/config.json") && !exists(".incoming/keep"));
	assert_false(exists(".bundles/" OPS_STAGING_GONE "77.1"));
	assert_non_null(strstr(log_text, "incoming/lost: the bundle of a create of lost that the "
				       "daemon did not finish is back"));
	assert_non_null(strstr(log_text, "incoming/dup.1: the bundle of a create of dup"));
	assert_non_null(strstr(log_text, "/.bundles/full: the bundle of an unfinished create could "
				       "not go back to incoming/: incoming/ has it and 9 copies"));
	/* nothing to do the second time */
	assert_int_equal(ops_staging_recover(st, live_keep, NULL, NULL, NULL), 0);
	/* no .bundles at all: nothing, no error */
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf %s/.bundles", st);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(ops_staging_recover(st, live_none, NULL, NULL, NULL), 0);
}

static struct ops *open_ops(void)
{
	struct ops_options o = { .state_dir = st, .kernel = "/default/vmlinuz",
				 .qemu_path = "/opt/qemu/bin/qemu-system-x86_64" };
	struct ops *ops = NULL;
	struct oerr err = { 0 };
	if (ops_open(&o, &listener, NULL, &ops, &err) < 0)
		fail_msg("ops_open: %s", err.msg);
	return ops;
}

static void test_create_moved(void **state)
{
	struct ops *ops = open_ops();
	struct oerr err = { 0 };
	struct ops_info info;

	assert_true(exists(".incoming") && exists(".bundles"));   /* ops_open made them */
	int ifd = ops_incoming_open(ops, &err);
	assert_true(ifd >= 0);
	bundle_at(".incoming/good", false);
	bundle_at(".incoming/bad", true);
	bundle_at(".incoming/dup", false);

	assert_int_equal(ops_create_moved(ops, "m1", ifd, "good", &err), 0);
	assert_int_equal(ops_get(ops, "m1", &info, NULL), 0);
	char want[512];
	snprintf(want, sizeof(want), "%s/.bundles/m1", st);
	assert_string_equal(info.bundle, want);
	assert_true(exists(".bundles/m1/config.json") && !exists(".incoming/good"));

	memset(&err, 0, sizeof(err));
	assert_int_equal(ops_create_moved(ops, "m2", ifd, "bad", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "config.json"));
	assert_true(exists(".incoming/bad") && !exists(".bundles/m2") && !exists("m2"));

	memset(&err, 0, sizeof(err));
	assert_int_equal(ops_create_moved(ops, "m1", ifd, "dup", &err), -EEXIST);
	assert_true(exists(".incoming/dup/config.json"));
	assert_true(exists(".bundles/m1/config.json"));   /* the live one's: kept */

	memset(&err, 0, sizeof(err));
	assert_int_equal(ops_create_moved(ops, ".x", ifd, "dup", &err), -EINVAL);
	assert_true(exists(".incoming/dup/config.json"));

	/* a restart keeps the live container's bundle where it is */
	ops_close(ops);
	ops = open_ops();
	assert_int_equal(ops_get(ops, "m1", &info, NULL), 0);
	assert_true(exists(".bundles/m1/config.json") && !exists(".incoming/m1"));

	assert_int_equal(ops_delete(ops, "m1", true, NULL), 0);
	assert_false(exists(".bundles/m1"));
	/* nothing of the delete is left in .bundles */
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A %s/.bundles)\"", st);
	assert_int_equal(system(cmd), 0);
	close(ifd);
	ops_close(ops);
}

/* A daemon killed while a create by mv boots its VM: the child hangs in
 * vm_create (fake knob) with the bundle in .bundles/ID and STATE/ID's
 * record saying creating; SIGKILL; the next ops_open undoes the create
 * and gives the bundle back. */
static void test_killed_mid_create(void **state)
{
	char mark[256];
	snprintf(mark, sizeof(mark), "%s/hung", tmp);
	assert_int_equal(ops_staging_init(st, NULL), 0);
	bundle_at(".incoming/mine", false);

	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		snprintf(fake.create_hang_mark, sizeof(fake.create_hang_mark), "%s", mark);
		struct ops *ops = open_ops();
		int ifd = ops_incoming_open(ops, NULL);
		ops_create_moved(ops, "crash", ifd, "mine", NULL);
		_exit(3);   /* not reached */
	}
	for (int i = 0; i < 3000 && access(mark, F_OK) < 0; i++)
		usleep(10000);
	assert_int_equal(access(mark, F_OK), 0);
	assert_true(exists(".bundles/crash/config.json") && !exists(".incoming/mine"));
	assert_true(exists("crash"));   /* the create's directory, no record yet */
	kill(pid, SIGKILL);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));

	struct ops *ops = open_ops();
	struct ops_info info;
	assert_int_equal(ops_get(ops, "crash", &info, NULL), -ENOENT);
	assert_false(exists("crash"));
	assert_false(exists(".bundles/crash"));
	/* back under the id (the name it had in incoming/ is not kept) */
	assert_true(exists(".incoming/crash/config.json"));
	if (!strstr(log_text, "crash: removed: the daemon stopped while it was being created"))
		fail_msg("log: %s", log_text);
	assert_non_null(strstr(log_text, "incoming/crash: the bundle of a create of crash that "
				       "the daemon did not finish is back"));
	/* and it can be created from there */
	int ifd = ops_incoming_open(ops, NULL);
	assert_int_equal(ops_create_moved(ops, "crash", ifd, "crash", NULL), 0);
	assert_int_equal(ops_delete(ops, "crash", true, NULL), 0);
	close(ifd);
	ops_close(ops);
}

/* Killed before the create's first record: STATE/ID without state.json
 * (and no VM).  Removed, and the bundle is back. */
static void test_killed_before_record(void **state)
{
	assert_int_equal(ops_staging_init(st, NULL), 0);
	bundle_at(".bundles/half", false);
	char p[512];
	snprintf(p, sizeof(p), "%s/half", st);
	mkdir(p, 0700);
	struct ops *ops = open_ops();
	assert_false(exists("half"));
	assert_true(exists(".incoming/half/config.json") && !exists(".bundles/half"));
	assert_non_null(strstr(log_text, "half: removed: a create stopped before it saved anything"));
	assert_non_null(strstr(log_text, "incoming/half: the bundle of a create of half"));
	ops_close(ops);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init_take_give_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_moved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_killed_mid_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_killed_before_record, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
