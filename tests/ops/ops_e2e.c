/* End-to-end check of ops/ over the real VM drivers (no FUSE): create a
 * container from a bundle, start it, feed stdin, wait for its exit status,
 * read its stdout, delete it; and a create that must fail and leave nothing.
 * Usage: ops-e2e STATE_DIR KERNEL INITRD BUNDLE BAD_BUNDLE
 * Prints one line per case and "N passed, N failed". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "ops/ops.h"

static int passed, failed;

static void check(const char *name, int ok, const char *why)
{
	if (ok)
		passed++;
	else
		failed++;
	printf("%s - %s%s%s\n", ok ? "ok  " : "FAIL", name, !ok && why ? ": " : "", !ok && why ? why : "");
	fflush(stdout);
}

static void on_log(void *ctx, const char *line) { fprintf(stderr, "# %s\n", line); }

static int wait_stopped(struct ops *ops, const char *id, int secs, struct ops_info *in)
{
	for (int i = 0; i < secs * 10; i++) {
		if (ops_get(ops, id, in, NULL) == 0 && in->status == OPS_STOPPED)
			return 1;
		usleep(100000);
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct ops_options o = { 0 };
	struct ops_listener l = { .on_log = on_log };
	struct ops *ops = NULL;
	struct oerr err = { 0 };
	struct ops_info in;
	char path[4096], *s = NULL;
	size_t len;

	if (argc != 6) {
		fprintf(stderr, "usage: %s STATE_DIR KERNEL INITRD BUNDLE BAD_BUNDLE\n", argv[0]);
		return 2;
	}
	o.state_dir = argv[1];
	o.kernel = argv[2];
	o.initrd = argv[3];
	if (ops_open(&o, &l, NULL, &ops, &err) < 0) {
		printf("FAIL - ops_open: %s\n0 passed, 1 failed\n", err.msg);
		return 1;
	}
	printf("# %s\n", ops_hypervisor_line(ops));
	double t0 = now_s();
	int r = ops_create(ops, "e2e", argv[4], NULL, 0, &err);
	check("create boots the VM (status created)", r == 0 && ops_get(ops, "e2e", &in, NULL) == 0 &&
	      in.status == OPS_CREATED, err.msg);
	printf("# create took %.1f s\n", now_s() - t0);
	if (r == 0 && ops_vm_file(ops, "e2e", "driver", &s, NULL) == 0) {
		printf("# driver %s", s);
		free(s);
	}
	oerr_clear(&err);
	r = ops_start(ops, "e2e", &err);
	check("start (status running)", r == 0, err.msg);
	oerr_clear(&err);
	check("stdin takes a line", ops_write_stdin(ops, "e2e", "world\n", 6, &err) == 0, err.msg);
	ops_close_stdin(ops, "e2e", NULL);
	int stopped = wait_stopped(ops, "e2e", 120, &in);
	check("the process exits (status stopped)", stopped, NULL);
	char why[64];
	snprintf(why, sizeof(why), "exit status %d", in.exit_status);
	check("exit status is 7", stopped && in.exited && in.exit_status == 7, why);
	ops_stream_path(ops, "e2e", OPS_STREAM_STDOUT, path, sizeof(path));
	s = NULL;
	file_read_all(path, 1 << 20, &s, &len);
	check("stdout has the output and the stdin line", s && strstr(s, "hello-ops") && strstr(s, "got world"),
	      s ? s : "no stdout");
	check("the rootfs is writable (overlay over the read-only shared image)", s && strstr(s, "rw-ok"),
	      s ? s : "no stdout");
	free(s);
	oerr_clear(&err);
	check("delete removes it", ops_delete(ops, "e2e", false, &err) == 0 &&
	      ops_get(ops, "e2e", &in, NULL) == -ENOENT && access(path, F_OK) < 0, err.msg);

	oerr_clear(&err);
	r = ops_create(ops, "bad", argv[5], NULL, 0, &err);
	snprintf(path, sizeof(path), "%s/bad", argv[1]);
	check("a create with a missing kernel fails with a reason", r < 0 && err.msg[0], NULL);
	printf("# reason: %s\n", err.msg);
	check("and leaves nothing behind", access(path, F_OK) < 0 && ops_get(ops, "bad", &in, NULL) == -ENOENT, NULL);
	ops_close(ops);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
