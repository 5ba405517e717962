/* faketree: a test double of the ocivmfs tree (contract v1, DESIGN.md §2)
 * small enough to trust, so ocivm's shim, stdio, pid file, signal and error
 * paths can be tested where the real daemon or a VM cannot run.  A
 * "container" is the bundle's process.args run as a plain host process (no
 * VM, no rootfs).  Usage: faketree [--state-dir IGNORED] MOUNT (foreground). */
#define FUSE_USE_VERSION 31
#include <fuse.h>

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXC 32
#define OUTMAX (1 << 20)

struct ctr {
	bool used;
	char id[128], bundle[1024], status[16];
	char *argv[16];
	int shim_pid, proc_pid, exit_status, in_fd;
	char out[2][OUTMAX];
	size_t out_len[2];
	bool readers_done[2];
};

static struct ctr ctrs[MAXC];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static char logbuf[8192];

static void logline(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logline(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (strlen(logbuf) + strlen(line) + 2 > sizeof(logbuf))
		logbuf[0] = '\0';
	strcat(logbuf, line);
	strcat(logbuf, "\n");
}

static struct ctr *find(const char *id)
{
	for (int i = 0; i < MAXC; i++)
		if (ctrs[i].used && !strcmp(ctrs[i].id, id))
			return &ctrs[i];
	return NULL;
}

/* "/containers/ID/name" -> c and name ("" for the dir itself); an exec'd
 * process is a slot of its own, id "ID/exec/NAME" (the longest match wins) */
static struct ctr *split(const char *path, const char **name)
{
	const char *p = path + strlen("/containers/");
	struct ctr *best = NULL;
	size_t bl = 0;
	if (!path || strncmp(path, "/containers/", 12)) /* NULL: released after rmdir */
		return NULL;
	for (int i = 0; i < MAXC; i++) {
		size_t l = strlen(ctrs[i].id);
		if (ctrs[i].used && l > bl && !strncmp(p, ctrs[i].id, l) && (!p[l] || p[l] == '/'))
			best = &ctrs[i], bl = l;
	}
	if (best)
		*name = p[bl] ? p + bl + 1 : "";
	return best;
}

static const char *files[] = { "ctl", "state", "status", "pid", "wait", "exit",
			       "stdout", "stderr", "stdin", NULL };

static int ft_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	const char *name;
	struct ctr *c;
	memset(st, 0, sizeof(*st));
	if (!strcmp(path, "/") || !strcmp(path, "/containers")) {
		st->st_mode = S_IFDIR | 0755;
		return 0;
	}
	if (!strcmp(path, "/ctl") || !strcmp(path, "/log") || !strcmp(path, "/features.json")) {
		st->st_mode = S_IFREG | 0644;
		return 0;
	}
	pthread_mutex_lock(&lock);
	c = split(path, &name);
	pthread_mutex_unlock(&lock);
	if (!c)
		return -ENOENT;
	if (!*name || (!strcmp(name, "exec") && !strchr(c->id, '/'))) {
		st->st_mode = S_IFDIR | 0755;
		return 0;
	}
	for (int i = 0; files[i]; i++)
		if (!strcmp(files[i], name)) {
			st->st_mode = S_IFREG | 0644;
			return 0;
		}
	return -ENOENT;
}

static int ft_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
		      struct fuse_file_info *fi, enum fuse_readdir_flags fl)
{
	fill(buf, ".", NULL, 0, 0);
	fill(buf, "..", NULL, 0, 0);
	if (!strcmp(path, "/")) {
		fill(buf, "ctl", NULL, 0, 0);
		fill(buf, "log", NULL, 0, 0);
		fill(buf, "features.json", NULL, 0, 0);
		fill(buf, "containers", NULL, 0, 0);
	} else if (!strcmp(path, "/containers")) {
		pthread_mutex_lock(&lock);
		for (int i = 0; i < MAXC; i++)
			if (ctrs[i].used && !strchr(ctrs[i].id, '/'))
				fill(buf, ctrs[i].id, NULL, 0, 0);
		pthread_mutex_unlock(&lock);
	} else if (strlen(path) > 17 && !strcmp(path + strlen(path) - 5, "/exec")) {
		size_t l = strlen(path) - 12; /* "ID/exec" */
		pthread_mutex_lock(&lock);
		for (int i = 0; i < MAXC; i++)
			if (ctrs[i].used && !strncmp(ctrs[i].id, path + 12, l) &&
			    ctrs[i].id[l] == '/')
				fill(buf, ctrs[i].id + l + 1, NULL, 0, 0);
		pthread_mutex_unlock(&lock);
	}
	return 0;
}

