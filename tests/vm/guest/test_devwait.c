/* ocivm-init's waits for its disks (vm/guest/disk.c) and NICs
 * (vm/guest/net.c, gnet_wait) on a fake clock and a fake /sys + /dev in a
 * temporary directory.  Under TCG on a loaded host (and in a VM restored
 * from a template, whose rootfs is probed again) a disk or NIC may come
 * long after the SPEC: init must still take it (it used to give up after
 * 5 s for a disk, 10 s for a NIC), saying every 5 s meanwhile which serial
 * or MAC it waits for and what it sees instead. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "vm/guest/disk.h"
#include "vm/guest/net.h"

struct fake {
	char root[64], block[128], dev[128], net[128];
	struct gdisk_where w;
	uint64_t now;             /* fake ms */
	uint64_t at;              /* the awaited device appears then (0: never) */
	void (*appear)(struct fake *f);
	int naps;
	char notes[64][1500];
	int n_notes;
};

static void put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void mkdirf(struct fake *f, const char *sub)
{
	char p[300];
	snprintf(p, sizeof(p), "%s/%s", f->root, sub);
	assert_true(mkdir(p, 0755) == 0 || errno == EEXIST);
}

/* /sys/block/NAME (serial: NULL for none; slot: the device link's
 * target, NULL for none) and, with node, /dev/NAME. */
static void add_disk(struct fake *f, const char *name, const char *serial, const char *slot, int node)
{
	char p[300];
	snprintf(p, sizeof(p), "block/%s", name);
	mkdirf(f, p);
	if (serial) {
		snprintf(p, sizeof(p), "%s/block/%s/serial", f->root, name);
		put(p, serial);
	}
	if (slot) {
		char link[300];
		snprintf(p, sizeof(p), "%s/block/%s/device", f->root, name);
		snprintf(link, sizeof(link), "../../devices/platform/virtio-mmio.0/%s", slot);
		assert_int_equal(symlink(link, p), 0);
	}
	if (node) {
		snprintf(p, sizeof(p), "%s/dev/%s", f->root, name);
		put(p, "");
	}
}

static void add_nic(struct fake *f, const char *name, const char *mac)
{
	char p[300];
	snprintf(p, sizeof(p), "net/%s", name);
	mkdirf(f, p);
	snprintf(p, sizeof(p), "%s/net/%s/address", f->root, name);
	put(p, mac);
}

static uint64_t fake_now(void *ctx) { return ((struct fake *)ctx)->now; }

static void fake_nap(void *ctx, unsigned ms)
{
	struct fake *f = ctx;
	f->now += ms;
	f->naps++;
	if (f->at && f->now >= f->at) {
		f->appear(f);
		f->at = 0;
	}
	assert_true(f->naps < 1000000);   /* the test's own bound */
}

static void fake_note(void *ctx, const char *msg)
{
	struct fake *f = ctx;
	if (f->n_notes < 64)
		snprintf(f->notes[f->n_notes++], sizeof(f->notes[0]), "%s", msg);
}

static void fake_init(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->root, sizeof(f->root), "/tmp/test_devwait.XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(f->block, sizeof(f->block), "%s/block", f->root);
	snprintf(f->dev, sizeof(f->dev), "%s/dev", f->root);
	snprintf(f->net, sizeof(f->net), "%s/net", f->root);
	mkdirf(f, "block");
	mkdirf(f, "dev");
	mkdirf(f, "net");
	f->w = (struct gdisk_where){ f->block, f->dev };
	f->now = 1000;
}

static void fake_free(struct fake *f)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	assert_int_equal(system(cmd), 0);
}

static void rootfs_appears(struct fake *f) { add_disk(f, "vdb", "rootfs", "virtio3", 1); }

/* The rootfs 25 s late (another disk there from the start): taken (the
 * old wait gave up after 5 s), a note every 5 s naming the serial and the
 * disks seen, then one naming the node. */
static void test_disk_late(void **state)
{
	static struct fake f;
	struct gchan_clock c = { fake_now, fake_nap, &f };
	char dev[64];

	fake_init(&f);
	add_disk(&f, "vda", "image", "virtio2", 1);
	f.at = 1000 + 25000;
	f.appear = rootfs_appears;
	assert_int_equal(gdisk_find(&f.w, &c, GCHAN_NOTE_EVERY_MS, "rootfs", "the rootfs", fake_note,
				    &f, dev, sizeof(dev)), 0);
	assert_true(f.now >= 26000);
	assert_true(strstr(dev, "/dev/vdb") != NULL);
	assert_int_equal(f.n_notes, 4 + 1);
	for (int i = 0; i < 4; i++) {
		char want[160];
		snprintf(want, sizeof(want), "waiting %d s for the rootfs, the virtio disk with serial "
			 "rootfs: disks: vda (virtio2) serial image", 5 * (i + 1));
		assert_non_null(strstr(f.notes[i], want));
	}
	assert_non_null(strstr(f.notes[4], "the rootfs: "));
	assert_non_null(strstr(f.notes[4], "/dev/vdb (serial rootfs) after 25"));
	fake_free(&f);
}

