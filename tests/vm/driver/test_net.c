/* The caller's network (vm/driver/net.c, net_tc.c): reading a namespace's
 * interfaces and connecting them to taps with tc, then undoing it.  Real
 * namespaces, so as root with `ip` (iproute2): each case skips otherwise.
 * Also the QEMU and ocivm-vmm argv for the taps (no root needed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "vm/driver/driver.h"
#include "vm/driver/net.h"

static char ns[64], nspath[128], rundir[128];

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* stdout of a command, whole. */
static char *out(const char *cmd)
{
	FILE *f = popen(cmd, "r");
	static char buf[16384];
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	buf[n] = '\0';
	if (f)
		pclose(f);
	return buf;
}

/* A namespace with veth v0 (MTU 9000, 10.251.7.2/24, 2001:db8:7::2/64, a
 * default route via 10.251.7.1 and 192.0.2.0/24 via 10.251.7.3); the peer
 * stays in the namespace too (nothing of the host is touched). */
static int setup(void **state)
{
	snprintf(ns, sizeof(ns), "ocivm-nt%d", (int)getpid());
	snprintf(nspath, sizeof(nspath), "/run/netns/%s", ns);
	snprintf(rundir, sizeof(rundir), "/tmp/ocivm-nt%d", (int)getpid());
	if (geteuid() != 0 || sh("ip netns add %s 2>/dev/null", ns) != 0)
		return 0;
	mkdir(rundir, 0700);
	if (sh("ip -n %s link add v0 mtu 9000 type veth peer name v0p mtu 9000 && "
	       "ip -n %s link set v0 address 02:aa:bb:cc:dd:01 && "
	       "ip -n %s addr add 10.251.7.2/24 dev v0 && "
	       "ip -n %s addr add 2001:db8:7::2/64 dev v0 nodad && "
	       "ip -n %s link set v0 up && ip -n %s link set v0p up && "
	       "ip -n %s route add default via 10.251.7.1 && "
	       "ip -n %s route add 192.0.2.0/24 via 10.251.7.3", ns, ns, ns, ns, ns, ns, ns, ns) != 0) {
		sh("ip netns del %s", ns);
		ns[0] = '\0';
	}
	return 0;
}

static int teardown(void **state)
{
	if (ns[0] && access(nspath, F_OK) == 0)
		sh("ip netns del %s", ns);
	sh("rm -rf %s", rundir);
	return 0;
}

static bool have_ns(void)
{
	return ns[0] && access(nspath, F_OK) == 0;
}

static const struct vm_net_nic *find(const struct vm_net *n, const char *name)
{
	for (size_t i = 0; i < n->n; i++)
		if (strcmp(n->nic[i].name, name) == 0)
			return &n->nic[i];
	return NULL;
}

static void test_read(void **state)
{
	struct vm_net net;
	struct oerr err = { 0 };
	char a[64];

	if (!have_ns())
		skip();
	assert_int_equal(vm_net_read(nspath, &net, &err), 0);
	assert_int_equal(net.n, 2);   /* v0 and v0p; not lo */
	const struct vm_net_nic *v = find(&net, "v0");
	assert_non_null(v);
	assert_memory_equal(v->mac, "\x02\xaa\xbb\xcc\xdd\x01", 6);
	assert_int_equal(v->mtu, 9000);
	assert_int_equal(v->n_addrs, 2);  /* the fe80:: one is left out */
	inet_ntop(AF_INET, v->addrs[0].ip.a, a, sizeof(a));
	assert_string_equal(a, "10.251.7.2");
	assert_int_equal(v->addrs[0].prefix, 24);
	assert_int_equal(v->addrs[1].ip.family, AF_INET6);
	inet_ntop(AF_INET6, v->addrs[1].ip.a, a, sizeof(a));
	assert_string_equal(a, "2001:db8:7::2");
	assert_int_equal(v->addrs[1].prefix, 64);
	/* the default route and 192.0.2.0/24; the kernel's prefix routes not */
	assert_int_equal(v->n_routes, 2);
	bool dflt = false, net192 = false;
	for (size_t i = 0; i < v->n_routes; i++) {
		const struct vm_net_route *r = &v->routes[i];
		inet_ntop(AF_INET, r->gw.a, a, sizeof(a));
		if (r->prefix == 0 && strcmp(a, "10.251.7.1") == 0)
			dflt = true;
		if (r->prefix == 24 && strcmp(a, "10.251.7.3") == 0)
			net192 = true;
	}
	assert_true(dflt && net192);
}

