# ops/ fragment: unit tests of ops/ and of common/gspec.c (owned by ops).
$(call unit_test,test_gspec,tests/common/test_gspec.c common/gspec.c,,)
$(call unit_test,test_ops_config,tests/ops/test_config.c $(OPS_CONFIG_SRCS) common/err.c common/fileio.c,libcjson,)

# make fuzz: the config parser under libFuzzer (clang), into $(BUILD)/fuzz/.
# Run: $(BUILD)/fuzz/fuzz_config -max_total_time=600 CORPUS_DIR tests/ops/configs
FUZZ_CC ?= clang
fuzz: $(BUILD)/fuzz/fuzz_config
$(BUILD)/fuzz/fuzz_config: ops/fuzz/fuzz_config.c $(OPS_CONFIG_SRCS) ops/spec.c common/gspec.c common/err.c common/fileio.c
	@mkdir -p $(@D)
	$(FUZZ_CC) -std=gnu11 -g -O1 -D_GNU_SOURCE -I. -Icommon $(call pc_cflags,libcjson) \
	  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	  -o $@ $^ $(call pc_libs,libcjson)
$(call unit_test,test_ops_lifecycle,tests/ops/test_lifecycle.c ops/lifecycle.c ops/id.c common/err.c,,)
$(call unit_test,test_ops_hooks,tests/ops/test_hooks.c ops/hooks.c $(OPS_CONFIG_SRCS) common/err.c common/fileio.c common/proc.c,libcjson,)
$(call unit_test,test_ops_runtime,tests/ops/test_runtime.c tests/ops/fake_vm.c vm/driver/names.c $(OPS_SRCS) common/err.c common/fileio.c common/gspec.c common/proc.c,libcjson,)
$(call unit_test,test_ops_staging,tests/ops/test_staging.c tests/ops/fake_vm.c vm/driver/names.c $(OPS_SRCS) common/err.c common/fileio.c common/gspec.c common/proc.c,libcjson,)
$(call unit_test,test_ops_store,tests/ops/test_store.c ops/store.c ops/cj.c ops/lifecycle.c ops/id.c common/err.c common/fileio.c,libcjson,)

# End to end over the real VM drivers (a QEMU/TCG boot here; skips without
# a kernel, initrd and the busybox bundle from `make guest`).
$(BUILD)/tests/ops-e2e: $(patsubst %.c,$(BUILD)/obj/%.o,tests/ops/ops_e2e.c $(OPS_SRCS) $(VM_DRIVER_SRCS) $(COMMON_SRCS))
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pc_libs,libcjson) $(OPS_LDLIBS) $(VM_DRIVER_LDLIBS) -lpthread
$(BUILD)/obj/tests/ops/ops_e2e.o $(patsubst %.c,$(BUILD)/obj/%.o,$(OPS_SRCS)): CFLAGS_PKG := $(call pc_cflags,libcjson)
all: $(BUILD)/tests/ops-e2e
CHECK_SCRIPTS += tests/ops/e2e.sh
LINUX_E2E_SCRIPTS += tests/ops/e2e.sh
$(call unit_test,test_ops_gspec_build,tests/ops/test_gspec_build.c tests/ops/fake_vm.c vm/driver/names.c $(OPS_SRCS) common/err.c common/fileio.c common/gspec.c common/proc.c,libcjson,)

# The runtime test again under ThreadSanitizer (the supervisor thread and
# the racing workers of test_concurrency); run by `make unit` like the rest.
OPS_TSAN_SRCS := tests/ops/test_runtime.c tests/ops/fake_vm.c vm/driver/names.c $(OPS_SRCS) common/err.c \
                 common/fileio.c common/gspec.c common/proc.c
$(BUILD)/tests/test_ops_runtime_tsan: $(OPS_TSAN_SRCS) $(wildcard ops/*.h tests/ops/*.h common/*.h)
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -g -O1 -fsanitize=thread -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -I. -Icommon \
	  $(call pc_cflags,cmocka libcjson) -o $@ $(OPS_TSAN_SRCS) $(call pc_libs,cmocka libcjson) -lpthread
UNIT_TESTS += $(BUILD)/tests/test_ops_runtime_tsan
