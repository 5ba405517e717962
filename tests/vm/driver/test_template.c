/* vm/driver/template.c without a hypervisor: a committed template reads
 * back (memory in a sealed memfd nobody can write, state at offset 0,
 * HELLO); a truncated memory file, another version or a changed state is
 * dropped (and the next get finds none: the caller rebuilds); a failed
 * write leaves no template; list, get, inputs, uses and remove. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "vm/driver/template.h"

#define KEY "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define MEM_BYTES (4u << 20)

static char root[64], dir[128];

static int setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/test_template.XXXXXX");
	assert_non_null(mkdtemp(root));
	snprintf(dir, sizeof(dir), "%s/templates", root);
	return 0;
}

static int teardown(void **state)
{
	vm_tpl_rmtree(root);
	return 0;
}

static void path_of(char *buf, size_t n, const char *file)
{
	snprintf(buf, n, "%s/%s/%s", dir, KEY, file);
}

static int commit_one(struct vm_templates *t, struct oerr *err);

/* A template as the template VM would leave it: guest RAM with a few
 * non-zero pages, a state stream. */
static int commit_limited(struct vm_templates *t, struct oerr *err, rlim_t fsize)
{
	char build[512], p[600];
	int mem = vm_tpl_memfd_new(MEM_BYTES);

	assert_true(mem >= 0);
	assert_int_equal(pwrite(mem, "kernel", 6, 0), 6);
	assert_int_equal(pwrite(mem, "page cache", 10, 3u << 20), 10);
	assert_int_equal(vm_tpl_build_dir(t, KEY, build, sizeof(build), err), 0);
	snprintf(p, sizeof(p), "%s/t/state", build);
	assert_int_equal(file_write_atomic(p, "QEVM state bytes", 16, 0600), 0);
	struct rlimit old, small = { fsize, fsize };
	getrlimit(RLIMIT_FSIZE, &old);
	small.rlim_max = old.rlim_max;
	if (fsize)
		assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	int r = vm_tpl_commit(t, KEY, build, mem, MEM_BYTES, "inputs text\n",
			      "ocivm-init 2 stdin-ack exec", err);
	setrlimit(RLIMIT_FSIZE, &old);
	vm_tpl_rmtree(build);
	close(mem);
	return r;
}

static int commit_one(struct vm_templates *t, struct oerr *err)
{
	return commit_limited(t, err, 0);
}

static void test_template_roundtrip(void **state)
{
	struct vm_templates *t;
	struct oerr err = { 0 };
	struct vm_tpl tpl;
	char why[256], buf[16];

	assert_int_equal(vm_templates_open(dir, &t, &err), 0);
	assert_int_equal(vm_tpl_get(t, KEY, &tpl, why, sizeof(why)), 0);   /* none yet */
	assert_string_equal(why, "");
	assert_int_equal(commit_one(t, &err), 0);
	assert_int_equal(vm_tpl_get(t, KEY, &tpl, why, sizeof(why)), 1);
	assert_string_equal(tpl.hello, "ocivm-init 2 stdin-ack exec");
	assert_int_equal(pread(tpl.mem_fd, buf, 10, 3u << 20), 10);
	assert_memory_equal(buf, "page cache", 10);
	/* sealed: no VM (nor the daemon) can change it under its siblings */
	assert_int_equal(fcntl(tpl.mem_fd, F_GET_SEALS) & F_SEAL_WRITE, F_SEAL_WRITE);
	assert_int_equal(pwrite(tpl.mem_fd, "x", 1, 0), -1);
	assert_int_equal(errno, EPERM);
	assert_ptr_equal(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, tpl.mem_fd, 0),
			 MAP_FAILED);
	void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, tpl.mem_fd, 0);
	assert_ptr_not_equal(m, MAP_FAILED);   /* what QEMU does: copy-on-write */
	memcpy(m, "guest", 5);
	munmap(m, 4096);
	assert_int_equal(pread(tpl.mem_fd, buf, 6, 0), 6);
	assert_memory_equal(buf, "kernel", 6);
	assert_int_equal(read(tpl.state_fd, buf, 4), 4);
	assert_memory_equal(buf, "QEVM", 4);
	close(tpl.mem_fd);
	close(tpl.state_fd);

	/* a fresh daemon (no cached memfd) loads and checks the file */
	vm_templates_close(t);
	assert_int_equal(vm_templates_open(dir, &t, &err), 0);
	assert_int_equal(vm_tpl_get(t, KEY, &tpl, why, sizeof(why)), 1);
	assert_int_equal(pread(tpl.mem_fd, buf, 6, 0), 6);
	assert_memory_equal(buf, "kernel", 6);
	close(tpl.mem_fd);
	close(tpl.state_fd);

	struct vm_template_info *v;
	size_t n;
	char *inputs;
	vm_tpl_count_use(t, KEY);
	vm_tpl_count_use(t, KEY);
	assert_int_equal(vm_templates_list(t, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].key, KEY);
	assert_int_equal(v[0].uses, 2);
	assert_true(v[0].created > 0 && v[0].size > 0);
	free(v);
	assert_int_equal(vm_templates_inputs(t, KEY, &inputs), 0);
	assert_string_equal(inputs, "inputs text\n");
	free(inputs);
	assert_int_equal(vm_templates_remove(t, KEY, &err), 0);
	assert_int_equal(vm_templates_remove(t, KEY, &err), -ENOENT);
	assert_int_equal(vm_templates_remove(t, "../x", &err), -ENOENT);
	assert_int_equal(vm_tpl_get(t, KEY, &tpl, why, sizeof(why)), 0);
	assert_int_equal(vm_templates_list(t, &v, &n), 0);
	assert_int_equal(n, 0);
	free(v);
	vm_templates_close(t);
}

