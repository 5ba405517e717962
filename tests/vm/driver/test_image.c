/* The rootfs image cache: build with mke2fs -d, reuse by content, per-owner
 * references, removal when unreferenced, one build under concurrency. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "vm/vm.h"
#include "vm/driver/image.h"
#include "cleanup.h"

static char base[64], rootfs[128], cache[128];

static void write_file(const char *rel, const char *text)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", rootfs, rel);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	char p[256];
	strcpy(base, "/tmp/vmimage.XXXXXX");
	assert_non_null(mkdtemp(base));
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", base);
	snprintf(cache, sizeof(cache), "%s/cache", base);
	assert_int_equal(mkdir(rootfs, 0755), 0);
	snprintf(p, sizeof(p), "%s/etc", rootfs);
	assert_int_equal(mkdir(p, 0755), 0);
	write_file("etc/hello", "hello from the image\n");
	snprintf(p, sizeof(p), "%s/link", rootfs);
	assert_int_equal(symlink("etc/hello", p), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
	return system(cmd) == 0 ? 0 : -1;
}

static int count_images(void)
{
	char cmd[256], line[32] = "";
	snprintf(cmd, sizeof(cmd), "ls %s/images 2>/dev/null | wc -l", cache);
	FILE *f = popen(cmd, "r");
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	pclose(f);
	return atoi(line);
}

/* A large file (1 MiB: the old key read only files up to 64 KiB) edited in
 * its last byte, keeping its size and mtime: a different key. */
static void test_hash_large_edit(void)
{
	struct vm_tree_sum a, b;
	struct timeval tv[2] = { { 2000, 0 }, { 2000, 0 } };
	char p[256];
	_cleanup_free_ char *big = calloc(1, 1 << 20);

	assert_non_null(big);
	snprintf(p, sizeof(p), "%s/big", rootfs);
	FILE *f = fopen(p, "w");
	assert_int_equal(fwrite(big, 1, 1 << 20, f), 1 << 20);
	fclose(f);
	assert_int_equal(utimes(p, tv), 0);
	assert_int_equal(vm_tree_hash(rootfs, &a), 0);
	int fd = open(p, O_WRONLY);
	assert_int_equal(pwrite(fd, "x", 1, (1 << 20) - 1), 1);
	close(fd);
	assert_int_equal(utimes(p, tv), 0);
	assert_int_equal(vm_tree_hash(rootfs, &b), 0);
	assert_string_not_equal(a.hex, b.hex);
	unlink(p);
}

static void test_hash(void **state)
{
	struct vm_tree_sum a, b;
	char p[256];
	struct timeval tv[2] = { { 1000, 0 }, { 1000, 0 } };

	assert_int_equal(vm_tree_hash(rootfs, &a), 0);
	assert_int_equal(vm_tree_hash(rootfs, &b), 0);
	assert_string_equal(a.hex, b.hex);
	assert_int_equal(strlen(a.hex), VM_IMAGE_KEY_LEN);
	assert_int_equal(a.entries, 4);   /* ., etc, etc/hello, link */
	/* an mtime change is a different rootfs */
	snprintf(p, sizeof(p), "%s/etc/hello", rootfs);
	assert_int_equal(utimes(p, tv), 0);
	assert_int_equal(vm_tree_hash(rootfs, &b), 0);
	assert_string_not_equal(a.hex, b.hex);
	/* so is a mode change */
	assert_int_equal(vm_tree_hash(rootfs, &a), 0);
	chmod(p, 0600);
	assert_int_equal(vm_tree_hash(rootfs, &b), 0);
	assert_string_not_equal(a.hex, b.hex);
	chmod(p, 0644);
	/* a small file's new contents of the same size, same mtime: different */
	assert_int_equal(utimes(p, tv), 0);
	assert_int_equal(vm_tree_hash(rootfs, &a), 0);
	write_file("etc/hello", "HELLO FROM THE IMAGE\n");
	assert_int_equal(utimes(p, tv), 0);
	assert_int_equal(vm_tree_hash(rootfs, &b), 0);
	assert_string_not_equal(a.hex, b.hex);
	assert_int_equal(vm_tree_hash(rootfs, &a), 0);   /* and stable */
	assert_string_equal(a.hex, b.hex);
	write_file("etc/hello", "hello from the image\n");   /* as the other tests expect */
	assert_int_equal(vm_tree_hash("/nonexistent", &a), -ENOENT);
	test_hash_large_edit();
	assert_int_equal(vm_tree_hash("/etc/hostname", &a), -ENOTDIR);
	assert_true(vm_image_size_for(&a) >= 16u << 20);
}