static int ft_open(const char *path, struct fuse_file_info *fi)
{
	fi->direct_io = 1;
	return 0;
}

static int ft_truncate(const char *path, off_t size, struct fuse_file_info *fi) { return 0; }

/* process.args of BUNDLE/config.json, or args of an exec's process.json */
static int load_args(struct ctr *c, const char *process_json)
{
	char p[1100], *text;
	FILE *f;
	long n;
	cJSON *j, *args;
	snprintf(p, sizeof(p), "%s/config.json", c->bundle);
	if (!(f = fopen(process_json ? process_json : p, "r")))
		return -ENOENT;
	text = calloc(1, 1 << 20);
	n = (long)fread(text, 1, (1 << 20) - 1, f);
	fclose(f);
	text[n > 0 ? n : 0] = '\0';
	j = cJSON_Parse(text);
	free(text);
	args = !j ? NULL : process_json ? cJSON_GetObjectItem(j, "args")
	       : cJSON_GetObjectItem(cJSON_GetObjectItem(j, "process"), "args");
	int i = 0;
	for (cJSON *a = args ? args->child : NULL; a && i < 15; a = a->next)
		if (cJSON_IsString(a))
			c->argv[i++] = strdup(a->valuestring);
	c->argv[i] = NULL;
	cJSON_Delete(j);
	return i ? 0 : -EINVAL;
}

static int do_create(char **w, int n)
{
	struct ctr *c = NULL;
	if (n < 3 || w[2][0] != '/') {
		logline("ctl: usage: create ID /abs/bundle");
		return -EINVAL;
	}
	if (find(w[1])) {
		logline("create %s: exists", w[1]);
		return -EEXIST;
	}
	for (int i = 0; i < MAXC && !c; i++)
		if (!ctrs[i].used)
			c = &ctrs[i];
	if (!c)
		return -ENOSPC;
	memset(c, 0, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "%s", w[1]);
	snprintf(c->bundle, sizeof(c->bundle), "%s", w[2]);
	for (int i = 3; i < n; i++)
		if (!strncmp(w[i], "pid=", 4))
			c->shim_pid = atoi(w[i] + 4);
	int r = load_args(c, NULL);
	if (r < 0) {
		logline("create %s: %s/config.json: cannot read process.args", c->id, c->bundle);
		return r;
	}
	c->in_fd = -1;
	strcpy(c->status, "created");
	c->used = true;
	return 0;
}

struct pump { struct ctr *c; int fd, k; };

static void *reader(void *arg)
{
	struct pump *p = arg;
	char buf[4096];
	ssize_t n;
	while ((n = read(p->fd, buf, sizeof(buf))) > 0) {
		pthread_mutex_lock(&lock);
		size_t room = OUTMAX - p->c->out_len[p->k];
		size_t m = (size_t)n < room ? (size_t)n : room;
		memcpy(p->c->out[p->k] + p->c->out_len[p->k], buf, m);
		p->c->out_len[p->k] += m;
		pthread_cond_broadcast(&changed);
		pthread_mutex_unlock(&lock);
	}
	close(p->fd);
	pthread_mutex_lock(&lock);
	p->c->readers_done[p->k] = true;
	pthread_cond_broadcast(&changed);
	pthread_mutex_unlock(&lock);
	free(p);
	return NULL;
}

static void *waiter(void *arg)
{
	struct ctr *c = arg;
	int st;
	waitpid(c->proc_pid, &st, 0);
	pthread_mutex_lock(&lock);
	while (!c->readers_done[0] || !c->readers_done[1])
		pthread_cond_wait(&changed, &lock);
	c->exit_status = WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
	strcpy(c->status, "stopped");
	if (c->in_fd >= 0)
		close(c->in_fd);
	c->in_fd = -1;
	pthread_cond_broadcast(&changed);
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void spawn_pump(struct ctr *c, int fd, int k)
{
	pthread_t t;
	struct pump *p = malloc(sizeof(*p));
	*p = (struct pump){ c, fd, k };
	pthread_create(&t, NULL, reader, p);
	pthread_detach(t);
}

static int do_start(struct ctr *c)
{
	int o[2], e[2], in[2];
	pthread_t t;
	if (strcmp(c->status, "created"))
		return -EBUSY;
	if (pipe2(o, O_CLOEXEC) || pipe2(e, O_CLOEXEC) || pipe2(in, O_CLOEXEC))
		return -errno;
	c->proc_pid = fork();
	if (c->proc_pid == 0) {
		dup2(in[0], 0);
		dup2(o[1], 1);
		dup2(e[1], 2);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL); /* FUSE workers block signals */
		setpgid(0, 0);
		execvp(c->argv[0], c->argv);
		_exit(127);
	}
	close(o[1]);
	close(e[1]);
	close(in[0]);
	c->in_fd = in[1];
	strcpy(c->status, "running");
	spawn_pump(c, o[0], 0);
	spawn_pump(c, e[0], 1);
	pthread_create(&t, NULL, waiter, c);
	pthread_detach(t);
	return 0;
}

