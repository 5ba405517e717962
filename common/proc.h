/* One fork + exec for every host program: the child's failure (at exec, or
 * at a caller's step before it) comes back through a CLOEXEC pipe as an
 * errno and a stage, so "cannot run X: ENOENT" is an error at spawn time,
 * not an exit status 127 found later.  Between fork and exec only
 * async-signal-safe calls run (the caller's `child` hook too). */
#ifndef OCIVM_COMMON_PROC_H
#define OCIVM_COMMON_PROC_H

#include <sys/types.h>

enum {
	PROC_SETSID = 1 << 0,      /* a session of its own */
	PROC_SETPGID = 1 << 1,     /* a process group of its own (the parent sets it too) */
	PROC_PDEATHSIG = 1 << 2,   /* SIGKILL when the forking thread dies */
	PROC_SIGDFL = 1 << 3,      /* every signal's disposition back to default */
	PROC_PATH = 1 << 4,        /* execvp: search PATH for argv[0] */
	PROC_NEWPID = 1 << 5,      /* pid 1 of a new pid namespace (clone, not fork): it
				    * sees no other process; from outside only signals it
				    * handles or blocks, and SIGKILL/SIGSTOP, reach it */
};

/* Stage 0 is the exec itself; a `child` hook returns its own stage (> 0)
 * with an errno to stop before exec. */
#define PROC_STAGE_EXEC 0
/* The child's report pipe is moved to this fd or above first. */
#define PROC_REPORT_FD_MIN 64
/* A child's message for a person (see proc_spawn.msg), NUL included. */
#define PROC_MSG_MAX 240

struct proc_spawn {
	const char *path;          /* NULL: argv[0] */
	char *const *argv;         /* NULL-terminated */
	char *const *envp;         /* NULL: the caller's environ */
	int fd[3];                 /* the child's 0, 1, 2; -1: /dev/null */
	unsigned flags;            /* PROC_* */
	/* Before exec, after the fds are in place; returns 0, or a stage > 0
	 * and sets *err.  It may dup2 onto any fd below PROC_REPORT_FD_MIN.
	 * *keep_from: the first fd not closed at exec (default 3); *exec_fd:
	 * where s->exec_fd went, if it moved it. */
	int (*child)(void *arg, int *keep_from, int *exec_fd, int *err);
	void *arg;
	int exec_fd;               /* >= 0: execveat(exec_fd, "", AT_EMPTY_PATH) instead of path */
	/* NULL, or PROC_MSG_MAX bytes for the child's message when it fails:
	 * a hook's (proc_child_fail), else at stage 0 the path exec was given
	 * ("" with exec_fd, and when placing fd[] failed before it).  The hook may fill the buffer `path` points to
	 * (the child's copy) to exec a path it found itself. */
	char *msg;
};

/* 0 with *ret_pid; or -errno (fork/pipe failed: *ret_stage -1; the child
 * reported: *ret_stage is its stage, the child is reaped).  ret_stage may
 * be NULL. */
int proc_spawn(const struct proc_spawn *s, pid_t *ret_pid, int *ret_stage);

/* Only in a `child` hook: fail with stage (> 0), errno err and a message
 * for proc_spawn.msg; never returns.  vsnprintf, not async-signal-safe:
 * for children of a single-threaded parent (ocivm-init). */
void proc_child_fail(int stage, int err, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));

/* waitpid() that retries on EINTR: the pid or -errno. */
pid_t proc_wait(pid_t pid, int *status);

#endif
