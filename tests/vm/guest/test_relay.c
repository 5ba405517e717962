/* The relay state machine end to end over a socketpair: the test is the
 * host, a forked child runs relay_run() with the real gspawn() (no chroot),
 * so START/STARTED, stdout/stderr, stdin, signals, exec failures and heavy
 * output both ways are exercised without a VM.  alarm() turns a hang into a
 * failure. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

struct result {
	int started, exited, kind, value;
	char err[512];
	char *out; size_t out_len;
	size_t err_len;
	size_t acked;   /* STDIN_ACK bytes */
};

static struct gplan plan;
static char *argbuf[8];

static void set_plan(int terminal, const char *cwd, ...)
{
	va_list ap;
	int n = 0;
	static char path[] = "PATH=/usr/bin:/bin";

	memset(&plan, 0, sizeof(plan));
	for (int i = 0; i < 8; i++) {
		free(argbuf[i]);
		argbuf[i] = NULL;
	}
	va_start(ap, cwd);
	for (const char *a; (a = va_arg(ap, const char *)) && n < 7; n++)
		plan.args[n] = argbuf[n] = strdup(a);
	va_end(ap);
	plan.n_args = n;
	plan.env[0] = path;
	plan.n_env = 1;
	plan.cwd = (char *)cwd;
	plan.umask = -1;
	plan.terminal = terminal;
}

static int test_spawn(void *ctx, struct gspawn_result *ret, int *code, char *eb, size_t cap)
{
	return gspawn(ctx, NULL, ret, code, eb, cap);
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
		if (sfd < 0 || relay_init(&r, sv[1], sfd, test_spawn, &plan, plan.terminal) < 0)
			_exit(2);
		relay_queue(&r, CHAN_READY, NULL, 0);
		int rc = relay_run(&r);
		if (r.pid > 0)
			kill(-r.pid, SIGKILL);   /* background leftovers */
		relay_free(&r);
		_exit(rc < 0 ? 1 : 0);
	}
	close(sv[1]);
	*ret_pid = pid;
	return sv[0];
}

static void send_u32(int fd, uint8_t type, uint32_t v)
{
	uint8_t b[4];
	relay_put_u32(b, v);
	assert_int_equal(chan_send(fd, type, b, 4), 0);
}

static void on_frame(struct result *res, uint8_t type, const uint8_t *p, uint32_t len)
{
	switch (type) {
	case CHAN_STARTED: assert_int_equal(len, 4); res->started = 1; break;
	case CHAN_STDOUT:
		res->out = realloc(res->out, res->out_len + len + 1);
		memcpy(res->out + res->out_len, p, len);
		res->out_len += len;
		res->out[res->out_len] = '\0';
		break;
	case CHAN_STDERR: res->err_len += len; break;
	case CHAN_STDIN_ACK: assert_int_equal(len, 4); res->acked += relay_get_u32(p); break;
	case CHAN_ERROR: snprintf(res->err, sizeof(res->err), "%.*s", (int)len, p); break;
	case CHAN_EXITED:
		assert_int_equal(len, 8);
		res->exited = 1;
		res->kind = (int)relay_get_u32(p);
		res->value = (int)relay_get_u32(p + 4);
		break;
	}
}

/* Host loop: writes `in` (may be large) as STDIN frames then STDIN_EOF,
 * while reading every frame, until EXITED; then the guest side must end. */
static void converse(int fd, pid_t pid, const char *in, size_t in_len, int send_eof,
		     struct result *res)
{
	static struct chan_reader rd;
	static uint8_t buf[65536];
	size_t sent = 0;
	int eof_sent = !send_eof;