/* `exec NAME /abs/process.json`: a slot "ID/exec/NAME" started at once */
static int do_exec(struct ctr *c, char **w, int n)
{
	char id[128];
	struct ctr *e = NULL;
	if (n < 3 || w[2][0] != '/' || strchr(c->id, '/'))
		return -EINVAL;
	if (strcmp(c->status, "running"))
		return -EBUSY;
	if (snprintf(id, sizeof(id), "%s/exec/%s", c->id, w[1]) >= (int)sizeof(id))
		return -ENAMETOOLONG;
	if (find(id))
		return -EEXIST;
	for (int i = 0; i < MAXC && !e; i++)
		if (!ctrs[i].used)
			e = &ctrs[i];
	if (!e)
		return -ENOSPC;
	memset(e, 0, sizeof(*e));
	memcpy(e->id, id, sizeof(e->id));
	if (load_args(e, w[2]) < 0) {
		logline("%s: exec %s: %s: bad process (args)", c->id, w[1], w[2]);
		return -EINVAL;
	}
	strcpy(e->status, "created");
	e->used = true;
	logline("%s exec %s started", c->id, w[1]);
	return do_start(e);
}

static int do_ctl(struct ctr *c, char **w, int n)
{
	if (!strcmp(w[0], "start"))
		return do_start(c);
	if (!strcmp(w[0], "exec"))
		return do_exec(c, w, n);
	if (!strcmp(w[0], "resize") && n == 3) {
		logline("%s: resize %s %s", c->id, w[1], w[2]); /* for the tests */
		return 0;
	}
	if (!strcmp(w[0], "kill")) {
		int sig = n > 1 ? atoi(w[1]) : SIGTERM;
		if ((strcmp(c->status, "running") && strcmp(c->status, "paused")) || sig <= 0)
			return sig <= 0 ? -EINVAL : -EBUSY;
		kill(-c->proc_pid, sig); /* its process group */
		return 0;
	}
	if (!strcmp(w[0], "pause") || !strcmp(w[0], "resume")) {
		bool pause = w[0][0] == 'p';
		if (strcmp(c->status, pause ? "running" : "paused"))
			return -EBUSY;
		kill(-c->proc_pid, pause ? SIGSTOP : SIGCONT);
		strcpy(c->status, pause ? "paused" : "running");
		return 0;
	}
	if (!strcmp(w[0], "delete")) {
		bool force = n > 1 && !strcmp(w[1], "force");
		bool live = !strcmp(c->status, "running") || !strcmp(c->status, "paused");
		if (live && !force)
			return -EBUSY;
		if (live) {
			kill(-c->proc_pid, SIGKILL);
			while (strcmp(c->status, "stopped"))
				pthread_cond_wait(&changed, &lock);
		}
		c->used = false;
		pthread_cond_broadcast(&changed);
		return 0;
	}
	logline("%s: ctl: unknown command %s", c->id, w[0]);
	return -EINVAL;
}

static int ft_write(const char *path, const char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	char text[2048], *w[16], *save = NULL;
	const char *name;
	int n = 0, r;
	struct ctr *c;

	pthread_mutex_lock(&lock);
	c = split(path, &name);
	if (c && !strcmp(name, "stdin")) {
		r = c->in_fd >= 0 && write(c->in_fd, buf, size) == (ssize_t)size ? (int)size : -EPIPE;
		pthread_mutex_unlock(&lock);
		return r;
	}
	snprintf(text, sizeof(text), "%.*s", (int)(size < 2047 ? size : 2047), buf);
	for (char *t = strtok_r(text, " \n", &save); t && n < 16; t = strtok_r(NULL, " \n", &save))
		w[n++] = t;
	if (n == 0)
		r = -EINVAL;
	else if (!strcmp(path, "/ctl"))
		r = strcmp(w[0], "create") ? -EINVAL : do_create(w, n);
	else if (c && !strcmp(name, "ctl"))
		r = do_ctl(c, w, n);
	else
		r = -EACCES;
	pthread_mutex_unlock(&lock);
	return r < 0 ? r : (int)size;
}

