/* Hypervisor processes: spawn detached, watch through a pidfd (which works
 * for processes that are not our children, after a daemon restart), end. */
#include "spawn.h"
#include "jail.h"
#include "cleanup.h"
#include "proc.h"

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
#include <sys/prctl.h>
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

/* The jail's fds to VM_JAIL_FD_BASE.. in order; everything else
 * (exec_fd, cgroup fds) moved above them first so no dup2 clobbers it. */
static int spawn_place_fds(struct vm_jail *j)
{
	int top = VM_JAIL_FD_BASE + (int)j->n_fds, tmp[VM_JAIL_MAX_FDS];

	for (size_t i = 0; i < j->n_fds; i++)
		if ((tmp[i] = fcntl(j->src_fds[i], F_DUPFD_CLOEXEC, top)) < 0)
			return -errno;
	if (j->exec_fd >= 0 && (j->exec_fd = fcntl(j->exec_fd, F_DUPFD_CLOEXEC, top)) < 0)
		return -errno;
	for (int i = 0; i < VM_JAIL_CGROUPS; i++)
		if (j->cgroup_fds[i] >= 0 &&
		    (j->cgroup_fds[i] = fcntl(j->cgroup_fds[i], F_DUPFD_CLOEXEC, top)) < 0)
			return -errno;
	for (size_t i = 0; i < j->n_fds; i++)
		if (dup2(tmp[i], VM_JAIL_FD_BASE + (int)i) < 0)
			return -errno;
	return top;
}

/* In the child, between fork and exec (proc_spawn's hook): only
 * async-signal-safe calls; the jail is the child's copy of the parent's. */
static int spawn_jail_child(void *arg, int *keep_from, int *exec_fd, int *err)
{
	struct vm_jail *j = arg;
	int keep = spawn_place_fds(j), r;

	if (keep < 0)
		return *err = -keep, VM_SPAWN_STAGE_FDS;
	*keep_from = keep;
	if (j->thp_off && prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) < 0)
		return *err = errno, VM_SPAWN_STAGE_JAIL;
	if (!j->on)   /* unconfined: only the passed fds (QEMU's listening
		       * sockets, the taps of vm/driver/net.c) */
		return 0;
	if ((r = vm_jail_enter(j)) < 0)
		return *err = -r, VM_SPAWN_STAGE_JAIL;
	*exec_fd = j->exec_fd;
	return 0;
}

static const char *const spawn_stages[] = {
	[VM_SPAWN_STAGE_EXEC] = "executing",
	[VM_SPAWN_STAGE_FDS] = "passing fds to",
	[VM_SPAWN_STAGE_JAIL] = "confining (cgroup, namespaces, user, rlimits; "
				"ocivmfs --no-confine runs it unconfined)",
};

int vm_spawn(char *const argv[], const char *log_path, pid_t *ret_pid, int *ret_pidfd,
	     struct oerr *err)
{
	return vm_spawn_jailed(argv, log_path, NULL, ret_pid, ret_pidfd, err);
}

int vm_spawn_jailed(char *const argv[], const char *log_path, const struct vm_jail *jail,
		    pid_t *ret_pid, int *ret_pidfd, struct oerr *err)
{
	_cleanup_close_ int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	struct vm_jail j;
	struct proc_spawn s = {
		.argv = argv, .fd = { -1, log, log }, .exec_fd = -1,
		.flags = PROC_SETSID | PROC_SIGDFL,
	};
	pid_t pid;
	int stage;

	if (jail && (jail->on || jail->pass_fds || jail->n_fds)) {
		j = *jail;   /* the child's hook moves its fds in its own copy */
		s.child = spawn_jail_child;
		s.arg = &j;
		if (jail->on)   /* it sees no other VM's process (same uid by default) */
			s.flags |= PROC_NEWPID;
	}
	int r = proc_spawn(&s, &pid, &stage);
	if (r < 0 && stage < 0)
		return oerr_sys(err, -r, "spawning %s: fork", argv[0]);
	if (r < 0) {
		if (stage > VM_SPAWN_STAGE_JAIL)
			stage = VM_SPAWN_STAGE_EXEC;
		return oerr_sys(err, -r, "%s %s", spawn_stages[stage], argv[0]);
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

int vm_exit_signal(int pidfd)
{
	siginfo_t si = { 0 };

	if (pidfd < 0 || waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si,
				WEXITED | WNOHANG | WNOWAIT) < 0)
		return 0;
	return si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED ? si.si_status : 0;
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
	snprintf(buf, n, "was killed by signal %d (SIG%s%s)%s", si.si_status, name ? name : "?",
		 si.si_code == CLD_DUMPED ? ", core dumped" : "",
		 si.si_status == SIGSYS ? ": a system call outside its seccomp filter" : "");
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
