/* VM templates on disk and their memory in sealed memfds (template.h). */
#include "template.h"
#include "cleanup.h"
#include "fileio.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define TPL_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

struct tpl_mem {
	char key[VM_TPL_KEY_LEN + 1];
	int fd;                      /* sealed memfd */
	dev_t dev;                   /* of DIR/KEY/mem it was loaded from */
	ino_t ino;
};

struct vm_templates {
	char dir[PATH_MAX];
	pthread_mutex_t lock;        /* mem[] */
	struct tpl_mem mem[VM_TPL_CACHE];
	size_t n;
};

static bool key_valid(const char *key)
{
	if (strlen(key) != VM_TPL_KEY_LEN)
		return false;
	for (const char *p = key; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

int vm_templates_open(const char *dir, struct vm_templates **ret, struct oerr *err)
{
	struct vm_templates *t;
	struct dirent *e;
	DIR *d;
	int r;

	if (!dir || dir[0] != '/')
		return oerr_set(err, EINVAL, "templates: the directory must be an absolute path");
	if ((r = mkdir_p(dir, 0700)) < 0)
		return oerr_sys(err, -r, "templates: creating %s", dir);
	if (!(t = calloc(1, sizeof(*t))))
		return oerr_set(err, ENOMEM, "out of memory");
	snprintf(t->dir, sizeof(t->dir), "%s", dir);
	pthread_mutex_init(&t->lock, NULL);
	/* build and drop dirs of a daemon that died midway: never a template */
	if ((d = opendir(dir))) {
		while ((e = readdir(d))) {
			char p[PATH_MAX + 300];
			if (strncmp(e->d_name, ".b-", 3) && strncmp(e->d_name, ".d-", 3))
				continue;
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			vm_tpl_rmtree(p);
		}
		closedir(d);
	}
	*ret = t;
	return 0;
}

void vm_templates_close(struct vm_templates *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		close(t->mem[i].fd);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

const char *vm_templates_dir(const struct vm_templates *t)
{
	return t->dir;
}

int vm_tpl_lock(struct vm_templates *t, const char *key)
{
	char p[PATH_MAX + 80];
	int fd;

	snprintf(p, sizeof(p), "%s/%s.lock", t->dir, key);
	if ((fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return -errno;
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			int e = errno;
			close(fd);
			return -e;
		}
	return fd;
}

void vm_tpl_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* Move DIR/KEY aside and remove it (the lock is held); forget its memfd. */
static void tpl_drop(struct vm_templates *t, const char *key)
{
	char from[PATH_MAX + 80], to[PATH_MAX + 120];

	snprintf(from, sizeof(from), "%s/%s", t->dir, key);
	snprintf(to, sizeof(to), "%s/.d-%.16s-%ld", t->dir, key, (long)syscall(SYS_gettid));
	if (rename(from, to) == 0)
		vm_tpl_rmtree(to);
	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->mem[i].key, key) == 0) {
			close(t->mem[i].fd);
			t->mem[i] = t->mem[--t->n];
			break;
		}
	pthread_mutex_unlock(&t->lock);
}

/* Keep fd as KEY's memory (replacing an older one; the oldest goes when full). */
static void cache_put(struct vm_templates *t, const char *key, int fd, const struct stat *st)
{
	pthread_mutex_lock(&t->lock);
	size_t i;
	for (i = 0; i < t->n && strcmp(t->mem[i].key, key); i++)
		;
	if (i < t->n) {
		close(t->mem[i].fd);
	} else if (t->n == VM_TPL_CACHE) {
		close(t->mem[0].fd);
		memmove(&t->mem[0], &t->mem[1], sizeof(t->mem[0]) * (VM_TPL_CACHE - 1));
		i = VM_TPL_CACHE - 1;
	} else {
		i = t->n++;
	}
	snprintf(t->mem[i].key, sizeof(t->mem[i].key), "%s", key);
	t->mem[i].fd = fd;
	t->mem[i].dev = st->st_dev;
	t->mem[i].ino = st->st_ino;
	pthread_mutex_unlock(&t->lock);
}

/* A dup of KEY's cached memfd if it was loaded from this very file. */
static int cache_get(struct vm_templates *t, const char *key, const struct stat *st)
{
	int fd = -1;

	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->mem[i].key, key) == 0 && t->mem[i].dev == st->st_dev &&
		    t->mem[i].ino == st->st_ino)
			fd = fcntl(t->mem[i].fd, F_DUPFD_CLOEXEC, 3);
	pthread_mutex_unlock(&t->lock);
	return fd;
}

