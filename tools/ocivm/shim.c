/* The shim: the host process that stands for the container, as kata-shim
 * did for Kata 1.x.  `create` forks it, so it is a child of the caller (and
 * of the caller's subreaper once create returns).  It carries the
 * container's stdio between the tree and the fds it inherited (or the pty
 * slave), forwards the signals it receives, and exits with the container's
 * status when ID/wait answers.  It holds the caller's stdio exactly as long
 * as the container lives, as runc's container process would.  `ocivm exec`
 * forks the same shim for a process of ID/exec/NAME (o->id "ID/exec/NAME"),
 * which also reaps that directory at the end. */
#include "ocivm.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"

#define SHIM_RECONNECT_MS (5 * 60 * 1000) /* how long the tree may be away */
#define SHIM_RETRY_MS 200

struct pump {
	const struct shim_opts *o;
	const char *name; /* tree stream read from (reopened after a daemon restart) */
	int from, to;
	off_t off;
	bool close_to;    /* close `to` at EOF (stdin: the container sees EOF) */
	const char *pre;  /* stdin: bytes sent before `from` is read */
	size_t pre_len;
	pthread_t thread;
	bool started;
};

static int open_stream(const struct shim_opts *o, const char *name, int flags)
{
	char path[4200];

	if (tree_path(o->tree, o->id, name, path, sizeof(path)) < 0)
		return -1;
	return open(path, flags | O_CLOEXEC);
}

static void nap_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

/* The container is gone for good: the tree is mounted and has no ID. */
static bool container_gone(const struct shim_opts *o)
{
	return tree_is_mount(o->tree->mount) && !tree_exists(o->tree, o->id);
}

/* After the daemon went away (reads fail with ENOTCONN and the like), waits
 * for a new one to mount the tree again (it re-attaches running containers)
 * and reopens ID/name.  -1 when the container is gone or the tree stays away. */
static int reopen_stream(const struct shim_opts *o, const char *name, int flags)
{
	for (int waited = 0; waited < SHIM_RECONNECT_MS; waited += SHIM_RETRY_MS) {
		int fd = open_stream(o, name, flags);
		if (fd >= 0)
			return fd;
		if (container_gone(o))
			return -1;
		nap_ms(SHIM_RETRY_MS);
	}
	return -1;
}

/* Write one chunk to ID/stdin.  The tree answers EAGAIN while 1 MiB of
 * stdin waits for a container that does not read (or has not started):
 * wait for room, do not drop the rest.  A daemon restart (ENOTCONN,
 * ECONNABORTED, ...) reopens ID/stdin; EPIPE (stopped) or a gone container
 * ends the pump. */
static int stdin_write(struct pump *p, const char *buf, size_t n)
{
	for (;;) {
		int r = fd_write_all(p->to, buf, n);
		if (r == 0 || r == -EPIPE)
			return r;
		if (r == -EAGAIN) {
			nap_ms(20);
			continue;
		}
		close(p->to);
		if ((p->to = reopen_stream(p->o, "stdin", O_WRONLY)) < 0)
			return r;
	}
}

static void *pump_run(void *arg)
{
	struct pump *p = arg;
	char buf[16384];

	if (p->pre_len && stdin_write(p, p->pre, p->pre_len) < 0)
		goto out;
	for (;;) {
		ssize_t n = p->name ? pread(p->from, buf, sizeof(buf), p->off)
				    : read(p->from, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && p->name) {
			close(p->from);
			if ((p->from = reopen_stream(p->o, p->name, O_RDONLY)) < 0)
				break;
			continue;
		}
		if (n <= 0)
			break;
		p->off += n;
		if ((p->name ? fd_write_all(p->to, buf, (size_t)n) : stdin_write(p, buf, (size_t)n)) < 0)
			break;
	}
out:
	if (p->close_to && p->to >= 0)
		close(p->to);
	return NULL;
}

/* A tree stream (name set) copied to fd `to`, or fd `from` copied into the
 * tree (name NULL, `to` closed at EOF). */
static void pump_start(struct pump *p, const struct shim_opts *o, const char *name,
		       int from, int to, const char *pre, size_t pre_len)
{
	*p = (struct pump){ .o = o, .name = name, .from = from, .to = to, .close_to = !name,
			    .pre = pre, .pre_len = pre_len };
	if (from >= 0 && to >= 0)
		p->started = pthread_create(&p->thread, NULL, pump_run, p) == 0;
}

/* No deadline: a stopped container's tree stream ends (EOF), so the pump
 * ends once every byte reached `to` — as runc's container process, the
 * shim holds the caller's stdio until its output is written, however
 * slowly the caller reads (a 3 s drain cut output that a slow or busy
 * caller had not read yet).  A write error or a tree that stays away
 * (SHIM_RECONNECT_MS) ends it too. */
static void pump_join(struct pump *p)
{
	if (p->started)
		pthread_join(p->thread, NULL);
}

/* Reads ID/wait (blocks until the container stops): the exit status.  A
 * daemon restart is waited out; a container deleted under us was killed. */
static int wait_exit(const struct shim_opts *o)
{
	for (int waited = 0; waited < SHIM_RECONNECT_MS; waited += SHIM_RETRY_MS) {
		_cleanup_free_ char *text = NULL;
		int r = tree_read(o->tree, o->id, "wait", &text);
		if (r == 0) {
			r = ocivm_parse_exit(text);
			return r < 0 ? 255 : r;
		}
		if (container_gone(o))
			return 128 + SIGKILL;
		nap_ms(SHIM_RETRY_MS);
	}
	return 255;
}

