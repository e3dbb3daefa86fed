/*
 * server/resources/quantity.c: resource.Quantity values and the pod QoS
 * class (k8s pkg/apis/core/helper/qos GetPodQOS, release-1.32) that a pod's
 * status.qosClass carries from creation.
 * Quantities become doubles: exact enough to compare requests with limits.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "server/resources/res_internal.h"

static const struct {
	const char *suffix;
	double mult;
} suffixes[] = {
	{ "Ki", 1024.0 }, { "Mi", 1048576.0 }, { "Gi", 1073741824.0 },
	{ "Ti", 1099511627776.0 }, { "Pi", 1125899906842624.0 },
	{ "Ei", 1152921504606846976.0 },
	{ "n", 1e-9 }, { "u", 1e-6 }, { "m", 1e-3 }, { "", 1 }, { "k", 1e3 },
	{ "M", 1e6 }, { "G", 1e9 }, { "T", 1e12 }, { "P", 1e15 }, { "E", 1e18 },
};

bool res_quantity_parse(const char *s, double *out)
{
	char *end;
	if (!s || !*s || strchr(" \t", *s))
		return false;
	double v = strtod(s, &end);
	if (end == s)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++) {
		if (!strcmp(end, suffixes[i].suffix)) {
			*out = v * suffixes[i].mult;
			return true;
		}
	}
	return false;
}

/* A quantity as JSON: a string ("500m") or a bare number. */
static double qvalue(const cJSON *q)
{
	double v = 0;
	if (cJSON_IsNumber(q))
		return q->valuedouble;
	if (cJSON_IsString(q) && res_quantity_parse(q->valuestring, &v))
		return v;
	return 0;
}

enum { CPU, MEM };

/* Sum positive cpu/memory quantities of one list into sum[]; which[] gets
 * the resources found. */
static void add_list(const cJSON *list, double *sum, bool *have, bool *found)
{
	static const char *const names[] = { [CPU] = "cpu", [MEM] = "memory" };
	for (int r = CPU; r <= MEM; r++) {
		double v = qvalue(jget(list, names[r]));
		if (v > 0) {
			sum[r] += v;
			have[r] = found[r] = true;
		}
	}
}

const char *pod_qos_class(const cJSON *podspec)
{
	double req[2] = { 0 }, lim[2] = { 0 };
	bool have_req[2] = { 0 }, have_lim[2] = { 0 }, guaranteed = true;
	const cJSON *c;
	for (int k = 0; k < 2; k++) {
		cJSON_ArrayForEach(c, jget(podspec, k ? "initContainers" : "containers")) {
			bool found_req[2] = { 0 }, found_lim[2] = { 0 };
			add_list(jget(c, "resources.requests"), req, have_req, found_req);
			add_list(jget(c, "resources.limits"), lim, have_lim, found_lim);
			guaranteed &= found_lim[CPU] && found_lim[MEM];
		}
	}
	if (!have_req[CPU] && !have_req[MEM] && !have_lim[CPU] && !have_lim[MEM])
		return "BestEffort";
	for (int r = CPU; r <= MEM && guaranteed; r++)
		if (have_req[r] && (!have_lim[r] || fabs(lim[r] - req[r]) > 1e-9 * fabs(req[r])))
			guaranteed = false;
	if (guaranteed && have_req[CPU] + have_req[MEM] == have_lim[CPU] + have_lim[MEM])
		return "Guaranteed";
	return "Burstable";
}
