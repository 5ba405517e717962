/* EXEC through the relay (relay_proc.c) over a socketpair, without a VM:
 * a forked child runs relay_run() with the real gspawn() (no chroot) for
 * the container's process (sleep) and for the exec'd one (the EXEC handler
 * ignores the gspec and spawns the test's plan).  Checks protocol 4's
 * EXITED of an exec'd process: its exit status and ocivm-init's times
 * (spawn_us: fork to reaping, within guest_us: EXEC taken to EXITED), and
 * times 0 for a process that never ran.  alarm() bounds every case. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "chan.h"
#include "vm/guest/plan.h"
#include "vm/guest/relay.h"
#include "vm/guest/spawn.h"

static struct gplan main_plan, exec_plan;

static void plan_of(struct gplan *p, char **args)
{
	static char path[] = "PATH=/usr/bin:/bin", root[] = "/";

	memset(p, 0, sizeof(*p));
	while (args[p->n_args])
		p->args[p->n_args] = args[p->n_args], p->n_args++;
	p->env[0] = path;
	p->n_env = 1;
	p->cwd = root;
	p->umask = -1;
}

static int spawn_main(void *ctx, struct gspawn_result *ret, int *code, char *eb, size_t cap)
{
	return gspawn(&main_plan, NULL, ret, code, eb, cap);
}

static int spawn_exec(void *ctx, char *spec, size_t len, pid_t main, int *ret_terminal,
		      struct gspawn_result *ret, int *code, char *eb, size_t cap)
{
	*ret_terminal = 0;
	return gspawn(&exec_plan, NULL, ret, code, eb, cap);
}

/* Fork the guest side; returns the host end of the channel. */
static int start_relay(pid_t *ret_pid)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		static struct relay r;
		sigset_t s;
		close(sv[0]);
		sigemptyset(&s);
		sigaddset(&s, SIGCHLD);
		sigprocmask(SIG_BLOCK, &s, NULL);
		int sfd = signalfd(-1, &s, SFD_NONBLOCK | SFD_CLOEXEC);
		if (sfd < 0 || relay_init(&r, sv[1], sfd, spawn_main, NULL, 0) < 0)
			_exit(2);
		r.exec = spawn_exec;
		relay_queue(&r, CHAN_READY, NULL, 0);
		int rc = relay_run(&r);
		if (r.pid > 0)
			kill(-r.pid, SIGKILL);
		relay_free(&r);
		_exit(rc < 0 ? 1 : 0);
	}
	close(sv[1]);
	*ret_pid = pid;
	return sv[0];
}

static void read_all(int fd, void *buf, size_t n)
{
	for (size_t got = 0; got < n;) {
		ssize_t k = read(fd, (char *)buf + got, n - got);
		if (k < 0 && errno == EINTR)
			continue;
		assert_true(k > 0);
		got += (size_t)k;
	}
}

/* The next frame of process proc and type type (others are skipped). */
static uint32_t next_frame(int fd, uint8_t proc, uint8_t type, uint8_t *buf)
{
	for (;;) {
		uint8_t h[CHAN_HDR_LEN];
		struct chan_hdr hdr;
		read_all(fd, h, sizeof(h));
		assert_int_equal(chan_hdr_decode(h, &hdr), 0);
		read_all(fd, buf, hdr.len);
		if (hdr.stream == proc && hdr.type == type)
			return hdr.len;
	}
}

/* The container runs sleep; one EXEC of args; returns EXITED's payload. */
static void exec_once(char **args, uint8_t exited[CHAN_EXITED_PROC_LEN])
{
	static char *sleeper[] = { "sleep", "1000", NULL };
	static uint8_t buf[CHAN_MAX_PAYLOAD];
	uint8_t sig[4] = { SIGKILL, 0, 0, 0 };
	pid_t pid;
	int st;

	plan_of(&main_plan, sleeper);
	plan_of(&exec_plan, args);
	alarm(120);
	int fd = start_relay(&pid);
	next_frame(fd, 0, CHAN_READY, buf);
	assert_int_equal(chan_send(fd, CHAN_START, NULL, 0), 0);
	next_frame(fd, 0, CHAN_STARTED, buf);
	assert_int_equal(chan_send_proc(fd, CHAN_EXEC, 1, "x", 1), 0);
	assert_int_equal(next_frame(fd, 1, CHAN_EXITED, buf), CHAN_EXITED_PROC_LEN);
	memcpy(exited, buf, CHAN_EXITED_PROC_LEN);
	assert_int_equal(chan_send(fd, CHAN_SIGNAL, sig, sizeof(sig)), 0);
	next_frame(fd, 0, CHAN_EXITED, buf);
	close(fd);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	alarm(0);
}

static void test_exec_times(void **state)
{
	static char *args[] = { "/bin/sh", "-c", "sleep 0.2; exit 4", NULL };
	uint8_t b[CHAN_EXITED_PROC_LEN];

	exec_once(args, b);
	uint64_t spawn = chan_get_u64(b + 8), guest = chan_get_u64(b + 16);
	assert_int_equal(relay_get_u32(b), 0);
	assert_int_equal(relay_get_u32(b + 4), 4);
	/* microseconds: at least the sleep, not absurdly more */
	assert_true(spawn >= 200000 && spawn < 60000000);
	assert_true(guest >= spawn && guest < 60000000);
}

static void test_exec_never_ran(void **state)
{
	static char *args[] = { "no-such-binary-ocivm", NULL };
	uint8_t b[CHAN_EXITED_PROC_LEN];

	exec_once(args, b);
	assert_int_equal(relay_get_u32(b + 4), 127);
	assert_true(chan_get_u64(b + 8) == 0 && chan_get_u64(b + 16) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_times),
		cmocka_unit_test(test_exec_never_ran),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
