# ops/ fragment: unit tests of ops/ and of common/gspec.c (owned by ops).
$(call unit_test,test_gspec,tests/common/test_gspec.c common/gspec.c,,)
$(call unit_test,test_ops_config,tests/ops/test_config.c $(OPS_CONFIG_SRCS) common/err.c common/fileio.c,libcjson,)
