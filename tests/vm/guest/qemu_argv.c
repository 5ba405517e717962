/* guest-qemu-argv: print the QEMU command line the product builds
 * (vm_driver_qemu.build_argv, the same code vm_create runs), one argument
 * per line, so tests/vm/guest/e2e.sh boots the guest exactly as the daemon
 * does — the channel device included (the named virtserialport
 * org.ocivm.chan) — instead of a hand-copied command line.
 *   guest-qemu-argv -r RUN_DIR -k KERNEL -i INITRD [-t TSC_KHZ]
 *                   [-d PATH:SERIAL]... [-b QEMU_BINARY]
 * Without -t the TSC rate is measured as the daemon does (vm_probe_tsc_khz).
 * Disks are attached read-only, as vm_create attaches rootfs images.  The
 * channel socket is RUN_DIR/chan.sock, the console RUN_DIR/console. */
#include "vm/driver/driver.h"
#include "vm/driver/probe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define QA_MAX_DISKS 8

/* What vm_create checks too: can the disk be opened with O_DIRECT? */
static bool qa_refuses_direct_io(const struct vm_disk *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int fd = open(d[i].path, O_RDONLY | O_DIRECT | O_CLOEXEC);
		if (fd < 0)
			return true;
		close(fd);
	}
	return false;
}

int main(int argc, char **argv)
{
	static struct vm_disk disks[QA_MAX_DISKS];
	struct vm_config cfg = { .id = "e2e", .memory_mib = 256, .vcpus = 1 };
	const char *binary = "qemu-system-x86_64";
	unsigned tsc_khz = 0;
	struct oerr err = { 0 };
	struct vm_paths paths;
	struct strv a;
	int c;

	while ((c = getopt(argc, argv, "r:k:i:t:d:b:")) != -1) {
		char *colon;
		if (c == 'r') cfg.run_dir = optarg;
		else if (c == 'k') cfg.kernel = optarg;
		else if (c == 'i') cfg.initrd = optarg;
		else if (c == 't') tsc_khz = (unsigned)strtoul(optarg, NULL, 10);
		else if (c == 'b') binary = optarg;
		else if (c == 'd' && cfg.n_disks < QA_MAX_DISKS && (colon = strrchr(optarg, ':'))) {
			*colon = '\0';
			disks[cfg.n_disks++] = (struct vm_disk){ .path = optarg, .serial = colon + 1,
								 .readonly = true };
		} else {
			fprintf(stderr, "usage: guest-qemu-argv -r RUN_DIR -k KERNEL -i INITRD "
				"[-t TSC_KHZ] [-d PATH:SERIAL]... [-b QEMU]\n");
			return 2;
		}
	}
	if (!cfg.run_dir || !cfg.kernel || !cfg.initrd)
		return fprintf(stderr, "guest-qemu-argv: -r, -k and -i are required\n"), 2;
	cfg.disks = disks;
	if (!tsc_khz)
		tsc_khz = vm_probe_tsc_khz();
	if (vm_paths_init(&paths, cfg.run_dir, &err) < 0)
		return fprintf(stderr, "guest-qemu-argv: %s\n", err.msg), 1;
	struct vm_launch l = { .cfg = &cfg, .paths = &paths, .binary = binary,
			       .accel = VM_ACCEL_TCG, .tsc_khz = tsc_khz,
			       .no_direct_io = qa_refuses_direct_io(disks, cfg.n_disks) };
	strv_init(&a);
	if (vm_driver_qemu.build_argv(&l, &a, &err) < 0)
		return fprintf(stderr, "guest-qemu-argv: %s\n", err.msg), 1;
	for (size_t i = 0; i < a.n; i++) {
		if (strchr(a.v[i], '\n'))
			return fprintf(stderr, "guest-qemu-argv: a newline in an argument\n"), 1;
		printf("%s\n", a.v[i]);
	}
	strv_free(&a);
	return fflush(stdout) == 0 ? 0 : 1;
}
