/* ACPI: RSDP -> XSDT -> FADT/MADT/DSDT, checksums, the vCPU and IOAPIC
 * entries, and the LNRO0005 (virtio-mmio) devices of the DSDT. */
#include "st_internal.h"

#define IOAPIC_BASE 0xfec00000ul

struct sdt {
	char sig[4];
	uint32_t len;
	uint8_t rev, csum;
	char oem[6], table[8];
	uint32_t oem_rev, creator, creator_rev;
} __attribute__((packed));

static uint8_t sum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t s = 0;
	while (n--)
		s += *b++;
	return s;
}

static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

static const struct sdt *table_at(uint64_t a, const char *sig)
{
	const struct sdt *t = (const void *)(uintptr_t)a;
	if (!a || a >= 0x100000000ull || memcmp(t->sig, sig, 4) != 0 ||
	    t->len < sizeof(*t) || t->len > 0x100000 || sum(t, t->len) != 0)
		return NULL;
	return t;
}

static uint64_t check_rsdp(uint64_t a)
{
	const uint8_t *r = (const void *)(uintptr_t)a;
	bool ok = a && memcmp(r, "RSD PTR ", 8) == 0 && sum(r, 20) == 0 &&
		  r[15] >= 2 && rd32(r + 20) == 36 && sum(r, 36) == 0;
	st_check("acpi.rsdp", ok, "at 0x%lx: signature, revision 2, both checksums", a);
	uint64_t found = 0;
	for (uint64_t p = 0xe0000; p < 0x100000 && !found; p += 16)
		if (memcmp((const void *)(uintptr_t)p, "RSD PTR ", 8) == 0 &&
		    sum((const void *)(uintptr_t)p, 20) == 0)
			found = p;
	st_check("acpi.rsdp_scan", found == a, "BIOS-area scan finds 0x%lx", found);
	return ok ? rd64(r + 24) : 0;
}

static void check_fadt(const struct sdt *f, uint64_t *dsdt, struct st_platform *pf)
{
	const uint8_t *b = (const void *)f;
	bool ok = f && f->len >= 268 && f->rev >= 5;   /* ACPI 5.0+: sleep registers */
	uint32_t flags = ok ? rd32(b + 112) : 0;

	st_check("acpi.fadt", ok && f->len >= 276 && (flags & (1u << 20)),
		 "revision %u, %u bytes, flags 0x%x (HW_REDUCED_ACPI)", f ? f->rev : 0,
		 f ? f->len : 0, flags);
	if (!ok)
		return;
	*dsdt = rd64(b + 140) ? rd64(b + 140) : rd32(b + 40);
	/* SLEEP_CONTROL_REG: GAS at 244 */
	pf->sleep_is_io = b[244] == 1;
	pf->sleep_addr = (b[244] <= 1) ? rd64(b + 248) : 0;
	st_check("acpi.fadt.sleep_reg", pf->sleep_is_io && pf->sleep_addr,
		 "SLEEP_CONTROL_REG in %s space at 0x%lx", pf->sleep_is_io ? "I/O" : "memory",
		 pf->sleep_addr);
	st_check("acpi.fadt.reset_reg", (flags & (1u << 10)) && b[116] == 1 && rd64(b + 120),
		 "RESET_REG at 0x%lx value 0x%x", rd64(b + 120), b[128]);
}

static uint32_t ioapic_read(uint32_t reg)
{
	mmio_write32(IOAPIC_BASE, reg);
	return mmio_read32(IOAPIC_BASE + 0x10);
}

static void check_madt(const struct sdt *m, struct st_env *env)
{
	const uint8_t *b = (const void *)m, *end = b + (m ? m->len : 0);
	unsigned cpus = 0, ioapics = 0;
	uint64_t want = 0;
	uint32_t ioapic_addr = 0, gsi_base = 1;

	for (const uint8_t *e = b + 44; m && e + 2 <= end && e[1] >= 2 && e + e[1] <= end; e += e[1]) {
		if (e[0] == 0 && e[1] >= 8 && (rd32(e + 4) & 1))
			cpus++;
		if (e[0] == 1 && e[1] >= 12) {
			ioapics++;
			ioapic_addr = rd32(e + 4);
			gsi_base = rd32(e + 8);
		}
	}
	env->ncpus = cpus;
	if (!st_cmdline_u64("st.vcpus", &want))
		want = cpus ? cpus : 1;   /* bare boot: at least one */
	st_check("acpi.madt", m && rd32(b + 36) == 0xfee00000u,
		 "LAPIC at 0x%x", m ? rd32(b + 36) : 0);
	st_check("acpi.madt.cpus", cpus == want, "%u enabled LAPIC entries, st.vcpus=%lu",
		 cpus, want);
	st_check("acpi.madt.ioapic", ioapics == 1 && ioapic_addr == IOAPIC_BASE && gsi_base == 0,
		 "%u IOAPIC at 0x%x, GSI base %u", ioapics, ioapic_addr, gsi_base);
	uint32_t ver = ioapic_read(1);
	st_check("acpi.ioapic.regs", ((ver >> 16) & 0xff) == 23 && (ver & 0xff) >= 0x11,
		 "version 0x%x, %u pins", ver & 0xff, ((ver >> 16) & 0xff) + 1);
}

