/* Unit tests for common/usock.c: unix sockets at paths of any length. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "usock.h"

static char tmpdir[64];

static int setup(void **state)
{
	strcpy(tmpdir, "/tmp/ocivm-usock-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* tmpdir/ddd.../ddd... nested until the path has at least len bytes. */
static void deep_dir(char *buf, size_t len)
{
	snprintf(buf, 2048, "%s", tmpdir);
	while (strlen(buf) < len) {
		strcat(buf, "/");
		size_t n = strlen(buf);
		memset(buf + n, 'd', 200);
		buf[n + 200] = '\0';
		assert_int_equal(mkdir(buf, 0700), 0);
	}
}

/* listen, connect, one byte across, the socket's mode */
static void roundtrip(const char *path, mode_t mode)
{
	int ls = usock_listen(path, 4, mode);
	assert_true(ls >= 0);
	int c = usock_connect(path, SOCK_NONBLOCK);
	assert_true(c >= 0);
	int s = accept(ls, NULL, NULL);
	assert_true(s >= 0);
	assert_int_equal(write(c, "x", 1), 1);
	char b = 0;
	assert_int_equal(read(s, &b, 1), 1);
	assert_int_equal(b, 'x');
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	if (mode)
		assert_int_equal(st.st_mode & 07777, mode);
	close(s);
	close(c);
	close(ls);
}

static void test_short_path(void **state)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/s.sock", tmpdir);
	roundtrip(path, 0600);
	/* a second listen replaces the stale socket */
	roundtrip(path, 0);
}

/* A 600-byte state dir plus a 250-byte id: far past sun_path (108). */
static void test_long_path(void **state)
{
	char dir[2048], path[PATH_MAX];
	deep_dir(dir, 900);
	snprintf(path, sizeof(path), "%s/control.sock", dir);
	assert_true(strlen(path) > 108 * 8);
	roundtrip(path, 0600);
	/* a path of exactly sizeof(sun_path) bytes (no room for the NUL) */
	char p108[PATH_MAX];
	snprintf(p108, sizeof(p108), "%s/", tmpdir);
	size_t n = strlen(p108);
	memset(p108 + n, 'e', 108 - n);
	p108[108] = '\0';
	roundtrip(p108, 0);
}

static void test_errors(void **state)
{
	char path[PATH_MAX + 32];
	assert_int_equal(usock_listen("", 4, 0), -EINVAL);
	assert_int_equal(usock_connect(NULL, 0), -EINVAL);
	/* the last component alone must fit */
	snprintf(path, sizeof(path), "%s/", tmpdir);
	size_t n = strlen(path);
	memset(path + n, 'n', 120);
	path[n + 120] = '\0';
	assert_int_equal(usock_listen(path, 4, 0), -ENAMETOOLONG);
	/* a long path whose directory is missing, and nobody listening */
	char dir[2048];
	deep_dir(dir, 300);
	snprintf(path, sizeof(path), "%s/missing/x.sock", dir);
	assert_int_equal(usock_connect(path, 0), -ENOENT);
	snprintf(path, sizeof(path), "%s/x.sock", dir);
	assert_int_equal(usock_connect(path, 0), -ENOENT);
	/* no fd is left open by the failures (the directory fd is closed) */
	int fd = dup(0);
	assert_int_equal(usock_connect(path, 0), -ENOENT);
	int fd2 = dup(0);
	assert_int_equal(fd2, fd + 1);
	close(fd);
	close(fd2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_short_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
