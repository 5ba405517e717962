/* Confinement of the hypervisor process (vm/driver/jail.c): the QEMU argv
 * when everything is passed as fds, the vm user lookup, what the daemon
 * opens before fork, and — for real, as root — a jailed child's
 * /proc/self/status (uid, capabilities, no_new_privs, mount namespace). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "vm/driver/jail.h"
#include "vm/driver/spawn.h"

static const char *arg_after(const struct strv *a, const char *opt, int nth)
{
	for (size_t i = 0; i + 1 < a->n; i++)
		if (strcmp(a->v[i], opt) == 0 && nth-- == 0)
			return a->v[i + 1];
	return NULL;
}

static bool any_arg_contains(const struct strv *a, const char *s)
{
	for (size_t i = 0; i < a->n; i++)
		if (strstr(a->v[i], s))
			return true;
	return false;
}

static void test_qemu_argv_confined(void **state)
{
	static const struct vm_disk disks[] = {
		{ .path = "/cache/abc.img", .serial = "rootfs", .readonly = true },
		{ .path = "/img/rw.raw", .serial = "image", .readonly = false },
	};
	struct vm_config cfg = { .id = "c1", .run_dir = "/run/ocivmfs/c1", .kernel = "/k/vmlinuz",
				 .initrd = "/k/initrd.img", .disks = disks, .n_disks = 2 };
	struct vm_jail_fds fds = { .chan = 3, .control = 4, .console = 5, .kernel = 6, .initrd = 7,
				   .disk_ro = { 8, 9 }, .disk_rw = { -1, 10 } };
	struct vm_paths p;
	struct oerr err = { 0 };
	struct strv a;

	assert_int_equal(vm_paths_init(&p, cfg.run_dir, &err), 0);
	struct vm_launch l = { .cfg = &cfg, .paths = &p, .binary = "/usr/bin/hv",
			       .accel = VM_ACCEL_TCG, .fds = &fds };
	strv_init(&a);
	assert_int_equal(vm_driver_qemu.build_argv(&l, &a, &err), 0);
	assert_string_equal(arg_after(&a, "-sandbox", 0),
			    "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
	assert_string_equal(arg_after(&a, "-kernel", 0), "/proc/self/fd/6");
	assert_string_equal(arg_after(&a, "-initrd", 0), "/proc/self/fd/7");
	/* console: fd set 1; disks: sets 10, 11 (the rw one gets both fds) */
	assert_string_equal(arg_after(&a, "-add-fd", 0), "fd=8,set=10");
	assert_string_equal(arg_after(&a, "-add-fd", 1), "fd=9,set=11");
	assert_string_equal(arg_after(&a, "-add-fd", 2), "fd=10,set=11");
	assert_string_equal(arg_after(&a, "-add-fd", 3), "fd=5,set=1");
	assert_true(strncmp(arg_after(&a, "-drive", 0), "file=/dev/fdset/10,", 19) == 0);
	assert_non_null(strstr(arg_after(&a, "-drive", 0), "readonly=on"));
	assert_true(strncmp(arg_after(&a, "-drive", 1), "file=/dev/fdset/11,", 19) == 0);
	assert_string_equal(arg_after(&a, "-chardev", 0), "file,id=con0,path=/dev/fdset/1");
	assert_string_equal(arg_after(&a, "-chardev", 1), "socket,id=ch0,fd=3,server=on,wait=off");
	assert_string_equal(arg_after(&a, "-chardev", 2), "socket,id=qmp0,fd=4,server=on,wait=off");
	assert_string_equal(arg_after(&a, "-mon", 0), "chardev=qmp0,mode=control");
	/* no host path reaches QEMU: it opens nothing by name */
	assert_false(any_arg_contains(&a, "/run/ocivmfs"));
	assert_false(any_arg_contains(&a, "/cache/"));
	assert_false(any_arg_contains(&a, "/k/"));
	assert_null(arg_after(&a, "-qmp", 0));
	strv_free(&a);

	/* unconfined: paths, no -sandbox */
	l.fds = NULL;
	strv_init(&a);
	assert_int_equal(vm_driver_qemu.build_argv(&l, &a, &err), 0);
	assert_null(arg_after(&a, "-sandbox", 0));
	assert_string_equal(arg_after(&a, "-kernel", 0), "/k/vmlinuz");
	strv_free(&a);
}

