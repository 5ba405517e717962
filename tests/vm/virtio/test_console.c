/* virtio-console with a socketpair as the host client: both directions,
 * bounded buffering while no client is attached (back-pressure), client
 * replacement and hang-up. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/vm/virtio/drv.h"

#define CAP 4096

static int setup(void **state)
{
	struct drv *d = calloc(1, sizeof(*d));
	assert_int_equal(drv_init(d, 1 << 20), 0);
	struct virtio_console_opts o = { .max_buffered = CAP };
	assert_int_equal(virtio_console_create(&d->host, 0xd0000000, &o, &d->m), 0);
	assert_int_equal(drv_setup(d, ~0ull, 2, 16), 0xf);
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	drv_fini(*state);
	free(*state);
	return 0;
}

static int client(struct drv *d)
{
	int sp[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	assert_int_equal(virtio_console_attach(d->m, sp[0]), 0);
	return sp[1];
}

static void guest_tx(struct drv *d, const void *data, uint32_t len)
{
	uint64_t b = drv_alloc(d, len, 16);
	memcpy(drv_ptr(d, b), data, len);
	struct drv_seg s = { b, len, false };
	drv_add(d, 1, &s, 1, false);
	drv_kick(d, 1);
}

static uint64_t guest_rx_buf(struct drv *d, uint32_t len)
{
	uint64_t b = drv_alloc(d, len, 16);
	struct drv_seg s = { b, len, true };
	drv_add(d, 0, &s, 1, false);
	drv_kick(d, 0);
	return b;
}

static size_t read_exact_timeout(int fd, void *buf, size_t len, int ms)
{
	size_t got = 0;
	while (got < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, ms) <= 0)
			break;
		ssize_t n = read(fd, (char *)buf + got, len - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

static void test_tx_to_host(void **state)
{
	struct drv *d = *state;
	int fd = client(d);
	guest_tx(d, "hello ", 6);
	guest_tx(d, "world\n", 6);
	char buf[16] = { 0 };
	assert_int_equal(read_exact_timeout(fd, buf, 12, 5000), 12);
	assert_string_equal(buf, "hello world\n");
	uint32_t id, len;
	assert_int_equal(drv_wait_used(d, 1, &id, &len, 5000), 1);
	assert_int_equal(len, 0);
	close(fd);
}

static void test_rx_from_host(void **state)
{
	struct drv *d = *state;
	int fd = client(d);
	/* data before any buffer: waits for the guest */
	assert_int_equal(write(fd, "ping", 4), 4);
	usleep(20000);
	uint64_t b = guest_rx_buf(d, 64);
	uint32_t id, len;
	assert_int_equal(drv_wait_used(d, 0, &id, &len, 5000), 1);
	assert_int_equal(len, 4);
	assert_memory_equal(drv_ptr(d, b), "ping", 4);
	/* buffer before data */
	b = guest_rx_buf(d, 64);
	usleep(20000);
	assert_int_equal(drv_used(d, 0, &id, &len), 0);
	assert_int_equal(write(fd, "pong!", 5), 5);
	assert_int_equal(drv_wait_used(d, 0, &id, &len, 5000), 1);
	assert_int_equal(len, 5);
	assert_memory_equal(drv_ptr(d, b), "pong!", 5);
	close(fd);
}

static void test_backpressure_without_client(void **state)
{
	struct drv *d = *state;
	static char chunk[3][2048];
	for (int i = 0; i < 3; i++) {
		memset(chunk[i], 'a' + i, sizeof(chunk[i]));
		guest_tx(d, chunk[i], sizeof(chunk[i]));
	}
	uint32_t id, len;
	assert_int_equal(drv_wait_used(d, 1, &id, &len, 5000), 1);
	assert_int_equal(drv_wait_used(d, 1, &id, &len, 5000), 1);
	/* the buffer (4096) is full: the third chain is not taken */
	assert_int_equal(drv_wait_used(d, 1, &id, &len, 200), 0);
	int fd = client(d);
	static char got[3 * 2048];
	assert_int_equal(read_exact_timeout(fd, got, sizeof(got), 5000), sizeof(got));
	for (int i = 0; i < 3; i++)
		assert_memory_equal(got + 2048 * i, chunk[i], 2048);
	assert_int_equal(drv_wait_used(d, 1, &id, &len, 5000), 1);
	close(fd);
}

