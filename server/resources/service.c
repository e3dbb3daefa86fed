/*
 * server/resources/service.c: core/v1 Service.
 *
 * Printer: printService (TYPE, CLUSTER-IP, EXTERNAL-IP, PORT(S), SELECTOR),
 * the wide variant (load-balancer ingress never cut). Defaults:
 * SetDefaults_Service plus what BeginCreate does before allocating
 * (clusterIPs from clusterIP, ipFamilyPolicy/ipFamilies on this single-stack
 * IPv4 cluster). Validation: ValidateService of k8s 1.32 in upstream order,
 * messages per shared/specs/services.md §2. Field selectors: the 1.31+
 * conversion func (spec.clusterIP, spec.type).
 * Not here (issue 4, admit/release): cluster IP and node port allocation,
 * patchAllocatedValues and the update-only rules (clusterIPs[0]
 * immutability, type-transition drops, healthCheckNodePort Required).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/resources/res_internal.h"

static const struct column svc_columns[] = {
	COL_NAME,
	{ "Type", "string", "", DESC_SVC_TYPE, 0 },
	{ "Cluster-IP", "string", "", DESC_SVC_CLUSTERIP, 0 },
	{ "External-IP", "string", "", DESC_SVC_EXTIPS, 0 },
	{ "Port(s)", "string", "", DESC_SVC_PORTS, 0 },
	COL_AGE,
	{ "Selector", "string", "", DESC_SVC_SELECTOR, 1 },
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* loadBalancerStatusStringer(wide=true): sorted unique ingress IPs, else
 * hostnames; then, for getServiceExternalIP, the externalIPs. */
static char *lb_external(const cJSON *svc)
{
	const cJSON *ing = jget(svc, "status.loadBalancer.ingress"), *it;
	int n = 0, m = 0;
	const char **v = xcalloc((size_t)res_jsize(ing) + 1, sizeof(*v));
	struct strbuf sb = STRBUF_INIT;
	cJSON_ArrayForEach(it, ing) {
		const char *ip = jstr_or(it, "ip", ""), *host = jstr_or(it, "hostname", "");
		if (*ip || *host)
			v[n++] = *ip ? ip : host;
	}
	qsort(v, (size_t)n, sizeof(*v), cmp_str);
	for (int i = 0; i < n; i++) {
		if (i && !strcmp(v[i], v[i - 1]))
			continue;
		sb_adds(&sb, m++ ? "," : "");
		sb_adds(&sb, v[i]);
	}
	free(v);
	cJSON_ArrayForEach(it, jget(svc, "spec.externalIPs")) {
		sb_adds(&sb, m++ ? "," : "");
		sb_adds(&sb, cJSON_IsString(it) ? it->valuestring : "");
	}
	if (!m)
		sb_adds(&sb, "<pending>");
	return sb_detach(&sb, NULL);
}

static char *external_ip(const cJSON *svc)
{
	const char *type = jstr_or(svc, "spec.type", "");
	if (!strcmp(type, "LoadBalancer"))
		return lb_external(svc);
	if (!strcmp(type, "ExternalName"))
		return xstrdup(jstr_or(svc, "spec.externalName", ""));
	if (strcmp(type, "ClusterIP") && strcmp(type, "NodePort"))
		return xstrdup("<unknown>");
	if (!res_jsize(jget(svc, "spec.externalIPs")))
		return xstrdup("<none>");
	struct strbuf sb = STRBUF_INIT;
	const cJSON *it;
	int m = 0;
	cJSON_ArrayForEach(it, jget(svc, "spec.externalIPs")) {
		sb_adds(&sb, m++ ? "," : "");
		sb_adds(&sb, cJSON_IsString(it) ? it->valuestring : "");
	}
	return sb_detach(&sb, NULL);
}

static char *port_string(const cJSON *svc)
{
	struct strbuf sb = STRBUF_INIT;
	const cJSON *p;
	int i = 0;
	cJSON_ArrayForEach(p, jget(svc, "spec.ports")) {
		long long node = jint(p, "nodePort", 0);
		sb_adds(&sb, i++ ? "," : "");
		if (node > 0)
			sb_addf(&sb, "%lld:%lld/%s", jint(p, "port", 0), node,
				jstr_or(p, "protocol", ""));
		else
			sb_addf(&sb, "%lld/%s", jint(p, "port", 0), jstr_or(p, "protocol", ""));
	}
	if (!i)
		sb_adds(&sb, "<none>");
	return sb_detach(&sb, NULL);
}

static void svc_cells(const cJSON *svc, time_t now, cJSON *cells)
{
	const char *ip = cJSON_GetStringValue(cJSON_GetArrayItem(jget(svc, "spec.clusterIPs"), 0));
	if (!ip && *jstr_or(svc, "spec.clusterIP", "")) /* normalizeClusterIPs on read */
		ip = jstr(svc, "spec.clusterIP");
	cell_name(cells, svc);
	cell_str(cells, jstr(svc, "spec.type"));
	cell_str(cells, ip ? ip : "<none>");
	cell_take(cells, external_ip(svc));
	cell_take(cells, port_string(svc));
	cell_age(cells, svc, now);
	cell_take(cells, fmt_labels(jget(svc, "spec.selector")));
}

static const struct field_def svc_fields[] = {
	{ "metadata.name", "metadata.name", FK_STR },
	{ "metadata.namespace", "metadata.namespace", FK_STR },
	{ "spec.clusterIP", "spec.clusterIP", FK_STR },
	{ "spec.type", "spec.type", FK_STR },
	{ NULL, NULL, FK_STR },
};

