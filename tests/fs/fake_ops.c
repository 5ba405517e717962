/* A test double of ops/ops.h: containers without VMs, so the FUSE tree can
 * be tested fast and alone.  create needs BUNDLE/config.json (valid JSON);
 * start "runs" the container: after a short delay it writes
 * "hello from ID" to stdout; stdin is echoed to stdout; kill stops it with 128+signal.  State persists in STATE/fake/ID. */
#include "ops/ops.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "ops/staging.h"

#define MAXC 512

struct fc { bool used; char id[256]; struct ops_info info; char last_error[512]; };

struct ops {
	pthread_mutex_t lock;
	char dir[4096];
	char state_dir[4096];   /* the real ops/staging.c keeps .incoming, .bundles here */
	struct ops_listener l;
	void *ctx;
	struct fc c[MAXC];
	uint64_t serial;        /* ops_info.serial: one per container made or reloaded */
};

const char *const ops_vm_file_names[] = { "kernel", "cmdline", "driver", "last_error", NULL };
static const char *names[] = { "creating", "created", "running", "paused", "stopped" };
const char *ops_status_name(enum ops_status s) { return names[s]; }

static struct fc *find(struct ops *o, const char *id)
{
	for (int i = 0; i < MAXC; i++)
		if (o->c[i].used && strcmp(o->c[i].id, id) == 0)
			return &o->c[i];
	return NULL;
}

static int persist(struct ops *o, struct fc *c)
{
	char path[4400], text[4400];
	snprintf(path, sizeof(path), "%s/%s", o->dir, c->id);
	int n = snprintf(text, sizeof(text), "%d %d %lld %s\n", (int)c->info.status,
			 c->info.exited ? c->info.exit_status : -1,
			 (long long)c->info.created, c->info.bundle);
	/* not file_write_atomic: its PATH.tmp.PID would pass NAME_MAX for the
	 * longest id (OPS_ID_MAX) */
	static unsigned seq;
	char tmp[4400];
	snprintf(tmp, sizeof(tmp), "%s/.tmp.%u", o->dir, __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
	int r = file_write_atomic(tmp, text, (size_t)n, 0600);
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	return r;
}

static void emit(struct ops *o, const char *id, enum ops_status s)
{
	char line[512], ts[64];
	time_t t = time(NULL);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	snprintf(line, sizeof(line), "%s %s %s", ts, id, names[s]);
	if (o->l.on_event)
		o->l.on_event(o->ctx, id, line);
}

static void append_out(struct ops *o, const char *id, const void *buf, size_t n)
{
	char path[4400];
	snprintf(path, sizeof(path), "%s/.out/%s", o->dir, id);
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0) {
		fd_write_all(fd, buf, n);
		close(fd);
	}
	o->l.on_output(o->ctx, id, OPS_STREAM_STDOUT);
}

static bool staging_live(void *ctx, const char *id) { return find(ctx, id) != NULL; }
static void staging_log(void *ctx, const char *line)
{
	struct ops *o = ctx;
	if (o->l.on_log)
		o->l.on_log(o->ctx, line);
}

