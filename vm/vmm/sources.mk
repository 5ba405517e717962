# vm/vmm/: ocivm-vmm, the KVM platform (see README.md).  VMM_CORE_SRCS are
# the parts unit tests link without KVM.
VMM_CORE_SRCS := vm/vmm/bus.c vm/vmm/exit.c vm/vmm/uart.c vm/vmm/coalesce.c vm/vmm/elf.c \
                 vm/vmm/bzimage.c vm/kimage.c vm/vmm/bootinfo.c vm/vmm/acpi.c vm/vmm/cpuid.c
VMM_SRCS := $(VMM_CORE_SRCS) vm/vmm/kvmstats.c vm/vmm/kvm.c vm/vmm/cpu.c vm/vmm/vcpu.c \
            vm/vmm/devices.c vm/vmm/boot.c vm/vmm/control.c vm/vmm/main.c \
            vm/vmm/seccomp.c vm/vmm/jail.c \
            vm/vmm/virtio_weak.c
