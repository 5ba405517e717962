/* vm/driver/fresh.c: the SPEC's seed, clock and restored records go before
 * "end", the guest's parser takes them, and no two SPECs share a seed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vm/driver/fresh.h"

static const char spec[] = "version 1\nid t\nrootfs r 1\narg sh\nend\n";

static const char *field(const char *text, const char *key, char *buf, size_t cap)
{
	const char *p = strstr(text, key);
	size_t n;

	if (!p)
		return NULL;
	p += strlen(key);
	n = strcspn(p, "\n");
	if (n >= cap)
		n = cap - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

static void test_fresh_records(void **state)
{
	char *a = NULL, *b = NULL, sa[128], sb[128], clk[64];
	size_t la, lb;
	long long sec;

	assert_int_equal(vm_gspec_fresh(spec, sizeof(spec) - 1, false, &a, &la), 0);
	assert_int_equal(vm_gspec_fresh(spec, sizeof(spec) - 1, true, &b, &lb), 0);
	assert_int_equal(strlen(a), la);
	assert_memory_equal(a, spec, sizeof(spec) - 5);   /* ops' records untouched */
	assert_string_equal(a + la - 4, "end\n");
	assert_non_null(strstr(a, "\nrestored 0\nend\n"));
	assert_non_null(strstr(b, "\nrestored 1\nend\n"));
	assert_non_null(field(a, "\nseed ", sa, sizeof(sa)));
	assert_non_null(field(b, "\nseed ", sb, sizeof(sb)));
	assert_int_equal(strlen(sa), 2 * VM_FRESH_SEED_BYTES);
	assert_string_not_equal(sa, sb);
	assert_non_null(field(a, "\nclock ", clk, sizeof(clk)));
	sec = atoll(clk);
	assert_true(sec > 0 && llabs(sec - (long long)time(NULL)) < 5);
	free(a);
	free(b);
}

static void test_fresh_rejects_truncated(void **state)
{
	char *out = NULL;
	size_t len;

	assert_int_equal(vm_gspec_fresh("version 1\n", 10, false, &out, &len), -EINVAL);
	assert_int_equal(vm_gspec_fresh("version 1\nxend\n", 15, false, &out, &len), -EINVAL);
	assert_null(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh_records),
		cmocka_unit_test(test_fresh_rejects_truncated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
