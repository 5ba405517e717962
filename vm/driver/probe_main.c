/* ocivm-probe: print what vm_probe_host() finds on this host. */
#include "vm/vm.h"

#include <stdio.h>

int main(void)
{
	struct vm_host_probe p;

	vm_probe_host(&p);
	printf("kvm_present=%d kvm_hw_speed=%d ns_per_insn=%.2f tsc_khz=%u driver=%s accel=%s\n",
	       p.kvm_present, p.kvm_hw_speed, p.ns_per_insn, p.tsc_khz,
	       p.driver == VM_DRIVER_VMM ? "ocivm-vmm" : "qemu",
	       p.accel == VM_ACCEL_KVM ? "kvm" : "tcg");
	printf("%s\n", p.reason);
	return 0;
}
