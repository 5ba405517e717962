/* The QEMU driver: the same machine ocivm-vmm builds (microvm with ACPI,
 * virtio-mmio, virtio-blk on io_uring, a named virtio-serial port for the
 * ocivm-init channel), as a qemu-system-x86_64 command line, plus QMP for
 * pause / resume / stop. */
#include "driver.h"
#include "jail.h"
#include "cleanup.h"
#include "gspec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Under TCG the emulated 8250 costs per byte; the kernel messages still go
 * to the console file, init's go over the channel. */
/* ocivm-init looks for this name in /sys/class/virtio-ports/ * /name. */
#define VM_QEMU_CHAN_NAME "org.ocivm.chan"

#define QEMU_BASE_CMDLINE "console=ttyS0 panic=-1 reboot=t"
#define VM_QEMU_RESTORE_TB_MIB 16u  /* -accel tcg,tb-size= of a template restore */

/* QEMU option values double their commas. */
static char *qemu_escape(const char *s)
{
	size_t n = strlen(s), commas = 0;
	for (size_t i = 0; i < n; i++)
		commas += s[i] == ',';
	char *out = malloc(n + commas + 1), *p = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		*p++ = s[i];
		if (s[i] == ',')
			*p++ = ',';
	}
	*p = '\0';
	return out;
}

/* Confined: the disk is an fd set (read-only fd, plus a read-write one
 * unless readonly) QEMU dups with the flags it wants. */
static char *qemu_disk_path(const struct vm_disk *d, size_t i, const struct vm_jail_fds *fds,
			    struct strv *a)
{
	char *s = NULL;

	if (!fds)
		return qemu_escape(d->path);
	strv_add(a, "-add-fd");
	strv_addf(a, "fd=%d,set=%zu", fds->disk_ro[i], 10 + i);
	if (fds->disk_rw[i] >= 0) {
		strv_add(a, "-add-fd");
		strv_addf(a, "fd=%d,set=%zu", fds->disk_rw[i], 10 + i);
	}
	return asprintf(&s, "/dev/fdset/%zu", 10 + i) < 0 ? NULL : s;
}

static void qemu_add_disk(struct strv *a, const struct vm_disk *d, size_t i,
			  bool direct_io, const struct vm_jail_fds *fds)
{
	_cleanup_free_ char *path = qemu_disk_path(d, i, fds, a);
	_cleanup_free_ char *serial = d->serial ? qemu_escape(d->serial) : NULL;

	if (!path || (d->serial && !serial)) {
		a->error = a->error ? a->error : -ENOMEM;
		return;
	}
	strv_add(a, "-drive");
	strv_addf(a, "file=%s,if=none,id=disk%zu,format=raw,aio=%s,cache=%s,readonly=%s",
		  path, i, direct_io ? "io_uring" : "threads",
		  direct_io ? "none" : "writeback", d->readonly ? "on" : "off");
	strv_add(a, "-device");
	if (serial)
		strv_addf(a, "virtio-blk-device,drive=disk%zu,serial=%s", i, serial);
	else
		strv_addf(a, "virtio-blk-device,drive=disk%zu", i);
}

/* Templates (template.c): guest RAM is the template's memfd, reopened by
 * QEMU through /proc (its own fd when confined; the daemon's, which it may
 * open as root, when not), shared while the template VM writes it, private
 * (MAP_PRIVATE: copy-on-write) in a restored VM; the memfd is sealed against
 * writes by then, so no VM can change the template under its siblings. */
static void qemu_add_template_memory(struct strv *a, const struct vm_launch *l)
{
	const struct vm_config *cfg = l->cfg;

	strv_add(a, "-object");
	if (l->fds)
		strv_addf(a, "memory-backend-file,id=mem0,size=%lluM,mem-path=/proc/self/fd/%d,share=%s",
			  (unsigned long long)(cfg->memory_mib ? cfg->memory_mib : VM_DEFAULT_MEMORY_MIB),
			  l->fds->mem, l->mem_share ? "on" : "off");
	else
		strv_addf(a, "memory-backend-file,id=mem0,size=%lluM,mem-path=/proc/%d/fd/%d,share=%s",
			  (unsigned long long)(cfg->memory_mib ? cfg->memory_mib : VM_DEFAULT_MEMORY_MIB),
			  (int)getpid(), l->mem_fd, l->mem_share ? "on" : "off");
}