/* Each damage is found, the template dropped with the reason, and the next
 * get finds none (the caller builds it again). */
static void damage(void (*hurt)(void), const char *reason)
{
	struct vm_templates *t;
	struct oerr err = { 0 };
	struct vm_tpl tpl;
	char why[256], p[600];
	struct stat st;

	assert_int_equal(vm_templates_open(dir, &t, &err), 0);
	assert_int_equal(commit_one(t, &err), 0);
	vm_templates_close(t);   /* the memory is checked when a daemon loads it */
	hurt();
	assert_int_equal(vm_templates_open(dir, &t, &err), 0);
	assert_int_equal(vm_tpl_get(t, KEY, &tpl, why, sizeof(why)), 0);
	assert_non_null(strstr(why, reason));
	snprintf(p, sizeof(p), "%s/%s", dir, KEY);
	assert_int_equal(stat(p, &st), -1);
	assert_int_equal(vm_tpl_get(t, KEY, &tpl, why, sizeof(why)), 0);
	assert_string_equal(why, "");
	vm_templates_close(t);
}

static void truncate_mem(void)
{
	char p[600];
	path_of(p, sizeof(p), "mem");
	assert_int_equal(truncate(p, 1u << 20), 0);
}

static void flip_mem(void)
{
	char p[600];
	path_of(p, sizeof(p), "mem");
	int fd = open(p, O_WRONLY);
	assert_int_equal(pwrite(fd, "K", 1, 0), 1);
	close(fd);
}

static void old_version(void)
{
	char p[600];
	char *text;
	size_t len;
	path_of(p, sizeof(p), "header");
	assert_int_equal(file_read_all(p, 4096, &text, &len), 0);
	text[strlen("ocivm-template ")] = '0';
	assert_int_equal(file_write_atomic(p, text, len, 0644), 0);
	free(text);
}

static void flip_state(void)
{
	char p[600];
	path_of(p, sizeof(p), "state");
	assert_int_equal(file_write_atomic(p, "QEVM state bytez", 16, 0600), 0);
}

static void test_template_damage(void **state)
{
	damage(truncate_mem, "truncated");
	damage(flip_mem, "mem: SHA-256");
	damage(old_version, "version 0");
	damage(flip_state, "state: 16 bytes SHA-256");
}

/* A write that fails midway (a full disk; here RLIMIT_FSIZE) leaves no
 * template at DIR/KEY. */
static void test_template_write_fails(void **state)
{
	struct vm_templates *t;
	struct oerr err = { 0 };
	char p[600];
	struct stat st;

	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(vm_templates_open(dir, &t, &err), 0);
	int r = commit_limited(t, &err, 1u << 20);
	assert_true(r < 0);
	assert_non_null(strstr(err.msg, "writing"));
	snprintf(p, sizeof(p), "%s/%s", dir, KEY);
	assert_int_equal(stat(p, &st), -1);
	vm_templates_close(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_template_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_template_damage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_template_write_fails, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
