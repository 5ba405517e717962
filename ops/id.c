/* Container ids: the one place they are checked (fs/ and the ocivm CLI ask
 * this too; the CLI links this file alone). */
#include "ops/ops.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

/* Every name derived from an id must fit NAME_MAX (ops/ops.h says which). */
_Static_assert(OPS_ID_MAX + OPS_ID_SUFFIX_MAX <= NAME_MAX, "OPS_ID_MAX too long for NAME_MAX");

/* runc's character set ([A-Za-z0-9_+.-]+), bounded by OPS_ID_MAX, no
 * leading '.' (keeps names like ".images" in the state dir free for the
 * runtime, and refuses "." and "..") and no ".." anywhere. */
int ops_id_valid(const char *id, struct oerr *err)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				 "0123456789_+.-";
	if (!id || !*id)
		return oerr_set(err, EINVAL, "id: must not be empty");
	size_t n = strnlen(id, OPS_ID_MAX + 1);
	if (n > OPS_ID_MAX)
		return oerr_set(err, EINVAL, "id: longer than %d bytes", OPS_ID_MAX);
	if (strspn(id, ok) != n)
		return oerr_set(err, EINVAL, "id \"%.64s\": only letters, digits and _ + . - are allowed", id);
	if (id[0] == '.' || strstr(id, ".."))
		return oerr_set(err, EINVAL, "id \"%.64s\": must not start with '.' or contain \"..\"", id);
	return 0;
}
