/* The network the caller made: read a network namespace's interfaces, and
 * connect each to a tap in the same namespace (Kata's tcfilter model), so
 * nothing about the caller's network changes.  Everything runs in a thread
 * of its own that setns()es into the namespace: the daemon's other threads
 * stay where they are, and the sockets and taps it makes belong to the
 * namespace (a tap fd keeps working wherever it is passed). */
#include "net.h"
#include "cleanup.h"
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* net/if.h clashes with linux/if.h */
extern unsigned int if_nametoindex(const char *ifname);
extern char *if_indextoname(unsigned int ifindex, char *ifname);

/* ---- running a function inside a network namespace ---- */

struct in_ns {
	const char *netns;
	int (*fn)(void *arg, struct oerr *err);
	void *arg;
	struct oerr *err;
	int r;
};

static void *in_ns_thread(void *p)
{
	struct in_ns *t = p;
	int fd = open(t->netns, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		t->r = oerr_set(t->err, EINVAL, "network namespace %.200s: %s", t->netns,
				strerror(errno));
		return NULL;
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		int e = errno;
		close(fd);
		t->r = oerr_set(t->err, e == EINVAL ? EINVAL : e, "network namespace %.200s: "
				"setns: %s", t->netns, strerror(e));
		return NULL;
	}
	close(fd);
	t->r = t->fn(t->arg, t->err);
	return NULL;   /* the thread, and its hold on the namespace, end here */
}

int vm_net_in_netns(const char *netns, int (*fn)(void *, struct oerr *), void *arg,
		    struct oerr *err)
{
	struct in_ns t = { netns, fn, arg, err, 0 };
	pthread_t th;
	int e = pthread_create(&th, NULL, in_ns_thread, &t);

	if (e)
		return oerr_sys(err, e, "network namespace %.200s: a thread to enter it", netns);
	pthread_join(th, NULL);
	return t.r;
}

/* ---- reading interfaces, addresses, routes ---- */

struct attrs {
	const struct nlattr *tb[64];
};

static int attr_cb(const struct nlattr *a, void *data)
{
	struct attrs *at = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type < 64)
		at->tb[type] = a;
	return MNL_CB_OK;
}

static struct vm_net_nic *nic_of(struct vm_net *net, int ifindex)
{
	for (size_t i = 0; i < net->n; i++)
		if (net->nic[i].ifindex == ifindex)
			return &net->nic[i];
	return NULL;
}

static bool link_is_tun(const struct nlattr *linkinfo)
{
	struct attrs li = { 0 };

	if (!linkinfo || mnl_attr_parse_nested(linkinfo, attr_cb, &li) < 0 ||
	    !li.tb[IFLA_INFO_KIND])
		return false;
	return strcmp(mnl_attr_get_str(li.tb[IFLA_INFO_KIND]), "tun") == 0;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct vm_net *net = data;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct attrs at = { 0 };

	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    mnl_attr_parse(nlh, sizeof(*ifi), attr_cb, &at) < 0)
		return 0;
	/* lo, and what is not Ethernet (sit0, ip6tnl0 ...), has no NIC to be */
	if ((ifi->ifi_flags & IFF_LOOPBACK) || ifi->ifi_type != ARPHRD_ETHER ||
	    !at.tb[IFLA_IFNAME] || !at.tb[IFLA_ADDRESS] ||
	    mnl_attr_get_payload_len(at.tb[IFLA_ADDRESS]) != 6 || link_is_tun(at.tb[IFLA_LINKINFO]))
		return 0;
	if (net->n == VM_NET_MAX_NICS)
		return -E2BIG;
	struct vm_net_nic *n = &net->nic[net->n++];
	memset(n, 0, sizeof(*n));
	n->ifindex = ifi->ifi_index;
	snprintf(n->name, sizeof(n->name), "%s", mnl_attr_get_str(at.tb[IFLA_IFNAME]));
	memcpy(n->mac, mnl_attr_get_payload(at.tb[IFLA_ADDRESS]), 6);
	n->mtu = at.tb[IFLA_MTU] ? mnl_attr_get_u32(at.tb[IFLA_MTU]) : 1500;
	return 0;
}

