/*
 * server/resources/svcalloc.c: cluster IP and node port allocators (see
 * svcalloc.h): two bitmaps with a static/dynamic band split, a journal for
 * the transaction around one write, and the rebuild from the store.
 * Upstream: pkg/registry/core/service/{ipallocator,portallocator,
 * allocator/bitmap.go} and the repair controllers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ip.h"
#include "common/json.h"
#include "common/util.h"
#include "server/resources/svcalloc.h"
#include "server/store/store.h"

/* Values base .. base+size-1; the first `offset` are the static band. */
struct range {
	uint32_t base, size, offset, used;
	uint8_t *bits;
};

enum op_kind { OP_IP_TAKEN, OP_PORT_TAKEN, OP_IP_RELEASE, OP_PORT_RELEASE };

struct op {
	enum op_kind kind;
	uint32_t v;
};

struct svcalloc {
	struct range ip, port;
	char cidr[64], ports[48];
	bool txn;
	struct op *ops;         /* the open transaction's journal */
	size_t nops, aops;
};

/* ---- bitmap ---- */

static void range_init(struct range *r, uint32_t base, uint32_t size, uint32_t offset)
{
	free(r->bits);
	r->base = base;
	r->size = size;
	r->offset = offset;
	r->used = 0;
	r->bits = xcalloc(size / 8 + 1, 1);
}

static bool bit(const struct range *r, uint32_t i)
{
	return r->bits[i / 8] & (1u << (i % 8));
}

static void bit_set(struct range *r, uint32_t i, bool on)
{
	if (bit(r, i) == on)
		return;
	r->bits[i / 8] ^= (uint8_t)(1u << (i % 8));
	r->used += on ? 1 : (uint32_t)-1;
}

static int range_take(struct range *r, uint32_t v)
{
	if (v < r->base || v - r->base >= r->size)
		return SA_RANGE;
	if (bit(r, v - r->base))
		return SA_TAKEN;
	bit_set(r, v - r->base, true);
	return SA_OK;
}

/* A free index in [lo, hi) from a random start, scanning up with wrap. */
static bool scan(const struct range *r, uint32_t lo, uint32_t hi, uint32_t *out)
{
	uint32_t n = hi - lo, start;
	if (!n)
		return false;
	start = lk_random_u32() % n;
	for (uint32_t k = 0; k < n; k++) {
		uint32_t i = lo + (start + k) % n;
		if (!bit(r, i)) {
			*out = i;
			return true;
		}
	}
	return false;
}

/* randomScanStrategyWithOffset: the upper band first, then the static one. */
static int range_next(struct range *r, uint32_t *v)
{
	uint32_t i;
	if (r->used >= r->size)
		return SA_FULL;
	if (!scan(r, r->offset, r->size, &i) && !scan(r, 0, r->offset, &i))
		return SA_FULL;
	bit_set(r, i, true);
	*v = r->base + i;
	return SA_OK;
}

static void range_release(struct range *r, uint32_t v)
{
	if (v >= r->base && v - r->base < r->size)
		bit_set(r, v - r->base, false);
}

static bool range_used(const struct range *r, uint32_t v)
{
	return v >= r->base && v - r->base < r->size && bit(r, v - r->base);
}

/* ---- configuration ---- */

/* calculateRangeOffset of the ip and port allocators. */
static uint32_t band(uint32_t size, uint32_t div, uint32_t max)
{
	uint32_t o = size / div;
	if (div == 16 && size <= 16)
		return 0;
	o = o < 16 ? 16 : o;
	o = o > max ? max : o;
	return o > size ? size : o;
}

