/*
 * server/resources/service_validate.c: ValidateService of k8s
 * pkg/apis/core/validation (release-1.32), in upstream's order, with the
 * messages of shared/specs/services.md §2. Runs after the defaults and
 * after allocation (admit, in service.c), so Required checks on defaulted
 * fields only fire for objects written around them. With old set, also
 * ValidateServiceUpdate (clusterIPs[0] / ipFamilies[0] immutable, except
 * to or from ExternalName) and the status rules (ingress only on LB).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/resources/res_internal.h"

static const char *const svc_types[] = { "ClusterIP", "ExternalName", "LoadBalancer",
					 "NodePort", NULL };
static const char *const protocols[] = { "SCTP", "TCP", "UDP", NULL };
static const char *const affinities[] = { "ClientIP", "None", NULL };
static const char *const families[] = { "IPv4", "IPv6", NULL };
static const char *const family_policies[] = { "PreferDualStack", "RequireDualStack",
					       "SingleStack", NULL };
static const char *const traffic_policies[] = { "Cluster", "Local", NULL };

#define LB_ONLY "may only be used when `type` is 'LoadBalancer'"
#define MSG_BAD_IP "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"

static bool headless(const cJSON *spec)
{
	const cJSON *ips = jget(spec, "clusterIPs");
	return res_jsize(ips) == 1 && str_eq(cJSON_GetStringValue(cJSON_GetArrayItem(ips, 0)), "None");
}

static void target_port(const cJSON *tp, const char *f, struct field_errs *fe)
{
	if (cJSON_IsString(tp))
		res_invalid_each(fe, f, tp->valuestring, is_port_name);
	else
		res_check_port(fe, f, cJSON_IsNumber(tp) ? res_num(tp) : 0);
}

/* validateServicePort; names collects the port names seen. */
static void validate_port(const cJSON *p, int i, bool many, cJSON *names,
			  struct field_errs *fe)
{
	char f[FP_MAX];
	const char *name = jstr_or(p, "name", ""), *proto = jstr_or(p, "protocol", "");
	res_fp(f, "spec.ports[%d].name", i);
	if (many && !*name) {
		field_err_required(fe, f, NULL);
	} else if (*name) {
		res_invalid_each(fe, f, name, is_dns1123_label);
		if (cJSON_GetObjectItemCaseSensitive(names, name))
			field_err_duplicate_str(fe, f, name);
		else
			cJSON_AddTrueToObject(names, name);
	}
	res_check_port(fe, res_fp(f, "spec.ports[%d].port", i), jint(p, "port", 0));
	res_fp(f, "spec.ports[%d].protocol", i);
	if (!*proto)
		field_err_required(fe, f, NULL);
	else if (!res_str_in(proto, protocols))
		field_err_unsupported(fe, f, proto, protocols);
	target_port(jget(p, "targetPort"), res_fp(f, "spec.ports[%d].targetPort", i), fe);
	if (jstr(p, "appProtocol"))
		res_invalid_each(fe, res_fp(f, "spec.ports[%d].appProtocol", i),
			     jstr(p, "appProtocol"), is_qualified_name);
}

static void validate_type_specific(const cJSON *spec, struct field_errs *fe)
{
	const char *type = jstr_or(spec, "type", "");
	char detail[64];
	if ((!strcmp(type, "LoadBalancer") || !strcmp(type, "NodePort")) && headless(spec)) {
		snprintf(detail, sizeof(detail), "may not be set to 'None' for %s services", type);
		field_err_invalid_str(fe, "spec.clusterIPs[0]", "None", detail);
	}
	if (strcmp(type, "ExternalName"))
		return;
	if (res_jsize(jget(spec, "clusterIPs")))
		field_err_forbidden(fe, "spec.clusterIPs", "may not be set for ExternalName services");
	if (res_jsize(jget(spec, "ipFamilies")))
		field_err_forbidden(fe, "spec.ipFamilies", "may not be set for ExternalName services");
	if (jstr(spec, "ipFamilyPolicy"))
		field_err_forbidden(fe, "spec.ipFamilyPolicy", "may not be set for ExternalName services");
	char *cname = xstrdup(jstr_or(spec, "externalName", ""));
	size_t n = strlen(cname);
	if (n && cname[n - 1] == '.')
		cname[--n] = 0;
	if (n)
		res_invalid_each(fe, "spec.externalName", cname, is_dns1123_subdomain);
	else
		field_err_required(fe, "spec.externalName", NULL);
	free(cname);
}

