/* See spawn.h.  The fork, stdio, session, signals and exec are common/
 * proc.c's (proc_spawn); its child hook runs straight-line steps, and any
 * failure comes back as the code 127 or 126 (the stage) with a message. */
#include "spawn.h"
#include "cgroup.h"
#include "clock.h"
#include "ns.h"
#include "userns.h"
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define GSPAWN_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define GSPAWN_LAST_CAP 40

static __attribute__((noreturn, format(printf, 2, 3)))
void child_fail(int code, const char *fmt, ...)
{
	char msg[PROC_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	proc_child_fail(code, code == 127 ? ENOENT : EACCES, "%s", msg);
}

static int is_exec_file(const char *root, const char *path)
{
	char full[4096];
	struct stat st;
	snprintf(full, sizeof(full), "%s%s", root ? root : "", path);
	return stat(full, &st) == 0 && S_ISREG(st.st_mode);
}

int gspawn_resolve(const struct gplan *p, const char *root, char *out, size_t cap)
{
	const char *a0 = p->args[0], *path = gplan_getenv(p, "PATH");

	if (strchr(a0, '/')) {
		if ((size_t)snprintf(out, cap, "%s", a0) >= cap)
			return -ENAMETOOLONG;
		return 0;
	}
	if (!path)
		path = GSPAWN_DEFAULT_PATH;
	while (*path) {
		size_t n = strcspn(path, ":");
		if ((size_t)snprintf(out, cap, "%.*s/%s", (int)n, n ? path : ".", a0) < cap &&
		    is_exec_file(root, out))
			return 0;
		path += n + (path[n] == ':');
	}
	return -ENOENT;
}

/* Capabilities this kernel knows (a custom vm.kernel may predate some):
 * others are left out, as runc does, instead of failing capset. */
static uint64_t known_caps(void)
{
	uint64_t m = 0;
	for (int i = 0; i <= GSPAWN_LAST_CAP; i++)
		if (prctl(PR_CAPBSET_READ, i, 0, 0, 0) >= 0)
			m |= 1ull << i;
	return m;
}

static void child_caps(const struct gplan *p, uint64_t known)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	uint64_t c[GCAP_NSETS];

	for (int i = 0; i < GCAP_NSETS; i++)
		c[i] = p->caps[i] & known;
	for (int i = 0; i < 2; i++) {
		d[i].effective = (uint32_t)(c[GCAP_EFFECTIVE] >> (32 * i));
		d[i].permitted = (uint32_t)(c[GCAP_PERMITTED] >> (32 * i));
		d[i].inheritable = (uint32_t)(c[GCAP_INHERITABLE] >> (32 * i));
	}
	if (syscall(SYS_capset, &h, d) < 0)
		child_fail(126, "capset: %s", strerror(errno));
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	for (int i = 0; i <= GSPAWN_LAST_CAP; i++)
		if ((c[GCAP_AMBIENT] >> i & 1) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, i, 0, 0) < 0)
			child_fail(126, "ambient capability %d: %s", i, strerror(errno));
}

