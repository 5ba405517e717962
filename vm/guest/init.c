/* ocivm-init: PID 1 in the guest.  Boot steps, then the conversation of
 * common/chan.h over the named virtio port org.ocivm.chan (QEMU) or
 * /dev/hvc0 (ocivm-vmm), found by chanopen.c; see vm/guest/README.md.  Messages for a
 * person go to the serial console (fd 2, /dev/console); the host learns
 * what matters through ERROR and LOG frames. */
#include "chan.h"
#include "chanopen.h"
#include "plan.h"
#include "relay.h"
#include "setup.h"
#include "net.h"
#include "spawn.h"
#include "cgroup.h"
#include "fresh.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* protocol 2 (common/chan.h); it sends STDIN_ACK (relay.c), it runs EXEC (relay_proc.c) */
#define INIT_VERSION "ocivm-init 4 stdin-ack exec out-ack exec-times"
#define INIT_HUP_NAP_MS 100
#define INIT_HELLO_EVERY_MS 1000

struct init {
	int chan;
	int vport;                   /* chan is the named virtio-serial port, not hvc0 */
	char spec[CHAN_MAX_PAYLOAD + 1];
	uint32_t spec_len;
	struct gplan plan;
	struct relay relay;
};

static void init_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void init_log(const char *fmt, ...)
{
	struct timespec ts;
	char line[1024];
	va_list ap;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	dprintf(2, "[%5ld.%03ld] ocivm-init: %s\n", (long)ts.tv_sec, ts.tv_nsec / 1000000, line);
}

/* Module and bind-mount notes: to the console, and to the host once the
 * channel is up. */
static void init_note(void *ctx, const char *msg)
{
	struct init *in = ctx;
	init_log("%s", msg);
	if (in && in->chan >= 0)
		chan_send(in->chan, CHAN_LOG, msg, (uint32_t)strlen(msg));
}

static __attribute__((noreturn)) void init_poweroff(void)
{
	sync();
	reboot(RB_POWER_OFF);
	reboot(RB_AUTOBOOT);   /* with -no-reboot, a reset ends the VMM too */
	for (;;)
		pause();
}

/* ERROR + EXITED, then power off. */
static __attribute__((noreturn)) void init_fail(struct init *in, int code, const char *why)
{
	uint8_t b[8];

	init_log("error: %s", why);
	if (in->chan >= 0) {
		relay_put_u32(b, 0);
		relay_put_u32(b + 4, (uint32_t)code);
		chan_send(in->chan, CHAN_ERROR, why, (uint32_t)strlen(why));
		chan_send(in->chan, CHAN_EXITED, b, sizeof(b));
		tcdrain(in->chan);
	}
	init_poweroff();
}

/* HELLO, repeated until the first frame arrives (a host that connects late
 * to QEMU's socket would miss a single one); then expect SPEC. */
static int init_wait_spec(struct init *in, char *eb, size_t cap)
{
	struct pollfd p = { .fd = in->chan, .events = POLLIN };
	uint8_t type;
	int r;

	do {
		r = chan_send(in->chan, CHAN_HELLO, INIT_VERSION, sizeof(INIT_VERSION) - 1);
		if (r < 0)
			return gsetup_fail(eb, cap, -r, "sending HELLO on the channel");
		p.revents = 0;
		r = poll(&p, 1, INIT_HELLO_EVERY_MS);
		if (r > 0 && in->vport && (p.revents & POLLHUP)) {
			/* no host on the port yet (or any more): wait, then
			 * HELLO again (its write waits for a host) */
			struct timespec nap = { 0, INIT_HUP_NAP_MS * 1000 * 1000 };
			nanosleep(&nap, NULL);
			r = 0;
		}
	} while (r == 0 || (r < 0 && errno == EINTR));
	r = chan_recv(in->chan, &type, in->spec, sizeof(in->spec) - 1, &in->spec_len);
	if (r < 0)
		return gsetup_fail(eb, cap, -r, "no SPEC from the host: reading the channel");
	if (type != CHAN_SPEC)
		return gsetup_fail(eb, cap, EPROTO, "no SPEC from the host: its first frame is %s",
				   chan_type_name(type));
	in->spec[in->spec_len] = '\0';
	return 0;
}

/* After EXITED on the port: the frames are in the port's queue, not yet at
 * the host (QEMU holds what the host's socket does not take, and loses it
 * when the VM powers off).  Power off only once the host hung up (POLLHUP,
 * or read 0): a host closes the channel after it has read EXITED (or kills
 * the VM itself, as the daemon does).  What the host still sends is read
 * and ignored. */
static void init_wait_hangup(struct init *in)
{
	struct pollfd p = { .fd = in->chan, .events = POLLIN };
	char scrap[4096];

	for (;;) {
		p.revents = 0;
		int n = poll(&p, 1, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (p.revents & (POLLHUP | POLLERR | POLLNVAL)))
			return;
		ssize_t k = read(in->chan, scrap, sizeof(scrap));
		if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR))
			return;
	}
}

