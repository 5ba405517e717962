#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "vm/vmm/uart.h"

enum {
	REG_RBR_THR = 0, REG_IER = 1, REG_IIR_FCR = 2, REG_LCR = 3,
	REG_MCR = 4, REG_LSR = 5, REG_MSR = 6, REG_SCR = 7,
};
#define IER_RDI 0x01
#define IER_THRI 0x02
#define LCR_DLAB 0x80
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define IIR_NONE 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO 0xc0

static void update_hint(struct uart *u)
{
	int allowed = !(u->ier & IER_THRI) && !(u->mcr & MCR_LOOP);
	if (u->coalesce_hint && allowed != u->hint_state) {
		u->hint_state = allowed;
		u->coalesce_hint(u->hint_ctx, allowed);
	}
}

/* Called with the lock held: recompute the interrupt line. */
static void update_irq(struct uart *u)
{
	update_hint(u);
	int level = ((u->ier & IER_THRI) && u->thre_pending) ||
		    ((u->ier & IER_RDI) && u->rx_len > 0);
	if (level != u->irq_level) {
		u->irq_level = level;
		if (u->set_irq)
			u->set_irq(u->irq_ctx, level);
	}
}

void uart_init(struct uart *u, int out_fd, void (*set_irq)(void *, int), void *irq_ctx)
{
	*u = (struct uart){ .out_fd = out_fd, .set_irq = set_irq, .irq_ctx = irq_ctx,
			    .lcr = 0x03, .mcr = 0x08, .hint_state = -1 };
	pthread_mutex_init(&u->lock, NULL);
}

void uart_destroy(struct uart *u)
{
	pthread_mutex_destroy(&u->lock);
}

void uart_set_output_cap(struct uart *u, uint64_t max)
{
	pthread_mutex_lock(&u->lock);
	u->out_max = max;
	pthread_mutex_unlock(&u->lock);
}

uint64_t uart_output_dropped(struct uart *u)
{
	pthread_mutex_lock(&u->lock);
	uint64_t n = u->out_dropped;
	pthread_mutex_unlock(&u->lock);
	return n;
}

static void out_write(int fd, const void *buf, size_t len)
{
	ssize_t n;
	do
		n = write(fd, buf, len);
	while (n < 0 && errno == EINTR);
}

/* A guest writing forever must not fill the host's disk (or RAM on tmpfs). */
static void output(struct uart *u, uint8_t c)
{
	if (!u->out_max || u->out_len < u->out_max) {
		out_write(u->out_fd, &c, 1);
		u->out_len++;
		return;
	}
	if (u->out_dropped++ == 0) {
		char mark[80];
		int k = snprintf(mark, sizeof(mark), "\n[ocivm-vmm: console truncated after %llu bytes]\n",
				 (unsigned long long)u->out_max);
		out_write(u->out_fd, mark, (size_t)k);
	}
}

static void transmit(struct uart *u, uint8_t c)
{
	if (u->mcr & MCR_LOOP) {
		if (u->rx_len < UART_RX_MAX)
			u->rx[(u->rx_head + u->rx_len++) % UART_RX_MAX] = c;
	} else if (u->out_fd >= 0) {
		output(u, c);
	}
	u->tx_bytes++;
	u->thre_pending = true;
}

static uint8_t read_iir(struct uart *u)
{
	uint8_t fifo = (u->fcr & 1) ? IIR_FIFO : 0;
	if ((u->ier & IER_RDI) && u->rx_len)
		return fifo | IIR_RDI;
	if ((u->ier & IER_THRI) && u->thre_pending) {
		u->thre_pending = false;   /* reading IIR clears THRI */
		return fifo | IIR_THRI;
	}
	return fifo | IIR_NONE;
}

static uint8_t read_msr(struct uart *u)
{
	if (!(u->mcr & MCR_LOOP))
		return 0xb0;   /* DCD, DSR, CTS */
	return (uint8_t)(((u->mcr & 0x01) << 5) | ((u->mcr & 0x02) << 3) |
			 ((u->mcr & 0x04) << 4) | ((u->mcr & 0x08) << 4));
}

static uint8_t read_reg(struct uart *u, unsigned reg)
{
	uint8_t v = 0;
	switch (reg) {
	case REG_RBR_THR:
		if (u->lcr & LCR_DLAB)
			return u->dll;
		if (u->rx_len) {
			v = u->rx[u->rx_head];
			u->rx_head = (u->rx_head + 1) % UART_RX_MAX;
			u->rx_len--;
		}
		return v;
	case REG_IER:
		return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
	case REG_IIR_FCR:
		return read_iir(u);
	case REG_LCR:
		return u->lcr;
	case REG_MCR:
		return u->mcr;
	case REG_LSR:
		return LSR_THRE | LSR_TEMT | (u->rx_len ? LSR_DR : 0);
	case REG_MSR:
		return read_msr(u);
	default:
		return u->scr;
	}
}

static void write_reg(struct uart *u, unsigned reg, uint8_t v)
{
	switch (reg) {
	case REG_RBR_THR:
		if (u->lcr & LCR_DLAB)
			u->dll = v;
		else
			transmit(u, v);
		break;
	case REG_IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = v;
		} else {
			/* Enabling THRI with an empty THR raises it at once. */
			if ((v & IER_THRI) && !(u->ier & IER_THRI))
				u->thre_pending = true;
			u->ier = v & 0x0f;
		}
		break;
	case REG_IIR_FCR:
		u->fcr = v;
		if (v & 0x02)
			u->rx_len = 0;
		break;
	case REG_LCR:
		u->lcr = v;
		break;
	case REG_MCR:
		u->mcr = v & 0x1f;
		break;
	case REG_SCR:
		u->scr = v;
		break;
	default:
		break;   /* LSR, MSR: read-only */
	}
}

void uart_bus_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct uart *u = opaque;
	uint8_t *d = data;

	pthread_mutex_lock(&u->lock);
	for (unsigned i = 0; i < len; i++)
		d[i] = off + i < 8 ? read_reg(u, (unsigned)(off + i)) : 0xff;
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

enum exit_action uart_bus_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct uart *u = opaque;
	const uint8_t *d = data;

	pthread_mutex_lock(&u->lock);
	for (unsigned i = 0; i < len && off + i < 8; i++)
		write_reg(u, (unsigned)(off + i), d[i]);
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return EXIT_CONTINUE;
}

void uart_set_coalesce_hint(struct uart *u, void (*fn)(void *, bool), void *ctx)
{
	pthread_mutex_lock(&u->lock);
	u->coalesce_hint = fn;
	u->hint_ctx = ctx;
	u->hint_state = -1;
	update_hint(u);
	pthread_mutex_unlock(&u->lock);
}

size_t uart_input(struct uart *u, const void *buf, size_t len)
{
	const uint8_t *b = buf;
	size_t n = 0;

	pthread_mutex_lock(&u->lock);
	for (; n < len && u->rx_len < UART_RX_MAX; n++)
		u->rx[(u->rx_head + u->rx_len++) % UART_RX_MAX] = b[n];
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}
