/* Helpers shared by vm/driver/cgroup.c and cgroup_res.c (not an API). */
#ifndef OCIVM_VM_DRIVER_CGROUP_INT_H
#define OCIVM_VM_DRIVER_CGROUP_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "jail.h"

/* The daemon's path in one hierarchy, from the file SELFF. */
int vm_cg_self(const char *selff, const char *ctl, char *buf, size_t len);
/* Write VAL to DIR/FILE: 0 or -errno. */
int vm_cg_write(const char *dir, const char *file, const char *val);
bool vm_cg_has(const char *path, const char *word);
/* mkdir MNT SELF/ocivmfs/ID, open its cgroup.procs into j's next slot. */
int vm_cg_make(struct vm_jail *j, const char *mnt, const char *self, const char *id);
/* cgroup_res.c: V2 the unified mount in use, or NULL (v1 under FSROOT). */
void vm_cgroup_res(struct vm_jail *j, const char *selff, const char *v2, const char *fsroot,
		   const char *id, const struct vm_resources *res);

#endif
