/*
 * tests/unit/test_ip.c: common/ip (addresses and prefixes). What text is
 * an address (netip's lines: no leading zeros, no zones, 4-in-6), the
 * canonical text back, stepping past the ends of a family, and prefixes:
 * strict and lax parsing with their errors, /0, /32, /128, contains,
 * size, nth/offset/next, over IPv4 and IPv6.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ip.h"

static struct lk_ip ip(const char *s)
{
	struct lk_ip v;
	ck_assert_msg(lk_ip_parse(s, &v, NULL) == 0, "'%s' does not parse", s);
	return v;
}

static struct lk_cidr cidr(const char *s, unsigned flags)
{
	struct lk_cidr c;
	ck_assert_msg(lk_cidr_parse(s, flags, &c, NULL) == 0, "'%s' does not parse", s);
	return c;
}

/* s parses and formats back as want. */
static void round_trip(const char *s, const char *want)
{
	char buf[LK_IP_STRLEN];
	struct lk_ip v = ip(s);
	ck_assert_str_eq(lk_ip_format(&v, buf), want);
}

START_TEST(parse_ipv4)
{
	struct lk_ip v = ip("10.96.0.1"), z;
	uint32_t n;

	ck_assert_int_eq(v.family, AF_INET);
	ck_assert_int_eq(lk_ip_bits(&v), 32);
	ck_assert_mem_eq(v.a, "\x0a\x60\x00\x01", 4);
	memset(&z, 0, sizeof(z));
	ck_assert_mem_eq(v.a + 4, z.a, 12);     /* the rest zero: a hash key */
	round_trip("0.0.0.0", "0.0.0.0");
	round_trip("255.255.255.255", "255.255.255.255");
	ck_assert_int_eq(lk_ip4_parse("10.96.0.1", &n), 0);
	ck_assert_uint_eq(n, 0x0a600001u);
	ck_assert_uint_eq(lk_ip4_value(&v), 0x0a600001u);
	v = lk_ip4(0xc0a80701u);
	z = ip("192.168.7.1");
	ck_assert_int_eq(memcmp(&v, &z, sizeof(v)), 0);
	{
		char buf[LK_IP_STRLEN];
		ck_assert_str_eq(lk_ip4_format(0xc0a80701u, buf), "192.168.7.1");
	}
}
END_TEST

START_TEST(parse_ipv6)
{
	struct lk_ip v = ip("2001:db8::1");
	uint32_t n;

	ck_assert_int_eq(v.family, AF_INET6);
	ck_assert_int_eq(lk_ip_bits(&v), 128);
	ck_assert_uint_eq(v.a[0], 0x20);
	ck_assert_uint_eq(v.a[15], 1);
	round_trip("::", "::");
	round_trip("::1", "::1");
	round_trip("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1");
	round_trip("0001::", "1::");                    /* 4 hex digits may lead with 0 */
	round_trip("FE80::A", "fe80::a");
	round_trip("::1.2.3.4", "::102:304");           /* netip, not inet_ntop */
	round_trip("::0.0.0.1", "::1");
	round_trip("::1:0:0", "::1:0:0");
	round_trip("1:0:0:1:0:0:0:1", "1:0:0:1::1");    /* the longest run */
	round_trip("1:0:0:1:0:0:1:1", "1::1:0:0:1:1");  /* the first of two */
	round_trip("1:0:1:1:1:1:1:1", "1:0:1:1:1:1:1:1");       /* not one group */
	ck_assert_int_eq(lk_ip4_parse("2001:db8::1", &n), -1);
	ck_assert_uint_eq(lk_ip4_value(&v), 0);
}
END_TEST

