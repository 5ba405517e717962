/* ocivm-vmm's seccomp filters against the real device models, as the VMM
 * stacks them (no KVM needed): in a forked child, a vCPU thread under the
 * vCPU filter starts the device (DRIVER_OK: for virtio-net TUNSETOFFLOAD on
 * the tap; the I/O thread, which adds the I/O filter through thread_init);
 * then I/O both ways -- virtio-net: a frame out to the tap and one back in;
 * virtio-blk on each engine (io_uring, sync): write, read back, flush,
 * discard; virtio-console: its client handed over by a thread under the
 * control filter, bytes both ways -- and the main thread tears the device
 * down under the main filter.  A system call of the device's outside its filters kills the
 * child with SIGSYS.  The fake driver's own calls (kicks: an eventfd write;
 * waits: poll on the irqfd) run on the child's unfiltered test thread, as
 * KVM makes them in the kernel for the VMM.  The net case needs root (a tap
 * in a network namespace of the child's own). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/vm/virtio/drv.h"
#include "tests/vm/virtio/ifup.h"
#include "vm/virtio/net.h"
#include "vm/vmm/seccomp.h"

#define TAP "ocsc0"
#define RXQ 0
#define TXQ 1
#define ETYPE 0x88b5
#define WAIT_MS 30000

static const uint8_t mac[6] = { 0x02, 0x00, 0x00, 0xaa, 0xbb, 0x02 };
static struct drv d;

static void io_init(void *ctx)
{
	(void)ctx;
	if (vmm_seccomp_enter(VMM_THREAD_IO) < 0)
		_exit(91);
}

static void *vcpu_setup(void *arg)
{
	uint32_t *status = arg;
	if (vmm_seccomp_enter(VMM_THREAD_VCPU) < 0)
		_exit(92);
	*status = drv_setup(&d, ~0ull, 2, 16);   /* DRIVER_OK on this thread */
	return NULL;
}

static bool ours(const uint8_t *f, ssize_t n, const char *what)
{
	return n >= 14 + (ssize_t)strlen(what) && f[12] == ETYPE >> 8 && f[13] == (ETYPE & 0xff) &&
	       memcmp(f + 14, what, strlen(what)) == 0;
}

/* The child: exit 0, or a step number. */
static int net_under_filters(void)
{
	int fd, ps;
	if (unshare(CLONE_NEWNET) < 0 || net_tap_open(TAP, &fd) < 0 || test_ifup(TAP) < 0)
		return 10;
	ps = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETYPE));
	struct sockaddr_ll a = { .sll_family = AF_PACKET, .sll_protocol = htons(ETYPE),
				 .sll_ifindex = (int)if_nametoindex(TAP), .sll_halen = 6 };
	if (ps < 0 || bind(ps, (struct sockaddr *)&a, sizeof(a)) < 0)
		return 11;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || drv_init(&d, 8 << 20) < 0)
		return 12;
	d.host.thread_init = io_init;
	struct virtio_net_opts o = { .fd = fd, .tap = true };
	memcpy(o.mac, mac, 6);
	if (virtio_net_create(&d.host, 0xd0000000, &o, &d.m) < 0)
		return 13;
	pthread_t t;
	uint32_t status = 0;
	if (pthread_create(&t, NULL, vcpu_setup, &status) != 0 || pthread_join(t, NULL) != 0)
		return 14;
	if (status != 0xf)
		return 15;

	/* TX: the guest's frame on the tap */
	uint64_t b = drv_alloc(&d, 2048, 16);
	uint8_t *p = drv_ptr(&d, b), f[2048];
	memset(p, 0, NET_HDR_LEN + 60);
	memset(p + NET_HDR_LEN, 0xff, 6);
	memcpy(p + NET_HDR_LEN + 6, mac, 6);
	p[NET_HDR_LEN + 12] = ETYPE >> 8;
	p[NET_HDR_LEN + 13] = ETYPE & 0xff;
	memcpy(p + NET_HDR_LEN + 14, "guest-tx", 8);
	struct drv_seg s = { b, NET_HDR_LEN + 60, false };
	drv_add(&d, TXQ, &s, 1, false);
	drv_kick(&d, TXQ);
	ssize_t n;
	struct pollfd pf = { .fd = ps, .events = POLLIN };
	do
		n = poll(&pf, 1, WAIT_MS) == 1 ? recv(ps, f, sizeof(f), 0) : -1;
	while (n > 0 && !ours(f, n, "guest-tx"));
	uint32_t id, len;
	if (n <= 0 || drv_wait_used(&d, TXQ, &id, &len, WAIT_MS) != 1)
		return 16;

	/* RX: a frame from the tap in the guest's buffer */
	uint64_t rb = drv_alloc(&d, 2048, 16);
	struct drv_seg rs = { rb, 2048, true };
	drv_add(&d, RXQ, &rs, 1, false);
	drv_kick(&d, RXQ);
	memcpy(f, mac, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x09", 6);
	f[12] = ETYPE >> 8;
	f[13] = ETYPE & 0xff;
	memcpy(f + 14, "host-rx", 7);
	if (sendto(ps, f, 60, 0, (struct sockaddr *)&a, sizeof(a)) != 60)
		return 17;
	bool seen = false;
	while (!seen && drv_wait_used(&d, RXQ, &id, &len, WAIT_MS) == 1) {
		uint8_t *g = drv_ptr(&d, rb);
		seen = len > NET_HDR_LEN && ours(g + NET_HDR_LEN, len - NET_HDR_LEN, "host-rx");
		if (!seen) {   /* a frame of the host's own: the buffer again */
			drv_add(&d, RXQ, &rs, 1, false);
			drv_kick(&d, RXQ);
		}
	}
	if (!seen)
		return 18;

	/* the main thread's teardown under its filter (the VMM's order) */
	if (vmm_seccomp_enter(VMM_THREAD_MAIN) < 0)
		return 19;
	virtio_mmio_destroy(d.m);
	return 0;
}

