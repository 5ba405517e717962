$(call unit_test,test_common,tests/common/test_fileio.c common/err.c common/fileio.c common/log.c)
$(call unit_test,test_common_log,tests/common/test_log.c common/err.c common/log.c)
$(call unit_test,test_common_proc,tests/common/test_proc.c common/proc.c)
$(call unit_test,test_common_usock,tests/common/test_usock.c common/usock.c)
