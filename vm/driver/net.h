/* The network the caller made (vm/driver/net.c, net_tc.c): rtnetlink over
 * libmnl, in whatever network namespace the calling thread is in. */
#ifndef OCIVM_VM_DRIVER_NET_H
#define OCIVM_VM_DRIVER_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm/vm.h"

struct mnl_socket;
struct nlmsghdr;

/* One rtnetlink socket and its buffer. */
struct vm_nl {
	struct mnl_socket *s;
	unsigned portid, seq;
	char *buf;                 /* VM_NL_BUF bytes */
};
#define VM_NL_BUF 32768

int vm_nl_open(struct vm_nl *nl);
void vm_nl_close(struct vm_nl *nl);
/* A request header in nl->buf: type, flags (NLM_F_REQUEST|NLM_F_ACK added). */
struct nlmsghdr *vm_nl_msg(struct vm_nl *nl, uint16_t type, uint16_t flags);
/* Send nlh, read the answer to the end: cb (may be NULL) for each data
 * message of a dump.  0, or the kernel's -errno. */
typedef int (*vm_nl_cb)(const struct nlmsghdr *nlh, void *data);
int vm_nl_talk(struct vm_nl *nl, struct nlmsghdr *nlh, vm_nl_cb cb, void *data);

/* tc, Kata's tcfilter model: an ingress qdisc on each side and a u32
 * match-all filter with `mirred egress redirect` to the other side.
 * The qdisc add is exclusive (-EEXIST when one is there). */
int vm_tc_ingress(struct vm_nl *nl, int ifindex, bool add);
#define VM_TC_PRIO 0xc0c1      /* our filters' priority (tc filter show: pref 49345) */
int vm_tc_redirect(struct vm_nl *nl, int from_ifindex, int to_ifindex);
/* Remove our filter (VM_TC_PRIO) from ifindex's ingress. */
int vm_tc_redirect_del(struct vm_nl *nl, int ifindex);

/* Links: MTU (0: unchanged) and up; delete. */
int vm_nl_link_set(struct vm_nl *nl, int ifindex, unsigned mtu, bool up);
int vm_nl_link_del(struct vm_nl *nl, int ifindex);

/* The tap name of NIC i of container id: "tap<i>_<8 hex of id's hash>". */
void vm_net_tap_name(const char *id, size_t i, char name[16]);

/* What vm_net_connect made, as run_dir/net records it. */
struct vm_net_rec_nic {
	int veth;                  /* ifindex */
	char veth_name[16], tap[16];
	int qdisc;                 /* 1: we made the veth's ingress qdisc */
};
struct vm_net_rec {
	char netns[4096];
	char id[256];              /* the container's (for log lines); "" in old records */
	size_t n;
	struct vm_net_rec_nic nic[VM_NET_MAX_NICS];
};
/* 0, -ENOENT (none), -EINVAL (no namespace in it). */
int vm_net_rec_read(const char *run_dir, struct vm_net_rec *rc);
/* fn(arg, err) in a thread that entered the network namespace netns. */
int vm_net_in_netns(const char *netns, int (*fn)(void *, struct oerr *), void *arg,
		    struct oerr *err);

/* net_tpl.c: for a template VM, n taps (IFF_VNET_HDR, down) in a new
 * network namespace of their own, held by *ret_nsfd: 0, or -errno with
 * nothing left open.  vm_net_tpl_taps_close closes what is not -1. */
int vm_net_tpl_taps(size_t n, int fds[VM_NET_MAX_NICS], int *ret_nsfd, struct oerr *err);
void vm_net_tpl_taps_close(int fds[VM_NET_MAX_NICS], int nsfd);

/* net_watch.c: while the VM runs, an rtnetlink socket in the namespace
 * (RTMGRP_LINK) tells when an interface run_dir/net records (or its tap)
 * is deleted or leaves the namespace: the daemon's log says so once per
 * interface; the VM runs on (its NIC just has no traffic). */
struct vm_net_watch;
/* 0 and *ret (NULL when run_dir has no record: no network), or -errno. */
int vm_net_watch_open(const char *run_dir, struct vm_net_watch **ret, struct oerr *err);
int vm_net_watch_fd(const struct vm_net_watch *w);
/* Read what is pending (never blocks) and, with report, log what went. */
void vm_net_watch_read(struct vm_net_watch *w, bool report);
void vm_net_watch_close(struct vm_net_watch *w);

/* vm_create's part (vm.c): in cfg->netns, a tap per NIC of cfg->net
 * (IFF_TAP|IFF_NO_PI|IFF_VNET_HDR, the NIC's MTU, up) connected both ways;
 * what was made is recorded in run_dir/net first, so vm_net_cleanup finds
 * it after a crash.  fds[i]: the taps (close-on-exec; the caller hands
 * them to the hypervisor and closes its copies). */
int vm_net_connect(const char *run_dir, const char *id, const char *netns,
		   const struct vm_net *net, int fds[VM_NET_MAX_NICS], struct oerr *err);
/* Undo what run_dir/net records (filters, qdiscs we made, taps still
 * there), then remove it; nothing when there is none.  Best effort: what
 * cannot be removed is logged to stderr. */
void vm_net_cleanup(const char *run_dir);

#endif