static void child_identity(const struct gplan *p)
{
	uint64_t known = known_caps();

	if (p->has_caps)
		for (int i = 0; i <= GSPAWN_LAST_CAP; i++)
			if (!(p->caps[GCAP_BOUNDING] >> i & 1) &&
			    prctl(PR_CAPBSET_DROP, i, 0, 0, 0) < 0 && errno != EINVAL)
				child_fail(126, "dropping capability %d: %s", i, strerror(errno));
	if (p->has_user) {
		if (setgroups((size_t)p->n_gids, p->gids) < 0 && (errno != EPERM || p->n_gids))
			child_fail(126, "setgroups: %s", strerror(errno));
		if (p->has_caps)
			prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
		if (setresgid(p->gid, p->gid, p->gid) < 0)
			child_fail(126, "setgid %u: %s", (unsigned)p->gid, strerror(errno));
		if (setresuid(p->uid, p->uid, p->uid) < 0)
			child_fail(126, "setuid %u: %s", (unsigned)p->uid, strerror(errno));
	}
	if (p->has_caps)
		child_caps(p, known);
	if (p->nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail(126, "noNewPrivileges: %s", strerror(errno));
	if (p->umask >= 0)
		umask((mode_t)p->umask);
}

static void child_limits(const struct gplan *p)
{
	for (int i = 0; i < p->n_rlimits; i++) {
		struct rlimit rl = { p->rlimits[i].soft, p->rlimits[i].hard };
		if (setrlimit(p->rlimits[i].resource, &rl) < 0)
			child_fail(126, "setrlimit %d: %s", p->rlimits[i].resource, strerror(errno));
	}
	if (p->has_oom) {
		char v[16];
		int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
		int n = snprintf(v, sizeof(v), "%d", p->oom);
		if (fd < 0 || write(fd, v, (size_t)n) != n)
			child_fail(126, "oom_score_adj %d: %s", p->oom, strerror(errno));
		close(fd);
	}
}

/* stdio is in place (0, 1, 2) in a session of its own (proc_spawn); with
 * a pty, the slave becomes the ctty. */
static void child_stdio(const struct gplan *p)
{
	if (p->terminal && ioctl(0, TIOCSCTTY, 0) < 0)
		child_fail(126, "TIOCSCTTY: %s", strerror(errno));
}

/* Own mount namespace, root moved onto "/" and chroot there (pivot_root
 * cannot leave an initramfs; this is what switch_root does). */
static void child_enter_root(const char *root)
{
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		child_fail(126, "mount namespace: %s", strerror(errno));
	if (chdir(root) < 0 || mount(root, "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 ||
	    chdir("/") < 0)
		child_fail(126, "entering root %s: %s", root, strerror(errno));
}

/* The container's cgroup (cgroup.c) is joined from init's view, before the
 * root is entered; its cgroup mounts are made again from inside. */
static void child_enter_root_cgroup(const struct gplan *p, const char *root)
{
	char eb[200];
	int cg = gcgroup_join(p, eb, sizeof(eb));

	if (cg < 0)
		child_fail(126, "%s", eb);
	child_enter_root(root);
	if (cg > 0 && gcgroup_remount(p, eb, sizeof(eb)) < 0)
		child_fail(126, "%s", eb);
}

/* The steps of a new container process, up to its exec (of exe, found
 * here). */
static void child_run(const struct gplan *p, const char *root, char *exe, size_t cap)
{
	char eb[200];
	struct guserns u = { 0 };

	child_stdio(p);
	child_limits(p);
	if (guserns_prepare(p, &u, eb, sizeof(eb)) < 0)
		child_fail(126, "%s", eb);
	if (root && gns_unshare(p, eb, sizeof(eb)) < 0)
		child_fail(126, "%s", eb);
	if (root)
		child_enter_root_cgroup(p, root);
	if (root && gns_remount(p, eb, sizeof(eb)) < 0)
		child_fail(126, "%s", eb);
	if (chdir(p->cwd) < 0)
		child_fail(126, "cwd %s: %s", p->cwd, strerror(errno));
	if (gspawn_resolve(p, NULL, exe, cap) < 0)
		child_fail(127, "%s: executable file not found in $PATH", p->args[0]);
	if (guserns_enter(&u, eb, sizeof(eb)) < 0)
		child_fail(126, "%s", eb);
	child_identity(p);
}

/* An exec'd process joins the container process `target`: its cgroup (from
 * init's view), its namespaces (mount, then root, then its user namespace
 * last: setns to a user namespace gives up the caps the others need) and
 * its root, seen through /proc/TARGET/root.  A namespace the target shares
 * with init is left alone.  Its pid namespace is not joined here: init
 * forks it into that one (ns.c), so init stays its parent. */
static int ns_differs(pid_t target, const char *ns)
{
	char a[64], b[64];
	struct stat x, y;

	snprintf(a, sizeof(a), "/proc/self/ns/%s", ns);
	snprintf(b, sizeof(b), "/proc/%d/ns/%s", (int)target, ns);
	return stat(a, &x) == 0 && stat(b, &y) == 0 && (x.st_ino != y.st_ino || x.st_dev != y.st_dev);
}

static void child_setns(pid_t target, const char *ns)
{
	char path[64];
	int fd;

	if (!ns_differs(target, ns))
		return;
	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)target, ns);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || setns(fd, 0) < 0)
		child_fail(126, "joining the container's %s namespace: %s", ns, strerror(errno));
	close(fd);
}

