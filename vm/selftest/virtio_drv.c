/* Minimal guest virtio-mmio driver for the self-test.  See virtio_drv.h. */
#include "virtio_drv.h"

enum {
	R_MAGIC = 0x000, R_VERSION = 0x004, R_DEVICE_ID = 0x008, R_VENDOR = 0x00c,
	R_DEV_FEAT = 0x010, R_DEV_FEAT_SEL = 0x014, R_DRV_FEAT = 0x020,
	R_DRV_FEAT_SEL = 0x024, R_QUEUE_SEL = 0x030, R_QUEUE_NUM_MAX = 0x034,
	R_QUEUE_NUM = 0x038, R_QUEUE_READY = 0x044, R_QUEUE_NOTIFY = 0x050,
	R_ISR = 0x060, R_ISR_ACK = 0x064, R_STATUS = 0x070,
	R_DESC = 0x080, R_AVAIL = 0x090, R_USED = 0x0a0, R_CONFIG = 0x100,
};

bool stv_probe(uint64_t base, uint32_t *ret_device_id)
{
	*ret_device_id = mmio_read32(base + R_DEVICE_ID);
	return mmio_read32(base + R_MAGIC) == 0x74726976 && mmio_read32(base + R_VERSION) == 2 &&
	       *ret_device_id != 0 && mmio_read32(base + R_VENDOR) != 0;
}

static void wr64(uint64_t reg, uint64_t v)
{
	mmio_write32(reg, (uint32_t)v);
	mmio_write32(reg + 4, (uint32_t)(v >> 32));
}

static int setup_queue(struct stv_dev *d, unsigned i)
{
	struct stv_queue *q = &d->q[i];
	mmio_write32(d->base + R_QUEUE_SEL, i);
	if (mmio_read32(d->base + R_QUEUE_NUM_MAX) < STV_QSIZE || mmio_read32(d->base + R_QUEUE_READY))
		return -1;
	uint8_t *pages = st_alloc_pages(4);
	if (!pages)
		return -1;
	q->desc = pages;
	q->avail = (volatile uint16_t *)(pages + ST_PAGE_SIZE);
	q->used = pages + 2 * ST_PAGE_SIZE;
	q->indirect = pages + 3 * ST_PAGE_SIZE;
	q->avail_idx = q->last_used = 0;
	mmio_write32(d->base + R_QUEUE_NUM, STV_QSIZE);
	wr64(d->base + R_DESC, st_gpa((const void *)q->desc));
	wr64(d->base + R_AVAIL, st_gpa((const void *)q->avail));
	wr64(d->base + R_USED, st_gpa((const void *)q->used));
	mmio_write32(d->base + R_QUEUE_READY, 1);
	return mmio_read32(d->base + R_QUEUE_READY) == 1 ? 0 : -1;
}

static uint64_t read_features(uint64_t base)
{
	mmio_write32(base + R_DEV_FEAT_SEL, 0);
	uint64_t f = mmio_read32(base + R_DEV_FEAT);
	mmio_write32(base + R_DEV_FEAT_SEL, 1);
	return f | (uint64_t)mmio_read32(base + R_DEV_FEAT) << 32;
}

int stv_init(struct stv_dev *d, uint64_t base, uint32_t gsi, uint64_t want, unsigned nq)
{
	memset(d, 0, sizeof(*d));
	d->base = base;
	d->gsi = gsi;
	d->nq = nq;
	d->device_id = mmio_read32(base + R_DEVICE_ID);
	mmio_write32(base + R_STATUS, 0);
	if (mmio_read32(base + R_STATUS) != 0)
		return -1;
	mmio_write32(base + R_STATUS, 1);
	mmio_write32(base + R_STATUS, 3);
	d->offered = read_features(base);
	d->features = d->offered & want;
	if (!(d->features & STV_F_VERSION_1))
		return -2;
	mmio_write32(base + R_DRV_FEAT_SEL, 0);
	mmio_write32(base + R_DRV_FEAT, (uint32_t)d->features);
	mmio_write32(base + R_DRV_FEAT_SEL, 1);
	mmio_write32(base + R_DRV_FEAT, (uint32_t)(d->features >> 32));
	mmio_write32(base + R_STATUS, 0xb);
	if (!(mmio_read32(base + R_STATUS) & 8))
		return -3;
	for (unsigned i = 0; i < nq; i++)
		if (setup_queue(d, i) < 0)
			return -4;
	if (st_irq_enable(gsi) < 0)
		return -5;
	mmio_write32(base + R_STATUS, 0xf);
	return mmio_read32(base + R_STATUS) == 0xf ? 0 : -6;
}