struct waiter {
	const struct shim_opts *o;
	struct pump *in, *out, *errp;
};

/* An exec'd process is reaped once its output is out: ID/exec/NAME goes
 * (rmdir), after its streams are closed (the output pumps are joined). */
static void exec_reap(const struct shim_opts *o, struct pump *in, struct pump *out,
		      struct pump *errp)
{
	char path[4200];
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

	if (null >= 0 && in->to >= 0)
		dup2(null, in->to); /* the pump may still write: to /dev/null now */
	if (out->from >= 0)
		close(out->from);
	if (errp->from >= 0)
		close(errp->from);
	if (o->unlink_path)
		unlink(o->unlink_path);
	if (tree_path(o->tree, o->id, NULL, path, sizeof(path)) == 0 && rmdir(path) < 0)
		ocivm_debug("reaping %s: %s", o->id, strerror(errno));
}

static void *waiter_run(void *arg)
{
	struct waiter *w = arg;
	int status = wait_exit(w->o);

	pump_join(w->out);
	pump_join(w->errp);
	if (w->o->exec)
		exec_reap(w->o, w->in, w->out, w->errp);
	_exit(status);
}

/* Signals that are forwarded to the container; the rest keep their
 * defaults (SIGCHLD, SIGWINCH, synchronous faults) or are ignored (PIPE). */
static void forward_set(sigset_t *set)
{
	static const int skip[] = { SIGKILL, SIGSTOP, SIGCHLD, SIGPIPE, SIGSEGV, SIGBUS,
				    SIGFPE, SIGILL, SIGWINCH, SIGURG, SIGTTIN, SIGTTOU,
				    SIGTSTP, SIGTRAP, SIGSYS };
	sigfillset(set);
	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		sigdelset(set, skip[i]);
	for (int s = SIGRTMIN; s <= SIGRTMAX; s++)
		sigdelset(set, s); /* glibc's own; containers rarely need them */
}

static void forward_loop(const struct shim_opts *o, const sigset_t *set)
{
	char line[32];

	for (;;) {
		int sig = sigwaitinfo(set, NULL);
		if (sig < 0)
			continue;
		if (sig == SIGWINCH) {
			winsz_send(o->tree, o->id, o->tty_fd);
			continue;
		}
		snprintf(line, sizeof(line), "kill %d", sig);
		tree_ctl(o->tree, o->id, line);
	}
}

static void shim_setup_process(const struct shim_opts *o)
{
	int keep = o->go_fd > o->pty_slave ? o->go_fd : o->pty_slave;

	prctl(PR_SET_NAME, "ocivm-shim");
	signal(SIGPIPE, SIG_IGN);
	if (chdir("/") < 0) {
		/* harmless: only avoids pinning the caller's cwd */
	}
	for (int fd = 3; fd < keep; fd++)
		if (fd != o->go_fd && fd != o->pty_slave)
			close(fd);
	close_range((unsigned)(keep < 3 ? 3 : keep + 1), ~0U, 0);
	/* --console-socket: the pty is our controlling terminal, so the
	 * caller's resizes of the master reach us as SIGWINCH */
	if (o->pty_slave >= 0 && setsid() >= 0)
		ioctl(o->pty_slave, TIOCSCTTY, 0);
}

void shim_main(const struct shim_opts *o)
{
	static struct pump in, out, errp;
	static struct waiter w;
	static char pre[WINSZ_PENDING_MAX];
	size_t pre_len = 0;
	sigset_t set;
	pthread_t wt;
	char go = 0;
	ssize_t k;
	int fin, fout;

	forward_set(&set);
	if (o->tty_fd >= 0)
		sigaddset(&set, SIGWINCH); /* -> `resize ROWS COLS` on ctl */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	shim_setup_process(o);
	if (read(o->go_fd, &go, 1) != 1 || go != '1')
		_exit(1);
	/* after "1": what the caller's terminal held before it went raw
	 * (ocivm exec -t), up to EOF; it goes to stdin first */
	while (pre_len < sizeof(pre) &&
	       ((k = read(o->go_fd, pre + pre_len, sizeof(pre) - pre_len)) > 0 ||
		(k < 0 && errno == EINTR)))
		pre_len += k > 0 ? (size_t)k : 0;
	close(o->go_fd);
	fin = o->pty_slave >= 0 ? o->pty_slave : 0;
	fout = o->pty_slave >= 0 ? o->pty_slave : 1;
	pump_start(&out, o, "stdout", open_stream(o, "stdout", O_RDONLY), fout, NULL, 0);
	pump_start(&errp, o, "stderr", open_stream(o, "stderr", O_RDONLY),
		   o->pty_slave >= 0 ? o->pty_slave : 2, NULL, 0);
	pump_start(&in, o, NULL, fin, open_stream(o, "stdin", O_WRONLY), pre, pre_len);
	if (o->tty_fd >= 0)
		winsz_send(o->tree, o->id, o->tty_fd); /* the size at start */
	w = (struct waiter){ o, &in, &out, &errp };
	if (pthread_create(&wt, NULL, waiter_run, &w) != 0)
		_exit(255);
	forward_loop(o, &set);
	_exit(255);
}
