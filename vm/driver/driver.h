/* vm/driver/ internals: the two hypervisor drivers behind vm/vm.h.
 *
 * A driver is one const ops table: it turns a vm_config into an argv, opens
 * the byte stream to ocivm-init once the process runs, and sends pause /
 * resume / stop to the process through its control socket.  Everything a
 * driver needs to know about a running VM is in struct vm_paths (run_dir
 * file names), so the same calls work after vm_attach(). */
#ifndef OCIVM_VM_DRIVER_H
#define OCIVM_VM_DRIVER_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "vm/vm.h"

/* A growable NULL-terminated argv. */
struct strv {
	char **v;
	size_t n, cap;
	int error;            /* first -errno; later adds are ignored */
};
void strv_init(struct strv *s);
void strv_add(struct strv *s, const char *str);
void strv_addf(struct strv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strv_free(struct strv *s);
/* Join with single spaces (for vm_info.cmdline); malloc'd or NULL. */
char *strv_join(char *const *v, size_t n);

/* Files a VM keeps in its run_dir.  Any run_dir up to PATH_MAX: the
 * sockets are reached through their directory when the path is longer than
 * sun_path (common/usock.h), and QEMU gets them as listening fds. */
struct vm_paths {
	char run_dir[PATH_MAX];
	char chan_sock[PATH_MAX];    /* QEMU: chardev socket of the org.ocivm.chan virtserialport */
	char control_sock[PATH_MAX]; /* QEMU: QMP; ocivm-vmm: --control */
	char console[PATH_MAX];      /* serial console (the container's console file) */
	char log[PATH_MAX];          /* hypervisor stdout/stderr */
	char vm_json[PATH_MAX];
	char hello[PATH_MAX];        /* the guest's HELLO text (its protocol, for a re-attach) */
};
int vm_paths_init(struct vm_paths *p, const char *run_dir, struct oerr *err);

enum vm_ctl { VM_CTL_PAUSE, VM_CTL_RESUME, VM_CTL_STOP };

struct vm_jail_fds;
struct vm_jail;
/* Everything build_argv needs beyond the config: resolved choices. */
struct vm_launch {
	const struct vm_config *cfg;
	const struct vm_paths *paths;
	const char *binary;       /* resolved hypervisor path */
	enum vm_accel accel;      /* resolved: KVM or TCG */
	unsigned tsc_khz;         /* for tsc_early_khz= under TCG (0: omit) */
	bool no_direct_io;        /* a disk's file system refuses O_DIRECT:
				   * QEMU falls back to cache=writeback,aio=threads */
	const struct vm_jail_fds *fds; /* confined: what the process inherits
					* (jail.h); NULL: everything by path */
	const struct vm_jail *jail;    /* confined (jail.h); NULL: not confined */
	/* Templates (template.c), QEMU only: guest RAM from this memfd
	 * (memory-backend-file; mem_template false: anonymous RAM as usual), shared (the
	 * template VM writes the template) or private (a restored VM's pages
	 * are copy-on-write); incoming: -incoming defer, the state follows
	 * over QMP. */
	bool mem_template;
	int mem_fd;
	bool mem_share;
	bool incoming;
	const struct vm_jail_fds *socks; /* unconfined QEMU: the listening channel and QMP
					  * sockets the daemon made (fds->chan, control) */
	/* The taps of cfg->net (vm/driver/net.c), as fd numbers in the
	 * hypervisor process; MACs from cfg->net->nic[i]. */
	int net_fds[VM_NET_MAX_NICS];
	size_t n_net;
	/* A template VM (template_vm.c, no cfg->net): this many NICs with the
	 * placeholder MACs GSPEC_TPL_NIC_MAC(i), the first n_net with the
	 * taps net_fds (net_tpl.c), any others with no backend; a restore
	 * gives the same NICs the container's taps, the guest the MACs. */
	size_t n_tpl_nics;
};

struct vm_driver_ops {
	const char *name;             /* "qemu", "ocivm-vmm" */
	const char *default_binary;   /* looked up in PATH */
	const char *base_cmdline;     /* kernel options before the config's */
	int (*build_argv)(const struct vm_launch *l, struct strv *ret, struct oerr *err);
	/* Connect to the guest channel once (no retry): fd or -errno. */
	int (*connect_channel)(const struct vm_paths *p, struct oerr *err);
	int (*control)(const struct vm_paths *p, enum vm_ctl op, unsigned timeout_ms,
		       struct oerr *err);
};
extern const struct vm_driver_ops vm_driver_qemu;
extern const struct vm_driver_ops vm_driver_vmm;
const struct vm_driver_ops *vm_driver_by_name(const char *name);

/* The kernel command line: base options for the driver/accel, then the
 * config's parameters, each quoted for the kernel's parser when it holds a
 * space.  -EINVAL (with reason) for a parameter that cannot be quoted. */
int vm_kernel_cmdline(const struct vm_launch *l, const char *base, char **ret,
		      struct oerr *err);

/* Unix socket helpers (vm/driver/sock.c). */
/* fd or -errno, non-blocking and CLOEXEC; never waits: -EAGAIN when the
 * listener's backlog is full (a hypervisor that stopped accepting). */
int vm_sock_connect(const char *path);
/* Send all of buf, waiting at most timeout_ms in total on a non-blocking or
 * blocking fd: 0, -ETIMEDOUT, or -errno. */
int vm_sock_send_all(int fd, const void *buf, size_t len, unsigned timeout_ms);
/* Read one line (up to cap-1 bytes, NUL-terminated, '\n' stripped) within
 * timeout_ms: length, or -ETIMEDOUT / -EPIPE / -EMSGSIZE / -errno. */
int vm_sock_read_line(int fd, char *buf, size_t cap, unsigned timeout_ms);

/* A QMP session (vm/driver/qmp.c): every exchange within deadline (ms on
 * vm_now_ms's clock). */
struct vm_qmp {
	int fd;
	double deadline;
};
/* Connect (retrying until the deadline or until pidfd's process ends; pidfd
 * -1: no such check), read the greeting, qmp_capabilities. */
int vm_qmp_open(struct vm_qmp *q, const char *sock, int pidfd, double deadline,
		struct oerr *err);
/* One command (a JSON object), pass_fd (>= 0) sent with it by SCM_RIGHTS
 * (for getfd); the "return" line into reply (may be NULL); an "error"
 * reply is -EIO with its text. */
int vm_qmp_exec(struct vm_qmp *q, const char *json, int pass_fd, char *reply, size_t cap,
		struct oerr *err);
/* Poll query-migrate until completed (0), failed (-EIO) or the deadline. */
int vm_qmp_migrate_wait(struct vm_qmp *q, int pidfd, struct oerr *err);
void vm_qmp_close(struct vm_qmp *q);

#endif
