/*
 * tests/unit/test_dns_server.c: the pure parts of the DNS component
 * (dns/dns_internal.h): the answer cache (TTL policy, ageing, keys, LRU
 * and byte bounds), address lists and resolv.conf, the loop guard, the
 * bridge address, name helpers, the question key, the relay of upstream
 * answers to a client (id, question case, OPT stripping, truncation), and
 * the forwarder's bounds (RD on upstream queries, waiters per question).
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/loop.h"
#include "common/util.h"
#include "dns/dns_internal.h"

static const uint8_t QNAME[] = "\x03www\x07" "example\x03" "com";     /* + NUL */

/* A response to www.example.com/A: n A records with ttl, rcode, an OPT
 * record when opt. Returns the length. */
static size_t response(uint8_t *p, uint16_t id, int rcode, int n, uint32_t ttl, bool opt)
{
	size_t len = 0;
	uint8_t hdr[12] = { id >> 8, id & 0xff, 0x81, (uint8_t)(0x80 | rcode), 0, 1,
			    0, (uint8_t)n, 0, 0, 0, opt ? 1 : 0 };
	memcpy(p, hdr, 12);
	len = 12;
	memcpy(p + len, QNAME, sizeof(QNAME));  /* with the root label */
	len += sizeof(QNAME);
	memcpy(p + len, "\x00\x01\x00\x01", 4);
	len += 4;
	for (int i = 0; i < n; i++) {
		uint8_t rr[16] = { 0xc0, 12, 0, 1, 0, 1, ttl >> 24, (ttl >> 16) & 0xff,
				   (ttl >> 8) & 0xff, ttl & 0xff, 0, 4, 192, 0, 2, (uint8_t)(i + 1) };
		memcpy(p + len, rr, 16);
		len += 16;
	}
	if (opt) {
		uint8_t o[11] = { 0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0 };
		memcpy(p + len, o, 11);
		len += 11;
	}
	return len;
}

static struct dns_query query(const char *name, uint16_t qtype, bool dnssec_ok)
{
	struct dns_query q;
	memset(&q, 0, sizeof(q));
	q.id = 0x1234;
	q.flags = DNS_F_RD;
	q.qtype = qtype;
	q.qclass = DNS_C_IN;
	snprintf(q.name, sizeof(q.name), "%s", name);
	q.wire_len = (size_t)dnswire_name_to_wire(name, q.wire, sizeof(q.wire));
	q.dnssec_ok = dnssec_ok;
	q.udp_size = DNS_UDP_MIN;
	return q;
}

static uint32_t first_ttl(const uint8_t *p)
{
	size_t off = 12 + sizeof(QNAME) + 4 + 6;
	return (uint32_t)p[off] << 24 | (uint32_t)p[off + 1] << 16 | (uint32_t)p[off + 2] << 8 |
	       p[off + 3];
}

START_TEST(cache_ttl_policy)
{
	uint8_t p[512];
	size_t len = response(p, 1, DNS_R_NOERROR, 1, 300, false);
	ck_assert_uint_eq(dnscache_ttl(p, len, DNS_R_NOERROR, false, 7200), 3600);
	ck_assert_uint_eq(dnscache_ttl(p, len, DNS_R_NOERROR, false, 60), 60);
	ck_assert_uint_eq(dnscache_ttl(p, len, DNS_R_NOERROR, true, 60), 0);    /* TC */
	ck_assert_uint_eq(dnscache_ttl(p, len, DNS_R_SERVFAIL, false, 60), 0);
	ck_assert_uint_eq(dnscache_ttl(p, len, DNS_R_REFUSED, false, 60), 0);
	len = response(p, 1, DNS_R_NOERROR, 0, 0, false);                       /* NODATA */
	ck_assert_uint_eq(dnscache_ttl(p, len, DNS_R_NOERROR, false, 900), 300);
	ck_assert_uint_eq(dnscache_ttl(p, len, DNS_R_NOERROR, false, 30), 30);
	len = response(p, 1, DNS_R_NXDOMAIN, 0, 0, false);
	ck_assert_uint_eq(dnscache_ttl(p, len, DNS_R_NXDOMAIN, false, 3600), 300);
	ck_assert_uint_eq(dnscache_ttl(p, len, DNS_R_NXDOMAIN, false, 0), 0);
	ck_assert_uint_eq(dnscache_ttl(p, 5, DNS_R_NOERROR, false, 60), 0);     /* short */
}
END_TEST

