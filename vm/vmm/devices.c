/* The machine's devices: the UART, the power/reset ports, and the
 * virtio-mmio devices (console first, then the disks, then the NICs) with their irqfds and
 * ioeventfds. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <unistd.h>

#include "vm/virtio/net.h"
#include "vm/vmm/seccomp.h"
#include "vm/vmm/acpi.h"
#include "vm/vmm/vmm.h"

static void uart_set_irq(void *ctx, int level)
{
	kvm_vm_irq_line(ctx, 4, level);
}

/* Power ports (layout.h): sleep control, reset register, debug exit, the
 * IRQ test port, QEMU's 0x604, the 8042 reset and 0xcf9. */
static enum exit_action power_write(void *opaque, uint64_t off, const void *data,
				    unsigned len)
{
	const struct power_port *pp = opaque;
	struct kvm_vm *vm = pp->vm;
	uint32_t v = 0;
	unsigned port = pp->port;

	memcpy(&v, data, len < 4 ? len : 4);
	switch (port) {
	case PORT_ACPI_SLEEP_CTL:
		if ((v & ACPI_SLP_EN) && ((v >> 2) & 7) == ACPI_SLP_TYP_S5)
			return EXIT_POWEROFF;
		return EXIT_CONTINUE;
	case PORT_ACPI_RESET:
		return (v & 0xff) == ACPI_RESET_VALUE ? EXIT_RESET : EXIT_CONTINUE;
	case PORT_DEBUG_EXIT:
		return EXIT_POWEROFF;
	case PORT_IRQ_TEST:
		kvm_vm_irq_pulse(vm, v & 0xff);
		return EXIT_CONTINUE;
	case PORT_QEMU_SHUTDOWN:
		return len == 2 && v == 0x2000 ? EXIT_POWEROFF : EXIT_CONTINUE;
	case PORT_I8042_CMD:
		return (v & 0xff) == 0xfe ? EXIT_RESET : EXIT_CONTINUE;
	case PORT_RESET_CF9:
		return (v & 0x04) ? EXIT_RESET : EXIT_CONTINUE;
	default:
		return EXIT_CONTINUE;
	}
}

static void power_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	const struct power_port *pp = opaque;
	memset(data, pp->port == PORT_ACPI_SLEEP_STS ? 0 : 0xff, len);
}

static void uart_coalesce_hint(void *ctx, bool allowed)
{
	struct kvm_vm *vm = ctx;
	(void)coalesce_set(&vm->coalesce, allowed);   /* failure: writes just exit */
}

static int add_platform(struct kvm_vm *vm, struct oerr *err)
{
	static const unsigned ports[] = {
		PORT_ACPI_SLEEP_CTL, PORT_ACPI_SLEEP_STS, PORT_ACPI_RESET, PORT_DEBUG_EXIT,
		PORT_IRQ_TEST, PORT_QEMU_SHUTDOWN, PORT_I8042_CMD, PORT_RESET_CF9,
	};
	int r;

	uart_init(&vm->uart, vm->console_fd, uart_set_irq, vm);
	uart_set_output_cap(&vm->uart, vm->cfg->console_max_mib << 20);
	r = bus_add(&vm->pio, PORT_UART0, 8, uart_bus_read, uart_bus_write, &vm->uart);
	for (size_t i = 0; r == 0 && i < sizeof(ports) / sizeof(ports[0]); i++) {
		vm->power[i] = (struct power_port){ vm, ports[i] };
		r = bus_add(&vm->pio, ports[i], ports[i] == PORT_QEMU_SHUTDOWN ? 2 : 1,
			    power_read, power_write, &vm->power[i]);
	}
	if (r < 0)
		return oerr_set(err, -r, "platform port ranges overlap");
	if (vm->coalesce.ring)
		uart_set_coalesce_hint(&vm->uart, uart_coalesce_hint, vm);
	return 0;
}

static int ioeventfd(void *ctx, uint64_t gpa, uint32_t datamatch, int fd, bool del)
{
	struct kvm_vm *vm = ctx;
	struct kvm_ioeventfd io = {
		.datamatch = datamatch, .addr = gpa, .len = 4, .fd = fd,
		.flags = KVM_IOEVENTFD_FLAG_DATAMATCH |
			 (del ? KVM_IOEVENTFD_FLAG_DEASSIGN : 0),
	};
	return ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0 ? -errno : 0;
}
static int ioeventfd_add(void *ctx, uint64_t gpa, uint32_t dm, int fd)
{
	return ioeventfd(ctx, gpa, dm, fd, false);
}
static int ioeventfd_del(void *ctx, uint64_t gpa, uint32_t dm, int fd)
{
	return ioeventfd(ctx, gpa, dm, fd, true);
}

