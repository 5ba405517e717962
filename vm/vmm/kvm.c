#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vm/vmm/layout.h"
#include "vm/vmm/vmm.h"

#define KVM_TSS_ADDR 0xfffbd000ull
#define KVM_IDENTITY_MAP 0xfffbc000ull

static int map_ram(struct kvm_vm *vm, uint64_t bytes, struct oerr *err)
{
	uint64_t low = bytes < LAYOUT_HOLE_START ? bytes : LAYOUT_HOLE_START;
	uint64_t sizes[2] = { low, bytes - low }, gpas[2] = { 0, LAYOUT_HOLE_END };

	for (int i = 0; i < 2 && sizes[i]; i++) {
		void *p = mmap(NULL, sizes[i], PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			return oerr_sys(err, errno, "mmap guest RAM");
		vm->mem.r[i] = (struct gmem_region){ gpas[i], sizes[i], p };
		vm->mem.n = i + 1;
		struct kvm_userspace_memory_region reg = {
			.slot = (uint32_t)i, .guest_phys_addr = gpas[i],
			.memory_size = sizes[i], .userspace_addr = (uintptr_t)p,
		};
		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &reg) < 0)
			return oerr_sys(err, errno, "KVM_SET_USER_MEMORY_REGION");
	}
	return 0;
}

static int create_platform(struct kvm_vm *vm, struct oerr *err)
{
	uint64_t idmap = KVM_IDENTITY_MAP;
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };

	/* Intel VMX needs these; other backends may reject them harmlessly. */
	(void)ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap);
	(void)ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR);
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return oerr_sys(err, errno, "KVM_CREATE_IRQCHIP");
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return oerr_sys(err, errno, "KVM_CREATE_PIT2");
	return 0;
}

/* The coalesced-write ring lives in vCPU 0's kvm_run mapping. */
static void setup_coalescing(struct kvm_vm *vm, struct vcpu *c)
{
	int off = ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO);

	if (vm->cfg->no_coalesce || off <= 0 ||
	    ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_PIO) <= 0 ||
	    c->run_size < ((size_t)off + 1) * 4096)
		return;
	coalesce_init(&vm->coalesce, vm->vm_fd, (uint8_t *)c->run + (size_t)off * 4096,
		      PORT_UART0);
}

static int vcpu_create(struct kvm_vm *vm, unsigned i, int run_size, struct oerr *err)
{
	struct vcpu *c = &vm->vcpus[i];

	c->vm = vm;
	c->index = i;
	c->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)i);
	if (c->fd < 0)
		return oerr_sys(err, errno, "KVM_CREATE_VCPU %u", i);
	c->run_size = (size_t)run_size;
	c->run = mmap(NULL, c->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
	if (c->run == MAP_FAILED) {
		c->run = NULL;
		return oerr_sys(err, errno, "mmap kvm_run");
	}
	vm->n_vcpus = i + 1;
	if (i == 0)
		setup_coalescing(vm, c);
	(void)kvm_stats_open(c->fd, &c->kstats);   /* optional: fd -1 if absent */
	return vcpu_setup_cpuid(vm, c, err);
}

int kvm_vm_create(struct kvm_vm *vm, const struct vmm_config *cfg, struct oerr *err)
{
	int r, run_size;

	vm->cfg = cfg;
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		return oerr_sys(err, errno, "open /dev/kvm");
	if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		return oerr_set(err, ENOTSUP, "/dev/kvm: unexpected KVM API version");
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return oerr_sys(err, errno, "KVM_CREATE_VM");
	r = create_platform(vm, err);
	if (r < 0)
		return r;
	r = map_ram(vm, cfg->memory_mib << 20, err);
	if (r < 0)
		return r;
	run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < (int)sizeof(struct kvm_run))
		return oerr_sys(err, errno, "KVM_GET_VCPU_MMAP_SIZE");
	for (unsigned i = 0; i < cfg->vcpus; i++) {
		r = vcpu_create(vm, i, run_size, err);
		if (r < 0)
			return r;
	}
	return 0;
}

void kvm_vm_destroy(struct kvm_vm *vm)
{
	for (unsigned i = 0; i < vm->n_vcpus; i++) {
		if (vm->vcpus[i].run)
			munmap(vm->vcpus[i].run, vm->vcpus[i].run_size);
		if (vm->vcpus[i].fd >= 0)
			close(vm->vcpus[i].fd);
		kvm_stats_close(&vm->vcpus[i].kstats);
	}
	for (int i = 0; i < vm->mem.n; i++)
		munmap(vm->mem.r[i].host, vm->mem.r[i].size);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
}

/* An edge on an IOAPIC pin (GSI = pin with KVM's default routing). */
int kvm_vm_irq_pulse(struct kvm_vm *vm, unsigned gsi)
{
	struct kvm_irq_level l = { .irq = gsi, .level = 1 };

	if (gsi >= LAYOUT_IOAPIC_PINS)
		return -EINVAL;
	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0)
		return -errno;
	l.level = 0;
	return ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0 ? -errno : 0;
}

int kvm_vm_irq_line(struct kvm_vm *vm, unsigned gsi, int level)
{
	struct kvm_irq_level l = { .irq = gsi, .level = (uint32_t)!!level };
	return ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0 ? -errno : 0;
}

void kvm_vm_kvm_stats(struct kvm_vm *vm, uint64_t sum[KS_N])
{
	memset(sum, 0, KS_N * sizeof(sum[0]));
	for (unsigned i = 0; i < vm->n_vcpus; i++)
		kvm_stats_add(&vm->vcpus[i].kstats, sum);
}
