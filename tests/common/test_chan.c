/* Unit tests for common/chan.c: header codec, incremental reader (partial
 * feeds, several frames in one buffer, malformed frames) and the blocking
 * helpers over a socketpair. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "chan.h"

static size_t put_frame(uint8_t *out, uint8_t type, const void *p, uint32_t len)
{
	chan_hdr_encode(out, type, len);
	memcpy(out + CHAN_HDR_LEN, p, len);
	return CHAN_HDR_LEN + len;
}

static void test_hdr_roundtrip(void **state)
{
	uint8_t b[CHAN_HDR_LEN];
	struct chan_hdr h;

	chan_hdr_encode(b, CHAN_STDOUT, 0x01020304 & 0xffff);
	assert_int_equal(b[0], 'O');
	assert_int_equal(b[1], 'V');
	assert_int_equal(chan_hdr_decode(b, &h), 0);
	assert_int_equal(h.type, CHAN_STDOUT);
	assert_int_equal(h.len, 0x0304);
	assert_string_equal(chan_type_name(CHAN_EXITED), "EXITED");
	assert_string_equal(chan_type_name(0), "UNKNOWN");
	assert_string_equal(chan_type_name(99), "UNKNOWN");
}

/* Protocol 3: the new types decode, u64 payload fields are little-endian. */
static void test_protocol3(void **state)
{
	uint8_t b[CHAN_HDR_LEN], u[8];
	struct chan_hdr h;

	for (int t = CHAN_OUT_ACK; t <= CHAN_RESUMED; t++) {
		chan_hdr_encode(b, (uint8_t)t, CHAN_RESUME_LEN);
		assert_int_equal(chan_hdr_decode(b, &h), 0);
		assert_int_equal(h.type, t);
	}
	assert_string_equal(chan_type_name(CHAN_OUT_ACK), "OUT_ACK");
	assert_string_equal(chan_type_name(CHAN_RESUME), "RESUME");
	assert_string_equal(chan_type_name(CHAN_RESUMED), "RESUMED");
	chan_put_u64(u, 0x0102030405060708ull);
	assert_int_equal(u[0], 8);
	assert_int_equal(u[7], 1);
	assert_true(chan_get_u64(u) == 0x0102030405060708ull);
	chan_put_u64(u, UINT64_MAX);
	assert_true(chan_get_u64(u) == UINT64_MAX);
}

static void test_hdr_malformed(void **state)
{
	uint8_t b[CHAN_HDR_LEN];
	struct chan_hdr h;

	chan_hdr_encode(b, CHAN_READY, 0);
	b[0] = 'X';
	assert_int_equal(chan_hdr_decode(b, &h), -EPROTO);
	chan_hdr_encode(b, 0, 0);
	assert_int_equal(chan_hdr_decode(b, &h), -EPROTO);
	chan_hdr_encode(b, CHAN_TYPE_MAX + 1, 0);
	assert_int_equal(chan_hdr_decode(b, &h), -EPROTO);
	chan_hdr_encode(b, CHAN_STDIN, CHAN_MAX_PAYLOAD + 1);
	assert_int_equal(chan_hdr_decode(b, &h), -EPROTO);
	chan_hdr_encode(b, CHAN_STDIN, CHAN_MAX_PAYLOAD);
	assert_int_equal(chan_hdr_decode(b, &h), 0);
}

/* Feed a stream of three frames one byte at a time. */
static void test_reader_bytewise(void **state)
{
	static struct chan_reader r;
	uint8_t stream[64];
	size_t n = 0, i;
	const uint8_t *p;
	uint32_t len;
	uint8_t type;
	int got = 0;

	n += put_frame(stream + n, CHAN_HELLO, "hi", 2);
	n += put_frame(stream + n, CHAN_READY, "", 0);
	n += put_frame(stream + n, CHAN_STDOUT, "hello\n", 6);
	chan_reader_init(&r);
	for (i = 0; i < n; i++) {
		assert_int_equal(chan_reader_feed(&r, stream + i, 1), 1);
		int rc = chan_reader_next(&r, &type, &p, &len);
		assert_true(rc >= 0);
		if (rc == 0)
			continue;
		if (got == 0) {
			assert_int_equal(type, CHAN_HELLO);
			assert_memory_equal(p, "hi", 2);
		} else if (got == 1) {
			assert_int_equal(type, CHAN_READY);
			assert_int_equal(len, 0);
		} else {
			assert_int_equal(type, CHAN_STDOUT);
			assert_memory_equal(p, "hello\n", 6);
		}
		got++;
	}
	assert_int_equal(got, 3);
	assert_int_equal(chan_reader_next(&r, &type, &p, &len), 0);
}

