/* A stand-in for ocivm-vmm in unit tests: speaks its CLI and control
 * socket, and plays ocivm-init's side of the channel on "console".
 *   --fake-mode=ok      HELLO, SPEC -> READY; START -> STARTED 42 + "hello\n";
 *                       STDIN echoed to STDOUT; STDIN_EOF -> EXITED 3;
 *                       SIGNAL n -> EXITED by signal n; then exits
 *   --fake-mode=error   SPEC -> ERROR "fake: bad spec\\x1b[2J\\n" (raw ESC) + EXITED 1
 *   --fake-mode=die     SPEC -> the process dies, saying why on stderr
 *   --fake-mode=silent  never says HELLO
 *   --fake-mode=flood   never says HELLO, sends LOG frames without pause
 *   --fake-mode=deaf    as ok, but reads nothing for 1.5 s after START and
 *                       then drops STDIN instead of echoing it
 *   --fake-mode=stuck   as ocivm-init with a process that never reads stdin:
 *                       says "stdin-ack" in HELLO, holds STDIN (never acked)
 *                       and stops reading the channel once 1 MiB is held

 *   --fake-mode=garble  as ok, but after START's "hello\n" the stream breaks
 *                       (bytes that are no frame header); stays alive
 *   --fake-mode=badexit as ok, but START -> EXITED with a 4-byte payload;
 *                       stays alive
 *   --fake-mode=resume  protocol 3 ("out-ack"): START must follow OUT_ACK 0 0
 *                       (else EXITED 99) -> STARTED 42 + "0123"; on the next
 *                       connection (a re-attach): the tail of a frame and a
 *                       whole STDOUT "XXXX" (in flight: the host must drop
 *                       them), then RESUME must say 4 0 (else EXITED 98) ->
 *                       RESUMED 4 0, "4567", EXITED 3; an OUT_ACK with the
 *                       EXITED flag is written to stderr (hypervisor.log)
 *   --fake-mode=resume-lost  the same, but RESUMED says 6: "67" follows */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "chan.h"

static const char *mode = "ok";
static int handshake_done;
static uint8_t buf[CHAN_MAX_PAYLOAD];

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

static void exited(int fd, uint32_t kind, uint32_t value)
{
	uint8_t p[8];
	put_u32(p, kind);
	put_u32(p + 4, value);
	chan_send(fd, CHAN_EXITED, p, 8);
	usleep(100 * 1000);
	exit(0);
}

static int acked0;

/* A re-attach in mode resume*: bytes in flight, then RESUME/RESUMED. */
static void resumed(int fd)
{
	uint8_t type, b[24], h[8];
	uint32_t len;
	int lost = strcmp(mode, "resume-lost") == 0;

	chan_hdr_encode(h, CHAN_STDOUT, 300);   /* the tail of a frame */
	if (write(fd, h + 3, 5) != 5 || write(fd, "tail", 4) != 4)
		exit(1);
	chan_send(fd, CHAN_STDOUT, "XXXX", 4);
	while (chan_recv(fd, &type, buf, sizeof(buf), &len) == 0) {
		if (type == CHAN_RESUME) {
			if (len != 24 || chan_get_u64(buf + 8) != 4 || chan_get_u64(buf + 16) != 0)
				exited(fd, 0, 98);
			memcpy(b, buf, 8);
			chan_put_u64(b + 8, lost ? 6 : 4);
			chan_put_u64(b + 16, 0);
			chan_send(fd, CHAN_RESUMED, b, 24);
			chan_send(fd, CHAN_STDOUT, lost ? "67" : "4567", lost ? 2 : 4);
			put_u32(b, 0);
			put_u32(b + 4, 3);
			chan_send(fd, CHAN_EXITED, b, 8);
		}
		if (type == CHAN_OUT_ACK && len == 20 && (buf[16] & CHAN_ACK_EXITED)) {
			fprintf(stderr, "fake: OUT_ACK %llu %llu with the EXITED flag\n",
				(unsigned long long)chan_get_u64(buf),
				(unsigned long long)chan_get_u64(buf + 8));
			exit(0);
		}
	}
}

