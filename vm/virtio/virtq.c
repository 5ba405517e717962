/* Split virtqueue, device side.  See virtq.h. */
#include "vm/virtio/virtq.h"

#include <errno.h>
#include <string.h>

/* Ring layout sizes for a queue of n entries (virtio 1.x 2.6). */
static uint64_t avail_size(unsigned n) { return 6 + 2ull * n; }
static uint64_t used_size(unsigned n) { return 6 + 8ull * n; }

void virtq_reset(struct virtq *q)
{
	memset(q, 0, sizeof(*q));
}

int virtq_activate(struct virtq *q, const struct gmem *mem, uint64_t features)
{
	unsigned n = q->num;

	if (n == 0 || n > VIRTQ_MAX_SIZE || (n & (n - 1)))
		return -EINVAL;
	if ((q->desc_gpa & 15) || (q->avail_gpa & 1) || (q->used_gpa & 3))
		return -EINVAL;
	q->desc = gmem_ptr(mem, q->desc_gpa, 16ull * n);
	q->avail = gmem_ptr(mem, q->avail_gpa, avail_size(n));
	q->used = gmem_ptr(mem, q->used_gpa, used_size(n));
	if (!q->desc || !q->avail || !q->used)
		return -EINVAL;
	q->mem = mem;
	q->event_idx = features & (1ull << VIRTIO_F_EVENT_IDX);
	q->indirect = features & (1ull << VIRTIO_F_INDIRECT_DESC);
	q->broken = false;
	q->last_avail = q->used_idx = q->signalled = 0;
	return 0;
}

static uint16_t avail_idx(const struct virtq *q)
{
	return __atomic_load_n(&q->avail[1], __ATOMIC_ACQUIRE);
}

int virtq_pending(struct virtq *q)
{
	if (q->broken)
		return -EIO;
	uint16_t n = avail_idx(q) - q->last_avail;
	if (n > q->num) {
		q->broken = true;
		return -EIO;
	}
	return n;
}

static int add_seg(struct virtq *q, struct virtq_chain *c, const struct virtq_desc *d)
{
	bool wr = d->flags & VIRTQ_DESC_F_WRITE;

	if (d->len == 0)
		return 0;
	if (c->n >= VIRTQ_CHAIN_MAX)
		return -EIO;
	if (!wr && c->n != c->n_read)   /* readable after writable */
		return -EIO;
	uint8_t *p = gmem_ptr(q->mem, d->addr, d->len);
	if (!p)
		return -EIO;
	c->seg[c->n++] = (struct virtq_seg){ .p = p, .len = d->len, .write = wr };
	if (wr) {
		c->write_len += d->len;
	} else {
		c->n_read++;
		c->read_len += d->len;
	}
	return 0;
}

/* Walk an indirect table: one level, its own hop limit (the table size). */
static int walk_indirect(struct virtq *q, struct virtq_chain *c, const struct virtq_desc *d)
{
	if (!q->indirect || (d->flags & VIRTQ_DESC_F_NEXT) || d->len == 0 ||
	    d->len % 16 || d->len / 16 > VIRTQ_CHAIN_MAX || (d->addr & 15))
		return -EIO;
	unsigned n = d->len / 16;
	const volatile struct virtq_desc *t = gmem_ptr(q->mem, d->addr, d->len);
	if (!t)
		return -EIO;
	unsigned i = 0;
	for (unsigned hops = 0; hops < n; hops++) {
		struct virtq_desc e = t[i];   /* one read: the guest may change it */
		if (e.flags & VIRTQ_DESC_F_INDIRECT)
			return -EIO;
		if (add_seg(q, c, &e) < 0)
			return -EIO;
		if (!(e.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (e.next >= n)
			return -EIO;
		i = e.next;
	}
	return -EIO;   /* cycle */
}

static int walk_chain(struct virtq *q, struct virtq_chain *c, uint16_t head)
{
	uint16_t i = head;

	for (unsigned hops = 0; hops < q->num; hops++) {
		if (i >= q->num)
			return -EIO;
		struct virtq_desc d = q->desc[i];
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return walk_indirect(q, c, &d);
		if (add_seg(q, c, &d) < 0)
			return -EIO;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		i = d.next;
	}
	return -EIO;   /* longer than the ring: a cycle */
}

int virtq_pop(struct virtq *q, struct virtq_chain *c)
{
	int pending = virtq_pending(q);
	if (pending <= 0)
		return pending;
	uint16_t head = q->avail[2 + q->last_avail % q->num];
	q->last_avail++;
	c->head = head;
	c->n = c->n_read = 0;
	c->read_len = c->write_len = 0;
	if (head >= q->num || walk_chain(q, c, head) < 0) {
		q->broken = true;
		return -EIO;
	}
	return 1;
}

void virtq_unpop(struct virtq *q)
{
	q->last_avail--;
}

void virtq_push(struct virtq *q, uint16_t head, uint32_t len)
{
	volatile uint32_t *e = &q->used[1 + 2 * (q->used_idx % q->num)];
	e[0] = head;
	e[1] = len;
	q->used_idx++;
}

bool virtq_publish(struct virtq *q)
{
	volatile uint16_t *uidx = (volatile uint16_t *)q->used + 1;
	__atomic_store_n(uidx, q->used_idx, __ATOMIC_RELEASE);
	/* the index store must be visible before we read the driver's flags */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	uint16_t old = q->signalled;
	if (old == q->used_idx)
		return false;
	if (q->event_idx) {
		uint16_t used_event = q->avail[2 + q->num];
		if (!virtq_need_event(used_event, q->used_idx, old))
			return false;
	} else if (q->avail[0] & VIRTQ_AVAIL_F_NO_INTERRUPT) {
		return false;
	}
	q->signalled = q->used_idx;
	return true;
}

void virtq_disable_notify(struct virtq *q)
{
	if (!q->event_idx)
		((volatile uint16_t *)q->used)[0] = VIRTQ_USED_F_NO_NOTIFY;
	/* with EVENT_IDX, avail_event stays behind: the driver does not kick */
}

bool virtq_enable_notify(struct virtq *q)
{
	if (q->event_idx)
		((volatile uint16_t *)q->used)[2 + 4 * q->num] = q->last_avail;
	else
		((volatile uint16_t *)q->used)[0] = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return virtq_pending(q) != 0;
}

size_t virtq_chain_read(const struct virtq_chain *c, size_t off, void *buf, size_t len)
{
	size_t done = 0;
	for (unsigned i = 0; i < c->n_read && done < len; i++) {
		const struct virtq_seg *s = &c->seg[i];
		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		size_t k = s->len - off < len - done ? s->len - off : len - done;
		memcpy((uint8_t *)buf + done, s->p + off, k);
		done += k;
		off = 0;
	}
	return done;
}
