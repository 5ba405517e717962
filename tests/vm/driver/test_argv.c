/* QEMU and ocivm-vmm command lines built from configs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include <errno.h>
#include <stdlib.h>

#include "cleanup.h"
#include "vm/driver/driver.h"
#include "vm/driver/jail.h"

static const struct vm_disk disks[] = {
	{ .path = "/cache/abc.img", .serial = "rootfs", .readonly = true },
	{ .path = "/img/my,disk.raw", .serial = "image", .readonly = false },
};
static const char *const kparams[] = { "loglevel=4", "init.note=hello world", "two words" };
static const char *const hparams[] = { "-object", "rng-random,id=rng0" };

static struct vm_config base_config(void)
{
	return (struct vm_config){
		.id = "c1", .run_dir = "/run/ocivmfs/c1", .kernel = "/k/vmlinuz",
		.initrd = "/k/initrd.img", .vcpus = 2, .memory_mib = 512,
		.disks = disks, .n_disks = 2,
		.kernel_params = kparams, .n_kernel_params = 3,
		.hypervisor_params = hparams, .n_hypervisor_params = 2,
	};
}

/* Index of the argument equal to s, or -1. */
static int find_arg(const struct strv *a, const char *s)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], s) == 0)
			return (int)i;
	return -1;
}

static const char *arg_after(const struct strv *a, const char *opt, int nth)
{
	for (size_t i = 0; i + 1 < a->n; i++)
		if (strcmp(a->v[i], opt) == 0 && nth-- == 0)
			return a->v[i + 1];
	return NULL;
}

static void build(const struct vm_driver_ops *d, const struct vm_config *cfg,
		  enum vm_accel accel, bool no_direct, struct strv *a, int expect)
{
	struct vm_paths p;
	struct oerr err = { 0 };
	assert_int_equal(vm_paths_init(&p, cfg->run_dir, &err), 0);
	struct vm_launch l = { .cfg = cfg, .paths = &p, .binary = "/usr/bin/hv",
			       .accel = accel, .tsc_khz = 2600000, .no_direct_io = no_direct };
	strv_init(a);
	int r = d->build_argv(&l, a, &err);
	assert_int_equal(r, expect);
	if (expect)
		assert_true(err.msg[0] != '\0');
}

static void test_qemu_machine(void **state)
{
	struct vm_config cfg = base_config();
	struct strv a;

	build(&vm_driver_qemu, &cfg, VM_ACCEL_TCG, false, &a, 0);
	assert_string_equal(a.v[0], "/usr/bin/hv");
	assert_string_equal(arg_after(&a, "-M", 0), "microvm,acpi=on");
	assert_string_equal(arg_after(&a, "-accel", 0), "tcg");
	assert_int_equal(find_arg(&a, "-cpu"), -1);
	assert_true(find_arg(&a, "-nodefaults") > 0);
	assert_true(find_arg(&a, "-no-user-config") > 0);
	assert_true(find_arg(&a, "-nographic") > 0);
	assert_string_equal(arg_after(&a, "-m", 0), "512");
	assert_string_equal(arg_after(&a, "-smp", 0), "2");
	assert_string_equal(arg_after(&a, "-kernel", 0), "/k/vmlinuz");
	assert_string_equal(arg_after(&a, "-initrd", 0), "/k/initrd.img");
	assert_string_equal(arg_after(&a, "-chardev", 1),
			    "socket,id=ch0,path=/run/ocivmfs/c1/chan.sock,server=on,wait=off");
	assert_string_equal(arg_after(&a, "-chardev", 0), "file,id=con0,path=/run/ocivmfs/c1/console");
	/* the channel: a named virtio-serial port (QEMU drops what a
	 * virtconsole writes while no client is connected) */
	assert_true(find_arg(&a, "virtio-serial-device") > 0);
	assert_true(find_arg(&a, "virtserialport,chardev=ch0,name=org.ocivm.chan") > 0);
	for (size_t i = 0; i < a.n; i++)
		assert_null(strstr(a.v[i], "virtconsole"));
	assert_string_equal(arg_after(&a, "-qmp", 0),
			    "unix:/run/ocivmfs/c1/control.sock,server=on,wait=off");
	/* hypervisor parameters come last, in order */
	assert_string_equal(a.v[a.n - 2], "-object");
	assert_string_equal(a.v[a.n - 1], "rng-random,id=rng0");
	strv_free(&a);
}

