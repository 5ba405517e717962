/* exec: one more process in a running container, as `runc exec` does it.
 * The process.json (--process, or built from the flags over the container's
 * own process) goes to the tree as `exec NAME /abs/process.json` on ID/ctl;
 * the process is then MOUNT/containers/ID/exec/NAME/.  A shim forked first
 * (the pid in --pid-file) carries its stdio, forwards signals and window
 * sizes, exits with its status and reaps exec/NAME (see shim.c).  Without
 * -d, ocivm waits for that shim and exits with its status. */
#include "ocivm.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cleanup.h"
#include "fileio.h"

#define EXEC_APPEAR_MS 10000 /* exec/NAME after the ctl write returned */

struct exec_ctx {
	const struct ocivm_args *a;
	struct ocivm_tree tree;
	const char *id;
	char name[64];          /* NAME in ID/exec/NAME */
	char dir[1200];         /* "ID/exec/NAME" */
	char json_path[4200];   /* the process.json handed to the tree */
	bool json_ours;         /* written by us: removed at the end */
	bool terminal;
	int go[2];
	int master, slave;
	pid_t shim;
	bool raw;               /* the caller's terminal went raw: saved restores */
	struct termios saved;
};

/* Unique per exec: the shim is not forked yet, so our pid and the clock. */
static void make_name(struct exec_ctx *c)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(c->name, sizeof(c->name), "x%d-%llx", (int)getpid(),
		 (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec);
	snprintf(c->dir, sizeof(c->dir), "%s/exec/%s", c->id, c->name);
}

/* The container's own process, from the bundle its state names. */
static cJSON *container_process(struct exec_ctx *c)
{
	_cleanup_free_ char *state = NULL;
	cJSON *j, *p = NULL;

	if (tree_read(&c->tree, c->id, "state", &state) < 0 || !(j = cJSON_Parse(state)))
		return NULL;
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(j, "bundle");
	if (cJSON_IsString(b))
		p = process_of_bundle(b->valuestring);
	cJSON_Delete(j);
	return p;
}

static int write_json(struct exec_ctx *c, const char *json)
{
	const char *tmp = getenv("TMPDIR");
	int fd;

	snprintf(c->json_path, sizeof(c->json_path), "%s/ocivm-exec-XXXXXX.json",
		 tmp && *tmp == '/' ? tmp : "/tmp");
	fd = mkstemps(c->json_path, 5);
	if (fd < 0)
		return -errno;
	c->json_ours = true;
	if (fd_write_all(fd, json, strlen(json)) < 0 || close(fd) < 0) {
		unlink(c->json_path);
		return -EIO;
	}
	return 0;
}

static int prepare_process(struct exec_ctx *c)
{
	struct oerr err = { 0 };
	_cleanup_free_ char *json = NULL;
	cJSON *base = c->a->process ? NULL : container_process(c);
	unsigned rows = 0, cols = 0;
	int r;

	if (c->a->tty && !c->a->console_socket)
		winsz_get(STDIN_FILENO, &rows, &cols);
	r = process_build(c->a, base, rows, cols, &json, &err);
	cJSON_Delete(base);
	if (r < 0)
		return ocivm_fail("%s", err.msg);
	c->terminal = process_is_terminal(json);
	/* always our own copy: checked, with the size, and the caller may
	 * remove theirs as soon as we return */
	if ((r = write_json(c, json)) < 0)
		return ocivm_fail("writing the process for the tree: %s", strerror(-r));
	return 0;
}

static int prepare(struct exec_ctx *c)
{
	struct oerr err = { 0 };
	char status[32];

	if (c->a->n_pos < 1)
		return ocivm_fail("exec: requires a container id");
	c->id = c->a->pos[0];
	if (!ocivm_id_valid(c->id, &err))
		return ocivm_fail("invalid container id: %s", err.msg);
	if (cmd_open_tree(c->a, &c->tree, false))
		return 1;
	tree_status(&c->tree, c->id, status, sizeof(status));
	if (!*status && !tree_exists(&c->tree, c->id))
		return ocivm_fail("container does not exist");
	if (strcmp(status, "running")) {
		char msg[256];
		ocivm_errmap(OP_EXEC, EBUSY, c->id, status, msg, sizeof(msg));
		return ocivm_fail("%s", msg);
	}
	make_name(c);
	if (prepare_process(c))
		return 1;
	if (c->a->console_socket && console_open_pty(&c->master, &c->slave, &err) < 0)
		return ocivm_fail("%s", err.msg);
	return 0;
}

