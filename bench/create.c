/* bench/create: create->READY, START->running, exit->stopped latencies per
 * driver that can run here, median of 5 runs of a busybox container
 * (`/bin/sh -c true`), through vm.h with make guest's kernel and initrd.
 * Last line: "create <driver> ready_ms=<x> start_ms=<y>". */
#include "../tests/vm/driver/e2e_lib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUNS 5

struct sample {
	double spawn, hello, ready, start, exit, stop;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(const struct sample *s, size_t off)
{
	double v[RUNS];
	for (int i = 0; i < RUNS; i++)
		v[i] = *(const double *)((const char *)&s[i] + off);
	qsort(v, RUNS, sizeof(v[0]), cmp_double);
	return v[RUNS / 2];
}

static int one_run(struct e2e_env *e, enum vm_driver d, struct sample *s)
{
	struct e2e_run run;
	struct oerr err = { 0 };
	struct vm_info info;

	if (e2e_create(e, d, "true", &run, &err) < 0) {
		fprintf(stderr, "create: %s\n", err.msg);
		return -1;
	}
	vm_get_info(run.vm, &info);
	run.t_start = e2e_now_ms();
	if (vm_start(run.vm, &err) < 0 || e2e_pump(&run, NULL, 60000) < 0 || run.status != 0) {
		fprintf(stderr, "run: %s (status %d) %s\n", err.msg, run.status, run.reason);
		e2e_destroy(&run);
		return -1;
	}
	double t = e2e_now_ms();
	e2e_destroy(&run);   /* the VM powers off after EXITED; this reaps it */
	*s = (struct sample){
		.spawn = info.spawn_ms, .hello = info.hello_ms, .ready = run.t_ready - run.t0,
		.start = run.t_started - run.t_start, .exit = run.t_exit - run.t_started,
		.stop = e2e_now_ms() - t,
	};
	printf("  run: spawn %.0f hello %.0f ready %.0f start %.1f exit %.1f stop %.0f ms\n",
	       s->spawn, s->hello, s->ready, s->start, s->exit, s->stop);
	fflush(stdout);
	return 0;
}

static int bench_driver(struct e2e_env *e, enum vm_driver d, const char *name, char *last,
			size_t last_len)
{
	struct sample s[RUNS];

	printf("%s (%s):\n", name, d == VM_DRIVER_QEMU ? (e->probe.kvm_hw_speed ? "kvm" : "tcg") : "kvm");
	for (int i = 0; i < RUNS; i++)
		if (one_run(e, d, &s[i]) < 0)
			return -1;
	double ready = median(s, offsetof(struct sample, ready));
	double hello = median(s, offsetof(struct sample, hello));
	printf("  median: spawn %.0f ms, kernel+init to HELLO %.0f ms, SPEC->READY %.0f ms, "
	       "START->running %.1f ms, exit->EXITED %.1f ms, EXITED->VM gone %.0f ms\n",
	       median(s, offsetof(struct sample, spawn)), hello, ready - hello,
	       median(s, offsetof(struct sample, start)), median(s, offsetof(struct sample, exit)),
	       median(s, offsetof(struct sample, stop)));
	printf("  boot share of create: %.2f (HELLO/READY)\n", hello / ready);
	snprintf(last, last_len, "create %s ready_ms=%.0f start_ms=%.1f", name, ready,
		 median(s, offsetof(struct sample, start)));
	return 0;
}

int main(void)
{
	struct e2e_env e;
	char why[300] = "", last[200] = "", line[200];
	int r = e2e_env_init(&e, why, sizeof(why));

	if (r != 0) {
		printf("bench create: cannot run: %s\n", why);
		e2e_env_fini(&e);
		return r > 0 ? 0 : 1;
	}
	printf("# host: %s\n", e.probe.reason);
	r = bench_driver(&e, VM_DRIVER_QEMU, "qemu", line, sizeof(line));
	if (r == 0)
		snprintf(last, sizeof(last), "%s", line);
	if (r == 0 && e.probe.kvm_hw_speed) {
		r = bench_driver(&e, VM_DRIVER_VMM, "ocivm-vmm", line, sizeof(line));
		if (r == 0)
			snprintf(last, sizeof(last), "%s", line);
	} else if (r == 0) {
		printf("ocivm-vmm: not run: %s\n", e.probe.reason);
	}
	e2e_env_fini(&e);
	if (r < 0)
		return 1;
	printf("%s\n", last);
	return 0;
}
