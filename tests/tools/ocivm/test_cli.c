/* Unit tests of ocivm's pure parts (arguments, signal names, error phrases,
 * log lines) and of its tree helpers against a plain directory that looks
 * like a mounted tree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "tools/ocivm/ocivm.h"
#include "ops/ops.h"

#define ARGV(...) ((char *[]){ "ocivm", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "ocivm", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(a, err, ...) ocivm_parse_args(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), a, err)

static void test_args_podman_create(void **s)
{
	struct ocivm_args a;
	struct oerr err = { 0 };

	/* what conmon passes */
	assert_int_equal(PARSE(&a, &err, "--root=/run/ocivm", "--systemd-cgroup",
			       "--log=/tmp/l.json", "--log-format=json", "create",
			       "--bundle", "/b", "--pid-file", "/p", "--no-new-keyring",
			       "--console-socket=/s", "--preserve-fds", "2", "c1"), 0);
	assert_int_equal(a.cmd, CMD_CREATE);
	assert_string_equal(a.root, "/run/ocivm");
	assert_string_equal(a.log_path, "/tmp/l.json");
	assert_int_equal(a.log_format, LOGF_JSON);
	assert_string_equal(a.bundle, "/b");
	assert_string_equal(a.pid_file, "/p");
	assert_string_equal(a.console_socket, "/s");
	assert_int_equal(a.preserve_fds, 2);
	assert_int_equal(a.n_pos, 1);
	assert_string_equal(a.pos[0], "c1");
	assert_int_equal(a.n_ignored, 2); /* --systemd-cgroup, --no-new-keyring */
}

static void test_args_spellings(void **s)
{
	struct ocivm_args a;
	struct oerr err = { 0 };

	assert_int_equal(PARSE(&a, &err, "-root", "/r", "--debug", "run", "-d", "-b=/b", "x"), 0);
	assert_int_equal(a.cmd, CMD_RUN);
	assert_true(a.debug && a.detach);
	assert_string_equal(a.root, "/r");
	assert_string_equal(a.bundle, "/b");
	assert_int_equal(PARSE(&a, &err, "delete", "-f", "x"), 0);
	assert_true(a.force);
	assert_int_equal(PARSE(&a, &err, "list", "-f", "json", "-q"), 0);
	assert_string_equal(a.format, "json");
	assert_true(a.quiet);
	assert_int_equal(PARSE(&a, &err, "ps", "--format=json", "x"), 0);
	assert_string_equal(a.format, "json");
	assert_int_equal(PARSE(&a, &err, "kill", "--all", "x", "KILL"), 0);
	assert_true(a.all);
	assert_int_equal(a.n_pos, 2);
	assert_string_equal(a.pos[1], "KILL");
	assert_int_equal(PARSE(&a, &err, "--criu", "/usr/sbin/criu", "--weird=1", "state", "x"), 0);
	assert_int_equal(a.cmd, CMD_STATE);
	assert_int_equal(a.n_ignored, 2);
	assert_int_equal(PARSE(&a, &err, "events", "--stats", "--interval", "500ms", "x"), 0);
	assert_true(a.stats);
	assert_int_equal(a.interval_ms, 500);
	assert_int_equal(PARSE(&a, &err, "events", "--interval=2", "x"), 0);
	assert_int_equal(a.interval_ms, 2000);
	assert_int_equal(PARSE(&a, &err, "--version"), 0);
	assert_int_equal(a.cmd, CMD_VERSION);
	assert_int_equal(PARSE(&a, &err, "exec", "x", "sh", "-c", "ls"), 0);
	assert_int_equal(a.cmd, CMD_EXEC);
	assert_int_equal(a.n_pos, 1); /* after the ID: the process, flags and all */
	assert_int_equal(a.n_exec_args, 3);
	assert_string_equal(a.exec_args[1], "-c");
}

