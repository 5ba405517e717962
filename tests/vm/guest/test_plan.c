/* ocivm-init's unprivileged helpers: gspec -> apply-plan, the name tables,
 * mount option parsing, PATH resolution and the root-confined path join. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "gspec.h"
#include "vm/guest/plan.h"
#include "fileio.h"
#include "vm/guest/setup.h"
#include "vm/guest/spawn.h"
#include "vm/guest/userns.h"
#include "vm/guest/ns.h"

static char *build_spec(size_t *len)
{
	struct gspec_writer w;
	char *text;

	gspec_writer_init(&w);
	gspec_putf(&w, "version", "1");
	gspec_putf(&w, "id", "web");
	gspec_put(&w, "rootfs", 2, (const char *const[]){ "rootfs0", "0" });
	gspec_putf(&w, "rootfs_fstype", "erofs");
	gspec_put(&w, "image", 2, (const char *const[]){ "image0", "ext4" });
	gspec_putf(&w, "hostname", "box");
	gspec_putf(&w, "namespace", "pid");
	gspec_putf(&w, "namespace", "ipc");
	gspec_putf(&w, "namespace", "uts");
	gspec_putf(&w, "namespace", "mount");
	gspec_putf(&w, "arg", "/bin/sh");
	gspec_putf(&w, "arg", "-c");
	gspec_putf(&w, "arg", "echo hello world; exit 3");
	gspec_putf(&w, "env", "PATH=/usr/bin:/bin");
	gspec_putf(&w, "env", "%s", "GREETING=a b%c");
	gspec_putf(&w, "cwd", "/tmp");
	gspec_put(&w, "user", 3, (const char *const[]){ "1000", "100", "022" });
	gspec_putf(&w, "gid", "5");
	gspec_putf(&w, "gid", "6");
	gspec_putf(&w, "terminal", "1");
	gspec_put(&w, "winsize", 2, (const char *const[]){ "31", "97" });
	gspec_putf(&w, "nnp", "1");
	gspec_putf(&w, "oom", "-500");
	gspec_put(&w, "rlimit", 3, (const char *const[]){ "RLIMIT_NOFILE", "1024", "4096" });
	gspec_put(&w, "cap", 2, (const char *const[]){ "bounding", "CAP_KILL" });
	gspec_put(&w, "cap", 2, (const char *const[]){ "ambient", "CAP_NET_BIND_SERVICE" });
	gspec_putf(&w, "memory", "50593792");
	gspec_putf(&w, "pids", "32");
	gspec_put(&w, "uidmap", 3, (const char *const[]){ "0", "1000", "10" });
	gspec_put(&w, "gidmap", 3, (const char *const[]){ "0", "2000", "1" });
	gspec_put(&w, "gidmap", 3, (const char *const[]){ "1", "3000", "65535" });
	gspec_put(&w, "mount", 4, (const char *const[]){ "/proc", "proc", "proc", "-" });
	gspec_put(&w, "mount", 4, (const char *const[]){ "/dev", "tmpfs", "tmpfs", "nosuid,mode=755" });
	gspec_put(&w, "copy", 7, (const char *const[]){ "0", ".", "f", "0644", "0", "0", "68690a" });
	gspec_put(&w, "copymount", 3, (const char *const[]){ "/etc/resolv.conf", "0", "rbind,ro" });
	gspec_put(&w, "copy", 7, (const char *const[]){ "1", ".", "d", "0755", "1", "2", "-" });
	gspec_put(&w, "copy", 7, (const char *const[]){ "1", "a/b", "l", "0777", "0", "0", "2e2e2f78" });
	gspec_put(&w, "copymount", 3, (const char *const[]){ "/mnt/d", "1", "-" });
	gspec_put(&w, "sysctl", 2, (const char *const[]){ "net.ipv4.ip_forward", "1" });
	gspec_putf(&w, "masked", "/proc/kcore");
	gspec_putf(&w, "readonly", "/proc/sys");
	gspec_put(&w, "device", 7, (const char *const[]){ "/dev/test1", "c", "1", "3", "0644", "1", "2" });
	gspec_put(&w, "device", 7, (const char *const[]){ "/dev/sdz", "b", "8", "0", "0600", "0", "6" });
	gspec_put(&w, "device", 7, (const char *const[]){ "/dev/u", "u", "4095", "1048575", "7777", "4294967294", "0" });
	gspec_put(&w, "device", 7, (const char *const[]){ "/run/fifo", "p", "0", "0", "0666", "0", "0" });
	assert_int_equal(gspec_finish(&w, &text, len), 0);
	return text;
}

static void test_parse_full(void **state)
{
	size_t len;
	char *text = build_spec(&len), eb[256] = "";
	struct gplan *p = calloc(1, sizeof(*p));

	assert_int_equal(gplan_parse(text, len, p, eb, sizeof(eb)), 0);
	assert_string_equal(p->id, "web");
	assert_string_equal(p->rootfs_serial, "rootfs0");
	assert_int_equal(p->rootfs_ro, 0);
	assert_string_equal(p->rootfs_fstype, "erofs");
	assert_string_equal(p->image_serial, "image0");
	assert_string_equal(p->hostname, "box");
	assert_null(p->domainname);
	assert_int_equal(p->n_args, 3);
	assert_string_equal(p->args[2], "echo hello world; exit 3");
	assert_null(p->args[3]);
	assert_string_equal(gplan_getenv(p, "GREETING"), "a b%c");
	assert_null(gplan_getenv(p, "GREET"));
	assert_string_equal(p->cwd, "/tmp");
	assert_int_equal(p->uid, 1000);
	assert_int_equal(p->gid, 100);
	assert_int_equal(p->umask, 022);
	assert_int_equal(p->n_gids, 2);
	assert_int_equal(p->terminal, 1);
	assert_int_equal(p->ws_rows, 31);
	assert_int_equal(p->ws_cols, 97);
	assert_int_equal(p->nnp, 1);
	assert_int_equal(p->oom, -500);
	assert_int_equal(p->rlimits[0].resource, RLIMIT_NOFILE);
	assert_int_equal(p->rlimits[0].hard, 4096);
	assert_true(p->has_caps);
	assert_true(p->caps[GCAP_BOUNDING] == 1ull << 5);       /* CAP_KILL */
	assert_true(p->caps[GCAP_AMBIENT] == 1ull << 10);       /* CAP_NET_BIND_SERVICE */
	assert_int_equal(p->caps[GCAP_EFFECTIVE], 0);
	assert_true(p->memory_max == 50593792);
	assert_true(p->pids_max == 32);
	assert_int_equal(p->ns, GNS_PID | GNS_IPC | GNS_UTS | GNS_MOUNT);
	assert_int_equal(p->n_uidmaps, 1);
	assert_int_equal(p->uidmaps[0].outside, 1000);
	assert_int_equal(p->uidmaps[0].count, 10);
	assert_int_equal(p->n_gidmaps, 2);
	assert_int_equal(p->gidmaps[1].inside, 1);
	assert_int_equal(p->gidmaps[1].count, 65535);
	assert_int_equal(p->n_mounts, 4);
	assert_string_equal(p->mounts[1].opts, "nosuid,mode=755");
	assert_int_equal(p->mounts[1].copy, -1);
	/* copies of host bind mounts, in mount order */
	assert_string_equal(p->mounts[2].dest, "/etc/resolv.conf");
	assert_int_equal(p->mounts[2].copy, 0);
	assert_string_equal(p->mounts[2].opts, "rbind,ro");
	assert_int_equal(p->mounts[3].copy, 1);
	assert_int_equal(p->n_copies, 3);
	assert_int_equal(p->copies[0].kind, 'f');
	assert_int_equal(p->copies[0].mode, 0644);
	assert_int_equal(p->copies[0].len, 3);
	assert_memory_equal(p->copies[0].data, "hi\n", 3);
	assert_int_equal(p->copies[1].kind, 'd');
	assert_int_equal(p->copies[1].uid, 1);
	assert_int_equal(p->copies[1].gid, 2);
	assert_int_equal(p->copies[1].len, 0);
	assert_string_equal(p->copies[2].rel, "a/b");
	assert_string_equal(p->copies[2].data, "../x");   /* a link target, NUL-terminated */
	assert_string_equal(p->sysctls[0].key, "net.ipv4.ip_forward");
	assert_string_equal(p->masked[0], "/proc/kcore");
	assert_string_equal(p->readonly[0], "/proc/sys");
	/* linux.devices: every field */
	assert_int_equal(p->n_devices, 4);
	assert_string_equal(p->devices[0].path, "/dev/test1");
	assert_int_equal(p->devices[0].type, 'c');
	assert_int_equal(p->devices[0].major, 1);
	assert_int_equal(p->devices[0].minor, 3);
	assert_int_equal(p->devices[0].mode, 0644);
	assert_int_equal(p->devices[0].uid, 1);
	assert_int_equal(p->devices[0].gid, 2);
	assert_int_equal(p->devices[1].type, 'b');
	assert_int_equal(p->devices[1].gid, 6);
	assert_int_equal(p->devices[2].type, 'c');   /* u: unbuffered char, made as c */
	assert_int_equal(p->devices[2].major, 4095);
	assert_int_equal(p->devices[2].minor, 1048575);
	assert_int_equal(p->devices[2].mode, 07777);
	assert_int_equal(p->devices[2].uid, 4294967294u);
	assert_int_equal(p->devices[3].type, 'p');
	assert_string_equal(p->devices[3].path, "/run/fifo");
	free(p);
	free(text);
}

