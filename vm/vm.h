/* vm/ public API: run one container's VM through a hypervisor driver and talk
 * to ocivm-init inside it.  Used by ops/ only.  Two drivers sit behind it:
 * ocivm-vmm (our KVM VMM) and QEMU (-M microvm, kvm or tcg).
 *
 * Each VM is a separate process in its own process group, detached from the
 * caller, so it survives a restart of the daemon; vm_attach() finds it again
 * through the files it keeps in run_dir. No globals: every VM is one struct. */
#ifndef OCIVM_VM_H
#define OCIVM_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

enum vm_driver {
	VM_DRIVER_AUTO = 0,   /* probe: ocivm-vmm on hardware KVM, else QEMU/TCG */
	VM_DRIVER_VMM,        /* ocivm-vmm */
	VM_DRIVER_QEMU,       /* qemu-system-x86_64 */
};

#include "vm/defaults.h"   /* VM_DEFAULT_MEMORY_MIB, VM_DEFAULT_VCPUS */

/* "auto", "qemu", "ocivm-vmm" (or "vmm"): 0 and the driver, else -EINVAL. */
int vm_driver_parse(const char *name, enum vm_driver *ret);
/* The driver a hypervisor binary is (by its name, the rule vm_create
 * applies), or VM_DRIVER_AUTO when it is none this runtime drives. */
enum vm_driver vm_driver_of_binary(const char *path);
enum vm_accel { VM_ACCEL_AUTO = 0, VM_ACCEL_KVM, VM_ACCEL_TCG };

struct vm_host_probe;
/* The driver a VM without a binary of its own gets when the daemon asked
 * for `asked` (--hypervisor): that one, else the probe's choice (AUTO
 * without a probe).  vm_create's rule; ops asks this, not the probe. */
enum vm_driver vm_driver_choose(enum vm_driver asked, const struct vm_host_probe *probe);

/* One line for a person: "qemu/tcg: REASON" or "ocivm-vmm: REASON" (the
 * driver vm_driver_choose gives, QEMU's accelerator, why), with
 * " (chosen by the daemon's options)" when asked is not AUTO. */
void vm_driver_describe(enum vm_driver asked, const struct vm_host_probe *probe, char *buf,
			size_t n);

/* Templates with the driver vm_driver_choose gives: true when that driver
 * saves and restores them (QEMU; ocivm-vmm has no snapshots yet), with
 * *ret_default whether they are on when the daemon was not asked (only
 * where restores were tested: QEMU under TCG) and, when that default is
 * off, why in why; false with why in why. */
bool vm_templates_usable(enum vm_driver asked, const struct vm_host_probe *probe,
			 bool *ret_default, char *why, size_t n);

/* What the host can run; filled once by vm_probe_host(). */
struct vm_host_probe {
	bool kvm_present;          /* /dev/kvm opens and KVM_CREATE_VM works */
	bool kvm_hw_speed;         /* a timed guest loop ran at hardware speed */
	double ns_per_insn;        /* measured by that loop (0 if not run) */
	enum vm_driver driver;     /* what AUTO resolves to */
	enum vm_accel accel;       /* for QEMU */
	char reason[256];          /* one line a person understands */
	unsigned tsc_khz;          /* host TSC rate, measured: tsc_early_khz= under TCG */
};
/* Takes ~20 ms (TSC) plus a few ms on hardware or ~15 ms on kvm_pvm; call it
 * once per daemon and pass the result in vm_config.probe.  Always 0: what
 * could not be probed is said in reason. */
int vm_probe_host(struct vm_host_probe *ret);

struct vm_disk {
	const char *path;
	const char *serial;        /* virtio-blk serial the guest finds it by */
	bool readonly;
};

/* How the hypervisor process is confined (vm/driver/jail.c, README "Confinement").
 * Filled by vm_confine_init() once per daemon. */
