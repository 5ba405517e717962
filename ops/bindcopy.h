/* Bind mounts of host paths, copied into the VM at create (ops/bindcopy.c). */
#ifndef OCIVM_OPS_BINDCOPY_H
#define OCIVM_OPS_BINDCOPY_H

#include <stdbool.h>
#include <sys/stat.h>

#include "ops/config.h"

/* Limits per container, over all its bind mounts. */
#define OPS_COPY_MAX_BYTES   (16 * 1024)
#define OPS_COPY_MAX_ENTRIES 64
#define OPS_COPY_MAX_DEPTH   8

/* type "bind", or a "bind"/"rbind" option */
bool ops_mount_is_bind(const struct ops_mount *m);
/* For each bind mount of cfg: its source (relative: to the bundle) read
 * from the host into mount->copy, or -EINVAL with the mount's JSON path
 * and why (too large, a device/socket/FIFO, missing, not readable under
 * the host-file rule of ops/hostref.c). */
int ops_bindcopy_load(struct ops_config *cfg, const char *bundle, const struct stat *bst,
		      struct oerr *err);

#endif