static int fork_shim(struct exec_ctx *c)
{
	struct shim_opts o;
	int tty = c->slave;

	if (tty < 0 && c->terminal && isatty(STDIN_FILENO))
		tty = STDIN_FILENO; /* -t on the caller's terminal */
	if (pipe2(c->go, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);
	if ((c->shim = fork()) < 0)
		return -errno;
	if (c->shim == 0) {
		close(c->go[1]);
		if (c->master >= 0)
			close(c->master);
		o = (struct shim_opts){ .tree = &c->tree, .id = c->dir, .go_fd = c->go[0],
					.pty_slave = c->slave, .tty_fd = tty, .exec = true,
					.unlink_path = c->json_ours ? c->json_path : NULL };
		shim_main(&o);
	}
	close(c->go[0]);
	c->go[0] = -1;
	if (c->slave >= 0)
		close(c->slave);
	c->slave = -1;
	return 0;
}

static void undo(struct exec_ctx *c)
{
	if (c->go[1] >= 0)
		close(c->go[1]);
	c->go[1] = -1;
	if (c->shim > 0)
		waitpid(c->shim, NULL, 0);
	c->shim = -1;
	if (c->json_ours)
		unlink(c->json_path);
	if (c->master >= 0)
		close(c->master);
	c->master = -1;
}

/* The ctl write, then exec/NAME (there once the write returned; a short
 * grace for a tree that answers before it shows the directory). */
static int ask_tree(struct exec_ctx *c)
{
	char line[4400], reason[1024], msg[512], status[32];
	struct timespec nap = { 0, 20 * 1000 * 1000 };
	int r;

	snprintf(line, sizeof(line), "exec %s %s", c->name, c->json_path);
	ocivm_debug("echo '%s' > %s/containers/%s/ctl", line, c->tree.mount, c->id);
	r = tree_ctl(&c->tree, c->id, line);
	if (r < 0) {
		tree_status(&c->tree, c->id, status, sizeof(status));
		ocivm_errmap(OP_EXEC, r, c->id, status, msg, sizeof(msg));
		tree_last_log(&c->tree, c->id, reason, sizeof(reason));
		undo(c);
		return *reason ? ocivm_fail("%s: %s", msg, reason) : ocivm_fail("%s", msg);
	}
	for (int waited = 0; !tree_exists(&c->tree, c->dir); waited += 20) {
		if (waited >= EXEC_APPEAR_MS) {
			undo(c);
			return ocivm_fail("exec in container %s: %s/exec/%s did not appear",
					  c->id, c->id, c->name);
		}
		nanosleep(&nap, NULL);
	}
	return 0;
}

/* -t on the caller's own terminal (not detached): raw before the shim
 * reads it, what it held in canonical mode (an EOF as VEOF, never as the 0
 * byte n_tty keeps for it) handed to the shim after "1" on go. */
static int go_signal(struct exec_ctx *c)
{
	static char buf[1 + WINSZ_PENDING_MAX];
	size_t n = 0;

	buf[0] = '1';
	if (c->terminal && !c->a->console_socket && !c->a->detach)
		c->raw = winsz_raw(STDIN_FILENO, &c->saved, buf + 1, sizeof(buf) - 1, &n) == 0;
	if (fd_write_all(c->go[1], buf, 1 + n) < 0) {
		if (c->raw)
			winsz_restore(STDIN_FILENO, &c->saved);
		c->raw = false;
		return -1;
	}
	return 0;
}

static int go(struct exec_ctx *c)
{
	struct oerr err = { 0 };
	char buf[32];
	int r;

	if (c->a->console_socket && console_send_fd(c->a->console_socket, c->master, &err) < 0) {
		tree_ctl(&c->tree, c->dir, "kill 9");
		undo(c);
		return ocivm_fail("%s", err.msg);
	}
	if (c->a->pid_file) {
		int n = snprintf(buf, sizeof(buf), "%d", (int)c->shim);
		if ((r = file_write_atomic(c->a->pid_file, buf, (size_t)n, 0644)) < 0) {
			tree_ctl(&c->tree, c->dir, "kill 9");
			undo(c);
			return ocivm_fail("writing pid file %s: %s", c->a->pid_file, strerror(-r));
		}
	}
	if (go_signal(c) < 0) {
		undo(c);
		return ocivm_fail("the shim of %s died", c->dir);
	}
	close(c->go[1]);
	c->go[1] = -1;
	if (c->master >= 0)
		close(c->master);
	c->master = -1;
	return 0;
}

static volatile pid_t exec_shim;

/* Signals sent to `ocivm exec` go on to the shim (and so the process); the
 * terminal's own (SI_KERNEL) reached the shim already (same group). */
static void exec_forward(int sig, siginfo_t *si, void *uc)
{
	if (exec_shim > 0 && si->si_code != SI_KERNEL)
		kill(exec_shim, sig);
}

static int wait_shim(struct exec_ctx *c)
{
	static const int fwd[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
	struct sigaction sa = { .sa_sigaction = exec_forward, .sa_flags = SA_SIGINFO };
	int status;

	exec_shim = c->shim;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(fwd) / sizeof(fwd[0]); i++)
		sigaction(fwd[i], &sa, NULL);
	signal(SIGWINCH, SIG_IGN); /* the shim sends the resizes */
	while (waitpid(c->shim, &status, 0) < 0) {
		if (errno != EINTR) {
			if (c->raw)
				winsz_restore(STDIN_FILENO, &c->saved);
			return ocivm_fail("waiting for %s: %s", c->dir, strerror(errno));
		}
	}
	if (c->raw)
		winsz_restore(STDIN_FILENO, &c->saved);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int cmd_exec(const struct ocivm_args *a)
{
	struct exec_ctx c = { .a = a, .go = { -1, -1 }, .master = -1, .slave = -1 };
	int r;

	if (prepare(&c)) {
		if (c.json_ours)
			unlink(c.json_path);
		return 1;
	}
	if ((r = fork_shim(&c)) < 0) {
		undo(&c);
		return ocivm_fail("forking the shim: %s", strerror(-r));
	}
	if (ask_tree(&c) || go(&c))
		return 1;
	return a->detach ? 0 : wait_shim(&c);
}
