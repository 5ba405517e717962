/* libFuzzer target for what ocivm-init reads from the host: the first byte
 * picks the channel reader (frames fed in odd-sized chunks) or the SPEC
 * parser (gspec -> apply-plan, mount options).  Neither may crash, hang or
 * read out of bounds on any input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chan.h"
#include "vm/guest/plan.h"

static void fuzz_chan(const uint8_t *data, size_t size)
{
	static struct chan_reader r;
	size_t off = 0, chunk = 1;

	chan_reader_init(&r);
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;
		size_t k = chan_reader_feed(&r, data + off, n);
		const uint8_t *p;
		uint32_t len;
		uint8_t type;
		int rc;
		off += k;
		while ((rc = chan_reader_next(&r, &type, &p, &len)) == 1)
			if (len > CHAN_MAX_PAYLOAD)
				abort();
		if (rc < 0)
			return;    /* -EPROTO: the connection would be dropped */
		if (k == 0)
			abort();   /* no progress and no frame: would spin */
		chunk = chunk * 3 % 1021 + 1;
	}
}

static void fuzz_spec(const uint8_t *data, size_t size)
{
	static struct gplan plan;
	char *text = malloc(size + 1), eb[256];

	if (!text)
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	if (gplan_parse(text, size, &plan, eb, sizeof(eb)) == 0) {
		struct gmntopts o;
		for (int i = 0; i < plan.n_mounts; i++)
			if (gtab_mntopts(plan.mounts[i].opts, &o) < 0)
				abort();   /* the parser already accepted these options */
		if (plan.n_args < 1 || plan.args[plan.n_args] || plan.env[plan.n_env])
			abort();
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		fuzz_chan(data + 1, size - 1);
	else
		fuzz_spec(data + 1, size - 1);
	return 0;
}
