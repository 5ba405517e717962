/* libFuzzer target: arbitrary guest exits (port I/O, MMIO, rep counts,
 * sizes, reasons) through handle_exit into the 8250 model and the bus.
 * Build: make fuzz; run: nice -n 19 $(BUILD)/fuzz/fuzz_vmm_exit -max_total_time=60 */
#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vm/vmm/exit.h"
#include "vm/vmm/uart.h"

static enum exit_action power(void *o, uint64_t off, const void *d, unsigned len)
{
	(void)o; (void)off; (void)len;
	return ((const uint8_t *)d)[0] == 0x42 ? EXIT_POWEROFF : EXIT_CONTINUE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static union {
		struct kvm_run run;
		uint8_t page[4096];
	} r;
	struct uart u;
	struct bus pio = { 0 }, mmio = { 0 };
	struct exit_stats st = { 0 };
	struct exit_ctx ctx = { &pio, &mmio, &st, "" };

	uart_init(&u, -1, NULL, NULL);
	bus_add(&pio, 0x3f8, 8, uart_bus_read, uart_bus_write, &u);
	bus_add(&pio, 0x501, 1, NULL, power, NULL);
	bus_add(&mmio, 0xd0000000, 0x200, uart_bus_read, uart_bus_write, &u);
	/* Each 16-byte record is one exit. */
	for (size_t off = 0; off + 16 <= size; off += 16) {
		const uint8_t *p = data + off;
		memset(&r, 0, sizeof(r));
		r.run.exit_reason = p[0] % 3 == 0 ? KVM_EXIT_IO : p[0] % 3 == 1 ? KVM_EXIT_MMIO : p[0];
		if (r.run.exit_reason == KVM_EXIT_IO) {
			r.run.io.direction = p[1] & 1;
			r.run.io.size = p[2];
			r.run.io.port = (uint16_t)(0x3f8 + (p[3] % 16) - 4) | (p[4] == 5 ? 0x100 : 0);
			r.run.io.count = p[5] % 64;
			r.run.io.data_offset = 1024 + p[6];
			memcpy(r.page + 1024 + p[6], p + 8, 8);
		} else if (r.run.exit_reason == KVM_EXIT_MMIO) {
			r.run.mmio.phys_addr = 0xd0000000 + (uint64_t)(int8_t)p[3] * 4;
			r.run.mmio.len = p[2];
			r.run.mmio.is_write = p[1] & 1;
			memcpy(r.run.mmio.data, p + 8, 8);
		}
		(void)handle_exit(&ctx, &r.run);
	}
	uart_destroy(&u);
	return 0;
}
