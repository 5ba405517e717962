/* Protocol 3 on the host (vm/driver/resume.c) against the fake ocivm-vmm
 * (tests/vm/driver/fake_vmm.c, modes resume and resume-lost): OUT_ACK 0 0
 * goes before START; after vm_free + vm_attach(have) the host sends RESUME
 * with the counts it was given, drops the bytes in flight (the tail of a
 * frame and a whole STDOUT frame) up to RESUMED, takes the rest, says what
 * happened on on_log (LOST N bytes when the guest resends from above the
 * host's count), and acknowledges EXITED.  No KVM needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "vm/vm.h"

struct events {
	char out[256];
	size_t out_len;
	int exited;          /* -1 until on_exit */
	char log[1024];      /* every on_log line, joined */
};

static void on_output(void *ctx, int stream, const void *buf, size_t len)
{
	struct events *e = ctx;
	if (stream == 1 && e->out_len + len < sizeof(e->out)) {
		memcpy(e->out + e->out_len, buf, len);
		e->out_len += len;
		e->out[e->out_len] = '\0';
	}
}
static void on_log(void *ctx, const char *line)
{
	struct events *e = ctx;
	size_t n = strlen(e->log);
	snprintf(e->log + n, sizeof(e->log) - n, "%s|", line);
}
static void on_exit_cb(void *ctx, int status, const char *reason)
{
	((struct events *)ctx)->exited = status;
}
static const struct vm_callbacks cbs = {
	.on_output = on_output, .on_log = on_log, .on_exit = on_exit_cb,
};

static char fake[PATH_MAX], run_dir[64], kernel[] = "/proc/self/exe";
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
	strcpy(run_dir, "/tmp/vmresume.XXXXXX");
	assert_non_null(mkdtemp(run_dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", run_dir);
	return system(cmd) == 0 ? 0 : -1;
}

#define PUMP(vm, cond) do {                                                \
		for (int _i = 0; _i < 3000 && !(cond); _i++) {                 \
			struct pollfd _p = { vm_fd(vm), POLLIN, 0 };           \
			poll(&_p, 1, 10);                                      \
			assert_true(vm_dispatch(vm) >= 0);                     \
		}                                                              \
		assert_true(cond);                                             \
	} while (0)

/* The fake's stderr (hypervisor.log) says it got OUT_ACK with the EXITED
 * flag and these counts; waits up to 30 s. */
static void expect_exit_ack(const char *want)
{
	char path[128], *text = NULL;
	size_t len;
	snprintf(path, sizeof(path), "%s/hypervisor.log", run_dir);
	for (int i = 0; i < 3000; i++) {
		free(text);
		text = NULL;
		if (file_read_all(path, 65536, &text, &len) == 0 && strstr(text, want))
			break;
		usleep(10000);
	}
	assert_non_null(text);
	assert_non_null(strstr(text, want));
	free(text);
}

/* old_hello: RUN/hello as an older daemon's create left it (NULL: this one's) */
static void run(const char *mode, const char *want_out, const char *want_log, const char *want_ack,
		const char *old_hello)
{
	struct vm_config cfg = {
		.id = "t", .run_dir = run_dir, .probe = &hw_probe, .hypervisor_path = fake,
		.kernel = kernel, .gspec = gspec, .gspec_len = sizeof(gspec) - 1,
		.ready_timeout_ms = 5000,
	};
	struct events ev = { .exited = -1 };
	struct oerr err = { 0 };
	struct vm *vm;
	int status = 0;
	uint64_t have[2];

	setenv("OCIVM_FAKE_MODE", mode, 1);
	assert_int_equal(vm_create(&cfg, &cbs, &ev, &vm, &err), 0);
	assert_int_equal(vm_start(vm, &err), 0);
	PUMP(vm, ev.out_len >= 4 || ev.exited != -1);
	assert_int_equal(ev.exited, -1);   /* 99: START came before OUT_ACK 0 0 */
	assert_string_equal(ev.out, "0123");
	vm_free(vm);   /* the daemon goes away */
	if (old_hello) {
		char path[128];
		snprintf(path, sizeof(path), "%s/hello", run_dir);
		assert_int_equal(file_write_atomic(path, old_hello, strlen(old_hello), 0600), 0);
	}
	have[0] = ev.out_len;
	have[1] = 0;
	assert_int_equal(vm_attach(run_dir, &cbs, &ev, have, &vm, &status, &err), 0);
	PUMP(vm, ev.exited != -1);
	assert_int_equal(ev.exited, 3);    /* 98: RESUME without the counts given */
	assert_string_equal(ev.out, want_out);
	assert_non_null(strstr(ev.log, want_log));
	expect_exit_ack(want_ack);
	vm_destroy(vm, 1000);
}

static void test_resume(void **state)
{
	run("resume", "01234567",
	    /* 5 + 4 bytes of a frame's tail, a 12-byte STDOUT frame */
	    "channel resumed: 21 bytes in flight dropped; the guest sends again stdout from byte 4, "
	    "stderr from byte 0|", "fake: OUT_ACK 8 0 with the EXITED flag", NULL);
}

/* A VM its protocol-3 daemon created (RUN/hello "ocivm-init 3 ..."),
 * re-attached by this daemon after an upgrade: the guest still keeps its
 * output until acknowledged, so the host must RESUME and OUT_ACK as with
 * its own protocol (4 changed only an exec'd process's EXITED, read in
 * both lengths); else the guest's output stalls after 1 MiB. */
static void test_resume_proto3(void **state)
{
	run("resume", "01234567",
	    "channel resumed: 21 bytes in flight dropped; the guest sends again stdout from byte 4, "
	    "stderr from byte 0|", "fake: OUT_ACK 8 0 with the EXITED flag",
	    "ocivm-init 3 stdin-ack exec out-ack");
}

static void test_resume_lost(void **state)
{
	run("resume-lost", "012367", "stdout from byte 6 (LOST 2 bytes after byte 4: the guest "
	    "no longer had them)", "fake: OUT_ACK 8 0 with the EXITED flag", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resume_lost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resume_proto3, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
