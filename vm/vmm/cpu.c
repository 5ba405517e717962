#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vm/vmm/vmm.h"

#define CPUID_MAX_ENTRIES 256

static int fetch_supported(struct kvm_vm *vm, struct oerr *err)
{
	size_t sz = sizeof(struct kvm_cpuid2) +
		    CPUID_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2);
	struct kvm_cpuid2 *c = calloc(1, sz);

	if (!c)
		return oerr_set(err, ENOMEM, "out of memory");
	c->nent = CPUID_MAX_ENTRIES;
	if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
		free(c);
		return oerr_sys(err, errno, "KVM_GET_SUPPORTED_CPUID");
	}
	vm->cpuid = c;
	return 0;
}

int vcpu_setup_cpuid(struct kvm_vm *vm, struct vcpu *vcpu, struct oerr *err)
{
	int r;

	if (!vm->cpuid && (r = fetch_supported(vm, err)) < 0)
		return r;
	size_t sz = sizeof(struct kvm_cpuid2) +
		    vm->cpuid->nent * sizeof(struct kvm_cpuid_entry2);
	struct kvm_cpuid2 *c = malloc(sz);
	if (!c)
		return oerr_set(err, ENOMEM, "out of memory");
	memcpy(c, vm->cpuid, sz);
	cpuid_apply(c, vm->cpuid_mask, vm->n_cpuid_mask, vcpu->index, vm->cfg->vcpus);
	r = ioctl(vcpu->fd, KVM_SET_CPUID2, c) < 0 ? -errno : 0;
	free(c);
	return r < 0 ? oerr_sys(err, -r, "KVM_SET_CPUID2 (vCPU %u)", vcpu->index) : 0;
}

static int setup_msrs(struct vcpu *vcpu, struct oerr *err)
{
	static const struct { uint32_t idx; uint64_t val; } init[] = {
		{ 0x174, 0 }, { 0x175, 0 }, { 0x176, 0 },      /* SYSENTER_CS/ESP/EIP */
		{ 0xc0000081, 0 }, { 0xc0000082, 0 },          /* STAR, LSTAR */
		{ 0xc0000083, 0 }, { 0xc0000084, 0 },          /* CSTAR, SYSCALL_MASK */
		{ 0xc0000102, 0 },                             /* KERNEL_GS_BASE */
		{ 0x10, 0 },                                   /* TSC */
		{ 0x1a0, 1 },                                  /* MISC_ENABLE: fast strings */
	};
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[sizeof(init) / sizeof(init[0])];
	} m = { .h.nmsrs = sizeof(init) / sizeof(init[0]) };

	for (size_t i = 0; i < m.h.nmsrs; i++)
		m.e[i] = (struct kvm_msr_entry){ .index = init[i].idx, .data = init[i].val };
	int n = ioctl(vcpu->fd, KVM_SET_MSRS, &m);
	if (n < 0)
		return oerr_sys(err, errno, "KVM_SET_MSRS");
	if ((unsigned)n < m.h.nmsrs)
		return oerr_set(err, EINVAL, "KVM_SET_MSRS: MSR 0x%x refused",
				m.e[n].index);
	return 0;
}

/* LINT0 = ExtINT (the PIC), LINT1 = NMI, as firmware leaves them. */
static int setup_lapic(struct vcpu *vcpu, struct oerr *err)
{
	struct kvm_lapic_state s;
	uint32_t v;

	if (ioctl(vcpu->fd, KVM_GET_LAPIC, &s) < 0)
		return oerr_sys(err, errno, "KVM_GET_LAPIC");
	memcpy(&v, s.regs + 0x350, 4);
	v = (v & ~0x700u) | 0x700u;
	memcpy(s.regs + 0x350, &v, 4);
	memcpy(&v, s.regs + 0x360, 4);
	v = (v & ~0x700u) | 0x400u;
	memcpy(s.regs + 0x360, &v, 4);
	if (ioctl(vcpu->fd, KVM_SET_LAPIC, &s) < 0)
		return oerr_sys(err, errno, "KVM_SET_LAPIC");
	return 0;
}

static struct kvm_segment seg(uint16_t sel, uint8_t type, bool code64)
{
	return (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .dpl = 0, .db = code64 ? 0 : 1, .s = 1,
		.l = code64, .g = 1,
	};
}

static void boot_sregs(struct kvm_sregs *s, enum boot_mode mode)
{
	bool lm = mode == BOOT_LINUX64;

	s->cs = seg(lm ? 0x10 : 0x08, 0xb, lm);
	s->ds = s->es = s->fs = s->gs = s->ss = seg(0x18, 0x3, false);
	s->tr = (struct kvm_segment){ .base = 0, .limit = 0xffff, .selector = 0x20,
				      .type = 0xb, .present = 1 };
	s->gdt.base = LAYOUT_GDT;
	s->gdt.limit = 5 * 8 - 1;
	s->idt.base = 0;
	s->idt.limit = 0;
	s->cr0 = 0x11;                              /* PE, ET */
	s->cr4 = 0;
	s->efer = 0;
	if (lm) {
		s->cr3 = LAYOUT_PML4;
		s->cr4 = 0x20;                          /* PAE */
		s->cr0 |= 0x80000000u;                  /* PG */
		s->efer = 0x500;                        /* LME, LMA */
	}
}

int vcpu_setup_boot(struct kvm_vm *vm, struct vcpu *vcpu, struct oerr *err)
{
	struct kvm_sregs s;
	struct kvm_regs r = { .rflags = 0x2 };
	int rc = setup_msrs(vcpu, err);

	if (rc == 0)
		rc = setup_lapic(vcpu, err);
	if (rc < 0 || vcpu->index != 0)
		return rc;   /* APs wait for INIT/SIPI from the guest */
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0)
		return oerr_sys(err, errno, "KVM_GET_SREGS");
	boot_sregs(&s, vm->entry.mode);
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &s) < 0)
		return oerr_sys(err, errno, "KVM_SET_SREGS");
	r.rip = vm->entry.rip;
	if (vm->entry.mode == BOOT_PVH) {
		r.rbx = vm->entry.arg;
	} else {
		r.rsi = vm->entry.arg;
		r.rsp = r.rbp = LAYOUT_BOOT_STACK;
	}
	if (ioctl(vcpu->fd, KVM_SET_REGS, &r) < 0)
		return oerr_sys(err, errno, "KVM_SET_REGS");
	return 0;
}