static void test_args_errors(void **s)
{
	struct ocivm_args a;
	struct oerr err = { 0 };

	assert_int_equal(PARSE(&a, &err, "frobnicate"), -EINVAL);
	assert_non_null(strstr(err.msg, "unknown command"));
	oerr_clear(&err);
	assert_int_equal(PARSE(&a, &err, "--log-format", "xml", "state", "x"), -EINVAL);
	oerr_clear(&err);
	assert_int_equal(PARSE(&a, &err, "create", "--bundle"), -EINVAL);
	assert_non_null(strstr(err.msg, "needs an argument"));
	oerr_clear(&err);
	assert_int_equal(PARSE(&a, &err, "create", "--preserve-fds", "x", "c"), -EINVAL);
	assert_int_equal(PARSE(&a, &err, "events", "--interval", "5h", "c"), -EINVAL);
	assert_int_equal(PARSE(&a, &err, "--debug"), 0);
	assert_int_equal(a.cmd, CMD_HELP);
}

static void test_id_valid(void **s)
{
	char id[OPS_ID_MAX + 2];
	struct oerr err = { 0 };

	assert_true(ocivm_id_valid("abc-1_2.3+x", NULL));
	assert_false(ocivm_id_valid("", NULL));
	assert_false(ocivm_id_valid("..", NULL));
	assert_false(ocivm_id_valid("a/b", NULL));
	assert_false(ocivm_id_valid("a b", NULL));
	/* the daemon's rule, not a looser one of its own (it took "a..b" and
	 * 1024 bytes while the daemon refuses both) */
	assert_false(ocivm_id_valid("a..b", &err));
	assert_non_null(strstr(err.msg, "\"..\""));
	assert_false(ocivm_id_valid(".x", NULL));
	memset(id, 'i', sizeof(id));
	id[OPS_ID_MAX] = '\0';
	assert_true(ocivm_id_valid(id, NULL));
	id[OPS_ID_MAX] = 'i';
	id[OPS_ID_MAX + 1] = '\0';
	oerr_clear(&err);
	assert_false(ocivm_id_valid(id, &err));
	assert_string_equal(err.msg, "id: longer than 250 bytes");
}

static void test_signals(void **s)
{
	assert_int_equal(sig_parse("TERM"), SIGTERM);
	assert_int_equal(sig_parse("SIGKILL"), SIGKILL);
	assert_int_equal(sig_parse("sigusr1"), SIGUSR1);
	assert_int_equal(sig_parse("9"), 9);
	assert_int_equal(sig_parse("RTMIN+1"), SIGRTMIN + 1);
	assert_int_equal(sig_parse("0"), -EINVAL);
	assert_int_equal(sig_parse("99"), -EINVAL);
	assert_int_equal(sig_parse("SIGFOO"), -EINVAL);
	assert_int_equal(sig_parse("9x"), -EINVAL);
	assert_int_equal(sig_parse(""), -EINVAL);
	assert_string_equal(sig_name(SIGHUP), "HUP");
	assert_null(sig_name(0));
}

static void test_errmap(void **s)
{
	char b[256];

	ocivm_errmap(OP_STATE, ENOENT, "x", "", b, sizeof(b));
	assert_string_equal(b, "container does not exist");
	ocivm_errmap(OP_KILL, -ENOENT, "x", "", b, sizeof(b));
	assert_string_equal(b, "container does not exist");
	ocivm_errmap(OP_CREATE, EEXIST, "x", "created", b, sizeof(b));
	assert_string_equal(b, "container with given ID already exists");
	ocivm_errmap(OP_START, EBUSY, "x", "stopped", b, sizeof(b));
	assert_string_equal(b, "cannot start a container that has stopped");
	ocivm_errmap(OP_START, EBUSY, "x", "running", b, sizeof(b));
	assert_string_equal(b, "cannot start an already running container");
	ocivm_errmap(OP_KILL, EBUSY, "x", "stopped", b, sizeof(b));
	assert_string_equal(b, "container not running");
	ocivm_errmap(OP_DELETE, EBUSY, "x", "running", b, sizeof(b));
	assert_non_null(strstr(b, "not stopped"));
	ocivm_errmap(OP_START, EINVAL, "x", "created", b, sizeof(b));
	assert_non_null(strstr(b, "Invalid argument"));
}

