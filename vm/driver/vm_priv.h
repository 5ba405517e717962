/* struct vm and the calls between vm.c (life cycle) and session.c (the
 * conversation with ocivm-init). */
#ifndef OCIVM_VM_DRIVER_PRIV_H
#define OCIVM_VM_DRIVER_PRIV_H

#include <pthread.h>
#include <stdbool.h>

#include "chan.h"
#include "driver.h"
#include "record.h"

struct vm_net_watch;

#define VM_OUTQ_STDIN_MAX (1u << 20)   /* stdin bytes queued for a slow reader */
#define VM_OUTQ_CTL_MAX (256u << 10)   /* control frames queued */
/* STDIN bytes on their way (sent, not yet acknowledged by STDIN_ACK): kept
 * under the guest's RELAY_INQ_MAX, so ocivm-init never stops reading the
 * channel for stdin, and a SIGNAL behind it is read at once. */
#define VM_STDIN_WINDOW (768u << 10)
#define VM_DEFAULT_READY_MS 120000u
#define VM_OUT_ACK_EVERY (CHAN_OUT_WINDOW / 4)   /* OUT_ACK after this many stored bytes */

/* Frames waiting for the socket; `sent` bytes of the head frame are on the
 * wire (frames are atomic: another queue's frame goes only between two). */
struct vm_outq {
	uint8_t *buf;
	size_t head, len, cap, sent;
};

struct vm {
	const struct vm_driver_ops *drv;
	struct vm_paths paths;
	struct vm_record rec;
	char *cmdline;              /* argv joined, for vm_info */
	pid_t pid;
	int pidfd;
	bool is_child;              /* we forked it: we reap it */
	int chan;                   /* non-blocking stream to ocivm-init, -1 if none */
	int epfd;                   /* chan + pidfd (+ netw): what vm_fd() returns */
	struct vm_net_watch *netw;  /* the caller's interfaces (net.h), NULL if none */
	pthread_mutex_t wlock;      /* guards chan writes and the out queue */
	bool chan_broken;           /* a send failed: the peer is gone */
	struct vm_outq ctlq;        /* SPEC, START, SIGNAL, RESIZE: go first */
	struct vm_outq dataq;       /* STDIN, STDIN_EOF: in order, behind control frames */
	size_t stdin_inflight;      /* STDIN bytes sent, not yet acknowledged */
	bool stdin_window;          /* the guest acknowledges STDIN (HELLO "stdin-ack") */
	bool has_exec;              /* the guest runs EXEC (HELLO "exec") */
	bool out_ack;               /* the guest keeps output until OUT_ACK (HELLO "out-ack") */
	uint64_t rx[3];             /* [1] stdout, [2] stderr bytes stored (protocol 3) */
	uint64_t rx_acked[3];       /* ... and acknowledged with OUT_ACK */
	bool resume_wait;           /* RESUME sent: drop bytes until its RESUMED */
	uint8_t resume_pat[CHAN_HDR_LEN + 8];   /* RESUMED's header and nonce */
	uint64_t resume_have[3];    /* the counts RESUME sent (UINT64_MAX: any) */
	size_t resume_skipped;      /* bytes dropped before RESUMED */
	bool want_out;              /* EPOLLOUT armed on chan */
	struct chan_reader *rd;
	uint8_t in[16384];          /* bytes read from chan, not yet fed to rd */
	size_t in_pos, in_len;
	bool resync;                /* after vm_attach, until a valid header: skip a frame's tail */
	size_t resync_skipped;      /* bytes skipped so far */
	struct vm_callbacks cb;
	void *ctx;
	bool done;                  /* on_exit has been called */
	bool restored;              /* restored from a template (template.c) */
	char notes[400];            /* vm_info.notes */
	char confinement[640];      /* vm_info.confinement (jail.h) */
	char last_error[256];       /* init's last ERROR text */
	char hello[128];            /* init's HELLO */
	char template_key[65];      /* restored from it ("" : cold) */
	char template_error[320];   /* why no template served this create */
	char tpl_timing[96];        /* restore phases, for notes */
	double t0_ms, spawn_ms, hello_ms, ready_ms;
};

double vm_now_ms(void);

/* vm.c, also for template_vm.c */
struct vm *vm_alloc(const struct vm_callbacks *cb, void *ctx);
/* How a template takes part in a launch (NULL: it does not). */
struct vm_launch_tpl {
	int mem_fd;                 /* guest RAM (driver.h vm_launch.mem_fd) */
	bool share;                 /* the template VM itself */
	bool incoming;              /* a restore: -incoming defer */
	size_t n_nics;              /* the template VM: NICs with placeholder MACs */
	const int *tap_fds;         /* ... and their taps (net_tpl.c) */
};
/* Resolve, build the argv, spawn, write vm.json. */
int vm_launch(struct vm *vm, const struct vm_config *cfg, const struct vm_host_probe *probe,
	      const struct vm_launch_tpl *t, struct oerr *err);