START_TEST(cache_hit_ages_and_expires)
{
	struct dns_cache *c = dnscache_new(100, 1 << 20);
	struct dns_query q = query("www.example.com", DNS_T_A, false);
	uint8_t p[512], out[512];
	size_t len = response(p, 0xbeef, DNS_R_NOERROR, 2, 300, false);

	ck_assert_uint_eq(dnscache_get(c, &q, 7, 1000, out, sizeof(out)), 0);
	dnscache_put(c, &q, p, len, 60, 1000);
	ck_assert_uint_eq(dnscache_count(c), 1);
	ck_assert_uint_eq(dnscache_get(c, &q, 0x4242, 11500, out, sizeof(out)), len);
	ck_assert_uint_eq(out[0], 0x42);
	ck_assert_uint_eq(out[1], 0x42);
	ck_assert_uint_eq(first_ttl(out), 290);                 /* 10 s old */
	ck_assert_uint_eq(dnscache_get(c, &q, 1, 2000, out, 10), 0);    /* does not fit */
	ck_assert_uint_eq(dnscache_get(c, &q, 1, 61000, out, sizeof(out)), 0);  /* expired */
	ck_assert_uint_eq(dnscache_count(c), 0);
	ck_assert_uint_eq(dnscache_bytes(c), 0);
	dnscache_put(c, &q, p, len, 0, 1000);                   /* ttl 0: not kept */
	ck_assert_uint_eq(dnscache_count(c), 0);
	dnscache_free(c);
}
END_TEST

START_TEST(cache_key)
{
	struct dns_cache *c = dnscache_new(100, 1 << 20);
	struct dns_query q = query("www.example.com", DNS_T_A, false);
	struct dns_query aaaa = query("www.example.com", DNS_T_AAAA, false);
	struct dns_query dnssec = query("www.example.com", DNS_T_A, true);
	struct dns_query other = query("www.example.org", DNS_T_A, false);
	struct dns_query chaos = query("www.example.com", DNS_T_A, false);
	uint8_t p[512], out[512];
	size_t len = response(p, 1, DNS_R_NOERROR, 1, 300, false);

	chaos.qclass = DNS_C_CH;
	dnscache_put(c, &q, p, len, 300, 0);
	ck_assert_uint_eq(dnscache_get(c, &aaaa, 1, 0, out, sizeof(out)), 0);
	ck_assert_uint_eq(dnscache_get(c, &dnssec, 1, 0, out, sizeof(out)), 0);
	ck_assert_uint_eq(dnscache_get(c, &other, 1, 0, out, sizeof(out)), 0);
	ck_assert_uint_eq(dnscache_get(c, &chaos, 1, 0, out, sizeof(out)), 0);
	ck_assert_uint_eq(dnscache_get(c, &q, 1, 0, out, sizeof(out)), len);
	/* a new answer replaces the old one */
	len = response(p, 1, DNS_R_NOERROR, 3, 300, false);
	dnscache_put(c, &q, p, len, 300, 0);
	ck_assert_uint_eq(dnscache_count(c), 1);
	ck_assert_uint_eq(dnscache_get(c, &q, 1, 0, out, sizeof(out)), len);
	dnscache_free(c);
}
END_TEST