static int init_spawn(void *ctx, struct gspawn_result *ret, int *ret_code, char *eb, size_t cap)
{
	struct init *in = ctx;
	return gspawn(&in->plan, GSETUP_ROOT, ret, ret_code, eb, cap);
}

/* EXEC: the gspec's process records, run inside the container process. */
static int init_exec(void *ctx, char *spec, size_t len, pid_t main, int *ret_terminal,
		     struct gspawn_result *ret, int *ret_code, char *eb, size_t cap)
{
	struct gplan *p = malloc(sizeof(*p));
	int r;

	(void)ctx;
	*ret_code = 126;
	if (!p) {
		snprintf(eb, cap, "EXEC: out of memory");
		return -ENOMEM;
	}
	r = gplan_parse(spec, len, p, eb, cap);
	if (r == 0) {
		*ret_terminal = p->terminal;
		r = gspawn_exec(p, main, ret, ret_code, eb, cap);
	}
	free(p);
	return r;
}

/* The container's process exited: end every other process in the guest
 * (what the kernel does to a pid namespace whose init exits, as under
 * runc), so the output pipes reach EOF once what they wrote is read.  PID 1
 * is spared by kill(-1). */
static void init_end_others(void *ctx, pid_t main)
{
	if (kill(-1, SIGKILL) < 0 && errno != ESRCH)
		init_log("kill(-1, SIGKILL): %s", strerror(errno));
}

static void init_prepare(struct init *in)
{
	char eb[512];

	if (gplan_parse(in->spec, in->spec_len, &in->plan, eb, sizeof(eb)) < 0)
		init_fail(in, 255, eb);
	/* first: entropy, clock and disks of this VM, not of its template */
	if (gfresh_apply(&in->plan, init_note, in, eb, sizeof(eb)) < 0)
		init_fail(in, 255, eb);
	init_log("container %s: mounting rootfs (serial %s, %s%s)", in->plan.id ? in->plan.id : "?",
		 in->plan.rootfs_serial, in->plan.rootfs_fstype, in->plan.rootfs_ro ? ", read-only" : "");
	if (gsetup_rootfs(&in->plan, init_note, in, eb, sizeof(eb)) < 0)
		init_fail(in, 255, eb);
	if (gnet_apply(&in->plan, init_note, in, eb, sizeof(eb)) < 0)
		init_fail(in, 255, eb);
	/* before the config's mounts: the first cgroup2 mount makes the
	 * superblock, and a container's "ro" cgroup mount must not make it
	 * read-only for init */
	if (gcgroup_setup(&in->plan, init_note, in, eb, sizeof(eb)) < 0)
		init_fail(in, 255, eb);
	if (gsetup_config(&in->plan, GSETUP_ROOT, init_note, in, eb, sizeof(eb)) < 0)
		init_fail(in, 255, eb);
}

static int init_sigchld_fd(void)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGCHLD);
	sigprocmask(SIG_BLOCK, &s, NULL);
	return signalfd(-1, &s, SFD_NONBLOCK | SFD_CLOEXEC);
}

int main(void)
{
	static struct init in = { .chan = -1 };
	char eb[256];
	int r, sfd;

	if (getpid() != 1) {
		fprintf(stderr, "ocivm-init: runs as PID 1 inside an ocivmfs guest only\n");
		return 1;
	}
	sfd = init_sigchld_fd();
	if (gsetup_early(eb, sizeof(eb)) < 0)
		init_fail(&in, 255, eb);
	r = gsetup_modules("/modules/load", init_note, &in);
	init_log("%d modules loaded", r);
	/* as long as it takes: the host's deadline ends a VM without one,
	 * and the console says meanwhile what is missing */
	in.chan = gchan_open(&gchan_where_real, &gchan_clock_real, GCHAN_NOTE_EVERY_MS,
			     init_note, &in, &in.vport);
	if ((r = init_wait_spec(&in, eb, sizeof(eb))) < 0)
		init_fail(&in, 255, eb);
	init_log("SPEC received (%u bytes)", (unsigned)in.spec_len);
	init_prepare(&in);
	if (sfd < 0 || relay_init(&in.relay, in.chan, sfd, init_spawn, &in, in.plan.terminal) < 0)
		init_fail(&in, 255, "relay setup failed");
	in.relay.vport = in.vport;
	in.relay.end_others = init_end_others;
	in.relay.exec = init_exec;
	relay_queue(&in.relay, CHAN_READY, NULL, 0);
	init_log("READY");
	r = relay_run(&in.relay);
	init_log("done (%s)", r < 0 ? strerror(-r) : "process exited");
	if (r == 0 && in.vport) {
		init_wait_hangup(&in);
		init_log("host hung up");
	}
	fcntl(in.chan, F_SETFL, fcntl(in.chan, F_GETFL) & ~O_NONBLOCK);
	tcdrain(in.chan);
	init_poweroff();
}
