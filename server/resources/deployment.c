/*
 * server/resources/deployment.c: apps/v1 Deployment.
 *
 * Printer: printDeployment (READY ready/spec.replicas, UP-TO-DATE,
 * AVAILABLE, wide CONTAINERS/IMAGES/SELECTOR). Defaults: SetDefaults_
 * Deployment (replicas 1, RollingUpdate 25%/25%, revisionHistoryLimit 10,
 * progressDeadlineSeconds 600) and the pod template's. Validation:
 * ValidateDeploymentSpec in upstream order. Generation moves on spec and
 * annotation changes (api-machinery.md §6). Not here: the rollout itself
 * (server/controllers).
 */
#include <stdlib.h>
#include <string.h>

#include "server/resources/res_internal.h"

static const struct column deploy_columns[] = {
	COL_NAME,
	{ "Ready", "string", "", "Number of the pod with ready state", 0 },
	{ "Up-to-date", "string", "", DESC_DEPLOY_UPDATED, 0 },
	{ "Available", "string", "", DESC_DEPLOY_AVAILABLE, 0 },
	COL_AGE,
	{ "Containers", "string", "", DESC_CONTAINERS, 1 },
	{ "Images", "string", "", DESC_IMAGES, 1 },
	{ "Selector", "string", "", DESC_DEPLOY_SELECTOR, 1 },
};

static void deploy_cells(const cJSON *d, time_t now, cJSON *cells)
{
	const cJSON *pod = jget(d, "spec.template.spec");
	bool bad;
	char *sel = res_selector_string(jget(d, "spec.selector"), &bad);
	cell_name(cells, d);
	cell_take(cells, xasprintf("%lld/%lld", jint(d, "status.readyReplicas", 0),
				   jint(d, "spec.replicas", 0)));
	cell_int(cells, jint(d, "status.updatedReplicas", 0));
	cell_int(cells, jint(d, "status.availableReplicas", 0));
	cell_age(cells, d, now);
	cell_take(cells, fmt_containers(pod, "name"));
	cell_take(cells, fmt_containers(pod, "image"));
	if (bad) {
		free(sel);
		sel = xstrdup("<invalid>");
	}
	cell_take(cells, sel);
}

static void deploy_defaults(cJSON *d)
{
	cJSON *spec = jobj(d, "spec"), *ru;
	const char *type;
	if (!cJSON_IsNumber(jget(spec, "replicas")))
		jset_int(spec, "replicas", 1);
	type = jstr(spec, "strategy.type");
	if (!type || !*type)
		jset_str(spec, "strategy.type", "RollingUpdate");
	if (!strcmp(jstr(spec, "strategy.type"), "RollingUpdate")) {
		ru = jobj(spec, "strategy.rollingUpdate");
		if (!jget(ru, "maxUnavailable") || cJSON_IsNull(jget(ru, "maxUnavailable")))
			jset_str(ru, "maxUnavailable", "25%");
		if (!jget(ru, "maxSurge") || cJSON_IsNull(jget(ru, "maxSurge")))
			jset_str(ru, "maxSurge", "25%");
	}
	if (!cJSON_IsNumber(jget(spec, "revisionHistoryLimit")))
		jset_int(spec, "revisionHistoryLimit", 10);
	if (!cJSON_IsNumber(jget(spec, "progressDeadlineSeconds")))
		jset_int(spec, "progressDeadlineSeconds", 600);
	pod_template_defaults(jobj(spec, "template"));
}

