/* What a bundle may make the daemon touch on the host (ops/hostref.c). */
#ifndef OCIVM_OPS_HOSTREF_H
#define OCIVM_OPS_HOSTREF_H

#include <stdbool.h>
#include <sys/stat.h>

#include "ops/config.h"
#include "vm/vm.h"

struct ops;

/* *path (may be NULL: nothing to check) against the host-file rule; on
 * success *path is replaced by its resolved form.  -EINVAL with
 * "JPATH PATH: why" otherwise. */
int ops_hostref_file(const char *jpath, char **path, const char *bundle,
		     const struct stat *bundle_st, bool block_ok, struct oerr *err);
/* The rule itself, for a resolved path and its stat. */
bool ops_hostref_readable(const char *real, const struct stat *st, const char *bundle,
			  const struct stat *bundle_st);
/* The driver a config's vm.hypervisor.path asks for. */
enum vm_driver ops_hostref_driver(const struct ops *ops, const struct ops_vm *v);
/* All host references of cfg (bundle: its resolved directory): vm.kernel,
 * vm.image, bind mount sources (copied: ops/bindcopy.h),
 * vm.hypervisor.parameters, the network namespace path.  Called at create before anything
 * is built; may rewrite paths in cfg to their resolved form. */
int ops_hostref_check(const struct ops *ops, struct ops_config *cfg, const char *bundle,
		      struct oerr *err);

#endif
