/* Block I/O engines: the only thing the virtio-blk device knows about how
 * bytes reach the backing file (Firecracker / Cloud Hypervisor's split).
 *   notify_fd  becomes readable when completions wait to be reaped;
 *   submit     queues one request (the caller's struct, its tag rides along);
 *   commit     pushes the queued batch to the kernel (one syscall per kick);
 *   reap       calls done() for every finished request.
 * Two engines: io_uring (liburing) and a synchronous one (fallback, and the
 * measuring stick).  Neither knows about virtqueues. */
#ifndef OCIVM_BLK_ENGINE_H
#define OCIVM_BLK_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

enum blk_op { BLK_OP_READ, BLK_OP_WRITE, BLK_OP_FLUSH, BLK_OP_DISCARD, BLK_OP_WRITE_ZEROES };

struct blk_io {
	enum blk_op op;
	struct iovec *iov;   /* the engine may advance these on a short transfer */
	int iovcnt;
	uint64_t off, len;   /* bytes; for FLUSH unused */
	bool unmap;          /* WRITE_ZEROES may punch a hole */
	void *tag;           /* the caller's */
	/* engine-private */
	uint64_t done;
	bool buffered;       /* retried through the buffered fd */
	struct blk_io *next;
};

/* res: 0 on success (all len bytes moved), or -errno. */
typedef void (*blk_done_fn)(void *ctx, struct blk_io *io, int res);

struct blk_engine;
struct blk_engine_ops {
	int (*submit)(struct blk_engine *e, struct blk_io *io);  /* 0 / -errno */
	int (*commit)(struct blk_engine *e);
	int (*reap)(struct blk_engine *e, blk_done_fn done, void *ctx); /* count */
	void (*destroy)(struct blk_engine *e);
};
struct blk_engine {
	const struct blk_engine_ops *ops;
	int notify_fd;
	const char *name;
};

/* fd: the file opened buffered; dfd: the same file with O_DIRECT, or -1.
 * The engine uses dfd when a request is 512-aligned, and falls back to fd
 * when the kernel refuses it.  The fds stay the caller's. depth: max requests
 * in flight. */
int blk_engine_uring_new(int fd, int dfd, unsigned depth, struct blk_engine **ret);
int blk_engine_sync_new(int fd, unsigned depth, struct blk_engine **ret);

static inline void blk_engine_destroy(struct blk_engine *e)
{
	if (e)
		e->ops->destroy(e);
}

/* Shared by the engines: advance iov past n bytes. */
void blk_iov_advance(struct iovec **iov, int *iovcnt, uint64_t n);

#endif