/* Machine, accelerator, memory, CPUs, kernel. */
static void qemu_add_machine(struct strv *a, const struct vm_launch *l, const char *cmdline)
{
	const struct vm_config *cfg = l->cfg;

	strv_add(a, l->binary);
	strv_add(a, "-M");
	strv_add(a, l->mem_template ? "microvm,acpi=on,memory-backend=mem0" : "microvm,acpi=on");
	strv_add(a, "-accel");
	/* a restore's translation buffer is capped: QEMU's 1 GiB default lets
	 * an idle restored guest keep ~20 MiB of code it ran once (init's
	 * work after the SPEC) resident for good.  16 MiB: ~5 MiB less a VM
	 * at the default's create time; 8 MiB would save 14 MiB but flushes
	 * during init's work cost ~100-200 ms a create (vm/driver/README.md) */
	if (l->incoming && l->accel != VM_ACCEL_KVM)
		strv_addf(a, "tcg,tb-size=%u", VM_QEMU_RESTORE_TB_MIB);
	else
		strv_add(a, l->accel == VM_ACCEL_KVM ? "kvm" : "tcg");
	if (l->accel == VM_ACCEL_KVM) {
		strv_add(a, "-cpu");
		strv_add(a, "host");
	}
	strv_add(a, "-nodefaults");
	strv_add(a, "-no-user-config");
	strv_add(a, "-nographic");
	strv_add(a, "-no-reboot");
	strv_add(a, "-m");
	strv_addf(a, "%llu", (unsigned long long)(cfg->memory_mib ? cfg->memory_mib : VM_DEFAULT_MEMORY_MIB));
	strv_add(a, "-smp");
	strv_addf(a, "%u", cfg->vcpus ? cfg->vcpus : 1);
	if (l->mem_template)
		qemu_add_template_memory(a, l);
	/* A restore runs a guest that booted long ago: its kernel, initrd and
	 * command line are in the template's RAM.  Given again, QEMU would
	 * read them into fw_cfg buffers it never frees (kernel + initrd,
	 * ~15 MiB private per VM, bench/template.sh) and no guest reads
	 * again; the device set and RAM blocks are the same without them. */
	if (l->incoming)
		return;
	strv_add(a, "-kernel");
	if (l->fds)
		strv_addf(a, "/proc/self/fd/%d", l->fds->kernel);
	else
		strv_add(a, cfg->kernel);
	if (cfg->initrd) {
		strv_add(a, "-initrd");
		if (l->fds)
			strv_addf(a, "/proc/self/fd/%d", l->fds->initrd);
		else
			strv_add(a, cfg->initrd);
	}
	strv_add(a, "-append");
	strv_add(a, cmdline);
}

/* Serial console to a file, the ocivm-init channel, QMP.  The channel is a
 * named virtio-serial port, not a virtconsole: QEMU drops what a console
 * port writes while no client is connected, whereas a generic port tells the
 * guest (host_connected, POLLHUP) and its writes wait — so output written
 * while the daemon is down waits in the guest (ocivm-init holds it and stops
 * reading the container's pipes) instead of being lost. */
