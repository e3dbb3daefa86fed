/*
 * dns/cache.c: the forwarder's answer cache (see dns_internal.h).
 *
 * Raw upstream responses keyed by (lower-case name, qtype, qclass, DO bit),
 * kept for their smallest TTL capped at an hour, negative answers for their
 * SOA minimum capped at five minutes (RFC 2308 section 5); SERVFAIL and
 * truncated answers are never kept. A hash table with chaining for lookup,
 * a doubly linked list for least-recently-used eviction, bounded by entry
 * count and total bytes. Pure: time comes in as an argument.
 */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "dns/dns_internal.h"

struct centry {
	struct centry *hnext;           /* bucket chain */
	struct centry *prev, *next;     /* LRU: head is the most recent */
	uint32_t hash;
	uint16_t qtype, qclass;
	bool dnssec_ok;
	uint64_t stored_ms, expire_ms;
	size_t len;
	char *name;
	uint8_t *pkt;
};

struct dns_cache {
	struct centry **b;
	size_t nb;
	struct centry *head, *tail;
	size_t n, bytes, max_n, max_bytes;
};

static size_t entry_cost(const struct centry *e)
{
	return sizeof(*e) + e->len + strlen(e->name) + 1;
}

struct dns_cache *dnscache_new(size_t max_entries, size_t max_bytes)
{
	struct dns_cache *c = xcalloc(1, sizeof(*c));
	c->nb = 64;
	while (c->nb < max_entries)
		c->nb <<= 1;
	c->b = xcalloc(c->nb, sizeof(*c->b));
	c->max_n = max_entries ? max_entries : 1;
	c->max_bytes = max_bytes;
	return c;
}

static void lru_unlink(struct dns_cache *c, struct centry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = NULL;
}

static void lru_push(struct dns_cache *c, struct centry *e)
{
	e->prev = NULL;
	e->next = c->head;
	if (c->head)
		c->head->prev = e;
	c->head = e;
	if (!c->tail)
		c->tail = e;
}

static void entry_remove(struct dns_cache *c, struct centry *e)
{
	struct centry **pp = &c->b[e->hash & (c->nb - 1)];
	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	lru_unlink(c, e);
	c->n--;
	c->bytes -= entry_cost(e);
	free(e->name);
	free(e->pkt);
	free(e);
}

void dnscache_free(struct dns_cache *c)
{
	if (!c)
		return;
	while (c->head)
		entry_remove(c, c->head);
	free(c->b);
	free(c);
}

static struct centry *lookup(const struct dns_cache *c, const struct dns_query *q, uint32_t h)
{
	for (struct centry *e = c->b[h & (c->nb - 1)]; e; e = e->hnext)
		if (e->hash == h && dnsq_match(q, e->name, e->qtype, e->qclass, e->dnssec_ok))
			return e;
	return NULL;
}

uint32_t dnscache_ttl(const uint8_t *pkt, size_t len, uint16_t rcode, bool tc, uint32_t min_ttl)
{
	if (tc || len < DNS_HDR_LEN)
		return 0;
	unsigned ancount = (unsigned)pkt[6] << 8 | pkt[7];
	if (rcode == DNS_R_NOERROR && ancount > 0)
		return min_ttl < DNSCACHE_MAX_TTL ? min_ttl : DNSCACHE_MAX_TTL;
	if (rcode == DNS_R_NOERROR || rcode == DNS_R_NXDOMAIN)
		return min_ttl < DNSCACHE_NEG_TTL ? min_ttl : DNSCACHE_NEG_TTL;
	return 0;
}

void dnscache_put(struct dns_cache *c, const struct dns_query *q, const uint8_t *pkt, size_t len,
		  uint32_t ttl, uint64_t now_ms)
{
	uint32_t h = dnsq_hash(q);
	struct centry *e = lookup(c, q, h);
	if (e)
		entry_remove(c, e);
	if (!ttl || len < DNS_HDR_LEN)
		return;
	e = xcalloc(1, sizeof(*e));
	e->hash = h;
	e->qtype = q->qtype;
	e->qclass = q->qclass;
	e->dnssec_ok = q->dnssec_ok;
	e->stored_ms = now_ms;
	e->expire_ms = now_ms + (uint64_t)ttl * 1000;
	e->len = len;
	e->name = xstrdup(q->name);
	e->pkt = xmalloc(len);
	memcpy(e->pkt, pkt, len);
	if (entry_cost(e) > c->max_bytes) {
		free(e->name);
		free(e->pkt);
		free(e);
		return;
	}
	while (c->tail && (c->n + 1 > c->max_n || c->bytes + entry_cost(e) > c->max_bytes))
		entry_remove(c, c->tail);
	e->hnext = c->b[h & (c->nb - 1)];
	c->b[h & (c->nb - 1)] = e;
	lru_push(c, e);
	c->n++;
	c->bytes += entry_cost(e);
}

size_t dnscache_get(struct dns_cache *c, const struct dns_query *q, uint16_t id, uint64_t now_ms,
		    uint8_t *buf, size_t cap)
{
	struct centry *e = lookup(c, q, dnsq_hash(q));
	if (!e)
		return 0;
	if (now_ms >= e->expire_ms) {
		entry_remove(c, e);
		return 0;
	}
	if (e->len > cap)
		return 0;
	memcpy(buf, e->pkt, e->len);
	uint64_t age = now_ms > e->stored_ms ? (now_ms - e->stored_ms) / 1000 : 0;
	if (dnswire_age(buf, e->len, id, (uint32_t)age) < 0) {
		entry_remove(c, e);
		return 0;
	}
	lru_unlink(c, e);
	lru_push(c, e);
	return e->len;
}

size_t dnscache_count(const struct dns_cache *c)
{
	return c->n;
}

size_t dnscache_bytes(const struct dns_cache *c)
{
	return c->bytes;
}
