/* Internal to the config parser: the section parsers in config_*.c. */
#ifndef OCIVM_OPS_CONFIG_INT_H
#define OCIVM_OPS_CONFIG_INT_H

#include "ops/config.h"

int ops_kvs_parse(const cJSON *obj, const char *key, const char *path, size_t max,
		  struct ops_kvs *ret, struct oerr *err);
void ops_kvs_free(struct ops_kvs *kvs);

int ops_config_parse_mounts(const cJSON *top, struct ops_config *cfg, struct oerr *err);
int ops_config_parse_hooks(const cJSON *top, struct ops_config *cfg, struct oerr *err);
void ops_config_free_mounts_hooks(struct ops_config *cfg);
int ops_config_parse_linux(const cJSON *top, struct ops_config *cfg, struct oerr *err);
void ops_config_free_linux(struct ops_linux *l);
/* After the linux section: the id mappings and their user namespace. */
int ops_config_parse_userns(const cJSON *top, struct ops_config *cfg, struct oerr *err);
int ops_config_parse_vm(const cJSON *top, struct ops_vm *vm, struct oerr *err);
void ops_config_free_vm(struct ops_vm *vm);

#endif
