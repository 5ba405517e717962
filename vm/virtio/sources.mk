# vm/virtio/: virtqueues, the virtio-mmio transport, virtio-console and
# virtio-blk with its I/O engines.  ocivm-vmm links VIRTIO_SRCS (+ liburing).
VIRTIO_SRCS := vm/virtio/virtq.c vm/virtio/mmio.c vm/virtio/console.c \
               vm/virtio/blk_req.c vm/virtio/blk_sync.c vm/virtio/blk_uring.c vm/virtio/blk.c \
               vm/virtio/net_ring.c vm/virtio/net_tap.c vm/virtio/net.c
VIRTIO_PKGS := liburing
