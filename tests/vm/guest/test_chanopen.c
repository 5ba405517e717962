/* ocivm-init's wait for its channel (vm/guest/chanopen.c) on a fake clock
 * and a fake /sys + /dev in a temporary directory: the port may appear
 * long after boot (a slow TCG boot on a loaded host) and init must still
 * take it, saying every 5 s meanwhile what it waits for. */
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

#include "vm/guest/chanopen.h"

struct fake {
	char root[64], ports[128], devices[128], dev[128], hvc[128];
	struct gchan_where w;
	uint64_t now;             /* fake ms */
	uint64_t port_at;         /* the named port appears then (0: never) */
	int naps;
	char notes[64][1300];
	int n_notes;
};

static void put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void mkdirf(struct fake *f, const char *fmt, const char *a)
{
	char p[300];
	snprintf(p, sizeof(p), fmt, f->root, a);
	assert_true(mkdir(p, 0755) == 0 || errno == EEXIST);
}

static void add_port(struct fake *f, const char *node, const char *name)
{
	char p[300];
	mkdirf(f, "%s/ports/%s", node);
	if (name) {
		snprintf(p, sizeof(p), "%s/ports/%s/name", f->root, node);
		put(p, name);
	}
	snprintf(p, sizeof(p), "%s/dev/%s", f->root, node);
	put(p, "");
}

static uint64_t fake_now(void *ctx) { return ((struct fake *)ctx)->now; }

static void fake_nap(void *ctx, unsigned ms)
{
	struct fake *f = ctx;
	f->now += ms;
	f->naps++;
	if (f->port_at && f->now >= f->port_at) {
		add_port(f, "vport0p1", GCHAN_VPORT_NAME);
		f->port_at = 0;
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
	snprintf(f->root, sizeof(f->root), "/tmp/test_chanopen.XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(f->ports, sizeof(f->ports), "%s/ports", f->root);
	snprintf(f->devices, sizeof(f->devices), "%s/devices", f->root);
	snprintf(f->dev, sizeof(f->dev), "%s/dev", f->root);
	snprintf(f->hvc, sizeof(f->hvc), "%s/dev/hvc0", f->root);
	mkdirf(f, "%s/%s", "ports");
	mkdirf(f, "%s/%s", "devices");
	mkdirf(f, "%s/%s", "dev");
	f->w = (struct gchan_where){ f->ports, f->devices, f->dev, f->hvc };
	f->now = 1000;
}

static void fake_free(struct fake *f)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	assert_int_equal(system(cmd), 0);
}

/* The port 25 s late: taken (the old wait gave up after 10 s), with a
 * note every 5 s saying what is missing, then one naming the channel. */
static void test_port_late(void **state)
{
	static struct fake f;
	struct gchan_clock c = { fake_now, fake_nap, &f };
	int vport = -1;

	fake_init(&f);
	f.port_at = 1000 + 25000;
	int fd = gchan_open(&f.w, &c, GCHAN_NOTE_EVERY_MS, fake_note, &f, &vport);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(vport, 1);
	assert_true(f.now >= 26000);
	assert_int_equal(f.n_notes, 4 + 1);
	for (int i = 0; i < 4; i++) {
		char want[64];
		snprintf(want, sizeof(want), "waiting %d s for the channel: ", 5 * (i + 1));
		assert_non_null(strstr(f.notes[i], want));
		assert_non_null(strstr(f.notes[i], "no virtio port named " GCHAN_VPORT_NAME " (ports: none)"));
		assert_non_null(strstr(f.notes[i], "hvc0: No such file or directory"));
		assert_non_null(strstr(f.notes[i], "virtio console devices: none"));
	}
	assert_non_null(strstr(f.notes[4], "channel: "));
	assert_non_null(strstr(f.notes[4], "/dev/vport0p1 (virtio port " GCHAN_VPORT_NAME ") after 25"));
	fake_free(&f);
}

/* What a look says: a port without its name yet, a port of another name,
 * a console device without a driver. */
static void test_reasons(void **state)
{
	static struct fake f;
	char path[300], why[1024], p[300];
	int vport = -1;

	fake_init(&f);
	add_port(&f, "vport0p2", NULL);
	add_port(&f, "vport0p3", "other.name");
	mkdirf(&f, "%s/devices/%s", "virtio0");
	snprintf(p, sizeof(p), "%s/devices/virtio0/device", f.root);
	put(p, "0x0002\n");   /* a disk: not a console */
	mkdirf(&f, "%s/devices/%s", "virtio1");
	snprintf(p, sizeof(p), "%s/devices/virtio1/device", f.root);
	put(p, "0x0003\n");
	assert_int_equal(gchan_try(&f.w, &vport, path, sizeof(path), why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "vport0p2 without a name yet"));
	assert_non_null(strstr(why, "vport0p3 named other.name"));
	assert_null(strstr(why, "virtio0"));
	assert_non_null(strstr(why, "virtio1 without a driver (is virtio_console loaded?)"));

	/* bound: no question about the driver any more */
	mkdirf(&f, "%s/devices/%s", "virtio1/driver");
	assert_true(gchan_try(&f.w, &vport, path, sizeof(path), why, sizeof(why)) < 0);
	assert_non_null(strstr(why, "virtio console devices: virtio1"));
	assert_null(strstr(why, "without a driver"));

	/* the name arrives */
	snprintf(p, sizeof(p), "%s/ports/vport0p2/name", f.root);
	put(p, GCHAN_VPORT_NAME "\n");
	int fd = gchan_try(&f.w, &vport, path, sizeof(path), why, sizeof(why));
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(vport, 1);
	assert_non_null(strstr(path, "/dev/vport0p2"));
	fake_free(&f);
}

/* No named port but /dev/hvc0 (ocivm-vmm): hvc0, at once, no note but
 * the channel's. */
static void test_hvc(void **state)
{
	static struct fake f;
	struct gchan_clock c = { fake_now, fake_nap, &f };
	int vport = -1;

	fake_init(&f);
	put(f.hvc, "");
	int fd = gchan_open(&f.w, &c, GCHAN_NOTE_EVERY_MS, fake_note, &f, &vport);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(vport, 0);
	assert_int_equal(f.naps, 0);
	assert_int_equal(f.n_notes, 1);
	assert_non_null(strstr(f.notes[0], "hvc0 (console, raw mode) after 0 ms"));
	fake_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_port_late),
		cmocka_unit_test(test_reasons),
		cmocka_unit_test(test_hvc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