static void vdev_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	virtio_mmio_read(opaque, off, data, len);
}
static enum exit_action vdev_write(void *opaque, uint64_t off, const void *data,
				   unsigned len)
{
	virtio_mmio_write(opaque, off, data, len);
	return EXIT_CONTINUE;
}

/* A device I/O thread starts: its seccomp filter, stacked on the vCPU
 * thread's it inherits (seccomp.h). */
static void io_thread_init(void *ctx)
{
	struct kvm_vm *vm = ctx;
	if (vmm_seccomp_enter(VMM_THREAD_IO) < 0)
		kvm_vm_finish(vm, EXIT_INTERNAL, "I/O thread: cannot load its seccomp filter");
}

/* The virtio_host of slot i: its irqfd bound to GSI LAYOUT_VIRTIO_GSI0 + i. */
static int vhost_prepare(struct kvm_vm *vm, unsigned i, struct oerr *err)
{
	struct virtio_host *h = &vm->vhost[i];
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	if (fd < 0)
		return oerr_sys(err, errno, "eventfd");
	struct kvm_irqfd irq = { .fd = (uint32_t)fd, .gsi = LAYOUT_VIRTIO_GSI0 + i };
	if (ioctl(vm->vm_fd, KVM_IRQFD, &irq) < 0) {
		int e = errno;
		close(fd);
		return oerr_sys(err, e, "KVM_IRQFD (GSI %u)", irq.gsi);
	}
	*h = (struct virtio_host){ .mem = &vm->mem, .irqfd = fd,
				   .ioeventfd_add = ioeventfd_add,
				   .ioeventfd_del = ioeventfd_del,
				   .thread_init = vm->seccomp ? io_thread_init : NULL, .ctx = vm };
	vm->vdev_base[i] = LAYOUT_VIRTIO_BASE + i * LAYOUT_VIRTIO_STRIDE;
	vm->vdev_gsi[i] = LAYOUT_VIRTIO_GSI0 + i;
	return 0;
}

static void vhost_release(struct kvm_vm *vm, unsigned i)
{
	struct virtio_host *h = &vm->vhost[i];
	struct kvm_irqfd irq = { .fd = (uint32_t)h->irqfd, .gsi = LAYOUT_VIRTIO_GSI0 + i,
				 .flags = KVM_IRQFD_FLAG_DEASSIGN };

	if (!h->mem)
		return;
	ioctl(vm->vm_fd, KVM_IRQFD, &irq);
	close(h->irqfd);
	*h = (struct virtio_host){ 0 };
}

static int vdev_map(struct kvm_vm *vm, struct virtio_mmio *d, struct oerr *err)
{
	unsigned i = vm->n_vdev;
	int r = bus_add(&vm->mmio, vm->vdev_base[i], VIRTIO_MMIO_WINDOW, vdev_read,
			vdev_write, d);
	if (r < 0) {
		virtio_mmio_destroy(d);
		return oerr_set(err, -r, "virtio-mmio window 0x%llx: bus error",
				(unsigned long long)vm->vdev_base[i]);
	}
	vm->vdev[vm->n_vdev++] = d;
	return 0;
}

static int add_console(struct kvm_vm *vm, struct oerr *err)
{
	struct virtio_console_opts o = { .max_buffered = 1u << 20 };
	struct virtio_mmio *d = NULL;
	unsigned i = vm->n_vdev;
	int r = vhost_prepare(vm, i, err);

	if (r < 0)
		return r;
	r = virtio_console_create(&vm->vhost[i], vm->vdev_base[i], &o, &d);
	if (r < 0)
		vhost_release(vm, i);
	if (r == -ENOSYS)
		return r;   /* built without the virtio code: no console */
	if (r < 0)
		return oerr_set(err, -r, "virtio-console: cannot create (%s)", strerror(-r));
	vm->console_dev = d;
	return vdev_map(vm, d, err);
}

