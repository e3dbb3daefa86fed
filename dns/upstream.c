/*
 * dns/upstream.c: addresses for the DNS component (see dns_internal.h):
 * "IP[:PORT]" lists from the flags, the nameserver lines of resolv.conf
 * (resolv.conf(5); only "nameserver", other options are the stub
 * resolver's business), and the loop guard that drops our own listeners
 * and the cluster DNS address from the upstreams. Pure, no name lookups.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ip.h"
#include "common/util.h"
#include "dns/dns_internal.h"

/* ip:port into out: the socket address and its text. */
static void set_addr(const struct lk_ip *ip, uint16_t port, struct dns_addr *out)
{
	char t[LK_IP_STRLEN];
	memset(out, 0, sizeof(*out));
	out->len = lk_ip_sockaddr(ip, port, &out->sa);
	lk_ip_format(ip, t);
	if (ip->family == AF_INET6)
		snprintf(out->text, sizeof(out->text), "[%s]:%u", t, port);
	else
		snprintf(out->text, sizeof(out->text), "%s:%u", t, port);
}

static int parse_addr(const char *s, uint16_t port, struct dns_addr *out)
{
	struct lk_ip ip;
	if (lk_ip_parse(s, &ip, NULL) < 0)
		return -1;
	set_addr(&ip, port, out);
	return 0;
}

static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	if (!*s)
		return -1;
	long v = strtol(s, &end, 10);
	if (*end || v < 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

int dnsaddr_parse(const char *s, uint16_t defport, struct dns_addr *out)
{
	char ip[64];
	uint16_t port = defport;
	const char *colon = strchr(s, ':');

	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || (size_t)(close - s - 1) >= sizeof(ip))
			return -1;
		memcpy(ip, s + 1, (size_t)(close - s - 1));
		ip[close - s - 1] = '\0';
		if (close[1] && (close[1] != ':' || parse_port(close + 2, &port) < 0))
			return -1;
	} else if (colon && !strchr(colon + 1, ':')) {
		if ((size_t)(colon - s) >= sizeof(ip) || parse_port(colon + 1, &port) < 0)
			return -1;
		memcpy(ip, s, (size_t)(colon - s));
		ip[colon - s] = '\0';
	} else {
		size_t n = strlen(s);
		if (n >= sizeof(ip))
			return -1;
		memcpy(ip, s, n + 1);
	}
	return parse_addr(ip, port, out);
}

int dnsaddr_parse_list(const char *list, uint16_t defport, struct dns_addr *out, int max,
		       char *bad)
{
	char *copy = xstrdup(list ? list : ""), *save = NULL;
	int n = 0, rc = 0;
	for (char *tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		if (n >= max)
			break;
		if (dnsaddr_parse(tok, defport, &out[n]) < 0) {
			snprintf(bad, 128, "%s", tok);
			rc = -1;
			break;
		}
		n++;
	}
	free(copy);
	return rc < 0 ? -1 : n;
}

int dnsaddr_resolvconf(const char *text, struct dns_addr *out, int max)
{
	int n = 0;
	const char *p = text;
	while (p && *p && n < max) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char line[256], word[32], ip[128];
		if (len < sizeof(line)) {
			memcpy(line, p, len);
			line[len] = '\0';
			if (sscanf(line, " %31s %127s", word, ip) == 2 &&
			    !strcmp(word, "nameserver") && !strchr(ip, '%') &&
			    parse_addr(ip, 53, &out[n]) == 0)
				n++;
		}
		p = eol ? eol + 1 : NULL;
	}
	return n;
}

static uint16_t addr_port(const struct dns_addr *a)
{
	struct lk_ip ip;
	uint16_t port = 0;
	lk_ip_from_sockaddr((const struct sockaddr *)&a->sa, &ip, &port);
	return port;
}

static bool same_ip(const struct dns_addr *a, const struct dns_addr *b)
{
	struct lk_ip x, y;
	lk_ip_from_sockaddr((const struct sockaddr *)&a->sa, &x, NULL);
	lk_ip_from_sockaddr((const struct sockaddr *)&b->sa, &y, NULL);
	return !lk_ip_cmp(&x, &y);
}

bool dnsaddr_equal(const struct dns_addr *a, const struct dns_addr *b)
{
	return same_ip(a, b) && addr_port(a) == addr_port(b);
}

int dnsaddr_filter(struct dns_addr *list, int n, const struct dns_addr *skip, int nskip)
{
	int out = 0;
	for (int i = 0; i < n; i++) {
		bool drop = false;
		for (int j = 0; j < nskip && !drop; j++)
			drop = same_ip(&list[i], &skip[j]) &&
			       (!addr_port(&skip[j]) || addr_port(&skip[j]) == addr_port(&list[i]));
		if (!drop)
			list[out++] = list[i];
	}
	return out;
}

int dnsaddr_cidr_first(const char *cidr, uint16_t port, struct dns_addr *out)
{
	struct lk_cidr c;
	if (lk_cidr_parse(cidr, LK_CIDR_ADDR, &c, NULL) < 0 || c.ip.family != AF_INET ||
	    lk_ip_add(&c.ip, 1) < 0)
		return -1;
	set_addr(&c.ip, port, out);
	return 0;
}
