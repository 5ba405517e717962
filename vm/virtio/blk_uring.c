/* The io_uring engine: requests become readv/writev/fsync/fallocate SQEs with
 * the request as user_data, pushed with one io_uring_submit per batch;
 * completions are announced on a registered eventfd.  O_DIRECT is used for
 * requests aligned to 512 bytes when the file could be opened so, and a
 * request the kernel refuses with -EINVAL there is retried buffered. Short
 * transfers and -EAGAIN are requeued. */
#include "vm/virtio/blk_engine.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define DIO_ALIGN 512u

struct uring_engine {
	struct blk_engine e;
	struct io_uring ring;
	bool ring_ok;
	int fd, dfd;
	unsigned queued;
};

static bool dio_aligned(const struct blk_io *io)
{
	if ((io->off + io->done) % DIO_ALIGN)
		return false;
	for (int i = 0; i < io->iovcnt; i++)
		if ((uintptr_t)io->iov[i].iov_base % DIO_ALIGN || io->iov[i].iov_len % DIO_ALIGN)
			return false;
	return true;
}

static void prep(struct uring_engine *u, struct io_uring_sqe *sqe, struct blk_io *io)
{
	int fd = u->dfd >= 0 && !io->buffered && dio_aligned(io) ? u->dfd : u->fd;
	off_t off = (off_t)(io->off + io->done);

	switch (io->op) {
	case BLK_OP_READ:
		io_uring_prep_readv(sqe, fd, io->iov, (unsigned)io->iovcnt, off);
		break;
	case BLK_OP_WRITE:
		io_uring_prep_writev(sqe, fd, io->iov, (unsigned)io->iovcnt, off);
		break;
	case BLK_OP_FLUSH:
		io_uring_prep_fsync(sqe, u->fd, IORING_FSYNC_DATASYNC);
		break;
	case BLK_OP_DISCARD:
	case BLK_OP_WRITE_ZEROES: {
		int mode = io->op == BLK_OP_DISCARD || io->unmap
			? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
			: FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
		io_uring_prep_fallocate(sqe, u->fd, mode, (off_t)io->off, (off_t)io->len);
		break;
	}
	}
	io_uring_sqe_set_data(sqe, io);
}

static int uring_queue(struct uring_engine *u, struct blk_io *io)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
	if (!sqe) {
		int r = io_uring_submit(&u->ring);
		if (r < 0)
			return r;
		u->queued = 0;
		sqe = io_uring_get_sqe(&u->ring);
		if (!sqe)
			return -EBUSY;
	}
	prep(u, sqe, io);
	u->queued++;
	return 0;
}

static int uring_submit(struct blk_engine *e, struct blk_io *io)
{
	io->done = 0;
	io->buffered = false;
	return uring_queue((struct uring_engine *)e, io);
}

static int uring_commit(struct blk_engine *e)
{
	struct uring_engine *u = (struct uring_engine *)e;
	if (!u->queued)
		return 0;
	int r = io_uring_submit(&u->ring);
	if (r >= 0)
		u->queued = 0;
	return r < 0 ? r : 0;
}

/* One completion: 1 when the request is finished (*res set), 0 if requeued. */
static int uring_complete(struct uring_engine *u, struct blk_io *io, int cres, int *res)
{
	bool rw = io->op == BLK_OP_READ || io->op == BLK_OP_WRITE;
	if (cres == -EAGAIN || cres == -EINTR ||
	    (cres == -EINVAL && rw && u->dfd >= 0 && !io->buffered && (io->buffered = true))) {
		*res = uring_queue(u, io);
		return *res < 0;
	}
	if (cres < 0 || !rw) {
		*res = cres < 0 ? cres : 0;
		return 1;
	}
	if (cres == 0) {   /* EOF inside the capacity: the file shrank */
		*res = -EIO;
		return 1;
	}
	io->done += (uint64_t)cres;
	if (io->done < io->len) {   /* short transfer: the rest again */
		blk_iov_advance(&io->iov, &io->iovcnt, (uint64_t)cres);
		*res = uring_queue(u, io);
		return *res < 0;
	}
	*res = 0;
	return 1;
}

static int uring_reap(struct blk_engine *e, blk_done_fn done, void *ctx)
{
	struct uring_engine *u = (struct uring_engine *)e;
	struct io_uring_cqe *cqe;
	uint64_t junk;
	int n = 0;

	if (read(e->notify_fd, &junk, sizeof(junk)) < 0 && errno != EAGAIN)
		return -errno;
	while (io_uring_peek_cqe(&u->ring, &cqe) == 0) {
		struct blk_io *io = io_uring_cqe_get_data(cqe);
		int cres = cqe->res, res;
		io_uring_cqe_seen(&u->ring, cqe);
		if (uring_complete(u, io, cres, &res)) {
			done(ctx, io, res);
			n++;
		}
	}
	int r = uring_commit(e);
	return r < 0 ? r : n;
}

static void uring_destroy(struct blk_engine *e)
{
	struct uring_engine *u = (struct uring_engine *)e;
	if (!u)
		return;
	if (u->ring_ok)
		io_uring_queue_exit(&u->ring);
	if (e->notify_fd >= 0)
		close(e->notify_fd);
	free(u);
}

static const struct blk_engine_ops uring_ops = {
	.submit = uring_submit, .commit = uring_commit, .reap = uring_reap, .destroy = uring_destroy,
};

int blk_engine_uring_new(int fd, int dfd, unsigned depth, struct blk_engine **ret)
{
	struct uring_engine *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->e.ops = &uring_ops;
	u->e.name = "io_uring";
	u->fd = fd;
	u->dfd = dfd;
	u->e.notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	int r = u->e.notify_fd < 0 ? -errno : io_uring_queue_init(depth, &u->ring, 0);
	if (r == 0) {
		u->ring_ok = true;
		r = io_uring_register_eventfd(&u->ring, u->e.notify_fd);
	}
	if (r < 0) {
		uring_destroy(&u->e);
		return r;
	}
	*ret = &u->e;
	return 0;
}