struct vm_confine {
	bool on;                   /* false: the process runs as the daemon (--no-confine) */
	char user[64];             /* the unprivileged user it runs as */
	uid_t uid;
	gid_t gid;
};
/* user NULL: "ocivm" if that user exists, else "nobody".  -ENOENT (with
 * reason) for an unknown user.  on=false when no_confine. */
int vm_confine_init(const char *user, bool no_confine, struct vm_confine *ret,
		    struct oerr *err);
/* run_dir/confinement (what the process got, written at create) followed by
 * its cgroup's live figures; malloc'd text, "" when the VM was not confined. */
int vm_confinement_text(const char *run_dir, char **ret);
/* Only the live figures of the VM's cgroups ("cgroup DIR" then
 * "memory.current N", "cpu.stat" lines, ... per dir); "" when it has none. */
int vm_cgroup_text(const char *run_dir, char **ret);

/* The bundle's linux.resources that bound the hypervisor process's own
 * cgroup (vm/driver/cgroup_res.c); 0 / NULL: not set.  Memory is not here:
 * the VM's RAM is derived from it (ops) and bounds the cgroup already. */
struct vm_resources {
	uint64_t cpu_quota, cpu_period;   /* quota > 0: cpu.max / cfs_quota_us */
	uint64_t cpu_shares;              /* cpu.shares, cpu.weight under v2 */
	const char *cpus;                 /* cpuset.cpus */
};

/* VM templates (vm/driver/template.c, vm/driver/README.md "Templates"):
 * the first create of a (kernel, initrd, vCPUs, memory, command line,
 * driver, binaries) boots a template VM up to where ocivm-init waits for
 * its SPEC and saves it under dir; later creates restore it (QEMU:
 * migration from the saved state, guest RAM mapped copy-on-write from a
 * sealed memfd of the template's memory).  One handle per daemon, shared
 * by every vm_create (thread-safe). */
struct vm_templates;
int vm_templates_open(const char *dir, struct vm_templates **ret, struct oerr *err);
void vm_templates_close(struct vm_templates *t);
const char *vm_templates_dir(const struct vm_templates *t);
struct vm_template_info {
	char key[65];              /* SHA-256 hex of its inputs */
	unsigned long long size;   /* bytes it takes on disk (mem is sparse) */
	long long created;         /* unix seconds */
	unsigned long long uses;   /* creates restored from it */
};
/* Every template (order of the directory); free(*ret). */
int vm_templates_list(struct vm_templates *t, struct vm_template_info **ret, size_t *ret_n);
/* One, by key: 0 or -ENOENT. */
int vm_templates_get(struct vm_templates *t, const char *key, struct vm_template_info *ret);
/* What its key covers, as text (malloc'd): 0 or -ENOENT. */
int vm_templates_inputs(struct vm_templates *t, const char *key, char **ret);
/* Drop one (the next create of its key builds it again); VMs restored from
 * it run on unchanged.  -ENOENT with reason. */
int vm_templates_remove(struct vm_templates *t, const char *key, struct oerr *err);
/* The network the caller made (linux.namespaces' network path: what
 * podman/CNI and containerd give).  vm_net_read enters it (in a thread of
 * its own: the caller's namespaces do not change) and lists what the guest's
 * NICs get: each interface but lo and taps, with its MAC, MTU, addresses
 * (IPv6 link-local ones left out: the guest makes the same from the MAC)
 * and the main table's routes through it (the kernel's own prefix routes
 * left out).  vm_create then connects each interface to a tap in the same
 * namespace, both ways, with tc (vm/driver/net.c, README "Network"). */
