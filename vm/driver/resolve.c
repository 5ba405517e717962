/* Which driver, accelerator and binary serve a config on this host.  A
 * bundle naming a hypervisor that cannot run here fails here, at create,
 * with the reason. */
#include "resolve.h"
#include "spawn.h"
#include "cleanup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The driver a binary's name says it is (vm_driver_of_binary), or NULL. */
const struct vm_driver_ops *vm_driver_for_binary(const char *path)
{
	enum vm_driver d = vm_driver_of_binary(path);
	return d == VM_DRIVER_QEMU ? &vm_driver_qemu : d == VM_DRIVER_VMM ? &vm_driver_vmm : NULL;
}

static int resolve_driver(const struct vm_config *cfg, const struct vm_host_probe *probe,
			  const struct vm_driver_ops **ret, struct oerr *err)
{
	const struct vm_driver_ops *by_path = cfg->hypervisor_path ?
		vm_driver_for_binary(cfg->hypervisor_path) : NULL;

	if (by_path) {
		*ret = by_path;
		return 0;
	}
	if (cfg->hypervisor_path && cfg->driver == VM_DRIVER_AUTO)
		return oerr_set(err, EINVAL,
				"vm.hypervisor.path %s: not a hypervisor this runtime drives "
				"(ocivm-vmm or qemu-system-x86_64)", cfg->hypervisor_path);
	enum vm_driver d = vm_driver_choose(cfg->driver, probe);
	*ret = d == VM_DRIVER_VMM ? &vm_driver_vmm : &vm_driver_qemu;
	return 0;
}

static int resolve_accel(const struct vm_driver_ops *drv, const struct vm_config *cfg,
			 const struct vm_host_probe *probe, enum vm_accel *ret, struct oerr *err)
{
	if (drv == &vm_driver_vmm) {
		if (!probe->kvm_hw_speed)
			return oerr_set(err, ENODEV, "ocivm-vmm cannot run here: %s", probe->reason);
		*ret = VM_ACCEL_KVM;
		return 0;
	}
	enum vm_accel a = cfg->accel == VM_ACCEL_AUTO ? probe->accel : cfg->accel;
	if (a == VM_ACCEL_AUTO)
		a = probe->kvm_hw_speed ? VM_ACCEL_KVM : VM_ACCEL_TCG;
	if (a == VM_ACCEL_KVM && !probe->kvm_hw_speed)
		return oerr_set(err, ENODEV, "qemu -accel kvm cannot boot Linux here: %s", probe->reason);
	*ret = a;
	return 0;
}

int vm_resolve(const struct vm_config *cfg, const struct vm_host_probe *probe,
	       struct vm_choice *ret, struct oerr *err)
{
	struct vm_choice c = { 0 };
	int r = resolve_driver(cfg, probe, &c.drv, err);

	/* AUTO picked ocivm-vmm, but none is installed: QEMU with KVM is the
	 * same machine. */
	if (r == 0 && c.drv == &vm_driver_vmm && cfg->driver == VM_DRIVER_AUTO &&
	    !cfg->hypervisor_path && vm_find_binary(vm_driver_vmm.default_binary, &c.binary) < 0)
		c.drv = &vm_driver_qemu;
	free(c.binary);
	c.binary = NULL;

	if (r == 0)
		r = resolve_accel(c.drv, cfg, probe, &c.accel, err);
	if (r < 0)
		return r;
	const char *bin = cfg->hypervisor_path ? cfg->hypervisor_path : c.drv->default_binary;
	r = vm_find_binary(bin, &c.binary);
	if (r == -ENOENT && !strchr(bin, '/'))
		return oerr_set(err, ENOENT, "hypervisor %s: not found in PATH", bin);
	if (r < 0)
		return oerr_sys(err, -r, "hypervisor %s", bin);
	*ret = c;
	return 0;
}
