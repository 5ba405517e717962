/* The 8250 register model and the CPUID mask parser/patcher. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>
#include <linux/kvm.h>
#include <unistd.h>

#include "vm/vmm/cpuid.h"
#include "vm/vmm/uart.h"

struct irqlog {
	int level, changes;
};

static void set_irq(void *ctx, int level)
{
	struct irqlog *l = ctx;
	l->level = level;
	l->changes++;
}

static uint8_t rd(struct uart *u, unsigned reg)
{
	uint8_t v;
	uart_bus_read(u, reg, &v, 1);
	return v;
}

static void wr(struct uart *u, unsigned reg, uint8_t v)
{
	assert_int_equal(uart_bus_write(u, reg, &v, 1), EXIT_CONTINUE);
}

static void test_uart_output_and_lsr(void **state)
{
	int p[2];
	struct uart u;
	char buf[8] = { 0 };
	(void)state;
	assert_int_equal(pipe(p), 0);
	uart_init(&u, p[1], NULL, NULL);
	assert_int_equal(rd(&u, 5) & 0x60, 0x60);           /* THRE | TEMT */
	wr(&u, 0, 'o');
	wr(&u, 0, 'k');
	assert_int_equal(read(p[0], buf, sizeof(buf)), 2);
	assert_string_equal(buf, "ok");
	assert_int_equal(u.tx_bytes, 2);
	/* DLAB: divisor latch, not output */
	wr(&u, 3, 0x80);
	wr(&u, 0, 0x01);
	wr(&u, 1, 0x02);
	assert_int_equal(rd(&u, 0), 0x01);
	assert_int_equal(rd(&u, 1), 0x02);
	wr(&u, 3, 0x03);
	assert_int_equal(u.tx_bytes, 2);
	wr(&u, 7, 0xa5);                                     /* scratch */
	assert_int_equal(rd(&u, 7), 0xa5);
	uart_destroy(&u);
	close(p[0]);
	close(p[1]);
}

/* A guest writing forever to ttyS0 cannot fill the console file. */
static void test_uart_output_cap(void **state)
{
	static const char mark[] = "\n[ocivm-vmm: console truncated after 4 bytes]\n";
	int p[2];
	struct uart u;
	char buf[128] = { 0 };
	(void)state;
	assert_int_equal(pipe(p), 0);
	uart_init(&u, p[1], NULL, NULL);
	uart_set_output_cap(&u, 4);
	for (const char *c = "abcdefghij"; *c; c++)
		wr(&u, 0, (uint8_t)*c);
	assert_int_equal(read(p[0], buf, sizeof(buf)), 4 + strlen(mark));
	assert_memory_equal(buf, "abcd", 4);
	assert_string_equal(buf + 4, mark);                  /* the marker, once */
	assert_int_equal(uart_output_dropped(&u), 6);
	assert_int_equal(u.tx_bytes, 10);                    /* the guest saw no difference */
	assert_true(rd(&u, 5) & 0x20);                       /* THRE: never stalls */
	wr(&u, 4, 0x10);                                     /* loopback is not output */
	wr(&u, 0, 'x');
	assert_int_equal(rd(&u, 0), 'x');
	assert_int_equal(uart_output_dropped(&u), 6);
	uart_destroy(&u);
	close(p[0]);
	close(p[1]);
}

static void test_uart_loopback_and_fifo(void **state)
{
	struct uart u;
	(void)state;
	uart_init(&u, -1, NULL, NULL);
	wr(&u, 4, 0x10 | 0x0a);                              /* LOOP | RTS | OUT2 */
	assert_int_equal(rd(&u, 6) & 0xf0, 0x90);            /* CTS | DCD, as Linux probes */
	wr(&u, 0, 'x');
	assert_true(rd(&u, 5) & 0x01);                       /* data ready */
	assert_int_equal(rd(&u, 0), 'x');
	assert_false(rd(&u, 5) & 0x01);
	wr(&u, 4, 0x08);
	assert_int_equal(rd(&u, 2) & 0xc0, 0);
	wr(&u, 2, 0x01);                                     /* FIFO on: 16550A */
	assert_int_equal(rd(&u, 2) & 0xc0, 0xc0);
	assert_int_equal(uart_input(&u, "ab", 2), 2);
	assert_int_equal(rd(&u, 0), 'a');
	uart_destroy(&u);
}

