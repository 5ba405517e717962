/* The relay state machine end to end over a socketpair: the test is the
 * host, a forked child runs relay_run() with the real gspawn() (no chroot),
 * so START/STARTED, stdout/stderr, stdin, signals, exec failures and heavy
 * output both ways are exercised without a VM.  The end rule is checked
 * with exact interleavings: a host that reads a few bytes at a time through
 * minimal socket buffers (short writes and EAGAIN on every frame, frames
 * split anywhere), a process that exited while its pipes still hold data
 * (its SIGCHLD is pending before the first read), a grandchild holding the
 * pipes (end_others must be called, then EOF), a background writer that
 * never stops, a host that shuts its sending side.  Every conversation is
 * read to the end: no frame may follow EXITED.  A conversation has a 120 s
 * deadline, alarm() a global one. */
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
#include <time.h>
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
	char *errb;                /* stderr bytes */
	size_t err_len;
	size_t acked;   /* STDIN_ACK bytes */
	int ended_others;          /* LOG "end_others" (the test hook) seen */
	int after_exit;            /* frames after EXITED (must stay 0) */
};

/* How the host side behaves (converse). */
struct host {
	size_t chunk;              /* read at most this many bytes at a time (0: 64 KiB) */
	int vary;                  /* read 1, 2, .., chunk, 1, .. bytes */
	int stall_ms;              /* read nothing for this long after START */
	int shut_wr;               /* shutdown(SHUT_WR) once everything is sent */
	int tiny_bufs;             /* minimal SO_SNDBUF/SO_RCVBUF on both ends */
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

#define FAKE_BYTES 50000   /* < a pipe's 64 KiB: written without blocking */

/* A process made by hand for exact interleavings: both pipes filled with
 * FAKE_BYTES ('o' on stdout, 'e' on stderr), then the main process exits 3
 * (and, with hold, leaves a grandchild in its process group holding the
 * write ends).  Returns only once the main process is a zombie: its SIGCHLD
 * is pending before the relay's first read of the pipes. */
static int fake_spawn(struct gspawn_result *ret, int hold)
{
	static char buf[FAKE_BYTES];
	int o[2], e[2];
	siginfo_t si;

	if (pipe2(o, O_CLOEXEC) < 0 || pipe2(e, O_CLOEXEC) < 0)
		return -errno;
	memset(buf, 'o', sizeof(buf));
	if (write(o[1], buf, sizeof(buf)) != (ssize_t)sizeof(buf))
		return -EIO;
	memset(buf, 'e', sizeof(buf));
	if (write(e[1], buf, sizeof(buf)) != (ssize_t)sizeof(buf))
		return -EIO;
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		setpgid(0, 0);
		if (hold && fork() == 0)
			for (;;)
				pause();   /* the grandchild: holds o[1], e[1] */
		_exit(3);
	}
	setpgid(pid, pid);
	close(o[1]);
	close(e[1]);
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0)
		return -errno;
	fcntl(o[0], F_SETFL, O_NONBLOCK);
	fcntl(e[0], F_SETFL, O_NONBLOCK);
	*ret = (struct gspawn_result){ .pid = pid, .in_fd = -1, .out_fd = o[0], .err_fd = e[0] };
	return 0;
}

static int fake_spawn_exited(void *ctx, struct gspawn_result *ret, int *code, char *eb, size_t cap)
{
	return fake_spawn(ret, 0);
}

static int fake_spawn_holder(void *ctx, struct gspawn_result *ret, int *code, char *eb, size_t cap)
{
	return fake_spawn(ret, 1);
}

static struct relay *the_relay;   /* in the forked guest side */

/* end_others for the tests: the process group of the main process (gspawn
 * makes it a session leader), never kill(-1); says so with a LOG frame. */
static void test_end_others(void *ctx, pid_t main)
{
	kill(-main, SIGKILL);
	relay_queue(the_relay, CHAN_LOG, "end_others", 10);
}

static void tiny_bufs(int fd)
{
	int one = 1;   /* the kernel rounds up to its minimum (a few KiB) */
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &one, sizeof(one));
}

/* Fork the guest side; returns the host end of the channel. */
static int start_relay_with(pid_t *ret_pid, relay_spawn_fn spawn, const struct host *h)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	if (h && h->tiny_bufs) {
		tiny_bufs(sv[0]);
		tiny_bufs(sv[1]);
	}
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
		if (sfd < 0 || relay_init(&r, sv[1], sfd, spawn, &plan, plan.terminal) < 0)
			_exit(2);
		the_relay = &r;
		r.end_others = test_end_others;
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

