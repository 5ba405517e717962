/* ocivm-vmm: one KVM virtual machine per process (README.md, PROTOCOL.md). */
#include "vm/defaults.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "vm/virtio/net.h"
#include "vm/vmm/jail.h"
#include "vm/vmm/seccomp.h"
#include "vm/vmm/vmm.h"

#define EXIT_USAGE 64
#define EXIT_CONFIG 65

/* a printf format: the defaults come from vm/defaults.h */
static const char usage_fmt[] =
"usage: ocivm-vmm --kernel PATH [options]\n"
"  --kernel PATH      vmlinux ELF (PVH note: PVH entry, else 64-bit entry) or\n"
"                     bzImage (LZ4 payload with PVH note: decompressed on the host\n"
"                     and entered through PVH; else the 64-bit boot protocol)\n"
"  --initrd PATH      initial ramdisk (PVH module / boot_params ramdisk)\n"
"  --cmdline STR      kernel command line (at most 4095 bytes)\n"
"  --memory MIB       guest RAM in MiB (default %u; RAM above 3 GiB is mapped at 4 GiB)\n"
"  --vcpus N          number of vCPUs, 1..64 (default %u)\n"
"  --console PATH|-   where the 8250 UART (ttyS0) output goes (default -: stdout)\n"
"  --console-max MIB  cap of that output, 1..1048576 (default 64); past it one\n"
"                     marker line, the rest is dropped (counted in status)\n"
"  --disk PATH[,ro][,serial=ID]\n"
"                     a virtio-blk disk (repeatable, up to 15)\n"
"  --net tapfd=N[,mac=M] | tap=NAME[,mac=M]\n"
"                     a virtio-net NIC on a tap (repeatable, up to 4): an inherited\n"
"                     fd opened with IFF_TAP|IFF_NO_PI|IFF_VNET_HDR, or a tap made\n"
"                     by that name; M = aa:bb:cc:dd:ee:ff (default: random, local)\n"
"  --control SOCKET   unix socket for status/stop/pause/resume/console (PROTOCOL.md)\n"
"  --cpuid-mask LIST  CPUID features to hide: names (cx16,xsave,avx,...) or\n"
"                     LEAF[.SUB]:REG:BIT (e.g. 0x1:ecx:13)\n"
"  --jail-root DIR    once everything is open: own mount namespace with an empty\n"
"                     read-only root on DIR, no capabilities, no_new_privs,\n"
"                     rlimits, per-thread seccomp filters (needs --jail-user)\n"
"  --jail-user UID:GID  the unprivileged user the jailed process becomes\n"
"  --seccomp          the per-thread seccomp filters alone (implied by --jail-root)\n"
"  --help             this text\n"
"Exit status: 0 guest powered off (or stopped: control request, SIGTERM), 1 guest reset, 2 triple fault,\n"
"3 KVM internal error, 64 bad usage, 65 bad configuration or setup failure.\n";

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || !*s || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* PATH[,ro][,serial=ID]; the string is modified in place. */
static int parse_disk(char *s, struct vmm_disk_arg *d)
{
	char *save = NULL, *tok = strtok_r(s, ",", &save);

	if (!tok)
		return -EINVAL;
	*d = (struct vmm_disk_arg){ .path = tok };
	while ((tok = strtok_r(NULL, ",", &save))) {
		if (strcmp(tok, "ro") == 0)
			d->readonly = true;
		else if (strncmp(tok, "serial=", 7) == 0 && strlen(tok + 7) <= 20)
			d->serial = tok + 7;
		else
			return -EINVAL;
	}
	return 0;
}

/* tapfd=N|tap=NAME[,mac=M]; the string is modified in place. */
static int parse_net(char *s, struct vmm_net_arg *n)
{
	char *save = NULL, *tok;
	uint64_t fd;

	*n = (struct vmm_net_arg){ .tapfd = -1 };
	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (strncmp(tok, "tapfd=", 6) == 0 && n->tapfd < 0 && !n->tap &&
		    parse_u64(tok + 6, 0, INT32_MAX, &fd) == 0)
			n->tapfd = (int)fd;
		else if (strncmp(tok, "tap=", 4) == 0 && n->tapfd < 0 && !n->tap && tok[4])
			n->tap = tok + 4;
		else if (strncmp(tok, "mac=", 4) == 0 && !n->has_mac &&
			 net_parse_mac(tok + 4, n->mac) == 0)
			n->has_mac = true;
		else
			return -EINVAL;
	}
	return n->tapfd >= 0 || n->tap ? 0 : -EINVAL;
}