START_TEST(cache_lru_bounds)
{
	struct dns_cache *c = dnscache_new(3, 1 << 20);
	struct dns_query a = query("a.example", DNS_T_A, false);
	struct dns_query b = query("b.example", DNS_T_A, false);
	struct dns_query d = query("d.example", DNS_T_A, false);
	struct dns_query e = query("e.example", DNS_T_A, false);
	uint8_t p[512], out[512];
	size_t len = response(p, 1, DNS_R_NOERROR, 1, 300, false);

	dnscache_put(c, &a, p, len, 300, 0);
	dnscache_put(c, &b, p, len, 300, 0);
	dnscache_put(c, &d, p, len, 300, 0);
	ck_assert_uint_gt(dnscache_get(c, &a, 1, 0, out, sizeof(out)), 0);     /* a is recent */
	dnscache_put(c, &e, p, len, 300, 0);
	ck_assert_uint_eq(dnscache_count(c), 3);
	ck_assert_uint_eq(dnscache_get(c, &b, 1, 0, out, sizeof(out)), 0);     /* b went */
	ck_assert_uint_gt(dnscache_get(c, &a, 1, 0, out, sizeof(out)), 0);
	ck_assert_uint_gt(dnscache_get(c, &d, 1, 0, out, sizeof(out)), 0);
	ck_assert_uint_gt(dnscache_get(c, &e, 1, 0, out, sizeof(out)), 0);
	dnscache_free(c);

	/* the byte bound: room for two and a half entries */
	c = dnscache_new(100, 1 << 20);
	dnscache_put(c, &a, p, len, 300, 0);
	size_t one = dnscache_bytes(c);         /* a.example, b.example, ... cost the same */
	ck_assert_uint_gt(one, len);
	dnscache_free(c);
	c = dnscache_new(100, 2 * one + one / 2);
	dnscache_put(c, &a, p, len, 300, 0);
	dnscache_put(c, &b, p, len, 300, 0);
	dnscache_put(c, &d, p, len, 300, 0);
	ck_assert_uint_eq(dnscache_count(c), 2);
	ck_assert_uint_eq(dnscache_bytes(c), 2 * one);
	ck_assert_uint_gt(dnscache_get(c, &d, 1, 0, out, sizeof(out)), 0);     /* newest kept */
	ck_assert_uint_eq(dnscache_get(c, &a, 1, 0, out, sizeof(out)), 0);     /* oldest gone */
	dnscache_free(c);

	/* a packet bigger than the whole bound is not kept */
	c = dnscache_new(100, 64);
	dnscache_put(c, &a, p, len, 300, 0);
	ck_assert_uint_eq(dnscache_count(c), 0);
	dnscache_free(c);
}
END_TEST

START_TEST(addr_parse)
{
	struct dns_addr a, list[4];
	char bad[128];

	ck_assert_int_eq(dnsaddr_parse("10.0.0.1", 53, &a), 0);
	ck_assert_str_eq(a.text, "10.0.0.1:53");
	ck_assert_int_eq(dnsaddr_parse("127.0.0.1:5353", 53, &a), 0);
	ck_assert_str_eq(a.text, "127.0.0.1:5353");
	ck_assert_int_eq(dnsaddr_parse("[::1]:54", 53, &a), 0);
	ck_assert_str_eq(a.text, "[::1]:54");
	ck_assert_int_eq(a.sa.ss_family, AF_INET6);
	ck_assert_int_eq(dnsaddr_parse("2001:db8::1", 53, &a), 0);
	ck_assert_str_eq(a.text, "[2001:db8::1]:53");
	ck_assert_int_eq(dnsaddr_parse("dns.google", 53, &a), -1);
	ck_assert_int_eq(dnsaddr_parse("1.2.3.4:99999", 53, &a), -1);
	ck_assert_int_eq(dnsaddr_parse("1.2.3.4:", 53, &a), -1);
	ck_assert_int_eq(dnsaddr_parse("[::1", 53, &a), -1);
	ck_assert_int_eq(dnsaddr_parse("", 53, &a), -1);

	ck_assert_int_eq(dnsaddr_parse_list("1.1.1.1, 8.8.8.8:5353,[::1]", 53, list, 4, bad), 3);
	ck_assert_str_eq(list[1].text, "8.8.8.8:5353");
	ck_assert_str_eq(list[2].text, "[::1]:53");
	ck_assert_int_eq(dnsaddr_parse_list("1.1.1.1,nope", 53, list, 4, bad), -1);
	ck_assert_str_eq(bad, "nope");
	ck_assert_int_eq(dnsaddr_parse_list(NULL, 53, list, 4, bad), 0);
	ck_assert_int_eq(dnsaddr_parse_list("1.1.1.1,2.2.2.2,3.3.3.3", 53, list, 2, bad), 2);
}
END_TEST

