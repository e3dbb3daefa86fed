/*
 * dns/zone_answer.c: the answer to a question in the cluster zone or one of
 * its reverse ranges (dnszone_answer). Pure: reads the view zone.c keeps
 * (zone_internal.h) without allocating, beyond dns_answer_add growing its
 * array.
 *
 * Decisions (CoreDNS as the model):
 *   - SRV: priority 0, weight 100/n (at least 1) for n records in the answer.
 *   - an endpoint has one name under its service (headless or ClusterIP):
 *     its hostname, else its dashed IP "10-244-0-12" (CoreDNS's
 *     endpointHostname); its PTR names that. A cluster IP's PTR (the
 *     service name) hides endpoint PTRs of the same address, as in
 *     CoreDNS's serviceRecordForIP.
 *   - SRV also at the service name and at endpoint names, for every port
 *     (named or not): a ClusterIP service's ports to the service name,
 *     endpoints x their slice's ports to the endpoint names otherwise; one
 *     record per target and port number (53/udp + 53/tcp: one).
 *   - reverse zones (apexes: see zone.c): names from an apex down are ours
 *     when they lie inside its CIDR; partial names inside it are NODATA,
 *     full addresses we do not know NXDOMAIN, malformed labels below them
 *     NXDOMAIN.
 *   - qclass other than IN and ANY, and AXFR/IXFR, for our names: REFUSED.
 *   - ANY (RFC 8482 style): the A/AAAA/CNAME of a name, the PTR, SRV or TXT
 *     where that is what the name holds; SOA+NS at an apex.
 *   - SOA: mname ns.dns.<zone>, rname hostmaster.<zone>, the zone's serial,
 *     7200 1800 86400 ttl.
 *   - ExternalName: a CNAME for every qtype; a target inside the zone is
 *     followed (up to 8 steps), the rcode is that of the last name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/htab.h"
#include "common/util.h"
#include "dns/dns.h"
#include "dns/zone_internal.h"

#define CHASE_MAX 8

/* ---- answering ---- */

enum res { RES_DATA, RES_NODATA, RES_NX };

struct lbl {
	const char *p;
	size_t n;
};

/* Split s[0..n) into labels; returns their count, max + 1 when more. */
static int split(const char *s, size_t n, struct lbl *out, int max)
{
	int k = 0;
	size_t i = 0;

	while (i < n) {
		size_t j = i;
		while (j < n && s[j] != '.')
			j++;
		if (k == max)
			return max + 1;
		out[k++] = (struct lbl){ s + i, j - i };
		i = j + 1;
	}
	return k;
}

static bool lbl_is(const struct lbl *l, const char *s)
{
	return l->n == strlen(s) && !memcmp(l->p, s, l->n);
}

static bool want(uint16_t qtype, const struct lk_ip *ip)
{
	return qtype == DNS_T_ANY || qtype == (ip->family == AF_INET ? DNS_T_A : DNS_T_AAAA);
}

static void add_ip(const struct dns_zone *z, struct dns_answer *a, enum dns_section s,
		   const char *name, const struct lk_ip *ip)
{
	bool v4 = ip->family == AF_INET;
	struct dns_rr *rr = dns_answer_add(a, s, name, v4 ? DNS_T_A : DNS_T_AAAA, z->ttl);
	memcpy(v4 ? rr->u.a : rr->u.aaaa, ip->a, v4 ? 4 : 16);
}

static void add_soa(const struct dns_zone *z, struct dns_answer *a, enum dns_section s,
		    const char *owner)
{
	struct dns_rr *rr = dns_answer_add(a, s, owner, DNS_T_SOA, z->ttl);
	snprintf(rr->u.soa.mname, sizeof(rr->u.soa.mname), "%s", z->mname);
	snprintf(rr->u.soa.rname, sizeof(rr->u.soa.rname), "%s", z->rname);
	rr->u.soa.serial = z->serial;
	rr->u.soa.refresh = 7200;
	rr->u.soa.retry = 1800;
	rr->u.soa.expire = 86400;
	rr->u.soa.minimum = z->ttl;
}