static void put_desc(volatile uint8_t *t, unsigned i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	volatile uint8_t *p = t + 16 * i;
	*(volatile uint64_t *)p = addr;
	*(volatile uint32_t *)(p + 8) = len;
	*(volatile uint16_t *)(p + 12) = flags;
	*(volatile uint16_t *)(p + 14) = next;
}

static uint16_t seg_flags(const struct stv_seg *s, bool more)
{
	return (uint16_t)((s->write ? 2 : 0) | (more ? 1 : 0));
}

/* One request in flight at a time per queue: descriptors start at 0. */
void stv_post(struct stv_dev *d, unsigned qi, const struct stv_seg *s, unsigned n, bool indirect)
{
	struct stv_queue *q = &d->q[qi];
	if (indirect && (d->features & STV_F_INDIRECT)) {
		for (unsigned i = 0; i < n; i++)
			put_desc(q->indirect, i, st_gpa(s[i].buf), s[i].len, seg_flags(&s[i], i + 1 < n),
				 (uint16_t)(i + 1));
		put_desc(q->desc, 0, st_gpa(q->indirect), 16 * n, 4, 0);
	} else {
		for (unsigned i = 0; i < n; i++)
			put_desc(q->desc, i, st_gpa(s[i].buf), s[i].len, seg_flags(&s[i], i + 1 < n),
				 (uint16_t)(i + 1));
	}
	q->avail[2 + q->avail_idx % STV_QSIZE] = 0;
	q->avail[2 + STV_QSIZE] = (uint16_t)(q->last_used + q->event_ahead); /* used_event */
	st_mb();
	q->avail_idx++;
	q->avail[1] = q->avail_idx;
	st_mb();
	mmio_write32(d->base + R_QUEUE_NOTIFY, qi);
}

static uint16_t used_idx(const struct stv_queue *q)
{
	st_barrier();
	return *(volatile uint16_t *)(q->used + 2);
}

bool stv_wait(struct stv_dev *d, unsigned qi, uint32_t *ret_len, unsigned timeout_ms)
{
	struct stv_queue *q = &d->q[qi];
	uint64_t deadline = st_now_us() + 1000ull * timeout_ms;
	while (used_idx(q) == q->last_used) {
		if (st_now_us() > deadline)
			return false;
		st_irq_wait(d->gsi, st_irq_count(d->gsi) + 1, 10);
	}
	st_mb();
	volatile uint8_t *e = q->used + 4 + 8 * (q->last_used % STV_QSIZE);
	*ret_len = *(volatile uint32_t *)(e + 4);
	q->last_used++;
	mmio_write32(d->base + R_ISR_ACK, mmio_read32(d->base + R_ISR));
	return true;
}

uint32_t stv_status(const struct stv_dev *d) { return mmio_read32(d->base + R_STATUS); }
uint8_t stv_cfg8(const struct stv_dev *d, unsigned off) { return mmio_read8(d->base + R_CONFIG + off); }
uint32_t stv_cfg32(const struct stv_dev *d, unsigned off) { return mmio_read32(d->base + R_CONFIG + off); }
uint64_t stv_cfg64(const struct stv_dev *d, unsigned off)
{
	return mmio_read32(d->base + R_CONFIG + off) |
	       (uint64_t)mmio_read32(d->base + R_CONFIG + off + 4) << 32;
}
