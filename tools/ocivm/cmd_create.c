/* create and run: the shim is forked first (its pid is registered with the
 * container), told to go once the tree says "created", and left behind for
 * the caller's subreaper when create returns. */
#include "ocivm.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"

#define CREATE_TIMEOUT_MS_DEFAULT (10 * 60 * 1000) /* a TCG boot is slow */

struct create_ctx {
	const struct ocivm_args *a;
	struct ocivm_tree tree;
	const char *id;
	char bundle[PATH_MAX];
	int go[2];
	int master, slave;
	pid_t shim;
};

static int create_timeout_ms(void)
{
	const char *s = getenv("OCIVM_CREATE_TIMEOUT_MS");
	int v = s ? atoi(s) : 0;

	return v > 0 ? v : CREATE_TIMEOUT_MS_DEFAULT;
}

static int fork_shim(struct create_ctx *c)
{
	struct shim_opts o;

	if (pipe2(c->go, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);
	c->shim = fork();
	if (c->shim < 0)
		return -errno;
	if (c->shim == 0) {
		close(c->go[1]);
		if (c->master >= 0)
			close(c->master);
		o = (struct shim_opts){ .tree = &c->tree, .id = c->id, .go_fd = c->go[0],
					.pty_slave = c->slave, .tty_fd = c->slave };
		shim_main(&o);
	}
	close(c->go[0]);
	c->go[0] = -1;
	if (c->slave >= 0)
		close(c->slave);
	c->slave = -1;
	return 0;
}

/* Something failed after the shim was forked: it exits when go closes;
 * a container the tree accepted is removed again (runc leaves nothing). */
static void undo(struct create_ctx *c, bool created)
{
	if (created)
		tree_ctl(&c->tree, c->id, "delete force");
	if (c->go[1] >= 0)
		close(c->go[1]);
	c->go[1] = -1;
	if (c->shim > 0)
		waitpid(c->shim, NULL, 0);
}

static int write_pid_file(const char *path, pid_t pid)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d", (int)pid);

	return file_write_atomic(path, buf, (size_t)n, 0644);
}

/* SIGINT/SIGTERM/SIGHUP while create waits for the VM: the container the
 * tree may already hold is deleted again before ocivm exits. */
static volatile sig_atomic_t create_interrupted;

static void on_create_signal(int sig) { create_interrupted = sig; }

