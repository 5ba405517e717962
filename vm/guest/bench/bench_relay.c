/* bench-guest-relay [MIB]: throughput of ocivm-init's relay for heavy
 * output.  The same command (`head -c N /dev/zero`) is read side by side,
 * alternating rounds: (a) straight from its pipe, (b) through the relay
 * (spawn, stdout pipe, frames over a socketpair, host-side chan_reader).
 * Prints MiB/s for both and, last, the ratio relay/pipe. */
#include "chan.h"
#include "vm/guest/relay.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 3

static struct gplan plan;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int spawn_cb(void *ctx, struct gspawn_result *ret, int *code, char *eb, size_t cap)
{
	return gspawn(ctx, NULL, ret, code, eb, cap);
}

static double run_pipe(void)
{
	char buf[65536];
	double t0 = now_s();
	FILE *f = popen(plan.args[2], "r");
	if (!f)
		return -1;
	while (fread(buf, 1, sizeof(buf), f) > 0)
		;
	pclose(f);
	return now_s() - t0;
}

static void relay_child(int fd)
{
	static struct relay r;
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGCHLD);
	sigprocmask(SIG_BLOCK, &s, NULL);
	int sfd = signalfd(-1, &s, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0 || relay_init(&r, fd, sfd, spawn_cb, &plan, 0) < 0)
		_exit(2);
	_exit(relay_run(&r) < 0);
}

static double run_relay(size_t want)
{
	static struct chan_reader rd;
	static uint8_t buf[1 << 16];
	int sv[2], st;
	size_t got = 0;
	double t0 = now_s();

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		relay_child(sv[1]);
	}
	close(sv[1]);
	chan_reader_init(&rd);
	chan_send(sv[0], CHAN_START, NULL, 0);
	for (int done = 0; !done;) {
		ssize_t n = read(sv[0], buf, sizeof(buf));
		if (n <= 0)
			break;
		for (size_t off = 0; off < (size_t)n;) {
			const uint8_t *p;
			uint32_t len;
			uint8_t type;
			off += chan_reader_feed(&rd, buf + off, (size_t)n - off);
			while (chan_reader_next(&rd, &type, &p, &len) == 1) {
				got += type == CHAN_STDOUT ? len : 0;
				done |= type == CHAN_EXITED;
			}
		}
	}
	close(sv[0]);
	waitpid(pid, &st, 0);
	return got == want ? now_s() - t0 : -1;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 256;
	static char cmd[64], sh[] = "/bin/sh", c[] = "-c", path[] = "PATH=/usr/bin:/bin";
	double tp = 0, tr = 0;

	snprintf(cmd, sizeof(cmd), "head -c %zu /dev/zero", mib << 20);
	plan.args[0] = sh;
	plan.args[1] = c;
	plan.args[2] = cmd;
	plan.n_args = 3;
	plan.env[0] = path;
	plan.n_env = 1;
	plan.cwd = "/";
	plan.umask = -1;
	for (int i = 0; i < ROUNDS; i++) {
		double a = run_pipe(), b = run_relay(mib << 20);
		if (a < 0 || b < 0) {
			fprintf(stderr, "bench-guest-relay: round %d failed\n", i);
			return 1;
		}
		tp += a;
		tr += b;
	}
	printf("pipe:  %zu MiB x %d in %.2f s = %.0f MiB/s\n", mib, ROUNDS, tp, mib * ROUNDS / tp);
	printf("relay: %zu MiB x %d in %.2f s = %.0f MiB/s\n", mib, ROUNDS, tr, mib * ROUNDS / tr);
	printf("guest relay throughput vs plain pipe: %.2fx\n", tp / tr);
	return 0;
}
