/* Signal names, one parser for the tree's ctl files and the CLI: "9",
 * "KILL", "SIGKILL", "kill", "RTMIN", "RTMIN+3", "RTMAX-2" (as runc's kill
 * takes them).  Names come from glibc (sigabbrev_np), plus the aliases IOT,
 * POLL and CLD. */
#ifndef OCIVM_SIGNAME_H
#define OCIVM_SIGNAME_H

/* The signal number (1..SIGRTMAX), or -EINVAL. */
int sig_parse(const char *s);
/* "KILL" for 9; NULL for a number without a name (0, real-time, >64). */
const char *sig_name(int signo);

#endif
