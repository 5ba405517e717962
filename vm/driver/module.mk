# vm/driver/ fragment: unit tests, the end-to-end check, the create bench.
VM_DRIVER_TEST_SRCS := $(VM_DRIVER_SRCS) $(COMMON_SRCS)

$(call unit_test,test_vm_argv,tests/vm/driver/test_argv.c $(VM_DRIVER_TEST_SRCS),,$(VM_DRIVER_LDLIBS))
$(call unit_test,test_vm_record,tests/vm/driver/test_record.c $(VM_DRIVER_TEST_SRCS),,$(VM_DRIVER_LDLIBS))
$(call unit_test,test_vm_image,tests/vm/driver/test_image.c $(VM_DRIVER_TEST_SRCS),,$(VM_DRIVER_LDLIBS))
$(call unit_test,test_vm_kernel,tests/vm/driver/test_kernel.c $(VM_DRIVER_TEST_SRCS),,$(VM_DRIVER_LDLIBS))
$(call unit_test,test_vm_cgroup,tests/vm/driver/test_cgroup.c $(VM_DRIVER_TEST_SRCS),,$(VM_DRIVER_LDLIBS))
$(call unit_test,test_vm_jail,tests/vm/driver/test_jail.c $(VM_DRIVER_TEST_SRCS),,$(VM_DRIVER_LDLIBS))
$(call unit_test,test_vm_fresh,tests/vm/driver/test_fresh.c $(VM_DRIVER_TEST_SRCS),,$(VM_DRIVER_LDLIBS))
$(call unit_test,test_vm_template,tests/vm/driver/test_template.c $(VM_DRIVER_TEST_SRCS),,$(VM_DRIVER_LDLIBS))
$(call unit_test,test_vm_net,tests/vm/driver/test_net.c $(VM_DRIVER_TEST_SRCS),,$(VM_DRIVER_LDLIBS))
$(call unit_test,test_vm_probe,tests/vm/driver/test_probe.c $(VM_DRIVER_TEST_SRCS),,$(VM_DRIVER_LDLIBS))
# ocivm-probe: prints what the host probe finds and decides (installed).
$(call program,ocivm-probe,vm/driver/probe_main.c $(VM_DRIVER_SRCS) $(COMMON_SRCS),,$(VM_DRIVER_LDLIBS))

# vm.h against a fake ocivm-vmm (no KVM): the fake sits next to the test.
$(call unit_test,test_vm_session,tests/vm/driver/test_session.c $(VM_DRIVER_TEST_SRCS),,$(VM_DRIVER_LDLIBS))
$(BUILD)/tests/ocivm-vmm-fake: tests/vm/driver/fake_vmm.c common/chan.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -o $@ $(filter %.c,$^) -lpthread
$(BUILD)/tests/test_vm_session: | $(BUILD)/tests/ocivm-vmm-fake
$(call unit_test,test_vm_resume,tests/vm/driver/test_resume.c $(VM_DRIVER_TEST_SRCS),,$(VM_DRIVER_LDLIBS))
$(BUILD)/tests/test_vm_resume: | $(BUILD)/tests/ocivm-vmm-fake

# End to end (QEMU/TCG here; ocivm-vmm where KVM runs at hardware speed):
# a C program using vm.h, run by `make check` after `make guest`.
VM_DRIVER_E2E_SRCS := tests/vm/driver/e2e_lib.c $(VM_DRIVER_SRCS) $(COMMON_SRCS)
$(call program,vm-driver-e2e,tests/vm/driver/e2e.c $(VM_DRIVER_E2E_SRCS),,$(VM_DRIVER_LDLIBS))
CHECK_SCRIPTS += $(BUILD)/bin/vm-driver-e2e
LINUX_E2E_SCRIPTS += $(BUILD)/bin/vm-driver-e2e

# make bench: create latencies per driver (needs make guest).
$(call program,bench-create,bench/create.c $(VM_DRIVER_E2E_SRCS),,$(VM_DRIVER_LDLIBS))
BENCHES += $(BUILD)/bin/bench-create

# make fuzz: the bzImage/ELF-note and vm.json parsers under libFuzzer (clang).
# Run: nice -n 19 $(BUILD)/fuzz/fuzz_vm_kernel -max_total_time=600 CORPUS_DIR tests/vm/driver/fuzz/seeds
VM_DRIVER_FUZZ_CC ?= clang
fuzz: $(BUILD)/fuzz/fuzz_vm_kernel
$(BUILD)/fuzz/fuzz_vm_kernel: tests/vm/driver/fuzz/fuzz_kernel.c vm/driver/kernel.c vm/kimage.c vm/driver/record.c common/fileio.c
	@mkdir -p $(@D)
	$(VM_DRIVER_FUZZ_CC) -g -O1 -I. -Icommon -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -o $@ $^ -llz4 -lcjson
INSTALL_BIN += $(BUILD)/bin/ocivm-probe
# make bench: what the rootfs cache key (SHA-256 over the tree) costs.
$(call program,bench-treehash,bench/treehash.c vm/driver/treehash.c,,-lnettle)
BENCHES += bench/treehash.sh
