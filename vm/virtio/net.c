/* virtio-net (device id 1) over a tap.  Queue 0 = receiveq (host -> guest),
 * 1 = transmitq; no control queue, no multiqueue.  One I/O thread polls
 * {stop, RX kick, TX kick, tap}; nothing runs on vCPU threads but the
 * register model and, at DRIVER_OK, TUNSETOFFLOAD.  Per round: up to
 * NET_BUDGET frames each way, then the used rings are published and the
 * irqfd written once if EVENT_IDX asks for it.  The ring logic (checks, RX
 * buffer merging) is net_ring.c.
 *
 * The link: up at creation; when the tap goes away (deleted interface:
 * EBADFD / POLLERR; a socket peer that hung up) it goes down for good, the
 * config space says so (configuration-change interrupt), TX frames are
 * consumed and dropped so the guest never stalls, and the VM goes on. */
#include "vm/virtio/net.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vm/virtio/vdev.h"

#define RXQ 0
#define TXQ 1
#define NET_BUDGET 64
/* A deleted tap wakes a poller before it detaches the fd, so poll may never
 * report it: while idle, once a second an empty write asks the tap (EINVAL
 * while attached: nothing is sent; EBADFD once the interface is gone). */
#define NET_PROBE_MS 1000

struct vnet {
	struct vdev *v;
	int fd;
	bool tap;
	uint8_t mac[6];
	uint16_t status;          /* atomic: VIRTIO_NET_S_LINK_UP */
	pthread_t thread;
	bool running;
	int stop_fd;
	uint8_t *bounce;
	struct net_rx rx;
	uint32_t rx_pending;      /* bytes of the held packet */
	struct virtq_chain tx;
	struct iovec txiov[VIRTQ_CHAIN_MAX];
	bool tx_blocked;          /* the backend said EAGAIN: wait for POLLOUT */
	bool rx_starved;          /* no RX buffers: wait for a kick */
	struct net_stats st;
};

static bool live(struct vnet *n, unsigned i)
{
	struct virtq *q = &n->v->q[i];
	return q->ready && q->desc && !q->broken;
}

static bool link_up(struct vnet *n)
{
	return __atomic_load_n(&n->status, __ATOMIC_ACQUIRE) & VIRTIO_NET_S_LINK_UP;
}

static void link_down(struct vnet *n, int e)
{
	if (!link_up(n))
		return;
	n->st.link_errno = e;
	__atomic_store_n(&n->status, 0, __ATOMIC_RELEASE);
	vdev_config_changed(n->v);
}

/* A write error that means the tap (or the socket's peer) is gone, not
 * that the kernel refused this one frame. */
static bool backend_gone(int e)
{
	return e == EBADFD || e == EBADF || e == EPIPE || e == ECONNRESET ||
	       e == ECONNREFUSED || e == ENOTCONN || e == ENXIO || e == ENODEV;
}

static void tx_one(struct vnet *n, struct virtq *q)
{
	int niov;
	if (net_tx_iov(&n->tx, n->v->features, n->txiov, &niov) < 0) {
		n->st.tx_errors++;
	} else if (!link_up(n)) {
		n->st.tx_dropped++;
	} else {
		ssize_t w = writev(n->fd, n->txiov, niov);
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
			n->tx_blocked = errno != EINTR;
			virtq_unpop(q);
			return;
		}
		if (w < 0 && backend_gone(errno)) {
			link_down(n, errno);
			n->st.tx_dropped++;
		} else if (w < 0) {
			n->st.tx_errors++;   /* the kernel refused this frame */
		} else {
			n->st.tx_packets++;
			n->st.tx_bytes += (uint64_t)w - NET_HDR_LEN;
		}
	}
	virtq_push(q, n->tx.head, 0);
}

/* Guest frames to the backend; true when the budget ran out (more to do). */
static bool tx_work(struct vnet *n)
{
	struct virtq *q = &n->v->q[TXQ];
	if (!live(n, TXQ) || n->tx_blocked)
		return false;
	virtq_disable_notify(q);
	for (int i = 0; i < NET_BUDGET; i++) {
		int p = virtq_pop(q, &n->tx);
		if (p < 0)
			vdev_fail(n->v);
		if (p <= 0)
			return false;
		tx_one(n, q);
		if (n->tx_blocked)
			return false;
	}
	return true;
}