START_TEST(resolv_conf)
{
	struct dns_addr a[4];
	const char *text = "# generated\n"
			   "search example.com\n"
			   "nameserver 192.168.1.1\n"
			   "nameserver\tfe80::1%eth0\n"
			   "  nameserver ::1  \n"
			   "options edns0 trust-ad\n"
			   "nameserver bogus\n"
			   "nameserver 127.0.0.53";       /* no final newline */
	ck_assert_int_eq(dnsaddr_resolvconf(text, a, 4), 3);
	ck_assert_str_eq(a[0].text, "192.168.1.1:53");
	ck_assert_str_eq(a[1].text, "[::1]:53");
	ck_assert_str_eq(a[2].text, "127.0.0.53:53");
	ck_assert_int_eq(dnsaddr_resolvconf(text, a, 1), 1);
	ck_assert_int_eq(dnsaddr_resolvconf("", a, 4), 0);
}
END_TEST

START_TEST(loop_guard)
{
	struct dns_addr ups[4], skip[2];
	char bad[128];
	int n = dnsaddr_parse_list("10.244.0.1,10.96.0.10:53,127.0.0.1:5353,127.0.0.1:5354",
				   53, ups, 4, bad);
	ck_assert_int_eq(n, 4);
	ck_assert_int_eq(dnsaddr_parse("127.0.0.1:5353", 53, &skip[0]), 0);    /* listener */
	ck_assert_int_eq(dnsaddr_parse("10.96.0.10", 0, &skip[1]), 0);         /* any port */
	n = dnsaddr_filter(ups, n, skip, 2);
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(ups[0].text, "10.244.0.1:53");
	ck_assert_str_eq(ups[1].text, "127.0.0.1:5354");
	ck_assert(dnsaddr_equal(&ups[1], &ups[1]));
	ck_assert(!dnsaddr_equal(&ups[0], &ups[1]));
}
END_TEST

START_TEST(bridge_address)
{
	struct dns_addr a;
	ck_assert_int_eq(dnsaddr_cidr_first("10.244.0.0/16", 53, &a), 0);
	ck_assert_str_eq(a.text, "10.244.0.1:53");
	ck_assert_int_eq(dnsaddr_cidr_first("172.16.8.0/24", 53, &a), 0);
	ck_assert_str_eq(a.text, "172.16.8.1:53");
	ck_assert_int_eq(dnsaddr_cidr_first("nope/16", 53, &a), -1);
	ck_assert_int_eq(dnsaddr_cidr_first("", 53, &a), -1);
	ck_assert_int_eq(dnsaddr_cidr_first(NULL, 53, &a), -1);
}
END_TEST

START_TEST(names)
{
	ck_assert(dns_name_in("web.default.svc.cluster.local", "cluster.local"));
	ck_assert(dns_name_in("cluster.local", "cluster.local"));
	ck_assert(dns_name_in("WEB.Cluster.Local", "cluster.local"));
	ck_assert(!dns_name_in("xcluster.local", "cluster.local"));
	ck_assert(!dns_name_in("local", "cluster.local"));
	ck_assert(!dns_name_in("www.example.com", "cluster.local"));
}
END_TEST

