/* End to end through vm.h: the same busybox container (echo + exit status,
 * stdin, a signal with pause/resume before it) through every driver that
 * can run here, with the kernel and initrd of `make guest`.  One line per
 * case, then "N passed, N failed, N skipped". */
#include "e2e_lib.h"
#include "vm/driver/driver.h"
#include "vm/driver/spawn.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct tally {
	int passed, failed, skipped;
};

static void report(struct tally *t, bool ok, const char *drv, const char *name, const char *detail)
{
	printf("%s %s %s: %s\n", ok ? "ok  " : "FAIL", drv, name, detail);
	fflush(stdout);
	if (ok)
		t->passed++;
	else
		t->failed++;
}

/* Create + start; on failure says why in detail. */
static bool boot(struct e2e_env *e, enum vm_driver d, const char *script, struct e2e_run *run,
		 char *detail, size_t len)
{
	struct oerr err = { 0 };

	if (e2e_create(e, d, script, run, &err) < 0) {
		snprintf(detail, len, "create: %.400s", err.msg);
		return false;
	}
	run->t_start = e2e_now_ms();
	if (vm_start(run->vm, &err) < 0) {
		snprintf(detail, len, "start: %.400s", err.msg);
		return false;
	}
	return true;
}

static void case_echo(struct tally *t, struct e2e_env *e, enum vm_driver d, const char *name)
{
	struct e2e_run run;
	char detail[512];
	bool ok = boot(e, d, "echo hello; exit 3", &run, detail, sizeof(detail));

	if (ok) {
		struct vm_info info;
		vm_get_info(run.vm, &info);
		int r = e2e_pump(&run, NULL, 120000);
		ok = r == 0 && strcmp(run.out, "hello\n") == 0 && run.status == 3 && run.started > 0;
		snprintf(detail, sizeof(detail), "stdout %s, status %d, guest pid %d, ready %.1f s (%s/%s)%s%s",
			 strcmp(run.out, "hello\n") == 0 ? "\"hello\"" : "wrong", run.status,
			 (int)run.started, (run.t_ready - run.t0) / 1000, info.driver, info.accel,
			 run.reason[0] ? "; " : "", run.reason);
	}
	e2e_destroy(&run);
	report(t, ok, name, "echo+exit", detail);
}

static void case_stdin(struct tally *t, struct e2e_env *e, enum vm_driver d, const char *name)
{
	struct e2e_run run;
	struct oerr err = { 0 };
	char detail[512];
	bool ok = boot(e, d, "cat; echo done", &run, detail, sizeof(detail));

	if (ok) {
		int r = vm_write_stdin(run.vm, "ping\n", 5, &err);
		if (r == 0)
			r = e2e_pump(&run, "ping\n", 120000);
		if (r == 0)
			r = vm_close_stdin(run.vm, &err);
		if (r == 0)
			r = e2e_pump(&run, NULL, 120000);
		ok = r == 0 && strcmp(run.out, "ping\ndone\n") == 0 && run.status == 0;
		snprintf(detail, sizeof(detail), "stdout %.100s, status %d%s%.300s",
			 ok ? "\"ping\\ndone\\n\"" : run.out, run.status, err.msg[0] ? "; " : "", err.msg);
	}
	e2e_destroy(&run);
	report(t, ok, name, "stdin", detail);
}

static void case_signal(struct tally *t, struct e2e_env *e, enum vm_driver d, const char *name)
{
	struct e2e_run run;
	struct oerr err = { 0 };
	char detail[512];
	bool ok = boot(e, d, "echo ready; exec sleep 600", &run, detail, sizeof(detail));

	if (ok) {
		int r = e2e_pump(&run, "ready\n", 120000);
		if (r == 0)
			r = vm_pause(run.vm, &err);
		if (r == 0)
			r = vm_resume(run.vm, &err);
		if (r == 0)
			r = vm_signal(run.vm, SIGTERM, &err);
		if (r == 0)
			r = e2e_pump(&run, NULL, 120000);
		ok = r == 0 && run.status == 128 + SIGTERM;
		snprintf(detail, sizeof(detail), "pause+resume, SIGTERM -> status %d (want %d)%s%.300s",
			 run.status, 128 + SIGTERM, err.msg[0] ? "; " : "", err.msg);
	}
	e2e_destroy(&run);
	report(t, ok, name, "signal", detail);
}

/* Lines "n0".."n{count-1}" in out, in order, none missing: -1; else the
 * first missing number. */
static int first_gap(const char *out, int count)
{
	const char *p = out;
	char want[16];

	for (int i = 0; i < count; i++) {
		snprintf(want, sizeof(want), "n%d\n", i);
		const char *q = strstr(p, want);
		if (!q || (q != out && q[-1] != '\n'))
			return i;
		p = q + strlen(want);
	}
	return -1;
}