/* A buffer holding two frames: feed stops at the first frame's end. */
static void test_reader_two_in_one(void **state)
{
	static struct chan_reader r;
	uint8_t stream[64];
	size_t n = 0, k;
	const uint8_t *p;
	uint32_t len;
	uint8_t type;

	n += put_frame(stream + n, CHAN_STDERR, "abc", 3);
	n += put_frame(stream + n, CHAN_EXITED, "\0\0\0\0\3\0\0\0", 8);
	chan_reader_init(&r);
	k = chan_reader_feed(&r, stream, n);
	assert_int_equal(k, CHAN_HDR_LEN + 3);
	assert_int_equal(chan_reader_feed(&r, stream + k, n - k), 0);
	assert_int_equal(chan_reader_next(&r, &type, &p, &len), 1);
	assert_int_equal(type, CHAN_STDERR);
	assert_int_equal(len, 3);
	assert_memory_equal(p, "abc", 3);
	assert_int_equal(chan_reader_feed(&r, stream + k, n - k), n - k);
	assert_int_equal(chan_reader_next(&r, &type, &p, &len), 1);
	assert_int_equal(type, CHAN_EXITED);
	assert_int_equal(len, 8);
	assert_int_equal(p[4], 3);
}

static void expect_proto(const uint8_t hdr[CHAN_HDR_LEN])
{
	static struct chan_reader r;
	const uint8_t *p;
	uint32_t len;
	uint8_t type;

	chan_reader_init(&r);
	/* partial header: not an error yet */
	assert_int_equal(chan_reader_feed(&r, hdr, 5), 5);
	assert_int_equal(chan_reader_next(&r, &type, &p, &len), 0);
	assert_int_equal(chan_reader_feed(&r, hdr + 5, 3), 3);
	assert_int_equal(chan_reader_next(&r, &type, &p, &len), -EPROTO);
	/* the reader takes nothing more after a bad header */
	assert_int_equal(chan_reader_feed(&r, "xxxx", 4), 0);
	assert_int_equal(chan_reader_next(&r, &type, &p, &len), -EPROTO);
}

static void test_reader_malformed(void **state)
{
	uint8_t h[CHAN_HDR_LEN];

	chan_hdr_encode(h, CHAN_STDOUT, 4);
	h[1] = 'W';
	expect_proto(h);
	chan_hdr_encode(h, 77, 4);
	expect_proto(h);
	chan_hdr_encode(h, CHAN_STDOUT, CHAN_MAX_PAYLOAD + 1);
	expect_proto(h);
	chan_hdr_encode(h, CHAN_STDOUT, 0xffffffffu);
	expect_proto(h);
}

/* Largest frame through the reader in uneven chunks. */
static void test_reader_max_payload(void **state)
{
	static struct chan_reader r;
	static uint8_t stream[CHAN_HDR_LEN + CHAN_MAX_PAYLOAD];
	const uint8_t *p;
	uint32_t len;
	uint8_t type;
	size_t off = 0;

	for (size_t i = 0; i < CHAN_MAX_PAYLOAD; i++)
		stream[CHAN_HDR_LEN + i] = (uint8_t)(i * 7);
	chan_hdr_encode(stream, CHAN_STDIN, CHAN_MAX_PAYLOAD);
	chan_reader_init(&r);
	while (off < sizeof(stream)) {
		size_t chunk = sizeof(stream) - off < 1000 ? sizeof(stream) - off : 1000;
		assert_int_equal(chan_reader_feed(&r, stream + off, chunk), chunk);
		off += chunk;
		if (off < sizeof(stream))
			assert_int_equal(chan_reader_next(&r, &type, &p, &len), 0);
	}
	assert_int_equal(chan_reader_next(&r, &type, &p, &len), 1);
	assert_int_equal(len, CHAN_MAX_PAYLOAD);
	assert_memory_equal(p, stream + CHAN_HDR_LEN, CHAN_MAX_PAYLOAD);
}

