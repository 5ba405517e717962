/* CPUID for the guest: KVM_GET_SUPPORTED_CPUID, with topology patched per
 * vCPU and features masked by name ("cx16,xsave") or raw ("0x1:ecx:13"). */
#ifndef OCIVM_VMM_CPUID_H
#define OCIVM_VMM_CPUID_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct kvm_cpuid2;

enum cpuid_reg { CPUID_EAX, CPUID_EBX, CPUID_ECX, CPUID_EDX };

struct cpuid_bit {
	uint32_t leaf, subleaf;
	bool any_subleaf;
	uint8_t reg;     /* enum cpuid_reg */
	uint8_t bit;
};

#define CPUID_MASK_MAX 64

/* Parse a comma-separated list; unknown names are an error naming them. */
int cpuid_parse_mask(const char *list, struct cpuid_bit *out, unsigned max,
		     unsigned *ret_n, struct oerr *err);
/* Patch a copy of the supported table for vCPU `index` of `n`: APIC ids,
 * the hypervisor bit, and clear the masked bits. */
void cpuid_apply(struct kvm_cpuid2 *c, const struct cpuid_bit *mask, unsigned nmask,
		 unsigned index, unsigned n);

#endif
