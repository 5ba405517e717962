/* The caller's network in the guest: lo up; each NIC of the plan (found
 * by MAC under /sys/class/net; restored from a template, the Nth NIC has
 * the template's placeholder MAC and takes the plan's; each waited for
 * without a limit of its own, a console note every 5 s saying which MAC is
 * awaited and which interfaces are seen) gets its name, MTU,
 * addresses, up, then the routes.  Interface flags, name and MTU by ioctl; addresses and routes by
 * a small hand-written rtnetlink (ocivm-init is static, and Debian ships
 * no static libmnl). */
#include "net.h"
#include "gspec.h"
#include "chanopen.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The name of the interface with this MAC under sysnet, or "" (one
 * look); when why is not NULL, the interfaces seen go into it. */
static void gnet_find(const char *sysnet, const unsigned char mac[6], char name[IFNAMSIZ],
		      char *why, size_t wcap)
{
	DIR *d = opendir(sysnet);
	struct dirent *e;
	char want[18], got[32];

	name[0] = '\0';
	if (!d) {
		if (why)
			snprintf(why, wcap, "%s: %s", sysnet, strerror(errno));
		return;
	}
	snprintf(want, sizeof(want), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
		 mac[3], mac[4], mac[5]);
	if (why)
		snprintf(why, wcap, "interfaces:");
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || strlen(e->d_name) >= IFNAMSIZ)
			continue;
		int n = gchan_attr(sysnet, e->d_name, "address", got, sizeof(got));
		if (n >= 17 && strncmp(got, want, 17) == 0) {
			memcpy(name, e->d_name, strlen(e->d_name) + 1);   /* < IFNAMSIZ: checked */
			break;
		}
		if (why)
			gchan_why_add(why, wcap, " %s %.17s", e->d_name, n >= 17 ? got : "(no address)");
	}
	closedir(d);
}

static int gnet_ioctl(int s, unsigned long req, struct ifreq *ifr)
{
	return ioctl(s, req, ifr) < 0 ? -errno : 0;
}

/* A restored template (plan->restored): the Nth NIC still has the
 * template's placeholder MAC (GSPEC_TPL_NIC_MAC); it takes the caller's
 * while down (virtio_net tells QEMU through its control queue, so QEMU's
 * receive filter takes it too).  0 with name set, or -errno. */
static int gnet_take(const char *sysnet, int s, int n, const unsigned char mac[6],
		     char name[IFNAMSIZ])
{
	const unsigned char tpl[6] = GSPEC_TPL_NIC_MAC(n);
	struct ifreq ifr = { 0 };

	gnet_find(sysnet, tpl, name, NULL, 0);
	if (!name[0])
		return -ENODEV;
	memcpy(ifr.ifr_name, name, IFNAMSIZ);   /* NUL-terminated by gnet_find */
	ifr.ifr_hwaddr.sa_family = 1;   /* ARPHRD_ETHER */
	memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
	int r = gnet_ioctl(s, SIOCSIFHWADDR, &ifr);
	if (r < 0)
		name[0] = '\0';
	return r;
}

static int gnet_up(int s, const char *name)
{
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	int r = gnet_ioctl(s, SIOCGIFFLAGS, &ifr);
	if (r < 0)
		return r;
	ifr.ifr_flags |= IFF_UP;
	return gnet_ioctl(s, SIOCSIFFLAGS, &ifr);
}

/* ---- rtnetlink ---- */

struct gnl_req {
	struct nlmsghdr h;
	union { struct ifaddrmsg a; struct rtmsg r; } u;
	char attrs[256];
};

static void gnl_attr(struct gnl_req *q, unsigned short type, const void *data, size_t len)
{
	struct rtattr *ra = (struct rtattr *)((char *)q + NLMSG_ALIGN(q->h.nlmsg_len));
	ra->rta_type = type;
	ra->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(ra), data, len);
	q->h.nlmsg_len = NLMSG_ALIGN(q->h.nlmsg_len) + RTA_ALIGN(ra->rta_len);
}

/* Send, read the ACK: 0 or the kernel's -errno. */
static int gnl_talk(int nl, struct gnl_req *q)
{
	static unsigned seq;
	char buf[1024];

	q->h.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	q->h.nlmsg_seq = ++seq;
	if (send(nl, q, q->h.nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		ssize_t n = recv(nl, buf, sizeof(buf), 0);
		if (n < 0)
			return errno == EINTR ? 0 : -errno;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n))
			if (h->nlmsg_seq == q->h.nlmsg_seq && h->nlmsg_type == NLMSG_ERROR)
				return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
	}
}

