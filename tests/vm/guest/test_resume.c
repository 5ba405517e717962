/* Protocol 3 in the guest relay (vm/guest/relay_ring.c): output kept until
 * OUT_ACK, sent again after RESUME.  One process, no fork of the relay: the
 * test drives relay_step() (poll_ms 0) and plays the host on the other end
 * of a socketpair, and a daemon restart is exact: the "old host" reads a
 * chosen number of bytes (cut inside a header, inside a payload, after
 * EXITED), keeps only the whole frames it decoded (what reached its files),
 * and vanishes with the rest; the "new host" sends RESUME with its counts,
 * drops everything up to RESUMED (found by header + nonce) and reads on.
 * The process is made by hand: the test writes known bytes into its pipes
 * (non-blocking, as room allows) and ends it, so every interleaving is the
 * same on every run.  Both streams must arrive whole, once, in order, and
 * EXITED exactly once, last. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "chan.h"
#include "vm/guest/relay.h"

#define OUT_BYTES (3u << 20)   /* stdout: more than the window */
#define ERR_BYTES (700u << 10)

/* The hand-made process: pipes the test writes, a child that exits 5 once
 * `go` reaches EOF. */
struct fake {
	int out_w, err_w, go_w;
	size_t out_sent, err_sent;
};
static struct fake fk;

static uint8_t content(int s, size_t i)
{
	return (uint8_t)(s == 1 ? i * 7 + i / 251 : i * 13 + 1 + i / 509);
}

static int fake_spawn(void *ctx, struct gspawn_result *ret, int *code, char *eb, size_t cap)
{
	int o[2], e[2], g[2];

	if (pipe2(o, O_CLOEXEC) < 0 || pipe2(e, O_CLOEXEC) < 0 || pipe2(g, O_CLOEXEC) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		char c;
		close(g[1]);
		while (read(g[0], &c, 1) > 0)
			;
		_exit(5);
	}
	close(g[0]);
	fk = (struct fake){ .out_w = o[1], .err_w = e[1], .go_w = g[1] };
	fcntl(o[0], F_SETFL, O_NONBLOCK);
	fcntl(e[0], F_SETFL, O_NONBLOCK);
	fcntl(o[1], F_SETFL, O_NONBLOCK);
	fcntl(e[1], F_SETFL, O_NONBLOCK);
	*ret = (struct gspawn_result){ .pid = pid, .in_fd = -1, .out_fd = o[0], .err_fd = e[0] };
	return 0;
}

/* Write what the pipes take; at the end of both, close them and let the
 * process exit. */
static void fake_feed(void)
{
	uint8_t b[8192];
	int *fds[3] = { NULL, &fk.out_w, &fk.err_w };
	size_t *sent[3] = { NULL, &fk.out_sent, &fk.err_sent }, total[3] = { 0, OUT_BYTES, ERR_BYTES };

	for (int s = 1; s <= 2; s++) {
		while (*fds[s] >= 0 && *sent[s] < total[s]) {
			size_t n = total[s] - *sent[s] < sizeof(b) ? total[s] - *sent[s] : sizeof(b);
			for (size_t i = 0; i < n; i++)
				b[i] = content(s, *sent[s] + i);
			ssize_t w = write(*fds[s], b, n);
			if (w <= 0)
				break;
			*sent[s] += (size_t)w;
		}
		if (*fds[s] >= 0 && *sent[s] == total[s]) {
			close(*fds[s]);
			*fds[s] = -1;
		}
	}
	if (fk.out_w < 0 && fk.err_w < 0 && fk.go_w >= 0) {
		close(fk.go_w);
		fk.go_w = -1;
	}
}

/* The host: what reached its "files" (whole frames only). */
struct host {
	int fd;
	struct chan_reader rd;
	uint8_t *got[3];
	size_t len[3];
	int started, exited, kind, value, after_exit, resumed, logs, exec_frames;
	uint64_t from[3];          /* RESUMED's counts */
	int scanning;              /* RESUME sent: bytes dropped until RESUMED */
	uint8_t pat[16];
	uint8_t scan[CHAN_HDR_LEN + CHAN_MAX_PAYLOAD + 64];
	size_t scan_len;
	size_t dropped;            /* bytes dropped before RESUMED */
};
static struct host H;

