# ocivmfs — top-level build.  Each module keeps its own fragment (module.mk)
# and registers programs and tests with the templates below, so the parts of
# the tree build independently:  make build/bin/ocivm-vmm, make unit, ...
#
# Targets: all check unit install clean deps guest bench fuzz stress

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
CC      ?= cc

PKGS := fuse3 libcjson libkmod liburing cmocka
WARN := -Wall -Wextra -Werror -Wno-unused-parameter
BASE_CFLAGS := -std=gnu11 -g -O2 $(WARN) -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 \
               -I. -Icommon -MMD -MP
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
             -fno-sanitize-recover=undefined
CFLAGS  ?=
LDFLAGS ?=

pc_cflags = $(if $(1),$(shell pkg-config --cflags $(1) 2>/dev/null))
pc_libs   = $(if $(1),$(shell pkg-config --libs $(1) 2>/dev/null))

PROGRAMS :=
UNIT_TESTS :=
CHECK_SCRIPTS :=
LINUX_E2E_SCRIPTS :=
BENCHES :=
INSTALL_BIN :=
INSTALL_SHARE :=

# $(call program,NAME,SOURCES,PKGS,EXTRA_LDLIBS)
#   builds $(BUILD)/bin/NAME from SOURCES, linked with pkg-config PKGS.
define program_tpl
PROGRAMS += $(BUILD)/bin/$(1)
$(BUILD)/bin/$(1): $(patsubst %.c,$(BUILD)/obj/%.o,$(2))
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $(call pc_libs,$(3)) $(4) -lpthread
$(patsubst %.c,$(BUILD)/obj/%.o,$(2)): CFLAGS_PKG := $(call pc_cflags,$(3))
endef
program = $(eval $(call program_tpl,$(1),$(2),$(3),$(4)))

# $(call unit_test,NAME,SOURCES,PKGS,EXTRA_LDLIBS)
#   a cmocka test built with ASan+UBSan into $(BUILD)/tests/NAME; `make unit`
#   and `make check` run every one of them.
define unit_test_tpl
UNIT_TESTS += $(BUILD)/tests/$(1)
$(BUILD)/tests/$(1): $(patsubst %.c,$(BUILD)/san/%.o,$(2))
	@mkdir -p $$(@D)
	$$(CC) $$(SAN_FLAGS) $$(LDFLAGS) -o $$@ $$^ $(call pc_libs,cmocka $(3)) $(4) -lpthread
$(patsubst %.c,$(BUILD)/san/%.o,$(2)): CFLAGS_PKG := $(call pc_cflags,cmocka $(3))
endef
unit_test = $(eval $(call unit_test_tpl,$(1),$(2),$(3),$(4)))

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CFLAGS_PKG) $(CFLAGS) -c -o $@ $<

$(BUILD)/san/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -O1 $(SAN_FLAGS) -DUNIT_TEST $(CFLAGS_PKG) $(CFLAGS) -c -o $@ $<

.PHONY: all check unit install clean deps guest bench fuzz
all:
guest:
fuzz:

# Module fragments, each owned by the people working in that folder:
#   sources.mk  defines its source lists (FOO_SRCS := ...), read first, so any
#               module may use any other's lists;
#   module.mk   registers programs, tests, check scripts, benches.
include $(sort $(wildcard */sources.mk */*/sources.mk))
include $(sort $(wildcard */module.mk */*/module.mk))

all: $(PROGRAMS)

unit: $(UNIT_TESTS)
	@fail=0; for t in $(UNIT_TESTS); do echo "== $$t"; $$t || fail=1; done; exit $$fail

# check = unit tests (ASan+UBSan) + the layered system tests (self-test
# payload on /dev/kvm, FUSE tree, guest boot under QEMU).  Each script says
# why when it cannot run here, and prints a cmocka-style summary.
# LINUX_E2E_SCRIPTS (registered by the modules) boot Debian's kernel; under
# `make test`, which fetched it, one of them skipping every case is a failure.
check: all unit
	@BUILD=$(BUILD) OCIVM_LINUX_E2E="$(strip $(LINUX_E2E_SCRIPTS))" tests/run-checks.sh $(CHECK_SCRIPTS)

bench: all
	@for b in $(BENCHES); do echo "== $$b"; BUILD=$(BUILD) $$b || exit 1; done

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/ocivmfs
	$(if $(INSTALL_BIN),install -m 755 $(INSTALL_BIN) $(DESTDIR)$(PREFIX)/bin/)
	$(if $(INSTALL_SHARE),cp -rL $(INSTALL_SHARE) $(DESTDIR)$(PREFIX)/share/ocivmfs/)
	@# the guest kernel and initrd, when `make guest` has made them
	@for f in vmlinuz initrd.img; do \
	  if [ -e $(BUILD)/guest/$$f ]; then cp -L $(BUILD)/guest/$$f $(DESTDIR)$(PREFIX)/share/ocivmfs/$$f; \
	  else echo "install: $(BUILD)/guest/$$f missing (run make guest)"; fi; done
	@# hypervisors run as this unprivileged user (ocivmfs --vm-user; else nobody)
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && ! getent passwd ocivm >/dev/null; then \
	  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin ocivm && \
	  echo "install: created the system user ocivm (VM processes run as it)"; fi

clean:
	rm -rf $(BUILD)

DEB_PKGS := build-essential pkg-config libfuse3-dev fuse3 libcjson-dev \
            libkmod-dev liburing-dev libcmocka-dev liblz4-dev nettle-dev libmnl-dev kmod cpio \
            e2fsprogs erofs-utils busybox-static qemu-system-x86 libseccomp-dev \
            clang libclang-rt-14-dev valgrind fio crun jq python3 podman lz4 containerd \
            containernetworking-plugins iproute2 curl runc
deps:
	@missing=$$(for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq </dev/null && apt-get install -y -qq --no-install-recommends $$missing </dev/null; \
	else echo "deps: all installed"; fi

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# The README's two commands.
.PHONY: test demo
test: deps
	$(MAKE) guest
	OCIVM_REQUIRE_GUEST=1 $(MAKE) check

demo: deps
	$(MAKE) guest all
	./tools/demo.sh $(BUILD)