/* Templates: guest RAM from the template memfd (through the daemon's /proc
 * fd when unconfined), shared only in the template VM itself; a restore
 * waits for its state (-incoming defer); a template's NICs have no backend;
 * without a template none of it. */
static void test_qemu_template(void **state)
{
	struct vm_config cfg = base_config();
	struct vm_paths p;
	struct oerr err = { 0 };
	struct strv a;
	char want[128];

	assert_int_equal(vm_paths_init(&p, cfg.run_dir, &err), 0);
	struct vm_launch l = { .cfg = &cfg, .paths = &p, .binary = "/usr/bin/hv",
			       .accel = VM_ACCEL_TCG, .mem_template = true, .mem_fd = 7,
			       .mem_share = true };
	strv_init(&a);
	assert_int_equal(vm_driver_qemu.build_argv(&l, &a, &err), 0);
	assert_string_equal(arg_after(&a, "-M", 0), "microvm,acpi=on,memory-backend=mem0");
	snprintf(want, sizeof(want), "memory-backend-file,id=mem0,size=512M,mem-path=/proc/%d/fd/7,"
		 "share=on", (int)getpid());
	assert_string_equal(arg_after(&a, "-object", 0), want);
	assert_int_equal(find_arg(&a, "-incoming"), -1);
	assert_int_not_equal(find_arg(&a, "-kernel"), -1);   /* the template VM boots */
	assert_string_equal(arg_after(&a, "-accel", 0), "tcg");
	strv_free(&a);

	struct vm_jail_fds fds;
	memset(&fds, -1, sizeof(fds));
	fds.mem = 9;
	l.fds = &fds;
	l.mem_share = false;
	l.incoming = true;
	strv_init(&a);
	assert_int_equal(vm_driver_qemu.build_argv(&l, &a, &err), 0);
	assert_string_equal(arg_after(&a, "-object", 0),
			    "memory-backend-file,id=mem0,size=512M,mem-path=/proc/self/fd/9,share=off");
	assert_string_equal(a.v[a.n - 2], "-incoming");   /* after the bundle's parameters */
	assert_string_equal(a.v[a.n - 1], "defer");
	/* the guest booted in the template: no kernel, initrd or command line
	 * for QEMU to hold in fw_cfg; a capped translation buffer */
	assert_int_equal(find_arg(&a, "-kernel"), -1);
	assert_int_equal(find_arg(&a, "-initrd"), -1);
	assert_int_equal(find_arg(&a, "-append"), -1);
	assert_string_equal(arg_after(&a, "-accel", 0), "tcg,tb-size=16");
	strv_free(&a);

	/* a template of two NICs: the devices with the placeholder MACs in
	 * order (a restore gives the same devices the container's taps); with
	 * no taps, no backend */
	l.fds = NULL;
	l.incoming = false;
	l.n_tpl_nics = 2;
	strv_init(&a);
	assert_int_equal(vm_driver_qemu.build_argv(&l, &a, &err), 0);
	assert_int_equal(find_arg(&a, "-netdev"), -1);
	assert_string_equal(arg_after(&a, "-device", 2), "virtio-net-device,mac=02:6f:63:76:74:00");
	assert_string_equal(arg_after(&a, "-device", 3), "virtio-net-device,mac=02:6f:63:76:74:01");
	assert_string_equal(arg_after(&a, "-device", 4), "virtio-serial-device");
	strv_free(&a);
	/* ... on the taps of their own namespace (net_tpl.c): the guest
	 * negotiates the offloads a restore's taps offer */
	l.net_fds[0] = 5;
	l.net_fds[1] = 6;
	l.n_net = 2;
	strv_init(&a);
	assert_int_equal(vm_driver_qemu.build_argv(&l, &a, &err), 0);
	assert_string_equal(arg_after(&a, "-netdev", 0), "tap,id=net0,fd=5,vhost=off");
	assert_string_equal(arg_after(&a, "-netdev", 1), "tap,id=net1,fd=6,vhost=off");
	assert_string_equal(arg_after(&a, "-device", 2),
			    "virtio-net-device,netdev=net0,mac=02:6f:63:76:74:00");
	assert_string_equal(arg_after(&a, "-device", 3),
			    "virtio-net-device,netdev=net1,mac=02:6f:63:76:74:01");
	strv_free(&a);

	build(&vm_driver_qemu, &cfg, VM_ACCEL_TCG, false, &a, 0);   /* mem_template false */
	for (size_t i = 0; i < a.n; i++) {
		assert_null(strstr(a.v[i], "memory-backend"));
		assert_null(strstr(a.v[i], "virtio-net-device"));
		assert_string_not_equal(a.v[i], "-incoming");
	}
	strv_free(&a);
}