static void expect_reject(const char *spec, const char *why)
{
	char buf[1024], eb[256] = "";
	struct gplan *p = calloc(1, sizeof(*p));

	snprintf(buf, sizeof(buf), "%s", spec);
	assert_int_equal(gplan_parse(buf, strlen(buf), p, eb, sizeof(eb)), -EINVAL);
	if (!strstr(eb, why))
		fail_msg("reason \"%s\" lacks \"%s\"", eb, why);
	free(p);
}

static void test_parse_rejects(void **state)
{
	const char *head = "version 1\nrootfs r 1\narg sh\n";
	char buf[512];

	expect_reject("version 1\nrootfs r 1\narg sh\n", "truncated");
	expect_reject("version 2\nend\n", "unsupported gspec version");
	expect_reject("version 1\nfrobnicate 1\nend\n", "unknown key frobnicate");
	expect_reject("version 1\narg sh\nend\n", "no rootfs");
	expect_reject("version 1\nrootfs r 1\nend\n", "no process args");
#define REJ(line, why) do { snprintf(buf, sizeof(buf), "%s%s\nend\n", head, line); \
		expect_reject(buf, why); } while (0)
	REJ("rootfs r 2", "expected 0 or 1");
	REJ("rootfs_fstype xfs", "unsupported filesystem");
	REJ("rlimit RLIMIT_BOGUS 1 1", "unknown resource");
	REJ("rlimit RLIMIT_NOFILE 10 5", "bad limits");
	REJ("cap bounding CAP_FLY", "unknown capability");
	REJ("cap sideways CAP_KILL", "unknown set");
	REJ("user 0 0 999", "bad umask");
	REJ("user -1 0 -", "bad uid");
	REJ("cwd relative", "not absolute");
	REJ("env NOEQUALS", "NAME=VALUE");
	REJ("oom 5000", "-1000..1000");
	REJ("memory 0", "memory: bad limit");
	REJ("pids 0", "pids: bad limit");
	REJ("namespace pidd", "namespace: unknown type pidd");
	REJ("namespace uts\nnamespace uts", "namespace: duplicate uts");
	REJ("pids x", "pids: bad limit");
	REJ("uidmap 0 1000 0", "uidmap: bad range");
	REJ("gidmap 4294967295 0 2", "gidmap: bad range");
	REJ("uidmap 0 1000", "fields, expected 3");
	REJ("uidmap 0 1000 10", "needs both uidmap and gidmap");
	REJ("memory -5", "memory: bad limit");
	REJ("memory 9223372036854775808", "memory: bad limit");
	REJ("mount rel tmpfs tmpfs -", "not absolute");
	REJ("sysctl ../../etc/x 1", "bad key");
	REJ("arg a b", "fields, expected 1");
	REJ("masked relative", "not absolute");
	REJ("device dev/x c 1 3 0644 0 0", "device: path dev/x is not absolute");
	REJ("device /dev/x x 1 3 0644 0 0", "type x is not one of c, b, u, p");
	REJ("device /dev/x cb 1 3 0644 0 0", "type cb is not one of");
	REJ("device /dev/x c 4096 3 0644 0 0", "bad major/minor");
	REJ("device /dev/x c 1 1048576 0644 0 0", "bad major/minor");
	REJ("device /dev/x c -1 3 0644 0 0", "bad major/minor");
	REJ("device /dev/x c 1 3 0999 0 0", "bad mode");
	REJ("device /dev/x c 1 3 10000 0 0", "bad mode");
	REJ("device /dev/x c 1 3 0644 4294967295 0", "bad uid/gid");
	REJ("device /dev/x c 1 3 0644 0 x", "bad uid/gid");
	REJ("device /dev/x c 1 3 0644 0", "fields, expected 7");
	REJ("copy 0 ../x f 0644 0 0 -", "bad relative path ../x");
	REJ("copy 0 a/../b f 0644 0 0 -", "bad relative path");
	REJ("copy 0 /abs f 0644 0 0 -", "bad relative path");
	REJ("copy 0 a/./b f 0644 0 0 -", "bad relative path");
	REJ("copy 0 a// f 0644 0 0 -", "bad relative path");
	REJ("copy 0 . x 0644 0 0 -", "kind x is not f, d or l");
	REJ("copy 0 . f 0644 0 0 abc", "data is not hex");
	REJ("copy 0 . f 0644 0 0 zz", "data is not hex");
	REJ("copy 0 . l 0777 0 0 -", "empty link target");
	REJ("copy 0 . f 08 0 0 -", "bad mode/uid/gid");
	REJ("copymount /x 3 -", "no copy 3");
	REJ("copymount x 0 -", "not absolute");
	REJ("seed 00", "seed: expected 16..");
	REJ("seed 0g0102030405060708090a0b0c0d0e0f", "seed: expected");
	REJ("clock 0 0", "clock: bad seconds");
	REJ("clock 1764900000 1000000000", "clock: bad nanoseconds");
	REJ("clock 1764900000x 5", "clock: bad seconds");
	REJ("restored 2", "expected 0 or 1");
	REJ("winsize 0 80", "winsize: 0 80 is not ROWS COLS in 1..65535");
	REJ("winsize 24 0", "winsize: 24 0 is not ROWS COLS");
	REJ("winsize 65536 80", "winsize: 65536 80 is not");
	REJ("winsize -1 80", "is not ROWS COLS");
	REJ("winsize 24x 80", "is not ROWS COLS");
	REJ("winsize 24", "fields, expected 2");