START_TEST(relay_to_client)
{
	uint8_t p[1024];
	struct dns_query q = query("www.example.com", DNS_T_A, false);
	size_t len = response(p, 0x9999, DNS_R_NOERROR, 2, 300, true), n;

	/* a client without EDNS0: its id, no OPT, RD as it asked */
	q.flags = 0;
	n = dns_relay_fixup(&q, p, len, sizeof(p), 512);
	ck_assert_uint_eq(n, len - 11);
	ck_assert_uint_eq(p[0], 0x12);
	ck_assert_uint_eq(p[1], 0x34);
	ck_assert_uint_eq(p[2] & 0x01, 0);                      /* RD */
	ck_assert_uint_eq(p[11], 0);                            /* arcount */
	ck_assert_uint_eq(p[7], 2);

	/* a client with EDNS0 keeps the OPT */
	q = query("www.example.com", DNS_T_A, false);
	q.edns = true;
	q.udp_size = 1232;
	len = response(p, 0x9999, DNS_R_NOERROR, 2, 300, true);
	ck_assert_uint_eq(dns_relay_fixup(&q, p, len, sizeof(p), 1232), len);
	ck_assert_uint_eq(p[11], 1);

	/* too big for the client: header and question, TC set */
	q = query("www.example.com", DNS_T_A, false);
	len = response(p, 0x9999, DNS_R_NOERROR, 40, 300, false);
	ck_assert_uint_gt(len, 512);
	n = dns_relay_fixup(&q, p, len, sizeof(p), 512);
	ck_assert_uint_eq(n, 12 + sizeof(QNAME) + 4);
	ck_assert_uint_eq(p[2] & 0x02, 0x02);                   /* TC */
	ck_assert_uint_eq(p[0], 0x12);
	ck_assert_uint_eq(p[7], 0);                             /* no answers */
	ck_assert_mem_eq(p + 12, QNAME, sizeof(QNAME));

	ck_assert_uint_eq(dns_relay_fixup(&q, p, 5, sizeof(p), 512), 0);
}
END_TEST


/* 1.4: a coalesced or cached answer carries the first asker's case; each
 * client gets its own (0x20 resolvers compare it). */
START_TEST(relay_question_case)
{
	static const uint8_t MIXED[] = "\x03wWw\x07" "ExAmPle\x03" "COM";
	uint8_t p[1024];
	struct dns_query q = query("www.example.com", DNS_T_A, false);
	size_t len = response(p, 0x9999, DNS_R_NOERROR, 1, 300, false);

	memcpy(q.wire, MIXED, sizeof(MIXED));
	ck_assert_uint_eq(dns_relay_fixup(&q, p, len, sizeof(p), 512), len);
	ck_assert_mem_eq(p + 12, MIXED, sizeof(MIXED));
	/* and back to another client's case */
	q = query("www.example.com", DNS_T_A, false);
	ck_assert_uint_eq(dns_relay_fixup(&q, p, len, sizeof(p), 512), len);
	ck_assert_mem_eq(p + 12, QNAME, sizeof(QNAME));
	/* a different name is left alone */
	q = query("www.example.org", DNS_T_A, false);
	ck_assert_uint_eq(dns_relay_fixup(&q, p, len, sizeof(p), 512), len);
	ck_assert_mem_eq(p + 12, QNAME, sizeof(QNAME));
	/* truncated to a TC reply: the client's case too */
	q = query("www.example.com", DNS_T_A, false);
	memcpy(q.wire, MIXED, sizeof(MIXED));
	len = response(p, 0x9999, DNS_R_NOERROR, 40, 300, false);
	ck_assert_uint_eq(dns_relay_fixup(&q, p, len, sizeof(p), 512), 12 + sizeof(QNAME) + 4);
	ck_assert_mem_eq(p + 12, MIXED, sizeof(MIXED));
}
END_TEST

