/* The synchronous engine: each request runs to completion inside submit()
 * (preadv/pwritev loops, fdatasync, fallocate) and is queued for reap(); the
 * notify eventfd says so.  Fallback where io_uring is unavailable, and the
 * baseline the benchmark compares against. */
#include "vm/virtio/blk_engine.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct sync_engine {
	struct blk_engine e;
	int fd;
	struct blk_io *head, *tail;   /* finished, not reaped */
};

void blk_iov_advance(struct iovec **iov, int *iovcnt, uint64_t n)
{
	while (n && *iovcnt) {
		if (n < (*iov)->iov_len) {
			(*iov)->iov_base = (char *)(*iov)->iov_base + n;
			(*iov)->iov_len -= n;
			return;
		}
		n -= (*iov)->iov_len;
		(*iov)++;
		(*iovcnt)--;
	}
}

static int sync_rw(int fd, struct blk_io *io)
{
	while (io->done < io->len) {
		ssize_t n = io->op == BLK_OP_READ
			? preadv(fd, io->iov, io->iovcnt, (off_t)(io->off + io->done))
			: pwritev(fd, io->iov, io->iovcnt, (off_t)(io->off + io->done));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;   /* the file shrank under us */
		io->done += (uint64_t)n;
		blk_iov_advance(&io->iov, &io->iovcnt, (uint64_t)n);
	}
	return 0;
}

static int sync_run(int fd, struct blk_io *io)
{
	switch (io->op) {
	case BLK_OP_READ:
	case BLK_OP_WRITE:
		return sync_rw(fd, io);
	case BLK_OP_FLUSH:
		return fdatasync(fd) < 0 ? -errno : 0;
	case BLK_OP_DISCARD:
	case BLK_OP_WRITE_ZEROES: {
		int mode = io->op == BLK_OP_DISCARD || io->unmap
			? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
			: FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
		return fallocate(fd, mode, (off_t)io->off, (off_t)io->len) < 0 ? -errno : 0;
	}
	}
	return -EINVAL;
}

static int sync_submit(struct blk_engine *e, struct blk_io *io)
{
	struct sync_engine *s = (struct sync_engine *)e;
	io->done = 0;
	int res = sync_run(s->fd, io);
	io->done = (uint64_t)(res < 0 ? res : 0);   /* reap reads the result here */
	io->next = NULL;
	if (s->tail)
		s->tail->next = io;
	else
		s->head = io;
	s->tail = io;
	return 0;
}

static int sync_commit(struct blk_engine *e)
{
	struct sync_engine *s = (struct sync_engine *)e;
	uint64_t one = 1;
	if (s->head && write(e->notify_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

static int sync_reap(struct blk_engine *e, blk_done_fn done, void *ctx)
{
	struct sync_engine *s = (struct sync_engine *)e;
	uint64_t junk;
	int n = 0;
	if (read(e->notify_fd, &junk, sizeof(junk)) < 0 && errno != EAGAIN)
		return -errno;
	while (s->head) {
		struct blk_io *io = s->head;
		s->head = io->next;
		if (!s->head)
			s->tail = NULL;
		done(ctx, io, (int)(int64_t)io->done);
		n++;
	}
	return n;
}

static void sync_destroy(struct blk_engine *e)
{
	if (!e)
		return;
	if (e->notify_fd >= 0)
		close(e->notify_fd);
	free(e);
}

static const struct blk_engine_ops sync_ops = {
	.submit = sync_submit, .commit = sync_commit, .reap = sync_reap, .destroy = sync_destroy,
};

int blk_engine_sync_new(int fd, unsigned depth, struct blk_engine **ret)
{
	struct sync_engine *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->e.ops = &sync_ops;
	s->e.name = "sync";
	s->fd = fd;
	s->e.notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->e.notify_fd < 0) {
		free(s);
		return -errno;
	}
	*ret = &s->e;
	return 0;
}
