/* The host side of the conversation with ocivm-init (common/chan.h): the
 * HELLO/SPEC/READY handshake with a deadline, then frames to callbacks. */
#include "vm_priv.h"
#include "spawn.h"
#include "cleanup.h"
#include "fileio.h"
#include "fresh.h"
#include "log.h"

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* After vm_attach the stream may begin inside a frame (the previous reader
 * died mid-frame): skip bytes until a valid header starts (chan_sync_skip),
 * holding back a partial header until it is complete.  1 once resynced (the
 * header is at in_pos, resync is over: from now on a bad header is fatal),
 * else what next_frame returns. */
static int resync_step(struct vm *vm, bool may_read)
{
	for (;;) {
		size_t rem = vm->in_len - vm->in_pos;
		size_t skip = chan_sync_skip(vm->in + vm->in_pos, rem);

		vm->in_pos += skip;
		vm->resync_skipped += skip;
		rem -= skip;
		if (rem >= CHAN_HDR_LEN) {
			vm->resync = false;
			if (vm->resync_skipped) {
				char line[160];
				snprintf(line, sizeof(line),
					 "channel re-attached inside a frame: skipped %zu bytes to the next frame",
					 vm->resync_skipped);
				log_warn("%s: %s", vm->paths.run_dir, line);
				if (vm->cb.on_log)
					vm->cb.on_log(vm->ctx, line);
			}
			return 1;
		}
		memmove(vm->in, vm->in + vm->in_pos, rem);   /* keep a partial header */
		vm->in_pos = 0;
		vm->in_len = rem;
		if (!may_read)
			return 0;
		ssize_t n = recv(vm->chan, vm->in + rem, sizeof(vm->in) - rem, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
		if (n == 0)
			return -EPIPE;
		vm->in_len += (size_t)n;
		return -EAGAIN;
	}
}

/* 1 with a frame, 0 when the socket is drained (or may_read is false and
 * the buffer is), -EAGAIN after each read from the socket (so the caller can
 * count them), -EPIPE at EOF, -EPROTO. */
static int next_frame(struct vm *vm, uint8_t *type, const uint8_t **pl, uint32_t *len,
		      bool may_read)
{
	for (;;) {
		if (vm->resume_wait) {
			int r = vm_resume_scan(vm, may_read);
			if (r != 1)
				return r;
		}
		if (vm->resync) {
			int r = resync_step(vm, may_read);
			if (r != 1)
				return r;
		}
		int r = chan_reader_next(vm->rd, type, pl, len);
		if (r != 0)
			return r;
		if (vm->in_pos < vm->in_len) {
			vm->in_pos += chan_reader_feed(vm->rd, vm->in + vm->in_pos,
						       vm->in_len - vm->in_pos);
			continue;
		}
		if (!may_read)
			return 0;
		ssize_t n = recv(vm->chan, vm->in, sizeof(vm->in), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
		if (n == 0)
			return -EPIPE;
		vm->in_pos = 0;
		vm->in_len = (size_t)n;
		return -EAGAIN;
	}
}

/* Guest text (untrusted) as one printable line: trailing newlines go, any
 * other non-printable byte becomes \xHH, a long one keeps its end. */
static void copy_text(char *dst, size_t cap, const uint8_t *p, uint32_t len)
{
	char raw[1024];
	size_t n = len < sizeof(raw) - 1 ? len : sizeof(raw) - 1;

	memcpy(raw, p, n);
	raw[n] = '\0';
	n = strnlen(raw, n);   /* a NUL ends it */
	while (n && (raw[n - 1] == '\n' || raw[n - 1] == '\r'))
		raw[--n] = '\0';
	text_fit(dst, cap, raw);
}

static void finish(struct vm *vm, int status, const char *reason)
{
	vm->done = true;
	if (vm->cb.on_exit)
		vm->cb.on_exit(vm->ctx, status, reason);
}

static void handle_frame(struct vm *vm, uint8_t type, const uint8_t *pl, uint32_t len)
{
	char text[1024];
	uint8_t proc = chan_reader_proc(vm->rd);

	if (proc && type == CHAN_STDIN_ACK) {
		proc = 0;   /* one stdin window for every process */
	} else if (proc) {
		vm_exec_frame(vm, proc, type, pl, len);
		return;
	}
	switch (type) {
	case CHAN_STARTED:
		if (len >= 4 && vm->cb.on_started)
			vm->cb.on_started(vm->ctx, (pid_t)get_u32(pl));
		break;
	case CHAN_STDOUT:
	case CHAN_STDERR:
		if (vm->cb.on_output)
			vm->cb.on_output(vm->ctx, type == CHAN_STDOUT ? 1 : 2, pl, len);
		vm_out_stored(vm, type == CHAN_STDOUT ? 1 : 2, len);   /* stored: acknowledged */
		break;
	case CHAN_RESUMED:
		vm_resumed_frame(vm, pl, len);
		break;
	case CHAN_LOG:
		copy_text(text, sizeof(text), pl, len);
		if (vm->cb.on_log)
			vm->cb.on_log(vm->ctx, text);
		break;
	case CHAN_ERROR:
		copy_text(vm->last_error, sizeof(vm->last_error), pl, len);
		if (vm->cb.on_error)
			vm->cb.on_error(vm->ctx, vm->last_error);
		break;
	case CHAN_STDIN_ACK:
		if (len >= 4) {
			vm_outq_ack(vm, get_u32(pl));
			vm_outq_flush(vm);   /* the window opened */
		}
		break;
	case CHAN_EXITED: {
		uint32_t kind = len == 8 ? get_u32(pl) : 2, value = len == 8 ? get_u32(pl + 4) : 0;
		if (kind > 1) {   /* no status is made up from a frame that has none */
			snprintf(text, sizeof(text), "malformed EXITED from ocivm-init "
				 "(%u-byte payload, kind %u): the exit status is unknown", len, kind);
			finish(vm, 255, text);
			break;
		}
		int status = kind == 1 ? 128 + (int)(value & 0x7f) : (int)(value & 0xff);
		vm_out_ack(vm, CHAN_ACK_EXITED, NULL);   /* init may power off now */
		finish(vm, status, vm->last_error[0] ? vm->last_error : NULL);
		break;
	}
	default:
		break;   /* HELLO/READY again, or a type this host does not use */
	}
}

static void chan_drop(struct vm *vm)
{
	if (vm->chan < 0)
		return;
	if (vm->epfd >= 0)
		epoll_ctl(vm->epfd, EPOLL_CTL_DEL, vm->chan, NULL);
	pthread_mutex_lock(&vm->wlock);
	close(vm->chan);
	vm->chan = -1;
	vm_outq_reset(vm);
	pthread_mutex_unlock(&vm->wlock);
}

int vm_session_dispatch(struct vm *vm)
{
	uint8_t type;
	const uint8_t *pl;
	uint32_t len;

	unsigned budget = 64;   /* reads per call: a flooding guest cannot pin us */

	if (vm->done)
		return 1;
	vm_outq_flush(vm);
	while (vm->chan >= 0) {
		int r = next_frame(vm, &type, &pl, &len, budget > 0);
		if (r == -EAGAIN) {
			budget--;
			continue;
		}
		if (r == 0)
			break;
		if (r == -EPROTO) {
			/* the stream is broken and cannot be resynced: what follows
			 * (output, EXITED) is lost while the VM may run on, so
			 * end it here with the reason; the owner destroys the VM */
			chan_drop(vm);
			finish(vm, 255, "malformed frame from ocivm-init (EPROTO): the channel is "
			       "broken, output after it and the exit status are lost");
			return 1;
		}
		if (r < 0) {
			chan_drop(vm);   /* EOF: the hypervisor closed it; its end tells the rest */
			break;
		}
		handle_frame(vm, type, pl, len);
		if (vm->done)
			return 1;
	}
	if (vm_pidfd_wait(vm->pidfd, 0) == 1) {
		char reason[OERR_MSG_MAX], how[96];
		vm_reap_describe(vm->pidfd, vm->is_child, how, sizeof(how));
		vm_death_reason(vm, how, reason, sizeof(reason));
		finish(vm, 255, reason);
		return 1;
	}
	return 0;
}

/* Last non-empty line of a file's tail (into buf), or "" . */
static void tail_line(const char *path, char *buf, size_t cap)
{
	char tail[4096];
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

	buf[0] = '\0';
	if (fd < 0)
		return;
	off_t size = lseek(fd, 0, SEEK_END);
	off_t from = size > (off_t)sizeof(tail) - 1 ? size - (off_t)sizeof(tail) + 1 : 0;
	ssize_t n = pread(fd, tail, sizeof(tail) - 1, from);
	if (n <= 0)
		return;
	tail[n] = '\0';
	for (ssize_t i = 0; i < n; i++)
		if (tail[i] == '\r')
			tail[i] = '\n';
	while (n > 0 && (tail[n - 1] == '\n' || tail[n - 1] == ' '))
		tail[--n] = '\0';
	const char *line = strrchr(tail, '\n');
	line = line ? line + 1 : tail;
	size_t n_line = strnlen(line, cap - 1);
	memcpy(buf, line, n_line);
	buf[n_line] = '\0';
}

/* What the process said last: its own log, else the console. */
static void last_words(const struct vm *vm, char *buf, size_t len)
{
	char line[200];

	tail_line(vm->paths.log, line, sizeof(line));
	if (line[0]) {
		snprintf(buf, len, "%s", line);
		return;
	}
	tail_line(vm->paths.console, line, sizeof(line));
	snprintf(buf, len, "console: %s", line[0] ? line : "(empty)");
}

void vm_death_reason(const struct vm *vm, const char *how, char *buf, size_t len)
{
	char said[160], console[160], raw[1024];

	tail_line(vm->paths.log, said, sizeof(said));   /* the hypervisor's stderr */
	tail_line(vm->paths.console, console, sizeof(console));
	snprintf(raw, sizeof(raw), "the VM stopped without an exit status: its process (%s, pid %d) %s%s%s%s%s; console: %s",
		 vm->drv ? vm->drv->name : "?", (int)vm->pid, how ? how : "ended",
		 vm->last_error[0] ? "; after: " : "", vm->last_error,
		 said[0] ? "; it said: " : "", said, console[0] ? console : "(empty)");
	text_fit(buf, len, raw);   /* console bytes escaped; the end kept */
}

/* Connect to the channel, retrying while the process lives. */
static int session_connect(struct vm *vm, double deadline, struct oerr *err)
{
	for (;;) {
		int fd = vm->drv->connect_channel(&vm->paths, NULL);
		if (fd >= 0) {
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
			vm->chan = fd;
			return 0;
		}
		if (vm_pidfd_wait(vm->pidfd, 0) == 1) {
			char words[220];
			last_words(vm, words, sizeof(words));
			return oerr_set(err, EIO, "exited at once: %s", words);
		}
		if (vm_now_ms() > deadline)
			return oerr_sys(err, -fd, "connecting to %s's channel", vm->drv->name);
		struct timespec nap = { 0, 10 * 1000 * 1000 };
		nanosleep(&nap, NULL);
	}
}

static void hello_features(struct vm *vm, const char *hello)
{
	char text[256];

	snprintf(text, sizeof(text), "%s ", hello);
	vm->stdin_window = strstr(text, " stdin-ack ") != NULL;   /* send STDIN within a window */
	vm->has_exec = strstr(text, " exec ") != NULL;
	vm->out_ack = strstr(text, " out-ack ") != NULL;
}

/* HELLO "ocivm-init <protocol> <feature>...": another protocol is refused
 * (an initrd built for another daemon); the features turn things on. */
static int hello_check(struct vm *vm, const uint8_t *pl, uint32_t len, struct oerr *err)
{
	char text[256];
	unsigned proto = 0;

	copy_text(text, sizeof(text), pl, len);
	if (sscanf(text, "ocivm-init %u", &proto) != 1 || proto != CHAN_PROTOCOL)
		return oerr_set(err, EPROTO, "the initrd does not match the daemon: its ocivm-init "
				"says \"%s\", the daemon speaks protocol %u (rebuild the initrd)",
				text, CHAN_PROTOCOL);
	snprintf(vm->hello, sizeof(vm->hello), "%.127s", text);
	/* kept for a re-attach: whether the guest numbers its output */
	int r = file_write_atomic(vm->paths.hello, text, strlen(text), 0600);
	if (r < 0)
		return oerr_sys(err, -r, "writing %s", vm->paths.hello);
	hello_features(vm, text);
	return 0;
}

/* Wait for a frame of type want; LOG/ERROR are kept for the reason. */
static int session_wait(struct vm *vm, uint8_t want, double deadline, struct oerr *err)
{
	uint8_t type;
	const uint8_t *pl;
	uint32_t len;

	for (;;) {
		/* past the deadline, read no more: a guest that floods the
		 * channel must not keep us here (the buffer drains, then we fail) */
		int r = next_frame(vm, &type, &pl, &len, vm_now_ms() <= deadline);
		if (r == -EAGAIN)
			continue;
		if (r == 1 && type == CHAN_HELLO && hello_check(vm, pl, len, err) < 0)
			return -EPROTO;
		if (r == 1 && type == want)
			return 0;
		if (r == 1 && type == CHAN_ERROR)
			copy_text(vm->last_error, sizeof(vm->last_error), pl, len);
		if (r == 1 && type == CHAN_EXITED)
			return oerr_set(err, EIO, "ocivm-init: %s",
					vm->last_error[0] ? vm->last_error : "exited before READY");
		if (r == -EPROTO)
			return oerr_set(err, EPROTO, "malformed frame from ocivm-init");
		if (r == 1)
			continue;
		bool gone = vm_pidfd_wait(vm->pidfd, 0) == 1;
		if (r < 0 || gone) {
			char reason[OERR_MSG_MAX], how[96];
			if (gone)
				vm_reap_describe(vm->pidfd, vm->is_child, how, sizeof(how));
			vm_death_reason(vm, gone ? how : NULL, reason, sizeof(reason));
			return oerr_set(err, EIO, "waiting for %s: %s", chan_type_name(want), reason);
		}
		double left = deadline - vm_now_ms();
		if (left <= 0) {
			char line[200];   /* the console goes with the VM: quote it */
			tail_line(vm->paths.console, line, sizeof(line));
			return oerr_set(err, ETIMEDOUT, "no %s from ocivm-init within %.0f s; console: %s",
					chan_type_name(want), (deadline - vm->t0_ms) / 1000.0,
					line[0] ? line : "(empty)");
		}
		struct pollfd pfd[2] = { { vm->chan, POLLIN, 0 }, { vm->pidfd, POLLIN, 0 } };
		poll(pfd, 2, left > 1000 ? 1000 : (int)left + 1);
	}
}

/* Before the event loop runs: push the queue out within the deadline. */
static int session_flush_wait(struct vm *vm, double deadline, struct oerr *err)
{
	for (;;) {
		long left = vm_outq_flush(vm);
		if (left < 0)
			return oerr_sys(err, (int)-left, "sending SPEC to ocivm-init");
		if (left == 0)
			return 0;
		double ms = deadline - vm_now_ms();
		if (ms <= 0)
			return oerr_set(err, ETIMEDOUT, "ocivm-init does not read the SPEC");
		struct pollfd pfd = { vm->chan, POLLOUT, 0 };
		poll(&pfd, 1, ms > 1000 ? 1000 : (int)ms + 1);
	}
}

int vm_session_open(struct vm *vm, const char *gspec, size_t gspec_len,
		    unsigned timeout_ms, struct oerr *err)
{
	double deadline = vm->t0_ms + timeout_ms;
	int r = vm->chan >= 0 ? 0 : session_connect(vm, deadline, err);   /* a restore connects early */

	/* restored: its init said HELLO in the template, and waits for the SPEC */
	if (r == 0 && !vm->restored)
		r = session_wait(vm, CHAN_HELLO, deadline, err);
	if (r < 0)
		return r;
	vm->hello_ms = vm_now_ms() - vm->t0_ms;
	_cleanup_free_ char *spec = NULL;
	size_t spec_len;
	r = vm_gspec_fresh(gspec, gspec_len, vm->restored, &spec, &spec_len);
	if (r < 0)
		return oerr_sys(err, -r, "the SPEC's seed and clock");
	if (spec_len > CHAN_MAX_PAYLOAD)
		return oerr_set(err, E2BIG, "SPEC of %zu bytes exceeds one frame", spec_len);
	r = vm_session_send(vm, CHAN_SPEC, spec, (uint32_t)spec_len, err);
	if (r == 0)
		r = session_flush_wait(vm, deadline, err);
	if (r == 0)
		r = session_wait(vm, CHAN_READY, deadline, err);
	if (r < 0)
		return r;
	vm->ready_ms = vm_now_ms() - vm->t0_ms;
	return 0;
}

int vm_session_connect(struct vm *vm, double deadline, struct oerr *err)
{
	return session_connect(vm, deadline, err);
}

int vm_session_hello(struct vm *vm, unsigned timeout_ms, struct oerr *err)
{
	double deadline = vm_now_ms() + timeout_ms;
	int r = session_connect(vm, deadline, err);

	if (r == 0)
		r = session_wait(vm, CHAN_HELLO, deadline, err);
	vm->hello_ms = vm_now_ms() - vm->t0_ms;
	return r;
}

int vm_session_hello_apply(struct vm *vm, const char *text, struct oerr *err)
{
	return hello_check(vm, (const uint8_t *)text, (uint32_t)strlen(text), err);
}

int vm_session_reattach(struct vm *vm, const uint64_t *have, struct oerr *err)
{
	_cleanup_free_ char *hello = NULL;
	size_t len;
	unsigned proto = 0;

	vm->resync = true;   /* the old reader may have died mid-frame */
	vm->has_exec = true; /* its protocol was checked at create, by this daemon's kind */
	vm->resync_skipped = 0;
	/* RUN/hello says what the guest speaks (absent: a VM of an older
	 * daemon, protocol 2 at most: no OUT_ACK, no RESUME).  A VM a
	 * protocol-3 daemon started is served as ours: protocol 4 changed only
	 * an exec'd process's EXITED, which exec.c reads in both lengths; its
	 * guest keeps its output until acknowledged, so it needs RESUME and
	 * OUT_ACK after an upgrade of the daemon too. */
	if (file_read_all(vm->paths.hello, 255, &hello, &len) == 0 &&
	    sscanf(hello, "ocivm-init %u", &proto) == 1 && proto >= 3 && proto <= CHAN_PROTOCOL) {
		hello_features(vm, hello);
		vm->stdin_window = false;   /* what is in flight is unknown: until an ACK */
	}
	int r = session_connect(vm, vm_now_ms() + 2000, err);
	return r < 0 || !vm->out_ack ? r : vm_resume_send(vm, have, err);
}
