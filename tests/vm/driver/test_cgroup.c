/* vm/driver/cgroup.c, cgroup_res.c against directories that mimic a cgroup
 * file system (regular files stand for the control files: the code opens
 * them O_WRONLY without O_CREAT, so each test makes the ones it expects
 * written) and a fake /proc/self/cgroup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "vm/driver/jail.h"

static char root[64];

static void put(const char *rel, const char *text)
{
	char path[512], dir[512];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	assert_int_equal(mkdir_p(dir, 0755), 0);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(fd_write_all(fd, text, strlen(text)), 0);
	close(fd);
}

static void want(const char *rel, const char *text)
{
	char path[512];
	_cleanup_free_ char *data = NULL;
	size_t n;
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(file_read_all(path, 4096, &data, &n), 0);
	assert_string_equal(data, text);
}

static void want_prefix(const char *rel, const char *text)
{
	char path[512];
	_cleanup_free_ char *data = NULL;
	size_t n;
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(file_read_all(path, 4096, &data, &n), 0);
	assert_memory_equal(data, text, strlen(text));
}

static int setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/test_cgroup.XXXXXX");
	assert_non_null(mkdtemp(root));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void jail_init(struct vm_jail *j)
{
	memset(j, 0, sizeof(*j));
	for (int i = 0; i < VM_JAIL_CGROUPS; i++)
		j->cgroup_fds[i] = -1;
}

static void jail_close(struct vm_jail *j)
{
	for (int i = 0; i < VM_JAIL_CGROUPS; i++)
		if (j->cgroup_fds[i] >= 0)
			close(j->cgroup_fds[i]);
}

static void test_self_path(void **state)
{
	const char *t = "12:cpuset:/a\n11:cpu,cpuacct:/b/c\n4:memory:/m\n3:pids:/\n0::/u/v\n";
	char buf[64];

	assert_int_equal(vm_cgroup_self_path(t, "cpu", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/b/c");            /* not cpuset's /a */
	assert_int_equal(vm_cgroup_self_path(t, "cpuset", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/a");
	assert_int_equal(vm_cgroup_self_path(t, "cpuacct", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/b/c");
	assert_int_equal(vm_cgroup_self_path(t, "pids", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(vm_cgroup_self_path(t, "", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/u/v");
	assert_int_equal(vm_cgroup_self_path(t, "mem", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(vm_cgroup_self_path("1:cpuset:/x\n", "cpu", buf, sizeof(buf)), -ENOENT);
}

static void test_weight(void **state)
{
	assert_int_equal(vm_cgroup_shares_to_weight(2), 1);
	assert_int_equal(vm_cgroup_shares_to_weight(1024), 39);
	assert_int_equal(vm_cgroup_shares_to_weight(262144), 10000);
	assert_int_equal(vm_cgroup_shares_to_weight(0), 1);
}

/* v2 where the daemon's cgroup does not hand memory down yet: it must write
 * its own cgroup.subtree_control (was ".../cgroup.subtree_control/":
 * ENOTDIR, no cgroup at all), then the cpu resources. */
static void test_v2(void **state)
{
	struct vm_jail j;
	char note[200] = "", self[600];
	const struct vm_resources res = { .cpu_quota = 150000, .cpu_period = 100000,
					  .cpu_shares = 1024, .cpus = "0-1" };

	put("self", "0::/d/e\n");
	snprintf(self, sizeof(self), "%s/self", root);
	put("fs/cgroup.controllers", "cpuset cpu io memory pids\n");
	put("fs/d/e/cgroup.subtree_control", "");
	put("fs/d/e/ocivmfs/cgroup.subtree_control", "");
	const char *files[] = { "cgroup.procs", "memory.max", "pids.max", "cpu.max", "cpu.weight",
				"cpuset.cpus" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char rel[128];
		snprintf(rel, sizeof(rel), "fs/d/e/ocivmfs/c1/%s", files[i]);
		put(rel, "");
	}
	char fs[128];
	snprintf(fs, sizeof(fs), "%s/fs", root);
	jail_init(&j);
	assert_int_equal(vm_cgroup_create_in(&j, fs, self, "c1", 300ull << 20, 512, &res, note,
					     sizeof(note)), 0);
	assert_string_equal(note, "");
	assert_int_equal(j.n_cgroups, 1);
	/* regular files are overwritten, not appended to as the kernel's */
	want_prefix("fs/d/e/cgroup.subtree_control", "+cpu +cpuset");
	want_prefix("fs/d/e/ocivmfs/cgroup.subtree_control", "+cpu +cpuset");
	want("fs/d/e/ocivmfs/c1/memory.max", "314572800");
	want("fs/d/e/ocivmfs/c1/pids.max", "512");
	want("fs/d/e/ocivmfs/c1/cpu.max", "150000 100000");
	want("fs/d/e/ocivmfs/c1/cpu.weight", "39");
	want("fs/d/e/ocivmfs/c1/cpuset.cpus", "0-1");
	assert_non_null(strstr(j.text, "cgroup v2 memory.max 300 MiB pids.max 512\n"));
	assert_non_null(strstr(j.text, "cgroup cpu quota 150000 period 100000 shares 1024 "
				       "(weight 39) cpus 0-1\n"));
	jail_close(&j);
}

/* v2 without the cpu controller: the cgroup stays, the record says why. */
static void test_v2_no_cpu(void **state)
{
	struct vm_jail j;
	char note[200] = "", self[600], fs[128];
	const struct vm_resources res = { .cpu_shares = 512 };

	put("self", "0::/\n");
	snprintf(self, sizeof(self), "%s/self", root);
	put("fs/cgroup.controllers", "memory pids cpuset\n");
	put("fs/cgroup.subtree_control", "memory pids\n");
	put("fs/ocivmfs/cgroup.subtree_control", "");
	put("fs/ocivmfs/c2/cgroup.procs", "");
	put("fs/ocivmfs/c2/memory.max", "");
	put("fs/ocivmfs/c2/pids.max", "");
	snprintf(fs, sizeof(fs), "%s/fs", root);
	jail_init(&j);
	assert_int_equal(vm_cgroup_create_in(&j, fs, self, "c2", 1 << 20, 8, &res, note,
					     sizeof(note)), 0);
	assert_non_null(strstr(j.text, "cgroup cpu none: the cpu controller is not available"));
	jail_close(&j);
}

/* v1 (hybrid, as on this machine): memory, pids, then the cpu and cpuset
 * hierarchies each get ocivmfs/ID; cpuset's ocivmfs/ gets the parent's
 * cpus and mems first. */
static void test_v1(void **state)
{
	struct vm_jail j;
	char note[200] = "", self[600], fs[128];
	const struct vm_resources res = { .cpu_quota = 50000, .cpu_period = 25000,
					  .cpu_shares = 256, .cpus = "1" };

	put("self", "9:cpuset:/s\n8:pids:/p\n4:memory:/m\n2:cpu,cpuacct:/c\n0::/\n");
	snprintf(self, sizeof(self), "%s/self", root);
	put("fs/unified/cgroup.controllers", "hugetlb\n");
	put("fs/memory/m/ocivmfs/v/cgroup.procs", "");
	put("fs/memory/m/ocivmfs/v/memory.limit_in_bytes", "");
	put("fs/pids/p/ocivmfs/v/cgroup.procs", "");
	put("fs/pids/p/ocivmfs/v/pids.max", "");
	put("fs/cpu/c/ocivmfs/v/cgroup.procs", "");
	put("fs/cpu/c/ocivmfs/v/cpu.cfs_period_us", "");
	put("fs/cpu/c/ocivmfs/v/cpu.cfs_quota_us", "");
	put("fs/cpu/c/ocivmfs/v/cpu.shares", "");
	put("fs/cpuset/s/cpuset.cpus", "0-3\n");
	put("fs/cpuset/s/cpuset.mems", "0\n");
	put("fs/cpuset/s/ocivmfs/cpuset.cpus", "");
	put("fs/cpuset/s/ocivmfs/cpuset.mems", "");
	put("fs/cpuset/s/ocivmfs/v/cgroup.procs", "");
	put("fs/cpuset/s/ocivmfs/v/cpuset.cpus", "");
	put("fs/cpuset/s/ocivmfs/v/cpuset.mems", "");
	snprintf(fs, sizeof(fs), "%s/fs", root);
	jail_init(&j);
	assert_int_equal(vm_cgroup_create_in(&j, fs, self, "v", 2 << 20, 16, &res, note,
					     sizeof(note)), 0);
	assert_int_equal(j.n_cgroups, 4);
	for (int i = 0; i < 4; i++)
		assert_true(j.cgroup_fds[i] >= 0);
	want("fs/memory/m/ocivmfs/v/memory.limit_in_bytes", "2097152");
	want("fs/pids/p/ocivmfs/v/pids.max", "16");
	want("fs/cpu/c/ocivmfs/v/cpu.cfs_period_us", "25000");
	want("fs/cpu/c/ocivmfs/v/cpu.cfs_quota_us", "50000");
	want("fs/cpu/c/ocivmfs/v/cpu.shares", "256");
	want("fs/cpuset/s/ocivmfs/cpuset.cpus", "0-3");
	want("fs/cpuset/s/ocivmfs/cpuset.mems", "0");
	want("fs/cpuset/s/ocivmfs/v/cpuset.mems", "0");
	want("fs/cpuset/s/ocivmfs/v/cpuset.cpus", "1");
	assert_non_null(strstr(j.cgroups[2], "/fs/cpu/c/ocivmfs/v"));
	assert_non_null(strstr(j.cgroups[3], "/fs/cpuset/s/ocivmfs/v"));
	assert_non_null(strstr(j.text, "cgroup cpu quota 50000 period 25000 shares 256 "
				       "(weight 10) cpus 1\n"));
	jail_close(&j);
}

/* No resources: the same two cgroups as before, nothing about cpu. */
static void test_v1_none(void **state)
{
	struct vm_jail j;
	char note[200] = "", self[600], fs[128];

	put("self", "4:memory:/\n3:pids:/\n");
	snprintf(self, sizeof(self), "%s/self", root);
	put("fs/memory/ocivmfs/w/cgroup.procs", "");
	put("fs/memory/ocivmfs/w/memory.limit_in_bytes", "");
	put("fs/pids/ocivmfs/w/cgroup.procs", "");
	put("fs/pids/ocivmfs/w/pids.max", "");
	snprintf(fs, sizeof(fs), "%s/fs", root);
	jail_init(&j);
	assert_int_equal(vm_cgroup_create_in(&j, fs, self, "w", 1 << 20, 4, NULL, note,
					     sizeof(note)), 0);
	assert_int_equal(j.n_cgroups, 2);
	assert_null(strstr(j.text, "cgroup cpu"));
	jail_close(&j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_self_path),
		cmocka_unit_test(test_weight),
		cmocka_unit_test_setup_teardown(test_v2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v2_no_cpu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v1_none, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
