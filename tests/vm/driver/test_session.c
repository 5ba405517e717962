/* vm.h end to end against a fake ocivm-vmm (tests/vm/driver/fake_vmm.c):
 * spawn, handshake, frames to callbacks, stdin, signals, attach, pause,
 * death without EXITED, failures at create, destroy.  No KVM needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vm/vm.h"
#include "vm/driver/driver.h"
#include "vm/driver/resolve.h"

struct events {
	pid_t started;
	char out[256];
	size_t out_len;
	int exited;          /* -1 until on_exit */
	char reason[300];
	char log[64];
};

static void on_started(void *ctx, pid_t pid) { ((struct events *)ctx)->started = pid; }
static void on_output(void *ctx, int stream, const void *buf, size_t len)
{
	struct events *e = ctx;
	if (stream == 1 && e->out_len + len < sizeof(e->out)) {
		memcpy(e->out + e->out_len, buf, len);
		e->out_len += len;
		e->out[e->out_len] = '\0';
	}
}
static void on_log(void *ctx, const char *line) { snprintf(((struct events *)ctx)->log, 64, "%s", line); }
static void on_exit_cb(void *ctx, int status, const char *reason)
{
	struct events *e = ctx;
	assert_int_equal(e->exited, -1);   /* called once */
	e->exited = status;
	snprintf(e->reason, sizeof(e->reason), "%s", reason ? reason : "");
}
static const struct vm_callbacks cbs = {
	.on_started = on_started, .on_output = on_output, .on_log = on_log, .on_exit = on_exit_cb,
};

static char fake[PATH_MAX], run_dir[64], kernel[PATH_MAX];
static const char gspec[] = "version 1\nid t\nend\n";
static const struct vm_host_probe hw_probe = {
	.kvm_present = true, .kvm_hw_speed = true, .ns_per_insn = 1,
	.driver = VM_DRIVER_VMM, .accel = VM_ACCEL_KVM, .reason = "test: hardware",
};

