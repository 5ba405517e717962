/* ACPI table layout and checksums, and the DSDT's AML. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>

#include "vm/vmm/acpi.h"
#include "vm/vmm/layout.h"

#define GPA 0xe0000ull
#define CAP 0x20000u

static uint8_t buf[CAP];

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static uint8_t sum(const uint8_t *p, size_t n) { uint8_t s = 0; while (n--) s += *p++; return s; }

/* The table at guest address a, checked: signature, in the buffer, checksum. */
static const uint8_t *table(uint64_t a, const char *sig)
{
	assert_true(a >= GPA && a + 36 <= GPA + CAP);
	const uint8_t *t = buf + (a - GPA);
	assert_memory_equal(t, sig, 4);
	assert_true(a + rd32(t + 4) <= GPA + CAP);
	assert_int_equal(sum(t, rd32(t + 4)), 0);
	return t;
}

static void build(unsigned ncpus, unsigned ndevs, size_t *len)
{
	struct acpi_device devs[LAYOUT_VIRTIO_MAX];
	for (unsigned i = 0; i < ndevs; i++)
		devs[i] = (struct acpi_device){ LAYOUT_VIRTIO_BASE + i * 0x1000, 0x200, 5 + i };
	struct acpi_config c = { ncpus, devs, ndevs };
	struct oerr err = { 0 };
	assert_int_equal(acpi_build(&c, buf, CAP, GPA, len, &err), 0);
}

static const uint8_t *xsdt_entry(const uint8_t *x, const char *sig)
{
	unsigned n = (rd32(x + 4) - 36) / 8;
	for (unsigned i = 0; i < n; i++) {
		uint64_t a = rd64(x + 36 + 8 * i);
		if (memcmp(buf + (a - GPA), sig, 4) == 0)
			return table(a, sig);
	}
	fail_msg("%s not in the XSDT", sig);
	return NULL;
}

static void test_rsdp_xsdt(void **state)
{
	size_t len;
	(void)state;
	build(2, 1, &len);
	assert_memory_equal(buf, "RSD PTR ", 8);
	assert_int_equal(sum(buf, 20), 0);
	assert_int_equal(sum(buf, 36), 0);
	assert_int_equal(buf[15], 2);
	assert_int_equal(rd32(buf + 20), 36);
	const uint8_t *x = table(rd64(buf + 24), "XSDT");
	assert_int_equal(rd32(x + 4), 36 + 16);
	assert_true(len <= CAP && len > 0);
}

static void test_fadt(void **state)
{
	size_t len;
	(void)state;
	build(1, 0, &len);
	const uint8_t *f = xsdt_entry(table(rd64(buf + 24), "XSDT"), "FACP");
	assert_int_equal(rd32(f + 4), 276);
	assert_int_equal(f[8], 6);
	assert_true(rd32(f + 112) & (1u << 20));              /* HW_REDUCED_ACPI */
	assert_true(rd32(f + 112) & (1u << 10));              /* RESET_REG_SUP */
	table(rd64(f + 140), "DSDT");                         /* X_DSDT */
	assert_int_equal(rd32(f + 40), rd64(f + 140));
	assert_int_equal(f[244], 1);                          /* SystemIO */
	assert_int_equal(rd64(f + 248), PORT_ACPI_SLEEP_CTL);
	assert_int_equal(rd64(f + 260), PORT_ACPI_SLEEP_STS);
	assert_int_equal(rd64(f + 120), PORT_ACPI_RESET);
	assert_int_equal(f[128], ACPI_RESET_VALUE);
}

static void test_madt(void **state)
{
	size_t len;
	unsigned cpus = 0, ioapics = 0, nmis = 0;
	(void)state;
	build(5, 0, &len);
	const uint8_t *m = xsdt_entry(table(rd64(buf + 24), "XSDT"), "APIC");
	assert_int_equal(rd32(m + 36), LAYOUT_LAPIC);
	for (const uint8_t *e = m + 44; e < m + rd32(m + 4); e += e[1]) {
		assert_true(e[1] >= 2);
		if (e[0] == 0) {
			assert_int_equal(e[1], 8);
			assert_int_equal(e[3], cpus);              /* APIC id */
			assert_int_equal(rd32(e + 4), 1);
			cpus++;
		} else if (e[0] == 1) {
			assert_int_equal(rd32(e + 4), LAYOUT_IOAPIC);
			assert_int_equal(rd32(e + 8), 0);
			ioapics++;
		} else if (e[0] == 4) {
			nmis++;
		}
	}
	assert_int_equal(cpus, 5);
	assert_int_equal(ioapics, 1);
	assert_int_equal(nmis, 1);
}

