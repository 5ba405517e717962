/* bench/create: create->READY, START->running, exit->stopped latencies per
 * driver that can run here, median of 5 runs of a busybox container
 * (`/bin/sh -c true`), through vm.h with make guest's kernel and initrd.
 * QEMU runs two ways side by side, runs interleaved: the bzImage as given,
 * and its uncompressed vmlinux through PVH (vm_config.cache_dir set).
 * The default way runs once more confined (vm_config.confine, as the daemon
 * runs it), interleaved too: "confine vmm_start_ms_delta=<spawn, confined -
 * not> create_ms_delta=<create->READY, confined - not>" (medians).
 * Last line: "create <driver> ready_ms=<x> start_ms=<y>" (the default way). */
#include "../tests/vm/driver/e2e_lib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUNS 5

struct sample {
	double spawn, hello, ready, start, exit, stop;
};

struct variant {
	const char *name;
	enum vm_driver driver;
	bool no_pvh;
	bool confined;
	struct sample s[RUNS];
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
#define MED(v, field) median((v)->s, offsetof(struct sample, field))

static int one_run(struct e2e_env *e, struct variant *v, struct sample *s)
{
	struct e2e_run run;
	struct oerr err = { 0 };
	struct vm_info info;

	static struct vm_confine conf;
	e->no_pvh = v->no_pvh;
	e->confine = NULL;
	if (v->confined && vm_confine_init(NULL, false, &conf, &err) == 0)
		e->confine = &conf;
	if (e2e_create(e, v->driver, "true", &run, &err) < 0) {
		fprintf(stderr, "%s: create: %s\n", v->name, err.msg);
		return -1;
	}
	vm_get_info(run.vm, &info);
	run.t_start = e2e_now_ms();
	if (vm_start(run.vm, &err) < 0 || e2e_pump(&run, NULL, 60000) < 0 || run.status != 0) {
		fprintf(stderr, "%s: run: %s (status %d) %s\n", v->name, err.msg, run.status, run.reason);
		e2e_destroy(&run);
		return -1;
	}
	double t = e2e_now_ms();
	e2e_destroy(&run);   /* after EXITED the guest waits for the host: this quits and reaps it */
	*s = (struct sample){
		.spawn = info.spawn_ms, .hello = info.hello_ms, .ready = run.t_ready - run.t0,
		.start = run.t_started - run.t_start, .exit = run.t_exit - run.t_started,
		.stop = e2e_now_ms() - t,
	};
	printf("  %-14s spawn %4.0f hello %5.0f ready %5.0f start %5.1f exit %5.1f stop %3.0f ms\n",
	       v->name, s->spawn, s->hello, s->ready, s->start, s->exit, s->stop);
	fflush(stdout);
	return 0;
}

static void print_medians(const struct variant *v)
{
	printf("%s median of %d: spawn %.0f ms, kernel+init to HELLO %.0f ms, SPEC->READY %.0f ms, "
	       "START->running %.1f ms, exit->EXITED %.1f ms, EXITED->VM gone %.0f ms\n",
	       v->name, RUNS, MED(v, spawn), MED(v, hello), MED(v, ready) - MED(v, hello),
	       MED(v, start), MED(v, exit), MED(v, stop));
}

/* Runs of all variants interleaved, so the machine's load hits them alike. */
static int bench(struct e2e_env *e, struct variant *v, size_t n)
{
	for (int i = 0; i < RUNS; i++)
		for (size_t k = 0; k < n; k++)
			if (one_run(e, &v[k], &v[k].s[i]) < 0)
				return -1;
	for (size_t k = 0; k < n; k++)
		print_medians(&v[k]);
	return 0;
}

int main(void)
{
	struct e2e_env e;
	char why[300] = "", last[200] = "";
	int r = e2e_env_init(&e, why, sizeof(why));

	if (r != 0) {
		printf("bench create: cannot run: %s\n", why);
		e2e_env_fini(&e);
		return r > 0 ? 0 : 1;
	}
	printf("# host: %s\n", e.probe.reason);
	struct variant q[3] = {
		{ .name = "qemu/bzImage", .driver = VM_DRIVER_QEMU, .no_pvh = true },
		{ .name = "qemu/PVH", .driver = VM_DRIVER_QEMU, .no_pvh = false },
		{ .name = "qemu/PVH+jail", .driver = VM_DRIVER_QEMU, .confined = true },
	};
	r = bench(&e, q, 3);
	if (r == 0) {
		printf("create->READY, PVH vmlinux / bzImage: %.2f\n", MED(&q[1], ready) / MED(&q[0], ready));
		printf("confine vmm_start_ms_delta=%.1f create_ms_delta=%.0f (qemu)\n",
		       MED(&q[2], spawn) - MED(&q[1], spawn), MED(&q[2], ready) - MED(&q[1], ready));
		snprintf(last, sizeof(last), "create qemu ready_ms=%.0f start_ms=%.1f",
			 MED(&q[1], ready), MED(&q[1], start));
	}
	if (r == 0 && e.probe.kvm_hw_speed) {
		struct variant v[2] = {
			{ .name = "ocivm-vmm", .driver = VM_DRIVER_VMM },
			{ .name = "ocivm-vmm+jail", .driver = VM_DRIVER_VMM, .confined = true },
		};
		r = bench(&e, v, 2);
		if (r == 0) {
			printf("confine vmm_start_ms_delta=%.1f create_ms_delta=%.0f (ocivm-vmm)\n",
			       MED(&v[1], spawn) - MED(&v[0], spawn), MED(&v[1], ready) - MED(&v[0], ready));
			snprintf(last, sizeof(last), "create ocivm-vmm ready_ms=%.0f start_ms=%.1f",
				 MED(&v[0], ready), MED(&v[0], start));
		}
	} else if (r == 0) {
		printf("ocivm-vmm: not run: %s\n", e.probe.reason);
	}
	e2e_env_fini(&e);
	if (r < 0)
		return 1;
	printf("%s\n", last);
	return 0;
}