static int start_relay(pid_t *ret_pid)
{
	return start_relay_with(ret_pid, test_spawn, NULL);
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
	case CHAN_STDERR:
		res->errb = realloc(res->errb, res->err_len + len + 1);
		memcpy(res->errb + res->err_len, p, len);
		res->err_len += len;
		res->errb[res->err_len] = '\0';
		break;
	case CHAN_STDIN_ACK: assert_int_equal(len, 4); res->acked += relay_get_u32(p); break;
	case CHAN_LOG:
		if (len == 10 && memcmp(p, "end_others", 10) == 0)
			res->ended_others = 1;
		break;
	case CHAN_ERROR: snprintf(res->err, sizeof(res->err), "%.*s", (int)len, p); break;
	case CHAN_EXITED:
		assert_int_equal(len, 8);
		res->exited = 1;
		res->kind = (int)relay_get_u32(p);
		res->value = (int)relay_get_u32(p + 4);
		break;
	}
}

static double mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Host loop: writes `in` (may be large) as STDIN frames then STDIN_EOF,
 * while reading every frame, until EXITED and then to the end of the
 * stream (the guest side closes it): no frame may follow EXITED. */
static void converse_as(int fd, pid_t pid, const char *in, size_t in_len, int send_eof,
			const struct host *h, struct result *res)
{
	static struct chan_reader rd;
	static uint8_t buf[65536];
	size_t sent = 0, chunk = h && h->chunk ? h->chunk : sizeof(buf);
	int eof_sent = !send_eof, shut = 0, at_end = 0;
	unsigned reads = 0;
	double deadline = mono_ms() + 120000;

	memset(res, 0, sizeof(*res));
	chan_reader_init(&rd);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	if (h && h->stall_ms)
		usleep((useconds_t)h->stall_ms * 1000);
	while (!at_end) {
		int more = sent < in_len || !eof_sent;
		struct pollfd pf = { fd, POLLIN | (more ? POLLOUT : 0), 0 };
		if (!more && h && h->shut_wr && !shut) {
			assert_int_equal(shutdown(fd, SHUT_WR), 0);
			shut = 1;
		}
		int left = (int)(deadline - mono_ms());
		if (left <= 0 || poll(&pf, 1, left) == 0)
			fail_msg("no EXITED and end of stream within 120 s (exited=%d)", res->exited);
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
		ssize_t n = read(fd, buf, h && h->vary ? reads++ % chunk + 1 : chunk);
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n <= 0 && !res->exited)
			fail_msg("channel closed before EXITED");
		at_end = n <= 0;
		for (size_t off = 0; off < (size_t)(n > 0 ? n : 0);) {
			const uint8_t *p;
			uint32_t len;
			uint8_t type;
			off += chan_reader_feed(&rd, buf + off, (size_t)n - off);
			while (chan_reader_next(&rd, &type, &p, &len) == 1) {
				res->after_exit += res->exited;
				on_frame(res, type, p, len);
			}
		}
	}
	assert_int_equal(res->after_exit, 0);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(fd);
}