/* There at once: no nap, no note. */
static void test_disk_at_once(void **state)
{
	static struct fake f;
	struct gchan_clock c = { fake_now, fake_nap, &f };
	char dev[64];

	fake_init(&f);
	add_disk(&f, "vda", "rootfs", NULL, 1);
	assert_int_equal(gdisk_find(&f.w, &c, GCHAN_NOTE_EVERY_MS, "rootfs", "the rootfs", fake_note,
				    &f, dev, sizeof(dev)), 0);
	assert_int_equal(f.naps, 0);
	assert_int_equal(f.n_notes, 0);
	fake_free(&f);
}

/* What a look says: no disk at all; a disk without a serial; the right
 * serial but no /dev node yet. */
static void test_disk_reasons(void **state)
{
	static struct fake f;
	char dev[64], why[1024];

	fake_init(&f);
	assert_int_equal(gdisk_try(&f.w, "rootfs", dev, sizeof(dev), why, sizeof(why)), -ENODEV);
	assert_string_equal(why, "disks: none (is virtio_blk loaded?)");
	add_disk(&f, "vda", NULL, "virtio1", 0);
	add_disk(&f, "vdb", "rootfs", NULL, 0);
	assert_int_equal(gdisk_try(&f.w, "rootfs", dev, sizeof(dev), why, sizeof(why)), -ENODEV);
	assert_non_null(strstr(why, "vda (virtio1) without a serial"));
	assert_non_null(strstr(why, "vdb has it but "));
	assert_non_null(strstr(why, "/dev/vdb is not there yet"));
	assert_true(why[strlen(why) - 1] != ',');
	fake_free(&f);
}

static void nic_appears(struct fake *f) { add_nic(f, "eth0", "52:54:00:12:34:56\n"); }

/* The NIC 15 s late: taken (the old wait gave up after 10 s), a note
 * every 5 s naming the MAC and the interfaces seen. */
static void test_nic_late(void **state)
{
	static struct fake f;
	static struct gplan p;
	struct gchan_clock c = { fake_now, fake_nap, &f };
	char names[GPLAN_MAX_NICS][IFNAMSIZ];

	fake_init(&f);
	memset(&p, 0, sizeof(p));
	p.n_nics = 1;
	p.nics[0] = (struct gplan_nic){ { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 }, 1500, "eth0" };
	add_nic(&f, "lo", "00:00:00:00:00:00\n");
	f.at = 1000 + 15000;
	f.appear = nic_appears;
	assert_int_equal(gnet_wait(f.net, &c, GCHAN_NOTE_EVERY_MS, -1, &p, fake_note, &f, names), 0);
	assert_string_equal(names[0], "eth0");
	assert_true(f.now >= 16000);
	assert_int_equal(f.n_notes, 2 + 1);
	for (int i = 0; i < 2; i++) {
		char want[128];
		snprintf(want, sizeof(want), "waiting %d s for NIC 0 (eth0, MAC 52:54:00:12:34:56): "
			 "interfaces: lo 00:00:00:00:00:00", 5 * (i + 1));
		assert_non_null(strstr(f.notes[i], want));
	}
	assert_non_null(strstr(f.notes[2], "NIC 0 (eth0, MAC 52:54:00:12:34:56): eth0 after 15"));
	fake_free(&f);
}

/* Restored from a template: neither the NIC's MAC nor the template's
 * placeholder: the note says both. */
static void test_nic_restored_reason(void **state)
{
	static struct fake f;
	static struct gplan p;
	struct gchan_clock c = { fake_now, fake_nap, &f };
	char names[GPLAN_MAX_NICS][IFNAMSIZ];

	fake_init(&f);
	memset(&p, 0, sizeof(p));
	p.restored = 1;
	p.n_nics = 1;
	p.nics[0] = (struct gplan_nic){ { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 }, 1500, "eth0" };
	f.at = 1000 + 6000;
	f.appear = nic_appears;
	assert_int_equal(gnet_wait(f.net, &c, GCHAN_NOTE_EVERY_MS, -1, &p, fake_note, &f, names), 0);
	assert_int_equal(f.n_notes, 1 + 1);
	assert_non_null(strstr(f.notes[0], "waiting 5 s for NIC 0 (eth0, MAC 52:54:00:12:34:56): "
				"interfaces:; the template's NIC 0 (MAC 02:6f:63:76:74:00): not there either"));
	fake_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_disk_late),
		cmocka_unit_test(test_disk_at_once),
		cmocka_unit_test(test_disk_reasons),
		cmocka_unit_test(test_nic_late),
		cmocka_unit_test(test_nic_restored_reason),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
