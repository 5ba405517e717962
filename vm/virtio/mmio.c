/* virtio-mmio transport, version 2 (virtio 1.x, 4.2.2).  Register accesses
 * arrive from vCPU threads (serialised by a mutex); queue notifications do
 * not: they go to per-queue eventfds bound as ioeventfds, which the device's
 * I/O thread polls.  If the platform cannot bind an ioeventfd, a forwarded
 * QueueNotify write signals the same eventfd. */
#include "vm/virtio/vdev.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

enum {
	R_MAGIC = 0x000, R_VERSION = 0x004, R_DEVICE_ID = 0x008, R_VENDOR_ID = 0x00c,
	R_DEV_FEAT = 0x010, R_DEV_FEAT_SEL = 0x014, R_DRV_FEAT = 0x020,
	R_DRV_FEAT_SEL = 0x024, R_QUEUE_SEL = 0x030, R_QUEUE_NUM_MAX = 0x034,
	R_QUEUE_NUM = 0x038, R_QUEUE_READY = 0x044, R_QUEUE_NOTIFY = 0x050,
	R_ISR = 0x060, R_ISR_ACK = 0x064, R_STATUS = 0x070,
	R_DESC_LO = 0x080, R_DESC_HI = 0x084, R_AVAIL_LO = 0x090,
	R_AVAIL_HI = 0x094, R_USED_LO = 0x0a0, R_USED_HI = 0x0a4,
	R_SHM_LEN_LO = 0x0b0, R_SHM_LEN_HI = 0x0b4,
	R_CONFIG_GEN = 0x0fc, R_CONFIG = 0x100,
};
#define MMIO_MAGIC 0x74726976u  /* "virt" */
#define MMIO_VENDOR 0x4d56434fu /* "OCVM" */

struct virtio_mmio {
	pthread_mutex_t lock;
	struct virtio_host host;
	uint64_t base;
	const struct vdev_ops *ops;
	void *dev;
	struct vdev v;
	bool ioev[VDEV_MAX_QUEUES];
	uint32_t dev_feat_sel, drv_feat_sel, queue_sel;
	uint64_t drv_features;
	uint32_t status;
	bool running;
	uint32_t isr;           /* atomic */
	uint32_t needs_reset;   /* atomic */
	uint32_t config_gen;    /* atomic: bumped when the device's config changes */
};

#define to_mmio(vd) ((struct virtio_mmio *)((char *)(vd) - offsetof(struct virtio_mmio, v)))

static uint64_t offered(const struct virtio_mmio *m)
{
	return m->ops->features | (1ull << VIRTIO_F_VERSION_1);
}

static void raise_irq(struct virtio_mmio *m, uint32_t bit)
{
	uint64_t one = 1;
	__atomic_fetch_or(&m->isr, bit, __ATOMIC_SEQ_CST);
	if (m->host.irqfd >= 0 && write(m->host.irqfd, &one, sizeof(one)) < 0) {
		/* eventfd counter saturated: an interrupt is pending anyway */
	}
}

void vdev_signal(struct vdev *v) { raise_irq(to_mmio(v), 1); }

void vdev_fail(struct vdev *v)
{
	struct virtio_mmio *m = to_mmio(v);
	__atomic_store_n(&m->needs_reset, 1, __ATOMIC_SEQ_CST);
	raise_irq(m, 2);
}

void vdev_config_changed(struct vdev *v)
{
	struct virtio_mmio *m = to_mmio(v);
	__atomic_fetch_add(&m->config_gen, 1, __ATOMIC_SEQ_CST);
	raise_irq(m, 2);
}

static void reset_locked(struct virtio_mmio *m)
{
	if (m->running)
		m->ops->stop(m->dev);
	m->running = false;
	for (unsigned i = 0; i < m->v.nq; i++) {
		uint64_t junk;
		virtq_reset(&m->v.q[i]);
		while (read(m->v.kick[i], &junk, sizeof(junk)) > 0)
			;
	}
	m->v.features = m->drv_features = 0;
	m->dev_feat_sel = m->drv_feat_sel = m->queue_sel = 0;
	m->status = 0;
	__atomic_store_n(&m->isr, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&m->needs_reset, 0, __ATOMIC_SEQ_CST);
}