static void conversation(int fd)
{
	uint8_t type;
	uint32_t len;
	size_t held = 0;

	if (!handshake_done) {
		if (strcmp(mode, "silent") == 0)
			for (;;)
				pause();
		if (strcmp(mode, "flood") == 0) {
			memset(buf, 'x', sizeof(buf));
			while (chan_send(fd, CHAN_LOG, buf, 1000) == 0)
				;
			exit(0);
		}
		if (strncmp(mode, "resume", 6) == 0)
			chan_send(fd, CHAN_HELLO, "ocivm-init 4 stdin-ack exec out-ack exec-times", 46);
		else if (strcmp(mode, "stuck") == 0)
			chan_send(fd, CHAN_HELLO, "ocivm-init 4 stdin-ack", 22);
		else if (strcmp(mode, "oldinit") == 0)   /* an initrd of protocol 1 */
			chan_send(fd, CHAN_HELLO, "ocivm-init 1 stdin-ack", 22);
		else
			chan_send(fd, CHAN_HELLO, "ocivm-init 4", 12);
		if (chan_recv(fd, &type, buf, sizeof(buf), &len) < 0 || type != CHAN_SPEC)
			exit(2);
		if (strcmp(mode, "die") == 0) {
			fprintf(stderr, "fake: guest crashed\n");
			exit(3);
		}
		if (strcmp(mode, "error") == 0) {
			chan_send(fd, CHAN_ERROR, "fake: bad spec\x1b[2J\n", 19);
			exited(fd, 0, 1);
		}
		chan_send(fd, CHAN_READY, NULL, 0);
		handshake_done = 1;
	} else if (strncmp(mode, "resume", 6) == 0) {
		resumed(fd);
		return;
	}
	while (chan_recv(fd, &type, buf, sizeof(buf), &len) == 0) {
		uint8_t pid[4];
		switch (type) {
		case CHAN_OUT_ACK:
			acked0 = len == 16 && chan_get_u64(buf) == 0 && chan_get_u64(buf + 8) == 0;
			break;
		case CHAN_START:
			if (strncmp(mode, "resume", 6) == 0) {
				put_u32(pid, 42);
				chan_send(fd, CHAN_STARTED, pid, 4);
				if (!acked0)
					exited(fd, 0, 99);
				chan_send(fd, CHAN_STDOUT, "0123", 4);
				break;
			}
			put_u32(pid, 42);
			chan_send(fd, CHAN_STARTED, pid, 4);
			chan_send(fd, CHAN_LOG, "started", 7);
			chan_send(fd, CHAN_STDOUT, "hello\n", 6);
			if (strcmp(mode, "deaf") == 0)
				usleep(1500 * 1000);
			if (strcmp(mode, "garble") == 0 &&
			    write(fd, "\x01\x02garbage!", 10) != 10)
				exit(1);
			if (strcmp(mode, "badexit") == 0)
				chan_send(fd, CHAN_EXITED, pid, 4);
			break;
		case CHAN_STDIN:
			if (strcmp(mode, "stuck") == 0) {
				held += len;
				if (held >= (1u << 20))   /* the real relay's RELAY_INQ_MAX */
					for (;;)
						pause();
			} else if (strcmp(mode, "deaf") != 0) {
				chan_send(fd, CHAN_STDOUT, buf, len);
			}
			break;
		case CHAN_STDIN_EOF:
			exited(fd, 0, 3);
			break;
		case CHAN_SIGNAL:
			exited(fd, 1, buf[0]);
			break;
		}
	}
}

static void *serve(void *arg)
{
	int fd = (int)(long)arg;
	char line[64];
	size_t n = 0;

	while (n < sizeof(line) - 1 && read(fd, line + n, 1) == 1 && line[n] != '\n')
		n++;
	line[n] = '\0';
	if (strcmp(line, "console") == 0)
		conversation(fd);
	else if (strcmp(line, "stop") == 0) {
		if (write(fd, "ok\n", 3) < 0)
			exit(1);
		exit(0);
	} else if (strcmp(line, "pause") == 0 || strcmp(line, "resume") == 0) {
		if (write(fd, "ok\n", 3) < 0)
			exit(1);
	}
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	const char *control = NULL, *console = NULL;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	/* The mode comes in the environment: vm_create refuses hypervisor
	 * parameters that are not on ocivm-vmm's allowlist. */
	if (getenv("OCIVM_FAKE_MODE"))
		mode = getenv("OCIVM_FAKE_MODE");
	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--fake-mode=", 12) == 0)
			mode = argv[i] + 12;
		else if (strcmp(argv[i], "--control") == 0 && i + 1 < argc)
			control = argv[++i];
		else if (strcmp(argv[i], "--console") == 0 && i + 1 < argc)
			console = argv[++i];
	}
	if (!control || !console)
		return 2;
	FILE *f = fopen(console, "w");
	if (f) {
		fprintf(f, "fake firmware\r\nfake kernel booting\r\n");
		fclose(f);
	}
	int ls = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", control);
	if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 8) < 0)
		return 2;
	for (;;) {
		int fd = accept(ls, NULL, NULL);
		pthread_t t;
		if (fd < 0)
			continue;
		pthread_create(&t, NULL, serve, (void *)(long)fd);
		pthread_detach(t);
	}
}
