/* guest-peer: the host side of one ocivm-init conversation, for the
 * end-to-end test.  Connects to the channel socket (QEMU's chardev behind
 * the org.ocivm.chan virtserialport), waits for HELLO, sends a SPEC for the
 * busybox rootfs disk with the given args (plus the daemon's send-time
 * records: vm/driver/fresh.c), waits for READY, sends START,
 * collects output until EXITED, and checks what it was told to expect.
 * Prints one line per check and the timings (ms since the peer started,
 * which the caller starts together with QEMU).
 *
 * A failed conversation says why (the errno of the read that failed:
 * EPROTO a broken frame, EPIPE the end of the stream, ETIMEDOUT the
 * deadline); an exit status is printed only when EXITED arrived, and a
 * duration only when both of its events happened (one monotonic clock).
 *
 * -S BYTES:MS stops reading for MS ms once BYTES of stderr have arrived
 * (a slow host: the guest must wait, never drop); up to 4, in order.
 * -B answers HELLO with START instead of SPEC (a broken host: init must
 * say so in ERROR).  -R hangs up after the first HELLO and connects
 * again (a host that restarts before the SPEC: HELLO must come again).
 *   guest-peer -s SOCK [-f ext4|erofs] [-i IMAGE_FSTYPE] [-o STDOUT_SUBSTR]... [-E STDERR_BYTES]
 *              [-S BYTES:MS] [-x EXIT] [-e ERROR_SUBSTR] [-B] [-R] -- ARG... */
#include "chan.h"
#include "gspec.h"
#include "vm/driver/fresh.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define PEER_TIMEOUT_MS 240000

struct peer {
	const char *sock, *want_err, *fstype, *image;
	const char *want_out[16]; int n_want_out;
	int want_exit;
	char **args; int n_args;
	int fd;
	char out[65536]; size_t out_len;
	size_t err_bytes; long want_err_bytes;
	char err[1024];
	long stall_at[4]; int stall_ms[4], n_stalls, stalled;   /* -S, in order */
	int exited, kind, value;
	int bad_first;               /* -B */
	int reconnect;               /* -R */
	const char *fail_at;         /* where the conversation failed */
	double t0;                   /* CLOCK_MONOTONIC ms at the start */
	/* ms since t0, PEER_UNSET until the event happens */
	double t_hello, t_ready, t_start, t_started, t_exit;
};

#define PEER_UNSET (-1.0)

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Stamp an event: ms since t0 on the same clock (never negative). */
static void peer_mark(const struct peer *p, double *t)
{
	double d = now_ms() - p->t0;
	*t = d < 0 ? 0 : d;
}

/* end - start when both happened (and in order), else PEER_UNSET. */
static double peer_span(double start, double end)
{
	return start >= 0 && end >= start ? end - start : PEER_UNSET;
}

/* "123 ms" or "n/a" into buf. */
static const char *peer_fmt(char *buf, size_t cap, double ms)
{
	if (ms < 0)
		snprintf(buf, cap, "n/a");
	else
		snprintf(buf, cap, "%.0f ms", ms);
	return buf;
}

/* QEMU makes the socket once it runs: retry within the overall deadline
 * (a loaded host may take long to start it). */
static int peer_connect(struct peer *p)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int err = 0;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", p->sock);
	while (now_ms() < p->t0 + PEER_TIMEOUT_MS) {
		p->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (p->fd >= 0 && connect(p->fd, (struct sockaddr *)&a, sizeof(a)) == 0)
			return 0;
		err = errno;
		close(p->fd);
		usleep(10000);
	}
	return -(err ? err : ETIMEDOUT);
}

/* One frame, or -ETIMEDOUT once the overall deadline passed. */
static int peer_recv(struct peer *p, uint8_t *type, void *buf, uint32_t *len)
{
	struct pollfd pf = { p->fd, POLLIN, 0 };
	int left = (int)(p->t0 + PEER_TIMEOUT_MS - now_ms());
	if (left <= 0)
		return -ETIMEDOUT;
	int n = poll(&pf, 1, left);
	if (n < 0)
		return errno == EINTR ? peer_recv(p, type, buf, len) : -errno;
	if (n == 0)
		return -ETIMEDOUT;
	return chan_recv(p->fd, type, buf, CHAN_MAX_PAYLOAD, len);
}