/* Unconfined, the daemon still makes the listening sockets and QEMU gets
 * fds (its own bind stops at sun_path: a long state dir or id). */
static void test_qemu_socket_fds(void **state)
{
	struct vm_config cfg = base_config();
	struct vm_paths p;
	struct oerr err = { 0 };
	struct vm_jail_fds socks;
	struct strv a;

	memset(&socks, -1, sizeof(socks));
	socks.chan = 3;
	socks.control = 4;
	assert_int_equal(vm_paths_init(&p, cfg.run_dir, &err), 0);
	struct vm_launch l = { .cfg = &cfg, .paths = &p, .binary = "/usr/bin/hv",
			       .accel = VM_ACCEL_TCG, .socks = &socks };
	strv_init(&a);
	assert_int_equal(vm_driver_qemu.build_argv(&l, &a, &err), 0);
	assert_string_equal(arg_after(&a, "-chardev", 1), "socket,id=ch0,fd=3,server=on,wait=off");
	assert_string_equal(arg_after(&a, "-chardev", 2), "socket,id=qmp0,fd=4,server=on,wait=off");
	assert_string_equal(arg_after(&a, "-mon", 0), "chardev=qmp0,mode=control");
	assert_int_equal(find_arg(&a, "-qmp"), -1);
	/* the rest stays by path (not confined) */
	assert_string_equal(arg_after(&a, "-kernel", 0), "/k/vmlinuz");
	assert_string_equal(arg_after(&a, "-chardev", 0), "file,id=con0,path=/run/ocivmfs/c1/console");
	assert_int_equal(find_arg(&a, "-sandbox"), -1);
	strv_free(&a);
}

static void test_qemu_kvm(void **state)
{
	struct vm_config cfg = base_config();
	struct strv a;

	cfg.vcpus = 0;
	cfg.memory_mib = 0;
	cfg.initrd = NULL;
	build(&vm_driver_qemu, &cfg, VM_ACCEL_KVM, false, &a, 0);
	assert_string_equal(arg_after(&a, "-accel", 0), "kvm");
	assert_string_equal(arg_after(&a, "-cpu", 0), "host");
	assert_string_equal(arg_after(&a, "-m", 0), "256");
	assert_string_equal(arg_after(&a, "-smp", 0), "1");
	assert_int_equal(find_arg(&a, "-initrd"), -1);
	/* no tsc_early_khz under KVM */
	assert_null(strstr(arg_after(&a, "-append", 0), "tsc_early_khz"));
	strv_free(&a);
}

static void test_qemu_disks(void **state)
{
	struct vm_config cfg = base_config();
	struct strv a;

	build(&vm_driver_qemu, &cfg, VM_ACCEL_TCG, false, &a, 0);
	assert_string_equal(arg_after(&a, "-drive", 0),
			    "file=/cache/abc.img,if=none,id=disk0,format=raw,aio=io_uring,cache=none,readonly=on");
	assert_string_equal(arg_after(&a, "-device", 0), "virtio-blk-device,drive=disk0,serial=rootfs");
	/* commas in paths are doubled for QEMU's option parser */
	assert_string_equal(arg_after(&a, "-drive", 1),
			    "file=/img/my,,disk.raw,if=none,id=disk1,format=raw,aio=io_uring,cache=none,readonly=off");
	assert_string_equal(arg_after(&a, "-device", 1), "virtio-blk-device,drive=disk1,serial=image");
	strv_free(&a);

	build(&vm_driver_qemu, &cfg, VM_ACCEL_TCG, true, &a, 0);
	assert_string_equal(arg_after(&a, "-drive", 0),
			    "file=/cache/abc.img,if=none,id=disk0,format=raw,aio=threads,cache=writeback,readonly=on");
	strv_free(&a);
}

