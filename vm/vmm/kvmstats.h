/* KVM's binary statistics (KVM_GET_STATS_FD) of a vCPU: the exit counters
 * by reason, summed over the vCPUs for the control socket and the bench. */
#ifndef OCIVM_VMM_KVMSTATS_H
#define OCIVM_VMM_KVMSTATS_H

#include <stdint.h>

enum kvm_stat_id { KS_EXITS, KS_IO, KS_MMIO, KS_HALT, KS_IRQ_WINDOW, KS_INSN_EMUL, KS_N };

struct kvm_stats {
	int fd;                 /* -1: not available */
	uint64_t off[KS_N];     /* file offset of each value, 0 = absent */
};

/* Open and index the stats of a vCPU fd; returns 0 or -errno (fd stays -1). */
int kvm_stats_open(int vcpu_fd, struct kvm_stats *s);
/* Add the current values to sum[KS_N]. */
void kvm_stats_add(const struct kvm_stats *s, uint64_t sum[KS_N]);
void kvm_stats_close(struct kvm_stats *s);
extern const char *const kvm_stat_names[KS_N];

#endif