int ops_open(const struct ops_options *opt, const struct ops_listener *l, void *ctx,
	     struct ops **ret, struct oerr *err)
{
	struct ops *o;
	DIR *d;
	struct dirent *de;
	int n = 0;
	char *abs = NULL;
	int sr = ops_state_dir_make(opt->state_dir, &abs, err);
	if (sr < 0)
		return sr;
	o = calloc(1, sizeof(*o));
	pthread_mutex_init(&o->lock, NULL);
	snprintf(o->dir, sizeof(o->dir), "%s/fake", abs);
	snprintf(o->state_dir, sizeof(o->state_dir), "%s", abs);
	free(abs);
	/* streams in .out/ID: "ID.stdout" would not fit NAME_MAX for the
	 * longest id (OPS_ID_MAX) */
	char out[4200];
	snprintf(out, sizeof(out), "%s/.out", o->dir);
	if ((sr = ops_staging_init(o->state_dir, err)) < 0)
		goto fail;
	if (mkdir(o->dir, 0700) < 0 && errno != EEXIST) {
		sr = oerr_sys(err, errno, "mkdir %s", o->dir);
		goto fail;
	}
	if (mkdir(out, 0700) < 0 && errno != EEXIST) {
		sr = oerr_sys(err, errno, "mkdir %s", out);
		goto fail;
	}
	o->l = *l;
	o->ctx = ctx;
	d = opendir(o->dir);
	while (d && (de = readdir(d)) && n < MAXC) {
		char path[4400], *text = NULL;
		int st, ex;
		long long created;
		struct fc *c = &o->c[n];
		if (de->d_name[0] == '.' || strchr(de->d_name, '.'))
			continue;
		snprintf(path, sizeof(path), "%s/%s", o->dir, de->d_name);
		if (file_read_all(path, 8192, &text, NULL) < 0)
			continue;
		if (sscanf(text, "%d %d %lld %4095s", &st, &ex, &created, c->info.bundle) == 4) {
			c->used = true;
			snprintf(c->id, sizeof(c->id), "%s", de->d_name);
			c->info.status = st == OPS_CREATED || st == OPS_STOPPED ? st : OPS_STOPPED;
			c->info.exited = ex >= 0;
			c->info.exit_status = ex;
			c->info.created = created;
			c->info.serial = ++o->serial;
			n++;
		}
		free(text);
	}
	if (d)
		closedir(d);
	ops_staging_recover(o->state_dir, staging_live, o, staging_log, o);
	*ret = o;
	return 0;
fail:
	free(o);
	return sr;
}

const char *ops_state_dir(struct ops *o) { return o->state_dir; }

void ops_close(struct ops *o) { free(o); }
const char *ops_hypervisor_line(struct ops *o) { return "fake: the test double of ops/ (no VMs)"; }

/* ops_id_valid: the real one (ops/id.c is linked in). */

static int check_bundle(const char *bundle, struct oerr *err)
{
	char path[4400], *text = NULL;
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	int r = file_read_all(path, 1 << 20, &text, NULL);
	if (r < 0)
		return oerr_set(err, EINVAL, "bundle %s: config.json: %s", bundle, strerror(-r));
	cJSON *j = cJSON_Parse(text);
	free(text);
	if (!j)
		return oerr_set(err, EINVAL, "%s: invalid JSON", path);
	cJSON *root = cJSON_GetObjectItem(j, "root");
	r = cJSON_IsObject(root) ? 0 : oerr_set(err, EINVAL, "%s: root: missing", path);
	cJSON_Delete(j);
	return r;
}

/* BUNDLE/NAME holding N (fake-boot-ms, fake-start-ms): create or start
 * takes N ms, as a VM boot or START does (outside the lock, as ops does). */
static void fake_delay(const char *bundle, const char *name)
{
	char p[4200], buf[32] = "";
	snprintf(p, sizeof(p), "%s/%s", bundle, name);
	FILE *f = fopen(p, "r");
	if (!f)
		return;
	if (fgets(buf, sizeof(buf), f))
		usleep((useconds_t)atoi(buf) * 1000);
	fclose(f);
}

int ops_create(struct ops *o, const char *id, const char *bundle,
	       const char *const *kv, size_t n_kv, struct oerr *err)
{
	int r = ops_id_valid(id, err);
	struct fc *c = NULL;

	if (r < 0)
		return r;
	for (size_t i = 0; i < n_kv; i++)
		if (strncmp(kv[i], "pid=", 4) && strncmp(kv[i], "terminal=", 9))
			return oerr_set(err, EINVAL, "create: unknown option %s", kv[i]);
	if ((r = check_bundle(bundle, err)) < 0)
		return r;
	pthread_mutex_lock(&o->lock);
	if (find(o, id)) {
		pthread_mutex_unlock(&o->lock);
		return oerr_set(err, EEXIST, "container %s already exists", id);
	}
	for (int i = 0; i < MAXC && !c; i++)
		if (!o->c[i].used)
			c = &o->c[i];
	if (!c) {
		pthread_mutex_unlock(&o->lock);
		return oerr_set(err, ENOSPC, "too many containers");
	}
	/* shown as creating while it "boots", as ops shows it */
	memset(c, 0, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "%s", id);
	snprintf(c->info.bundle, sizeof(c->info.bundle), "%s", bundle);
	c->info.status = OPS_CREATING;
	c->info.created = time(NULL);
	c->info.serial = ++o->serial;
	c->info.pid = getpid();
	c->used = true;
	pthread_mutex_unlock(&o->lock);
	fake_delay(bundle, "fake-boot-ms");
	char fail[4200];
	snprintf(fail, sizeof(fail), "%s/fake-fail-create", bundle);
	bool failing = access(fail, F_OK) == 0;   /* a create that fails late, as a boot can */
	pthread_mutex_lock(&o->lock);
	c->info.status = OPS_CREATED;
	r = failing ? -EIO : persist(o, c);
	c->used = r == 0;
	pthread_mutex_unlock(&o->lock);
	if (failing)
		return oerr_set(err, EIO, "create %s: the bundle has fake-fail-create", id);
	if (r < 0)
		return oerr_sys(err, -r, "persisting %s", id);
	emit(o, id, OPS_CREATED);
	return 0;
}

