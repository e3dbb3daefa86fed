/*
 * common/ip.c: addresses and prefixes (see ip.h). Addresses are big-endian
 * byte strings of 4 or 16 bytes; arithmetic is done a byte at a time with a
 * carry, so IPv4 and IPv6 share one path.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "common/ip.h"

static int len_of(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

int lk_ip_parse(const char *s, struct lk_ip *out, struct lk_err *err)
{
	memset(out, 0, sizeof(*out));
	if (s && inet_pton(AF_INET, s, out->a) == 1) {
		out->family = AF_INET;
		return 0;
	}
	if (s && inet_pton(AF_INET6, s, out->a) == 1) {
		out->family = AF_INET6;
		return 0;
	}
	memset(out, 0, sizeof(*out));
	return lk_error(err, LK_EBADREQUEST, "'%s' is not an IP address", s ? s : "");
}

/* inet_ntop's text is RFC 5952's and netip's but for IPv4-compatible
 * addresses (::/96, deprecated by RFC 4291): glibc writes "::1.2.3.4",
 * netip "::102:304". */
const char *lk_ip_format(const struct lk_ip *ip, char *buf)
{
	const uint8_t *a = ip->a;
	if (ip->family == AF_INET6 && !memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0", 12) &&
	    (a[12] || a[13])) {
		snprintf(buf, LK_IP_STRLEN, "::%x:%x", a[12] << 8 | a[13], a[14] << 8 | a[15]);
		return buf;
	}
	if (!len_of(ip->family) || !inet_ntop(ip->family, ip->a, buf, LK_IP_STRLEN))
		snprintf(buf, LK_IP_STRLEN, "invalid IP");
	return buf;
}

int lk_ip_bits(const struct lk_ip *ip)
{
	return len_of(ip->family) * 8;
}

bool lk_ip_is4in6(const struct lk_ip *ip)
{
	return ip->family == AF_INET6 &&
	       !memcmp(ip->a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);
}

struct lk_ip lk_ip_unmap(const struct lk_ip *ip)
{
	struct lk_ip v = *ip;
	if (lk_ip_is4in6(ip)) {
		memset(&v, 0, sizeof(v));
		v.family = AF_INET;
		memcpy(v.a, ip->a + 12, 4);
	}
	return v;
}

int lk_ip_cmp(const struct lk_ip *x, const struct lk_ip *y)
{
	if (x->family != y->family)
		return lk_ip_bits(x) < lk_ip_bits(y) ? -1 : 1;
	return memcmp(x->a, y->a, sizeof(x->a));
}

/* a[0..len) +/- mag, big-endian; -1 (a unchanged) past either end. */
static int add_bytes(uint8_t *a, int len, uint64_t mag, bool neg)
{
	uint8_t r[16];
	unsigned carry = 0;

	for (int i = len - 1; i >= 0; i--) {
		unsigned d = (unsigned)(mag & 0xff) + carry;
		int v = neg ? (int)a[i] - (int)d : (int)a[i] + (int)d;
		mag >>= 8;
		carry = v < 0 || v > 255;
		r[i] = (uint8_t)(v & 0xff);
	}
	if (carry || mag)
		return -1;
	memcpy(a, r, (size_t)len);
	return 0;
}

int lk_ip_add(struct lk_ip *ip, int64_t n)
{
	uint64_t mag = n < 0 ? (uint64_t)0 - (uint64_t)n : (uint64_t)n;
	int len = len_of(ip->family);
	return len ? add_bytes(ip->a, len, mag, n < 0) : -1;
}

/* ---- IPv4 as a number ---- */

struct lk_ip lk_ip4(uint32_t v)
{
	struct lk_ip ip = { .family = AF_INET };
	ip.a[0] = (uint8_t)(v >> 24);
	ip.a[1] = (uint8_t)(v >> 16);
	ip.a[2] = (uint8_t)(v >> 8);
	ip.a[3] = (uint8_t)v;
	return ip;
}

uint32_t lk_ip4_value(const struct lk_ip *ip)
{
	if (ip->family != AF_INET)
		return 0;
	return (uint32_t)ip->a[0] << 24 | (uint32_t)ip->a[1] << 16 |
	       (uint32_t)ip->a[2] << 8 | ip->a[3];
}

int lk_ip4_parse(const char *s, uint32_t *out)
{
	struct lk_ip ip;
	if (lk_ip_parse(s, &ip, NULL) < 0 || ip.family != AF_INET)
		return -1;
	*out = lk_ip4_value(&ip);
	return 0;
}

const char *lk_ip4_format(uint32_t v, char *buf)
{
	snprintf(buf, LK_IP4_STRLEN, "%u.%u.%u.%u", v >> 24, (v >> 16) & 255, (v >> 8) & 255,
		 v & 255);
	return buf;
}

uint32_t lk_ip4_mask(int bits)
{
	if (bits <= 0)
		return 0;
	return bits >= 32 ? 0xffffffffu : ~(0xffffffffu >> bits);
}

/* ---- socket addresses ---- */

socklen_t lk_ip_sockaddr(const struct lk_ip *ip, uint16_t port,
			 struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (ip->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, ip->a, 4);
		return sizeof(*s4);
	}
	if (ip->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, ip->a, 16);
		return sizeof(*s6);
	}
	return 0;
}

