/* state.json persistence: round trip, bad records, and a full disk (a tiny
 * tmpfs when we may mount one, else an injected failure) leaving the old
 * record whole and no temp file behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "ops/store.h"

static char dir[64];

static int setup(void **state)
{
	strcpy(dir, "/tmp/ops-store-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	umount2(dir, MNT_DETACH);
	return ops_store_remove(dir);
}

static void fill(struct ops_record *r, enum ops_status s)
{
	memset(r, 0, sizeof(*r));
	strcpy(r->id, "web");
	r->bundle = strdup("/srv/bundles/web");
	r->status = s;
	r->created = 1700000000;
	r->vmm_pid = 1234;
	r->exit_status = 137;
	r->exited = s == OPS_STOPPED;
	r->image_held = true;
	strcpy(r->last_error, "init: exec failed");
	r->vm.kernel = strdup("/boot/vmlinuz");
	r->vm.driver = strdup("qemu");
	r->vm.vcpus = 2;
	r->vm.memory_mib = 512;
	r->vm.ready_ms = 5123.5;
}

static void test_round_trip(void **state)
{
	struct ops_record a, b;
	fill(&a, OPS_RUNNING);
	assert_int_equal(ops_store_save(dir, &a, NULL), 0);
	assert_int_equal(ops_store_load(dir, &b, NULL), 0);
	assert_string_equal(b.id, "web");
	assert_string_equal(b.bundle, a.bundle);
	assert_int_equal(b.status, OPS_RUNNING);
	assert_int_equal(b.created, 1700000000);
	assert_int_equal(b.vmm_pid, 1234);
	assert_int_equal(b.exit_status, 137);
	assert_true(b.image_held);
	assert_string_equal(b.last_error, a.last_error);
	assert_string_equal(b.vm.kernel, "/boot/vmlinuz");
	assert_int_equal(b.vm.vcpus, 2);
	assert_true(b.vm.memory_mib == 512);
	assert_true(b.vm.ready_ms == 5123.5);
	assert_null(b.vm.accel);
	ops_record_free(&a);
	ops_record_free(&b);
}

static void test_bad_records(void **state)
{
	static const char *bad[] = {
		"", "[]", "{\"status\":\"running\"}", "{\"id\":\"a/b\",\"status\":\"running\"}",
		"{\"id\":\"a\",\"status\":\"dancing\"}", "{\"id\":\"a\",\"status\":\"running\",\"vmmPid\":-4}",
		"{\"id\":\"a\",\"status\":\"running\",\"vm\":{\"vcpus\":\"x\"}}",
	};
	char path[128];
	snprintf(path, sizeof(path), "%s/state.json", dir);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ops_record r;
		struct oerr err = { 0 };
		file_write_atomic(path, bad[i], strlen(bad[i]), 0644);
		if (ops_store_load(dir, &r, &err) != -EINVAL)
			fail_msg("record %zu accepted", i);
		assert_non_null(strstr(err.msg, "state.json"));
	}
	unlink(path);
	assert_int_equal(ops_store_load(dir, &(struct ops_record){ 0 }, NULL), -ENOENT);
}

static int count_entries(void)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void check_untouched(void)
{
	struct ops_record b;
	assert_int_equal(ops_store_load(dir, &b, NULL), 0);
	assert_int_equal(b.status, OPS_RUNNING); /* the old record, whole */
	ops_record_free(&b);
	assert_int_equal(count_entries(), 1);   /* no temp file left */
}

static void test_enospc(void **state)
{
	struct ops_record a;
	struct oerr err = { 0 };

	if (mount("tmpfs", dir, "tmpfs", 0, "size=16k") < 0) {
		print_message("cannot mount a tmpfs here (%s): skipped\n", strerror(errno));
		skip();
	}
	fill(&a, OPS_RUNNING);
	assert_int_equal(ops_store_save(dir, &a, NULL), 0);
	char path[128], block[4096];
	snprintf(path, sizeof(path), "%s/filler", dir);
	int fd = open(path, O_WRONLY | O_CREAT, 0644);
	memset(block, 'f', sizeof(block));
	while (write(fd, block, sizeof(block)) > 0)
		;
	close(fd);
	a.status = OPS_STOPPED;
	assert_int_equal(ops_store_save(dir, &a, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "cannot save state: No space left on device"));
	unlink(path);
	check_untouched();
	ops_record_free(&a);
}

static void test_injected_failure(void **state)
{
	struct ops_record a;
	char tmp[256];

	fill(&a, OPS_RUNNING);
	assert_int_equal(ops_store_save(dir, &a, NULL), 0);
	/* the temp file's name is taken by a directory: the write cannot happen */
	snprintf(tmp, sizeof(tmp), "%s/state.json.tmp.%ld", dir, (long)getpid());
	mkdir(tmp, 0700);
	a.status = OPS_STOPPED;
	assert_true(ops_store_save(dir, &a, NULL) < 0);
	rmdir(tmp);
	check_untouched();
	ops_record_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enospc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_injected_failure, setup, teardown),
	};
	return cmocka_run_group_tests_name("ops_store", tests, NULL, NULL);
}
