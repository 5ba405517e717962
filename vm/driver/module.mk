# vm/driver/ fragment: unit tests, the end-to-end check, the create bench.
VM_DRIVER_TEST_SRCS := $(VM_DRIVER_SRCS) $(COMMON_SRCS)

$(call unit_test,test_vm_argv,tests/vm/driver/test_argv.c $(VM_DRIVER_TEST_SRCS),,)
$(call unit_test,test_vm_record,tests/vm/driver/test_record.c $(VM_DRIVER_TEST_SRCS),,)
$(call unit_test,test_vm_image,tests/vm/driver/test_image.c $(VM_DRIVER_TEST_SRCS),,)
$(call unit_test,test_vm_probe,tests/vm/driver/test_probe.c $(VM_DRIVER_TEST_SRCS),,)
$(call program,ocivm-probe,vm/driver/probe_main.c $(VM_DRIVER_SRCS) $(COMMON_SRCS),,)

# vm.h against a fake ocivm-vmm (no KVM): the fake sits next to the test.
$(call unit_test,test_vm_session,tests/vm/driver/test_session.c $(VM_DRIVER_TEST_SRCS),,)
$(BUILD)/tests/ocivm-vmm-fake: tests/vm/driver/fake_vmm.c common/chan.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -o $@ $^ -lpthread
$(BUILD)/tests/test_vm_session: | $(BUILD)/tests/ocivm-vmm-fake