/* ocivm-vmm confines itself: the driver passes where and as whom. */
static void test_vmm_argv_confined(void **state)
{
	struct vm_config cfg = { .id = "c1", .run_dir = "/run/ocivmfs/c1", .kernel = "/k/vmlinuz" };
	struct vm_jail j = { .on = true, .vmm_self = true, .uid = 999, .gid = 998,
			     .root = "/run/ocivmfs/c1/root" };
	struct vm_paths p;
	struct oerr err = { 0 };
	struct strv a;

	assert_int_equal(vm_paths_init(&p, cfg.run_dir, &err), 0);
	struct vm_launch l = { .cfg = &cfg, .paths = &p, .binary = "/usr/bin/ocivm-vmm",
			       .accel = VM_ACCEL_KVM, .jail = &j };
	strv_init(&a);
	assert_int_equal(vm_driver_vmm.build_argv(&l, &a, &err), 0);
	assert_string_equal(arg_after(&a, "--jail-root", 0), "/run/ocivmfs/c1/root");
	assert_string_equal(arg_after(&a, "--jail-user", 0), "999:998");
	strv_free(&a);
	j.vmm_self = false;   /* daemon not root: the filters alone */
	strv_init(&a);
	assert_int_equal(vm_driver_vmm.build_argv(&l, &a, &err), 0);
	assert_null(arg_after(&a, "--jail-root", 0));
	assert_true(any_arg_contains(&a, "--seccomp"));
	strv_free(&a);
	l.jail = NULL;
	strv_init(&a);
	assert_int_equal(vm_driver_vmm.build_argv(&l, &a, &err), 0);
	assert_false(any_arg_contains(&a, "--seccomp"));
	assert_false(any_arg_contains(&a, "--jail"));
	strv_free(&a);
}

static void test_confine_init(void **state)
{
	struct vm_confine c;
	struct oerr err = { 0 };

	assert_int_equal(vm_confine_init("no-such-user-x", false, &c, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "no-such-user-x"));
	assert_int_equal(vm_confine_init("root", false, &c, &err), -EINVAL);
	assert_int_equal(vm_confine_init(NULL, true, &c, &err), 0);
	assert_false(c.on);
	assert_int_equal(vm_confine_init(NULL, false, &c, &err), 0);
	assert_true(c.on);
	assert_true(strcmp(c.user, "ocivm") == 0 || strcmp(c.user, "nobody") == 0);
	assert_true(c.uid != 0);
}

struct tmp { char dir[64]; };

static void tmp_setup(struct tmp *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/test_jail.XXXXXX");
	assert_non_null(mkdtemp(t->dir));
}

static void tmp_file(const struct tmp *t, const char *name, mode_t mode, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", t->dir, name);
	assert_int_equal(file_write_atomic(out, "x", 1, mode), 0);
}

static void tmp_cleanup(const struct tmp *t)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", t->dir);
	assert_int_equal(system(cmd), 0);
}

/* What the daemon opens before fork, and the refusal of a kernel the vm
 * user could not read. */
static void test_prepare(void **state)
{
	struct tmp t;
	char kernel[96], initrd[96], disk[96], run[96];
	struct vm_confine conf;
	struct oerr err = { 0 };

	tmp_setup(&t);
	tmp_file(&t, "k", 0644, kernel, sizeof(kernel));
	tmp_file(&t, "i", 0644, initrd, sizeof(initrd));
	tmp_file(&t, "d", 0600, disk, sizeof(disk));
	snprintf(run, sizeof(run), "%s/run", t.dir);
	assert_int_equal(mkdir(run, 0700), 0);
	assert_int_equal(vm_confine_init(NULL, false, &conf, &err), 0);
	struct vm_disk d = { .path = disk, .serial = "rootfs", .readonly = false };
	struct vm_config cfg = { .id = "t1", .run_dir = run, .kernel = kernel, .initrd = initrd,
				 .disks = &d, .n_disks = 1, .confine = &conf };
	struct vm_paths p;
	assert_int_equal(vm_paths_init(&p, run, &err), 0);
	struct vm_launch l = { .cfg = &cfg, .paths = &p, .binary = "/bin/true",
			       .accel = VM_ACCEL_TCG };
	struct vm_jail j;
	struct vm_jail_fds fds;

	assert_int_equal(vm_jail_prepare_qemu(&j, &fds, &l, &err), 0);
	assert_true(j.on);
	/* chan, control, console, kernel, initrd, disk ro + rw */
	assert_int_equal(j.n_fds, 7);
	assert_int_equal(fds.chan, 3);
	assert_int_equal(fds.disk_rw[0], 9);
	assert_true(j.exec_fd >= 0);
	assert_int_equal(access(p.chan_sock, F_OK), 0);
	_cleanup_free_ char *text = NULL;
	assert_int_equal(vm_confinement_text(run, &text), 0);
	assert_non_null(strstr(text, "seccomp qemu -sandbox on,"));
	assert_non_null(strstr(text, "no_new_privs 1"));
	vm_jail_release(&j);
	vm_jail_cleanup(run);

	if (geteuid() == 0) {   /* the kernel must be readable by the vm user */
		chmod(kernel, 0600);
		assert_int_equal(vm_jail_prepare_qemu(&j, &fds, &l, &err), -EACCES);
		assert_non_null(strstr(err.msg, "not readable by the vm user"));
		vm_jail_release(&j);
	}
	/* unconfined: only the two listening sockets, passed as fds (QEMU
	 * binding the path itself stops at sun_path's 108 bytes) */
	conf.on = false;
	assert_int_equal(vm_jail_prepare_qemu(&j, &fds, &l, &err), 0);
	assert_false(j.on);
	assert_true(j.pass_fds);
	assert_int_equal(j.n_fds, 2);
	assert_int_equal(fds.chan, 3);
	assert_int_equal(fds.control, 4);
	assert_int_equal(fds.console, -1);
	assert_int_equal(fds.kernel, -1);
	assert_int_equal(access(p.control_sock, F_OK), 0);
	vm_jail_release(&j);
	tmp_cleanup(&t);
}