static int svc_field(const cJSON *obj, const char *label, char *buf, size_t len)
{
	return res_field_from_defs(svc_fields, obj, label, buf, len);
}

/* ---- defaults ---- */

static bool externally_accessible(const cJSON *spec)
{
	const char *type = jstr_or(spec, "type", "");
	return !strcmp(type, "LoadBalancer") || !strcmp(type, "NodePort") ||
	       (!strcmp(type, "ClusterIP") && res_jsize(jget(spec, "externalIPs")) > 0);
}

static void dflt(cJSON *obj, const char *key, const char *v)
{
	const char *cur = jstr(obj, key);
	if (!cur || !*cur)
		jset_str(obj, key, v);
}

static void port_defaults(cJSON *p)
{
	const cJSON *tp = jget(p, "targetPort");
	dflt(p, "protocol", "TCP");
	if (!tp || cJSON_IsNull(tp) || (cJSON_IsNumber(tp) && tp->valuedouble == 0) ||
	    (cJSON_IsString(tp) && !*tp->valuestring))
		jset_int(p, "targetPort", jint(p, "port", 0));
}

static void affinity_defaults(cJSON *spec)
{
	const char *aff;
	dflt(spec, "sessionAffinity", "None");
	aff = jstr(spec, "sessionAffinity");
	if (!strcmp(aff, "None"))
		jdel(spec, "sessionAffinityConfig");
	else if (!strcmp(aff, "ClientIP") &&
		 !cJSON_IsNumber(jget(spec, "sessionAffinityConfig.clientIP.timeoutSeconds")))
		jset_int(spec, "sessionAffinityConfig.clientIP.timeoutSeconds", 10800);
}

/* normalizeClusterIPs (create) and initIPFamilyFields on a single-stack
 * IPv4 cluster: only what the user left unset. */
static void family_defaults(cJSON *spec)
{
	const char *ip = jstr_or(spec, "clusterIP", "");
	bool headless = !strcmp(ip, "None");
	bool selectorless = res_jsize(jget(spec, "selector")) == 0;
	cJSON *fams, *ips;
	if (*ip && !res_jsize(jget(spec, "clusterIPs"))) {
		ips = cJSON_CreateArray();
		cJSON_AddItemToArray(ips, cJSON_CreateString(ip));
		jset(spec, "clusterIPs", ips);
	}
	if (headless && selectorless) {
		dflt(spec, "ipFamilyPolicy", "RequireDualStack");
		if (!res_jsize(jget(spec, "ipFamilies"))) {
			fams = cJSON_CreateArray();
			cJSON_AddItemToArray(fams, cJSON_CreateString("IPv4"));
			cJSON_AddItemToArray(fams, cJSON_CreateString("IPv6"));
			jset(spec, "ipFamilies", fams);
		}
		return;
	}
	dflt(spec, "ipFamilyPolicy", "SingleStack");
	if (!res_jsize(jget(spec, "ipFamilies"))) {
		fams = cJSON_CreateArray();
		cJSON_AddItemToArray(fams, cJSON_CreateString(
			!headless && strchr(ip, ':') ? "IPv6" : "IPv4"));
		jset(spec, "ipFamilies", fams);
	}
}

static void svc_defaults(cJSON *svc)
{
	cJSON *spec = jobj(svc, "spec"), *p;
	const char *type;
	affinity_defaults(spec);
	dflt(spec, "type", "ClusterIP");
	type = jstr(spec, "type");
	cJSON_ArrayForEach(p, jget(spec, "ports"))
		if (cJSON_IsObject(p))
			port_defaults(p);
	if (externally_accessible(spec))
		dflt(spec, "externalTrafficPolicy", "Cluster");
	if (!strcmp(type, "ExternalName"))
		jdel(spec, "internalTrafficPolicy"); /* defaultOnRead drops it */
	else if (!strcmp(type, "ClusterIP") || !strcmp(type, "NodePort") ||
		 !strcmp(type, "LoadBalancer"))
		dflt(spec, "internalTrafficPolicy", "Cluster");
	if (!strcmp(type, "LoadBalancer") && !cJSON_IsBool(jget(spec, "allocateLoadBalancerNodePorts")))
		jset(spec, "allocateLoadBalancerNodePorts", cJSON_CreateTrue());
	if (strcmp(type, "ExternalName") && res_str_in(type, (const char *const[]){
			"ClusterIP", "NodePort", "LoadBalancer", NULL }))
		family_defaults(spec);
	cJSON_ArrayForEach(p, jget(svc, "status.loadBalancer.ingress"))
		if (*jstr_or(p, "ip", "") && !jget(p, "ipMode"))
			jset_str(p, "ipMode", "VIP");
}

static void svc_prepare_create(cJSON *svc)
{
	cJSON *st = cJSON_CreateObject();
	cJSON_AddObjectToObject(st, "loadBalancer");
	jset(svc, "status", st);
}

static const char *const svc_short[] = { "svc", NULL };

const struct resource res_service = {
	.group = "", .version = "v1", .kind = "Service",
	.plural = "services", .singular = "service", .namespaced = true,
	.short_names = svc_short, .categories = res_all_category,
	.has_status = true,
	.delete_returns_object = true,
	.name_rule = NAME_DNS1035,
	.columns = svc_columns, .ncolumns = ARRAY_SIZE(svc_columns),
	.cells = svc_cells,
	.field = svc_field, .field_conv = true,
	.defaults = svc_defaults,
	.validate = service_validate,
	.prepare_create = svc_prepare_create,
};