#undef REJ
}

/* The caller's network (vm/guest/plan_net.c): nic, netaddr, netroute. */
static void test_parse_net(void **state)
{
	char buf[1024], eb[256] = "";
	struct gplan *p = calloc(1, sizeof(*p));
	const char *head = "version 1\nrootfs r 1\narg sh\n";

	snprintf(buf, sizeof(buf), "%snic 02:42:0a:e7:1b:02 9000 eth0\n"
		 "nic 02:42:0a:e7:1b:03 1500 eth1\n"
		 "netaddr 02:42:0a:e7:1b:02 10.231.27.2/24\n"
		 "netaddr 02:42:0a:e7:1b:02 2001:db8:1b::2/64\n"
		 "netaddr 02:42:0a:e7:1b:03 10.233.27.2/24\n"
		 "netroute 02:42:0a:e7:1b:02 0.0.0.0/0 10.231.27.1\n"
		 "netroute 02:42:0a:e7:1b:03 192.0.2.0/24 -\n"
		 "netroute 02:42:0a:e7:1b:02 ::/0 2001:db8:1b::1\nend\n", head);
	assert_int_equal(gplan_parse(buf, strlen(buf), p, eb, sizeof(eb)), 0);
	assert_int_equal(p->n_nics, 2);
	assert_memory_equal(p->nics[0].mac, "\x02\x42\x0a\xe7\x1b\x02", 6);
	assert_int_equal(p->nics[0].mtu, 9000);
	assert_string_equal(p->nics[1].name, "eth1");
	assert_int_equal(p->n_netaddrs, 3);
	assert_int_equal(p->netaddrs[1].nic, 0);
	assert_int_equal(p->netaddrs[1].ip.family, AF_INET6);
	assert_int_equal(p->netaddrs[1].prefix, 64);
	assert_int_equal(p->netaddrs[2].nic, 1);
	assert_memory_equal(p->netaddrs[2].ip.a, "\x0a\xe9\x1b\x02", 4);
	assert_int_equal(p->n_netroutes, 3);
	assert_int_equal(p->netroutes[0].prefix, 0);
	assert_memory_equal(p->netroutes[0].gw.a, "\x0a\xe7\x1b\x01", 4);
	assert_int_equal(p->netroutes[1].nic, 1);
	assert_int_equal(p->netroutes[1].gw.family, 0);
	assert_int_equal(p->netroutes[2].dst.family, AF_INET6);
	free(p);

	char rej[512];
#define REJ(line, why) do { snprintf(rej, sizeof(rej), "%snic 02:00:00:00:00:01 1500 eth0\n%s\nend\n", \
		head, line); expect_reject(rej, why); } while (0)
	REJ("nic 02:00:00:00:00:0 1500 eth1", "nic: bad MAC");
	REJ("nic 02:00:00:00:00:02 67 eth1", "bad MTU");
	REJ("nic 02:00:00:00:00:02 65536 eth1", "bad MTU");
	REJ("nic 02:00:00:00:00:02 1500 a/b", "bad name");
	REJ("nic 02:00:00:00:00:02 1500 abcdefghijklmnop", "bad name");
	REJ("nic 02:00:00:00:00:01 1500 eth1", "twice");
	REJ("netaddr 02:00:00:00:00:09 10.0.0.1/8", "no nic record for 02:00:00:00:00:09");
	REJ("netaddr 02:00:00:00:00:01 10.0.0.1", "bad address");
	REJ("netaddr 02:00:00:00:00:01 10.0.0.1/33", "bad address");
	REJ("netaddr 02:00:00:00:00:01 10.0.0.300/8", "bad address");
	REJ("netaddr 02:00:00:00:00:01 fe80::1/129", "bad address");
	REJ("netroute 02:00:00:00:00:01 0.0.0.0/0 fe80::1", "bad gateway");
	REJ("netroute 02:00:00:00:00:01 10.0.0.0/8 10.1", "bad gateway");
	REJ("netroute 02:00:00:00:00:01 10.0.0.0 -", "bad destination");
	REJ("netroute 02:00:00:00:00:01 10.0.0.0/8", "fields, expected 3");
