/*
 * proxy/plan.c: the pure planner. Services + EndpointSlices -> the service
 * ports the kernel must implement, as kube-proxy's CategorizeEndpoints and
 * ServicePort do (shared/specs/services.md §6): ready endpoints, falling
 * back to serving+terminating ones; headless, ExternalName and
 * service-proxy-name-labelled services skipped; IPv4 only for now; the
 * Local traffic policies pick the endpoints on in->node_name (proxy.h).
 * No I/O, no globals: tests/unit/test_proxy.c drives it.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ip.h"
#include "common/json.h"
#include "common/util.h"
#include "proxy/proxy.h"

const char *proxy_proto_name(uint8_t proto)
{
	return proto == IPPROTO_UDP ? "udp" : proto == IPPROTO_SCTP ? "sctp" : "tcp";
}

static uint8_t proto_of(const char *s)
{
	if (s && !strcmp(s, "UDP"))
		return IPPROTO_UDP;
	if (s && !strcmp(s, "SCTP"))
		return IPPROTO_SCTP;
	return IPPROTO_TCP;
}

/* IPv4 text into the plan's network-order u32. */
static int parse_ip(const char *s, uint32_t *ip)
{
	uint32_t v;
	if (lk_ip4_parse(s, &v) < 0)
		return -1;
	*ip = htonl(v);
	return 0;
}

/* The pod CIDR (a bare address is a /32); 0/0 when it is not IPv4. */
static void parse_cidr(const char *s, uint32_t *net, uint32_t *mask)
{
	struct lk_cidr c;
	*net = *mask = 0;
	if (lk_cidr_parse(s, LK_CIDR_ADDR, &c, NULL) < 0 || c.ip.family != AF_INET)
		return;
	*mask = htonl(lk_ip4_mask(c.bits));
	*net = htonl(lk_ip4_value(&c.ip)) & *mask;
}

/* ---- slices by service ---- */

struct slice_ref {
	char key[512];          /* ns/service-name */
	const cJSON *slice;
};

static int slice_cmp(const void *a, const void *b)
{
	return strcmp(((const struct slice_ref *)a)->key, ((const struct slice_ref *)b)->key);
}

static int ep_cmp(const void *a, const void *b)
{
	const struct proxy_ep *x = a, *y = b;
	uint32_t xi = ntohl(x->ip), yi = ntohl(y->ip);
	if (xi != yi)
		return xi < yi ? -1 : 1;
	return (int)x->port - (int)y->port;
}

static void ep_add(struct proxy_ep **v, size_t *n, size_t *cap, uint32_t ip, uint16_t port)
{
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i].ip == ip && (*v)[i].port == port)
			return;
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 4;
		*v = xrealloc(*v, *cap * sizeof(**v));
	}
	(*v)[*n].ip = ip;
	(*v)[(*n)++].port = port;
}

/* Endpoints of one service port from its slices into (*v, *n); serving:
 * second pass (serving && terminating) when no endpoint is ready; node:
 * only endpoints whose nodeName is node (NULL: all). */
static void collect_eps(struct proxy_ep **v, size_t *n, const struct proxy_svc *s,
			const char *pname, const struct slice_ref *refs, size_t nrefs,
			bool serving, const char *node)
{
	size_t cap = 0;
	for (size_t i = 0; i < nrefs; i++) {
		const cJSON *sl = refs[i].slice, *sp, *ep;
		int port = -1;
		if (strcmp(jstr_or(sl, "addressType", "IPv4"), "IPv4"))
			continue;
		cJSON_ArrayForEach(sp, jget(sl, "ports")) {
			if (!strcmp(jstr_or(sp, "name", ""), pname) &&
			    proto_of(jstr_or(sp, "protocol", "TCP")) == s->proto)
				port = (int)jint(sp, "port", -1);
		}
		if (port <= 0 || port > 65535)
			continue;
		cJSON_ArrayForEach(ep, jget(sl, "endpoints")) {
			bool ready = jbool(ep, "conditions.ready", true);
			bool serv = jbool(ep, "conditions.serving", ready);
			bool term = jbool(ep, "conditions.terminating", false);
			const cJSON *a;
			if (serving ? !(serv && term) : !ready)
				continue;
			if (node && strcmp(jstr_or(ep, "nodeName", ""), node))
				continue;
			cJSON_ArrayForEach(a, jget(ep, "addresses")) {
				uint32_t ip;
				if (cJSON_IsString(a) && parse_ip(a->valuestring, &ip) == 0)
					ep_add(v, n, &cap, ip, (uint16_t)port);
			}
		}
	}
	if (*n > 1)
		qsort(*v, *n, sizeof(**v), ep_cmp);
}

