/* See relay.h. */
#include "relay.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

void relay_put_u32(uint8_t *b, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

uint32_t relay_get_u32(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void relay_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int relay_init(struct relay *r, int chan_fd, int sig_fd, relay_spawn_fn spawn, void *ctx,
	       int terminal)
{
	memset(r, 0, sizeof(*r));
	r->chan_fd = chan_fd;
	r->sig_fd = sig_fd;
	r->spawn = spawn;
	r->ctx = ctx;
	r->terminal = terminal;
	r->in_fd = r->out_fd = r->err_fd = -1;
	r->poll_ms = -1;
	chan_reader_init(&r->rd);
	if (fcntl(chan_fd, F_SETFL, fcntl(chan_fd, F_GETFL) | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

void relay_free(struct relay *r)
{
	relay_close(&r->in_fd);
	relay_close(&r->out_fd);
	relay_close(&r->err_fd);
	relay_proc_free_all(r);
	relay_ring_free(r);
	free(r->outq);
	free(r->inq);
	r->outq = r->inq = NULL;
}

int relay_grow(uint8_t **buf, size_t *cap, size_t need)
{
	size_t ncap = *cap ? *cap : 65536;
	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	uint8_t *n = realloc(*buf, ncap);
	if (!n)
		return -ENOMEM;
	*buf = n;
	*cap = ncap;
	return 0;
}

/* Room for need more bytes at the end of the output queue; the sent head
 * [0, outq_frm) is reclaimed only when the tail would not fit (no memmove
 * per write).  The frame being written stays whole (RESUME sends it again). */
int relay_outq_reserve(struct relay *r, size_t need)
{
	if (r->outq_off == r->outq_len) {
		r->outq_off = r->outq_len = r->outq_frm = 0;
	} else if (r->outq_frm && r->outq_len + need > r->outq_cap) {
		memmove(r->outq, r->outq + r->outq_frm, r->outq_len - r->outq_frm);
		r->outq_len -= r->outq_frm;
		r->outq_off -= r->outq_frm;
		r->outq_frm = 0;
	}
	return relay_grow(&r->outq, &r->outq_cap, r->outq_len + need);
}

static size_t relay_outq_pending(const struct relay *r)
{
	return r->outq_len - r->outq_off;
}

int relay_queue(struct relay *r, uint8_t type, const void *p, uint32_t len)
{
	return relay_queue_proc(r, type, 0, p, len);
}

int relay_queue_proc(struct relay *r, uint8_t type, uint8_t proc, const void *p, uint32_t len)
{
	if (len > CHAN_MAX_PAYLOAD)
		return -EINVAL;
	if (r->chan_eof)
		return 0;   /* nobody listens: drop */
	int e = relay_outq_reserve(r, CHAN_HDR_LEN + len);
	if (e < 0)
		return e;
	chan_hdr_encode_proc(r->outq + r->outq_len, type, proc, len);
	if (len)
		memcpy(r->outq + r->outq_len + CHAN_HDR_LEN, p, len);
	r->outq_len += CHAN_HDR_LEN + len;
	return 0;
}

static int relay_queue_exit(struct relay *r, uint32_t kind, uint32_t value)
{
	uint8_t b[8];
	relay_put_u32(b, kind);
	relay_put_u32(b + 4, value);
	r->reported = 1;
	r->exit_kind = kind;
	r->exit_value = value;
	return relay_queue(r, CHAN_EXITED, b, sizeof(b));
}

static int relay_report_exit(struct relay *r)
{
	if (WIFSIGNALED(r->status))
		return relay_queue_exit(r, 1, (uint32_t)WTERMSIG(r->status));
	return relay_queue_exit(r, 0, (uint32_t)WEXITSTATUS(r->status));
}

static int relay_log(struct relay *r, const char *msg)
{
	return relay_queue(r, CHAN_LOG, msg, (uint32_t)strlen(msg));
}

static int relay_on_start(struct relay *r)
{
	struct gspawn_result res;
	char eb[256] = "";
	uint8_t b[4];
	int code = 126;

	if (r->pid || r->reported)
		return relay_log(r, "START ignored: already started");
	if (r->spawn(r->ctx, &res, &code, eb, sizeof(eb)) < 0) {
		int e = relay_queue(r, CHAN_ERROR, eb, (uint32_t)strlen(eb));
		r->fail_code = code;
		return e < 0 ? e : relay_queue_exit(r, 0, (uint32_t)code);
	}
	r->pid = res.pid;
	r->in_fd = res.in_fd;
	r->out_fd = res.out_fd;
	r->err_fd = res.err_fd;
	relay_put_u32(b, (uint32_t)res.pid);
	return relay_queue(r, CHAN_STARTED, b, sizeof(b));
}

/* Signals that do not end a process by default (ignored, or stop/continue
 * it); before START they are moot. */
static int relay_sig_is_harmless(int sig)
{
	return sig == 0 || sig == SIGCHLD || sig == SIGCONT || sig == SIGWINCH || sig == SIGURG ||
	       sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

static int relay_on_signal(struct relay *r, const uint8_t *p, uint32_t len)
{
	if (len != 4)
		return relay_log(r, "SIGNAL: bad payload");
	int sig = (int)relay_get_u32(p);
	if (sig < 0 || sig >= NSIG)
		return relay_log(r, "SIGNAL: bad signal number");
	if (r->pid && !r->exited)
		return kill(r->pid, sig) < 0 ? relay_log(r, "SIGNAL: kill failed") : 0;
	if (!r->pid && !r->reported && !relay_sig_is_harmless(sig))
		return relay_queue_exit(r, 1, (uint32_t)sig);  /* killed before START */
	return 0;
}

/* STDIN bytes taken off the queue (written to the process or dropped) go
 * back to the host as STDIN_ACK, in RELAY_ACK_EVERY chunks or when the queue
 * empties: the host keeps a window of unacknowledged bytes well under
 * RELAY_INQ_MAX, so this loop never stops reading the channel for stdin and
 * a SIGNAL behind unread stdin is read at once. */
static int relay_ack_stdin(struct relay *r, size_t n, int now)
{
	uint8_t b[4];

	r->stdin_unacked += n;
	if (!r->stdin_unacked || (!now && r->stdin_unacked < RELAY_ACK_EVERY))
		return 0;
	relay_put_u32(b, (uint32_t)r->stdin_unacked);
	r->stdin_unacked = 0;
	return relay_queue(r, CHAN_STDIN_ACK, b, sizeof(b));
}

static int relay_on_stdin(struct relay *r, const uint8_t *p, uint32_t len)
{
	if ((r->pid && r->in_fd < 0) || r->stdin_eof || r->reported)
		return relay_ack_stdin(r, len, 1);   /* nobody reads it any more */
	int e = relay_grow(&r->inq, &r->inq_cap, r->inq_len + len);
	if (e < 0)
		return e;
	memcpy(r->inq + r->inq_len, p, len);
	r->inq_len += len;
	return 0;
}

static int relay_on_resize(struct relay *r, const uint8_t *p, uint32_t len)
{
	struct winsize ws = { 0 };
	if (len != 4)
		return relay_log(r, "RESIZE: bad payload");
	ws.ws_row = (unsigned short)(p[0] | p[1] << 8);
	ws.ws_col = (unsigned short)(p[2] | p[3] << 8);
	if (r->terminal && r->in_fd >= 0)
		ioctl(r->in_fd, TIOCSWINSZ, &ws);
	return 0;
}

static int relay_on_frame(struct relay *r, uint8_t type, uint8_t id, const uint8_t *p,
			  uint32_t len)
{
	if (id)
		return relay_proc_frame(r, type, id, p, len);
	switch (type) {
	case CHAN_START: return relay_on_start(r);
	case CHAN_SIGNAL: return relay_on_signal(r, p, len);
	case CHAN_STDIN: return relay_on_stdin(r, p, len);
	case CHAN_STDIN_EOF: r->stdin_eof = 1; return 0;
	case CHAN_RESIZE: return relay_on_resize(r, p, len);
	case CHAN_OUT_ACK: return relay_on_out_ack(r, p, len);
	case CHAN_RESUME: return relay_on_resume(r, p, len);
	default: return relay_log(r, "unexpected frame from host ignored");
	}
}

static int relay_read_chan(struct relay *r)
{
	uint8_t *buf = r->rbuf;
	ssize_t n = read(r->chan_fd, buf, sizeof(r->rbuf));
	size_t off = 0;

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	if (n == 0 && r->vport) {   /* no host connected (and nothing buffered) */
		r->host_gone = 1;
		chan_reader_init(&r->rd);   /* a frame cut by its death never ends */
		return 0;
	}
	if (n == 0) {   /* the host sends no more; it may still read */
		r->chan_rd_eof = 1;
		return 0;
	}
	while (off < (size_t)n) {
		const uint8_t *p;
		uint32_t len;
		uint8_t type;
		int k;
		off += chan_reader_feed(&r->rd, buf + off, (size_t)n - off);
		while ((k = chan_reader_next(&r->rd, &type, &p, &len)) == 1) {
			int e = relay_on_frame(r, type, chan_reader_proc(&r->rd), p, len);
			if (e < 0)
				return e;
		}
		if (k < 0)
			return k;
	}
	return 0;
}

static int relay_write_chan(struct relay *r)
{
	ssize_t n = write(r->chan_fd, r->outq + r->outq_off, relay_outq_pending(r));
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		if (errno != EPIPE && errno != ECONNRESET)
			return -errno;
		r->chan_eof = 1;   /* no host can ever read these: drop */
		r->outq_len = r->outq_off = r->outq_frm = 0;
		return 0;
	}
	relay_outq_sent(r, (size_t)n);
	return 0;
}

static int relay_write_stdin(struct relay *r, short revents)
{
	if (!r->inq_len && !r->stdin_eof) {
		if (revents & (POLLERR | POLLHUP))
			relay_close(&r->in_fd);   /* the reader is gone */
		return 0;
	}
	ssize_t n = r->inq_len ? write(r->in_fd, r->inq, r->inq_len) : 0;

	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		size_t dropped = r->inq_len;
		r->inq_len = 0;          /* EPIPE/EIO: the process stopped reading */
		relay_close(&r->in_fd);
		return relay_ack_stdin(r, dropped, 1);
	}
	if (n > 0)
		memmove(r->inq, r->inq + n, r->inq_len - (size_t)n);
	r->inq_len -= (size_t)n;
	int e = relay_ack_stdin(r, (size_t)n, r->inq_len == 0);
	if (e < 0)
		return e;
	if (r->inq_len == 0 && r->stdin_eof) {
		if (r->terminal) {
			const char eot = 4;  /* a pty has no half-close: send ^D */
			if (write(r->in_fd, &eot, 1) < 0)
				relay_close(&r->in_fd);
			r->stdin_eof = 0;
			r->inq_len = 0;
		} else {
			relay_close(&r->in_fd);
		}
	}
	return 0;
}

/* Read process output straight into the queue, behind a frame header, and
 * keep a copy in its ring until the host acknowledges it. */
static int relay_read_output(struct relay *r, int *fd, uint8_t type)
{
	int s = type == CHAN_STDOUT ? 1 : 2;
	size_t room = relay_ring_room(r, s);
	int e = relay_outq_reserve(r, CHAN_HDR_LEN + CHAN_MAX_PAYLOAD);
	if (e < 0 || room == 0)
		return e;
	ssize_t n = read(*fd, r->outq + r->outq_len + CHAN_HDR_LEN, room);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {            /* EOF, or EIO on a pty whose slave closed */
		if (r->terminal && *fd == r->out_fd)
			relay_close(&r->in_fd);
		relay_close(fd);
		return 0;
	}
	if (r->chan_eof)
		return 0;
	e = relay_ring_put(r, s, r->outq + r->outq_len + CHAN_HDR_LEN, (size_t)n);
	if (e < 0)
		return e;
	chan_hdr_encode(r->outq + r->outq_len, type, (uint32_t)n);
	r->outq_len += CHAN_HDR_LEN + (size_t)n;
	return 0;
}

static void relay_reap(struct relay *r)
{
	struct signalfd_siginfo si;
	int st;
	pid_t pid;

	while (read(r->sig_fd, &si, sizeof(si)) > 0)
		;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		if (relay_proc_reaped(r, pid, st))
			continue;
		else if (pid == r->pid && !r->exited) {
			r->exited = 1;
			r->status = st;
		}
}

enum { P_CHAN, P_SIG, P_IN, P_OUT, P_ERR, P_N };

/* vport with no host: is it back (writable, no POLLHUP)? */
static void relay_check_host(struct relay *r)
{
	struct pollfd p = { r->chan_fd, POLLOUT, 0 };

	if (poll(&p, 1, 0) == 1 && (p.revents & POLLOUT) && !(p.revents & POLLHUP))
		r->host_gone = 0;
}

#define RELAY_NPOLL (P_N + RELAY_PROC_POLLS * CHAN_PROC_MAX)

static int relay_poll(struct relay *r, struct pollfd *pf)
{
	/* With no host on a vport (QEMU: the daemon is down), the queue waits
	 * and the process's pipes are not read, so the process blocks on a
	 * full pipe instead of losing output; the channel is left out of the
	 * poll (it would report POLLHUP at once) and looked at every
	 * RELAY_HUP_POLL_MS. */
	int gone = r->host_gone && !r->chan_eof;
	int want_out = !gone && relay_outq_pending(r) < RELAY_OUTQ_HIGH;
	short ev = (short)((!r->chan_rd_eof && r->inq_len < RELAY_INQ_MAX ? POLLIN : 0) |
			   (relay_outq_pending(r) ? POLLOUT : 0));

	/* after a read EOF, a socket reports POLLHUP for good: poll it only
	 * while there is something to write (the write then fails or goes) */
	pf[P_CHAN] = (struct pollfd){ r->chan_eof || gone || !ev ? -1 : r->chan_fd, ev, 0 };
	pf[P_SIG] = (struct pollfd){ r->sig_fd, POLLIN, 0 };
	pf[P_IN] = (struct pollfd){ r->in_fd, (short)(r->inq_len || r->stdin_eof ? POLLOUT : 0), 0 };
	/* an acknowledging host: a stream is read while its ring has room */
	pf[P_OUT] = (struct pollfd){ want_out && relay_ring_room(r, 1) ? r->out_fd : -1, POLLIN, 0 };
	pf[P_ERR] = (struct pollfd){ want_out && relay_ring_room(r, 2) ? r->err_fd : -1, POLLIN, 0 };
	relay_proc_poll_fill(r, pf + P_N, want_out);
	int n = poll(pf, r->n_procs ? RELAY_NPOLL : P_N, gone ? RELAY_HUP_POLL_MS : r->poll_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (gone)
		relay_check_host(r);
	return 0;
}

int relay_step(struct relay *r)
{
	struct pollfd pf[RELAY_NPOLL];
	int e = relay_poll(r, pf);
	const short in = POLLIN | POLLHUP | POLLERR;

	if (e == 0 && r->vport && (pf[P_CHAN].revents & POLLHUP)) {
		r->host_gone = 1;   /* never fatal on a vport: the host comes back */
		chan_reader_init(&r->rd);   /* a frame cut by its death never ends */
		pf[P_CHAN].revents = 0;
	}
	if (e == 0 && (pf[P_SIG].revents & POLLIN))
		relay_reap(r);
	if (r->exited && !r->others_ended) {
		r->others_ended = 1;   /* before the pipes are read to EOF */
		if (r->end_others)
			r->end_others(r->ctx, r->pid);
	}
	if (e == 0 && (pf[P_OUT].revents & in))
		e = relay_read_output(r, &r->out_fd, CHAN_STDOUT);
	if (e == 0 && (pf[P_ERR].revents & in))
		e = relay_read_output(r, &r->err_fd, CHAN_STDERR);
	if (e == 0 && (pf[P_IN].revents & (POLLOUT | POLLERR | POLLHUP)))
		e = relay_write_stdin(r, pf[P_IN].revents);
	if (e == 0 && r->n_procs)
		e = relay_proc_poll_handle(r, pf + P_N);
	if (e == 0 && r->n_procs)
		e = relay_proc_report(r);
	if (e == 0 && (pf[P_CHAN].revents & POLLOUT))
		e = relay_write_chan(r);
	if (e == 0 && (pf[P_CHAN].revents & in))
		e = relay_read_chan(r);
	/* the container's EXITED is the last frame: after every exec'd one's */
	if (e == 0 && r->exited && !r->reported && r->out_fd < 0 && r->err_fd < 0 && !r->n_procs)
		e = relay_report_exit(r);
	return e;
}

/* The end: EXITED written (or nobody can ever read it); with an
 * acknowledging host, EXITED acknowledged, unless no host can send any
 * more (a socket or tty read 0): until then a host that re-attaches gets
 * it all again (RESUME). */
int relay_done(const struct relay *r)
{
	if (!r->reported)
		return 0;
	if (r->chan_eof)
		return 1;
	return relay_outq_pending(r) == 0 && (!r->acking || r->exit_acked || r->chan_rd_eof);
}

int relay_run(struct relay *r)
{
	for (;;) {
		if (relay_done(r))
			return 0;
		if ((r->chan_eof || r->chan_rd_eof) && !r->pid && !r->reported)
			return -EPIPE;   /* host gone before START: no START can come */
		int e = relay_step(r);
		if (e < 0)
			return e;
	}
}
