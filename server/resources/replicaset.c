/*
 * server/resources/replicaset.c: apps/v1 ReplicaSet and core/v1
 * ReplicationController, which print alike (DESIRED, CURRENT, READY, wide
 * CONTAINERS/IMAGES/SELECTOR) and differ in their selector: a
 * metav1.LabelSelector for the ReplicaSet, a plain label map for the RC.
 * Defaults: replicas 1; the RC also takes selector and labels from its
 * template (SetDefaults_ReplicationController). Validation:
 * ValidateReplicaSetSpec / ValidateReplicationControllerSpec (1.32).
 * PrepareForCreate: status {replicas: 0}.
 */
#include <stdlib.h>
#include <string.h>

#include "server/resources/res_internal.h"

static const struct column rs_columns[] = {
	COL_NAME,
	{ "Desired", "integer", "", DESC_RS_DESIRED, 0 },
	{ "Current", "integer", "", DESC_RS_CURRENT, 0 },
	{ "Ready", "integer", "", DESC_RS_READY, 0 },
	COL_AGE,
	{ "Containers", "string", "", DESC_CONTAINERS, 1 },
	{ "Images", "string", "", DESC_IMAGES, 1 },
	{ "Selector", "string", "", DESC_RS_SELECTOR, 1 },
};

static const struct column rc_columns[] = {
	COL_NAME,
	{ "Desired", "integer", "", DESC_RC_DESIRED, 0 },
	{ "Current", "integer", "", DESC_RC_CURRENT, 0 },
	{ "Ready", "integer", "", DESC_RC_READY, 0 },
	COL_AGE,
	{ "Containers", "string", "", DESC_CONTAINERS, 1 },
	{ "Images", "string", "", DESC_IMAGES, 1 },
	{ "Selector", "string", "", DESC_RC_SELECTOR, 1 },
};

static void rs_cells(const cJSON *rs, time_t now, cJSON *cells)
{
	rs_cells_common(rs, now, cells, fmt_label_selector(jget(rs, "spec.selector")));
}

static void rc_cells(const cJSON *rc, time_t now, cJSON *cells)
{
	rs_cells_common(rc, now, cells, fmt_labels(jget(rc, "spec.selector")));
}

static void replicas_default(cJSON *obj)
{
	if (!cJSON_IsNumber(jget(obj, "spec.replicas")))
		jset_int(obj, "spec.replicas", 1);
}

static void rs_defaults(cJSON *rs)
{
	replicas_default(rs);
	pod_template_defaults(jobj(rs, "spec.template"));
}

static void rc_defaults(cJSON *rc)
{
	const cJSON *labels = jget(rc, "spec.template.metadata.labels");
	if (cJSON_IsObject(labels)) {
		if (!res_jsize(jget(rc, "spec.selector")))
			jset(rc, "spec.selector", cJSON_Duplicate(labels, 1));
		if (!res_jsize(jget(rc, "metadata.labels")))
			jset(rc, "metadata.labels", cJSON_Duplicate(labels, 1));
	}
	replicas_default(rc);
	if (cJSON_IsObject(jget(rc, "spec.template")))
		pod_template_defaults(jget(rc, "spec.template"));
}

static void rs_validate(const cJSON *rs, const cJSON *old, struct field_errs *fe)
{
	const cJSON *spec = jget(rs, "spec");
	res_check_nonneg(fe, "spec.replicas", jget(spec, "replicas"));
	res_check_nonneg(fe, "spec.minReadySeconds", jget(spec, "minReadySeconds"));
	workload_selector_required(spec, "deployment", fe); /* sic, upstream */
	switch (workload_selector_match(spec)) {
	case SEL_INVALID: {
		char *v = res_go_label_selector(jget(spec, "selector"));
		field_err_invalid_raw(fe, "spec.selector", v, "invalid label selector");
		free(v);
		return;
	}
	case SEL_NO_MATCH:
		workload_mismatch(spec, fe);
		/* fall through */
	default:
		pod_template_validate(jget(spec, "template"), "spec.template", fe);
		workload_template_tail(spec, "ReplicaSet", fe);
	}
}

static void rc_validate(const cJSON *rc, const cJSON *old, struct field_errs *fe)
{
	const cJSON *spec = jget(rc, "spec"), *sel = jget(spec, "selector");
	const cJSON *tmpl = jget(spec, "template");
	res_check_nonneg(fe, "spec.minReadySeconds", jget(spec, "minReadySeconds"));
	if (!res_jsize(sel))
		field_err_required(fe, "spec.selector", NULL);
	res_check_nonneg(fe, "spec.replicas", jget(spec, "replicas"));
	if (!cJSON_IsObject(tmpl)) {
		field_err_required(fe, "spec.template", NULL);
		return;
	}
	if (res_jsize(sel) && !res_map_selector_matches(sel, jget(tmpl, "metadata.labels")))
		workload_mismatch(spec, fe);
	pod_template_validate(tmpl, "spec.template", fe);
	workload_template_tail(spec, "ReplicationController", fe);
}

static void rs_prepare_create(cJSON *obj)
{
	cJSON *st = cJSON_CreateObject();
	cJSON_AddNumberToObject(st, "replicas", 0);
	jset(obj, "status", st);
}

static const struct field_def rc_fields[] = {
	{ "metadata.name", "metadata.name", FK_STR },
	{ "metadata.namespace", "metadata.namespace", FK_STR },
	{ "status.replicas", "status.replicas", FK_INT },
	{ NULL, NULL, FK_STR },
};

static int rc_field(const cJSON *obj, const char *label, char *buf, size_t len)
{
	return res_field_from_defs(rc_fields, obj, label, buf, len);
}

static const char *const rs_short[] = { "rs", NULL };
static const char *const rc_short[] = { "rc", NULL };

const struct resource res_replicaset = {
	.group = "apps", .version = "v1", .kind = "ReplicaSet",
	.plural = "replicasets", .singular = "replicaset", .namespaced = true,
	.short_names = rs_short, .categories = res_all_category,
	.has_status = true, .has_scale = true, .generation = true,
	.name_rule = NAME_SUBDOMAIN,
	.columns = rs_columns, .ncolumns = ARRAY_SIZE(rs_columns),
	.cells = rs_cells,
	.defaults = rs_defaults,
	.validate = rs_validate,
	.scale_spec = "spec.replicas", .scale_status = "status.replicas",
	.prepare_create = rs_prepare_create,
};

const struct resource res_replicationcontroller = {
	.group = "", .version = "v1", .kind = "ReplicationController",
	.plural = "replicationcontrollers", .singular = "replicationcontroller",
	.namespaced = true,
	.short_names = rc_short, .categories = res_all_category,
	.has_status = true, .has_scale = true, .generation = true,
	.name_rule = NAME_SUBDOMAIN,
	.columns = rc_columns, .ncolumns = ARRAY_SIZE(rc_columns),
	.cells = rc_cells,
	.field = rc_field, .field_conv = true,
	.defaults = rc_defaults,
	.validate = rc_validate,
	.scale_spec = "spec.replicas", .scale_status = "status.replicas",
	.prepare_create = rs_prepare_create,
};
