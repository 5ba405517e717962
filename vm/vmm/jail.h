/* ocivm-vmm's jail step (jail.c, README "Confinement"): after everything is
 * open — /dev/kvm and the VM fds, disks, console file, control socket,
 * eventfds — and before any thread exists, the process enters its own
 * mount namespace whose root is an empty read-only tmpfs on root_dir, drops
 * every capability (bounding set included) and becomes uid:gid, with
 * no_new_privs, no core dumps and NOFILE limited to what it holds plus
 * room for the eventfds and connections it opens later. */
#ifndef OCIVM_VMM_JAIL_H
#define OCIVM_VMM_JAIL_H

#include <sys/types.h>

#include "err.h"

struct vmm_jail_cfg {
	const char *root_dir;     /* an empty directory (the driver: run_dir/root) */
	uid_t uid;
	gid_t gid;
	unsigned nofile_extra;    /* NOFILE = highest open fd + 1 + this */
};

/* "UID:GID" (numbers) into cfg; -EINVAL. */
int vmm_jail_parse_user(const char *s, struct vmm_jail_cfg *cfg);
/* Single-threaded callers only (unshare(CLONE_NEWNS) refuses otherwise). */
int vmm_jail_enter(const struct vmm_jail_cfg *cfg, struct oerr *err);

#endif
