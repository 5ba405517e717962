/* The template key: what a template depends on, as text, and its SHA-256
 * (template.h). */
#include "vm_priv.h"
#include "resolve.h"
#include "template.h"
#include "cleanup.h"

#include <errno.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* "what PATH dev:ino size mtime ctime": a file the template depends on; a
 * rebuilt or replaced one (new ctime at least) makes another key. */
static void key_file(FILE *f, const char *what, const char *path)
{
	struct stat st;

	if (!path || stat(path, &st) < 0) {
		fprintf(f, "%s %s (none)\n", what, path ? path : "-");
		return;
	}
	fprintf(f, "%s %s %llu:%llu %lld %lld.%09ld %lld.%09ld\n", what, path,
		(unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
		(long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
		(long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
}

int vm_template_key(const struct vm_config *user_cfg, const struct vm_host_probe *probe,
		    char key[65], char **ret_inputs, struct oerr *err)
{
	struct vm_config cfg = *user_cfg;
	struct vm_choice c;
	struct vm *scratch = vm_alloc(NULL, NULL);
	char *text = NULL, *cmdline = NULL;
	size_t len = 0;
	int r;

	if (!scratch)
		return oerr_set(err, ENOMEM, "out of memory");
	if ((r = vm_resolve(&cfg, probe, &c, err)) < 0) {
		vm_free(scratch);
		return r;
	}
	_cleanup_free_ char *binary = c.binary, *pvh = NULL;
	_cleanup_free_ struct vm_disk *disks = NULL;
	if (c.drv != &vm_driver_qemu) {
		vm_free(scratch);
		return -ENOTSUP;
	}
	r = vm_adjust_config(scratch, c.drv, &cfg, &disks, &pvh);
	vm_free(scratch);
	if (r < 0)
		return oerr_set(err, ENOMEM, "out of memory");
	struct vm_launch l = { .cfg = &cfg, .binary = binary, .accel = c.accel,
			       .tsc_khz = probe->tsc_khz };
	if ((r = vm_kernel_cmdline(&l, c.drv->base_cmdline, &cmdline, err)) < 0)
		return r;
	FILE *f = open_memstream(&text, &len);
	if (!f) {
		free(cmdline);
		return oerr_set(err, ENOMEM, "out of memory");
	}
	fprintf(f, "template %u\ndriver %s\naccel %s\n", VM_TPL_VERSION, c.drv->name,
		c.accel == VM_ACCEL_KVM ? "kvm" : "tcg");
	key_file(f, "binary", binary);
	key_file(f, "kernel", cfg.kernel);
	key_file(f, "initrd", cfg.initrd);
	fprintf(f, "vcpus %u\nmemory_mib %llu\ncmdline %s\ndisks", cfg.vcpus ? cfg.vcpus : 1,
		(unsigned long long)(cfg.memory_mib ? cfg.memory_mib : VM_DEFAULT_MEMORY_MIB), cmdline);
	for (size_t i = 0; i < cfg.n_disks; i++)
		fprintf(f, " %s", cfg.disks[i].readonly ? "ro" : "rw");
	fprintf(f, "\nparameters");
	for (size_t i = 0; i < cfg.n_hypervisor_params; i++)
		fprintf(f, " %s", cfg.hypervisor_params[i]);
	fprintf(f, "\nconfined %d\nnics %zu\n", cfg.confine && cfg.confine->on,
		cfg.netns && cfg.net ? cfg.net->n : 0);
	free(cmdline);
	if (fclose(f) != 0 || !text) {
		free(text);
		return oerr_set(err, ENOMEM, "out of memory");
	}
	uint8_t d[SHA256_DIGEST_SIZE];
	struct sha256_ctx h;
	sha256_init(&h);
	sha256_update(&h, len, (const uint8_t *)text);
	sha256_digest(&h, sizeof(d), d);
	for (size_t i = 0; i < sizeof(d); i++)
		sprintf(key + 2 * i, "%02x", d[i]);
	*ret_inputs = text;
	return 0;
}

