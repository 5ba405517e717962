# fs/: the ocivmfs daemon (FUSE glue only; calls ops/, never vm/).
FS_CTL_SRCS := fs/ctl.c common/signame.c
# everything but main.c (tests link these with a fake ops)
FS_LIB_SRCS := fs/ctl.c common/signame.c fs/ino.c fs/slots.c fs/jobs.c fs/rings.c fs/park.c \
               fs/content.c fs/write.c fs/incoming.c fs/inctab.c fs/readme.c fs/ll.c fs/perm.c fs/templates.c
FS_SRCS := $(FS_LIB_SRCS) fs/main.c
