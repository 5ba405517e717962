/* The gspec ops builds from a config: every record the guest needs, in the
 * documented order, and parseable by the guest's parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fileio.h"
#include "gspec.h"
#include "ops/runtime_int.h"

static void test_full(void **state)
{
	char *text = NULL, *g = NULL;
	size_t len, glen;
	struct ops_config *cfg = NULL;
	struct oerr err = { 0 };

	assert_int_equal(file_read_all("tests/ops/configs/full.json", 1 << 20, &text, &len), 0);
	assert_int_equal(ops_config_parse(text, len, &cfg, &err), 0);
	char note[256];
	assert_int_equal(ops_build_gspec(cfg, "web", false, cfg->vm.has_image, NULL, &g, &glen,
					 note, sizeof(note), &err), 0);
	assert_string_equal(note, "");
	static const char *const want =
		"version 1\nid web\nrootfs rootfs 1\nrootfs_fstype ext4\nimage image ext4\n"
		"hostname box\ndomainname example.org\n"
		"namespace pid\nnamespace network\nnamespace user\n"
		"arg sh\narg -c\narg echo%20hi\n"
		"env PATH=/bin:/usr/bin\nenv TERM=xterm\ncwd /home\nuser 1000 100 0022\n"
		"gid 5\ngid 6\nterminal 0\nnnp 1\noom -500\n"
		"rlimit RLIMIT_NOFILE 1024 4096\nrlimit RLIMIT_CORE 0 18446744073709551615\n"
		"cap bounding CAP_CHOWN\ncap bounding CAP_KILL\ncap effective CAP_KILL\n"
		"memory 104857600\npids 64\nuidmap 0 100000 65536\ngidmap 0 2000 1\ngidmap 1 3000 65535\n"
		"mount /proc proc proc nosuid,noexec\nmount /tmp tmpfs none -\n"
		"sysctl net.ipv4.ip_forward 1\nmasked /proc/kcore\nreadonly /proc/sys\n"
		"device /dev/fuse c 10 229 0644 1 2\ndevice /dev/fifo p 0 0 0666 0 0\n"
		"device /dev/vdz b 254 16 0666 0 0\nend\n";
	assert_string_equal(g, want);
	assert_int_equal(glen, strlen(want));

	struct gspec_parser ps;
	struct gspec_record r;
	int n = 0, rc;
	gspec_parser_init(&ps, g, glen);
	while ((rc = gspec_next(&ps, &r)) == 1)
		n++;
	assert_int_equal(rc, 0);
	assert_int_equal(n, 40);   /* namespace, uidmap/gidmap/memory/pids, device and copy records too */
	free(g);
	ops_config_free(cfg);
	free(text);
}

/* The caller's network (vm_net_read's result) as nic, netaddr, netroute
 * records after the rest, in the form vm/guest/plan_net.c parses. */
static void test_net(void **state)
{
	struct ops_config *cfg = NULL;
	struct oerr err = { 0 };
	const char *text = "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"},"
			   "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0}}}";
	struct vm_net net = { .n = 1 };
	struct vm_net_nic *n = &net.nic[0];
	char *g = NULL;
	size_t glen;

	assert_int_equal(ops_config_parse(text, strlen(text), &cfg, &err), 0);
	snprintf(n->name, sizeof(n->name), "eth0");
	memcpy(n->mac, "\x02\x42\x0a\x58\x00\x05", 6);
	n->mtu = 9000;
	n->addrs[0] = (struct vm_net_addr){ { AF_INET, { 10, 88, 0, 5 } }, 16 };
	n->addrs[1] = (struct vm_net_addr){ { AF_INET6, { 0x20, 0x01, 0x0d, 0xb8, [15] = 5 } }, 64 };
	n->n_addrs = 2;
	n->routes[0] = (struct vm_net_route){ .dst = { AF_INET }, .gw = { AF_INET, { 10, 88, 0, 1 } } };
	n->routes[1] = (struct vm_net_route){ .dst = { AF_INET, { 192, 0, 2, 0 } }, .prefix = 24 };
	n->n_routes = 2;
	assert_int_equal(ops_build_gspec(cfg, "n", false, false, &net, &g, &glen, NULL, 0, &err), 0);
	const char *want = "nic 02:42:0a:58:00:05 9000 eth0\n"
			   "netaddr 02:42:0a:58:00:05 10.88.0.5/16\n"
			   "netaddr 02:42:0a:58:00:05 2001:db8::5/64\n"
			   "netroute 02:42:0a:58:00:05 0.0.0.0/0 10.88.0.1\n"
			   "netroute 02:42:0a:58:00:05 192.0.2.0/24 -\nend\n";
	if (!strstr(g, want))
		fail_msg("net records missing:\n%s", g);
	free(g);
	g = NULL;
	/* no network: no records */
	assert_int_equal(ops_build_gspec(cfg, "n", false, false, NULL, &g, &glen, NULL, 0, &err), 0);
	assert_null(strstr(g, "nic "));
	free(g);
	ops_config_free(cfg);
}