/* DIR/KEY/mem into a new sealed memfd, checked against the header. */
static int load_mem(const char *path, const struct vm_tpl_header *h, const struct stat *st,
		    char *why, size_t why_len)
{
	char sha[65];
	_cleanup_close_ int in = open(path, O_RDONLY | O_CLOEXEC);

	if (in < 0)
		return snprintf(why, why_len, "mem: %s", strerror(errno)), -EIO;
	if ((uint64_t)st->st_size != h->mem_bytes)
		return snprintf(why, why_len, "mem is %lld bytes, the header says %llu (truncated?)",
				(long long)st->st_size, h->mem_bytes), -EIO;
	int fd = vm_tpl_memfd_new(h->mem_bytes);
	if (fd < 0)
		return snprintf(why, why_len, "memfd: %s", strerror(-fd)), fd;
	int r = vm_tpl_sparse_copy(in, fd, h->mem_bytes, sha);
	if (r == 0 && strcmp(sha, h->mem_sha) != 0) {
		snprintf(why, why_len, "mem: SHA-256 %.16s..., the header says %.16s...",
			 sha, h->mem_sha);
		r = -EIO;
	} else if (r < 0)
		snprintf(why, why_len, "loading mem: %s", strerror(-r));
	if (r == 0 && fcntl(fd, F_ADD_SEALS, TPL_SEALS) < 0)
		r = -errno, snprintf(why, why_len, "sealing the memfd: %s", strerror(errno));
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

int vm_tpl_get(struct vm_templates *t, const char *key, struct vm_tpl *ret, char *why,
	       size_t why_len)
{
	char dir[PATH_MAX + 80], path[PATH_MAX + 100], sha[65];
	struct vm_tpl_header h;
	struct stat st;
	uint64_t size;
	int r;

	why[0] = '\0';
	memset(ret, 0, sizeof(*ret));
	ret->mem_fd = ret->state_fd = -1;
	snprintf(dir, sizeof(dir), "%s/%s", t->dir, key);
	if (stat(dir, &st) < 0)
		return 0;
	snprintf(path, sizeof(path), "%s/header", dir);
	if ((r = vm_tpl_header_read(path, &h)) < 0)
		snprintf(why, why_len, "header: %s", strerror(-r));
	else if (h.version != VM_TPL_VERSION)
		snprintf(why, why_len, "version %u, this daemon writes %u", h.version, VM_TPL_VERSION);
	if (!why[0]) {
		snprintf(path, sizeof(path), "%s/state", dir);
		ret->state_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (ret->state_fd < 0 || (r = vm_tpl_sha256_fd(ret->state_fd, sha, &size)) < 0)
			snprintf(why, why_len, "state: %s", strerror(errno));
		else if (size != h.state_bytes || strcmp(sha, h.state_sha))
			snprintf(why, why_len, "state: %llu bytes SHA-256 %.16s..., the header says "
				 "%llu bytes %.16s...", (unsigned long long)size, sha, h.state_bytes,
				 h.state_sha);
	}
	snprintf(path, sizeof(path), "%s/mem", dir);
	if (!why[0] && stat(path, &st) < 0)
		snprintf(why, why_len, "mem: %s", strerror(errno));
	if (!why[0] && (ret->mem_fd = cache_get(t, key, &st)) < 0) {
		ret->mem_fd = load_mem(path, &h, &st, why, why_len);
		if (ret->mem_fd >= 0) {
			cache_put(t, key, ret->mem_fd, &st);
			ret->mem_fd = cache_get(t, key, &st);
		}
	}
	if (why[0] || ret->mem_fd < 0) {
		if (ret->state_fd >= 0)
			close(ret->state_fd);
		if (ret->mem_fd >= 0)
			close(ret->mem_fd);
		ret->mem_fd = ret->state_fd = -1;
		if (!why[0])
			snprintf(why, why_len, "mem: cannot be loaded");
		log_warn("template %.16s: %s: dropped, it will be rebuilt", key, why);
		tpl_drop(t, key);
		return 0;
	}
	lseek(ret->state_fd, 0, SEEK_SET);
	snprintf(ret->key, sizeof(ret->key), "%s", key);
	snprintf(ret->hello, sizeof(ret->hello), "%s", h.hello);
	return 1;
}

void vm_tpl_count_use(struct vm_templates *t, const char *key)
{
	char path[PATH_MAX + 80], tmp[PATH_MAX + 90], num[32];
	_cleanup_free_ char *text = NULL;
	size_t len;
	unsigned long long uses = 0;

	snprintf(path, sizeof(path), "%s/%s/uses", t->dir, key);
	if (file_read_all(path, 64, &text, &len) == 0)
		uses = strtoull(text, NULL, 10);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int n = snprintf(num, sizeof(num), "%llu\n", uses + 1);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	int r = fd_write_all(fd, num, (size_t)n);
	close(fd);
	if (r < 0 || rename(tmp, path) < 0)
		unlink(tmp);   /* a count, not worth an fsync */
}

int vm_tpl_build_dir(struct vm_templates *t, const char *key, char *buf, size_t len,
		     struct oerr *err)
{
	char sub[PATH_MAX + 140];

	snprintf(buf, len, "%s/.b-%.16s-%ld", t->dir, key, (long)syscall(SYS_gettid));
	vm_tpl_rmtree(buf);   /* a dead thread's of the same id */
	if (mkdir(buf, 0700) < 0)
		return oerr_sys(err, errno, "templates: creating %s", buf);
	snprintf(sub, sizeof(sub), "%s/run", buf);
	if (mkdir(sub, 0700) < 0)
		return oerr_sys(err, errno, "templates: creating %s", sub);
	snprintf(sub, sizeof(sub), "%s/t", buf);
	if (mkdir(sub, 0755) < 0)
		return oerr_sys(err, errno, "templates: creating %s", sub);
	return 0;
}

static int fsync_path(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return r;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	int r = fd_write_all(fd, text, strlen(text));
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

int vm_tpl_commit(struct vm_templates *t, const char *key, const char *build, int mem_fd,
		  uint64_t mem_bytes, const char *inputs, const char *hello, struct oerr *err)
{
	char p[PATH_MAX + 200], dst[PATH_MAX + 80], mem_sha[65], state_sha[65];
	_cleanup_free_ char *header = NULL;
	uint64_t state_bytes;
	int r;

	snprintf(p, sizeof(p), "%s/t/state", build);
	_cleanup_close_ int sfd = open(p, O_RDONLY | O_CLOEXEC);
	if (sfd < 0 || (r = vm_tpl_sha256_fd(sfd, state_sha, &state_bytes)) < 0)
		return oerr_sys(err, errno, "templates: reading %s", p);
	if (fsync_path(p, O_RDONLY) < 0)
		return oerr_sys(err, errno, "templates: fsync %s", p);
	snprintf(p, sizeof(p), "%s/t/mem", build);
	_cleanup_close_ int mfd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (mfd < 0)
		return oerr_sys(err, errno, "templates: creating %s", p);
	if (ftruncate(mfd, (off_t)mem_bytes) < 0 ||
	    (r = vm_tpl_sparse_copy(mem_fd, mfd, mem_bytes, mem_sha)) < 0 || fsync(mfd) < 0)
		return oerr_sys(err, errno ? errno : EIO, "templates: writing %s", p);
	if (asprintf(&header, "ocivm-template %u\nmem_bytes %llu\nmem_sha256 %s\n"
		     "state_bytes %llu\nstate_sha256 %s\ncreated %lld\nhello %s\n", VM_TPL_VERSION,
		     (unsigned long long)mem_bytes, mem_sha, (unsigned long long)state_bytes,
		     state_sha, (long long)time(NULL), hello) < 0)
		return oerr_set(err, ENOMEM, "out of memory");
	snprintf(p, sizeof(p), "%s/t/inputs", build);
	if ((r = write_file(p, inputs)) < 0)
		return oerr_sys(err, -r, "templates: writing %s", p);
	snprintf(p, sizeof(p), "%s/t/header", build);   /* last: it vouches for the rest */
	if ((r = write_file(p, header)) < 0)
		return oerr_sys(err, -r, "templates: writing %s", p);
	snprintf(p, sizeof(p), "%s/t", build);
	if (fsync_path(p, O_RDONLY | O_DIRECTORY) < 0)
		return oerr_sys(err, errno, "templates: fsync %s", p);
	snprintf(dst, sizeof(dst), "%s/%s", t->dir, key);
	if (rename(p, dst) < 0)
		return oerr_sys(err, errno, "templates: renaming %s to %s", p, dst);
	fsync_path(t->dir, O_RDONLY | O_DIRECTORY);
	struct stat st;
	snprintf(p, sizeof(p), "%s/mem", dst);
	int keep = fcntl(mem_fd, F_DUPFD_CLOEXEC, 3);
	if (keep >= 0 && stat(p, &st) == 0 && fcntl(keep, F_ADD_SEALS, TPL_SEALS) == 0)
		cache_put(t, key, keep, &st);
	else if (keep >= 0)
		close(keep);
	return 0;
}

/* The tree's view (vm.h). */
static void info_of(struct vm_templates *t, const char *key, struct vm_template_info *ret)
{
	char p[PATH_MAX + 100];
	struct vm_tpl_header h;
	struct stat st;
	_cleanup_free_ char *uses = NULL;
	size_t len;

	memset(ret, 0, sizeof(*ret));
	snprintf(ret->key, sizeof(ret->key), "%s", key);
	snprintf(p, sizeof(p), "%s/%s/header", t->dir, key);
	if (vm_tpl_header_read(p, &h) == 0)
		ret->created = (long long)h.created;
	static const char *const files[] = { "mem", "state", "header", "inputs" };
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		snprintf(p, sizeof(p), "%s/%s/%s", t->dir, key, files[i]);
		if (stat(p, &st) == 0)
			ret->size += (unsigned long long)st.st_blocks * 512;
	}
	snprintf(p, sizeof(p), "%s/%s/uses", t->dir, key);
	if (file_read_all(p, 64, &uses, &len) == 0)
		ret->uses = strtoull(uses, NULL, 10);
}

int vm_templates_list(struct vm_templates *t, struct vm_template_info **ret, size_t *ret_n)
{
	struct vm_template_info *v = NULL;
	size_t n = 0;
	struct dirent *e;
	DIR *d = opendir(t->dir);

	*ret = NULL;
	*ret_n = 0;
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		if (!key_valid(e->d_name))
			continue;
		struct vm_template_info *nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv) {
			free(v);
			closedir(d);
			return -ENOMEM;
		}
		v = nv;
		info_of(t, e->d_name, &v[n++]);
	}
	closedir(d);
	*ret = v;
	*ret_n = n;
	return 0;
}

