/* Mode bits for others and the --group (fs/perm.c). */
#ifndef OCIVM_FS_PERM_H
#define OCIVM_FS_PERM_H

#include <stdbool.h>
#include <sys/stat.h>

/* mode (S_IFxxx | bits as for the owner) as served: unchanged unless
 * private; private: nothing for others, and for the group (the --group
 * when has_group) the owner's read bits plus write where the owner writes. */
mode_t fsd_perm(mode_t mode, bool private, bool has_group);

#endif
