/* End to end through vm.h: the same busybox container (echo + exit status,
 * stdin, a signal with pause/resume before it) through every driver that
 * can run here, with the kernel and initrd of `make guest`.  One line per
 * case, then "N passed, N failed, N skipped". */
#include "e2e_lib.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

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
		int r = e2e_pump(&run, NULL, 60000);
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
			r = e2e_pump(&run, "ping\n", 30000);
		if (r == 0)
			r = vm_close_stdin(run.vm, &err);
		if (r == 0)
			r = e2e_pump(&run, NULL, 30000);
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
		int r = e2e_pump(&run, "ready\n", 30000);
		if (r == 0)
			r = vm_pause(run.vm, &err);
		if (r == 0)
			r = vm_resume(run.vm, &err);
		if (r == 0)
			r = vm_signal(run.vm, SIGTERM, &err);
		if (r == 0)
			r = e2e_pump(&run, NULL, 30000);
		ok = r == 0 && run.status == 128 + SIGTERM;
		snprintf(detail, sizeof(detail), "pause+resume, SIGTERM -> status %d (want %d)%s%.300s",
			 run.status, 128 + SIGTERM, err.msg[0] ? "; " : "", err.msg);
	}
	e2e_destroy(&run);
	report(t, ok, name, "signal", detail);
}

/* The daemon restarts: the handle is dropped, the VM runs on, vm_attach
 * finds it through run_dir/vm.json and the conversation continues. */
static void case_reattach(struct tally *t, struct e2e_env *e, enum vm_driver d, const char *name)
{
	struct e2e_run run;
	struct oerr err = { 0 };
	char detail[512];
	int status = 0;
	bool ok = boot(e, d, "echo ready; read x; echo got $x; exit 7", &run, detail, sizeof(detail));

	if (ok) {
		int r = e2e_pump(&run, "ready\n", 30000);
		pid_t pid = vm_pid(run.vm);
		vm_free(run.vm);
		run.vm = NULL;
		if (r == 0)
			r = vm_attach(e->run_dir, e2e_callbacks(), &run, &run.vm, &status, &err);
		if (r == 0 && vm_pid(run.vm) != pid)
			r = -ESRCH;
		if (r == 0)
			r = vm_write_stdin(run.vm, "abc\n", 4, &err);
		if (r == 0)
			r = e2e_pump(&run, NULL, 30000);
		ok = r == 0 && strstr(run.out, "got abc\n") && run.status == 7;
		snprintf(detail, sizeof(detail), "vm_free + vm_attach, stdin after: %s, status %d%s%.300s",
			 strstr(run.out, "got abc\n") ? "echoed" : "lost", run.status,
			 err.msg[0] ? "; " : "", err.msg);
		if (!run.vm)   /* attach failed: the VM still runs, stop it */
			kill(pid, SIGKILL);
	}
	e2e_destroy(&run);
	report(t, ok, name, "reattach", detail);
}

static void run_driver(struct tally *t, struct e2e_env *e, enum vm_driver d, const char *name,
		       const char *skip)
{
	static const char *const cases[] = { "echo+exit", "stdin", "signal", "reattach" };

	if (skip) {
		for (size_t i = 0; i < 4; i++) {
			printf("skip %s %s: %s\n", name, cases[i], skip);
			t->skipped++;
		}
		return;
	}
	case_echo(t, e, d, name);
	case_stdin(t, e, d, name);
	case_signal(t, e, d, name);
	case_reattach(t, e, d, name);
}

int main(void)
{
	struct tally t = { 0 };
	struct e2e_env e;
	char why[300] = "";
	int r = e2e_env_init(&e, why, sizeof(why));

	if (r != 0) {
		printf("%s vm/driver e2e: %s\n", r > 0 ? "skip" : "FAIL", why);
		printf("0 passed, %d failed, %d skipped\n", r > 0 ? 0 : 1, r > 0 ? 8 : 0);
		e2e_env_fini(&e);
		return r > 0 ? 0 : 1;
	}
	printf("# host: %s\n", e.probe.reason);
	run_driver(&t, &e, VM_DRIVER_QEMU, "qemu", NULL);
	char vmm_skip[400];
	snprintf(vmm_skip, sizeof(vmm_skip), "ocivm-vmm needs KVM at hardware speed: %s", e.probe.reason);
	run_driver(&t, &e, VM_DRIVER_VMM, "ocivm-vmm", e.probe.kvm_hw_speed ? NULL : vmm_skip);
	e2e_env_fini(&e);
	printf("%d passed, %d failed, %d skipped\n", t.passed, t.failed, t.skipped);
	return t.failed ? 1 : 0;
}