static void vip_add(struct proxy_svc *s, const char *ipstr)
{
	uint32_t ip;
	if (parse_ip(ipstr, &ip) < 0)
		return;
	for (size_t i = 0; i < s->nvips; i++)
		if (s->vips[i] == ip)
			return;
	s->vips = xrealloc(s->vips, (s->nvips + 1) * sizeof(*s->vips));
	s->vips[s->nvips++] = ip;
}

static bool svc_proxied(const cJSON *svc)
{
	const char *cip = jstr(svc, "spec.clusterIP");
	uint32_t ip;
	if (!strcmp(jstr_or(svc, "spec.type", "ClusterIP"), "ExternalName"))
		return false;
	const cJSON *labels = jget(svc, "metadata.labels");
	if (labels && cJSON_GetObjectItemCaseSensitive(labels, "service.kubernetes.io/service-proxy-name"))
		return false;
	return cip && parse_ip(cip, &ip) == 0;
}

/* Traffic policies, as kube-proxy: externalTrafficPolicy Local counts only
 * for a service reachable from outside (node port, external or LB IPs);
 * local endpoints are the ready ones on this node, else its serving and
 * terminating ones; healthCheckNodePort only for LoadBalancer + eTP Local. */
static void plan_policies(struct proxy_svc *s, const cJSON *svc, const char *pname,
			  const struct slice_ref *refs, size_t nrefs, const char *node)
{
	bool reachable = s->nodeport || s->nvips > 1;
	long long hc = jint(svc, "spec.healthCheckNodePort", 0);

	s->ext_local = reachable && !strcmp(jstr_or(svc, "spec.externalTrafficPolicy", "Cluster"), "Local");
	s->int_local = !strcmp(jstr_or(svc, "spec.internalTrafficPolicy", "Cluster"), "Local");
	if (!s->ext_local && !s->int_local)
		return;
	if (node) {
		collect_eps(&s->leps, &s->nleps, s, pname, refs, nrefs, false, node);
		s->leps_ready = s->nleps > 0;
		if (!s->nleps)
			collect_eps(&s->leps, &s->nleps, s, pname, refs, nrefs, true, node);
	}
	if (s->nleps)
		s->lchain = xasprintf("local-%s", s->chain + 4);
	if (s->ext_local && s->neps)
		s->xchain = xasprintf("ext-%s", s->chain + 4);
	if (s->ext_local && !strcmp(jstr_or(svc, "spec.type", ""), "LoadBalancer") && hc > 0 && hc <= 65535)
		s->hcport = (uint16_t)hc;
}

