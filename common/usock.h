/* Unix stream sockets by path, whatever the path's length.
 *
 * sun_path holds 108 bytes; a longer path (a long --state-dir, a long id)
 * is reached through its directory instead: the directory is opened and the
 * socket bound or connected as /proc/self/fd/N/NAME, so only NAME (the last
 * component) must be short.  Both return a SOCK_CLOEXEC fd or -errno. */
#ifndef OCIVM_COMMON_USOCK_H
#define OCIVM_COMMON_USOCK_H

#include <sys/types.h>

/* Remove a stale file at path, bind, chmod to mode (0: leave it), listen. */
int usock_listen(const char *path, int backlog, mode_t mode);
/* flags: extra socket(2) type flags (SOCK_NONBLOCK); a non-blocking connect
 * fails with -EAGAIN when the listener's backlog is full. */
int usock_connect(const char *path, int flags);

#endif
