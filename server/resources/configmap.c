/*
 * server/resources/configmap.c: core/v1 ConfigMap.
 *
 * Printer: NAME, DATA (len(data) + len(binaryData)), AGE. Validation:
 * ValidateConfigMap (keys, keys in both bags, 1 MiB total) and, on update,
 * the `immutable` rules of ValidateConfigMapUpdate (release-1.32).
 */
#include <stdio.h>
#include <string.h>

#include "server/resources/res_internal.h"

static const struct column cm_columns[] = {
	COL_NAME,
	{ "Data", "string", "", DESC_CM_DATA, 0 },
	COL_AGE,
};

static void cm_cells(const cJSON *cm, time_t now, cJSON *cells)
{
	cell_name(cells, cm);
	cell_int(cells, res_jsize(jget(cm, "data")) + res_jsize(jget(cm, "binaryData")));
	cell_age(cells, cm, now);
}

/* Keys of one bag; `other` names the bag a duplicate key is reported in. */
static size_t check_bag(const cJSON *cm, const char *bag, const char *other,
			struct field_errs *fe)
{
	const cJSON *it;
	char f[FP_MAX], msg[64];
	size_t total = 0;
	cJSON_ArrayForEach(it, ONLY_OBJ(jget(cm, bag))) {
		const char *v = cJSON_IsString(it) ? it->valuestring : "";
		res_fp(f, "%s[%s]", bag, it->string);
		res_invalid_each(fe, f, it->string, is_config_map_key);
		if (cJSON_GetObjectItemCaseSensitive(jget(cm, other), it->string)) {
			snprintf(msg, sizeof(msg), "duplicate of key present in %s", other);
			field_err_invalid_str(fe, f, it->string, msg);
		}
		/* binaryData travels as base64: count decoded bytes. */
		total += !strcmp(bag, "binaryData") ? strlen(v) / 4 * 3 : strlen(v);
	}
	return total;
}

static void cm_validate(const cJSON *cm, const cJSON *old, struct field_errs *fe)
{
	size_t total = check_bag(cm, "data", "binaryData", fe) +
		       check_bag(cm, "binaryData", "data", fe);
	if (total > 1024 * 1024)
		field_err_add(fe, "FieldValueTooLong", "",
			      "Too long: may not be more than %d bytes", 1024 * 1024);
	if (!old || !jbool(old, "immutable", false))
		return;
	if (!jbool(cm, "immutable", false))
		field_err_forbidden(fe, "immutable", "field is immutable when `immutable` is set");
	if (!jequal(jget(cm, "data"), jget(old, "data")))
		field_err_forbidden(fe, "data", "field is immutable when `immutable` is set");
	if (!jequal(jget(cm, "binaryData"), jget(old, "binaryData")))
		field_err_forbidden(fe, "binaryData", "field is immutable when `immutable` is set");
}

static const char *const cm_short[] = { "cm", NULL };

const struct resource res_configmap = {
	.group = "", .version = "v1", .kind = "ConfigMap",
	.plural = "configmaps", .singular = "configmap", .namespaced = true,
	.short_names = cm_short,
	.name_rule = NAME_SUBDOMAIN,
	.columns = cm_columns, .ncolumns = ARRAY_SIZE(cm_columns),
	.cells = cm_cells,
	.validate = cm_validate,
};
