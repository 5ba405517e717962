/* The runtime behind ops.h against the fake VM: create/start/kill/delete,
 * errors that change nothing, failed creates that leave nothing behind,
 * output streams, persistence and reload after a daemon restart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <fcntl.h>
#include <unistd.h>

#include "fake_vm.h"
#include "ops/hostref.h"
#include "fileio.h"
#include "ops/ops.h"
#include "ops/store.h"

static char tmp[64], state_dir[128], bundle[128];
static pthread_mutex_t ev_mu = PTHREAD_MUTEX_INITIALIZER;
static char events[8192];
static int outputs, logs;

static void on_event(void *ctx, const char *id, const char *line)
{
	pthread_mutex_lock(&ev_mu);
	const char *sp = strchr(line, ' '); /* drop the timestamp */
	strncat(events, sp ? sp + 1 : line, sizeof(events) - strlen(events) - 2);
	strcat(events, "\n");
	pthread_mutex_unlock(&ev_mu);
}
static void on_output(void *ctx, const char *id, int stream) { __atomic_add_fetch(&outputs, 1, __ATOMIC_SEQ_CST); }
static char log_text[8192];
static void on_log(void *ctx, const char *line)
{
	__atomic_add_fetch(&logs, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_lock(&ev_mu);
	strncat(log_text, line, sizeof(log_text) - strlen(log_text) - 2);
	strcat(log_text, "\n");
	pthread_mutex_unlock(&ev_mu);
}
static const struct ops_listener listener = { on_event, on_output, on_log };

static const char *config_base =
	"{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"},"
	"\"process\":{\"args\":[\"sh\",\"-c\",\"echo hi\"],\"env\":[\"A=b c\"],\"cwd\":\"/\","
	"\"user\":{\"uid\":0,\"gid\":0}},\"hostname\":\"box\","
	"\"annotations\":{\"k\":\"v\"},"
	"\"linux\":{\"resources\":{\"cpu\":{\"quota\":200000,\"period\":100000}},\"maskedPaths\":[\"/proc/kcore\"]},"
	"\"vm\":{\"kernel\":{\"path\":\"%s/vmlinuz\"}%s}%s}";

static void write_config(const char *vm_extra, const char *top_extra)
{
	char path[256], text[4096];
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	snprintf(text, sizeof(text), config_base, bundle, vm_extra, top_extra);
	assert_int_equal(file_write_atomic(path, text, strlen(text), 0644), 0);
}

