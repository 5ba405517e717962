/* ocivm-vmm internals: one struct kvm_vm holds everything (no globals). */
#ifndef OCIVM_VMM_H
#define OCIVM_VMM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "vm/virtio/virtio.h"
#include "vm/vmm/bus.h"
#include "vm/vmm/coalesce.h"
#include "vm/vmm/cpuid.h"
#include "vm/vmm/layout.h"
#include "vm/vmm/loader.h"
#include "vm/vmm/exit.h"
#include "vm/vmm/kvmstats.h"
#include "vm/vmm/uart.h"

#define VMM_MAX_VCPUS 64u
#define VMM_MAX_DISKS 15u
#define VMM_MAX_NETS 4u

/* --net tapfd=N|tap=NAME[,mac=M] */
struct vmm_net_arg {
	int tapfd;                /* -1 unless tapfd= */
	const char *tap;          /* tap= name, or NULL */
	uint8_t mac[6];
	bool has_mac;             /* else a random locally administered one */
};

struct vmm_disk_arg {
	const char *path;
	const char *serial;
	bool readonly;
};

/* Plain data from the command line. */
struct vmm_config {
	const char *kernel;
	const char *initrd;
	const char *cmdline;
	uint64_t memory_mib;
	unsigned vcpus;
	const char *console;          /* file, "-" = stdout */
	uint64_t console_max_mib;     /* cap of what goes there (--console-max) */
	struct vmm_disk_arg disks[VMM_MAX_DISKS];
	unsigned n_disks;
	struct vmm_net_arg nets[VMM_MAX_NETS];
	unsigned n_nets;
	const char *control;          /* unix socket path or NULL */
	const char *cpuid_mask;       /* "cx16,xsave,..." or NULL */
	bool bzimage_direct;          /* bzImage: 64-bit entry even if LZ4+PVH works */
	bool no_coalesce;             /* never defer UART THR writes */
	const char *jail_root;        /* --jail-root: empty dir to pivot_root into */
	const char *jail_user;        /* --jail-user UID:GID */
	bool seccomp;                 /* --seccomp (implied by --jail-root) */
};

struct kvm_vm;

struct vcpu {
	struct kvm_vm *vm;
	unsigned index;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	bool started;
	struct kvm_stats kstats;
};

enum kvm_vm_state { VM_RUNNING, VM_PAUSED };

struct power_port {
	struct kvm_vm *vm;
	unsigned port;
};

struct kvm_vm {
	const struct vmm_config *cfg;
	int kvm_fd, vm_fd;
	struct gmem mem;
	struct bus pio, mmio;
	struct uart uart;
	struct coalesce coalesce;     /* UART THR writes without exits */
	struct power_port power[8];
	int console_fd;
	struct exit_stats stats;      /* atomics, shared by all vCPUs */
	struct cpuid_bit cpuid_mask[CPUID_MASK_MAX];
	unsigned n_cpuid_mask;
	struct kvm_cpuid2 *cpuid;     /* supported table, fetched once */
	struct boot_entry entry;
	struct vcpu vcpus[VMM_MAX_VCPUS];
	unsigned n_vcpus;
	struct virtio_host vhost[LAYOUT_VIRTIO_MAX];
	struct virtio_mmio *vdev[LAYOUT_VIRTIO_MAX];
	unsigned n_vdev;
	uint64_t vdev_base[LAYOUT_VIRTIO_MAX];
	unsigned vdev_gsi[LAYOUT_VIRTIO_MAX];
	struct virtio_mmio *console_dev;

	/* Run control: guarded by lock. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool paused, done;
	unsigned parked;
	enum exit_action result;
	char result_msg[256];
	int64_t first_run_ns;         /* CLOCK_REALTIME at the first KVM_RUN */
	bool seccomp;                 /* each thread loads its filter (seccomp.h) */
};

/* kvm.c */
int kvm_vm_create(struct kvm_vm *vm, const struct vmm_config *cfg, struct oerr *err);
void kvm_vm_destroy(struct kvm_vm *vm);
int kvm_vm_irq_pulse(struct kvm_vm *vm, unsigned gsi);
int kvm_vm_irq_line(struct kvm_vm *vm, unsigned gsi, int level);
/* KVM stats summed over the vCPUs (zeros where unavailable). */
void kvm_vm_kvm_stats(struct kvm_vm *vm, uint64_t sum[KS_N]);
/* cpu.c */
int vcpu_setup_cpuid(struct kvm_vm *vm, struct vcpu *vcpu, struct oerr *err);
int vcpu_setup_boot(struct kvm_vm *vm, struct vcpu *vcpu, struct oerr *err);
/* vcpu.c */
int vcpus_start(struct kvm_vm *vm, struct oerr *err);
void kvm_vm_finish(struct kvm_vm *vm, enum exit_action action, const char *msg);
int kvm_vm_pause(struct kvm_vm *vm);
int kvm_vm_resume(struct kvm_vm *vm);
bool kvm_vm_is_paused(struct kvm_vm *vm);
/* Blocks until the VM ends; returns the process exit status. */
int kvm_vm_wait(struct kvm_vm *vm);
/* devices.c */
int kvm_vm_devices_init(struct kvm_vm *vm, struct oerr *err);
void kvm_vm_devices_destroy(struct kvm_vm *vm);
struct acpi_device;
int kvm_vm_acpi_devices(const struct kvm_vm *vm, struct acpi_device *out);
/* boot.c */
int kvm_vm_load_kernel(struct kvm_vm *vm, struct oerr *err);
/* control.c */
struct control;
int control_start(struct kvm_vm *vm, const char *path, struct control **ret, struct oerr *err);
/* control_start in two steps: bind (before the jail), then the thread. */
int control_open(struct kvm_vm *vm, const char *path, struct control **ret, struct oerr *err);
int control_run(struct control *c, struct oerr *err);
/* Jailed: do not unlink the socket path at stop (it is outside the jail). */
void control_jailed(struct control *c);
void control_stop(struct control *c);

#endif
