# vm/virtio/ fragment: unit tests, console_echo, the blk benchmark and the
# blk request-parser fuzz target.
VIRTIO_TDRV := tests/vm/virtio/drv.c

$(call unit_test,virtio_virtq,tests/vm/virtio/test_virtq.c vm/virtio/virtq.c)
$(call unit_test,virtio_blk,tests/vm/virtio/test_blk.c $(VIRTIO_TDRV) $(VIRTIO_SRCS),$(VIRTIO_PKGS))
$(call unit_test,virtio_mmio,tests/vm/virtio/test_mmio.c $(VIRTIO_TDRV) $(VIRTIO_SRCS),$(VIRTIO_PKGS))
$(call unit_test,virtio_console,tests/vm/virtio/test_console.c $(VIRTIO_TDRV) $(VIRTIO_SRCS),$(VIRTIO_PKGS))

# console_echo: the host side of the self-test's console round trip.
$(BUILD)/tests/console_echo: tests/vm/virtio/console_echo.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $<
all: $(BUILD)/tests/console_echo
# net_echo: the host side of the self-test's NIC round trip (on its tap).
$(BUILD)/tests/net_echo: tests/vm/virtio/net_echo.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $<
all: $(BUILD)/tests/net_echo

# `make fuzz` builds the virtqueue + blk request-parser target (libFuzzer):
#   nice -n 19 $(BUILD)/fuzz/fuzz_blk_req -max_total_time=600
FUZZ_CC ?= clang
$(BUILD)/fuzz/fuzz_blk_req: tests/vm/virtio/fuzz_blk_req.c vm/virtio/blk_req.c vm/virtio/virtq.c
	@mkdir -p $(@D)
	$(FUZZ_CC) -g -O1 -I. -Icommon -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -o $@ $^
fuzz: $(BUILD)/fuzz/fuzz_blk_req

# bench/blk.sh (make bench): the device model against raw io_uring.
$(call program,bench_blk,bench/blk.c $(VIRTIO_TDRV) $(VIRTIO_SRCS),$(VIRTIO_PKGS))
BENCHES += bench/blk.sh

# The guest's virtio checks run on the host against the device models
# (tests/vm/virtio/st_host.c stands in for the payload framework).
VIRTIO_GUEST_SRCS := vm/selftest/virtio_drv.c vm/selftest/virtio_checks.c vm/selftest/virtio_blk_checks.c \
	vm/selftest/virtio_net_checks.c
$(BUILD)/tests/virtio_guest_sim: tests/vm/virtio/st_host.c $(VIRTIO_GUEST_SRCS) $(VIRTIO_SRCS)
	@mkdir -p $(@D)
	$(CC) $(filter-out -MMD -MP,$(BASE_CFLAGS)) -O1 $(SAN_FLAGS) -DSTV_HOST_SIM $(CFLAGS) $(LDFLAGS) \
		-o $@ $^ $(call pc_libs,$(VIRTIO_PKGS)) -lpthread
all: $(BUILD)/tests/virtio_guest_sim
CHECK_SCRIPTS += tests/vm/virtio/guest_sim.sh
# ... and the virtio-mmio register model under a hostile guest:
#   nice -n 19 $(BUILD)/fuzz/fuzz_mmio -max_total_time=600
$(BUILD)/fuzz/fuzz_mmio: tests/vm/virtio/fuzz_mmio.c vm/virtio/mmio.c vm/virtio/virtq.c
	@mkdir -p $(@D)
	$(FUZZ_CC) -g -O1 -I. -Icommon -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -o $@ $^ -lpthread
fuzz: $(BUILD)/fuzz/fuzz_mmio

# virtio-net: the ring logic alone, then the device through the fake driver
# (a datagram socketpair as backend, and a real tap in a private netns).
$(call unit_test,virtio_net_ring,tests/vm/virtio/test_net_ring.c vm/virtio/net_ring.c vm/virtio/virtq.c)
$(call unit_test,virtio_net,tests/vm/virtio/test_net.c $(VIRTIO_TDRV) $(VIRTIO_SRCS),$(VIRTIO_PKGS))

# bench/virtio_net.sh (make bench): the net device model on a tap against
# raw tap I/O, and callgrind's instructions per packet.
$(call program,bench_virtio_net,bench/virtio_net.c $(VIRTIO_TDRV) $(VIRTIO_SRCS),$(VIRTIO_PKGS))
BENCHES += bench/virtio_net.sh
# ... and the virtio-net rings (TX checks, RX delivery and merging):
#   nice -n 19 $(BUILD)/fuzz/fuzz_net -max_total_time=600 tests/vm/virtio/fuzz_net_corpus
$(BUILD)/fuzz/fuzz_net: tests/vm/virtio/fuzz_net.c vm/virtio/net_ring.c vm/virtio/virtq.c
	@mkdir -p $(@D)
	$(FUZZ_CC) -g -O1 -I. -Icommon -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -o $@ $^
fuzz: $(BUILD)/fuzz/fuzz_net
