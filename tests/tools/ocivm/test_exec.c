/* Unit tests of `ocivm exec`'s parts: runc's exec flags, the process.json
 * built from them (or taken from --process), window sizes, and the exec
 * shim against a plain directory that looks like MOUNT/containers/ID/exec/N
 * (a FIFO as `wait`, so the shim stays until the test lets it go). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "tools/ocivm/ocivm.h"
#include "fileio.h"

#define ARGV(...) ((char *[]){ "ocivm", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "ocivm", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(a, err, ...) ocivm_parse_args(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), a, err)

static void test_exec_flags(void **s)
{
	struct ocivm_args a;
	struct oerr err = { 0 };

	/* what podman/conmon pass, then a long command line (> OCIVM_MAX_POS:
	 * words after the 8th were dropped before) */
	assert_int_equal(PARSE(&a, &err, "--root", "/r", "exec", "--process", "/p.json", "-t",
			       "--console-socket=/s", "-d", "--pid-file", "/pf", "-e", "A=1",
			       "--env=B=2", "--cwd", "/w", "-u", "1000:100", "--cap", "CAP_NET_ADMIN",
			       "--no-new-privs", "-g", "5", "c1", "sh", "-c", "echo", "1", "2", "3",
			       "4", "5", "6", "7", "8", "9"), 0);
	assert_int_equal(a.cmd, CMD_EXEC);
	assert_string_equal(a.process, "/p.json");
	assert_true(a.tty && a.detach && a.no_new_privs);
	assert_string_equal(a.console_socket, "/s");
	assert_string_equal(a.pid_file, "/pf");
	assert_int_equal(a.n_env, 2);
	assert_string_equal(a.env[1], "B=2");
	assert_string_equal(a.cwd, "/w");
	assert_string_equal(a.user, "1000:100");
	assert_int_equal(a.n_caps, 1);
	assert_int_equal(a.n_gids, 1);
	assert_int_equal(a.n_pos, 1);
	assert_string_equal(a.pos[0], "c1");
	assert_int_equal(a.n_exec_args, 12);
	assert_string_equal(a.exec_args[0], "sh");
	assert_string_equal(a.exec_args[11], "9");
	/* flags after the ID belong to the process */
	assert_int_equal(PARSE(&a, &err, "exec", "c1", "ls", "-t", "-d"), 0);
	assert_false(a.tty || a.detach);
	assert_int_equal(a.n_exec_args, 3);
}

static void test_parse_user(void **s)
{
	unsigned u, g;
	bool hg;

	assert_int_equal(process_parse_user("1000", &u, &g, &hg), 0);
	assert_true(u == 1000 && !hg);
	assert_int_equal(process_parse_user("0:65534", &u, &g, &hg), 0);
	assert_true(u == 0 && g == 65534 && hg);
	assert_int_equal(process_parse_user("root", &u, &g, &hg), -EINVAL);
	assert_int_equal(process_parse_user("1:", &u, &g, &hg), -EINVAL);
	assert_int_equal(process_parse_user("-1", &u, &g, &hg), -EINVAL);
	assert_int_equal(process_parse_user("1:2:3", &u, &g, &hg), -EINVAL);
	assert_int_equal(process_parse_user("", &u, &g, &hg), -EINVAL);
}

static cJSON *build(struct ocivm_args *a, const char *base_json, unsigned r, unsigned c, int want)
{
	struct oerr err = { 0 };
	cJSON *base = base_json ? cJSON_Parse(base_json) : NULL;
	char *json = NULL;
	cJSON *out = NULL;

	assert_int_equal(process_build(a, base, r, c, &json, &err), want);
	if (want == 0) {
		out = cJSON_Parse(json);
		assert_non_null(out);
	} else {
		assert_true(err.msg[0] != '\0');
	}
	free(json);
	cJSON_Delete(base);
	return out;
}