START_TEST(ipv4_mapped)
{
	struct lk_ip v = ip("::ffff:1.2.3.4"), u;
	char buf[LK_IP_STRLEN];
	uint32_t n;

	ck_assert_int_eq(v.family, AF_INET6);   /* netip: Is4In6, not Is4 */
	ck_assert(lk_ip_is4in6(&v));
	ck_assert_str_eq(lk_ip_format(&v, buf), "::ffff:1.2.3.4");
	u = lk_ip_unmap(&v);
	ck_assert_int_eq(u.family, AF_INET);
	ck_assert_str_eq(lk_ip_format(&u, buf), "1.2.3.4");
	{
		struct lk_ip w = ip("1.2.3.4");
		ck_assert_int_eq(memcmp(&u, &w, sizeof(u)), 0);
	}
	ck_assert(!lk_ip_is4in6(&u));
	u = ip("::1");
	ck_assert(!lk_ip_is4in6(&u));
	v = lk_ip_unmap(&u);
	ck_assert_int_eq(lk_ip_cmp(&u, &v), 0);
	ck_assert_int_eq(lk_ip4_parse("::ffff:1.2.3.4", &n), -1);
}
END_TEST

START_TEST(parse_bad)
{
	static const char *const bad[] = {
		"", " 1.2.3.4", "1.2.3.4 ", "1.2.3", "1.2.3.4.5", "256.1.1.1",
		"01.2.3.4", "1.2.3.04", "0x1.2.3.4", "1.2.3.-1", "::ffff:01.2.3.4",
		"1::2::3", "00001::", "1:2:3:4:5:6:7:8:9", "fe80::1%eth0",
		"10.0.0.0/8", "[::1]", "localhost",
	};
	struct lk_err err = { 0 };
	struct lk_ip v;
	uint32_t n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(lk_ip_parse(bad[i], &v, NULL) == -1, "'%s' parsed", bad[i]);
		ck_assert_int_eq(v.family, 0);
		ck_assert_int_eq(lk_ip4_parse(bad[i], &n), -1);
	}
	ck_assert_int_eq(lk_ip_parse(NULL, &v, NULL), -1);
	ck_assert_int_eq(lk_ip_parse("01.2.3.4", &v, &err), -1);
	ck_assert_int_eq(err.code, LK_EBADREQUEST);
	ck_assert_str_eq(err.msg, "'01.2.3.4' is not an IP address");
	lk_err_clear(&err);
	{
		char buf[LK_IP_STRLEN];
		struct lk_ip z = { 0 };
		ck_assert_str_eq(lk_ip_format(&z, buf), "invalid IP");
		ck_assert_int_eq(lk_ip_bits(&z), 0);
		ck_assert_int_eq(lk_ip_add(&z, 1), -1);
	}
}
END_TEST

START_TEST(compare)
{
	struct lk_ip a = ip("10.0.0.2"), b = ip("10.0.0.10"), c = ip("::1");

	ck_assert_int_lt(lk_ip_cmp(&a, &b), 0);
	ck_assert_int_gt(lk_ip_cmp(&b, &a), 0);
	ck_assert_int_eq(lk_ip_cmp(&a, &a), 0);
	ck_assert_int_lt(lk_ip_cmp(&b, &c), 0);        /* IPv4 before IPv6 */
	ck_assert_int_gt(lk_ip_cmp(&c, &a), 0);
}
END_TEST

