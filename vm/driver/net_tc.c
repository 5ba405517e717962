/* rtnetlink requests over libmnl: links and tc (ingress qdisc, u32
 * match-all filter with a mirred redirect), in the calling thread's network
 * namespace.  Built as `tc` would send them:
 *   tc qdisc add dev D ingress
 *   tc filter add dev D parent ffff: protocol all prio 49345 u32 match u8 0 0 \
 *      action mirred egress redirect dev T
 * (cls_matchall would be simpler, but u32 is what every kernel has: this
 * host's lacks matchall). */
#include "net.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int vm_nl_open(struct vm_nl *nl)
{
	memset(nl, 0, sizeof(*nl));
	nl->buf = malloc(VM_NL_BUF);
	if (!nl->buf)
		return -ENOMEM;
	nl->s = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->s || mnl_socket_bind(nl->s, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno ? errno : EIO;
		vm_nl_close(nl);
		return -e;
	}
	nl->portid = mnl_socket_get_portid(nl->s);
	nl->seq = (unsigned)time(NULL);
	return 0;
}

void vm_nl_close(struct vm_nl *nl)
{
	if (nl->s)
		mnl_socket_close(nl->s);
	free(nl->buf);
	memset(nl, 0, sizeof(*nl));
}

struct nlmsghdr *vm_nl_msg(struct vm_nl *nl, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++nl->seq;
	return nlh;
}

struct talk {
	vm_nl_cb cb;
	void *data;
	int r;
};

static int talk_data(const struct nlmsghdr *nlh, void *arg)
{
	struct talk *t = arg;

	if (t->cb && t->r == 0)
		t->r = t->cb(nlh, t->data);
	return MNL_CB_OK;
}

int vm_nl_talk(struct vm_nl *nl, struct nlmsghdr *nlh, vm_nl_cb cb, void *data)
{
	struct talk t = { cb, data, 0 };
	unsigned seq = nlh->nlmsg_seq;
	int r;

	if (mnl_socket_sendto(nl->s, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl->s, nl->buf, VM_NL_BUF);
		if (n < 0)
			return -errno;
		errno = 0;
		r = mnl_cb_run(nl->buf, (size_t)n, seq, nl->portid, talk_data, &t);
		if (r == MNL_CB_ERROR)
			return errno ? -errno : -EIO;
		if (r == MNL_CB_STOP)   /* NLMSG_DONE, or the ACK (error 0) */
			return t.r;
	}
}

static struct tcmsg *tc_header(struct nlmsghdr *nlh, int ifindex, uint32_t handle,
			       uint32_t parent, uint32_t info)
{
	struct tcmsg *tc = mnl_nlmsg_put_extra_header(nlh, sizeof(*tc));

	tc->tcm_family = AF_UNSPEC;
	tc->tcm_ifindex = ifindex;
	tc->tcm_handle = handle;
	tc->tcm_parent = parent;
	tc->tcm_info = info;
	return tc;
}

int vm_tc_ingress(struct vm_nl *nl, int ifindex, bool add)
{
	struct nlmsghdr *nlh = vm_nl_msg(nl, add ? RTM_NEWQDISC : RTM_DELQDISC,
					 add ? NLM_F_CREATE | NLM_F_EXCL : 0);

	tc_header(nlh, ifindex, TC_H_MAKE(TC_H_INGRESS, 0), TC_H_INGRESS, 0);
	mnl_attr_put_strz(nlh, TCA_KIND, "ingress");
	return vm_nl_talk(nl, nlh, NULL, NULL);
}

/* Filters attach to the ingress qdisc as parent ffff:. */
#define TC_INGRESS_PARENT TC_H_MAKE(TC_H_INGRESS, 0)
#define TC_FILTER_INFO TC_H_MAKE((uint32_t)VM_TC_PRIO << 16, htons(ETH_P_ALL))

int vm_tc_redirect(struct vm_nl *nl, int from_ifindex, int to_ifindex)
{
	struct nlmsghdr *nlh = vm_nl_msg(nl, RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL);
	struct {
		struct tc_u32_sel sel;
		struct tc_u32_key key;
	} sel = { .sel = { .flags = TC_U32_TERMINAL, .nkeys = 1 } };   /* u8 0 0 at 0 */
	struct tc_mirred m = { .action = TC_ACT_STOLEN, .eaction = TCA_EGRESS_REDIR,
			       .ifindex = (uint32_t)to_ifindex };

	tc_header(nlh, from_ifindex, 0, TC_INGRESS_PARENT, TC_FILTER_INFO);
	mnl_attr_put_strz(nlh, TCA_KIND, "u32");
	struct nlattr *opts = mnl_attr_nest_start(nlh, TCA_OPTIONS);
	mnl_attr_put(nlh, TCA_U32_SEL, sizeof(sel), &sel);
	struct nlattr *acts = mnl_attr_nest_start(nlh, TCA_U32_ACT);
	struct nlattr *act = mnl_attr_nest_start(nlh, 1);   /* the first action */
	mnl_attr_put_strz(nlh, TCA_ACT_KIND, "mirred");
	struct nlattr *aopts = mnl_attr_nest_start(nlh, TCA_ACT_OPTIONS);
	mnl_attr_put(nlh, TCA_MIRRED_PARMS, sizeof(m), &m);
	mnl_attr_nest_end(nlh, aopts);
	mnl_attr_nest_end(nlh, act);
	mnl_attr_nest_end(nlh, acts);
	mnl_attr_nest_end(nlh, opts);
	return vm_nl_talk(nl, nlh, NULL, NULL);
}

int vm_tc_redirect_del(struct vm_nl *nl, int ifindex)
{
	struct nlmsghdr *nlh = vm_nl_msg(nl, RTM_DELTFILTER, 0);

	tc_header(nlh, ifindex, 0, TC_INGRESS_PARENT, TC_FILTER_INFO);
	mnl_attr_put_strz(nlh, TCA_KIND, "u32");
	return vm_nl_talk(nl, nlh, NULL, NULL);
}

int vm_nl_link_set(struct vm_nl *nl, int ifindex, unsigned mtu, bool up)
{
	struct nlmsghdr *nlh = vm_nl_msg(nl, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_change = up ? IFF_UP : 0;
	ifi->ifi_flags = up ? IFF_UP : 0;
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return vm_nl_talk(nl, nlh, NULL, NULL);
}

int vm_nl_link_del(struct vm_nl *nl, int ifindex)
{
	struct nlmsghdr *nlh = vm_nl_msg(nl, RTM_DELLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return vm_nl_talk(nl, nlh, NULL, NULL);
}

/* FNV-1a: short, stable, and only [0-9a-f] in an interface name. */
void vm_net_tap_name(const char *id, size_t i, char name[16])
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)(id ? id : ""); *p; p++)
		h = (h ^ *p) * 16777619u;
	snprintf(name, 16, "tap%zu_%08x", i % 10, h);
}
