/* gspec: the container spec as the guest needs it, sent in the SPEC frame.
 *
 * ops/ parses config.json (cJSON lives only there) and writes a gspec; the
 * dependency-free ocivm-init parses it.  Text, one record per line:
 *     KEY SP FIELD [SP FIELD]... LF
 * Fields are percent-encoded: bytes < 0x21, 0x7f and above, and '%' become
 * %XX, so fields never contain spaces or newlines.  An empty field is
 * written "%00" (the only place %00 may appear).  Unknown keys are an
 * error for the guest (reported back in an ERROR frame).  Keys, in the order
 * ops writes them (repeatable ones marked *):
 *
 *   version 1
 *   id ID
 *   rootfs SERIAL RO(0|1)         virtio-blk serial of the rootfs image; RO=root.readonly
 *   rootfs_fstype ext4|erofs
 *   image SERIAL FSTYPE           optional: vm.image disk, mounted first as the VM root
 *   hostname NAME
 *   domainname NAME
 *   namespace* TYPE               linux.namespaces[].type (pid|network|mount|ipc|
 *                                 uts|user|cgroup|time), once each: the guest
 *                                 gives the container's process a new pid, ipc
 *                                 and uts namespace when listed (absent: the
 *                                 process shares init's, as before)
 *   arg* STRING                   process.args, in order
 *   env* NAME=VALUE
 *   cwd PATH
 *   user UID GID UMASK(octal or -)
 *   gid* GID                      additionalGids
 *   terminal 0|1
 *   winsize ROWS COLS             process.consoleSize (1..65535 each), only with
 *                                 terminal 1: the pty's size before the process
 *                                 starts (absent: 0x0 until a resize)
 *   nnp 0|1                       noNewPrivileges
 *   oom SCORE                     oomScoreAdj (absent: untouched)
 *   rlimit* NAME SOFT HARD        e.g. RLIMIT_NOFILE 1024 1024
 *   cap* SET NAME                 SET in bounding|effective|inheritable|permitted|ambient
 *   memory BYTES                  linux.resources.memory.limit > 0: the container's
 *                                 cgroup memory.max in the guest (absent: no limit)
 *   pids N                        linux.resources.pids.limit > 0: the container's
 *                                 cgroup pids.max in the guest (absent: no limit)
 *   uidmap* CONTAINER HOST SIZE   linux.uidMappings (a user namespace: there is one
 *   gidmap* CONTAINER HOST SIZE   uidmap and one gidmap at least; absent: none)
 *   mount* DEST TYPE SOURCE OPTS  OPTS comma-joined ("-" for none)
 *   copy* N REL KIND MODE UID GID DATA
 *                                 an entry of the Nth copied bind mount
 *                                 (ops/bindcopy.c): REL "." for its root,
 *                                 else a relative path (preorder); KIND
 *                                 f|d|l; MODE octal; DATA hex (file bytes or
 *                                 link target), "-" when empty
 *   copymount* DEST N OPTS        bind the Nth copy on DEST (in mount order)
 *   device* PATH TYPE MAJOR MINOR MODE UID GID
 *                                 linux.devices: TYPE c|b|u|p, MODE octal
 *                                 permission bits (0666 when not given),
 *                                 UID/GID decimal (0 when not given)
 *   sysctl* KEY VALUE
 *   masked* PATH
 *   readonly* PATH
 *   nic* MAC MTU NAME             the caller's network (linux.namespaces path,
 *                                 vm_net_read): a NIC the guest finds by MAC
 *                                 (aa:bb:cc:dd:ee:ff), MTU 68..65535, renamed NAME
 *   netaddr* MAC ADDR/PREFIX      an address of that NIC (IPv4 or IPv6)
 *   netroute* MAC DST/PREFIX GW   a main-table route through it; GW "-": on-link;
 *                                 the default route is 0.0.0.0/0 or ::/0
 *   seed HEX                      added by the vm driver when it sends the SPEC
 *                                 (vm/driver/fresh.c), not by ops: 32 fresh
 *                                 random bytes the guest mixes into its pool
 *                                 and reseeds from before anything else runs
 *   clock SEC NSEC                likewise: the host's wall clock (the guest
 *                                 sets CLOCK_REALTIME; a restored template's
 *                                 clock is the template's otherwise)
 *   restored 0|1                  likewise: 1 when the VM was restored from a
 *                                 template (the guest rescans its disks, and
 *                                 finds the Nth nic by GSPEC_TPL_NIC_MAC N
 *                                 when not by its own MAC, and gives it that)
 *   end                           last line; a gspec without it is truncated
 */
#ifndef OCIVM_GSPEC_H
#define OCIVM_GSPEC_H

#include <stddef.h>

#define GSPEC_MAX_LEN 60000 /* fits one SPEC frame */
#define GSPEC_MAX_FIELDS 8
/* The MAC of the Nth NIC (0-based, as the nic records) of a template VM
 * (vm/driver/template_vm.c), a placeholder: a restored guest sets the nic
 * record's MAC on it before the NIC comes up (vm/guest/net.c), so no two
 * containers of one template share a MAC.  Locally administered, "ocvt". */
#define GSPEC_TPL_NIC_MAC(n) { 0x02, 0x6f, 0x63, 0x76, 0x74, (unsigned char)(n) }

/* Writer (host side): appends records to a growing buffer. */
struct gspec_writer {
	char *buf;
	size_t len, cap;
	int error;         /* first -errno hit; writes after it are ignored */
};
void gspec_writer_init(struct gspec_writer *w);
/* Append one record: key and nfields raw (unencoded) fields. */
void gspec_put(struct gspec_writer *w, const char *key, int nfields, const char *const *fields);
void gspec_putf(struct gspec_writer *w, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4))); /* one field, printf-formatted */
/* Finish (appends "end"); returns 0 and hands over the buffer, or -errno
 * (-E2BIG past GSPEC_MAX_LEN). */
int gspec_finish(struct gspec_writer *w, char **ret_text, size_t *ret_len);

/* Binary data in one field (a copy record's DATA): lowercase hex, "-" when
 * empty.  gspec_hex returns a malloc'd field or NULL (ENOMEM);
 * gspec_unhex decodes a field in place (NUL-terminated after the bytes):
 * 0 and the length, or -EINVAL. */
char *gspec_hex(const void *data, size_t len);
int gspec_unhex(char *field, size_t *ret_len);
void gspec_writer_free(struct gspec_writer *w);

/* Parser (guest side, no allocation): walks records in place.  The text must
 * be writable; fields are decoded in place and NUL-terminated. */
struct gspec_record {
	const char *key;
	int nfields;
	char *fields[GSPEC_MAX_FIELDS];
};
struct gspec_parser {
	char *p, *end;
	int line;
	int seen_end;
};
void gspec_parser_init(struct gspec_parser *ps, char *text, size_t len);
/* 1 with a record, 0 at "end", -EINVAL on a malformed line or text that ends
 * before "end" (ps->line names the line). */
int gspec_next(struct gspec_parser *ps, struct gspec_record *ret);

#endif