#undef REJ
	expect_reject("version 1\nrootfs r 1\narg sh\nnic 02:00:00:00:00:01 1500 a\n"
		      "nic 02:00:00:00:00:02 1500 b\nnic 02:00:00:00:00:03 1500 c\n"
		      "nic 02:00:00:00:00:04 1500 d\nnic 02:00:00:00:00:05 1500 e\nend\n",
		      "nic: more than 4");
}

/* The driver's per-VM records (vm/driver/fresh.c): seed, clock, restored. */
static void test_parse_fresh(void **state)
{
	char buf[] = "version 1\nrootfs r 1\narg sh\n"
		     "seed 000102030405060708090a0b0c0d0e0f10111213141516171819ff\n"
		     "clock 1764900000 123456789\nrestored 1\nend\n";
	char eb[256] = "";
	struct gplan *p = calloc(1, sizeof(*p));

	assert_int_equal(gplan_parse(buf, strlen(buf), p, eb, sizeof(eb)), 0);
	assert_int_equal(p->seed_len, 27);
	assert_int_equal((unsigned char)p->seed[1], 1);
	assert_int_equal((unsigned char)p->seed[26], 0xff);
	assert_true(p->clock_sec == 1764900000LL);
	assert_int_equal(p->clock_nsec, 123456789);
	assert_int_equal(p->restored, 1);
	free(p);
}

