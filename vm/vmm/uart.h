/* 8250/16550A UART: enough of the register set for Linux's 8250 driver
 * (autoconfig, loopback test, FIFO detection, THRE interrupt) and for
 * earlyprintk, which polls LSR.  Output goes to an fd; input is queued with
 * uart_input (optional).  Thread-safe: any vCPU may touch it. */
#ifndef OCIVM_VMM_UART_H
#define OCIVM_VMM_UART_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm/vmm/bus.h"

#define UART_RX_MAX 256

struct uart {
	pthread_mutex_t lock;
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	bool thre_pending;
	uint8_t rx[UART_RX_MAX];
	unsigned rx_head, rx_len;
	int out_fd;                  /* -1: output dropped */
	void (*set_irq)(void *ctx, int level);
	void *irq_ctx;
	int irq_level;
	uint64_t tx_bytes;
	uint64_t out_max;            /* bytes to out_fd before it is cut; 0: no cap */
	uint64_t out_len;            /* bytes written to out_fd */
	uint64_t out_dropped;        /* bytes past out_max (not written) */
	/* Told whether THR writes may be deferred (no THRI, no loopback). */
	void (*coalesce_hint)(void *ctx, bool allowed);
	void *hint_ctx;
	int hint_state;              /* -1 unknown, 0/1 last told */
};

void uart_init(struct uart *u, int out_fd, void (*set_irq)(void *, int), void *irq_ctx);
void uart_destroy(struct uart *u);
/* Bus callbacks (off 0..7). */
void uart_bus_read(void *opaque, uint64_t off, void *data, unsigned len);
enum exit_action uart_bus_write(void *opaque, uint64_t off, const void *data, unsigned len);
/* Cap what goes to out_fd: past max bytes one marker line
 * "[ocivm-vmm: console truncated after N bytes]", then bytes are only
 * counted (out_dropped).  0: no cap (the default). */
void uart_set_output_cap(struct uart *u, uint64_t max);
uint64_t uart_output_dropped(struct uart *u);
/* Install the hint (called at once, then on every change, under the lock). */
void uart_set_coalesce_hint(struct uart *u, void (*fn)(void *, bool), void *ctx);
/* Queue input bytes for the guest; returns how many were taken. */
size_t uart_input(struct uart *u, const void *buf, size_t len);

#endif
