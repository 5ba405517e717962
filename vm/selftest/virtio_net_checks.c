/* virtio-net checks of the guest self-test (issue 13 item 1), against a NIC
 * whose tap the host watches with tests/vm/virtio/net_echo.c:
 *   the features (MAC, STATUS, MRG_RXBUF, CSUM, EVENT_IDX), the MAC in the
 *   config space (st.net_mac=aa:bb:cc:dd:ee:ff, as given to the VMM), the
 *   link up; a TX frame (ethertype 0x88b5, broadcast, "ocivm-st-net tx")
 *   taken by the device -- net_echo sees it on the tap and answers with a
 *   frame to our MAC ("ocivm-st-net rx"), which must arrive on the RX queue
 *   in one merged buffer; then once more with TX asking for no interrupt,
 *   and an interrupt must come (RX's).
 * The TX frame is sent again every TX_EVERY_MS until the answer comes (the
 * host may bring the tap up after the first one).  st.net_echo=0: no host
 * answers, the RX check is skipped.  With no virtio-net device the checks
 * are skipped, unless st.net_mac says there must be one. */
#include "virtio_drv.h"

#define RXQ 0u
#define TXQ 1u
#define F_CSUM (1ull << 0)
#define F_GUEST_CSUM (1ull << 1)
#define F_MAC (1ull << 5)
#define F_MRG_RXBUF (1ull << 15)
#define F_STATUS (1ull << 16)
#define NEED (STV_F_VERSION_1 | STV_F_EVENT_IDX | F_MAC | F_STATUS | F_MRG_RXBUF | F_CSUM)
#define WANT (NEED | F_GUEST_CSUM)
#define HDR 12u            /* struct virtio_net_hdr_mrg_rxbuf */
#define ETHERTYPE 0x88b5u  /* IEEE local experimental */
#define TX_MARK "ocivm-st-net tx"
#define RX_MARK "ocivm-st-net rx"
#define ECHO_TIMEOUT_MS 30000   /* only a failure waits this long */
#define TX_TIMEOUT_MS 5000       /* as the blk checks: a starved device thread on a loaded host */
#define TX_EVERY_MS 200

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "aa:bb:cc:dd:ee:ff" -> 6 bytes */
static bool parse_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++, s += 3) {
		int h = hexval(s[0]), l = hexval(s[1]);
		if (h < 0 || l < 0 || s[2] != (i == 5 ? '\0' : ':'))
			return false;
		mac[i] = (uint8_t)(h << 4 | l);
	}
	return true;
}

static void fmt_mac(char out[18], const uint8_t mac[6])
{
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < 6; i++) {
		out[3 * i] = hex[mac[i] >> 4];
		out[3 * i + 1] = hex[mac[i] & 15];
		out[3 * i + 2] = i == 5 ? '\0' : ':';
	}
}

/* Our answer: to our MAC, ethertype 0x88b5, the RX marker. */
static bool is_answer(const uint8_t *f, uint32_t len, const uint8_t mac[6])
{
	uint32_t n = sizeof(RX_MARK) - 1;
	return len >= 14 + n && memcmp(f, mac, 6) == 0 && f[12] == (ETHERTYPE >> 8) &&
	       f[13] == (ETHERTYPE & 0xff) && memcmp(f + 14, RX_MARK, n) == 0;
}

static const struct st_virtio_dev *find_nic(const struct st_env *env)
{
	for (unsigned i = 0; i < env->n_virtio; i++) {
		uint32_t id;
		if (stv_probe(env->virtio[i].base, &id) && id == 1)
			return &env->virtio[i];
	}
	return NULL;
}

/* TX frames until the answer is in the RX buffer (or the deadline):
 * 1 answered, 0 no answer, -1 the device never took a TX frame. */
static int round_trip(struct stv_dev *d, uint8_t *tx, uint32_t txlen, uint8_t *rx,
		      const uint8_t mac[6], unsigned *ret_sent, uint32_t *ret_rxlen)
{
	uint64_t end = st_now_us() + 1000ull * ECHO_TIMEOUT_MS;
	struct stv_seg rs = { rx, 2048, 1 };
	memset(rx, 0, HDR + 64);
	stv_post(d, RXQ, &rs, 1, false);
	*ret_sent = 0;
	while (st_now_us() < end) {
		struct stv_seg ts = { tx, txlen, 0 };
		uint32_t len;
		stv_post(d, TXQ, &ts, 1, false);
		if (!stv_wait(d, TXQ, &len, TX_TIMEOUT_MS))
			return -1;
		++*ret_sent;
		uint64_t next = st_now_us() + 1000ull * TX_EVERY_MS;
		while (st_now_us() < next) {
			if (!stv_wait(d, RXQ, &len, TX_EVERY_MS))
				break;
			if (len > HDR && is_answer(rx + HDR, len - HDR, mac)) {
				*ret_rxlen = len;
				return 1;
			}
			memset(rx, 0, HDR + 64);   /* someone else's frame: the buffer again */
			stv_post(d, RXQ, &rs, 1, false);
		}
	}
	return 0;
}

