# tools/ocivm: the runc-compatible CLI over the mounted tree.
OCIVM_PURE_SRCS := tools/ocivm/args.c ops/id.c common/signame.c tools/ocivm/errmap.c \
                   tools/ocivm/olog.c
OCIVM_SRCS := $(OCIVM_PURE_SRCS) tools/ocivm/tree.c tools/ocivm/daemon.c \
              tools/ocivm/shim.c tools/ocivm/console.c tools/ocivm/cmd_life.c \
              tools/ocivm/cmd_create.c tools/ocivm/cmd_info.c tools/ocivm/cmd_spec.c \
              tools/ocivm/cmd_exec.c tools/ocivm/process.c tools/ocivm/winsz.c \
              tools/ocivm/main.c
