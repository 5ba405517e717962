# tools/ocivm: `ocivm` and its tests.
$(call program,ocivm,$(OCIVM_SRCS) common/err.c common/fileio.c common/proc.c,libcjson,)
$(call unit_test,ocivm_cli,tests/tools/ocivm/test_cli.c $(OCIVM_PURE_SRCS) \
	tools/ocivm/tree.c tools/ocivm/daemon.c tools/ocivm/console.c common/err.c \
	common/fileio.c common/proc.c,,)
# exec: process.json from flags, window sizes, the exec shim against a plain
# directory that looks like the tree.
$(call unit_test,ocivm_exec,tests/tools/ocivm/test_exec.c tools/ocivm/process.c \
	tools/ocivm/winsz.c tools/ocivm/shim.c tools/ocivm/tree.c tools/ocivm/daemon.c \
	tools/ocivm/console.c tools/ocivm/olog.c \
	tools/ocivm/errmap.c tools/ocivm/args.c ops/id.c common/signame.c common/err.c \
	common/fileio.c common/proc.c,libcjson,)
CHECK_SCRIPTS += tests/tools/ocivm/cli.sh tests/tools/ocivm/podman.sh \
	tests/tools/ocivm/containerd.sh
LINUX_E2E_SCRIPTS += tests/tools/ocivm/podman.sh tests/tools/ocivm/containerd.sh
# ocivm exec: against the test double, then one busybox VM
CHECK_SCRIPTS += tests/tools/ocivm/exec.sh
LINUX_E2E_SCRIPTS += tests/tools/ocivm/exec.sh
# runtime-spec points a VM must not excuse (issue 18): memory limits, user ns
CHECK_SCRIPTS += tests/tools/ocivm/conformance.sh
LINUX_E2E_SCRIPTS += tests/tools/ocivm/conformance.sh
INSTALL_BIN += $(BUILD)/bin/ocivm
$(BUILD)/obj/tools/ocivm/cmd_spec.o: CFLAGS += -DOCIVM_SHARE=\"$(PREFIX)/share/ocivmfs\"
# A test double of the tree (host processes instead of VMs) for cli.sh.
$(call program,ocivm-faketree,tests/tools/ocivm/faketree.c,fuse3 libcjson,)
# make bench: podman run with ocivm vs crun side by side; CLI cost vs cat.
BENCHES += bench/podman.sh
# make bench: exec of /bin/true through the tree (and the CLI) vs crun exec.
$(BUILD)/bench/exec_time: bench/exec_time.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -o $@ $<
all: $(BUILD)/bench/exec_time
BENCHES += bench/exec.sh
# make bench: TCP throughput and HTTP request latency host<->container, ocivm vs crun.
BENCHES += bench/net.sh
