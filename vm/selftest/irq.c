/* IDT, LAPIC, IOAPIC: GSI n -> vector 0x30 + n on CPU 0, counted per GSI.
 * Exceptions end the run with SELFTEST FAIL. Also the TSC calibration
 * (PIT channel 2) and the AP start-up check (INIT/SIPI). */
#include "st_internal.h"

#define LAPIC 0xfee00000ull
#define IOAPIC 0xfec00000ull
#define VEC_BASE 0x30
#define VEC_SPURIOUS 0xff
#define IRQ_TEST_PORT 0x502
#define TRAMP_PAGE 0x8000ull

struct iframe {
	uint64_t rip, cs, rflags, rsp, ss;
};

struct idt_entry {
	uint16_t off0, sel;
	uint8_t ist, type;
	uint16_t off1;
	uint32_t off2, zero;
} __attribute__((packed));

static struct idt_entry idt[256] __attribute__((aligned(16)));
static volatile uint64_t counts[ST_MAX_GSI];

static void fatal(unsigned vec, const struct iframe *f, uint64_t err)
{
	st_printf("SELFTEST FAIL exception %u (error 0x%lx) at rip 0x%lx\n", vec, err, f->rip);
	outb(0x501, 1);
	for (;;)
		__asm__ volatile("cli; hlt");
}

#define EXC(n) __attribute__((interrupt)) static void exc_##n(struct iframe *f) { fatal(n, f, 0); }
#define EXC_ERR(n) __attribute__((interrupt)) static void exc_##n(struct iframe *f, uint64_t e) { fatal(n, f, e); }
EXC(0) EXC(1) EXC(2) EXC(3) EXC(4) EXC(5) EXC(6) EXC(7) EXC_ERR(8) EXC(9)
EXC_ERR(10) EXC_ERR(11) EXC_ERR(12) EXC_ERR(13) EXC_ERR(14) EXC(15) EXC(16)
EXC_ERR(17) EXC(18) EXC(19)

static void hit(unsigned gsi)
{
	counts[gsi]++;
	mmio_write32(LAPIC + 0xb0, 0);   /* EOI */
}

#define GSI(n) __attribute__((interrupt)) static void gsi_##n(struct iframe *f) { (void)f; hit(n); }
GSI(0) GSI(1) GSI(2) GSI(3) GSI(4) GSI(5) GSI(6) GSI(7) GSI(8) GSI(9) GSI(10) GSI(11)
GSI(12) GSI(13) GSI(14) GSI(15) GSI(16) GSI(17) GSI(18) GSI(19) GSI(20) GSI(21)
GSI(22) GSI(23)

__attribute__((interrupt)) static void spurious(struct iframe *f) { (void)f; }

static void set_gate(unsigned vec, void *fn)
{
	uint64_t a = (uint64_t)(uintptr_t)fn;
	idt[vec] = (struct idt_entry){ .off0 = (uint16_t)a, .sel = 0x08, .type = 0x8e,
				       .off1 = (uint16_t)(a >> 16), .off2 = (uint32_t)(a >> 32) };
}

static void ioapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(IOAPIC, reg);
	mmio_write32(IOAPIC + 0x10, v);
}

void st_irq_init(void)
{
	static void *const exc[] = { exc_0, exc_1, exc_2, exc_3, exc_4, exc_5, exc_6, exc_7,
		exc_8, exc_9, exc_10, exc_11, exc_12, exc_13, exc_14, exc_15, exc_16, exc_17,
		exc_18, exc_19 };
	static void *const gsi[ST_MAX_GSI] = { gsi_0, gsi_1, gsi_2, gsi_3, gsi_4, gsi_5,
		gsi_6, gsi_7, gsi_8, gsi_9, gsi_10, gsi_11, gsi_12, gsi_13, gsi_14, gsi_15,
		gsi_16, gsi_17, gsi_18, gsi_19, gsi_20, gsi_21, gsi_22, gsi_23 };
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) d =
		{ sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };

	for (unsigned i = 0; i < 20; i++)
		set_gate(i, exc[i]);
	for (unsigned i = 0; i < ST_MAX_GSI; i++)
		set_gate(VEC_BASE + i, gsi[i]);
	set_gate(VEC_SPURIOUS, spurious);
	__asm__ volatile("lidt %0" :: "m"(d));
	outb(0x21, 0xff);                                /* mask both 8259s: the */
	outb(0xa1, 0xff);                                /* IOAPIC delivers */
	mmio_write32(LAPIC + 0x80, 0);                   /* TPR */
	mmio_write32(LAPIC + 0xf0, 0x100 | VEC_SPURIOUS); /* enable */
	for (unsigned i = 0; i < ST_MAX_GSI; i++)
		ioapic_write(0x10 + 2 * i, 1u << 16);        /* masked */
	__asm__ volatile("sti");
}

