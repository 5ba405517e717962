/* The gspec records of the caller's network (plan.c's key table):
 *   nic MAC MTU NAME              a NIC (found by MAC in the guest)
 *   netaddr MAC ADDR/PREFIX       an address of it (IPv4 or IPv6)
 *   netroute MAC DST/PREFIX GW|-  a main-table route through it
 * Pure parsing, as plan.c. */
#include "plan.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int gplan_fail(char *eb, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int gplan_fail(char *eb, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(eb, cap, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int gplan_num(const char *s, int base, unsigned long long max, unsigned long long *ret)
{
	char *end;
	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, base);
	if (errno || *end || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int mac_parse(const char *s, unsigned char mac[6])
{
	unsigned v[6];
	char end;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &end) != 6 || strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (unsigned char)v[i];
	return 0;
}

/* The NIC a netaddr/netroute names (by MAC, after its nic record). */
static int nic_by_mac(const struct gplan *p, const char *s, const char *key, char *eb, size_t cap)
{
	unsigned char mac[6];
	if (mac_parse(s, mac) < 0)
		return gplan_fail(eb, cap, "%s: bad MAC %s", key, s);
	for (int i = 0; i < p->n_nics; i++)
		if (!memcmp(p->nics[i].mac, mac, 6))
			return i;
	return gplan_fail(eb, cap, "%s: no nic record for %s", key, s);
}

static int ip_parse(const char *s, struct gplan_ip *ip)
{
	ip->family = strchr(s, ':') ? AF_INET6 : AF_INET;
	return inet_pton(ip->family, s, ip->a) == 1 ? 0 : -EINVAL;
}

/* ADDR/PREFIX (prefix within the family's length) */
static int cidr_parse(char *s, struct gplan_ip *ip, unsigned *prefix)
{
	char *slash = strchr(s, '/');
	unsigned long long pl;
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	int r = ip_parse(s, ip);
	*slash = '/';
	if (r < 0 || gplan_num(slash + 1, 10, ip->family == AF_INET ? 32 : 128, &pl) < 0)
		return -EINVAL;
	*prefix = (unsigned)pl;
	return 0;
}

/* nic MAC MTU NAME */
int gplan_k_nic(struct gplan *p, char **f, char *eb, size_t cap)
{
	unsigned long long mtu;
	struct gplan_nic *n = &p->nics[p->n_nics];

	if (p->n_nics >= GPLAN_MAX_NICS)
		return gplan_fail(eb, cap, "nic: more than %d", GPLAN_MAX_NICS);
	if (mac_parse(f[0], n->mac) < 0)
		return gplan_fail(eb, cap, "nic: bad MAC %s", f[0]);
	if (gplan_num(f[1], 10, 65535, &mtu) < 0 || mtu < 68)
		return gplan_fail(eb, cap, "nic: %s: bad MTU %s", f[0], f[1]);
	if (!f[2][0] || strlen(f[2]) > 15 || strchr(f[2], '/'))
		return gplan_fail(eb, cap, "nic: %s: bad name %s", f[0], f[2]);
	for (int i = 0; i < p->n_nics; i++)
		if (!memcmp(p->nics[i].mac, n->mac, 6))
			return gplan_fail(eb, cap, "nic: %s twice", f[0]);
	n->mtu = (unsigned)mtu;
	n->name = f[2];
	p->n_nics++;
	return 0;
}

/* netaddr MAC ADDR/PREFIX */
int gplan_k_netaddr(struct gplan *p, char **f, char *eb, size_t cap)
{
	struct gplan_netaddr a;

	if ((a.nic = nic_by_mac(p, f[0], "netaddr", eb, cap)) < 0)
		return a.nic;
	if (cidr_parse(f[1], &a.ip, &a.prefix) < 0)
		return gplan_fail(eb, cap, "netaddr: %s: bad address %s", f[0], f[1]);
	if (p->n_netaddrs >= GPLAN_MAX_NETADDRS)
		return gplan_fail(eb, cap, "netaddr: more than %d", GPLAN_MAX_NETADDRS);
	p->netaddrs[p->n_netaddrs++] = a;
	return 0;
}

/* netroute MAC DST/PREFIX GW|- */
int gplan_k_netroute(struct gplan *p, char **f, char *eb, size_t cap)
{
	struct gplan_netroute r = { 0 };

	if ((r.nic = nic_by_mac(p, f[0], "netroute", eb, cap)) < 0)
		return r.nic;
	if (cidr_parse(f[1], &r.dst, &r.prefix) < 0)
		return gplan_fail(eb, cap, "netroute: %s: bad destination %s", f[0], f[1]);
	if (strcmp(f[2], "-") && (ip_parse(f[2], &r.gw) < 0 || r.gw.family != r.dst.family))
		return gplan_fail(eb, cap, "netroute: %s: bad gateway %s", f[0], f[2]);
	if (p->n_netroutes >= GPLAN_MAX_NETROUTES)
		return gplan_fail(eb, cap, "netroute: more than %d", GPLAN_MAX_NETROUTES);
	p->netroutes[p->n_netroutes++] = r;
	return 0;
}