struct svcalloc *svcalloc_new(const char *cidr, const char *ports, struct lk_err *err)
{
	struct svcalloc *sa;
	struct lk_cidr c;
	uint32_t net, size;
	long lo, hi;
	char *end;
	cidr = cidr ? cidr : SVCALLOC_DEFAULT_CIDR;
	ports = ports ? ports : SVCALLOC_DEFAULT_PORTS;
	if (lk_cidr_parse(cidr, 0, &c, NULL) < 0 || c.ip.family != AF_INET || c.bits < 1 ||
	    c.bits > 30) {
		lk_error(err, LK_EBADREQUEST, "invalid service CIDR '%s'", cidr);
		return NULL;
	}
	c = lk_cidr_masked(&c);
	net = lk_ip4_value(&c.ip);
	size = (uint32_t)lk_cidr_size(&c);
	lo = strtol(ports, &end, 10);
	hi = *end == '-' ? strtol(end + 1, &end, 10) : -1;
	if (*end || lo < 1 || hi > 65535 || hi < lo) {
		lk_error(err, LK_EBADREQUEST, "invalid node port range '%s'", ports);
		return NULL;
	}
	sa = xcalloc(1, sizeof(*sa));
	/* The bitmap covers base+1 .. broadcast-1; offset from the full size. */
	range_init(&sa->ip, net + 1, size - 2, band(size, 16, 256));
	range_init(&sa->port, (uint32_t)lo, (uint32_t)(hi - lo + 1),
		   band((uint32_t)(hi - lo + 1), 32, 128));
	snprintf(sa->cidr, sizeof(sa->cidr), "%s", cidr);
	snprintf(sa->ports, sizeof(sa->ports), "%ld-%ld", lo, hi);
	return sa;
}

void svcalloc_free(struct svcalloc *sa)
{
	if (!sa)
		return;
	free(sa->ip.bits);
	free(sa->port.bits);
	free(sa->ops);
	free(sa);
}

const char *svcalloc_cidr(const struct svcalloc *sa)
{
	return sa->cidr;
}

const char *svcalloc_port_range(const struct svcalloc *sa)
{
	return sa->ports;
}

/* ---- journal ---- */

static void journal(struct svcalloc *sa, enum op_kind kind, uint32_t v)
{
	if (!sa->txn)
		return;
	if (sa->nops == sa->aops) {
		sa->aops = sa->aops ? 2 * sa->aops : 16;
		sa->ops = xrealloc(sa->ops, sa->aops * sizeof(*sa->ops));
	}
	sa->ops[sa->nops++] = (struct op){ kind, v };
}

void svcalloc_txn_begin(struct svcalloc *sa)
{
	sa->txn = true;
	sa->nops = 0;
}

void svcalloc_txn_commit(struct svcalloc *sa)
{
	for (size_t i = 0; i < sa->nops; i++) {
		if (sa->ops[i].kind == OP_IP_RELEASE)
			range_release(&sa->ip, sa->ops[i].v);
		else if (sa->ops[i].kind == OP_PORT_RELEASE)
			range_release(&sa->port, sa->ops[i].v);
	}
	sa->nops = 0;
	sa->txn = false;
}

void svcalloc_txn_revert(struct svcalloc *sa)
{
	for (size_t i = sa->nops; i-- > 0;) {
		if (sa->ops[i].kind == OP_IP_TAKEN)
			range_release(&sa->ip, sa->ops[i].v);
		else if (sa->ops[i].kind == OP_PORT_TAKEN)
			range_release(&sa->port, sa->ops[i].v);
	}
	sa->nops = 0;
	sa->txn = false;
}

/* ---- cluster IPs ---- */

int svcalloc_ip_take(struct svcalloc *sa, const char *ip)
{
	uint32_t v;
	int rc;
	if (lk_ip4_parse(ip, &v) < 0)
		return SA_RANGE;
	rc = range_take(&sa->ip, v);
	if (rc == SA_OK)
		journal(sa, OP_IP_TAKEN, v);
	return rc;
}

int svcalloc_ip_next(struct svcalloc *sa, char *out)
{
	uint32_t v;
	int rc;
	rc = range_next(&sa->ip, &v);
	if (rc != SA_OK)
		return rc;
	journal(sa, OP_IP_TAKEN, v);
	lk_ip4_format(v, out);
	return SA_OK;
}

void svcalloc_ip_release(struct svcalloc *sa, const char *ip)
{
	uint32_t v;
	if (lk_ip4_parse(ip, &v) < 0)
		return;
	if (sa->txn)
		journal(sa, OP_IP_RELEASE, v);
	else
		range_release(&sa->ip, v);
}

bool svcalloc_ip_used(const struct svcalloc *sa, const char *ip)
{
	uint32_t v;
	return lk_ip4_parse(ip, &v) == 0 && range_used(&sa->ip, v);
}

uint32_t svcalloc_ip_free(const struct svcalloc *sa)
{
	return sa->ip.size - sa->ip.used;
}