/* 1.7: an entry bigger than a UDP buffer still answers (TC) when read
 * through a 64 KiB one, as the server does. */
START_TEST(cache_big_entry_truncates)
{
	static uint8_t p[8192], big[65536];
	struct dns_cache *c = dnscache_new(100, 1 << 20);
	struct dns_query q = query("www.example.com", DNS_T_A, false);
	size_t len = response(p, 1, DNS_R_NOERROR, 255, 300, false);

	ck_assert_uint_gt(len, 4096);
	dnscache_put(c, &q, p, len, 300, 0);
	ck_assert_uint_eq(dnscache_get(c, &q, 7, 0, p, 4096), 0);
	size_t n = dnscache_get(c, &q, 7, 0, big, sizeof(big));
	ck_assert_uint_eq(n, len);
	ck_assert_uint_eq(dns_relay_fixup(&q, big, n, sizeof(big), 512), 12 + sizeof(QNAME) + 4);
	ck_assert_uint_eq(big[2] & 0x02, 0x02);                 /* TC */
	ck_assert_uint_eq(big[1], 0x34);                       /* the client's id */
	dnscache_free(c);
}
END_TEST

START_TEST(question_key)
{
	struct dns_query a = query("www.example.com", DNS_T_A, false);
	struct dns_query b = query("www.example.com", DNS_T_A, false);
	struct dns_query aaaa = query("www.example.com", DNS_T_AAAA, false);
	struct dns_query dnssec = query("www.example.com", DNS_T_A, true);

	b.id = 99;
	b.flags = 0;
	ck_assert_uint_eq(dnsq_hash(&a), dnsq_hash(&b));
	ck_assert(dnsq_match(&a, b.name, b.qtype, b.qclass, b.dnssec_ok));
	ck_assert(!dnsq_match(&a, "www.example.org", DNS_T_A, DNS_C_IN, false));
	ck_assert(!dnsq_match(&a, aaaa.name, aaaa.qtype, aaaa.qclass, aaaa.dnssec_ok));
	ck_assert(!dnsq_match(&a, dnssec.name, dnssec.qtype, dnssec.qclass, dnssec.dnssec_ok));
	ck_assert(!dnsq_match(&a, a.name, a.qtype, DNS_C_CH, false));
	ck_assert_uint_ne(dnsq_hash(&a), dnsq_hash(&aaaa));
	ck_assert_uint_ne(dnsq_hash(&a), dnsq_hash(&dnssec));
}
END_TEST

/* 1.10: --cluster-domain=Cluster.Local. matches like cluster.local */
START_TEST(domain_norm)
{
	char d[64];
	dns_domain_norm("Cluster.Local.", d, sizeof(d));
	ck_assert_str_eq(d, "cluster.local");
	ck_assert(dns_name_in("web.default.svc.cluster.local", d));
	dns_domain_norm("cluster.local", d, sizeof(d));
	ck_assert_str_eq(d, "cluster.local");
	dns_domain_norm(".", d, sizeof(d));
	ck_assert_str_eq(d, "");
	dns_domain_norm("abcdef", d, 4);
	ck_assert_str_eq(d, "abc");
}
END_TEST

START_TEST(rcode_reply)
{
	uint8_t p[512];
	struct dns_query q = query("www.example.com", DNS_T_A, false);
	size_t n = dns_rcode_reply(&q, DNS_R_SERVFAIL, p, sizeof(p));
	ck_assert_uint_eq(n, 12 + sizeof(QNAME) + 4);
	ck_assert_uint_eq(p[3] & 0x0f, DNS_R_SERVFAIL);
	ck_assert_uint_eq(p[2] & 0x02, 0);                      /* no TC */
	ck_assert_uint_eq(dns_tc_reply(&q, DNS_R_NOERROR, p, sizeof(p)), n);
	ck_assert_uint_eq(p[2] & 0x02, 0x02);
}
END_TEST