static void test_acquire_reuse_release(void **state)
{
	struct oerr err = { 0 };
	char *pa = NULL, *pb = NULL, cmd[512], out[128] = "";
	struct stat sa, sb;

	assert_int_equal(vm_image_acquire(cache, rootfs, "a", &pa, &err), 0);
	assert_int_equal(stat(pa, &sa), 0);
	/* the file is in the image (debugfs reads ext4 without mounting) */
	snprintf(cmd, sizeof(cmd), "debugfs -R 'cat /etc/hello' %s 2>/dev/null", pa);
	FILE *f = popen(cmd, "r");
	assert_non_null(fgets(out, sizeof(out), f));
	pclose(f);
	assert_string_equal(out, "hello from the image\n");

	assert_true(vm_image_is_cached(pa));
	assert_false(vm_image_is_cached("/var/lib/images/disk.ext4"));
	assert_false(vm_image_is_cached("/x/0123456789abcdef0123456789abcdef.ext4"));
	assert_false(vm_image_is_cached("/images/0123456789abcdef0123456789abcdef.ext4.tmp"));
	assert_false(vm_image_is_cached(NULL));
	assert_int_equal(vm_image_acquire(cache, rootfs, "b", &pb, &err), 0);
	assert_string_equal(pa, pb);
	assert_int_equal(stat(pb, &sb), 0);
	assert_int_equal(sa.st_ino, sb.st_ino);   /* reused, not rebuilt */
	assert_int_equal(count_images(), 1);

	assert_int_equal(vm_image_release(cache, "a", &err), 0);
	assert_int_equal(access(pa, F_OK), 0);    /* b still uses it */
	assert_int_equal(vm_image_release(cache, "b", &err), 0);
	assert_int_equal(access(pa, F_OK), -1);
	assert_int_equal(count_images(), 0);
	assert_int_equal(vm_image_release(cache, "b", &err), 0);   /* twice: harmless */
	free(pa);
	free(pb);

	/* owners are container ids: the longest (250, ops/ops.h) is held and
	 * released (the check refused past 200 while ops took 255); a name
	 * past NAME_MAX is refused before anything is built */
	char owner[300];
	memset(owner, 'o', sizeof(owner));
	owner[250] = '\0';
	assert_int_equal(vm_image_acquire(cache, rootfs, owner, &pa, &err), 0);
	assert_int_equal(vm_image_release(cache, owner, &err), 0);
	assert_int_equal(count_images(), 0);
	free(pa);
	owner[250] = 'o';
	owner[256] = '\0';
	oerr_clear(&err);
	assert_int_equal(vm_image_acquire(cache, rootfs, owner, &pa, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not a valid name"));
}

/* An image a container acquired under the older 128-bit key (before an
 * upgrade) is still released, and still counts as a cached image. */
static void test_release_v2_key(void **state)
{
	struct oerr err = { 0 };
	const char *key = "0123456789abcdef0123456789abcdef";
	char p[2048], img[512];

	snprintf(p, sizeof(p), "mkdir -p %s/refs/%s %s/owners %s/images %s/locks && "
		 "touch %s/refs/%s/old %s/images/%s.ext4 && ln -s %s %s/owners/old",
		 cache, key, cache, cache, cache, cache, key, cache, key, key, cache);
	assert_int_equal(system(p), 0);
	snprintf(img, sizeof(img), "%s/images/%s.ext4", cache, key);
	assert_true(vm_image_is_cached(img));
	assert_int_equal(vm_image_release(cache, "old", &err), 0);
	assert_int_equal(access(img, F_OK), -1);
	snprintf(p, sizeof(p), "%s/owners/old", cache);
	assert_int_equal(access(p, F_OK), -1);
}

/* A symlinked root.path is its target: the same key and a full image (the
 * link itself hashed as one entry gave mke2fs -N too few inodes: EIO), and
 * a link moved to another tree is another key (no stale image). */
static void test_symlinked_rootfs(void **state)
{
	struct oerr err = { 0 };
	char *pa = NULL, *pb = NULL, *pc = NULL, link[128], other[128], cmd[1200], out[128] = "";

	snprintf(link, sizeof(link), "%s/rootlink", base);
	snprintf(other, sizeof(other), "%s/other", base);
	assert_int_equal(symlink(rootfs, link), 0);
	for (int i = 0; i < 300; i++) {   /* more entries than -N 1 + 256 holds */
		char rel[32];
		snprintf(rel, sizeof(rel), "etc/f%d", i);
		write_file(rel, "x");
	}
	assert_int_equal(vm_image_acquire(cache, link, "l", &pa, &err), 0);
	assert_int_equal(vm_image_acquire(cache, rootfs, "r", &pb, &err), 0);
	assert_string_equal(pa, pb);
	snprintf(cmd, sizeof(cmd), "debugfs -R 'cat /etc/hello' %s 2>/dev/null", pa);
	FILE *f = popen(cmd, "r");
	assert_non_null(fgets(out, sizeof(out), f));
	pclose(f);
	assert_string_equal(out, "hello from the image\n");
	snprintf(cmd, sizeof(cmd), "cp -a %s %s && echo changed > %s/etc/hello && ln -sfn %s %s",
		 rootfs, other, other, other, link);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(vm_image_acquire(cache, link, "m", &pc, &err), 0);
	assert_string_not_equal(pa, pc);
	assert_int_equal(count_images(), 2);
	assert_int_equal(vm_image_release(cache, "l", &err), 0);
	assert_int_equal(vm_image_release(cache, "r", &err), 0);
	assert_int_equal(vm_image_release(cache, "m", &err), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s %s/etc/f*", link, other, rootfs);
	assert_int_equal(system(cmd), 0);
	free(pa);
	free(pb);
	free(pc);
}

/* A build whose daemon died leaves KEY.ext4.tmp.PID: reclaimed at start
 * unless its key is locked (a live builder); lock files of gone images go,
 * the lock of a live image stays; release removes the lock file too. */
static void test_reclaim(void **state)
{
	static const char live[] = "0123456789abcdef0123456789abcdef";
	static const char dead[] = "fedcba9876543210fedcba9876543210";
	static const char gone[] = "00000000000000000000000000000000";
	struct oerr err = { 0 };
	char p[512], *img = NULL;
	unsigned tmps = 9, locks = 9;

	assert_int_equal(vm_image_acquire(cache, rootfs, "a", &img, &err), 0);
	snprintf(p, sizeof(p), "%s/images/%s.ext4.tmp.1234", cache, dead);
	assert_int_equal(close(open(p, O_CREAT | O_WRONLY, 0600)), 0);
	snprintf(p, sizeof(p), "%s/images/%s.ext4.tmp.99", cache, live);
	assert_int_equal(close(open(p, O_CREAT | O_WRONLY, 0600)), 0);
	snprintf(p, sizeof(p), "%s/locks/%s.lock", cache, live);   /* a builder at work */
	int held = open(p, O_CREAT | O_RDWR, 0600);
	assert_int_equal(flock(held, LOCK_EX), 0);
	snprintf(p, sizeof(p), "%s/locks/%s.lock", cache, gone);
	assert_int_equal(close(open(p, O_CREAT | O_WRONLY, 0600)), 0);

	vm_image_reclaim(cache, &tmps, &locks);
	assert_int_equal(tmps, 1);
	assert_int_equal(locks, 1);
	snprintf(p, sizeof(p), "%s/images/%s.ext4.tmp.1234", cache, dead);
	assert_int_equal(access(p, F_OK), -1);
	snprintf(p, sizeof(p), "%s/images/%s.ext4.tmp.99", cache, live);
	assert_int_equal(access(p, F_OK), 0);
	snprintf(p, sizeof(p), "%s/locks/%s.lock", cache, gone);
	assert_int_equal(access(p, F_OK), -1);
	assert_int_equal(access(img, F_OK), 0);   /* the image in use stays */
	close(held);   /* the builder died */
	vm_image_reclaim(cache, &tmps, &locks);
	assert_int_equal(tmps, 1);
	assert_int_equal(vm_image_release(cache, "a", &err), 0);
	snprintf(p, sizeof(p), "find %s/locks %s/images -mindepth 1 | grep -c .", cache, cache);
	FILE *f = popen(p, "r");
	char line[16] = "";
	assert_non_null(fgets(line, sizeof(line), f));
	pclose(f);
	assert_string_equal(line, "0\n");   /* no lock file, no image left */
	free(img);
}

static void test_errors(void **state)
{
	struct oerr err = { 0 };
	char *p = NULL, other[160];

	assert_int_equal(vm_image_acquire(cache, rootfs, "../x", &p, &err), -EINVAL);
	oerr_clear(&err);
	assert_int_equal(vm_image_acquire(cache, "/nonexistent", "x", &p, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "/nonexistent"));
	/* one owner, one image */
	oerr_clear(&err);
	assert_int_equal(vm_image_acquire(cache, rootfs, "x", &p, &err), 0);
	free(p);
	snprintf(other, sizeof(other), "%s/etc", rootfs);
	assert_int_equal(vm_image_acquire(cache, other, "x", &p, &err), -EEXIST);
	assert_int_equal(vm_image_release(cache, "x", &err), 0);
	assert_null(NULL);
}

struct racer {
	char owner[16];
	char *path;
	ino_t ino;
	int r;
};

static void *race(void *arg)
{
	struct racer *rc = arg;
	struct oerr err = { 0 };
	struct stat st;
	rc->r = vm_image_acquire(cache, rootfs, rc->owner, &rc->path, &err);
	if (rc->r == 0 && stat(rc->path, &st) == 0)
		rc->ino = st.st_ino;
	return NULL;
}

static void test_concurrent_build_once(void **state)
{
	struct racer rc[4];
	pthread_t t[4];
	struct stat st;
	struct oerr err = { 0 };

	for (int i = 0; i < 4; i++) {
		memset(&rc[i], 0, sizeof(rc[i]));
		snprintf(rc[i].owner, sizeof(rc[i].owner), "c%u", (unsigned)i & 7);
		pthread_create(&t[i], NULL, race, &rc[i]);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(stat(rc[0].path, &st), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(rc[i].r, 0);
		assert_string_equal(rc[i].path, rc[0].path);
		assert_int_equal(rc[i].ino, st.st_ino);   /* nobody rebuilt it later */
	}
	assert_int_equal(count_images(), 1);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(vm_image_release(cache, rc[i].owner, &err), 0);
		if ((access(rc[3].path, F_OK) == 0) != (i < 3))
			fail_msg("after releasing %d of 4: image %s", i + 1, i < 3 ? "gone" : "still there");
	}
	for (int i = 0; i < 4; i++)
		free(rc[i].path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_acquire_reuse_release),
		cmocka_unit_test(test_symlinked_rootfs),
		cmocka_unit_test(test_reclaim),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_release_v2_key),
		cmocka_unit_test(test_concurrent_build_once),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
