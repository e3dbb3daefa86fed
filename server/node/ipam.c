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
#include <stdlib.h>
#include <string.h>

#include "server/node/node_internal.h"

int ipam_init(struct ipam *a, const char *cidr, struct lk_err *err)
{
	struct lk_cidr c;

	memset(a, 0, sizeof(*a));
	if (!strchr(cidr ? cidr : "", '/'))
		return lk_error(err, LK_EINVALID, "bad pod CIDR '%s': want ADDR/PREFIX", cidr);
	if (lk_cidr_parse(cidr, 0, &c, NULL) < 0 || c.ip.family != AF_INET || c.bits < 8 ||
	    c.bits > 30)
		return lk_error(err, LK_EINVALID,
				"bad pod CIDR '%s': want an IPv4 range from /8 to /30", cidr);
	c = lk_cidr_masked(&c);
	a->prefix = c.bits;
	a->size = (uint32_t)lk_cidr_size(&c);
	a->base = lk_ip4_value(&c.ip);
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
