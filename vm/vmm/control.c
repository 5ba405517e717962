/* The control socket (PROTOCOL.md): one request line per connection. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "usock.h"
#include "vm/virtio/net.h"
#include "vm/vmm/vmm.h"
#include "vm/vmm/seccomp.h"

#define REQ_MAX 64

struct control {
	struct kvm_vm *vm;
	int listen_fd, stop_fd;
	pthread_t thread;
	bool running;
	char path[108];
};

/* Read one line byte by byte, so nothing after it (console data) is lost. */
static int read_line(int fd, char *buf, size_t cap)
{
	size_t n = 0;

	while (n + 1 < cap) {
		ssize_t r = read(fd, buf + n, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -EIO;
		if (buf[n] == '\n') {
			buf[n] = '\0';
			if (n && buf[n - 1] == '\r')
				buf[n - 1] = '\0';
			return 0;
		}
		n++;
	}
	return -E2BIG;
}

static void reply(int fd, const char *s)
{
	(void)fd_write_all(fd, s, strlen(s));
}

/* ,"net":[{...}, ...] for the virtio-net devices (nothing without one). */
static void net_status(struct kvm_vm *vm, char *buf, size_t size)
{
	size_t at = 0;
	bool any = false;
	for (unsigned i = 0; i < vm->n_vdev && at < size; i++) {
		struct net_stats st;
		if (virtio_net_stats(vm->vdev[i], &st) < 0)
			continue;
		const uint8_t *m = st.mac;
		at += (size_t)snprintf(buf + at, size - at,
			"%s{\"mac\":\"%02x:%02x:%02x:%02x:%02x:%02x\",\"link\":\"%s\","
			"\"link_errno\":%d,\"tx_packets\":%llu,\"tx_bytes\":%llu,\"tx_errors\":%llu,"
			"\"tx_dropped\":%llu,\"rx_packets\":%llu,\"rx_bytes\":%llu,"
			"\"rx_dropped\":%llu}",
			any ? "," : ",\"net\":[", m[0], m[1], m[2], m[3], m[4], m[5],
			st.link_up ? "up" : "down", st.link_errno,
			(unsigned long long)st.tx_packets, (unsigned long long)st.tx_bytes,
			(unsigned long long)st.tx_errors, (unsigned long long)st.tx_dropped,
			(unsigned long long)st.rx_packets, (unsigned long long)st.rx_bytes,
			(unsigned long long)st.rx_dropped);
		any = true;
	}
	if (any && at < size)
		snprintf(buf + at, size - at, "]");
}

static void reply_status(struct control *c, int fd)
{
	struct kvm_vm *vm = c->vm;
	struct exit_stats *s = &vm->stats;
	char buf[2048], net[1280] = "";
	uint64_t k[KS_N];

	kvm_vm_kvm_stats(vm, k);
	net_status(vm, net, sizeof(net));
	snprintf(buf, sizeof(buf),
		 "{\"state\":\"%s\",\"pid\":%d,\"vcpus\":%u,\"memory_mib\":%llu,"
		 "\"exits\":{\"total\":%llu,\"io\":%llu,\"mmio\":%llu,\"hlt\":%llu,"
		 "\"intr\":%llu,\"other\":%llu},\"kvm\":{\"exits\":%llu,\"io_exits\":%llu,"
		 "\"mmio_exits\":%llu,\"halt_exits\":%llu,\"insn_emulation\":%llu},"
		 "\"coalesced_io\":%llu,\"virtio_devices\":%u,\"console_dropped\":%llu%s}\n",
		 kvm_vm_is_paused(vm) ? "paused" : "running", (int)getpid(), vm->n_vcpus,
		 (unsigned long long)vm->cfg->memory_mib,
		 (unsigned long long)s->total, (unsigned long long)s->io,
		 (unsigned long long)s->mmio, (unsigned long long)s->hlt,
		 (unsigned long long)s->intr, (unsigned long long)s->other,
		 (unsigned long long)k[KS_EXITS], (unsigned long long)k[KS_IO],
		 (unsigned long long)k[KS_MMIO], (unsigned long long)k[KS_HALT],
		 (unsigned long long)k[KS_INSN_EMUL], (unsigned long long)vm->coalesce.replayed,
		 vm->n_vdev, (unsigned long long)uart_output_dropped(&vm->uart), net);
	reply(fd, buf);
}

/* Returns true when fd was handed over (console). */
static bool serve(struct control *c, int fd)
{
	struct timeval tv = { .tv_sec = 5 };
	char req[REQ_MAX];
	int r;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (read_line(fd, req, sizeof(req)) < 0) {
		reply(fd, "error request line missing or too long\n");
		return false;
	}
	if (strcmp(req, "status") == 0) {
		reply_status(c, fd);
	} else if (strcmp(req, "stop") == 0) {
		reply(fd, "ok\n");
		kvm_vm_finish(c->vm, EXIT_STOPPED, "stopped by control request");
	} else if (strcmp(req, "pause") == 0) {
		reply(fd, kvm_vm_pause(c->vm) == 0 ? "ok\n" : "error vm is not running\n");
	} else if (strcmp(req, "resume") == 0) {
		reply(fd, kvm_vm_resume(c->vm) == 0 ? "ok\n" : "error vm is not running\n");
	} else if (strcmp(req, "console") == 0) {
		if (!c->vm->console_dev) {
			reply(fd, "error no virtio-console device\n");
			return false;
		}
		struct timeval zero = { 0 };
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &zero, sizeof(zero));
		r = virtio_console_attach(c->vm->console_dev, fd);
		if (r == 0)
			return true;
		reply(fd, "error cannot attach the console\n");
	} else {
		reply(fd, "error unknown request (status|stop|pause|resume|console)\n");
	}
	return false;
}

