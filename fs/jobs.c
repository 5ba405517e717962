/* fs/jobs: requests that wait for a VM -- a create through ln -s or mv, and
 * every ctl command (create boots a VM to READY, start waits for STARTED,
 * delete for the VM's end) -- run on a thread of their own and answer their
 * FUSE request from there.  The session's workers (at most 64) stay free, so
 * a hundred boots in flight do not starve `cat state` of another container.
 * At teardown, fsd_jobs_wait() lets the running ones finish (as libfuse
 * lets a worker finish its request) before ops and the session go away. */
#include "fsd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FSD_JOBS_MAX 1024   /* beyond this, a request runs on its worker */

struct job {
	struct fsd *fs;
	fuse_req_t req;
	fsd_job_fn fn;
	void *arg;
};

static void *job_main(void *p)
{
	struct job *j = p;
	struct fsd *fs = j->fs;

	j->fn(fs, j->req, j->arg);
	free(j);
	pthread_mutex_lock(&fs->lock);
	if (--fs->jobs == 0)
		pthread_cond_broadcast(&fs->jobs_done);
	pthread_mutex_unlock(&fs->lock);
	return NULL;
}

static bool job_reserve(struct fsd *fs)
{
	bool ok;

	pthread_mutex_lock(&fs->lock);
	ok = !fs->jobs_closed && fs->jobs < FSD_JOBS_MAX;
	if (ok)
		fs->jobs++;
	pthread_mutex_unlock(&fs->lock);
	return ok;
}

static void fsd_job_run(struct fsd *fs, fuse_req_t req, fsd_job_fn fn, void *arg)
{
	struct job *j = malloc(sizeof(*j));
	pthread_attr_t at;
	pthread_t t;

	if (!j || !job_reserve(fs)) {
		free(j);
		return fn(fs, req, arg);   /* on this worker, as before */
	}
	*j = (struct job){ .fs = fs, .req = req, .fn = fn, .arg = arg };
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	int r = pthread_create(&t, &at, job_main, j);
	pthread_attr_destroy(&at);
	if (r != 0) {
		free(j);
		pthread_mutex_lock(&fs->lock);
		if (--fs->jobs == 0)
			pthread_cond_broadcast(&fs->jobs_done);
		pthread_mutex_unlock(&fs->lock);
		fn(fs, req, arg);
	}
}

void fsd_jobs_wait(struct fsd *fs)
{
	pthread_mutex_lock(&fs->lock);
	fs->jobs_closed = true;
	while (fs->jobs > 0)
		pthread_cond_wait(&fs->jobs_done, &fs->lock);
	pthread_mutex_unlock(&fs->lock);
}

/* ---- the requests that run as jobs ---- */

struct ctl_job { struct fh *fh; size_t size; char buf[]; };

static void ctl_job(struct fsd *fs, fuse_req_t req, void *arg)
{
	struct ctl_job *j = arg;
	int r = fsd_write(fs, j->fh, j->buf, j->size);

	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_write(req, j->size);
	free(j);
}

void fsd_job_ctl_write(struct fsd *fs, fuse_req_t req, struct fh *fh, const char *buf, size_t size)
{
	struct ctl_job *j = malloc(sizeof(*j) + size);

	if (!j)
		return (void)fuse_reply_err(req, ENOMEM);
	j->fh = fh;   /* no release while this write is unanswered */
	j->size = size;
	memcpy(j->buf, buf, size);
	fsd_job_run(fs, req, ctl_job, j);
}

struct create_job { int dirfd; char *name, *src; };

static void create_job_free(struct create_job *j)
{
	if (j->dirfd >= 0)
		close(j->dirfd);
	free(j->name);
	free(j->src);
	free(j);
}

/* Takes dirfd (closed on failure too). */
static struct create_job *create_job_new(const char *name, const char *src, int dirfd)
{
	struct create_job *j = calloc(1, sizeof(*j));

	if (j) {
		j->dirfd = dirfd;
		j->name = strdup(name);
		j->src = strdup(src);
	}
	if (j && j->name && j->src)
		return j;
	if (j)
		create_job_free(j);
	else if (dirfd >= 0)
		close(dirfd);
	return NULL;
}

static void symlink_job(struct fsd *fs, fuse_req_t req, void *arg)
{
	struct create_job *j = arg;
	int r = fsd_create_link(fs, j->name, j->src);
	int slot = r < 0 ? r : fsd_slot_of(fs, j->name);

	if (slot < 0) {
		fuse_reply_err(req, -slot);
	} else {
		/* a symlink inode distinct from the directory: the zero entry
		 * timeout makes the next lookup of ID find the directory */
		struct node n = { .ino = INO_LINK_BIT | ((fuse_ino_t)slot << 8), .kind = FK_LINK,
				  .mode = S_IFLNK | 0777, .slot = slot };
		fsd_reply_entry(req, fs, &n, j->name, 0.0);
	}
	create_job_free(j);
}

void fsd_job_create_link(struct fsd *fs, fuse_req_t req, const char *id, const char *bundle)
{
	struct create_job *j = create_job_new(id, bundle, -1);

	if (!j)
		return (void)fuse_reply_err(req, ENOMEM);
	fsd_job_run(fs, req, symlink_job, j);
}

static void rename_job(struct fsd *fs, fuse_req_t req, void *arg)
{
	struct create_job *j = arg;   /* name: the new id; src: incoming/NAME */

	fuse_reply_err(req, -fsd_create_moved(fs, j->name, j->dirfd, j->src));
	create_job_free(j);
}

void fsd_job_create_moved(struct fsd *fs, fuse_req_t req, const char *id, int inc_dirfd,
			  const char *name)
{
	struct create_job *j = create_job_new(id, name, inc_dirfd);

	if (!j)
		return (void)fuse_reply_err(req, ENOMEM);
	fsd_job_run(fs, req, rename_job, j);
}