/* Run fn on the container under the lock; then emit the status it left. */
static int change(struct ops *o, const char *id, struct oerr *err,
		  int (*fn)(struct fc *c, void *arg, struct oerr *err), void *arg)
{
	pthread_mutex_lock(&o->lock);
	struct fc *c = find(o, id);
	int r = c ? fn(c, arg, err) : oerr_set(err, ENOENT, "no container %s", id);
	enum ops_status s = c ? c->info.status : OPS_STOPPED;
	if (r == 0 && c->used)
		persist(o, c);
	if (r < 0 && c)
		snprintf(c->last_error, sizeof(c->last_error), "%s", err->msg);
	pthread_mutex_unlock(&o->lock);
	if (r == 0)
		emit(o, id, s);
	return r;
}

struct later { struct ops *o; char id[256]; };

static void *hello_thread(void *arg)
{
	struct later *l = arg;
	char line[300];
	usleep(100 * 1000);
	int n = snprintf(line, sizeof(line), "hello from %s\n", l->id);
	append_out(l->o, l->id, line, (size_t)n);
	free(l);
	return NULL;
}

static int do_start(struct fc *c, void *arg, struct oerr *err)
{
	if (c->info.status != OPS_CREATED)
		return oerr_set(err, EBUSY, "start: %s is %s, not created", c->id,
				names[c->info.status]);
	c->info.status = OPS_RUNNING;
	return 0;
}

int ops_start(struct ops *o, const char *id, struct oerr *err)
{
	char bundle[4096] = "";
	pthread_mutex_lock(&o->lock);
	struct fc *fc = find(o, id);
	if (fc)
		snprintf(bundle, sizeof(bundle), "%s", fc->info.bundle);
	pthread_mutex_unlock(&o->lock);
	if (bundle[0])
		fake_delay(bundle, "fake-start-ms");
	int r = change(o, id, err, do_start, NULL);
	if (r == 0) {
		struct later *l = calloc(1, sizeof(*l));
		pthread_t t;
		l->o = o;
		snprintf(l->id, sizeof(l->id), "%s", id);
		pthread_create(&t, NULL, hello_thread, l);
		pthread_detach(t);
	}
	return r;
}

static int do_stop(struct fc *c, void *arg, struct oerr *err)
{
	int code = *(int *)arg;
	if (c->info.status != OPS_RUNNING && c->info.status != OPS_PAUSED)
		return oerr_set(err, EBUSY, "%s is %s, not running", c->id, names[c->info.status]);
	c->info.status = OPS_STOPPED;
	c->info.exited = true;
	c->info.exit_status = code;
	c->info.pid = 0;
	return 0;
}

int ops_kill(struct ops *o, const char *id, int signo, struct oerr *err)
{
	int code = 128 + signo;
	int r = change(o, id, err, do_stop, &code);
	if (r == 0)
		o->l.on_output(o->ctx, id, OPS_STREAM_STDOUT);
	return r;
}

static int do_pause(struct fc *c, void *arg, struct oerr *err)
{
	bool pause = *(bool *)arg;
	enum ops_status want = pause ? OPS_RUNNING : OPS_PAUSED;
	if (c->info.status != want)
		return oerr_set(err, EBUSY, "%s: %s is %s", pause ? "pause" : "resume", c->id,
				names[c->info.status]);
	c->info.status = pause ? OPS_PAUSED : OPS_RUNNING;
	return 0;
}

int ops_pause(struct ops *o, const char *id, struct oerr *err)
{
	bool p = true;
	return change(o, id, err, do_pause, &p);
}