static int setup(void **state)
{
	char p[256];
	strcpy(tmp, "/tmp/ops-rt-XXXXXX");
	if (!mkdtemp(tmp))
		return -1;
	snprintf(state_dir, sizeof(state_dir), "%s/state", tmp);
	snprintf(bundle, sizeof(bundle), "%s/bundle", tmp);
	mkdir(bundle, 0755);
	snprintf(p, sizeof(p), "%s/rootfs", bundle);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/vmlinuz", bundle);   /* a kernel inside the bundle */
	file_write_atomic(p, "k", 1, 0600);
	write_config("", "");
	fake_reset();
	events[0] = log_text[0] = '\0';
	outputs = logs = 0;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	umount2(state_dir, MNT_DETACH);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

static struct ops *open_ops(void)
{
	struct ops_options o = { .state_dir = state_dir, .kernel = "/default/vmlinuz",
				 .qemu_path = "/opt/qemu/bin/qemu-system-x86_64" };
	struct ops *ops = NULL;
	struct oerr err = { 0 };
	if (ops_open(&o, &listener, NULL, &ops, &err) < 0)
		fail_msg("ops_open: %s", err.msg);
	return ops;
}

static enum ops_status status_of(struct ops *ops, const char *id)
{
	struct ops_info in;
	assert_int_equal(ops_get(ops, id, &in, NULL), 0);
	return in.status;
}

/* events arrive from the supervisor thread: wait for a status */
static void wait_status(struct ops *ops, const char *id, enum ops_status s)
{
	for (int i = 0; i < 3000 && status_of(ops, id) != s; i++)
		usleep(10000);
	assert_string_equal(ops_status_name(status_of(ops, id)), ops_status_name(s));
}

static int exists(const char *fmt, const char *a)
{
	char p[512];
	snprintf(p, sizeof(p), fmt, state_dir, a);
	return access(p, F_OK) == 0;
}

static void test_lifecycle(void **state)
{
	struct ops *ops = open_ops();
	struct oerr err = { 0 };
	char *s = NULL;

	assert_int_equal(ops_create(ops, "web", bundle, NULL, 0, &err), 0);
	assert_int_equal(status_of(ops, "web"), OPS_CREATED);
	assert_true(exists("%s/%s/state.json", "web"));
	assert_true(exists("%s/%s/config.json", "web"));
	assert_int_equal(fake.image_refs, 1);
	assert_int_equal(fake.last_vcpus, 2); /* from linux.resources.cpu */
	assert_true(fake.last_res.cpu_quota == 200000 && fake.last_res.cpu_period == 100000);
	assert_true(fake.last_res.cpu_shares == 0);
	assert_string_equal(fake.last_hypervisor, "/opt/qemu/bin/qemu-system-x86_64"); /* auto: the probe says qemu */
	assert_non_null(strstr(fake.last_gspec, "version 1\nid web\nrootfs rootfs 0\n"));
	assert_non_null(strstr(fake.last_gspec, "arg echo%20hi\nenv A=b%20c\ncwd /\nuser 0 0 -\n"));
	assert_non_null(strstr(fake.last_gspec, "masked /proc/kcore\nend\n"));

	assert_int_equal(ops_state_json(ops, "web", &s, NULL), 0);
	assert_non_null(strstr(s, "\"ociVersion\":\"1.2.0\",\"id\":\"web\",\"status\":\"created\",\"pid\":4242,"));
	assert_non_null(strstr(s, "\"annotations\":{\"k\":\"v\"},\"created\":\""));
	free(s);

	/* wrong-state operations are refused and change nothing */
	oerr_clear(&err);
	assert_int_equal(ops_delete(ops, "web", false, &err), -EBUSY);
	assert_non_null(strstr(err.msg, "delete needs a stopped container"));
	assert_int_equal(ops_pause(ops, "web", NULL), -EBUSY);
	assert_int_equal(ops_resume(ops, "web", NULL), -EBUSY);
	assert_int_equal(status_of(ops, "web"), OPS_CREATED);

	assert_int_equal(ops_start(ops, "web", &err), 0);
	assert_int_equal(status_of(ops, "web"), OPS_RUNNING);
	assert_int_equal(ops_start(ops, "web", NULL), -EBUSY);
	assert_int_equal(ops_pause(ops, "web", NULL), 0);
	assert_int_equal(status_of(ops, "web"), OPS_PAUSED);
	assert_int_equal(ops_kill(ops, "web", SIGTERM, NULL), -EBUSY); /* not while paused */
	assert_int_equal(ops_resume(ops, "web", NULL), 0);

	/* output lands in the stream file */
	char run_dir[256], path[256];
	snprintf(run_dir, sizeof(run_dir), "%s/web/vm", state_dir);
	fake_output(run_dir, 1, "hello\n");
	fake_output(run_dir, 2, "oops\n");
	assert_int_equal(ops_stream_path(ops, "web", OPS_STREAM_STDOUT, path, sizeof(path)), 0);
	char *out = NULL;
	size_t len;
	for (int i = 0; i < 3000; i++) {
		free(out);
		out = NULL;
		file_read_all(path, 4096, &out, &len);
		if (out && len == 6)
			break;
		usleep(10000);
	}
	assert_string_equal(out, "hello\n");
	free(out);
	assert_int_equal(ops_write_stdin(ops, "web", "in", 2, NULL), 0);
	assert_int_equal(fake.stdin_len, 2);

	assert_int_equal(ops_kill(ops, "web", SIGTERM, NULL), 0);
	wait_status(ops, "web", OPS_STOPPED);
	struct ops_info in;
	ops_get(ops, "web", &in, NULL);
	assert_true(in.exited);
	assert_int_equal(in.exit_status, 128 + SIGTERM);
	assert_int_equal(in.pid, 0);
	assert_int_equal(ops_kill(ops, "web", SIGKILL, NULL), -EBUSY);
	assert_int_equal(ops_write_stdin(ops, "web", "x", 1, NULL), -EPIPE);
	/* output stays readable after the stop */
	assert_true(exists("%s/%s/stderr", "web"));

	assert_int_equal(ops_delete(ops, "web", false, &err), 0);
	assert_false(exists("%s/%s", "web"));
	assert_int_equal(fake.image_refs, 0);
	assert_int_equal(fake.live, 0);
	assert_int_equal(ops_get(ops, "web", &in, NULL), -ENOENT);
	assert_string_equal(events, "web created\nweb running\nweb paused\nweb running\n"
			    "web stopped\nweb deleted\n");
	ops_close(ops);
}

static void test_errors_change_nothing(void **state)
{
	struct ops *ops = open_ops();
	struct oerr err = { 0 };
	char bad[256];

	assert_int_equal(ops_create(ops, "../x", bundle, NULL, 0, &err), -EINVAL);
	oerr_clear(&err);
	assert_int_equal(ops_create(ops, "a", "relative/bundle", NULL, 0, &err), -EINVAL);
	assert_string_equal(err.msg, "bundle: must be an absolute path");
	oerr_clear(&err);
	snprintf(bad, sizeof(bad), "%s/nope", tmp);
	assert_int_equal(ops_create(ops, "a", bad, NULL, 0, &err), -EINVAL);
	const char *kv[] = { "color=red" };
	oerr_clear(&err);
	assert_int_equal(ops_create(ops, "a", bundle, kv, 1, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "unknown option \"color=red\""));
	write_config(",\"image\":{\"path\":\"/i.qcow2\",\"format\":\"qcow2\"}", "");
	oerr_clear(&err);
	assert_int_equal(ops_create(ops, "a", bundle, NULL, 0, &err), -EINVAL);
	assert_string_equal(err.msg, "vm.image.format: qcow2 images are not supported (only raw is served)");
	char cpath[256];
	const char *noproc = "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"},"
			     "\"vm\":{\"kernel\":{\"path\":\"/k\"}}}";
	snprintf(cpath, sizeof(cpath), "%s/config.json", bundle);
	assert_int_equal(file_write_atomic(cpath, noproc, strlen(noproc), 0644), 0);
	oerr_clear(&err);
	assert_int_equal(ops_create(ops, "a", bundle, NULL, 0, &err), -EINVAL);
	assert_string_equal(err.msg, "process.args: required when starting");
	write_config("", "");
	oerr_clear(&err);
	assert_int_equal(ops_start(ops, "ghost", &err), -ENOENT);
	assert_int_equal(ops_kill(ops, "ghost", 9, NULL), -ENOENT);
	assert_int_equal(ops_delete(ops, "ghost", true, NULL), -ENOENT);
	char *s = NULL;
	assert_int_equal(ops_state_json(ops, "ghost", &s, NULL), -ENOENT);

	const char *kv2[] = { "pid=777", "terminal=1" };
	assert_int_equal(ops_create(ops, "a", bundle, kv2, 2, NULL), 0);
	assert_non_null(strstr(fake.last_gspec, "terminal 1\n"));
	struct ops_info in;
	ops_get(ops, "a", &in, NULL);
	assert_int_equal(in.pid, 777); /* the registered shim stands for it */
	oerr_clear(&err);
	assert_int_equal(ops_create(ops, "a", bundle, NULL, 0, &err), -EEXIST);
	assert_int_equal(ops_kill(ops, "a", 0, NULL), -EINVAL);
	assert_int_equal(fake.image_refs, 1);
	char **ids;
	size_t n;
	assert_int_equal(ops_list(ops, &ids, &n), 0);
	assert_int_equal(n, 1);
	ops_free_list(ids, n);
	/* a kill that races with the end (the channel already closed) is the
	 * wrong-state EBUSY callers map to "container not running", not EPIPE */
	fake.signal_rc = -EPIPE;
	oerr_clear(&err);
	assert_int_equal(ops_kill(ops, "a", 15, &err), -EBUSY);
	assert_non_null(strstr(err.msg, "a: kill: the container is ending"));
	fake.signal_rc = 0;
	/* forced delete of a created container */
	assert_int_equal(ops_delete(ops, "a", true, NULL), 0);
	/* vm.hypervisor and vm.hwConfig win over the daemon's choices */
	write_config(",\"hypervisor\":{\"path\":\"/usr/local/bin/ocivm-vmm\"},"
		     "\"hwConfig\":{\"vcpus\":3,\"memory\":134217728}", "");
	assert_int_equal(ops_create(ops, "hv", bundle, NULL, 0, NULL), 0);
	assert_string_equal(fake.last_hypervisor, "/usr/local/bin/ocivm-vmm");
	assert_int_equal(fake.last_vcpus, 3);
	assert_int_equal(fake.last_mib, 128);
	assert_int_equal(ops_delete(ops, "hv", true, NULL), 0);
	assert_int_equal(fake.image_refs, 0);
	assert_int_equal(fake.live, 0);
	ops_close(ops);
}

