/* libFuzzer target: a hostile guest's virtqueue and virtio-blk requests.
 * The input is guest RAM (desc table, avail ring, data) plus a few knobs;
 * every chain popped is parsed, and the parsed request's iovecs and status
 * byte are touched the way the engines would, so ASan sees any escape
 * from guest memory.  Build: make fuzz; run: see vm/virtio/README.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vm/virtio/blk_req.h"
#include "vm/virtio/virtq.h"

#define RAM 16384u
#define NUM 16u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	uint8_t knobs = data[0];
	uint8_t *ram = malloc(RAM);   /* exact size: ASan flags any overrun */
	memset(ram, 0, RAM);
	memcpy(ram, data + 4, size - 4 < RAM ? size - 4 : RAM);
	struct gmem mem = { .n = 1, .r = { { .gpa = 0, .size = RAM, .host = ram } } };
	struct virtq q = { .num = NUM, .ready = true, .desc_gpa = 0, .avail_gpa = 0x100,
			   .used_gpa = 0x200 };
	uint64_t feat = ((knobs & 1) ? 1ull << VIRTIO_F_INDIRECT_DESC : 0) |
			((knobs & 2) ? 1ull << VIRTIO_F_EVENT_IDX : 0);
	if (virtq_activate(&q, &mem, feat) < 0)
		abort();
	q.last_avail = (uint16_t)(data[1] | data[2] << 8);
	struct blk_limits lim = { .capacity = data[3], .readonly = knobs & 4, .discard = knobs & 8 };
	static struct virtq_chain c;
	static struct blk_req r;
	for (int i = 0; i < 64; i++) {
		int got = virtq_pop(&q, &c);
		if (got <= 0)
			break;
		int st = blk_req_parse(&c, &lim, "fuzz-serial", &r);
		if (st < 0) {
			virtq_push(&q, c.head, 0);
			continue;
		}
		volatile uint8_t sink = 0;
		for (int k = 0; k < r.iovcnt; k++) {
			uint8_t *p = r.iov[k].iov_base;
			if (r.type == VIRTIO_BLK_T_IN)
				memset(p, 0xab, r.iov[k].iov_len);
			else if (r.iov[k].iov_len)
				sink ^= p[0] ^ p[r.iov[k].iov_len - 1];
		}
		*r.status = (uint8_t)st;
		virtq_push(&q, c.head, r.used_len);
		(void)sink;
	}
	virtq_publish(&q);
	virtq_enable_notify(&q);
	free(ram);
	return 0;
}
