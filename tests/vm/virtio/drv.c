/* Fake virtio driver.  See drv.h. */
#include "tests/vm/virtio/drv.h"

#include <errno.h>
#include <poll.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

static int fake_ioev_add(void *ctx, uint64_t gpa, uint32_t datamatch, int fd)
{
	struct drv *d = ctx;
	if (datamatch >= DRV_MAX_Q)
		return -EINVAL;
	d->q[datamatch].kick = fd;
	return 0;
}

static int fake_ioev_del(void *ctx, uint64_t gpa, uint32_t datamatch, int fd)
{
	struct drv *d = ctx;
	if (datamatch < DRV_MAX_Q)
		d->q[datamatch].kick = -1;
	return 0;
}

int drv_init(struct drv *d, uint64_t ram_size)
{
	memset(d, 0, sizeof(*d));
	d->ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (d->ram == MAP_FAILED)
		return -errno;
	d->size = ram_size;
	d->mem.n = 1;
	d->mem.r[0] = (struct gmem_region){ .gpa = DRV_GPA_BASE, .size = ram_size, .host = d->ram };
	d->host.mem = &d->mem;
	d->host.irqfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	d->host.ioeventfd_add = fake_ioev_add;
	d->host.ioeventfd_del = fake_ioev_del;
	d->host.ctx = d;
	for (int i = 0; i < DRV_MAX_Q; i++)
		d->q[i].kick = -1;
	return d->host.irqfd < 0 ? -errno : 0;
}

void drv_fini(struct drv *d)
{
	virtio_mmio_destroy(d->m);
	d->m = NULL;
	close(d->host.irqfd);
	munmap(d->ram, d->size);
}

uint64_t drv_alloc(struct drv *d, uint64_t size, uint64_t align)
{
	d->brk = (d->brk + align - 1) & ~(align - 1);
	uint64_t gpa = DRV_GPA_BASE + d->brk;
	d->brk += size;
	return d->brk <= d->size ? gpa : 0;
}

void *drv_ptr(struct drv *d, uint64_t gpa) { return d->ram + (gpa - DRV_GPA_BASE); }

uint32_t drv_rd(struct drv *d, uint64_t off)
{
	uint32_t v;
	virtio_mmio_read(d->m, off, &v, 4);
	return v;
}

void drv_wr(struct drv *d, uint64_t off, uint32_t val) { virtio_mmio_write(d->m, off, &val, 4); }

static void setup_queue(struct drv *d, unsigned i, uint16_t num)
{
	struct drv_queue *q = &d->q[i];
	q->num = num;
	q->desc = drv_alloc(d, 16ull * num, 4096);
	q->avail = drv_alloc(d, 6 + 2ull * num, 4096);
	q->used = drv_alloc(d, 6 + 8ull * num, 4096);
	q->avail_idx = q->last_used = q->next_desc = q->kicked_idx = 0;
	q->kicks = q->kicks_suppressed = 0;
	drv_wr(d, 0x30, i);
	drv_wr(d, 0x38, num);
	drv_wr(d, 0x80, (uint32_t)q->desc);
	drv_wr(d, 0x84, (uint32_t)(q->desc >> 32));
	drv_wr(d, 0x90, (uint32_t)q->avail);
	drv_wr(d, 0x94, (uint32_t)(q->avail >> 32));
	drv_wr(d, 0xa0, (uint32_t)q->used);
	drv_wr(d, 0xa4, (uint32_t)(q->used >> 32));
	drv_wr(d, 0x44, 1);
}

uint32_t drv_setup(struct drv *d, uint64_t want, unsigned nq, uint16_t num)
{
	drv_wr(d, 0x70, 0);
	drv_wr(d, 0x70, 1);
	drv_wr(d, 0x70, 3);
	drv_wr(d, 0x14, 0);
	uint64_t f = drv_rd(d, 0x10);
	drv_wr(d, 0x14, 1);
	f |= (uint64_t)drv_rd(d, 0x10) << 32;
	f &= want;
	d->event_idx = f & (1ull << 29);
	drv_wr(d, 0x24, 0);
	drv_wr(d, 0x20, (uint32_t)f);
	drv_wr(d, 0x24, 1);
	drv_wr(d, 0x20, (uint32_t)(f >> 32));
	drv_wr(d, 0x70, 3 | 8);
	if (!(drv_rd(d, 0x70) & 8))
		return drv_rd(d, 0x70);
	for (unsigned i = 0; i < nq; i++)
		setup_queue(d, i, num);
	drv_wr(d, 0x70, 3 | 8 | 4);
	return drv_rd(d, 0x70);
}