static int peer_send_spec(struct peer *p)
{
	struct gspec_writer w;
	char *text;
	size_t len;
	int r;

	gspec_writer_init(&w);
	gspec_putf(&w, "version", "1");
	gspec_putf(&w, "id", "e2e");
	gspec_put(&w, "rootfs", 2, (const char *const[]){ "rootfs", "0" });
	gspec_putf(&w, "rootfs_fstype", "%s", p->fstype);
	if (p->image)   /* the vm.image disk, serial "image", under the rootfs */
		gspec_put(&w, "image", 2, (const char *const[]){ "image", p->image });
	gspec_putf(&w, "hostname", "e2e");
	for (int i = 0; i < p->n_args; i++)
		gspec_putf(&w, "arg", "%s", p->args[i]);
	gspec_putf(&w, "env", "PATH=/usr/sbin:/usr/bin:/sbin:/bin");
	gspec_putf(&w, "cwd", "/");
	gspec_put(&w, "mount", 4, (const char *const[]){ "/proc", "proc", "proc", "nosuid,noexec,nodev" });
	gspec_put(&w, "mount", 4, (const char *const[]){ "/dev", "tmpfs", "tmpfs", "nosuid,mode=755" });
	gspec_putf(&w, "masked", "/proc/kcore");
	gspec_putf(&w, "readonly", "/proc/sys");
	if ((r = gspec_finish(&w, &text, &len)) < 0)
		return r;
	/* the records the daemon adds at send time (seed, clock, restored 0),
	 * by its own code: the guest's CRNG is seeded as in production */
	char *sent;
	size_t sent_len;
	r = vm_gspec_fresh(text, len, false, &sent, &sent_len);
	free(text);
	if (r < 0)
		return r;
	r = chan_send(p->fd, CHAN_SPEC, sent, (uint32_t)sent_len);
	free(sent);
	return r;
}

static void peer_frame(struct peer *p, uint8_t type, const uint8_t *b, uint32_t len)
{
	switch (type) {
	case CHAN_READY: peer_mark(p, &p->t_ready); break;
	case CHAN_STARTED: peer_mark(p, &p->t_started); break;
	case CHAN_STDERR:
		p->err_bytes += len;
		if (p->stalled < p->n_stalls && p->err_bytes >= (size_t)p->stall_at[p->stalled]) {
			int ms = p->stall_ms[p->stalled++];
			struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
			fprintf(stderr, "peer: stalling %d ms after %zu bytes of stderr\n", ms, p->err_bytes);
			while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
				;
		}
		break;
	case CHAN_STDOUT:
		if (p->out_len + len < sizeof(p->out)) {
			memcpy(p->out + p->out_len, b, len);
			p->out_len += len;
		}
		break;
	case CHAN_ERROR: snprintf(p->err, sizeof(p->err), "%.*s", (int)len, (const char *)b); break;
	case CHAN_LOG: fprintf(stderr, "guest log: %.*s\n", (int)len, (const char *)b); break;
	case CHAN_EXITED:
		if (len == 8) {
			p->exited = 1;
			p->kind = (int)(b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24);
			p->value = (int)(b[4] | b[5] << 8 | b[6] << 16 | (uint32_t)b[7] << 24);
			peer_mark(p, &p->t_exit);
		} else {
			fprintf(stderr, "peer: EXITED with a %u-byte payload (want 8): ignored\n", len);
		}
		break;
	}
}

static int peer_converse(struct peer *p)
{
	static uint8_t buf[CHAN_MAX_PAYLOAD];
	uint32_t len;
	uint8_t type;
	int r;

	p->fail_at = "connecting";
	if ((r = peer_connect(p)) < 0)
		return r;
	p->fail_at = "waiting for HELLO";
	do
		r = peer_recv(p, &type, buf, &len);
	while (r == 0 && type != CHAN_HELLO);
	if (r < 0)
		return r;
	if (p->reconnect) {
		close(p->fd);
		p->fail_at = "connecting again";
		if ((r = peer_connect(p)) < 0)
			return r;
		p->fail_at = "waiting for HELLO after connecting again";
		do
			r = peer_recv(p, &type, buf, &len);
		while (r == 0 && type != CHAN_HELLO);
		if (r < 0)
			return r;
		fprintf(stderr, "peer: HELLO again after connecting again\n");
	}
	peer_mark(p, &p->t_hello);
	p->fail_at = "sending SPEC";
	if ((r = p->bad_first ? chan_send(p->fd, CHAN_START, NULL, 0) : peer_send_spec(p)) < 0)
		return r;
	p->fail_at = "waiting for READY";
	while (!p->exited && (r = peer_recv(p, &type, buf, &len)) == 0) {
		if (type == CHAN_HELLO)
			continue;
		peer_frame(p, type, buf, len);
		if (type == CHAN_READY) {
			p->fail_at = "sending START";
			peer_mark(p, &p->t_start);
			if ((r = chan_send(p->fd, CHAN_START, NULL, 0)) < 0)
				return r;
			p->fail_at = "reading output (before EXITED)";
		}
	}
	return p->exited ? 0 : r;
}

