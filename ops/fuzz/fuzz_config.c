/* libFuzzer target: the config.json parser must never crash, leak or read
 * out of bounds, whatever the bytes; every rejection carries a reason. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ops/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ops_config *cfg = NULL;
	struct oerr err = { 0 };
	unsigned vcpus;
	uint64_t mib;

	int r = ops_config_parse((const char *)data, size, &cfg, &err);
	if (r == 0) {
		ops_config_vm_shape(cfg, 1, 256, &vcpus, &mib);
		if (vcpus == 0 || mib == 0)
			abort();
		ops_config_free(cfg);
	} else if (err.code == 0 || err.msg[0] == '\0') {
		abort(); /* a rejection without a reason */
	}
	return 0;
}
