/*
 * dns/relay.c: small pure helpers of the DNS component (see
 * dns_internal.h): names to wire form, zone membership, and turning an
 * upstream response into the client's answer (its id and RD bit, no OPT
 * for a client that sent none, RFC 6891 section 7; a TC answer when too
 * big for it, RFC 1035 section 4.2.1).
 */
#include <string.h>
#include <strings.h>

#include "dns/dns_internal.h"

size_t dns_name_to_wire(const char *name, uint8_t *out, size_t cap)
{
	size_t n = 0;
	const char *p = name;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		if (l == 0 || l > 63 || n + 1 + l + 1 > cap || n + 1 + l + 1 > 255)
			return 0;
		out[n++] = (uint8_t)l;
		memcpy(out + n, p, l);
		n += l;
		p += l;
		if (*p == '.' && !*++p)
			break;
	}
	if (n + 1 > cap)
		return 0;
	out[n++] = 0;
	return n;
}

bool dns_name_in(const char *name, const char *domain)
{
	size_t nl = strlen(name), dl = strlen(domain);
	if (!dl)
		return true;
	if (nl < dl || strcasecmp(name + nl - dl, domain))
		return false;
	return nl == dl || name[nl - dl - 1] == '.';
}

size_t dns_tc_reply(const struct dns_query *q, uint16_t rcode, uint8_t *buf, size_t cap)
{
	struct dns_answer a;
	dns_answer_init(&a);
	a.rcode = rcode;
	size_t n = dnswire_encode(q, &a, buf, cap);
	dns_answer_release(&a);
	if (n >= DNS_HDR_LEN)
		buf[2] |= DNS_F_TC >> 8;
	return n;
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
