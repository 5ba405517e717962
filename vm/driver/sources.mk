# vm/driver/: the hypervisor drivers behind vm/vm.h (QEMU, ocivm-vmm), the
# host side of the ocivm-init channel, the KVM probe, the rootfs image cache.
# Link VM_DRIVER_SRCS together with $(COMMON_SRCS) (chan.c, fileio.c, err.c).
VM_DRIVER_SRCS := vm/driver/strv.c vm/driver/paths.c vm/driver/sock.c \
                  vm/driver/qemu.c vm/driver/vmm.c vm/driver/probe.c \
                  vm/driver/record.c vm/driver/spawn.c vm/driver/resolve.c \
                  vm/driver/session.c vm/driver/fresh.c vm/driver/outq.c vm/driver/resume.c vm/driver/exec.c vm/driver/vm.c vm/driver/treehash.c \
                  vm/driver/image.c vm/driver/kernel.c vm/kimage.c vm/driver/params.c vm/driver/names.c \
                  vm/driver/jail.c vm/driver/jail_enter.c vm/driver/cgroup.c \
                  vm/driver/cgroup_res.c vm/driver/qmp.c \
                  vm/driver/template.c vm/driver/template_io.c \
                  vm/driver/template_vm.c vm/driver/template_key.c \
                  vm/driver/net.c vm/driver/net_tc.c vm/driver/net_watch.c \
                  vm/driver/net_tpl.c
# Extra libraries VM_DRIVER_SRCS need (Debian: liblz4-dev, nettle-dev, libcjson-dev, libmnl-dev).
VM_DRIVER_LDLIBS := -llz4 -lnettle -lcjson -lmnl