static size_t ip_len(const struct gplan_ip *ip)
{
	return ip->family == AF_INET ? 4 : 16;
}

static int gnl_addr(int nl, int ifindex, const struct gplan_netaddr *a)
{
	struct gnl_req q = { 0 };
	unsigned flags = IFA_F_NODAD;   /* the address is the caller's already: no wait */

	q.h.nlmsg_len = NLMSG_LENGTH(sizeof(q.u.a));
	q.h.nlmsg_type = RTM_NEWADDR;
	q.h.nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	q.u.a.ifa_family = (unsigned char)a->ip.family;
	q.u.a.ifa_prefixlen = (unsigned char)a->prefix;
	q.u.a.ifa_index = (unsigned)ifindex;
	gnl_attr(&q, IFA_LOCAL, a->ip.a, ip_len(&a->ip));
	gnl_attr(&q, IFA_ADDRESS, a->ip.a, ip_len(&a->ip));
	if (a->ip.family == AF_INET6)
		gnl_attr(&q, IFA_FLAGS, &flags, sizeof(flags));
	return gnl_talk(nl, &q);
}

static int gnl_route(int nl, int ifindex, const struct gplan_netroute *r)
{
	struct gnl_req q = { 0 };
	unsigned oif = (unsigned)ifindex;

	q.h.nlmsg_len = NLMSG_LENGTH(sizeof(q.u.r));
	q.h.nlmsg_type = RTM_NEWROUTE;
	q.h.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	q.u.r.rtm_family = (unsigned char)r->dst.family;
	q.u.r.rtm_dst_len = (unsigned char)r->prefix;
	q.u.r.rtm_table = RT_TABLE_MAIN;
	q.u.r.rtm_protocol = RTPROT_BOOT;
	q.u.r.rtm_scope = r->gw.family ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	q.u.r.rtm_type = RTN_UNICAST;
	if (r->prefix)
		gnl_attr(&q, RTA_DST, r->dst.a, ip_len(&r->dst));
	if (r->gw.family)
		gnl_attr(&q, RTA_GATEWAY, r->gw.a, ip_len(&r->gw));
	gnl_attr(&q, RTA_OIF, &oif, sizeof(oif));
	return gnl_talk(nl, &q);
}

/* ---- one NIC ---- */

static int gnet_rename(int s, char name[IFNAMSIZ], const char *to)
{
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	snprintf(ifr.ifr_newname, sizeof(ifr.ifr_newname), "%s", to);
	int r = gnet_ioctl(s, SIOCSIFNAME, &ifr);
	if (r == 0)
		snprintf(name, IFNAMSIZ, "%s", to);
	return r;
}

static int gnet_nic(int s, const struct gplan_nic *n, const char *name, int *ifindex,
		    char *eb, size_t cap)
{
	struct ifreq ifr = { 0 };
	int r;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_mtu = (int)n->mtu;
	if ((r = gnet_ioctl(s, SIOCSIFMTU, &ifr)) < 0)
		return gsetup_fail(eb, cap, -r, "net: %s: MTU %u", name, n->mtu);
	if ((r = gnet_up(s, name)) < 0)
		return gsetup_fail(eb, cap, -r, "net: %s: up", name);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if ((r = gnet_ioctl(s, SIOCGIFINDEX, &ifr)) < 0)
		return gsetup_fail(eb, cap, -r, "net: %s: index", name);
	*ifindex = ifr.ifr_ifindex;
	return 0;
}

/* The caller's names (eth0, ...): through temporary names, so two NICs
 * probed in the other order swap cleanly.  A failure is only noted. */
static void gnet_names(int s, const struct gplan *p, char names[][IFNAMSIZ], gsetup_note_fn note,
		       void *ctx)
{
	char tmp[IFNAMSIZ], msg[160];
	int r;

	for (int i = 0; i < p->n_nics; i++)
		if (strcmp(names[i], p->nics[i].name) != 0) {
			snprintf(tmp, sizeof(tmp), "ocvtmp%d", i % GPLAN_MAX_NICS);
			gnet_rename(s, names[i], tmp);
		}
	for (int i = 0; i < p->n_nics; i++)
		if (strcmp(names[i], p->nics[i].name) != 0 &&
		    (r = gnet_rename(s, names[i], p->nics[i].name)) < 0) {
			snprintf(msg, sizeof(msg), "net: %s: renaming to %s: %s", names[i],
				 p->nics[i].name, strerror(-r));
			note(ctx, msg);
		}
}

