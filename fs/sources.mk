# fs/: the ocivmfs daemon (FUSE glue only; calls ops/, never vm/).
FS_CTL_SRCS := fs/ctl.c
FS_SRCS := $(FS_CTL_SRCS)
