/* The processes started by EXEC (common/chan.h, protocol 2), each by its id
 * 1..CHAN_PROC_MAX in the frames' proc byte.  Driven by relay.c's loop: the
 * same rules as the container's process (output read only below the queue's
 * high-water mark, stdin queued and written when the pipe has room, EXITED
 * only once the process exited and its output reached EOF).  The id is free
 * again once its EXITED is queued. */
#include "relay.h"
#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static void proc_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void proc_free(struct relay *r, uint8_t id)
{
	struct relay_proc *p = r->procs[id];

	if (!p)
		return;
	proc_close(&p->in_fd);
	proc_close(&p->out_fd);
	proc_close(&p->err_fd);
	free(p->inq);
	free(p);
	r->procs[id] = NULL;
	r->n_procs--;
}

void relay_proc_free_all(struct relay *r)
{
	for (unsigned id = 1; id <= CHAN_PROC_MAX; id++)
		proc_free(r, (uint8_t)id);
}

static int proc_log(struct relay *r, uint8_t id, const char *msg)
{
	return relay_queue_proc(r, CHAN_LOG, id, msg, (uint32_t)strlen(msg));
}

/* EXITED <kind> <value> <spawn_us> <guest_us> (protocol 4; chan.h): times
 * 0 for a process that never ran. */
static int proc_exit_frame(struct relay *r, uint8_t id, uint32_t kind, uint32_t value,
			   uint64_t spawn_us, uint64_t guest_us)
{
	uint8_t b[CHAN_EXITED_PROC_LEN];

	relay_put_u32(b, kind);
	relay_put_u32(b + 4, value);
	chan_put_u64(b + 8, spawn_us);
	chan_put_u64(b + 16, guest_us);
	return relay_queue_proc(r, CHAN_EXITED, id, b, sizeof(b));
}

/* EXEC: refused (ERROR + EXITED 126/127) when the id is in use, the
 * container's process does not run, or the spawn fails. */
static int proc_exec(struct relay *r, uint8_t id, const uint8_t *spec, uint32_t len)
{
	struct gspawn_result res;
	char eb[256] = "";
	int code = 126, terminal = 0, e;
	struct relay_proc *p;
	uint64_t t_exec = gclock_us();

	if (r->procs[id])
		snprintf(eb, sizeof(eb), "EXEC: process id %u is in use", id);
	else if (!r->pid || r->exited || r->reported)
		snprintf(eb, sizeof(eb), "EXEC: the container's process is not running");
	else if (!r->exec)
		snprintf(eb, sizeof(eb), "EXEC: not supported by this init");
	if (!eb[0]) {
		char *text = malloc((size_t)len + 1);
		if (!text)
			return -ENOMEM;
		memcpy(text, spec, len);
		text[len] = '\0';
		e = r->exec(r->ctx, text, len, r->pid, &terminal, &res, &code, eb, sizeof(eb));
		free(text);
		if (e == 0) {
			p = calloc(1, sizeof(*p));
			if (!p) {
				kill(res.pid, SIGKILL);   /* reaped by the loop, as an orphan */
				close(res.in_fd);
				close(res.out_fd);
				if (res.err_fd >= 0)
					close(res.err_fd);
				return -ENOMEM;
			}
			*p = (struct relay_proc){ .pid = res.pid, .terminal = terminal,
						  .in_fd = res.in_fd, .out_fd = res.out_fd,
						  .err_fd = res.err_fd, .t_exec = t_exec,
						  .t_fork = res.fork_us };
			r->procs[id] = p;
			r->n_procs++;
			uint8_t b[4];
			/* its pid as the container sees it (ID/exec/NAME/pid) */
			relay_put_u32(b, (uint32_t)(res.ns_pid > 0 ? res.ns_pid : res.pid));
			return relay_queue_proc(r, CHAN_STARTED, id, b, sizeof(b));
		}
		if (!eb[0])
			snprintf(eb, sizeof(eb), "EXEC: cannot start the process");
	}
	e = relay_queue_proc(r, CHAN_ERROR, id, eb, (uint32_t)strlen(eb));
	return e < 0 ? e : proc_exit_frame(r, id, 0, (uint32_t)code, 0, 0);
}

