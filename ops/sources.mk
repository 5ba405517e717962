# ops/: OCI semantics (config parsing, state machine, hooks, persistence, the
# runtime behind ops/ops.h).  OPS_SRCS is what the daemon links from ops/.
OPS_CONFIG_SRCS := ops/cj.c ops/config.c ops/config_linux.c ops/config_vm.c
OPS_SRCS := $(OPS_CONFIG_SRCS)
