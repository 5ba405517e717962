# The guest self-test payload: a freestanding ELF with a PVH note, linked at
# 16 MiB.  Every vm/selftest/*.c and *.S is part of it (the virtio side adds
# virtio_*.c here).  Installed to PREFIX/share/ocivmfs/guest-selftest.
SELFTEST_ELF := $(BUILD)/share/ocivmfs/guest-selftest
SELFTEST_SRCS := $(sort $(wildcard vm/selftest/*.c)) vm/selftest/entry.S
SELFTEST_OBJS := $(patsubst %,$(BUILD)/guest-obj/%.o,$(SELFTEST_SRCS))
SELFTEST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-ffreestanding -nostdlib -fno-builtin -mgeneral-regs-only -mno-red-zone \
	-fno-pic -fno-pie -fno-stack-protector -fno-asynchronous-unwind-tables \
	-fno-tree-loop-distribute-patterns -mcmodel=small -Ivm/selftest -I.

$(BUILD)/guest-obj/vm/selftest/%.c.o: vm/selftest/%.c $(wildcard vm/selftest/*.h)
	@mkdir -p $(@D)
	$(CC) $(SELFTEST_CFLAGS) -c -o $@ $<

$(BUILD)/guest-obj/vm/selftest/%.S.o: vm/selftest/%.S
	@mkdir -p $(@D)
	$(CC) $(SELFTEST_CFLAGS) -c -o $@ $<

$(SELFTEST_ELF): $(SELFTEST_OBJS) vm/selftest/selftest.ld
	@mkdir -p $(@D)
	$(CC) -nostdlib -static -no-pie -Wl,-T,vm/selftest/selftest.ld -Wl,--build-id=none \
		-Wl,-z,noexecstack -o $@ $(SELFTEST_OBJS)

all: $(SELFTEST_ELF)
INSTALL_SHARE += $(SELFTEST_ELF)

# The same payload as a bzImage (64-bit boot protocol), for tests/vm/selftest.sh.
SELFTEST_BZIMAGE := $(BUILD)/tests/guest-selftest.bzImage
$(SELFTEST_BZIMAGE): $(SELFTEST_ELF) vm/selftest/mkbzimage.sh
	@mkdir -p $(@D)
	vm/selftest/mkbzimage.sh $< $@
all: $(SELFTEST_BZIMAGE)
# ... and with the ELF as an LZ4 payload, as Debian's kernel (needs lz4).
ifneq ($(shell command -v lz4 2>/dev/null),)
$(BUILD)/tests/guest-selftest-lz4.bzImage: $(SELFTEST_ELF) vm/selftest/mkbzimage.sh
	@mkdir -p $(@D)
	vm/selftest/mkbzimage.sh $< $@ lz4
all: $(BUILD)/tests/guest-selftest-lz4.bzImage
endif
