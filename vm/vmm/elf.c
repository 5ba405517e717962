#include <elf.h>
#include <errno.h>
#include <string.h>

#include "vm/vmm/loader.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18

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

/* Scan one PT_NOTE segment for the PVH entry; 0 and *entry set if found. */
static int find_pvh_note(const uint8_t *img, size_t len, const Elf64_Phdr *ph,
			 uint64_t *entry)
{
	size_t off, end;

	if (ph->p_offset > len || ph->p_filesz > len - ph->p_offset)
		return -EINVAL;
	off = ph->p_offset;
	end = ph->p_offset + ph->p_filesz;
	while (end - off >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;
		memcpy(&nh, img + off, sizeof(nh));
		size_t name_sz = (nh.n_namesz + 3u) & ~3u, desc_sz = (nh.n_descsz + 3u) & ~3u;
		size_t body = sizeof(nh);
		if (name_sz > end - off - body || desc_sz > end - off - body - name_sz)
			return -EINVAL;
		const uint8_t *name = img + off + body, *desc = name + name_sz;
		if (nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh.n_namesz == 4 &&
		    memcmp(name, "Xen", 4) == 0 && (nh.n_descsz == 4 || nh.n_descsz == 8)) {
			uint64_t e = 0;
			memcpy(&e, desc, nh.n_descsz);
			*entry = nh.n_descsz == 4 ? (uint32_t)e : e;
			return 0;
		}
		off += body + name_sz + desc_sz;
	}
	return -ENOENT;
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
	int have_pvh = 0, nload = 0, r;

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
		} else if (ph.p_type == PT_NOTE && !have_pvh) {
			have_pvh = find_pvh_note(img, len, &ph, &pvh) == 0;
		}
	}
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
