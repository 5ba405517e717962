/* libFuzzer target: the virtio-mmio register model driven by a hostile
 * guest.  The input is a sequence of 9-byte accesses (op, offset, value)
 * against a transport whose device has no thread: start() pops and returns
 * every available chain on each queue (so activation with fuzzed ring
 * addresses and the virtqueue are exercised), stop() does nothing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vm/virtio/vdev.h"

#define RAM 65536u

static int fz_start(void *dev, struct vdev *v)
{
	static struct virtq_chain c;
	for (unsigned i = 0; i < v->nq; i++) {
		struct virtq *q = &v->q[i];
		if (!q->ready || !q->desc)
			continue;
		for (int k = 0; k < 8; k++) {
			int r = virtq_pop(q, &c);
			if (r < 0)
				vdev_fail(v);
			if (r <= 0)
				break;
			for (unsigned s = 0; s < c.n; s++)   /* touch like a device would */
				c.seg[s].p[c.seg[s].len - 1] ^= c.seg[s].write;
			virtq_push(q, c.head, (uint32_t)c.write_len);
		}
		if (virtq_publish(q))
			vdev_signal(v);
		virtq_enable_notify(q);
	}
	return 0;
}

static void fz_stop(void *dev) {}
static void fz_cfg(void *dev, uint64_t off, void *data, unsigned len)
{
	memset(data, 0x5a, len);
}

static const struct vdev_ops fz_ops = {
	.device_id = 42,
	.features = (1ull << VIRTIO_F_EVENT_IDX) | (1ull << VIRTIO_F_INDIRECT_DESC) | 0xffff,
	.nqueues = 2,
	.config_read = fz_cfg,
	.start = fz_start,
	.stop = fz_stop,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	if (!ram)
		ram = malloc(RAM);
	memset(ram, 0, RAM);
	/* the ring area is seeded from the input's tail, the accesses from its head */
	size_t nacc = size / 9 > 256 ? 256 : size / 9;
	size_t rest = size - nacc * 9;
	memcpy(ram, data + nacc * 9, rest < RAM ? rest : RAM);
	struct gmem mem = { .n = 1, .r = { { .gpa = 0x1000, .size = RAM, .host = ram } } };
	struct virtio_host host = { .mem = &mem, .irqfd = -1 };
	struct virtio_mmio *m;
	if (virtio_mmio_new(&host, 0, &fz_ops, NULL, &m) < 0)
		return 0;
	for (size_t i = 0; i < nacc; i++) {
		const uint8_t *a = data + 9 * i;
		uint64_t off;
		uint32_t val;
		memcpy(&off, a + 1, 4);
		off = (off & 0xffff) % (VIRTIO_MMIO_WINDOW + 8);
		memcpy(&val, a + 5, 4);
		unsigned len = 1u << (a[0] >> 6);   /* 1, 2, 4, 8 */
		uint64_t buf = val;
		if (a[0] & 1)
			virtio_mmio_write(m, off, &buf, len);
		else
			virtio_mmio_read(m, off, &buf, len);
	}
	virtio_mmio_destroy(m);
	return 0;
}