static void test_failed_create_leaves_nothing(void **state)
{
	struct ops *ops = open_ops();
	struct oerr err = { 0 };
	char hook[256], marker[256], cfgx[1024];

	fake.create_rc = -EIO;
	assert_int_equal(ops_create(ops, "b", bundle, NULL, 0, &err), -EIO);
	assert_non_null(strstr(err.msg, "create b: fake: the VM did not become ready"));
	assert_false(exists("%s/%s", "b"));
	assert_int_equal(fake.image_refs, 0);
	fake.create_rc = 0;

	fake.image_rc = -ENOSPC;
	oerr_clear(&err);
	assert_int_equal(ops_create(ops, "b", bundle, NULL, 0, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "root.path: "));
	assert_false(exists("%s/%s", "b"));
	fake.image_rc = 0;

	/* a failing createRuntime hook: the VM goes, poststop runs, nothing stays */
	snprintf(hook, sizeof(hook), "%s/fail.sh", tmp);
	snprintf(marker, sizeof(marker), "%s/poststop-ran", tmp);
	char body[512];
	snprintf(body, sizeof(body), "#!/bin/sh\nexit 1\n");
	file_write_atomic(hook, body, strlen(body), 0755);
	snprintf(cfgx, sizeof(cfgx), ",\"hooks\":{\"createRuntime\":[{\"path\":\"%s\"}],"
		 "\"poststop\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"touch %s\"]}]}", hook, marker);
	write_config("", cfgx);
	oerr_clear(&err);
	assert_int_equal(ops_create(ops, "b", bundle, NULL, 0, &err), -EIO);
	assert_non_null(strstr(err.msg, "hooks.createRuntime[0]: "));
	assert_false(exists("%s/%s", "b"));
	assert_int_equal(fake.image_refs, 0);
	assert_int_equal(fake.live, 0);
	assert_int_equal(access(marker, F_OK), 0);
	char **ids;
	size_t n;
	ops_list(ops, &ids, &n);
	assert_int_equal(n, 0);
	ops_free_list(ids, n);
	assert_string_equal(events, "");
	ops_close(ops);
}

static void test_start_failures(void **state)
{
	struct ops *ops = open_ops();
	struct oerr err = { 0 };

	fake.start = FAKE_START_ERROR;
	assert_int_equal(ops_create(ops, "c", bundle, NULL, 0, NULL), 0);
	assert_int_equal(ops_start(ops, "c", &err), -EIO);
	assert_non_null(strstr(err.msg, "exec /bin/sh: no such file"));
	assert_int_equal(status_of(ops, "c"), OPS_STOPPED);
	char *s = NULL;
	assert_int_equal(ops_vm_file(ops, "c", "last_error", &s, NULL), 0);
	assert_non_null(strstr(s, "exec /bin/sh"));
	free(s);
	assert_int_equal(ops_vm_file(ops, "c", "nonsense", &s, NULL), -ENOENT);
	assert_int_equal(ops_vm_file(ops, "c", "driver", &s, NULL), 0);
	assert_string_equal(s, "qemu\n");
	free(s);
	assert_int_equal(ops_vm_file(ops, "c", "disks", &s, NULL), 0);
	assert_non_null(strstr(s, "rootfs "));
	assert_non_null(strstr(s, "/.images/images/fake.ext4 ro\n"));
	free(s);
	assert_int_equal(ops_vm_file(ops, "c", "vcpus", &s, NULL), 0);
	assert_string_equal(s, "2\n");
	free(s);
	assert_int_equal(ops_delete(ops, "c", false, NULL), 0);
	assert_int_equal(fake.live, 0);

	/* a failing startContainer hook stops and destroys it */
	fake.start = FAKE_START_OK;
	write_config("", ",\"hooks\":{\"startContainer\":[{\"path\":\"/bin/false\"}]}");
	assert_int_equal(ops_create(ops, "d", bundle, NULL, 0, NULL), 0);
	oerr_clear(&err);
	assert_int_equal(ops_start(ops, "d", &err), -EIO);
	assert_non_null(strstr(err.msg, "hooks.startContainer[0]: /bin/false exited with status 1"));
	assert_int_equal(status_of(ops, "d"), OPS_STOPPED);
	assert_int_equal(fake.live, 0);
	assert_int_equal(ops_delete(ops, "d", false, NULL), 0);
	assert_int_equal(fake.image_refs, 0);

	/* a failing poststart hook is only logged (runtime.md): the container
	 * keeps running and the hooks after it still run */
	char mark[256], px[1024];
	snprintf(mark, sizeof(mark), "%s/poststart.2", tmp);
	snprintf(px, sizeof(px), ",\"hooks\":{\"poststart\":[{\"path\":\"/bin/false\"},"
		 "{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"touch %s\"]}]}", mark);
	write_config("", px);
	assert_int_equal(ops_create(ops, "p", bundle, NULL, 0, NULL), 0);
	int logs0 = logs;
	oerr_clear(&err);
	assert_int_equal(ops_start(ops, "p", &err), 0);
	assert_int_equal(status_of(ops, "p"), OPS_RUNNING);
	assert_int_equal(fake.live, 1);
	assert_int_equal(access(mark, F_OK), 0);
	assert_true(logs > logs0);
	pthread_mutex_lock(&ev_mu);
	assert_non_null(strstr(log_text, "p: warning: hooks.poststart[0]: /bin/false exited with status 1"));
	pthread_mutex_unlock(&ev_mu);
	assert_int_equal(ops_kill(ops, "p", SIGKILL, NULL), 0);
	wait_status(ops, "p", OPS_STOPPED);
	assert_int_equal(ops_delete(ops, "p", false, NULL), 0);
	ops_close(ops);
}

static void test_reload(void **state)
{
	struct ops *ops = open_ops();
	char run_dir[256];

	assert_int_equal(ops_create(ops, "r1", bundle, NULL, 0, NULL), 0);
	assert_int_equal(ops_start(ops, "r1", NULL), 0);
	assert_int_equal(ops_create(ops, "r2", bundle, NULL, 0, NULL), 0);
	assert_int_equal(ops_create(ops, "r3", bundle, NULL, 0, NULL), 0);
	assert_int_equal(ops_kill(ops, "r3", SIGKILL, NULL), 0);
	wait_status(ops, "r3", OPS_STOPPED);
	ops_close(ops); /* the daemon goes away; VMs keep running */
	snprintf(run_dir, sizeof(run_dir), "%s/r1/vm", state_dir);
	assert_true(fake_alive(run_dir));
	snprintf(run_dir, sizeof(run_dir), "%s/r2/vm", state_dir);
	fake_exit(run_dir, 3); /* r2's VM ends while no one watches */

	/* a record left mid-create is undone on reload */
	char p[256];
	snprintf(p, sizeof(p), "%s/half", state_dir);
	mkdir(p, 0700);
	const char *rec = "{\"id\":\"half\",\"status\":\"creating\",\"imageHeld\":true}";
	snprintf(p, sizeof(p), "%s/half/state.json", state_dir);
	file_write_atomic(p, rec, strlen(rec), 0644);
	fake.image_refs++;

	ops = open_ops();
	assert_int_equal(status_of(ops, "r1"), OPS_RUNNING);
	assert_int_equal(status_of(ops, "r2"), OPS_STOPPED);
	struct ops_info in;
	ops_get(ops, "r2", &in, NULL);
	assert_int_equal(in.exit_status, 3);
	ops_get(ops, "r3", &in, NULL);
	assert_int_equal(in.status, OPS_STOPPED);
	assert_int_equal(in.exit_status, 128 + SIGKILL);
	assert_int_equal(ops_get(ops, "half", &in, NULL), -ENOENT);
	assert_false(exists("%s/%s", "half"));
	char *cfg = NULL;
	assert_int_equal(ops_config_json(ops, "r1", &cfg, NULL), 0);
	assert_non_null(strstr(cfg, "/bundle/vmlinuz"));
	free(cfg);
	/* the re-attached VM is supervised again */
	snprintf(run_dir, sizeof(run_dir), "%s/r1/vm", state_dir);
	fake_exit(run_dir, 0);
	wait_status(ops, "r1", OPS_STOPPED);
	for (const char *const *id = (const char *const[]){ "r1", "r2", "r3", NULL }; *id; id++)
		assert_int_equal(ops_delete(ops, *id, false, NULL), 0);
	assert_int_equal(fake.image_refs, 0);
	ops_close(ops);
}

