/* fork + exec with an error pipe (see proc.h). */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

extern char **environ;

struct report { int stage, err; char msg[PROC_MSG_MAX]; };

static int child_report = -1;   /* the child's end, for proc_child_fail */

static void __attribute__((noreturn)) report_fail(int report, const struct report *m)
{
	if (write(report, m, sizeof(*m)) < 0) {
		/* the parent sees a closed pipe and a dead child */
	}
	_exit(127);
}

static void __attribute__((noreturn)) child_fail(int report, int stage, int e, const char *what)
{
	struct report m = { stage, e, "" };
	for (size_t i = 0; what && what[i] && i < sizeof(m.msg) - 1; i++)
		m.msg[i] = what[i];   /* async-signal-safe */
	report_fail(report, &m);
}

void proc_child_fail(int stage, int err, const char *fmt, ...)
{
	struct report m = { stage, err, "" };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m.msg, sizeof(m.msg), fmt, ap);
	va_end(ap);
	report_fail(child_report, &m);
}

/* want[] may overlap 0..2 and each other: copy them above 2 first. */
static int place_fds(const int want[3])
{
	int null = -1, moved[3];

	for (int i = 0; i < 3; i++) {
		int fd = want[i];
		if (fd < 0) {
			if (null < 0 && (null = open("/dev/null", O_RDWR)) < 0)
				return -errno;
			fd = null;
		}
		if ((moved[i] = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0)
			return -errno;
	}
	for (int i = 0; i < 3; i++)
		if (dup2(moved[i], i) < 0)
			return -errno;
	return 0;
}

static void __attribute__((noreturn)) proc_child(const struct proc_spawn *s, pid_t parent,
						 int report)
{
	int keep = 3, e = 0, exec_fd = s->exec_fd;
	int high = fcntl(report, F_DUPFD_CLOEXEC, PROC_REPORT_FD_MIN);

	if (high >= 0) {   /* out of the way of the hook's dup2s */
		close(report);
		report = high;
	}
	child_report = report;
	/* getppid() is 0 in a new pid namespace: the parent is outside it */
	if ((s->flags & PROC_PDEATHSIG) && (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 ||
					     getppid() != (s->flags & PROC_NEWPID ? 0 : parent)))
		_exit(127);
	if (s->flags & PROC_SETSID)
		setsid();
	if (s->flags & PROC_SETPGID)
		setpgid(0, 0);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (s->flags & PROC_SIGDFL)
		for (int sig = 1; sig < NSIG; sig++)
			signal(sig, SIG_DFL);
	else
		signal(SIGPIPE, SIG_DFL);
	int r = place_fds(s->fd);
	if (r < 0)
		child_fail(report, PROC_STAGE_EXEC, -r, NULL);   /* msg "": not the exec */
	if (s->child) {
		int stage = s->child(s->arg, &keep, &exec_fd, &e);
		if (stage)
			child_fail(report, stage, e, NULL);
	}
	/* CLOSE_RANGE_CLOEXEC: the report pipe stays open until exec */
	syscall(SYS_close_range, (unsigned)keep, ~0u, 4u);
	char *const *envp = s->envp ? s->envp : environ;
	if (exec_fd >= 0)
		syscall(SYS_execveat, exec_fd, "", s->argv, envp, AT_EMPTY_PATH);
	else if (s->flags & PROC_PATH)
		execvpe(s->path ? s->path : s->argv[0], s->argv, envp);
	else
		execve(s->path ? s->path : s->argv[0], s->argv, envp);
	child_fail(report, PROC_STAGE_EXEC, errno,
		   exec_fd >= 0 ? "" : s->path ? s->path : s->argv[0]);
}

int proc_spawn(const struct proc_spawn *s, pid_t *ret_pid, int *ret_stage)
{
	int p[2];
	struct report msg = { 0, 0, "" };
	pid_t parent = getpid();

	if (ret_stage)
		*ret_stage = -1;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	/* clone without a stack is fork without glibc's atfork work: the child
	 * runs only async-signal-safe code until exec, as after fork */
	pid_t pid = s->flags & PROC_NEWPID ?
		(pid_t)syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, NULL, NULL, NULL, NULL) : fork();
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		return -e;
	}
	if (pid == 0) {
		close(p[0]);
		proc_child(s, parent, p[1]);
	}
	close(p[1]);
	if (s->flags & PROC_SETPGID)
		setpgid(pid, pid);   /* also in the child: no race on who runs first */
	ssize_t n;
	do
		n = read(p[0], &msg, sizeof(msg));
	while (n < 0 && errno == EINTR);
	close(p[0]);
	if (n == (ssize_t)sizeof(msg)) {
		proc_wait(pid, NULL);
		if (ret_stage)
			*ret_stage = msg.stage;
		if (s->msg) {
			msg.msg[sizeof(msg.msg) - 1] = '\0';
			memcpy(s->msg, msg.msg, sizeof(msg.msg));
		}
		return -(msg.err > 0 ? msg.err : EIO);
	}
	if (ret_stage)
		*ret_stage = 0;
	*ret_pid = pid;
	return 0;
}

pid_t proc_wait(pid_t pid, int *status)
{
	pid_t r;
	while ((r = waitpid(pid, status, 0)) < 0 && errno == EINTR)
		;
	return r < 0 ? -errno : r;
}