static void test_parse_exit(void **s)
{
	assert_int_equal(ocivm_parse_exit("0"), 0);
	assert_int_equal(ocivm_parse_exit("3\n"), 3);
	assert_int_equal(ocivm_parse_exit("137"), 137);
	assert_int_equal(ocivm_parse_exit("signal 9"), 137);
	assert_int_equal(ocivm_parse_exit("killed 15"), 143);
	assert_int_equal(ocivm_parse_exit("exited 1"), 1);
	assert_int_equal(ocivm_parse_exit(""), -EINVAL);
	assert_int_equal(ocivm_parse_exit("999"), 255);
}

static void test_log_lines(void **s)
{
	char b[512];

	ocivm_log_format_line(LOGF_JSON, "error", "bad \"x\"\n\\", 0, b, sizeof(b));
	assert_string_equal(b, "{\"level\":\"error\",\"msg\":\"bad \\\"x\\\"\\n\\\\\","
			       "\"time\":\"1970-01-01T00:00:00Z\"}\n");
	ocivm_log_format_line(LOGF_TEXT, "debug", "hi\t", 86400, b, sizeof(b));
	assert_string_equal(b, "time=\"1970-01-02T00:00:00Z\" level=debug msg=\"hi\\u0009\"\n");
	/* truncation keeps the line well-formed and terminated */
	char small[40];
	ocivm_log_format_line(LOGF_JSON, "error", "a very long message that does not fit",
			      0, small, sizeof(small));
	assert_true(strlen(small) < sizeof(small));
	assert_int_equal(small[strlen(small) - 1], '\n');
}

static void test_log_file(void **s)
{
	char path[] = "/tmp/ocivm-log-XXXXXX";
	int fd = mkstemp(path);
	char buf[1024] = { 0 };

	assert_true(fd >= 0);
	ocivm_log_setup(path, LOGF_JSON, false);
	ocivm_log("debug", "hidden");
	ocivm_log("error", "shown %d", 7);
	ocivm_log_setup(NULL, LOGF_TEXT, false);
	assert_true(read(fd, buf, sizeof(buf) - 1) > 0);
	assert_null(strstr(buf, "hidden"));
	assert_non_null(strstr(buf, "\"level\":\"error\",\"msg\":\"shown 7\""));
	close(fd);
	unlink(path);
}

/* A plain directory shaped like the tree. */
static char fake[64];

static void put(const char *rel, const char *text)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", fake, rel);
	assert_non_null(f = fopen(p, "w"));
	fputs(text, f);
	fclose(f);
}

static int fake_setup(void **s)
{
	char p[128];

	strcpy(fake, "/tmp/ocivm-tree-XXXXXX");
	if (!mkdtemp(fake))
		return -1;
	snprintf(p, sizeof(p), "%s/mnt", fake);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/mnt/containers", fake);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/mnt/containers/c1", fake);
	mkdir(p, 0755);
	put("mnt/ctl", "");
	put("mnt/containers/c1/ctl", "");
	put("mnt/containers/c1/status", "running\n");
	put("mnt/log", "x c2: nope\n2026-01-01T00:00:00.000Z warn c1: start: bad state\n"
	    "z other\n");
	return 0;
}

static int fake_teardown(void **s)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", fake);
	return system(cmd);
}

