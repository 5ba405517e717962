/* The self-test payload's main: platform checks, the virtio checks, the
 * verdict, then ACPI power-off. */
#include "st_internal.h"

__attribute__((weak)) void st_virtio_checks(const struct st_env *env)
{
	(void)env;
	st_printf("# virtio checks not built in\n");
}

static struct st_env env;
static struct st_platform pf;

static void power_off(void)
{
	if (pf.sleep_addr && pf.sleep_is_io)
		outb((uint16_t)pf.sleep_addr, (5 << 2) | 0x20);   /* SLP_TYP=5 (\_S5), SLP_EN */
	else if (pf.sleep_addr)
		mmio_write8(pf.sleep_addr, (5 << 2) | 0x20);
	outb(0x501, 0);                             /* ocivm-vmm debug exit */
	outw(0x604, 0x2000);                        /* QEMU */
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* st.after=wait|reset|triple: what the harness wants after the verdict (to
 * test the control socket and the VMM exit statuses). */
static void after_verdict(void)
{
	char what[16];
	static const struct { uint16_t limit; uint64_t base; } __attribute__((packed))
		none = { 0xfff, 0x8000000000ull };   /* not mapped: #PF, #DF, shutdown */

	if (!st_cmdline_value("st.after", what, sizeof(what)))
		return;
	if (strcmp(what, "wait") == 0)
		for (;;)
			__asm__ volatile("sti; hlt");
	if (strcmp(what, "tick") == 0)   /* a port write (an exit) every 1024 spins */
		for (;;) {
			for (volatile unsigned i = 0; i < 1024; i++)
				__asm__ volatile("pause");
			outb(0x80, 0);
		}
	if (strcmp(what, "reset") == 0)
		outb(0x3c2, 1);                     /* FADT RESET_REG */
	if (strcmp(what, "triple") == 0) {
		__asm__ volatile("cli; lidt %0; int3" :: "m"(none));
	}
}

static void finish(void)
{
	unsigned total, failed;

	st_counts(&total, &failed);
	if (failed)
		st_printf("SELFTEST FAIL %u/%u\n", failed, total);
	else
		st_printf("SELFTEST PASS %u/%u\n", total, total);
	after_verdict();
	power_off();
}

/* st.loop=N: only run N iterations of a 2-instruction loop and power off,
 * so a host can time guest execution (hardware KVM or an emulating one). */
static void speed_loop(void)
{
	uint64_t n = 0;

	if (!st_cmdline_u64("st.loop", &n))
		return;
	__asm__ volatile("1: dec %0; jnz 1b" : "+r"(n) : : "cc");
	st_printf("SELFTEST LOOP done\n");
	power_off();
}

void st_main(void)
{

	st_printf("# ocivmfs guest self-test\n");
	st_boot_checks(&env, &pf);
	speed_loop();
	st_irq_init();
	env.tsc_khz = st_tsc_calibrate();
	st_set_tsc_khz(env.tsc_khz);
	st_check("time.tsc", env.tsc_khz > 0, "TSC %lu kHz (PIT channel 2)", env.tsc_khz);
	if (pf.rsdp)
		st_acpi_checks(&env, &pf);
	/* st.only=tables: the VMM-neutral part only (bench/vmm.sh runs it on
	 * ocivm-vmm and QEMU alike). */
	char only[16];
	if (st_cmdline_value("st.only", only, sizeof(only)) && strcmp(only, "tables") == 0) {
		finish();
		return;
	}
	st_irq_checks(&env);
	st_smp_checks(&env);
	st_alloc_init(pf.free_lo, pf.free_hi);
	void *pg = st_alloc_pages(1);
	st_check("alloc", pg && ((uint64_t)(uintptr_t)pg & 0xfff) == 0,
		 "page pool [0x%lx, 0x%lx), first page %p", pf.free_lo, pf.free_hi, pg);
	st_virtio_checks(&env);
	finish();
}