static int parse_args(int argc, char **argv, struct vmm_config *c)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, 0, 'k' }, { "initrd", required_argument, 0, 'i' },
		{ "cmdline", required_argument, 0, 'c' }, { "memory", required_argument, 0, 'm' },
		{ "vcpus", required_argument, 0, 'n' }, { "console", required_argument, 0, 'o' },
		{ "disk", required_argument, 0, 'd' }, { "control", required_argument, 0, 's' },
		{ "cpuid-mask", required_argument, 0, 'x' }, { "help", no_argument, 0, 'h' },
		{ "console-max", required_argument, 0, 'C' },
		{ "jail-root", required_argument, 0, 'J' }, { "jail-user", required_argument, 0, 'U' },
		{ "seccomp", no_argument, 0, 'S' }, { "net", required_argument, 0, 'N' },
		{ 0, 0, 0, 0 },
	};
	uint64_t v;
	int o;

	*c = (struct vmm_config){ .memory_mib = VM_DEFAULT_MEMORY_MIB, .vcpus = VM_DEFAULT_VCPUS, .console = "-",
				  .console_max_mib = 64 };
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'k': c->kernel = optarg; break;
		case 'i': c->initrd = optarg; break;
		case 'c': c->cmdline = optarg; break;
		case 'o': c->console = optarg; break;
		case 's': c->control = optarg; break;
		case 'x': c->cpuid_mask = optarg; break;
		case 'J': c->jail_root = optarg; c->seccomp = true; break;
		case 'U': c->jail_user = optarg; break;
		case 'S': c->seccomp = true; break;
		case 'm':
			if (parse_u64(optarg, 32, 1u << 20, &v) < 0)
				return log_err("--memory: a number of MiB, 32..1048576"), -EINVAL;
			c->memory_mib = v;
			break;
		case 'C':
			if (parse_u64(optarg, 1, 1u << 20, &v) < 0)
				return log_err("--console-max: a number of MiB, 1..1048576"), -EINVAL;
			c->console_max_mib = v;
			break;
		case 'n':
			if (parse_u64(optarg, 1, VMM_MAX_VCPUS, &v) < 0)
				return log_err("--vcpus: 1..%u", VMM_MAX_VCPUS), -EINVAL;
			c->vcpus = (unsigned)v;
			break;
		case 'd':
			if (c->n_disks >= VMM_MAX_DISKS || parse_disk(optarg, &c->disks[c->n_disks]) < 0)
				return log_err("--disk: PATH[,ro][,serial=ID] (ID <= 20 bytes), "
					       "at most %u disks", VMM_MAX_DISKS), -EINVAL;
			c->n_disks++;
			break;
		case 'N':
			if (c->n_nets >= VMM_MAX_NETS || parse_net(optarg, &c->nets[c->n_nets]) < 0)
				return log_err("--net: tapfd=N|tap=NAME[,mac=aa:bb:cc:dd:ee:ff] "
					       "(a unicast MAC), at most %u", VMM_MAX_NETS), -EINVAL;
			c->n_nets++;
			break;
		case 'h':
			printf(usage_fmt, VM_DEFAULT_MEMORY_MIB, VM_DEFAULT_VCPUS);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	/* Testing aid: OCIVM_VMM_BZIMAGE=direct forces the 64-bit boot protocol. */
	const char *bz = getenv("OCIVM_VMM_BZIMAGE");
	c->bzimage_direct = bz && strcmp(bz, "direct") == 0;
	c->no_coalesce = getenv("OCIVM_VMM_NO_COALESCE") != NULL;
	if (optind < argc)
		return log_err("unexpected argument '%s'", argv[optind]), -EINVAL;
	if (!c->kernel)
		return log_err("--kernel is required (see --help)"), -EINVAL;
	if (!c->jail_root != !c->jail_user)
		return log_err("--jail-root and --jail-user go together"), -EINVAL;
	return 0;
}

