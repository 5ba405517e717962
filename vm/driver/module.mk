# vm/driver/ fragment: unit tests, the end-to-end check, the create bench.
VM_DRIVER_TEST_SRCS := $(VM_DRIVER_SRCS) $(COMMON_SRCS)

$(call unit_test,test_vm_argv,tests/vm/driver/test_argv.c $(VM_DRIVER_TEST_SRCS),,)
$(call unit_test,test_vm_probe,tests/vm/driver/test_probe.c $(VM_DRIVER_TEST_SRCS),,)
$(call program,ocivm-probe,vm/driver/probe_main.c $(VM_DRIVER_SRCS) $(COMMON_SRCS),,)
