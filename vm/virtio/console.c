/* virtio-console (device id 3), one port, no MULTIPORT: the guest's
 * /dev/hvc0.  Queue 0 = receiveq (host -> guest), 1 = transmitq.
 *
 * The host side is one attached stream fd (non-blocking).  Guest output goes
 * through a bounded ring buffer: with no client (or a slow one) it keeps up
 * to max_buffered bytes and then stops taking TX buffers, so the guest blocks
 * instead of the VMM growing.  A new client replaces the old one. */
#include "vm/virtio/virtio.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "vm/virtio/vdev.h"

#define CON_DEFAULT_BUFFER (1u << 20)
#define CON_MIN_BUFFER 4096u
#define RXQ 0
#define TXQ 1

struct vconsole {
	struct vdev *v;
	pthread_t thread;
	bool running;
	int stop_fd, wake_fd;
	pthread_mutex_t lock;   /* guards pending */
	int pending;            /* fd handed over by attach, not yet taken */
	int client;             /* owned by the I/O thread while it runs */
	/* guest output not yet written to the client */
	uint8_t *buf;
	size_t cap, head, len;
	/* a TX chain only partly copied into buf */
	struct virtq_chain held;
	size_t held_off;
	bool holding;
	bool rx_starved;        /* guest gave no RX buffers: don't read client */
	bool signal;            /* used entries published that want an IRQ */
};

static void drop_client(struct vconsole *c)
{
	if (c->client >= 0)
		close(c->client);
	c->client = -1;
}

static void take_pending(struct vconsole *c)
{
	pthread_mutex_lock(&c->lock);
	int fd = c->pending;
	c->pending = -1;
	pthread_mutex_unlock(&c->lock);
	if (fd >= 0) {
		drop_client(c);
		c->client = fd;
		c->rx_starved = false;
	}
}

static bool queue_live(struct vconsole *c, unsigned i)
{
	struct virtq *q = &c->v->q[i];
	return q->ready && q->desc && !q->broken;
}

/* Copy the held chain's readable bytes into buf as far as they fit. */
static bool fill_from_held(struct vconsole *c)
{
	struct virtq_chain *h = &c->held;
	while (c->held_off < h->read_len && c->len < c->cap) {
		size_t tail = (c->head + c->len) % c->cap;
		size_t room = tail < c->head ? c->head - tail : c->cap - tail;
		size_t want = h->read_len - c->held_off;
		size_t got = virtq_chain_read(h, c->held_off, c->buf + tail, want < room ? want : room);
		c->held_off += got;
		c->len += got;
		if (got == 0)
			break;
	}
	if (c->held_off < h->read_len)
		return false;
	virtq_push(&c->v->q[TXQ], h->head, 0);
	c->holding = false;
	return true;
}

/* Move guest output from the TX queue into buf while there is room. */
static bool tx_work(struct vconsole *c)
{
	bool did = false;
	if (!queue_live(c, TXQ))
		return false;
	for (;;) {
		if (!c->holding) {
			if (c->len == c->cap)
				break;
			int r = virtq_pop(&c->v->q[TXQ], &c->held);
			if (r < 0)
				vdev_fail(c->v);
			if (r <= 0)
				break;
			c->holding = true;
			c->held_off = 0;
		}
		if (!fill_from_held(c))
			break;
		did = true;
	}
	return did;
}