static void driver_ok_locked(struct virtio_mmio *m)
{
	m->v.features = m->drv_features;
	for (unsigned i = 0; i < m->v.nq; i++) {
		struct virtq *q = &m->v.q[i];
		if (q->ready && virtq_activate(q, m->v.mem, m->v.features) < 0) {
			__atomic_store_n(&m->needs_reset, 1, __ATOMIC_SEQ_CST);
			return;
		}
	}
	if (m->ops->start(m->dev, &m->v) < 0) {
		__atomic_store_n(&m->needs_reset, 1, __ATOMIC_SEQ_CST);
		return;
	}
	m->running = true;
}

static void write_status_locked(struct virtio_mmio *m, uint32_t val)
{
	if (val == 0) {
		reset_locked(m);
		return;
	}
	uint32_t added = val & ~m->status;
	if (added & VIRTIO_STATUS_FEATURES_OK) {
		bool ok = !(m->drv_features & ~offered(m)) &&
			  (m->drv_features & (1ull << VIRTIO_F_VERSION_1)) &&
			  !(m->status & VIRTIO_STATUS_DRIVER_OK);
		if (!ok)
			val &= ~VIRTIO_STATUS_FEATURES_OK;
	}
	m->status = val & 0xff & ~VIRTIO_STATUS_NEEDS_RESET;
	if ((added & VIRTIO_STATUS_DRIVER_OK) && (m->status & VIRTIO_STATUS_FEATURES_OK) &&
	    !m->running)
		driver_ok_locked(m);
}

static uint32_t read_reg_locked(struct virtio_mmio *m, uint64_t off)
{
	struct virtq *q = m->queue_sel < m->v.nq ? &m->v.q[m->queue_sel] : NULL;

	switch (off) {
	case R_MAGIC: return MMIO_MAGIC;
	case R_VERSION: return 2;
	case R_DEVICE_ID: return m->ops->device_id;
	case R_VENDOR_ID: return MMIO_VENDOR;
	case R_DEV_FEAT:
		return m->dev_feat_sel < 2 ? (uint32_t)(offered(m) >> (32 * m->dev_feat_sel)) : 0;
	case R_QUEUE_NUM_MAX: return q ? VIRTQ_MAX_SIZE : 0;
	case R_QUEUE_READY: return q ? q->ready : 0;
	case R_ISR: return __atomic_load_n(&m->isr, __ATOMIC_SEQ_CST);
	case R_STATUS:
		return m->status |
		       (__atomic_load_n(&m->needs_reset, __ATOMIC_SEQ_CST) ? VIRTIO_STATUS_NEEDS_RESET : 0);
	case R_SHM_LEN_LO: case R_SHM_LEN_HI: return 0xffffffffu; /* no region */
	case R_CONFIG_GEN: return __atomic_load_n(&m->config_gen, __ATOMIC_SEQ_CST);
	default: return 0;
	}
}

static void set_half(uint64_t *v, bool hi, uint32_t val)
{
	*v = hi ? (*v & 0xffffffffull) | ((uint64_t)val << 32)
		: (*v & ~0xffffffffull) | val;
}

/* Queue registers: only while the queue is not live. */
static void write_queue_locked(struct virtio_mmio *m, uint64_t off, uint32_t val)
{
	if (m->queue_sel >= m->v.nq || (m->status & VIRTIO_STATUS_DRIVER_OK))
		return;
	struct virtq *q = &m->v.q[m->queue_sel];
	switch (off) {
	case R_QUEUE_NUM: q->num = val <= VIRTQ_MAX_SIZE ? val : 0; break;
	case R_QUEUE_READY: q->ready = val & 1; break;
	case R_DESC_LO: case R_DESC_HI: set_half(&q->desc_gpa, off & 4, val); break;
	case R_AVAIL_LO: case R_AVAIL_HI: set_half(&q->avail_gpa, off & 4, val); break;
	case R_USED_LO: case R_USED_HI: set_half(&q->used_gpa, off & 4, val); break;
	}
}