static void converse(int fd, pid_t pid, const char *in, size_t in_len, int send_eof,
		     struct result *res)
{
	converse_as(fd, pid, in, in_len, send_eof, NULL, res);
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
	assert_string_equal(r.errb, "oops\n");
	assert_int_equal(r.kind, 0);
	assert_int_equal(r.value, 3);
	free(r.out);
	free(r.errb);
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

/* The exec itself fails (not a missing binary): 126 and "exec PATH: why". */
static void test_exec_not_executable(void **state)
{
	struct result r;
	char path[] = "/tmp/ocivm-noexec.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);   /* 0600: no execute bit, EACCES even for root */
	set_plan(0, "/", path, NULL);
	run_simple(&r, NULL, 0, 0);
	unlink(path);
	assert_false(r.started);
	char want[128];
	snprintf(want, sizeof(want), "exec %s: Permission denied", path);
	assert_non_null(strstr(r.err, want));
	assert_int_equal(r.value, 126);
}

/* A terminal process: the pty is its controlling terminal, and it holds no
 * descriptor but 0, 1 and 2 (init's spare copies of the pty slave and
 * anything else init had open without O_CLOEXEC stay behind). */
static void test_terminal_ctty_fds(void **state)
{
	struct result r;
	int fd = open("/dev/ptmx", O_RDWR);
	if (fd < 0) {
		print_message("SKIP: no /dev/ptmx here\n");
		skip();
	}
	close(fd);
	int stray = open("/dev/null", O_RDONLY);   /* no O_CLOEXEC, as a careless init's */
	assert_true(stray >= 3);
	set_plan(1, "/", "/bin/sh", "-c",
		 "exec 9</dev/tty && echo ctty-ok; exec 9<&-; echo fds; ls -1 /proc/$$/fd; echo end",
		 NULL);
	run_simple(&r, NULL, 0, 0);
	close(stray);
	assert_non_null(r.out);
	assert_non_null(strstr(r.out, "ctty-ok"));
	assert_non_null(strstr(r.out, "fds\r\n0\r\n1\r\n2\r\nend\r\n"));
	assert_int_equal(r.value, 0);
	free(r.out);
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
	free(r.errb);
	free(in);
}

/* A background child keeps stdout open: end_others is called, then EOF,
 * then EXITED. */
static void test_background_holder(void **state)
{
	struct result r;
	set_plan(0, "/", "/bin/sh", "-c", "sleep 1000 & echo bg; exit 4", NULL);
	run_simple(&r, NULL, 0, 0);
	assert_string_equal(r.out, "bg\n");
	assert_true(r.ended_others);
	assert_int_equal(r.value, 4);
	free(r.out);
}

/* "1\n2\n...n\n" */
static char *seq_text(int n, size_t *ret_len)
{
	size_t cap = (size_t)n * 8 + 1, len = 0;
	char *t = malloc(cap);
	for (int i = 1; i <= n; i++)
		len += (size_t)snprintf(t + len, cap - len, "%d\n", i);
	*ret_len = len;
	return t;
}

/* Short writes and EAGAIN on nearly every frame, frames split at every
 * offset: minimal socket buffers, a host that first stalls 300 ms (the
 * queue passes its high-water mark) and then reads 1..13 bytes at a time,
 * while stdout and stderr are written at once.  Every byte in order, then
 * EXITED 7 last. */
static void test_slow_host_tiny_buffers(void **state)
{
	struct host h = { .stall_ms = 300, .tiny_bufs = 1 };
	struct result r;
	size_t out_len, err_len;
	char *out = seq_text(60000, &out_len), *err = seq_text(20000, &err_len);
	pid_t pid;

	set_plan(0, "/", "/bin/sh", "-c", "seq 1 60000 & seq 1 20000 >&2; wait; exit 7", NULL);
	int fd = start_relay_with(&pid, test_spawn, &h);
	expect_ready(fd);
	assert_int_equal(chan_send(fd, CHAN_START, NULL, 0), 0);
	h.chunk = 13;
	h.vary = 1;
	converse_as(fd, pid, NULL, 0, 0, &h, &r);
	assert_int_equal(r.out_len, out_len);
	assert_memory_equal(r.out, out, out_len);
	assert_int_equal(r.err_len, err_len);
	assert_memory_equal(r.errb, err, err_len);
	assert_int_equal(r.kind, 0);
	assert_int_equal(r.value, 7);
	free(r.out);
	free(r.errb);
	free(out);
	free(err);
}

/* The process exited while both pipes still held all it wrote: its SIGCHLD
 * is pending before the relay's first read.  All bytes, then EXITED 3; the
 * host stalls first so the exit is seen with the queue full as well. */
static void test_exit_with_full_pipes(void **state)
{
	struct host h = { .stall_ms = 200, .tiny_bufs = 1, .chunk = 7 };
	struct result r;
	pid_t pid;

	int fd = start_relay_with(&pid, fake_spawn_exited, &h);
	expect_ready(fd);
	assert_int_equal(chan_send(fd, CHAN_START, NULL, 0), 0);
	converse_as(fd, pid, NULL, 0, 0, &h, &r);
	assert_true(r.started);
	assert_int_equal(r.out_len, FAKE_BYTES);
	assert_int_equal(r.err_len, FAKE_BYTES);
	assert_int_equal(strspn(r.out, "o"), FAKE_BYTES);
	assert_int_equal(strspn(r.errb, "e"), FAKE_BYTES);
	assert_int_equal(r.value, 3);
	free(r.out);
	free(r.errb);
}

/* The main process exited, a grandchild holds both pipes (which still hold
 * data): end_others is called, the pipes are read to EOF, then EXITED. */
static void test_grandchild_holds_pipes(void **state)
{
	struct host h = { .chunk = 5 };
	struct result r;
	pid_t pid;

	int fd = start_relay_with(&pid, fake_spawn_holder, &h);
	expect_ready(fd);
	assert_int_equal(chan_send(fd, CHAN_START, NULL, 0), 0);
	converse_as(fd, pid, NULL, 0, 0, &h, &r);
	assert_true(r.ended_others);
	assert_int_equal(r.out_len, FAKE_BYTES);
	assert_int_equal(r.err_len, FAKE_BYTES);
	assert_int_equal(r.value, 3);
	free(r.out);
	free(r.errb);
}

/* A background writer that never stops: there is never a moment of
 * silence on the pipes, so a "wait for quiet" drain never ends (the old
 * 200 ms timer: no EXITED, the conversation's deadline fails).  end_others ends it:
 * EOF, EXITED 4, nothing after it. */
static void test_endless_background_writer(void **state)
{
	struct result r;
	set_plan(0, "/", "/bin/sh", "-c", "yes bg & echo main >&2; sleep 0.2; exit 4", NULL);
	run_simple(&r, NULL, 0, 0);
	assert_true(r.ended_others);
	assert_true(r.out_len > 0);
	assert_string_equal(r.errb, "main\n");
	assert_int_equal(r.value, 4);
	free(r.out);
	free(r.errb);
}

/* The host shuts its sending side after START (read 0 in the guest) but
 * still reads: nothing may be dropped (the old relay emptied its queue and
 * sent no EXITED). */
static void test_host_half_close(void **state)
{
	struct host h = { .shut_wr = 1 };
	struct result r;
	size_t want_len;
	char *want = seq_text(20000, &want_len);
	pid_t pid;

	set_plan(0, "/", "/bin/sh", "-c", "sleep 0.2; seq 1 20000; exit 6", NULL);
	int fd = start_relay_with(&pid, test_spawn, &h);
	expect_ready(fd);
	assert_int_equal(chan_send(fd, CHAN_START, NULL, 0), 0);
	converse_as(fd, pid, NULL, 0, 0, &h, &r);
	assert_int_equal(r.out_len, want_len);
	assert_memory_equal(r.out, want, want_len);
	assert_int_equal(r.value, 6);
	free(r.out);
	free(want);
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

/* process.consoleSize (gspec winsize): the pty has the size before the
 * process runs, so a size read at once is it, not 0 0. */
static void test_terminal_size(void **state)
{
	struct result r;
	int fd = open("/dev/ptmx", O_RDWR);
	if (fd < 0) {
		print_message("SKIP: no /dev/ptmx here\n");
		skip();
	}
	close(fd);
	set_plan(1, "/", "/bin/sh", "-c", "echo size=$(stty size)", NULL);
	plan.ws_rows = 31;
	plan.ws_cols = 97;
	run_simple(&r, NULL, 0, 0);
	assert_non_null(r.out);
	if (!strstr(r.out, "size=31 97"))
		fail_msg("output \"%s\" lacks size=31 97", r.out);
	assert_int_equal(r.value, 0);
	free(r.out);
	/* no winsize record: the kernel's 0 0 (what the above would see
	 * without the TIOCSWINSZ) */
	set_plan(1, "/", "/bin/sh", "-c", "echo size=$(stty size)", NULL);
	run_simple(&r, NULL, 0, 0);
	assert_non_null(r.out);
	if (!strstr(r.out, "size=0 0"))
		fail_msg("output \"%s\" lacks size=0 0", r.out);
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
	alarm(900);   /* a deadlock fails the run (all tests) instead of hanging it */
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
		cmocka_unit_test(test_slow_host_tiny_buffers),
		cmocka_unit_test(test_exit_with_full_pipes),
		cmocka_unit_test(test_grandchild_holds_pipes),
		cmocka_unit_test(test_endless_background_writer),
		cmocka_unit_test(test_host_half_close),
		cmocka_unit_test(test_terminal),
		cmocka_unit_test(test_terminal_size),
		cmocka_unit_test(test_terminal_ctty_fds),
		cmocka_unit_test(test_exec_not_executable),
		cmocka_unit_test(test_identity),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
