/* The channel between the host and ocivm-init (PID 1 in the guest).
 *
 * Transport: under QEMU the virtio-serial port named "org.ocivm.chan"
 * (/dev/vportNpM in the guest, found through /sys/class/virtio-ports/ * /name;
 * not a tty), under ocivm-vmm the single-port console /dev/hvc0 (raw tty
 * mode).  On the host it is a unix stream socket: QEMU's chardev socket, or
 * ocivm-vmm's control socket after the "console" request (vm/vmm/PROTOCOL.md).
 * Both hypervisors give the same byte stream, so one host client serves both.
 * Neither loses guest output while no host client is connected: the port
 * makes the guest wait (POLLHUP, writes block), ocivm-vmm buffers 1 MiB.
 *
 * Framing: every message is an 8-byte header followed by `len` payload bytes.
 *   u16 magic  = CHAN_MAGIC (little-endian, 'O','V')
 *   u8  type   = enum chan_type
 *   u8  proc   = process id: 0 for the container's process, 1..255 for a
 *                process started by EXEC (protocol 2); in every frame type
 *   u32 len    = payload length, <= CHAN_MAX_PAYLOAD (little-endian)
 * A frame with a bad magic, unknown type or oversized length is a protocol
 * error: the reader reports -EPROTO and the connection is dropped.  The one
 * exception: a host that re-attaches (the previous reader may have died
 * mid-frame) skips bytes up to the first valid header (chan_sync_skip), once.
 *
 * Conversation:
 *   guest -> HELLO "ocivm-init <version>"      as soon as /dev/hvc0 is open
 *   host  -> SPEC  <gspec text>                (common/gspec.h)
 *   guest -> READY                             rootfs mounted, config applied
 *            or ERROR "<reason>" then EXITED   (and the VM powers off)
 *   host  -> START
 *   guest -> STARTED <u32 pid>  or  ERROR "<reason>" + EXITED 127 / 126
 *   host  -> SIGNAL <u32 signo>, STDIN <bytes>, STDIN_EOF, RESIZE <u16 rows, u16 cols>
 *   guest -> STDOUT <bytes>, STDERR <bytes>, LOG "<init message>"
 *   guest -> STDIN_ACK <u32 bytes>             STDIN bytes it took off its queue
 *            (written to the process or dropped), when its HELLO says
 *            "stdin-ack": the host then keeps at most VM_STDIN_WINDOW
 *            unacknowledged, so the guest never stops reading the channel
 *            for stdin and control frames (SIGNAL) are read at once
 *   guest -> EXITED <u32 kind> <u32 value>     kind 0: exit code, 1: signal
 *            the last frame: sent once the process exited and its output
 *            pipes reached EOF, after every STDOUT/STDERR frame; then init
 *            waits for the host to hang up (virtio port; QEMU loses what it
 *            still holds when the VM powers off), syncs and powers off.
 *
 * Protocol 2 (HELLO "ocivm-init 2 ... exec"): extra processes.  A host
 * refuses a HELLO of another protocol version (EPROTO "the initrd does not
 * match the daemon").  Every frame carries its process id in the header's
 * proc byte; the container's process is 0 and the conversation above is
 * unchanged for it.
 *   host  -> EXEC <gspec> with proc N (1..255, not in use): a gspec
 *            (common/gspec.h) whose process records (arg, env, cwd, user,
 *            gid, terminal, nnp, rlimit, cap) describe the process; it joins
 *            the container process's namespaces, root and cgroup
 *   guest -> STARTED <u32 pid> (proc N) or ERROR "<reason>" + EXITED (proc N)
 *   host  -> SIGNAL, STDIN, STDIN_EOF, RESIZE with proc N
 *   guest -> STDOUT, STDERR, STDIN_ACK, EXITED with proc N; EXITED N frees N.
 *            When the container's process exits, every exec'd process is
 *            killed; their EXITED frames come before the container's.
 *
 * Protocol 3 (HELLO "... out-ack"): no output byte is lost when the host
 * reader goes away (a daemon restart, SIGTERM or SIGKILL).  For the
 * container's process (proc 0) the guest numbers the bytes of STDOUT and of
 * STDERR from 0 (as it frames them) and keeps every byte the host has not
 * acknowledged (at most CHAN_OUT_WINDOW per stream: past it, it stops
 * reading that pipe, so the process blocks; nothing is dropped).
 *   host  -> OUT_ACK <u64 stdout> <u64 stderr> [<u32 flags>]
 *            bytes of each stream the host has stored (absolute counts;
 *            sent with START as 0 0, then at least every
 *            CHAN_OUT_WINDOW / 4); the guest frees them.  flags bit 0
 *            (CHAN_ACK_EXITED): the host also has the EXITED frame; until
 *            then init does not take the host's hang-up as "all received"
 *   host  -> RESUME <u64 nonce> <u64 stdout> <u64 stderr>
 *            a host that re-attached (the previous one may have died with
 *            bytes in flight): the counts it holds per stream
 *   guest -> RESUMED <u64 nonce> <u64 stdout from> <u64 stderr from>
 *            the guest drops what it had queued and not sent, and the host
 *            drops everything before this frame (found by its exact bytes:
 *            header + nonce, wherever the stream starts); then the guest
 *            sends each stream's bytes again from the host's count, its
 *            other queued frames, and EXITED again if it was sent.  A
 *            `from` above the host's count means bytes lost (only when the
 *            host's count is below what it acknowledged: a bug or a lost
 *            file): the host says how many, never silently.
 * Exec'd processes (proc != 0) are not numbered: a re-attached host does
 * not know them (the tree forgets them at a restart).
 *
 * Protocol 4 (HELLO "... exec-times"): the EXITED of an exec'd process
 * (proc != 0) is CHAN_EXITED_PROC_LEN bytes:
 *   guest -> EXITED <u32 kind> <u32 value> <u64 spawn_us> <u64 guest_us>
 *            spawn_us: from init's fork of the process to its reaping (the
 *            process's own cost: fork, joining the container, exec, run,
 *            exit); guest_us: from init taking EXEC off the channel to
 *            queueing this frame (what the guest adds around it: the gspec,
 *            pipes or pty, output to EOF).  CLOCK_MONOTONIC microseconds;
 *            both 0 for a process that never ran.  The container's own
 *            EXITED (proc 0) stays 8 bytes.
 */
