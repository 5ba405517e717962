/* Starting and ending hypervisor processes (vm/driver/spawn.c). */
#ifndef OCIVM_VM_DRIVER_SPAWN_H
#define OCIVM_VM_DRIVER_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* Find an executable: a path with '/' is checked as is, a bare name is
 * searched in PATH.  Returns a malloc'd path or -ENOENT / -EACCES. */
int vm_find_binary(const char *name, char **ret);

/* fork+exec argv[0] in a new session (setsid), stdin from /dev/null,
 * stdout/stderr appended to log_path, no other fds, default signals.
 * Returns once exec has succeeded (or with the exec errno), with a pidfd. */
int vm_spawn(char *const argv[], const char *log_path, pid_t *ret_pid, int *ret_pidfd,
	     struct oerr *err);

/* The same, confined as jail says (jail.h): its fds go to 3.., then
 * vm_jail_enter() runs in the child; exec through jail->exec_fd.  The
 * error names the stage that failed (passing fds, confining, exec). */
struct vm_jail;
enum { VM_SPAWN_STAGE_EXEC, VM_SPAWN_STAGE_FDS, VM_SPAWN_STAGE_JAIL };
int vm_spawn_jailed(char *const argv[], const char *log_path, const struct vm_jail *jail,
		    pid_t *ret_pid, int *ret_pidfd, struct oerr *err);

/* pidfd_open(2); -ESRCH when the process is gone. */
int vm_pidfd_open(pid_t pid);
/* Field 22 of /proc/PID/stat (start time in clock ticks since boot). */
int vm_proc_start_time(pid_t pid, unsigned long long *ret);
/* Wait until pidfd is readable (process gone) for at most timeout_ms:
 * 1 gone, 0 still running, -errno. */
int vm_pidfd_wait(int pidfd, unsigned timeout_ms);
/* The signal that killed it, without reaping (0: not known — running,
 * exited, or not our child, as after a daemon restart). */
int vm_exit_signal(int pidfd);
/* Reap the process if it is our child (0 for one we cannot reap).
 * Returns the wait status or -errno. */
int vm_reap(int pidfd, bool is_child);
/* Reap it and say how it ended: "exited with status N", "was killed by
 * signal N (SIGNAME)", or "ended (...: how is unknown)" for a process that
 * is not our child (attached after a restart). */
void vm_reap_describe(int pidfd, bool is_child, char *buf, size_t n);

#endif
