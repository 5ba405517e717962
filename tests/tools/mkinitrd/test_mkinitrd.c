/* ocivm-mkinitrd: the cpio writer read back by cpio(1), module resolution
 * against the real Debian modules tree, and the build cache.  The tree is
 * $OCIVM_GUEST_ROOT, else $(BUILD)/guest/root next to this test binary; the
 * tests that need it are skipped (with the reason) when it is absent. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libgen.h>
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

#include "tools/mkinitrd/cpio.h"
#include "tools/mkinitrd/mkinitrd.h"
#include "tools/mkinitrd/modres.h"

static char tmpdir[] = "/tmp/test_mkinitrd.XXXXXX";
static char guest_root[PATH_MAX], release[256];

/* Run a shell command and capture its stdout. */
static int run_capture(const char *cmd, char *out, size_t cap)
{
	FILE *p = popen(cmd, "r");
	size_t n;

	if (!p)
		return -1;
	n = fread(out, 1, cap - 1, p);
	out[n] = '\0';
	return pclose(p);
}

static int find_guest_tree(void)
{
	char exe[PATH_MAX], path[PATH_MAX + 32];
	const char *env = getenv("OCIVM_GUEST_ROOT");
	ssize_t n;

	if (env) {
		snprintf(guest_root, sizeof(guest_root), "%s", env);
	} else {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (n < 0)
			return -1;
		exe[n] = '\0';
		/* exe is BUILD/tests/NAME */
		snprintf(guest_root, sizeof(guest_root), "%s/guest/root", dirname(dirname(exe)));
	}
	snprintf(path, sizeof(path), "%s/lib/modules", guest_root);
	DIR *d = opendir(path);
	struct dirent *e;
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(release, sizeof(release), "%s", e->d_name);
			break;
		}
	closedir(d);
	return release[0] ? 0 : -1;
}

static int need_tree(void)
{
	if (release[0])
		return 1;
	print_message("SKIP: no unpacked guest kernel at %s (run `make guest` or set OCIVM_GUEST_ROOT)\n",
		      guest_root);
	return 0;
}

static void test_cpio_readback(void **state)
{
	char path[PATH_MAX], cmd[PATH_MAX + 64], out[4096];
	struct cpio_writer w;

	snprintf(path, sizeof(path), "%s/a.cpio", tmpdir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	cpio_init(&w, fd);
	assert_int_equal(cpio_add_dir(&w, "dev", 0755), 0);
	assert_int_equal(cpio_add_chardev(&w, "dev/console", 0600, 5, 1), 0);
	assert_int_equal(cpio_add_data(&w, "hello.txt", 0644, "hello, cpio\n", 12), 0);
	assert_int_equal(cpio_add_data(&w, "odd", 0644, "x", 1), 0);
	assert_int_equal(cpio_add_symlink(&w, "link", "hello.txt"), 0);
	assert_int_equal(cpio_finish(&w), 0);
	close(fd);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size % 512, 0);

	snprintf(cmd, sizeof(cmd), "cpio -t --quiet < %s", path);
	assert_int_equal(run_capture(cmd, out, sizeof(out)), 0);
	assert_string_equal(out, "dev\ndev/console\nhello.txt\nodd\nlink\n");
	snprintf(cmd, sizeof(cmd), "cpio -tv --quiet < %s", path);
	assert_int_equal(run_capture(cmd, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "crw-------"));
	assert_non_null(strstr(out, "link -> hello.txt"));
	snprintf(cmd, sizeof(cmd), "cpio -i --quiet --to-stdout hello.txt < %s", path);
	assert_int_equal(run_capture(cmd, out, sizeof(out)), 0);
	assert_string_equal(out, "hello, cpio\n");
}

static int index_of(const struct modres_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->names[i], name) == 0)
			return (int)i;
	return -1;
}

static void test_modres_virtio_blk(void **state)
{
	char moddir[PATH_MAX];
	struct oerr err = { 0 };
	struct modres_list l;
	const char *want[] = { "virtio_blk" };

	if (!need_tree())
		skip();
	assert_int_equal(modres_find_dir(guest_root, release, moddir, sizeof(moddir), &err), 0);
	assert_int_equal(modres_resolve(moddir, want, 1, &l, &err), 0);
	int blk = index_of(&l, "virtio_blk"), v = index_of(&l, "virtio"),
	    ring = index_of(&l, "virtio_ring");
	assert_true(v >= 0 && ring >= 0 && blk >= 0);
	assert_true(v < blk && ring < blk);
	assert_int_equal(blk, (int)l.n - 1);
	assert_non_null(strstr(l.paths[blk], "/virtio_blk.ko"));
	modres_free(&l);
}

