/* Freestanding support: string functions, UART printf, check reporting,
 * command line lookup, page allocator, TSC time. */
#include "selftest.h"
#include "st_internal.h"

#define COM1 0x3f8

void *memset(void *d, int c, size_t n)
{
	volatile uint8_t *p = d;
	while (n--)
		*p++ = (uint8_t)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	volatile uint8_t *p = d;
	const uint8_t *q = s;
	while (n--)
		*p++ = *q++;
	return d;
}

void *memmove(void *d, const void *s, size_t n)
{
	volatile uint8_t *p = d;
	const uint8_t *q = s;
	if (p < q)
		return memcpy(d, s, n);
	while (n--)
		p[n] = q[n];
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *p = a, *q = b;
	for (; n; n--, p++, q++)
		if (*p != *q)
			return *p - *q;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (uint8_t)*a - (uint8_t)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

int strcmp(const char *a, const char *b)
{
	return strncmp(a, b, (size_t)-1);
}

/* ---- formatted output ---- */

struct sink {
	char *buf;        /* NULL: the UART */
	size_t len, pos;
};

static void uart_putc(char c)
{
	for (unsigned i = 0; i < 100000 && !(inb(COM1 + 5) & 0x20); i++)
		;
	outb(COM1, (uint8_t)c);
}

static void emit(struct sink *s, char c)
{
	if (!s->buf)
		uart_putc(c);
	else if (s->pos + 1 < s->len)
		s->buf[s->pos] = c;
	s->pos++;
}

static void emit_num(struct sink *s, uint64_t v, unsigned base, bool upper,
		     bool neg, unsigned width, char pad)
{
	char tmp[24];
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	unsigned n = 0;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	if (neg)
		tmp[n++] = '-';
	for (unsigned i = n; i < width; i++)
		emit(s, pad);
	while (n)
		emit(s, tmp[--n]);
}

static void format(struct sink *s, const char *f, va_list ap)
{
	for (; *f; f++) {
		if (*f != '%') {
			emit(s, *f);
			continue;
		}
		char pad = ' ';
		unsigned width = 0, lng = 0;
		f++;
		if (*f == '0')
			pad = '0', f++;
		while (*f >= '0' && *f <= '9')
			width = width * 10 + (unsigned)(*f++ - '0');
		while (*f == 'l' || *f == 'z')
			lng++, f++;
		switch (*f) {
		case 'd': case 'i': {
			int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
			emit_num(s, v < 0 ? (uint64_t)-v : (uint64_t)v, 10, false, v < 0, width, pad);
			break;
		}
		case 'u': case 'x': case 'X': {
			uint64_t v = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
			emit_num(s, v, *f == 'u' ? 10 : 16, *f == 'X', false, width, pad);
			break;
		}
		case 'p':
			emit(s, '0'); emit(s, 'x');
			emit_num(s, (uint64_t)(uintptr_t)va_arg(ap, void *), 16, false, false, width, pad);
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);
			if (!str)
				str = "(null)";
			size_t n = strlen(str);
			for (size_t i = n; i < width; i++)
				emit(s, ' ');
			while (*str)
				emit(s, *str++);
			break;
		}
		case 'c':
			emit(s, (char)va_arg(ap, int));
			break;
		case '%':
			emit(s, '%');
			break;
		default:
			emit(s, '?');
			if (!*f)
				return;
		}
	}
}

void st_vprintf(const char *fmt, va_list ap)
{
	struct sink s = { 0 };
	format(&s, fmt, ap);
}

void st_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	st_vprintf(fmt, ap);
	va_end(ap);
}

int st_snprintf(char *buf, size_t len, const char *fmt, ...)
{
	struct sink s = { buf, len, 0 };
	va_list ap;
	va_start(ap, fmt);
	format(&s, fmt, ap);
	va_end(ap);
	if (len)
		buf[s.pos < len ? s.pos : len - 1] = '\0';
	return (int)s.pos;
}

/* ---- checks ---- */

static unsigned n_checks, n_failed;

bool st_check(const char *name, bool ok, const char *fmt, ...)
{
	va_list ap;

	n_checks++;
	n_failed += !ok;
	st_printf("%s %s: ", ok ? "PASS" : "FAIL", name);
	va_start(ap, fmt);
	st_vprintf(fmt, ap);
	va_end(ap);
	st_printf("\n");
	return ok;
}

void st_counts(unsigned *total, unsigned *failed)
{
	*total = n_checks;
	*failed = n_failed;
}

/* ---- command line ---- */

static const char *cmdline;

void st_set_cmdline(const char *c)
{
	cmdline = c;
}

bool st_cmdline_value(const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key);
	const char *p = cmdline;

	while (p && *p) {
		while (*p == ' ')
			p++;
		const char *end = p;
		while (*end && *end != ' ')
			end++;
		if ((size_t)(end - p) > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			size_t n = (size_t)(end - p) - klen - 1;
			if (n + 1 > len)
				return false;
			memcpy(buf, p + klen + 1, n);
			buf[n] = '\0';
			return true;
		}
		p = end;
	}
	return false;
}

bool st_cmdline_u64(const char *key, uint64_t *ret)
{
	char buf[24];
	uint64_t v = 0;

	if (!st_cmdline_value(key, buf, sizeof(buf)) || !buf[0])
		return false;
	for (char *c = buf; *c; c++) {
		if (*c < '0' || *c > '9')
			return false;
		v = v * 10 + (uint64_t)(*c - '0');
	}
	*ret = v;
	return true;
}

/* ---- pages ---- */

static uint64_t pool_next, pool_end;

void st_alloc_init(uint64_t start, uint64_t end)
{
	pool_next = (start + ST_PAGE_SIZE - 1) & ~(uint64_t)(ST_PAGE_SIZE - 1);
	pool_end = end & ~(uint64_t)(ST_PAGE_SIZE - 1);
}

void *st_alloc_pages(size_t npages)
{
	uint64_t bytes = (uint64_t)npages * ST_PAGE_SIZE;

	if (npages == 0 || pool_next > pool_end || bytes > pool_end - pool_next)
		return NULL;
	void *p = (void *)(uintptr_t)pool_next;
	pool_next += bytes;
	memset(p, 0, bytes);
	return p;
}

/* ---- time ---- */

static uint64_t tsc_khz = 2000000;   /* until calibrated */

uint64_t st_rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

void st_set_tsc_khz(uint64_t khz)
{
	if (khz)
		tsc_khz = khz;
}

uint64_t st_now_us(void)
{
	return st_rdtsc() * 1000 / tsc_khz;
}

void st_delay_us(uint64_t us)
{
	uint64_t end = st_now_us() + us;
	while (st_now_us() < end)
		__asm__ volatile("pause");
}