static void catch_interrupts(void)
{
	struct sigaction sa = { .sa_handler = on_create_signal }; /* no SA_RESTART */

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* Polls ID/status in slices, so an interruption is seen within one. */
static int wait_created(struct create_ctx *c, char *status, size_t n)
{
	int left = create_timeout_ms(), r;

	do {
		int slice = left < 500 ? left : 500;
		r = tree_wait_status_settled(&c->tree, c->id, slice, status, n);
		left -= slice;
	} while (r == -ETIMEDOUT && left > 0 && !create_interrupted);
	return create_interrupted ? -EINTR : r;
}

static int ask_tree(struct create_ctx *c)
{
	char line[PATH_MAX + 1200], status[32] = "", reason[1024], msg[512];
	int r;

	snprintf(line, sizeof(line), "create %s %s pid=%d terminal=%d", c->id, c->bundle,
		 (int)c->shim, c->master >= 0);
	ocivm_debug("echo '%s' > %s/ctl", line, c->tree.mount);
	r = tree_ctl(&c->tree, NULL, line);
	if (r < 0 && r != -EINTR && !create_interrupted) {
		undo(c, false);
		ocivm_errmap(OP_CREATE, r, c->id, "", msg, sizeof(msg));
		tree_last_log(&c->tree, c->id, reason, sizeof(reason));
		if (r == -EEXIST || !*reason)
			return ocivm_fail("%s", msg);
		return ocivm_fail("%s: %s", msg, reason);
	}
	r = r < 0 ? -EINTR : wait_created(c, status, sizeof(status));
	if (r < 0 || strcmp(status, "created")) {
		tree_last_log(&c->tree, c->id, reason, sizeof(reason));
		undo(c, true);
		if (r == -EINTR)
			return ocivm_fail("create container %s: interrupted by signal %d; "
					  "deleted it again", c->id, (int)create_interrupted);
		if (r == -ETIMEDOUT)
			return ocivm_fail("create container %s: timed out waiting for the VM",
					  c->id);
		return ocivm_fail("create container %s: ended as %s%s%s", c->id,
				  *status ? status : "gone", *reason ? ": " : "", reason);
	}
	return 0;
}

static int finish(struct create_ctx *c)
{
	struct oerr err = { 0 };
	int r;

	if (c->a->console_socket && console_send_fd(c->a->console_socket, c->master, &err) < 0) {
		undo(c, true);
		return ocivm_fail("%s", err.msg);
	}
	if (c->a->pid_file && (r = write_pid_file(c->a->pid_file, c->shim)) < 0) {
		undo(c, true);
		return ocivm_fail("writing pid file %s: %s", c->a->pid_file, strerror(-r));
	}
	if (write(c->go[1], "1", 1) != 1) {
		undo(c, true);
		return ocivm_fail("the shim of %s died", c->id);
	}
	close(c->go[1]);
	c->go[1] = -1;
	return 0;
}

static int prepare(struct create_ctx *c)
{
	struct oerr err = { 0 };
	const char *b = c->a->bundle ? c->a->bundle : ".";

	if (c->a->n_pos < 1)
		return ocivm_fail("%s: requires a container id", c->a->cmd_name);
	c->id = c->a->pos[0];
	if (!ocivm_id_valid(c->id, &err))
		return ocivm_fail("invalid container id: %s", err.msg);
	if (!realpath(b, c->bundle))
		return ocivm_fail("bundle %s: %s", b, strerror(errno));
	if (strpbrk(c->bundle, " \t\n"))
		return ocivm_fail("bundle path %s: whitespace is not supported", c->bundle);
	if (cmd_open_tree(c->a, &c->tree, true))
		return 1;
	if (tree_exists(&c->tree, c->id))
		return ocivm_fail("container with given ID already exists");
	if (c->a->console_socket && console_open_pty(&c->master, &c->slave, &err) < 0)
		return ocivm_fail("%s", err.msg);
	return 0;
}

int cmd_create(const struct ocivm_args *a, pid_t *ret_shim)
{
	struct create_ctx c = { .a = a, .go = { -1, -1 }, .master = -1, .slave = -1 };
	int r;

	if (prepare(&c))
		return 1;
	catch_interrupts();
	if ((r = fork_shim(&c)) < 0)
		return ocivm_fail("forking the shim: %s", strerror(-r));
	if (ask_tree(&c) || finish(&c)) {
		if (c.master >= 0)
			close(c.master);
		return 1;
	}
	if (c.master >= 0)
		close(c.master);
	if (ret_shim)
		*ret_shim = c.shim;
	return 0;
}

static volatile pid_t run_shim;

/* A signal sent to `ocivm run` goes on to the shim (and so the container);
 * one from the terminal (SI_KERNEL) reached the shim already, as it shares
 * our process group. */
static void run_forward(int sig, siginfo_t *si, void *uc)
{
	if (run_shim > 0 && si->si_code != SI_KERNEL)
		kill(run_shim, sig);
}

/* run = create + start + (unless -d) wait for the shim, delete, and exit
 * with the container's status. */
int cmd_run(const struct ocivm_args *a)
{
	static const int fwd[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
	struct ocivm_tree t;
	pid_t shim;
	int status, r;

	if (cmd_create(a, &shim))
		return 1;
	if (cmd_open_tree(a, &t, false))
		return 1;
	if ((r = tree_ctl(&t, a->pos[0], "start")) < 0) {
		r = cmd_fail_op(&t, OP_START, r, a->pos[0]);
		tree_ctl(&t, a->pos[0], "delete force");
		return r;
	}
	if (a->detach)
		return 0;
	run_shim = shim;
	struct sigaction sa = { .sa_sigaction = run_forward, .sa_flags = SA_SIGINFO };
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(fwd) / sizeof(fwd[0]); i++)
		sigaction(fwd[i], &sa, NULL);
	while (waitpid(shim, &status, 0) < 0)
		if (errno != EINTR)
			return ocivm_fail("waiting for %s: %s", a->pos[0], strerror(errno));
	tree_ctl(&t, a->pos[0], "delete force");
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
