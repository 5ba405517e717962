# vm/virtio/ fragment: unit tests, console_echo, the blk benchmark and the
# blk request-parser fuzz target.
VIRTIO_TDRV := tests/vm/virtio/drv.c

$(call unit_test,virtio_virtq,tests/vm/virtio/test_virtq.c vm/virtio/virtq.c)
$(call unit_test,virtio_blk,tests/vm/virtio/test_blk.c $(VIRTIO_TDRV) $(VIRTIO_SRCS),$(VIRTIO_PKGS))
$(call unit_test,virtio_mmio,tests/vm/virtio/test_mmio.c $(VIRTIO_TDRV) $(VIRTIO_SRCS),$(VIRTIO_PKGS))
$(call unit_test,virtio_console,tests/vm/virtio/test_console.c $(VIRTIO_TDRV) $(VIRTIO_SRCS),$(VIRTIO_PKGS))