static void test_state_dir_full(void **state)
{
	char filler[256], block[4096];
	struct oerr err = { 0 };

	mkdir(state_dir, 0700);
	if (mount("tmpfs", state_dir, "tmpfs", 0, "size=64k") < 0) {
		print_message("cannot mount a tmpfs here (%s): skipped\n", strerror(errno));
		skip();
	}
	struct ops *ops = open_ops();
	assert_int_equal(ops_create(ops, "early", bundle, NULL, 0, NULL), 0);
	snprintf(filler, sizeof(filler), "%s/.filler", state_dir);
	int fd = open(filler, O_WRONLY | O_CREAT, 0644);
	memset(block, 'f', sizeof(block));
	while (write(fd, block, sizeof(block)) > 0)
		;
	close(fd);
	assert_int_equal(ops_create(ops, "late", bundle, NULL, 0, &err), -ENOSPC);
	assert_false(exists("%s/%s", "late"));
	assert_int_equal(fake.image_refs, 1);
	/* the stop of a container made before the disk filled is saved (its
	 * reserve): a restart gives the status that was reported */
	assert_int_equal(ops_kill(ops, "early", SIGKILL, NULL), 0);
	wait_status(ops, "early", OPS_STOPPED);
	ops_close(ops);
	unlink(filler);
	ops = open_ops();
	struct ops_info in;
	assert_int_equal(ops_get(ops, "early", &in, NULL), 0);
	assert_int_equal(in.status, OPS_STOPPED);
	assert_int_equal(in.exit_status, 128 + SIGKILL);
	assert_int_equal(ops_delete(ops, "early", false, NULL), 0);
	assert_int_equal(fake.image_refs, 0);
	ops_close(ops);
}

/* Fill the state dir's tmpfs to leave `left` bytes. */
static void fill_leaving(const char *filler, unsigned long long left)
{
	static char block[4096];
	struct statvfs vfs;

	unlink(filler);
	assert_int_equal(statvfs(state_dir, &vfs), 0);
	unsigned long long avail = (unsigned long long)vfs.f_bavail * vfs.f_bsize;
	unsigned long long want = avail > left ? avail - left : 0;
	int fd = open(filler, O_WRONLY | O_CREAT, 0644);
	memset(block, 'f', sizeof(block));
	while (want > 0) {
		ssize_t n = write(fd, block, want < sizeof(block) ? want : sizeof(block));
		if (n <= 0)
			break;
		want -= (unsigned long long)n;
	}
	close(fd);
}

/* At every free-space level from 0 to 64 KiB: a create either fails with
 * ENOSPC and leaves nothing, or succeeds with its record saved as created;
 * a container that then stops while the disk is still full has its exit
 * status saved, so a restart reports what was reported. */
static void test_create_at_every_free_level(void **state)
{
	char filler[256], id[16], dir[256];
	unsigned made = 0, refused = 0;

	mkdir(state_dir, 0700);
	if (mount("tmpfs", state_dir, "tmpfs", 0, "size=512k") < 0) {
		print_message("cannot mount a tmpfs here (%s): skipped\n", strerror(errno));
		skip();
	}
	struct ops *ops = open_ops();
	snprintf(filler, sizeof(filler), "%s/.filler", state_dir);
	for (unsigned kib = 0; kib <= 64; kib += 4) {
		struct oerr err = { 0 };
		struct ops_record rec = { 0 };
		snprintf(id, sizeof(id), "c%u", kib);
		snprintf(dir, sizeof(dir), "%s/%s", state_dir, id);
		fill_leaving(filler, kib * 1024ull);
		int r = ops_create(ops, id, bundle, NULL, 0, &err);
		if (r < 0) {
			if (r != -ENOSPC)
				fail_msg("%u KiB free: create gave %d (%s)", kib, r, err.msg);
			assert_false(exists("%s/%s", id));
			struct ops_info none;
			assert_int_equal(ops_get(ops, id, &none, NULL), -ENOENT);
			refused++;
			continue;
		}
		made++;
		assert_int_equal(ops_store_load(dir, &rec, NULL), 0);
		if (rec.status != OPS_CREATED)
			fail_msg("%u KiB free: create succeeded, record says %s", kib,
				 ops_status_name(rec.status));
		ops_record_free(&rec);
		fill_leaving(filler, 0);   /* the stop comes with the disk full */
		assert_int_equal(ops_kill(ops, id, SIGKILL, NULL), 0);
		wait_status(ops, id, OPS_STOPPED);
		assert_int_equal(ops_store_load(dir, &rec, NULL), 0);
		if (rec.status != OPS_STOPPED || !rec.exited || rec.exit_status != 128 + SIGKILL)
			fail_msg("%u KiB free: stopped with 137, record says %s, %d", kib,
				 ops_status_name(rec.status), rec.exit_status);
		ops_record_free(&rec);
		assert_int_equal(ops_delete(ops, id, false, NULL), 0);
	}
	unlink(filler);
	ops_close(ops);
	print_message("free 0..64 KiB: %u creates refused (ENOSPC), %u made\n", refused, made);
	assert_true(refused > 0 && made > 0);   /* both sides of the edge were seen */
	assert_int_equal(fake.image_refs, 0);
}

static void test_hook_order(void **state)
{
	static const char *const kinds[] = { "prestart", "createRuntime", "createContainer",
					     "startContainer", "poststart", "poststop" };
	char log[256], extra[4096], *p = extra;

	snprintf(log, sizeof(log), "%s/hooks.order", tmp);
	p += sprintf(p, ",\"hooks\":{");
	for (int i = 0; i < 6; i++)
		p += sprintf(p, "%s\"%s\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\","
			     "\"printf '%s ' >> %s; grep -o 'status\\\":\\\"[a-z]*' >> %s\"]}]",
			     i ? "," : "", kinds[i], kinds[i], log, log);
	strcpy(p, "}");
	write_config("", extra);
	struct ops *ops = open_ops();
	struct oerr err = { 0 };
	if (ops_create(ops, "h", bundle, NULL, 0, &err) < 0)
		fail_msg("create: %s", err.msg);
	assert_int_equal(ops_start(ops, "h", &err), 0);
	assert_int_equal(ops_kill(ops, "h", SIGKILL, NULL), 0);
	wait_status(ops, "h", OPS_STOPPED);
	assert_int_equal(ops_delete(ops, "h", false, &err), 0);
	char *got = NULL;
	size_t len;
	assert_int_equal(file_read_all(log, 65536, &got, &len), 0);
	assert_string_equal(got,
		"prestart status\":\"creating\ncreateRuntime status\":\"creating\n"
		"createContainer status\":\"creating\nstartContainer status\":\"created\n"
		"poststart status\":\"running\npoststop status\":\"stopped\n");
	free(got);
	ops_close(ops);
}