/* One request on the blk device: its status byte (0xff: no answer). */
static uint8_t blk_req(uint64_t hdr, uint64_t buf, uint64_t st, uint32_t type, uint64_t sector,
		       uint32_t len, bool dwrite)
{
	uint8_t *h = drv_ptr(&d, hdr);
	memcpy(h, &type, 4);
	memset(h + 4, 0, 4);
	memcpy(h + 8, &sector, 8);
	*(uint8_t *)drv_ptr(&d, st) = 0xff;
	struct drv_seg s[3] = { { hdr, 16, false }, { buf, len, dwrite }, { st, 1, true } };
	struct drv_seg s2[2] = { { hdr, 16, false }, { st, 1, true } };
	len ? drv_add(&d, 0, s, 3, false) : drv_add(&d, 0, s2, 2, false);
	drv_kick(&d, 0);
	uint32_t id, used;
	if (drv_wait_used(&d, 0, &id, &used, WAIT_MS) != 1)
		return 0xff;
	return *(uint8_t *)drv_ptr(&d, st);
}

static int blk_under_filters(bool uring)
{
	char path[] = "/tmp/ocivm-seccomp-dev.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, 1 << 20) < 0)
		return 10;
	close(fd);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || drv_init(&d, 1 << 20) < 0)
		return 12;
	d.host.thread_init = io_init;
	struct virtio_blk_opts o = { .path = path, .serial = "seccomp", .use_io_uring = uring };
	int r = virtio_blk_create(&d.host, 0xd0000000, &o, &d.m);
	unlink(path);
	if (r < 0)
		return 13;
	pthread_t t;
	uint32_t status = 0;
	if (pthread_create(&t, NULL, vcpu_setup, &status) != 0 || pthread_join(t, NULL) != 0)
		return 14;
	if (status != 0xf)
		return 15;
	uint64_t hdr = drv_alloc(&d, 16, 16), buf = drv_alloc(&d, 4096, 4096), st = drv_alloc(&d, 16, 1);
	uint64_t range = drv_alloc(&d, 16, 16);
	memset(drv_ptr(&d, buf), 0x5a, 4096);
	if (blk_req(hdr, buf, st, 1, 8, 4096, false) != 0)          /* OUT */
		return 16;
	memset(drv_ptr(&d, buf), 0, 4096);
	if (blk_req(hdr, buf, st, 0, 8, 4096, true) != 0 || *(uint8_t *)drv_ptr(&d, buf) != 0x5a)
		return 17;                                                /* IN */
	if (blk_req(hdr, 0, st, 4, 0, 0, false) != 0)                 /* FLUSH */
		return 18;
	uint8_t *rg = drv_ptr(&d, range);
	memset(rg, 0, 16);
	rg[0] = 8;    /* sector 8 */
	rg[8] = 8;    /* 8 sectors */
	if (blk_req(hdr, range, st, 11, 0, 16, false) != 0)           /* DISCARD */
		return 19;
	if (vmm_seccomp_enter(VMM_THREAD_MAIN) < 0)
		return 20;
	virtio_mmio_destroy(d.m);
	return 0;
}

