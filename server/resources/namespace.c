/*
 * server/resources/namespace.c: core/v1 Namespace (cluster-scoped).
 *
 * Printer: NAME, STATUS (status.phase), AGE. Defaults: the
 * kubernetes.io/metadata.name label (SetDefaults_Namespace),
 * spec.finalizers [kubernetes] (the strategy's PrepareForCreate, and kept on
 * update) and status.phase Active. Validation: finalizer names are
 * qualified names, or `kubernetes`. Field selectors: metadata.name,
 * status.phase. Not here: namespace deletion (server/controllers).
 */
#include <string.h>

#include "server/resources/res_internal.h"

static const struct column ns_columns[] = {
	COL_NAME,
	{ "Status", "string", "", "The status of the namespace", 0 },
	COL_AGE,
};

static void ns_cells(const cJSON *ns, time_t now, cJSON *cells)
{
	cell_name(cells, ns);
	cell_str(cells, jstr(ns, "status.phase"));
	cell_age(cells, ns, now);
}

static const struct field_def ns_fields[] = {
	{ "metadata.name", "metadata.name", FK_STR },
	{ "status.phase", "status.phase", FK_STR },
	{ NULL, NULL, FK_STR },
};

static int ns_field(const cJSON *obj, const char *label, char *buf, size_t len)
{
	return res_field_from_defs(ns_fields, obj, label, buf, len);
}

static void ns_defaults(cJSON *ns)
{
	const char *name = jstr_or(ns, "metadata.name", "");
	if (*name)
		res_jput(jobj(ns, "metadata.labels"), "kubernetes.io/metadata.name",
		     cJSON_CreateString(name));
	if (!cJSON_IsArray(jget(ns, "spec.finalizers"))) {
		cJSON *f = cJSON_CreateArray();
		cJSON_AddItemToArray(f, cJSON_CreateString("kubernetes"));
		jset(ns, "spec.finalizers", f);
	}
	if (!*jstr_or(ns, "status.phase", ""))
		jset_str(ns, "status.phase", "Active");
}

/* ValidateNamespace: spec.finalizers are qualified names, and either
 * standard or prefixed (validateFinalizerName). */
static void ns_validate(const cJSON *ns, const cJSON *old, struct field_errs *fe)
{
	static const char *const standard[] = { "kubernetes", "orphan", "foregroundDeletion", NULL };
	const cJSON *f;
	cJSON_ArrayForEach(f, jget(ns, "spec.finalizers")) {
		const char *v = cJSON_IsString(f) ? f->valuestring : "";
		const char *msgs[MSG_MAX];
		int n = is_qualified_name(v, msgs);
		for (int i = 0; i < n; i++)
			field_err_invalid_str(fe, "spec.finalizers", v, msgs[i]);
		if (!strchr(v, '/') && !res_str_in(v, standard))
			field_err_invalid_str(fe, "spec.finalizers", v,
					      "name is neither a standard finalizer name nor is it fully qualified");
	}
}

static const char *const ns_short[] = { "ns", NULL };

const struct resource res_namespace = {
	.group = "", .version = "v1", .kind = "Namespace",
	.plural = "namespaces", .singular = "namespace", .namespaced = false,
	.short_names = ns_short,
	.has_status = true,
	.delete_returns_object = true,
	.name_rule = NAME_LABEL,
	.columns = ns_columns, .ncolumns = ARRAY_SIZE(ns_columns),
	.cells = ns_cells,
	.field = ns_field, .field_conv = true,
	.defaults = ns_defaults,
	.validate = ns_validate,
};