static const char *jstr(const cJSON *o, const char *path)
{
	char buf[128], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
		o = (*k >= '0' && *k <= '9') ? cJSON_GetArrayItem(o, atoi(k))
					     : cJSON_GetObjectItemCaseSensitive(o, k);
	if (cJSON_IsString(o))
		return o->valuestring;
	if (cJSON_IsNumber(o)) {
		static char num[32];
		snprintf(num, sizeof(num), "%d", o->valueint);
		return num;
	}
	if (cJSON_IsBool(o))
		return cJSON_IsTrue(o) ? "true" : "false";
	return o ? "?" : "(none)";
}

static void test_process_from_flags(void **s)
{
	static const char *base =
		"{\"terminal\":true,\"user\":{\"uid\":5,\"gid\":6,\"username\":\"x\"},"
		"\"args\":[\"init\"],\"env\":[\"PATH=/bin\",\"A=old\",\"TERM=xterm\"],\"cwd\":\"/srv\","
		"\"capabilities\":{\"bounding\":[\"CAP_KILL\"],\"inheritable\":[\"CAP_KILL\"]},"
		"\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":64,\"soft\":64}],"
		"\"consoleSize\":{\"height\":1,\"width\":1}}";
	struct ocivm_args a;
	struct oerr err = { 0 };
	cJSON *p;

	assert_int_equal(PARSE(&a, &err, "exec", "-e", "A=new", "-e", "B=2", "-u", "1000:100",
			       "--cap", "CAP_NET_ADMIN", "--cap", "cap_kill", "--no-new-privs",
			       "-g", "7", "c1", "ls", "-l"), 0);
	p = build(&a, base, 30, 90, 0);
	assert_string_equal(jstr(p, "args.0"), "ls");
	assert_string_equal(jstr(p, "args.1"), "-l");
	assert_string_equal(jstr(p, "terminal"), "false"); /* no -t: not the container's */
	assert_string_equal(jstr(p, "consoleSize"), "(none)");
	assert_string_equal(jstr(p, "env.1"), "A=new");    /* replaced in place */
	assert_string_equal(jstr(p, "env.3"), "B=2");
	assert_string_equal(jstr(p, "cwd"), "/srv");       /* the container's */
	assert_string_equal(jstr(p, "user.uid"), "1000");
	assert_string_equal(jstr(p, "user.gid"), "100");
	assert_string_equal(jstr(p, "user.username"), "(none)");
	assert_string_equal(jstr(p, "user.additionalGids.0"), "7");
	assert_string_equal(jstr(p, "capabilities.bounding.1"), "CAP_NET_ADMIN");
	assert_string_equal(jstr(p, "capabilities.bounding.2"), "(none)"); /* kill: once */
	assert_string_equal(jstr(p, "capabilities.effective.0"), "CAP_NET_ADMIN");
	assert_string_equal(jstr(p, "capabilities.ambient.0"), "CAP_NET_ADMIN");
	assert_string_equal(jstr(p, "noNewPrivileges"), "true");
	assert_string_equal(jstr(p, "rlimits.0.type"), "RLIMIT_NOFILE"); /* kept */
	cJSON_Delete(p);

	/* -t: terminal with the caller's size; no base: defaults */
	assert_int_equal(PARSE(&a, &err, "exec", "-t", "--cwd", "/tmp", "c1", "sh"), 0);
	p = build(&a, NULL, 30, 90, 0);
	assert_string_equal(jstr(p, "terminal"), "true");
	assert_string_equal(jstr(p, "consoleSize.height"), "30");
	assert_string_equal(jstr(p, "consoleSize.width"), "90");
	assert_string_equal(jstr(p, "cwd"), "/tmp");
	assert_string_equal(jstr(p, "user.uid"), "0");
	assert_non_null(strstr(jstr(p, "env.0"), "PATH="));
	assert_string_equal(jstr(p, "capabilities"), "(none)"); /* no --cap: none added */
	cJSON_Delete(p);
	/* no inheritable: no ambient (as runc) */
	assert_int_equal(PARSE(&a, &err, "exec", "--cap", "CAP_CHOWN", "c1", "sh"), 0);
	p = build(&a, "{\"capabilities\":{\"bounding\":[]}}", 0, 0, 0);
	assert_string_equal(jstr(p, "capabilities.ambient"), "(none)");
	assert_string_equal(jstr(p, "capabilities.permitted.0"), "CAP_CHOWN");
	cJSON_Delete(p);
}