/* The control thread hands the console its client, as ocivm-vmm's does. */
static void *control_attach(void *arg)
{
	int *fd = arg;
	if (vmm_seccomp_enter(VMM_THREAD_CONTROL) < 0)
		_exit(93);
	*fd = virtio_console_attach(d.m, *fd);
	return NULL;
}

static int console_under_filters(void)
{
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		return 10;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || drv_init(&d, 1 << 20) < 0)
		return 12;
	d.host.thread_init = io_init;
	struct virtio_console_opts o = { .max_buffered = 4096 };
	if (virtio_console_create(&d.host, 0xd0000000, &o, &d.m) < 0)
		return 13;
	pthread_t t;
	uint32_t status = 0;
	if (pthread_create(&t, NULL, vcpu_setup, &status) != 0 || pthread_join(t, NULL) != 0)
		return 14;
	if (status != 0xf)
		return 15;
	int fd = sp[0];
	if (pthread_create(&t, NULL, control_attach, &fd) != 0 || pthread_join(t, NULL) != 0 || fd != 0)
		return 16;
	/* guest -> host */
	uint64_t b = drv_alloc(&d, 64, 16);
	memcpy(drv_ptr(&d, b), "guest-out", 9);
	struct drv_seg s = { b, 9, false };
	drv_add(&d, 1, &s, 1, false);
	drv_kick(&d, 1);
	char buf[16];
	struct pollfd pf = { .fd = sp[1], .events = POLLIN };
	if (poll(&pf, 1, WAIT_MS) != 1 || read(sp[1], buf, sizeof(buf)) != 9 || memcmp(buf, "guest-out", 9))
		return 17;
	uint32_t id, len;
	if (drv_wait_used(&d, 1, &id, &len, WAIT_MS) != 1)
		return 18;
	/* host -> guest */
	uint64_t rb = drv_alloc(&d, 64, 16);
	struct drv_seg rs = { rb, 64, true };
	drv_add(&d, 0, &rs, 1, false);
	drv_kick(&d, 0);
	if (write(sp[1], "host-in", 7) != 7 || drv_wait_used(&d, 0, &id, &len, WAIT_MS) != 1 ||
	    len != 7 || memcmp(drv_ptr(&d, rb), "host-in", 7))
		return 19;
	if (vmm_seccomp_enter(VMM_THREAD_MAIN) < 0)
		return 20;
	virtio_mmio_destroy(d.m);
	return 0;
}

static void run_child(const char *what, int (*fn)(void))
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn());
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (WIFSIGNALED(st))
		fail_msg("%s under the filters: killed by signal %d%s", what, WTERMSIG(st),
			 WTERMSIG(st) == SIGSYS ? " (a system call outside a filter)" : "");
	if (WEXITSTATUS(st) != 0)
		fail_msg("%s under the filters: failed at step %d", what, WEXITSTATUS(st));
}

static void test_net_under_filters(void **state)
{
	(void)state;
	if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0)
		skip();
	run_child("virtio-net", net_under_filters);
}

static int blk_uring(void) { return blk_under_filters(true); }
static int blk_sync(void) { return blk_under_filters(false); }

static void test_blk_uring_under_filters(void **state)
{
	(void)state;
	run_child("virtio-blk (io_uring)", blk_uring);
}

static void test_blk_sync_under_filters(void **state)
{
	(void)state;
	run_child("virtio-blk (sync engine)", blk_sync);
}

static void test_console_under_filters(void **state)
{
	(void)state;
	run_child("virtio-console", console_under_filters);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_console_under_filters),
		cmocka_unit_test(test_net_under_filters),
		cmocka_unit_test(test_blk_uring_under_filters),
		cmocka_unit_test(test_blk_sync_under_filters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
