/* Starting the ocivmfs daemon under a state root, as crun/runc callers expect
 * a runtime to work with nothing but --root: ROOT/mnt is the tree, ROOT/state
 * the daemon's state, ROOT/ocivmfs.log its stderr.  The daemon runs in its own
 * session and holds none of the caller's file descriptors, so conmon or a
 * shell waiting for our output never waits for the daemon. */
#include "ocivm.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "proc.h"

#define DAEMON_WAIT_MS 20000

/* $OCIVMFS, else ocivmfs next to this program, else "ocivmfs" from PATH. */
static void daemon_binary(char *buf, size_t n)
{
	const char *env = getenv("OCIVMFS");
	char self[PATH_MAX];
	ssize_t len;

	if (env && *env) {
		snprintf(buf, n, "%s", env);
		return;
	}
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len > 0) {
		self[len] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(buf, n, "%s/ocivmfs", self);
			if (access(buf, X_OK) == 0)
				return;
		}
	}
	snprintf(buf, n, "ocivmfs");
}

/* The daemon with stdin /dev/null, stdout and stderr ROOT/ocivmfs.log, no
 * other descriptor of ours (common/proc.c): 0 once it runs, or -errno. */
static int exec_daemon(const char *bin, const char *root, const char *mnt)
{
	char state[4200], logp[4200];
	pid_t pid;

	snprintf(state, sizeof(state), "%s/state", root);
	snprintf(logp, sizeof(logp), "%s/ocivmfs.log", root);
	_cleanup_close_ int logfd = open(logp, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	char *argv[] = { (char *)bin, "--state-dir", state, (char *)mnt, NULL };
	struct proc_spawn ps = { .argv = argv, .fd = { -1, logfd, logfd }, .flags = PROC_PATH,
				 .exec_fd = -1 };   /* logfd -1: /dev/null */
	return proc_spawn(&ps, &pid, NULL);
}

/* Forks twice so the daemon is nobody's child: the first child starts a
 * session, spawns the daemon in it (not as its leader, so a terminal it
 * opens never becomes its controlling one) and exits.  Returns the
 * spawn's -errno (0 when the daemon runs), passed up through a pipe. */
static int spawn_daemon(const char *bin, const char *root, const char *mnt)
{
	int p[2], e = 0;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		e = errno;
		close(p[0]);
		close(p[1]);
		return -e;
	}
	if (pid == 0) {
		close(p[0]);
		setsid();
		e = -exec_daemon(bin, root, mnt);
		if (write(p[1], &e, sizeof(e)) < 0) {
			/* the parent waits for the mount instead */
		}
		_exit(0);
	}
	close(p[1]);
	proc_wait(pid, NULL);
	if (read(p[0], &e, sizeof(e)) != sizeof(e))
		e = 0;
	close(p[0]);
	return -e;
}

static int wait_mounted(const char *mnt, int timeout_ms)
{
	struct timespec nap = { 0, 50 * 1000 * 1000 };

	for (int waited = 0; waited < timeout_ms; waited += 50) {
		if (tree_is_mount(mnt))
			return 0;
		nanosleep(&nap, NULL);
	}
	return -ETIMEDOUT;
}

int tree_start_daemon(const char *root, const char *mnt, struct oerr *err)
{
	char bin[4200], lockp[4200], state[4200];
	_cleanup_close_ int lock = -1;
	struct stat st;
	int r;

	snprintf(state, sizeof(state), "%s/state", root);
	if ((r = mkdir_p(mnt, 0711)) < 0 && r != -ENOTCONN)
		return oerr_sys(err, -r, "creating %s", mnt);
	if ((r = mkdir_p(state, 0700)) < 0)
		return oerr_sys(err, -r, "creating %s", state);
	snprintf(lockp, sizeof(lockp), "%s/ocivm.lock", root);
	lock = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock < 0 || flock(lock, LOCK_EX) < 0)
		return oerr_sys(err, errno, "locking %s", lockp);
	if (tree_is_mount(mnt))
		return 0; /* another ocivm started it meanwhile */
	if (stat(mnt, &st) < 0 && errno == ENOTCONN)
		umount2(mnt, MNT_DETACH); /* a dead daemon's mount */
	daemon_binary(bin, sizeof(bin));
	if ((r = spawn_daemon(bin, root, mnt)) < 0)
		return oerr_sys(err, -r, "starting %s", bin);
	if (wait_mounted(mnt, DAEMON_WAIT_MS) < 0)
		return oerr_set(err, ETIMEDOUT, "%s did not mount %s (see %s/ocivmfs.log)",
				bin, mnt, root);
	return 0;
}
