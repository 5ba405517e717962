/* virtio-blk request parsing.  See blk_req.h.  The chain's segments are
 * already range-checked host pointers; here we check the request's shape:
 * header (16 readable bytes), data, status (the last writable byte). */
#include "vm/virtio/blk_req.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

struct blk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

struct blk_range {   /* DISCARD / WRITE_ZEROES segment */
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};
#define BLK_WZ_FLAG_UNMAP 1u

/* iovecs for `len` bytes of segments [first, end) starting `off` bytes in. */
static int collect(const struct virtq_chain *c, unsigned first, unsigned end,
		   uint64_t off, uint64_t len, struct blk_req *r)
{
	r->iovcnt = 0;
	for (unsigned i = first; i < end && len; i++) {
		const struct virtq_seg *s = &c->seg[i];
		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		uint64_t k = s->len - off < len ? s->len - off : len;
		if (r->iovcnt == BLK_SEG_MAX)
			return -E2BIG;
		r->iov[r->iovcnt++] = (struct iovec){ s->p + off, k };
		len -= k;
		off = 0;
	}
	return 0;
}

static bool in_range(const struct blk_limits *lim, uint64_t sector, uint64_t sectors)
{
	return sector <= lim->capacity && sectors <= lim->capacity - sector;
}

static int parse_rw(const struct virtq_chain *c, const struct blk_limits *lim,
		    struct blk_req *r)
{
	bool in = r->type == VIRTIO_BLK_T_IN;
	if (in ? c->read_len != 16 : c->write_len != 1)
		return VIRTIO_BLK_S_IOERR;
	if (!in && lim->readonly)
		return VIRTIO_BLK_S_IOERR;
	r->len = in ? c->write_len - 1 : c->read_len - 16;
	if (r->len % VIRTIO_BLK_SECTOR || r->len > BLK_MAX_REQ_BYTES ||
	    !in_range(lim, r->sector, r->len / VIRTIO_BLK_SECTOR))
		return VIRTIO_BLK_S_IOERR;
	int e = in ? collect(c, c->n_read, c->n, 0, r->len, r)
		   : collect(c, 0, c->n_read, 16, r->len, r);
	if (e < 0)
		return VIRTIO_BLK_S_IOERR;
	r->used_len = in ? (uint32_t)r->len + 1 : 1;
	return VIRTIO_BLK_S_OK;
}

static int parse_range(const struct virtq_chain *c, const struct blk_limits *lim,
		       struct blk_req *r)
{
	struct blk_range g;
	if (!lim->discard)
		return VIRTIO_BLK_S_UNSUPP;
	if (lim->readonly)
		return VIRTIO_BLK_S_IOERR;
	if (c->read_len != 16 + sizeof(g))   /* max_discard_seg = 1 */
		return VIRTIO_BLK_S_UNSUPP;
	virtq_chain_read(c, 16, &g, sizeof(g));
	uint32_t flags = le32toh(g.flags);
	bool wz = r->type == VIRTIO_BLK_T_WRITE_ZEROES;
	if (flags & ~(wz ? BLK_WZ_FLAG_UNMAP : 0u))
		return VIRTIO_BLK_S_UNSUPP;
	r->sector = le64toh(g.sector);
	uint32_t n = le32toh(g.num_sectors);
	if (n > BLK_MAX_DISCARD_SECTORS || !in_range(lim, r->sector, n))
		return VIRTIO_BLK_S_IOERR;
	r->len = (uint64_t)n * VIRTIO_BLK_SECTOR;
	r->unmap = flags & BLK_WZ_FLAG_UNMAP;
	return VIRTIO_BLK_S_OK;
}

static int parse_get_id(const struct virtq_chain *c, const char *serial, struct blk_req *r)
{
	uint64_t room = c->write_len - 1;
	uint64_t n = room < VIRTIO_BLK_ID_BYTES ? room : VIRTIO_BLK_ID_BYTES;
	char id[VIRTIO_BLK_ID_BYTES] = { 0 };
	if (serial)
		strncpy(id, serial, sizeof(id));   /* no NUL when exactly 20: per spec */
	if (collect(c, c->n_read, c->n, 0, n, r) < 0)
		return VIRTIO_BLK_S_IOERR;
	size_t off = 0;
	for (int i = 0; i < r->iovcnt; i++) {
		memcpy(r->iov[i].iov_base, id + off, r->iov[i].iov_len);
		off += r->iov[i].iov_len;
	}
	r->iovcnt = 0;
	r->used_len = (uint32_t)n + 1;
	return VIRTIO_BLK_S_OK;
}

int blk_req_parse(const struct virtq_chain *c, const struct blk_limits *lim,
		  const char serial[VIRTIO_BLK_ID_BYTES], struct blk_req *r)
{
	if (c->n == 0 || c->write_len == 0 || !c->seg[c->n - 1].write)
		return -EINVAL;
	const struct virtq_seg *last = &c->seg[c->n - 1];
	r->status = last->p + last->len - 1;
	r->used_len = 1;
	r->iovcnt = 0;
	r->len = 0;
	r->unmap = false;
	struct blk_hdr h;
	if (c->read_len < sizeof(h))
		return VIRTIO_BLK_S_IOERR;
	virtq_chain_read(c, 0, &h, sizeof(h));
	r->type = le32toh(h.type);
	r->sector = le64toh(h.sector);
	switch (r->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		return parse_rw(c, lim, r);
	case VIRTIO_BLK_T_FLUSH:
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID:
		return parse_get_id(c, serial, r);
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return parse_range(c, lim, r);
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}
