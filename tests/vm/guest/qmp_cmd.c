/* guest-qmp: one QMP command to a running QEMU, for tests/vm/guest/e2e.sh
 * (its late-port case hot-plugs the channel's virtserialport with
 * device_add).  vm/driver/qmp.c does the talking, within 60 s.
 *   guest-qmp -s QMP_SOCK JSON
 * Prints the reply; exit 0 on "return", 1 otherwise (with the reason). */
#include "vm/driver/driver.h"
#include "vm/driver/vm_priv.h"

#include <stdio.h>
#include <unistd.h>

#define QC_TIMEOUT_MS 60000

int main(int argc, char **argv)
{
	struct oerr err = { 0 };
	struct vm_qmp q;
	char reply[4096] = "";
	const char *sock = NULL;
	int c;

	while ((c = getopt(argc, argv, "s:")) != -1) {
		if (c == 's')
			sock = optarg;
		else
			return 2;
	}
	if (!sock || optind != argc - 1)
		return fprintf(stderr, "usage: guest-qmp -s QMP_SOCK JSON\n"), 2;
	if (vm_qmp_open(&q, sock, -1, vm_now_ms() + QC_TIMEOUT_MS, &err) < 0 ||
	    vm_qmp_exec(&q, argv[optind], -1, reply, sizeof(reply), &err) < 0)
		return fprintf(stderr, "guest-qmp: %s\n", err.msg), 1;
	vm_qmp_close(&q);
	printf("%s\n", reply);
	return 0;
}
