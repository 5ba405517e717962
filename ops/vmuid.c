/* One uid per VM (`ocivmfs --vm-uids FIRST:COUNT`), as Firecracker's jailer
 * gives each microVM its own: a hypervisor that a guest took over then
 * cannot signal, ptrace or read /proc of another VM's (they would share
 * --vm-user otherwise).  Each VM process runs as uid = gid = the lowest
 * number of the range no other container of this daemon holds: a container
 * holds the uid it was given until it is deleted; after a daemon restart a
 * re-attached VM's is read from its process (/proc/PID's owner), so nothing
 * is stored.  No passwd entry is needed: the hypervisor gets every fd it
 * uses from the daemon and its root holds only world-readable files. */
#include "ops/runtime_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int ops_vmuid_parse(const char *s, uint32_t *first, uint32_t *count, struct oerr *err)
{
	unsigned long long f, c;
	char *end;

	*first = *count = 0;
	if (!s || !*s)
		return 0;
	errno = 0;
	f = strtoull(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || errno || *end != ':' || end[1] < '0' || end[1] > '9')
		return oerr_set(err, EINVAL, "--vm-uids %.60s: must be FIRST:COUNT, e.g. 2147418112:65536",
				s);
	c = strtoull(end + 1, &end, 10);
	if (*end || errno || f == 0 || c == 0 || f + c - 1 >= UINT32_MAX)
		return oerr_set(err, EINVAL, "--vm-uids %.60s: FIRST must be above 0 and "
				"FIRST+COUNT-1 below 4294967295", s);
	*first = (uint32_t)f;
	*count = (uint32_t)c;
	return 0;
}

/* c's uid if it has one from the range (the lock is held). */
static uint32_t held_uid(struct ctr *c, uint32_t first, uint32_t count)
{
	char p[32];
	struct stat st;

	if (!c->vm_uid && c->rec.vmm_pid > 0) {   /* re-attached: ask its process */
		snprintf(p, sizeof(p), "/proc/%d", (int)c->rec.vmm_pid);
		if (stat(p, &st) == 0 && st.st_uid >= first && st.st_uid - first < count)
			c->vm_uid = st.st_uid;
	}
	return c->vm_uid;
}

int ops_vmuid_pick(struct ops *ops, struct ctr *self, struct vm_confine *ret, struct oerr *err)
{
	*ret = ops->confine;
	if (!ops->confine.on || !ops->vm_uid_count)
		return 0;
	pthread_mutex_lock(&ops->lock);
	uint32_t uid = self->vm_uid;
	if (!uid) {
		uint32_t n = ops->vm_uid_count, first = ops->vm_uid_first;
		/* one bit per uid of the range, up to the live containers' count */
		size_t bits = ops->n + 1 < n ? ops->n + 1 : n;
		unsigned char *used = calloc((bits + 7) / 8, 1);
		if (!used) {
			pthread_mutex_unlock(&ops->lock);
			return oerr_set(err, ENOMEM, "out of memory");
		}
		for (size_t i = 0; i < ops->n; i++) {
			uint32_t u = ops->v[i] == self ? 0 : held_uid(ops->v[i], first, n);
			if (u && u - first < bits)
				used[(u - first) / 8] |= (unsigned char)(1u << ((u - first) % 8));
		}
		for (size_t i = 0; i < bits && !uid; i++)
			if (!(used[i / 8] & (1u << (i % 8))))
				uid = first + (uint32_t)i;
		free(used);
		if (!uid) {
			pthread_mutex_unlock(&ops->lock);
			return oerr_set(err, EAGAIN, "no free VM uid in --vm-uids %" PRIu32 ":%" PRIu32
					" (every one is held by a container)", first, n);
		}
		self->vm_uid = uid;
	}
	pthread_mutex_unlock(&ops->lock);
	ret->uid = uid;
	ret->gid = uid;
	snprintf(ret->user, sizeof(ret->user), "vm-uid-%" PRIu32, uid);
	return 0;
}