START_TEST(step)
{
	char buf[LK_IP_STRLEN];
	struct lk_ip v = ip("10.0.0.255");

	ck_assert_int_eq(lk_ip_add(&v, 1), 0);
	ck_assert_str_eq(lk_ip_format(&v, buf), "10.0.1.0");
	ck_assert_int_eq(lk_ip_add(&v, -1), 0);
	ck_assert_str_eq(lk_ip_format(&v, buf), "10.0.0.255");
	ck_assert_int_eq(lk_ip_add(&v, 65536 + 2), 0);
	ck_assert_str_eq(lk_ip_format(&v, buf), "10.1.1.1");
	ck_assert_int_eq(lk_ip_add(&v, -(int64_t)0x0a010101), 0);
	ck_assert_str_eq(lk_ip_format(&v, buf), "0.0.0.0");
	ck_assert_int_eq(lk_ip_add(&v, -1), -1);        /* below 0.0.0.0 */
	ck_assert_str_eq(lk_ip_format(&v, buf), "0.0.0.0");
	v = ip("255.255.255.254");
	ck_assert_int_eq(lk_ip_add(&v, 1), 0);
	ck_assert_int_eq(lk_ip_add(&v, 1), -1);         /* past the end */
	ck_assert_str_eq(lk_ip_format(&v, buf), "255.255.255.255");
	v = ip("0.0.0.0");
	ck_assert_int_eq(lk_ip_add(&v, (int64_t)1 << 32), -1);
	ck_assert_int_eq(lk_ip_add(&v, 0xffffffff), 0);
	ck_assert_str_eq(lk_ip_format(&v, buf), "255.255.255.255");

	v = ip("2001:db8::ffff:ffff:ffff:ffff");
	ck_assert_int_eq(lk_ip_add(&v, 1), 0);          /* carries into the /64 */
	ck_assert_str_eq(lk_ip_format(&v, buf), "2001:db8:0:1::");
	ck_assert_int_eq(lk_ip_add(&v, -2), 0);
	ck_assert_str_eq(lk_ip_format(&v, buf), "2001:db8::ffff:ffff:ffff:fffe");
	v = ip("::");
	ck_assert_int_eq(lk_ip_add(&v, -1), -1);
	ck_assert_int_eq(lk_ip_add(&v, INT64_MAX), 0);
	ck_assert_str_eq(lk_ip_format(&v, buf), "::7fff:ffff:ffff:ffff");
	v = ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	ck_assert_int_eq(lk_ip_add(&v, 1), -1);
	ck_assert_int_eq(lk_ip_add(&v, INT64_MIN), 0);
	ck_assert_str_eq(lk_ip_format(&v, buf), "ffff:ffff:ffff:ffff:7fff:ffff:ffff:ffff");
}
END_TEST

START_TEST(sockaddrs)
{
	struct sockaddr_storage ss;
	struct lk_ip v = ip("10.244.0.5"), w;
	uint16_t port = 0;
	char buf[LK_IP_STRLEN];

	ck_assert_uint_eq(lk_ip_sockaddr(&v, 8080, &ss), sizeof(struct sockaddr_in));
	ck_assert_int_eq(ss.ss_family, AF_INET);
	ck_assert_uint_eq(ntohs(((struct sockaddr_in *)&ss)->sin_port), 8080);
	ck_assert_uint_eq(ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr), 0x0af40005u);
	ck_assert_int_eq(lk_ip_from_sockaddr((struct sockaddr *)&ss, &w, &port), 0);
	ck_assert_int_eq(lk_ip_cmp(&v, &w), 0);
	ck_assert_uint_eq(port, 8080);
	v = ip("fd00::53");
	ck_assert_uint_eq(lk_ip_sockaddr(&v, 53, &ss), sizeof(struct sockaddr_in6));
	ck_assert_int_eq(lk_ip_from_sockaddr((struct sockaddr *)&ss, &w, NULL), 0);
	ck_assert_str_eq(lk_ip_format(&w, buf), "fd00::53");
	ss.ss_family = AF_UNIX;
	ck_assert_int_eq(lk_ip_from_sockaddr((struct sockaddr *)&ss, &w, &port), -1);
	memset(&v, 0, sizeof(v));
	ck_assert_uint_eq(lk_ip_sockaddr(&v, 1, &ss), 0);
}
END_TEST