static int check(int ok, const char *what)
{
	printf("%s: %s\n", ok ? "ok" : "FAIL", what);
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	static struct peer p = { .want_exit = -1, .fstype = "ext4", .want_err_bytes = -1,
				 .t_hello = PEER_UNSET, .t_ready = PEER_UNSET,
				 .t_start = PEER_UNSET, .t_started = PEER_UNSET, .t_exit = PEER_UNSET };
	char b1[32], b2[32], b3[32], b4[32], b5[32];
	int c, bad = 0;

	while ((c = getopt(argc, argv, "s:o:x:e:f:E:i:S:BR")) != -1) {
		if (c == 's') p.sock = optarg;
		else if (c == 'f') p.fstype = optarg;
		else if (c == 'i') p.image = optarg;
		else if (c == 'E') p.want_err_bytes = atol(optarg);
		else if (c == 'o' && p.n_want_out < 16) p.want_out[p.n_want_out++] = optarg;
		else if (c == 'x') p.want_exit = atoi(optarg);
		else if (c == 'e') p.want_err = optarg;
		else if (c == 'B') p.bad_first = 1;
		else if (c == 'R') p.reconnect = 1;
		else if (c == 'S' && p.n_stalls < 4 &&
			 sscanf(optarg, "%ld:%d", &p.stall_at[p.n_stalls], &p.stall_ms[p.n_stalls]) == 2)
			p.n_stalls++;
		else return 2;
	}
	if (!p.sock || optind >= argc)
		return fprintf(stderr, "usage: guest-peer -s SOCK [-o OUT] [-x CODE] [-e ERR] -- ARG...\n"), 2;
	p.args = argv + optind;
	p.n_args = argc - optind;
	p.t0 = now_ms();
	int r = peer_converse(&p);
	p.out[p.out_len] = '\0';
	if (r < 0)
		printf("FAIL: conversation ended without EXITED: %s while %s\n", strerror(-r), p.fail_at);
	else
		bad += check(1, "conversation ended with EXITED");
	bad += r < 0;
	for (int i = 0; i < p.n_want_out; i++) {
		char what[256];
		snprintf(what, sizeof(what), "output has \"%s\"", p.want_out[i]);
		bad += check(strstr(p.out, p.want_out[i]) != NULL, what);
	}
	if (p.want_err)
		bad += check(strstr(p.err, p.want_err) != NULL, "ERROR has the expected reason");
	if (p.want_err_bytes >= 0)
		bad += check(p.err_bytes == (size_t)p.want_err_bytes, "stderr byte count as expected");
	if (p.want_exit >= 0)
		bad += check(p.exited && p.kind == 0 && p.value == p.want_exit, "exit status as expected");
	printf("output: %s", p.out_len ? p.out : "(none)\n");
	printf("stderr: %zu bytes\n", p.err_bytes);
	printf("error: %s\n", p.err[0] ? p.err : "(none)");
	if (p.exited)
		printf("exited: %s %d\n", p.kind == 1 ? "signal" : p.kind == 0 ? "code" : "kind?", p.value);
	else
		printf("exited: (none)\n");
	printf("timing: hello %s, ready %s (create: hello->ready %s), start->started %s, start->exit %s\n",
	       peer_fmt(b1, sizeof(b1), p.t_hello), peer_fmt(b2, sizeof(b2), p.t_ready),
	       peer_fmt(b3, sizeof(b3), peer_span(p.t_hello, p.t_ready)),
	       peer_fmt(b4, sizeof(b4), peer_span(p.t_start, p.t_started)),
	       peer_fmt(b5, sizeof(b5), peer_span(p.t_start, p.t_exit)));
	return bad ? 1 : 0;
}