static void host_frame(struct host *h, uint8_t type, uint8_t proc, const uint8_t *p, uint32_t len)
{
	h->after_exit += h->exited;
	if (proc) {
		h->exec_frames++;
		return;
	}
	switch (type) {
	case CHAN_STARTED: h->started = 1; break;
	case CHAN_STDOUT:
	case CHAN_STDERR: {
		int s = type == CHAN_STDOUT ? 1 : 2;
		h->got[s] = realloc(h->got[s], h->len[s] + len);
		memcpy(h->got[s] + h->len[s], p, len);
		h->len[s] += len;
		break;
	}
	case CHAN_LOG: h->logs++; break;
	case CHAN_RESUMED:
		assert_int_equal(len, CHAN_RESUME_LEN);
		h->resumed++;
		h->from[1] = chan_get_u64(p + 8);
		h->from[2] = chan_get_u64(p + 16);
		break;
	case CHAN_EXITED:
		assert_int_equal(len, 8);
		h->exited++;
		h->kind = (int)relay_get_u32(p);
		h->value = (int)relay_get_u32(p + 4);
		break;
	}
}

static void host_feed(struct host *h, const uint8_t *b, size_t n)
{
	for (size_t off = 0; off < n;) {
		const uint8_t *p;
		uint32_t len;
		uint8_t type;
		off += chan_reader_feed(&h->rd, b + off, n - off);
		int k;
		while ((k = chan_reader_next(&h->rd, &type, &p, &len)) == 1)
			host_frame(h, type, chan_reader_proc(&h->rd), p, len);
		assert_int_equal(k, 0);
	}
}

/* Read at most max bytes that are there; returns how many. */
static size_t host_read(struct host *h, size_t max)
{
	uint8_t b[65536];
	ssize_t n = recv(h->fd, b, max < sizeof(b) ? max : sizeof(b), MSG_DONTWAIT);

	if (n <= 0)
		return 0;
	if (!h->scanning) {
		host_feed(h, b, (size_t)n);
		return (size_t)n;
	}
	memcpy(h->scan + h->scan_len, b, (size_t)n);   /* scan holds < 16 + one read */
	h->scan_len += (size_t)n;
	uint8_t *at = memmem(h->scan, h->scan_len, h->pat, sizeof(h->pat));
	if (!at) {
		size_t keep = h->scan_len < 15 ? h->scan_len : 15;
		h->dropped += h->scan_len - keep;
		memmove(h->scan, h->scan + h->scan_len - keep, keep);
		h->scan_len = keep;
		return (size_t)n;
	}
	h->dropped += (size_t)(at - h->scan);
	h->scanning = 0;
	host_feed(h, at, h->scan_len - (size_t)(at - h->scan));
	return (size_t)n;
}

static void host_send(struct host *h, uint8_t type, const void *p, uint32_t len)
{
	assert_int_equal(chan_send(h->fd, type, p, len), 0);
}

static void host_ack(struct host *h, uint32_t flags)
{
	uint8_t b[20];
	chan_put_u64(b, h->len[1]);
	chan_put_u64(b + 8, h->len[2]);
	relay_put_u32(b + 16, flags);
	host_send(h, CHAN_OUT_ACK, b, flags ? 20 : 16);
}

/* The old host dies: its half-read frame is gone; a new one asks for
 * everything past what it holds. */
static void host_restart(struct host *h, uint64_t nonce)
{
	uint8_t b[CHAN_RESUME_LEN];

	chan_reader_init(&h->rd);
	chan_put_u64(b, nonce);
	chan_put_u64(b + 8, h->len[1]);
	chan_put_u64(b + 16, h->len[2]);
	chan_hdr_encode(h->pat, CHAN_RESUMED, CHAN_RESUME_LEN);
	memcpy(h->pat + CHAN_HDR_LEN, b, 8);
	h->scanning = 1;
	h->scan_len = 0;
	host_send(h, CHAN_RESUME, b, sizeof(b));
}

static struct relay R;
static int sfd = -1;