/* AML PkgLength at p: returns the encoded length, *n = bytes used. */
static uint32_t pkglen(const uint8_t *p, unsigned *n)
{
	unsigned extra = p[0] >> 6;
	uint32_t len = extra ? (p[0] & 0xf) : (p[0] & 0x3f);
	for (unsigned i = 0; i < extra; i++)
		len |= (uint32_t)p[1 + i] << (4 + 8 * i);
	*n = 1 + extra;
	return len;
}

static const uint8_t *find(const uint8_t *p, const uint8_t *end, const void *pat, size_t n)
{
	for (; p + n <= end; p++)
		if (memcmp(p, pat, n) == 0)
			return p;
	return NULL;
}

/* Resource template of a _CRS buffer: Memory32Fixed + one Interrupt. */
static bool parse_crs(const uint8_t *p, const uint8_t *end, struct st_virtio_dev *d, bool *edge_hi)
{
	unsigned n;
	if (p + 8 > end || *p != 0x11)
		return false;
	uint32_t len = pkglen(p + 1, &n);
	const uint8_t *q = p + 1 + n, *lim = p + 1 + len;
	if (lim > end || *q != 0x0a)
		return false;
	q += 2;
	bool mem = false, irq = false;
	while (q + 3 <= lim && *q != 0x79) {
		if (!(*q & 0x80)) {
			q += 1 + (*q & 7);
			continue;
		}
		uint16_t l = rd16(q + 1);
		if (*q == 0x86 && l >= 9) {
			d->base = rd32(q + 4);
			d->size = rd32(q + 8);
			mem = true;
		} else if (*q == 0x89 && l >= 6 && q[4] >= 1) {
			d->gsi = rd32(q + 5);
			*edge_hi = (q[3] & 0x06) == 0x02;
			irq = true;
		}
		q += 3 + l;
	}
	return mem && irq;
}

static void scan_dsdt(const struct sdt *t, struct st_env *env)
{
	static const uint8_t hid[] = { '_', 'H', 'I', 'D', 0x0d, 'L', 'N', 'R', 'O', '0', '0', '0', '5', 0 };
	const uint8_t *p = (const void *)t, *end = p + t->len;
	unsigned bad = 0;

	p += sizeof(*t);
	while ((p = find(p, end, hid, sizeof(hid))) && env->n_virtio < ST_MAX_VIRTIO) {
		struct st_virtio_dev d = { 0 };
		bool edge_hi = false;
		const uint8_t *next = find(p + 1, end, "_HID", 4);
		const uint8_t *lim = next ? next : end;
		const uint8_t *uid = find(p, lim, "_UID", 4);
		const uint8_t *crs = find(p, lim, "_CRS", 4);
		if (uid && uid + 6 <= lim && uid[4] == 0x0a)
			d.uid = uid[5];
		bool ok = crs && parse_crs(crs + 4, lim, &d, &edge_hi) && edge_hi &&
			  d.size >= 0x200 && d.gsi < ST_MAX_GSI && d.base >= 0xc0000000ul;
		st_check("acpi.dsdt.device", ok, "LNRO0005 _UID %u: [0x%lx, +0x%x) GSI %u %s",
			 d.uid, d.base, d.size, d.gsi, edge_hi ? "edge/high" : "WRONG TRIGGER");
		if (ok)
			env->virtio[env->n_virtio++] = d;
		else
			bad++;
		p += sizeof(hid);
	}
	uint64_t want = 0;
	bool have = st_cmdline_u64("st.ndev", &want);
	if (!have) {
		want = env->n_virtio;   /* bare boot: whatever is there, but well-formed */
		have = true;
	}
	st_check("acpi.dsdt.count", have && env->n_virtio == want && !bad,
		 "%u virtio-mmio devices, st.ndev=%lu", env->n_virtio, want);
	st_check("acpi.dsdt.s5", find((const void *)t, end, "_S5_", 4) != NULL, "\\_S5 package present");
}

void st_acpi_checks(struct st_env *env, struct st_platform *pf)
{
	uint64_t xsdt_a = check_rsdp(pf->rsdp), dsdt_a = 0;
	const struct sdt *x = table_at(xsdt_a, "XSDT"), *fadt = NULL, *madt = NULL;
	unsigned n = x ? (x->len - sizeof(*x)) / 8 : 0;

	for (unsigned i = 0; i < n; i++) {
		uint64_t a = rd64((const uint8_t *)x + sizeof(*x) + i * 8);
		fadt = fadt ? fadt : table_at(a, "FACP");
		madt = madt ? madt : table_at(a, "APIC");
	}
	st_check("acpi.xsdt", x && fadt && madt, "at 0x%lx: %u entries, FACP %s, APIC %s",
		 xsdt_a, n, fadt ? "ok" : "missing/bad", madt ? "ok" : "missing/bad");
	check_fadt(fadt, &dsdt_a, pf);
	check_madt(madt, env);
	const struct sdt *d = table_at(dsdt_a, "DSDT");
	st_check("acpi.dsdt", d != NULL, "at 0x%lx, %u bytes, checksum", dsdt_a, d ? d->len : 0);
	if (d)
		scan_dsdt(d, env);
}