static int ft_rmdir(const char *path)
{
	const char *name;
	struct ctr *c;
	int r = -ENOENT;
	pthread_mutex_lock(&lock);
	c = split(path, &name);
	if (c && !*name && strchr(c->id, '/'))
		r = strcmp(c->status, "stopped") ? -EBUSY : (c->used = false, 0);
	pthread_mutex_unlock(&lock);
	return r;
}

static int ft_release(const char *path, struct fuse_file_info *fi)
{
	const char *name;
	struct ctr *c;
	pthread_mutex_lock(&lock);
	c = split(path, &name);
	if (c && !strcmp(name, "stdin") && (fi->flags & O_ACCMODE) != O_RDONLY && c->in_fd >= 0) {
		close(c->in_fd); /* the writer is done: the process sees EOF */
		c->in_fd = -1;
	}
	pthread_mutex_unlock(&lock);
	return 0;
}

static int reply(char *buf, size_t size, off_t off, const char *text, size_t len)
{
	if ((size_t)off >= len)
		return 0;
	size_t n = len - (size_t)off < size ? len - (size_t)off : size;
	memcpy(buf, text + off, n);
	return (int)n;
}

static int read_ctr(struct ctr *c, const char *name, char *buf, size_t size, off_t off)
{
	char t[4096];
	if (!strcmp(name, "status"))
		snprintf(t, sizeof(t), "%s\n", c->status);
	else if (!strcmp(name, "pid"))
		snprintf(t, sizeof(t), "%d\n", c->shim_pid ? c->shim_pid : c->proc_pid);
	else if (!strcmp(name, "exit") && strcmp(c->status, "stopped"))
		t[0] = '\0';
	else if (!strcmp(name, "exit"))
		snprintf(t, sizeof(t), "%d\n", c->exit_status);
	else if (!strcmp(name, "state"))
		snprintf(t, sizeof(t), "{\n  \"ociVersion\": \"1.1.0\",\n  \"id\": \"%s\",\n"
			 "  \"status\": \"%s\",\n  \"pid\": %d,\n  \"bundle\": \"%s\",\n"
			 "  \"created\": \"2026-01-01T00:00:00Z\"\n}\n", c->id, c->status,
			 c->shim_pid, c->bundle);
	else if (!strcmp(name, "wait")) {
		while (c->used && strcmp(c->status, "stopped"))
			pthread_cond_wait(&changed, &lock);
		snprintf(t, sizeof(t), "%d\n", c->exit_status);
	} else if (!strcmp(name, "stdout") || !strcmp(name, "stderr")) {
		int k = name[3] == 'e';
		while (c->used && (size_t)off >= c->out_len[k] && strcmp(c->status, "stopped"))
			pthread_cond_wait(&changed, &lock);
		return reply(buf, size, off, c->out[k], c->out_len[k]);
	} else
		return -EACCES;
	return reply(buf, size, off, t, strlen(t));
}

static int ft_read(const char *path, char *buf, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	const char *name;
	struct ctr *c;
	int r;
	pthread_mutex_lock(&lock);
	if (!strcmp(path, "/log"))
		r = reply(buf, size, off, logbuf, strlen(logbuf));
	else if (!strcmp(path, "/features.json"))
		r = reply(buf, size, off, "{\"ociVersionMax\":\"1.1.0\"}\n", 26);
	else if ((c = split(path, &name)))
		r = read_ctr(c, name, buf, size, off);
	else
		r = -ENOENT;
	pthread_mutex_unlock(&lock);
	return r;
}

static const struct fuse_operations ft_ops = {
	.getattr = ft_getattr, .readdir = ft_readdir, .open = ft_open,
	.read = ft_read, .write = ft_write, .truncate = ft_truncate,
	.release = ft_release, .rmdir = ft_rmdir,
};

int main(int argc, char **argv)
{
	const char *mnt = argv[argc - 1];
	char *fargv[] = { argv[0], "-f", "-o",
			  "default_permissions,entry_timeout=0,attr_timeout=0,negative_timeout=0,"
			  "max_threads=256", /* blocking reads hold a worker each */
			  (char *)mnt, NULL };
	if (argc < 2)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	return fuse_main(5, fargv, &ft_ops, NULL);
}
