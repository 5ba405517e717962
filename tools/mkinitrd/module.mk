# tools/mkinitrd/: ocivm-mkinitrd (owned by the guest-side engineer).
MKINITRD_SRCS := tools/mkinitrd/cpio.c tools/mkinitrd/modres.c tools/mkinitrd/build.c \
                 common/err.c common/fileio.c common/proc.c
$(call program,ocivm-mkinitrd,tools/mkinitrd/main.c $(MKINITRD_SRCS),libkmod)
$(call unit_test,test_mkinitrd,tests/tools/mkinitrd/test_mkinitrd.c $(MKINITRD_SRCS),libkmod)
INSTALL_BIN += $(BUILD)/bin/ocivm-mkinitrd