struct worker { struct ops *ops; int k, errors; };

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char id[32];
	struct ops_info in;

	snprintf(id, sizeof(id), "t%d", w->k);
	for (int i = 0; i < 15; i++) {
		if (ops_create(w->ops, id, bundle, NULL, 0, NULL) < 0 ||
		    ops_start(w->ops, id, NULL) < 0 || ops_kill(w->ops, id, SIGKILL, NULL) < 0) {
			w->errors++;
			continue;
		}
		for (int t = 0; t < 15000 && ops_get(w->ops, id, &in, NULL) == 0 &&
				in.status != OPS_STOPPED; t++)
			usleep(2000);
		if (ops_delete(w->ops, id, false, NULL) < 0)
			w->errors++;
	}
	return NULL;
}

static void *chaos_main(void *arg)
{
	struct worker *w = arg;
	char *s;
	for (int i = 0; i < 60; i++) {
		int r = 0;
		switch ((i + w->k) % 5) {
		case 0: r = ops_create(w->ops, "shared", bundle, NULL, 0, NULL); break;
		case 1: r = ops_start(w->ops, "shared", NULL); break;
		case 2: r = ops_delete(w->ops, "shared", true, NULL); break;
		case 3: r = ops_kill(w->ops, "shared", SIGTERM, NULL); break;
		case 4:
			if ((r = ops_state_json(w->ops, "shared", &s, NULL)) == 0)
				free(s);
			break;
		}
		/* allowed outcomes of racing on one id */
		if (r && r != -EEXIST && r != -ENOENT && r != -EBUSY && r != -EIO && r != -EPIPE)
			w->errors++;
	}
	return NULL;
}

static void test_concurrency(void **state)
{
	struct ops *ops = open_ops();
	struct worker w[6];
	pthread_t th[6];

	for (int i = 0; i < 6; i++) {
		w[i] = (struct worker){ ops, i, 0 };
		pthread_create(&th[i], NULL, i < 4 ? worker_main : chaos_main, &w[i]);
	}
	for (int i = 0; i < 6; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].errors, 0);
	}
	ops_delete(ops, "shared", true, NULL);
	char **ids;
	size_t n;
	ops_list(ops, &ids, &n);
	assert_int_equal(n, 0);
	ops_free_list(ids, n);
	assert_int_equal(fake.image_refs, 0);
	assert_int_equal(fake.live, 0);
	ops_close(ops);
}

static struct ops *open_ops_opt(uint64_t max_output, const char *cache_dir)
{
	struct ops_options o = { .state_dir = state_dir, .kernel = "/default/vmlinuz",
				 .max_output_bytes = max_output, .cache_dir = cache_dir };
	struct ops *ops = NULL;
	struct oerr err = { 0 };
	if (ops_open(&o, &listener, NULL, &ops, &err) < 0)
		fail_msg("ops_open: %s", err.msg);
	return ops;
}

static size_t wait_file_size(const char *path, size_t want)
{
	struct stat st = { 0 };
	for (int i = 0; i < 3000; i++) {
		if (stat(path, &st) == 0 && (size_t)st.st_size >= want)
			break;
		usleep(10000);
	}
	return (size_t)st.st_size;
}

/* A guest printing forever cannot fill the state dir: stdout stops at the
 * cap with one marker line, the rest is counted, the container runs on. */
static void test_output_cap(void **state)
{
	struct ops *ops = open_ops_opt(100, NULL);
	char run_dir[256], path[256], line[61], *s = NULL;
	static const char marker[] = "\n[ocivmfs: output truncated after 100 bytes]\n";

	assert_int_equal(ops_create(ops, "big", bundle, NULL, 0, NULL), 0);
	assert_int_equal(ops_start(ops, "big", NULL), 0);
	snprintf(run_dir, sizeof(run_dir), "%s/big/vm", state_dir);
	for (int i = 0; i < 4; i++) {   /* 240 bytes: 100 kept, 140 dropped */
		memset(line, 'a' + i, 59);
		line[59] = '\n';
		line[60] = '\0';
		fake_output(run_dir, 1, line);
	}
	fake_output(run_dir, 2, "err\n");
	assert_int_equal(ops_stream_path(ops, "big", OPS_STREAM_STDOUT, path, sizeof(path)), 0);
	assert_int_equal(wait_file_size(path, 100 + strlen(marker)), 100 + strlen(marker));
	for (int i = 0; i < 3000; i++) {  /* the last chunk may still be on its way */
		free(s);
		s = NULL;
		assert_int_equal(ops_vm_file(ops, "big", "output", &s, NULL), 0);
		if (strstr(s, "stdout_discarded 140\n"))
			break;
		usleep(10000);
	}
	assert_string_equal(s, "max_output 100\nstdout_discarded 140\nstderr_discarded 0\n");
	free(s);
	size_t len;
	assert_int_equal(file_read_all(path, 4096, &s, &len), 0);
	assert_int_equal(len, 100 + strlen(marker));
	assert_int_equal(s[59], '\n');
	assert_int_equal(s[60], 'b');
	assert_int_equal(s[99], 'b');
	assert_memory_equal(s + 100, marker, strlen(marker));
	free(s);
	assert_int_equal(ops_stream_path(ops, "big", OPS_STREAM_STDERR, path, sizeof(path)), 0);
	assert_int_equal(wait_file_size(path, 4), 4);
	/* one log line, however much more comes */
	char logs_now[sizeof(log_text)];
	pthread_mutex_lock(&ev_mu);
	memcpy(logs_now, log_text, sizeof(logs_now));
	pthread_mutex_unlock(&ev_mu);
	const char *l = strstr(logs_now, "big: stdout reached 100 bytes");
	assert_non_null(l);
	assert_null(strstr(l + 20, "reached 100 bytes")); /* past the first */
	assert_int_equal(status_of(ops, "big"), OPS_RUNNING);
	int before = __atomic_load_n(&outputs, __ATOMIC_SEQ_CST);
	fake_exit(run_dir, 0);
	wait_status(ops, "big", OPS_STOPPED);
	struct ops_info in;
	ops_get(ops, "big", &in, NULL);
	assert_true(in.exited);
	assert_int_equal(in.exit_status, 0);
	/* readers parked at EOF are still answered at the stop */
	for (int i = 0; i < 300 && __atomic_load_n(&outputs, __ATOMIC_SEQ_CST) == before; i++)
		usleep(10000);
	assert_true(__atomic_load_n(&outputs, __ATOMIC_SEQ_CST) > before);
	assert_int_equal(ops_delete(ops, "big", false, NULL), 0);

	/* the cap reached exactly by a write without a newline: the marker
	 * still starts a line of its own */
	char fifty[51];
	memset(fifty, 'x', 50);
	fifty[50] = '\0';
	assert_int_equal(ops_create(ops, "edge", bundle, NULL, 0, NULL), 0);
	snprintf(run_dir, sizeof(run_dir), "%s/edge/vm", state_dir);
	fake_output(run_dir, 2, fifty);
	fake_output(run_dir, 2, fifty);
	fake_output(run_dir, 2, "y");
	assert_int_equal(ops_stream_path(ops, "edge", OPS_STREAM_STDERR, path, sizeof(path)), 0);
	assert_int_equal(wait_file_size(path, 100 + strlen(marker)), 100 + strlen(marker));
	assert_int_equal(file_read_all(path, 4096, &s, &len), 0);
	assert_memory_equal(s + 100, marker, strlen(marker));
	free(s);
	assert_int_equal(ops_delete(ops, "edge", true, NULL), 0);
	ops_close(ops);
}

