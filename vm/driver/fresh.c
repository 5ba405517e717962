/* The SPEC as sent: ops' gspec with the records only the moment of sending
 * knows (common/gspec.h): a fresh random seed, the wall clock, and whether
 * the VM was restored from a template.  Two VMs never get the same seed,
 * whether booted cold or from one template. */
#include "fresh.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "gspec.h"

int vm_gspec_fresh(const char *gspec, size_t len, bool restored, char **ret, size_t *ret_len)
{
	unsigned char seed[VM_FRESH_SEED_BYTES];
	struct timespec now;
	size_t body = len;
	char *hex, *out;
	int n;

	/* the last record is "end\n": ours go before it */
	if (len >= 4 && memcmp(gspec + len - 4, "end\n", 4) == 0 &&
	    (len == 4 || gspec[len - 5] == '\n'))
		body = len - 4;
	else
		return -EINVAL;
	if (getrandom(seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		return errno ? -errno : -EIO;
	hex = gspec_hex(seed, sizeof(seed));
	explicit_bzero(seed, sizeof(seed));
	if (!hex)
		return -ENOMEM;
	clock_gettime(CLOCK_REALTIME, &now);
	out = malloc(body + strlen(hex) + 96);
	if (!out) {
		free(hex);
		return -ENOMEM;
	}
	memcpy(out, gspec, body);
	n = sprintf(out + body, "seed %s\nclock %lld %ld\nrestored %d\nend\n", hex,
		    (long long)now.tv_sec, (long)now.tv_nsec, restored ? 1 : 0);
	explicit_bzero(hex, strlen(hex));
	free(hex);
	*ret = out;
	*ret_len = body + (size_t)n;
	return 0;
}
