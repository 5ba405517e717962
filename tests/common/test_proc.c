/* common/proc: fork + exec with the child's failures reported at spawn. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"

static int run(struct proc_spawn *s, int *stage, int *status)
{
	pid_t pid;
	int r = proc_spawn(s, &pid, stage);
	if (r == 0)
		assert_int_equal(proc_wait(pid, status), pid);
	return r;
}

static void test_exit_status(void **state)
{
	char *argv[] = { "/bin/sh", "-c", "exit 7", NULL };
	struct proc_spawn s = { .argv = argv, .fd = { -1, -1, -1 }, .exec_fd = -1 };
	int stage = -2, st = 0;
	assert_int_equal(run(&s, &stage, &st), 0);
	assert_int_equal(stage, PROC_STAGE_EXEC);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 7);
}

static void test_exec_failure_is_an_error(void **state)
{
	char *argv[] = { "/nonexistent/prog", NULL };
	struct proc_spawn s = { .argv = argv, .fd = { -1, -1, -1 }, .exec_fd = -1 };
	int stage = -2;
	assert_int_equal(run(&s, &stage, NULL), -ENOENT);
	assert_int_equal(stage, PROC_STAGE_EXEC);
	/* no zombie left: the child was reaped */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static void test_path_search(void **state)
{
	char *argv[] = { "true", NULL };
	struct proc_spawn s = { .argv = argv, .fd = { -1, -1, -1 }, .exec_fd = -1 };
	int st = -1;
	assert_int_equal(chdir("/"), 0);
	assert_int_equal(run(&s, NULL, &st), -ENOENT);   /* "true" is not in / */
	s.flags = PROC_PATH;
	assert_int_equal(run(&s, NULL, &st), 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_stdio_and_no_leaked_fds(void **state)
{
	int p[2], st;
	char buf[256] = "", cmd[128];
	int leak = open("/dev/null", O_RDONLY);   /* not CLOEXEC on purpose */
	assert_true(leak >= 0);
	assert_int_equal(pipe(p), 0);
	snprintf(cmd, sizeof(cmd), "echo out; echo err >&2; test -e /proc/self/fd/%d && echo leaked", leak);
	char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	struct proc_spawn s = { .argv = argv, .fd = { -1, p[1], p[1] }, .exec_fd = -1 };
	assert_int_equal(run(&s, NULL, &st), 0);
	close(p[1]);
	ssize_t n = read(p[0], buf, sizeof(buf) - 1);
	assert_true(n > 0);
	assert_string_equal(buf, "out\nerr\n");
	close(p[0]);
	close(leak);
}

/* A hook that dup2s over every low fd (as the VM jail does with its fds)
 * and then fails: the failure still reaches the parent. */
static int clobbering_hook(void *arg, int *keep_from, int *exec_fd, int *err)
{
	for (int fd = 3; fd < PROC_REPORT_FD_MIN; fd++)
		dup2(0, fd);
	*err = EPERM;
	return 2;
}

static void test_hook_failure_survives_dup2(void **state)
{
	char *argv[] = { "/bin/true", NULL };
	struct proc_spawn s = { .argv = argv, .fd = { -1, -1, -1 }, .exec_fd = -1,
				.child = clobbering_hook };
	int stage = -2;
	assert_int_equal(run(&s, &stage, NULL), -EPERM);
	assert_int_equal(stage, 2);
}

static int keep_hook(void *arg, int *keep_from, int *exec_fd, int *err)
{
	int fd = *(int *)arg;
	if (dup2(fd, 3) < 0)
		return *err = errno, 1;
	*keep_from = 4;
	return 0;
}

static void test_hook_keeps_fds(void **state)
{
	int p[2], st;
	char buf[16] = "";
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	char *argv[] = { "/bin/sh", "-c", "echo kept >&3", NULL };
	struct proc_spawn s = { .argv = argv, .fd = { -1, -1, -1 }, .exec_fd = -1,
				.child = keep_hook, .arg = &p[1] };
	assert_int_equal(run(&s, NULL, &st), 0);
	close(p[1]);
	assert_true(read(p[0], buf, sizeof(buf) - 1) > 0);
	assert_string_equal(buf, "kept\n");
	close(p[0]);
}

/* PROC_NEWPID: the child is pid 1 of its own namespace (root only: skipped
 * otherwise) and is still our child to wait for. */
/* A hook's failure with a message (proc_child_fail), and the path of an
 * exec that failed, come back in s->msg; a hook may name the program to
 * exec in the buffer s->path points to. */
static int failing_hook(void *arg, int *keep_from, int *exec_fd, int *err)
{
	proc_child_fail(5, EPERM, "step %d: %s", 3, (const char *)arg);
}

static int naming_hook(void *arg, int *keep_from, int *exec_fd, int *err)
{
	strcpy(arg, "/bin/sh");   /* the child's copy of the parent's buffer */
	return 0;
}

static void test_child_messages(void **state)
{
	char *argv[] = { "/nonexistent/prog", NULL }, msg[PROC_MSG_MAX] = "x";
	struct proc_spawn s = { .argv = argv, .fd = { -1, -1, -1 }, .exec_fd = -1, .msg = msg };
	int stage = -2, st = -1;

	assert_int_equal(run(&s, &stage, NULL), -ENOENT);
	assert_int_equal(stage, PROC_STAGE_EXEC);
	assert_string_equal(msg, "/nonexistent/prog");
	s.child = failing_hook;
	s.arg = "no entry";
	assert_int_equal(run(&s, &stage, NULL), -EPERM);
	assert_int_equal(stage, 5);
	assert_string_equal(msg, "step 3: no entry");
	char path[64] = "";
	char *sh[] = { "sh", "-c", "exit 4", NULL };
	s = (struct proc_spawn){ .path = path, .argv = sh, .fd = { -1, -1, -1 }, .exec_fd = -1,
				 .child = naming_hook, .arg = path, .msg = msg };
	assert_int_equal(run(&s, &stage, &st), 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 4);
	assert_string_equal(path, "");   /* the parent's stays as it was */
	/* a descriptor that cannot be placed: stage 0 like exec, but no path
	 * (a caller such as vm/guest/spawn.c's spawn_failed would say
	 * "exec <msg>: ..." of it) */
	char *tr[] = { "/bin/true", NULL };
	s = (struct proc_spawn){ .argv = tr, .fd = { -1, 1000, -1 }, .exec_fd = -1, .msg = msg };
	assert_int_equal(fcntl(1000, F_GETFD), -1);
	assert_int_equal(run(&s, &stage, NULL), -EBADF);
	assert_int_equal(stage, PROC_STAGE_EXEC);
	assert_string_equal(msg, "");
}

static void test_new_pid_namespace(void **state)
{
	if (geteuid() != 0)
		skip();
	int p[2], st;
	char buf[64] = "";
	assert_int_equal(pipe(p), 0);
	char *argv[] = { "/bin/sh", "-c", "echo $$; kill -0 1 && echo sees-init; "
			 "ls /proc >/dev/null; exit 5", NULL };
	struct proc_spawn s = { .argv = argv, .fd = { -1, p[1], -1 }, .exec_fd = -1,
				.flags = PROC_NEWPID };
	assert_int_equal(run(&s, NULL, &st), 0);
	close(p[1]);
	assert_true(read(p[0], buf, sizeof(buf) - 1) > 0);
	/* $$ is 1: its own pid namespace; kill -0 1 is itself */
	assert_string_equal(buf, "1\nsees-init\n");
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 5);
	close(p[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_status),
		cmocka_unit_test(test_exec_failure_is_an_error),
		cmocka_unit_test(test_path_search),
		cmocka_unit_test(test_stdio_and_no_leaked_fds),
		cmocka_unit_test(test_hook_failure_survives_dup2),
		cmocka_unit_test(test_hook_keeps_fds),
		cmocka_unit_test(test_new_pid_namespace),
		cmocka_unit_test(test_child_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