static void plan_port(struct proxy_plan *p, size_t *cap, const cJSON *svc, const cJSON *sp,
		      const struct slice_ref *refs, size_t nrefs, const char *node)
{
	const char *ns = jstr_or(svc, "metadata.namespace", ""), *name = jstr_or(svc, "metadata.name", "");
	const char *pname = jstr_or(sp, "name", "");
	long long port = jint(sp, "port", 0), np = jint(sp, "nodePort", 0);
	const cJSON *it;
	struct proxy_svc *s;
	char pstr[32];

	if (port <= 0 || port > 65535)
		return;
	if (*cap == p->n) {
		*cap = *cap ? *cap * 2 : 16;
		p->svcs = xrealloc(p->svcs, *cap * sizeof(*p->svcs));
	}
	s = &p->svcs[p->n++];
	memset(s, 0, sizeof(*s));
	s->proto = proto_of(jstr_or(sp, "protocol", "TCP"));
	s->port = (uint16_t)port;
	s->nodeport = np > 0 && np <= 65535 ? (uint16_t)np : 0;
	snprintf(pstr, sizeof(pstr), "%lld", port);
	s->svc = xasprintf("%s/%s", ns, name);
	s->key = xasprintf("%s/%s:%s", ns, name, *pname ? pname : pstr);
	s->chain = xasprintf("svc-%s/%s/%s/%s", ns, name, proxy_proto_name(s->proto),
			     *pname ? pname : pstr);
	vip_add(s, jstr(svc, "spec.clusterIP"));
	cJSON_ArrayForEach(it, jget(svc, "spec.externalIPs"))
		if (cJSON_IsString(it))
			vip_add(s, it->valuestring);
	cJSON_ArrayForEach(it, jget(svc, "status.loadBalancer.ingress"))
		vip_add(s, jstr(it, "ip"));
	if (!strcmp(jstr_or(svc, "spec.sessionAffinity", "None"), "ClientIP")) {
		long long t = jint(svc, "spec.sessionAffinityConfig.clientIP.timeoutSeconds", 10800);
		s->affinity = t > 0 && t <= 86400 ? (uint32_t)t : 10800;
	}
	collect_eps(&s->eps, &s->neps, s, pname, refs, nrefs, false, NULL);
	if (!s->neps)
		collect_eps(&s->eps, &s->neps, s, pname, refs, nrefs, true, NULL);
	plan_policies(s, svc, pname, refs, nrefs, node);
	proxy_svc_union(s);
}

void proxy_svc_union(struct proxy_svc *s)
{
	size_t i = 0, j = 0;
	free(s->aeps);
	s->aeps = xcalloc(s->neps + s->nleps + 1, sizeof(*s->aeps));
	s->naeps = 0;
	while (i < s->neps || j < s->nleps) {
		int c = i >= s->neps ? 1 : j >= s->nleps ? -1 : ep_cmp(&s->eps[i], &s->leps[j]);
		if (c <= 0)
			s->aeps[s->naeps++] = s->eps[i++];
		else
			s->aeps[s->naeps++] = s->leps[j++];
		if (!c)
			j++;
	}
}

static void svc_free(struct proxy_svc *s)
{
	free(s->key);
	free(s->svc);
	free(s->chain);
	free(s->vips);
	free(s->eps);
	free(s->leps);
	free(s->aeps);
	free(s->lchain);
	free(s->xchain);
}

static int svc_cmp(const void *a, const void *b)
{
	return strcmp(((const struct proxy_svc *)a)->chain, ((const struct proxy_svc *)b)->chain);
}

