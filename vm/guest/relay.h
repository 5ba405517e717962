/* The conversation after READY: wait for START, run the process, relay
 * stdin/stdout/stderr as frames, forward signals, report the exit.
 *
 * One poll loop over the channel (both directions), the process's pipes and
 * a signalfd for SIGCHLD.  Nothing blocks: channel output is queued and the
 * process's output is read only while the queue is below a high-water mark,
 * and stdin from the host is queued and written when the pipe has room;
 * so heavy output in either direction never deadlocks.  The same loop reaps
 * every child (init is PID 1: orphans land here).
 *
 * The rule for the end: EXITED is queued only after the process exited and
 * both output pipes reached EOF, every byte read from them framed and
 * queued; the queue is written in order, a short write or EAGAIN only moves
 * the offset, so EXITED is the last frame.  When the process has exited,
 * end_others (if set) is called once: it ends every other process that may
 * hold the pipes (ocivm-init: kill(-1, SIGKILL), what the end of a pid
 * namespace's init does under runc); what they wrote stays in the pipes and
 * is read to EOF.  No timer: without end_others, a background process
 * holding a pipe delays EXITED until it closes it.
 *
 * Queued frames are dropped only when no host can ever read them: a write
 * to the channel failed with EPIPE/ECONNRESET (chan_eof).  A read of 0 on a
 * socket or tty (the host shut its sending side) only stops reading; on a
 * virtio port it means "no host for now" (host_gone) and nothing is
 * dropped.
 *
 * Protocol 3 (relay_ring.c): every STDOUT/STDERR byte of the container's
 * process is also kept in a ring per stream until the host acknowledges it
 * (OUT_ACK); with an acknowledging host, a stream is read only while fewer
 * than CHAN_OUT_WINDOW of its bytes wait for an acknowledgement, and the
 * end is "EXITED acknowledged", not "queue written".  A re-attached host
 * sends RESUME with what it holds: the queue is rebuilt (RESUMED, the
 * frames not for those streams, each stream again from the host's count,
 * EXITED again), so bytes the previous host lost in flight are sent again.
 * A host that never acknowledges gets the old behaviour (the ring keeps the
 * last CHAN_OUT_WINDOW bytes, oldest overwritten). */
#ifndef OCIVM_GUEST_RELAY_H
#define OCIVM_GUEST_RELAY_H

#include <stddef.h>
#include <poll.h>
#include <stdint.h>
#include <sys/types.h>

#include "chan.h"
#include "spawn.h"

#define RELAY_OUTQ_HIGH (256u * 1024)   /* stop reading the process above this */
#define RELAY_INQ_MAX (1024u * 1024)    /* stop reading the channel above this */
#define RELAY_ACK_EVERY (32u * 1024)    /* STDIN_ACK at least every this many bytes */
#define RELAY_HUP_POLL_MS 100           /* vport: how often to look whether the host is back */

/* START handler: start the process; on failure fill code and reason. */
typedef int (*relay_spawn_fn)(void *ctx, struct gspawn_result *ret, int *ret_code,
			      char *eb, size_t cap);
/* The process (pid main) exited: end every other process (they may hold its
 * output pipes).  Called once, with the relay's ctx. */
typedef void (*relay_end_others_fn)(void *ctx, pid_t main);
/* EXEC handler (relay_proc.c): start an extra process from a gspec (spec,
 * writable, len bytes) inside the running container process `main`; tells
 * whether it has a terminal.  Fails like relay_spawn_fn. */
typedef int (*relay_exec_fn)(void *ctx, char *spec, size_t len, pid_t main, int *ret_terminal,
			     struct gspawn_result *ret, int *ret_code, char *eb, size_t cap);

/* A process started by EXEC (protocol 2), by its id 1..CHAN_PROC_MAX. */
struct relay_proc {
	pid_t pid;
	int terminal;
	int in_fd, out_fd, err_fd;   /* -1 when closed */
	uint8_t *inq; size_t inq_len, inq_cap;
	int stdin_eof, exited, status;
	/* gclock_us (clock.h): EXEC taken, the fork, the reap (EXITED's times) */
	uint64_t t_exec, t_fork, t_reap;
};

/* Output of the container's process not yet acknowledged by the host:
 * stream bytes [acked, total) sit at buf[pos % cap]. */
struct relay_ring {
	uint8_t *buf;
	size_t cap;                  /* 0 until the first byte */
	uint64_t total, acked;
};

