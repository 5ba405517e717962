/* Unit tests for fs/incoming.c: the incoming/ passthrough over a temporary
 * staging dir, with the few libfuse replies it makes captured here (these
 * definitions win over libfuse's) and ops_incoming_open standing in for
 * ops' staging dir.
 *
 * The race: a handler found its inode under the lock and used the inode's
 * O_PATH descriptor after releasing it.  A forget in between (another
 * FUSE worker) closes that descriptor and frees the inode, and another
 * worker's open may get the same number for another file, so the handler
 * acts on the wrong file.  pthread_mutex_unlock is wrapped
 * (--wrap=pthread_mutex_unlock, see fs/module.mk) to run exactly that
 * forget and open right after the handler's lookup releases the lock. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/fsd.h"

static struct fsd *the_fs;
static char dir[64];

/* what the handler replied */
static int last_err;
static struct fuse_entry_param last_entry;
static struct stat last_attr;
static int n_replies;

void *fuse_req_userdata(fuse_req_t req) { return the_fs; }
int fuse_reply_err(fuse_req_t req, int err) { last_err = err; n_replies++; return 0; }
int fuse_reply_entry(fuse_req_t req, const struct fuse_entry_param *e)
{
	last_entry = *e;
	last_err = 0;
	n_replies++;
	return 0;
}
int fuse_reply_attr(fuse_req_t req, const struct stat *attr, double timeout)
{
	last_attr = *attr;
	last_err = 0;
	n_replies++;
	return 0;
}

int ops_incoming_open(struct ops *ops, struct oerr *err)
{
	return open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

/* The interleaving: armed, the next unlock (the handler's lookup) is
 * followed by a forget of `victim` and an open of `other`, as two other
 * workers would do; the open gets the lowest free number. */
static fuse_ino_t victim;
static const char *other;
static int other_fd = -1;
static bool armed;

int __real_pthread_mutex_unlock(pthread_mutex_t *m);
int __wrap_pthread_mutex_unlock(pthread_mutex_t *m)
{
	int r = __real_pthread_mutex_unlock(m);
	if (armed) {
		armed = false;
		fsd_inc_forget(the_fs, victim, 1);
		char p[128];
		snprintf(p, sizeof(p), "%s/%s", dir, other);
		other_fd = open(p, O_PATH | O_CLOEXEC);
	}
	return r;
}

static void put_file(const char *name, size_t len)
{
	char p[128], buf[16] = "0123456789abcdef";
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static int setup(void **state)
{
	struct oerr err = { 0 };

	snprintf(dir, sizeof(dir), "/tmp/test_incoming.XXXXXX");
	assert_non_null(mkdtemp(dir));
	put_file("a", 1);
	put_file("b", 2);
	char p[128];
	snprintf(p, sizeof(p), "%s/d", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/d/x", dir);
	assert_int_equal(symlink("a", p), 0);
	the_fs = calloc(1, sizeof(*the_fs));
	assert_non_null(the_fs);
	assert_int_equal(fsd_inc_init(the_fs, &err), 0);
	return 0;
}

static int teardown(void **state)
{
	fsd_inc_free(the_fs);
	free(the_fs);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static fuse_ino_t lookup(fuse_ino_t parent, const char *name)
{
	int n = n_replies;
	fsd_inc_ops.lookup(NULL, parent, name);
	assert_int_equal(n_replies, n + 1);
	assert_int_equal(last_err, 0);
	return last_entry.ino;
}

/* getattr of a whose inode is forgotten right after the lookup, and whose
 * descriptor number b's open takes: a's attributes, never b's. */
static void test_getattr_vs_forget(void **state)
{
	fuse_ino_t a = lookup(INO_INCOMING, "a");

	victim = a;
	other = "b";
	armed = true;
	int n = n_replies;
	fsd_inc_ops.getattr(NULL, a, NULL);
	assert_false(armed);
	assert_true(other_fd >= 0);
	assert_int_equal(n_replies, n + 1);
	assert_int_equal(last_err, 0);
	assert_int_equal((int)last_attr.st_size, 1);   /* b is 2 bytes */
	assert_int_equal(last_attr.st_ino, a);
	close(other_fd);
	/* forgotten now: ENOENT */
	fsd_inc_ops.getattr(NULL, a, NULL);
	assert_int_equal(last_err, ENOENT);
}

/* The descriptor ll.c's mv incoming/NAME containers/ID takes: a's. */
static void test_fd_of_vs_forget(void **state)
{
	fuse_ino_t a = lookup(INO_INCOMING, "a");
	struct stat want, got;
	char p[128];

	snprintf(p, sizeof(p), "%s/a", dir);
	assert_int_equal(stat(p, &want), 0);
	victim = a;
	other = "b";
	armed = true;
	int fd = fsd_inc_fd_of(the_fs, a);
	assert_false(armed);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &got), 0);
	assert_true(got.st_ino == want.st_ino && got.st_dev == want.st_dev);
	close(fd);
	close(other_fd);
	assert_int_equal(fsd_inc_fd_of(the_fs, a), -ENOENT);
}

/* Entries right under incoming/ are looked up again each time (one may be
 * moved into containers/); deeper ones are cached for a second. */
static void test_entry_timeouts(void **state)
{
	fuse_ino_t d = lookup(INO_INCOMING, "d");
	assert_true(last_entry.entry_timeout == 0.0);
	fuse_ino_t x = lookup(d, "x");
	assert_true(last_entry.entry_timeout > 0.0);
	assert_true(S_ISLNK(last_entry.attr.st_mode));
	fsd_inc_forget(the_fs, x, 1);
	fsd_inc_forget(the_fs, d, 1);
	fsd_inc_ops.lookup(NULL, INO_INCOMING, "nosuch");
	assert_int_equal(last_err, ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_getattr_vs_forget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fd_of_vs_forget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_entry_timeouts, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