static int setup(void **state)
{
	ssize_t n = readlink("/proc/self/exe", fake, sizeof(fake) - 32);
	assert_true(n > 0);
	fake[n] = '\0';
	strcpy(strrchr(fake, '/') + 1, "ocivm-vmm-fake");
	snprintf(kernel, sizeof(kernel), "/proc/self/exe");
	strcpy(run_dir, "/tmp/vmtest.XXXXXX");
	assert_non_null(mkdtemp(run_dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", run_dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* "--fake-mode=X" reaches the fake as OCIVM_FAKE_MODE=X (vm_create refuses
 * parameters off ocivm-vmm's allowlist); other params are passed. */
static struct vm_config config(const char *const *params, size_t n)
{
	unsetenv("OCIVM_FAKE_MODE");
	if (n == 1 && strncmp(params[0], "--fake-mode=", 12) == 0) {
		setenv("OCIVM_FAKE_MODE", params[0] + 12, 1);
		n = 0;
	}
	return (struct vm_config){
		.id = "t", .run_dir = run_dir, .probe = &hw_probe, .hypervisor_path = fake,
		.hypervisor_params = params, .n_hypervisor_params = n, .kernel = kernel,
		.gspec = gspec, .gspec_len = sizeof(gspec) - 1, .ready_timeout_ms = 5000,
	};
}

/* Dispatch until cond or the VM ends; fails after 30 s (at least: 3000
 * polls of 10 ms; a loaded machine only makes it longer). */
#define PUMP(vm, cond) do {                                                \
		for (int _i = 0; _i < 3000 && !(cond); _i++) {                 \
			struct pollfd _p = { vm_fd(vm), POLLIN, 0 };           \
			poll(&_p, 1, 10);                                      \
			assert_true(vm_dispatch(vm) >= 0);                     \
		}                                                              \
		assert_true(cond);                                             \
	} while (0)

static void file_exists(const char *name, bool want)
{
	char p[128];
	snprintf(p, sizeof(p), "%s/%s", run_dir, name);
	assert_int_equal(access(p, F_OK) == 0, want);
}

static void test_lifecycle(void **state)
{
	struct vm_config cfg = config(NULL, 0);
	char img[128], want[160];
	/* a cached rootfs image is attached read-only even when asked rw */
	snprintf(img, sizeof(img), "%s/images", run_dir);
	assert_int_equal(mkdir(img, 0700), 0);
	strcat(img, "/0123456789abcdef0123456789abcdef.ext4");
	close(open(img, O_CREAT | O_WRONLY, 0600));
	struct vm_disk disk = { .path = img, .serial = "rootfs", .readonly = false };
	cfg.disks = &disk;
	cfg.n_disks = 1;
	snprintf(want, sizeof(want), "--disk %s,ro,serial=rootfs", img);
	struct events ev = { .exited = -1 };
	struct oerr err = { 0 };
	struct vm *vm;
	struct vm_info info;

	assert_int_equal(vm_create(&cfg, &cbs, &ev, &vm, &err), 0);
	vm_get_info(vm, &info);
	assert_string_equal(info.driver, "ocivm-vmm");
	assert_string_equal(info.accel, "kvm");
	assert_non_null(strstr(info.cmdline, "--control"));
	assert_non_null(strstr(info.cmdline, want));
	assert_string_equal(info.kernel_cmdline, "console=ttyS0 panic=-1 reboot=t");
	assert_string_equal(info.notes, "");
	assert_int_equal(info.vcpus, 1);
	assert_true(info.memory_mib == 256);
	assert_true(info.ready_ms >= info.hello_ms && info.hello_ms >= info.spawn_ms);
	assert_true(vm_pid(vm) > 0);
	file_exists("vm.json", true);
	assert_int_equal(vm_start(vm, &err), 0);
	PUMP(vm, ev.out_len >= 6);
	assert_int_equal(ev.started, 42);
	assert_string_equal(ev.out, "hello\n");
	assert_string_equal(ev.log, "started");
	assert_int_equal(vm_write_stdin(vm, "abc", 3, &err), 0);
	PUMP(vm, ev.out_len >= 9);
	assert_string_equal(ev.out, "hello\nabc");
	assert_int_equal(vm_close_stdin(vm, &err), 0);
	PUMP(vm, ev.exited != -1);
	assert_int_equal(ev.exited, 3);
	assert_int_equal(vm_dispatch(vm), 1);
	assert_int_equal(vm_destroy(vm, 1000), 0);
	file_exists("vm.json", false);
	file_exists("control.sock", false);
	file_exists("console", true);   /* the container's console outlives the VM */
	file_exists("hypervisor.log", true);
	unlink(img);
	*strrchr(img, '/') = '\0';
	rmdir(img);
}

static void test_signal_pause_attach(void **state)
{
	struct vm_config cfg = config(NULL, 0);
	struct events ev = { .exited = -1 };
	struct oerr err = { 0 };
	struct vm *vm;
	int status = 0;

	assert_int_equal(vm_create(&cfg, &cbs, &ev, &vm, &err), 0);
	assert_int_equal(vm_pause(vm, &err), 0);
	assert_int_equal(vm_resume(vm, &err), 0);
	vm_free(vm);   /* the daemon goes away; the VM runs on */
	assert_int_equal(vm_attach(run_dir, &cbs, &ev, NULL, &vm, &status, &err), 0);
	assert_int_equal(vm_start(vm, &err), 0);
	PUMP(vm, ev.started == 42);
	assert_int_equal(vm_signal(vm, SIGTERM, &err), 0);
	PUMP(vm, ev.exited != -1);
	assert_int_equal(ev.exited, 128 + SIGTERM);
	assert_int_equal(vm_signal(vm, 0, &err), -EINVAL);
	vm_destroy(vm, 1000);
	oerr_clear(&err);
	assert_int_equal(vm_attach(run_dir, &cbs, &ev, NULL, &vm, &status, &err), -ESRCH);
	assert_int_equal(status, 255);
}

/* A guest that does not read: writers get EAGAIN at once instead of
 * blocking, a signal still goes in, and the queue drains from vm_dispatch. */
static void test_backpressure(void **state)
{
	const char *params[] = { "--fake-mode=deaf" };
	struct vm_config cfg = config(params, 1);
	struct events ev = { .exited = -1 };
	struct oerr err = { 0 };
	static char chunk[65536];
	struct vm *vm;
	int r = 0, writes = 0;

	assert_int_equal(vm_create(&cfg, &cbs, &ev, &vm, &err), 0);
	assert_int_equal(vm_start(vm, &err), 0);
	PUMP(vm, ev.started == 42);
	while (writes < 64 && (r = vm_write_stdin(vm, chunk, sizeof(chunk), &err)) == 0)
		writes++;
	assert_int_equal(r, -EAGAIN);
	assert_non_null(strstr(err.msg, "not reading"));
	assert_true(writes >= 16);   /* the 1 MiB queue filled first */
	oerr_clear(&err);
	assert_int_equal(vm_write_stdin(vm, chunk, 2u << 20, &err), -EMSGSIZE);
	oerr_clear(&err);
	assert_int_equal(vm_signal(vm, SIGKILL, &err), 0);
	PUMP(vm, ev.exited != -1);
	assert_int_equal(ev.exited, 128 + SIGKILL);
	vm_destroy(vm, 1000);
}

/* A kill behind 10 MB of stdin for a process that never reads it: the
 * guest stops reading the channel once it holds 1 MiB (as ocivm-init), so
 * the SIGNAL must never wait behind data: control frames have their own
 * queue, and STDIN stays within the window the guest acknowledges. */
static void test_kill_behind_unread_stdin(void **state)
{
	const char *params[] = { "--fake-mode=stuck" };
	struct vm_config cfg = config(params, 1);
	struct events ev = { .exited = -1 };
	struct oerr err = { 0 };
	static char chunk[65536];
	struct vm *vm;
	int taken = 0;

	assert_int_equal(vm_create(&cfg, &cbs, &ev, &vm, &err), 0);
	assert_int_equal(vm_start(vm, &err), 0);
	PUMP(vm, ev.started == 42);
	for (int i = 0; i < 160; i++) {   /* 10 MB, as far as it is taken */
		int r = vm_write_stdin(vm, chunk, sizeof(chunk), &err);
		oerr_clear(&err);
		taken += r == 0;
		struct pollfd p = { vm_fd(vm), POLLIN, 0 };
		poll(&p, 1, r == 0 ? 0 : 5);
		assert_true(vm_dispatch(vm) >= 0);
	}
	assert_true(taken >= 16);   /* a full queue's worth went in */
	assert_int_equal(vm_signal(vm, SIGKILL, &err), 0);
	PUMP(vm, ev.exited != -1);
	assert_int_equal(ev.exited, 128 + SIGKILL);
	vm_destroy(vm, 1000);
}

static void test_death_without_exited(void **state)
{
	struct vm_config cfg = config(NULL, 0);
	struct events ev = { .exited = -1 };
	struct oerr err = { 0 };
	struct vm *vm;

	assert_int_equal(vm_create(&cfg, &cbs, &ev, &vm, &err), 0);
	kill(vm_pid(vm), SIGKILL);
	PUMP(vm, ev.exited != -1);
	assert_int_equal(ev.exited, 255);
	assert_non_null(strstr(ev.reason, "without an exit status"));
	assert_non_null(strstr(ev.reason, "was killed by signal 9 (SIGKILL)"));
	assert_non_null(strstr(ev.reason, "console: fake kernel booting"));
	assert_int_equal(vm_start(vm, &err), -EPIPE);
	vm_destroy(vm, 100);
}

/* The channel breaks mid-conversation (a frame header that is none) while
 * the VM lives on: on_exit at once with status 255 and the reason, not
 * silence until someone kills the VM (the old code dropped the channel and
 * waited for the process to die). */
static void test_broken_channel(void **state)
{
	const char *params[] = { "--fake-mode=garble" };
	struct vm_config cfg = config(params, 1);
	struct events ev = { .exited = -1 };
	struct oerr err = { 0 };
	struct vm *vm;

	assert_int_equal(vm_create(&cfg, &cbs, &ev, &vm, &err), 0);
	assert_int_equal(vm_start(vm, &err), 0);
	PUMP(vm, ev.exited != -1);
	assert_string_equal(ev.out, "hello\n");
	assert_int_equal(ev.exited, 255);
	if (!strstr(ev.reason, "malformed frame"))
		fail_msg("reason '%s' lacks 'malformed frame'", ev.reason);
	assert_true(kill(vm_pid(vm), 0) == 0);   /* it was the channel, not the VM */
	vm_destroy(vm, 1000);
}

/* EXITED with a payload that is not 8 bytes: no status is made up from it
 * (the old code reported 255 with no reason). */
static void test_malformed_exited(void **state)
{
	const char *params[] = { "--fake-mode=badexit" };
	struct vm_config cfg = config(params, 1);
	struct events ev = { .exited = -1 };
	struct oerr err = { 0 };
	struct vm *vm;

	assert_int_equal(vm_create(&cfg, &cbs, &ev, &vm, &err), 0);
	assert_int_equal(vm_start(vm, &err), 0);
	PUMP(vm, ev.exited != -1);
	assert_int_equal(ev.exited, 255);
	if (!strstr(ev.reason, "malformed EXITED"))
		fail_msg("reason '%s' lacks 'malformed EXITED'", ev.reason);
	vm_destroy(vm, 1000);
}

static void expect_create_fails(const char *mode, int code, const char *msg, unsigned timeout)
{
	const char *params[] = { mode };
	struct vm_config cfg = config(params, 1);
	struct events ev = { .exited = -1 };
	struct oerr err = { 0 };
	struct vm *vm = NULL;

	cfg.ready_timeout_ms = timeout;
	assert_int_equal(vm_create(&cfg, &cbs, &ev, &vm, &err), -code);
	assert_null(vm);
	if (!strstr(err.msg, msg))
		fail_msg("%s: message '%s' lacks '%s'", mode, err.msg, msg);
	assert_int_equal(ev.exited, -1);
	file_exists("vm.json", false);
	file_exists("control.sock", false);
	file_exists("console", false);   /* a failed create leaves nothing */
	file_exists("hypervisor.log", false);
}

static void test_create_failures(void **state)
{
	expect_create_fails("--fake-mode=error", EIO, "fake: bad spec\\x1b[2J", 5000);   /* guest bytes escaped */
	expect_create_fails("--fake-mode=die", EIO, "guest crashed", 5000);
	/* an initrd of another protocol is refused (protocol 2: exec) */
	expect_create_fails("--fake-mode=oldinit", EPROTO, "the initrd does not match the daemon", 5000);
	expect_create_fails("--fake-mode=silent", ETIMEDOUT, "no HELLO", 300);
	expect_create_fails("--fake-mode=silent", ETIMEDOUT, "console: fake kernel booting", 300);
	/* a guest that floods the channel before HELLO still meets the deadline */
	expect_create_fails("--fake-mode=flood", ETIMEDOUT, "no HELLO", 300);
}

static void test_resolve_errors(void **state)
{
	struct vm_config cfg = config(NULL, 0);
	struct vm_host_probe slow = hw_probe;
	struct oerr err = { 0 };
	struct vm *vm = NULL;

	cfg.hypervisor_path = "/bin/true";
	assert_int_equal(vm_create(&cfg, &cbs, NULL, &vm, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not a hypervisor"));

	oerr_clear(&err);
	cfg.hypervisor_path = "/nonexistent/ocivm-vmm";
	assert_int_equal(vm_create(&cfg, &cbs, NULL, &vm, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "/nonexistent/ocivm-vmm"));

	oerr_clear(&err);
	slow.kvm_hw_speed = false;
	snprintf(slow.reason, sizeof(slow.reason), "kvm_pvm emulates the CPU");
	cfg.hypervisor_path = fake;
	cfg.probe = &slow;
	assert_int_equal(vm_create(&cfg, &cbs, NULL, &vm, &err), -ENODEV);
	assert_non_null(strstr(err.msg, "ocivm-vmm cannot run here: kvm_pvm"));

	oerr_clear(&err);
	cfg.hypervisor_path = NULL;
	cfg.driver = VM_DRIVER_QEMU;
	cfg.accel = VM_ACCEL_KVM;
	assert_int_equal(vm_create(&cfg, &cbs, NULL, &vm, &err), -ENODEV);
	assert_non_null(strstr(err.msg, "-accel kvm"));

	oerr_clear(&err);
	cfg.kernel = "/nonexistent/vmlinuz";
	assert_int_equal(vm_create(&cfg, &cbs, NULL, &vm, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "/nonexistent/vmlinuz"));
	assert_null(vm);
}

static void test_resolve_auto(void **state)
{
	struct vm_config cfg = config(NULL, 0);
	struct vm_host_probe slow = hw_probe;
	struct vm_choice c;
	struct oerr err = { 0 };
	char *path = getenv("PATH") ? strdup(getenv("PATH")) : NULL;

	if (access("/usr/bin/qemu-system-x86_64", X_OK) < 0 ||
	    access("/usr/bin/ocivm-vmm", F_OK) == 0 || access("/bin/ocivm-vmm", F_OK) == 0) {
		free(path);
		skip();
	}
	setenv("PATH", "/usr/bin:/bin", 1);   /* no ocivm-vmm there */
	cfg.hypervisor_path = NULL;
	/* hardware KVM, no ocivm-vmm installed: QEMU with KVM */
	assert_int_equal(vm_resolve(&cfg, &hw_probe, &c, &err), 0);
	assert_ptr_equal(c.drv, &vm_driver_qemu);
	assert_int_equal(c.accel, VM_ACCEL_KVM);
	assert_string_equal(c.binary, "/usr/bin/qemu-system-x86_64");
	free(c.binary);
	/* asked for ocivm-vmm by name: no silent substitute */
	cfg.driver = VM_DRIVER_VMM;
	assert_int_equal(vm_resolve(&cfg, &hw_probe, &c, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "ocivm-vmm: not found in PATH"));
	/* emulating KVM: QEMU with TCG */
	cfg.driver = VM_DRIVER_AUTO;
	slow.kvm_hw_speed = false;
	slow.driver = VM_DRIVER_QEMU;
	slow.accel = VM_ACCEL_TCG;
	assert_int_equal(vm_resolve(&cfg, &slow, &c, &err), 0);
	assert_ptr_equal(c.drv, &vm_driver_qemu);
	assert_int_equal(c.accel, VM_ACCEL_TCG);
	free(c.binary);
	/* a qemu path in the bundle picks QEMU whatever AUTO would say */
	cfg.hypervisor_path = "/usr/bin/qemu-system-x86_64";
	assert_int_equal(vm_resolve(&cfg, &hw_probe, &c, &err), 0);
	assert_ptr_equal(c.drv, &vm_driver_qemu);
	free(c.binary);
	if (path)
		setenv("PATH", path, 1);
	free(path);
}

/* A hypervisor that stops accepting (SIGSTOPped, wedged) fills its listen
 * backlog; connecting must then fail at once, never block the caller. */
static void test_connect_full_backlog(void **state)
{
	char path[128];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), held[4], n = 0;

	snprintf(path, sizeof(path), "%s/full.sock", run_dir);
	memcpy(sa.sun_path, path, strlen(path) + 1);   /* run_dir is short */
	assert_true(ls >= 0);
	assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(ls, 0), 0);
	for (; n < 4; n++) {   /* fill the backlog without blocking */
		held[n] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (connect(held[n], (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			close(held[n]);
			break;
		}
	}
	assert_true(n >= 1 && n < 4);
	pid_t pid = fork();
	if (pid == 0)
		_exit(vm_sock_connect(path) == -EAGAIN ? 0 : 1);
	int status = -1;
	for (int i = 0; i < 200 && waitpid(pid, &status, WNOHANG) == 0; i++)
		usleep(10 * 1000);
	if (status == -1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		fail_msg("vm_sock_connect blocked on a full backlog");
	}
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	while (n--)
		close(held[n]);
	close(ls);
	unlink(path);
}

/* A QMP peer that keeps sending events but never answers must not hold a
 * control request past its timeout (each event used to restart the wait). */
static void test_qmp_events_do_not_extend_timeout(void **state)
{
	struct vm_paths p;
	struct oerr err = { 0 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_int_equal(vm_paths_init(&p, run_dir, &err), 0);
	memcpy(sa.sun_path, p.control_sock, strlen(p.control_sock) + 1);
	unlink(p.control_sock);
	assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(ls, 4), 0);
	pid_t server = fork();
	if (server == 0) {
		int fd = accept(ls, NULL, NULL);
		const char *greet = "{\"QMP\": {}}\n", *ev = "{\"event\": \"RTC_CHANGE\"}\n";
		if (fd < 0 || write(fd, greet, strlen(greet)) < 0)
			_exit(1);
		while (write(fd, ev, strlen(ev)) > 0)
			usleep(50 * 1000);
		_exit(0);
	}
	pid_t client = fork();
	if (client == 0)
		_exit(vm_driver_qemu.control(&p, VM_CTL_PAUSE, 300, &err) == -ETIMEDOUT ? 0 : 1);
	int status = -1;
	for (int i = 0; i < 300 && waitpid(client, &status, WNOHANG) == 0; i++)
		usleep(10 * 1000);
	if (status == -1)
		kill(client, SIGKILL);
	kill(server, SIGKILL);
	waitpid(client, NULL, 0);
	waitpid(server, NULL, 0);
	close(ls);
	unlink(p.control_sock);
	if (status == -1)
		fail_msg("QMP control request still waiting after 3 s (timeout 300 ms)");
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lifecycle),
		cmocka_unit_test(test_signal_pause_attach),
		cmocka_unit_test(test_backpressure),
		cmocka_unit_test(test_kill_behind_unread_stdin),
		cmocka_unit_test(test_death_without_exited),
		cmocka_unit_test(test_broken_channel),
		cmocka_unit_test(test_malformed_exited),
		cmocka_unit_test(test_create_failures),
		cmocka_unit_test(test_resolve_errors),
		cmocka_unit_test(test_resolve_auto),
		cmocka_unit_test(test_connect_full_backlog),
		cmocka_unit_test(test_qmp_events_do_not_extend_timeout),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