void stv_net_checks(const struct st_env *env)
{
	char want_s[24], got_s[18];
	uint8_t want[6], mac[6];
	bool have_want = st_cmdline_value("st.net_mac", want_s, sizeof(want_s));
	const struct st_virtio_dev *v = find_nic(env);

	if (!v) {
		if (have_want)
			st_check("virtio.net.present", false, "st.net_mac=%s but no device id 1", want_s);
		else
			st_printf("# no virtio-net device: net checks skipped\n");
		return;
	}
	static struct stv_dev d;
	int r = stv_init(&d, v->base, v->gsi, WANT, 2);
	if (!st_check("virtio.net.features", r == 0 && (d.features & NEED) == NEED,
		      "offered 0x%llx, accepted 0x%llx (step %d)", (unsigned long long)d.offered,
		      (unsigned long long)d.features, r))
		return;
	for (unsigned i = 0; i < 6; i++)
		mac[i] = stv_cfg8(&d, i);
	fmt_mac(got_s, mac);
	if (have_want) {
		bool ok = parse_mac(want_s, want);
		st_check("virtio.net.mac", ok && memcmp(mac, want, 6) == 0, "config space %s, given %s",
			 got_s, want_s);
	} else {
		st_printf("# virtio.net: config space MAC %s (st.net_mac not given)\n", got_s);
	}
	uint32_t status = stv_cfg8(&d, 6) | (uint32_t)stv_cfg8(&d, 7) << 8;
	st_check("virtio.net.link", status & 1, "config status 0x%x (LINK_UP)", status);

	uint8_t *page = st_alloc_pages(1), *tx = page, *rx = page + 2048;
	uint32_t n = sizeof(TX_MARK) - 1, txlen = HDR + 60;
	memset(tx, 0, txlen);   /* header: no offload, no GSO; frame padded to 60 */
	memset(tx + HDR, 0xff, 6);
	memcpy(tx + HDR + 6, mac, 6);
	tx[HDR + 12] = ETHERTYPE >> 8;
	tx[HDR + 13] = ETHERTYPE & 0xff;
	memcpy(tx + HDR + 14, TX_MARK, n);
	uint64_t echo = 1;
	st_cmdline_u64("st.net_echo", &echo);
	if (!echo) {
		struct stv_seg ts = { tx, txlen, 0 };
		uint32_t len;
		stv_post(&d, TXQ, &ts, 1, false);
		st_check("virtio.net.tx", stv_wait(&d, TXQ, &len, TX_TIMEOUT_MS), "a %u-byte frame taken", txlen - HDR);
		st_printf("# virtio.net.rx skipped (st.net_echo=0)\n");
		return;
	}
	unsigned sent;
	uint32_t rxlen = 0;
	uint64_t irq0 = st_irq_count(v->gsi);
	r = round_trip(&d, tx, txlen, rx, mac, &sent, &rxlen);
	st_check("virtio.net.tx", r >= 0, "%u frames of %u bytes taken", sent, txlen - HDR);
	uint32_t nbuf = rx[10] | (uint32_t)rx[11] << 8;
	st_check("virtio.net.rx", r == 1 && nbuf == 1, "%s (%u bytes, num_buffers %u)",
		 r == 1 ? "the host's answer arrived" : "no answer from the host", rxlen, nbuf);
	if (r != 1)
		return;
	/* The RX interrupt: a TX completion (or the link's config change)
	 * interrupts too, so the round trip is made again with TX asking for
	 * none (used_event far ahead, as virtio.blk.event_idx) once the link
	 * is up and the last interrupts landed: what comes then is RX's. */
	uint64_t tx_irqs = st_irq_count(v->gsi) - irq0;
	d.q[TXQ].event_ahead = 8;
	(void)st_irq_wait(v->gsi, st_irq_count(v->gsi) + 1, 20);
	uint64_t irq1 = st_irq_count(v->gsi);
	unsigned sent2;
	r = round_trip(&d, tx, txlen, rx, mac, &sent2, &rxlen);
	bool got = r == 1 && st_irq_wait(v->gsi, irq1 + 1, TX_TIMEOUT_MS);
	d.q[TXQ].event_ahead = 0;
	st_check("virtio.net.irq", got, "gsi %u: %llu interrupts (TX and RX), then %llu with TX's off "
		 "(answer %s)", v->gsi, (unsigned long long)tx_irqs,
		 (unsigned long long)(st_irq_count(v->gsi) - irq1), r == 1 ? "arrived" : "lost");
}
