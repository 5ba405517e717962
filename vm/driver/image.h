/* vm/driver/ internals of the rootfs image cache, split out for tests. */
#ifndef OCIVM_VM_DRIVER_IMAGE_H
#define OCIVM_VM_DRIVER_IMAGE_H

#include <stdbool.h>
#include <stdint.h>

#define VM_IMAGE_FSTYPE "ext4"
#define VM_IMAGE_MAX_ENTRIES 2000000u
#define VM_IMAGE_MAX_DEPTH 128
#define VM_IMAGE_HASH_CONTENT_MAX 65536   /* files up to this size: contents hashed */

/* What the content hash of a tree saw. */
struct vm_tree_sum {
	char hex[33];          /* 128-bit key */
	uint64_t bytes;        /* file data, each file rounded up to 4 KiB */
	uint64_t entries;      /* inodes needed */
};

/* Walk dir (sorted, not following symlinks) and hash, per entry: relative
 * path, type and mode, uid, gid, size, mtime (s and ns), device number, the
 * target of symlinks, and the contents of regular files of at most
 * VM_IMAGE_HASH_CONTENT_MAX bytes.  Small files are where same-size edits
 * happen (configs, scripts, version strings) and where mtimes collide (tar
 * or reproducible builds set them all alike; two writes within one clock
 * tick); reading them costs little next to mke2fs.  Larger files keep the
 * quick check (size and mtime, as rsync's): an edit of one that keeps both
 * is not seen. */
int vm_tree_hash(const char *dir, struct vm_tree_sum *ret);
/* Image size in bytes for a tree: data + inode tables + 25% + 16 MiB. */
uint64_t vm_image_size_for(const struct vm_tree_sum *sum);

/* Is path an image of this cache (CACHE/images/KEY.ext4)?  Such images are
 * shared by every container of that rootfs, so the drivers attach them
 * read-only whatever the config says (the guest overlays a tmpfs). */
bool vm_image_is_cached(const char *path);

#endif
