/* The virtio side of the guest self-test: every virtio-mmio device's
 * identity registers, then the console (features, queues, a round trip with
 * the host's console_echo, interrupts through the IOAPIC), then the disks
 * (virtio_blk_checks.c), then the NIC (virtio_net_checks.c).  One st_check
 * line each.
 *
 * Command line: st.console_echo=0 skips the round trip (no echoing client). */
#include "virtio_drv.h"

#define CON_RXQ 0
#define CON_TXQ 1
#define ECHO_TIMEOUT_MS 5000

static void check_identity(const struct st_env *env)
{
	unsigned ok = 0;
	for (unsigned i = 0; i < env->n_virtio; i++) {
		uint32_t id;
		bool good = stv_probe(env->virtio[i].base, &id);
		ok += good;
		st_check("virtio.regs", good, "device %u at 0x%llx gsi %u: id %u",
			 i, (unsigned long long)env->virtio[i].base, env->virtio[i].gsi, id);
	}
	if (env->n_virtio == 0)
		st_check("virtio.regs", false, "no virtio-mmio devices in the DSDT");
}

static const struct st_virtio_dev *find(const struct st_env *env, uint32_t want_id)
{
	for (unsigned i = 0; i < env->n_virtio; i++) {
		uint32_t id;
		if (stv_probe(env->virtio[i].base, &id) && id == want_id)
			return &env->virtio[i];
	}
	return NULL;
}

/* Collect echoed bytes until the whole line is back (the host may split). */
static bool receive(struct stv_dev *d, char *rx, uint32_t cap, const char *want, uint32_t n)
{
	uint32_t got = 0;
	while (got < n) {
		struct stv_seg s = { rx + got, cap - got, 1 };
		uint32_t len;
		stv_post(d, CON_RXQ, &s, 1, false);
		if (!stv_wait(d, CON_RXQ, &len, ECHO_TIMEOUT_MS) || len == 0 || len > cap - got)
			return false;
		got += len;
	}
	return memcmp(rx, want, n) == 0;
}

static void check_console(const struct st_env *env)
{
	const struct st_virtio_dev *v = find(env, 3);
	if (!st_check("virtio.console.present", v != NULL, "device id 3 %s", v ? "found" : "missing"))
		return;
	static struct stv_dev d;
	int r = stv_init(&d, v->base, v->gsi, STV_F_VERSION_1 | STV_F_EVENT_IDX, 2);
	st_check("virtio.console.features", r == 0 && (d.features & STV_F_EVENT_IDX),
		 "offered 0x%llx, accepted 0x%llx (step %d)", (unsigned long long)d.offered,
		 (unsigned long long)d.features, r);
	if (!st_check("virtio.console.queues", r == 0, "2 queues of %u, status 0x%x",
		      STV_QSIZE, stv_status(&d)))
		return;
	char *page = st_alloc_pages(1);
	static const char line[] = "ocivm selftest console line 0123456789\n";
	uint32_t n = sizeof(line) - 1, len = 0;
	memcpy(page, line, n);
	uint64_t irq0 = st_irq_count(v->gsi);
	struct stv_seg tx = { page, n, 0 };
	stv_post(&d, CON_TXQ, &tx, 1, false);
	bool sent = stv_wait(&d, CON_TXQ, &len, ECHO_TIMEOUT_MS);
	st_check("virtio.console.tx", sent, "%u bytes taken by the host", n);
	bool irq = sent && st_irq_wait(v->gsi, irq0 + 1, 1000);
	st_check("virtio.console.irq", irq,
		 "gsi %u: %llu interrupts", v->gsi,
		 (unsigned long long)(st_irq_count(v->gsi) - irq0));
	uint64_t echo = 1;
	st_cmdline_u64("st.console_echo", &echo);
	if (!echo) {
		st_printf("# virtio.console.echo skipped (st.console_echo=0)\n");
		return;
	}
	bool back = receive(&d, page + 2048, 2048, line, n);
	st_check("virtio.console.echo", back, "line %s", back ? "echoed back intact" : "not echoed");
}

void st_virtio_checks(const struct st_env *env)
{
	check_identity(env);
	check_console(env);
	stv_blk_checks(env);
	stv_net_checks(env);
}
