/* bench_blk FILE MODE WORKLOAD SECONDS [MAXREQ]
 *   MODE      raw (our own io_uring loop, O_DIRECT) | dev (the virtio-blk
 *             device model with the io_uring engine, driven by the fake
 *             driver: descriptors in a guest-memory region, kicks through
 *             the queue eventfd, completions through the irqfd) | devsync
 *             (same, synchronous engine)
 *   WORKLOAD  qd1 | qd32 (4 KiB random reads) | seq (1 MiB sequential reads, QD1)
 * Prints one line: "<mode> <workload> iops=<n> mib_s=<n> reqs=<n>". */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/vm/virtio/drv.h"
#include "vm/virtio/blk.h"

struct wl {
	unsigned qd;
	uint32_t bs;
	bool seq;
	uint64_t size, next, rng;
};

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static uint64_t next_off(struct wl *w)
{
	if (w->seq) {
		uint64_t o = w->next;
		w->next = (w->next + w->bs) % w->size;
		return o;
	}
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return (w->rng % (w->size / w->bs)) * w->bs;
}

static long run_raw(const char *path, struct wl *w, double secs, long maxreq)
{
	int fd = open(path, O_RDONLY | O_DIRECT);
	struct io_uring ring;
	if (fd < 0 || io_uring_queue_init(64, &ring, 0) < 0)
		return -1;
	uint8_t *bufs;
	if (posix_memalign((void **)&bufs, 4096, (size_t)w->qd * w->bs))
		return -1;
	struct iovec iov[64];
	for (unsigned i = 0; i < w->qd; i++) {
		iov[i] = (struct iovec){ bufs + (size_t)i * w->bs, w->bs };
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
		io_uring_prep_readv(sqe, fd, &iov[i], 1, (off_t)next_off(w));
		io_uring_sqe_set_data(sqe, &iov[i]);
	}
	long done = 0;
	double end = now() + secs;
	io_uring_submit(&ring);
	while (now() < end && (maxreq <= 0 || done < maxreq)) {
		struct io_uring_cqe *cqe;
		if (io_uring_wait_cqe(&ring, &cqe) < 0)
			return -1;
		unsigned n = 0;
		do {
			struct iovec *v = io_uring_cqe_get_data(cqe);
			if (cqe->res != (int)w->bs)
				return -1;
			io_uring_cqe_seen(&ring, cqe);
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
			io_uring_prep_readv(sqe, fd, v, 1, (off_t)next_off(w));
			io_uring_sqe_set_data(sqe, v);
			n++;
		} while (io_uring_peek_cqe(&ring, &cqe) == 0);
		done += n;
		io_uring_submit(&ring);
	}
	io_uring_queue_exit(&ring);
	close(fd);
	free(bufs);
	return done;
}

struct slot {
	uint64_t hdr, buf, st;
};

static void post(struct drv *d, struct slot *s, struct wl *w, struct slot **by_head)
{
	uint8_t *h = drv_ptr(d, s->hdr);
	uint32_t type = VIRTIO_BLK_T_IN;
	uint64_t sector = next_off(w) / 512;
	memcpy(h, &type, 4);
	memcpy(h + 8, &sector, 8);
	struct drv_seg seg[3] = { { s->hdr, 16, false }, { s->buf, w->bs, true }, { s->st, 1, true } };
	by_head[drv_add(d, 0, seg, 3, false)] = s;
}

static long run_dev(const char *path, struct wl *w, bool uring, double secs, long maxreq)
{
	static struct drv d;
	static struct slot slots[64], *by_head[256];
	if (drv_init(&d, 64ull << 20) < 0)
		return -1;
	struct virtio_blk_opts o = { .path = path, .readonly = true, .use_io_uring = uring };
	if (virtio_blk_create(&d.host, 0xd0000000, &o, &d.m) < 0)
		return -1;
	if (drv_setup(&d, ~0ull, 1, 256) != 0xf)
		return -1;
	for (unsigned i = 0; i < w->qd; i++) {
		slots[i].hdr = drv_alloc(&d, 16, 16);
		slots[i].st = drv_alloc(&d, 1, 1);
		slots[i].buf = drv_alloc(&d, w->bs, 4096);
		post(&d, &slots[i], w, by_head);
	}
	drv_kick(&d, 0);
	long done = 0;
	double end = now() + secs;
	while (now() < end && (maxreq <= 0 || done < maxreq)) {
		struct pollfd p = { .fd = d.host.irqfd, .events = POLLIN };
		uint64_t junk;
		if (poll(&p, 1, 1000) <= 0 || read(d.host.irqfd, &junk, 8) < 0)
			return -1;
		uint32_t id, len;
		unsigned n = 0;
		while (drv_used(&d, 0, &id, &len)) {
			struct slot *s = by_head[id];
			if (*(uint8_t *)drv_ptr(&d, s->st) != 0 || len != w->bs + 1)
				return -1;
			post(&d, s, w, by_head);
			n++;
		}
		if (n)
			drv_kick(&d, 0);
		done += n;
	}
	struct blk_stats st;
	virtio_blk_stats(d.m, &st);
	fprintf(stderr, "# dev: engine %s%s, per request: %.2f guest kicks (%.2f suppressed), "
		"%.2f device wakeups on a kick, %.2f interrupts\n", st.engine,
		st.direct ? " (O_DIRECT)" : "", (double)d.q[0].kicks / done,
		(double)d.q[0].kicks_suppressed / done, (double)st.kicks / done, (double)st.irqs / done);
	drv_fini(&d);
	return done;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: bench_blk FILE raw|dev|devsync qd1|qd32|seq SECONDS [MAXREQ]\n");
		return 2;
	}
	struct stat st;
	if (stat(argv[1], &st) < 0) {
		perror(argv[1]);
		return 1;
	}
	struct wl w = { .qd = 1, .bs = 4096, .size = (uint64_t)st.st_size, .rng = 0x9e3779b97f4a7c15ull };
	if (!strcmp(argv[3], "qd32"))
		w.qd = 32;
	else if (!strcmp(argv[3], "seq"))
		w = (struct wl){ .qd = 1, .bs = 1 << 20, .seq = true, .size = w.size };
	double secs = atof(argv[4]);
	long maxreq = argc > 5 ? atol(argv[5]) : 0;
	double t0 = now();
	long n = !strcmp(argv[2], "raw") ? run_raw(argv[1], &w, secs, maxreq)
					 : run_dev(argv[1], &w, !strcmp(argv[2], "dev"), secs, maxreq);
	double t = now() - t0;
	if (n < 0) {
		fprintf(stderr, "bench_blk: %s %s failed\n", argv[2], argv[3]);
		return 1;
	}
	printf("%s %s iops=%.0f mib_s=%.1f reqs=%ld\n", argv[2], argv[3], n / t,
	       n / t * w.bs / 1048576.0, n);
	return 0;
}
