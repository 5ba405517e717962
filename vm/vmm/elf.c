#include <elf.h>
#include <errno.h>
#include <string.h>

#include "vm/kimage.h"
#include "vm/vmm/loader.h"

static int load_segment(const struct gmem *m, const uint8_t *img, size_t len,
			const Elf64_Phdr *ph, struct oerr *err)
{
	uint8_t *dst;

	if (ph->p_filesz > ph->p_memsz || ph->p_offset > len ||
	    ph->p_filesz > len - ph->p_offset)
		return oerr_set(err, EINVAL, "ELF segment at 0x%llx lies outside the file",
				(unsigned long long)ph->p_paddr);
	dst = gmem_ptr(m, ph->p_paddr, ph->p_memsz);
	if (!dst)
		return oerr_set(err, ENOMEM,
				"ELF segment [0x%llx, +0x%llx) does not fit in guest RAM",
				(unsigned long long)ph->p_paddr,
				(unsigned long long)ph->p_memsz);
	memcpy(dst, img + ph->p_offset, ph->p_filesz);
	memset(dst + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
	return 0;
}

static int check_header(const Elf64_Ehdr *eh, size_t len, struct oerr *err)
{
	if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
		return oerr_set(err, ENOEXEC, "not an ELF file");
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_machine != EM_X86_64)
		return oerr_set(err, ENOEXEC, "not an x86-64 ELF64 image");
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 ||
	    eh->e_phoff > len || (size_t)eh->e_phnum * sizeof(Elf64_Phdr) > len - eh->e_phoff)
		return oerr_set(err, ENOEXEC, "ELF program headers outside the file");
	return 0;
}

int elf_load(const struct gmem *m, const uint8_t *img, size_t len,
	     struct kernel_image *ret, struct oerr *err)
{
	Elf64_Ehdr eh;
	uint64_t pvh = 0, end = 0;
	int have_pvh, nload = 0, r;

	if (len >= sizeof(eh))
		memcpy(&eh, img, sizeof(eh));
	r = check_header(&eh, len, err);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, img + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_LOAD && ph.p_memsz) {
			r = load_segment(m, img, len, &ph, err);
			if (r < 0)
				return r;
			nload++;
			if (ph.p_paddr + ph.p_memsz > end)
				end = ph.p_paddr + ph.p_memsz;
		}
	}
	have_pvh = kimg_elf_pvh_entry(img, len, &pvh) == 0;
	if (!nload)
		return oerr_set(err, ENOEXEC, "ELF image has no loadable segment");
	*ret = (struct kernel_image){
		.mode = have_pvh ? BOOT_PVH : BOOT_LINUX64,
		.entry = have_pvh ? pvh : eh.e_entry,
		.load_end = end,
		.initrd_max = UINT32_MAX,
	};
	if (!gmem_ptr(m, ret->entry, 1))
		return oerr_set(err, ENOEXEC, "ELF entry 0x%llx is outside guest RAM",
				(unsigned long long)ret->entry);
	return 0;
}
