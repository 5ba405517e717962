/* The capability names both sides know: ops refuses a config naming any
 * other at create (before a VM boots), and ocivm-init maps them to numbers.
 * One table, so the two cannot disagree.  Index = capability number
 * (linux/capability.h), up to CAP_CHECKPOINT_RESTORE (Linux 5.9). */
#ifndef OCIVM_COMMON_CAPTAB_H
#define OCIVM_COMMON_CAPTAB_H

#include <stddef.h>
#include <strings.h>

static const char *const captab_names[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
};

/* "CAP_SYS_ADMIN" -> 21 (case-insensitive); -1 when unknown. */
static inline int captab_index(const char *name)
{
	for (size_t i = 0; i < sizeof(captab_names) / sizeof(captab_names[0]); i++)
		if (strcasecmp(captab_names[i], name) == 0)
			return (int)i;
	return -1;
}

#endif
