/* fs/inctab: see inctab.h. */
#include "fs/inctab.h"

#include <errno.h>
#include <stdlib.h>

#define INCTAB_HASH_MIN 64

static size_t key_hash(dev_t dev, ino_t rino)
{
	uint64_t h = (uint64_t)rino * 0x9e3779b97f4a7c15ull ^ (uint64_t)dev * 0xc2b2ae3d27d4eb4full;
	return (size_t)(h ^ (h >> 29));
}

static struct inode_e **bucket(struct inctab *t, dev_t dev, ino_t rino)
{
	return &t->hash[key_hash(dev, rino) & (t->hcap - 1)];
}

struct inode_e *inctab_get(struct inctab *t, size_t idx)
{
	return idx > 0 && idx < t->n ? t->tab[idx] : NULL;
}

struct inode_e *inctab_find(struct inctab *t, dev_t dev, ino_t rino)
{
	if (!t->hcap)
		return NULL;
	for (struct inode_e *e = *bucket(t, dev, rino); e; e = e->hnext)
		if (e->rino == rino && e->dev == dev)
			return e;
	return NULL;
}

/* At most one entry per bucket on average. */
static int hash_grow(struct inctab *t)
{
	size_t cap = t->hcap ? t->hcap * 2 : INCTAB_HASH_MIN;
	struct inode_e **h = calloc(cap, sizeof(*h)), **old = t->hash;
	size_t ocap = t->hcap;

	if (!h)
		return -ENOMEM;
	t->hash = h;
	t->hcap = cap;
	for (size_t i = 0; i < ocap; i++)
		for (struct inode_e *e = old[i], *n; e; e = n) {
			struct inode_e **b = bucket(t, e->dev, e->rino);
			n = e->hnext;
			e->hnext = *b;
			*b = e;
		}
	free(old);
	return 0;
}

int inctab_add(struct inctab *t, struct inode_e *e)
{
	if (t->live >= t->hcap && hash_grow(t) < 0)
		return -ENOMEM;
	if (!t->n_free && t->n + 1 > t->cap) {
		size_t c = t->cap ? t->cap * 2 : 256;
		struct inode_e **a = realloc(t->tab, c * sizeof(*a));
		if (!a)
			return -ENOMEM;
		t->tab = a;
		t->cap = c;
	}
	if (t->n_free) {
		e->idx = t->free[--t->n_free];
	} else {
		if (t->n == 0)
			t->tab[t->n++] = NULL;   /* number 0 is never handed out */
		e->idx = t->n++;
	}
	t->tab[e->idx] = e;
	struct inode_e **b = bucket(t, e->dev, e->rino);
	e->hnext = *b;
	*b = e;
	t->live++;
	return 0;
}

void inctab_del(struct inctab *t, struct inode_e *e)
{
	for (struct inode_e **p = bucket(t, e->dev, e->rino); *p; p = &(*p)->hnext)
		if (*p == e) {
			*p = e->hnext;
			break;
		}
	t->tab[e->idx] = NULL;
	t->live--;
	if (t->n_free == t->cap_free) {   /* cannot hold it: the number stays unused */
		size_t c = t->cap_free ? t->cap_free * 2 : 64;
		size_t *f = realloc(t->free, c * sizeof(*f));
		if (!f)
			return;
		t->free = f;
		t->cap_free = c;
	}
	t->free[t->n_free++] = e->idx;
}

void inctab_clear(struct inctab *t, void (*fn)(struct inode_e *e))
{
	for (size_t i = 1; i < t->n; i++)
		if (t->tab[i] && fn)
			fn(t->tab[i]);
	free(t->tab);
	free(t->free);
	free(t->hash);
	*t = (struct inctab){ 0 };
}