static void test_send_recv(void **state)
{
	int sv[2];
	uint8_t buf[CHAN_MAX_PAYLOAD];
	uint32_t len;
	uint8_t type;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(chan_send(sv[0], CHAN_SPEC, "version 1\nend\n", 14), 0);
	assert_int_equal(chan_send(sv[0], CHAN_START, NULL, 0), 0);
	assert_int_equal(chan_send(sv[0], CHAN_STDIN, "x", CHAN_MAX_PAYLOAD + 1), -EINVAL);
	assert_int_equal(chan_recv(sv[1], &type, buf, sizeof(buf), &len), 0);
	assert_int_equal(type, CHAN_SPEC);
	assert_int_equal(len, 14);
	assert_memory_equal(buf, "version 1\nend\n", 14);
	assert_int_equal(chan_recv(sv[1], &type, buf, sizeof(buf), &len), 0);
	assert_int_equal(type, CHAN_START);
	assert_int_equal(len, 0);
	/* too small a buffer, then a truncated stream, then EOF */
	assert_int_equal(chan_send(sv[0], CHAN_LOG, "0123456789", 10), 0);
	assert_int_equal(chan_recv(sv[1], &type, buf, 4, &len), -EMSGSIZE);
	close(sv[0]);
	close(sv[1]);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	uint8_t h[CHAN_HDR_LEN];
	chan_hdr_encode(h, CHAN_STDOUT, 10);
	assert_int_equal(write(sv[0], h, sizeof(h)), (ssize_t)sizeof(h));
	assert_int_equal(write(sv[0], "abc", 3), 3);
	close(sv[0]);
	assert_int_equal(chan_recv(sv[1], &type, buf, sizeof(buf), &len), -EPIPE);
	assert_int_equal(chan_recv(sv[1], &type, buf, sizeof(buf), &len), -EPIPE);
	close(sv[1]);
}

/* A bad magic on the wire is -EPROTO from chan_recv too. */
static void test_recv_bad_magic(void **state)
{
	int sv[2];
	uint8_t buf[16];
	uint32_t len;
	uint8_t type;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[0], "GARBAGE!", 8), 8);
	assert_int_equal(chan_recv(sv[1], &type, buf, sizeof(buf), &len), -EPROTO);
	close(sv[0]);
	close(sv[1]);
}

