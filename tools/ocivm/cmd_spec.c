/* spec: a config.json for a busybox-style bundle (rootfs/ beside it), like
 * `runc spec`, plus the `vm` section of the runtime-spec (config-vm.md). */
#include "ocivm.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"

static const char spec_template[] =
"{\"ociVersion\":\"" OCIVM_SPEC_VERSION "\","
" \"process\":{\"terminal\":false,\"user\":{\"uid\":0,\"gid\":0},"
"  \"args\":[\"sh\"],"
"  \"env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","
"         \"TERM=xterm\"],"
"  \"cwd\":\"/\",\"noNewPrivileges\":true},"
" \"root\":{\"path\":\"rootfs\",\"readonly\":false},"
" \"hostname\":\"ocivm\","
" \"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
"  {\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
"   \"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
"  {\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\","
"   \"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]}],"
" \"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},"
"  {\"type\":\"mount\"}]}}";

/* The kernel the vm section names: --kernel, else $OCIVM_KERNEL; NULL when
 * neither (the bundle then runs on the daemon's default kernel, which is
 * also what a bundle without `vm.kernel` gets). */
static const char *spec_kernel(const struct ocivm_args *a)
{
	const char *k = a->kernel ? a->kernel : getenv("OCIVM_KERNEL");

	return k && *k ? k : NULL;
}

static cJSON *spec_vm(const char *kernel)
{
	cJSON *vm = cJSON_CreateObject();
	cJSON *hw = cJSON_AddObjectToObject(vm, "hwConfig");

	if (kernel) {
		cJSON *k = cJSON_AddObjectToObject(vm, "kernel");
		const char *params[] = { "console=ttyS0" };
		cJSON_AddStringToObject(k, "path", kernel);
		cJSON_AddItemToObject(k, "parameters", cJSON_CreateStringArray(params, 1));
	}
	cJSON_AddNumberToObject(hw, "vcpus", 1);
	cJSON_AddNumberToObject(hw, "memory", 256.0 * 1024 * 1024);
	return vm;
}

int cmd_spec(const struct ocivm_args *a)
{
	const char *dir = a->bundle ? a->bundle : ".";
	const char *kernel = spec_kernel(a);
	char path[4200];
	cJSON *j;
	char *text;
	int r;

	if (kernel && kernel[0] != '/')
		return ocivm_fail("--kernel %s: must be an absolute path", kernel);
	snprintf(path, sizeof(path), "%s/config.json", dir);
	if (access(path, F_OK) == 0)
		return ocivm_fail("File %s exists. Remove it first", path);
	if (!(j = cJSON_Parse(spec_template)))
		return ocivm_fail("spec: template does not parse");
	cJSON_AddItemToObject(j, "vm", spec_vm(kernel));
	text = cJSON_Print(j);
	cJSON_Delete(j);
	if (!text)
		return ocivm_fail("spec: out of memory");
	r = file_write_atomic(path, text, strlen(text), 0644);
	free(text);
	if (r < 0)
		return ocivm_fail("writing %s: %s", path, strerror(-r));
	return 0;
}