static void put_desc(uint8_t *p, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	memcpy(p, &addr, 8);
	memcpy(p + 8, &len, 4);
	memcpy(p + 12, &flags, 2);
	memcpy(p + 14, &next, 2);
}

static uint16_t seg_flags(const struct drv_seg *s, bool more)
{
	return (uint16_t)((s->write ? 2 : 0) | (more ? 1 : 0));
}

uint16_t drv_add(struct drv *d, unsigned qi, const struct drv_seg *s, unsigned n, bool indirect)
{
	struct drv_queue *q = &d->q[qi];
	uint8_t *desc = drv_ptr(d, q->desc);
	uint16_t head = q->next_desc;
	if (indirect) {
		uint64_t t = drv_alloc(d, 16ull * n, 16);
		for (unsigned i = 0; i < n; i++)
			put_desc(drv_ptr(d, t) + 16 * i, s[i].gpa, s[i].len,
				 seg_flags(&s[i], i + 1 < n), (uint16_t)(i + 1));
		put_desc(desc + 16 * head, t, 16 * n, 4, 0);
		q->next_desc = (uint16_t)((head + 1) % q->num);
	} else {
		for (unsigned i = 0; i < n; i++) {
			uint16_t cur = q->next_desc, nxt = (uint16_t)((cur + 1) % q->num);
			put_desc(desc + 16 * cur, s[i].gpa, s[i].len, seg_flags(&s[i], i + 1 < n), nxt);
			q->next_desc = nxt;
		}
	}
	uint16_t *avail = drv_ptr(d, q->avail);
	avail[2 + q->avail_idx % q->num] = head;
	if (d->event_idx)   /* interrupt me after every used entry */
		avail[2 + q->num] = q->last_used;
	__atomic_store_n(&avail[1], (uint16_t)(q->avail_idx + 1), __ATOMIC_RELEASE);
	q->avail_idx++;
	return head;
}

static bool want_kick(struct drv *d, struct drv_queue *q)
{
	uint8_t *used = drv_ptr(d, q->used);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (d->event_idx) {
		uint16_t ev, old = q->kicked_idx;
		memcpy(&ev, used + 4 + 8 * q->num, 2);
		q->kicked_idx = q->avail_idx;
		return (uint16_t)(q->avail_idx - ev - 1) < (uint16_t)(q->avail_idx - old);
	}
	uint16_t flags;
	memcpy(&flags, used, 2);
	return !(flags & 1);
}

void drv_kick(struct drv *d, unsigned qi)
{
	uint64_t one = 1;
	if (!want_kick(d, &d->q[qi])) {
		d->q[qi].kicks_suppressed++;
		return;
	}
	d->q[qi].kicks++;
	if (d->q[qi].kick >= 0) {
		if (write(d->q[qi].kick, &one, 8) < 0)
			abort();
	} else {
		drv_wr(d, 0x50, qi);
	}
}

int drv_used(struct drv *d, unsigned qi, uint32_t *id, uint32_t *len)
{
	struct drv_queue *q = &d->q[qi];
	uint8_t *used = drv_ptr(d, q->used);
	uint16_t idx = __atomic_load_n((uint16_t *)(used + 2), __ATOMIC_ACQUIRE);
	if (idx == q->last_used)
		return 0;
	uint8_t *e = used + 4 + 8 * (q->last_used % q->num);
	memcpy(id, e, 4);
	memcpy(len, e + 4, 4);
	q->last_used++;
	if (d->event_idx)
		((uint16_t *)drv_ptr(d, q->avail))[2 + q->num] = q->last_used;
	return 1;
}

bool drv_wait_reg(struct drv *d, uint64_t off, uint32_t mask)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (drv_rd(d, off) & mask)
			return true;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > DRV_WAIT_MS)
			return false;
		usleep(1000);
	}
}

int drv_wait_used(struct drv *d, unsigned qi, uint32_t *id, uint32_t *len, int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited += 10) {
		if (drv_used(d, qi, id, len))
			return 1;
		struct pollfd p = { .fd = d->host.irqfd, .events = POLLIN };
		if (poll(&p, 1, 10) > 0) {
			uint64_t junk;
			if (read(d->host.irqfd, &junk, 8) < 0) {
				/* raced with another reader: fine */
			}
		}
	}
	return drv_used(d, qi, id, len);
}
