/* VM templates: the files of one template and the daemon's cache of their
 * memory (vm/driver/template.c); booting and restoring them is
 * template_vm.c.  README.md "Templates".
 *
 * DIR/KEY/ holds one template: mem (guest RAM, sparse), state (QEMU's
 * migration stream without RAM: x-ignore-shared), inputs (what the key
 * covers, as text), header (version, sizes and SHA-256 of mem and state,
 * init's HELLO, creation time) and uses (restores so far).  It is built in
 * DIR/.b-KEY-TID/ and renamed into place once every file is fsync'ed, so a
 * crash or a full disk leaves no half template, only a build dir that
 * vm_templates_open removes.  DIR/KEY.lock (flock) serializes building,
 * checking and dropping one key, also between daemons sharing DIR. */
#ifndef OCIVM_VM_DRIVER_TEMPLATE_H
#define OCIVM_VM_DRIVER_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "vm/vm.h"

#define VM_TPL_VERSION 1
#define VM_TPL_KEY_LEN 64
#define VM_TPL_HELLO_MAX 128
#define VM_TPL_CACHE 16          /* memfds kept per daemon (one per key) */

/* One template, ready to restore from: fds the caller closes. */
struct vm_tpl {
	char key[VM_TPL_KEY_LEN + 1];
	int mem_fd;                  /* sealed memfd: the guest RAM, read-only for everyone */
	int state_fd;                /* the migration stream, at offset 0 */
	char hello[VM_TPL_HELLO_MAX];/* ocivm-init's HELLO when it was saved */
};

/* The lock of KEY (LOCK_EX): fd, or -errno. */
int vm_tpl_lock(struct vm_templates *t, const char *key);
void vm_tpl_unlock(int fd);
/* With the lock held: 1 and *ret when DIR/KEY is whole and checks out
 * (the memory is loaded into a sealed memfd once per daemon and checked
 * against its SHA-256 then; the state's SHA-256 on every call); 0 when
 * there is none; a template that fails a check (truncated, another
 * version, checksum) is dropped, logged, and 0 returned with *why set. */
int vm_tpl_get(struct vm_templates *t, const char *key, struct vm_tpl *ret, char *why,
	       size_t why_len);
/* With the lock held: count one restore in DIR/KEY/uses. */
void vm_tpl_count_use(struct vm_templates *t, const char *key);
/* The directory to build in (DIR/.b-KEY-TID, made with its run/ and t/). */
int vm_tpl_build_dir(struct vm_templates *t, const char *key, char *buf, size_t len,
		     struct oerr *err);
/* With the lock held, after the template VM saved build/t/state: write the
 * memory from mem_fd (sparse, hashed), the header and inputs, fsync them,
 * rename build/t to DIR/KEY; then seal mem_fd and keep it as the key's
 * memory.  On failure (ENOSPC, ...) nothing is left at DIR/KEY.  The build
 * dir is the caller's to remove (vm_tpl_rmtree). */
int vm_tpl_commit(struct vm_templates *t, const char *key, const char *build, int mem_fd,
		  uint64_t mem_bytes, const char *inputs, const char *hello, struct oerr *err);
/* template_io.c */
struct vm_tpl_header {
	unsigned version;
	unsigned long long mem_bytes, state_bytes, created;
	char mem_sha[65], state_sha[65];
	char hello[VM_TPL_HELLO_MAX];
};
int vm_tpl_header_read(const char *path, struct vm_tpl_header *h);
/* Copy the non-zero 64 KiB blocks of in to out (-1: none) at the same
 * offsets, hashing each with its offset: a SHA-256 (hex) that does not
 * depend on where either file has holes. */
int vm_tpl_sparse_copy(int in, int out, uint64_t size, char digest_hex[65]);
/* SHA-256 (hex) and size of a whole file. */
int vm_tpl_sha256_fd(int fd, char digest_hex[65], uint64_t *ret_size);
/* A memfd of bytes (zeros) that can be sealed later: fd or -errno. */
int vm_tpl_memfd_new(uint64_t bytes);
/* rm -r (no symlinks followed); best effort. */
void vm_tpl_rmtree(const char *path);

/* template_vm.c: create cfg's VM from its template (building the template
 * first when there is none).  -ENOTSUP when templates do not apply (not
 * QEMU); any other failure leaves nothing running and err says why (the
 * caller boots cold). */
int vm_template_create(const struct vm_config *cfg, const struct vm_host_probe *probe,
		       const struct vm_callbacks *cb, void *ctx, double t0_ms, struct vm **ret,
		       struct oerr *err);

#endif