	memset(res, 0, sizeof(*res));
	chan_reader_init(&rd);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	while (!res->exited) {
		struct pollfd pf = { fd, POLLIN | (sent < in_len || !eof_sent ? POLLOUT : 0), 0 };
		assert_true(poll(&pf, 1, -1) >= 0);
		if (pf.revents & POLLOUT) {
			if (sent < in_len) {
				uint32_t n = in_len - sent > 4096 ? 4096 : (uint32_t)(in_len - sent);
				assert_int_equal(chan_send(fd, CHAN_STDIN, in + sent, n), 0);
				sent += n;
			} else if (!eof_sent) {
				assert_int_equal(chan_send(fd, CHAN_STDIN_EOF, NULL, 0), 0);
				eof_sent = 1;
			}
		}
		if (!(pf.revents & (POLLIN | POLLHUP)))
			continue;
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			fail_msg("channel closed before EXITED");
		for (size_t off = 0; off < (size_t)n;) {
			const uint8_t *p;
			uint32_t len;
			uint8_t type;
			off += chan_reader_feed(&rd, buf + off, (size_t)n - off);
			while (chan_reader_next(&rd, &type, &p, &len) == 1)
				on_frame(res, type, p, len);
		}
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(fd);
}

static void expect_ready(int fd)
{
	uint8_t buf[64], type;
	uint32_t len;
	assert_int_equal(chan_recv(fd, &type, buf, sizeof(buf), &len), 0);
	assert_int_equal(type, CHAN_READY);
}

static void run_simple(struct result *res, const char *in, size_t in_len, int eof)
{
	pid_t pid;
	int fd = start_relay(&pid);
	expect_ready(fd);
	assert_int_equal(chan_send(fd, CHAN_START, NULL, 0), 0);
	converse(fd, pid, in, in_len, eof, res);
}

static void test_hello_exit3(void **state)
{
	struct result r;
	set_plan(0, "/", "/bin/sh", "-c", "echo hello; echo oops >&2; exit 3", NULL);
	run_simple(&r, NULL, 0, 0);
	assert_true(r.started);
	assert_string_equal(r.out, "hello\n");
	assert_int_equal(r.err_len, 5);
	assert_int_equal(r.kind, 0);
	assert_int_equal(r.value, 3);
	free(r.out);
}

static void test_missing_binary(void **state)
{
	struct result r;
	set_plan(0, "/", "no-such-binary-ocivm", NULL);
	run_simple(&r, NULL, 0, 0);
	assert_false(r.started);
	assert_non_null(strstr(r.err, "no-such-binary-ocivm: executable file not found"));
	assert_int_equal(r.kind, 0);
	assert_int_equal(r.value, 127);
}

static void test_bad_cwd(void **state)
{
	struct result r;
	set_plan(0, "/no/such/dir", "/bin/true", NULL);
	run_simple(&r, NULL, 0, 0);
	assert_false(r.started);
	assert_non_null(strstr(r.err, "cwd /no/such/dir"));
	assert_int_equal(r.value, 126);
}

/* STDIN sent before START is kept; EOF closes the pipe. */
static void test_stdin_before_start(void **state)
{
	struct result r;
	pid_t pid;
	set_plan(0, "/", "cat", NULL);
	int fd = start_relay(&pid);
	expect_ready(fd);
	assert_int_equal(chan_send(fd, CHAN_STDIN, "early ", 6), 0);
	assert_int_equal(chan_send(fd, CHAN_START, NULL, 0), 0);
	converse(fd, pid, "late", 4, 1, &r);
	assert_string_equal(r.out, "early late");
	assert_int_equal(r.value, 0);
	free(r.out);
}

static void test_signal(void **state)
{
	struct result r;
	pid_t pid;
	set_plan(0, "/", "sleep", "1000", NULL);
	int fd = start_relay(&pid);
	expect_ready(fd);
	assert_int_equal(chan_send(fd, CHAN_START, NULL, 0), 0);
	send_u32(fd, CHAN_SIGNAL, SIGTERM);
	converse(fd, pid, NULL, 0, 0, &r);
	assert_int_equal(r.kind, 1);
	assert_int_equal(r.value, SIGTERM);
}

static void test_signal_before_start(void **state)
{
	struct result r;
	pid_t pid;
	set_plan(0, "/", "/bin/true", NULL);
	int fd = start_relay(&pid);
	expect_ready(fd);
	send_u32(fd, CHAN_SIGNAL, SIGCONT);   /* harmless: nothing happens */
	send_u32(fd, CHAN_SIGNAL, SIGSTOP);   /* stops, does not end: ignored too */
	send_u32(fd, CHAN_SIGNAL, SIGTSTP);
	send_u32(fd, CHAN_SIGNAL, SIGKILL);
	converse(fd, pid, NULL, 0, 0, &r);
	assert_false(r.started);
	assert_int_equal(r.kind, 1);
	assert_int_equal(r.value, SIGKILL);
}

/* 3 MiB through cat while 1 MiB goes to stderr: both directions at once. */
static void test_heavy_both_ways(void **state)
{
	struct result r;
	size_t n = 3u << 20;
	char *in = malloc(n);
	for (size_t i = 0; i < n; i++)
		in[i] = (char)('a' + i % 26);
	set_plan(0, "/", "/bin/sh", "-c", "head -c 1048576 /dev/zero >&2; cat", NULL);
	run_simple(&r, in, n, 1);
	assert_int_equal(r.out_len, n);
	assert_memory_equal(r.out, in, n);
	assert_int_equal(r.err_len, 1048576);
	assert_int_equal(r.acked, n);   /* every stdin byte acknowledged (the host's window) */
	assert_int_equal(r.value, 0);
	free(r.out);
	free(in);
}

/* A background child keeps stdout open: EXITED still comes. */
static void test_background_holder(void **state)
{
	struct result r;
	set_plan(0, "/", "/bin/sh", "-c", "sleep 1000 & echo bg; exit 4", NULL);
	run_simple(&r, NULL, 0, 0);
	assert_string_equal(r.out, "bg\n");
	assert_int_equal(r.value, 4);
	free(r.out);
}

static void test_terminal(void **state)
{
	struct result r;
	int fd = open("/dev/ptmx", O_RDWR);
	if (fd < 0) {
		print_message("SKIP: no /dev/ptmx here\n");
		skip();
	}
	close(fd);
	set_plan(1, "/", "/bin/sh", "-c", "test -t 0 && test -t 1 && echo tty-ok", NULL);
	run_simple(&r, NULL, 0, 0);
	assert_non_null(r.out);
	assert_non_null(strstr(r.out, "tty-ok"));
	assert_int_equal(r.value, 0);
	free(r.out);
}

/* The per-process config: rlimits, umask, env, user, groups, capabilities,
 * noNewPrivileges.  Needs root (to change uid); skipped otherwise. */
static void test_identity(void **state)
{
	struct result r;
	static char env2[] = "GREETING=hi there";

	if (geteuid() != 0) {
		print_message("SKIP: needs root to switch uid\n");
		skip();
	}
	set_plan(0, "/", "/bin/sh", "-c",
		 "echo nofile=$(ulimit -n) umask=$(umask) greet=\"$GREETING\" id=$(id -u):$(id -g) "
		 "groups=\"$(id -G)\"; grep -E '^(CapEff|CapBnd|CapAmb|NoNewPrivs)' /proc/self/status", NULL);
	plan.env[1] = env2;
	plan.n_env = 2;
	plan.rlimits[0] = (struct gplan_rlimit){ RLIMIT_NOFILE, 123, 456 };
	plan.n_rlimits = 1;
	plan.umask = 027;
	plan.has_user = 1;
	plan.uid = 65534;
	plan.gid = 65534;
	plan.gids[0] = 65534;
	plan.gids[1] = 5;
	plan.n_gids = 2;
	plan.has_caps = 1;
	plan.caps[GCAP_BOUNDING] = plan.caps[GCAP_PERMITTED] = plan.caps[GCAP_EFFECTIVE] =
		plan.caps[GCAP_INHERITABLE] = plan.caps[GCAP_AMBIENT] = 1ull << 10; /* NET_BIND_SERVICE */
	plan.nnp = 1;
	run_simple(&r, NULL, 0, 0);
	assert_non_null(r.out);
	assert_non_null(strstr(r.out, "nofile=123 umask=0027 greet=hi there id=65534:65534"));
	assert_non_null(strstr(r.out, "groups=65534 5"));
	assert_non_null(strstr(r.out, "CapEff:\t0000000000000400"));
	assert_non_null(strstr(r.out, "CapBnd:\t0000000000000400"));
	assert_non_null(strstr(r.out, "CapAmb:\t0000000000000400"));
	assert_non_null(strstr(r.out, "NoNewPrivs:\t1"));
	assert_int_equal(r.value, 0);
	free(r.out);
}

static int setup(void **state)
{
	alarm(120);   /* a deadlock fails the run instead of hanging it */
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello_exit3),
		cmocka_unit_test(test_missing_binary),
		cmocka_unit_test(test_bad_cwd),
		cmocka_unit_test(test_stdin_before_start),
		cmocka_unit_test(test_signal),
		cmocka_unit_test(test_signal_before_start),
		cmocka_unit_test(test_heavy_both_ways),
		cmocka_unit_test(test_background_holder),
		cmocka_unit_test(test_terminal),
		cmocka_unit_test(test_identity),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
