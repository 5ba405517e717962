/* Unit tests for common/err.c and common/fileio.c. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "err.h"
#include "fileio.h"

static char tmpdir[64];

static int setup(void **state)
{
	strcpy(tmpdir, "/tmp/ocivm-test-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_oerr_first_wins(void **state)
{
	struct oerr e = {0};
	assert_int_equal(oerr_set(&e, EINVAL, "a.b: %s", "bad"), -EINVAL);
	assert_int_equal(oerr_set(&e, ENOENT, "later"), -ENOENT);
	assert_int_equal(e.code, EINVAL);
	assert_string_equal(e.msg, "a.b: bad");
	oerr_prefix(&e, "create %s: ", "web");
	assert_string_equal(e.msg, "create web: a.b: bad");
	oerr_clear(&e);
	assert_int_equal(e.code, 0);
	assert_int_equal(oerr_sys(&e, -ENOENT, "open x"), -ENOENT);
	assert_string_equal(e.msg, "open x: No such file or directory");
	assert_int_equal(oerr_set(NULL, EBUSY, "ignored"), -EBUSY);
}

static void test_atomic_roundtrip(void **state)
{
	char path[128];
	_cleanup_free_ char *data = NULL;
	size_t len = 0;

	snprintf(path, sizeof(path), "%s/state.json", tmpdir);
	assert_int_equal(file_write_atomic(path, "{\"a\":1}", 7, 0600), 0);
	assert_int_equal(file_read_all(path, 1024, &data, &len), 0);
	assert_int_equal(len, 7);
	assert_string_equal(data, "{\"a\":1}");
	free(TAKE_PTR(data));
	/* too big for the caller's limit */
	assert_int_equal(file_read_all(path, 3, &data, &len), -EFBIG);
	assert_null(data);
}

static void test_atomic_failure_leaves_old(void **state)
{
	char path[160];
	_cleanup_free_ char *data = NULL;

	snprintf(path, sizeof(path), "%s/nodir/state.json", tmpdir);
	assert_int_equal(file_write_atomic(path, "x", 1, 0600), -ENOENT);
	snprintf(path, sizeof(path), "%s/keep", tmpdir);
	assert_int_equal(file_write_atomic(path, "old", 3, 0600), 0);
	/* a directory in the way of the rename: the old content stays */
	char tmp[200];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	assert_int_equal(mkdir(tmp, 0700), 0);
	assert_true(file_write_atomic(path, "new", 3, 0600) < 0);
	rmdir(tmp);
	assert_int_equal(file_read_all(path, 100, &data, NULL), 0);
	assert_string_equal(data, "old");
}

static void test_read_exact_eof(void **state)
{
	int p[2];
	char buf[8];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(fd_write_all(p[1], "abc", 3), 0);
	close(p[1]);
	assert_int_equal(fd_read_exact(p[0], buf, 3), 0);
	assert_memory_equal(buf, "abc", 3);
	assert_int_equal(fd_read_exact(p[0], buf, 1), -EPIPE);
	close(p[0]);
}

static void touch(const char *dir, const char *rel)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	assert_int_equal(mkdir_p(p, 0755), 0);   /* the parents, then the file */
	rmdir(p);
	int fd = open(p, O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	close(fd);
}

/* An installed prefix is found beside the program wherever it was copied
 * (make install DESTDIR=... PREFIX=...): not only at the path compiled in. */
static void test_share_file_prefix(void **state)
{
	char exe[256], want[256];
	snprintf(exe, sizeof(exe), "%s/opt/o/bin/ocivmfs", tmpdir);
	touch(tmpdir, "opt/o/bin/ocivmfs");   /* bin/.. must resolve */
	touch(tmpdir, "opt/o/share/ocivmfs/vmlinuz");
	snprintf(want, sizeof(want), "%s/opt/o/bin/../share/ocivmfs/vmlinuz", tmpdir);
	_cleanup_free_ char *f = share_file(exe, "vmlinuz", "/nonexistent/share");
	assert_string_equal(f, want);
	/* a build tree ($(BUILD)/bin + $(BUILD)/guest) wins over the share dir */
	touch(tmpdir, "opt/o/guest/vmlinuz");
	snprintf(want, sizeof(want), "%s/opt/o/bin/../guest/vmlinuz", tmpdir);
	_cleanup_free_ char *g = share_file(exe, "vmlinuz", "/nonexistent/share");
	assert_string_equal(g, want);
	/* nothing beside the program: the compiled-in dir, even if absent */
	_cleanup_free_ char *h = share_file(exe, "initrd.img", "/nonexistent/share");
	assert_string_equal(h, "/nonexistent/share/initrd.img");
	_cleanup_free_ char *i = share_file("ocivmfs", "vmlinuz", "/x");
	assert_string_equal(i, "/x/vmlinuz");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oerr_first_wins),
		cmocka_unit_test(test_atomic_roundtrip),
		cmocka_unit_test(test_atomic_failure_leaves_old),
		cmocka_unit_test(test_read_exact_eof),
		cmocka_unit_test(test_share_file_prefix),
	};
	return cmocka_run_group_tests_name("common", tests, setup, teardown);
}
