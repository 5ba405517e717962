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

void fsd_job_run(struct fsd *fs, fuse_req_t req, fsd_job_fn fn, void *arg)
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