/* Account an RX result; false when the device cannot go on receiving now. */
static bool rx_result(struct vnet *n, int res, size_t bytes)
{
	switch (res) {
	case 1:
		n->st.rx_packets++;
		n->st.rx_bytes += bytes;
		return true;
	case 2:
		n->rx_pending = (uint32_t)bytes;
		n->rx_starved = true;
		return false;
	case 0:
		n->st.rx_dropped++;
		return true;
	default:
		vdev_fail(n->v);
		return false;
	}
}

/* One backend read into the next RX buffers; false when nothing more now. */
static bool rx_one(struct vnet *n)
{
	const struct iovec *iov;
	int niov, p = net_rx_prepare(&n->rx, &iov, &niov);

	if (p <= 0) {
		if (p < 0)
			vdev_fail(n->v);
		n->rx_starved = p == 0;
		return false;
	}
	ssize_t got = readv(n->fd, iov, niov);
	if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return false;
	if (got < 0 && errno == EINTR)
		return true;
	if (got < 0 && errno == EFAULT) {   /* tap: frame larger than the buffers */
		n->st.rx_dropped++;
		return true;
	}
	if (got <= 0) {
		link_down(n, got == 0 ? EPIPE : errno);
		return false;
	}
	return rx_result(n, net_rx_complete(&n->rx, (size_t)got), (size_t)got - NET_HDR_LEN);
}

/* Backend frames to the guest; true when the budget ran out. */
static bool rx_work(struct vnet *n)
{
	if (!live(n, RXQ)) {
		n->rx_starved = true;
		return false;
	}
	if (n->rx_starved)
		return false;
	virtq_disable_notify(&n->v->q[RXQ]);
	for (int i = 0; i < NET_BUDGET; i++) {
		bool go_on;
		if (n->rx.holding)
			go_on = rx_result(n, net_rx_continue(&n->rx), n->rx_pending);
		else
			go_on = link_up(n) && rx_one(n);
		if (!go_on)
			return false;
	}
	return true;
}

static void publish(struct vnet *n)
{
	bool irq = false;
	for (unsigned i = 0; i < 2; i++)
		if (live(n, i) && virtq_publish(&n->v->q[i]))
			irq = true;
	if (irq) {
		vdev_signal(n->v);
		n->st.irqs++;
	}
}

/* Notifications back on; true when chains came meanwhile (go on). */
static bool rearm(struct vnet *n)
{
	bool more = false;
	if (live(n, TXQ) && !n->tx_blocked && virtq_enable_notify(&n->v->q[TXQ]))
		more = true;
	if (live(n, RXQ) && n->rx_starved && virtq_enable_notify(&n->v->q[RXQ])) {
		n->rx_starved = false;
		more = true;
	}
	return more;
}

static void drain(int fd)
{
	uint64_t junk;
	if (read(fd, &junk, sizeof(junk)) < 0) {
		/* EAGAIN: already empty */
	}
}

/* poll set: 0 stop, 1 RX kick, 2 TX kick, 3 backend */
static bool wait_events(struct vnet *n)
{
	short ev = 0;
	if (link_up(n) && !n->rx_starved && !n->rx.holding)
		ev |= POLLIN;
	if (n->tx_blocked)
		ev |= POLLOUT;
	struct pollfd p[4] = {
		{ .fd = n->stop_fd, .events = POLLIN },
		{ .fd = n->v->kick[RXQ], .events = POLLIN },
		{ .fd = n->v->kick[TXQ], .events = POLLIN },
		{ .fd = link_up(n) ? n->fd : -1, .events = ev },
	};
	int r = poll(p, 4, n->tap && link_up(n) ? NET_PROBE_MS : -1);
	if (r < 0)
		return errno == EINTR;
	if (r == 0 && write(n->fd, "", 0) < 0 && errno == EBADFD)
		link_down(n, EBADFD);   /* the tap was deleted (see NET_PROBE_MS) */
	if (p[0].revents)
		return false;
	if (p[1].revents) {
		drain(p[1].fd);
		n->rx_starved = false;
		n->st.kicks++;
	}
	if (p[2].revents) {
		drain(p[2].fd);
		n->st.kicks++;
	}
	if (p[3].revents & (POLLOUT | POLLERR | POLLHUP))
		n->tx_blocked = false;
	if ((p[3].revents & (POLLERR | POLLHUP | POLLNVAL)) && !(p[3].revents & POLLIN))
		link_down(n, p[3].revents & POLLHUP ? EPIPE : EBADFD);
	return true;
}

