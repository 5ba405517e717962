/* libFuzzer: what vm/driver parses from outside — a bundle's kernel
 * (bzImage header, LZ4 payload, ELF notes) and run_dir/vm.json.  The first
 * byte picks the parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vm/driver/kernel.h"
#include "vm/driver/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1) {
		uint8_t *out = NULL;
		size_t len = 0;
		if (vm_bzimage_extract(data + 1, size - 1, &out, &len) == 0) {
			vm_elf_has_pvh(out, len);
			free(out);
		}
		vm_elf_has_pvh(data + 1, size - 1);
		return 0;
	}
	char *text = malloc(size);
	struct vm_record rec;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	if (vm_record_parse(text, &rec) == 0)
		vm_record_free(&rec);
	free(text);
	return 0;
}
