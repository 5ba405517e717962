# fs/: unit tests, the daemon, its system tests, bench and fuzz target.
$(call unit_test,test_fs_ctl,tests/fs/test_ctl.c $(FS_CTL_SRCS) common/err.c,,)

# `make fuzz` builds the ctl-parser fuzz target (clang libFuzzer); run it with
#   nice -n 19 $(BUILD)/fuzz/fuzz_ctl -max_total_time=600 fs/fuzz/corpus
FUZZ_CC ?= clang
$(BUILD)/fuzz/fuzz_ctl: fs/fuzz/fuzz_ctl.c $(FS_CTL_SRCS) common/err.c
	@mkdir -p $(@D)
	$(FUZZ_CC) -g -O1 -I. -Icommon -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -o $@ $^
fuzz: $(BUILD)/fuzz/fuzz_ctl
