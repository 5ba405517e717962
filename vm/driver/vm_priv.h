/* struct vm and the calls between vm.c (life cycle) and session.c (the
 * conversation with ocivm-init). */
#ifndef OCIVM_VM_DRIVER_PRIV_H
#define OCIVM_VM_DRIVER_PRIV_H

#include <pthread.h>
#include <stdbool.h>

#include "chan.h"
#include "driver.h"
#include "record.h"

#define VM_OUTQ_STDIN_MAX (1u << 20)   /* stdin bytes queued for a slow reader */
#define VM_OUTQ_MAX (VM_OUTQ_STDIN_MAX + (256u << 10)) /* + control frames */
#define VM_DEFAULT_READY_MS 120000u

struct vm {
	const struct vm_driver_ops *drv;
	struct vm_paths paths;
	struct vm_record rec;
	char *cmdline;              /* argv joined, for vm_info */
	pid_t pid;
	int pidfd;
	bool is_child;              /* we forked it: we reap it */
	int chan;                   /* non-blocking stream to ocivm-init, -1 if none */
	int epfd;                   /* chan + pidfd: what vm_fd() returns */
	pthread_mutex_t wlock;      /* guards chan writes and the out queue */
	bool chan_broken;           /* a send failed: the peer is gone */
	uint8_t *outq;              /* frames the socket has not taken yet */
	size_t outq_head, outq_len, outq_cap;
	bool want_out;              /* EPOLLOUT armed on chan */
	struct chan_reader *rd;
	uint8_t in[16384];          /* bytes read from chan, not yet fed to rd */
	size_t in_pos, in_len;
	bool resync;                /* after vm_attach, until a valid header: skip a frame's tail */
	size_t resync_skipped;      /* bytes skipped so far */
	struct vm_callbacks cb;
	void *ctx;
	bool done;                  /* on_exit has been called */
	char notes[400];            /* vm_info.notes */
	char last_error[256];       /* init's last ERROR text */
	double t0_ms, spawn_ms, hello_ms, ready_ms;
};

double vm_now_ms(void);

/* session.c */
/* Connect (retrying while the process lives), wait for HELLO, send SPEC,
 * wait for READY, all within timeout_ms.  Fills vm->chan. */
int vm_session_open(struct vm *vm, const char *gspec, size_t gspec_len,
		    unsigned timeout_ms, struct oerr *err);
/* Connect again after a daemon restart (no handshake). */
int vm_session_reattach(struct vm *vm, struct oerr *err);
/* Queue one frame and send what the socket takes now; never blocks.  The
 * rest goes out from vm_dispatch() (EPOLLOUT).  -EAGAIN when stdin already
 * has VM_OUTQ_STDIN_MAX bytes waiting (outq.c). */
int vm_session_send(struct vm *vm, uint8_t type, const void *payload, uint32_t len,
		    struct oerr *err);
/* Send what the socket takes: bytes still queued, or -errno. */
long vm_outq_flush(struct vm *vm);
void vm_outq_free(struct vm *vm);
/* Read what is there; fire callbacks.  1 once on_exit fired. */
int vm_session_dispatch(struct vm *vm);
/* The last meaningful line of the console or hypervisor log. */
void vm_death_reason(const struct vm *vm, const char *how, char *buf, size_t len);

#endif
