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
 * Admission (admit/release, services.md §0 and §3): cluster IP and node
 * port allocation through svcalloc.h (BeginCreate / BeginUpdate:
 * patchAllocatedValues, normalizeClusterIPs, allocateCreate/allocateUpdate),
 * then the type-dependent drops of PrepareForUpdate; release on delete.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/resources/res_internal.h"
#include "server/resources/svcalloc.h"
#include "server/store/store.h"

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

/* ---- admission: allocation (registry/core/service/storage/alloc.go) ---- */

static bool needs_cluster_ip(const cJSON *svc)
{
	return !str_eq(jstr(svc, "spec.type"), "ExternalName");
}

static bool needs_node_port(const cJSON *svc)
{
	const char *t = jstr_or(svc, "spec.type", "");
	return !strcmp(t, "NodePort") || !strcmp(t, "LoadBalancer");
}

/* shouldAllocateNodePorts: LB may opt out; explicit values are honoured. */
static bool alloc_node_ports(const cJSON *svc)
{
	const char *t = jstr_or(svc, "spec.type", "");
	return !strcmp(t, "NodePort") ||
	       (!strcmp(t, "LoadBalancer") && jbool(svc, "spec.allocateLoadBalancerNodePorts", true));
}

static bool needs_hc_port(const cJSON *svc)
{
	return str_eq(jstr(svc, "spec.type"), "LoadBalancer") &&
	       str_eq(jstr(svc, "spec.externalTrafficPolicy"), "Local");
}

static int ip_error(const struct svcalloc *sa, const cJSON *svc,
		    const char *ip, int rc, struct lk_err *err)
{
	struct field_errs fe = { 0 };
	char *v, *d;
	if (rc == SA_FULL)
		return lk_error(err, LK_EINTERNAL,
				"Internal error occurred: failed to allocate a serviceIP: range is full");
	v = res_go_strings(jget(svc, "spec.clusterIPs"));
	if (rc == SA_RANGE)
		d = xasprintf("failed to allocate IP %s: the provided IP (%s) is not in the valid "
			      "range. The range of valid IPs is %s", ip, ip, svcalloc_cidr(sa));
	else
		d = xasprintf("failed to allocate IP %s: provided IP is already allocated", ip);
	field_err_invalid_raw(&fe, "spec.clusterIPs", v, d);
	free(v);
	free(d);
	return lk_err_invalid(err, "", "Service", jstr_or(svc, "metadata.name", ""), &fe);
}

static int port_error(const struct svcalloc *sa, const cJSON *svc,
		      const char *field, long np, int rc,
		      struct lk_err *err)
{
	struct field_errs fe = { 0 };
	char d[128];
	if (rc == SA_FULL)
		return lk_error(err, LK_EINTERNAL,
				"Internal error occurred: failed to allocate a nodePort: range is full");
	if (rc == SA_RANGE)
		snprintf(d, sizeof(d), "provided port is not in the valid range. The range of "
			 "valid ports is %s", svcalloc_port_range(sa));
	else
		snprintf(d, sizeof(d), "provided port is already allocated");
	field_err_invalid_int(&fe, field, np, d);
	return lk_err_invalid(err, "", "Service", jstr_or(svc, "metadata.name", ""), &fe);
}

static int np_error(const struct svcalloc *sa, const cJSON *svc, int i,
		    long np, int rc, struct lk_err *err)
{
	char f[FP_MAX];
	return port_error(sa, svc, res_fp(f, "spec.ports[%d].nodePort", i), np, rc, err);
}

/* allocClusterIPs for one IPv4 family: the requested clusterIP, or the next
 * free one. Malformed or inconsistent requests are left to validation. */
static int alloc_cluster_ip(struct svcalloc *sa, cJSON *svc, struct lk_err *err)
{
	cJSON *spec = jobj(svc, "spec"), *ips;
	const char *ip = jstr_or(spec, "clusterIP", "");
	const char *first = cJSON_GetStringValue(cJSON_GetArrayItem(jget(spec, "clusterIPs"), 0));
	struct lk_ip v;
	char buf[LK_IP4_STRLEN];
	int rc;
	if (!strcmp(ip, "None"))
		return 0;
	if (*ip) {
		if (lk_ip_parse(ip, &v, NULL) < 0 || !str_eq(first, ip))
			return 0;
		rc = svcalloc_ip_take(sa, ip);
		return rc ? ip_error(sa, svc, ip, rc, err) : 0;
	}
	if (res_jsize(jget(spec, "clusterIPs")))
		return 0;
	rc = svcalloc_ip_next(sa, buf);
	if (rc)
		return ip_error(sa, svc, "", rc, err);
	jset_str(spec, "clusterIP", buf);
	ips = cJSON_CreateArray();
	cJSON_AddItemToArray(ips, cJSON_CreateString(buf));
	jset(spec, "clusterIPs", ips);
	return 0;
}

