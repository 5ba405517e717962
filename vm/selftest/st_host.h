/* Host-side stand-in for vm/selftest/selftest.h, so the guest's virtio
 * checks (vm/selftest/virtio_*.c, built with -DSTV_HOST_SIM) run against the
 * real device models without KVM: "guest memory" is a host buffer whose
 * guest-physical addresses equal its host addresses (the payload's identity
 * mapping), MMIO accesses call virtio_mmio_read/write, and an IOAPIC pin is
 * the device's irqfd.  Only what the virtio checks use is here. */
#ifndef OCIVM_ST_HOST_H
#define OCIVM_ST_HOST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ST_MAX_VIRTIO 16
#define ST_PAGE_SIZE 4096u

struct st_virtio_dev {
	uint64_t base;
	uint32_t size;
	uint32_t gsi;
	uint32_t uid;
};

struct st_env {
	const char *cmdline;
	unsigned ncpus;
	uint64_t ram_bytes;
	uint64_t tsc_khz;
	struct st_virtio_dev virtio[ST_MAX_VIRTIO];
	unsigned n_virtio;
};

bool st_check(const char *name, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void st_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool st_cmdline_u64(const char *key, uint64_t *ret);
bool st_cmdline_value(const char *key, char *buf, size_t len);

uint32_t sim_mmio_read(uint64_t a, unsigned len);
void sim_mmio_write(uint64_t a, uint32_t v, unsigned len);
static inline uint8_t mmio_read8(uint64_t a) { return (uint8_t)sim_mmio_read(a, 1); }
static inline uint32_t mmio_read32(uint64_t a) { return sim_mmio_read(a, 4); }
static inline void mmio_write32(uint64_t a, uint32_t v) { sim_mmio_write(a, v, 4); }

static inline void st_mb(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
static inline void st_barrier(void) { __asm__ volatile("" ::: "memory"); }

int st_irq_enable(unsigned gsi);
uint64_t st_irq_count(unsigned gsi);
bool st_irq_wait(unsigned gsi, uint64_t target, unsigned timeout_ms);
uint64_t st_now_us(void);

void *st_alloc_pages(size_t npages);
static inline uint64_t st_gpa(const void *p) { return (uint64_t)(uintptr_t)p; }

void st_virtio_checks(const struct st_env *env);

#endif