static void test_process_bad_flags(void **s)
{
	struct ocivm_args a;
	struct oerr err = { 0 };

	assert_int_equal(PARSE(&a, &err, "exec", "c1"), 0);
	build(&a, NULL, 0, 0, -EINVAL); /* no args */
	assert_int_equal(PARSE(&a, &err, "exec", "-u", "root", "c1", "sh"), 0);
	build(&a, NULL, 0, 0, -EINVAL);
	assert_int_equal(PARSE(&a, &err, "exec", "--cwd", "rel", "c1", "sh"), 0);
	build(&a, NULL, 0, 0, -EINVAL);
	assert_int_equal(PARSE(&a, &err, "exec", "--cap", "CAP_NOPE", "c1", "sh"), 0);
	build(&a, NULL, 0, 0, -EINVAL);
	assert_int_equal(PARSE(&a, &err, "exec", "-e", "NOEQUALS", "c1", "sh"), 0);
	build(&a, NULL, 0, 0, -EINVAL);
	assert_int_equal(PARSE(&a, &err, "exec", "-g", "x", "c1", "sh"), 0);
	build(&a, NULL, 0, 0, -EINVAL);
}

static void test_process_file(void **s)
{
	char dir[] = "/tmp/ocivm-exec-test-XXXXXX", path[128];
	struct ocivm_args a;
	struct oerr err = { 0 };
	cJSON *p;
	const char *good = "{\"terminal\":true,\"args\":[\"top\"],\"cwd\":\"/\",\"env\":[]}";

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/p.json", dir);
	assert_int_equal(file_write_atomic(path, good, strlen(good), 0600), 0);
	/* with --process the flags do not apply (runc); the size is added */
	assert_int_equal(PARSE(&a, &err, "exec", "--process", path, "-e", "X=1", "c1"), 0);
	p = build(&a, "{\"env\":[\"Y=2\"]}", 24, 80, 0);
	assert_string_equal(jstr(p, "args.0"), "top");
	assert_string_equal(jstr(p, "env.0"), "(none)");
	assert_string_equal(jstr(p, "consoleSize.width"), "80");
	cJSON_Delete(p);
	assert_int_equal(file_write_atomic(path, "{\"args\":[]}", 11, 0600), 0);
	build(&a, NULL, 0, 0, -EINVAL);
	assert_int_equal(file_write_atomic(path, "[1", 2, 0600), 0);
	build(&a, NULL, 0, 0, -EINVAL);
	unlink(path);
	build(&a, NULL, 0, 0, -ENOENT);
	rmdir(dir);
}

/* ---- window sizes and the exec shim against a fake tree -------------- */

/* The exec's ctl is a FIFO whose every write a thread appends to `ctl`:
 * a regular file would keep only the last command when two writes come
 * close together (SIGTERM then a pending SIGWINCH: "kill 15" overwritten
 * by "resize 50 130", a flaky test_exec_shim under load). */
struct fake {
	char root[64];
	struct ocivm_tree tree;
	char dir[128];  /* containers/c1/exec/n1 */
	pid_t shim;     /* killed at teardown (a failed check leaves it waiting) */
	int ctl_fd;
	pthread_t ctl_thread;
	pthread_mutex_t lock;
	char ctl[4096]; /* every line written to exec/n1/ctl, in order */
	size_t ctl_len;
};

static void fake_file(struct fake *f, const char *rel, const char *text)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", f->root, rel);
	assert_int_equal(file_write_atomic(p, text, strlen(text), 0644), 0);
}