static void write_reg_locked(struct virtio_mmio *m, uint64_t off, uint32_t val)
{
	uint64_t one = 1;
	switch (off) {
	case R_DEV_FEAT_SEL: m->dev_feat_sel = val; break;
	case R_DRV_FEAT_SEL: m->drv_feat_sel = val; break;
	case R_DRV_FEAT:
		if (m->drv_feat_sel < 2 && !(m->status & VIRTIO_STATUS_FEATURES_OK))
			set_half(&m->drv_features, m->drv_feat_sel, val);
		break;
	case R_QUEUE_SEL: m->queue_sel = val; break;
	case R_QUEUE_NOTIFY:   /* only when no ioeventfd took it */
		if (val < m->v.nq && write(m->v.kick[val], &one, sizeof(one)) < 0) {
			/* saturated counter: the kick is pending anyway */
		}
		break;
	case R_ISR_ACK: __atomic_fetch_and(&m->isr, ~val, __ATOMIC_SEQ_CST); break;
	case R_STATUS: write_status_locked(m, val); break;
	default: write_queue_locked(m, off, val); break;
	}
}

void virtio_mmio_read(struct virtio_mmio *m, uint64_t offset, void *data, unsigned len)
{
	memset(data, 0, len);
	pthread_mutex_lock(&m->lock);
	if (offset >= R_CONFIG && offset < VIRTIO_MMIO_WINDOW) {
		if (m->ops->config_read && len <= VIRTIO_MMIO_WINDOW - offset)
			m->ops->config_read(m->dev, offset - R_CONFIG, data, len);
	} else if (len == 4 && !(offset & 3)) {
		uint32_t v = read_reg_locked(m, offset);
		memcpy(data, &v, 4);
	}
	pthread_mutex_unlock(&m->lock);
}

void virtio_mmio_write(struct virtio_mmio *m, uint64_t offset, const void *data, unsigned len)
{
	if (len != 4 || (offset & 3) || offset >= R_CONFIG)
		return;   /* config space is read-only for our devices */
	uint32_t v;
	memcpy(&v, data, 4);
	pthread_mutex_lock(&m->lock);
	write_reg_locked(m, offset, v);
	pthread_mutex_unlock(&m->lock);
}

static void unbind_kicks(struct virtio_mmio *m)
{
	for (unsigned i = 0; i < m->v.nq; i++) {
		if (m->ioev[i] && m->host.ioeventfd_del)
			m->host.ioeventfd_del(m->host.ctx, m->base + R_QUEUE_NOTIFY, i, m->v.kick[i]);
		m->ioev[i] = false;
		if (m->v.kick[i] >= 0)
			close(m->v.kick[i]);
		m->v.kick[i] = -1;
	}
}

void virtio_mmio_destroy(struct virtio_mmio *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	reset_locked(m);
	pthread_mutex_unlock(&m->lock);
	unbind_kicks(m);
	if (m->ops->destroy)
		m->ops->destroy(m->dev);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

void *virtio_mmio_device(struct virtio_mmio *m, uint32_t device_id)
{
	return m && m->ops->device_id == device_id ? m->dev : NULL;
}

static int bind_kicks(struct virtio_mmio *m)
{
	for (unsigned i = 0; i < m->v.nq; i++) {
		m->v.kick[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (m->v.kick[i] < 0)
			return -errno;
		if (m->host.ioeventfd_add &&
		    m->host.ioeventfd_add(m->host.ctx, m->base + R_QUEUE_NOTIFY, i, m->v.kick[i]) == 0)
			m->ioev[i] = true;
	}
	return 0;
}

int virtio_mmio_new(const struct virtio_host *host, uint64_t base,
		    const struct vdev_ops *ops, void *dev, struct virtio_mmio **ret)
{
	if (ops->nqueues == 0 || ops->nqueues > VDEV_MAX_QUEUES || !host->mem)
		return -EINVAL;
	struct virtio_mmio *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	pthread_mutex_init(&m->lock, NULL);
	m->host = *host;
	m->base = base;
	m->ops = ops;
	m->v.mem = host->mem;
	m->v.thread_init = host->thread_init;
	m->v.thread_ctx = host->ctx;
	m->v.nq = ops->nqueues;
	for (unsigned i = 0; i < VDEV_MAX_QUEUES; i++)
		m->v.kick[i] = -1;
	int r = bind_kicks(m);
	if (r < 0) {
		unbind_kicks(m);
		pthread_mutex_destroy(&m->lock);
		free(m);
		return r;
	}
	m->dev = dev;
	*ret = m;
	return 0;
}