static int proc_stdin(struct relay *r, uint8_t id, struct relay_proc *p, const uint8_t *b,
		      uint32_t len)
{
	uint8_t ack[4];

	if (p->in_fd < 0 || p->stdin_eof || p->exited || p->inq_len + len > RELAY_INQ_MAX) {
		relay_put_u32(ack, len);   /* nobody reads it: dropped, acknowledged */
		return relay_queue_proc(r, CHAN_STDIN_ACK, id, ack, sizeof(ack));
	}
	int e = relay_grow(&p->inq, &p->inq_cap, p->inq_len + len);
	if (e < 0)
		return e;
	memcpy(p->inq + p->inq_len, b, len);
	p->inq_len += len;
	return 0;
}

static int proc_resize(struct relay *r, uint8_t id, struct relay_proc *p, const uint8_t *b,
		       uint32_t len)
{
	struct winsize ws = { 0 };

	if (len != 4)
		return proc_log(r, id, "RESIZE: bad payload");
	ws.ws_row = (unsigned short)(b[0] | b[1] << 8);
	ws.ws_col = (unsigned short)(b[2] | b[3] << 8);
	if (p->terminal && p->in_fd >= 0)
		ioctl(p->in_fd, TIOCSWINSZ, &ws);
	return 0;
}

int relay_proc_frame(struct relay *r, uint8_t type, uint8_t id, const uint8_t *b, uint32_t len)
{
	struct relay_proc *p = r->procs[id];

	if (type == CHAN_EXEC)
		return proc_exec(r, id, b, len);
	if (!p) {   /* a frame for an id that is gone (it exited meanwhile) */
		if (type == CHAN_STDIN) {
			uint8_t ack[4];
			relay_put_u32(ack, len);
			return relay_queue_proc(r, CHAN_STDIN_ACK, id, ack, sizeof(ack));
		}
		return 0;
	}
	switch (type) {
	case CHAN_SIGNAL:
		if (len != 4 || relay_get_u32(b) >= NSIG)
			return proc_log(r, id, "SIGNAL: bad payload");
		if (!p->exited)
			kill(p->pid, (int)relay_get_u32(b));
		return 0;
	case CHAN_STDIN: return proc_stdin(r, id, p, b, len);
	case CHAN_STDIN_EOF: p->stdin_eof = 1; return 0;
	case CHAN_RESIZE: return proc_resize(r, id, p, b, len);
	default: return proc_log(r, id, "unexpected frame from host ignored");
	}
}

void relay_proc_poll_fill(struct relay *r, struct pollfd *pf, int want_out)
{
	for (unsigned id = 1; id <= CHAN_PROC_MAX; id++) {
		struct relay_proc *p = r->procs[id];
		struct pollfd *q = pf + (id - 1) * RELAY_PROC_POLLS;
		q[0] = (struct pollfd){ p ? p->in_fd : -1,
					(short)(p && (p->inq_len || p->stdin_eof) ? POLLOUT : 0), 0 };
		q[1] = (struct pollfd){ p && want_out ? p->out_fd : -1, POLLIN, 0 };
		q[2] = (struct pollfd){ p && want_out ? p->err_fd : -1, POLLIN, 0 };
	}
}