int ops_resume(struct ops *o, const char *id, struct oerr *err)
{
	bool p = false;
	return change(o, id, err, do_pause, &p);
}

int ops_delete(struct ops *o, const char *id, bool force, struct oerr *err)
{
	char path[4400];
	pthread_mutex_lock(&o->lock);
	struct fc *c = find(o, id);
	char trash[4400];
	bool moved = false;
	int r = 0;
	if (!c)
		r = oerr_set(err, ENOENT, "no container %s", id);
	else if (c->info.status == OPS_CREATING)
		r = oerr_set(err, EBUSY, "delete: %s is being created", id);
	else if (!force && (c->info.status == OPS_RUNNING || c->info.status == OPS_PAUSED))
		r = oerr_set(err, EBUSY, "delete: %s is %s (use delete force)", id,
			     names[c->info.status]);
	if (r == 0) {
		moved = ops_staging_detach(o->state_dir, id, trash, sizeof(trash)) == 0;
		c->used = false;
		snprintf(path, sizeof(path), "%s/%s", o->dir, id);
		unlink(path);
		snprintf(path, sizeof(path), "%s/.out/%s", o->dir, id);
		unlink(path);
	}
	pthread_mutex_unlock(&o->lock);
	if (moved)
		ops_staging_remove(trash);
	if (r == 0) {
		emit(o, id, OPS_STOPPED);
		o->l.on_output(o->ctx, id, OPS_STREAM_STDOUT);
	}
	return r;
}

static int do_running(struct fc *c, void *arg, struct oerr *err)
{
	if (c->info.status != OPS_RUNNING)
		return oerr_set(err, EBUSY, "stdin: %s is %s, not running", c->id,
				names[c->info.status]);
	return 0;
}

int ops_write_stdin(struct ops *o, const char *id, const void *buf, size_t len,
		    struct oerr *err)
{
	pthread_mutex_lock(&o->lock);
	struct fc *c = find(o, id);
	int r = c ? do_running(c, NULL, err) : oerr_set(err, ENOENT, "no container %s", id);
	pthread_mutex_unlock(&o->lock);
	if (r == 0)
		append_out(o, id, buf, len);
	return r;
}

int ops_close_stdin(struct ops *o, const char *id, struct oerr *err)
{
	struct ops_info i;
	return ops_get(o, id, &i, err);
}