static void validate_affinity(const cJSON *spec, struct field_errs *fe)
{
	const char *aff = jstr_or(spec, "sessionAffinity", "");
	const cJSON *cfg = jget(spec, "sessionAffinityConfig"), *t;
	if (!*aff)
		field_err_required(fe, "spec.sessionAffinity", NULL);
	else if (!res_str_in(aff, affinities))
		field_err_unsupported(fe, "spec.sessionAffinity", aff, affinities);
	if (!strcmp(aff, "None") && cfg && !cJSON_IsNull(cfg))
		field_err_forbidden(fe, "spec.sessionAffinityConfig",
				    "must not be set when session affinity is None");
	if (strcmp(aff, "ClientIP"))
		return;
	t = jget(cfg, "clientIP.timeoutSeconds");
	if (!cJSON_IsObject(cfg))
		field_err_required(fe, "spec.sessionAffinityConfig", "when session affinity type is ClientIP");
	else if (!cJSON_IsObject(jget(cfg, "clientIP")))
		field_err_required(fe, "spec.sessionAffinityConfig.clientIP",
				   "when session affinity type is ClientIP");
	else if (!cJSON_IsNumber(t))
		field_err_required(fe, "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
				   "when session affinity type is ClientIP");
	else if (t->valuedouble <= 0 || t->valuedouble > 86400)
		field_err_invalid_int(fe, "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
				      res_num(t),
				      "must be greater than 0 and less than 86400");
}

static bool is_ipv6(const char *v)
{
	struct lk_ip ip;
	return lk_ip_parse(v, &ip, NULL) == 0 && ip.family == AF_INET6;
}

static bool ip_family(const cJSON *ips, int i)
{
	return is_ipv6(cJSON_GetStringValue(cJSON_GetArrayItem(ips, i)));
}

static void invalid_ips(struct field_errs *fe, const char *f, const cJSON *ips,
			const char *detail)
{
	char *v = res_go_strings(ips);
	field_err_invalid_raw(fe, f, v, detail);
	free(v);
}

/* ipFamilies (supported, no duplicates) and ipFamilyPolicy alone. */
static void validate_families(const cJSON *spec, struct field_errs *fe)
{
	const char *pol = jstr(spec, "ipFamilyPolicy");
	const cJSON *it;
	char f[FP_MAX];
	int i = 0, seen4 = 0, seen6 = 0;
	cJSON_ArrayForEach(it, jget(spec, "ipFamilies")) {
		const char *fam = cJSON_IsString(it) ? it->valuestring : "";
		res_fp(f, "spec.ipFamilies[%d]", i++);
		if (!res_str_in(fam, families))
			field_err_unsupported(fe, f, fam, families);
		if ((!strcmp(fam, "IPv4") && seen4++) || (!strcmp(fam, "IPv6") && seen6++))
			field_err_duplicate_str(fe, f, fam);
	}
	if (pol && !res_str_in(pol, family_policies))
		field_err_unsupported(fe, "spec.ipFamilyPolicy", pol, family_policies);
}