/* ---- node ports ---- */

int svcalloc_port_take(struct svcalloc *sa, long port)
{
	int rc;
	if (port < 1 || port > 65535)
		return SA_RANGE;
	rc = range_take(&sa->port, (uint32_t)port);
	if (rc == SA_OK)
		journal(sa, OP_PORT_TAKEN, (uint32_t)port);
	return rc;
}

int svcalloc_port_next(struct svcalloc *sa, long *out)
{
	uint32_t v;
	int rc;
	rc = range_next(&sa->port, &v);
	if (rc != SA_OK)
		return rc;
	journal(sa, OP_PORT_TAKEN, v);
	*out = v;
	return SA_OK;
}

void svcalloc_port_release(struct svcalloc *sa, long port)
{
	if (port < 1 || port > 65535)
		return;
	if (sa->txn)
		journal(sa, OP_PORT_RELEASE, (uint32_t)port);
	else
		range_release(&sa->port, (uint32_t)port);
}

bool svcalloc_port_used(const struct svcalloc *sa, long port)
{
	return port > 0 && port <= 65535 && range_used(&sa->port, (uint32_t)port);
}

uint32_t svcalloc_port_free(const struct svcalloc *sa)
{
	return sa->port.size - sa->port.used;
}

/* ---- rebuild (the repair pass) ---- */

static void mark_port(struct svcalloc *sa, long port, const char *key)
{
	int rc;
	if (port <= 0)
		return;
	rc = range_take(&sa->port, (uint32_t)port);
	if (rc == SA_TAKEN)
		lk_log("svcalloc: the node port %ld for service %s was assigned to multiple "
		       "services; please recreate", port, key);
	else if (rc == SA_RANGE)
		lk_log("svcalloc: the node port %ld for service %s is not within the port "
		       "range %s; please recreate", port, key, sa->ports);
}

/* Same-numbered ports share one node port: mark each value once. */
static void mark_ports(struct svcalloc *sa, const cJSON *svc, const char *key)
{
	const cJSON *ports = jget(svc, "spec.ports"), *p, *q;
	int i = 0;
	cJSON_ArrayForEach(p, ports) {
		long np = (long)jint(p, "nodePort", 0);
		bool seen = false;
		int j = 0;
		cJSON_ArrayForEach(q, ports) {
			if (j++ >= i)
				break;
			seen |= jint(q, "nodePort", 0) == np;
		}
		if (!seen)
			mark_port(sa, np, key);
		i++;
	}
	mark_port(sa, (long)jint(svc, "spec.healthCheckNodePort", 0), key);
}

static int mark_service(void *arg, cJSON *svc)
{
	struct svcalloc *sa = arg;
	const cJSON *ip;
	char key[512];
	uint32_t v;
	snprintf(key, sizeof(key), "%s/%s", jstr_or(svc, "metadata.namespace", ""),
		 jstr_or(svc, "metadata.name", ""));
	cJSON_ArrayForEach(ip, jget(svc, "spec.clusterIPs")) {
		if (!cJSON_IsString(ip) || lk_ip4_parse(ip->valuestring, &v) < 0)
			continue;
		int rc = range_take(&sa->ip, v);
		if (rc == SA_TAKEN)
			lk_log("svcalloc: the cluster IP %s for service %s was assigned to "
			       "multiple services; please recreate", ip->valuestring, key);
		else if (rc == SA_RANGE)
			lk_log("svcalloc: the cluster IP %s for service %s is not within the "
			       "service CIDR %s; please recreate", ip->valuestring, key, sa->cidr);
	}
	mark_ports(sa, svc, key);
	cJSON_Delete(svc);
	return 0;
}

void svcalloc_rebuild(struct svcalloc *sa, struct store *st)
{
	struct lk_err err = { 0 };
	range_init(&sa->ip, sa->ip.base, sa->ip.size, sa->ip.offset);
	range_init(&sa->port, sa->port.base, sa->port.size, sa->port.offset);
	sa->nops = 0; /* an open transaction (admit) starts over on the new state */
	if (store_list(st, "services", NULL, NULL, mark_service, sa, NULL, &err) < 0) {
		lk_log("svcalloc: cannot list services: %s", err.msg);
		lk_err_clear(&err);
	}
}