static void *net_thread(void *arg)
{
	struct vnet *n = arg;
	vdev_thread_init(n->v);
	do {
		bool more;
		do {
			more = tx_work(n);
			more |= rx_work(n);
			publish(n);
		} while (more || rearm(n));
	} while (wait_events(n));
	return NULL;
}

static int net_start(void *dev, struct vdev *v)
{
	struct vnet *n = dev;
	n->v = v;
	if (n->tap) {
		int r = net_tap_set_offload(n->fd, v->features);
		if (r < 0)
			return r;
	}
	net_rx_init(&n->rx, &v->q[RXQ], v->features, n->bounce);
	n->tx_blocked = n->rx_starved = false;
	drain(n->stop_fd);
	int r = pthread_create(&n->thread, NULL, net_thread, n);
	if (r)
		return -r;
	n->running = true;
	return 0;
}

static void net_stop(void *dev)
{
	struct vnet *n = dev;
	uint64_t one = 1;
	if (!n->running)
		return;
	if (write(n->stop_fd, &one, sizeof(one)) < 0) {
		/* a fresh counter cannot overflow */
	}
	pthread_join(n->thread, NULL);
	n->running = false;
	n->st.rx_bad_chains += n->rx.bad_chains;
	n->rx.bad_chains = 0;
	net_rx_reset(&n->rx);   /* its chains belong to the reset ring */
}

static void net_destroy(void *dev)
{
	struct vnet *n = dev;
	if (!n)
		return;
	net_stop(n);
	if (n->fd >= 0)
		close(n->fd);
	if (n->stop_fd >= 0)
		close(n->stop_fd);
	free(n->bounce);
	free(n);
}

/* struct virtio_net_config: mac[6], le16 status */
static void net_config_read(void *dev, uint64_t off, void *data, unsigned len)
{
	struct vnet *n = dev;
	uint8_t cfg[8];
	uint16_t st = __atomic_load_n(&n->status, __ATOMIC_ACQUIRE);

	memcpy(cfg, n->mac, 6);
	cfg[6] = (uint8_t)st;
	cfg[7] = (uint8_t)(st >> 8);
	if (off < sizeof(cfg))
		memcpy(data, cfg + off, len < sizeof(cfg) - off ? len : sizeof(cfg) - off);
}

#define NF(b) (1ull << (b))
static const struct vdev_ops net_ops = {
	.device_id = VIRTIO_NET_ID,
	.features = NF(VIRTIO_NET_F_CSUM) | NF(VIRTIO_NET_F_GUEST_CSUM) | NF(VIRTIO_NET_F_MAC) |
		    NF(VIRTIO_NET_F_GUEST_TSO4) | NF(VIRTIO_NET_F_GUEST_TSO6) |
		    NF(VIRTIO_NET_F_HOST_TSO4) | NF(VIRTIO_NET_F_HOST_TSO6) |
		    NF(VIRTIO_NET_F_MRG_RXBUF) | NF(VIRTIO_NET_F_STATUS) |
		    NF(VIRTIO_F_EVENT_IDX) | NF(VIRTIO_F_INDIRECT_DESC),
	.nqueues = 2,
	.config_read = net_config_read,
	.start = net_start,
	.stop = net_stop,
	.destroy = net_destroy,
};

int virtio_net_create(const struct virtio_host *host, uint64_t base,
		      const struct virtio_net_opts *opts, struct virtio_mmio **ret)
{
	if (!opts || opts->fd < 0)
		return -EINVAL;
	int fl = fcntl(opts->fd, F_GETFL);
	struct vnet *n = calloc(1, sizeof(*n));
	if (!n || fl < 0 || fcntl(opts->fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		int e = !n ? ENOMEM : errno;
		free(n);
		close(opts->fd);
		return -e;
	}
	n->fd = opts->fd;
	n->tap = opts->tap;
	memcpy(n->mac, opts->mac, 6);
	n->status = VIRTIO_NET_S_LINK_UP;
	n->bounce = malloc(NET_RX_BOUNCE);
	n->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	int r = !n->bounce || n->stop_fd < 0 ? -ENOMEM : 0;
	if (r == 0)
		r = virtio_mmio_new(host, base, &net_ops, n, ret);
	if (r < 0)
		net_destroy(n);
	return r;
}

int virtio_net_stats(struct virtio_mmio *m, struct net_stats *ret)
{
	struct vnet *n = virtio_mmio_device(m, VIRTIO_NET_ID);
	if (!n)
		return -EINVAL;
	*ret = n->st;
	ret->rx_bad_chains += n->rx.bad_chains;
	ret->link_up = link_up(n);
	return 0;
}