/* For real: a jailed /bin/cat prints its own status into the log. */
static void test_enter_for_real(void **state)
{
	if (geteuid() != 0) {
		skip();
		return;
	}
	struct tmp t;
	char kernel[96], log[128], run[96];
	struct vm_confine conf;
	struct oerr err = { 0 };

	tmp_setup(&t);
	tmp_file(&t, "k", 0644, kernel, sizeof(kernel));
	snprintf(run, sizeof(run), "%s/run", t.dir);
	snprintf(log, sizeof(log), "%s/log", run);
	assert_int_equal(mkdir(run, 0700), 0);
	assert_int_equal(vm_confine_init(NULL, false, &conf, &err), 0);
	struct vm_config cfg = { .id = "t2", .run_dir = run, .kernel = kernel, .confine = &conf };
	struct vm_paths p;
	assert_int_equal(vm_paths_init(&p, run, &err), 0);
	struct vm_launch l = { .cfg = &cfg, .paths = &p, .binary = "/usr/bin/cat",
			       .accel = VM_ACCEL_TCG };
	struct vm_jail j;
	struct vm_jail_fds fds;
	assert_int_equal(vm_jail_prepare_qemu(&j, &fds, &l, &err), 0);

	char *argv[] = { "cat", "/proc/self/status", "/proc/self/limits", NULL };
	pid_t pid;
	int pidfd, st;
	assert_int_equal(vm_spawn_jailed(argv, log, &j, &pid, &pidfd, &err), 0);
	vm_jail_release(&j);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	close(pidfd);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	_cleanup_free_ char *out = NULL;
	size_t n;
	char uid[64];
	assert_int_equal(file_read_all(log, 1 << 16, &out, &n), 0);
	snprintf(uid, sizeof(uid), "Uid:\t%u\t%u\t%u\t%u\n", (unsigned)conf.uid,
		 (unsigned)conf.uid, (unsigned)conf.uid, (unsigned)conf.uid);
	assert_non_null(strstr(out, uid));
	assert_non_null(strstr(out, "CapEff:\t0000000000000000"));
	assert_non_null(strstr(out, "CapBnd:\t0000000000000000"));
	assert_non_null(strstr(out, "NoNewPrivs:\t1"));
	assert_non_null(strstr(out, "Max core file size        0"));

	/* a step that fails in the child comes back as the spawn's error */
	assert_int_equal(vm_jail_prepare_qemu(&j, &fds, &l, &err), 0);
	snprintf(j.root, sizeof(j.root), "%s/no-such-dir", run);
	memset(&err, 0, sizeof(err));
	assert_int_equal(vm_spawn_jailed(argv, log, &j, &pid, &pidfd, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "confining"));
	assert_non_null(strstr(err.msg, "--no-confine"));
	vm_jail_release(&j);
	vm_jail_cleanup(run);
	tmp_cleanup(&t);
}

/* The daemon sees a SIGSYS death (a seccomp kill) before reaping. */
static void test_exit_signal(void **state)
{
	char *argv[] = { "/bin/sleep", "60", NULL };
	struct oerr err = { 0 };
	pid_t pid;
	int pidfd, st;

	assert_int_equal(vm_spawn(argv, "/dev/null", &pid, &pidfd, &err), 0);
	assert_int_equal(vm_exit_signal(pidfd), 0);   /* running */
	kill(pid, SIGSYS);
	assert_int_equal(vm_pidfd_wait(pidfd, 10000), 1);
	assert_int_equal(vm_exit_signal(pidfd), SIGSYS);
	assert_int_equal(vm_exit_signal(pidfd), SIGSYS);   /* WNOWAIT: still there */
	st = vm_reap(pidfd, true);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
	assert_int_equal(vm_exit_signal(pidfd), 0);   /* reaped */
	close(pidfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qemu_argv_confined),
		cmocka_unit_test(test_vmm_argv_confined),
		cmocka_unit_test(test_confine_init),
		cmocka_unit_test(test_prepare),
		cmocka_unit_test(test_enter_for_real),
		cmocka_unit_test(test_exit_signal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