#define REATTACH_LINES 40
#define REATTACH_DOWN_MS 1500

/* The daemon restarts: the handle is dropped, the VM runs on, vm_attach
 * finds it through run_dir/vm.json and the conversation continues.  The
 * container prints a numbered line every 100 ms throughout, and the channel
 * stays unconnected for REATTACH_DOWN_MS: no number may be missing (QEMU's
 * virtconsole dropped what the guest wrote meanwhile; the named
 * virtio-serial port makes the guest wait). */
static void case_reattach(struct tally *t, struct e2e_env *e, enum vm_driver d, const char *name)
{
	struct e2e_run run;
	struct oerr err = { 0 };
	char detail[512], script[200];
	int status = 0, gap = -2;

	snprintf(script, sizeof(script),
		 "i=0; while [ $i -lt %d ]; do echo n$i; i=$((i+1)); sleep 0.1; done; "
		 "read x; echo got $x; exit 7", REATTACH_LINES);
	bool ok = boot(e, d, script, &run, detail, sizeof(detail));

	if (ok) {
		int r = e2e_pump(&run, "n3\n", 120000);
		pid_t pid = vm_pid(run.vm);
		vm_free(run.vm);
		run.vm = NULL;
		nanosleep(&(struct timespec){ REATTACH_DOWN_MS / 1000, (REATTACH_DOWN_MS % 1000) * 1000000L },
			  NULL);
		if (r == 0)
			r = vm_attach(e->run_dir, e2e_callbacks(), &run, run.got + 1, &run.vm, &status,
				      &err);
		if (r == 0 && vm_pid(run.vm) != pid)
			r = -ESRCH;
		if (r == 0)
			r = vm_write_stdin(run.vm, "abc\n", 4, &err);
		if (r == 0)
			r = e2e_pump(&run, NULL, 120000);
		gap = first_gap(run.out, REATTACH_LINES);
		ok = r == 0 && strstr(run.out, "got abc\n") && run.status == 7 && gap < 0;
		snprintf(detail, sizeof(detail),
			 "vm_free, %d ms down, vm_attach; lines n0..n%d: %s%.*d; stdin after: %s, status %d%s%.300s",
			 REATTACH_DOWN_MS, REATTACH_LINES - 1, gap < 0 ? "no gap" : "first missing n",
			 gap < 0 ? 0 : 1, gap < 0 ? 0 : gap,
			 strstr(run.out, "got abc\n") ? "echoed" : "lost", run.status,
			 err.msg[0] ? "; " : "", err.msg);
		if (!run.vm)   /* attach failed: the VM still runs, stop it */
			kill(pid, SIGKILL);
	}
	e2e_destroy(&run);
	report(t, ok, name, "reattach", detail);
}

/* Wherever /dev/kvm exists and ocivm-vmm is built, even where Linux cannot
 * boot on it: the real ocivm-vmm accepts the argv this driver builds (disk,
 * serial, cmdline, console, control) and obeys its control socket the way
 * vm.h uses it: console stream, pause, resume, stop -> exit status 0. */
