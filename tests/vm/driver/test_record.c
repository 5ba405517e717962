/* RUN/vm.json: write, read back, reject what is not ours. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vm/driver/record.h"

static void test_round_trip(void **state)
{
	char *argv[] = { "/usr/bin/qemu-system-x86_64", "-append",
			 "console=ttyS0 a=\"b c\" back\\slash\ttab\nnl", "ünïcode", NULL };
	struct vm_record w = {
		.driver = "qemu", .accel = "tcg", .pid = 4242, .start_time = 123456789012ull, .started_unix = 1764350000ull,
		.vcpus = 2, .memory_mib = 1ull << 33,
		.kernel_cmdline = "console=ttyS0 x=\"y z\"", .chan_sock = "/run/x/chan.sock",
		.control_sock = "/run/x/control.sock", .argv = argv, .argc = 4,
	};
	struct vm_record r;
	char path[] = "/tmp/vmjson.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);

	assert_int_equal(vm_record_write(path, &w), 0);
	assert_int_equal(vm_record_read(path, &r), 0);
	unlink(path);
	assert_string_equal(r.driver, "qemu");
	assert_string_equal(r.accel, "tcg");
	assert_int_equal(r.pid, 4242);
	assert_true(r.start_time == 123456789012ull);
	assert_true(r.started_unix == 1764350000ull);
	assert_int_equal(r.vcpus, 2);
	assert_true(r.memory_mib == 1ull << 33);
	assert_string_equal(r.kernel_cmdline, w.kernel_cmdline);
	assert_string_equal(r.chan_sock, w.chan_sock);
	assert_string_equal(r.control_sock, w.control_sock);
	assert_int_equal(r.argc, 4);
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(r.argv[i], argv[i]);
	assert_null(r.argv[4]);
	vm_record_free(&r);
}

static void test_unknown_keys_skipped(void **state)
{
	struct vm_record r;
	assert_int_equal(vm_record_parse("{\"driver\":\"ocivm-vmm\",\"future\":\"x\",\"n\":7,"
					 "\"pid\":9,\"argv\":[]}", &r), 0);
	assert_string_equal(r.driver, "ocivm-vmm");
	assert_int_equal(r.pid, 9);
	assert_int_equal(r.argc, 0);
	vm_record_free(&r);
}

static void test_malformed(void **state)
{
	static const char *const bad[] = {
		"", "{", "[]", "{\"pid\":1}",                       /* no driver */
		"{\"driver\":\"qemu\"}",                             /* no pid */
		"{\"driver\":\"qemu\",\"pid\":-1}",
		"{\"driver\":\"qemu\",\"pid\":1,\"argv\":[\"a\",]}",
		"{\"driver\":\"qemu\",\"pid\":1,\"argv\":[\"a\"}",
		"{\"driver\":\"qemu\",\"pid\":1,\"kernel_cmdline\":\"unterminated}",
		"{\"driver\":\"qemu\",\"pid\":1}x",
		"{\"driver\":\"qemu\",\"pid\":1.5}",
		"{\"driver\":\"qemu\",\"pid\":4294967296}",
		"{\"driver\":\"qemu\",\"pid\":\"1\"}",
		"{\"driver\":7,\"pid\":1}",
		"{\"driver\":\"qemu\",\"pid\":1,\"vcpus\":-2}",
		"{\"driver\":\"qemu\",\"pid\":1,\"argv\":[1]}",
		"{\"driver\":\"qemu\",\"pid\":1,\"argv\":\"a\"}",
		"{\"driver\":\"qemu\",\"pid\":1,\"chan_sock\":null}",
		"{\"driver\":\"a-driver-name-longer-than-thirty-two-bytes\",\"pid\":1}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vm_record r;
		if (vm_record_parse(bad[i], &r) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
	}
	struct vm_record r;
	assert_int_equal(vm_record_read("/nonexistent/vm.json", &r), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_unknown_keys_skipped),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