static void test_tables(void **state)
{
	assert_int_equal(gtab_rlimit("RLIMIT_NPROC"), RLIMIT_NPROC);
	assert_int_equal(gtab_rlimit("NOFILE"), -1);
	assert_int_equal(gtab_cap("CAP_CHOWN"), 0);
	assert_int_equal(gtab_cap("CAP_SYS_ADMIN"), 21);
	assert_int_equal(gtab_cap("CAP_CHECKPOINT_RESTORE"), 40);
	assert_int_equal(gtab_cap("CAP_NOPE"), -1);
	assert_int_equal(gtab_capset("permitted"), GCAP_PERMITTED);
	assert_int_equal(gtab_capset("all"), -1);
}

/* ns.c's pure parts: the pid in the container (NSpid's last number), which
 * sysctls a new ipc/uts namespace needs again, paths under a proc mount. */
static void test_ns_helpers(void **state)
{
	assert_int_equal(gns_parse_nspid("Name:\tsh\nPid:\t57\nNSpid:\t57\t3\nNSsid:\t1\n"), 3);
	assert_int_equal(gns_parse_nspid("Name:\tsh\nNSpid:\t412\n"), 412);
	assert_int_equal(gns_parse_nspid("NSpid:\t9\t8\t1\n"), 1);
	assert_int_equal(gns_parse_nspid("Name:\tsh\nPid:\t57\n"), -1);
	assert_int_equal(gns_parse_nspid("NSpid:\n"), -1);
	assert_int_equal(gns_inner_pid(getpid()), getpid());   /* the test's own namespace */
	assert_int_equal(gns_sysctl_ns("kernel.shmmax"), GNS_IPC);
	assert_int_equal(gns_sysctl_ns("kernel.msgmnb"), GNS_IPC);
	assert_int_equal(gns_sysctl_ns("fs.mqueue.msg_max"), GNS_IPC);
	assert_int_equal(gns_sysctl_ns("kernel.domainname"), GNS_UTS);
	assert_int_equal(gns_sysctl_ns("kernel.shmmaxx"), 0);
	assert_int_equal(gns_sysctl_ns("net.ipv4.ip_forward"), 0);
	assert_true(gns_under("/proc", "/proc/kcore"));
	assert_true(gns_under("/proc/", "/proc/sys"));
	assert_true(gns_under("/proc", "/proc"));
	assert_false(gns_under("/proc", "/process"));
	assert_false(gns_under("/proc", "/sys/firmware"));
	assert_true(gns_under("/", "/anything"));
	assert_int_equal(gtab_ns("pid"), GNS_PID);
	assert_int_equal(gtab_ns("network"), GNS_NETWORK);
	assert_int_equal(gtab_ns("time"), GNS_TIME);
	assert_int_equal(gtab_ns("net"), -1);
}

