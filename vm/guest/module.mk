# vm/guest/: ocivm-init (static, PID 1 in the guest), the channel tests,
# the bundled busybox bundle, and the recipe of `make guest` (kernel fetch +
# default initrd).  GUEST_CACHE=DIR reuses an unpacked kernel tree at
# DIR/root (e.g. GUEST_CACHE=/work/guest-cache) instead of apt-get download.
GUEST_CACHE ?=
GUEST_DIR := $(BUILD)/guest
GUEST_INIT_CFLAGS := -std=gnu11 -Os -static $(WARN) -D_GNU_SOURCE -I. -Icommon \
                     -ffunction-sections -fdata-sections -Wl,--gc-sections -s

$(BUILD)/bin/ocivm-init: $(GUEST_INIT_SRCS) $(wildcard vm/guest/*.h) common/chan.h common/gspec.h common/captab.h common/proc.h
	@mkdir -p $(@D)
	$(CC) $(GUEST_INIT_CFLAGS) -o $@ $(GUEST_INIT_SRCS)
PROGRAMS += $(BUILD)/bin/ocivm-init
INSTALL_SHARE += $(BUILD)/bin/ocivm-init

$(call unit_test,test_chan,tests/common/test_chan.c common/chan.c)
$(call unit_test,test_guest_plan,tests/vm/guest/test_plan.c $(GUEST_LIB_SRCS))
$(call unit_test,test_guest_relay,tests/vm/guest/test_relay.c $(GUEST_LIB_SRCS))
$(call unit_test,test_guest_relay_exec,tests/vm/guest/test_relay_exec.c $(GUEST_LIB_SRCS))
$(call unit_test,test_guest_resume,tests/vm/guest/test_resume.c $(GUEST_LIB_SRCS))
$(call unit_test,test_guest_chanopen,tests/vm/guest/test_chanopen.c vm/guest/chanopen.c)
$(call unit_test,test_guest_devwait,tests/vm/guest/test_devwait.c $(GUEST_LIB_SRCS))

# make guest: the Debian cloud kernel unpacked under $(GUEST_DIR)/root,
# $(GUEST_DIR)/vmlinuz, $(GUEST_DIR)/initrd.img, and the busybox bundle.
.PHONY: guest-kernel guest-initrd guest-bundle
guest: guest-kernel guest-initrd guest-bundle
guest-kernel:
	vm/guest/fetch-kernel.sh $(GUEST_DIR) $(GUEST_CACHE)
guest-initrd: guest-kernel $(BUILD)/bin/ocivm-init $(BUILD)/bin/ocivm-mkinitrd
	$(BUILD)/bin/ocivm-mkinitrd --kernel-release "$$(cat $(GUEST_DIR)/release)" \
	  --modules-dir $(GUEST_DIR)/root --init $(BUILD)/bin/ocivm-init -o $(GUEST_DIR)/initrd.img
guest-bundle:
	tools/bundle/mkbundle.sh $(BUILD)/bundle/busybox


# The host side of the end-to-end test (one conversation with ocivm-init).
$(BUILD)/tests/guest-peer: tests/vm/guest/peer.c common/chan.c common/gspec.c vm/driver/fresh.c common/chan.h common/gspec.h vm/driver/fresh.h
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -o $@ tests/vm/guest/peer.c common/chan.c common/gspec.c vm/driver/fresh.c
PROGRAMS += $(BUILD)/tests/guest-peer
CHECK_SCRIPTS += tests/vm/guest/e2e.sh
LINUX_E2E_SCRIPTS += tests/vm/guest/e2e.sh

# make fuzz: the host-facing parsers of ocivm-init (channel frames, SPEC) under
# libFuzzer.  Run: nice -n 19 $(BUILD)/fuzz/fuzz_guest -max_total_time=600 vm/guest/fuzz/corpus
FUZZ_CC ?= clang
fuzz: $(BUILD)/fuzz/fuzz_guest
$(BUILD)/fuzz/fuzz_guest: vm/guest/fuzz/fuzz_guest.c vm/guest/plan.c vm/guest/tables.c common/chan.c common/gspec.c
	@mkdir -p $(@D)
	$(FUZZ_CC) -g -O1 -I. -Icommon -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=undefined -o $@ $^

# make bench: the relay's throughput for heavy output vs a plain pipe.
$(call program,bench-guest-relay,vm/guest/bench/bench_relay.c $(GUEST_LIB_SRCS))
BENCHES += $(BUILD)/bin/bench-guest-relay

# The QEMU argv the product builds (vm_driver_qemu), for e2e.sh: one place.
GUEST_QEMU_ARGV_SRCS := tests/vm/guest/qemu_argv.c $(VM_DRIVER_SRCS) $(COMMON_SRCS)
$(BUILD)/tests/guest-qemu-argv: $(patsubst %.c,$(BUILD)/obj/%.o,$(GUEST_QEMU_ARGV_SRCS))
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(VM_DRIVER_LDLIBS) -lpthread
PROGRAMS += $(BUILD)/tests/guest-qemu-argv

# One QMP command (e2e.sh's late-port case hot-plugs the channel port).
GUEST_QMP_SRCS := tests/vm/guest/qmp_cmd.c $(VM_DRIVER_SRCS) $(COMMON_SRCS)
$(BUILD)/tests/guest-qmp: $(patsubst %.c,$(BUILD)/obj/%.o,$(GUEST_QMP_SRCS))
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(VM_DRIVER_LDLIBS) -lpthread
PROGRAMS += $(BUILD)/tests/guest-qmp