/* The template key of cfg as it would launch (SHA-256 hex of the inputs
 * text, also returned): -ENOTSUP when not under QEMU. */
int vm_template_key(const struct vm_config *cfg, const struct vm_host_probe *probe,
		    char key[65], char **ret_inputs, struct oerr *err);
void vm_stop_process(struct vm *vm, unsigned grace_ms);
/* The config as launched (cached images read-only, QEMU's PVH kernel);
 * *disks and *pvh are the caller's to free. */
int vm_adjust_config(struct vm *vm, const struct vm_driver_ops *drv, struct vm_config *cfg,
		     struct vm_disk **disks, char **pvh);
void vm_remove_files(const struct vm_paths *p, bool all);
int vm_epoll_setup(struct vm *vm, struct oerr *err);
void vm_note(struct vm *vm, const char *note);

/* session.c */
/* Connect (retrying while the process lives), wait for HELLO, send SPEC,
 * wait for READY, all within timeout_ms.  Fills vm->chan. */
int vm_session_open(struct vm *vm, const char *gspec, size_t gspec_len,
		    unsigned timeout_ms, struct oerr *err);
/* Connect the channel (retrying while the process lives) until deadline. */
int vm_session_connect(struct vm *vm, double deadline, struct oerr *err);
/* The template VM: connect and wait for HELLO (its text in vm->hello). */
int vm_session_hello(struct vm *vm, unsigned timeout_ms, struct oerr *err);
/* A restored VM said HELLO in its template: take its features from text. */
int vm_session_hello_apply(struct vm *vm, const char *text, struct oerr *err);
/* Connect again after a daemon restart (no handshake); a protocol 3 guest
 * (RUN/hello) gets RESUME with have[0..1] (NULL: nothing sent again). */
int vm_session_reattach(struct vm *vm, const uint64_t *have, struct oerr *err);
/* resume.c (protocol 3): RESUME after a re-attach, the scan for RESUMED,
 * RESUMED itself, and OUT_ACK. */
int vm_resume_send(struct vm *vm, const uint64_t *have, struct oerr *err);
/* While resume_wait: drop bytes up to RESUMED.  1 once found (at in_pos),
 * 0 when more bytes are needed and may_read is false or the socket is
 * empty, -EAGAIN after a read, -errno. */
int vm_resume_scan(struct vm *vm, bool may_read);
void vm_resumed_frame(struct vm *vm, const uint8_t *pl, uint32_t len);
/* Stream s (1, 2) of proc 0 stored len more bytes: OUT_ACK when due. */
void vm_out_stored(struct vm *vm, int s, uint32_t len);
/* OUT_ACK now with flags (CHAN_ACK_EXITED); no-op for an older guest. */
int vm_out_ack(struct vm *vm, uint32_t flags, struct oerr *err);
/* Queue one frame and send what the socket takes now; never blocks.  The
 * rest goes out from vm_dispatch() (EPOLLOUT).  -EAGAIN when stdin already
 * has VM_OUTQ_STDIN_MAX bytes waiting (outq.c). */
int vm_session_send(struct vm *vm, uint8_t type, const void *payload, uint32_t len,
		    struct oerr *err);
/* The same for process proc (0: the container's; 1..CHAN_PROC_MAX: EXEC'd). */
int vm_session_send_proc(struct vm *vm, uint8_t type, uint8_t proc, const void *payload,
			 uint32_t len, struct oerr *err);
/* exec.c: a frame of an EXEC'd process (proc != 0) to the callbacks. */
void vm_exec_frame(struct vm *vm, uint8_t proc, uint8_t type, const uint8_t *pl, uint32_t len);
/* Send what the socket takes: bytes still queued, or -errno. */
long vm_outq_flush(struct vm *vm);
void vm_outq_free(struct vm *vm);
/* Empty both queues (the channel is gone). */
void vm_outq_reset(struct vm *vm);
/* STDIN_ACK from the guest: bytes it took off the channel's stdin. */
void vm_outq_ack(struct vm *vm, uint32_t bytes);
/* STDIN bytes queued, not yet sent. */
size_t vm_outq_stdin_queued(struct vm *vm);
/* Read what is there; fire callbacks.  1 once on_exit fired. */
int vm_session_dispatch(struct vm *vm);
/* The last meaningful line of the console or hypervisor log. */
void vm_death_reason(const struct vm *vm, const char *how, char *buf, size_t len);

#endif