static void test_userns_format(void **state)
{
	struct gplan_idmap v[2] = { { 0, 1000, 10 }, { 10, 4294967286u, 10 } };
	char buf[64], small[8];

	assert_int_equal(guserns_format(v, 2, buf, sizeof(buf)), 27);
	assert_string_equal(buf, "0 1000 10\n10 4294967286 10\n");
	assert_int_equal(guserns_format(v, 2, small, sizeof(small)), -ENAMETOOLONG);
}

static void test_mntopts(void **state)
{
	struct gmntopts o;

	assert_int_equal(gtab_mntopts("nosuid,noexec,nodev,ro,mode=755,size=65536k", &o), 0);
	assert_int_equal(o.flags, MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY);
	assert_string_equal(o.data, "mode=755,size=65536k");
	assert_int_equal(o.bind, 0);
	assert_int_equal(gtab_mntopts("rbind,rprivate,ro,rw", &o), 0);
	assert_int_equal(o.bind, 1);
	assert_int_equal(o.recursive, 1);
	assert_int_equal(o.propagation, MS_PRIVATE | MS_REC);
	assert_int_equal(o.flags & MS_RDONLY, 0);      /* later rw wins */
	assert_int_equal(gtab_mntopts("-", &o), 0);
	assert_int_equal(o.flags, 0);
	assert_string_equal(o.data, "");
	assert_int_equal(gtab_mntopts("newinstance,ptmxmode=0666,,gid=5", &o), 0);
	assert_string_equal(o.data, "newinstance,ptmxmode=0666,gid=5");
	char big[2000];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(gtab_mntopts(big, &o), -1);
}

static void test_resolve_and_root(void **state)
{
	char tmpl[] = "/tmp/test_guest_plan.XXXXXX", path[PATH_MAX], out[PATH_MAX];
	char *root = mkdtemp(tmpl);
	struct gplan p = { 0 };
	char a0[] = "tool", env[] = "PATH=/nope:/opt/bin";

	assert_non_null(root);
	snprintf(path, sizeof(path), "%s/opt/bin", root);
	assert_int_equal(mkdir_p(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/opt/bin/tool", root);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	p.args[0] = a0;
	p.env[0] = env;
	p.n_env = 1;
	assert_int_equal(gspawn_resolve(&p, root, out, sizeof(out)), 0);
	assert_string_equal(out, "/opt/bin/tool");
	char missing[] = "nothere";
	p.args[0] = missing;
	assert_int_equal(gspawn_resolve(&p, root, out, sizeof(out)), -ENOENT);

	/* a symlink that points out of the root is refused */
	snprintf(path, sizeof(path), "%s/escape", root);
	assert_int_equal(symlink("/etc", path), 0);
	assert_int_equal(gsetup_in_root(root, "/escape", out, sizeof(out)), -EXDEV);
	assert_int_equal(gsetup_in_root(root, "/opt/bin", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "/opt/bin"));
	assert_int_equal(gsetup_in_root(root, "/absent", out, sizeof(out)), -ENOENT);
	snprintf(path, sizeof(path), "rm -rf %s", root);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_full),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_parse_fresh),
		cmocka_unit_test(test_parse_net),
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_mntopts),
		cmocka_unit_test(test_userns_format),
		cmocka_unit_test(test_ns_helpers),
		cmocka_unit_test(test_resolve_and_root),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
