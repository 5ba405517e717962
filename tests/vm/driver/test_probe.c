/* The probe's decision from measured speeds, and the probe itself where
 * /dev/kvm exists (it must then say something sensible either way). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include <unistd.h>

#include "vm/driver/probe.h"

static void test_decide_hardware(void **state)
{
	struct vm_host_probe p = { .kvm_present = true, .ns_per_insn = 0.6 };
	vm_probe_decide(&p, true, false, NULL);
	assert_true(p.kvm_hw_speed);
	assert_int_equal(p.driver, VM_DRIVER_VMM);
	assert_int_equal(p.accel, VM_ACCEL_KVM);
	assert_non_null(strstr(p.reason, "hardware speed"));
	assert_non_null(strstr(p.reason, "ocivm-vmm"));
}

static void test_decide_pvm(void **state)
{
	struct vm_host_probe p = { .kvm_present = true, .ns_per_insn = 1400 };
	vm_probe_decide(&p, true, true, NULL);
	assert_false(p.kvm_hw_speed);
	assert_int_equal(p.driver, VM_DRIVER_QEMU);
	assert_int_equal(p.accel, VM_ACCEL_TCG);
	assert_string_equal(p.reason, "kvm_pvm emulates the CPU at ~1.4 us/insn: Linux cannot boot on it; "
			    "using qemu-system-x86_64 -accel tcg");
}

static void test_decide_no_kvm(void **state)
{
	struct vm_host_probe p = { 0 };
	vm_probe_decide(&p, false, false, "/dev/kvm cannot be opened (No such file or directory)");
	assert_false(p.kvm_hw_speed);
	assert_int_equal(p.driver, VM_DRIVER_QEMU);
	assert_int_equal(p.accel, VM_ACCEL_TCG);
	assert_non_null(strstr(p.reason, "cannot be opened"));
	assert_non_null(strstr(p.reason, "-accel tcg"));
}

static void test_decide_boundary(void **state)
{
	struct vm_host_probe p = { .kvm_present = true, .ns_per_insn = VM_PROBE_HW_NS_MAX };
	vm_probe_decide(&p, true, false, NULL);
	assert_false(p.kvm_hw_speed);
	p.ns_per_insn = 0;   /* a loop that measured nothing proves nothing */
	vm_probe_decide(&p, true, false, NULL);
	assert_false(p.kvm_hw_speed);
}

static void test_probe_real(void **state)
{
	struct vm_host_probe p;
	assert_int_equal(vm_probe_host(&p), 0);
	assert_true(p.reason[0] != '\0');
	assert_true(p.tsc_khz > 100000);   /* any x86-64 TSC runs above 100 MHz */
	if (access("/dev/kvm", R_OK | W_OK) == 0) {
		assert_true(p.kvm_present);
		assert_true(p.ns_per_insn > 0);
	} else {
		assert_false(p.kvm_present);
		assert_int_equal(p.driver, VM_DRIVER_QEMU);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide_hardware),
		cmocka_unit_test(test_decide_pvm),
		cmocka_unit_test(test_decide_no_kvm),
		cmocka_unit_test(test_decide_boundary),
		cmocka_unit_test(test_probe_real),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
