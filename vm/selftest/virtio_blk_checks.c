/* virtio-blk checks of the guest self-test, against the disks made by
 * tests/vm/virtio/selftest_disks.sh:
 *   serial "ocivm-st-rw": read-write; sector s (< ST_PATTERN_SECTORS) holds
 *     the byte (s + 1) & 0xff;  the guest writes (0xa0 + s) & 0xff into
 *     sectors 8..15, discards 16..23, zeroes 24..31 (the host verifies);
 *   serial "ocivm-st-ro": read-only, same pattern; writes must fail.
 * With no virtio-blk device at all, the checks say so and are skipped. */
#include "virtio_drv.h"

#define T_IN 0u
#define T_OUT 1u
#define T_FLUSH 4u
#define T_GET_ID 8u
#define T_DISCARD 11u
#define T_WRITE_ZEROES 13u
#define S_OK 0u
#define S_IOERR 1u
#define F_RO (1ull << 5)
#define F_FLUSH (1ull << 9)
#define F_DISCARD (1ull << 13)
#define F_WZ (1ull << 14)
#define WANT (STV_F_VERSION_1 | STV_F_EVENT_IDX | STV_F_INDIRECT | (1ull << 2) | (1ull << 6) | \
	      F_RO | F_FLUSH | F_DISCARD | F_WZ)
#define TIMEOUT_MS 5000

struct req_hdr {
	uint32_t type, reserved;
	uint64_t sector;
};

struct blkdev {
	struct stv_dev d;
	char serial[21];
	uint64_t capacity;
};

static struct {
	struct req_hdr hdr;
	uint8_t status;
	uint8_t pad[7];
	struct { uint64_t sector; uint32_t n, flags; } range;
} *io;
static uint8_t *buf;   /* 8 pages */

/* One request; returns the status byte, or 0xff when it never came back. */
static uint8_t request(struct blkdev *b, uint32_t type, uint64_t sector, void *data,
		       uint32_t len, bool indirect)
{
	io->hdr = (struct req_hdr){ type, 0, sector };
	io->status = 0xff;
	struct stv_seg s[3] = { { &io->hdr, 16, 0 }, { data, len, type == T_IN || type == T_GET_ID },
				{ &io->status, 1, 1 } };
	if (len) {
		stv_post(&b->d, 0, s, 3, indirect);
	} else {
		s[1] = s[2];
		stv_post(&b->d, 0, s, 2, indirect);
	}
	uint32_t used;
	return stv_wait(&b->d, 0, &used, TIMEOUT_MS) ? io->status : 0xff;
}

static uint8_t range_req(struct blkdev *b, uint32_t type, uint64_t sector, uint32_t n)
{
	io->range.sector = sector;
	io->range.n = n;
	io->range.flags = 0;
	return request(b, type, 0, &io->range, 16, false);
}

static bool sectors_are(const uint8_t *p, uint64_t first, unsigned n, int base)
{
	for (unsigned s = 0; s < n; s++) {
		uint8_t want = base < 0 ? 0 : (uint8_t)(base + first + s);
		for (unsigned i = 0; i < 512; i++)
			if (p[512 * s + i] != want)
				return false;
	}
	return true;
}

static int open_disks(const struct st_env *env, struct blkdev *rw, struct blkdev *ro)
{
	static struct blkdev all[ST_MAX_VIRTIO];
	int n = 0;
	for (unsigned i = 0; i < env->n_virtio; i++) {
		uint32_t id;
		struct blkdev *b = &all[n];
		if (!stv_probe(env->virtio[i].base, &id) || id != 2)
			continue;
		n++;
		int r = stv_init(&b->d, env->virtio[i].base, env->virtio[i].gsi, WANT, 1);
		st_check("virtio.blk.features", r == 0, "disk at 0x%llx: offered 0x%llx accepted 0x%llx (step %d)",
			 (unsigned long long)b->d.base, (unsigned long long)b->d.offered,
			 (unsigned long long)b->d.features, r);
		if (r < 0)
			continue;
		b->capacity = stv_cfg64(&b->d, 0);
		memset(buf, 0, 20);
		request(b, T_GET_ID, 0, buf, 20, false);
		memcpy(b->serial, buf, 20);
		b->serial[20] = 0;
		if (!strcmp(b->serial, "ocivm-st-rw"))
			*rw = *b;
		if (!strcmp(b->serial, "ocivm-st-ro"))
			*ro = *b;
	}
	return n;
}

