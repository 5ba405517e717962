#include <errno.h>
#include <string.h>

#include "vm/vmm/acpi.h"
#include "vm/vmm/layout.h"

#define HDR_LEN 36
#define FADT_LEN 276

struct buf {
	uint8_t *p;
	size_t n, cap;
	int overflow;
};

static void put(struct buf *b, const void *d, size_t n)
{
	if (b->overflow || n > b->cap - b->n) {
		b->overflow = 1;
		return;
	}
	memcpy(b->p + b->n, d, n);
	b->n += n;
}
static void put8(struct buf *b, uint8_t v) { put(b, &v, 1); }
static void put16(struct buf *b, uint16_t v) { put(b, &v, 2); }
static void put32(struct buf *b, uint32_t v) { put(b, &v, 4); }
static void put64(struct buf *b, uint64_t v) { put(b, &v, 8); }
static void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void wr64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

uint8_t acpi_checksum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t s = 0;
	for (size_t i = 0; i < n; i++)
		s += b[i];
	return (uint8_t)-s;
}

static void header(struct buf *b, const char *sig, uint8_t rev)
{
	put(b, sig, 4);
	put32(b, 0);            /* length, patched by finish() */
	put8(b, rev);
	put8(b, 0);             /* checksum */
	put(b, "OCIVM ", 6);
	put(b, "OCIVMVMM", 8);
	put32(b, 1);
	put(b, "OCVM", 4);
	put32(b, 1);
}

static void finish(struct buf *b, size_t start)
{
	if (b->overflow)
		return;
	wr32(b->p + start + 4, (uint32_t)(b->n - start));
	b->p[start + 9] = acpi_checksum(b->p + start, b->n - start);
}

static void align16(struct buf *b)
{
	while (!b->overflow && (b->n & 15))
		put8(b, 0);
}

/* A Generic Address Structure in system I/O space. */
static void gas_io(struct buf *b, uint16_t port)
{
	put8(b, 1);     /* SystemIO */
	put8(b, 8);     /* bit width */
	put8(b, 0);     /* bit offset */
	put8(b, 1);     /* byte access */
	put64(b, port);
}

static void gas_none(struct buf *b)
{
	put64(b, 0);
	put32(b, 0);
}

static void fadt(struct buf *b, uint64_t dsdt)
{
	size_t start = b->n;
	uint8_t zero[FADT_LEN] = { 0 };

	header(b, "FACP", 6);
	put(b, zero, 40 - HDR_LEN);            /* FIRMWARE_CTRL */
	put32(b, (uint32_t)dsdt);              /* 40: DSDT */
	put(b, zero, 109 - 44);                /* legacy PM blocks: none */
	put16(b, (1u << 2) | (1u << 5));       /* 109: IAPC_BOOT_ARCH: no VGA, no CMOS RTC */
	put8(b, 0);
	put32(b, (1u << 4) | (1u << 5) | (1u << 10) | (1u << 20)); /* 112: flags:
		PWR_BUTTON, SLP_BUTTON, RESET_REG_SUP, HW_REDUCED_ACPI */
	gas_io(b, PORT_ACPI_RESET);            /* 116: RESET_REG */
	put8(b, ACPI_RESET_VALUE);             /* 128 */
	put16(b, 0);                           /* 129: ARM_BOOT_ARCH */
	put8(b, 5);                            /* 131: minor version */
	put64(b, 0);                           /* 132: X_FIRMWARE_CTRL */
	put64(b, dsdt);                        /* 140: X_DSDT */
	for (int i = 0; i < 8; i++)            /* 148..243: X_ PM blocks */
		gas_none(b);
	gas_io(b, PORT_ACPI_SLEEP_CTL);        /* 244: SLEEP_CONTROL_REG */
	gas_io(b, PORT_ACPI_SLEEP_STS);        /* 256: SLEEP_STATUS_REG */
	put(b, "OCIVMVMM", 8);                 /* 268: hypervisor vendor */
	finish(b, start);
}

static void madt(struct buf *b, unsigned ncpus)
{
	size_t start = b->n;

	header(b, "APIC", 5);
	put32(b, (uint32_t)LAYOUT_LAPIC);
	put32(b, 0);                           /* flags: no PC-AT 8259 */
	for (unsigned i = 0; i < ncpus; i++) {
		put8(b, 0); put8(b, 8);            /* Processor Local APIC */
		put8(b, (uint8_t)i); put8(b, (uint8_t)i);
		put32(b, 1);                       /* enabled */
	}
	put8(b, 1); put8(b, 12);               /* I/O APIC */
	put8(b, 0); put8(b, 0);
	put32(b, (uint32_t)LAYOUT_IOAPIC);
	put32(b, 0);                           /* GSI base */
	put8(b, 4); put8(b, 6);                /* Local APIC NMI: all CPUs, LINT1 */
	put8(b, 0xff); put16(b, 0); put8(b, 1);
	finish(b, start);
}

/* ---- AML ---- */

