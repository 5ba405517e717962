/* Hypervisor processes: spawn detached, watch through a pidfd (which works
 * for processes that are not our children, after a daemon restart), end. */
#include "spawn.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

int vm_find_binary(const char *name, char **ret)
{
	if (!name || !*name)
		return -ENOENT;
	if (strchr(name, '/')) {
		if (access(name, X_OK) < 0)
			return -errno;
		*ret = strdup(name);
		return *ret ? 0 : -ENOMEM;
	}
	const char *path = getenv("PATH");
	_cleanup_free_ char *dirs = strdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
	char *save = NULL, buf[PATH_MAX];
	if (!dirs)
		return -ENOMEM;
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		if (snprintf(buf, sizeof(buf), "%s/%s", d, name) >= (int)sizeof(buf))
			continue;
		if (access(buf, X_OK) == 0) {
			*ret = strdup(buf);
			return *ret ? 0 : -ENOMEM;
		}
	}
	return -ENOENT;
}

int vm_pidfd_open(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return -errno;
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	return fd;
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void spawn_child(char *const argv[], const char *log_path, int errfd)
{
	sigset_t all;
	int fd;

	setsid();
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0 && fd != 0) {
		dup2(fd, 0);
		close(fd);
	}
	fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	syscall(SYS_close_range, 3u, ~0u, 4u /* CLOSE_RANGE_CLOEXEC */);
	execv(argv[0], argv);
	int e = errno;
	if (write(errfd, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

int vm_spawn(char *const argv[], const char *log_path, pid_t *ret_pid, int *ret_pidfd,
	     struct oerr *err)
{
	int pipefd[2], e = 0;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return oerr_sys(err, errno, "spawning %s: pipe", argv[0]);
	pid_t pid = fork();
	if (pid < 0) {
		int fe = errno;
		close(pipefd[0]);
		close(pipefd[1]);
		return oerr_sys(err, fe, "spawning %s: fork", argv[0]);
	}
	if (pid == 0)
		spawn_child(argv, log_path, pipefd[1]);
	close(pipefd[1]);
	ssize_t n;
	do
		n = read(pipefd[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	if (n == (ssize_t)sizeof(e)) {
		waitpid(pid, NULL, 0);
		return oerr_sys(err, e, "executing %s", argv[0]);
	}
	int pidfd = vm_pidfd_open(pid);
	if (pidfd < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return oerr_sys(err, -pidfd, "pidfd_open for %s", argv[0]);
	}
	*ret_pid = pid;
	*ret_pidfd = pidfd;
	return 0;
}

int vm_proc_start_time(pid_t pid, unsigned long long *ret)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	/* comm may hold spaces: fields start after the last ')' */
	char *p = strrchr(buf, ')');
	if (!p)
		return -EIO;
	p++;
	for (int field = 3; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p, " %llu", ret) != 1)
		return -EIO;
	return 0;
}

int vm_pidfd_wait(int pidfd, unsigned timeout_ms)
{
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
	int n;

	do
		n = poll(&pfd, 1, (int)timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n > 0;
}

void vm_reap_describe(int pidfd, bool is_child, char *buf, size_t n)
{
	siginfo_t si = { 0 };

	if (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0) {
		snprintf(buf, n, is_child ? "ended (its status could not be read)"
					  : "ended (not our child: how is unknown)");
		return;
	}
	if (si.si_code == CLD_EXITED) {
		snprintf(buf, n, "exited with status %d", si.si_status);
		return;
	}
	const char *name = sigabbrev_np(si.si_status);
	snprintf(buf, n, "was killed by signal %d (SIG%s%s)", si.si_status, name ? name : "?",
		 si.si_code == CLD_DUMPED ? ", core dumped" : "");
}

int vm_reap(int pidfd, bool is_child)
{
	siginfo_t si = { 0 };

	/* Attached after a restart it may still be our child (same process):
	 * try anyway, ECHILD just means someone else reaps it. */
	if (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED | WNOHANG) < 0)
		return is_child ? -errno : 0;
	if (si.si_code == CLD_EXITED)
		return W_EXITCODE(si.si_status, 0);
	return si.si_status & 0x7f;
}