struct gnet_look {
	const char *sysnet;
	int s, i;
	const struct gplan *p;
	char *name;
};

static int gnet_look(void *ctx, char *why, size_t wcap)
{
	struct gnet_look *l = ctx;
	const unsigned char tpl[6] = GSPEC_TPL_NIC_MAC(l->i);
	size_t w;

	gnet_find(l->sysnet, l->p->nics[l->i].mac, l->name, why, wcap);
	if (l->name[0])
		return 0;
	if (!l->p->restored)
		return -EAGAIN;
	/* restored: the template's Nth NIC, by its placeholder MAC */
	int r = gnet_take(l->sysnet, l->s, l->i, l->p->nics[l->i].mac, l->name);
	if (r == 0)
		return 0;
	if ((w = strlen(why)) + 1 < wcap)
		snprintf(why + w, wcap - w, "; the template's NIC %d (MAC %02x:%02x:%02x:%02x:%02x:%02x)"
			 ": %s", l->i, tpl[0], tpl[1], tpl[2], tpl[3], tpl[4], tpl[5],
			 r == -ENODEV ? "not there either" : strerror(-r));
	return -EAGAIN;
}

int gnet_wait(const char *sysnet, const struct gchan_clock *c, unsigned note_every_ms, int s,
	      const struct gplan *p, gsetup_note_fn note, void *ctx, char names[][IFNAMSIZ])
{
	char what[96], msg[200];
	uint64_t waited;

	for (int i = 0; i < p->n_nics; i++) {
		struct gnet_look l = { sysnet, s, i, p, names[i] };
		const unsigned char *m = p->nics[i].mac;
		snprintf(what, sizeof(what), "NIC %d (%s, MAC %02x:%02x:%02x:%02x:%02x:%02x)", i,
			 p->nics[i].name, m[0], m[1], m[2], m[3], m[4], m[5]);
		int r = gchan_wait(c, note_every_ms, what, gnet_look, &l, note, ctx, &waited);
		if (r < 0)
			return r;
		if (waited >= note_every_ms) {
			snprintf(msg, sizeof(msg), "%s: %s after %llu ms", what, names[i],
				 (unsigned long long)waited);
			note(ctx, msg);
		}
	}
	return 0;
}

int gnet_apply(const struct gplan *p, gsetup_note_fn note, void *ctx, char *eb, size_t cap)
{
	char names[GPLAN_MAX_NICS][IFNAMSIZ], ip[64];
	int idx[GPLAN_MAX_NICS], r = 0;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return gsetup_fail(eb, cap, errno, "net: socket");
	if ((r = gnet_up(s, "lo")) < 0)
		note(ctx, "net: lo: cannot bring it up");
	r = 0;
	/* virtio_net probes each NIC as its module loads; wait for all */
	gnet_wait("/sys/class/net", &gchan_clock_real, GCHAN_NOTE_EVERY_MS, s, p, note, ctx, names);
	gnet_names(s, p, names, note, ctx);
	for (int i = 0; r == 0 && i < p->n_nics; i++)
		r = gnet_nic(s, &p->nics[i], names[i], &idx[i], eb, cap);
	close(s);
	if (r < 0 || !p->n_nics)
		return r;
	int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nl < 0)
		return gsetup_fail(eb, cap, errno, "net: rtnetlink socket");
	for (int i = 0; r == 0 && i < p->n_netaddrs; i++) {
		const struct gplan_netaddr *a = &p->netaddrs[i];
		if ((r = gnl_addr(nl, idx[a->nic], a)) < 0) {
			inet_ntop(a->ip.family, a->ip.a, ip, sizeof(ip));
			r = gsetup_fail(eb, cap, -r, "net: %s: address %s/%u", names[a->nic], ip, a->prefix);
		}
	}
	/* on-link routes first: a gateway must be reachable when its route is added */
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; r == 0 && i < p->n_netroutes; i++) {
			const struct gplan_netroute *rt = &p->netroutes[i];
			if (!!rt->gw.family != pass)
				continue;
			int e = gnl_route(nl, idx[rt->nic], rt);
			if (e < 0 && e != -EEXIST) {
				inet_ntop(rt->dst.family, rt->dst.a, ip, sizeof(ip));
				r = gsetup_fail(eb, cap, -e, "net: %s: route %s/%u", names[rt->nic], ip,
						rt->prefix);
			}
		}
	close(nl);
	return r;
}