/* Insert the PkgLength of everything written since `at`. */
static void aml_close(struct buf *b, size_t at)
{
	size_t content = b->n - at, total;
	uint8_t enc[4];
	unsigned n;

	if (b->overflow)
		return;
	n = content + 1 < 0x40 ? 1 : content + 2 < 0x1000 ? 2 : content + 3 < 0x100000 ? 3 : 4;
	total = content + n;
	if (n == 1) {
		enc[0] = (uint8_t)total;
	} else {
		enc[0] = (uint8_t)(((n - 1) << 6) | (total & 0xf));
		for (unsigned i = 1; i < n; i++)
			enc[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
	}
	if (n > b->cap - b->n) {
		b->overflow = 1;
		return;
	}
	memmove(b->p + at + n, b->p + at, content);
	memcpy(b->p + at, enc, n);
	b->n += n;
}

static void aml_name_byte(struct buf *b, const char *seg, uint8_t v)
{
	put8(b, 0x08);                         /* NameOp */
	put(b, seg, 4);
	put8(b, 0x0a);                         /* BytePrefix */
	put8(b, v);
}

static void aml_device(struct buf *b, unsigned i, const struct acpi_device *d)
{
	char name[5] = { 'V', 'R', "0123456789ABCDEF"[(i >> 4) & 15],
			 "0123456789ABCDEF"[i & 15], 0 };
	size_t at, crs;

	put8(b, 0x5b); put8(b, 0x82);          /* DeviceOp */
	at = b->n;
	put(b, name, 4);
	put8(b, 0x08); put(b, "_HID", 4);
	put8(b, 0x0d); put(b, "LNRO0005", 9);  /* String, NUL-terminated */
	aml_name_byte(b, "_UID", (uint8_t)i);
	put8(b, 0x08); put(b, "_CRS", 4);
	put8(b, 0x11);                         /* BufferOp */
	crs = b->n;
	put8(b, 0x0a); put8(b, 23);            /* buffer size */
	put8(b, 0x86); put16(b, 9); put8(b, 1); /* Memory32Fixed, read-write */
	put32(b, (uint32_t)d->base); put32(b, d->size);
	put8(b, 0x89); put16(b, 6);            /* Extended Interrupt */
	put8(b, 0x03);                         /* consumer, edge, active high, exclusive */
	put8(b, 1); put32(b, d->gsi);
	put8(b, 0x79); put8(b, 0);             /* End Tag */
	aml_close(b, crs);
	aml_close(b, at);
}

static void dsdt(struct buf *b, const struct acpi_config *c)
{
	size_t start = b->n, at;

	header(b, "DSDT", 2);
	put8(b, 0x10);                         /* ScopeOp */
	at = b->n;
	put(b, "\\_SB_", 5);
	for (unsigned i = 0; i < c->ndevs; i++)
		aml_device(b, i, &c->devs[i]);
	aml_close(b, at);
	put8(b, 0x08); put(b, "\\_S5_", 5);    /* Name(\_S5, Package(){5, 0}) */
	put8(b, 0x12);
	at = b->n;
	put8(b, 2);
	put8(b, 0x0a); put8(b, ACPI_SLP_TYP_S5);
	put8(b, 0x00);
	aml_close(b, at);
	finish(b, start);
}

static void rsdp(struct buf *b, uint64_t xsdt)
{
	put(b, "RSD PTR ", 8);
	put8(b, 0);
	put(b, "OCIVM ", 6);
	put8(b, 2);                            /* revision: ACPI 2.0+ */
	put32(b, 0);                           /* no RSDT */
	put32(b, 36);
	put64(b, xsdt);
	put8(b, 0);
	put8(b, 0); put16(b, 0);
	if (!b->overflow) {
		b->p[8] = acpi_checksum(b->p, 20);
		b->p[32] = acpi_checksum(b->p, 36);
	}
}

int acpi_build(const struct acpi_config *c, uint8_t *p, size_t cap, uint64_t gpa,
	       size_t *ret_len, struct oerr *err)
{
	struct buf b = { .p = p, .cap = cap };
	size_t xsdt_at, fadt_at, madt_at, dsdt_at;

	if (c->ncpus == 0 || c->ncpus > 255 || c->ndevs > LAYOUT_VIRTIO_MAX)
		return oerr_set(err, EINVAL, "ACPI: unsupported vCPU or device count");
	memset(p, 0, cap);
	b.n = 64;                              /* RSDP at 0, written last */
	xsdt_at = b.n;
	header(&b, "XSDT", 1);
	put64(&b, 0);
	put64(&b, 0);
	finish(&b, xsdt_at);
	align16(&b);
	dsdt_at = b.n;
	dsdt(&b, c);
	align16(&b);
	fadt_at = b.n;
	fadt(&b, gpa + dsdt_at);
	align16(&b);
	madt_at = b.n;
	madt(&b, c->ncpus);
	if (b.overflow)
		return oerr_set(err, ENOSPC, "ACPI tables do not fit in %zu bytes", cap);
	wr64(p + xsdt_at + HDR_LEN, gpa + fadt_at);
	wr64(p + xsdt_at + HDR_LEN + 8, gpa + madt_at);
	p[xsdt_at + 9] = 0;
	p[xsdt_at + 9] = acpi_checksum(p + xsdt_at, HDR_LEN + 16);
	size_t end = b.n;
	b.n = 0;
	rsdp(&b, gpa + xsdt_at);
	*ret_len = end;
	return 0;
}