/* ValidateServiceClusterIPsRelatedFields. */
static void validate_cluster_ips(const cJSON *spec, struct field_errs *fe)
{
	const cJSON *ips = jget(spec, "clusterIPs"), *it;
	const char *ip = jstr_or(spec, "clusterIP", "");
	char f[FP_MAX];
	struct lk_ip b;
	int i = 0, n = res_jsize(ips);
	bool bad = false;
	if (!strcmp(jstr_or(spec, "type", ""), "ExternalName"))
		return;
	if (*ip && !n)
		field_err_required(fe, "spec.clusterIPs", NULL);
	else if (*ip && !str_eq(cJSON_GetStringValue(cJSON_GetArrayItem(ips, 0)), ip))
		invalid_ips(fe, "spec.clusterIPs", ips, "first value must match `clusterIP`");
	else if (!*ip && n)
		invalid_ips(fe, "spec.clusterIPs", ips, "must be empty when `clusterIP` is not specified");
	validate_families(spec, fe);
	cJSON_ArrayForEach(it, ips) {
		const char *v = cJSON_IsString(it) ? it->valuestring : "";
		if (i == 0 && !strcmp(v, "None")) {
			if (n > 1) {
				bad = true;
				invalid_ips(fe, "spec.clusterIPs", ips, "'None' must be the first and only value");
			}
		} else if (lk_ip_parse(v, &b, NULL) < 0) {
			bad = true;
			field_err_invalid_str(fe, res_fp(f, "spec.clusterIPs[%d]", i), v,
					      MSG_BAD_IP);
		}
		i++;
	}
	if (n > 2)
		invalid_ips(fe, "spec.clusterIPs", ips, "may only hold up to 2 values");
	if (!bad && n == 2 && ip_family(ips, 0) == ip_family(ips, 1))
		invalid_ips(fe, "spec.clusterIPs", ips, "may specify no more than one IP for each IP family");
	if (bad || headless(spec))
		return;
	i = 0;
	cJSON_ArrayForEach(it, ips) {
		const char *fam = cJSON_GetStringValue(cJSON_GetArrayItem(jget(spec, "ipFamilies"), i));
		const char *v = cJSON_IsString(it) ? it->valuestring : "";
		bool v6 = is_ipv6(v);
		char detail[64];
		if (fam && ((!strcmp(fam, "IPv4") && v6) || (!strcmp(fam, "IPv6") && !v6))) {
			snprintf(detail, sizeof(detail), "expected an %s value as indicated by `ipFamilies[%d]`",
				 fam, i);
			field_err_invalid_str(fe, res_fp(f, "spec.clusterIPs[%d]", i), v, detail);
		}
		i++;
	}
}

/* Duplicate NodePorts and duplicate (protocol, port) pairs. */
static void validate_port_dups(const cJSON *spec, struct field_errs *fe)
{
	const cJSON *ports = jget(spec, "ports"), *p, *q;
	char f[FP_MAX];
	int i = 0;
	if (!strcmp(jstr_or(spec, "type", ""), "ClusterIP")) {
		cJSON_ArrayForEach(p, ports) {
			if (jint(p, "nodePort", 0))
				field_err_forbidden(fe, res_fp(f, "spec.ports[%d].nodePort", i),
						    "may not be used when `type` is 'ClusterIP'");
			i++;
		}
	}
	for (i = 0; i < res_jsize(ports); i++) {
		p = cJSON_GetArrayItem(ports, i);
		for (int j = 0; j < i; j++) {
			q = cJSON_GetArrayItem(ports, j);
			if (jint(p, "nodePort", 0) && jint(p, "nodePort", 0) == jint(q, "nodePort", 0) &&
			    str_eq(jstr_or(p, "protocol", ""), jstr_or(q, "protocol", ""))) {
				char v[24];
				snprintf(v, sizeof(v), "%lld", jint(p, "nodePort", 0));
				field_err_duplicate_raw(fe, res_fp(f, "spec.ports[%d].nodePort", i), v);
				break;
			}
		}
	}
	for (i = 0; i < res_jsize(ports); i++) {
		p = cJSON_GetArrayItem(ports, i);
		for (int j = 0; j < i; j++) {
			q = cJSON_GetArrayItem(ports, j);
			if (jint(p, "port", 0) != jint(q, "port", 0) ||
			    !str_eq(jstr_or(p, "protocol", ""), jstr_or(q, "protocol", "")))
				continue;
			res_fp(f, "spec.ports[%d]", i);
			field_err_add(fe, "FieldValueDuplicate", f,
				      "Duplicate value: core.ServicePort{Name:\"\", Protocol:\"%s\", "
				      "AppProtocol:(*string)(nil), Port:%lld, TargetPort:"
				      "intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}",
				      jstr_or(p, "protocol", ""), jint(p, "port", 0));
			break;
		}
	}
}

