/* Driver names: which driver a hypervisor binary is, and the --hypervisor
 * words.  Pure (no driver state), so ops' unit tests link it as it is. */
#include "vm/vm.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

enum vm_driver vm_driver_of_binary(const char *path)
{
	const char *base = path ? strrchr(path, '/') : NULL;

	if (!path)
		return VM_DRIVER_AUTO;
	base = base ? base + 1 : path;
	if (strncmp(base, "qemu-system-x86_64", 18) == 0 || strcmp(base, "qemu-kvm") == 0)
		return VM_DRIVER_QEMU;
	if (strncmp(base, "ocivm-vmm", 9) == 0)
		return VM_DRIVER_VMM;
	return VM_DRIVER_AUTO;
}

enum vm_driver vm_driver_choose(enum vm_driver asked, const struct vm_host_probe *probe)
{
	return asked != VM_DRIVER_AUTO ? asked : probe ? probe->driver : VM_DRIVER_AUTO;
}

void vm_driver_describe(enum vm_driver asked, const struct vm_host_probe *probe, char *buf,
			size_t n)
{
	enum vm_driver d = vm_driver_choose(asked, probe);
	enum vm_accel a = probe ? probe->accel : VM_ACCEL_AUTO;
	const char *accel = a == VM_ACCEL_KVM ? "/kvm" : a == VM_ACCEL_TCG ? "/tcg" : "";

	snprintf(buf, n, "%s%s%s: %s", d == VM_DRIVER_VMM ? "ocivm-vmm" : "qemu",
		 d == VM_DRIVER_QEMU ? accel : "",
		 asked != VM_DRIVER_AUTO ? " (chosen by the daemon's options)" : "",
		 probe && probe->reason[0] ? probe->reason : "no probe result");
}

bool vm_templates_usable(enum vm_driver asked, const struct vm_host_probe *probe,
			 bool *ret_default, char *why, size_t n)
{
	*ret_default = false;
	if (vm_driver_choose(asked, probe) != VM_DRIVER_QEMU) {
		snprintf(why, n, "only the QEMU driver saves and restores them (ocivm-vmm "
			 "snapshots are not done)");
		return false;
	}
	if (probe && probe->accel == VM_ACCEL_KVM)
		snprintf(why, n, "the default under QEMU/KVM: its restores are untested");
	else
		*ret_default = true, why[0] = '\0';
	return true;
}

int vm_driver_parse(const char *name, enum vm_driver *ret)
{
	if (!name || !*name || strcmp(name, "auto") == 0)
		*ret = VM_DRIVER_AUTO;
	else if (strcmp(name, "ocivm-vmm") == 0 || strcmp(name, "vmm") == 0)
		*ret = VM_DRIVER_VMM;
	else if (strcmp(name, "qemu") == 0)
		*ret = VM_DRIVER_QEMU;
	else
		return -EINVAL;
	return 0;
}
