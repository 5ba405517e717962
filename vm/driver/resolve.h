/* Driver / accelerator / binary resolution (vm/driver/resolve.c). */
#ifndef OCIVM_VM_DRIVER_RESOLVE_H
#define OCIVM_VM_DRIVER_RESOLVE_H

#include "driver.h"

struct vm_choice {
	const struct vm_driver_ops *drv;
	enum vm_accel accel;      /* KVM or TCG */
	char *binary;             /* malloc'd absolute path */
};

const struct vm_driver_ops *vm_driver_for_binary(const char *path);
int vm_resolve(const struct vm_config *cfg, const struct vm_host_probe *probe,
	       struct vm_choice *ret, struct oerr *err);

#endif