#define VM_NET_MAX_NICS 4
#define VM_NET_MAX_ADDRS 8
#define VM_NET_MAX_ROUTES 16
struct vm_net_ip {
	int family;                /* AF_INET, AF_INET6; 0: none */
	uint8_t a[16];
};
struct vm_net_addr { struct vm_net_ip ip; unsigned prefix; };
struct vm_net_route { struct vm_net_ip dst, gw; unsigned prefix; }; /* gw.family 0: on-link */
struct vm_net_nic {
	char name[16];
	int ifindex;
	uint8_t mac[6];
	unsigned mtu;
	struct vm_net_addr addrs[VM_NET_MAX_ADDRS]; size_t n_addrs;
	struct vm_net_route routes[VM_NET_MAX_ROUTES]; size_t n_routes;
};
struct vm_net {
	size_t n;
	struct vm_net_nic nic[VM_NET_MAX_NICS];
	unsigned dropped;          /* addresses and routes beyond the limits (not sent) */
};
/* 0 and *ret (n may be 0: the namespace has only lo), or -errno with the
 * reason (a path that is not a network namespace: EINVAL). */
int vm_net_read(const char *netns, struct vm_net *ret, struct oerr *err);

/* Plain data, built by ops/ from the container config. */
struct vm_config {
	const char *id;
	const char *run_dir;       /* private dir: sockets, console file, vm.json */
	enum vm_driver driver;     /* AUTO allowed */
	enum vm_accel accel;       /* QEMU only; AUTO from the probe */
	const struct vm_host_probe *probe; /* may be NULL: probed on demand */
	const char *hypervisor_path;        /* NULL: the driver's default binary */
	const char *const *hypervisor_params; size_t n_hypervisor_params;
	const char *kernel;
	const char *initrd;
	const char *const *kernel_params; size_t n_kernel_params; /* appended */
	unsigned vcpus;
	uint64_t memory_mib;
	const struct vm_disk *disks; size_t n_disks;
	const char *gspec; size_t gspec_len;   /* SPEC payload for ocivm-init */
	unsigned ready_timeout_ms;             /* 0: default (120 s) */
	/* Optional (NULL: none): where the driver keeps files it derives.  QEMU
	 * then boots an LZ4 bzImage as its uncompressed vmlinux through PVH
	 * (cache_dir/kernels/), skipping the guest's decompressor (under TCG
	 * here: 0.1-1.4 s less per boot, noisy; bench/create measures it).
	 * May be the image cache_dir. */
	const char *cache_dir;
	/* NULL or on=false: the hypervisor runs as the caller (root) with no
	 * confinement beyond the driver's defaults. */
	const struct vm_confine *confine;
	const struct vm_resources *res;    /* NULL: none */
	/* NULL: every create boots cold.  Else QEMU creates restore from a
	 * template (built at the first create of its key); a restore that
	 * fails boots cold, and vm_info.template_error says why. */
	struct vm_templates *templates;
	/* NULL or no NICs: the guest has no network device.  Else each NIC gets
	 * a tap in netns, connected to it by tc, removed again with the VM. */
	const char *netns;
	const struct vm_net *net;
};

/* vm.hypervisor.parameters against the allowlist of the driver that will
 * serve cfg (by hypervisor_path's name, else cfg->driver, else the probe's
 * choice): options that cannot run or open anything on the host, each value
 * checked (vm/driver/README.md, "Hypervisor parameters").  0, or -EINVAL
 * with "parameters[I] \"ARG\": why" in err.  vm_create checks it too. */
int vm_hypervisor_params_check(const struct vm_config *cfg, struct oerr *err);

/* Called from whichever thread runs vm_dispatch(), never with vm locks held. */
/* An exec'd process as ocivm-init timed it (common/chan.h, protocol 4),
 * microseconds: spawn_us from its fork to its reaping, guest_us from init
 * taking EXEC to sending EXITED. */
struct vm_proc_times {
	uint64_t spawn_us;
	uint64_t guest_us;
};

