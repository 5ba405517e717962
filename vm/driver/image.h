/* vm/driver/ internals of the rootfs image cache, split out for tests. */
#ifndef OCIVM_VM_DRIVER_IMAGE_H
#define OCIVM_VM_DRIVER_IMAGE_H

#include <stdbool.h>
#include <stdint.h>

#define VM_IMAGE_FSTYPE "ext4"
#define VM_IMAGE_MAX_ENTRIES 2000000u
#define VM_IMAGE_MAX_DEPTH 128
#define VM_IMAGE_KEY_LEN 64      /* hex digits of the SHA-256 key */
#define VM_IMAGE_KEY_LEN_V2 32   /* the older 128-bit keys: images that containers made
				  * before an upgrade still hold are still released and
				  * attached read-only */

/* What the content hash of a tree saw. */
struct vm_tree_sum {
	char hex[VM_IMAGE_KEY_LEN + 1];   /* SHA-256, hex */
	uint64_t bytes;        /* file data, each file rounded up to 4 KiB */
	uint64_t entries;      /* inodes needed */
};

/* Walk dir (sorted, not following symlinks below it) and hash with SHA-256
 * (nettle), per entry: relative path, type and mode, uid, gid, size, mtime
 * (s and ns), device number, the target of symlinks, and the whole contents
 * of every regular file, streamed.  The key names a shared image that other
 * containers' rootfs resolve to, so it must not be poisonable (a chosen
 * collision) nor stale (an edit that keeps size and mtime, as tar and
 * reproducible builds make): nothing short of the contents under a
 * cryptographic digest gives both.  Cost: bench/treehash.sh. */
int vm_tree_hash(const char *dir, struct vm_tree_sum *ret);
/* Image size in bytes for a tree: data + inode tables + 25% + 16 MiB. */
uint64_t vm_image_size_for(const struct vm_tree_sum *sum);

/* Is path an image of this cache (CACHE/images/KEY.ext4)?  Such images are
 * shared by every container of that rootfs, so the drivers attach them
 * read-only whatever the config says (the guest overlays a tmpfs). */
bool vm_image_is_cached(const char *path);

#endif
