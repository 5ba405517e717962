/* Protocol 3 (common/chan.h): the guest keeps the container's output until
 * the host acknowledges that it stored it (OUT_ACK), and a host that
 * re-attached after a restart asks for everything past what it holds
 * (RESUME): bytes the previous daemon had in flight (in its buffers, in the
 * socket, in the hypervisor) come again, so none is lost, also at SIGKILL. */
#include "vm_priv.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

int vm_out_ack(struct vm *vm, uint32_t flags, struct oerr *err)
{
	uint8_t b[20];

	if (!vm->out_ack || vm->resume_wait)
		return 0;
	chan_put_u64(b, vm->rx[1]);
	chan_put_u64(b + 8, vm->rx[2]);
	for (int i = 0; i < 4; i++)
		b[16 + i] = (uint8_t)(flags >> (8 * i));
	vm->rx_acked[1] = vm->rx[1];
	vm->rx_acked[2] = vm->rx[2];
	return vm_session_send(vm, CHAN_OUT_ACK, b, flags ? 20 : 16, err);
}

void vm_out_stored(struct vm *vm, int s, uint32_t len)
{
	vm->rx[s] += len;
	if (vm->rx[s] - vm->rx_acked[s] >= VM_OUT_ACK_EVERY)
		vm_out_ack(vm, 0, NULL);   /* fails only with the channel: then moot */
}

int vm_resume_send(struct vm *vm, const uint64_t *have, struct oerr *err)
{
	uint8_t b[CHAN_RESUME_LEN];

	if (getrandom(b, 8, 0) != 8)
		return oerr_sys(err, errno, "getrandom for RESUME");
	for (int s = 1; s <= 2; s++) {
		vm->resume_have[s] = have ? have[s - 1] : UINT64_MAX;
		chan_put_u64(b + 8 * s, vm->resume_have[s]);
	}
	chan_hdr_encode(vm->resume_pat, CHAN_RESUMED, CHAN_RESUME_LEN);
	memcpy(vm->resume_pat + CHAN_HDR_LEN, b, 8);
	vm->resume_wait = true;
	vm->resync = false;   /* the exact pattern finds the start, not a guess */
	vm->resume_skipped = 0;
	return vm_session_send(vm, CHAN_RESUME, b, sizeof(b), err);
}

int vm_resume_scan(struct vm *vm, bool may_read)
{
	const size_t k = sizeof(vm->resume_pat);

	for (;;) {
		size_t rem = vm->in_len - vm->in_pos;
		const uint8_t *at = memmem(vm->in + vm->in_pos, rem, vm->resume_pat, k);
		if (at) {
			size_t skip = (size_t)(at - (vm->in + vm->in_pos));
			vm->in_pos += skip;
			vm->resume_skipped += skip;
			vm->resume_wait = false;
			return 1;
		}
		size_t drop = rem >= k ? rem - (k - 1) : 0;   /* keep what may begin it */
		vm->resume_skipped += drop;
		memmove(vm->in, vm->in + vm->in_pos + drop, rem - drop);
		vm->in_pos = 0;
		vm->in_len = rem - drop;
		if (!may_read)
			return 0;
		ssize_t n = recv(vm->chan, vm->in + vm->in_len, sizeof(vm->in) - vm->in_len,
				 MSG_DONTWAIT);
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

static void say(struct vm *vm, bool warn, const char *line)
{
	if (warn)
		log_warn("%s: %s", vm->paths.run_dir, line);
	if (vm->cb.on_log)
		vm->cb.on_log(vm->ctx, line);
}

/* RESUMED <nonce> <stdout from> <stderr from>: the guest sends each stream
 * again from `from`.  Above what this host holds: bytes lost, said with the
 * count (the guest no longer had them); never silently. */
void vm_resumed_frame(struct vm *vm, const uint8_t *pl, uint32_t len)
{
	static const char *const names[3] = { NULL, "stdout", "stderr" };
	char line[320];
	int n;

	if (len != CHAN_RESUME_LEN) {
		say(vm, true, "malformed RESUMED from ocivm-init: output counts unknown");
		return;
	}
	n = snprintf(line, sizeof(line), "channel resumed: %zu bytes in flight dropped; "
		     "the guest sends again", vm->resume_skipped);
	for (int s = 1; s <= 2; s++) {
		uint64_t from = chan_get_u64(pl + 8 * s), have = vm->resume_have[s];
		vm->rx[s] = vm->rx_acked[s] = from;
		if (n < 0 || (size_t)n >= sizeof(line))
			continue;
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%s %s from byte %llu",
			      s == 1 ? "" : ",", names[s], (unsigned long long)from);
		if (have != UINT64_MAX && from > have)
			n += snprintf(line + n, sizeof(line) - (size_t)n,
				      " (LOST %llu bytes after byte %llu: the guest no longer had them)",
				      (unsigned long long)(from - have), (unsigned long long)have);
		else if (have != UINT64_MAX && from < have)
			n += snprintf(line + n, sizeof(line) - (size_t)n,
				      " (the daemon holds %llu: more than the guest ever sent)",
				      (unsigned long long)have);
	}
	bool bad = false;
	for (int s = 1; s <= 2; s++)
		bad |= vm->resume_have[s] != UINT64_MAX && chan_get_u64(pl + 8 * s) != vm->resume_have[s];
	say(vm, bad, line);
}
