/* Host probing: can /dev/kvm run a stock Linux guest here?
 *
 * Present is not enough: kvm_pvm (these machines) emulates every guest
 * instruction at ~1.4 us, where hardware runs them in well under 10 ns.  A
 * tiny real-mode loop (mov ecx,N; 1: dec ecx; jnz 1b; hlt) timed through
 * KVM_RUN tells the two apart in a few milliseconds either way: a short run
 * first, a long one only when the short one looked fast. */
#include "vm/vm.h"
#include "probe.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#define PROBE_MEM_SIZE 0x10000u
#define PROBE_CODE_GPA 0x1000u
#define PROBE_SHORT_ITERS 5000u
#define PROBE_LONG_ITERS 500000u

struct probe_vm {
	int kvm, vm, vcpu;
	struct kvm_run *run;
	size_t run_size;
	void *mem;
};

static void probe_vm_close(struct probe_vm *p)
{
	if (p->run && p->run != MAP_FAILED)
		munmap(p->run, p->run_size);
	if (p->mem && p->mem != MAP_FAILED)
		munmap(p->mem, PROBE_MEM_SIZE);
	if (p->vcpu >= 0)
		close(p->vcpu);
	if (p->vm >= 0)
		close(p->vm);
	if (p->kvm >= 0)
		close(p->kvm);
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int probe_vm_open(struct probe_vm *p, char *why, size_t why_len)
{
	*p = (struct probe_vm){ .kvm = -1, .vm = -1, .vcpu = -1 };
	p->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (p->kvm < 0)
		return snprintf(why, why_len, "/dev/kvm cannot be opened (%s)", strerror(errno)), -errno;
	p->vm = ioctl(p->kvm, KVM_CREATE_VM, 0);
	if (p->vm < 0)
		return snprintf(why, why_len, "KVM_CREATE_VM failed (%s)", strerror(errno)), -errno;
	return 0;
}

/* Memory, the loop code, one vCPU in real mode. */
static int probe_vm_setup(struct probe_vm *p)
{
	static const unsigned char code[] = {
		0x66, 0xb9, 0, 0, 0, 0,   /* mov ecx, imm32 (patched) */
		0x66, 0x49,               /* 1: dec ecx */
		0x75, 0xfc,               /* jnz 1b */
		0xf4,                     /* hlt */
	};
	ioctl(p->vm, KVM_SET_TSS_ADDR, 0xfffbd000ul);
	p->mem = mmap(NULL, PROBE_MEM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p->mem == MAP_FAILED)
		return -errno;
	memcpy((char *)p->mem + PROBE_CODE_GPA, code, sizeof(code));
	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = PROBE_MEM_SIZE,
		.userspace_addr = (unsigned long)p->mem,
	};
	if (ioctl(p->vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return -errno;
	p->vcpu = ioctl(p->vm, KVM_CREATE_VCPU, 0);
	if (p->vcpu < 0)
		return -errno;
	int sz = ioctl(p->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz <= 0)
		return -EIO;
	p->run_size = (size_t)sz;
	p->run = mmap(NULL, p->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, p->vcpu, 0);
	if (p->run == MAP_FAILED)
		return -errno;
	return 0;
}

/* Run the loop for iters iterations; the elapsed ns in *ret_ns. */
static int probe_vm_run(struct probe_vm *p, uint32_t iters, double *ret_ns)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = PROBE_CODE_GPA, .rflags = 0x2 };

	memcpy((char *)p->mem + PROBE_CODE_GPA + 2, &iters, 4);
	if (ioctl(p->vcpu, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(p->vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(p->vcpu, KVM_SET_REGS, &regs) < 0)
		return -errno;
	double t0 = now_ns();
	for (;;) {
		if (ioctl(p->vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (p->run->exit_reason == KVM_EXIT_HLT)
			break;
		return -EIO;   /* anything else: this KVM cannot run the loop */
	}
	*ret_ns = now_ns() - t0;
	return 0;
}

/* ns per instruction: two instructions per iteration, the cost of one
 * near-empty entry subtracted. */
static int probe_speed(struct probe_vm *p, double *ret)
{
	double base, t;
	int r = probe_vm_run(p, 1, &base);
	if (r == 0)
		r = probe_vm_run(p, PROBE_SHORT_ITERS, &t);
	if (r < 0)
		return r;
	*ret = (t > base ? t - base : t) / (2.0 * PROBE_SHORT_ITERS);
	if (*ret > 50.0)
		return 0;
	r = probe_vm_run(p, PROBE_LONG_ITERS, &t);
	if (r < 0)
		return r;
	*ret = (t > base ? t - base : t) / (2.0 * PROBE_LONG_ITERS);
	return 0;
}

unsigned vm_probe_tsc_khz(void)
{
	double t0 = now_ns();
	unsigned long long c0 = __rdtsc();
	struct timespec nap = { 0, 20 * 1000 * 1000 };
	nanosleep(&nap, NULL);
	unsigned long long c1 = __rdtsc();
	double t1 = now_ns();
	double khz = (double)(c1 - c0) / ((t1 - t0) / 1e6);
	/* Round to 1 MHz: the kernel only needs a close figure. */
	return (unsigned)(khz / 1000.0 + 0.5) * 1000u;
}

int vm_probe_host(struct vm_host_probe *ret)
{
	struct probe_vm p;
	char why[160] = "";
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->tsc_khz = vm_probe_tsc_khz();
	r = probe_vm_open(&p, why, sizeof(why));
	if (r == 0) {
		ret->kvm_present = true;
		r = probe_vm_setup(&p);
		if (r < 0)
			snprintf(why, sizeof(why), "/dev/kvm cannot set up a guest (%s)", strerror(-r));
	}
	if (r == 0) {
		r = probe_speed(&p, &ret->ns_per_insn);
		if (r < 0)
			snprintf(why, sizeof(why), "/dev/kvm cannot run a real-mode loop (%s)", strerror(-r));
	}
	probe_vm_close(&p);
	bool pvm = access("/sys/module/kvm_pvm", F_OK) == 0;
	vm_probe_decide(ret, r == 0, pvm, why);
	return 0;
}

void vm_probe_decide(struct vm_host_probe *p, bool ran, bool pvm, const char *why)
{
	p->kvm_hw_speed = ran && p->ns_per_insn > 0 && p->ns_per_insn < VM_PROBE_HW_NS_MAX;
	if (p->kvm_hw_speed) {
		p->driver = VM_DRIVER_VMM;
		p->accel = VM_ACCEL_KVM;
		snprintf(p->reason, sizeof(p->reason),
			 "/dev/kvm runs guests at hardware speed (%.1f ns/insn): using ocivm-vmm",
			 p->ns_per_insn);
		return;
	}
	p->driver = VM_DRIVER_QEMU;
	p->accel = VM_ACCEL_TCG;
	if (ran)
		snprintf(p->reason, sizeof(p->reason),
			 "%s emulates the CPU at ~%.2g us/insn: Linux cannot boot on it; "
			 "using qemu-system-x86_64 -accel tcg",
			 pvm ? "kvm_pvm" : "/dev/kvm", p->ns_per_insn / 1000.0);
	else
		snprintf(p->reason, sizeof(p->reason),
			 "%s: using qemu-system-x86_64 -accel tcg", why && *why ? why : "no usable /dev/kvm");
}