static void child_join(pid_t target)
{
	static const char *const nss[] = { "cgroup", "ipc", "uts", "net", "mnt" };
	char path[64];
	int rfd, cg;

	snprintf(path, sizeof(path), "/proc/%d/root", (int)target);
	if ((rfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		child_fail(126, "the container's process is gone: %s", strerror(errno));
	cg = open(GCGROUP_DIR "/cgroup.procs", O_WRONLY | O_CLOEXEC);
	if (cg >= 0 && write(cg, "0", 1) != 1)
		child_fail(126, "joining " GCGROUP_DIR ": %s", strerror(errno));
	if (cg >= 0)
		close(cg);
	for (size_t i = 0; i < sizeof(nss) / sizeof(nss[0]); i++)
		child_setns(target, nss[i]);
	if (fchdir(rfd) < 0 || chroot(".") < 0 || chdir("/") < 0)
		child_fail(126, "entering the container's root: %s", strerror(errno));
	close(rfd);
	child_setns(target, "user");
}

static void child_run_exec(const struct gplan *p, pid_t target, char *exe, size_t cap)
{
	child_stdio(p);
	child_limits(p);
	child_join(target);
	if (chdir(p->cwd) < 0)
		child_fail(126, "cwd %s: %s", p->cwd, strerror(errno));
	if (gspawn_resolve(p, NULL, exe, cap) < 0)
		child_fail(127, "%s: executable file not found in $PATH", p->args[0]);
	child_identity(p);
}

struct child_ctx {
	const struct gplan *p;
	const char *root;
	pid_t join;
	char exe[4096];   /* filled in the child: proc_spawn execs it */
};

/* proc_spawn's hook: in the child, after stdio; every failure is a
 * child_fail, so it returns only to exec. */
static int child_hook(void *arg, int *keep_from, int *exec_fd, int *err)
{
	struct child_ctx *c = arg;

	if (c->join > 0)
		child_run_exec(c->p, c->join, c->exe, sizeof(c->exe));
	else
		child_run(c->p, c->root, c->exe, sizeof(c->exe));
	return 0;
}

/* A pty from root's devpts if it has one (so the name is valid inside the
 * container), else from the init's /dev/ptmx.  Slave via TIOCGPTPEER. */
static int gspawn_pty(const char *root, int *ret_master, int *ret_slave)
{
	char path[4096];
	int m = -1, unlock = 0;

	if (root) {
		snprintf(path, sizeof(path), "%s/dev/pts/ptmx", root);
		m = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	}
	if (m < 0)
		m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		return -errno;
	if (ioctl(m, TIOCSPTLCK, &unlock) < 0) {
		close(m);
		return -errno;
	}
	int s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	if (s < 0) {
		close(m);
		return -errno;
	}
	*ret_master = m;
	*ret_slave = s;
	return 0;
}

static void close_all(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		}
}

/* child[0..2] for the process, parent[0..2]: stdin writer, stdout, stderr. */
static int gspawn_stdio(const struct gplan *p, const char *root, int child[3], int parent[3])
{
	int a[2], b[2], c[2], r;

	if (p->terminal) {
		int m = -1, s = -1;
		if ((r = gspawn_pty(root, &m, &s)) < 0)
			return r;
		/* process.consoleSize: set before the process runs, so a size
		 * read at once is the caller's (a resize comes later) */
		struct winsize ws = { .ws_row = p->ws_rows, .ws_col = p->ws_cols };
		if (ws.ws_row && ws.ws_col && ioctl(m, TIOCSWINSZ, &ws) < 0) {
			r = -errno;
			close(m);
			close(s);
			return r;
		}
		child[0] = s;
		child[1] = dup(s);
		child[2] = dup(s);
		parent[0] = m;
		parent[1] = fcntl(m, F_DUPFD_CLOEXEC, 0);
		parent[2] = -1;
		return child[1] < 0 || child[2] < 0 || parent[1] < 0 ? -EMFILE : 0;
	}
	if (pipe2(a, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(b, O_CLOEXEC) < 0) {
		close_all(a, 2);
		return -errno;
	}
	if (pipe2(c, O_CLOEXEC) < 0) {
		close_all(a, 2);
		close_all(b, 2);
		return -errno;
	}
	child[0] = a[0]; parent[0] = a[1];
	child[1] = b[1]; parent[1] = b[0];
	child[2] = c[1]; parent[2] = c[0];
	return 0;
}

/* A failure the child reported (proc_spawn's -errno r, stage, message):
 * the code (127: not found, 126: anything else) and the reason. */
static int spawn_failed(int r, int stage, const char *msg, int *ret_code, char *eb, size_t cap)
{
	if (stage > 0) {   /* child_fail */
		*ret_code = stage;
		snprintf(eb, cap, "%s", msg);
	} else {           /* the exec itself (msg: its path), or placing stdio */
		*ret_code = r == -ENOENT ? 127 : 126;
		if (msg[0])
			snprintf(eb, cap, "exec %s: %s", msg, strerror(-r));
		else
			snprintf(eb, cap, "dup2: %s", strerror(-r));
	}
	return *ret_code == 127 ? -ENOENT : -EACCES;
}

/* root: where the pty comes from; join > 0: an exec into that process. */
static int gspawn_do(const struct gplan *p, const char *root, pid_t join,
		     struct gspawn_result *ret, int *ret_code, char *eb, size_t cap)
{
	int child[3] = { -1, -1, -1 }, parent[3] = { -1, -1, -1 }, r, pidns, stage;
	char msg[PROC_MSG_MAX] = "";
	pid_t pid;
	uint64_t t0;

	*ret_code = 126;
	if ((r = gspawn_stdio(p, root, child, parent)) < 0) {
		close_all(child, 3);
		close_all(parent, 3);
		snprintf(eb, cap, "setting up stdio: %s", strerror(-r));
		return r;
	}
	if ((r = gns_pid_prepare(p, root, join, &pidns, eb, cap)) < 0) {
		close_all(child, 3);
		close_all(parent, 3);
		return r;
	}
	/* the process's own session; every signal's default, none blocked */
	struct child_ctx cc = { .p = p, .root = root, .join = join };
	struct proc_spawn ps = {
		.path = cc.exe, .argv = p->args, .envp = p->env,
		.fd = { child[0], child[1], child[2] }, .flags = PROC_SETSID | PROC_SIGDFL,
		.child = child_hook, .arg = &cc, .exec_fd = -1, .msg = msg,
	};
	t0 = gclock_us();
	r = proc_spawn(&ps, &pid, &stage);
	gns_pid_restore(pidns);
	close_all(child, 3);
	if (r < 0 && stage >= 0)
		r = spawn_failed(r, stage, msg, ret_code, eb, cap);
	else if (r == -ENOMEM && join > 0)   /* its pid namespace's init has exited */
		snprintf(eb, cap, "fork: the container's process is gone");
	else if (r < 0)
		snprintf(eb, cap, "fork: %s", strerror(-r));
	if (r < 0) {
		close_all(parent, 3);
		return r;
	}
	for (int i = 0; i < 3; i++)
		if (parent[i] >= 0)
			fcntl(parent[i], F_SETFL, fcntl(parent[i], F_GETFL) | O_NONBLOCK);
	*ret = (struct gspawn_result){ pid, gns_inner_pid(pid), parent[0], parent[1], parent[2], t0 };
	return 0;
}

int gspawn(const struct gplan *p, const char *root, struct gspawn_result *ret,
	   int *ret_code, char *eb, size_t cap)
{
	return gspawn_do(p, root, 0, ret, ret_code, eb, cap);
}

int gspawn_exec(const struct gplan *p, pid_t target, struct gspawn_result *ret,
		int *ret_code, char *eb, size_t cap)
{
	char root[64];

	snprintf(root, sizeof(root), "/proc/%d/root", (int)target);
	return gspawn_do(p, root, target, ret, ret_code, eb, cap);
}
