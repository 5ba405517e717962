# ops/: OCI semantics (config parsing, state machine, hooks, persistence, the
# runtime behind ops/ops.h).  OPS_SRCS is what the daemon links from ops/
# (together with $(COMMON_SRCS) and $(VM_DRIVER_SRCS)); packages: libcjson.
OPS_CONFIG_SRCS := ops/cj.c ops/config.c ops/config_linux.c ops/config_vm.c \
                   ops/config_userns.c
OPS_CORE_SRCS := $(OPS_CONFIG_SRCS) ops/id.c ops/lifecycle.c ops/hooks.c ops/store.c ops/staging.c ops/spec.c
OPS_RUNTIME_SRCS := ops/runtime.c ops/runtime_open.c ops/runtime_create.c \
                    ops/runtime_ops.c ops/runtime_info.c ops/hostref.c ops/bindcopy.c \
                    ops/vmuid.c ops/exec.c ops/exec_ops.c ops/templates.c
OPS_SRCS := $(OPS_CORE_SRCS) $(OPS_RUNTIME_SRCS)
OPS_LDLIBS :=