static void release_cluster_ips(struct svcalloc *sa, const cJSON *svc)
{
	const cJSON *ip;
	cJSON_ArrayForEach(ip, jget(svc, "spec.clusterIPs"))
		if (cJSON_IsString(ip) && strcmp(ip->valuestring, "None"))
			svcalloc_ip_release(sa, ip->valuestring);
}

/* The nodePort of the first port before i with the same port number. */
static long shared_node_port(const cJSON *ports, int i, long long port)
{
	const cJSON *q;
	int j = 0;
	cJSON_ArrayForEach(q, ports) {
		if (j++ >= i)
			break;
		if (jint(q, "port", 0) == port && jint(q, "nodePort", 0))
			return (long)jint(q, "nodePort", 0);
	}
	return 0;
}

/* findRequestedNodePort: any explicit value for this port number. */
static long requested_node_port(const cJSON *ports, long long port)
{
	const cJSON *q;
	cJSON_ArrayForEach(q, ports)
		if (jint(q, "port", 0) == port && jint(q, "nodePort", 0))
			return (long)jint(q, "nodePort", 0);
	return 0;
}

/* initNodePorts: ports with the same number share one node port. */
static int init_node_ports(struct svcalloc *sa, cJSON *svc, struct lk_err *err)
{
	cJSON *ports = jget(svc, "spec.ports"), *p;
	bool alloc = alloc_node_ports(svc);
	int i = -1, rc;
	cJSON_ArrayForEach(p, ports) {
		long np = (long)jint(p, "nodePort", 0), shared, v;
		long long port = jint(p, "port", 0);
		i++;
		if (!cJSON_IsObject(p) || (!np && !alloc))
			continue;
		shared = shared_node_port(ports, i, port);
		if (!shared) {
			v = requested_node_port(ports, port);
			rc = v ? svcalloc_port_take(sa, v) : svcalloc_port_next(sa, &v);
			if (rc)
				return np_error(sa, svc, i, v, rc, err);
			jset_int(p, "nodePort", v);
		} else if (!np) {
			jset_int(p, "nodePort", shared);
		} else if (np != shared && (rc = svcalloc_port_take(sa, np))) {
			return np_error(sa, svc, i, np, rc, err);
		}
	}
	return 0;
}

static bool has_node_port(const cJSON *svc, long np)
{
	const cJSON *p;
	cJSON_ArrayForEach(p, jget(svc, "spec.ports"))
		if (jint(p, "nodePort", 0) == np)
			return true;
	return false;
}

static void release_node_ports(struct svcalloc *sa, const cJSON *svc, const cJSON *keep)
{
	const cJSON *p;
	cJSON_ArrayForEach(p, jget(svc, "spec.ports")) {
		long np = (long)jint(p, "nodePort", 0);
		if (np && (!keep || !has_node_port(keep, np)))
			svcalloc_port_release(sa, np);
	}
}

/* updateNodePorts: new explicit values are taken, zeros allocated, old
 * values the new object no longer has are released. */
static int update_node_ports(struct svcalloc *sa, cJSON *svc, const cJSON *old,
			     struct lk_err *err)
{
	cJSON *p;
	bool alloc = alloc_node_ports(svc);
	int i = -1, rc;
	cJSON_ArrayForEach(p, jget(svc, "spec.ports")) {
		long np = (long)jint(p, "nodePort", 0), v;
		i++;
		if (!cJSON_IsObject(p) || (!np && !alloc))
			continue;
		if (!np) {
			if ((rc = svcalloc_port_next(sa, &v)))
				return np_error(sa, svc, i, 0, rc, err);
			jset_int(p, "nodePort", v);
		} else if (!has_node_port(old, np) && shared_node_port(jget(svc, "spec.ports"), i,
				jint(p, "port", 0)) != np && (rc = svcalloc_port_take(sa, np))) {
			return np_error(sa, svc, i, np, rc, err);
		}
	}
	release_node_ports(sa, old, svc);
	return 0;
}