/* An apex: SOA, NS (ANY: both). */
static enum res apex(const struct dns_zone *z, const char *name, uint16_t qtype,
		     struct dns_answer *a)
{
	if (qtype != DNS_T_SOA && qtype != DNS_T_NS && qtype != DNS_T_ANY)
		return RES_NODATA;
	if (qtype != DNS_T_NS)
		add_soa(z, a, DNS_SEC_AN, name);
	if (qtype != DNS_T_SOA)
		snprintf(dns_answer_add(a, DNS_SEC_AN, name, DNS_T_NS, z->ttl)->u.target,
			 DNS_RNAME_BUF, "%s", z->mname);
	return RES_DATA;
}

static bool in_zone(const struct dns_zone *z, const char *name, size_t *rlen)
{
	size_t n = strlen(name);

	if (n == z->dlen && !memcmp(name, z->domain, n)) {
		*rlen = 0;
		return true;
	}
	if (n > z->dlen && name[n - z->dlen - 1] == '.' && !memcmp(name + n - z->dlen, z->domain,
								    z->dlen)) {
		*rlen = n - z->dlen - 1;
		return true;
	}
	return false;
}

static enum res zone_lookup(const struct dns_zone *z, const char *name, uint16_t qtype,
			    struct dns_answer *a, int depth);

/* Was name already the owner of a CNAME in the answer (a loop)? */
static bool cname_seen(const struct dns_answer *a, const char *name)
{
	for (size_t i = 0; i < a->count[DNS_SEC_AN]; i++)
		if (a->rr[i].type == DNS_T_CNAME && !strcmp(a->rr[i].name, name))
			return true;
	return false;
}

static enum res service_name(const struct dns_zone *z, const struct sname *sn, const char *name,
			     uint16_t qtype, struct dns_answer *a, int depth)
{
	const struct svc *s = sn->svc;
	size_t found = 0, rl;

	if (s->kind == SK_EXTERNAL) {
		if (!*s->ext)
			return RES_NX;
		snprintf(dns_answer_add(a, DNS_SEC_AN, name, DNS_T_CNAME, z->ttl)->u.target,
			 DNS_RNAME_BUF, "%s", s->ext);
		if (qtype == DNS_T_CNAME || depth >= CHASE_MAX || !in_zone(z, s->ext, &rl) ||
		    cname_seen(a, s->ext))
			return RES_DATA;        /* a loop ends once each name was shown */
		return zone_lookup(z, s->ext, qtype, a, depth + 1);
	}
	if (s->kind == SK_HEADLESS) {
		if (!sn->neps)
			return RES_NX;
		for (size_t i = 0; i < sn->neps; i++)
			if (want(qtype, &sn->eps[i].ip)) {
				add_ip(z, a, DNS_SEC_AN, name, &sn->eps[i].ip);
				found++;
			}
		return found ? RES_DATA : RES_NODATA;
	}
	for (size_t i = 0; i < s->nips; i++)
		if (want(qtype, &s->ips[i])) {
			add_ip(z, a, DNS_SEC_AN, name, &s->ips[i]);
			found++;
		}
	return found ? RES_DATA : RES_NODATA;
}

/* Does p answer _<pn>._<pr>? Only named ports have SRV names; pn NULL:
 * any named port with protocol pr (the empty non-terminal _<pr>); both
 * NULL: any port, named or not (SRV at the service or endpoint name, as
 * CoreDNS's empty port and protocol match everything). */
static bool port_match(const struct port *p, const struct lbl *pn, const struct lbl *pr)
{
	if (!pr)
		return true;
	if (!*p->name || pr->n < 2 || !lbl_is(&(struct lbl){ pr->p + 1, pr->n - 1 }, p->proto))
		return false;
	return !pn || (pn->n > 1 && lbl_is(&(struct lbl){ pn->p + 1, pn->n - 1 }, p->name));
}

/* An endpoint's one name: its hostname, else its dashed IP (CoreDNS's
 * endpointHostname). */
static const char *mep_name(const struct mep *m)
{
	return m->host ? m->host : m->dashed;
}

