#include "ops/store.h"
#include "ops/cj.h"
#include "cleanup.h"
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE_MAX_BYTES (256u * 1024)

void ops_vm_desc_free(struct ops_vm_desc *d)
{
	free(d->kernel);
	free(d->kernel_cmdline);
	free(d->driver);
	free(d->accel);
	free(d->hypervisor_cmdline);
	free(d->disks);
	free(d->tpl);
	memset(d, 0, sizeof(*d));
}

void ops_record_free(struct ops_record *rec)
{
	if (!rec)
		return;
	free(rec->bundle);
	rec->bundle = NULL;
	ops_vm_desc_free(&rec->vm);
}

static void add_str(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
}

static cJSON *vm_desc_json(const struct ops_vm_desc *d)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	add_str(o, "kernel", d->kernel);
	add_str(o, "kernelCmdline", d->kernel_cmdline);
	add_str(o, "driver", d->driver);
	add_str(o, "accel", d->accel);
	add_str(o, "hypervisorCmdline", d->hypervisor_cmdline);
	add_str(o, "disks", d->disks);
	add_str(o, "template", d->tpl);
	cJSON_AddNumberToObject(o, "vcpus", d->vcpus);
	cJSON_AddNumberToObject(o, "memoryMib", (double)d->memory_mib);
	cJSON_AddNumberToObject(o, "spawnMs", d->spawn_ms);
	cJSON_AddNumberToObject(o, "helloMs", d->hello_ms);
	cJSON_AddNumberToObject(o, "readyMs", d->ready_ms);
	return o;
}

static int reserve_path(const char *dir, char *buf, size_t n)
{
	return snprintf(buf, n, "%s/state.reserve", dir) >= (int)n ? -ENAMETOOLONG : 0;
}

int ops_store_reserve(const char *dir, struct oerr *err)
{
	char path[PATH_MAX];
	if (reserve_path(dir, path, sizeof(path)) < 0)
		return oerr_set(err, ENAMETOOLONG, "%s: path too long", dir);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return oerr_sys(err, errno, "%s", path);
	int r = posix_fallocate(fd, 0, OPS_STORE_RESERVE);
	if (r != 0) {
		unlink(path);
		return oerr_sys(err, r, "%s: no room for the container's record", path);
	}
	return 0;
}

/* Free `by` bytes of the reserve; -ENOSPC when it is used up. */
static int reserve_shrink(const char *dir, size_t by)
{
	char path[PATH_MAX];
	struct stat st;

	if (reserve_path(dir, path, sizeof(path)) < 0 || stat(path, &st) < 0 || st.st_size == 0)
		return -ENOSPC;
	off_t left = st.st_size > (off_t)by ? st.st_size - (off_t)by : 0;
	return truncate(path, left) < 0 ? -errno : 0;
}

static void reserve_grow(const char *dir)
{
	char path[PATH_MAX];
	struct stat st;

	if (reserve_path(dir, path, sizeof(path)) < 0 || stat(path, &st) < 0 ||
	    st.st_size >= OPS_STORE_RESERVE)
		return;   /* none (a record from before reserves) or full */
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	for (off_t sz = OPS_STORE_RESERVE; fd >= 0 && sz > st.st_size; sz -= 4096)
		if (posix_fallocate(fd, 0, sz) == 0)
			break;   /* as much as there is room for */
}

int ops_store_save(const char *dir, const struct ops_record *rec, struct oerr *err)
{
	char path[PATH_MAX];
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return oerr_set(err, ENOMEM, "state: out of memory");
	cJSON_AddStringToObject(o, "id", rec->id);
	add_str(o, "bundle", rec->bundle);
	cJSON_AddStringToObject(o, "status", ops_status_name(rec->status));
	cJSON_AddNumberToObject(o, "created", (double)rec->created);
	cJSON_AddNumberToObject(o, "shimPid", rec->shim_pid);
	cJSON_AddNumberToObject(o, "vmmPid", rec->vmm_pid);
	cJSON_AddBoolToObject(o, "exited", rec->exited);
	cJSON_AddNumberToObject(o, "exitStatus", rec->exit_status);
	cJSON_AddBoolToObject(o, "imageHeld", rec->image_held);
	cJSON_AddStringToObject(o, "lastError", rec->last_error);
	cJSON_AddItemToObject(o, "vm", vm_desc_json(&rec->vm));
	_cleanup_free_ char *text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!text)
		return oerr_set(err, ENOMEM, "state: out of memory");
	snprintf(path, sizeof(path), "%s/state.json", dir);
	size_t len = strlen(text);
	int r = file_write_atomic(path, text, len, 0644);
	/* a full filesystem: the container's reserve gives the room back, a
	 * record's worth at a time (the new copy exists before the old goes) */
	while (r == -ENOSPC && reserve_shrink(dir, (len + 8191) & ~(size_t)4095) == 0)
		r = file_write_atomic(path, text, len, 0644);
	if (r < 0)
		return oerr_sys(err, -r, "%s: cannot save state", path);
	reserve_grow(dir);   /* back to full size where there is room again */
	return 0;
}

