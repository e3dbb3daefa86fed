/*
 * server/resources/statefulset.c: apps/v1 StatefulSet.
 *
 * Printer: printStatefulSet (READY ready/spec.replicas, wide CONTAINERS,
 * IMAGES). Defaults: SetDefaults_StatefulSet of 1.32 (OrderedReady,
 * RollingUpdate with partition 0, PVC retention Retain/Retain, replicas 1,
 * revisionHistoryLimit 10; MaxUnavailableStatefulSet is alpha, off).
 * Validation: ValidateStatefulSetSpec; names are DNS-1123 labels since 1.30
 * (pods are named <set>-<ordinal> and need a label as hostname); upstream
 * does not validate the template's PodSpec here. PrepareForCreate: status
 * {replicas: 0, availableReplicas: 0}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/resources/res_internal.h"

static const struct column sts_columns[] = {
	COL_NAME,
	{ "Ready", "string", "", "Number of the pod with ready state", 0 },
	COL_AGE,
	{ "Containers", "string", "", DESC_CONTAINERS, 1 },
	{ "Images", "string", "", DESC_IMAGES, 1 },
};

static void sts_cells(const cJSON *s, time_t now, cJSON *cells)
{
	const cJSON *pod = jget(s, "spec.template.spec");
	cell_name(cells, s);
	cell_take(cells, xasprintf("%lld/%lld", jint(s, "status.readyReplicas", 0),
				   jint(s, "spec.replicas", 0)));
	cell_age(cells, s, now);
	cell_take(cells, fmt_containers(pod, "name"));
	cell_take(cells, fmt_containers(pod, "image"));
}

static void dflt(cJSON *obj, const char *path, const char *v)
{
	const char *cur = jstr(obj, path);
	if (!cur || !*cur)
		jset_str(obj, path, v);
}

static void sts_defaults(cJSON *s)
{
	cJSON *spec = jobj(s, "spec");
	dflt(spec, "podManagementPolicy", "OrderedReady");
	if (!*jstr_or(spec, "updateStrategy.type", "")) {
		jset_str(spec, "updateStrategy.type", "RollingUpdate");
		jobj(spec, "updateStrategy.rollingUpdate");
	}
	if (!strcmp(jstr(spec, "updateStrategy.type"), "RollingUpdate") &&
	    cJSON_IsObject(jget(spec, "updateStrategy.rollingUpdate")) &&
	    !cJSON_IsNumber(jget(spec, "updateStrategy.rollingUpdate.partition")))
		jset_int(spec, "updateStrategy.rollingUpdate.partition", 0);
	dflt(spec, "persistentVolumeClaimRetentionPolicy.whenDeleted", "Retain");
	dflt(spec, "persistentVolumeClaimRetentionPolicy.whenScaled", "Retain");
	if (!cJSON_IsNumber(jget(spec, "replicas")))
		jset_int(spec, "replicas", 1);
	if (!cJSON_IsNumber(jget(spec, "revisionHistoryLimit")))
		jset_int(spec, "revisionHistoryLimit", 10);
	pod_template_defaults(jobj(spec, "template"));
}

static void validate_strategy(const cJSON *spec, struct field_errs *fe)
{
	static const char *const retention[] = { "Retain", "Delete", NULL };
	const char *pmp = jstr_or(spec, "podManagementPolicy", "");
	const char *type = jstr_or(spec, "updateStrategy.type", "");
	const cJSON *ru = jget(spec, "updateStrategy.rollingUpdate");
	if (!*pmp)
		field_err_required(fe, "spec.podManagementPolicy", NULL);
	else if (strcmp(pmp, "OrderedReady") && strcmp(pmp, "Parallel"))
		field_err_invalid_str(fe, "spec.podManagementPolicy", pmp,
				      "must be 'OrderedReady' or 'Parallel'");
	if (!*type) {
		field_err_required(fe, "spec.updateStrategy", NULL);
	} else if (!strcmp(type, "OnDelete")) {
		if (cJSON_IsObject(ru))
			field_err_add(fe, "FieldValueInvalid", "spec.updateStrategy.rollingUpdate",
				      "Invalid value: apps.RollingUpdateStatefulSetStrategy{...}: "
				      "only allowed for updateStrategy 'RollingUpdate'");
	} else if (!strcmp(type, "RollingUpdate")) {
		res_check_nonneg(fe, "spec.updateStrategy.rollingUpdate.partition",
			     jget(ru, "partition"));
	} else {
		field_err_add(fe, "FieldValueInvalid", "spec.updateStrategy",
			      "Invalid value: apps.StatefulSetUpdateStrategy{Type:\"%s\", ...}: "
			      "must be 'RollingUpdate' or 'OnDelete'", type);
	}
	for (int i = 0; i < 2; i++) {
		const char *key = i ? "whenScaled" : "whenDeleted";
		char path[FP_MAX];
		const char *v;
		snprintf(path, sizeof(path), "persistentVolumeClaimRetentionPolicy.%s", key);
		v = jstr_or(spec, path, "");
		if (cJSON_IsObject(jget(spec, "persistentVolumeClaimRetentionPolicy")) &&
		    !res_str_in(v, retention))
			field_err_unsupported(fe, res_fp(path, "spec.persistentVolumeClaimRetentionPolicy.%s", key),
					      v, retention);
	}
}

static void sts_validate(const cJSON *s, const cJSON *old, struct field_errs *fe)
{
	const cJSON *spec = jget(s, "spec");
	validate_strategy(spec, fe);
	res_check_nonneg(fe, "spec.replicas", jget(spec, "replicas"));
	res_check_nonneg(fe, "spec.minReadySeconds", jget(spec, "minReadySeconds"));
	res_check_nonneg(fe, "spec.ordinals.start", jget(spec, "ordinals.start"));
	workload_selector_required(spec, "statefulset", fe);
	switch (workload_selector_match(spec)) {
	case SEL_INVALID: {
		char *v = res_go_label_selector(jget(spec, "selector"));
		field_err_invalid_raw(fe, "spec.selector", v, "");
		free(v);
		break;
	}
	case SEL_NO_MATCH:
		workload_mismatch(spec, fe);
		/* fall through */
	default:
		resource_validate_labels(jget(spec, "template.metadata.labels"),
					 "spec.template.labels", fe);
	}
	workload_template_tail(spec, "StatefulSet", fe);
}

static void sts_prepare_create(cJSON *s)
{
	cJSON *st = cJSON_CreateObject();
	cJSON_AddNumberToObject(st, "replicas", 0);
	cJSON_AddNumberToObject(st, "availableReplicas", 0);
	jset(s, "status", st);
}

static const char *const sts_short[] = { "sts", NULL };

const struct resource res_statefulset = {
	.group = "apps", .version = "v1", .kind = "StatefulSet",
	.plural = "statefulsets", .singular = "statefulset", .namespaced = true,
	.short_names = sts_short, .categories = res_all_category,
	.has_status = true, .has_scale = true, .generation = true,
	.name_rule = NAME_LABEL,
	.columns = sts_columns, .ncolumns = ARRAY_SIZE(sts_columns),
	.cells = sts_cells,
	.defaults = sts_defaults,
	.validate = sts_validate,
	.scale_spec = "spec.replicas", .scale_status = "status.replicas",
	.prepare_create = sts_prepare_create,
};