/* An SRV question: _<pn>._<pr> (both NULL: every port), at the service
 * (ep NULL) or at the endpoint named ep; svcname "<svc>.<ns>.svc.<zone>". */
struct srvq {
	const struct lbl *pn, *pr, *ep;
	const char *svcname;
};

enum srv_mode { SRV_COUNT, SRV_ADD, SRV_EXTRA };

/* Port i of ps answers q, and no earlier one with the same number did: one
 * SRV per target and port (CoreDNS drops such duplicates too). */
static bool port_new(const struct port *ps, size_t i, const struct srvq *q)
{
	if (!port_match(&ps[i], q->pn, q->pr))
		return false;
	for (size_t k = 0; k < i; k++)
		if (ps[k].port == ps[i].port && port_match(&ps[k], q->pn, q->pr))
			return false;
	return true;
}

static void add_srv(const struct dns_zone *z, struct dns_answer *a, const char *name,
		    uint16_t weight, uint16_t port, const char *target)
{
	struct dns_rr *rr = dns_answer_add(a, DNS_SEC_AN, name, DNS_T_SRV, z->ttl);

	rr->u.srv.weight = weight;
	rr->u.srv.port = port;
	snprintf(rr->u.srv.target, sizeof(rr->u.srv.target), "%s", target);
}

/*
 * The SRV records of q, as CoreDNS: a ClusterIP service's own ports with
 * the service name as target; a headless service's endpoints (or, at an
 * endpoint name, that endpoint of any service) x their slice's ports, the
 * endpoint name as target. SRV_COUNT counts them, SRV_ADD adds them to the
 * answer, SRV_EXTRA adds the targets' addresses to the additional section.
 */
static size_t srv_each(const struct dns_zone *z, const struct sname *sn, const char *name,
		       const struct srvq *q, struct dns_answer *a, enum srv_mode mode,
		       uint16_t weight)
{
	const struct svc *s = sn->svc;
	char target[DNS_RNAME_BUF];
	size_t n = 0;

	if (s->kind == SK_CLUSTERIP && !q->ep) {
		for (size_t i = 0; i < s->nports; i++) {
			if (!port_new(s->ports, i, q))
				continue;
			n++;
			if (mode == SRV_ADD)
				add_srv(z, a, name, weight, s->ports[i].port, q->svcname);
		}
		for (size_t k = 0; n && mode == SRV_EXTRA && k < s->nips; k++)
			add_ip(z, a, DNS_SEC_AR, q->svcname, &s->ips[k]);
		return n;
	}
	for (size_t i = 0; i < sn->neps; i++) {
		const struct mep *m = &sn->eps[i];
		size_t before = n;

		if ((q->ep && !lbl_is(q->ep, mep_name(m))) ||
		    snprintf(target, sizeof(target), "%s.%s", mep_name(m), q->svcname) >=
		    (int)sizeof(target))
			continue;
		for (size_t j = 0; j < m->sl->nports; j++) {
			if (!port_new(m->sl->ports, j, q))
				continue;
			n++;
			if (mode == SRV_ADD)
				add_srv(z, a, name, weight, m->sl->ports[j].port, target);
		}
		if (mode == SRV_EXTRA && n > before)
			add_ip(z, a, DNS_SEC_AR, target, &m->ip);
	}
	return n;
}

/* The SRV answer to q at name: NODATA when there are no records. */
static enum res srv_answer(const struct dns_zone *z, const struct sname *sn, const char *name,
			   const struct srvq *q, struct dns_answer *a)
{
	size_t n = srv_each(z, sn, name, q, a, SRV_COUNT, 0);

	if (!n)
		return RES_NODATA;
	srv_each(z, sn, name, q, a, SRV_ADD, (uint16_t)((100 / n) ? (100 / n) : 1));
	srv_each(z, sn, name, q, a, SRV_EXTRA, 0);
	return RES_DATA;
}