static int load_vm_desc(const cJSON *o, struct ops_vm_desc *d, struct oerr *err)
{
	const cJSON *vm = NULL;
	uint64_t v = 0;
	int r = cj_object(o, "vm", "state", 0, &vm, err);

	if (r < 0 || !vm)
		return r;
	if ((r = cj_string(vm, "kernel", "state.vm", 0, PATH_MAX, &d->kernel, err)) < 0 ||
	    (r = cj_string(vm, "kernelCmdline", "state.vm", 0, 65536, &d->kernel_cmdline, err)) < 0 ||
	    (r = cj_string(vm, "driver", "state.vm", 0, 64, &d->driver, err)) < 0 ||
	    (r = cj_string(vm, "accel", "state.vm", 0, 64, &d->accel, err)) < 0 ||
	    (r = cj_string(vm, "hypervisorCmdline", "state.vm", 0, 65536, &d->hypervisor_cmdline, err)) < 0 ||
	    (r = cj_string(vm, "disks", "state.vm", 0, 65536, &d->disks, err)) < 0 ||
	    (r = cj_string(vm, "template", "state.vm", 0, 65536, &d->tpl, err)) < 0 ||
	    (r = cj_u64(vm, "vcpus", "state.vm", 0, 0, 1024, &v, NULL, err)) < 0)
		return r;
	d->vcpus = (unsigned)v;
	if ((r = cj_u64(vm, "memoryMib", "state.vm", 0, 0, UINT64_MAX, &d->memory_mib, NULL, err)) < 0)
		return r;
	const cJSON *t;
	if ((t = cJSON_GetObjectItemCaseSensitive(vm, "spawnMs")) && cJSON_IsNumber(t))
		d->spawn_ms = t->valuedouble;
	if ((t = cJSON_GetObjectItemCaseSensitive(vm, "helloMs")) && cJSON_IsNumber(t))
		d->hello_ms = t->valuedouble;
	if ((t = cJSON_GetObjectItemCaseSensitive(vm, "readyMs")) && cJSON_IsNumber(t))
		d->ready_ms = t->valuedouble;
	return 0;
}

static int parse_status(const char *s, enum ops_status *ret)
{
	for (int i = 0; i < OPS_STATUS_COUNT; i++)
		if (strcmp(s, ops_status_name(i)) == 0) {
			*ret = i;
			return 0;
		}
	return -EINVAL;
}

static int load_fields(const cJSON *o, struct ops_record *rec, struct oerr *err)
{
	_cleanup_free_ char *id = NULL, *status = NULL, *last = NULL;
	uint64_t created = 0, shim = 0, vmm = 0;
	int64_t st = 0;
	int r;

	if ((r = cj_string(o, "id", "state", CJ_REQUIRED, OPS_ID_MAX, &id, err)) < 0 ||
	    (r = cj_string(o, "bundle", "state", 0, PATH_MAX, &rec->bundle, err)) < 0 ||
	    (r = cj_string(o, "status", "state", CJ_REQUIRED, 16, &status, err)) < 0 ||
	    (r = cj_u64(o, "created", "state", 0, 0, INT64_MAX, &created, NULL, err)) < 0 ||
	    (r = cj_u64(o, "shimPid", "state", 0, 0, INT32_MAX, &shim, NULL, err)) < 0 ||
	    (r = cj_u64(o, "vmmPid", "state", 0, 0, INT32_MAX, &vmm, NULL, err)) < 0 ||
	    (r = cj_bool(o, "exited", "state", 0, &rec->exited, err)) < 0 ||
	    (r = cj_i64(o, "exitStatus", "state", 0, -1, 65535, &st, NULL, err)) < 0 ||
	    (r = cj_bool(o, "imageHeld", "state", 0, &rec->image_held, err)) < 0 ||
	    (r = cj_string(o, "lastError", "state", 0, OERR_MSG_MAX - 1, &last, err)) < 0)
		return r;
	if (ops_id_valid(id, NULL) < 0)
		return oerr_set(err, EINVAL, "state.id: invalid");
	if (parse_status(status, &rec->status) < 0)
		return oerr_set(err, EINVAL, "state.status: unknown \"%.16s\"", status);
	snprintf(rec->id, sizeof(rec->id), "%s", id);
	snprintf(rec->last_error, sizeof(rec->last_error), "%s", last ? last : "");
	rec->created = (time_t)created;
	rec->shim_pid = (pid_t)shim;
	rec->vmm_pid = (pid_t)vmm;
	rec->exit_status = (int)st;
	return load_vm_desc(o, &rec->vm, err);
}

int ops_store_load(const char *dir, struct ops_record *ret, struct oerr *err)
{
	char path[PATH_MAX];
	_cleanup_free_ char *text = NULL;
	size_t len;
	struct ops_record rec = { 0 };

	snprintf(path, sizeof(path), "%s/state.json", dir);
	int r = file_read_all(path, STORE_MAX_BYTES, &text, &len);
	if (r < 0)
		return oerr_sys(err, -r, "%s: cannot read", path);
	cJSON *o = cJSON_ParseWithLength(text, len);
	if (!o || !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return oerr_set(err, EINVAL, "%s: not a JSON object", path);
	}
	r = load_fields(o, &rec, err);
	cJSON_Delete(o);
	if (r < 0) {
		oerr_prefix(err, "%s: ", path);
		ops_record_free(&rec);
		return r;
	}
	*ret = rec;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

int ops_store_remove(const char *dir)
{
	if (nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
		return errno == ENOENT ? 0 : -errno;
	return 0;
}