int st_irq_enable(unsigned gsi)
{
	if (gsi >= ST_MAX_GSI)
		return -1;
	ioapic_write(0x11 + 2 * gsi, 0);                 /* destination APIC 0 */
	ioapic_write(0x10 + 2 * gsi, VEC_BASE + gsi);    /* fixed, edge, high, unmasked */
	return 0;
}

void st_irq_disable(unsigned gsi)
{
	if (gsi < ST_MAX_GSI)
		ioapic_write(0x10 + 2 * gsi, 1u << 16);
}

uint64_t st_irq_count(unsigned gsi)
{
	return gsi < ST_MAX_GSI ? counts[gsi] : 0;
}

bool st_irq_wait(unsigned gsi, uint64_t target, unsigned timeout_ms)
{
	uint64_t end = st_now_us() + (uint64_t)timeout_ms * 1000;
	while (st_irq_count(gsi) < target) {
		if (st_now_us() > end)
			return false;
		__asm__ volatile("pause");
	}
	return true;
}

void st_irq_trigger(unsigned gsi)
{
	outb(IRQ_TEST_PORT, (uint8_t)gsi);
}

/* PIT channel 2, gated through port 0x61, counts 10 ms. */
uint64_t st_tsc_calibrate(void)
{
	const uint16_t latch = 11932;   /* 1193182 Hz / 100 */
	outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01));
	outb(0x43, 0xb0);               /* channel 2, lo/hi, mode 0 */
	outb(0x42, latch & 0xff);
	outb(0x42, latch >> 8);
	uint64_t t0 = st_rdtsc();
	for (unsigned i = 0; i < 10000000; i++)
		if (inb(0x61) & 0x20)
			return (st_rdtsc() - t0) / 10;
	return 0;
}

void st_irq_checks(const struct st_env *env)
{
	const unsigned g = 10, m = 11;  /* pins no device uses */

	st_irq_enable(g);
	st_irq_trigger(g);
	st_check("irq.ioapic", st_irq_wait(g, 1, 1000), "GSI %u -> vector 0x%x: %lu interrupt(s)",
		 g, VEC_BASE + g, st_irq_count(g));
	st_irq_trigger(g);
	st_check("irq.eoi", st_irq_wait(g, 2, 1000), "second edge after EOI: %lu", st_irq_count(g));
	st_irq_disable(m);
	st_irq_trigger(m);
	st_delay_us(20000);
	st_check("irq.masked", st_irq_count(m) == 0, "masked GSI %u not delivered", m);
	/* The 8250's THRE interrupt on ISA IRQ 4 (GSI 4). */
	st_irq_enable(4);
	outb(0x3f8 + 1, 0x02);
	bool uart = st_irq_wait(4, 1, 1000);
	outb(0x3f8 + 1, 0x00);
	(void)inb(0x3f8 + 2);
	st_irq_disable(4);
	st_check("irq.uart", uart, "8250 THRE interrupt on GSI 4: %lu", st_irq_count(4));
}

static void lapic_icr(uint32_t apic, uint32_t low)
{
	mmio_write32(LAPIC + 0x310, apic << 24);
	mmio_write32(LAPIC + 0x300, low);
	for (unsigned i = 0; i < 100000 && (mmio_read32(LAPIC + 0x300) & (1u << 12)); i++)
		__asm__ volatile("pause");
}

void st_smp_checks(const struct st_env *env)
{
	size_t len = (size_t)(st_ap_tramp_end - st_ap_tramp);
	volatile uint32_t *count = (volatile uint32_t *)(uintptr_t)
		(TRAMP_PAGE + (uint64_t)(st_ap_tramp_count - st_ap_tramp));

	if (env->ncpus < 2) {
		st_printf("# smp: one vCPU, AP start-up not tested\n");
		return;
	}
	memcpy((void *)(uintptr_t)TRAMP_PAGE, st_ap_tramp, len);
	*count = 0;
	for (unsigned a = 1; a < env->ncpus; a++) {
		lapic_icr(a, 0x4500);                        /* INIT */
		st_delay_us(10000);
		lapic_icr(a, 0x4600 | (TRAMP_PAGE >> 12));   /* SIPI */
		st_delay_us(200);
		lapic_icr(a, 0x4600 | (TRAMP_PAGE >> 12));
	}
	uint64_t end = st_now_us() + 2000000;
	while (*count < env->ncpus - 1 && st_now_us() < end)
		__asm__ volatile("pause");
	st_check("smp.ap_startup", *count == env->ncpus - 1,
		 "%u of %u APs ran the SIPI trampoline", *count, env->ncpus - 1);
}