static void validate_strategy(const cJSON *spec, struct field_errs *fe)
{
	const char *type = jstr_or(spec, "strategy.type", "");
	const cJSON *ru = jget(spec, "strategy.rollingUpdate");
	const cJSON *mu = jget(ru, "maxUnavailable"), *ms = jget(ru, "maxSurge");
	if (!strcmp(type, "Recreate")) {
		if (ru && !cJSON_IsNull(ru))
			field_err_forbidden(fe, "spec.strategy.rollingUpdate",
					    "may not be specified when strategy `type` is 'Recreate'");
	} else if (!strcmp(type, "RollingUpdate")) {
		if (!cJSON_IsObject(ru)) {
			field_err_required(fe, "spec.strategy.rollingUpdate",
					   "this should be defaulted and never be nil");
			return;
		}
		workload_int_or_percent(mu, "spec.strategy.rollingUpdate.maxUnavailable", fe);
		workload_int_or_percent(ms, "spec.strategy.rollingUpdate.maxSurge", fe);
		if (workload_intstr_zero(mu) && workload_intstr_zero(ms)) {
			char *v = res_go_intstr(mu);
			field_err_invalid_raw(fe, "spec.strategy.rollingUpdate.maxUnavailable", v,
					      "may not be 0 when `maxSurge` is 0");
			free(v);
		}
		workload_not_over_100(mu, "spec.strategy.rollingUpdate.maxUnavailable", fe);
	} else {
		/* NotSupported renders the whole strategy struct (%#v); a set
		 * rollingUpdate prints as a pointer address upstream. */
		const char *ptr = cJSON_IsObject(ru) ? "(0xc000000000)" : "(nil)";
		char *v = xasprintf("apps.DeploymentStrategy{Type:\"%s\", RollingUpdate:"
				    "(*apps.RollingUpdateDeployment)%s}", type, ptr);
		field_err_add(fe, "FieldValueNotSupported", "spec.strategy",
			      "Unsupported value: %s: supported values: \"Recreate\", \"RollingUpdate\"", v);
		free(v);
	}
}

static void deploy_validate(const cJSON *d, const cJSON *old, struct field_errs *fe)
{
	const cJSON *spec = jget(d, "spec"), *pds;
	res_check_nonneg(fe, "spec.replicas", jget(spec, "replicas"));
	workload_selector_required(spec, "deployment", fe);
	switch (workload_selector_match(spec)) {
	case SEL_INVALID: {
		char *v = res_go_label_selector(jget(spec, "selector"));
		field_err_invalid_raw(fe, "spec.selector", v, "invalid label selector");
		free(v);
		break;
	}
	case SEL_NO_MATCH:
		workload_mismatch(spec, fe);
		/* fall through */
	default:
		pod_template_validate(jget(spec, "template"), "spec.template", fe);
		workload_template_tail(spec, "ReplicaSet", fe);
	}
	validate_strategy(spec, fe);
	res_check_nonneg(fe, "spec.minReadySeconds", jget(spec, "minReadySeconds"));
	res_check_nonneg(fe, "spec.revisionHistoryLimit", jget(spec, "revisionHistoryLimit"));
	pds = jget(spec, "progressDeadlineSeconds");
	if (cJSON_IsNumber(pds)) {
		res_check_nonneg(fe, "spec.progressDeadlineSeconds", pds);
		if (pds->valuedouble <= (double)jint(spec, "minReadySeconds", 0))
			field_err_invalid_int(fe, "spec.progressDeadlineSeconds",
					      res_num(pds),
					      "must be greater than minReadySeconds");
	}
}

static void deploy_prepare_create(cJSON *d)
{
	jset(d, "status", cJSON_CreateObject());
}

static const char *const deploy_short[] = { "deploy", NULL };

const struct resource res_deployment = {
	.group = "apps", .version = "v1", .kind = "Deployment",
	.plural = "deployments", .singular = "deployment", .namespaced = true,
	.short_names = deploy_short, .categories = res_all_category,
	.has_status = true, .has_scale = true,
	.generation = true, .generation_on_annotations = true,
	.name_rule = NAME_SUBDOMAIN,
	.columns = deploy_columns, .ncolumns = ARRAY_SIZE(deploy_columns),
	.cells = deploy_cells,
	.defaults = deploy_defaults,
	.validate = deploy_validate,
	.scale_spec = "spec.replicas", .scale_status = "status.replicas",
	.prepare_create = deploy_prepare_create,
};