static void validate_lb_fields(const cJSON *spec, struct field_errs *fe)
{
	bool lb = !strcmp(jstr_or(spec, "type", ""), "LoadBalancer");
	const char *cls = jstr(spec, "loadBalancerClass");
	if (res_jsize(jget(spec, "loadBalancerSourceRanges")) && !lb)
		field_err_forbidden(fe, "spec.LoadBalancerSourceRanges", LB_ONLY);
	if (cJSON_IsBool(jget(spec, "allocateLoadBalancerNodePorts")) && !lb)
		field_err_forbidden(fe, "spec.allocateLoadBalancerNodePorts", LB_ONLY);
	if (lb && !cJSON_IsBool(jget(spec, "allocateLoadBalancerNodePorts")))
		field_err_required(fe, "allocateLoadBalancerNodePorts", NULL); /* sic */
	if (cls && !lb)
		field_err_forbidden(fe, "spec.loadBalancerClass", LB_ONLY);
	if (cls)
		res_invalid_each(fe, "spec.loadBalancerClass", cls, is_qualified_name);
}

static void validate_traffic(const cJSON *spec, struct field_errs *fe)
{
	const char *type = jstr_or(spec, "type", ""), *etp = jstr_or(spec, "externalTrafficPolicy", "");
	const char *itp = jstr(spec, "internalTrafficPolicy");
	bool ext = !strcmp(type, "LoadBalancer") || !strcmp(type, "NodePort") ||
		   (!strcmp(type, "ClusterIP") && res_jsize(jget(spec, "externalIPs")));
	bool hc = !strcmp(type, "LoadBalancer") && !strcmp(etp, "Local");
	long long hcp = jint(spec, "healthCheckNodePort", 0);
	if (!ext && *etp)
		field_err_invalid_str(fe, "spec.externalTrafficPolicy", etp,
				      "may only be set for externally-accessible services");
	else if (ext && !*etp)
		field_err_required(fe, "spec.externalTrafficPolicy", NULL);
	else if (ext && !res_str_in(etp, traffic_policies))
		field_err_unsupported(fe, "spec.externalTrafficPolicy", etp, traffic_policies);
	if (!hc && hcp)
		field_err_invalid_int(fe, "spec.healthCheckNodePort", hcp,
				      "may only be set when `type` is 'LoadBalancer' and "
				      "`externalTrafficPolicy` is 'Local'");
	else if (hc && hcp) /* Required once issue 4 allocates it */
		res_check_port(fe, "spec.healthCheckNodePort", hcp);
	if (!itp && (!strcmp(type, "NodePort") || !strcmp(type, "LoadBalancer") ||
		     !strcmp(type, "ClusterIP")))
		field_err_required(fe, "spec.internalTrafficPolicy",
				   "must be specified when type is NodePort, LoadBalancer, or ClusterIP");
	if (itp && !res_str_in(itp, traffic_policies))
		field_err_unsupported(fe, "spec.internalTrafficPolicy", itp, traffic_policies);
}

/* validateUpgradeDowngradeClusterIPs, for one family. */
static void validate_ip_change(const cJSON *spec, const cJSON *ospec, struct field_errs *fe)
{
	const cJSON *ips = jget(spec, "clusterIPs"), *oips = jget(ospec, "clusterIPs");
	int n = res_jsize(ips), on = res_jsize(oips);
	char f[FP_MAX];
	if (str_eq(jstr(spec, "type"), "ExternalName") || str_eq(jstr(ospec, "type"), "ExternalName"))
		return;
	if (headless(spec) && headless(ospec))
		return;
	if (n == on) {
		for (int i = 0; i < n; i++)
			if (!jequal(cJSON_GetArrayItem(ips, i), cJSON_GetArrayItem(oips, i)))
				invalid_ips(fe, res_fp(f, "spec.clusterIPs[%d]", i), ips,
					    "may not change once set");
	} else if (on > n && !n) {
		field_err_invalid_raw(fe, "spec.clusterIPs[0]", "[]string(nil)",
				      "primary clusterIP can not be unset");
	} else if (on > n && !jequal(cJSON_GetArrayItem(ips, 0), cJSON_GetArrayItem(oips, 0))) {
		invalid_ips(fe, "spec.clusterIPs[0]", ips, "may not change once set");
	}
	const cJSON *fam = cJSON_GetArrayItem(jget(spec, "ipFamilies"), 0);
	const cJSON *ofam = cJSON_GetArrayItem(jget(ospec, "ipFamilies"), 0);
	if (fam && ofam && !jequal(fam, ofam))
		field_err_invalid_str(fe, "spec.ipFamilies[0]", cJSON_GetStringValue(fam),
				      "may not change once set");
}

