#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vm/vmm/kvmstats.h"

const char *const kvm_stat_names[KS_N] = {
	[KS_EXITS] = "exits", [KS_IO] = "io_exits", [KS_MMIO] = "mmio_exits",
	[KS_HALT] = "halt_exits", [KS_IRQ_WINDOW] = "irq_window_exits",
	[KS_INSN_EMUL] = "insn_emulation",
};

#define STATS_MAX_DESC 1024u
#define STATS_MAX_NAME 256u

static void index_desc(struct kvm_stats *s, const struct kvm_stats_header *h,
		       const uint8_t *descs)
{
	size_t step = sizeof(struct kvm_stats_desc) + h->name_size;

	for (uint32_t i = 0; i < h->num_desc; i++) {
		const struct kvm_stats_desc *d = (const void *)(descs + i * step);
		if ((d->flags & KVM_STATS_TYPE_MASK) != KVM_STATS_TYPE_CUMULATIVE || d->size != 1)
			continue;
		for (int k = 0; k < KS_N; k++)
			if (strncmp(d->name, kvm_stat_names[k], h->name_size) == 0)
				s->off[k] = h->data_offset + d->offset;
	}
}

int kvm_stats_open(int vcpu_fd, struct kvm_stats *s)
{
	struct kvm_stats_header h;
	int r = 0;

	memset(s, 0, sizeof(*s));
	s->fd = ioctl(vcpu_fd, KVM_GET_STATS_FD, NULL);
	if (s->fd < 0)
		return s->fd = -1, -errno;
	if (pread(s->fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    h.num_desc > STATS_MAX_DESC || h.name_size > STATS_MAX_NAME)
		r = -EINVAL;
	size_t len = (size_t)h.num_desc * (sizeof(struct kvm_stats_desc) + h.name_size);
	uint8_t *descs = r ? NULL : malloc(len ? len : 1);
	if (!r && !descs)
		r = -ENOMEM;
	if (!r && pread(s->fd, descs, len, h.desc_offset) != (ssize_t)len)
		r = -EIO;
	if (!r)
		index_desc(s, &h, descs);
	free(descs);
	if (r)
		kvm_stats_close(s);
	return r;
}

void kvm_stats_add(const struct kvm_stats *s, uint64_t sum[KS_N])
{
	for (int k = 0; s->fd >= 0 && k < KS_N; k++) {
		uint64_t v;
		if (s->off[k] && pread(s->fd, &v, sizeof(v), (off_t)s->off[k]) == sizeof(v))
			sum[k] += v;
	}
}

void kvm_stats_close(struct kvm_stats *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}
