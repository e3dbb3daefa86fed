/*
 * dns/zone.c: keeping the zone view (dnszone_new/free/service/slice), pure.
 * Services and EndpointSlices are copied into the small structs of
 * zone_internal.h (which also describes the tables); zone_answer.c reads
 * them to answer questions. Every change rebuilds one sname's view and
 * reverse entries: O(size of that service), and bumps the SOA serial
 * (which starts at the creation time).
 *
 * Decisions (CoreDNS as the model):
 *   - endpoints (names, PTR, SRV) of headless and ClusterIP services, as
 *     CoreDNS: the ready ones (all of them with publishNotReadyAddresses or
 *     the tolerate-unready-endpoints annotation), one per IP. The A record
 *     of a ClusterIP service's name stays its cluster IP.
 *   - reverse zones: for each configured CIDR, the SOA owner is the reverse
 *     name of the prefix rounded down to an octet (in-addr.arpa) or nibble
 *     (ip6.arpa): 10.244.0.0/16 -> 244.10.in-addr.arpa, 10.96.0.0/12 ->
 *     10.in-addr.arpa.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/htab.h"
#include "common/json.h"
#include "common/util.h"
#include "dns/dns.h"
#include "dns/zone_internal.h"

/* ---- the view ---- */

static void lower_copy(char *dst, size_t cap, const char *src)
{
	size_t i = 0;
	for (; src && src[i] && i + 1 < cap; i++)
		dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ? (char)(src[i] - 'A' + 'a') : src[i];
	dst[i] = '\0';
}

/* "10-244-0-12", or for IPv6 the compressed text with ':' -> '-'. */
static void dashed(const struct lk_ip *ip, char *buf, size_t cap)
{
	char t[LK_IP_STRLEN];
	lk_ip_format(ip, t);
	for (char *p = t; *p; p++)
		if (*p == '.' || *p == ':')
			*p = '-';
	snprintf(buf, cap, "%s", t);
}

static void parse_ports(const cJSON *arr, struct port **out, size_t *n)
{
	const cJSON *p;
	int cnt = cJSON_GetArraySize(arr);

	*out = cnt > 0 ? xcalloc((size_t)cnt, sizeof(**out)) : NULL;
	*n = 0;
	cJSON_ArrayForEach(p, arr) {
		struct port *o = &(*out)[*n];
		long long num = jint(p, "port", 0);
		if (!cJSON_IsObject(p) || num < 0 || num > 65535)
			continue;
		lower_copy(o->name, sizeof(o->name), jstr_or(p, "name", ""));
		lower_copy(o->proto, sizeof(o->proto), jstr_or(p, "protocol", "TCP"));
		o->port = (uint16_t)num;
		(*n)++;
	}
}

/* "name.ns" from metadata, lower case; false when unusable. */
static bool obj_key(const cJSON *o, const char *name, char *key, size_t cap)
{
	const char *ns = jstr_or(o, "metadata.namespace", "default");
	char a[LBL], b[LBL];

	if (!name || !*name || strlen(name) >= LBL || strlen(ns) >= LBL || strchr(name, '.') ||
	    strchr(ns, '.') || !*ns)
		return false;
	lower_copy(a, sizeof(a), name);
	lower_copy(b, sizeof(b), ns);
	return snprintf(key, cap, "%s.%s", a, b) < (int)cap;
}

static void svc_free(struct svc *s)
{
	if (!s)
		return;
	free(s->ips);
	free(s->ports);
	free(s);
}

static bool tolerate_unready(const cJSON *o)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(
		jget(o, "metadata.annotations"), "service.alpha.kubernetes.io/tolerate-unready-endpoints");
	return cJSON_IsString(v) && !strcmp(v->valuestring, "true");
}

static struct svc *svc_parse(const cJSON *o)
{
	struct svc *s = xcalloc(1, sizeof(*s));
	const cJSON *ips = jget(o, "spec.clusterIPs"), *it;
	const char *cip = jstr_or(o, "spec.clusterIP", "");
	size_t n;