static bool ip_get(const struct nlattr *a, int family, struct vm_net_ip *ip)
{
	size_t len = family == AF_INET ? 4 : 16;

	if (!a || mnl_attr_get_payload_len(a) != len)
		return false;
	ip->family = family;
	memcpy(ip->a, mnl_attr_get_payload(a), len);
	return true;
}

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct vm_net *net = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct attrs at = { 0 };
	struct vm_net_nic *n = nic_of(net, (int)ifa->ifa_index);
	struct vm_net_addr a = { .prefix = ifa->ifa_prefixlen };

	if (!n || nlh->nlmsg_type != RTM_NEWADDR ||
	    (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) ||
	    mnl_attr_parse(nlh, sizeof(*ifa), attr_cb, &at) < 0)
		return 0;
	if (ifa->ifa_scope == RT_SCOPE_HOST ||
	    (ifa->ifa_family == AF_INET6 && ifa->ifa_scope == RT_SCOPE_LINK))
		return 0;
	if (!ip_get(at.tb[IFA_LOCAL], ifa->ifa_family, &a.ip) &&
	    !ip_get(at.tb[IFA_ADDRESS], ifa->ifa_family, &a.ip))
		return 0;
	if (n->n_addrs == VM_NET_MAX_ADDRS)
		net->dropped++;
	else
		n->addrs[n->n_addrs++] = a;
	return 0;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct vm_net *net = data;
	const struct rtmsg *rt = mnl_nlmsg_get_payload(nlh);
	struct attrs at = { 0 };
	struct vm_net_route r = { .prefix = rt->rtm_dst_len };

	if (nlh->nlmsg_type != RTM_NEWROUTE || mnl_attr_parse(nlh, sizeof(*rt), attr_cb, &at) < 0)
		return 0;
	uint32_t table = at.tb[RTA_TABLE] ? mnl_attr_get_u32(at.tb[RTA_TABLE]) : rt->rtm_table;
	/* the kernel's own (prefix routes of addresses) come back in the guest */
	if (table != RT_TABLE_MAIN || rt->rtm_type != RTN_UNICAST ||
	    rt->rtm_protocol == RTPROT_KERNEL || !at.tb[RTA_OIF] ||
	    (rt->rtm_family != AF_INET && rt->rtm_family != AF_INET6))
		return 0;
	struct vm_net_nic *n = nic_of(net, (int)mnl_attr_get_u32(at.tb[RTA_OIF]));
	if (!n)
		return 0;
	if (!ip_get(at.tb[RTA_DST], rt->rtm_family, &r.dst)) {
		r.dst.family = rt->rtm_family;   /* the default route */
		r.prefix = 0;
	}
	ip_get(at.tb[RTA_GATEWAY], rt->rtm_family, &r.gw);
	if (n->n_routes == VM_NET_MAX_ROUTES)
		net->dropped++;
	else
		n->routes[n->n_routes++] = r;
	return 0;
}

static int dump(struct vm_nl *nl, uint16_t type, size_t hdr_len, vm_nl_cb cb, void *data)
{
	struct nlmsghdr *nlh = vm_nl_msg(nl, type, NLM_F_DUMP);
	struct rtgenmsg *g = mnl_nlmsg_put_extra_header(nlh, hdr_len);

	g->rtgen_family = AF_UNSPEC;
	return vm_nl_talk(nl, nlh, cb, data);
}

static int read_in_ns(void *arg, struct oerr *err)
{
	struct vm_net *net = arg;
	struct vm_nl nl;
	int r = vm_nl_open(&nl);

	if (r < 0)
		return oerr_sys(err, -r, "rtnetlink socket");
	if ((r = dump(&nl, RTM_GETLINK, sizeof(struct ifinfomsg), link_cb, net)) == -E2BIG)
		r = oerr_set(err, E2BIG, "more than %d interfaces besides lo", VM_NET_MAX_NICS);
	else if (r < 0)
		r = oerr_sys(err, -r, "listing interfaces");
	else if ((r = dump(&nl, RTM_GETADDR, sizeof(struct ifaddrmsg), addr_cb, net)) < 0)
		r = oerr_sys(err, -r, "listing addresses");
	else if ((r = dump(&nl, RTM_GETROUTE, sizeof(struct rtmsg), route_cb, net)) < 0)
		r = oerr_sys(err, -r, "listing routes");
	vm_nl_close(&nl);
	return r;
}

int vm_net_read(const char *netns, struct vm_net *ret, struct oerr *err)
{
	memset(ret, 0, sizeof(*ret));
	int r = vm_net_in_netns(netns, read_in_ns, ret, err);
	if (r < 0)
		oerr_prefix(err, "network namespace %.200s: ", netns);
	return r;
}