static void test_modres_defaults_and_errors(void **state)
{
	char moddir[PATH_MAX];
	struct oerr err = { 0 };
	struct modres_list l;
	const char *bad[] = { "no_such_module_xyz" };
	size_t n = 0;

	if (!need_tree())
		skip();
	assert_int_equal(modres_find_dir(guest_root, release, moddir, sizeof(moddir), &err), 0);
	while (mkinitrd_default_modules[n])
		n++;
	assert_int_equal(modres_resolve(moddir, mkinitrd_default_modules, n, &l, &err), 0);
	assert_true(index_of(&l, "virtio_mmio") >= 0);
	assert_true(index_of(&l, "virtio_console") >= 0);
	assert_true(index_of(&l, "overlay") >= 0);
	assert_true(index_of(&l, "erofs") >= 0);
	assert_int_equal(index_of(&l, "ext4"), -1);  /* built in on Debian cloud */
	int ext4_builtin = 0;
	for (size_t i = 0; i < l.n_builtin; i++)
		ext4_builtin |= strcmp(l.builtin[i], "ext4") == 0;
	assert_true(ext4_builtin);
	modres_free(&l);

	assert_int_equal(modres_resolve(moddir, bad, 1, &l, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "no_such_module_xyz"));
	oerr_clear(&err);
	assert_int_equal(modres_find_dir(tmpdir, release, moddir, sizeof(moddir), &err), -ENOENT);
}

static void test_build_cached(void **state)
{
	char init[PATH_MAX], out[PATH_MAX], cmd[PATH_MAX * 2], list[65536];
	struct mkinitrd_opts o = { 0 };
	struct oerr err = { 0 };
	int cached = -1;

	if (!need_tree())
		skip();
	snprintf(init, sizeof(init), "%s/init", tmpdir);
	snprintf(out, sizeof(out), "%s/initrd.img", tmpdir);
	snprintf(cmd, sizeof(cmd), "printf '#!/bin/sh\\n' > %s", init);
	assert_int_equal(system(cmd), 0);
	o.release = release;
	o.modules_dir = guest_root;
	o.init = init;
	o.out = out;
	o.modules[o.n_modules++] = "virtio_blk";
	o.modules[o.n_modules++] = "virtio_console";
	assert_int_equal(mkinitrd_build(&o, &cached, &err), 0);
	assert_int_equal(cached, 0);
	snprintf(cmd, sizeof(cmd), "cpio -t --quiet < %s", out);
	assert_int_equal(run_capture(cmd, list, sizeof(list)), 0);
	assert_non_null(strstr(list, "\ninit\n"));
	assert_non_null(strstr(list, "dev/console\n"));
	assert_non_null(strstr(list, "modules/virtio_blk.ko\n"));
	assert_non_null(strstr(list, "modules/load\n"));
	snprintf(cmd, sizeof(cmd), "cpio -i --quiet --to-stdout modules/load < %s", out);
	assert_int_equal(run_capture(cmd, list, sizeof(list)), 0);
	char *blk = strstr(list, "virtio_blk.ko\n"), *ring = strstr(list, "virtio_ring.ko\n");
	assert_non_null(blk);
	assert_non_null(ring);
	assert_true(ring < blk);

	assert_int_equal(mkinitrd_build(&o, &cached, &err), 0);
	assert_int_equal(cached, 1);
	/* a new init binary invalidates the cache */
	snprintf(cmd, sizeof(cmd), "printf '#!/bin/sh\\nexit 0\\n' > %s", init);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(mkinitrd_build(&o, &cached, &err), 0);
	assert_int_equal(cached, 0);
	/* gzip output is a gzip stream holding the same archive */
	o.compress = MKINITRD_GZIP;
	assert_int_equal(mkinitrd_build(&o, &cached, &err), 0);
	assert_int_equal(cached, 0);
	snprintf(cmd, sizeof(cmd), "gzip -dc < %s | cpio -t --quiet | grep -c '^modules/.*ko$'", out);
	assert_int_equal(run_capture(cmd, list, sizeof(list)), 0);
	assert_true(atoi(list) >= 4);
}

static int setup(void **state)
{
	if (!mkdtemp(tmpdir))
		return -1;
	if (find_guest_tree() < 0)
		release[0] = '\0';
	return 0;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpio_readback),
		cmocka_unit_test(test_modres_virtio_blk),
		cmocka_unit_test(test_modres_defaults_and_errors),
		cmocka_unit_test(test_build_cached),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
