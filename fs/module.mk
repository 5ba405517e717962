# fs/: unit tests, the daemon, its system tests, bench and fuzz target.
$(call unit_test,test_fs_ctl,tests/fs/test_ctl.c $(FS_CTL_SRCS) common/err.c,,)
$(call unit_test,test_fs_rings,tests/fs/test_rings.c fs/rings.c common/log.c common/err.c,fuse3,)
$(call unit_test,test_fs_slots,tests/fs/test_slots.c fs/slots.c,fuse3,)
$(call unit_test,test_fs_perm,tests/fs/test_perm.c fs/perm.c,,)
$(call unit_test,test_fs_inctab,tests/fs/test_inctab.c fs/inctab.c,,)
# incoming.c against a forget between its lookup and its use of the
# descriptor: the test runs that forget right after the lock is released
$(call unit_test,test_fs_incoming,tests/fs/test_incoming.c fs/incoming.c fs/inctab.c common/err.c,fuse3,-Xlinker --wrap=pthread_mutex_unlock)

# The daemon links ops/ and the VM drivers once ops/ has sources.
ifneq ($(strip $(OPS_SRCS)),)
$(call program,ocivmfs,$(FS_SRCS) $(OPS_SRCS) $(VM_DRIVER_SRCS) $(COMMON_SRCS),fuse3 libcjson liburing,$(OPS_LDLIBS) $(VM_DRIVER_LDLIBS))
INSTALL_BIN += $(BUILD)/bin/ocivmfs
$(BUILD)/obj/fs/main.o: CFLAGS += -DOCIVMFS_SHARE=\"$(PREFIX)/share/ocivmfs\"
endif

# The same daemon over a fake ops/ (tests/fs/fake_ops.c), under ASan+UBSan:
# the fast tree tests run against it, needing neither ops/ nor a VM.
FS_FAKE_SRCS := $(FS_SRCS) tests/fs/fake_ops.c ops/id.c ops/staging.c common/err.c common/fileio.c common/log.c \
                common/proc.c
FS_FAKE := $(BUILD)/tests/fs/ocivmfs-fakeops
$(FS_FAKE): $(patsubst %.c,$(BUILD)/san/%.o,$(FS_FAKE_SRCS))
	@mkdir -p $(@D)
	$(CC) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^ $(call pc_libs,fuse3 libcjson) -lpthread
$(patsubst %.c,$(BUILD)/san/%.o,$(FS_FAKE_SRCS)): CFLAGS_PKG := $(call pc_cflags,fuse3 libcjson)
all: $(FS_FAKE)
CHECK_SCRIPTS += tests/fs/tree-fast.sh

# `make fuzz` builds the ctl-parser fuzz target (clang libFuzzer); run it with
#   nice -n 19 $(BUILD)/fuzz/fuzz_ctl -max_total_time=600 fs/fuzz/corpus
FUZZ_CC ?= clang
$(BUILD)/fuzz/fuzz_ctl: fs/fuzz/fuzz_ctl.c $(FS_CTL_SRCS) common/err.c
	@mkdir -p $(@D)
	$(FUZZ_CC) -g -O1 -I. -Icommon -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -o $@ $^
fuzz: $(BUILD)/fuzz/fuzz_ctl
CHECK_SCRIPTS += tests/fs/tree-vm.sh tests/fs/install.sh tests/fs/tree-vm-confine.sh
LINUX_E2E_SCRIPTS += tests/fs/tree-vm.sh tests/fs/install.sh tests/fs/tree-vm-confine.sh
# issue 12: exec through the tree (EXEC_LOOPS=1000 for the full leak check)
CHECK_SCRIPTS += tests/fs/tree-vm-exec.sh
LINUX_E2E_SCRIPTS += tests/fs/tree-vm-exec.sh
# issue 15: VM templates (QEMU)
CHECK_SCRIPTS += tests/fs/tree-vm-template.sh
LINUX_E2E_SCRIPTS += tests/fs/tree-vm-template.sh
BENCHES += bench/template.sh
# issue 13: the caller's network namespace (its own netns + veth; as root)
CHECK_SCRIPTS += tests/fs/tree-vm-net.sh
LINUX_E2E_SCRIPTS += tests/fs/tree-vm-net.sh

# bench/ctl: the tree vs crun state vs tmpfs; ctl and event latency.
$(BUILD)/bench/ctl_time: bench/ctl_time.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -o $@ $<
FS_BENCH_FAKE_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(FS_FAKE_SRCS))
$(BUILD)/bench/ocivmfs-fakeops: $(FS_BENCH_FAKE_OBJS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pc_libs,fuse3 libcjson) -lpthread
$(FS_BENCH_FAKE_OBJS): CFLAGS_PKG := $(call pc_cflags,fuse3 libcjson)
all: $(BUILD)/bench/ctl_time $(BUILD)/bench/ocivmfs-fakeops
BENCHES += bench/ctl.sh
# bench/relay: container output through the tree (MB/s, CPU per MB) vs crun.
BENCHES += bench/relay.sh
# bench/stat: a stat of state/config.json/status of a container (issue 16 point 8).
BENCHES += bench/stat.sh