struct vm_callbacks {
	void (*on_started)(void *ctx, pid_t guest_pid);
	void (*on_output)(void *ctx, int stream /* 1 stdout, 2 stderr */, const void *buf, size_t len);
	void (*on_log)(void *ctx, const char *line);        /* init's LOG and ERROR text */
	void (*on_error)(void *ctx, const char *reason);    /* ERROR frame */
	/* The container process ended (status: exit code, or 128+signal), or
	 * the VM died without saying (status 255, reason set). Called once. */
	void (*on_exit)(void *ctx, int status, const char *reason);
	/* Processes started by vm_exec (proc 1..VM_PROC_MAX), all optional:
	 * started, output, an ERROR line, then exactly one on_proc_exit
	 * (status as on_exit; 255 with a reason when the VM ended first;
	 * times: the guest's figures, NULL when it gave none). */
	void (*on_proc_started)(void *ctx, unsigned proc, pid_t guest_pid);
	void (*on_proc_output)(void *ctx, unsigned proc, int stream, const void *buf, size_t len);
	void (*on_proc_error)(void *ctx, unsigned proc, const char *reason);
	void (*on_proc_exit)(void *ctx, unsigned proc, int status,
			     const struct vm_proc_times *times);
};

struct vm;

/* Start the hypervisor, connect to ocivm-init, send the SPEC, and wait (up
 * to ready_timeout_ms) for READY.  Blocks; call it from a worker thread.  On
 * failure the VM process is gone, run_dir holds nothing of it, and err says
 * why (init's ERROR text when it gave one). */
int vm_create(const struct vm_config *cfg, const struct vm_callbacks *cb, void *ctx,
	      struct vm **ret, struct oerr *err);
/* Find a VM again after a daemon restart (from run_dir/vm.json); -ESRCH if
 * its process is gone (then *ret_status tells what is known, 255 if nothing).
 * have[0], have[1]: bytes of stdout and stderr the caller already holds
 * from this VM (UINT64_MAX: as many as it wants, e.g. past a cap); the
 * guest sends the rest again from there, so bytes the previous daemon had
 * in flight are not lost (a guest of protocol 3; NULL: nothing again). */
int vm_attach(const char *run_dir, const struct vm_callbacks *cb, void *ctx,
	      const uint64_t *have, struct vm **ret, int *ret_status, struct oerr *err);

/* Requests to ocivm-init; they only queue and send what the socket takes,
 * never blocking (the rest goes out from vm_dispatch()).  Replies come
 * through callbacks.  vm_write_stdin is all or nothing: -EAGAIN when 1 MiB
 * of stdin already waits for a process that does not read, -EMSGSIZE above
 * 1 MiB at once; signals and other control frames still go through then,
 * ahead of queued stdin (they never wait behind it).  -EPIPE once the
 * channel is closed. */
int vm_start(struct vm *vm, struct oerr *err);
int vm_signal(struct vm *vm, int signo, struct oerr *err);
int vm_write_stdin(struct vm *vm, const void *buf, size_t len, struct oerr *err);
int vm_close_stdin(struct vm *vm, struct oerr *err);
int vm_pause(struct vm *vm, struct oerr *err);   /* freezes the whole VM */

/* Extra processes (vm/driver/exec.c): proc is the caller's id for it,
 * 1..VM_PROC_MAX, unused until its on_proc_exit; gspec is a gspec
 * (common/gspec.h) whose process records describe it.  -ENOTSUP when the
 * guest's init cannot (an old initrd).  The calls below take proc 0 for the
 * container's own process. */
#define VM_PROC_MAX 255u
int vm_exec(struct vm *vm, unsigned proc, const char *gspec, size_t len, struct oerr *err);
int vm_proc_signal(struct vm *vm, unsigned proc, int signo, struct oerr *err);
int vm_proc_write_stdin(struct vm *vm, unsigned proc, const void *buf, size_t len,
			struct oerr *err);
int vm_proc_close_stdin(struct vm *vm, unsigned proc, struct oerr *err);
/* The window size of its terminal (TIOCSWINSZ in the guest; ignored
 * without a terminal). */
int vm_proc_resize(struct vm *vm, unsigned proc, unsigned rows, unsigned cols,
		   struct oerr *err);
