/* config.json: the vm section (runtime-spec config-vm.md) and the VM shape. */
#include "ops/config_int.h"
#include "vm/defaults.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const image_formats[] = { "raw", "qcow2", "vdi", "vmdk", "vhd" };

static int parse_kernel(const cJSON *vmj, struct ops_vm *vm, struct oerr *err)
{
	const cJSON *k = NULL;
	int r = cj_object(vmj, "kernel", "vm", CJ_REQUIRED, &k, err);

	if (r < 0)
		return r;
	if ((r = cj_string(k, "path", "vm.kernel", CJ_REQUIRED | CJ_ABS, PATH_MAX - 1,
			   &vm->kernel_path, err)) < 0 ||
	    (r = cj_strv(k, "parameters", "vm.kernel", 0, OPS_CFG_MAX_ARGS, OPS_CFG_MAX_STR,
			 &vm->kernel_params, err)) < 0)
		return r;
	return cj_string(k, "initrd", "vm.kernel", CJ_ABS, PATH_MAX - 1, &vm->initrd, err);
}

static int parse_hypervisor(const cJSON *vmj, struct ops_vm *vm, struct oerr *err)
{
	const cJSON *h = NULL;
	int r = cj_object(vmj, "hypervisor", "vm", 0, &h, err);

	if (r < 0 || !h || cJSON_GetArraySize(h) == 0)
		return r; /* an empty object is accepted: the default hypervisor */
	vm->has_hypervisor = true;
	if ((r = cj_string(h, "path", "vm.hypervisor", CJ_REQUIRED | CJ_ABS, PATH_MAX - 1,
			   &vm->hypervisor_path, err)) < 0)
		return r;
	return cj_strv(h, "parameters", "vm.hypervisor", 0, OPS_CFG_MAX_ARGS, OPS_CFG_MAX_STR,
		       &vm->hypervisor_params, err);
}

static int parse_image(const cJSON *vmj, struct ops_vm *vm, struct oerr *err)
{
	const cJSON *im = NULL;
	char *fmt = NULL;
	size_t k;
	int r = cj_object(vmj, "image", "vm", 0, &im, err);

	if (r < 0 || !im || cJSON_GetArraySize(im) == 0)
		return r; /* an empty object is accepted: no VM root image */
	vm->has_image = true;
	if ((r = cj_string(im, "path", "vm.image", CJ_REQUIRED | CJ_ABS, PATH_MAX - 1,
			   &vm->image_path, err)) < 0 ||
	    (r = cj_string(im, "format", "vm.image", CJ_REQUIRED, 16, &fmt, err)) < 0)
		return r;
	for (k = 0; k < sizeof(image_formats) / sizeof(image_formats[0]); k++)
		if (strcmp(fmt, image_formats[k]) == 0)
			break;
	if (k == sizeof(image_formats) / sizeof(image_formats[0]))
		r = oerr_set(err, EINVAL, "vm.image.format: \"%.16s\" is not one of raw, qcow2, vdi, vmdk, vhd", fmt);
	else if (k != OPS_IMAGE_RAW)
		r = oerr_set(err, EINVAL, "vm.image.format: %s images are not supported (only raw is served)", fmt);
	vm->image_format = (enum ops_image_format)k;
	free(fmt);
	return r;
}

/* deviceTree, dtdevs, iomems and irqs describe passthrough on device-tree
 * machines; they are type-checked and, when non-empty, refused. */
static int parse_hw_passthrough(const cJSON *hw, struct oerr *err)
{
	struct cj_strv dtdevs = { 0 };
	char *dt = NULL;
	const cJSON *iomems = NULL, *irqs = NULL, *it = NULL;
	char p[CJ_PATH_MAX];
	uint64_t v;
	size_t i = 0;
	int r = cj_string(hw, "deviceTree", "vm.hwConfig", CJ_ABS, PATH_MAX - 1, &dt, err);

	if (r == 0)
		r = cj_strv(hw, "dtdevs", "vm.hwConfig", 0, OPS_CFG_MAX_LIST, OPS_CFG_MAX_STR, &dtdevs, err);
	if (r == 0)
		r = cj_array(hw, "iomems", "vm.hwConfig", 0, OPS_CFG_MAX_LIST, &iomems, err);
	if (r == 0)
		r = cj_array(hw, "irqs", "vm.hwConfig", 0, OPS_CFG_MAX_LIST, &irqs, err);
	for (it = r == 0 && iomems ? iomems->child : NULL; it && r == 0; it = it->next, i++) {
		cj_index(p, "vm.hwConfig.iomems", i);
		if (!cJSON_IsObject(it))
			r = oerr_set(err, EINVAL, "%s: must be an object", p);
		else if ((r = cj_u64(it, "firstGFN", p, 0, 0, UINT64_MAX, &v, NULL, err)) == 0 &&
			 (r = cj_u64(it, "firstMFN", p, CJ_REQUIRED, 0, UINT64_MAX, &v, NULL, err)) == 0)
			r = cj_u64(it, "nrMFNs", p, CJ_REQUIRED, 0, UINT64_MAX, &v, NULL, err);
	}
	i = 0;
	for (it = r == 0 && irqs ? irqs->child : NULL; it && r == 0; it = it->next, i++)
		r = cj_u64_value(it, cj_index(p, "vm.hwConfig.irqs", i), 0, UINT32_MAX, &v, err);
	if (r == 0 && dt)
		r = oerr_set(err, EINVAL, "vm.hwConfig.deviceTree: not supported on x86 (ACPI describes the machine)");
	if (r == 0 && (dtdevs.n || (iomems && iomems->child) || (irqs && irqs->child)))
		r = oerr_set(err, EINVAL, "vm.hwConfig: device passthrough (dtdevs, iomems, irqs) is not supported");
	free(dt);
	cj_strv_free(&dtdevs);
	return r;
}