/* ExternalName chasing; 1.10: --cluster-domain=Cluster.Local. keeps an
 * in-zone CNAME target in the zone */
START_TEST(chase)
{
	struct dns_query q = query("ext.default.svc.cluster.local", DNS_T_A, false), q2;
	struct dns_answer a;
	char dom[64];
	uint8_t p[512];

	dns_answer_init(&a);
	struct dns_rr *rr = dns_answer_add(&a, DNS_SEC_AN, "ext.default.svc.cluster.local",
					   DNS_T_CNAME, 5);
	snprintf(rr->u.target, sizeof(rr->u.target), "www.example.com");
	dns_domain_norm("Cluster.Local.", dom, sizeof(dom));
	ck_assert(dns_needs_chase(&q, &a, dom));
	snprintf(rr->u.target, sizeof(rr->u.target), "other.ns.svc.cluster.local");
	ck_assert(!dns_needs_chase(&q, &a, dom));
	snprintf(rr->u.target, sizeof(rr->u.target), "www.example.com");
	q.qtype = DNS_T_TXT;
	ck_assert(!dns_needs_chase(&q, &a, dom));               /* only A, AAAA, ANY */
	q.qtype = DNS_T_ANY;
	ck_assert(dns_needs_chase(&q, &a, dom));

	dns_chase_query(&q, "WWW.Example.COM.", &q2);
	ck_assert_str_eq(q2.name, "www.example.com");
	ck_assert_uint_eq(q2.qtype, DNS_T_A);                   /* ANY asks A */
	ck_assert_uint_eq(q2.wire_len, sizeof(QNAME));
	ck_assert_mem_eq(q2.wire, QNAME, sizeof(QNAME));
	ck_assert(q2.edns && (q2.flags & DNS_F_RD));
	dns_chase_query(&q, "a..b", &q2);
	ck_assert_uint_eq(q2.wire_len, 0);

	/* the upstream's records appended; NXDOMAIN carried over */
	size_t len = response(p, 1, DNS_R_NOERROR, 2, 300, false);
	dns_chase_merge(&a, p, len);
	ck_assert_uint_eq(a.count[DNS_SEC_AN], 3);
	ck_assert_uint_eq(a.rr[1].type, DNS_T_A);
	ck_assert_uint_eq(a.rcode, DNS_R_NOERROR);
	len = response(p, 1, DNS_R_NXDOMAIN, 0, 0, false);
	dns_chase_merge(&a, p, len);
	ck_assert_uint_eq(a.rcode, DNS_R_NXDOMAIN);
	ck_assert_uint_eq(a.count[DNS_SEC_AN], 3);
	dns_answer_release(&a);
}
END_TEST

/* a waiting job keeps what answering needs, in the client's case */
START_TEST(qpack)
{
	struct dns_query q = query("www.example.com", DNS_T_AAAA, true), r;
	struct dns_qpack p;
	uint8_t a[512], b[512];

	q.wire[1] = 'W';
	q.edns = true;
	q.udp_size = 1232;
	q.id = 0xabcd;
	dns_qpack_save(&p, &q);
	ck_assert_uint_lt(sizeof(p), 300);
	memset(&r, 0x55, sizeof(r));
	dns_qpack_load(&r, &p);
	ck_assert_uint_eq(r.wire_len, q.wire_len);
	ck_assert_mem_eq(r.wire, q.wire, q.wire_len);
	ck_assert_str_eq(r.name, "");
	ck_assert_uint_eq(r.id, 0xabcd);
	ck_assert(r.dnssec_ok && r.edns);
	ck_assert_uint_eq(r.udp_size, 1232);
	ck_assert_uint_eq(r.qtype, DNS_T_AAAA);
	/* the same answer either way */
	size_t n = dns_rcode_reply(&q, DNS_R_SERVFAIL, a, sizeof(a));
	ck_assert_uint_eq(dns_rcode_reply(&r, DNS_R_SERVFAIL, b, sizeof(b)), n);
	ck_assert_mem_eq(a, b, n);
}
END_TEST