/* <x>.<svc>.<ns>.svc.<zone>: an endpoint name, or "_tcp" above SRV names. */
static enum res endpoint_name(const struct dns_zone *z, const struct sname *sn, const char *name,
			      const struct lbl *x, uint16_t qtype, struct dns_answer *a)
{
	const struct svc *s = sn->svc;
	size_t found = 0, added = 0;

	if (s->kind == SK_EXTERNAL || (s->kind == SK_HEADLESS && !sn->neps))
		return RES_NX;          /* nothing below a name that does not exist */
	if (x->n && x->p[0] == '_') {
		for (size_t i = 0; i < s->nports; i++)
			if (port_match(&s->ports[i], NULL, x))
				return RES_NODATA;
		return RES_NX;
	}
	for (size_t i = 0; i < sn->neps; i++) {
		const struct mep *m = &sn->eps[i];

		if (!lbl_is(x, mep_name(m)))
			continue;
		found++;
		if (qtype != DNS_T_SRV && want(qtype, &m->ip)) {
			add_ip(z, a, DNS_SEC_AN, name, &m->ip);
			added++;
		}
	}
	if (!found)
		return RES_NX;
	if (qtype == DNS_T_SRV)
		return srv_answer(z, sn, name, &(struct srvq){ NULL, NULL, x, x->p + x->n + 1 }, a);
	return added ? RES_DATA : RES_NODATA;
}

/* _<port>._<proto>.<svc>.<ns>.svc.<zone> */
static enum res srv_name(const struct dns_zone *z, const struct sname *sn, const char *name,
			 const struct lbl *l, uint16_t qtype, struct dns_answer *a)
{
	struct srvq q = { &l[0], &l[1], NULL, l[2].p };

	if (sn->svc->kind == SK_EXTERNAL || l[0].p[0] != '_' || l[1].p[0] != '_' ||
	    !srv_each(z, sn, name, &q, a, SRV_COUNT, 0))
		return RES_NX;
	if (qtype != DNS_T_SRV && qtype != DNS_T_ANY)
		return RES_NODATA;
	return srv_answer(z, sn, name, &q, a);
}

/* Under svc.<zone>: l holds the m labels before "svc". */
static enum res svc_lookup(const struct dns_zone *z, const char *name, const struct lbl *l, int m,
			   uint16_t qtype, struct dns_answer *a, int depth)
{
	const struct sname *sn;

	if (m == 0)
		return RES_NODATA;
	if (m == 1)
		return htab_get(&z->nss, l[0].p, l[0].n) ? RES_NODATA : RES_NX;
	if (m > 4)
		return RES_NX;
	sn = htab_get(&z->names, l[m - 2].p, (size_t)(l[m - 1].p + l[m - 1].n - l[m - 2].p));
	if (!sn || !sn->svc)
		return RES_NX;
	if (m == 2 && qtype == DNS_T_SRV && sn->svc->kind != SK_EXTERNAL) {
		if (sn->svc->kind == SK_HEADLESS && !sn->neps)
			return RES_NX;
		return srv_answer(z, sn, name, &(struct srvq){ NULL, NULL, NULL, l[0].p }, a);
	}
	if (m == 2)
		return service_name(z, sn, name, qtype, a, depth);
	if (m == 3)
		return endpoint_name(z, sn, name, &l[0], qtype, a);
	return srv_name(z, sn, name, l, qtype, a);
}

/* <a-b-c-d>.<ns>.pod.<zone> ("pods insecure"; IPv6 with '-' for ':'). */
static enum res pod_lookup(const struct dns_zone *z, const char *name, const struct lbl *l, int m,
			   uint16_t qtype, struct dns_answer *a)
{
	char buf[LBL];
	struct lk_ip ip;
	int dashes = 0;

	if (m < 2)
		return RES_NODATA;
	if (m > 2 || l[0].n >= sizeof(buf))
		return RES_NX;
	memcpy(buf, l[0].p, l[0].n);
	buf[l[0].n] = '\0';
	for (char *p = buf; *p; p++)
		if (*p == '-') {
			*p = '.';
			dashes++;
		}
	if (dashes != 3 || lk_ip_parse(buf, &ip, NULL) < 0 || ip.family != AF_INET) {
		for (char *p = buf; *p; p++)
			if (*p == '.')
				*p = ':';
		if (lk_ip_parse(buf, &ip, NULL) < 0 || ip.family != AF_INET6)
			return RES_NX;
	}
	if (!want(qtype, &ip))
		return RES_NODATA;
	add_ip(z, a, DNS_SEC_AN, name, &ip);
	return RES_DATA;
}