static int parse_hw(const cJSON *vmj, struct ops_vm *vm, struct oerr *err)
{
	const cJSON *hw = NULL;
	uint64_t v = 0;
	int r = cj_object(vmj, "hwConfig", "vm", 0, &hw, err);

	if (r < 0 || !hw)
		return r;
	if ((r = cj_u64(hw, "vcpus", "vm.hwConfig", 0, 1, OPS_CFG_MAX_VCPUS, &v,
			&vm->has_vcpus, err)) < 0)
		return r;
	vm->vcpus = (uint32_t)v;
	if ((r = cj_u64(hw, "memory", "vm.hwConfig", 0, 1, OPS_CFG_MAX_MEMORY,
			&vm->memory, &vm->has_memory, err)) < 0)
		return r;
	if (vm->has_memory && vm->memory < OPS_CFG_MIN_MEMORY)
		return oerr_set(err, EINVAL, "vm.hwConfig.memory: %llu bytes is less than the %d MiB "
				"the guest kernel and ocivm-init need to boot (the VM's RAM, not "
				"the container's limit: use linux.resources.memory.limit for that)",
				(unsigned long long)vm->memory, OPS_GUEST_FLOOR_MIB);
	return parse_hw_passthrough(hw, err);
}

int ops_config_parse_vm(const cJSON *top, struct ops_vm *vm, struct oerr *err)
{
	const cJSON *vmj = NULL;
	int r = cj_object(top, "vm", "", 0, &vmj, err);

	if (r < 0 || !vmj)
		return r;
	vm->present = true;
	if ((r = parse_kernel(vmj, vm, err)) < 0 ||
	    (r = parse_hypervisor(vmj, vm, err)) < 0 ||
	    (r = parse_image(vmj, vm, err)) < 0)
		return r;
	return parse_hw(vmj, vm, err);
}

void ops_config_free_vm(struct ops_vm *vm)
{
	free(vm->kernel_path);
	free(vm->initrd);
	cj_strv_free(&vm->kernel_params);
	free(vm->hypervisor_path);
	cj_strv_free(&vm->hypervisor_params);
	free(vm->image_path);
}

/* Number of CPUs in a list like "0-3,6"; 0 if malformed. */
static unsigned cpuset_count(const char *s)
{
	unsigned n = 0;

	while (*s) {
		char *e;
		unsigned long a = strtoul(s, &e, 10), b = a;
		if (e == s)
			return 0;
		if (*e == '-') {
			s = e + 1;
			b = strtoul(s, &e, 10);
			if (e == s || b < a)
				return 0;
		}
		if (b - a >= OPS_CFG_MAX_VCPUS || n + (b - a + 1) > OPS_CFG_MAX_VCPUS)
			return OPS_CFG_MAX_VCPUS;
		n += (unsigned)(b - a + 1);
		if (*e == ',')
			e++;
		else if (*e)
			return 0;
		s = e;
	}
	return n;
}

static unsigned shape_vcpus(const struct ops_config *cfg, unsigned def)
{
	const struct ops_linux *l = &cfg->linux_;

	if (cfg->vm.has_vcpus)
		return cfg->vm.vcpus;
	if (l->has_cpu_quota && l->cpu_quota > 0) {
		uint64_t period = l->has_cpu_period ? l->cpu_period : 100000;
		uint64_t n = ((uint64_t)l->cpu_quota + period - 1) / period;
		return n > OPS_CFG_MAX_VCPUS ? OPS_CFG_MAX_VCPUS : (unsigned)n;
	}
	if (l->cpus) {
		unsigned n = cpuset_count(l->cpus);
		if (n)
			return n;
	}
	return def ? def : 1;
}

void ops_config_vm_shape(const struct ops_config *cfg, unsigned def_vcpus, uint64_t def_mib,
			 unsigned *ret_vcpus, uint64_t *ret_mib)
{
	const uint64_t mib = 1ull << 20;
	const struct ops_linux *l = &cfg->linux_;

	*ret_vcpus = shape_vcpus(cfg, def_vcpus);
	/* memory.limit is the container's (a cgroup in the guest), not the
	 * VM's: the guest gets it plus its own share, never below the floor */
	if (cfg->vm.has_memory)
		*ret_mib = (cfg->vm.memory + mib - 1) / mib;
	else if (l->has_memory_limit && l->memory_limit > 0)
		*ret_mib = ((uint64_t)l->memory_limit + mib - 1) / mib + OPS_GUEST_HEADROOM_MIB;
	else
		*ret_mib = def_mib ? def_mib : VM_DEFAULT_MEMORY_MIB;
	if (*ret_mib < OPS_GUEST_FLOOR_MIB)
		*ret_mib = OPS_GUEST_FLOOR_MIB;
	if (*ret_mib > OPS_CFG_MAX_MEMORY / mib)
		*ret_mib = OPS_CFG_MAX_MEMORY / mib;
}