/* ValidateLoadBalancerStatus, and ingress only on LoadBalancer services. */
static void validate_lb_status(const cJSON *svc, struct field_errs *fe)
{
	const cJSON *ing = jget(svc, "status.loadBalancer.ingress"), *it;
	char f[FP_MAX];
	struct lk_ip b;
	int i = 0;
	if (!res_jsize(ing))
		return;
	if (!str_eq(jstr(svc, "spec.type"), "LoadBalancer")) {
		field_err_forbidden(fe, "status.loadBalancer.ingress",
				    "may only be used when `spec.type` is 'LoadBalancer'");
		return;
	}
	cJSON_ArrayForEach(it, ing) {
		const char *ip = jstr(it, "ip"), *mode = jstr(it, "ipMode");
		if (ip && lk_ip_parse(ip, &b, NULL) < 0)
			field_err_invalid_str(fe, res_fp(f, "status.loadBalancer.ingress[%d].ip", i),
					      ip, "must be a valid IP address");
		if (mode && !res_str_in(mode, (const char *const[]){ "Proxy", "VIP", NULL }))
			field_err_unsupported(fe, res_fp(f, "status.loadBalancer.ingress[%d].ipMode", i),
					      mode, (const char *const[]){ "Proxy", "VIP", NULL });
		i++;
	}
}

void service_validate(const cJSON *svc, const cJSON *old, struct field_errs *fe)
{
	const cJSON *spec = jget(svc, "spec"), *p;
	const char *type = jstr_or(spec, "type", "");
	cJSON *names = cJSON_CreateObject();
	char f[FP_MAX];
	int i = 0, nports = res_jsize(jget(spec, "ports"));
	if (old) /* ValidateServiceUpdate checks these before ValidateService */
		validate_ip_change(spec, jget(old, "spec"), fe);
	if (!nports && !headless(spec) && strcmp(type, "ExternalName"))
		field_err_required(fe, "spec.ports", NULL);
	validate_type_specific(spec, fe);
	cJSON_ArrayForEach(p, jget(spec, "ports"))
		validate_port(p, i++, nports > 1, names, fe);
	cJSON_Delete(names);
	if (cJSON_IsObject(jget(spec, "selector")))
		resource_validate_labels(jget(spec, "selector"), "spec.selector", fe);
	validate_affinity(spec, fe);
	validate_cluster_ips(spec, fe);
	i = 0;
	cJSON_ArrayForEach(p, jget(spec, "externalIPs")) {
		const char *ip = cJSON_IsString(p) ? p->valuestring : "";
		struct lk_ip b;
		res_fp(f, "spec.externalIPs[%d]", i++);
		if (lk_ip_parse(ip, &b, NULL) < 0)
			field_err_invalid_str(fe, f, ip, MSG_BAD_IP);
		else
			check_endpoint_ip(fe, f, ip);
	}
	if (!*type)
		field_err_required(fe, "spec.type", NULL);
	else if (!res_str_in(type, svc_types))
		field_err_unsupported(fe, "spec.type", type, svc_types);
	validate_port_dups(spec, fe);
	validate_lb_fields(spec, fe);
	validate_traffic(spec, fe);
	validate_lb_status(svc, fe);
}