static void *control_thread(void *arg)
{
	struct control *c = arg;

	if (c->vm->seccomp && vmm_seccomp_enter(VMM_THREAD_CONTROL) < 0) {
		kvm_vm_finish(c->vm, EXIT_INTERNAL, "control thread: cannot load its seccomp filter");
		return NULL;
	}
	for (;;) {
		struct pollfd p[2] = { { c->listen_fd, POLLIN, 0 }, { c->stop_fd, POLLIN, 0 } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		if (!serve(c, fd))
			close(fd);
	}
	return NULL;
}

static int listen_unix(const char *path, struct oerr *err)
{
	int fd = usock_listen(path, 16, 0);   /* any length (common/usock.h) */
	return fd < 0 ? oerr_sys(err, -fd, "--control %s: listening", path) : fd;
}

int control_start(struct kvm_vm *vm, const char *path, struct control **ret, struct oerr *err)
{
	int r = control_open(vm, path, ret, err);
	if (r == 0 && (r = control_run(*ret, err)) < 0)
		*ret = NULL;
	return r;
}

int control_run(struct control *c, struct oerr *err)
{
	int r = pthread_create(&c->thread, NULL, control_thread, c);
	if (r != 0) {
		control_stop(c);
		return oerr_sys(err, r, "pthread_create");
	}
	c->running = true;
	return 0;
}

void control_jailed(struct control *c)
{
	c->path[0] = '\0';   /* the path is outside the jail: the driver removes it */
}

int control_open(struct kvm_vm *vm, const char *path, struct control **ret, struct oerr *err)
{
	struct control *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return oerr_set(err, ENOMEM, "out of memory");
	c->vm = vm;
	c->stop_fd = eventfd(0, EFD_CLOEXEC);
	c->listen_fd = listen_unix(path, err);
	snprintf(c->path, sizeof(c->path), "%s", path);
	if (c->listen_fd < 0 || c->stop_fd < 0) {
		r = c->listen_fd < 0 ? c->listen_fd : oerr_sys(err, errno, "eventfd");
		goto fail;
	}
	*ret = c;
	return 0;
fail:
	if (c->listen_fd >= 0) {
		close(c->listen_fd);
		unlink(c->path);
	}
	if (c->stop_fd >= 0)
		close(c->stop_fd);
	free(c);
	return r;
}

void control_stop(struct control *c)
{
	uint64_t one = 1;

	if (!c)
		return;
	(void)!write(c->stop_fd, &one, sizeof(one));
	if (c->running)
		pthread_join(c->thread, NULL);
	close(c->listen_fd);
	close(c->stop_fd);
	if (c->path[0])
		unlink(c->path);
	free(c);
}