/* ns.dns.<zone>, the target of the apex NS record: the kube-dns Service's
 * cluster IPs (CoreDNS answers with its own Service's). */
static enum res ns_address(const struct dns_zone *z, const char *name, uint16_t qtype,
			   struct dns_answer *a)
{
	static const char key[] = "kube-dns.kube-system";
	const struct sname *sn = htab_get(&z->names, key, sizeof(key) - 1);

	if (!sn || !sn->svc || sn->svc->kind != SK_CLUSTERIP)
		return RES_NODATA;
	return service_name(z, sn, name, qtype, a, CHASE_MAX);
}

static enum res zone_lookup(const struct dns_zone *z, const char *name, uint16_t qtype,
			    struct dns_answer *a, int depth)
{
	struct lbl l[6];
	size_t rlen;
	int k;

	if (!in_zone(z, name, &rlen))
		return RES_NX;
	if (!rlen)
		return apex(z, name, qtype, a);
	k = split(name, rlen, l, 6);
	if (k <= 6 && lbl_is(&l[k - 1], "svc"))
		return svc_lookup(z, name, l, k - 1, qtype, a, depth);
	if (k <= 6 && lbl_is(&l[k - 1], "pod"))
		return pod_lookup(z, name, l, k - 1, qtype, a);
	if (k == 1 && lbl_is(&l[0], "dns-version")) {
		if (qtype != DNS_T_TXT && qtype != DNS_T_ANY)
			return RES_NODATA;
		snprintf(dns_answer_add(a, DNS_SEC_AN, name, DNS_T_TXT, z->ttl)->u.txt,
			 DNS_RNAME_BUF, "%s", DNS_SCHEMA_VERSION);
		return RES_DATA;
	}
	if (k == 2 && lbl_is(&l[0], "ns") && lbl_is(&l[1], "dns"))
		return ns_address(z, name, qtype, a);
	if (k == 1 && lbl_is(&l[0], "dns"))
		return RES_NODATA;
	return RES_NX;
}

/* ---- reverse names ---- */

/* One label of a reverse name: a decimal octet without leading zeros
 * (step 8) or one hex nibble (step 4); -1 when it is neither. */
