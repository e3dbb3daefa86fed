/*
 * server/resources/workload.c: what the controllers' kinds (Deployment,
 * ReplicaSet, ReplicationController, StatefulSet, DaemonSet) validate and
 * print alike: selector rules, the template/selector match, the
 * ReplicaSet-style template tail, intstr percentages, and the RS/RC row.
 * Follows k8s pkg/apis/apps/validation and pkg/apis/core/validation
 * (release-1.32); each kind's file decides the order, as upstream does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/resources/res_internal.h"

/* metav1 ValidateLabelSelector. */
static void validate_label_selector(const cJSON *sel, const char *path,
				    struct field_errs *fe)
{
	char f[FP_MAX];
	const cJSON *e, *v;
	int i = 0;
	resource_validate_labels(jget(sel, "matchLabels"),
				 res_fp(f, "%s.matchLabels", path), fe);
	cJSON_ArrayForEach(e, jget(sel, "matchExpressions")) {
		const char *op = jstr_or(e, "operator", "");
		int nv = res_jsize(jget(e, "values")), j = 0;
		res_fp(f, "%s.matchExpressions[%d].values", path, i);
		if (!strcmp(op, "In") || !strcmp(op, "NotIn")) {
			if (!nv)
				field_err_required(fe, f, "must be specified when `operator` "
						   "is 'In' or 'NotIn'");
		} else if (!strcmp(op, "Exists") || !strcmp(op, "DoesNotExist")) {
			if (nv)
				field_err_forbidden(fe, f, "may not be specified when `operator` "
						    "is 'Exists' or 'DoesNotExist'");
		} else {
			field_err_invalid_str(fe, res_fp(f, "%s.matchExpressions[%d].operator", path, i),
					      op, "not a valid selector operator");
		}
		res_invalid_each(fe, res_fp(f, "%s.matchExpressions[%d].key", path, i),
			     jstr_or(e, "key", ""), is_qualified_name);
		cJSON_ArrayForEach(v, jget(e, "values")) {
			res_fp(f, "%s.matchExpressions[%d].values[%d]", path, i, j++);
			res_invalid_each(fe, f, cJSON_IsString(v) ? v->valuestring : "",
				     is_label_value);
		}
		i++;
	}
}

void workload_label_selector(const cJSON *spec, struct field_errs *fe)
{
	if (cJSON_IsObject(jget(spec, "selector")))
		validate_label_selector(jget(spec, "selector"), "spec.selector", fe);
}

void workload_empty_selector(const cJSON *spec, const char *word,
			     struct field_errs *fe)
{
	const cJSON *sel = jget(spec, "selector");
	char msg[64];
	if (!cJSON_IsObject(sel) ||
	    res_jsize(jget(sel, "matchLabels")) + res_jsize(jget(sel, "matchExpressions")))
		return;
	char *v = res_go_label_selector(sel);
	snprintf(msg, sizeof(msg), "empty selector is invalid for %s", word);
	field_err_invalid_raw(fe, "spec.selector", v, msg);
	free(v);
}

void workload_selector_required(const cJSON *spec, const char *word,
				struct field_errs *fe)
{
	if (!cJSON_IsObject(jget(spec, "selector"))) {
		field_err_required(fe, "spec.selector", NULL);
		return;
	}
	workload_label_selector(spec, fe);
	workload_empty_selector(spec, word, fe);
}

enum sel_match workload_selector_match(const cJSON *spec)
{
	const cJSON *sel = jget(spec, "selector");
	bool bad = false;
	if (!cJSON_IsObject(sel))
		return SEL_NO_MATCH; /* labels.Nothing(): not empty, matches nothing */
	free(res_selector_string(sel, &bad));
	if (bad)
		return SEL_INVALID;
	if (res_jsize(jget(sel, "matchLabels")) + res_jsize(jget(sel, "matchExpressions")) == 0)
		return SEL_EMPTY;
	return res_selector_matches(sel, jget(spec, "template.metadata.labels")) ?
		       SEL_MATCH : SEL_NO_MATCH;
}

void workload_mismatch(const cJSON *spec, struct field_errs *fe)
{
	char *v = res_go_map(jget(spec, "template.metadata.labels"));
	field_err_invalid_raw(fe, "spec.template.metadata.labels", v,
			      "`selector` does not match template `labels`");
	free(v);
}

void workload_template_tail(const cJSON *spec, const char *kind,
			    struct field_errs *fe)
{
	static const char *const always[] = { "Always", NULL };
	const char *rp = jstr_or(spec, "template.spec.restartPolicy", "");
	char msg[96];
	if (strcmp(rp, "Always"))
		field_err_unsupported(fe, "spec.template.spec.restartPolicy", rp, always);
	if (jget(spec, "template.spec.activeDeadlineSeconds")) {
		snprintf(msg, sizeof(msg), "activeDeadlineSeconds in %s is not Supported", kind);
		field_err_forbidden(fe, "spec.template.spec.activeDeadlineSeconds", msg);
	}
}

/* getIntOrPercentValue: a valid percent's number, else IntValue(). */
static long long intstr_value(const cJSON *v)
{
	const char *msgs[MSG_MAX];
	char *end;
	if (cJSON_IsString(v)) {
		long long n = strtoll(v->valuestring, &end, 10);
		if (!res_is_percent(v->valuestring, msgs))
			return n;
		return *v->valuestring && !*end ? n : 0; /* strconv.Atoi */
	}
	return cJSON_IsNumber(v) ? res_num(v) : 0;
}

void workload_int_or_percent(const cJSON *v, const char *field,
			     struct field_errs *fe)
{
	const char *msgs[MSG_MAX];
	char *go = res_go_intstr(v);
	if (cJSON_IsString(v) && res_is_percent(v->valuestring, msgs))
		field_err_invalid_raw(fe, field, go, msgs[0]);
	else if (cJSON_IsNumber(v))
		res_check_nonneg(fe, field, v);
	free(go);
}

bool workload_intstr_zero(const cJSON *v)
{
	return intstr_value(v) == 0;
}

void workload_not_over_100(const cJSON *v, const char *field,
			   struct field_errs *fe)
{
	const char *msgs[MSG_MAX];
	if (cJSON_IsString(v) && !res_is_percent(v->valuestring, msgs) &&
	    atoll(v->valuestring) > 100) {
		char *go = res_go_intstr(v);
		field_err_invalid_raw(fe, field, go, "must not be greater than 100%");
		free(go);
	}
}

void rs_cells_common(const cJSON *obj, time_t now, cJSON *cells, char *selector)
{
	const cJSON *pod = jget(obj, "spec.template.spec");
	cell_name(cells, obj);
	cell_int(cells, jint(obj, "spec.replicas", 0));
	cell_int(cells, jint(obj, "status.replicas", 0));
	cell_int(cells, jint(obj, "status.readyReplicas", 0));
	cell_age(cells, obj, now);
	cell_take(cells, fmt_containers(pod, "name"));
	cell_take(cells, fmt_containers(pod, "image"));
	cell_take(cells, selector);
}
