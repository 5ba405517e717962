/* The container's cgroup in the guest (cgroup v2).  The VM's RAM is not the
 * container's memory limit (the guest kernel needs its own share), so
 * linux.resources.memory.limit becomes memory.max of a cgroup that holds
 * the container's processes: above it they are OOM-killed, not the VM. */
#ifndef OCIVM_GUEST_CGROUP_H
#define OCIVM_GUEST_CGROUP_H

#include <stddef.h>

#include "plan.h"
#include "setup.h"

#define GCGROUP_ROOT "/sys/fs/cgroup"
#define GCGROUP_DIR GCGROUP_ROOT "/container"

/* init, before READY: cgroup2 on GCGROUP_ROOT, the memory controller for
 * children, GCGROUP_DIR with memory.max (and memory.swap.max 0) and
 * pids.max (linux.resources.pids.limit).  Without
 * a memory or pids limit a failure is only noted (the container runs without a
 * cgroup of its own); with one it is an error. */
int gcgroup_setup(const struct gplan *p, gsetup_note_fn note, void *ctx, char *eb, size_t cap);

/* The child, before it enters the root: join GCGROUP_DIR, then a new
 * cgroup namespace rooted there.  1: joined; 0: there is no container
 * cgroup (and no limit); -errno with a reason in eb. */
int gcgroup_join(const struct gplan *p, char *eb, size_t cap);

/* The child, inside the root and its cgroup namespace: mount the plan's
 * cgroup mounts again, so they show the container's own cgroup (its
 * memory.max at /sys/fs/cgroup/memory.max), as runc does with cgroupns. */
int gcgroup_remount(const struct gplan *p, char *eb, size_t cap);

#endif
