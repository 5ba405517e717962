/* fs/slots: container id <-> slot, the number in a container's inode numbers
 * (INO_CT_BIT | slot << 8 | file).  Two chained hash tables over one set of
 * entries: by id (lookups, ctl errors) and by slot (inode -> id).  A slot is
 * freed when its container is deleted, and slot numbers are handed out in
 * increasing order (wrapping at 2^24, skipping live ones), so an inode the
 * kernel still holds for a deleted container never names a later one, even
 * of the same id: it answers ENOENT.  Everything under fs->lock. */
#include "fsd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOT_MAX ((1 << 24) - 1)   /* 24 bits of the inode number */
#define SLOT_HASH_MIN 64

struct fslot {
	char id[FS_ID_MAX];
	char last_error[FS_LINE_MAX];  /* a rejected write ops never saw */
	struct { struct fsd_memo_key key; size_t len; bool set; } memo[FSD_MEMO_N];
	int slot;
	struct fslot *id_next, *slot_next;
};

static size_t slot_id_hash(const char *id)
{
	size_t h = 14695981039346656037ull;   /* FNV-1a: a table index, not a key */
	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 1099511628211ull;
	return h;
}

static struct fslot **slot_id_bucket(struct fsd *fs, const char *id)
{
	return &fs->slot_by_id[slot_id_hash(id) & (fs->slot_cap - 1)];
}

static struct fslot **slot_num_bucket(struct fsd *fs, int slot)
{
	return &fs->slot_by_num[(size_t)slot & (fs->slot_cap - 1)];
}

static struct fslot *slot_find_id(struct fsd *fs, const char *id)
{
	if (!fs->slot_cap)
		return NULL;
	for (struct fslot *e = *slot_id_bucket(fs, id); e; e = e->id_next)
		if (strcmp(e->id, id) == 0)
			return e;
	return NULL;
}

static struct fslot *slot_find_num(struct fsd *fs, int slot)
{
	if (!fs->slot_cap)
		return NULL;
	for (struct fslot *e = *slot_num_bucket(fs, slot); e; e = e->slot_next)
		if (e->slot == slot)
			return e;
	return NULL;
}

static void slot_link(struct fsd *fs, struct fslot *e)
{
	struct fslot **b = slot_id_bucket(fs, e->id), **c = slot_num_bucket(fs, e->slot);
	e->id_next = *b;
	*b = e;
	e->slot_next = *c;
	*c = e;
}

/* Keep the tables at most one entry per bucket on average. */
static int slot_grow(struct fsd *fs)
{
	size_t cap = fs->slot_cap ? fs->slot_cap * 2 : SLOT_HASH_MIN;
	struct fslot **by_id = calloc(cap, sizeof(*by_id)), **by_num = calloc(cap, sizeof(*by_num));
	struct fslot *all = NULL;

	if (!by_id || !by_num) {
		free(by_id);
		free(by_num);
		return -ENOMEM;
	}
	for (size_t i = 0; i < fs->slot_cap; i++)   /* unlink all through id_next */
		for (struct fslot *e = fs->slot_by_id[i], *n; e; e = n) {
			n = e->id_next;
			e->id_next = all;
			all = e;
		}
	free(fs->slot_by_id);
	free(fs->slot_by_num);
	fs->slot_by_id = by_id;
	fs->slot_by_num = by_num;
	fs->slot_cap = cap;
	for (struct fslot *e = all, *n; e; e = n) {
		n = e->id_next;
		slot_link(fs, e);
	}
	return 0;
}

/* The next slot number no live entry holds. */
static int slot_next_free(struct fsd *fs)
{
	for (int tries = 0; tries < SLOT_MAX; tries++) {
		int s = fs->slot_next = fs->slot_next % SLOT_MAX + 1;
		if (!slot_find_num(fs, s))
			return s;
	}
	return -ENOSPC;
}

int fsd_slot_of(struct fsd *fs, const char *id)
{
	struct fslot *e;
	int r;

	if (strlen(id) >= FS_ID_MAX)
		return -EINVAL;
	pthread_mutex_lock(&fs->lock);
	if ((e = slot_find_id(fs, id))) {
		r = e->slot;
		goto out;
	}
	if (fs->slot_used >= fs->slot_cap && (r = slot_grow(fs)) < 0)
		goto out;
	if ((r = slot_next_free(fs)) < 0)
		goto out;
	if (!(e = calloc(1, sizeof(*e)))) {
		r = -ENOMEM;
		goto out;
	}
	strcpy(e->id, id);
	e->slot = r;
	slot_link(fs, e);
	fs->slot_used++;
out:
	pthread_mutex_unlock(&fs->lock);
	return r;
}