START_TEST(cidr_parse)
{
	char buf[LK_CIDR_STRLEN];
	struct lk_cidr c = cidr("10.244.0.0/16", LK_CIDR_STRICT);
	struct lk_err err = { 0 };

	ck_assert_int_eq(c.ip.family, AF_INET);
	ck_assert_int_eq(c.bits, 16);
	ck_assert_str_eq(lk_cidr_format(&c, buf), "10.244.0.0/16");
	c = cidr("0.0.0.0/0", LK_CIDR_STRICT);
	ck_assert_int_eq(c.bits, 0);
	c = cidr("10.0.0.7/32", LK_CIDR_STRICT);
	ck_assert_int_eq(c.bits, 32);
	c = cidr("2001:DB8::/32", LK_CIDR_STRICT);
	ck_assert_str_eq(lk_cidr_format(&c, buf), "2001:db8::/32");
	c = cidr("::/0", LK_CIDR_STRICT);
	ck_assert_int_eq(c.bits, 0);
	c = cidr("::1/128", LK_CIDR_STRICT);
	ck_assert_int_eq(c.bits, 128);
	c = cidr("::ffff:10.0.0.0/104", LK_CIDR_STRICT);
	ck_assert_int_eq(c.ip.family, AF_INET6);

	/* host bits: kept when lax, refused when strict */
	c = cidr("10.96.0.10/12", 0);
	ck_assert_str_eq(lk_cidr_format(&c, buf), "10.96.0.10/12");
	c = lk_cidr_masked(&c);
	ck_assert_str_eq(lk_cidr_format(&c, buf), "10.96.0.0/12");
	ck_assert_int_eq(lk_cidr_parse("10.96.0.10/12", LK_CIDR_STRICT, &c, &err), -1);
	ck_assert_str_eq(err.msg, "invalid CIDR '10.96.0.10/12': host bits are set "
				  "(the network is 10.96.0.0/12)");
	ck_assert_int_eq(lk_cidr_parse("fd00::1/64", LK_CIDR_STRICT, &c, &err), -1);
	ck_assert_str_eq(err.msg, "invalid CIDR 'fd00::1/64': host bits are set "
				  "(the network is fd00::/64)");

	/* a bare address */
	ck_assert_int_eq(lk_cidr_parse("10.0.0.1", 0, &c, &err), -1);
	ck_assert_str_eq(err.msg, "invalid CIDR '10.0.0.1': want ADDRESS/BITS");
	c = cidr("10.0.0.1", LK_CIDR_ADDR);
	ck_assert_int_eq(c.bits, 32);
	c = cidr("fd00::1", LK_CIDR_ADDR | LK_CIDR_STRICT);
	ck_assert_int_eq(c.bits, 128);

	ck_assert_int_eq(lk_cidr_parse("10.0.0.0/33", 0, &c, &err), -1);
	ck_assert_str_eq(err.msg, "invalid CIDR '10.0.0.0/33': bad prefix length '33' (want 0 to 32)");
	ck_assert_int_eq(lk_cidr_parse("::/129", 0, &c, &err), -1);
	ck_assert_str_eq(err.msg, "invalid CIDR '::/129': bad prefix length '129' (want 0 to 128)");
	ck_assert_int_eq(lk_cidr_parse("10.0.0/8", 0, &c, &err), -1);
	ck_assert_str_eq(err.msg, "invalid CIDR '10.0.0/8': '10.0.0' is not an IP address");
	ck_assert_int_eq(c.ip.family, 0);
	lk_err_clear(&err);
}
END_TEST

START_TEST(cidr_parse_bad)
{
	static const char *const bad[] = {
		"", "/8", "10.0.0.0/", "10.0.0.0/08", "10.0.0.0/+8", "10.0.0.0/-1",
		"10.0.0.0/8 ", "10.0.0.0/8a", "10.0.0.0/ 8", "10.0.0.0/8/8",
		"010.0.0.0/8", "fe80::%eth0/64", "10.0.0.0/4294967304", "nonsense",
	};
	struct lk_cidr c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(lk_cidr_parse(bad[i], LK_CIDR_ADDR, &c, NULL) == -1,
			      "'%s' parsed", bad[i]);
	ck_assert_int_eq(lk_cidr_parse(NULL, LK_CIDR_ADDR, &c, NULL), -1);
}
END_TEST