static int proc_write_stdin(struct relay *r, uint8_t id, struct relay_proc *p, short revents)
{
	uint8_t ack[4];

	if (!p->inq_len && !p->stdin_eof) {
		if (revents & (POLLERR | POLLHUP))
			proc_close(&p->in_fd);
		return 0;
	}
	ssize_t n = p->inq_len ? write(p->in_fd, p->inq, p->inq_len) : 0;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n < 0) {
		n = (ssize_t)p->inq_len;   /* the process stopped reading: dropped */
		proc_close(&p->in_fd);
	}
	memmove(p->inq, p->inq + n, p->inq_len - (size_t)n);
	p->inq_len -= (size_t)n;
	if (p->in_fd >= 0 && !p->inq_len && p->stdin_eof) {
		const char eot = 4;   /* a pty has no half-close: ^D */
		if (!p->terminal || write(p->in_fd, &eot, 1) < 0)
			proc_close(&p->in_fd);
		p->stdin_eof = 0;
	}
	if (p->in_fd < 0)
		p->inq_len = 0;
	relay_put_u32(ack, (uint32_t)n);
	return n ? relay_queue_proc(r, CHAN_STDIN_ACK, id, ack, sizeof(ack)) : 0;
}

static int proc_read(struct relay *r, uint8_t id, struct relay_proc *p, int *fd, uint8_t type)
{
	int e = relay_outq_reserve(r, CHAN_HDR_LEN + CHAN_MAX_PAYLOAD);
	if (e < 0)
		return e;
	ssize_t n = read(*fd, r->outq + r->outq_len + CHAN_HDR_LEN, CHAN_MAX_PAYLOAD);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {   /* EOF, or EIO on a pty whose slave closed */
		if (p->terminal && fd == &p->out_fd)
			proc_close(&p->in_fd);
		proc_close(fd);
		return 0;
	}
	if (r->chan_eof)
		return 0;
	chan_hdr_encode_proc(r->outq + r->outq_len, type, id, (uint32_t)n);
	r->outq_len += CHAN_HDR_LEN + (size_t)n;
	return 0;
}

int relay_proc_poll_handle(struct relay *r, const struct pollfd *pf)
{
	const short in = POLLIN | POLLHUP | POLLERR;
	int e = 0;

	for (unsigned id = 1; e == 0 && id <= CHAN_PROC_MAX; id++) {
		struct relay_proc *p = r->procs[id];
		const struct pollfd *q = pf + (id - 1) * RELAY_PROC_POLLS;
		if (!p)
			continue;
		if (q[1].fd >= 0 && q[1].fd == p->out_fd && (q[1].revents & in))
			e = proc_read(r, (uint8_t)id, p, &p->out_fd, CHAN_STDOUT);
		if (e == 0 && q[2].fd >= 0 && q[2].fd == p->err_fd && (q[2].revents & in))
			e = proc_read(r, (uint8_t)id, p, &p->err_fd, CHAN_STDERR);
		if (e == 0 && q[0].fd >= 0 && q[0].fd == p->in_fd &&
		    (q[0].revents & (POLLOUT | POLLERR | POLLHUP)))
			e = proc_write_stdin(r, (uint8_t)id, p, q[0].revents);
	}
	return e;
}

int relay_proc_reaped(struct relay *r, pid_t pid, int status)
{
	for (unsigned id = 1; id <= CHAN_PROC_MAX; id++) {
		struct relay_proc *p = r->procs[id];
		if (p && p->pid == pid && !p->exited) {
			p->exited = 1;
			p->status = status;
			p->t_reap = gclock_us();
			return 1;
		}
	}
	return 0;
}

int relay_proc_report(struct relay *r)
{
	for (unsigned id = 1; id <= CHAN_PROC_MAX; id++) {
		struct relay_proc *p = r->procs[id];
		if (!p || !p->exited || p->out_fd >= 0 || p->err_fd >= 0)
			continue;
		int st = p->status;
		uint64_t spawn = p->t_reap - p->t_fork, guest = gclock_us() - p->t_exec;
		int e = WIFSIGNALED(st) ? proc_exit_frame(r, (uint8_t)id, 1, (uint32_t)WTERMSIG(st),
							  spawn, guest)
					: proc_exit_frame(r, (uint8_t)id, 0, (uint32_t)WEXITSTATUS(st),
							  spawn, guest);
		proc_free(r, (uint8_t)id);
		if (e < 0)
			return e;
	}
	return 0;
}
