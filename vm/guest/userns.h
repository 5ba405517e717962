/* A user namespace for the container's process, with the uid/gid maps of
 * linux.uidMappings/gidMappings.  Writing arbitrary maps takes CAP_SETUID
 * and CAP_SETGID in the parent namespace, which the process loses when it
 * unshares; so a helper forked before (still in init's namespaces, with
 * init's /proc) writes /proc/PID/{uid,gid}_map once the process has
 * unshared, as runc's parent does for its child. */
#ifndef OCIVM_GUEST_USERNS_H
#define OCIVM_GUEST_USERNS_H

#include <stddef.h>
#include <sys/types.h>

#include "plan.h"

struct guserns {
	pid_t helper;   /* 0: no user namespace asked for */
	int go, res;    /* to the helper: "unshared"; from it: a reason, or EOF */
};

/* In the child, before it enters the root: fork the helper (nothing when
 * the plan has no maps).  0 or -errno with a reason in eb. */
int guserns_prepare(const struct gplan *p, struct guserns *u, char *eb, size_t cap);
/* Then, just before the identity is set: unshare CLONE_NEWUSER, let the
 * helper write the maps, wait for it.  0 or -errno with its reason. */
int guserns_enter(struct guserns *u, char *eb, size_t cap);

/* "IN OUT COUNT\n" lines of a map into buf (unit-tested). */
int guserns_format(const struct gplan_idmap *v, int n, char *buf, size_t cap);

#endif
