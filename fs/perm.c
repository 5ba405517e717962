/* fs/perm: what the mode bits of a node say to users other than the one
 * who mounted the tree (fs/README.md, "Permissions").  With --allow-other
 * every local user reaches the mount, so per-container data (stdout,
 * stderr, console, config.json with its env, state, vm/), the log and
 * incoming/ lose their bits for others; with --group GID that group keeps
 * read access, and write access to the files the owner may write (ctl,
 * stdin). */
#include "fs/perm.h"

mode_t fsd_perm(mode_t mode, bool private, bool has_group)
{
	if (!private || S_ISLNK(mode))
		return mode;
	mode &= ~(mode_t)0007;
	if (!has_group)
		return mode & ~(mode_t)0070;
	if (S_ISREG(mode) && (mode & 0200))
		mode |= 0020;
	return mode;
}
