/* fs/inctab: the inodes incoming/ has handed the kernel (fs/incoming.c):
 * by number (index), and by the host file's (dev, ino) through a hash, so
 * a lookup costs the same with a million live entries as with one.  A
 * number the kernel forgot is handed out again (FUSE allows it once the
 * kernel has no reference), so the table holds the live inodes only.  Not
 * locked: the caller holds its lock. */
#ifndef OCIVM_FS_INCTAB_H
#define OCIVM_FS_INCTAB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct inode_e {
	int fd;                 /* O_PATH */
	dev_t dev;
	ino_t rino;
	uint64_t nlookup;
	size_t idx;             /* its number (inctab_add), 1.. */
	struct inode_e *hnext;
};

struct inctab {
	struct inode_e **tab;   /* index = number, [0] unused, NULL free */
	size_t n, cap;          /* numbers in use up to n */
	size_t *free;           /* forgotten numbers below n */
	size_t n_free, cap_free;
	struct inode_e **hash;  /* by (dev, rino) */
	size_t hcap, live;
};

struct inode_e *inctab_get(struct inctab *t, size_t idx);
struct inode_e *inctab_find(struct inctab *t, dev_t dev, ino_t rino);
int inctab_add(struct inctab *t, struct inode_e *e);   /* 0 or -ENOMEM; sets e->idx */
void inctab_del(struct inctab *t, struct inode_e *e);  /* its number is free again */
/* Drop every entry through fn (may be NULL) and the table itself. */
void inctab_clear(struct inctab *t, void (*fn)(struct inode_e *e));

#endif