/* Decode an AML PkgLength. */
static uint32_t pkglen(const uint8_t *p, unsigned *n)
{
	unsigned extra = p[0] >> 6;
	uint32_t len = extra ? (p[0] & 0xf) : (p[0] & 0x3f);
	for (unsigned i = 0; i < extra; i++)
		len |= (uint32_t)p[1 + i] << (4 + 8 * i);
	*n = 1 + extra;
	return len;
}

static void check_dsdt(unsigned ndevs)
{
	size_t len;
	build(1, ndevs, &len);
	const uint8_t *f = xsdt_entry(table(rd64(buf + 24), "XSDT"), "FACP");
	const uint8_t *d = table(rd64(f + 140), "DSDT");
	const uint8_t *p = d + 36, *end = d + rd32(d + 4);
	unsigned n;

	assert_int_equal(*p, 0x10);                            /* Scope(\_SB) */
	uint32_t scope = pkglen(p + 1, &n);
	assert_memory_equal(p + 1 + n, "\\_SB_", 5);
	const uint8_t *q = p + 1 + n + 5, *scope_end = p + 1 + scope;
	assert_true(scope_end < end);
	for (unsigned i = 0; i < ndevs; i++) {
		assert_int_equal(q[0], 0x5b);
		assert_int_equal(q[1], 0x82);                      /* DeviceOp */
		uint32_t dl = pkglen(q + 2, &n);
		const uint8_t *body = q + 2 + n, *dend = q + 2 + dl;
		assert_true(dend <= scope_end);
		assert_memory_equal(body + 4, "\x08_HID\x0dLNRO0005\0", 15);
		assert_memory_equal(body + 19, "\x08_UID\x0a", 6);
		assert_int_equal(body[25], i);
		assert_memory_equal(body + 26, "\x08_CRS\x11", 6);
		const uint8_t *crs = body + 32;
		uint32_t bl = pkglen(crs, &n);
		assert_int_equal(crs + bl, dend);
		const uint8_t *rt = crs + n + 2;                   /* after BytePrefix size */
		assert_int_equal(crs[n + 1], 23);
		assert_int_equal(rt[0], 0x86);                     /* Memory32Fixed */
		assert_int_equal(rd32(rt + 4), LAYOUT_VIRTIO_BASE + i * 0x1000);
		assert_int_equal(rd32(rt + 8), 0x200);
		assert_int_equal(rt[12], 0x89);                    /* Extended Interrupt */
		assert_int_equal(rt[15], 0x03);                    /* consumer, edge, high */
		assert_int_equal(rd32(rt + 17), 5 + i);
		assert_int_equal(rt[21], 0x79);
		q = dend;
	}
	assert_ptr_equal(q, scope_end);
	assert_memory_equal(q, "\x08\\_S5_\x12", 7);
}

static void test_dsdt_one_device(void **state) { (void)state; check_dsdt(1); }
static void test_dsdt_no_device(void **state) { (void)state; check_dsdt(0); }
/* 16 devices: Scope needs a 2-byte PkgLength. */
static void test_dsdt_many_devices(void **state) { (void)state; check_dsdt(LAYOUT_VIRTIO_MAX); }

static void test_limits(void **state)
{
	struct acpi_device d = { LAYOUT_VIRTIO_BASE, 0x200, 5 };
	struct acpi_config c = { 1, &d, 1 };
	struct oerr err = { 0 };
	size_t len;
	(void)state;
	assert_int_equal(acpi_build(&c, buf, 200, GPA, &len, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "do not fit"));
	c.ncpus = 0;
	assert_int_equal(acpi_build(&c, buf, CAP, GPA, &len, NULL), -EINVAL);
	c.ncpus = 1;
	c.ndevs = LAYOUT_VIRTIO_MAX + 1;
	assert_int_equal(acpi_build(&c, buf, CAP, GPA, &len, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rsdp_xsdt),
		cmocka_unit_test(test_fadt),
		cmocka_unit_test(test_madt),
		cmocka_unit_test(test_dsdt_one_device),
		cmocka_unit_test(test_dsdt_no_device),
		cmocka_unit_test(test_dsdt_many_devices),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
