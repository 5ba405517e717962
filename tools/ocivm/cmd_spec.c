/* spec: a config.json for a busybox-style bundle (rootfs/ beside it), like
 * `runc spec`, plus the `vm` section of the runtime-spec (config-vm.md). */
#include "ocivm.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

#ifndef OCIVM_SHARE
#define OCIVM_SHARE "/usr/local/share/ocivmfs"
#endif

/* The kernel the vm section names (vm.kernel.path is REQUIRED there):
 * --kernel, else $OCIVM_KERNEL, else the guest kernel ocivmfs would use
 * (BUILD/guest/vmlinuz beside BUILD/bin/ocivm, or the share dir).  Written
 * to buf; false when there is none (the bundle then gets no vm section and
 * runs on the daemon's default kernel). */
static bool spec_kernel(const struct ocivm_args *a, char *buf, size_t n)
{
	const char *k = a->kernel ? a->kernel : getenv("OCIVM_KERNEL");

	if (k && *k) {
		snprintf(buf, n, "%s", k);
		return true;
	}
	_cleanup_free_ char *f = share_file(NULL, "vmlinuz", OCIVM_SHARE);
	_cleanup_free_ char *real = f ? realpath(f, NULL) : NULL;   /* the kernel itself */
	if (!real || access(real, R_OK) < 0)
		return false;
	snprintf(buf, n, "%s", real);
	return true;
}

static cJSON *spec_vm(const char *kernel)
{
	cJSON *vm = cJSON_CreateObject();
	cJSON *k = cJSON_AddObjectToObject(vm, "kernel");
	cJSON *hw = cJSON_AddObjectToObject(vm, "hwConfig");

	cJSON_AddStringToObject(k, "path", kernel);
	cJSON_AddNumberToObject(hw, "vcpus", 1);
	cJSON_AddNumberToObject(hw, "memory", 256.0 * 1024 * 1024);
	return vm;
}

int cmd_spec(const struct ocivm_args *a)
{
	const char *dir = a->bundle ? a->bundle : ".";
	char kernel[PATH_MAX], path[4200];
	bool have_kernel = spec_kernel(a, kernel, sizeof(kernel));
	cJSON *j;
	char *text;
	int r;

	if (have_kernel && kernel[0] != '/')
		return ocivm_fail("--kernel %s: must be an absolute path", kernel);
	snprintf(path, sizeof(path), "%s/config.json", dir);
	if (access(path, F_OK) == 0)
		return ocivm_fail("File %s exists. Remove it first", path);
	if (!(j = cJSON_Parse(spec_template)))
		return ocivm_fail("spec: template does not parse");
	if (have_kernel)
		cJSON_AddItemToObject(j, "vm", spec_vm(kernel));
	else
		fprintf(stderr, "ocivm: spec: no guest kernel found (--kernel PATH): no vm "
				"section, the daemon's default kernel will be used\n");
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
