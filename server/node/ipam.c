/*
 * server/node/ipam.c: the pod IP allocator over the pod CIDR (pure).
 *
 * A bitmap over the range. The network address, the gateway (the bridge's
 * address, the first host) and the broadcast address are never handed out.
 * Allocation is round robin from the last address given, like CNI's
 * host-local IPAM, so a just-freed address is not reused at once. What is
 * in use is rebuilt at start from the pods (their directories and
 * status.podIP): the bitmap itself is not stored.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/node/node_internal.h"

int ip_parse(const char *s, uint32_t *out)
{
	struct in_addr a;
	if (!s || inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*out = ntohl(a.s_addr);
	return 0;
}

const char *ip_str(uint32_t ip, char *buf)
{
	snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255,
		 ip & 255);
	return buf;
}

int ipam_init(struct ipam *a, const char *cidr, struct lk_err *err)
{
	char host[32];
	const char *slash = strchr(cidr ? cidr : "", '/');
	uint32_t ip;
	int prefix;

	memset(a, 0, sizeof(*a));
	if (!slash || (size_t)(slash - cidr) >= sizeof(host))
		return lk_error(err, LK_EINVALID, "bad pod CIDR '%s': want ADDR/PREFIX", cidr);
	memcpy(host, cidr, (size_t)(slash - cidr));
	host[slash - cidr] = 0;
	prefix = atoi(slash + 1);
	if (ip_parse(host, &ip) < 0 || prefix < 8 || prefix > 30)
		return lk_error(err, LK_EINVALID,
				"bad pod CIDR '%s': want an IPv4 range from /8 to /30", cidr);
	a->prefix = prefix;
	a->size = 1u << (32 - prefix);
	a->base = ip & ~(a->size - 1);
	a->bits = xcalloc(a->size / 8 + 1, 1);
	a->bits[0] |= 3;                                   /* network, gateway */
	a->bits[(a->size - 1) / 8] |= (uint8_t)(1u << ((a->size - 1) % 8)); /* broadcast */
	a->next = 1;
	return 0;
}

void ipam_release_all(struct ipam *a)
{
	free(a->bits);
	a->bits = NULL;
}

uint32_t ipam_gateway(const struct ipam *a)
{
	return a->base + 1;
}

bool ipam_contains(const struct ipam *a, uint32_t ip)
{
	return a->bits && ip >= a->base && ip - a->base < a->size;
}

bool ipam_used(const struct ipam *a, uint32_t ip)
{
	uint32_t off = ip - a->base;
	if (!ipam_contains(a, ip))
		return false;
	return a->bits[off / 8] & (1u << (off % 8));
}

int ipam_reserve(struct ipam *a, uint32_t ip)
{
	uint32_t off = ip - a->base;
	if (!ipam_contains(a, ip))
		return -1;
	a->bits[off / 8] |= (uint8_t)(1u << (off % 8));
	return 0;
}

int ipam_alloc(struct ipam *a, uint32_t *out)
{
	for (uint32_t i = 1; i <= a->size; i++) {
		uint32_t off = (a->next + i) % a->size;
		if (a->bits[off / 8] & (1u << (off % 8)))
			continue;
		a->bits[off / 8] |= (uint8_t)(1u << (off % 8));
		a->next = off;
		*out = a->base + off;
		return 0;
	}
	return -1;
}

void ipam_free(struct ipam *a, uint32_t ip)
{
	uint32_t off = ip - a->base;
	if (!ipam_contains(a, ip) || off <= 1 || off == a->size - 1)
		return;
	a->bits[off / 8] &= (uint8_t)~(1u << (off % 8));
}