int vm_templates_get(struct vm_templates *t, const char *key, struct vm_template_info *ret)
{
	char p[PATH_MAX + 80];
	struct stat st;

	if (!key_valid(key))
		return -ENOENT;
	snprintf(p, sizeof(p), "%s/%s", t->dir, key);
	if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
		return -ENOENT;
	info_of(t, key, ret);
	return 0;
}

int vm_templates_inputs(struct vm_templates *t, const char *key, char **ret)
{
	char p[PATH_MAX + 80];
	size_t len;

	if (!key_valid(key))
		return -ENOENT;
	snprintf(p, sizeof(p), "%s/%s/inputs", t->dir, key);
	return file_read_all(p, 65536, ret, &len);
}

int vm_templates_remove(struct vm_templates *t, const char *key, struct oerr *err)
{
	char p[PATH_MAX + 80];
	struct stat st;

	if (!key_valid(key))
		return oerr_set(err, ENOENT, "template %.80s: no such template", key);
	snprintf(p, sizeof(p), "%s/%s", t->dir, key);
	if (stat(p, &st) < 0)
		return oerr_set(err, ENOENT, "template %.16s: no such template", key);
	int lock = vm_tpl_lock(t, key);
	if (lock < 0)
		return oerr_sys(err, -lock, "template %.16s: locking", key);
	tpl_drop(t, key);   /* running VMs keep their own mapping and fds */
	snprintf(p, sizeof(p), "%s/%s.lock", t->dir, key);
	unlink(p);
	vm_tpl_unlock(lock);
	log_info("template %.16s: removed", key);
	return 0;
}