static int vmm_control_steps(const struct vm_paths *p, pid_t pid, int pidfd, char *d, size_t len)
{
	struct oerr err = { 0 };
	int fd = -1;

	for (int i = 0; i < 300 && fd < 0; i++) {
		fd = vm_driver_vmm.connect_channel(p, &err);
		if (fd < 0)
			nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
	if (fd < 0)
		return snprintf(d, len, "console stream: %s", strerror(-fd)), -1;
	close(fd);
	if (vm_driver_vmm.control(p, VM_CTL_PAUSE, 5000, &err) < 0 ||
	    vm_driver_vmm.control(p, VM_CTL_RESUME, 5000, &err) < 0 ||
	    vm_driver_vmm.control(p, VM_CTL_STOP, 5000, &err) < 0)
		return snprintf(d, len, "control: %.300s", err.msg), -1;
	if (vm_pidfd_wait(pidfd, 5000) != 1)
		return snprintf(d, len, "still running 5 s after stop"), -1;
	int st = vm_reap(pidfd, true);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return snprintf(d, len, "exit status %d after stop", st), -1;
	return snprintf(d, len, "argv accepted; console stream, pause, resume, stop -> exit 0"), 0;
}

static void case_vmm_control(struct tally *t, struct e2e_env *e, const char *vmm)
{
	struct vm_disk disk = { .path = e->image, .serial = "rootfs", .readonly = true };
	static const char *const kp[] = { "note=two words" };
	struct vm_config cfg = { .run_dir = e->run_dir, .kernel = e->kernel, .initrd = e->initrd,
				 .vcpus = 1, .memory_mib = 128, .disks = &disk, .n_disks = 1,
				 .kernel_params = kp, .n_kernel_params = 1 };
	struct vm_paths p;
	struct vm_launch l = { .cfg = &cfg, .paths = &p, .binary = vmm, .accel = VM_ACCEL_KVM };
	struct oerr err = { 0 };
	struct strv a;
	char d[400] = "";
	pid_t pid;
	int pidfd = -1, r;

	strv_init(&a);
	mkdir(e->run_dir, 0700);
	r = vm_paths_init(&p, e->run_dir, &err);
	if (r == 0)
		r = vm_driver_vmm.build_argv(&l, &a, &err);
	if (r == 0)
		r = vm_spawn(a.v, p.log, &pid, &pidfd, &err);
	if (r < 0)
		snprintf(d, sizeof(d), "%.300s", err.msg);
	else if ((r = vmm_control_steps(&p, pid, pidfd, d, sizeof(d))) < 0) {
		kill(pid, SIGKILL);
		vm_pidfd_wait(pidfd, 5000);
		vm_reap(pidfd, true);
	}
	if (pidfd >= 0)
		close(pidfd);
	strv_free(&a);
	report(t, r == 0, "ocivm-vmm", "control", d);
}

/* A parameter off the driver's allowlist: create fails at once, naming it
 * (vm_hypervisor_params_check, before any process starts), and leaves
 * nothing in run_dir. */
static void case_bad_param(struct tally *t, struct e2e_env *e, enum vm_driver d, const char *name)
{
	static const char *const bad[] = { "-no-such-option-here" };
	struct e2e_run run;
	struct oerr err = { 0 };
	char detail[512], p[256];

	e->hv_params = bad;
	e->n_hv_params = 1;
	int r = e2e_create(e, d, "true", &run, &err);
	e->hv_params = NULL;
	e->n_hv_params = 0;
	snprintf(p, sizeof(p), "%s/vm.json", e->run_dir);
	bool ok = r < 0 && strstr(err.msg, "no-such-option-here") && access(p, F_OK) < 0 &&
		  run.t_ready - run.t0 < 30000;
	snprintf(detail, sizeof(detail), "create -> %.400s", r < 0 ? err.msg : "succeeded");
	if (r == 0)
		e2e_destroy(&run);
	report(t, ok, name, "bad parameter", detail);
}

static void run_driver(struct tally *t, struct e2e_env *e, enum vm_driver d, const char *name,
		       const char *skip)
{
	static const char *const cases[] = { "echo+exit", "stdin", "signal", "reattach", "bad parameter" };

	if (skip) {
		for (size_t i = 0; i < 5; i++) {
			printf("skip %s %s: %s\n", name, cases[i], skip);
			t->skipped++;
		}
		return;
	}
	case_echo(t, e, d, name);
	case_stdin(t, e, d, name);
	case_signal(t, e, d, name);
	case_reattach(t, e, d, name);
	case_bad_param(t, e, d, name);
}

int main(void)
{
	struct tally t = { 0 };
	struct e2e_env e;
	char why[300] = "";
	int r = e2e_env_init(&e, why, sizeof(why));

	if (r != 0) {
		printf("%s vm/driver e2e: %s\n", r > 0 ? "skip" : "FAIL", why);
		printf("0 passed, %d failed, %d skipped\n", r > 0 ? 0 : 1, r > 0 ? 11 : 0);
		e2e_env_fini(&e);
		return r > 0 ? 0 : 1;
	}
	printf("# host: %s\n", e.probe.reason);
	run_driver(&t, &e, VM_DRIVER_QEMU, "qemu", NULL);
	char vmm_skip[400];
	snprintf(vmm_skip, sizeof(vmm_skip), "ocivm-vmm needs KVM at hardware speed: %s", e.probe.reason);
	run_driver(&t, &e, VM_DRIVER_VMM, "ocivm-vmm", e.probe.kvm_hw_speed ? NULL : vmm_skip);
	char vmm[PATH_MAX];
	snprintf(vmm, sizeof(vmm), "%s/bin/ocivm-vmm", getenv("BUILD") ? getenv("BUILD") : "build");
	if (!e.probe.kvm_present || access(vmm, X_OK) < 0) {
		printf("skip ocivm-vmm control: %s\n", e.probe.kvm_present ? "ocivm-vmm not built" : e.probe.reason);
		t.skipped++;
	} else {
		case_vmm_control(&t, &e, vmm);
	}
	e2e_env_fini(&e);
	printf("%d passed, %d failed, %d skipped\n", t.passed, t.failed, t.skipped);
	return t.failed ? 1 : 0;
}
