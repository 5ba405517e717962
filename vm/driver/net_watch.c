/* Watching the caller's interfaces while the VM runs (net.h): an rtnetlink
 * socket made inside the namespace (a socket belongs to the namespace it
 * was made in, wherever it is read), joined to RTMGRP_LINK.  An interface
 * of run_dir/net that is deleted or moved out (RTM_DELLINK) is logged
 * once; nothing else changes: the VM runs on, its NIC without traffic, and
 * vm_net_cleanup later removes what is left.  Our taps are not watched:
 * they go with the hypervisor's fds, which is the VM's end, not a fault. */
#include "net.h"
#include "log.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* net/if.h clashes with linux/if.h */
extern char *if_indextoname(unsigned int ifindex, char *ifname);

struct vm_net_watch {
	struct mnl_socket *s;
	struct vm_net_rec rc;
	char label[300];                 /* the container id, else run_dir */
	bool gone[VM_NET_MAX_NICS];      /* the caller's interface (logged) */
	bool was_gone[VM_NET_MAX_NICS];  /* found gone by open's check (logged after it) */
	bool recheck;                    /* events were lost (ENOBUFS): look again */
	bool report;                     /* log (vm_net_watch_read's report) */
};

static void note_gone(struct vm_net_watch *w, size_t i)
{
	const struct vm_net_rec_nic *n = &w->rc.nic[i];

	if (!w->gone[i] && w->report) {
		w->gone[i] = true;
		log_warn("%s: network: interface %s (index %d) left %s (deleted or moved): the "
			 "guest's %s has no traffic now; the VM keeps running", w->label,
			 n->veth_name, n->veth, w->rc.netns, n->veth_name);
	}
}

/* In the namespace: the socket, then what is already gone (after the
 * bind, so a deletion is either seen here or arrives as an event). */
static int open_in_ns(void *arg, struct oerr *err)
{
	struct vm_net_watch *w = arg;
	char name[IFNAMSIZ];

	if (!w->s) {
		w->s = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (!w->s)
			return oerr_sys(err, errno, "rtnetlink socket");
		if (mnl_socket_bind(w->s, RTMGRP_LINK, MNL_SOCKET_AUTOPID) < 0)
			return oerr_sys(err, errno, "rtnetlink: joining RTMGRP_LINK");
	}
	for (size_t i = 0; i < w->rc.n; i++) {
		const struct vm_net_rec_nic *n = &w->rc.nic[i];
		if (!if_indextoname((unsigned)n->veth, name) || strcmp(name, n->veth_name) != 0)
			w->was_gone[i] = true;
	}
	return 0;
}

static void check_now(struct vm_net_watch *w)
{
	struct oerr err = { 0 };

	if (vm_net_in_netns(w->rc.netns, open_in_ns, w, &err) < 0) {
		/* the namespace itself is gone: so is every interface in it */
		for (size_t i = 0; i < w->rc.n; i++)
			w->was_gone[i] = true;
	}
	for (size_t i = 0; i < w->rc.n; i++)
		if (w->was_gone[i])
			note_gone(w, i);
}

int vm_net_watch_open(const char *run_dir, struct vm_net_watch **ret, struct oerr *err)
{
	struct vm_net_watch *w = calloc(1, sizeof(*w));
	int r;

	*ret = NULL;
	if (!w)
		return oerr_set(err, ENOMEM, "out of memory");
	r = vm_net_rec_read(run_dir, &w->rc);
	if (r < 0 || !w->rc.n) {
		free(w);
		return r == -ENOENT || r == 0 ? 0 : oerr_sys(err, -r, "reading %s/net", run_dir);
	}
	snprintf(w->label, sizeof(w->label), "%s", w->rc.id[0] ? w->rc.id : run_dir);
	w->report = true;
	if ((r = vm_net_in_netns(w->rc.netns, open_in_ns, w, err)) < 0) {
		vm_net_watch_close(w);
		return r;
	}
	for (size_t i = 0; i < w->rc.n; i++)
		if (w->was_gone[i])
			note_gone(w, i);
	*ret = w;
	return 0;
}

int vm_net_watch_fd(const struct vm_net_watch *w)
{
	return mnl_socket_get_fd(w->s);
}

static int event_cb(const struct nlmsghdr *nlh, void *data)
{
	struct vm_net_watch *w = data;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_DELLINK || nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return MNL_CB_OK;
	for (size_t i = 0; i < w->rc.n; i++)
		if (ifi->ifi_index == w->rc.nic[i].veth)
			note_gone(w, i);
	return MNL_CB_OK;
}

void vm_net_watch_read(struct vm_net_watch *w, bool report)
{
	char buf[8192];

	if (w)
		w->report = report;
	for (unsigned budget = 64; w && budget; budget--) {
		ssize_t n = mnl_socket_recvfrom(w->s, buf, sizeof(buf));
		if (n < 0 && errno == ENOBUFS) {   /* events lost: look at what is there */
			w->recheck = true;
			continue;
		}
		if (n <= 0)
			break;
		mnl_cb_run(buf, (size_t)n, 0, 0, event_cb, w);
	}
	if (w && w->recheck) {
		w->recheck = false;
		check_now(w);
	}
}

void vm_net_watch_close(struct vm_net_watch *w)
{
	if (!w)
		return;
	if (w->s)
		mnl_socket_close(w->s);
	free(w);
}