/* The image cache: STATE/.images for a state dir of one's own, or the
 * given dir, made with its parents. */
static void test_cache_dir(void **state)
{
	char p[256];
	struct ops *ops = open_ops_opt(0, NULL);
	assert_true(exists("%s/%s", ".images"));
	ops_close(ops);
	snprintf(p, sizeof(p), "%s/var/lib/images", tmp);
	ops = open_ops_opt(0, p);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	char *s = NULL;
	assert_int_equal(ops_create(ops, "c", bundle, NULL, 0, NULL), 0);
	assert_int_equal(ops_vm_file(ops, "c", "output", &s, NULL), 0);
	assert_non_null(strstr(s, "max_output 268435456\n")); /* the default */
	free(s);
	assert_int_equal(ops_delete(ops, "c", true, NULL), 0);
	ops_close(ops);
	/* a cache dir that cannot be made is an error naming it */
	struct ops_options o = { .state_dir = state_dir, .cache_dir = "/proc/no/such" };
	struct oerr err = { 0 };
	ops = NULL;
	assert_true(ops_open(&o, &listener, NULL, &ops, &err) < 0);
	assert_null(ops);
	assert_non_null(strstr(err.msg, "image cache dir /proc/no/such"));
}

static void test_features(void **state)
{
	char *s = NULL;
	assert_int_equal(ops_features_json(&s), 0);
	assert_non_null(strstr(s, "\"ociVersionMax\":\t\"1.3.0\""));
	assert_non_null(strstr(s, "\"poststop\""));
	assert_non_null(strstr(s, "\"CAP_CHECKPOINT_RESTORE\""));
	assert_non_null(strstr(s, "\"namespaces\""));
	assert_non_null(strstr(s, "\"CAP_CHOWN\""));
	/* a namespace path is accepted for network only */
	assert_non_null(strstr(s, "\"io.github.ocivmfs.linux.namespaces.path\":\t\"network\""));
	assert_non_null(strstr(s, "\"io.github.ocivmfs.net\":\t\"the network namespace at"));
	assert_non_null(strstr(s, "\"io.github.ocivmfs.linux.devices\":\t\"made in the guest"));
	assert_non_null(strstr(s, "\"io.github.ocivmfs.machine-id\":\t\"a root whose /etc has no machine-id"));
	assert_non_null(strstr(s, "host devices are not passed through"));
	assert_non_null(strstr(s, "\"io.github.ocivmfs.mounts.bind\":\t\"a bind mount of a host path is a copy"));
	free(s);
	struct ops *ops = open_ops();
	assert_non_null(strstr(ops_hypervisor_line(ops), "fake VM driver"));
	ops_close(ops);
}

/* create refuses with id and JSON path, before anything is made */
static void expect_refused(struct ops *ops, const char *vm_extra, const char *msg)
{
	struct oerr err = { 0 };

	write_config(vm_extra, "");
	int r = ops_create(ops, "h", bundle, NULL, 0, &err);
	if (r != -EINVAL || !strstr(err.msg, msg))
		fail_msg("%s: r=%d '%s' lacks '%s'", vm_extra, r, err.msg, msg);
	assert_false(exists("%s/%s", "h"));
	assert_int_equal(fake.creates, 0);
	assert_int_equal(fake.image_refs, 0);
}

static void expect_created(struct ops *ops, const char *vm_extra, const char *disks)
{
	struct oerr err = { 0 };
	char *s = NULL;

	write_config(vm_extra, "");
	if (ops_create(ops, "h", bundle, NULL, 0, &err) < 0)
		fail_msg("%s: %s", vm_extra, err.msg);
	assert_int_equal(ops_vm_file(ops, "h", "disks", &s, NULL), 0);
	if (disks && !strstr(s, disks))
		fail_msg("disks '%s' lacks '%s'", s, disks);
	free(s);
	assert_int_equal(ops_delete(ops, "h", true, &err), 0);
	fake.creates = 0;
}

/* vm.kernel / vm.image: inside the bundle, readable by all, or (bundle not
 * root's) the bundle owner's; vm.hypervisor.parameters: the driver's allowlist. */
