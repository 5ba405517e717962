/* virtio_guest_sim CONTROL_SOCKET RW_IMG RO_IMG [CMDLINE [TAP MAC]]: run the
 * guest self-test's virtio checks against the real device models, on the
 * host.  Devices: a console (the echo client attaches through
 * CONTROL_SOCKET with "console\n", like ocivm-vmm's control socket), two
 * disks, and with TAP a NIC of that MAC on a tap made as ocivm-vmm's
 * --net tap=TAP,mac=MAC makes it (net_echo answers on it).  Prints the
 * checks' lines and "N passed, N failed"; exit 1 on a failure. */
#include "vm/selftest/st_host.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vm/virtio/net.h"
#include "vm/virtio/virtio.h"

#define RAM_BYTES (16u << 20)
#define MAXDEV 4

static struct gmem mem;
static uint8_t *ram;
static size_t ram_used;
static const char *cmdline = "";
static struct { uint64_t base; struct virtio_mmio *m; int irqfd; uint64_t count; } dev[MAXDEV];
static int ndev = 3;   /* 4 with a NIC */
static unsigned passed, failed;

bool st_check(const char *name, bool ok, const char *fmt, ...)
{
	va_list ap;
	printf("%s %s: ", ok ? "PASS" : "FAIL", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	ok ? passed++ : failed++;
	return ok;
}

void st_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

bool st_cmdline_value(const char *key, char *buf, size_t len)
{
	size_t n = strlen(key);
	for (const char *p = cmdline; (p = strstr(p, key)); p += n) {
		if ((p != cmdline && p[-1] != ' ') || p[n] != '=')
			continue;
		size_t vlen = strcspn(p + n + 1, " ");
		if (vlen + 1 > len)
			return false;
		memcpy(buf, p + n + 1, vlen);
		buf[vlen] = '\0';
		return true;
	}
	return false;
}

bool st_cmdline_u64(const char *key, uint64_t *ret)
{
	const char *p = strstr(cmdline, key);
	size_t n = strlen(key);
	if (!p || p[n] != '=')
		return false;
	*ret = strtoull(p + n + 1, NULL, 0);
	return true;
}

static int find_dev(uint64_t a)
{
	for (int i = 0; i < ndev; i++)
		if (dev[i].m && a >= dev[i].base && a < dev[i].base + VIRTIO_MMIO_WINDOW)
			return i;
	return -1;
}

uint32_t sim_mmio_read(uint64_t a, unsigned len)
{
	uint32_t v = 0;
	int i = find_dev(a);
	if (i >= 0)
		virtio_mmio_read(dev[i].m, a - dev[i].base, &v, len);
	return v;
}

void sim_mmio_write(uint64_t a, uint32_t v, unsigned len)
{
	int i = find_dev(a);
	if (i >= 0)
		virtio_mmio_write(dev[i].m, a - dev[i].base, &v, len);
}

int st_irq_enable(unsigned gsi) { return gsi < (unsigned)ndev ? 0 : -1; }

static void irq_take(unsigned gsi, int timeout_ms)
{
	struct pollfd p = { .fd = dev[gsi].irqfd, .events = POLLIN };
	uint64_t n;
	if (poll(&p, 1, timeout_ms) > 0 && read(dev[gsi].irqfd, &n, 8) == 8)
		dev[gsi].count += n;
}

uint64_t st_irq_count(unsigned gsi)
{
	irq_take(gsi, 0);
	return dev[gsi].count;
}

uint64_t st_now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000 + (uint64_t)t.tv_nsec / 1000;
}

bool st_irq_wait(unsigned gsi, uint64_t target, unsigned timeout_ms)
{
	uint64_t end = st_now_us() + 1000ull * timeout_ms;
	while (dev[gsi].count < target && st_now_us() < end)
		irq_take(gsi, 1);
	return dev[gsi].count >= target;
}

void *st_alloc_pages(size_t npages)
{
	size_t n = npages * ST_PAGE_SIZE;
	if (n > RAM_BYTES - ram_used)
		return NULL;
	void *p = ram + ram_used;
	ram_used += n;
	return p;
}

/* The control socket: one client, "console\n", then the stream. */
static void *control_thread(void *arg)
{
	int lfd = (int)(intptr_t)arg;
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	char req[8];
	if (fd >= 0 && recv(fd, req, 8, MSG_WAITALL) == 8 && !memcmp(req, "console\n", 8))
		virtio_console_attach(dev[0].m, fd);
	else if (fd >= 0)
		close(fd);
	return NULL;
}

static int listen_on(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1) < 0)
		return -1;
	return fd;
}

static int make_devices(const char *rw, const char *ro, const char *tap, const char *mac)
{
	static struct virtio_host host[MAXDEV];
	ndev = tap ? 4 : 3;
	for (int i = 0; i < ndev; i++) {
		dev[i].base = 0xd0000000ull + 0x1000ull * i;
		dev[i].irqfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		host[i] = (struct virtio_host){ .mem = &mem, .irqfd = dev[i].irqfd };
	}
	struct virtio_console_opts co = { .max_buffered = 65536 };
	struct virtio_blk_opts b1 = { .path = rw, .serial = "ocivm-st-rw", .use_io_uring = true };
	struct virtio_blk_opts b2 = { .path = ro, .readonly = true, .serial = "ocivm-st-ro",
				      .use_io_uring = true };
	int r = virtio_console_create(&host[0], dev[0].base, &co, &dev[0].m);
	if (r == 0)
		r = virtio_blk_create(&host[1], dev[1].base, &b1, &dev[1].m);
	if (r == 0)
		r = virtio_blk_create(&host[2], dev[2].base, &b2, &dev[2].m);
	if (r == 0 && tap) {
		struct virtio_net_opts no = { .fd = -1, .tap = true };
		r = net_parse_mac(mac, no.mac);
		if (r == 0)
			r = net_tap_open(tap, &no.fd);
		if (r == 0)
			r = virtio_net_create(&host[3], dev[3].base, &no, &dev[3].m);
	}
	return r;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: virtio_guest_sim CONTROL_SOCKET RW_IMG RO_IMG [CMDLINE [TAP MAC]]\n");
		return 2;
	}
	cmdline = argc > 4 ? argv[4] : "";
	ram = aligned_alloc(ST_PAGE_SIZE, RAM_BYTES);
	memset(ram, 0, RAM_BYTES);
	mem = (struct gmem){ .n = 1, .r = { { (uint64_t)(uintptr_t)ram, RAM_BYTES, ram } } };
	int r = make_devices(argv[2], argv[3], argc > 6 ? argv[5] : NULL, argc > 6 ? argv[6] : NULL);
	if (r < 0) {
		fprintf(stderr, "virtio_guest_sim: devices: %s\n", strerror(-r));
		return 1;
	}
	int lfd = listen_on(argv[1]);
	pthread_t t;
	if (lfd < 0 || pthread_create(&t, NULL, control_thread, (void *)(intptr_t)lfd)) {
		perror("virtio_guest_sim: control socket");
		return 1;
	}
	struct st_env env = { .cmdline = cmdline, .n_virtio = (unsigned)ndev };
	for (int i = 0; i < ndev; i++)
		env.virtio[i] = (struct st_virtio_dev){ dev[i].base, VIRTIO_MMIO_WINDOW, (uint32_t)i, (uint32_t)i };
	st_virtio_checks(&env);
	for (int i = 0; i < ndev; i++)
		virtio_mmio_destroy(dev[i].m);   /* closes the console client: echo ends */
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