static int alloc_hc_port(struct svcalloc *sa, cJSON *svc, struct lk_err *err)
{
	long v = (long)jint(svc, "spec.healthCheckNodePort", 0);
	int rc = v ? svcalloc_port_take(sa, v) : svcalloc_port_next(sa, &v);
	if (rc)
		return port_error(sa, svc, "spec.healthCheckNodePort", v, rc, err);
	jset_int(svc, "spec.healthCheckNodePort", v);
	return 0;
}

static int admit_create(struct svcalloc *sa, cJSON *svc, struct lk_err *err)
{
	if (needs_cluster_ip(svc) && alloc_cluster_ip(sa, svc, err) < 0)
		return -1;
	if (needs_node_port(svc) && init_node_ports(sa, svc, err) < 0)
		return -1;
	if (needs_hc_port(svc) && alloc_hc_port(sa, svc, err) < 0)
		return -1;
	return 0;
}

static void copy_field(cJSON *dst, const cJSON *src, const char *path)
{
	const cJSON *v = jget(src, path);
	if (v)
		jset(dst, path, cJSON_Duplicate(v, 1));
	else
		jdel(dst, path);
}

/* patchAllocatedValues: what the client left out keeps its old value. */
static void patch_allocated(cJSON *svc, const cJSON *old)
{
	cJSON *p;
	const cJSON *q;
	if (needs_cluster_ip(old) && needs_cluster_ip(svc)) {
		if (!*jstr_or(svc, "spec.clusterIP", ""))
			copy_field(svc, old, "spec.clusterIP");
		if (!res_jsize(jget(svc, "spec.clusterIPs")) && res_jsize(jget(old, "spec.clusterIPs")))
			copy_field(svc, old, "spec.clusterIPs");
	}
	if (needs_node_port(old) && needs_node_port(svc)) {
		cJSON_ArrayForEach(p, jget(svc, "spec.ports")) {
			long oldval = 0;
			if (!cJSON_IsObject(p) || jint(p, "nodePort", 0))
				continue;
			cJSON_ArrayForEach(q, jget(old, "spec.ports"))
				if (str_eq(jstr_or(q, "name", ""), jstr_or(p, "name", "")))
					oldval = (long)jint(q, "nodePort", 0);
			/* not if a port of the new object already uses it */
			if (oldval && !has_node_port(svc, oldval))
				jset_int(p, "nodePort", oldval);
		}
	}
	if (needs_hc_port(old) && needs_hc_port(svc) && !jint(svc, "spec.healthCheckNodePort", 0))
		copy_field(svc, old, "spec.healthCheckNodePort");
}

/* normalizeClusterIPs on update: keep clusterIP and clusterIPs in step. */
static void normalize_cluster_ips(cJSON *svc, const cJSON *old)
{
	const char *ip = jstr_or(svc, "spec.clusterIP", "");
	const char *oip = jstr_or(old, "spec.clusterIP", "");
	bool same_ips = jequal(jget(svc, "spec.clusterIPs"), jget(old, "spec.clusterIPs"));
	if (res_jsize(jget(old, "spec.clusterIPs")) && !res_jsize(jget(svc, "spec.clusterIPs")) &&
	    !strcmp(ip, oip)) {
		copy_field(svc, old, "spec.clusterIPs");
		same_ips = true;
	}
	if (!strcmp(ip, oip))
		return;
	if (*oip && !*ip && same_ips)
		jdel(svc, "spec.clusterIPs");
	else if (*ip && same_ips && res_jsize(jget(svc, "spec.clusterIPs")))
		cJSON_ReplaceItemInArray(jget(svc, "spec.clusterIPs"), 0, cJSON_CreateString(ip));
}

static int update_cluster_ips(struct svcalloc *sa, cJSON *svc,
			      const cJSON *old, struct lk_err *err)
{
	bool was_ext = !needs_cluster_ip(old), is_ext = !needs_cluster_ip(svc);
	if (was_ext && !is_ext)
		return alloc_cluster_ip(sa, svc, err);
	if (str_eq(cJSON_GetStringValue(cJSON_GetArrayItem(jget(old, "spec.clusterIPs"), 0)), "None"))
		return 0;
	if (!was_ext && is_ext)
		release_cluster_ips(sa, old);
	return 0;
}

static int update_hc_port(struct svcalloc *sa, cJSON *svc, const cJSON *old,
			  struct lk_err *err)
{
	long ohc = (long)jint(old, "spec.healthCheckNodePort", 0);
	long hc = (long)jint(svc, "spec.healthCheckNodePort", 0);
	bool was = needs_hc_port(old), is = needs_hc_port(svc);
	if (is && (!was || hc != ohc) && alloc_hc_port(sa, svc, err) < 0)
		return -1;
	if (was && ohc && (!is || hc != ohc))
		svcalloc_port_release(sa, ohc);
	return 0;
}

