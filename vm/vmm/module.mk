# ocivm-vmm: linked with the virtio devices (VIRTIO_SRCS, vm/virtio/sources.mk)
# when they are there; weak stubs keep it linkable (UART only) otherwise.
$(call program,ocivm-vmm,$(VMM_SRCS) $(VIRTIO_SRCS) $(COMMON_SRCS),liburing libseccomp,-llz4)
INSTALL_BIN += $(BUILD)/bin/ocivm-vmm
# ocivm-vmmctl: send one control request (tests, debugging).
$(call program,ocivm-vmmctl,vm/vmm/ctl.c,,)
CHECK_SCRIPTS += tests/vm/selftest.sh
# Test builds only: ocivm-vmm with OCIVM_VMM_TEST_FORBIDDEN_SYSCALL (a call
# outside every seccomp filter once confined: the process must die of SIGSYS).
$(BUILD)/tests/ocivm-vmm-knobs: $(VMM_SRCS) $(VIRTIO_SRCS) $(COMMON_SRCS)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -DOCIVM_VMM_TEST_KNOBS $(call pc_cflags,liburing libseccomp) -o $@ \
		$(filter %.c,$^) $(call pc_libs,liburing libseccomp) -llz4 -lpthread
all: $(BUILD)/tests/ocivm-vmm-knobs

# Unit tests (no KVM): tests/vm/vmm/.
$(call unit_test,vmm_exit,tests/vm/vmm/test_exit.c vm/vmm/exit.c vm/vmm/bus.c vm/vmm/coalesce.c)
$(call unit_test,vmm_acpi,tests/vm/vmm/test_acpi.c vm/vmm/acpi.c $(COMMON_SRCS))
$(call unit_test,vmm_loader,tests/vm/vmm/test_loader.c vm/vmm/elf.c vm/vmm/bzimage.c vm/kimage.c vm/vmm/bootinfo.c $(COMMON_SRCS),,-llz4)
$(call unit_test,vmm_seccomp,tests/vm/vmm/test_seccomp.c vm/vmm/seccomp.c vm/vmm/jail.c $(COMMON_SRCS),libseccomp)
# ... and the virtio-net device model run under those filters, stacked as the VMM does.
$(call unit_test,vmm_seccomp_dev,tests/vm/vmm/test_seccomp_dev.c vm/vmm/seccomp.c tests/vm/virtio/drv.c \
	$(VIRTIO_SRCS) $(COMMON_SRCS),libseccomp $(VIRTIO_PKGS))
$(call unit_test,vmm_uart_cpuid,tests/vm/vmm/test_uart_cpuid.c vm/vmm/uart.c vm/vmm/cpuid.c $(COMMON_SRCS))

# bench/vmm.sh (make bench): ocivm-vmm next to QEMU microvm; its QMP helper.
$(call program,bench_vmm_qmp,bench/vmm_qmp.c,,)
BENCHES += bench/vmm.sh
CHECK_SCRIPTS += tests/vm/vmm/linux_e2e.sh

# make fuzz: guest exits through handle_exit and the 8250 (libFuzzer).
FUZZ_CC ?= clang
$(BUILD)/fuzz/fuzz_vmm_exit: tests/vm/vmm/fuzz_exit.c vm/vmm/exit.c vm/vmm/bus.c vm/vmm/uart.c
	@mkdir -p $(@D)
	$(FUZZ_CC) -g -O1 -I. -Icommon -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -o $@ $^ -lpthread
fuzz: $(BUILD)/fuzz/fuzz_vmm_exit