/* Every filter once before any thread runs: a bad rule fails here, not in
 * a thread, and libseccomp has probed the kernel while nothing is filtered. */
static int seccomp_check(struct oerr *err)
{
	for (int k = 0; k < VMM_THREAD_N; k++) {
		scmp_filter_ctx f;
		int r = vmm_seccomp_build((enum vmm_thread_kind)k, getpid(), &f);
		if (r < 0)
			return oerr_sys(err, -r, "seccomp: building the %s filter",
					vmm_thread_kind_name((enum vmm_thread_kind)k));
		seccomp_release(f);
	}
	return 0;
}

/* After setup, before any thread: the jail (jail.h), then the filters. */
static int confine(const struct vmm_config *cfg, struct control *ctl, struct oerr *err)
{
	int r;

	if (cfg->seccomp && (r = seccomp_check(err)) < 0)
		return r;
	if (!cfg->jail_root)
		return 0;
	struct vmm_jail_cfg j = { .root_dir = cfg->jail_root, .nofile_extra = 64 };
	if (vmm_jail_parse_user(cfg->jail_user, &j) < 0)
		return oerr_set(err, EINVAL, "--jail-user %s: UID:GID, both numbers > 0",
				cfg->jail_user);
	if (ctl)
		control_jailed(ctl);
	return vmm_jail_enter(&j, err);
}

/* The control thread (its socket is already bound); on failure *ctl is
 * gone (control_run stopped it). */
static int run_control(struct control **ctl, struct oerr *err)
{
	int r = *ctl ? control_run(*ctl, err) : 0;
	if (r < 0)
		*ctl = NULL;
	return r;
}

/* The main thread's own filter, once the other threads run. */
static int main_filter(const struct vmm_config *cfg, struct oerr *err)
{
	int r;

	if (!cfg->seccomp)
		return 0;
	if ((r = vmm_seccomp_enter(VMM_THREAD_MAIN)) < 0)
		return oerr_sys(err, -r, "seccomp: loading the main filter");
#ifdef OCIVM_VMM_TEST_KNOBS
	/* tests only: a system call outside every filter must kill us (SIGSYS) */
	if (getenv("OCIVM_VMM_TEST_FORBIDDEN_SYSCALL"))
		(void)!chdir("/");
#endif
	return 0;
}

static int open_console(const char *path)
{
	if (strcmp(path, "-") == 0)
		return dup(STDOUT_FILENO);
	return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

static int64_t real_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* OCIVM_VMM_STATS=1: one line of figures on stderr at exit (bench/vmm).
 * OCIVM_VMM_T0: CLOCK_REALTIME ns taken by the caller just before exec. */
static void print_stats(struct kvm_vm *vm, int64_t t_main)
{
	const char *t0s = getenv("OCIVM_VMM_T0");
	int64_t t0 = t0s ? strtoll(t0s, NULL, 10) : t_main;
	struct exit_stats *s = &vm->stats;

	uint64_t k[KS_N];

	if (!getenv("OCIVM_VMM_STATS"))
		return;
	kvm_vm_kvm_stats(vm, k);
	fprintf(stderr, "ocivm-vmm stats: first_run_us=%" PRId64 " exits=%llu io=%llu "
		"mmio=%llu hlt=%llu intr=%llu other=%llu uart_tx=%llu kvm_exits=%llu "
		"kvm_mmio=%llu kvm_halt=%llu kvm_insn_emulation=%llu coalesced_io=%llu\n",
		vm->first_run_ns ? (vm->first_run_ns - t0) / 1000 : -1,
		(unsigned long long)s->total, (unsigned long long)s->io,
		(unsigned long long)s->mmio, (unsigned long long)s->hlt,
		(unsigned long long)s->intr, (unsigned long long)s->other,
		(unsigned long long)vm->uart.tx_bytes, (unsigned long long)k[KS_EXITS],
		(unsigned long long)k[KS_MMIO], (unsigned long long)k[KS_HALT],
		(unsigned long long)k[KS_INSN_EMUL], (unsigned long long)vm->coalesce.replayed);
}

/* SIGTERM/SIGINT stop the VM like a "stop" request. */
static void *signal_thread(void *arg)
{
	struct kvm_vm *vm = arg;
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigwait(&set, &sig) == 0) {
		char msg[64];
		snprintf(msg, sizeof(msg), "stopped by signal %d", sig);
		kvm_vm_finish(vm, EXIT_STOPPED, msg);
	}
	return NULL;
}

