# ops/: OCI semantics (config parsing, state machine, hooks, persistence, the
# runtime behind ops/ops.h).  OPS_SRCS is what the daemon links from ops/.
OPS_SRCS :=