struct relay {
	int chan_fd;                 /* non-blocking */
	int sig_fd;                  /* signalfd for SIGCHLD */
	relay_spawn_fn spawn;
	void *ctx;
	int terminal;
	struct chan_reader rd;
	uint8_t rbuf[CHAN_MAX_PAYLOAD];
	uint8_t *outq; size_t outq_off, outq_len, outq_cap;   /* pending: [off, len) */
	size_t outq_frm;             /* start of the frame that holds outq_off (<= outq_off) */
	struct relay_ring ring[3];   /* [1] stdout, [2] stderr (protocol 3) */
	int acking;                  /* the host acknowledges output (OUT_ACK/RESUME seen) */
	int exit_acked;              /* ... and has the EXITED frame */
	uint32_t exit_kind, exit_value;   /* what EXITED said (sent again after RESUME) */
	int poll_ms;                 /* poll timeout when nothing else bounds it (-1; tests) */
	uint8_t *inq; size_t inq_len, inq_cap;
	size_t stdin_unacked;        /* STDIN bytes taken off inq, not yet in a STDIN_ACK */
	relay_end_others_fn end_others;   /* optional; set after relay_init */
	int others_ended;            /* end_others was called */
	int stdin_eof;               /* host sent STDIN_EOF */
	int chan_rd_eof;             /* read 0 from a socket/tty: the host sends no more */
	int chan_eof;                /* write failed EPIPE: no host can ever read */
	int vport;                   /* chan is a virtio-serial port (set after relay_init):
				      * POLLHUP / read 0 = no host connected for now, not EOF */
	int host_gone;               /* vport and no host: hold the queue, stop reading the
				      * process, look again every RELAY_HUP_POLL_MS */
	int in_fd, out_fd, err_fd;   /* -1 when closed */
	pid_t pid;                   /* 0 before START */
	int exited, status;          /* wait status once exited */
	int reported;                /* EXITED queued */
	int fail_code;               /* START failed: EXITED with this code */
	relay_exec_fn exec;          /* optional; set after relay_init: EXEC refused without */
	struct relay_proc *procs[CHAN_PROC_MAX + 1];   /* [id], NULL when free */
	int n_procs;                 /* live entries of procs */
};

/* chan_fd is switched to non-blocking. */
int relay_init(struct relay *r, int chan_fd, int sig_fd, relay_spawn_fn spawn, void *ctx,
	       int terminal);
/* Run until EXITED has been sent (0), or the channel failed (-errno). */
int relay_run(struct relay *r);
/* One round of the loop (poll, then handle what is ready): 0 or -errno.
 * relay_run's body; tests drive it with poll_ms set. */
int relay_step(struct relay *r);
/* 1 once relay_run would return 0. */
int relay_done(const struct relay *r);
void relay_free(struct relay *r);

/* Queue one frame for the host (used by init for LOG/ERROR too). */
int relay_queue(struct relay *r, uint8_t type, const void *p, uint32_t len);
int relay_queue_proc(struct relay *r, uint8_t type, uint8_t proc, const void *p, uint32_t len);

/* relay_proc.c: the EXEC'd processes, driven by relay.c's loop. */
#define RELAY_PROC_POLLS 3           /* pollfds per process: stdin, stdout, stderr */
int relay_proc_frame(struct relay *r, uint8_t type, uint8_t id, const uint8_t *p, uint32_t len);
/* pf gets RELAY_PROC_POLLS entries per id 1..CHAN_PROC_MAX (fd -1 when unused). */
void relay_proc_poll_fill(struct relay *r, struct pollfd *pf, int want_out);
int relay_proc_poll_handle(struct relay *r, const struct pollfd *pf);
/* A reaped child: 1 if it was an exec'd process. */
int relay_proc_reaped(struct relay *r, pid_t pid, int status);
/* Queue EXITED for each one that exited and whose output reached EOF. */
int relay_proc_report(struct relay *r);
void relay_proc_free_all(struct relay *r);
/* Shared with relay.c: room for need bytes at the queue's end. */
int relay_outq_reserve(struct relay *r, size_t need);
int relay_grow(uint8_t **buf, size_t *cap, size_t need);

/* relay_ring.c (protocol 3): the rings of the container's streams. */
/* Bytes stream s (1, 2) may take now: CHAN_MAX_PAYLOAD, or less (0) when
 * the host acknowledges and the ring is (nearly) full. */
size_t relay_ring_room(const struct relay *r, int s);
int relay_ring_put(struct relay *r, int s, const uint8_t *p, size_t n);
void relay_ring_free(struct relay *r);
/* n more bytes of the queue were written: move outq_off and outq_frm. */
void relay_outq_sent(struct relay *r, size_t n);
int relay_on_out_ack(struct relay *r, const uint8_t *p, uint32_t len);
int relay_on_resume(struct relay *r, const uint8_t *p, uint32_t len);

/* Wire helpers, shared with the tests. */
void relay_put_u32(uint8_t *b, uint32_t v);
uint32_t relay_get_u32(const uint8_t *b);

#endif
