/* ocivm-mkinitrd internals, split so the tests can call them. */
#ifndef OCIVM_MKINITRD_H
#define OCIVM_MKINITRD_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "modres.h"

enum mkinitrd_compress { MKINITRD_NONE = 0, MKINITRD_GZIP };

struct mkinitrd_opts {
	const char *release;
	const char *modules_dir;
	const char *init;
	const char *out;
	const char *modules[MODRES_MAX];
	size_t n_modules;
	enum mkinitrd_compress compress;
};

/* The modules every guest needs (ext4 is usually built in). */
extern const char *const mkinitrd_default_modules[];

/* FNV-1a 64 of a file's bytes: part of the cache key. */
int mkinitrd_hash_file(const char *path, uint64_t *ret, uint64_t *ret_size);
/* Build opts->out unless opts->out + ".key" says it is current.
 * *ret_cached is 1 when nothing had to be done. */
int mkinitrd_build(const struct mkinitrd_opts *o, int *ret_cached, struct oerr *err);

#endif