#ifndef OCIVM_CHAN_H
#define OCIVM_CHAN_H

#include <stddef.h>
#include <stdint.h>

#define CHAN_MAGIC 0x564fu /* "OV" little-endian */
#define CHAN_HDR_LEN 8u
#define CHAN_MAX_PAYLOAD 65536u
#define CHAN_PROTOCOL 4u       /* HELLO "ocivm-init 4 ..." */
#define CHAN_EXITED_PROC_LEN 24u   /* EXITED of an exec'd process (protocol 4) */
#define CHAN_OUT_WINDOW (1u << 20)   /* unacknowledged output per stream (protocol 3) */
#define CHAN_ACK_EXITED 1u     /* OUT_ACK flags: the host has the EXITED frame */
#define CHAN_RESUME_LEN 24u    /* RESUME and RESUMED payloads */
#define CHAN_PROC_MAX 255u     /* process ids 1..255 for EXEC */

enum chan_type {
	CHAN_HELLO = 1,
	CHAN_SPEC = 2,
	CHAN_READY = 3,
	CHAN_START = 4,
	CHAN_STARTED = 5,
	CHAN_SIGNAL = 6,
	CHAN_STDIN = 7,
	CHAN_STDIN_EOF = 8,
	CHAN_STDOUT = 9,
	CHAN_STDERR = 10,
	CHAN_EXITED = 11,
	CHAN_ERROR = 12,
	CHAN_LOG = 13,
	CHAN_RESIZE = 14,
	CHAN_STDIN_ACK = 15,
	CHAN_EXEC = 16,
	CHAN_OUT_ACK = 17,
	CHAN_RESUME = 18,
	CHAN_RESUMED = 19,
	CHAN_TYPE_MAX = 19,
};

struct chan_hdr {
	uint16_t magic;
	uint8_t type;
	uint8_t stream;         /* the process id (proc byte) */
	uint32_t len;
};

const char *chan_type_name(int type);

/* Encode a header into 8 bytes (little-endian). */
void chan_hdr_encode(uint8_t out[CHAN_HDR_LEN], uint8_t type, uint32_t len);
/* The same with a process id in the proc byte. */
void chan_hdr_encode_proc(uint8_t out[CHAN_HDR_LEN], uint8_t type, uint8_t proc, uint32_t len);
/* Decode and validate a header: 0, or -EPROTO for bad magic/type/length. */
int chan_hdr_decode(const uint8_t in[CHAN_HDR_LEN], struct chan_hdr *ret);

/* Incremental decoder for a non-blocking byte stream: feed bytes in, take
 * complete frames out.  No allocation beyond the struct itself. */
struct chan_reader {
	uint8_t buf[CHAN_HDR_LEN + CHAN_MAX_PAYLOAD];
	size_t have;
};
void chan_reader_init(struct chan_reader *r);
/* Append up to n bytes; returns how many were taken (less than n when the
 * buffer holds a complete frame that must be taken first). */
size_t chan_reader_feed(struct chan_reader *r, const void *data, size_t n);
/* 1 and fills type/payload/len (payload points into r->buf, valid until the
 * next feed/next call) when a frame is complete; 0 if more bytes are needed;
 * -EPROTO on a malformed header. */
int chan_reader_next(struct chan_reader *r, uint8_t *ret_type,
		     const uint8_t **ret_payload, uint32_t *ret_len);
/* The process id of the frame chan_reader_next returned last. */
uint8_t chan_reader_proc(const struct chan_reader *r);

/* Re-attach resync (a reader that may start inside a frame, e.g. after the
 * previous host reader died mid-frame): how many leading bytes of p[0..n)
 * cannot start a frame.  Returns the offset of the first position that holds
 * a valid header (magic, known type, any proc byte, len <= CHAN_MAX_PAYLOAD)
 * or, in its last 7 bytes, a prefix that could still become one; n if none.
 * Use only until the first good frame: after that a bad header is an error. */
size_t chan_sync_skip(const uint8_t *p, size_t n);

/* Blocking helpers on an fd: write one whole frame / read one whole frame
 * into buf (cap >= CHAN_MAX_PAYLOAD).  0 or -errno (-EPIPE at EOF). */
int chan_send(int fd, uint8_t type, const void *payload, uint32_t len);
int chan_send_proc(int fd, uint8_t type, uint8_t proc, const void *payload, uint32_t len);
int chan_recv(int fd, uint8_t *ret_type, void *buf, size_t cap, uint32_t *ret_len);

/* Little-endian u64 in payloads (OUT_ACK, RESUME, RESUMED). */
void chan_put_u64(uint8_t *b, uint64_t v);
uint64_t chan_get_u64(const uint8_t *b);

#endif