	s->pnra = jbool(o, "spec.publishNotReadyAddresses", false) || tolerate_unready(o);
	if (str_eq(jstr(o, "spec.type"), "ExternalName")) {
		s->kind = SK_EXTERNAL;
		lower_copy(s->ext, sizeof(s->ext), jstr_or(o, "spec.externalName", ""));
		n = strlen(s->ext);
		if (n && s->ext[n - 1] == '.')
			s->ext[n - 1] = '\0';
		return s;
	}
	parse_ports(jget(o, "spec.ports"), &s->ports, &s->nports);
	if (!cJSON_IsArray(ips) || !cJSON_GetArraySize(ips))
		ips = NULL;
	if (str_eq(cip, "None") ||
	    (ips && cJSON_IsString(ips->child) && str_eq(ips->child->valuestring, "None"))) {
		s->kind = SK_HEADLESS;
		return s;
	}
	s->ips = xcalloc(ips ? (size_t)cJSON_GetArraySize(ips) : 1, sizeof(*s->ips));
	if (!ips && lk_ip_parse(cip, &s->ips[0], NULL) == 0)
		s->nips = 1;
	cJSON_ArrayForEach(it, ips)
		if (cJSON_IsString(it) &&
		    lk_ip_parse(it->valuestring, &s->ips[s->nips], NULL) == 0)
			s->nips++;
	return s;
}

static void slice_free(void *p)
{
	struct slice *s = p;
	if (!s)
		return;
	free(s->key);
	free(s->owner);
	free(s->eps);
	free(s->ports);
	free(s);
}

static struct slice *slice_parse(const cJSON *o, const char *key)
{
	struct slice *s = xcalloc(1, sizeof(*s));
	const char *at = jstr_or(o, "addressType", "IPv4");
	const cJSON *labels = jget(o, "metadata.labels"), *e, *ad, *eps;
	const cJSON *sname = cJSON_GetObjectItemCaseSensitive(labels, "kubernetes.io/service-name");
	char owner[2 * LBL + 2];
	size_t cap = 0;
	int fam = str_eq(at, "IPv4") ? AF_INET : str_eq(at, "IPv6") ? AF_INET6 : 0;

	s->key = xstrdup(key);
	if (obj_key(o, cJSON_IsString(sname) ? sname->valuestring : NULL, owner, sizeof(owner)))
		s->owner = xstrdup(owner);
	parse_ports(jget(o, "ports"), &s->ports, &s->nports);
	eps = fam ? jget(o, "endpoints") : NULL;
	cJSON_ArrayForEach(e, eps) {
		const cJSON *ready = jget(e, "conditions.ready");
		cJSON_ArrayForEach(ad, jget(e, "addresses")) {
			struct ep *x;
			if (s->neps == cap) {
				cap = cap ? cap * 2 : 4;
				s->eps = xrealloc(s->eps, cap * sizeof(*s->eps));
			}
			x = &s->eps[s->neps];
			memset(x, 0, sizeof(*x));
			if (!cJSON_IsString(ad) ||
			    lk_ip_parse(ad->valuestring, &x->ip, NULL) < 0 || x->ip.family != fam)
				continue;
			x->ready = !cJSON_IsBool(ready) || cJSON_IsTrue(ready);
			lower_copy(x->host, sizeof(x->host), jstr_or(e, "hostname", ""));
			s->neps++;
		}
	}
	return s;
}

/* ---- keeping the view ---- */

static void rev_link(struct dns_zone *z, struct rev *r)
{
	r->next = htab_get(&z->rev, &r->ip, sizeof(r->ip));
	htab_put(&z->rev, &r->ip, sizeof(r->ip), r);
}

static void rev_unlink(struct dns_zone *z, struct rev *r)
{
	struct rev *head = htab_get(&z->rev, &r->ip, sizeof(r->ip));

	if (head == r) {
		if (r->next)
			htab_put(&z->rev, &r->ip, sizeof(r->ip), r->next);
		else
			htab_del(&z->rev, &r->ip, sizeof(r->ip));
		return;
	}
	for (struct rev *p = head; p; p = p->next)
		if (p->next == r) {
			p->next = r->next;
			return;
		}
}

static int mep_cmp(const void *x, const void *y)
{
	const struct mep *a = x, *b = y;
	int c = lk_ip_cmp(&a->ip, &b->ip);
	if (c)
		return c;
	return (b->host != NULL) - (a->host != NULL);        /* with hostname first */
}

