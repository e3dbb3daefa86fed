/*
 * tests/unit/test_dns_server.c: the pure parts of the DNS component
 * (dns/dns_internal.h): the answer cache (TTL policy, ageing, keys, LRU
 * and byte bounds), address lists and resolv.conf, the loop guard, the
 * bridge address, name helpers, and the relay of upstream answers to a
 * client (id, OPT stripping, truncation).
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	q.wire_len = dns_name_to_wire(name, q.wire, sizeof(q.wire));
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
	uint8_t w[256];
	char long_label[80];

	ck_assert_uint_eq(dns_name_to_wire("www.example.com", w, sizeof(w)), sizeof(QNAME));
	ck_assert_mem_eq(w, QNAME, sizeof(QNAME));
	ck_assert_uint_eq(dns_name_to_wire("www.example.com.", w, sizeof(w)), sizeof(QNAME));
	ck_assert_uint_eq(dns_name_to_wire("", w, sizeof(w)), 1);
	ck_assert_uint_eq(w[0], 0);
	ck_assert_uint_eq(dns_name_to_wire("a..b", w, sizeof(w)), 0);
	ck_assert_uint_eq(dns_name_to_wire("www.example.com", w, 8), 0);
	memset(long_label, 'x', 64);
	long_label[64] = '\0';
	ck_assert_uint_eq(dns_name_to_wire(long_label, w, sizeof(w)), 0);
	long_label[63] = '\0';
	ck_assert_uint_eq(dns_name_to_wire(long_label, w, sizeof(w)), 65);

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

static Suite *dns_server_suite(void)
{
	Suite *s = suite_create("dns_server");
	TCase *t = tcase_create("cache");
	tcase_add_test(t, cache_ttl_policy);
	tcase_add_test(t, cache_hit_ages_and_expires);
	tcase_add_test(t, cache_key);
	tcase_add_test(t, cache_lru_bounds);
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
