/* Between the platform parts of the payload (not for the virtio checks). */
#ifndef OCIVM_ST_INTERNAL_H
#define OCIVM_ST_INTERNAL_H

#include "selftest.h"

/* Entry state saved by entry.S. */
extern uint32_t st_entry_eax, st_entry_ebx, st_entry_cr0, st_entry_cr4;
extern uint32_t st_entry_cs, st_entry_ds, st_entry_eflags;
extern uint64_t st_entry_bootparams;   /* RSI at the 64-bit entry, 0 for PVH */
extern char _end[];
extern char st_ap_tramp[], st_ap_tramp_end[], st_ap_tramp_count[];

void st_counts(unsigned *total, unsigned *failed);
void st_set_cmdline(const char *c);
void st_alloc_init(uint64_t start, uint64_t end);
void st_set_tsc_khz(uint64_t khz);

/* What the platform checks learnt and later steps use. */
struct st_platform {
	uint64_t rsdp;
	uint64_t free_lo, free_hi;   /* RAM for the page allocator */
	uint64_t sleep_addr;         /* FADT SLEEP_CONTROL_REG (0: none) */
	uint8_t sleep_is_io;         /* else system memory */
};

void st_boot_checks(struct st_env *env, struct st_platform *pf);
void st_acpi_checks(struct st_env *env, struct st_platform *pf);
void st_irq_init(void);
uint64_t st_tsc_calibrate(void);
void st_irq_checks(const struct st_env *env);
void st_smp_checks(const struct st_env *env);

#endif
