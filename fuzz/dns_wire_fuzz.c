/*
 * fuzz/dns_wire_fuzz.c: libFuzzer target for dns/wire.c (`make fuzz`).
 *
 * Each input is a query: parse it and, when it is answered, encode an
 * answer with records of every type we write (over UDP and TCP limits),
 * then check what we wrote with our own response helpers (a response
 * to q must match q, and extract must read it). Each input is also a
 * response: check_response, age, strip_opt and extract_answers run on a
 * copy. Also: the query name converts back to wire form (name_to_wire), and
 * dns_answer_copy keeps sections. Invariants that fail abort, so libFuzzer reports them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c) do { if (!(c)) { fprintf(stderr, "fuzz: %s\n", #c); abort(); } } while (0)

static uint8_t out[DNS_TCP_MAX], copy[DNS_TCP_MAX];
static struct dns_answer ans;

static void fill(struct dns_answer *a, const struct dns_query *q, int rc)
{
	struct dns_rr *rr;

	dns_answer_reset(a);
	a->rcode = (uint16_t)rc;
	a->aa = q->qtype & 1;
	rr = dns_answer_add(a, DNS_SEC_AN, q->name, DNS_T_CNAME, 30);
	snprintf(rr->u.target, sizeof(rr->u.target), "x.%s", q->name);
	rr = dns_answer_add(a, DNS_SEC_AN, rr->u.target, DNS_T_A, 30);
	memcpy(rr->u.a, "\x0a\x00\x00\x01", 4);
	rr = dns_answer_add(a, DNS_SEC_AN, q->name, DNS_T_AAAA, 31);
	rr->u.aaaa[15] = 1;
	rr = dns_answer_add(a, DNS_SEC_AN, q->name, DNS_T_SRV, 32);
	rr->u.srv.port = 53;
	snprintf(rr->u.srv.target, sizeof(rr->u.srv.target), "srv.%s", q->name);
	rr = dns_answer_add(a, DNS_SEC_AN, q->name, DNS_T_TXT, 33);
	snprintf(rr->u.txt, sizeof(rr->u.txt), "%s", q->name);
	rr = dns_answer_add(a, DNS_SEC_AN, q->name, DNS_T_PTR, 34);
	snprintf(rr->u.target, sizeof(rr->u.target), "%s", q->name);
	rr = dns_answer_add(a, DNS_SEC_NS, "cluster.local", DNS_T_SOA, 35);
	snprintf(rr->u.soa.mname, sizeof(rr->u.soa.mname), "ns.dns.%s", q->name);
	snprintf(rr->u.soa.rname, sizeof(rr->u.soa.rname), "hostmaster.cluster.local");
	rr = dns_answer_add(a, DNS_SEC_NS, "cluster.local", DNS_T_NS, 36);
	snprintf(rr->u.target, sizeof(rr->u.target), "ns.dns.cluster.local");
	rr = dns_answer_add(a, DNS_SEC_AR, "ns.dns.cluster.local", DNS_T_A, 37);
}

/* The presentation name of a parsed query converts back to the name as
 * sent, lower-cased. */
static void name_round_trip(const struct dns_query *q)
{
	uint8_t w[256];
	int n = dnswire_name_to_wire(q->name, w, sizeof(w));

	REQUIRE(n == (int)q->wire_len);
	for (int i = 0; i < n; i++) {
		uint8_t c = q->wire[i];

		REQUIRE(w[i] == (c >= 'A' && c <= 'Z' ? c + 32 : c));
	}
	REQUIRE(dnswire_name_to_wire(q->name, w, (size_t)n - 1) == -1);
}

/* A copy of a into an answer holding one record per section keeps both
 * in section order. */
static void copy_check(const struct dns_answer *a)
{
	static struct dns_answer c;

	dns_answer_reset(&c);
	for (int s = DNS_SEC_AN; s <= DNS_SEC_AR; s++)
		dns_answer_add(&c, (enum dns_section)s, "x", DNS_T_A, (uint32_t)s);
	dns_answer_copy(&c, a);
	REQUIRE(c.n == a->n + 3);
	for (int s = 0; s < 3; s++)
		REQUIRE(c.count[s] == a->count[s] + 1);
	REQUIRE(c.rr[0].ttl == DNS_SEC_AN && !memcmp(&c.rr[1], &a->rr[0], sizeof(c.rr[1])));
	REQUIRE(c.rr[c.count[0]].ttl == DNS_SEC_NS);
	REQUIRE(c.rr[c.count[0] + c.count[1]].ttl == DNS_SEC_AR);
}

static void as_query(const uint8_t *data, size_t size)
{
	struct dns_query q, back;
	size_t n;
	uint16_t rcode;
	bool tc;
	uint32_t min;
	int rc = dnswire_parse(data, size, &q);

	if (rc == DNSWIRE_DROP)
		return;
	REQUIRE(q.wire_len <= 255);
	REQUIRE(strlen(q.name) < sizeof(q.name));
	REQUIRE(q.udp_size >= DNS_UDP_MIN);
	if (q.wire_len)
		name_round_trip(&q);
	fill(&ans, &q, rc);
	copy_check(&ans);
	n = dnswire_encode(&q, &ans, out, q.udp_size);
	REQUIRE(n >= DNS_HDR_LEN && n <= q.udp_size);
	REQUIRE(dnswire_parse(out, n, &back) == DNSWIRE_DROP);
	if (q.wire_len) {
		REQUIRE(dnswire_check_response(out, n, &q, &rcode, &tc, &min) == 0);
		REQUIRE(rcode == (q.edns ? rc : (rc & 0xf)));
	}
	n = dnswire_encode(&q, &ans, out, DNS_TCP_MAX);
	REQUIRE(n >= DNS_HDR_LEN && n <= DNS_TCP_MAX);
	if (q.wire_len) {
		REQUIRE(dnswire_check_response(out, n, &q, &rcode, &tc, &min) == 0);
		REQUIRE(!tc);
		REQUIRE(dnswire_age(out, n, 7, 31) == 0);
		dns_answer_reset(&ans);
		REQUIRE(dnswire_extract_answers(out, n, &ans) == 0);
		REQUIRE(dnswire_strip_opt(out, n) >= DNS_HDR_LEN);
		n = dnswire_encode_query(q.id, &q, out, sizeof(out));
		REQUIRE(n > 0);
		REQUIRE(dnswire_parse(out, n, &back) == 0);
		REQUIRE(back.wire_len == q.wire_len && !memcmp(back.wire, q.wire, q.wire_len));
		REQUIRE(!strcmp(back.name, q.name));
	}
}

static void as_response(const uint8_t *data, size_t size)
{
	struct dns_query q;
	uint16_t rcode;
	bool tc;
	uint32_t min;
	long n;

	memset(&q, 0, sizeof(q));
	q.wire_len = 1;
	q.qtype = DNS_T_A;
	q.qclass = DNS_C_IN;
	dnswire_check_response(data, size, &q, &rcode, &tc, &min);
	memcpy(copy, data, size);
	dnswire_age(copy, size, 1, 60);
	n = dnswire_strip_opt(copy, size);
	REQUIRE(n == -1 || (n >= DNS_HDR_LEN && (size_t)n <= size));
	dns_answer_reset(&ans);
	if (dnswire_extract_answers(data, size, &ans) < 0)
		REQUIRE(ans.n == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > DNS_TCP_MAX)
		return 0;
	as_query(data, size);
	as_response(data, size);
	return 0;
}