/* The visible endpoints of a service, deduplicated by IP. */
static void merge_eps(struct sname *sn)
{
	size_t n = 0, k = 0;

	for (size_t i = 0; i < sn->nsl; i++)
		n += sn->sl[i]->neps;
	sn->eps = n ? xcalloc(n, sizeof(*sn->eps)) : NULL;
	for (size_t i = 0; i < sn->nsl; i++)
		for (size_t j = 0; j < sn->sl[i]->neps; j++) {
			const struct ep *e = &sn->sl[i]->eps[j];
			struct mep *m = &sn->eps[k];
			if (!e->ready && !sn->svc->pnra)
				continue;
			m->ip = e->ip;
			m->host = *e->host ? e->host : NULL;
			m->sl = sn->sl[i];
			k++;
		}
	if (k)
		qsort(sn->eps, k, sizeof(*sn->eps), mep_cmp);
	sn->neps = 0;
	for (size_t i = 0; i < k; i++) {
		if (sn->neps && !lk_ip_cmp(&sn->eps[sn->neps - 1].ip, &sn->eps[i].ip))
			continue;
		sn->eps[sn->neps] = sn->eps[i];
		dashed(&sn->eps[i].ip, sn->eps[sn->neps].dashed, sizeof(sn->eps[0].dashed));
		sn->neps++;
	}
}

/* Recompute sn's endpoints and reverse entries after a change. */
static void sname_rebuild(struct dns_zone *z, struct sname *sn)
{
	size_t nips;

	for (size_t i = 0; i < sn->nrevs; i++)
		rev_unlink(z, &sn->revs[i]);
	free(sn->revs);
	free(sn->eps);
	sn->revs = NULL;
	sn->eps = NULL;
	sn->nrevs = sn->neps = 0;
	if (!sn->svc)
		return;
	if (sn->svc->kind != SK_EXTERNAL)
		merge_eps(sn);
	nips = sn->svc->kind == SK_CLUSTERIP ? sn->svc->nips : 0;
	if (!nips && !sn->neps)
		return;
	sn->revs = xcalloc(nips + sn->neps, sizeof(*sn->revs));
	for (size_t i = 0; i < nips + sn->neps; i++) {
		struct rev *r = &sn->revs[sn->nrevs++];
		r->sn = sn;
		r->epi = i < nips ? -1 : (long)(i - nips);
		r->ip = i < nips ? sn->svc->ips[i] : sn->eps[i - nips].ip;
		rev_link(z, r);
	}
}

static struct sname *sname_get(struct dns_zone *z, const char *key, bool create)
{
	struct sname *sn = htab_gets(&z->names, key);

	if (sn || !create)
		return sn;
	sn = xcalloc(1, sizeof(*sn));
	sn->key = xstrdup(key);
	sn->ns = strchr(sn->key, '.') + 1;
	htab_puts(&z->names, key, sn);
	return sn;
}

/* Free sn once it has neither a service nor slices. */
static void sname_gc(struct dns_zone *z, struct sname *sn)
{
	if (sn->svc || sn->nsl)
		return;
	sname_rebuild(z, sn);
	htab_dels(&z->names, sn->key);
	free(sn->sl);
	free(sn->key);
	free(sn);
}

static void sname_free(void *p)
{
	struct sname *sn = p;
	svc_free(sn->svc);
	free(sn->sl);
	free(sn->eps);
	free(sn->revs);
	free(sn->key);
	free(sn);
}

static void ns_count(struct dns_zone *z, const char *ns, int delta)
{
	uintptr_t n = (uintptr_t)htab_gets(&z->nss, ns);

	n = delta > 0 ? n + 1 : n - 1;
	if (n)
		htab_puts(&z->nss, ns, (void *)n);
	else
		htab_dels(&z->nss, ns);
}

void dnszone_service(struct dns_zone *z, const cJSON *svc, bool deleted)
{
	char key[2 * LBL + 2];
	struct sname *sn;

	if (!obj_key(svc, jstr(svc, "metadata.name"), key, sizeof(key)))
		return;
	z->serial++;
	sn = sname_get(z, key, !deleted);
	if (!sn)
		return;
	if (sn->svc) {
		svc_free(sn->svc);
		sn->svc = NULL;
		ns_count(z, sn->ns, -1);
		z->nsvc--;
	}
	if (!deleted) {
		sn->svc = svc_parse(svc);
		ns_count(z, sn->ns, +1);
		z->nsvc++;
	}
	sname_rebuild(z, sn);
	sname_gc(z, sn);
}