START_TEST(cidr_contains)
{
	struct lk_cidr c = cidr("10.96.0.0/12", 0), all = cidr("0.0.0.0/0", 0);
	struct lk_cidr one = cidr("10.0.0.7/32", 0), six = cidr("fd00:10:96::/112", 0);
	struct lk_cidr lax = cidr("10.96.5.5/12", 0);
	struct lk_ip a = ip("10.111.255.255"), b = ip("10.112.0.0"), m = ip("::ffff:10.96.0.1");

	ck_assert(lk_cidr_contains(&c, &a));
	ck_assert(!lk_cidr_contains(&c, &b));
	ck_assert(lk_cidr_contains(&lax, &a));          /* host bits do not count */
	ck_assert(!lk_cidr_contains(&c, &m));           /* never unmapped */
	ck_assert(lk_cidr_contains(&all, &b));
	ck_assert(!lk_cidr_contains(&all, &m));         /* other family */
	a = ip("10.0.0.7");
	ck_assert(lk_cidr_contains(&one, &a));
	a = ip("10.0.0.6");
	ck_assert(!lk_cidr_contains(&one, &a));
	a = ip("fd00:10:96::ffff");
	ck_assert(lk_cidr_contains(&six, &a));
	a = ip("fd00:10:97::");
	ck_assert(!lk_cidr_contains(&six, &a));
	six = cidr("::/0", 0);
	ck_assert(lk_cidr_contains(&six, &m));
}
END_TEST

START_TEST(cidr_numbers)
{
	char buf[LK_IP_STRLEN];
	struct lk_cidr c = cidr("10.96.0.5/12", 0);
	struct lk_ip v;
	uint64_t off;

	ck_assert_uint_eq(lk_cidr_size(&c), 1u << 20);
	ck_assert_int_eq(lk_cidr_nth(&c, 0, &v), 0);    /* counted from the network */
	ck_assert_str_eq(lk_ip_format(&v, buf), "10.96.0.0");
	ck_assert_int_eq(lk_cidr_nth(&c, 1, &v), 0);
	ck_assert_str_eq(lk_ip_format(&v, buf), "10.96.0.1");
	ck_assert_int_eq(lk_cidr_nth(&c, (1u << 20) - 1, &v), 0);
	ck_assert_str_eq(lk_ip_format(&v, buf), "10.111.255.255");
	ck_assert_int_eq(lk_cidr_nth(&c, 1u << 20, &v), -1);
	ck_assert_int_eq(lk_cidr_offset(&c, &v, &off), 0);
	ck_assert_uint_eq(off, (1u << 20) - 1);
	v = ip("10.112.0.0");
	ck_assert_int_eq(lk_cidr_offset(&c, &v, &off), -1);

	c = cidr("0.0.0.0/0", 0);
	ck_assert_uint_eq(lk_cidr_size(&c), (uint64_t)1 << 32);
	ck_assert_int_eq(lk_cidr_nth(&c, 0xffffffffu, &v), 0);
	ck_assert_str_eq(lk_ip_format(&v, buf), "255.255.255.255");
	ck_assert_int_eq(lk_cidr_nth(&c, (uint64_t)1 << 32, &v), -1);
	c = cidr("10.0.0.7/32", 0);
	ck_assert_uint_eq(lk_cidr_size(&c), 1);
	ck_assert_int_eq(lk_cidr_nth(&c, 0, &v), 0);
	ck_assert_str_eq(lk_ip_format(&v, buf), "10.0.0.7");
	ck_assert_int_eq(lk_cidr_nth(&c, 1, &v), -1);

	c = cidr("fd00::/120", 0);
	ck_assert_uint_eq(lk_cidr_size(&c), 256);
	ck_assert_int_eq(lk_cidr_nth(&c, 255, &v), 0);
	ck_assert_str_eq(lk_ip_format(&v, buf), "fd00::ff");
	ck_assert_int_eq(lk_cidr_offset(&c, &v, &off), 0);
	ck_assert_uint_eq(off, 255);
	c = cidr("::1/128", 0);
	ck_assert_uint_eq(lk_cidr_size(&c), 1);
	c = cidr("fd00::/64", 0);
	ck_assert_uint_eq(lk_cidr_size(&c), UINT64_MAX);        /* 2^64: saturated */
	ck_assert_int_eq(lk_cidr_nth(&c, UINT64_MAX, &v), 0);
	ck_assert_str_eq(lk_ip_format(&v, buf), "fd00::ffff:ffff:ffff:ffff");
	ck_assert_int_eq(lk_cidr_offset(&c, &v, &off), 0);
	ck_assert_uint_eq(off, UINT64_MAX);
	c = cidr("fd00::/48", 0);
	v = ip("fd00:0:0:1::");                         /* offset 2^64 */
	ck_assert(lk_cidr_contains(&c, &v));
	ck_assert_int_eq(lk_cidr_offset(&c, &v, &off), -1);
	c = cidr("::/0", 0);
	ck_assert_uint_eq(lk_cidr_size(&c), UINT64_MAX);
}
END_TEST

