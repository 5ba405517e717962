/* Start the container process: fork, enter the root, apply the per-process
 * parts of the plan (rlimits, oom score, user, groups, umask, capabilities,
 * noNewPrivileges, env, cwd) and exec.  Failures in the child come back
 * through a close-on-exec pipe, so the caller learns "why" without a hang. */
#ifndef OCIVM_GUEST_SPAWN_H
#define OCIVM_GUEST_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

#include <stdint.h>

#include "plan.h"

struct gspawn_result {
	pid_t pid;      /* in init's pid namespace: for kill and waitpid */
	pid_t ns_pid;   /* the same process's pid in its own pid namespace (ns.c) */
	int in_fd;      /* write end of the process's stdin (pty master if terminal) */
	int out_fd;     /* read end of stdout (pty master if terminal) */
	int err_fd;     /* read end of stderr, -1 if terminal */
	uint64_t fork_us;   /* gclock_us() just before the fork (exec times) */
};

/* root: directory to chroot into (NULL: stay, as the unit tests do).
 * 0 on success; otherwise -errno, *ret_code = 127 (binary not found) or 126
 * (anything else), and a one-line reason in eb.  All returned fds are
 * non-blocking and close-on-exec. */
int gspawn(const struct gplan *p, const char *root, struct gspawn_result *ret,
	   int *ret_code, char *eb, size_t cap);

/* An extra process of the running container (EXEC): the same, but it joins
 * the cgroup, namespaces and root of the container process `target`
 * instead of making its own; a terminal comes from the container's devpts. */
int gspawn_exec(const struct gplan *p, pid_t target, struct gspawn_result *ret,
		int *ret_code, char *eb, size_t cap);

/* Search PATH (from the plan's env, else the OCI default) for argv0 under
 * root (may be NULL).  Writes the path as seen inside root into out. */
int gspawn_resolve(const struct gplan *p, const char *root, char *out, size_t cap);

#endif