static void test_client_replaced(void **state)
{
	struct drv *d = *state;
	int a = client(d);
	int b = client(d);
	char c;
	assert_int_equal(read_exact_timeout(a, &c, 1, 5000), 0);   /* EOF: closed */
	guest_tx(d, "x", 1);
	assert_int_equal(read_exact_timeout(b, &c, 1, 5000), 1);
	assert_int_equal(c, 'x');
	close(a);
	close(b);
}

static void test_client_hangup(void **state)
{
	struct drv *d = *state;
	int a = client(d);
	close(a);
	usleep(20000);
	guest_tx(d, "after", 5);   /* no crash, no SIGPIPE: buffered */
	uint32_t id, len;
	assert_int_equal(drv_wait_used(d, 1, &id, &len, 5000), 1);
	int b = client(d);
	char buf[5];
	assert_int_equal(read_exact_timeout(b, buf, 5, 5000), 5);
	assert_memory_equal(buf, "after", 5);
	close(b);
}

static void test_rx_chain_without_room(void **state)
{
	struct drv *d = *state;
	int fd = client(d);
	assert_int_equal(write(fd, "data", 4), 4);
	uint64_t b = drv_alloc(d, 16, 16);
	struct drv_seg s = { b, 16, false };   /* device-readable: useless for RX */
	drv_add(d, 0, &s, 1, false);
	drv_kick(d, 0);
	uint32_t id, len;
	assert_int_equal(drv_wait_used(d, 0, &id, &len, 5000), 1);
	assert_int_equal(len, 0);
	b = guest_rx_buf(d, 16);   /* the client is still there */
	assert_int_equal(drv_wait_used(d, 0, &id, &len, 5000), 1);
	assert_int_equal(len, 4);
	assert_memory_equal(drv_ptr(d, b), "data", 4);
	close(fd);
}

static void test_attach_errors(void **state)
{
	struct drv *d = *state;
	assert_int_equal(virtio_console_attach(d->m, -1), -EINVAL);
	assert_int_equal(virtio_console_attach(d->m, 9999), -EBADF);
}

/* A client with input pending while the RX queue is dead (here: broken by
 * an avail-index jump) must not make the I/O thread spin on POLLIN. */
static void test_rx_dead_queue_does_not_spin(void **state)
{
	struct drv *d = *state;
	int fd = client(d);
	uint16_t *avail = drv_ptr(d, d->q[0].avail);
	avail[1] = 100;   /* more than num (16) ahead: the queue breaks */
	d->q[0].avail_idx = 100;   /* else an EVENT_IDX driver may suppress the kick */
	drv_kick(d, 0);
	drv_wait_reg(d, 0x70, 64);
	assert_true(drv_rd(d, 0x70) & 64);   /* NEEDS_RESET */
	assert_int_equal(write(fd, "data", 4), 4);
	usleep(20000);
	struct timespec a, b;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	usleep(300 * 1000);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	double ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
	if (ms > 100)
		fail_msg("console thread busy for %.0f ms of 300 ms", ms);
	guest_tx(d, "tx", 2);   /* the other direction still works */
	char buf[2];
	assert_int_equal(read_exact_timeout(fd, buf, 2, 5000), 2);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
		T(test_tx_to_host), T(test_rx_from_host), T(test_backpressure_without_client),
		T(test_client_replaced), T(test_client_hangup), T(test_rx_chain_without_room),
		T(test_attach_errors), T(test_rx_dead_queue_does_not_spin),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
