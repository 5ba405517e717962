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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"

#define DAEMON_WAIT_MS 20000

static int mkdir_p(const char *path, mode_t mode)
{
	char tmp[4096];
	size_t len = strlen(path);

	if (len >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

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

/* In the grandchild: stdio, no inherited fds but the report pipe, exec. */
static void __attribute__((noreturn))
exec_daemon(const char *bin, const char *root, const char *mnt, int report)
{
	char state[4200], logp[4200];
	int null = open("/dev/null", O_RDWR), logfd;

	snprintf(state, sizeof(state), "%s/state", root);
	snprintf(logp, sizeof(logp), "%s/ocivmfs.log", root);
	logfd = open(logp, O_WRONLY | O_APPEND | O_CREAT, 0640);
	dup2(null, 0);
	dup2(logfd >= 0 ? logfd : null, 1);
	dup2(logfd >= 0 ? logfd : null, 2);
	for (int fd = 3; fd < report; fd++)
		close(fd);
	close_range((unsigned)report + 1, ~0U, 0);
	execlp(bin, bin, "--state-dir", state, mnt, (char *)NULL);
	int e = errno;
	if (write(report, &e, sizeof(e)) < 0) {
		/* the parent times out instead */
	}
	_exit(127);
}

/* Forks twice so the daemon is nobody's child; returns the exec errno
 * reported through a CLOEXEC pipe (0 when exec succeeded). */
static int spawn_daemon(const char *bin, const char *root, const char *mnt)
{
	int p[2], e = 0, status;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (pid == 0) {
		close(p[0]);
		setsid();
		if (fork() == 0)
			exec_daemon(bin, root, mnt, p[1]);
		_exit(0);
	}
	close(p[1]);
	waitpid(pid, &status, 0);
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
