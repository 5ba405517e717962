/* The guest self-test framework: what every check in the payload may use.
 *
 * The payload is a freestanding 64-bit program (no libc, no SSE) that
 * ocivm-vmm boots through the PVH entry.  The entry code switches to long
 * mode with the first 4 GiB identity-mapped (2 MiB pages, uncached where
 * it matters: MMIO is simply accessed with volatile loads/stores), so a
 * guest-physical address IS the pointer value.  Interrupts run on a 64-bit
 * IDT; the LAPIC is enabled in xAPIC mode; every IOAPIC pin starts masked.
 *
 * Order of a run (main.c): platform checks (entry state, hvm_start_info,
 * command line, e820, initrd, ACPI, IOAPIC interrupts), then
 * st_virtio_checks(env) — implemented in virtio_checks.c by the virtio side
 * (a weak default reports nothing) — then "SELFTEST PASS n/n" or
 * "SELFTEST FAIL f/n" and ACPI power-off. */
#ifndef OCIVM_SELFTEST_H
#define OCIVM_SELFTEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ST_MAX_VIRTIO 16
#define ST_PAGE_SIZE 4096u

/* One virtio-mmio device as found in the DSDT (an LNRO0005 device). */
struct st_virtio_dev {
	uint64_t base;   /* Memory32Fixed base (MMIO window) */
	uint32_t size;   /* its length */
	uint32_t gsi;    /* the Interrupt() resource: IOAPIC pin */
	uint32_t uid;    /* _UID */
};

/* What the platform checks found; handed to st_virtio_checks. */
struct st_env {
	const char *cmdline;        /* from hvm_start_info, NUL-terminated */
	unsigned ncpus;             /* enabled LAPIC entries in the MADT */
	uint64_t ram_bytes;         /* sum of e820 RAM */
	uint64_t tsc_khz;           /* calibrated against the PIT (0: unknown) */
	struct st_virtio_dev virtio[ST_MAX_VIRTIO];
	unsigned n_virtio;
};

/* ---- reporting ---- */
/* Print "PASS <name>: <detail>" or "FAIL <name>: <detail>" on the UART,
 * count it, and return ok.  name: short, no spaces (e.g. "virtio.console.rx"). */
bool st_check(const char *name, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A line on the UART that is not a check ("# ..." is the convention for
 * notes).  Supports %d %i %u %x %X %lx %llx %lu %llu %ld %lld %p %s %c %%,
 * zero-padding and widths ("%08x"). */
void st_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void st_vprintf(const char *fmt, va_list ap);
int st_snprintf(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- the command line ---- */
/* Value of "key=value" on the command line (copied into buf, NUL-terminated);
 * false if absent or too long. */
bool st_cmdline_value(const char *key, char *buf, size_t len);
bool st_cmdline_u64(const char *key, uint64_t *ret);

/* ---- MMIO and port I/O ---- */
static inline uint8_t mmio_read8(uint64_t a) { return *(volatile uint8_t *)(uintptr_t)a; }
static inline uint16_t mmio_read16(uint64_t a) { return *(volatile uint16_t *)(uintptr_t)a; }
static inline uint32_t mmio_read32(uint64_t a) { return *(volatile uint32_t *)(uintptr_t)a; }
static inline uint64_t mmio_read64(uint64_t a) { return *(volatile uint64_t *)(uintptr_t)a; }
static inline void mmio_write8(uint64_t a, uint8_t v) { *(volatile uint8_t *)(uintptr_t)a = v; }
static inline void mmio_write16(uint64_t a, uint16_t v) { *(volatile uint16_t *)(uintptr_t)a = v; }
static inline void mmio_write32(uint64_t a, uint32_t v) { *(volatile uint32_t *)(uintptr_t)a = v; }
static inline void mmio_write64(uint64_t a, uint64_t v) { *(volatile uint64_t *)(uintptr_t)a = v; }

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

/* Compiler barrier + full fence, for ring index publication. */
static inline void st_mb(void) { __asm__ volatile("mfence" ::: "memory"); }
static inline void st_barrier(void) { __asm__ volatile("" ::: "memory"); }

/* ---- interrupts (IOAPIC pin gsi -> vector 0x30 + gsi on CPU 0) ---- */
#define ST_MAX_GSI 24
/* Program the redirection entry (edge, active high, fixed, physical dest
 * APIC 0) and unmask it; interrupts are enabled (sti) after setup. */
int st_irq_enable(unsigned gsi);
void st_irq_disable(unsigned gsi);
/* Interrupts taken on that pin since boot. */
uint64_t st_irq_count(unsigned gsi);
/* Wait until st_irq_count(gsi) >= target or timeout_ms passes; returns
 * whether the count was reached. */
bool st_irq_wait(unsigned gsi, uint64_t target, unsigned timeout_ms);
/* Ask the VMM to pulse a GSI (ocivm-vmm's test port, see PROTOCOL.md). */
void st_irq_trigger(unsigned gsi);

/* ---- time ---- */
uint64_t st_rdtsc(void);
void st_delay_us(uint64_t us);
uint64_t st_now_us(void);

/* ---- memory ---- */
/* Zeroed, 4 KiB-aligned pages of guest RAM (identity mapped: the pointer
 * value is the guest-physical address); NULL when exhausted.  Never freed. */
void *st_alloc_pages(size_t npages);
static inline uint64_t st_gpa(const void *p) { return (uint64_t)(uintptr_t)p; }

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

/* ---- the hook for the virtio side (vm/selftest/virtio_checks.c) ---- */
void st_virtio_checks(const struct st_env *env);

#endif
