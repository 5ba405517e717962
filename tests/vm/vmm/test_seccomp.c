/* ocivm-vmm's confinement without KVM (vm/vmm/seccomp.c, jail.c): each
 * filter is loaded for real in a forked child, which then makes an allowed
 * call (it must go on) or a forbidden one (it must die of SIGSYS); the jail
 * step runs for real in a child as well (root only). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "vm/vmm/jail.h"
#include "vm/vmm/seccomp.h"

/* A pipe made before the filter (the VMM opens everything before, too). */
static int tp[2] = { -1, -1 };

/* Run fn in a child under the filter of kind k; its wait status. */
static int run_filtered(enum vmm_thread_kind k, int (*fn)(void))
{
	if (tp[0] < 0)
		assert_int_equal(pipe(tp), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (vmm_seccomp_enter(k) < 0)
			_exit(90);
		_exit(fn());
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static void expect_ok(enum vmm_thread_kind k, int (*fn)(void))
{
	int st = run_filtered(k, fn);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("%s filter: expected exit 0, got status 0x%x (signal %d)",
			 vmm_thread_kind_name(k), st, WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static void expect_sigsys(enum vmm_thread_kind k, int (*fn)(void))
{
	int st = run_filtered(k, fn);
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSYS)
		fail_msg("%s filter: expected death by SIGSYS, got status 0x%x",
			 vmm_thread_kind_name(k), st);
}

static int do_kvm_run(void)
{
	/* allowed by the filter; the kernel answers ENOTTY on a pipe */
	long r = syscall(SYS_ioctl, tp[0], KVM_RUN, 0);
	return r == -1 && errno == ENOTTY ? 0 : 2;
}
static int do_tcgets(void)
{
	struct termios t;
	syscall(SYS_ioctl, 0, TCGETS, &t);
	return 3;
}
static int do_open(void)
{
	syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY);
	return 3;
}
static int do_socket(void)
{
	syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	return 3;
}
static int do_fork(void)
{
	long r = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);   /* a process, not a thread */
	if (r == 0)
		_exit(0);
	return 3;
}
static int do_exec_mmap(void)
{
	syscall(SYS_mmap, 0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return 3;
}
static int do_kill_other(void)
{
	syscall(SYS_tgkill, 1, 1, 0);   /* init: another process */
	return 3;
}
static int do_io_calls(void)
{
	char c = 'x';
	if (write(tp[1], &c, 1) != 1 || read(tp[0], &c, 1) != 1)
		return 1;
	struct timespec ts = { 0, 0 };
	long r = syscall(SYS_pread64, tp[0], &c, 1, 0);   /* ESPIPE: allowed */
	if (r != -1 || errno != ESPIPE)
		return 2;
	return syscall(SYS_ppoll, NULL, 0, &ts, NULL, 8) == 0 ? 0 : 4;
}

static void *io_thread(void *arg)
{
	int *res = arg;
	*res = vmm_seccomp_enter(VMM_THREAD_IO) < 0 ? 10 : do_io_calls();
	return NULL;
}
/* A vCPU thread starts an I/O thread which stacks its own filter. */
static int do_start_io_thread(void)
{
	pthread_t t;
	int res = -1;
	if (pthread_create(&t, NULL, io_thread, &res) != 0)
		return 20;
	pthread_join(t, NULL);
	return res;
}
static int do_accept_nonsocket(void)
{
	long r = syscall(SYS_accept4, 0, NULL, NULL, SOCK_CLOEXEC);
	return r == -1 && errno == ENOTSOCK ? 0 : 2;
}
static int do_sigtimedwait(void)
{
	sigset_t s;
	struct timespec ts = { 0, 0 };
	sigemptyset(&s);
	sigaddset(&s, SIGUSR2);
	long r = syscall(SYS_rt_sigtimedwait, &s, NULL, &ts, 8);
	return r == -1 && errno == EAGAIN ? 0 : 2;
}

static void test_builds(void **state)
{
	for (int k = 0; k < VMM_THREAD_N; k++) {
		scmp_filter_ctx f;
		assert_int_equal(vmm_seccomp_build((enum vmm_thread_kind)k, getpid(), &f), 0);
		seccomp_release(f);
	}
}

static void test_vcpu(void **state)
{
	expect_ok(VMM_THREAD_VCPU, do_kvm_run);
	expect_ok(VMM_THREAD_VCPU, do_io_calls);
	expect_ok(VMM_THREAD_VCPU, do_start_io_thread);
	expect_sigsys(VMM_THREAD_VCPU, do_tcgets);
	expect_sigsys(VMM_THREAD_VCPU, do_open);
	expect_sigsys(VMM_THREAD_VCPU, do_socket);
	expect_sigsys(VMM_THREAD_VCPU, do_fork);
	expect_sigsys(VMM_THREAD_VCPU, do_exec_mmap);
	expect_sigsys(VMM_THREAD_VCPU, do_kill_other);
}

static void test_io(void **state)
{
	expect_ok(VMM_THREAD_IO, do_io_calls);
	expect_sigsys(VMM_THREAD_IO, do_kvm_run);   /* no ioctl at all */
	expect_sigsys(VMM_THREAD_IO, do_open);
	expect_sigsys(VMM_THREAD_IO, do_start_io_thread);   /* no clone */
}

static void test_control(void **state)
{
	expect_ok(VMM_THREAD_CONTROL, do_accept_nonsocket);
	expect_sigsys(VMM_THREAD_CONTROL, do_kvm_run);
	expect_sigsys(VMM_THREAD_CONTROL, do_socket);
	expect_sigsys(VMM_THREAD_CONTROL, do_open);
}

static void test_main(void **state)
{
	expect_ok(VMM_THREAD_MAIN, do_sigtimedwait);
	expect_sigsys(VMM_THREAD_MAIN, do_kvm_run);
	expect_sigsys(VMM_THREAD_MAIN, do_accept_nonsocket);
	expect_sigsys(VMM_THREAD_MAIN, do_fork);
}

static void test_parse_user(void **state)
{
	struct vmm_jail_cfg c = { 0 };
	assert_int_equal(vmm_jail_parse_user("65534:65534", &c), 0);
	assert_int_equal(c.uid, 65534);
	assert_int_equal(vmm_jail_parse_user("0:0", &c), -EINVAL);
	assert_int_equal(vmm_jail_parse_user("12", &c), -EINVAL);
	assert_int_equal(vmm_jail_parse_user("12:x", &c), -EINVAL);
	assert_int_equal(vmm_jail_parse_user(":12", &c), -EINVAL);
}

/* The jail for real: in a child, then checks from inside; the exit code
 * names the first check that failed. */
static void test_jail_for_real(void **state)
{
	if (geteuid() != 0) {
		skip();
		return;
	}
	char dir[] = "/tmp/test_vmm_jail.XXXXXX";
	assert_non_null(mkdtemp(dir));
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct vmm_jail_cfg c = { .root_dir = dir, .uid = 65534, .gid = 65534,
					  .nofile_extra = 8 };
		struct oerr err = { 0 };
		struct rlimit rl;
		int keep = open("/dev/null", O_RDONLY);   /* opened before: still usable */
		if (vmm_jail_enter(&c, &err) < 0) {
			fprintf(stderr, "jail: %s\n", err.msg);
			_exit(10);
		}
		if (getuid() != 65534 || getgid() != 65534 || geteuid() != 65534)
			_exit(11);
		if (access("/etc", F_OK) == 0 || access("/tmp", F_OK) == 0 || access("/proc", F_OK) == 0)
			_exit(12);
		if (prctl(PR_CAPBSET_READ, 21 /* CAP_SYS_ADMIN */, 0, 0, 0) != 0)
			_exit(13);
		if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
			_exit(14);
		if (getrlimit(RLIMIT_CORE, &rl) < 0 || rl.rlim_max != 0)
			_exit(15);
		if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_max <= (rlim_t)keep ||
		    rl.rlim_max >= 1024)
			_exit(16);
		char b;
		if (read(keep, &b, 1) != 0)
			_exit(17);
		if (mkdir("/x", 0700) == 0)   /* the root is read-only */
			_exit(18);
		struct if_nameindex *ifs = if_nameindex();   /* a new netns: lo only */
		size_t n_if = 0;
		for (struct if_nameindex *i = ifs; i && i->if_index; i++)
			n_if++;
		if (!ifs || n_if != 1 || strcmp(ifs[0].if_name, "lo"))
			_exit(20);
		if_freenameindex(ifs);
		if (vmm_seccomp_enter(VMM_THREAD_MAIN) < 0)   /* unprivileged: NNP set */
			_exit(19);
		_exit(0);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	rmdir(dir);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("jailed child: status 0x%x (exit %d)", st, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* With a thread running, the mount namespace cannot be entered: the jail
 * says why instead of running half-confined. */
static void *sleeper(void *arg) { pause(); return arg; }
static void test_jail_refuses_threads(void **state)
{
	if (geteuid() != 0) {
		skip();
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		pthread_t t;
		struct vmm_jail_cfg c = { .root_dir = "/nonexistent", .uid = 65534, .gid = 65534 };
		struct oerr err = { 0 };
		pthread_create(&t, NULL, sleeper, NULL);
		int r = vmm_jail_enter(&c, &err);
		_exit(r == -EINVAL && strstr(err.msg, "threads already running") ? 0 : 1);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builds),
		cmocka_unit_test(test_vcpu),
		cmocka_unit_test(test_io),
		cmocka_unit_test(test_control),
		cmocka_unit_test(test_main),
		cmocka_unit_test(test_parse_user),
		cmocka_unit_test(test_jail_for_real),
		cmocka_unit_test(test_jail_refuses_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
