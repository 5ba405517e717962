# vm/guest/: ocivm-init, PID 1 in the guest (static; links nothing from
# common/ but the channel framing, the gspec parser, fileio and proc_spawn).
GUEST_LIB_SRCS := vm/guest/plan.c vm/guest/plan_net.c vm/guest/net.c vm/guest/tables.c vm/guest/spawn.c vm/guest/relay.c vm/guest/relay_proc.c vm/guest/relay_ring.c vm/guest/clock.c vm/guest/chanopen.c vm/guest/disk.c \
                  vm/guest/setup.c vm/guest/fresh.c vm/guest/config.c vm/guest/cgroup.c vm/guest/userns.c vm/guest/ns.c common/chan.c common/gspec.c \
                  common/fileio.c common/proc.c
GUEST_INIT_SRCS := vm/guest/init.c $(GUEST_LIB_SRCS)
