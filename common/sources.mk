# common/: helpers every host program links (cleanup macros, errors, logging,
# file I/O).  The guest programs (ocivm-init, the self-test payload) do not
# link these, except what their own fragments name.
COMMON_SRCS := common/err.c common/log.c common/fileio.c common/chan.c common/usock.c
COMMON_SRCS += common/gspec.c common/proc.c