/* Write buffered output to the client; false when nothing moved. */
static bool flush_out(struct vconsole *c)
{
	bool did = false;
	while (c->len && c->client >= 0) {
		size_t n = c->head + c->len <= c->cap ? c->len : c->cap - c->head;
		ssize_t w = send(c->client, c->buf + c->head, n, MSG_NOSIGNAL);
		if (w < 0 && errno == ENOTSOCK)
			w = write(c->client, c->buf + c->head, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (w <= 0) {
			drop_client(c);
			break;
		}
		c->head = (c->head + (size_t)w) % c->cap;
		c->len -= (size_t)w;
		did = true;
	}
	if (c->len == 0)
		c->head = 0;
	return did;
}

static ssize_t read_into_chain(int fd, const struct virtq_chain *ch)
{
	struct iovec iov[VIRTQ_CHAIN_MAX];
	int n = 0;
	for (unsigned i = ch->n_read; i < ch->n; i++)
		iov[n++] = (struct iovec){ ch->seg[i].p, ch->seg[i].len };
	return readv(fd, iov, n);
}

/* Host input into RX buffers until the client has nothing more. */
static bool rx_work(struct vconsole *c)
{
	bool did = false;
	struct virtq_chain local, *ch = &local;
	if (!queue_live(c, RXQ))
		c->rx_starved = true;   /* not set up or broken: stop polling the client's input */
	while (c->client >= 0 && !c->rx_starved) {
		int r = virtq_pop(&c->v->q[RXQ], ch);
		if (r < 0)
			vdev_fail(c->v);
		if (r == 0)
			c->rx_starved = true;
		if (r <= 0)
			break;
		if (ch->write_len == 0) {   /* nothing to fill: hand it back */
			virtq_push(&c->v->q[RXQ], ch->head, 0);
			did = true;
			continue;
		}
		ssize_t n = read_into_chain(c->client, ch);
		if (n > 0) {
			virtq_push(&c->v->q[RXQ], ch->head, (uint32_t)n);
			did = true;
			continue;
		}
		virtq_unpop(&c->v->q[RXQ]);
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
			drop_client(c);
		break;
	}
	return did;
}

static void publish(struct vconsole *c)
{
	bool irq = false;
	for (unsigned i = 0; i < 2; i++)
		if (queue_live(c, i) && virtq_publish(&c->v->q[i]))
			irq = true;
	if (irq)
		vdev_signal(c->v);
}

static bool rearm(struct vconsole *c)
{
	bool more = false;
	/* report only what can make progress now, or we would spin */
	if (queue_live(c, TXQ) && virtq_enable_notify(&c->v->q[TXQ]) &&
	    !c->holding && c->len < c->cap)
		more = true;
	if (queue_live(c, RXQ) && virtq_enable_notify(&c->v->q[RXQ]) &&
	    c->rx_starved && c->client >= 0) {
		c->rx_starved = false;
		more = true;
	}
	return more;
}

static void drain(int fd)
{
	uint64_t junk;
	while (read(fd, &junk, sizeof(junk)) > 0)
		;
}

/* poll set: 0 stop, 1 wake, 2 rx kick, 3 tx kick, 4 client */
static bool wait_events(struct vconsole *c)
{
	struct pollfd p[5] = {
		{ .fd = c->stop_fd, .events = POLLIN }, { .fd = c->wake_fd, .events = POLLIN },
		{ .fd = c->v->kick[RXQ], .events = POLLIN }, { .fd = c->v->kick[TXQ], .events = POLLIN },
		{ .fd = c->client, .events = 0 },
	};
	if (!c->rx_starved)
		p[4].events |= POLLIN;
	if (c->len)
		p[4].events |= POLLOUT;
	if (poll(p, 5, -1) < 0)
		return errno == EINTR;
	if (p[0].revents)
		return false;
	if (p[1].revents)
		drain(c->wake_fd);
	if (p[2].revents) {
		drain(p[2].fd);
		c->rx_starved = false;
	}
	if (p[3].revents)
		drain(p[3].fd);
	if ((p[4].revents & (POLLHUP | POLLERR)) && !(p[4].revents & POLLIN))
		drop_client(c);
	return true;
}

static void *console_thread(void *arg)
{
	struct vconsole *c = arg;
	vdev_thread_init(c->v);
	do {
		take_pending(c);
		bool more;
		do {
			more = tx_work(c);
			more |= flush_out(c);
			more |= rx_work(c);
			publish(c);
		} while (more || rearm(c));
	} while (wait_events(c));
	return NULL;
}

static int console_start(void *dev, struct vdev *v)
{
	struct vconsole *c = dev;
	c->v = v;
	c->holding = false;
	c->rx_starved = false;
	drain(c->stop_fd);
	int r = pthread_create(&c->thread, NULL, console_thread, c);
	if (r)
		return -r;
	c->running = true;
	return 0;
}

static void console_stop(void *dev)
{
	struct vconsole *c = dev;
	uint64_t one = 1;
	if (!c->running)
		return;
	if (write(c->stop_fd, &one, sizeof(one)) < 0) {
		/* cannot fail on a fresh counter */
	}
	pthread_join(c->thread, NULL);
	c->running = false;
	c->holding = false;   /* the chain belongs to the reset ring */
}

static void console_destroy(void *dev)
{
	struct vconsole *c = dev;
	if (!c)
		return;
	console_stop(c);
	if (c->pending >= 0)
		close(c->pending);
	drop_client(c);
	if (c->stop_fd >= 0)
		close(c->stop_fd);
	if (c->wake_fd >= 0)
		close(c->wake_fd);
	pthread_mutex_destroy(&c->lock);
	free(c->buf);
	free(c);
}

static void console_config_read(void *dev, uint64_t off, void *data, unsigned len)
{
	/* cols, rows, max_nr_ports, emerg_wr: no SIZE/MULTIPORT, all zero */
}

static const struct vdev_ops console_ops = {
	.device_id = 3,
	.features = (1ull << VIRTIO_F_EVENT_IDX) | (1ull << VIRTIO_F_INDIRECT_DESC),
	.nqueues = 2,
	.config_read = console_config_read,
	.start = console_start,
	.stop = console_stop,
	.destroy = console_destroy,
};

int virtio_console_create(const struct virtio_host *host, uint64_t base,
			  const struct virtio_console_opts *opts, struct virtio_mmio **ret)
{
	struct vconsole *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	c->pending = c->client = -1;
	c->cap = opts && opts->max_buffered ? opts->max_buffered : CON_DEFAULT_BUFFER;
	if (c->cap < CON_MIN_BUFFER)
		c->cap = CON_MIN_BUFFER;
	c->buf = malloc(c->cap);
	c->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	c->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	int r = !c->buf || c->stop_fd < 0 || c->wake_fd < 0 ? -ENOMEM : 0;
	if (r == 0)
		r = virtio_mmio_new(host, base, &console_ops, c, ret);
	if (r < 0)
		console_destroy(c);
	return r;
}

int virtio_console_attach(struct virtio_mmio *console, int fd)
{
	struct vconsole *c = virtio_mmio_device(console, 3);
	uint64_t one = 1;
	if (!c || fd < 0)
		return -EINVAL;
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	pthread_mutex_lock(&c->lock);
	int old = c->pending;
	c->pending = fd;
	pthread_mutex_unlock(&c->lock);
	if (old >= 0)
		close(old);
	if (write(c->wake_fd, &one, sizeof(one)) < 0) {
		/* saturated: a wake is pending anyway */
	}
	return 0;
}
