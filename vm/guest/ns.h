/* The container's pid, ipc and uts namespaces (linux.namespaces, the
 * gspec's namespace records), as runc gives them: the process is pid 1 of
 * a new pid namespace with a /proc of its own, and an exec'd process is
 * forked into that namespace.  Without a `pid` record the process shares
 * init's (the behaviour before them). */
#ifndef OCIVM_GUEST_NS_H
#define OCIVM_GUEST_NS_H

#include <stddef.h>
#include <sys/types.h>

#include "plan.h"

/* init, around the fork of a process (spawn.c): the pid namespace its
 * child is born in.  join > 0: the pid namespace of process `join` (an
 * exec), if it is not init's; else, with GNS_PID in p->ns and a root (the
 * container's process), a new one.  *restore is an fd on init's own pid
 * namespace (-1: nothing was changed); gns_pid_restore puts it back after
 * the fork.  0 or -errno with a reason in eb. */
int gns_pid_prepare(const struct gplan *p, const char *root, pid_t join, int *restore,
		    char *eb, size_t cap);
void gns_pid_restore(int restore);

/* The child, before it enters the root: new ipc and uts namespaces as
 * listed, the hostname and domainname, and the sysctls that belong to
 * them set again in them (a new ipc namespace starts with the defaults). */
int gns_unshare(const struct gplan *p, char *eb, size_t cap);

/* The child, inside its root and mount namespace: the plan's proc mounts
 * made again for its pid namespace (with the masked and read-only paths
 * under them applied again), and its mqueue mounts for its ipc namespace. */
int gns_remount(const struct gplan *p, char *eb, size_t cap);

/* pid's number in its own (innermost) pid namespace, from
 * /proc/PID/status's NSpid line; pid itself when that cannot be read. */
pid_t gns_inner_pid(pid_t pid);

/* Helpers with no privilege needed (unit-tested). */
/* The last number of the "NSpid:" line of a /proc/PID/status text, or -1. */
long gns_parse_nspid(const char *status);
/* The namespace a sysctl key belongs to: GNS_IPC, GNS_UTS, or 0 (others). */
int gns_sysctl_ns(const char *key);
/* 1 if path is dest or below it ("/proc/sys" under "/proc"), else 0. */
int gns_under(const char *dest, const char *path);

#endif