static void test_uart_thre_irq(void **state)
{
	struct uart u;
	struct irqlog l = { 0 };
	(void)state;
	uart_init(&u, -1, set_irq, &l);
	wr(&u, 1, 0x02);                                     /* enable THRI */
	assert_int_equal(l.level, 1);
	assert_int_equal(rd(&u, 2) & 0x0f, 0x02);            /* IIR: THRI, clears it */
	assert_int_equal(l.level, 0);
	assert_int_equal(rd(&u, 2) & 0x0f, 0x01);            /* nothing pending */
	wr(&u, 0, 'z');                                      /* transmit: THRI again */
	assert_int_equal(l.level, 1);
	wr(&u, 1, 0x00);
	assert_int_equal(l.level, 0);
	wr(&u, 1, 0x01);                                     /* RDI */
	assert_int_equal(l.level, 0);
	uart_input(&u, "q", 1);
	assert_int_equal(l.level, 1);
	assert_int_equal(rd(&u, 2) & 0x0f, 0x04);
	rd(&u, 0);
	assert_int_equal(l.level, 0);
	uart_destroy(&u);
}

static void hint(void *ctx, bool allowed)
{
	int *h = ctx;
	*h = allowed ? 1 : 0;
}

/* THR writes may only be deferred while no interrupt depends on them. */
static void test_uart_coalesce_hint(void **state)
{
	struct uart u;
	int h = -1;
	(void)state;
	uart_init(&u, -1, NULL, NULL);
	uart_set_coalesce_hint(&u, hint, &h);
	assert_int_equal(h, 1);
	wr(&u, 1, 0x02);                                     /* THRI on */
	assert_int_equal(h, 0);
	wr(&u, 1, 0x01);                                     /* RDI only */
	assert_int_equal(h, 1);
	wr(&u, 4, 0x10);                                     /* loopback */
	assert_int_equal(h, 0);
	wr(&u, 4, 0x00);
	assert_int_equal(h, 1);
	uart_destroy(&u);
}

static void test_cpuid_parse(void **state)
{
	struct cpuid_bit b[8];
	unsigned n = 0;
	struct oerr err = { 0 };
	(void)state;
	assert_int_equal(cpuid_parse_mask("cx16,xsave,0x7.0:ebx:5,0x80000001:edx:26", b, 8, &n, NULL), 0);
	assert_int_equal(n, 4);
	assert_int_equal(b[0].leaf, 1);
	assert_int_equal(b[0].reg, CPUID_ECX);
	assert_int_equal(b[0].bit, 13);
	assert_int_equal(b[2].leaf, 7);
	assert_false(b[2].any_subleaf);
	assert_int_equal(b[2].reg, CPUID_EBX);
	assert_int_equal(b[3].leaf, 0x80000001);
	assert_true(b[3].any_subleaf);
	assert_int_equal(cpuid_parse_mask("cx16,nosuch", b, 8, &n, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "nosuch"));
	assert_int_equal(cpuid_parse_mask("1:ecx:32", b, 8, &n, NULL), -EINVAL);
	assert_int_equal(cpuid_parse_mask("1:exx:3", b, 8, &n, NULL), -EINVAL);
	assert_int_equal(cpuid_parse_mask("sse,sse2,avx", b, 2, &n, NULL), -E2BIG);
}

static void test_cpuid_apply(void **state)
{
	struct {
		struct kvm_cpuid2 h;
		struct kvm_cpuid_entry2 e[3];
	} c = { .h.nent = 3 };
	struct cpuid_bit mask[1];
	unsigned n;
	(void)state;
	c.e[0] = (struct kvm_cpuid_entry2){ .function = 1, .ebx = 0xff00aaaa, .ecx = 0x7fffffff };
	c.e[1] = (struct kvm_cpuid_entry2){ .function = 0xb, .edx = 0 };
	c.e[2] = (struct kvm_cpuid_entry2){ .function = 7, .index = 1, .ebx = 0xffffffff };
	assert_int_equal(cpuid_parse_mask("cx16", mask, 1, &n, NULL), 0);
	cpuid_apply(&c.h, mask, n, 3, 4);
	assert_int_equal(c.e[0].ebx >> 24, 3);                /* APIC id */
	assert_int_equal((c.e[0].ebx >> 16) & 0xff, 4);
	assert_int_equal(c.e[0].ebx & 0xffff, 0xaaaa);
	assert_false(c.e[0].ecx & (1u << 13));
	assert_true(c.e[0].ecx & (1u << 31));                 /* hypervisor */
	assert_int_equal(c.e[1].edx, 3);                      /* x2APIC id */
	assert_int_equal(cpuid_parse_mask("avx2", mask, 1, &n, NULL), 0);
	cpuid_apply(&c.h, mask, n, 0, 1);
	assert_int_equal(c.e[2].ebx, 0xffffffff);             /* leaf 7 subleaf 1 untouched */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uart_output_and_lsr),
		cmocka_unit_test(test_uart_output_cap),
		cmocka_unit_test(test_uart_loopback_and_fifo),
		cmocka_unit_test(test_uart_thre_irq),
		cmocka_unit_test(test_uart_coalesce_hint),
		cmocka_unit_test(test_cpuid_parse),
		cmocka_unit_test(test_cpuid_apply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