/* 1.8: upstream queries always ask for recursion */
START_TEST(upstream_query_rd)
{
	uint8_t p[512];
	struct dns_query q = query("www.example.com", DNS_T_A, false);
	q.flags = 0;
	size_t n = fwd_encode_query(0x4321, &q, p, sizeof(p));
	ck_assert_uint_gt(n, 12);
	ck_assert_uint_eq(p[2] & 0x01, 0x01);                   /* RD */
	ck_assert_uint_eq(p[0], 0x43);
	ck_assert_uint_eq(fwd_encode_query(1, &q, p, 8), 0);
}
END_TEST

static int called, stopped;

static void on_answer(void *arg, const uint8_t *pkt, size_t len, bool stopping)
{
	called++;
	stopped += stopping;
}

/* 1.1: one question flooding in waits FWD_MAX_WAITERS times at most; the
 * rest is refused (SERVFAIL) instead of kept. The upstream is a loopback
 * socket that never answers. */
START_TEST(fwd_waiter_bound)
{
	struct loop *l = loop_new();
	struct dns_addr up;
	struct dns_query q = query("flood.example.com", DNS_T_A, false);
	struct dns_query other = query("other.example.com", DNS_T_A, false);
	struct fwd_stats st;

	ck_assert_int_eq(dnsaddr_parse("127.0.0.1:9", 53, &up), 0);
	struct fwd *f = fwd_new(l, &up, 1, NULL);
	called = stopped = 0;
	for (int i = 0; i < FWD_MAX_WAITERS; i++) {
		ck_assert(!fwd_busy(f, &q));
		ck_assert_int_eq(fwd_query(f, &q, on_answer, NULL), 0);
	}
	ck_assert(fwd_busy(f, &q));
	ck_assert_int_eq(fwd_query(f, &q, on_answer, NULL), -1);
	ck_assert(!fwd_busy(f, &other));
	ck_assert_int_eq(fwd_query(f, &other, on_answer, NULL), 0);     /* others still go */
	ck_assert_uint_eq(fwd_pending(f), 2);
	fwd_get_stats(f, &st);
	ck_assert_uint_eq(st.coalesced, FWD_MAX_WAITERS - 1);
	ck_assert_int_eq(called, 0);                            /* never from inside */
	fwd_free(f);
	ck_assert_int_eq(called, FWD_MAX_WAITERS + 1);
	ck_assert(fwd_busy(NULL, &q));
	ck_assert_int_eq(stopped, FWD_MAX_WAITERS + 1);
	loop_free(l);
}
END_TEST

static Suite *dns_server_suite(void)
{
	Suite *s = suite_create("dns_server");
	TCase *t = tcase_create("cache");
	tcase_add_test(t, cache_ttl_policy);
	tcase_add_test(t, cache_hit_ages_and_expires);
	tcase_add_test(t, cache_key);
	tcase_add_test(t, cache_lru_bounds);
	tcase_add_test(t, cache_big_entry_truncates);
	suite_add_tcase(s, t);
	t = tcase_create("addresses");
	tcase_add_test(t, addr_parse);
	tcase_add_test(t, resolv_conf);
	tcase_add_test(t, loop_guard);
	tcase_add_test(t, bridge_address);
	suite_add_tcase(s, t);
	t = tcase_create("relay");
	tcase_add_test(t, names);
	tcase_add_test(t, relay_to_client);
	tcase_add_test(t, relay_question_case);
	tcase_add_test(t, question_key);
	tcase_add_test(t, domain_norm);
	tcase_add_test(t, rcode_reply);
	tcase_add_test(t, qpack);
	tcase_add_test(t, chase);
	suite_add_tcase(s, t);
	t = tcase_create("forwarder");
	tcase_add_test(t, upstream_query_rd);
	tcase_add_test(t, fwd_waiter_bound);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(dns_server_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