static void *ctl_collect(void *arg)
{
	struct fake *f = arg;
	char buf[256];
	ssize_t n;

	while ((n = read(f->ctl_fd, buf, sizeof(buf))) > 0) {
		pthread_mutex_lock(&f->lock);
		size_t room = sizeof(f->ctl) - 1 - f->ctl_len;
		size_t k = (size_t)n < room ? (size_t)n : room;
		memcpy(f->ctl + f->ctl_len, buf, k);
		f->ctl_len += k;
		f->ctl[f->ctl_len] = 0;
		pthread_mutex_unlock(&f->lock);
	}
	return NULL;
}

static bool ctl_has(struct fake *f, const char *want)
{
	pthread_mutex_lock(&f->lock);
	bool ok = strstr(f->ctl, want) != NULL;
	pthread_mutex_unlock(&f->lock);
	return ok;
}

/* generous: the unit tests run under ASan on a loaded machine */
static bool wait_ctl(struct fake *f, const char *want)
{
	for (int i = 0; i < 6000; i++) {
		if (ctl_has(f, want))
			return true;
		usleep(10000);
	}
	return false;
}

static int fake_setup(void **s)
{
	static struct fake f;
	char p[512];

	snprintf(f.root, sizeof(f.root), "/tmp/ocivm-exec-tree-XXXXXX");
	assert_non_null(mkdtemp(f.root));
	snprintf(f.tree.mount, sizeof(f.tree.mount), "%s", f.root);
	snprintf(p, sizeof(p), "%s/containers/c1/exec/n1", f.root);
	assert_int_equal(mkdir_p(p, 0755), 0);
	fake_file(&f, "ctl", "");
	fake_file(&f, "containers/c1/ctl", "");
	snprintf(p, sizeof(p), "%s/containers/c1/exec/n1/ctl", f.root);
	assert_int_equal(mkfifo(p, 0644), 0);
	f.ctl_fd = open(p, O_RDWR | O_CLOEXEC); /* never EOF, never blocks the writer's open */
	assert_true(f.ctl_fd >= 0);
	f.ctl_len = 0;
	f.ctl[0] = 0;
	pthread_mutex_init(&f.lock, NULL);
	assert_int_equal(pthread_create(&f.ctl_thread, NULL, ctl_collect, &f), 0);
	fake_file(&f, "containers/c1/exec/n1/stdout", "hello\n");
	fake_file(&f, "containers/c1/exec/n1/stderr", "");
	fake_file(&f, "containers/c1/exec/n1/stdin", "");
	snprintf(p, sizeof(p), "%s/containers/c1/exec/n1/wait", f.root);
	assert_int_equal(mkfifo(p, 0644), 0);
	snprintf(f.dir, sizeof(f.dir), "c1/exec/n1");
	*s = &f;
	return 0;
}