static void test_read_bad(void **state)
{
	struct vm_net net;
	struct oerr err = { 0 };

	assert_int_equal(vm_net_read("/nonexistent-ocivm/ns", &net, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "/nonexistent-ocivm/ns"));
	err = (struct oerr){ 0 };
	if (geteuid() != 0)
		skip();
	/* a namespace file of another type: setns refuses it */
	assert_int_equal(vm_net_read("/proc/self/ns/uts", &net, &err), -EINVAL);
}

static void test_connect_cleanup(void **state)
{
	struct vm_net net, one = { 0 };
	struct oerr err = { 0 };
	int fds[VM_NET_MAX_NICS];
	char tap[16], cmd[256];

	if (!have_ns())
		skip();
	assert_int_equal(vm_net_read(nspath, &net, &err), 0);
	one.n = 1;
	one.nic[0] = *find(&net, "v0");
	if (vm_net_connect(rundir, "ctr-a", nspath, &one, fds, &err) < 0)
		fail_msg("connect: %s", err.msg);
	assert_true(fds[0] >= 0);
	vm_net_tap_name("ctr-a", 0, tap);
	snprintf(cmd, sizeof(cmd), "ip -n %s -d link show %s", ns, tap);
	char *s = out(cmd);
	assert_non_null(strstr(s, "mtu 9000"));
	assert_non_null(strstr(s, "tun type tap"));
	snprintf(cmd, sizeof(cmd), "tc -n %s filter show dev v0 ingress", ns);
	s = out(cmd);
	if (!strstr(s, "mirred") || !strstr(s, tap))
		fail_msg("no redirect v0 -> %s:\n%s", tap, s);
	snprintf(cmd, sizeof(cmd), "tc -n %s filter show dev %s ingress", ns, tap);
	s = out(cmd);
	if (!strstr(s, "mirred") || !strstr(s, "v0"))
		fail_msg("no redirect %s -> v0:\n%s", tap, s);

	/* a second container cannot take the same interface */
	int fds2[VM_NET_MAX_NICS];
	char rd2[160];
	snprintf(rd2, sizeof(rd2), "%s/b", rundir);
	mkdir(rd2, 0700);
	err = (struct oerr){ 0 };
	assert_int_equal(vm_net_connect(rd2, "ctr-b", nspath, &one, fds2, &err), -EBUSY);
	assert_non_null(strstr(err.msg, "v0 already has an ingress qdisc"));
	snprintf(cmd, sizeof(cmd), "%s/net", rd2);
	assert_int_equal(access(cmd, F_OK), -1);
	/* and its failure took nothing of the first's */
	snprintf(cmd, sizeof(cmd), "tc -n %s filter show dev v0 ingress", ns);
	assert_non_null(strstr(out(cmd), "mirred"));

	/* the VMM ends (its fds close): the tap goes; cleanup removes the rest */
	close(fds[0]);
	vm_net_cleanup(rundir);
	snprintf(cmd, sizeof(cmd), "ip -n %s link show", ns);
	s = out(cmd);
	if (strstr(s, "tap"))
		fail_msg("a tap is left:\n%s", s);
	snprintf(cmd, sizeof(cmd), "tc -n %s filter show dev v0 ingress", ns);
	assert_string_equal(out(cmd), "");
	snprintf(cmd, sizeof(cmd), "tc -n %s qdisc show dev v0", ns);
	assert_null(strstr(out(cmd), "ingress"));
	snprintf(cmd, sizeof(cmd), "%s/net", rundir);
	assert_int_equal(access(cmd, F_OK), -1);

	/* the tap still open (a daemon restart: the VMM lives) is removed too */
	assert_int_equal(vm_net_connect(rundir, "ctr-a", nspath, &one, fds, &err), 0);
	vm_net_cleanup(rundir);
	snprintf(cmd, sizeof(cmd), "ip -n %s link show", ns);
	assert_null(strstr(out(cmd), "tap"));
	close(fds[0]);
	vm_net_cleanup(rundir);   /* nothing recorded: nothing done */
}