void proxy_plan_build(const struct proxy_input *in, struct proxy_plan *out)
{
	struct slice_ref *refs = xcalloc(in->nslices ? in->nslices : 1, sizeof(*refs));
	size_t nrefs = 0, cap = 0;

	memset(out, 0, sizeof(*out));
	parse_cidr(in->pod_cidr, &out->pod_net, &out->pod_mask);
	for (size_t i = 0; i < in->nslices; i++) {
		const char *svc;
		const cJSON *labels = jget(in->slices[i], "metadata.labels");
		const cJSON *sn = labels ? cJSON_GetObjectItemCaseSensitive(labels, "kubernetes.io/service-name") : NULL;
		svc = cJSON_IsString(sn) ? sn->valuestring : NULL;
		if (!svc)
			continue;
		snprintf(refs[nrefs].key, sizeof(refs[nrefs].key), "%s/%s",
			 jstr_or(in->slices[i], "metadata.namespace", ""), svc);
		refs[nrefs++].slice = in->slices[i];
	}
	qsort(refs, nrefs, sizeof(*refs), slice_cmp);
	for (size_t i = 0; i < in->nsvcs; i++) {
		const cJSON *svc = in->svcs[i], *sp;
		struct slice_ref k;
		size_t lo = 0, hi = nrefs, first;
		if (!svc_proxied(svc))
			continue;
		snprintf(k.key, sizeof(k.key), "%s/%s", jstr_or(svc, "metadata.namespace", ""),
			 jstr_or(svc, "metadata.name", ""));
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (strcmp(refs[mid].key, k.key) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		first = lo;
		while (lo < nrefs && !strcmp(refs[lo].key, k.key))
			lo++;
		cJSON_ArrayForEach(sp, jget(svc, "spec.ports"))
			plan_port(out, &cap, svc, sp, refs + first, lo - first, in->node_name);
	}
	if (out->n > 1)
		qsort(out->svcs, out->n, sizeof(*out->svcs), svc_cmp);
	/* Two ports of one service with the same name and protocol would
	 * share a chain: the API refuses that; keep the first. */
	for (size_t i = 1; i < out->n; i++)
		if (!strcmp(out->svcs[i].chain, out->svcs[i - 1].chain)) {
			struct proxy_svc *s = &out->svcs[i];
			svc_free(s);
			memmove(s, s + 1, (out->n - i - 1) * sizeof(*s));
			out->n--, i--;
		}
	free(refs);
}

void proxy_plan_release(struct proxy_plan *p)
{
	for (size_t i = 0; p && i < p->n; i++)
		svc_free(&p->svcs[i]);
	if (p) {
		free(p->svcs);
		memset(p, 0, sizeof(*p));
	}
}

bool proxy_svc_equal(const struct proxy_svc *a, const struct proxy_svc *b)
{
	return !strcmp(a->chain, b->chain) && a->proto == b->proto && a->port == b->port &&
	       a->nodeport == b->nodeport && a->affinity == b->affinity &&
	       a->nvips == b->nvips && a->neps == b->neps &&
	       (!a->nvips || !memcmp(a->vips, b->vips, a->nvips * sizeof(*a->vips))) &&
	       (!a->neps || !memcmp(a->eps, b->eps, a->neps * sizeof(*a->eps))) &&
	       a->ext_local == b->ext_local && a->int_local == b->int_local &&
	       a->nleps == b->nleps &&
	       (!a->nleps || !memcmp(a->leps, b->leps, a->nleps * sizeof(*a->leps)));
}

const char *proxy_svc_target(const struct proxy_svc *s, bool external)
{
	if (!s->neps)
		return "reject-chain";
	if (external)
		return s->ext_local ? s->xchain : s->chain;
	if (s->int_local)
		return s->lchain;    /* NULL without local endpoints: drop */
	return s->chain;
}

const struct proxy_svc *proxy_plan_find(const struct proxy_plan *p, const char *chain)
{
	size_t lo = 0, hi = p->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(p->svcs[mid].chain, chain);
		if (!c)
			return &p->svcs[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

size_t proxy_plan_diff(const struct proxy_plan *old, const struct proxy_plan *new,
		       proxy_diff_fn fn, void *arg)
{
	size_t i = 0, j = 0, n = 0;
	while (i < old->n || j < new->n) {
		int c = i >= old->n ? 1 : j >= new->n ? -1 :
			strcmp(old->svcs[i].chain, new->svcs[j].chain);
		if (c < 0) {
			fn(arg, &old->svcs[i++], NULL);
			n++;
		} else if (c > 0) {
			fn(arg, NULL, &new->svcs[j++]);
			n++;
		} else {
			if (!proxy_svc_equal(&old->svcs[i], &new->svcs[j])) {
				fn(arg, &old->svcs[i], &new->svcs[j]);
				n++;
			}
			i++, j++;
		}
	}
	return n;
}

/* Chains and rules nft.c creates (fixed part + per service port). */
void proxy_plan_counts(const struct proxy_plan *p, size_t *chains, size_t *rules)
{
	size_t c = 6, r = 2 + 2 + 1 + 1 + 4 + 1;
	for (size_t i = 0; i < p->n; i++) {
		const struct proxy_svc *s = &p->svcs[i];
		if (!s->neps)
			continue;
		c++;
		r += 2;
		if (s->affinity) {      /* lookups in svc-; update + dnat in ep- */
			c += s->naeps;
			r += s->neps + s->naeps * 2;
		}
		if (s->lchain) {        /* [masq mark,] dnat or lookups + vmap */
			c++;
			r += (s->int_local ? 1 : 0) + (s->affinity ? s->nleps + 1 : 1);
		}
		if (s->xchain) {        /* 3 short-circuit rules + goto/drop */
			c++;
			r += 4;
		}
	}
	*chains = c;
	*rules = r;
}