int vm_resume(struct vm *vm, struct oerr *err);

/* Event loop glue: poll vm_fd() for POLLIN, then call vm_dispatch(), which
 * reads what is there and fires the callbacks.  Returns 1 once the VM is
 * gone (on_exit has been called), 0 otherwise, -errno on failure. */
int vm_fd(const struct vm *vm);
int vm_dispatch(struct vm *vm);

/* Kill the hypervisor (stop request, then TERM, then KILL, grace_ms apart),
 * reap it, remove chan.sock, control.sock and vm.json from run_dir.  Then
 * vm_free().  run_dir/console (the guest's serial console: the container's
 * console file) and run_dir/hypervisor.log (the hypervisor's own
 * stdout/stderr) stay for reading after the end; the owner of run_dir
 * removes them with it.  Not concurrently with vm_dispatch() on the same vm. */
int vm_destroy(struct vm *vm, unsigned grace_ms);
/* Forget the handle; the VM process keeps running (daemon shutdown). */
void vm_free(struct vm *vm);

pid_t vm_pid(const struct vm *vm);

/* For MOUNT/containers/ID/vm/: driver ("ocivm-vmm", "qemu"), accel ("kvm",
 * "tcg"), the exact argv joined with spaces, and timings in ms. */
struct vm_info {
	const char *driver;
	const char *accel;
	const char *cmdline;      /* hypervisor argv */
	const char *kernel_cmdline;
	unsigned vcpus;
	uint64_t memory_mib;
	double spawn_ms, hello_ms, ready_ms; /* since vm_create was called */
	const char *confinement;  /* one line: user, seccomp, namespaces, cgroup ("" if none) */
	const char *notes;        /* remarks for a person ("" if none), e.g. disks
				   * on a file system refusing O_DIRECT (QEMU then
				   * uses cache=writeback,aio=threads) */
	const char *template_key;  /* restored from this template ("" : booted cold) */
	const char *template_error;/* why a template was not used ("" if it was, or none applies) */
	const char *template_timing; /* restored: how long QEMU took to start and to load the state */
	bool detached_output_lost; /* what the guest wrote while no daemon was attached
				    * is gone (a QEMU VM started with its channel on a
				    * virtconsole, before the named virtio-serial port) */
};
void vm_get_info(const struct vm *vm, struct vm_info *ret);

/* Rootfs images.  A bundle's root.path directory becomes a block image
 * (ext4 via mke2fs -d, or erofs) cached by content under cache_dir, so a
 * second create of the same rootfs reuses it.  Each user (owner = container
 * id) holds a reference; vm_image_release() drops it and removes the image
 * when no one uses it.  Returns the image path (malloc'd). */
int vm_image_acquire(const char *cache_dir, const char *rootfs_dir, const char *owner,
		     char **ret_path, struct oerr *err);
/* The images are ext4 (gspec "rootfs_fstype ext4"), without a journal, and
 * shared: vm_create attaches them read-only whatever vm_disk.readonly says
 * (ocivm-init mounts them read-only under an overlay with a tmpfs upper).
 * One owner holds at most one image (-EEXIST for a second, different one).
 * The key is a SHA-256 over each entry's relative path, type and mode, uid,
 * gid, size, mtime (ns), device number and symlink target, and the whole
 * contents of every regular file (vm/driver/image.h, vm_tree_hash). */
/* 0 also when owner holds nothing (releasing twice is harmless). */
int vm_image_release(const char *cache_dir, const char *owner, struct oerr *err);
/* At start: remove the temporary images whose builder is gone (a daemon
 * killed during a build) and the lock files of images that are gone.
 * Entries whose key is locked (built or used right now, perhaps by another
 * daemon sharing the cache) are left alone.  Says how many of each went. */
void vm_image_reclaim(const char *cache_dir, unsigned *ret_tmps, unsigned *ret_locks);

#endif