/* ---- the record of what was made, run_dir/net ---- */

static int rec_write(const char *run_dir, const struct vm_net_rec *rc)
{
	char path[4200], text[8192];
	size_t n = (size_t)snprintf(text, sizeof(text), "netns %s\n", rc->netns);

	if (rc->id[0])
		n += (size_t)snprintf(text + n, sizeof(text) - n, "id %s\n", rc->id);

	for (size_t i = 0; i < rc->n && n < sizeof(text); i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "nic %d %s %s %d\n",
				      rc->nic[i].veth, rc->nic[i].veth_name, rc->nic[i].tap,
				      rc->nic[i].qdisc);
	snprintf(path, sizeof(path), "%s/net", run_dir);
	return file_write_atomic(path, text, strlen(text), 0600);
}

int vm_net_rec_read(const char *run_dir, struct vm_net_rec *rc)
{
	char path[4200];
	_cleanup_free_ char *text = NULL;
	size_t len;
	char *save = NULL;

	snprintf(path, sizeof(path), "%s/net", run_dir);
	memset(rc, 0, sizeof(*rc));
	int r = file_read_all(path, 16384, &text, &len);
	if (r < 0)
		return r;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		struct vm_net_rec_nic *n = &rc->nic[rc->n];
		if (strncmp(l, "netns ", 6) == 0)
			snprintf(rc->netns, sizeof(rc->netns), "%s", l + 6);
		else if (strncmp(l, "id ", 3) == 0)
			snprintf(rc->id, sizeof(rc->id), "%s", l + 3);
		else if (rc->n < VM_NET_MAX_NICS &&
			 sscanf(l, "nic %d %15s %15s %d", &n->veth, n->veth_name, n->tap, &n->qdisc) == 4)
			rc->n++;
	}
	return rc->netns[0] ? 0 : -EINVAL;
}

/* ---- connecting, undoing ---- */

