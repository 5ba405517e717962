#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vm/vmm/layout.h"
#include "vm/kimage.h"
#include "vm/vmm/loader.h"

#define HDR_SETUP_SECTS 0x1f1
#define HDR_BOOT_FLAG 0x1fe
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_RELOCATABLE 0x234
#define HDR_XLOADFLAGS 0x236
#define HDR_INITRD_MAX 0x22c
#define HDR_PAYLOAD_OFF 0x248
#define HDR_PAYLOAD_LEN 0x24c
#define HDR_PREF_ADDR 0x258
#define HDR_INIT_SIZE 0x260
#define HDR_END 0x268
#define XLF_KERNEL_64 0x1

static uint32_t le32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint16_t le16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint64_t le64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

int bzimage_probe(const uint8_t *img, size_t len)
{
	if (len < HDR_END || le16(img + HDR_BOOT_FLAG) != 0xaa55 ||
	    memcmp(img + HDR_MAGIC, "HdrS", 4) != 0)
		return -ENOEXEC;
	if (le16(img + HDR_VERSION) < 0x020c || !(img[HDR_XLOADFLAGS] & XLF_KERNEL_64))
		return -ENOTSUP;
	return 0;
}

static size_t pm_offset(const uint8_t *img)
{
	unsigned sects = img[HDR_SETUP_SECTS] ? img[HDR_SETUP_SECTS] : 4;
	return (size_t)(sects + 1) * 512;
}

int bzimage_load(const struct gmem *m, const uint8_t *img, size_t len,
		 struct kernel_image *ret, struct oerr *err)
{
	int r = bzimage_probe(img, len);
	if (r == -ENOTSUP)
		return oerr_set(err, ENOEXEC, "bzImage older than boot protocol 2.12 "
				"or without a 64-bit entry");
	if (r < 0)
		return oerr_set(err, ENOEXEC, "not a bzImage");
	size_t off = pm_offset(img);
	if (off >= len)
		return oerr_set(err, ENOEXEC, "bzImage setup is larger than the file");
	uint64_t load = img[HDR_RELOCATABLE] ? le64(img + HDR_PREF_ADDR) : LAYOUT_HIMEM;
	uint64_t init_size = le32(img + HDR_INIT_SIZE);
	if (init_size < len - off)
		init_size = len - off;
	uint8_t *dst = gmem_ptr(m, load, init_size);
	if (!dst)
		return oerr_set(err, ENOMEM, "bzImage needs [0x%llx, +0x%llx): not in guest RAM",
				(unsigned long long)load, (unsigned long long)init_size);
	memcpy(dst, img + off, len - off);
	*ret = (struct kernel_image){
		.mode = BOOT_LINUX64, .entry = load + 0x200,
		.load_end = load + init_size, .initrd_max = le32(img + HDR_INITRD_MAX),
		.setup = img, .setup_len = off,
	};
	return 0;
}

/* The LZ4 payload's vmlinux (vm/kimage.c), with the loader's error texts. */
int bzimage_extract_lz4(const uint8_t *img, size_t len, uint8_t **ret_buf,
			size_t *ret_len, struct oerr *err)
{
	if (bzimage_probe(img, len) < 0)
		return -ENOENT;
	int r = kimg_bzimage_vmlinux(img, len, ret_buf, ret_len);
	if (r == -ENOTSUP)
		return -ENOENT;   /* not LZ4: boot it through its own decompressor */
	if (r == -ENOMEM)
		return oerr_set(err, ENOMEM, "LZ4 payload: out of memory");
	if (r < 0)
		return oerr_set(err, EINVAL, "LZ4 payload is corrupt or of an implausible size");
	return 0;
}