/* Interrupts arrive through the IOAPIC, and only when EVENT_IDX asks. */
static void irq_checks(struct blkdev *b)
{
	uint32_t gsi = b->d.gsi;
	uint64_t i0 = st_irq_count(gsi);
	uint8_t st = request(b, T_IN, 0, buf, 512, false);
	/* the used ring can be seen before the interrupt lands: wait for it */
	bool got = st_irq_wait(gsi, i0 + 1, 1000);
	st_check("virtio.blk.irq", st == S_OK && got, "gsi %u: %llu interrupts",
		 gsi, (unsigned long long)(st_irq_count(gsi) - i0));
	if (!(b->d.features & STV_F_EVENT_IDX))
		return;
	b->d.q[0].event_ahead = 8;   /* used_event far ahead: no interrupt wanted */
	/* let any late interrupt of the last request land before counting */
	(void)st_irq_wait(gsi, st_irq_count(gsi) + 1, 20);
	uint64_t i1 = st_irq_count(gsi);
	st = request(b, T_IN, 0, buf, 512, false);
	bool quiet = !st_irq_wait(gsi, i1 + 1, 50);
	b->d.q[0].event_ahead = 0;
	st_check("virtio.blk.event_idx", st == S_OK && quiet,
		 "no interrupt while used_event is ahead (%llu taken)",
		 (unsigned long long)(st_irq_count(gsi) - i1));
}

static void rw_checks(struct blkdev *b)
{
	irq_checks(b);
	uint8_t st = request(b, T_IN, 0, buf, 8 * 512, false);
	st_check("virtio.blk.read", st == S_OK && sectors_are(buf, 0, 8, 1),
		 "sectors 0-7: status %u, pattern %s", st, sectors_are(buf, 0, 8, 1) ? "ok" : "wrong");
	for (unsigned s = 0; s < 8; s++)
		memset(buf + 512 * s, 0xa0 + 8 + s, 512);
	st = request(b, T_OUT, 8, buf, 8 * 512, true);   /* through an indirect table */
	memset(buf, 0, 8 * 512);
	uint8_t st2 = request(b, T_IN, 8, buf, 8 * 512, false);
	st_check("virtio.blk.write", st == S_OK && st2 == S_OK && sectors_are(buf, 8, 8, 0xa0),
		 "sectors 8-15: write %u, read back %u", st, st2);
	st = request(b, T_FLUSH, 0, NULL, 0, false);
	st_check("virtio.blk.flush", st == S_OK, "status %u", st);
	st = range_req(b, T_DISCARD, 16, 8);
	st2 = request(b, T_IN, 16, buf, 8 * 512, false);
	st_check("virtio.blk.discard", st == S_OK && st2 == S_OK && sectors_are(buf, 16, 8, -1),
		 "sectors 16-23: status %u, reads back zero", st);
	st = range_req(b, T_WRITE_ZEROES, 24, 8);
	st2 = request(b, T_IN, 24, buf, 8 * 512, false);
	st_check("virtio.blk.write_zeroes", st == S_OK && st2 == S_OK && sectors_are(buf, 24, 8, -1),
		 "sectors 24-31: status %u", st);
	st = request(b, T_IN, b->capacity, buf, 512, false);
	st_check("virtio.blk.out_of_range", st == S_IOERR,
		 "read at sector %llu (capacity): status %u", (unsigned long long)b->capacity, st);
	st = request(b, T_FLUSH, 0, NULL, 0, false);
	st_check("virtio.blk.alive", st == S_OK && !(stv_status(&b->d) & 0x40),
		 "device still serves after the errors (status 0x%x)", stv_status(&b->d));
}

static void ro_checks(struct blkdev *b)
{
	st_check("virtio.blk.ro.feature", b->d.offered & F_RO, "VIRTIO_BLK_F_RO %s",
		 b->d.offered & F_RO ? "offered" : "missing");
	memset(buf, 0x77, 512);
	uint8_t st = request(b, T_OUT, 1, buf, 512, false);
	st_check("virtio.blk.ro.write", st == S_IOERR, "write refused with status %u", st);
	st = request(b, T_IN, 0, buf, 4 * 512, false);
	st_check("virtio.blk.ro.read", st == S_OK && sectors_are(buf, 0, 4, 1), "status %u", st);
}

void stv_blk_checks(const struct st_env *env)
{
	static struct blkdev rw, ro;
	io = st_alloc_pages(1);
	buf = st_alloc_pages(8);
	if (!io || !buf) {
		st_check("virtio.blk.memory", false, "no pages");
		return;
	}
	int n = open_disks(env, &rw, &ro);
	if (n == 0) {
		st_printf("# no virtio-blk devices: blk checks skipped\n");
		return;
	}
	bool found = rw.d.base && ro.d.base;
	st_check("virtio.blk.get_id", found, "%d disks; serials ocivm-st-rw %s, ocivm-st-ro %s", n,
		 rw.d.base ? "found" : "missing", ro.d.base ? "found" : "missing");
	if (rw.d.base)
		rw_checks(&rw);
	if (ro.d.base)
		ro_checks(&ro);
}