int lk_ip_from_sockaddr(const struct sockaddr *sa, struct lk_ip *ip, uint16_t *port)
{
	memset(ip, 0, sizeof(*ip));
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		ip->family = AF_INET;
		memcpy(ip->a, &s4->sin_addr, 4);
		if (port)
			*port = ntohs(s4->sin_port);
		return 0;
	}
	if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		ip->family = AF_INET6;
		memcpy(ip->a, &s6->sin6_addr, 16);
		if (port)
			*port = ntohs(s6->sin6_port);
		return 0;
	}
	return -1;
}

/* ---- prefixes ---- */

/* BITS of a CIDR: decimal, no sign, no leading zero, at most max. */
static int parse_bits(const char *s, int max)
{
	int v = 0;
	if (!*s || (s[0] == '0' && s[1]))
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > max)
			return -1;
	}
	return v;
}

int lk_cidr_parse(const char *s, unsigned flags, struct lk_cidr *out,
		  struct lk_err *err)
{
	const char *in = s ? s : "", *slash = strchr(in, '/');
	size_t alen = slash ? (size_t)(slash - in) : strlen(in);
	char addr[LK_IP_STRLEN], net[LK_CIDR_STRLEN];
	struct lk_cidr m;

	memset(out, 0, sizeof(*out));
	if (!slash && !(flags & LK_CIDR_ADDR))
		return lk_error(err, LK_EBADREQUEST, "invalid CIDR '%s': want ADDRESS/BITS", in);
	if (alen < sizeof(addr)) {
		memcpy(addr, in, alen);
		addr[alen] = '\0';
	}
	if (alen >= sizeof(addr) || lk_ip_parse(addr, &out->ip, NULL) < 0)
		return lk_error(err, LK_EBADREQUEST, "invalid CIDR '%s': '%.*s' is not an IP address",
				in, (int)alen, in);
	out->bits = slash ? parse_bits(slash + 1, lk_ip_bits(&out->ip)) : lk_ip_bits(&out->ip);
	if (out->bits < 0) {
		int max = lk_ip_bits(&out->ip);
		memset(out, 0, sizeof(*out));
		return lk_error(err, LK_EBADREQUEST,
				"invalid CIDR '%s': bad prefix length '%s' (want 0 to %d)", in,
				slash + 1, max);
	}
	m = lk_cidr_masked(out);
	if ((flags & LK_CIDR_STRICT) && memcmp(&m, out, sizeof(m))) {
		lk_cidr_format(&m, net);
		memset(out, 0, sizeof(*out));
		return lk_error(err, LK_EBADREQUEST,
				"invalid CIDR '%s': host bits are set (the network is %s)", in, net);
	}
	return 0;
}

const char *lk_cidr_format(const struct lk_cidr *c, char *buf)
{
	char ip[LK_IP_STRLEN];
	snprintf(buf, LK_CIDR_STRLEN, "%s/%d", lk_ip_format(&c->ip, ip), c->bits);
	return buf;
}

/* Byte i of the netmask of bits. */
static uint8_t mask_byte(int bits, int i)
{
	int left = bits - i * 8;
	return left >= 8 ? 0xff : left <= 0 ? 0 : (uint8_t)(0xff00 >> left);
}

struct lk_cidr lk_cidr_masked(const struct lk_cidr *c)
{
	struct lk_cidr m = *c;
	for (int i = 0; i < 16; i++)
		m.ip.a[i] &= mask_byte(c->bits, i);
	return m;
}

bool lk_cidr_contains(const struct lk_cidr *c, const struct lk_ip *ip)
{
	if (!len_of(c->ip.family) || ip->family != c->ip.family ||
	    c->bits < 0 || c->bits > lk_ip_bits(ip))
		return false;
	for (int i = 0; i < 16; i++)
		if ((c->ip.a[i] ^ ip->a[i]) & mask_byte(c->bits, i))
			return false;
	return true;
}

uint64_t lk_cidr_size(const struct lk_cidr *c)
{
	int host = lk_ip_bits(&c->ip) - c->bits;
	if (!len_of(c->ip.family) || host < 0)
		return 0;
	return host >= 64 ? UINT64_MAX : (uint64_t)1 << host;
}

int lk_cidr_nth(const struct lk_cidr *c, uint64_t n, struct lk_ip *out)
{
	int host = lk_ip_bits(&c->ip) - c->bits;
	struct lk_ip ip = lk_cidr_masked(c).ip;

	if (!len_of(c->ip.family) || host < 0 || (host < 64 && n >> host))
		return -1;
	if (add_bytes(ip.a, len_of(ip.family), n, false) < 0)
		return -1;
	*out = ip;
	return 0;
}

int lk_cidr_offset(const struct lk_cidr *c, const struct lk_ip *ip, uint64_t *out)
{
	int len = len_of(ip->family);
	uint64_t v = 0;

	if (!lk_cidr_contains(c, ip))
		return -1;
	for (int i = 0; i < len; i++) {
		uint8_t b = ip->a[i] & (uint8_t)~mask_byte(c->bits, i);
		if (i < len - 8 && b)
			return -1;      /* 2^64 or more */
		v = v << 8 | b;
	}
	*out = v;
	return 0;
}

bool lk_cidr_next(const struct lk_cidr *c, struct lk_ip *ip)
{
	struct lk_ip n = *ip;
	if (!lk_cidr_contains(c, ip) || lk_ip_add(&n, 1) < 0 || !lk_cidr_contains(c, &n))
		return false;
	*ip = n;
	return true;
}
