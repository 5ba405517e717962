/* virtio-blk (device id 2) over an I/O engine.  One I/O thread per device
 * polls {queue kick, engine completions, stop}; nothing runs on vCPU
 * threads.  Per kick: take every available chain (while request slots are
 * free), submit them, one commit; per completion batch: fill the used ring,
 * one interrupt if EVENT_IDX asks for it. */
#include "vm/virtio/blk.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vm/virtio/vdev.h"

#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

struct blk_slot {
	struct blk_io io;
	struct blk_req req;
	uint16_t head;
	struct blk_slot *next_free;
};

struct vblk {
	struct vdev *v;
	int fd, dfd;
	struct blk_limits lim;
	char serial[VIRTIO_BLK_ID_BYTES];
	bool use_io_uring;
	struct blk_engine *eng;
	pthread_t thread;
	bool running;
	int stop_fd;
	struct blk_slot *slots, *free;
	unsigned inflight;
	struct blk_stats stats;
};

static void finish(struct vblk *b, struct blk_slot *s, uint8_t status)
{
	*s->req.status = status;
	virtq_push(&b->v->q[0], s->head, status == VIRTIO_BLK_S_OK ? s->req.used_len : 1);
	s->next_free = b->free;
	b->free = s;
	b->stats.completed++;
}