START_TEST(cidr_walk)
{
	char buf[LK_IP_STRLEN];
	struct lk_cidr c = cidr("192.168.7.0/30", 0);
	const char *want[] = { "192.168.7.0", "192.168.7.1", "192.168.7.2", "192.168.7.3" };
	struct lk_ip v, out = ip("10.0.0.1");
	size_t n = 0;

	ck_assert_int_eq(lk_cidr_nth(&c, 0, &v), 0);
	do {
		ck_assert_uint_lt(n, 4);
		ck_assert_str_eq(lk_ip_format(&v, buf), want[n++]);
	} while (lk_cidr_next(&c, &v));
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(lk_ip_format(&v, buf), "192.168.7.3");  /* unchanged at the end */
	ck_assert(!lk_cidr_next(&c, &out));                      /* not in c */
	ck_assert_str_eq(lk_ip_format(&out, buf), "10.0.0.1");
	for (uint64_t i = 0; i < lk_cidr_size(&c); i++) {
		ck_assert_int_eq(lk_cidr_nth(&c, i, &v), 0);
		ck_assert_str_eq(lk_ip_format(&v, buf), want[i]);
	}
	c = cidr("255.255.255.254/31", 0);
	v = ip("255.255.255.255");
	ck_assert(!lk_cidr_next(&c, &v));                        /* the family's end */
	c = cidr("fd00::fffe/127", 0);
	v = ip("fd00::fffe");
	ck_assert(lk_cidr_next(&c, &v));
	ck_assert_str_eq(lk_ip_format(&v, buf), "fd00::ffff");
	ck_assert(!lk_cidr_next(&c, &v));
}
END_TEST

START_TEST(ipv4_masks)
{
	ck_assert_uint_eq(lk_ip4_mask(0), 0);
	ck_assert_uint_eq(lk_ip4_mask(1), 0x80000000u);
	ck_assert_uint_eq(lk_ip4_mask(24), 0xffffff00u);
	ck_assert_uint_eq(lk_ip4_mask(32), 0xffffffffu);
}
END_TEST

static Suite *ip_suite(void)
{
	Suite *s = suite_create("ip");
	TCase *t = tcase_create("ip");

	tcase_add_test(t, parse_ipv4);
	tcase_add_test(t, parse_ipv6);
	tcase_add_test(t, ipv4_mapped);
	tcase_add_test(t, parse_bad);
	tcase_add_test(t, compare);
	tcase_add_test(t, step);
	tcase_add_test(t, sockaddrs);
	tcase_add_test(t, cidr_parse);
	tcase_add_test(t, cidr_parse_bad);
	tcase_add_test(t, cidr_contains);
	tcase_add_test(t, cidr_numbers);
	tcase_add_test(t, cidr_walk);
	tcase_add_test(t, ipv4_masks);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ip_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