static void test_tree(void **s)
{
	struct ocivm_tree t;
	struct oerr err = { 0 };
	char b[256], p[256];
	char *text = NULL;

	assert_false(tree_is_mount(fake));
	assert_int_equal(tree_open(&t, fake, false, &err), 0); /* finds ROOT/mnt */
	snprintf(p, sizeof(p), "%s/mnt", fake);
	assert_string_equal(t.mount, p);
	assert_int_equal(tree_open(&t, p, false, &err), 0);    /* or the mount itself */
	assert_string_equal(t.mount, p);
	assert_true(tree_exists(&t, "c1"));
	assert_false(tree_exists(&t, "c9"));
	tree_status(&t, "c1", b, sizeof(b));
	assert_string_equal(b, "running");
	tree_status(&t, "c9", b, sizeof(b));
	assert_string_equal(b, "");
	assert_int_equal(tree_read(&t, "c9", "state", &text), -ENOENT);
	tree_last_log(&t, "c1", b, sizeof(b));
	assert_string_equal(b, "c1: start: bad state"); /* stamp and level stripped */
	tree_last_log(&t, "c7", b, sizeof(b));
	assert_string_equal(b, ""); /* no line about c7 */
	assert_int_equal(tree_ctl(&t, "c1", "kill 15"), 0);
	assert_int_equal(tree_read(&t, "c1", "ctl", &text), 0);
	assert_string_equal(text, "kill 15");
	free(text);
	assert_int_equal(tree_ctl(&t, "c9", "start"), -ENOENT);
	assert_int_equal(tree_wait_status_settled(&t, "c1", 100, b, sizeof(b)), 0);
	assert_int_equal(tree_wait_status_settled(&t, "c9", 100, b, sizeof(b)), -ENOENT);
	put("mnt/containers/c1/status", "creating\n");
	assert_int_equal(tree_wait_status_settled(&t, "c1", 100, b, sizeof(b)), -ETIMEDOUT);
	snprintf(p, sizeof(p), "%s/nothing", fake);
	assert_int_equal(tree_open(&t, p, false, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "no ocivmfs tree"));
}

/* --console-socket: the pty master arrives over the socket as runc sends it,
 * and bytes written to the slave come out of the received master. */
static void test_console(void **s)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct oerr err = { 0 };
	char cbuf[CMSG_SPACE(sizeof(int))], name[128] = { 0 }, buf[16] = { 0 };
	struct iovec iov = { name, sizeof(name) - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	int master, slave, got, lsn, c;

	snprintf(addr.sun_path, sizeof(addr.sun_path), "/tmp/ocivm-console-%d", (int)getpid());
	unlink(addr.sun_path);
	assert_true((lsn = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(lsn, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(lsn, 1), 0);
	assert_int_equal(console_open_pty(&master, &slave, &err), 0);
	assert_int_equal(console_send_fd(addr.sun_path, master, &err), 0);
	assert_true((c = accept(lsn, NULL, NULL)) >= 0);
	assert_true(recvmsg(c, &msg, 0) > 0);
	assert_non_null(strstr(name, "/dev/pts/"));
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	assert_non_null(cm);
	assert_int_equal(cm->cmsg_type, SCM_RIGHTS);
	memcpy(&got, CMSG_DATA(cm), sizeof(int));
	assert_int_equal(write(slave, "hi", 2), 2); /* raw slave: no \r added */
	assert_int_equal(read(got, buf, sizeof(buf)), 2);
	assert_string_equal(buf, "hi");
	assert_int_equal(console_send_fd("/nonexistent/sock", master, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "console socket"));
	close(got); close(c); close(lsn); close(master); close(slave);
	unlink(addr.sun_path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_args_podman_create),
		cmocka_unit_test(test_args_spellings),
		cmocka_unit_test(test_args_errors),
		cmocka_unit_test(test_id_valid),
		cmocka_unit_test(test_signals),
		cmocka_unit_test(test_errmap),
		cmocka_unit_test(test_parse_exit),
		cmocka_unit_test(test_log_lines),
		cmocka_unit_test(test_log_file),
		cmocka_unit_test_setup_teardown(test_tree, fake_setup, fake_teardown),
		cmocka_unit_test(test_console),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