int fsd_slot_id(struct fsd *fs, int slot, char *id)
{
	struct fslot *e;

	pthread_mutex_lock(&fs->lock);
	e = slot > 0 ? slot_find_num(fs, slot) : NULL;
	if (e)
		strcpy(id, e->id);
	pthread_mutex_unlock(&fs->lock);
	return e ? 0 : -ENOENT;
}

static void slot_unlink(struct fslot **head, struct fslot *e, bool by_id)
{
	for (struct fslot **p = head; *p; p = by_id ? &(*p)->id_next : &(*p)->slot_next)
		if (*p == e) {
			*p = by_id ? e->id_next : e->slot_next;
			return;
		}
}

void fsd_slot_free(struct fsd *fs, const char *id)
{
	struct fslot *e;

	pthread_mutex_lock(&fs->lock);
	if ((e = slot_find_id(fs, id))) {
		slot_unlink(slot_id_bucket(fs, id), e, true);
		slot_unlink(slot_num_bucket(fs, e->slot), e, false);
		fs->slot_used--;
		free(e);
	}
	pthread_mutex_unlock(&fs->lock);
}

/* Only for ids that already have a slot: a stream of writes naming made-up
 * ids must not make the daemon allocate. */
void fsd_slot_note(struct fsd *fs, const char *id, const char *msg)
{
	struct fslot *e;

	if (!id)
		return;
	pthread_mutex_lock(&fs->lock);
	if ((e = slot_find_id(fs, id)))
		snprintf(e->last_error, FS_LINE_MAX, "%s", msg ? msg : "");
	pthread_mutex_unlock(&fs->lock);
}

bool fsd_slot_last_error(struct fsd *fs, const char *id, char *buf, size_t n)
{
	struct fslot *e;
	bool r = false;

	pthread_mutex_lock(&fs->lock);
	if ((e = slot_find_id(fs, id)) && e->last_error[0]) {
		snprintf(buf, n, "%s\n", e->last_error);
		r = true;
	}
	pthread_mutex_unlock(&fs->lock);
	return r;
}

static bool memo_key_eq(const struct fsd_memo_key *a, const struct fsd_memo_key *b)
{
	return a->serial == b->serial && a->status == b->status && a->pid == b->pid;
}

bool fsd_slot_memo_get(struct fsd *fs, const char *id, int which, const struct fsd_memo_key *k,
		       size_t *ret)
{
	struct fslot *e;
	bool r = false;

	pthread_mutex_lock(&fs->lock);
	if ((e = slot_find_id(fs, id)) && e->memo[which].set && memo_key_eq(&e->memo[which].key, k)) {
		*ret = e->memo[which].len;
		r = true;
	}
	pthread_mutex_unlock(&fs->lock);
	return r;
}

void fsd_slot_memo_put(struct fsd *fs, const char *id, int which, const struct fsd_memo_key *k,
		       size_t len)
{
	struct fslot *e;

	pthread_mutex_lock(&fs->lock);
	if ((e = slot_find_id(fs, id))) {
		e->memo[which].key = *k;
		e->memo[which].len = len;
		e->memo[which].set = true;
	}
	pthread_mutex_unlock(&fs->lock);
}

size_t fsd_slots_live(struct fsd *fs)
{
	pthread_mutex_lock(&fs->lock);
	size_t n = fs->slot_used;
	pthread_mutex_unlock(&fs->lock);
	return n;
}

void fsd_slots_free_all(struct fsd *fs)
{
	for (size_t i = 0; i < fs->slot_cap; i++)
		for (struct fslot *e = fs->slot_by_id[i], *n; e; e = n) {
			n = e->id_next;
			free(e);
		}
	free(fs->slot_by_id);
	free(fs->slot_by_num);
	fs->slot_by_id = fs->slot_by_num = NULL;
	fs->slot_cap = fs->slot_used = 0;
}
