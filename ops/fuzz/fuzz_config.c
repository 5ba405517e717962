/* libFuzzer target: the config.json parser must never crash, leak or read
 * out of bounds, whatever the bytes; every rejection carries a reason.  A
 * config it accepts must give a guest spec that the guest's parser reads
 * back whole, with one "arg" record per process.args entry. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gspec.h"
#include "ops/config.h"
#include "ops/runtime_int.h"

static void check_spec(const struct ops_config *cfg)
{
	char *g = NULL, note[256];
	size_t len;
	struct oerr err = { 0 };

	if (ops_build_gspec(cfg, "fuzz", false, cfg->vm.has_image, NULL, &g, &len, note,
			    sizeof(note), &err) < 0) {
		if (!err.code)
			abort();
		return;
	}
	struct gspec_parser ps;
	struct gspec_record r;
	size_t args = 0;
	int rc;
	gspec_parser_init(&ps, g, len);
	while ((rc = gspec_next(&ps, &r)) == 1)
		if (strcmp(r.key, "arg") == 0) {
			if (r.nfields != 1 || strcmp(r.fields[0], cfg->process.args.v[args]) != 0)
				abort();
			args++;
		}
	if (rc != 0 || args != cfg->process.args.n)
		abort();
	free(g);
}

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
		check_spec(cfg);
		ops_config_free(cfg);
	} else if (err.code == 0 || err.msg[0] == '\0') {
		abort(); /* a rejection without a reason */
	}
	return 0;
}