static int fake_teardown(void **s)
{
	struct fake *f = *s;
	char cmd[128];

	if (f->shim > 0) {
		kill(f->shim, SIGKILL);
		waitpid(f->shim, NULL, 0);
		f->shim = 0;
	}
	pthread_cancel(f->ctl_thread);
	pthread_join(f->ctl_thread, NULL);
	close(f->ctl_fd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->root);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_winsz(void **s)
{
	struct fake *f = *s;
	struct winsize ws = { .ws_row = 33, .ws_col = 101 };
	unsigned r, c;
	int m, sl;
	char line[32];
	struct oerr err = { 0 };

	assert_int_equal(winsz_line(3, 4, line, sizeof(line)), 0);
	assert_string_equal(line, "resize 3 4");
	assert_int_equal(winsz_line(3, 4, line, 5), -ENOBUFS);
	assert_int_equal(console_open_pty(&m, &sl, &err), 0);
	assert_int_equal(winsz_get(sl, &r, &c), -ENODATA); /* 0x0: nothing to send */
	assert_int_equal(winsz_send(&f->tree, f->dir, sl), -ENODATA);
	assert_int_equal(ioctl(m, TIOCSWINSZ, &ws), 0);
	assert_int_equal(winsz_get(sl, &r, &c), 0);
	assert_true(r == 33 && c == 101);
	assert_int_equal(winsz_send(&f->tree, f->dir, sl), 0);
	assert_true(wait_ctl(f, "resize 33 101\n"));
	assert_true(winsz_get(-1, &r, &c) < 0);
	close(m);
	close(sl);
}

static size_t inq(int fd)
{
	int n = 0;

	return ioctl(fd, FIONREAD, &n) == 0 ? (size_t)n : 0;
}

/* -t on a canonical terminal whose line discipline holds an EOF (what
 * script(1) leaves when its stdin ends): the switch to raw must not turn it
 * into a 0 byte.  The queued lines come out in `pending`, an EOF as VEOF
 * (bare, or after a line it pushed), a partial line stays for raw reads. */
static void test_raw_takes_canonical(void **s)
{
	struct termios saved, now;
	char pending[WINSZ_PENDING_MAX], got[64] = "";
	size_t n = 99, have = 0;
	int m = posix_openpt(O_RDWR | O_NOCTTY), sl;

	assert_true(m >= 0);
	assert_int_equal(grantpt(m) | unlockpt(m), 0);
	sl = open(ptsname(m), O_RDWR | O_NOCTTY);
	assert_true(sl >= 0);
	assert_int_equal(winsz_raw(-1, &saved, pending, sizeof(pending), &n), -ENOTTY);
	assert_int_equal(n, 0);
	/* xy^D, a bare ^D, "ls\n": queued once "xyls\n" is counted (EOFs are not) */
	assert_int_equal(write(m, "xy\004\004ls\n", 7), 7);
	for (int i = 0; i < 500 && inq(sl) < 5; i++)
		usleep(10000);
	assert_int_equal(inq(sl), 5);
	assert_int_equal(winsz_raw(sl, &saved, pending, sizeof(pending), &n), 0);
	assert_int_equal(n, 7);
	assert_memory_equal(pending, "xy\004\004ls\n", 7);
	/* raw now: a partial line and a ^D typed later arrive as typed */
	assert_int_equal(write(m, "ab\004", 3), 3);
	for (int i = 0; i < 500 && have < 3; i++) {
		struct pollfd p = { .fd = sl, .events = POLLIN };
		if (poll(&p, 1, 10) == 1) {
			ssize_t k = read(sl, got + have, sizeof(got) - have);
			assert_true(k > 0);
			have += (size_t)k;
		}
	}
	assert_int_equal(have, 3);
	assert_memory_equal(got, "ab\004", 3); /* no 0 byte before or among them */
	assert_int_equal(tcgetattr(sl, &now), 0);
	assert_false(now.c_lflag & ICANON);
	winsz_restore(sl, &saved);
	assert_int_equal(tcgetattr(sl, &now), 0);
	assert_true(now.c_lflag & ICANON);
	assert_int_equal(now.c_cc[VEOF], 4);
	/* already raw: nothing to take, stays raw */
	cfmakeraw(&now);
	assert_int_equal(tcsetattr(sl, TCSANOW, &now), 0);
	assert_int_equal(winsz_raw(sl, &saved, pending, sizeof(pending), &n), 0);
	assert_int_equal(n, 0);
	close(sl);
	close(m);
}

/* A file of the fake tree ("" when unreadable); free() it. */
static char *fake_read(struct fake *f, const char *rel)
{
	char p[512], *data = NULL;
	size_t len;

	snprintf(p, sizeof(p), "%s/%s", f->root, rel);
	return file_read_all(p, 4096, &data, &len) == 0 ? data : strdup("");
}

/* The exec shim on a --console-socket pty: output to the pty, the pty's
 * resizes -> `resize R C` (it is the shim's controlling terminal), signals
 * -> `kill N`, the status from wait, process.json removed at the end. */
static void test_exec_shim(void **s)
{
	struct fake *f = *s;
	struct oerr err = { 0 };
	struct winsize ws = { .ws_row = 50, .ws_col = 130 };
	char json[128], buf[64] = "", wpath[512];
	int m, sl, go[2], status, wfd;
	pid_t pid;

	snprintf(json, sizeof(json), "%s/p.json", f->root);
	fake_file(f, "p.json", "{}");
	assert_int_equal(console_open_pty(&m, &sl, &err), 0);
	assert_int_equal(pipe(go), 0);
	pid = fork();
	assert_true(pid >= 0);
	f->shim = pid;
	if (pid == 0) {
		struct shim_opts o = { .tree = &f->tree, .id = f->dir, .go_fd = go[0],
				       .pty_slave = sl, .tty_fd = sl, .exec = true,
				       .unlink_path = json };
		close(go[1]);
		close(m);
		shim_main(&o);
	}
	close(sl);
	close(go[0]);
	/* after "1": what the caller's terminal held, before its raw bytes */
	assert_int_equal(write(go[1], "1pre\004", 5), 5);
	close(go[1]);
	for (size_t n = 0; !strstr(buf, "hello") && n < sizeof(buf) - 1;) {
		ssize_t k = read(m, buf + n, sizeof(buf) - 1 - n);
		assert_true(k > 0);
		n += (size_t)k;
	}
	assert_non_null(strstr(buf, "hello\n"));
	assert_int_equal(write(m, "typed", 5), 5);
	for (int i = 0; i < 6000; i++) {
		char *in = fake_read(f, "containers/c1/exec/n1/stdin");
		bool done = strlen(in) >= 9;
		free(in);
		if (done)
			break;
		usleep(10000);
	}
	char *in = fake_read(f, "containers/c1/exec/n1/stdin");
	assert_string_equal(in, "pre\004typed");
	free(in);
	/* the shim is past go: this size can only come by SIGWINCH */
	assert_int_equal(ioctl(m, TIOCSWINSZ, &ws), 0);
	assert_true(wait_ctl(f, "resize 50 130\n"));
	/* a SIGTERM and a SIGWINCH pending together (the shim stopped): both
	 * commands reach ctl, neither hides the other */
	ws.ws_row = 51;
	assert_int_equal(kill(pid, SIGSTOP), 0);
	assert_int_equal(waitpid(pid, &status, WUNTRACED), pid);
	assert_true(WIFSTOPPED(status));
	assert_int_equal(ioctl(m, TIOCSWINSZ, &ws), 0);
	assert_int_equal(kill(pid, SIGTERM), 0);
	assert_int_equal(kill(pid, SIGCONT), 0);
	assert_true(wait_ctl(f, "kill 15\n"));
	assert_true(wait_ctl(f, "resize 51 130\n"));
	snprintf(wpath, sizeof(wpath), "%s/containers/c1/exec/n1/wait", f->root);
	wfd = open(wpath, O_WRONLY);
	assert_true(wfd >= 0);
	assert_int_equal(write(wfd, "signal 9\n", 9), 9);
	close(wfd);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	f->shim = 0;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 137);
	assert_int_equal(access(json, F_OK), -1); /* removed */
	close(m);
}

static void test_errmap_exec(void **s)
{
	char msg[128];

	ocivm_errmap(OP_EXEC, EBUSY, "c1", "stopped", msg, sizeof(msg));
	assert_string_equal(msg, "cannot exec in a stopped container");
	ocivm_errmap(OP_EXEC, -EBUSY, "c1", "paused", msg, sizeof(msg));
	assert_string_equal(msg, "cannot exec in a paused container");
	ocivm_errmap(OP_EXEC, ENOENT, "c1", "", msg, sizeof(msg));
	assert_string_equal(msg, "container does not exist");
	ocivm_errmap(OP_EXEC, EINVAL, "c1", "running", msg, sizeof(msg));
	assert_non_null(strstr(msg, "exec in container c1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_flags),
		cmocka_unit_test(test_parse_user),
		cmocka_unit_test(test_process_from_flags),
		cmocka_unit_test(test_process_bad_flags),
		cmocka_unit_test(test_process_file),
		cmocka_unit_test_setup_teardown(test_winsz, fake_setup, fake_teardown),
		cmocka_unit_test(test_raw_takes_canonical),
		cmocka_unit_test_setup_teardown(test_exec_shim, fake_setup, fake_teardown),
		cmocka_unit_test(test_errmap_exec),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
