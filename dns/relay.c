/*
 * dns/relay.c: small pure helpers of the DNS component (see
 * dns_internal.h): zone membership, the question key, a query packed
 * small for the jobs waiting on the forwarder, ExternalName chasing (which
 * answers need it, the query for the target, merging its records),
 * shared by the forwarder and the cache, and turning an upstream response
 * into the client's answer (its id, RD bit and question case, no OPT for a
 * client that sent none, RFC 6891 section 7; a TC answer when too big for
 * it, RFC 1035 section 4.2.1).
 */
#include <string.h>
#include <strings.h>

#include "common/htab.h"
#include "dns/dns_internal.h"

bool dns_name_in(const char *name, const char *domain)
{
	size_t nl = strlen(name), dl = strlen(domain);
	if (!dl)
		return true;
	if (nl < dl || strcasecmp(name + nl - dl, domain))
		return false;
	return nl == dl || name[nl - dl - 1] == '.';
}

void dns_domain_norm(const char *domain, char *out, size_t cap)
{
	size_t n = 0;
	for (const char *p = domain ? domain : ""; *p && n + 1 < cap; p++)
		out[n++] = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
	while (n && out[n - 1] == '.')
		n--;
	if (cap)
		out[n] = '\0';
}

uint32_t dnsq_hash(const struct dns_query *q)
{
	uint32_t h = htab_hash(q->name, strlen(q->name));
	h = (h ^ q->qtype) * 16777619u;
	h = (h ^ q->qclass) * 16777619u;
	return (h ^ (q->dnssec_ok ? 1u : 0u)) * 16777619u;
}

bool dnsq_match(const struct dns_query *q, const char *name, uint16_t qtype, uint16_t qclass,
		bool dnssec_ok)
{
	return q->qtype == qtype && q->qclass == qclass && q->dnssec_ok == dnssec_ok &&
	       !strcmp(q->name, name);
}

size_t dns_rcode_reply(const struct dns_query *q, uint16_t rcode, uint8_t *buf, size_t cap)
{
	struct dns_answer a;
	dns_answer_init(&a);
	a.rcode = rcode;
	size_t n = dnswire_encode(q, &a, buf, cap);
	dns_answer_release(&a);
	return n;
}

size_t dns_tc_reply(const struct dns_query *q, uint16_t rcode, uint8_t *buf, size_t cap)
{
	size_t n = dns_rcode_reply(q, rcode, buf, cap);
	if (n >= DNS_HDR_LEN)
		buf[2] |= DNS_F_TC >> 8;
	return n;
}

void dns_qpack_save(struct dns_qpack *p, const struct dns_query *q)
{
	size_t n = q->wire_len <= sizeof(p->wire) ? q->wire_len : 0;
	*p = (struct dns_qpack){ .id = q->id, .flags = q->flags, .qtype = q->qtype,
				 .qclass = q->qclass, .udp_size = q->udp_size, .edns = q->edns,
				 .dnssec_ok = q->dnssec_ok, .edns_version = q->edns_version,
				 .wire_len = (uint8_t)n };
	memcpy(p->wire, q->wire, n);
}

void dns_qpack_load(struct dns_query *q, const struct dns_qpack *p)
{
	q->id = p->id;
	q->flags = p->flags;
	q->qtype = p->qtype;
	q->qclass = p->qclass;
	q->udp_size = p->udp_size;
	q->edns = p->edns;
	q->dnssec_ok = p->dnssec_ok;
	q->edns_version = p->edns_version;
	q->name[0] = '\0';
	q->wire_len = p->wire_len;
	memcpy(q->wire, p->wire, p->wire_len);
}

bool dns_needs_chase(const struct dns_query *q, const struct dns_answer *a, const char *domain)
{
	size_t nan = a->count[DNS_SEC_AN];
	if (q->qtype != DNS_T_A && q->qtype != DNS_T_AAAA && q->qtype != DNS_T_ANY)
		return false;
	if (a->rcode != DNS_R_NOERROR || !nan || a->count[DNS_SEC_NS] || a->count[DNS_SEC_AR])
		return false;
	const struct dns_rr *last = &a->rr[nan - 1];
	return last->type == DNS_T_CNAME && !dns_name_in(last->u.target, domain);
}

void dns_chase_query(const struct dns_query *q, const char *target, struct dns_query *q2)
{
	memset(q2, 0, sizeof(*q2));
	q2->id = q->id;
	q2->flags = DNS_F_RD;
	q2->qtype = q->qtype == DNS_T_ANY ? DNS_T_A : q->qtype;
	q2->qclass = DNS_C_IN;
	dns_domain_norm(target, q2->name, sizeof(q2->name));   /* the cache key's form */
	int wl = dnswire_name_to_wire(q2->name, q2->wire, sizeof(q2->wire));
	q2->wire_len = wl > 0 ? (size_t)wl : 0;
	q2->edns = true;
	q2->udp_size = DNS_EDNS_SIZE;
}

void dns_chase_merge(struct dns_answer *a, const uint8_t *pkt, size_t len)
{
	if (len < DNS_HDR_LEN)
		return;
	uint16_t rcode = pkt[3] & 0x0f;
	if (rcode == DNS_R_NOERROR)
		dnswire_extract_answers(pkt, len, a);
	else if (rcode == DNS_R_NXDOMAIN)
		a->rcode = DNS_R_NXDOMAIN;      /* RFC 6604: the chain's last name */
}

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c - 'A' + 'a') : c;
}

/* The question name as this client sent it (0x20 case randomisation):
 * a coalesced or cached answer carries the first asker's case. */
static void question_case(const struct dns_query *q, uint8_t *buf, size_t len)
{
	size_t n = q->wire_len;
	if (!n || len < DNS_HDR_LEN + n || !(buf[4] | buf[5]))
		return;
	for (size_t i = 0; i < n; i++)
		if (lower(buf[DNS_HDR_LEN + i]) != lower(q->wire[i]))
			return;
	memcpy(buf + DNS_HDR_LEN, q->wire, n);
}

size_t dns_relay_fixup(const struct dns_query *q, uint8_t *buf, size_t len, size_t cap,
		       size_t max)
{
	if (len < DNS_HDR_LEN)
		return 0;
	buf[0] = (uint8_t)(q->id >> 8);
	buf[1] = (uint8_t)q->id;
	/* RD as the client asked */
	buf[2] = (uint8_t)((buf[2] & ~(DNS_F_RD >> 8)) | ((q->flags & DNS_F_RD) >> 8));
	question_case(q, buf, len);
	if (!q->edns) {
		long n = dnswire_strip_opt(buf, len);
		if (n < DNS_HDR_LEN)
			return 0;
		len = (size_t)n;
	}
	if (len > max)
		return dns_tc_reply(q, buf[3] & 0x0f, buf, cap < max ? cap : max);
	return len;
}