static int tap_open(const char *name, int *ret_ifindex)
{
	struct ifreq ifr = { 0 };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	*ret_ifindex = (int)if_nametoindex(name);
	if (!*ret_ifindex) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

struct connect {
	const char *run_dir, *id;
	const struct vm_net *net;
	struct vm_net_rec rc;
	int *fds;
};

/* Undo in the namespace (cleanup's part, also a failed connect's). */
static void undo_in_ns(const struct vm_net_rec *rc, struct vm_nl *nl)
{
	char name[IFNAMSIZ];

	for (size_t i = 0; i < rc->n; i++) {
		const struct vm_net_rec_nic *n = &rc->nic[i];
		int r;
		/* the ifindex must still be that interface (it may be gone) */
		/* filters are added only after our own qdisc: without it, none is ours */
		if (n->qdisc && if_indextoname((unsigned)n->veth, name) &&
		    strcmp(name, n->veth_name) == 0) {
			if ((r = vm_tc_redirect_del(nl, n->veth)) < 0 && r != -ENOENT && r != -EINVAL)
				fprintf(stderr, "net: %s: removing the tc filter: %s\n", name, strerror(-r));
			if ((r = vm_tc_ingress(nl, n->veth, false)) < 0 &&
			    r != -ENOENT && r != -EINVAL)
				fprintf(stderr, "net: %s: removing the ingress qdisc: %s\n", name,
					strerror(-r));
		}
		int tap = (int)if_nametoindex(n->tap);   /* gone with the VMM, usually */
		if (tap > 0 && (r = vm_nl_link_del(nl, tap)) < 0 && r != -ENODEV)
			fprintf(stderr, "net: removing %s: %s\n", n->tap, strerror(-r));
	}
}

static int connect_nic(struct connect *c, size_t i, struct vm_nl *nl, struct oerr *err)
{
	const struct vm_net_nic *nic = &c->net->nic[i];
	struct vm_net_rec_nic *rn = &c->rc.nic[i];
	char name[IFNAMSIZ];
	int tap = 0, r;

	if (!if_indextoname((unsigned)nic->ifindex, name) || strcmp(name, nic->name) != 0)
		return oerr_set(err, ENODEV, "interface %s (index %d) went away", nic->name,
				nic->ifindex);
	*rn = (struct vm_net_rec_nic){ .veth = nic->ifindex, .qdisc = 1 };
	snprintf(rn->veth_name, sizeof(rn->veth_name), "%s", nic->name);
	vm_net_tap_name(c->id, i, rn->tap);
	c->rc.n = i + 1;
	if ((r = rec_write(c->run_dir, &c->rc)) < 0)   /* before anything is made */
		return oerr_sys(err, -r, "writing %s/net", c->run_dir);
	if ((r = vm_tc_ingress(nl, nic->ifindex, true)) < 0) {
		rn->qdisc = 0;
		rec_write(c->run_dir, &c->rc);
		return r == -EEXIST ? oerr_set(err, EBUSY, "%s already has an ingress qdisc (another "
					       "container's VM, or tc rules of the caller): not "
					       "taken over", nic->name)
				    : oerr_sys(err, -r, "%s: adding an ingress qdisc", nic->name);
	}
	if ((c->fds[i] = tap_open(rn->tap, &tap)) < 0)
		return oerr_sys(err, -c->fds[i], "creating tap %s", rn->tap);
	if ((r = vm_nl_link_set(nl, tap, nic->mtu, true)) < 0)
		return oerr_sys(err, -r, "%s: MTU %u, up", rn->tap, nic->mtu);
	if ((r = vm_tc_ingress(nl, tap, true)) < 0)
		return oerr_sys(err, -r, "%s: adding an ingress qdisc", rn->tap);
	if ((r = vm_tc_redirect(nl, nic->ifindex, tap)) < 0 ||
	    (r = vm_tc_redirect(nl, tap, nic->ifindex)) < 0)
		return oerr_sys(err, -r, "tc filter %s <-> %s (mirred redirect)", nic->name, rn->tap);
	return 0;
}

static int connect_in_ns(void *arg, struct oerr *err)
{
	struct connect *c = arg;
	struct vm_nl nl;
	int r = vm_nl_open(&nl);

	if (r < 0)
		return oerr_sys(err, -r, "rtnetlink socket");
	for (size_t i = 0; r == 0 && i < c->net->n; i++)
		r = connect_nic(c, i, &nl, err);
	if (r < 0) {
		for (size_t i = 0; i < c->net->n; i++)
			if (c->fds[i] >= 0) {
				close(c->fds[i]);
				c->fds[i] = -1;
			}
		undo_in_ns(&c->rc, &nl);
	}
	vm_nl_close(&nl);
	return r;
}

int vm_net_connect(const char *run_dir, const char *id, const char *netns,
		   const struct vm_net *net, int fds[VM_NET_MAX_NICS], struct oerr *err)
{
	struct connect *c = calloc(1, sizeof(*c));
	char path[4200];
	int r;

	for (size_t i = 0; i < VM_NET_MAX_NICS; i++)
		fds[i] = -1;
	if (!c)
		return oerr_set(err, ENOMEM, "out of memory");
	*c = (struct connect){ .run_dir = run_dir, .id = id ? id : "vm", .net = net, .fds = fds };
	snprintf(c->rc.netns, sizeof(c->rc.netns), "%s", netns);
	snprintf(c->rc.id, sizeof(c->rc.id), "%s", c->id);
	r = vm_net_in_netns(netns, connect_in_ns, c, err);
	if (r < 0) {
		oerr_prefix(err, "network namespace %.200s: ", netns);
		snprintf(path, sizeof(path), "%s/net", run_dir);
		if (c->rc.n)
			unlink(path);   /* undone above (or never entered) */
	}
	free(c);
	return r;
}

static int cleanup_in_ns(void *arg, struct oerr *err)
{
	struct vm_nl nl;
	int r = vm_nl_open(&nl);

	if (r < 0)
		return oerr_sys(err, -r, "rtnetlink socket");
	undo_in_ns(arg, &nl);
	vm_nl_close(&nl);
	return 0;
}

void vm_net_cleanup(const char *run_dir)
{
	struct vm_net_rec *rc = malloc(sizeof(*rc));
	struct oerr err = { 0 };
	char path[4200];

	if (!rc)
		return;
	if (vm_net_rec_read(run_dir, rc) == 0 && rc->n &&
	    vm_net_in_netns(rc->netns, cleanup_in_ns, rc, &err) < 0 && err.code != EINVAL)
		fprintf(stderr, "net: cleanup in %s: %s\n", rc->netns, err.msg);
	/* EINVAL: the namespace is gone, and with it what we made there */
	snprintf(path, sizeof(path), "%s/net", run_dir);
	unlink(path);
	free(rc);
}
