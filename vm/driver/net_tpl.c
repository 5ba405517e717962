/* A template VM's NICs (template_vm.c): taps in a network namespace of
 * their own, made for the build and gone with it.  A NIC with no backend
 * would do for the device, but then its guest negotiates no checksum or
 * TSO offloads (QEMU offers them only with a vnet-header peer) and every
 * container restored from the template keeps that: bulk TCP 5-7x slower
 * under TCG here.  With these taps (IFF_VNET_HDR, as vm_net_connect's)
 * the template's guest negotiates what a cold boot does, and a restore's
 * taps offer the same.  Nothing reaches them: they stay down in a
 * namespace nothing else is in. */
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct tpl_taps {
	size_t n;
	int *fds, nsfd, r;
};

static void *tpl_taps_thread(void *p)
{
	struct tpl_taps *t = p;

	if (unshare(CLONE_NEWNET) < 0) {   /* this thread only */
		t->r = -errno;
		return NULL;
	}
	t->nsfd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (t->nsfd < 0) {
		t->r = -errno;
		return NULL;
	}
	for (size_t i = 0; i < t->n; i++) {
		struct ifreq ifr = { 0 };
		int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			t->r = -errno;
			return NULL;
		}
		t->fds[i] = fd;
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "tpl%u", (unsigned)i % 10);
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
		if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
			t->r = -errno;
			return NULL;
		}
	}
	return NULL;   /* the namespace lives on through nsfd */
}

int vm_net_tpl_taps(size_t n, int fds[VM_NET_MAX_NICS], int *ret_nsfd, struct oerr *err)
{
	struct tpl_taps t = { .n = n, .fds = fds, .nsfd = -1 };
	pthread_t th;

	for (size_t i = 0; i < VM_NET_MAX_NICS; i++)
		fds[i] = -1;
	*ret_nsfd = -1;
	if (n > VM_NET_MAX_NICS)
		return oerr_set(err, E2BIG, "template taps: %zu NICs", n);
	int e = pthread_create(&th, NULL, tpl_taps_thread, &t);
	if (e)
		return oerr_sys(err, e, "template taps: a thread");
	pthread_join(th, NULL);
	if (t.r < 0) {
		vm_net_tpl_taps_close(fds, t.nsfd);
		return oerr_sys(err, -t.r, "template taps: a network namespace with %zu tap(s)", n);
	}
	*ret_nsfd = t.nsfd;
	return 0;
}

void vm_net_tpl_taps_close(int fds[VM_NET_MAX_NICS], int nsfd)
{
	for (size_t i = 0; i < VM_NET_MAX_NICS; i++)
		if (fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		}
	if (nsfd >= 0)
		close(nsfd);
}
