/* Driver names: which driver a hypervisor binary is, and the --hypervisor
 * words.  Pure (no driver state), so ops' unit tests link it as it is. */
#include "vm/vm.h"

#include <errno.h>
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
