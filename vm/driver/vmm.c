/* The ocivm-vmm driver: its CLI (vm/vmm/) and its control socket, one line
 * per request: status | stop | pause | resume -> "ok"; console -> the raw
 * byte stream of the guest's virtio-console port 0. */
#include "driver.h"
#include "jail.h"
#include "cleanup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VMM_BASE_CMDLINE "console=ttyS0 panic=-1 reboot=t"

static int vmm_add_disk(struct strv *a, const struct vm_disk *d, struct oerr *err)
{
	if (strchr(d->path, ',') || (d->serial && strchr(d->serial, ',')))
		return oerr_set(err, EINVAL, "ocivm-vmm: disk %.100s: ',' cannot be passed to --disk",
				d->path);
	strv_add(a, "--disk");
	strv_addf(a, "%s%s%s%s", d->path, d->readonly ? ",ro" : "",
		  d->serial ? ",serial=" : "", d->serial ? d->serial : "");
	return 0;
}

static int vmm_build_argv(const struct vm_launch *l, struct strv *a, struct oerr *err)
{
	const struct vm_config *cfg = l->cfg;
	_cleanup_free_ char *cmdline = NULL;
	int r;

	if (!cfg->kernel)
		return oerr_set(err, EINVAL, "ocivm-vmm: no kernel given");
	r = vm_kernel_cmdline(l, VMM_BASE_CMDLINE, &cmdline, err);
	if (r < 0)
		return r;
	strv_add(a, l->binary);
	strv_add(a, "--kernel");
	strv_add(a, cfg->kernel);
	if (cfg->initrd) {
		strv_add(a, "--initrd");
		strv_add(a, cfg->initrd);
	}
	strv_add(a, "--cmdline");
	strv_add(a, cmdline);
	strv_add(a, "--memory");
	strv_addf(a, "%llu", (unsigned long long)(cfg->memory_mib ? cfg->memory_mib : VM_DEFAULT_MEMORY_MIB));
	strv_add(a, "--vcpus");
	strv_addf(a, "%u", cfg->vcpus ? cfg->vcpus : 1);
	strv_add(a, "--console");
	strv_add(a, l->paths->console);
	for (size_t i = 0; i < cfg->n_disks; i++) {
		r = vmm_add_disk(a, &cfg->disks[i], err);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < l->n_net; i++) {   /* the taps (vm/driver/net.c) */
		const uint8_t *m = cfg->net->nic[i].mac;
		strv_add(a, "--net");
		strv_addf(a, "tapfd=%d,mac=%02x:%02x:%02x:%02x:%02x:%02x", l->net_fds[i],
			  m[0], m[1], m[2], m[3], m[4], m[5]);
	}
	strv_add(a, "--control");
	strv_add(a, l->paths->control_sock);
	if (l->jail && l->jail->vmm_self) {   /* it confines itself (vm/vmm/jail.c) */
		strv_add(a, "--jail-root");
		strv_add(a, l->jail->root);
		strv_add(a, "--jail-user");
		strv_addf(a, "%u:%u", (unsigned)l->jail->uid, (unsigned)l->jail->gid);
	} else if (l->jail) {
		strv_add(a, "--seccomp");
	}
	for (size_t i = 0; i < cfg->n_hypervisor_params; i++)
		strv_add(a, cfg->hypervisor_params[i]);
	if (a->error)
		return oerr_set(err, ENOMEM, "ocivm-vmm argv: out of memory");
	return 0;
}

static int vmm_connect_channel(const struct vm_paths *p, struct oerr *err)
{
	_cleanup_close_ int fd = vm_sock_connect(p->control_sock);
	int r;

	if (fd < 0)
		return fd;
	r = vm_sock_send_all(fd, "console\n", 8, 2000);
	if (r < 0)
		return r;
	return TAKE_FD(fd);
}

static int vmm_control(const struct vm_paths *p, enum vm_ctl op, unsigned timeout_ms,
		       struct oerr *err)
{
	static const char *const cmds[] = {
		[VM_CTL_PAUSE] = "pause\n", [VM_CTL_RESUME] = "resume\n", [VM_CTL_STOP] = "stop\n",
	};
	char reply[256];
	_cleanup_close_ int fd = vm_sock_connect(p->control_sock);
	int r;

	if (fd < 0)
		return oerr_sys(err, -fd, "ocivm-vmm: connecting to %s", p->control_sock);
	r = vm_sock_send_all(fd, cmds[op], strlen(cmds[op]), timeout_ms);
	if (r < 0)
		return oerr_sys(err, -r, "ocivm-vmm: sending request");
	r = vm_sock_read_line(fd, reply, sizeof(reply), timeout_ms);
	if (r == -EPIPE && op == VM_CTL_STOP)
		return 0;
	if (r < 0)
		return oerr_sys(err, -r, "ocivm-vmm: reading reply");
	if (strcmp(reply, "ok") != 0)
		return oerr_set(err, EIO, "ocivm-vmm: %.200s", reply);
	return 0;
}

const struct vm_driver_ops vm_driver_vmm = {
	.name = "ocivm-vmm",
	.base_cmdline = VMM_BASE_CMDLINE,
	.default_binary = "ocivm-vmm",
	.build_argv = vmm_build_argv,
	.connect_channel = vmm_connect_channel,
	.control = vmm_control,
};

const struct vm_driver_ops *vm_driver_by_name(const char *name)
{
	if (name && strcmp(name, vm_driver_qemu.name) == 0)
		return &vm_driver_qemu;
	if (name && strcmp(name, vm_driver_vmm.name) == 0)
		return &vm_driver_vmm;
	return NULL;
}