static void on_done(void *ctx, struct blk_io *io, int res)
{
	struct vblk *b = ctx;
	struct blk_slot *s = io->tag;
	b->inflight--;
	if (!b->v) {   /* draining after a reset: the ring is gone */
		s->next_free = b->free;
		b->free = s;
		return;
	}
	finish(b, s, res < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
}

static const enum blk_op op_of[] = {
	[VIRTIO_BLK_T_IN] = BLK_OP_READ, [VIRTIO_BLK_T_OUT] = BLK_OP_WRITE,
	[VIRTIO_BLK_T_FLUSH] = BLK_OP_FLUSH, [VIRTIO_BLK_T_DISCARD] = BLK_OP_DISCARD,
	[VIRTIO_BLK_T_WRITE_ZEROES] = BLK_OP_WRITE_ZEROES,
};

/* A parsed request to the engine, or answered at once. */
static void dispatch(struct vblk *b, struct blk_slot *s, int st)
{
	struct blk_req *r = &s->req;
	if (st != VIRTIO_BLK_S_OK || r->type == VIRTIO_BLK_T_GET_ID) {
		finish(b, s, (uint8_t)st);
		return;
	}
	s->io = (struct blk_io){
		.op = op_of[r->type], .iov = r->iov, .iovcnt = r->iovcnt,
		.off = r->sector * VIRTIO_BLK_SECTOR, .len = r->len, .unmap = r->unmap, .tag = s,
	};
	if (b->eng->ops->submit(b->eng, &s->io) < 0) {
		finish(b, s, VIRTIO_BLK_S_IOERR);
		return;
	}
	b->inflight++;
	b->stats.submitted++;
}

/* Take chains while slots are free; false when the queue broke. */
static bool take_requests(struct vblk *b)
{
	struct virtq *q = &b->v->q[0];
	struct virtq_chain c;
	while (b->free) {
		int r = virtq_pop(q, &c);
		if (r < 0) {
			vdev_fail(b->v);
			return false;
		}
		if (r == 0)
			break;
		struct blk_slot *s = b->free;
		b->free = s->next_free;
		s->head = c.head;
		int st = blk_req_parse(&c, &b->lim, b->serial, &s->req);
		if (st < 0) {   /* no status byte: give the chain back empty */
			virtq_push(q, c.head, 0);
			s->next_free = b->free;
			b->free = s;
			continue;
		}
		dispatch(b, s, st);
	}
	return true;
}

static void process_queue(struct vblk *b)
{
	struct virtq *q = &b->v->q[0];
	if (!q->ready || !q->desc || q->broken)
		return;
	do {
		virtq_disable_notify(q);
		if (!take_requests(b))
			return;
		b->eng->ops->commit(b->eng);
	} while (b->free && virtq_enable_notify(q));
	/* out of slots: completions call us again, notifications stay off */
}

static void publish(struct vblk *b)
{
	struct virtq *q = &b->v->q[0];
	if (q->desc && virtq_publish(q)) {
		vdev_signal(b->v);
		b->stats.irqs++;
	}
}

/* One read empties an eventfd (its whole counter). */
static void drain_fd(int fd)
{
	uint64_t junk;
	if (read(fd, &junk, sizeof(junk)) < 0) {
		/* EAGAIN: already empty */
	}
}

static void *blk_thread(void *arg)
{
	struct vblk *b = arg;
	vdev_thread_init(b->v);
	struct pollfd p[3] = {
		{ .fd = b->stop_fd, .events = POLLIN },
		{ .fd = b->v->kick[0], .events = POLLIN },
		{ .fd = b->eng->notify_fd, .events = POLLIN },
	};
	process_queue(b);
	publish(b);
	for (;;) {
		if (poll(p, 3, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		if (p[2].revents) {
			b->eng->ops->reap(b->eng, on_done, b);
			b->stats.reaps++;
		}
		if (p[1].revents) {
			drain_fd(p[1].fd);
			b->stats.kicks++;
		}
		process_queue(b);   /* new chains, or slots freed by completions */
		publish(b);
	}
	return NULL;
}

/* After a reset, wait for in-flight requests: they still point into guest
 * memory and must not land in a ring the guest may be rebuilding. */
static void drain_inflight(struct vblk *b)
{
	b->v = NULL;
	while (b->inflight) {
		struct pollfd p = { .fd = b->eng->notify_fd, .events = POLLIN };
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			break;
		b->eng->ops->reap(b->eng, on_done, b);
	}
}

static void init_slots(struct vblk *b)
{
	b->free = NULL;
	for (unsigned i = 0; i < VIRTQ_MAX_SIZE; i++) {
		b->slots[i].next_free = b->free;
		b->free = &b->slots[i];
	}
	b->inflight = 0;
}

static int blk_start(void *dev, struct vdev *v)
{
	struct vblk *b = dev;
	b->v = v;
	init_slots(b);
	drain_fd(b->stop_fd);
	int r = pthread_create(&b->thread, NULL, blk_thread, b);
	if (r)
		return -r;
	b->running = true;
	return 0;
}

static void blk_stop(void *dev)
{
	struct vblk *b = dev;
	uint64_t one = 1;
	if (!b->running)
		return;
	if (write(b->stop_fd, &one, sizeof(one)) < 0) {
		/* a fresh counter cannot overflow */
	}
	pthread_join(b->thread, NULL);
	b->running = false;
	drain_inflight(b);
}

static void blk_destroy(void *dev)
{
	struct vblk *b = dev;
	if (!b)
		return;
	blk_stop(b);
	blk_engine_destroy(b->eng);
	if (b->fd >= 0)
		close(b->fd);
	if (b->dfd >= 0)
		close(b->dfd);
	if (b->stop_fd >= 0)
		close(b->stop_fd);
	free(b->slots);
	free(b);
}

/* struct virtio_blk_config, little-endian, the fields we fill */
static void blk_config_read(void *dev, uint64_t off, void *data, unsigned len)
{
	struct vblk *b = dev;
	uint8_t cfg[64] = { 0 };
	uint64_t cap = htole64(b->lim.capacity);
	uint32_t seg_max = htole32(BLK_SEG_MAX), blk_size = htole32(VIRTIO_BLK_SECTOR);
	uint32_t max_sectors = htole32(BLK_MAX_DISCARD_SECTORS), one = htole32(1);

	memcpy(cfg + 0, &cap, 8);
	memcpy(cfg + 12, &seg_max, 4);
	memcpy(cfg + 20, &blk_size, 4);
	memcpy(cfg + 36, &max_sectors, 4);   /* max_discard_sectors */
	memcpy(cfg + 40, &one, 4);           /* max_discard_seg */
	memcpy(cfg + 44, &one, 4);           /* discard_sector_alignment */
	memcpy(cfg + 48, &max_sectors, 4);   /* max_write_zeroes_sectors */
	memcpy(cfg + 52, &one, 4);           /* max_write_zeroes_seg */
	cfg[56] = 1;                         /* write_zeroes_may_unmap */
	if (off < sizeof(cfg))
		memcpy(data, cfg + off, len < sizeof(cfg) - off ? len : sizeof(cfg) - off);
}

#define RING_FEATURES ((1ull << VIRTIO_F_EVENT_IDX) | (1ull << VIRTIO_F_INDIRECT_DESC))
#define BLK_FEATURES (RING_FEATURES | (1ull << VIRTIO_BLK_F_SEG_MAX) | \
		      (1ull << VIRTIO_BLK_F_BLK_SIZE) | (1ull << VIRTIO_BLK_F_FLUSH))

static const struct vdev_ops blk_rw_ops = {
	.device_id = 2,
	.features = BLK_FEATURES | (1ull << VIRTIO_BLK_F_DISCARD) | (1ull << VIRTIO_BLK_F_WRITE_ZEROES),
	.nqueues = 1,
	.config_read = blk_config_read,
	.start = blk_start, .stop = blk_stop, .destroy = blk_destroy,
};
static const struct vdev_ops blk_ro_ops = {
	.device_id = 2,
	.features = BLK_FEATURES | (1ull << VIRTIO_BLK_F_RO),
	.nqueues = 1,
	.config_read = blk_config_read,
	.start = blk_start, .stop = blk_stop, .destroy = blk_destroy,
};

static int open_backing(struct vblk *b, const struct virtio_blk_opts *o)
{
	int flags = (o->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	struct stat st;
	uint64_t size;

	b->fd = open(o->path, flags);
	if (b->fd < 0)
		return -errno;
	b->dfd = open(o->path, flags | O_DIRECT);   /* -1: buffered only */
	if (fstat(b->fd, &st) < 0)
		return -errno;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(b->fd, BLKGETSIZE64, &size) < 0)
			return -errno;
	} else if (S_ISREG(st.st_mode)) {
		size = (uint64_t)st.st_size;
	} else {
		return -EINVAL;
	}
	b->lim.capacity = size / VIRTIO_BLK_SECTOR;
	b->lim.readonly = o->readonly;
	b->lim.discard = !o->readonly;
	return 0;
}

static int blk_setup(struct vblk *b, const struct virtio_blk_opts *o)
{
	if (!o || !o->path || (o->serial && strlen(o->serial) > VIRTIO_BLK_ID_BYTES))
		return -EINVAL;
	int r = open_backing(b, o);
	if (r < 0)
		return r;
	if (o->serial)
		memcpy(b->serial, o->serial, strlen(o->serial));
	b->slots = calloc(VIRTQ_MAX_SIZE, sizeof(*b->slots));
	b->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!b->slots || b->stop_fd < 0)
		return -ENOMEM;
	r = -ENOSYS;
	if (o->use_io_uring)
		r = blk_engine_uring_new(b->fd, b->dfd, VIRTQ_MAX_SIZE, &b->eng);
	if (r < 0)   /* no io_uring here: the synchronous engine serves */
		r = blk_engine_sync_new(b->fd, VIRTQ_MAX_SIZE, &b->eng);
	return r;
}

int virtio_blk_create(const struct virtio_host *host, uint64_t base,
		      const struct virtio_blk_opts *opts, struct virtio_mmio **ret)
{
	struct vblk *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->fd = b->dfd = b->stop_fd = -1;
	int r = blk_setup(b, opts);
	if (r == 0)
		r = virtio_mmio_new(host, base, opts->readonly ? &blk_ro_ops : &blk_rw_ops, b, ret);
	if (r < 0)
		blk_destroy(b);
	return r;
}

static struct vblk *blk_of(struct virtio_mmio *m)
{
	return virtio_mmio_device(m, 2);
}

int virtio_blk_stats(struct virtio_mmio *m, struct blk_stats *ret)
{
	struct vblk *b = blk_of(m);
	if (!b)
		return -EINVAL;
	*ret = b->stats;
	ret->engine = b->eng->name;
	ret->capacity = b->lim.capacity;
	ret->direct = b->dfd >= 0;
	return 0;
}
