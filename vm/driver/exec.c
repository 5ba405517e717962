/* Extra processes of a running container (vm.h: vm_exec and the vm_proc_*
 * calls): frames with a process id in the header's proc byte (common/chan.h,
 * protocol 2), and the frames of those processes back to the callbacks. */
#include "vm_priv.h"
#include "err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int proc_check(const struct vm *vm, unsigned proc, bool zero_ok, struct oerr *err)
{
	if (proc > VM_PROC_MAX || (!proc && !zero_ok))
		return oerr_set(err, EINVAL, "process id %u: out of range", proc);
	if (proc && !vm->has_exec)
		return oerr_set(err, ENOTSUP, "this VM's ocivm-init cannot start extra processes");
	return 0;
}

int vm_exec(struct vm *vm, unsigned proc, const char *gspec, size_t len, struct oerr *err)
{
	int r = proc_check(vm, proc, false, err);

	if (r < 0)
		return r;
	if (len > CHAN_MAX_PAYLOAD)
		return oerr_set(err, EINVAL, "the process spec is larger than %u bytes",
				CHAN_MAX_PAYLOAD);
	return vm_session_send_proc(vm, CHAN_EXEC, (uint8_t)proc, gspec, (uint32_t)len, err);
}

int vm_proc_signal(struct vm *vm, unsigned proc, int signo, struct oerr *err)
{
	uint8_t p[4] = { (uint8_t)signo, (uint8_t)(signo >> 8), 0, 0 };
	int r = proc_check(vm, proc, true, err);

	if (r < 0)
		return r;
	if (signo <= 0 || signo >= 65)
		return oerr_set(err, EINVAL, "signal %d: out of range", signo);
	return vm_session_send_proc(vm, CHAN_SIGNAL, (uint8_t)proc, p, sizeof(p), err);
}

int vm_proc_write_stdin(struct vm *vm, unsigned proc, const void *buf, size_t len,
			struct oerr *err)
{
	const char *p = buf;
	int r = proc_check(vm, proc, true, err);

	if (r < 0)
		return r;
	if (len > VM_OUTQ_STDIN_MAX)
		return oerr_set(err, EMSGSIZE, "stdin write of %zu bytes: at most %u at once",
				len, VM_OUTQ_STDIN_MAX);
	/* All or nothing: frames go in only if all of them fit. */
	size_t frames = (len + CHAN_MAX_PAYLOAD - 1) / CHAN_MAX_PAYLOAD;
	size_t queued = vm_outq_stdin_queued(vm);
	if (queued + len + frames * CHAN_HDR_LEN > VM_OUTQ_STDIN_MAX)
		return oerr_set(err, EAGAIN, "the process is not reading its stdin: %zu bytes wait for it",
				queued);
	while (len) {
		uint32_t n = len > CHAN_MAX_PAYLOAD ? CHAN_MAX_PAYLOAD : (uint32_t)len;
		r = vm_session_send_proc(vm, CHAN_STDIN, (uint8_t)proc, p, n, err);
		if (r < 0)
			return r;
		p += n;
		len -= n;
	}
	return 0;
}

int vm_proc_close_stdin(struct vm *vm, unsigned proc, struct oerr *err)
{
	int r = proc_check(vm, proc, true, err);

	return r < 0 ? r : vm_session_send_proc(vm, CHAN_STDIN_EOF, (uint8_t)proc, NULL, 0, err);
}

int vm_proc_resize(struct vm *vm, unsigned proc, unsigned rows, unsigned cols, struct oerr *err)
{
	int r = proc_check(vm, proc, true, err);
	uint8_t p[4] = { (uint8_t)rows, (uint8_t)(rows >> 8), (uint8_t)cols, (uint8_t)(cols >> 8) };

	if (r < 0)
		return r;
	if (!rows || !cols || rows > 0xffff || cols > 0xffff)
		return oerr_set(err, EINVAL, "window size %ux%u: out of range (1..65535)", rows, cols);
	return vm_session_send_proc(vm, CHAN_RESIZE, (uint8_t)proc, p, sizeof(p), err);
}

void vm_exec_frame(struct vm *vm, uint8_t proc, uint8_t type, const uint8_t *pl, uint32_t len)
{
	const struct vm_callbacks *cb = &vm->cb;
	char text[256];

	switch (type) {
	case CHAN_STARTED:
		if (len >= 4 && cb->on_proc_started)
			cb->on_proc_started(vm->ctx, proc, (pid_t)get_u32(pl));
		break;
	case CHAN_STDOUT:
	case CHAN_STDERR:
		if (cb->on_proc_output)
			cb->on_proc_output(vm->ctx, proc, type == CHAN_STDOUT ? 1 : 2, pl, len);
		break;
	case CHAN_ERROR:
	case CHAN_LOG: {
		size_t n = len < sizeof(text) - 1 ? len : sizeof(text) - 1;
		char raw[256];
		memcpy(raw, pl, n);
		raw[n] = '\0';
		while (n && (raw[n - 1] == '\n' || raw[n - 1] == '\r'))
			raw[--n] = '\0';
		text_fit(text, sizeof(text), raw);
		if (type == CHAN_ERROR && cb->on_proc_error)
			cb->on_proc_error(vm->ctx, proc, text);
		else if (type == CHAN_LOG && cb->on_log)
			cb->on_log(vm->ctx, text);
		break;
	}
	case CHAN_EXITED: {   /* 8 bytes, or 24 with the guest's times */
		bool ok = len == 8 || len == CHAN_EXITED_PROC_LEN, timed = len == CHAN_EXITED_PROC_LEN;
		uint32_t kind = ok ? get_u32(pl) : 2, value = ok ? get_u32(pl + 4) : 0;
		int status = kind == 1 ? 128 + (int)(value & 0x7f) : kind == 0 ? (int)(value & 0xff) : 255;
		struct vm_proc_times t = { timed ? chan_get_u64(pl + 8) : 0,
					   timed ? chan_get_u64(pl + 16) : 0 };
		if (cb->on_proc_exit)
			cb->on_proc_exit(vm->ctx, proc, status, timed && kind <= 1 ? &t : NULL);
		break;
	}
	default:
		break;
	}
}