static int setup(struct kvm_vm *vm, const struct vmm_config *cfg, struct oerr *err)
{
	int r;

	vm->console_fd = open_console(cfg->console);
	if (vm->console_fd < 0)
		return oerr_sys(err, errno, "--console %s", cfg->console);
	if (cfg->cpuid_mask) {
		r = cpuid_parse_mask(cfg->cpuid_mask, vm->cpuid_mask, CPUID_MASK_MAX,
				     &vm->n_cpuid_mask, err);
		if (r < 0)
			return r;
	}
	r = kvm_vm_create(vm, cfg, err);
	if (r == 0)
		r = kvm_vm_devices_init(vm, err);
	if (r == 0)
		r = kvm_vm_load_kernel(vm, err);
	for (unsigned i = 0; r == 0 && i < vm->n_vcpus; i++)
		r = vcpu_setup_boot(vm, &vm->vcpus[i], err);
	return r;
}

static struct kvm_vm *kvm_vm_alloc(void)
{
	struct kvm_vm *vm = calloc(1, sizeof(*vm));
	if (!vm)
		return NULL;
	vm->kvm_fd = vm->vm_fd = vm->console_fd = -1;
	for (unsigned i = 0; i < VMM_MAX_VCPUS; i++) {
		vm->vcpus[i].fd = -1;
		vm->vcpus[i].kstats.fd = -1;
	}
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->cond, NULL);
	return vm;
}

int main(int argc, char **argv)
{
	int64_t t_main = real_ns();
	struct vmm_config cfg;
	struct oerr err = { 0 };
	struct control *ctl = NULL;
	sigset_t set;
	int status;

	if (parse_args(argc, argv, &cfg) < 0)
		return EXIT_USAGE;
	/* Only vCPU threads take the kick signal. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct kvm_vm *vm = kvm_vm_alloc();
	if (!vm)
		return EXIT_CONFIG;
	vm->seccomp = cfg.seccomp;
	if (setup(vm, &cfg, &err) < 0 ||
	    (cfg.control && control_open(vm, cfg.control, &ctl, &err) < 0) ||
	    confine(&cfg, ctl, &err) < 0 || run_control(&ctl, &err) < 0 ||
	    vcpus_start(vm, &err) < 0 || main_filter(&cfg, &err) < 0) {
		log_err("ocivm-vmm: %s", err.msg);
		control_stop(ctl);
		return EXIT_CONFIG;
	}
	pthread_t sig_thread;
	if (pthread_create(&sig_thread, NULL, signal_thread, vm) == 0)
		pthread_detach(sig_thread);
	status = kvm_vm_wait(vm);
	control_stop(ctl);
	struct kvm_regs regs;
	if (vm->result == EXIT_STOPPED && ioctl(vm->vcpus[0].fd, KVM_GET_REGS, &regs) == 0)
		log_info("ocivm-vmm: %s: %s (vCPU 0 was at rip 0x%llx)", exit_action_name(vm->result),
			 vm->result_msg, (unsigned long long)regs.rip);
	else
		log_info("ocivm-vmm: %s: %s", exit_action_name(vm->result), vm->result_msg);
	print_stats(vm, t_main);
	kvm_vm_devices_destroy(vm);
	coalesce_destroy(&vm->coalesce);
	kvm_vm_destroy(vm);
	close(vm->console_fd);
	free(vm->cpuid);
	free(vm);
	return status;
}