static void test_kernel_cmdline_quoting(void **state)
{
	struct vm_config cfg = base_config();
	struct strv a;

	build(&vm_driver_qemu, &cfg, VM_ACCEL_TCG, false, &a, 0);
	assert_string_equal(arg_after(&a, "-append", 0),
			    "console=ttyS0 panic=-1 reboot=t tsc_early_khz=2600000 loglevel=4 "
			    "init.note=\"hello world\" \"two words\"");
	strv_free(&a);

	static const char *const bad[] = { "a=\"b c\"" };
	cfg.kernel_params = bad;
	cfg.n_kernel_params = 1;
	build(&vm_driver_qemu, &cfg, VM_ACCEL_TCG, false, &a, -EINVAL);
	strv_free(&a);
	static const char *const nl[] = { "a=b\nc" };
	cfg.kernel_params = nl;
	build(&vm_driver_vmm, &cfg, VM_ACCEL_KVM, false, &a, -EINVAL);
	strv_free(&a);
}

static void test_vmm_argv(void **state)
{
	struct vm_config cfg = base_config();
	struct strv a;

	cfg.disks = disks;
	cfg.n_disks = 1;
	build(&vm_driver_vmm, &cfg, VM_ACCEL_KVM, false, &a, 0);
	static const char *const want[] = {
		"/usr/bin/hv", "--kernel", "/k/vmlinuz", "--initrd", "/k/initrd.img",
		"--cmdline", "console=ttyS0 panic=-1 reboot=t loglevel=4 init.note=\"hello world\" \"two words\"",
		"--memory", "512", "--vcpus", "2", "--console", "/run/ocivmfs/c1/console",
		"--disk", "/cache/abc.img,ro,serial=rootfs",
		"--control", "/run/ocivmfs/c1/control.sock", "-object", "rng-random,id=rng0",
	};
	assert_int_equal(a.n, ARRAY_SIZE(want));
	for (size_t i = 0; i < a.n; i++)
		assert_string_equal(a.v[i], want[i]);
	assert_null(a.v[a.n]);
	strv_free(&a);

	/* ocivm-vmm's --disk cannot carry a comma in the path */
	cfg.n_disks = 2;
	build(&vm_driver_vmm, &cfg, VM_ACCEL_KVM, false, &a, -EINVAL);
	strv_free(&a);
}

static void test_vmm_writable_disk_no_serial(void **state)
{
	static const struct vm_disk d[] = { { .path = "/x.img" } };
	struct vm_config cfg = base_config();
	struct strv a;

	cfg.disks = d;
	cfg.n_disks = 1;
	build(&vm_driver_vmm, &cfg, VM_ACCEL_KVM, false, &a, 0);
	assert_string_equal(arg_after(&a, "--disk", 0), "/x.img");
	strv_free(&a);
}

static void test_paths(void **state)
{
	struct vm_paths p;
	struct oerr err = { 0 };
	char longdir[PATH_MAX];

	assert_int_equal(vm_paths_init(&p, "relative", &err), -EINVAL);
	/* a run_dir longer than sun_path is fine now (the sockets are reached
	 * through their directory): a 600-byte state dir plus a 250-byte id */
	memset(longdir, 'a', 900);
	longdir[0] = '/';
	longdir[900] = '\0';
	assert_int_equal(vm_paths_init(&p, longdir, &err), 0);
	assert_int_equal(strlen(p.control_sock), 900 + strlen("/control.sock"));
	memset(longdir, 'a', sizeof(longdir) - 1);
	longdir[0] = '/';
	longdir[sizeof(longdir) - 1] = '\0';
	oerr_clear(&err);
	assert_int_equal(vm_paths_init(&p, longdir, &err), -ENAMETOOLONG);
	assert_non_null(strstr(err.msg, "longer than"));
}

static void test_strv_join(void **state)
{
	char *v[] = { "a", "b c", "d" };
	char *j = strv_join(v, 3);
	assert_string_equal(j, "a b c d");
	free(j);
	j = strv_join(NULL, 0);
	assert_string_equal(j, "");
	free(j);
	assert_ptr_equal(vm_driver_by_name("qemu"), &vm_driver_qemu);
	assert_ptr_equal(vm_driver_by_name("ocivm-vmm"), &vm_driver_vmm);
	assert_null(vm_driver_by_name("xen"));
}

/* vm.hypervisor.parameters: only allowlisted options, values checked. */
struct param_case { const char *hv; const char *p[3]; size_t n; const char *msg; };

