/* ACPI tables describing an ocivm-vmm machine: RSDP -> XSDT -> FADT
 * (hardware-reduced, DSDT, sleep/reset registers) and MADT (LAPIC per vCPU,
 * IOAPIC, LAPIC NMI); DSDT with one LNRO0005 (virtio-mmio) device per
 * device window, each with Memory32Fixed + Interrupt(edge, active high),
 * and \_S5 so a guest can power off through SLEEP_CONTROL_REG. */
#ifndef OCIVM_VMM_ACPI_H
#define OCIVM_VMM_ACPI_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct acpi_device {
	uint64_t base;
	uint32_t size;
	uint32_t gsi;
};

struct acpi_config {
	unsigned ncpus;
	const struct acpi_device *devs;
	unsigned ndevs;
};

/* Build the tables into buf, which the guest sees at gpa (the RSDP comes
 * first, at gpa).  -ENOSPC if cap is too small. */
int acpi_build(const struct acpi_config *c, uint8_t *buf, size_t cap, uint64_t gpa,
	       size_t *ret_len, struct oerr *err);
/* The byte that makes the sum of p[0..n) zero when stored at a zero byte. */
uint8_t acpi_checksum(const void *p, size_t n);

/* The value a guest writes to SLEEP_CONTROL_REG for S5 (SLP_TYP 5, SLP_EN). */
#define ACPI_SLP_TYP_S5 5u
#define ACPI_SLP_EN 0x20u

#endif
