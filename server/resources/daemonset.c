/*
 * server/resources/daemonset.c: apps/v1 DaemonSet.
 *
 * Printer: printDaemonSet (DESIRED, CURRENT, READY, UP-TO-DATE, AVAILABLE,
 * NODE SELECTOR, wide CONTAINERS/IMAGES/SELECTOR). Defaults: RollingUpdate
 * with maxUnavailable 1 / maxSurge 0, revisionHistoryLimit 10, the pod
 * template's. Validation: ValidateDaemonSetSpec (1.32): no Required on a
 * missing selector, only the template mismatch. PrepareForCreate: the four
 * non-omitempty status counters at 0.
 */
#include <stdlib.h>
#include <string.h>

#include "server/resources/res_internal.h"

static const struct column ds_columns[] = {
	COL_NAME,
	{ "Desired", "integer", "", DESC_DS_DESIRED, 0 },
	{ "Current", "integer", "", DESC_DS_CURRENT, 0 },
	{ "Ready", "integer", "", DESC_DS_READY, 0 },
	{ "Up-to-date", "integer", "", DESC_DS_UPDATED, 0 },
	{ "Available", "integer", "", DESC_DS_AVAILABLE, 0 },
	{ "Node Selector", "string", "", DESC_DS_NODESEL, 0 },
	COL_AGE,
	{ "Containers", "string", "", DESC_CONTAINERS, 1 },
	{ "Images", "string", "", DESC_IMAGES, 1 },
	{ "Selector", "string", "", DESC_DS_SELECTOR, 1 },
};

static void ds_cells(const cJSON *ds, time_t now, cJSON *cells)
{
	static const char *const counters[] = {
		"status.desiredNumberScheduled", "status.currentNumberScheduled",
		"status.numberReady", "status.updatedNumberScheduled",
		"status.numberAvailable",
	};
	const cJSON *pod = jget(ds, "spec.template.spec");
	cell_name(cells, ds);
	for (size_t i = 0; i < ARRAY_SIZE(counters); i++)
		cell_int(cells, jint(ds, counters[i], 0));
	cell_take(cells, fmt_labels(jget(pod, "nodeSelector")));
	cell_age(cells, ds, now);
	cell_take(cells, fmt_containers(pod, "name"));
	cell_take(cells, fmt_containers(pod, "image"));
	cell_take(cells, fmt_label_selector(jget(ds, "spec.selector")));
}

static void ds_defaults(cJSON *ds)
{
	cJSON *spec = jobj(ds, "spec"), *ru;
	if (!*jstr_or(spec, "updateStrategy.type", ""))
		jset_str(spec, "updateStrategy.type", "RollingUpdate");
	if (!strcmp(jstr(spec, "updateStrategy.type"), "RollingUpdate")) {
		ru = jobj(spec, "updateStrategy.rollingUpdate");
		if (!jget(ru, "maxUnavailable") || cJSON_IsNull(jget(ru, "maxUnavailable")))
			jset_int(ru, "maxUnavailable", 1);
		if (!jget(ru, "maxSurge") || cJSON_IsNull(jget(ru, "maxSurge")))
			jset_int(ru, "maxSurge", 0);
	}
	if (!cJSON_IsNumber(jget(spec, "revisionHistoryLimit")))
		jset_int(spec, "revisionHistoryLimit", 10);
	pod_template_defaults(jobj(spec, "template"));
}

static void validate_update_strategy(const cJSON *spec, struct field_errs *fe)
{
	const char *type = jstr_or(spec, "updateStrategy.type", "");
	const cJSON *ru = jget(spec, "updateStrategy.rollingUpdate");
	const cJSON *mu = jget(ru, "maxUnavailable"), *ms = jget(ru, "maxSurge");
	const char *base = "spec.updateStrategy.rollingUpdate";
	char f[FP_MAX];
	if (!strcmp(type, "OnDelete"))
		return;
	if (strcmp(type, "RollingUpdate")) {
		field_err_add(fe, "FieldValueNotSupported", "spec.updateStrategy",
			      "Unsupported value: apps.DaemonSetUpdateStrategy{Type:\"%s\", ...}: "
			      "supported values: \"RollingUpdate\", \"OnDelete\"", type);
		return;
	}
	if (!cJSON_IsObject(ru)) {
		field_err_required(fe, "spec.updateStrategy.rollingUpdate", NULL);
		return;
	}
	workload_int_or_percent(mu, res_fp(f, "%s.maxUnavailable", base), fe);
	workload_int_or_percent(ms, res_fp(f, "%s.maxSurge", base), fe);
	workload_not_over_100(mu, res_fp(f, "%s.maxUnavailable", base), fe);
	workload_not_over_100(ms, res_fp(f, "%s.maxSurge", base), fe);
	if (!workload_intstr_zero(mu) && !workload_intstr_zero(ms)) {
		char *v = res_go_intstr(ms);
		field_err_invalid_raw(fe, res_fp(f, "%s.maxSurge", base), v,
				      "may not be set when maxUnavailable is non-zero");
		free(v);
	} else if (workload_intstr_zero(mu) && workload_intstr_zero(ms)) {
		field_err_required(fe, res_fp(f, "%s.maxUnavailable", base),
				   "cannot be 0 when maxSurge is 0");
	}
}

static void ds_validate(const cJSON *ds, const cJSON *old, struct field_errs *fe)
{
	const cJSON *spec = jget(ds, "spec");
	workload_label_selector(spec, fe);
	if (workload_selector_match(spec) == SEL_NO_MATCH)
		workload_mismatch(spec, fe);
	workload_empty_selector(spec, "daemonset", fe);
	pod_template_validate(jget(spec, "template"), "spec.template", fe);
	workload_template_tail(spec, "DaemonSet", fe);
	res_check_nonneg(fe, "spec.minReadySeconds", jget(spec, "minReadySeconds"));
	res_check_nonneg(fe, "spec.templateGeneration", jget(spec, "templateGeneration"));
	validate_update_strategy(spec, fe);
	res_check_nonneg(fe, "spec.revisionHistoryLimit", jget(spec, "revisionHistoryLimit"));
}

static void ds_prepare_create(cJSON *ds)
{
	static const char *const zero[] = { "currentNumberScheduled", "numberMisscheduled",
					    "desiredNumberScheduled", "numberReady" };
	cJSON *st = cJSON_CreateObject();
	for (size_t i = 0; i < ARRAY_SIZE(zero); i++)
		cJSON_AddNumberToObject(st, zero[i], 0);
	jset(ds, "status", st);
}

static const char *const ds_short[] = { "ds", NULL };

const struct resource res_daemonset = {
	.group = "apps", .version = "v1", .kind = "DaemonSet",
	.plural = "daemonsets", .singular = "daemonset", .namespaced = true,
	.short_names = ds_short, .categories = res_all_category,
	.has_status = true, .generation = true,
	.name_rule = NAME_SUBDOMAIN,
	.columns = ds_columns, .ncolumns = ARRAY_SIZE(ds_columns),
	.cells = ds_cells,
	.defaults = ds_defaults,
	.validate = ds_validate,
	.prepare_create = ds_prepare_create,
};