static void test_params_allowlist(void **state)
{
	static const struct param_case cases[] = {
		{ "/usr/bin/qemu-system-x86_64", { "-smp", "2" }, 2, NULL },
		{ "/usr/bin/qemu-system-x86_64", { "-smp", "cpus=2,cores=2" }, 2, NULL },
		{ "/usr/bin/qemu-system-x86_64", { "--cpu", "max,+avx,-x2apic,pmu=off" }, 2, NULL },
		{ "/usr/bin/qemu-system-x86_64", { "-rtc", "base=utc,clock=vm" }, 2, NULL },
		{ "/usr/bin/qemu-system-x86_64", { "-device", "virtio-rng-device", "-nographic" }, 3, NULL },
		{ "/usr/bin/qemu-system-x86_64", { "-overcommit", "mem-lock=off" }, 2, NULL },
		/* the trials: a root helper, a host file, plugins, objects */
		{ "/usr/bin/qemu-system-x86_64", { "-netdev", "bridge,id=n,helper=/tmp/x.sh" }, 2,
		  "parameters[0] \"-netdev\": not on qemu's allowlist" },
		{ "/usr/bin/qemu-system-x86_64", { "-D", "/etc/x" }, 2, "parameters[0] \"-D\"" },
		{ "/usr/bin/qemu-system-x86_64", { "-smp", "2", "-trace" }, 3, "parameters[2] \"-trace\"" },
		{ "/usr/bin/qemu-system-x86_64", { "-plugin", "file=/x.so" }, 2, "\"-plugin\"" },
		{ "/usr/bin/qemu-system-x86_64", { "-object", "rng-random,id=r,filename=/dev/x" }, 2, "\"-object\"" },
		{ "/usr/bin/qemu-system-x86_64", { "-add-fd", "fd=3,set=1" }, 2, "\"-add-fd\"" },
		{ "/usr/bin/qemu-system-x86_64", { "-readconfig", "/x" }, 2, "\"-readconfig\"" },
		{ "/usr/bin/qemu-system-x86_64", { "-chardev", "file,id=c,path=/x" }, 2, "\"-chardev\"" },
		{ "/usr/bin/qemu-system-x86_64", { "-cpu=max" }, 1, "not on qemu's allowlist" },
		/* values */
		{ "/usr/bin/qemu-system-x86_64", { "-cpu", "max,romfile=/etc/shadow" }, 2,
		  "parameters[1] \"max,romfile=/etc/shadow\": not allowed as the value of -cpu" },
		{ "/usr/bin/qemu-system-x86_64", { "-smp", "2,path=/x" }, 2, "value of -smp" },
		{ "/usr/bin/qemu-system-x86_64", { "-smp" }, 1, "needs a value" },
		{ "/usr/bin/qemu-system-x86_64", { "-device", "virtio-rng-device,rng=r" }, 2, "value of -device" },
		{ "/usr/bin/qemu-system-x86_64", { "-device", "virtio-9p-device,fsdev=x" }, 2, "value of -device" },
		{ "/usr/bin/qemu-system-x86_64", { "-rtc", "base=/etc" }, 2, "value of -rtc" },
		{ "/usr/bin/qemu-system-x86_64", { "-cpu", "-D" }, 2, "value of -cpu" },
		/* ocivm-vmm */
		{ "/usr/bin/ocivm-vmm", { "--console-max", "16" }, 2, NULL },
		{ "/usr/bin/ocivm-vmm", { "--cpuid-mask=cx16,xsave" }, 1, NULL },
		{ "/usr/bin/ocivm-vmm", { "--disk", "/etc/shadow" }, 2, "not on ocivm-vmm's allowlist" },
		{ "/usr/bin/ocivm-vmm", { "--console=/etc/passwd" }, 1, "not on ocivm-vmm's allowlist" },
		{ "/usr/bin/ocivm-vmm", { "--cons", "x" }, 2, "not on ocivm-vmm's allowlist" },
		{ "/usr/bin/ocivm-vmm", { "--console-max", "/x" }, 2, "value of --console-max" },
		{ "/usr/bin/ocivm-vmm", { "-smp", "2" }, 2, "not on ocivm-vmm's allowlist" },
		{ "/usr/bin/xen", { "-smp", "2" }, 2, "no driver known" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct param_case *c = &cases[i];
		struct vm_config cfg = { .hypervisor_path = c->hv, .hypervisor_params = c->p,
					 .n_hypervisor_params = c->n };
		struct oerr err = { 0 };
		int r = vm_hypervisor_params_check(&cfg, &err);
		if (!c->msg && r != 0)
			fail_msg("case %zu: refused: %s", i, err.msg);
		if (c->msg && (r != -EINVAL || !strstr(err.msg, c->msg)))
			fail_msg("case %zu: r=%d msg '%s' lacks '%s'", i, r, err.msg, c->msg);
	}
	/* no path: the forced driver decides */
	struct vm_config cfg = { .driver = VM_DRIVER_VMM, .hypervisor_params = cases[0].p,
				 .n_hypervisor_params = 2 };
	struct oerr err = { 0 };
	assert_int_equal(vm_hypervisor_params_check(&cfg, &err), -EINVAL);
	cfg.driver = VM_DRIVER_QEMU;
	assert_int_equal(vm_hypervisor_params_check(&cfg, &err), 0);
}

/* One rule for which driver a hypervisor binary is, shared by ops and
 * vm_create (ops matched any name containing "qemu"), and one parser of the
 * --hypervisor names (fs/ and ops/ each had one). */
static void test_driver_names(void **state)
{
	enum vm_driver d = VM_DRIVER_QEMU;

	assert_int_equal(vm_driver_of_binary("/usr/bin/qemu-system-x86_64"), VM_DRIVER_QEMU);
	assert_int_equal(vm_driver_of_binary("/usr/local/bin/ocivm-vmm"), VM_DRIVER_VMM);
	assert_int_equal(vm_driver_of_binary("/opt/myqemu-wrapper"), VM_DRIVER_AUTO);
	assert_int_equal(vm_driver_of_binary("/usr/bin/qemu-system-aarch64"), VM_DRIVER_AUTO);
	assert_int_equal(vm_driver_parse("auto", &d), 0);
	assert_int_equal(d, VM_DRIVER_AUTO);
	assert_int_equal(vm_driver_parse("vmm", &d), 0);
	assert_int_equal(d, VM_DRIVER_VMM);
	assert_int_equal(vm_driver_parse("qemu", &d), 0);
	assert_int_equal(d, VM_DRIVER_QEMU);
	assert_int_equal(vm_driver_parse("kvmtool", &d), -EINVAL);
	assert_int_equal(VM_DEFAULT_MEMORY_MIB, 256);
	struct vm_host_probe pr = { .driver = VM_DRIVER_VMM };
	assert_int_equal(vm_driver_choose(VM_DRIVER_AUTO, &pr), VM_DRIVER_VMM);
	assert_int_equal(vm_driver_choose(VM_DRIVER_QEMU, &pr), VM_DRIVER_QEMU);
	assert_int_equal(vm_driver_choose(VM_DRIVER_AUTO, NULL), VM_DRIVER_AUTO);
	char line[400];
	struct vm_host_probe tcg = { .driver = VM_DRIVER_QEMU, .accel = VM_ACCEL_TCG, .reason = "no kvm" };
	vm_driver_describe(VM_DRIVER_AUTO, &tcg, line, sizeof(line));
	assert_string_equal(line, "qemu/tcg: no kvm");
	vm_driver_describe(VM_DRIVER_VMM, &tcg, line, sizeof(line));
	assert_string_equal(line, "ocivm-vmm (chosen by the daemon's options): no kvm");
	vm_driver_describe(VM_DRIVER_AUTO, NULL, line, sizeof(line));
	assert_string_equal(line, "qemu: no probe result");
	/* templates: QEMU only; on by default under TCG only */
	bool dflt = true;
	assert_true(vm_templates_usable(VM_DRIVER_AUTO, &tcg, &dflt, line, sizeof(line)));
	assert_true(dflt);
	struct vm_host_probe kvm = { .driver = VM_DRIVER_QEMU, .accel = VM_ACCEL_KVM };
	assert_true(vm_templates_usable(VM_DRIVER_AUTO, &kvm, &dflt, line, sizeof(line)));
	assert_false(dflt);
	assert_non_null(strstr(line, "QEMU/KVM"));
	assert_false(vm_templates_usable(VM_DRIVER_VMM, &tcg, &dflt, line, sizeof(line)));
	assert_false(dflt);
	assert_non_null(strstr(line, "only the QEMU driver"));
	assert_false(vm_templates_usable(VM_DRIVER_AUTO, NULL, &dflt, line, sizeof(line)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_driver_names),
		cmocka_unit_test(test_qemu_machine),
		cmocka_unit_test(test_qemu_socket_fds),
		cmocka_unit_test(test_qemu_kvm),
		cmocka_unit_test(test_qemu_template),
		cmocka_unit_test(test_qemu_disks),
		cmocka_unit_test(test_kernel_cmdline_quoting),
		cmocka_unit_test(test_vmm_argv),
		cmocka_unit_test(test_vmm_writable_disk_no_serial),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_strv_join),
		cmocka_unit_test(test_params_allowlist),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