static void test_argv(void **state)
{
	struct vm_net net = { .n = 2 };
	memcpy(net.nic[0].mac, "\x02\x00\x00\x00\x00\x01", 6);
	memcpy(net.nic[1].mac, "\x02\x00\x00\x00\x00\x02", 6);
	struct vm_config cfg = { .kernel = "/k", .net = &net, .netns = "/run/netns/x" };
	struct vm_paths p;
	struct oerr err = { 0 };
	assert_int_equal(vm_paths_init(&p, "/tmp/rd", &err), 0);
	struct vm_launch l = { .cfg = &cfg, .paths = &p, .binary = "qemu-system-x86_64",
			       .accel = VM_ACCEL_TCG, .net_fds = { 7, 8 }, .n_net = 2 };
	struct strv a;
	strv_init(&a);
	assert_int_equal(vm_driver_qemu.build_argv(&l, &a, &err), 0);
	_cleanup_free_ char *q = strv_join(a.v, a.n);
	assert_non_null(strstr(q, "-netdev tap,id=net0,fd=7,vhost=off -device "
			       "virtio-net-device,netdev=net0,mac=02:00:00:00:00:01"));
	assert_non_null(strstr(q, "-netdev tap,id=net1,fd=8,vhost=off -device "
			       "virtio-net-device,netdev=net1,mac=02:00:00:00:00:02"));
	strv_free(&a);
	strv_init(&a);
	l.binary = "ocivm-vmm";
	assert_int_equal(vm_driver_vmm.build_argv(&l, &a, &err), 0);
	_cleanup_free_ char *v = strv_join(a.v, a.n);
	assert_non_null(strstr(v, "--net tapfd=7,mac=02:00:00:00:00:01 --net tapfd=8,mac=02:00:00:00:00:02"));
	strv_free(&a);
}

/* The log lines of net_watch.c. */
static char logged[4096];
static void sink(void *ctx, enum log_level level, const char *line)
{
	size_t n = strlen(logged);
	snprintf(logged + n, sizeof(logged) - n, "%s\n", line);
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* An interface deleted while the VM runs is logged once; a watch opened
 * after it went says so at once; no record, no watch.  Last: v0 goes. */
static void test_watch(void **state)
{
	struct vm_net net, one = { 0 };
	struct oerr err = { 0 };
	struct vm_net_watch *w = (void *)1;
	int fds[VM_NET_MAX_NICS];
	char want[256], rd2[160];

	snprintf(rd2, sizeof(rd2), "%s/none", rundir);
	assert_int_equal(vm_net_watch_open(rd2, &w, &err), 0);
	assert_null(w);   /* nothing recorded: no network to watch */
	if (!have_ns())
		skip();
	log_set_sink(sink, NULL);
	assert_int_equal(vm_net_read(nspath, &net, &err), 0);
	one.n = 1;
	one.nic[0] = *find(&net, "v0");
	if (vm_net_connect(rundir, "ctr-w", nspath, &one, fds, &err) < 0)
		fail_msg("connect: %s", err.msg);
	if (vm_net_watch_open(rundir, &w, &err) < 0)
		fail_msg("watch: %s", err.msg);
	assert_non_null(w);
	vm_net_watch_read(w, true);
	assert_string_equal(logged, "");   /* nothing gone yet */
	assert_int_equal(sh("ip -n %s link set v0p mtu 1500", ns), 0);   /* a change, not a loss */
	assert_int_equal(sh("ip -n %s link del v0p", ns), 0);           /* v0 goes with its peer */
	snprintf(want, sizeof(want), "ctr-w: network: interface v0 (index %d) left %s (deleted or "
		 "moved): the guest's v0 has no traffic now; the VM keeps running",
		 one.nic[0].ifindex, nspath);
	for (int i = 0; i < 100 && !strstr(logged, want); i++) {
		struct pollfd p = { vm_net_watch_fd(w), POLLIN, 0 };
		poll(&p, 1, 100);
		vm_net_watch_read(w, true);
	}
	if (count(logged, want) != 1)
		fail_msg("want once '%s', logged:\n%s", want, logged);
	vm_net_watch_read(w, true);
	assert_int_equal(count(logged, "interface v0"), 1);
	vm_net_watch_close(w);

	logged[0] = '\0';   /* opened after it went: said at once */
	assert_int_equal(vm_net_watch_open(rundir, &w, &err), 0);
	assert_int_equal(count(logged, want), 1);
	vm_net_watch_close(w);
	log_set_sink(NULL, NULL);
	close(fds[0]);
	vm_net_cleanup(rundir);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "ip -n %s link show", ns);
	assert_null(strstr(out(cmd), "tap"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_argv),
		cmocka_unit_test(test_read_bad),
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_connect_cleanup),
		cmocka_unit_test(test_watch),   /* last: it deletes v0 */
	};
	return cmocka_run_group_tests_name("vm_net", tests, setup, teardown);
}