static bool same_node_ports(const cJSON *a, const cJSON *b)
{
	const cJSON *p;
	int i = 0;
	if (res_jsize(jget(a, "spec.ports")) != res_jsize(jget(b, "spec.ports")))
		return false;
	cJSON_ArrayForEach(p, jget(a, "spec.ports"))
		if (jint(p, "nodePort", 0) !=
		    jint(cJSON_GetArrayItem(jget(b, "spec.ports"), i++), "nodePort", 0))
			return false;
	return true;
}

static void drop_same(cJSON *svc, const cJSON *old, const char *path)
{
	if (jequal(jget(svc, path), jget(old, path)))
		jdel(svc, path);
}

/* dropTypeDependentFields (strategy.go): only what the user left unchanged. */
static void drop_type_dependent(cJSON *svc, const cJSON *old)
{
	const char *ot = jstr_or(old, "spec.type", ""), *nt = jstr_or(svc, "spec.type", "");
	cJSON *p;
	if (needs_cluster_ip(old) && !needs_cluster_ip(svc)) {
		if (jequal(jget(svc, "spec.clusterIPs"), jget(old, "spec.clusterIPs"))) {
			jdel(svc, "spec.clusterIP");
			jdel(svc, "spec.clusterIPs");
		}
		drop_same(svc, old, "spec.ipFamilies");
		drop_same(svc, old, "spec.ipFamilyPolicy");
	}
	if (needs_node_port(old) && !needs_node_port(svc) && same_node_ports(svc, old))
		cJSON_ArrayForEach(p, jget(svc, "spec.ports"))
			jdel(p, "nodePort");
	if (needs_hc_port(old) && !needs_hc_port(svc))
		drop_same(svc, old, "spec.healthCheckNodePort");
	if (!strcmp(ot, "LoadBalancer") && strcmp(nt, "LoadBalancer")) {
		drop_same(svc, old, "spec.allocateLoadBalancerNodePorts");
		drop_same(svc, old, "spec.loadBalancerClass");
		jset(svc, "status.loadBalancer", cJSON_CreateObject());
	}
	if (externally_accessible(jget(old, "spec")) && !externally_accessible(jget(svc, "spec")))
		drop_same(svc, old, "spec.externalTrafficPolicy");
}

static int admit_update(struct svcalloc *sa, cJSON *svc, const cJSON *old,
			struct lk_err *err)
{
	patch_allocated(svc, old);
	normalize_cluster_ips(svc, old);
	if (update_cluster_ips(sa, svc, old, err) < 0)
		return -1;
	if (needs_node_port(old) && !needs_node_port(svc))
		release_node_ports(sa, old, NULL);
	if (needs_node_port(svc) && update_node_ports(sa, svc, old, err) < 0)
		return -1;
	if (update_hc_port(sa, svc, old, err) < 0)
		return -1;
	drop_type_dependent(svc, old);
	return 0;
}

/* Runs inside write.c's allocation transaction: what it takes is given back
 * if the write fails, what it releases is released only if it succeeds. */
static int svc_admit(const struct write_ctx *ctx, cJSON *svc, const cJSON *old,
		     struct lk_err *err)
{
	struct svcalloc *sa = ctx->alloc;
	cJSON *cur = NULL;
	if (old)
		return admit_update(sa, svc, old, err);
	/* An existing name: let the store answer AlreadyExists (bootstrap
	 * re-creates the kubernetes Service at every start). Not for
	 * generated names: write.c retries those with another name. */
	if (!jstr(svc, "metadata.generateName") &&
	    store_get(ctx->store, "services", jstr_or(svc, "metadata.namespace", ""),
		      jstr_or(svc, "metadata.name", ""), &cur, NULL) == 0) {
		cJSON_Delete(cur);
		return 0;
	}
	return admit_create(sa, svc, err);
}

static void svc_release(const struct write_ctx *ctx, const cJSON *svc)
{
	struct svcalloc *sa = ctx->alloc;
	release_cluster_ips(sa, svc);
	release_node_ports(sa, svc, NULL);
	if (jint(svc, "spec.healthCheckNodePort", 0))
		svcalloc_port_release(sa, (long)jint(svc, "spec.healthCheckNodePort", 0));
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
	.admit = svc_admit,
	.release = svc_release,
};
