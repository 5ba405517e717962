/* Hook runner: proc_spawn (common/proc.h: exec failures reported at spawn)
 * with a socket on stdin (sent with MSG_NOSIGNAL, so a hook that never reads
 * cannot hang or kill the daemon), and a pidfd (or a short tick) for the
 * timeout. */
#include "ops/hooks.h"
#include "cleanup.h"
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char **hook_argv(const struct ops_hook *h, char **one)
{
	if (h->args.n)
		return h->args.v; /* NULL-terminated: calloc(n + 1) */
	one[0] = h->path;
	one[1] = NULL;
	return one;
}

static int hook_status(const char *path, int st, struct oerr *err)
{
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFEXITED(st))
		return oerr_set(err, EIO, "%s exited with status %d", path, WEXITSTATUS(st));
	return oerr_set(err, EIO, "%s killed by signal %d", path, WTERMSIG(st));
}

/* Feed stdin and wait, up to timeout_s (0: none).  0, or -ETIMEDOUT after
 * killing the hook's process group; *ret_status is the wait status. */
static int hook_wait(pid_t pid, int sock, const char *data, unsigned timeout_s, int *ret_status)
{
	size_t len = data ? strlen(data) : 0, off = 0;
	long long deadline = timeout_s ? now_ms() + 1000LL * timeout_s : 0;
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);

	for (;;) {
		if (waitpid(pid, ret_status, WNOHANG) == pid)
			break;
		long long left = deadline ? deadline - now_ms() : 1000;
		if (left <= 0) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, ret_status, 0);
			if (pidfd >= 0)
				close(pidfd);
			return -ETIMEDOUT;
		}
		struct pollfd p[2] = { { pidfd, POLLIN, 0 }, { -1, POLLOUT, 0 } };
		if (sock >= 0 && off < len)
			p[1].fd = sock;
		int tick = pidfd >= 0 ? (int)(left > 1000 ? 1000 : left) : 10;
		poll(p, 2, tick);
		if (p[1].fd >= 0 && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t n = send(sock, data + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n > 0)
				off += (size_t)n;
			else if (n < 0 && errno != EAGAIN && errno != EINTR)
				off = len; /* the hook closed stdin: fine */
			if (off == len)
				shutdown(sock, SHUT_WR);
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	return 0;
}

int ops_hook_run(const struct ops_hook *h, const char *state_json, int out_fd,
		 unsigned default_timeout, struct oerr *err)
{
	static char *const empty_env[] = { NULL };
	char *one[2];
	int sv[2], st = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return oerr_sys(err, errno, "%s: socketpair", h->path);
	_cleanup_close_ int mine = sv[0], theirs = sv[1];
	char **argv = hook_argv(h, one);
	char *const *envp = h->env.n ? h->env.v : empty_env;

	struct proc_spawn ps = {
		.path = h->path, .argv = argv, .envp = envp, .exec_fd = -1,
		.fd = { theirs, out_fd, out_fd },   /* -1: /dev/null */
		.flags = PROC_SETPGID,   /* a timeout kills the whole group */
	};
	pid_t pid;
	int stage, r = proc_spawn(&ps, &pid, &stage);
	if (r < 0 && stage < 0)
		return oerr_sys(err, -r, "%s: fork", h->path);
	if (r < 0)
		return oerr_sys(err, -r, "%s: cannot run", h->path);
	close(TAKE_FD(theirs));
	unsigned timeout = h->timeout ? h->timeout : default_timeout;
	if (hook_wait(pid, mine, state_json, timeout, &st) == -ETIMEDOUT)
		return oerr_set(err, ETIMEDOUT, "%s: killed after its timeout of %u s", h->path, timeout);
	return hook_status(h->path, st, err);
}

int ops_hooks_run(const struct ops_config *cfg, enum ops_hook_kind kind,
		  const char *state_json, int out_fd, unsigned default_timeout,
		  struct oerr *err)
{
	const struct ops_hooks *hs = &cfg->hooks[kind];

	for (size_t i = 0; i < hs->n; i++) {
		int r = ops_hook_run(&hs->v[i], state_json, out_fd, default_timeout, err);
		if (r < 0) {
			oerr_prefix(err, "hooks.%s[%zu]: ", ops_hook_kind_names[kind], i);
			return r;
		}
	}
	return 0;
}

int ops_hooks_run_all(const struct ops_config *cfg, enum ops_hook_kind kind,
		      const char *state_json, int out_fd, unsigned default_timeout,
		      void (*warn)(void *ctx, const char *msg), void *ctx)
{
	const struct ops_hooks *hs = &cfg->hooks[kind];
	int failed = 0;

	for (size_t i = 0; i < hs->n; i++) {
		struct oerr err = { 0 };
		if (ops_hook_run(&hs->v[i], state_json, out_fd, default_timeout, &err) < 0) {
			oerr_prefix(&err, "hooks.%s[%zu]: ", ops_hook_kind_names[kind], i);
			if (warn)
				warn(ctx, err.msg);
			failed++;
		}
	}
	return failed;
}