/* A non-blocking writer whose peer drains slowly still sends whole frames. */
static void test_send_nonblocking(void **state)
{
	int sv[2];
	static uint8_t big[CHAN_MAX_PAYLOAD], buf[CHAN_MAX_PAYLOAD];
	uint32_t len;
	uint8_t type;

	memset(big, 'z', sizeof(big));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	int sz = 4096;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[1]);
		for (int i = 0; i < 4; i++)
			if (chan_send(sv[0], CHAN_STDOUT, big, sizeof(big)) < 0)
				_exit(1);
		_exit(0);
	}
	close(sv[0]);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(chan_recv(sv[1], &type, buf, sizeof(buf), &len), 0);
		assert_int_equal(len, CHAN_MAX_PAYLOAD);
		assert_memory_equal(buf, big, sizeof(big));
	}
	close(sv[1]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Re-attach resync: the tail of a frame, then whole frames.  The skip stops
 * at the first valid header; a partial header at the end is kept; garbage
 * that looks like a header but has a bad type, stream or length is skipped. */
static void test_sync_skip(void **state)
{
	uint8_t b[256];
	size_t n = 0, tail;

	memcpy(b, "ne 14\n", 6);   /* the end of a STDOUT frame "line 14\n" */
	n = tail = 6;
	n += put_frame(b + n, CHAN_STDOUT, "line 15\n", 8);
	assert_int_equal(chan_sync_skip(b, n), tail);
	assert_int_equal(chan_sync_skip(b + tail, n - tail), 0);

	/* garbage that starts like a header: bad type, stream, length */
	uint8_t g[64];
	size_t m = 0;
	g[m++] = 'O'; g[m++] = 'V'; g[m++] = 0;                        /* type 0 */
	g[m++] = 'O'; g[m++] = 'V'; g[m++] = CHAN_TYPE_MAX + 1;        /* unknown type */
	g[m++] = 'O'; g[m++] = 'V'; g[m++] = CHAN_STDOUT; g[m++] = 7;  /* proc 7, its len is "OV.." */
	chan_hdr_encode(g + m, CHAN_STDOUT, CHAN_MAX_PAYLOAD + 1);     /* too long */
	m += CHAN_HDR_LEN;
	size_t bad = m;
	m += put_frame(g + m, CHAN_EXITED, "\0\0\0\0\3\0\0\0", 8);
	assert_int_equal(chan_sync_skip(g, m), bad);

	/* a header cut by the end of what was read: its prefix is kept */
	for (size_t k = 1; k < CHAN_HDR_LEN; k++)
		assert_int_equal(chan_sync_skip(b, tail + k), tail);
	/* nothing plausible at all */
	assert_int_equal(chan_sync_skip((const uint8_t *)"xyz", 3), 3);
	assert_int_equal(chan_sync_skip(b, 0), 0);

	/* after the skip, the reader takes the frame */
	struct chan_reader *r = malloc(sizeof(*r));
	const uint8_t *p;
	uint32_t len;
	uint8_t type;
	assert_non_null(r);
	chan_reader_init(r);
	size_t s = chan_sync_skip(b, n);
	assert_int_equal(chan_reader_feed(r, b + s, n - s), n - s);
	assert_int_equal(chan_reader_next(r, &type, &p, &len), 1);
	assert_int_equal(type, CHAN_STDOUT);
	assert_memory_equal(p, "line 15\n", 8);
	free(r);
}

/* Protocol 2: the proc byte travels in every header, is any value, and the
 * reader tells it for each frame, also for frames out of id order. */
static void test_proc_byte(void **state)
{
	uint8_t b[128], h[CHAN_HDR_LEN], type;
	struct chan_hdr hd;
	const uint8_t *p;
	uint32_t len;
	size_t n = 0;
	const uint8_t ids[4] = { 3, 0, 255, 3 };

	chan_hdr_encode_proc(h, CHAN_EXEC, 255, 4);
	assert_int_equal(chan_hdr_decode(h, &hd), 0);
	assert_int_equal(hd.stream, 255);
	assert_int_equal(hd.type, CHAN_EXEC);
	assert_string_equal(chan_type_name(CHAN_EXEC), "EXEC");
	for (int i = 0; i < 4; i++) {
		chan_hdr_encode_proc(b + n, CHAN_STDOUT, ids[i], 1);
		b[n + CHAN_HDR_LEN] = (uint8_t)('a' + i);
		n += CHAN_HDR_LEN + 1;
	}
	assert_int_equal(chan_sync_skip(b, n), 0);   /* a proc byte is no garbage */
	struct chan_reader *r = malloc(sizeof(*r));
	assert_non_null(r);
	chan_reader_init(r);
	size_t off = 0;
	for (int i = 0; i < 4; i++) {
		off += chan_reader_feed(r, b + off, n - off);
		assert_int_equal(chan_reader_next(r, &type, &p, &len), 1);
		assert_int_equal(chan_reader_proc(r), ids[i]);
		assert_int_equal(p[0], 'a' + i);
	}
	free(r);
	/* a type past the last one is still refused whatever the proc byte */
	chan_hdr_encode_proc(h, CHAN_TYPE_MAX + 1, 1, 0);
	assert_int_equal(chan_hdr_decode(h, &hd), -EPROTO);
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(chan_send_proc(sv[0], CHAN_SIGNAL, 9, "\x0f\0\0\0", 4), 0);
	assert_int_equal(read(sv[1], b, sizeof(b)), CHAN_HDR_LEN + 4);
	assert_int_equal(b[3], 9);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hdr_roundtrip),
		cmocka_unit_test(test_hdr_malformed),
		cmocka_unit_test(test_reader_bytewise),
		cmocka_unit_test(test_reader_two_in_one),
		cmocka_unit_test(test_reader_malformed),
		cmocka_unit_test(test_reader_max_payload),
		cmocka_unit_test(test_send_recv),
		cmocka_unit_test(test_recv_bad_magic),
		cmocka_unit_test(test_send_nonblocking),
		cmocka_unit_test(test_sync_skip),
		cmocka_unit_test(test_proc_byte),
		cmocka_unit_test(test_protocol3),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