static void test_too_big(void **state)
{
	/* 20 args of 4000 bytes: a valid config whose spec cannot fit a frame */
	size_t cap = 200000;
	char *text = malloc(cap), *p = text;
	p += sprintf(p, "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"process\":{"
		     "\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0},\"args\":[");
	for (int i = 0; i < 20; i++) {
		*p++ = i ? ',' : ' ';
		*p++ = '"';
		memset(p, 'a', 4000);
		p += 4000;
		*p++ = '"';
	}
	strcpy(p, "]}}");
	struct ops_config *cfg = NULL;
	struct oerr err = { 0 };
	char *g = NULL;
	size_t glen;
	assert_int_equal(ops_config_parse(text, strlen(text), &cfg, &err), 0);
	assert_int_equal(ops_build_gspec(cfg, "x", false, false, NULL, &g, &glen, NULL, 0, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "larger than 60000 bytes"));
	ops_config_free(cfg);
	free(text);
}

static void test_ambient(void **state)
{
	static const char *const text =
		"{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"r\"},\"process\":{\"cwd\":\"/\","
		"\"user\":{\"uid\":0,\"gid\":0},\"args\":[\"sh\"],\"capabilities\":{"
		"\"permitted\":[\"CAP_KILL\",\"CAP_CHOWN\"],\"inheritable\":[\"CAP_CHOWN\"],"
		"\"ambient\":[\"CAP_KILL\",\"CAP_CHOWN\",\"CAP_SYS_ADMIN\"]}}}";
	struct ops_config *cfg = NULL;
	char *g = NULL, note[256];
	size_t glen;

	assert_int_equal(ops_config_parse(text, strlen(text), &cfg, NULL), 0);
	assert_int_equal(ops_build_gspec(cfg, "x", false, false, NULL, &g, &glen, note, sizeof(note), NULL), 0);
	assert_non_null(strstr(g, "cap ambient CAP_CHOWN\n"));
	assert_null(strstr(g, "cap ambient CAP_KILL"));
	assert_null(strstr(g, "cap ambient CAP_SYS_ADMIN"));
	assert_non_null(strstr(g, "cap permitted CAP_KILL\n"));
	assert_string_equal(note, "CAP_KILL, CAP_SYS_ADMIN: ambient capabilities not also "
			    "permitted and inheritable are not raised");
	free(g);
	ops_config_free(cfg);
}

/* process.consoleSize: a winsize record right after "terminal 1", for the
 * container process (config.json) and an exec'd one (process.json); none
 * without a terminal or a size. */
static void test_console_size(void **state)
{
	static const char *const text =
		"{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"r\"},\"process\":{\"cwd\":\"/\","
		"\"user\":{\"uid\":0,\"gid\":0},\"args\":[\"sh\"],\"terminal\":true,"
		"\"consoleSize\":{\"height\":31,\"width\":97}}}";
	struct ops_config *cfg = NULL;
	char *g = NULL;
	size_t glen;

	assert_int_equal(ops_config_parse(text, strlen(text), &cfg, NULL), 0);
	assert_int_equal(ops_build_gspec(cfg, "x", true, false, NULL, &g, &glen, NULL, 0, NULL), 0);
	assert_non_null(strstr(g, "\nterminal 1\nwinsize 31 97\nnnp 0\n"));
	free(g);
	/* create's terminal=0 (no console): no pty, so no size either */
	assert_int_equal(ops_build_gspec(cfg, "x", false, false, NULL, &g, &glen, NULL, 0, NULL), 0);
	assert_null(strstr(g, "winsize"));
	free(g);
	ops_config_free(cfg);

	static const char *const proc =
		"{\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0},\"args\":[\"stty\",\"size\"],"
		"\"terminal\":true,\"consoleSize\":{\"height\":65535,\"width\":1}}";
	struct ops_process p;
	struct oerr err = { 0 };
	assert_int_equal(ops_process_parse(proc, strlen(proc), &p, &err), 0);
	assert_int_equal(ops_build_exec_gspec(&p, "x", &g, &glen, &err), 0);
	assert_non_null(strstr(g, "\nterminal 1\nwinsize 65535 1\n"));
	free(g);
	ops_process_free(&p);

	static const char *const notty =
		"{\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0},\"args\":[\"true\"],"
		"\"consoleSize\":{\"height\":24,\"width\":80}}";
	assert_int_equal(ops_process_parse(notty, strlen(notty), &p, &err), 0);
	assert_int_equal(ops_build_exec_gspec(&p, "x", &g, &glen, &err), 0);
	assert_null(strstr(g, "winsize"));
	free(g);
	ops_process_free(&p);

	static const char *const zero =
		"{\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0},\"args\":[\"true\"],"
		"\"terminal\":true,\"consoleSize\":{\"height\":0,\"width\":0}}";
	assert_int_equal(ops_process_parse(zero, strlen(zero), &p, &err), 0);
	assert_int_equal(ops_build_exec_gspec(&p, "x", &g, &glen, &err), 0);
	assert_null(strstr(g, "winsize"));
	free(g);
	ops_process_free(&p);

	static const char *const bad =
		"{\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0},\"args\":[\"true\"],"
		"\"terminal\":true,\"consoleSize\":{\"height\":24,\"width\":70000}}";
	assert_int_equal(ops_process_parse(bad, strlen(bad), &p, &err), -EINVAL);
	assert_int_equal(err.code, EINVAL);
	assert_non_null(strstr(err.msg, "process.consoleSize.width: must be between 0 and 65535"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_net),
		cmocka_unit_test(test_ambient),
		cmocka_unit_test(test_console_size),
	};
	return cmocka_run_group_tests_name("ops_gspec_build", tests, NULL, NULL);
}