static int rev_label(const char *p, size_t n, int step)
{
	int v = 0;

	if (n == 0 || n > (step == 8 ? 3u : 1u) || (step == 8 && n > 1 && p[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		int d = p[i] >= '0' && p[i] <= '9' ? p[i] - '0' :
			step == 4 && p[i] >= 'a' && p[i] <= 'f' ? p[i] - 'a' + 10 : -1;
		if (d < 0)
			return -1;
		v = v * (step == 8 ? 10 : 16) + d;
	}
	return v > 255 ? -1 : v;
}

/* "d.c.b.a.in-addr.arpa" / nibbles ".ip6.arpa" -> the address prefix given
 * (bits), extra set when labels below it are malformed or too many. false
 * when the name is not under either. */
static bool parse_reverse(const char *name, struct lk_ip *ip, int *bits, bool *extra)
{
	size_t n = strlen(name);
	int max, step, pos = 0;

	memset(ip, 0, sizeof(*ip));
	*bits = 0;
	*extra = false;
	if (str_has_suffix(name, "in-addr.arpa") && (n == 12 || name[n - 13] == '.'))
		ip->family = AF_INET, n = n > 12 ? n - 13 : 0, max = 4, step = 8;
	else if (str_has_suffix(name, "ip6.arpa") && (n == 8 || name[n - 9] == '.'))
		ip->family = AF_INET6, n = n > 8 ? n - 9 : 0, max = 32, step = 4;
	else
		return false;
	while (n > 0) {                 /* labels from the right */
		size_t j = n;
		int v;
		while (j > 0 && name[j - 1] != '.')
			j--;
		v = pos < max ? rev_label(name + j, n - j, step) : -1;
		if (v < 0) {
			*extra = true;
			break;
		}
		if (step == 8)
			ip->a[pos] = (uint8_t)v;
		else
			ip->a[pos / 2] |= (uint8_t)(pos % 2 ? v : v << 4);
		pos++;
		*bits += step;
		n = j ? j - 1 : 0;
	}
	return true;
}

/* The reverse zone of the first bits of ip: its configured CIDR, compared
 * over those bits only when the name gives fewer. */
static const struct range *range_for(const struct dns_zone *z, const struct lk_ip *ip, int bits)
{
	for (int i = 0; i < z->nrg; i++) {
		const struct range *r = &z->rg[i];
		struct lk_cidr c = { r->net.ip, bits < r->net.bits ? bits : r->net.bits };
		if (bits >= r->apexbits && lk_cidr_contains(&c, ip))
			return r;
	}
	return NULL;
}

static enum res ptr_lookup(const struct dns_zone *z, const char *name, const struct lk_ip *ip,
			   uint16_t qtype, struct dns_answer *a)
{
	const struct rev *head = htab_get(&z->rev, ip, sizeof(*ip)), *r;
	size_t added = 0;
	bool cip = false;

	if (!head)
		return RES_NX;
	for (r = head; r; r = r->next)
		cip |= r->epi < 0;
	for (r = head; r; r = r->next) {
		const struct mep *m = r->epi >= 0 ? &r->sn->eps[r->epi] : NULL;
		struct dns_rr *rr;
		if ((qtype != DNS_T_PTR && qtype != DNS_T_ANY) || (cip && m))
			continue;
		rr = dns_answer_add(a, DNS_SEC_AN, name, DNS_T_PTR, z->ttl);
		if (snprintf(rr->u.target, sizeof(rr->u.target), "%s%s%s.svc.%s",
			     m ? mep_name(m) : "", m ? "." : "", r->sn->key,
			     z->domain) >= (int)sizeof(rr->u.target)) {
			a->n--;
			a->count[DNS_SEC_AN]--;
			continue;
		}
		added++;
	}
	return added ? RES_DATA : RES_NODATA;
}

/* ---- the answer ---- */

static void finish(const struct dns_zone *z, struct dns_answer *a, enum res r, const char *soa)
{
	if (r == RES_NX)
		a->rcode = DNS_R_NXDOMAIN;
	if (r != RES_DATA)
		add_soa(z, a, DNS_SEC_NS, soa);
}

static bool refused(const struct dns_query *q, struct dns_answer *a)
{
	if ((q->qclass == DNS_C_IN || q->qclass == DNS_C_ANY) && q->qtype != DNS_T_AXFR &&
	    q->qtype != DNS_T_IXFR)
		return false;
	a->rcode = DNS_R_REFUSED;
	return true;
}

bool dnszone_answer(const struct dns_zone *z, const struct dns_query *q, struct dns_answer *a)
{
	const struct range *rg;
	struct lk_ip ip;
	size_t rlen;
	int bits;
	bool extra;
	enum res r;

	if (in_zone(z, q->name, &rlen)) {
		a->aa = true;
		if (!refused(q, a))
			finish(z, a, zone_lookup(z, q->name, q->qtype, a, 0), z->domain);
		return true;
	}
	if (!parse_reverse(q->name, &ip, &bits, &extra) || !(rg = range_for(z, &ip, bits)))
		return false;
	a->aa = true;
	if (refused(q, a))
		return true;
	if (extra)
		r = RES_NX;
	else if (bits == rg->apexbits && !strcmp(q->name, rg->apex))
		r = apex(z, q->name, q->qtype, a);
	else if (bits < lk_ip_bits(&ip))
		r = RES_NODATA;
	else
		r = ptr_lookup(z, q->name, &ip, q->qtype, a);
	finish(z, a, r, rg->apex);
	return true;
}