static int add_disk(struct kvm_vm *vm, const struct vmm_disk_arg *a, struct oerr *err)
{
	struct virtio_blk_opts o = { .path = a->path, .readonly = a->readonly,
				     .serial = a->serial, .use_io_uring = true };
	struct virtio_mmio *d = NULL;
	unsigned i = vm->n_vdev;
	int r;

	if (i >= LAYOUT_VIRTIO_MAX)
		return oerr_set(err, ENOSPC, "too many virtio devices");
	r = vhost_prepare(vm, i, err);
	if (r < 0)
		return r;
	r = virtio_blk_create(&vm->vhost[i], vm->vdev_base[i], &o, &d);
	if (r < 0)
		vhost_release(vm, i);
	if (r < 0)
		return oerr_set(err, -r, "--disk %s: %s", a->path, strerror(-r));
	return vdev_map(vm, d, err);
}

/* The tap behind --net: made by name, or inherited (then it must carry
 * virtio headers); fd owned by the caller on success. */
static int open_tap(const struct vmm_net_arg *a, int *ret_fd, struct oerr *err)
{
	int r;
	if (a->tap) {
		r = net_tap_open(a->tap, ret_fd);
		if (r < 0)
			return oerr_set(err, -r, "--net tap=%s: cannot make the tap (%s)", a->tap,
					strerror(-r));
		return 0;
	}
	r = net_tap_adopt(a->tapfd);
	if (r < 0)
		return oerr_set(err, -r, "--net tapfd=%d: %s", a->tapfd,
				r == -EINVAL ? "not a tap opened with IFF_TAP|IFF_NO_PI|IFF_VNET_HDR"
					     : strerror(-r));
	if (fcntl(a->tapfd, F_SETFD, FD_CLOEXEC) < 0)
		return oerr_sys(err, errno, "--net tapfd=%d", a->tapfd);
	*ret_fd = a->tapfd;
	return 0;
}

static int add_net(struct kvm_vm *vm, const struct vmm_net_arg *a, struct oerr *err)
{
	struct virtio_net_opts o = { .fd = -1, .tap = true };
	struct virtio_mmio *d = NULL;
	unsigned i = vm->n_vdev;
	int r;

	if (i >= LAYOUT_VIRTIO_MAX)
		return oerr_set(err, ENOSPC, "too many virtio devices");
	memcpy(o.mac, a->mac, 6);
	if (!a->has_mac) {   /* random, locally administered, unicast */
		if (getrandom(o.mac, 6, 0) != 6)
			return oerr_sys(err, errno, "getrandom");
		o.mac[0] = (uint8_t)((o.mac[0] & 0xfe) | 0x02);
	}
	r = open_tap(a, &o.fd, err);
	if (r < 0)
		return r;
	r = vhost_prepare(vm, i, err);
	if (r < 0) {
		close(o.fd);
		return r;
	}
	r = virtio_net_create(&vm->vhost[i], vm->vdev_base[i], &o, &d);   /* owns o.fd */
	if (r < 0)
		vhost_release(vm, i);
	if (r < 0)
		return oerr_set(err, -r, "virtio-net: cannot create (%s)", strerror(-r));
	return vdev_map(vm, d, err);
}

int kvm_vm_devices_init(struct kvm_vm *vm, struct oerr *err)
{
	int r = add_platform(vm, err);

	if (r < 0)
		return r;
	r = add_console(vm, err);
	if (r < 0 && r != -ENOSYS)
		return r;
	for (unsigned i = 0; i < vm->cfg->n_disks; i++) {
		r = add_disk(vm, &vm->cfg->disks[i], err);
		if (r < 0)
			return r;
	}
	for (unsigned i = 0; i < vm->cfg->n_nets; i++) {
		r = add_net(vm, &vm->cfg->nets[i], err);
		if (r < 0)
			return r;
	}
	return 0;
}

void kvm_vm_devices_destroy(struct kvm_vm *vm)
{
	for (unsigned i = 0; i < vm->n_vdev; i++)
		virtio_mmio_destroy(vm->vdev[i]);
	for (unsigned i = 0; i < LAYOUT_VIRTIO_MAX; i++)
		vhost_release(vm, i);
	uart_destroy(&vm->uart);
}

/* The ACPI description of the devices above. */
int kvm_vm_acpi_devices(const struct kvm_vm *vm, struct acpi_device *out)
{
	for (unsigned i = 0; i < vm->n_vdev; i++)
		out[i] = (struct acpi_device){ vm->vdev_base[i], VIRTIO_MMIO_WINDOW,
					       vm->vdev_gsi[i] };
	return (int)vm->n_vdev;
}