static void test_host_refs(void **state)
{
	struct ops *ops = open_ops();
	char x[1024], p[256], q[256];

	fake.creates = 0;
	expect_refused(ops, ",\"image\":{\"path\":\"/etc/shadow\",\"format\":\"raw\"}",
		       "vm.image.path /etc/shadow: outside the bundle and not readable by all: refused");
	snprintf(p, sizeof(p), "%s/img", bundle);
	assert_int_equal(symlink("/etc/shadow", p), 0);
	snprintf(x, sizeof(x), ",\"image\":{\"path\":\"%s\",\"format\":\"raw\"}", p);
	expect_refused(ops, x, "vm.image.path /etc/shadow: outside");   /* the link's target */
	/* vm.kernel.path and .initrd follow the same rule */
	struct stat bst;
	struct oerr err = { 0 };
	char *path = strdup("/etc/shadow");
	assert_int_equal(stat(bundle, &bst), 0);
	assert_int_equal(ops_hostref_file("vm.kernel.initrd", &path, bundle, &bst, false, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "vm.kernel.initrd /etc/shadow: outside the bundle"));
	free(path);
	path = strdup("/dev/null");
	oerr_clear(&err);
	assert_int_equal(ops_hostref_file("vm.kernel.path", &path, bundle, &bst, false, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not a regular file"));
	free(path);
	snprintf(x, sizeof(x), ",\"image\":{\"path\":\"%s\",\"format\":\"raw\"}", tmp);
	expect_refused(ops, x, "not a regular file or block device");
	expect_refused(ops, ",\"image\":{\"path\":\"/nonexistent/img\",\"format\":\"raw\"}",
		       "vm.image.path /nonexistent/img: No such file");
	expect_refused(ops, ",\"hypervisor\":{\"path\":\"/usr/bin/qemu-system-x86_64\","
		       "\"parameters\":[\"-smp\",\"2\",\"-bad\"]}",
		       "vm.hypervisor.parameters[2] \"-bad\": not on the allowlist");

	/* vm.hypervisor.path is run as root: root's, in root-only directories */
	snprintf(q, sizeof(q), "%s/qemu-system-x86_64", bundle);
	assert_int_equal(file_write_atomic(q, "#!/bin/sh\n", 10, 0755), 0);
	snprintf(x, sizeof(x), ",\"hypervisor\":{\"path\":\"%s\"}", q);
	expect_refused(ops, x, "is not root's or is writable by others than root: refused");
	expect_refused(ops, ",\"hypervisor\":{\"path\":\"/tmp/qemu-system-x86_64\"}",
		       "vm.hypervisor.path /tmp/qemu-system-x86_64: /tmp is not root's or is writable");

	/* allowed: inside the bundle (resolved), and a world-readable file */
	unlink(p);
	snprintf(q, sizeof(q), "%s/disk.raw", bundle);
	assert_int_equal(file_write_atomic(q, "d", 1, 0600), 0);
	assert_int_equal(symlink("disk.raw", p), 0);
	snprintf(x, sizeof(x), ",\"image\":{\"path\":\"%s\",\"format\":\"raw\"}", p);
	snprintf(q, sizeof(q), "image %s/disk.raw ro", bundle);
	expect_created(ops, x, q);
	snprintf(q, sizeof(q), "%s/pub.raw", tmp);
	assert_int_equal(file_write_atomic(q, "d", 1, 0644), 0);
	snprintf(x, sizeof(x), ",\"image\":{\"path\":\"%s\",\"format\":\"raw\"}", q);
	expect_created(ops, x, q);

	/* a bundle owned by someone else: that user's own files, nothing of root's */
	if (geteuid() == 0) {
		char own[256];
		snprintf(own, sizeof(own), "%s/own.raw", tmp);
		assert_int_equal(file_write_atomic(own, "d", 1, 0600), 0);
		assert_int_equal(chown(own, 65534, 65534), 0);
		assert_int_equal(chown(bundle, 65534, 65534), 0);
		snprintf(p, sizeof(p), "%s/rootfs", bundle);
		assert_int_equal(chown(p, 65534, 65534), 0);   /* the rootfs: check_rootfs */
		snprintf(x, sizeof(x), ",\"image\":{\"path\":\"%s\",\"format\":\"raw\"}", own);
		expect_created(ops, x, own);
		assert_int_equal(chown(own, 0, 0), 0);
		expect_refused(ops, x, "not the bundle owner's (uid 65534)");
		assert_int_equal(chown(bundle, 0, 0), 0);
	}
	ops_close(ops);
}

static void expect_eperm(struct ops *ops, const char *top_extra, const char *msg)
{
	struct oerr err = { 0 };

	write_config("", top_extra);
	int r = ops_create(ops, "h", bundle, NULL, 0, &err);
	if (r != -EPERM || !strstr(err.msg, msg))
		fail_msg("%s: r=%d '%s' lacks '%s'", top_extra, r, err.msg, msg);
	assert_int_equal(fake.creates, 0);
	assert_int_equal(fake.image_refs, 0);
}

/* Hooks run as the daemon: only from a bundle and config.json it owns and
 * no one else may write.  A bundle not root's: its rootfs must be its
 * owner's (root.path "/" would copy the host into the guest). */
static void test_owner_rules(void **state)
{
	struct ops *ops = open_ops();
	struct oerr err = { 0 };
	const char *hooks = ",\"hooks\":{\"prestart\":[{\"path\":\"/bin/true\"}]}";
	char p[256];

	fake.creates = 0;
	assert_int_equal(chmod(bundle, 0775), 0);
	expect_eperm(ops, hooks, "hooks: the bundle");
	expect_eperm(ops, hooks, "(mode 775)");
	assert_int_equal(chmod(bundle, 0755), 0);
	write_config("", hooks);
	snprintf(p, sizeof(p), "%s/config.json", bundle);
	assert_int_equal(chmod(p, 0666), 0);
	int r = ops_create(ops, "h", bundle, NULL, 0, &err);
	assert_int_equal(r, -EPERM);
	assert_non_null(strstr(err.msg, "config.json belongs to uid"));
	assert_non_null(strstr(err.msg, "no one else may write: refused"));
	/* the same bundle without hooks is fine; with them and sane modes too */
	oerr_clear(&err);
	write_config("", "");
	assert_int_equal(chmod(bundle, 0777), 0);
	assert_int_equal(ops_create(ops, "h", bundle, NULL, 0, &err), 0);
	assert_int_equal(ops_delete(ops, "h", true, &err), 0);
	fake.creates = 0;
	assert_int_equal(chmod(bundle, 0755), 0);
	write_config("", hooks);
	assert_int_equal(ops_create(ops, "h", bundle, NULL, 0, &err), 0);
	assert_int_equal(ops_delete(ops, "h", true, &err), 0);
	fake.creates = 0;
	if (geteuid() == 0) {
		assert_int_equal(chown(bundle, 65534, 65534), 0);
		expect_eperm(ops, hooks, "belongs to uid 65534");
		/* rootfs root's, bundle not: refused, even through a symlink */
		expect_eperm(ops, "", "root.path");
		expect_eperm(ops, "", "belongs to uid 0, not to the bundle's owner (uid 65534)");
		snprintf(p, sizeof(p), "%s/rootfs", bundle);
		assert_int_equal(chown(p, 65534, 65534), 0);
		write_config("", "");
		assert_int_equal(ops_create(ops, "h", bundle, NULL, 0, &err), 0);
		assert_int_equal(ops_delete(ops, "h", true, &err), 0);
		fake.creates = 0;
		assert_int_equal(rmdir(p), 0);
		assert_int_equal(symlink("/etc", p), 0);
		expect_eperm(ops, "", "root.path /etc: belongs to uid 0");
		assert_int_equal(chown(bundle, 0, 0), 0);
	}
	ops_close(ops);
}

/* --vm-uids: each VM the lowest uid of the range no container holds; a
 * container holds it until deleted; none free: EAGAIN; bad ranges EINVAL. */
static void test_vm_uids(void **state)
{
	static const char *const bad[] = { "x", "0:5", "5:0", "5:", ":5", "5", "-1:2",
					   "4294967295:1", "4294967000:1000", "5:2x" };
	struct ops *ops = NULL;
	struct oerr err = { 0 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ops_options o = { .state_dir = state_dir, .kernel = "/k", .vm_uids = bad[i] };
		oerr_clear(&err);
		assert_int_equal(ops_open(&o, &listener, NULL, &ops, &err), -EINVAL);
		if (!strstr(err.msg, "--vm-uids"))
			fail_msg("%s: '%s'", bad[i], err.msg);
	}
	struct ops_options o = { .state_dir = state_dir, .kernel = "/k", .vm_uids = "5000:2" };
	oerr_clear(&err);
	assert_int_equal(ops_open(&o, &listener, NULL, &ops, &err), 0);
	assert_int_equal(ops_create(ops, "a", bundle, NULL, 0, &err), 0);
	assert_int_equal(fake.last_uid, 5000);
	assert_int_equal(ops_create(ops, "b", bundle, NULL, 0, &err), 0);
	assert_int_equal(fake.last_uid, 5001);
	assert_int_equal(ops_create(ops, "c", bundle, NULL, 0, &err), -EAGAIN);
	if (!strstr(err.msg, "no free VM uid in --vm-uids 5000:2"))
		fail_msg("%s", err.msg);
	assert_int_equal(ops_delete(ops, "a", true, &err), 0);
	assert_int_equal(ops_create(ops, "c", bundle, NULL, 0, &err), 0);
	assert_int_equal(fake.last_uid, 5000);
	char *cg = NULL;   /* vm/cgroup: the driver's live figures */
	assert_int_equal(ops_vm_file(ops, "c", "cgroup", &cg, &err), 0);
	assert_string_equal(cg, "cgroup /fake\nmemory.current 1\n");
	free(cg);
	assert_int_equal(ops_delete(ops, "b", true, &err), 0);
	assert_int_equal(ops_delete(ops, "c", true, &err), 0);
	ops_close(ops);
	/* off: every VM gets --vm-user's uid */
	ops = open_ops();
	assert_int_equal(ops_create(ops, "a", bundle, NULL, 0, &err), 0);
	assert_int_equal(fake.last_uid, 65534);
	assert_int_equal(ops_delete(ops, "a", true, &err), 0);
	ops_close(ops);
}

/* Bind mounts of host paths: small files and trees are copied into the VM
 * (copy + copymount records); anything else is refused at create. */
static void test_bind_mounts(void **state)
{
	struct ops *ops = open_ops();
	struct oerr err = { 0 };
	char top[2048], p[256], big[20000];

	snprintf(p, sizeof(p), "%s/resolv.conf", tmp);
	assert_int_equal(file_write_atomic(p, "nameserver 10.0.0.1\n", 20, 0644), 0);
	snprintf(p, sizeof(p), "%s/bundle/data", tmp);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/bundle/data/sub", tmp);
	mkdir(p, 0750);
	snprintf(p, sizeof(p), "%s/bundle/data/sub/f", tmp);
	assert_int_equal(file_write_atomic(p, "x", 1, 0600), 0);   /* inside the bundle: any mode */
	snprintf(p, sizeof(p), "%s/bundle/data/link", tmp);
	assert_int_equal(symlink("sub/f", p), 0);
	snprintf(top, sizeof(top), ",\"mounts\":["
		 "{\"destination\":\"/etc/resolv.conf\",\"type\":\"bind\",\"source\":\"%s/resolv.conf\",\"options\":[\"rbind\",\"ro\"]},"
		 "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
		 "{\"destination\":\"/mnt/d\",\"type\":\"none\",\"source\":\"data\",\"options\":[\"bind\"]}]", tmp);
	write_config("", top);
	if (ops_create(ops, "bm", bundle, NULL, 0, &err) < 0)
		fail_msg("%s", err.msg);
	const char *g = fake.last_gspec;
	assert_non_null(strstr(g, "\ncopy 0 . f 0644 0 0 6e616d657365727665722031302e302e302e310a\n"
			       "copymount /etc/resolv.conf 0 rbind,ro\nmount /proc proc proc -\n"));
	assert_non_null(strstr(g, "\ncopy 1 . d 0755 0 0 -\n"));
	assert_non_null(strstr(g, "\ncopy 1 sub d 0750 0 0 -\n"));
	assert_non_null(strstr(g, "\ncopy 1 sub/f f 0600 0 0 78\n"));
	assert_non_null(strstr(g, "\ncopy 1 link l 0777 0 0 7375622f66\n"));
	assert_non_null(strstr(g, "\ncopymount /mnt/d 1 bind\n"));
	assert_null(strstr(g, "\nmount /etc/resolv.conf"));
	assert_int_equal(ops_delete(ops, "bm", true, &err), 0);

	static const struct { const char *src, *msg; } bad[] = {
		{ "/etc", "mounts[0] (bind mount of host /etc on /x): " },
		{ "/etc/shadow", "mounts[0] (bind mount of host /etc/shadow on /x): /etc/shadow: outside the bundle and not readable by all" },
		{ "/dev/null", "/dev/null: only regular files, directories and symlinks can be copied" },
		{ "/nonexistent", "mounts[0] (bind mount of host /nonexistent on /x): No such file or directory on the host" },
		{ "big", "big: more than 16384 bytes to copy into the VM" },
	};
	memset(big, 'a', sizeof(big));
	snprintf(p, sizeof(p), "%s/bundle/big", tmp);
	assert_int_equal(file_write_atomic(p, big, sizeof(big), 0644), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(top, sizeof(top), ",\"mounts\":[{\"destination\":\"/x\",\"type\":\"bind\","
			 "\"source\":\"%s\"}]", bad[i].src);
		write_config("", top);
		fake.creates = 0;
		oerr_clear(&err);
		int r = ops_create(ops, "bm", bundle, NULL, 0, &err);
		if (r != -EINVAL || !strstr(err.msg, bad[i].msg))
			fail_msg("%s: r=%d '%s' lacks '%s'", bad[i].src, r, err.msg, bad[i].msg);
		assert_int_equal(fake.creates, 0);
		assert_false(exists("%s/%s", "bm"));
	}
	/* the budget is per container: two halves of the big file's size pass, three do not */
	snprintf(p, sizeof(p), "%s/bundle/half", tmp);
	assert_int_equal(file_write_atomic(p, big, 7000, 0644), 0);
	snprintf(top, sizeof(top), ",\"mounts\":[{\"destination\":\"/a\",\"type\":\"bind\",\"source\":\"half\"},"
		 "{\"destination\":\"/b\",\"type\":\"bind\",\"source\":\"half\"},"
		 "{\"destination\":\"/c\",\"type\":\"bind\",\"source\":\"half\"}]");
	write_config("", top);
	oerr_clear(&err);
	assert_int_equal(ops_create(ops, "bm", bundle, NULL, 0, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "mounts[2] (bind mount of host half on /c)"));
	ops_close(ops);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_change_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_create_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_dir_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_at_every_free_level, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hook_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_features, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_refs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_owner_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vm_uids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_mounts, setup, teardown),
	};
	return cmocka_run_group_tests_name("ops_runtime", tests, NULL, NULL);
}
