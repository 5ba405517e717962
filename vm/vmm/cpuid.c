#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm/vmm/cpuid.h"

struct named_bit {
	const char *name;
	uint32_t leaf, subleaf;
	uint8_t reg, bit;
};

static const struct named_bit names[] = {
	{ "sse3", 1, 0, CPUID_ECX, 0 },     { "pclmulqdq", 1, 0, CPUID_ECX, 1 },
	{ "ssse3", 1, 0, CPUID_ECX, 9 },    { "fma", 1, 0, CPUID_ECX, 12 },
	{ "cx16", 1, 0, CPUID_ECX, 13 },    { "pcid", 1, 0, CPUID_ECX, 17 },
	{ "sse4_1", 1, 0, CPUID_ECX, 19 },  { "sse4_2", 1, 0, CPUID_ECX, 20 },
	{ "x2apic", 1, 0, CPUID_ECX, 21 },  { "movbe", 1, 0, CPUID_ECX, 22 },
	{ "popcnt", 1, 0, CPUID_ECX, 23 },  { "tsc_deadline", 1, 0, CPUID_ECX, 24 },
	{ "aes", 1, 0, CPUID_ECX, 25 },     { "xsave", 1, 0, CPUID_ECX, 26 },
	{ "osxsave", 1, 0, CPUID_ECX, 27 }, { "avx", 1, 0, CPUID_ECX, 28 },
	{ "f16c", 1, 0, CPUID_ECX, 29 },    { "rdrand", 1, 0, CPUID_ECX, 30 },
	{ "hypervisor", 1, 0, CPUID_ECX, 31 },
	{ "mtrr", 1, 0, CPUID_EDX, 12 },    { "pge", 1, 0, CPUID_EDX, 13 },
	{ "pat", 1, 0, CPUID_EDX, 16 },     { "fxsr", 1, 0, CPUID_EDX, 24 },
	{ "sse", 1, 0, CPUID_EDX, 25 },     { "sse2", 1, 0, CPUID_EDX, 26 },
	{ "fsgsbase", 7, 0, CPUID_EBX, 0 }, { "bmi1", 7, 0, CPUID_EBX, 3 },
	{ "avx2", 7, 0, CPUID_EBX, 5 },     { "smep", 7, 0, CPUID_EBX, 7 },
	{ "bmi2", 7, 0, CPUID_EBX, 8 },     { "erms", 7, 0, CPUID_EBX, 9 },
	{ "invpcid", 7, 0, CPUID_EBX, 10 }, { "avx512f", 7, 0, CPUID_EBX, 16 },
	{ "rdseed", 7, 0, CPUID_EBX, 18 },  { "adx", 7, 0, CPUID_EBX, 19 },
	{ "smap", 7, 0, CPUID_EBX, 20 },    { "umip", 7, 0, CPUID_ECX, 2 },
	{ "pku", 7, 0, CPUID_ECX, 3 },      { "la57", 7, 0, CPUID_ECX, 16 },
	{ "xsaveopt", 0xd, 1, CPUID_EAX, 0 }, { "xsavec", 0xd, 1, CPUID_EAX, 1 },
	{ "xsaves", 0xd, 1, CPUID_EAX, 3 },
	{ "lahf_lm", 0x80000001, 0, CPUID_ECX, 0 }, { "abm", 0x80000001, 0, CPUID_ECX, 5 },
	{ "nx", 0x80000001, 0, CPUID_EDX, 20 },     { "pdpe1gb", 0x80000001, 0, CPUID_EDX, 26 },
	{ "rdtscp", 0x80000001, 0, CPUID_EDX, 27 },
	{ "kvmclock", 0x40000001, 0, CPUID_EAX, 3 },
	{ "kvmclock_old", 0x40000001, 0, CPUID_EAX, 0 },
};

static int parse_reg(const char *s, uint8_t *reg)
{
	static const char *const regs[] = { "eax", "ebx", "ecx", "edx" };
	for (uint8_t i = 0; i < 4; i++)
		if (strcmp(s, regs[i]) == 0) {
			*reg = i;
			return 0;
		}
	return -EINVAL;
}

/* "LEAF:REG:BIT" or "LEAF.SUB:REG:BIT", numbers in C notation. */
static int parse_raw(char *tok, struct cpuid_bit *b)
{
	char *reg = strchr(tok, ':'), *bit, *end, *sub;

	if (!reg || !(bit = strchr(reg + 1, ':')))
		return -EINVAL;
	*reg++ = '\0';
	*bit++ = '\0';
	sub = strchr(tok, '.');
	if (sub)
		*sub++ = '\0';
	b->leaf = (uint32_t)strtoul(tok, &end, 0);
	if (*end || !*tok)
		return -EINVAL;
	b->any_subleaf = sub == NULL;
	b->subleaf = sub ? (uint32_t)strtoul(sub, &end, 0) : 0;
	if (sub && *end)
		return -EINVAL;
	unsigned long n = strtoul(bit, &end, 0);
	if (*end || !*bit || n > 31 || parse_reg(reg, &b->reg) < 0)
		return -EINVAL;
	b->bit = (uint8_t)n;
	return 0;
}

static int parse_one(char *tok, struct cpuid_bit *b)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(tok, names[i].name) == 0) {
			*b = (struct cpuid_bit){ names[i].leaf, names[i].subleaf,
						 names[i].leaf != 0xd && names[i].leaf != 7,
						 names[i].reg, names[i].bit };
			return 0;
		}
	return parse_raw(tok, b);
}

int cpuid_parse_mask(const char *list, struct cpuid_bit *out, unsigned max,
		     unsigned *ret_n, struct oerr *err)
{
	char buf[1024], *save = NULL;
	unsigned n = 0;

	if (strlen(list) >= sizeof(buf))
		return oerr_set(err, EINVAL, "--cpuid-mask: list too long");
	strcpy(buf, list);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char name[64];
		snprintf(name, sizeof(name), "%s", t);
		if (n >= max)
			return oerr_set(err, E2BIG, "--cpuid-mask: more than %u entries", max);
		if (parse_one(t, &out[n]) < 0)
			return oerr_set(err, EINVAL, "--cpuid-mask: unknown feature '%s' "
					"(a name like cx16, or LEAF[.SUB]:REG:BIT)", name);
		n++;
	}
	*ret_n = n;
	return 0;
}

static uint32_t *reg_of(struct kvm_cpuid_entry2 *e, uint8_t reg)
{
	switch (reg) {
	case CPUID_EAX: return &e->eax;
	case CPUID_EBX: return &e->ebx;
	case CPUID_ECX: return &e->ecx;
	default: return &e->edx;
	}
}

void cpuid_apply(struct kvm_cpuid2 *c, const struct cpuid_bit *mask, unsigned nmask,
		 unsigned index, unsigned n)
{
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		if (e->function == 1) {
			e->ebx = (e->ebx & 0x0000ffffu) | (index << 24) | ((n & 0xff) << 16);
			e->ecx |= 1u << 31;        /* running on a hypervisor */
			if (n > 1)
				e->edx |= 1u << 28;    /* HTT: ebx[23:16] is valid */
		} else if (e->function == 0xb || e->function == 0x1f) {
			e->edx = index;            /* x2APIC id */
		}
		for (unsigned k = 0; k < nmask; k++) {
			const struct cpuid_bit *b = &mask[k];
			if (e->function == b->leaf && (b->any_subleaf || e->index == b->subleaf))
				*reg_of(e, b->reg) &= ~(1u << b->bit);
		}
	}
}