static int qemu_add_sockets(struct strv *a, const struct vm_paths *p,
			    const struct vm_jail_fds *socks)
{
	_cleanup_free_ char *chan = qemu_escape(p->chan_sock);
	_cleanup_free_ char *qmp = qemu_escape(p->control_sock);
	_cleanup_free_ char *con = qemu_escape(p->console);

	if (!chan || !qmp || !con)
		return -ENOMEM;
	strv_add(a, "-chardev");
	strv_addf(a, "file,id=con0,path=%s", con);
	strv_add(a, "-serial");
	strv_add(a, "chardev:con0");
	strv_add(a, "-device");
	strv_add(a, "virtio-serial-device");
	strv_add(a, "-chardev");
	/* listening fds the daemon made: QEMU's own bind would stop at
	 * sun_path's 108 bytes (a long state dir or id); by path only for
	 * callers that pass none (argv tests) */
	if (socks)
		strv_addf(a, "socket,id=ch0,fd=%d,server=on,wait=off", socks->chan);
	else
		strv_addf(a, "socket,id=ch0,path=%s,server=on,wait=off", chan);
	strv_add(a, "-device");
	strv_add(a, "virtserialport,chardev=ch0,name=" VM_QEMU_CHAN_NAME);
	if (socks) {
		strv_add(a, "-chardev");
		strv_addf(a, "socket,id=qmp0,fd=%d,server=on,wait=off", socks->control);
		strv_add(a, "-mon");
		strv_add(a, "chardev=qmp0,mode=control");
	} else {
		strv_add(a, "-qmp");
		strv_addf(a, "unix:%s,server=on,wait=off", qmp);
	}
	return 0;
}

/* Confined (jail.h): the sockets are listening fds the daemon made, the
 * console an fd set; QEMU's own seccomp filter on top. */
static void qemu_add_confined_sockets(struct strv *a, const struct vm_jail_fds *fds)
{
	strv_add(a, "-sandbox");
	strv_add(a, VM_QEMU_SANDBOX);
	strv_add(a, "-add-fd");
	strv_addf(a, "fd=%d,set=1", fds->console);
	strv_add(a, "-chardev");
	strv_add(a, "file,id=con0,path=/dev/fdset/1");
	strv_add(a, "-serial");
	strv_add(a, "chardev:con0");
	strv_add(a, "-device");
	strv_add(a, "virtio-serial-device");
	strv_add(a, "-chardev");
	strv_addf(a, "socket,id=ch0,fd=%d,server=on,wait=off", fds->chan);
	strv_add(a, "-device");
	strv_add(a, "virtserialport,chardev=ch0,name=" VM_QEMU_CHAN_NAME);
	strv_add(a, "-chardev");
	strv_addf(a, "socket,id=qmp0,fd=%d,server=on,wait=off", fds->control);
	strv_add(a, "-mon");
	strv_add(a, "chardev=qmp0,mode=control");
}

/* The taps of the caller's network (vm/driver/net.c): inherited fds; QEMU
 * reads the vnet header and sets the offloads the guest takes. */
static void qemu_add_nics(struct strv *a, const struct vm_launch *l)
{
	size_t n = l->n_tpl_nics > l->n_net ? l->n_tpl_nics : l->n_net;

	for (size_t i = 0; i < n; i++) {
		/* a template VM's: placeholder MACs; a NIC without a tap has no
		 * backend (QEMU warns "has no peer") */
		const uint8_t tpl[6] = GSPEC_TPL_NIC_MAC(i);
		const uint8_t *m = l->n_tpl_nics ? tpl : l->cfg->net->nic[i].mac;
		if (i >= l->n_net) {
			strv_add(a, "-device");
			strv_addf(a, "virtio-net-device,mac=%02x:%02x:%02x:%02x:%02x:%02x",
				  m[0], m[1], m[2], m[3], m[4], m[5]);
			continue;
		}
		strv_add(a, "-netdev");
		strv_addf(a, "tap,id=net%zu,fd=%d,vhost=off", i, l->net_fds[i]);
		strv_add(a, "-device");
		strv_addf(a, "virtio-net-device,netdev=net%zu,mac=%02x:%02x:%02x:%02x:%02x:%02x",
			  i, m[0], m[1], m[2], m[3], m[4], m[5]);
	}
}

