/*
 * common/ip.h: IPv4 and IPv6 addresses and CIDR prefixes: parse, format,
 * compare, step, contain, count. The one place the tree turns address text
 * into bytes and back (issue 10 item 5): nothing else calls inet_pton or
 * inet_ntop.
 *
 * Text is upstream's (Go's net/netip, which Kubernetes validates with):
 *   - IPv4 is a dotted quad of four decimal octets without leading zeros
 *     ("01.2.3.4" and "1.2.3" are refused, as netip.ParseAddr refuses
 *     them); IPv6 is RFC 4291 text, an IPv4 tail allowed ("::1.2.3.4");
 *     no zones ("fe80::1%eth0"), no spaces. Parsing is glibc's inet_pton,
 *     which draws the same lines.
 *   - "::ffff:1.2.3.4" is an IPv6 address (IPv4-mapped), as in netip:
 *     lk_ip_unmap() makes it the IPv4 one. Prefixes never unmap: an IPv4
 *     prefix does not contain a mapped address, nor the reverse.
 *   - Formatting is the canonical text (RFC 5952, inet_ntop), as netip's
 *     String: "2001:db8::1", "::ffff:1.2.3.4".
 *   - A CIDR is ADDRESS/BITS, BITS decimal from 0 to 32 (IPv4) or 128
 *     (IPv6) without sign or leading zero (netip.ParsePrefix).
 *
 * Values are plain structs passed by pointer or copied. lk_ip_parse fills
 * every byte (IPv4 in a[0..3], the rest zero) and the struct has no
 * padding, so a parsed address compares with memcmp and serves as a hash
 * key (dns/zone's reverse index). IPv4 addresses also travel as a uint32_t
 * in host order (10.0.0.1 is 0x0a000001) where code counts with them:
 * lk_ip4_parse, lk_ip4_format, lk_ip4, lk_ip4_value.
 *
 * Errors: parsers return 0 or -1, filling an optional struct lk_err
 * (LK_EBADREQUEST) with a message that quotes the input and says what is
 * wrong; callers with an upstream message to give use their own. Pure: no
 * allocation, no I/O, any thread.
 */
#ifndef LK_IP_H
#define LK_IP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/err.h"

#define LK_IP_STRLEN 46         /* INET6_ADDRSTRLEN: the longest text + NUL */
#define LK_IP4_STRLEN 16        /* INET_ADDRSTRLEN: the longest IPv4 text */
#define LK_CIDR_STRLEN 50       /* and "/128" */

struct lk_ip {
	int family;             /* AF_INET, AF_INET6; 0: none */
	uint8_t a[16];          /* network order; IPv4 in a[0..3], rest zero */
};

struct lk_cidr {
	struct lk_ip ip;        /* as written: host bits stay unless masked */
	int bits;               /* prefix length */
};

/* ---- addresses ---- */

/* IPv4 or IPv6 text into *out (zeroed first). s may be NULL (refused). */
int lk_ip_parse(const char *s, struct lk_ip *out, struct lk_err *err);
/* The canonical text into buf (LK_IP_STRLEN bytes), returned; a zero
 * struct (family 0) gives "invalid IP", as netip's zero Addr. */
const char *lk_ip_format(const struct lk_ip *ip, char *buf);
/* 32 for IPv4, 128 for IPv6, 0 for none. */
int lk_ip_bits(const struct lk_ip *ip);
bool lk_ip_is4in6(const struct lk_ip *ip);
/* An IPv4-mapped IPv6 address as IPv4; any other address unchanged. */
struct lk_ip lk_ip_unmap(const struct lk_ip *ip);
/* Order: family (IPv4 first), then address. <0, 0, >0. */
int lk_ip_cmp(const struct lk_ip *x, const struct lk_ip *y);
/* *ip += n (n < 0 steps back): next is +1, prev -1. -1, *ip unchanged,
 * when the result would leave the family's range (past 255.255.255.255,
 * below ::). */
int lk_ip_add(struct lk_ip *ip, int64_t n);

/* IPv4 as a host-order number: text that is IPv4 (IPv6, mapped or not, is
 * refused) into *out; the text of v into buf (LK_IP4_STRLEN). */
int lk_ip4_parse(const char *s, uint32_t *out);
const char *lk_ip4_format(uint32_t v, char *buf);
struct lk_ip lk_ip4(uint32_t v);
uint32_t lk_ip4_value(const struct lk_ip *ip);  /* 0 unless IPv4 */
/* The netmask of a prefix length 0..32, host order: 24 -> 0xffffff00. */
uint32_t lk_ip4_mask(int bits);

/* Socket addresses. lk_ip_sockaddr fills *ss (zeroed first) with ip and
 * port (host order) and returns its length, 0 when ip has no family.
 * lk_ip_from_sockaddr reads an AF_INET or AF_INET6 one (port may be
 * NULL); -1 for other families. */
socklen_t lk_ip_sockaddr(const struct lk_ip *ip, uint16_t port,
			 struct sockaddr_storage *ss);
int lk_ip_from_sockaddr(const struct sockaddr *sa, struct lk_ip *ip,
			uint16_t *port);

/* ---- prefixes ---- */

enum {
	LK_CIDR_STRICT = 1 << 0, /* refuse host bits ("10.0.0.1/24"): the
				  * error names the network */
	LK_CIDR_ADDR = 1 << 1,   /* a bare address is a /32 or /128 */
};
int lk_cidr_parse(const char *s, unsigned flags, struct lk_cidr *out,
		  struct lk_err *err);
/* "ADDRESS/BITS" into buf (LK_CIDR_STRLEN), returned; host bits shown. */
const char *lk_cidr_format(const struct lk_cidr *c, char *buf);
/* c with its host bits cleared: 10.1.2.3/8 -> 10.0.0.0/8. */
struct lk_cidr lk_cidr_masked(const struct lk_cidr *c);
/* ip is in c: same family, same first c->bits bits (c's host bits do not
 * matter). */
bool lk_cidr_contains(const struct lk_cidr *c, const struct lk_ip *ip);
/* Addresses in c, network and broadcast included: 2^(max - bits); for an
 * IPv6 prefix of 64 host bits or more, UINT64_MAX. */
uint64_t lk_cidr_size(const struct lk_cidr *c);
/*
 * Addresses by number, counted from the network address (index 0): nth
 * puts network + n into *out, -1 when n is past c's end; offset is the
 * reverse, -1 when ip is not in c (or, IPv6, its offset is 2^64 or more).
 * To walk c: for (uint64_t i = 0; i < lk_cidr_size(&c); i++)
 * lk_cidr_nth(&c, i, &ip), or start at lk_cidr_nth(&c, 0, &ip) and step
 * with lk_cidr_next(&c, &ip), which is false (ip unchanged) at c's last
 * address or when ip is not in c.
 */
int lk_cidr_nth(const struct lk_cidr *c, uint64_t n, struct lk_ip *out);
int lk_cidr_offset(const struct lk_cidr *c, const struct lk_ip *ip, uint64_t *out);
bool lk_cidr_next(const struct lk_cidr *c, struct lk_ip *ip);

#endif
