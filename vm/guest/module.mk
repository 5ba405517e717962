# vm/guest/: ocivm-init (static, PID 1 in the guest), the channel tests,
# and the recipe of `make guest` (kernel fetch + default initrd).
$(call unit_test,test_chan,tests/common/test_chan.c common/chan.c)