static void setup_relay(int acking)
{
	int sv[2];
	sigset_t s;

	for (int i = 1; i <= 2; i++)
		free(H.got[i]);
	memset(&H, 0, sizeof(H));
	sigemptyset(&s);
	sigaddset(&s, SIGCHLD);
	sigprocmask(SIG_BLOCK, &s, NULL);
	if (sfd < 0)
		sfd = signalfd(-1, &s, SFD_NONBLOCK | SFD_CLOEXEC);
	assert_true(sfd >= 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	H.fd = sv[0];
	chan_reader_init(&H.rd);
	assert_int_equal(relay_init(&R, sv[1], sfd, fake_spawn, NULL, 0), 0);
	R.poll_ms = 0;
	relay_queue(&R, CHAN_READY, NULL, 0);
	if (acking)
		host_ack(&H, 0);   /* what vm_start sends before START */
	host_send(&H, CHAN_START, NULL, 0);
}

static void teardown_relay(void)
{
	int *fds[3] = { &fk.out_w, &fk.err_w, &fk.go_w };
	for (int i = 0; i < 3; i++)
		if (*fds[i] >= 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
	close(R.chan_fd);
	relay_free(&R);
	close(H.fd);
}

/* Run guest and host until cond or 200000 rounds; the host reads up to
 * `budget` bytes in total (SIZE_MAX: no limit) and acks every ack_every
 * stored bytes (0: never). */
#define PUMP(cond, budget, ack_every)                                                   \
	do {                                                                            \
		size_t left_ = (budget), acked_ = H.len[1] + H.len[2], every_ = (ack_every); \
		for (int i_ = 0; !(cond); i_++) {                                       \
			assert_true(i_ < 200000);                                       \
			fake_feed();                                                    \
			assert_int_equal(relay_step(&R), 0);                            \
			if (left_)                                                      \
				left_ -= host_read(&H, left_);                          \
			if (every_ && H.len[1] + H.len[2] - acked_ >= every_) {         \
				host_ack(&H, 0);                                        \
				acked_ = H.len[1] + H.len[2];                           \
			}                                                               \
		}                                                                       \
	} while (0)

static void expect_whole(void)
{
	assert_int_equal(H.len[1], OUT_BYTES);
	assert_int_equal(H.len[2], ERR_BYTES);
	for (size_t i = 0; i < OUT_BYTES; i++)
		if (H.got[1][i] != content(1, i))
			fail_msg("stdout differs at offset %zu", i);
	for (size_t i = 0; i < ERR_BYTES; i++)
		if (H.got[2][i] != content(2, i))
			fail_msg("stderr differs at offset %zu", i);
	assert_int_equal(H.exited, 1);
	assert_int_equal(H.kind, 0);
	assert_int_equal(H.value, 5);
	assert_int_equal(H.after_exit, 0);
}

/* Finish: everything read, EXITED acknowledged, the relay done. */
static void finish(void)
{
	PUMP(H.exited, SIZE_MAX, 128u << 10);
	assert_false(relay_done(&R));   /* EXITED not acknowledged yet */
	host_ack(&H, CHAN_ACK_EXITED);
	PUMP(relay_done(&R), SIZE_MAX, 0);
	expect_whole();
}

/* A restart after `cut` more bytes read by the old host: at each cut
 * (inside a header, inside a payload, on a boundary), the streams come
 * whole.  Two restarts per run, the second before any ack of the new host. */
static void test_restart_cuts(void **state)
{
	static const size_t cuts[] = { 1, 5, 8, 9, 4096, 65543, 65544, 65545, 100003, 700001 };

	for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
		setup_relay(1);
		PUMP(H.started, SIZE_MAX, 0);
		PUMP(H.len[1] + H.len[2] >= 200000, SIZE_MAX, 64u << 10);
		/* the old host reads `cut` more bytes and dies; the guest goes on
		 * meanwhile (its queue and the socket fill) */
		PUMP(left_ == 0, cuts[c], 0);
		for (int i = 0; i < 50; i++) {
			fake_feed();
			assert_int_equal(relay_step(&R), 0);
		}
		host_restart(&H, 0x1122334455667788ull + c);
		PUMP(H.resumed == 1, SIZE_MAX, 0);
		assert_int_equal(H.from[1], H.len[1]);   /* nothing lost: all again from there */
		assert_int_equal(H.from[2], H.len[2]);
		PUMP(left_ == 0, 5000, 0);
		host_restart(&H, 0x99ull + c);            /* again, before any ack */
		PUMP(H.resumed == 2, SIZE_MAX, 0);
		assert_int_equal(H.from[1], H.len[1]);
		finish();
		assert_true(H.dropped > 0);
		teardown_relay();
	}
}

/* An acknowledging host that stops acknowledging: the guest reads at most
 * the window of each stream (the rest waits in the pipe, the process
 * blocks), then goes on when acks come. */
static void test_window(void **state)
{
	setup_relay(1);
	PUMP(H.started, SIZE_MAX, 0);
	for (int i = 0; i < 20000; i++) {
		fake_feed();
		assert_int_equal(relay_step(&R), 0);
		host_read(&H, SIZE_MAX);
	}
	assert_int_equal(R.ring[1].total, CHAN_OUT_WINDOW);
	assert_int_equal(H.len[1], CHAN_OUT_WINDOW);
	assert_true(fk.out_sent < OUT_BYTES);   /* the process is held */
	host_ack(&H, 0);
	finish();
	teardown_relay();
}

/* The daemon dies after it read EXITED but before it stored the last
 * frames: init does not end (EXITED not acknowledged); after RESUME the
 * tail and EXITED come again, EXITED once. */
static void test_restart_after_exited(void **state)
{
	uint8_t scrap[65536];
	int q = 1;

	setup_relay(1);
	PUMP(H.len[1] + H.len[2] >= OUT_BYTES + ERR_BYTES - 100000, SIZE_MAX, 128u << 10);
	PUMP(R.reported, 0, 0);
	/* the old host read the rest, EXITED too, into its buffers, and died
	 * before it stored them */
	while (!(R.outq_off == R.outq_len && q == 0)) {
		assert_int_equal(relay_step(&R), 0);
		while (recv(H.fd, scrap, sizeof(scrap), MSG_DONTWAIT) > 0)
			;
		ioctl(H.fd, FIONREAD, &q);
	}
	assert_int_equal(H.exited, 0);
	assert_true(H.len[1] + H.len[2] < OUT_BYTES + ERR_BYTES);
	for (int i = 0; i < 100; i++)
		assert_int_equal(relay_step(&R), 0);
	assert_false(relay_done(&R));
	host_restart(&H, 7);
	PUMP(H.resumed == 1, SIZE_MAX, 0);
	finish();
	teardown_relay();
}

/* RESUME below what the host acknowledged (its file lost bytes): the guest
 * no longer has them and says so: `from` is its oldest byte, above the
 * host's count; frames of exec'd processes and LOG lines in the queue are
 * kept. */
static void test_resume_gap_and_kept_frames(void **state)
{
	setup_relay(1);
	PUMP(H.started, SIZE_MAX, 0);
	PUMP(H.len[1] >= 400000, SIZE_MAX, 0);
	host_ack(&H, 0);
	PUMP(R.ring[1].acked >= 400000, 0, 0);
	uint64_t acked = R.ring[1].acked;
	relay_queue(&R, CHAN_LOG, "kept", 4);
	relay_queue_proc(&R, CHAN_STDOUT, 3, "exec", 4);
	H.len[1] -= 1000;     /* the host "lost" 1000 bytes of its file */
	host_restart(&H, 42);
	PUMP(H.resumed == 1, SIZE_MAX, 0);
	assert_int_equal(H.from[1], acked);
	assert_true(H.from[1] > H.len[1]);
	PUMP(H.logs >= 1 && H.exec_frames >= 1, SIZE_MAX, 0);
	teardown_relay();
}

/* A host that never acknowledges (an older peer, the e2e test peer): no
 * window, the end is "EXITED written", as before protocol 3. */
static void test_no_ack_host(void **state)
{
	setup_relay(0);
	PUMP(relay_done(&R), SIZE_MAX, 0);
	PUMP(H.exited, SIZE_MAX, 0);
	expect_whole();
	assert_false(R.acking);
	teardown_relay();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restart_cuts),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_restart_after_exited),
		cmocka_unit_test(test_resume_gap_and_kept_frames),
		cmocka_unit_test(test_no_ack_host),
	};
	signal(SIGPIPE, SIG_IGN);
	alarm(600);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