static int qemu_build_argv(const struct vm_launch *l, struct strv *a, struct oerr *err)
{
	const struct vm_config *cfg = l->cfg;
	_cleanup_free_ char *cmdline = NULL;
	int r;

	if (!cfg->kernel)
		return oerr_set(err, EINVAL, "qemu: no kernel given");
	r = vm_kernel_cmdline(l, QEMU_BASE_CMDLINE, &cmdline, err);
	if (r < 0)
		return r;
	qemu_add_machine(a, l, cmdline);
	for (size_t i = 0; i < cfg->n_disks; i++)
		qemu_add_disk(a, &cfg->disks[i], i, !l->no_direct_io, l->fds);
	qemu_add_nics(a, l);
	if (l->fds)
		qemu_add_confined_sockets(a, l->fds);
	else if (qemu_add_sockets(a, l->paths, l->socks) < 0 && !a->error)
		a->error = -ENOMEM;
	for (size_t i = 0; i < cfg->n_hypervisor_params; i++)
		strv_add(a, cfg->hypervisor_params[i]);
	if (l->incoming) {   /* the state comes over QMP (migrate-incoming) */
		strv_add(a, "-incoming");
		strv_add(a, "defer");
	}
	if (a->error)
		return oerr_set(err, ENOMEM, "qemu argv: out of memory");
	return 0;
}

static long long qmp_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One QMP exchange: skip events, wait for "return" or "error" — within
 * timeout_ms in all (events arriving now and then do not extend it). */
static int qmp_await_reply(int fd, unsigned timeout_ms, struct oerr *err)
{
	long long deadline = qmp_now_ms() + timeout_ms;
	char line[4096];

	for (;;) {
		long long left = deadline - qmp_now_ms();
		int n = left > 0 ? vm_sock_read_line(fd, line, sizeof(line), (unsigned)left)
				 : -ETIMEDOUT;
		if (n == -EMSGSIZE)
			continue;
		if (n < 0)
			return oerr_sys(err, -n, "qmp: reading reply");
		if (strstr(line, "\"return\""))
			return 0;
		if (strstr(line, "\"error\""))
			return oerr_set(err, EIO, "qmp: %.200s", line);
	}
}

static int qmp_command(int fd, const char *cmd, unsigned timeout_ms, struct oerr *err)
{
	char buf[128];
	int len = snprintf(buf, sizeof(buf), "{\"execute\":\"%s\"}\n", cmd);
	int r = vm_sock_send_all(fd, buf, (size_t)len, timeout_ms);

	if (r < 0)
		return oerr_sys(err, -r, "qmp: sending %s", cmd);
	return qmp_await_reply(fd, timeout_ms, err);
}

static int qemu_control(const struct vm_paths *p, enum vm_ctl op, unsigned timeout_ms,
			struct oerr *err)
{
	static const char *const cmds[] = {
		[VM_CTL_PAUSE] = "stop", [VM_CTL_RESUME] = "cont", [VM_CTL_STOP] = "quit",
	};
	char greeting[4096];
	_cleanup_close_ int fd = vm_sock_connect(p->control_sock);
	int n, r;

	if (fd < 0)
		return oerr_sys(err, -fd, "qmp: connecting to %s", p->control_sock);
	n = vm_sock_read_line(fd, greeting, sizeof(greeting), timeout_ms);
	if (n < 0 && n != -EMSGSIZE)
		return oerr_sys(err, -n, "qmp: reading greeting");
	r = qmp_command(fd, "qmp_capabilities", timeout_ms, err);
	if (r < 0)
		return r;
	if (op != VM_CTL_STOP)
		return qmp_command(fd, cmds[op], timeout_ms, err);
	struct oerr quit_err = { 0 };
	r = qmp_command(fd, cmds[op], timeout_ms, &quit_err);
	if (r == -EPIPE)
		return 0;   /* quit may close the socket before replying */
	if (r < 0)
		oerr_set(err, -r, "%s", quit_err.msg);
	return r;
}

static int qemu_connect_channel(const struct vm_paths *p, struct oerr *err)
{
	return vm_sock_connect(p->chan_sock);
}

const struct vm_driver_ops vm_driver_qemu = {
	.name = "qemu",
	.base_cmdline = QEMU_BASE_CMDLINE,
	.default_binary = "qemu-system-x86_64",
	.build_argv = qemu_build_argv,
	.connect_channel = qemu_connect_channel,
	.control = qemu_control,
};