static void slice_detach(struct dns_zone *z, struct slice *s, bool rebuild)
{
	struct sname *sn = s->owner ? sname_get(z, s->owner, false) : NULL;

	if (!sn)
		return;
	for (size_t i = 0; i < sn->nsl; i++)
		if (sn->sl[i] == s) {
			sn->sl[i] = sn->sl[--sn->nsl];
			break;
		}
	if (rebuild) {
		sname_rebuild(z, sn);
		sname_gc(z, sn);
	}
}

void dnszone_slice(struct dns_zone *z, const cJSON *slice, bool deleted)
{
	const char *ns = jstr_or(slice, "metadata.namespace", "default");
	const char *name = jstr(slice, "metadata.name");
	struct slice *old, *s = NULL;
	struct sname *sn;
	char key[512];

	if (!name || snprintf(key, sizeof(key), "%s/%s", ns, name) >= (int)sizeof(key))
		return;
	z->serial++;
	old = htab_gets(&z->slices, key);
	if (!deleted)
		s = slice_parse(slice, key);
	if (old) {
		htab_dels(&z->slices, key);
		slice_detach(z, old, !s || !str_eq(old->owner, s->owner));
	}
	if (s) {
		htab_puts(&z->slices, key, s);
		if (s->owner) {
			sn = sname_get(z, s->owner, true);
			sn->sl = xrealloc(sn->sl, (sn->nsl + 1) * sizeof(*sn->sl));
			sn->sl[sn->nsl++] = s;
			sname_rebuild(z, sn);
		}
	}
	slice_free(old);
}

size_t dnszone_service_count(const struct dns_zone *z)
{
	return z->nsvc;
}

/* ---- zone life ---- */

static void range_add(struct dns_zone *z, const char *cidr)
{
	struct range *r = &z->rg[z->nrg];
	struct lk_err err = { 0 };
	int step, n = 0;

	if (z->nrg >= MAX_RANGES)
		return;
	if (lk_cidr_parse(cidr, LK_CIDR_ADDR, &r->net, &err) < 0) {
		lk_log("dns: cannot use range: %s", err.msg);
		lk_err_clear(&err);
		return;
	}
	step = r->net.ip.family == AF_INET ? 8 : 4;
	r->apexbits = r->net.bits / step * step;
	for (int b = r->apexbits - step; b >= 0; b -= step) {
		unsigned v = r->net.ip.a[b / 8];
		v = step == 8 ? v : (b % 8 ? v & 15 : v >> 4);
		n += snprintf(r->apex + n, sizeof(r->apex) - (size_t)n, step == 8 ? "%u." : "%x.", v);
	}
	snprintf(r->apex + n, sizeof(r->apex) - (size_t)n, "%s",
		 r->net.ip.family == AF_INET ? "in-addr.arpa" : "ip6.arpa");
	z->nrg++;
}

static void ranges_add(struct dns_zone *z, const char *list)
{
	char buf[512], *save = NULL;

	if (!list || snprintf(buf, sizeof(buf), "%s", list) >= (int)sizeof(buf))
		return;
	for (char *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
		range_add(z, t);
}

struct dns_zone *dnszone_new(const char *domain, uint32_t ttl, const char *service_cidr,
			     const char *pod_cidr)
{
	struct dns_zone *z = xcalloc(1, sizeof(*z));

	lower_copy(z->domain, 200, domain ? domain : "cluster.local");
	z->dlen = strlen(z->domain);
	if (z->dlen && z->domain[z->dlen - 1] == '.')
		z->domain[--z->dlen] = '\0';
	snprintf(z->mname, sizeof(z->mname), "ns.dns.%s", z->domain);
	snprintf(z->rname, sizeof(z->rname), "hostmaster.%s", z->domain);
	z->ttl = ttl;
	z->serial = (uint32_t)time(NULL);
	ranges_add(z, service_cidr);
	ranges_add(z, pod_cidr);
	return z;
}

void dnszone_free(struct dns_zone *z)
{
	if (!z)
		return;
	htab_clear(&z->names, sname_free);
	htab_clear(&z->slices, slice_free);
	htab_clear(&z->nss, NULL);
	htab_clear(&z->rev, NULL);
	free(z);
}