int ops_get(struct ops *o, const char *id, struct ops_info *ret, struct oerr *err)
{
	pthread_mutex_lock(&o->lock);
	struct fc *c = find(o, id);
	if (c)
		*ret = c->info;
	pthread_mutex_unlock(&o->lock);
	return c ? 0 : oerr_set(err, ENOENT, "no container %s", id);
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int ops_list(struct ops *o, char ***ret_ids, size_t *ret_n)
{
	char **ids = calloc(MAXC, sizeof(*ids));
	size_t n = 0;
	pthread_mutex_lock(&o->lock);
	for (int i = 0; i < MAXC; i++)
		if (o->c[i].used)
			ids[n++] = strdup(o->c[i].id);
	pthread_mutex_unlock(&o->lock);
	qsort(ids, n, sizeof(*ids), cmp);
	*ret_ids = ids;
	*ret_n = n;
	return 0;
}

void ops_free_list(char **ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

int ops_state_json(struct ops *o, const char *id, char **ret, struct oerr *err)
{
	struct ops_info i;
	int r = ops_get(o, id, &i, err);
	if (r < 0)
		return r;
	return asprintf(ret, "{\"ociVersion\":\"1.0.2\",\"id\":\"%s\",\"status\":\"%s\","
			"\"pid\":%d,\"bundle\":\"%s\"}", id, names[i.status], (int)i.pid,
			i.bundle) < 0 ? -ENOMEM : 0;
}

int ops_config_json(struct ops *o, const char *id, char **ret, struct oerr *err)
{
	struct ops_info i;
	char path[4400];
	int r = ops_get(o, id, &i, err);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/config.json", i.bundle);
	return file_read_all(path, 1 << 20, ret, NULL);
}

int ops_features_json(char **ret)
{
	*ret = strdup("{\"ociVersionMin\":\"1.0.0\",\"ociVersionMax\":\"1.1.0\"}");
	return *ret ? 0 : -ENOMEM;
}

int ops_vm_file(struct ops *o, const char *id, const char *name, char **ret, struct oerr *err)
{
	pthread_mutex_lock(&o->lock);
	struct fc *c = find(o, id);
	int r = c ? 0 : oerr_set(err, ENOENT, "no container %s", id);
	if (r == 0)
		*ret = strdup(strcmp(name, "last_error") == 0 ? c->last_error :
			      strcmp(name, "driver") == 0 ? "fake" : "");
	pthread_mutex_unlock(&o->lock);
	return r;
}

int ops_stream_path(struct ops *o, const char *id, int stream, char *buf, size_t n)
{
	if (stream != OPS_STREAM_STDOUT)
		return snprintf(buf, n, "%s/.none/%s", o->dir, id) < (int)n ? 0 : -ENAMETOOLONG;
	return snprintf(buf, n, "%s/.out/%s", o->dir, id) < (int)n ? 0 : -ENAMETOOLONG;
}

/* exec: the fake runs no processes (tree-fast checks the refusals). */
int ops_exec(struct ops *o, const char *id, const char *name, const char *process_json,
	     struct oerr *err)
{
	return oerr_set(err, EBUSY, "%s: exec: the fake runs no processes", id);
}

int ops_exec_kill(struct ops *o, const char *id, const char *name, int signo, struct oerr *err)
{
	return oerr_set(err, ENOENT, "%s: no exec'd process %s", id, name);
}

int ops_exec_write_stdin(struct ops *o, const char *id, const char *name, const void *buf,
			 size_t len, struct oerr *err)
{
	return oerr_set(err, ENOENT, "%s: no exec'd process %s", id, name);
}

int ops_exec_close_stdin(struct ops *o, const char *id, const char *name, struct oerr *err)
{
	return oerr_set(err, ENOENT, "%s: no exec'd process %s", id, name);
}

int ops_exec_remove(struct ops *o, const char *id, const char *name, struct oerr *err)
{
	return oerr_set(err, ENOENT, "%s: no exec'd process %s", id, name);
}

int ops_resize(struct ops *o, const char *id, const char *name, unsigned rows, unsigned cols,
	       struct oerr *err)
{
	return oerr_set(err, EBUSY, "%s: the fake has no terminal", id);
}

int ops_exec_get(struct ops *o, const char *id, const char *name, unsigned num,
		 struct ops_exec_info *ret, struct oerr *err)
{
	return oerr_set(err, ENOENT, "%s: no such exec'd process", id);
}

int ops_exec_list(struct ops *o, const char *id, struct ops_exec_info **ret, size_t *ret_n)
{
	*ret = NULL;
	*ret_n = 0;
	return 0;
}

/* One fake template, until rmdir drops it (the real store: test_vm_template,
 * tests/fs/tree-vm-template.sh). */
#define FAKE_TPL_KEY "f00dfeed0123456789abcdef0123456789abcdef0123456789abcdef01234567"
static bool fake_tpl_gone;

static void fake_tpl_info(struct ops_template_info *t)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->key, sizeof(t->key), "%s", FAKE_TPL_KEY);
	t->size = 4096;
	t->created = 1764900000;
	t->uses = 2;
}

int ops_templates_list(struct ops *o, struct ops_template_info **ret, size_t *ret_n)
{
	*ret = NULL;
	*ret_n = 0;
	if (fake_tpl_gone)
		return 0;
	if (!(*ret = calloc(1, sizeof(**ret))))
		return -ENOMEM;
	fake_tpl_info(*ret);
	*ret_n = 1;
	return 0;
}

int ops_template_get(struct ops *o, const char *key, struct ops_template_info *ret)
{
	if (fake_tpl_gone || strcmp(key, FAKE_TPL_KEY) != 0)
		return -ENOENT;
	fake_tpl_info(ret);
	return 0;
}

int ops_template_inputs(struct ops *o, const char *key, char **ret)
{
	if (fake_tpl_gone || strcmp(key, FAKE_TPL_KEY) != 0)
		return -ENOENT;
	*ret = strdup("template 1\ndriver fake\n");
	return *ret ? 0 : -ENOMEM;
}

int ops_template_remove(struct ops *o, const char *key, struct oerr *err)
{
	if (fake_tpl_gone || strcmp(key, FAKE_TPL_KEY) != 0)
		return oerr_set(err, ENOENT, "template %.16s: no such template", key);
	fake_tpl_gone = true;
	return 0;
}
