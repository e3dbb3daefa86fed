/*
 * server/controllers/servicelb.c: the lab-local LoadBalancer (see
 * servicelb.h). One informer over Services, one workqueue keyed by
 * "ns/name"; the pool's assignments live in memory and are rebuilt at start
 * from the ingress IPs already written into the Services' status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ip.h"
#include "common/json.h"
#include "common/util.h"
#include "server/controllers/netctl.h"
#include "server/controllers/servicelb.h"
#include "server/labkube.h"
#include "server/registry/event.h"
#include "server/registry/informer.h"
#include "server/registry/workqueue.h"
#include "server/registry/write.h"
#include "server/resources/resources.h"

#define COMPONENT "service-lb-controller"

struct lb_assign {
	char key[512];
	uint32_t ip;
};

struct lbc {
	struct labkube *lk;
	struct informer *svcs;
	struct workqueue *wq;
	bool running, pool;
	uint32_t first, last;
	struct lb_assign *as;
	size_t n, alloc;
};

int servicelb_pool_parse(const char *s, uint32_t *first, uint32_t *last)
{
	char buf[64], *sep;
	struct lk_cidr c;
	if (s && strchr(s, '/')) {
		if (lk_cidr_parse(s, 0, &c, NULL) < 0 || c.ip.family != AF_INET || c.bits < 1)
			return -1;
		c = lk_cidr_masked(&c);
		*first = lk_ip4_value(&c.ip);
		*last = *first + (uint32_t)(lk_cidr_size(&c) - 1);
		if (c.bits < 31) {
			(*first)++;
			(*last)--;
		}
		return 0;
	}
	snprintf(buf, sizeof(buf), "%s", s ? s : "");
	if (!(sep = strchr(buf, '-')))
		return lk_ip4_parse(buf, first) == 0 && lk_ip4_parse(buf, last) == 0 ? 0 : -1;
	*sep = 0;
	if (lk_ip4_parse(buf, first) < 0 || lk_ip4_parse(sep + 1, last) < 0 || *last < *first)
		return -1;
	return 0;
}

/* ---- pool assignments ---- */

static struct lb_assign *assigned_to(struct lbc *lbc, const char *key)
{
	for (size_t i = 0; i < lbc->n; i++)
		if (!strcmp(lbc->as[i].key, key))
			return &lbc->as[i];
	return NULL;
}

static bool ip_taken(struct lbc *lbc, uint32_t ip, const char *by_other_than)
{
	for (size_t i = 0; i < lbc->n; i++)
		if (lbc->as[i].ip == ip && strcmp(lbc->as[i].key, by_other_than))
			return true;
	return false;
}

static void assign(struct lbc *lbc, const char *key, uint32_t ip)
{
	struct lb_assign *a = assigned_to(lbc, key);
	if (!a) {
		if (lbc->n == lbc->alloc) {
			lbc->alloc = lbc->alloc ? 2 * lbc->alloc : 8;
			lbc->as = xrealloc(lbc->as, lbc->alloc * sizeof(*lbc->as));
		}
		a = &lbc->as[lbc->n++];
		snprintf(a->key, sizeof(a->key), "%s", key);
	}
	a->ip = ip;
}

static void unassign(struct lbc *lbc, const char *key)
{
	struct lb_assign *a = assigned_to(lbc, key);
	if (a)
		*a = lbc->as[--lbc->n];
}

static bool in_pool(struct lbc *lbc, uint32_t ip)
{
	return lbc->pool && ip >= lbc->first && ip <= lbc->last;
}

/* The pool address for key: its own, else the lowest free one. */
static bool pool_pick(struct lbc *lbc, const char *key, uint32_t *out)
{
	struct lb_assign *a = assigned_to(lbc, key);
	if (a) {
		*out = a->ip;
		return true;
	}
	for (uint64_t ip = lbc->first; ip <= lbc->last; ip++)
		if (!ip_taken(lbc, (uint32_t)ip, key)) {
			assign(lbc, key, (uint32_t)ip);
			*out = (uint32_t)ip;
			return true;
		}
	return false;
}

/* ---- reconcile ---- */

static bool managed(const cJSON *svc)
{
	return svc && str_eq(jstr(svc, "spec.type"), "LoadBalancer") &&
	       !jstr(svc, "spec.loadBalancerClass");
}

/* The ingress address for svc into out (LK_IP4_STRLEN); false when the pool
 * is full. */
static bool choose(struct lbc *lbc, const cJSON *svc, const char *key, char *out)
{
	const char *want = jstr_or(svc, "spec.loadBalancerIP", "");
	uint32_t v;
	if (*want && !strcmp(want, lbc->lk->cfg.node_ip)) {
		unassign(lbc, key);
		snprintf(out, LK_IP4_STRLEN, "%s", want);
		return true;
	}
	if (*want && lk_ip4_parse(want, &v) == 0 && in_pool(lbc, v) && !ip_taken(lbc, v, key)) {
		assign(lbc, key, v);
		lk_ip4_format(v, out);
		return true;
	}
	if (*want)
		event_record(lbc->lk->reg, svc, COMPONENT, "Warning", "LoadBalancerIPNotLocal",
			     "loadBalancerIP %s is neither the node IP nor a free address "
			     "of the pool; using the default", want);
	if (!lbc->pool) {
		snprintf(out, LK_IP4_STRLEN, "%s", lbc->lk->cfg.node_ip);
		return true;
	}
	if (!pool_pick(lbc, key, &v))
		return false;
	lk_ip4_format(v, out);
	return true;
}

static void write_status(struct lbc *lbc, const cJSON *svc, const char *ip)
{
	cJSON *obj = cJSON_Duplicate(svc, 1), *ing = cJSON_CreateArray(), *e;
	struct lk_err err = { 0 };
	char key[512];
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "ip", ip);
	cJSON_AddStringToObject(e, "ipMode", "VIP");
	cJSON_AddItemToArray(ing, e);
	jset(obj, "status.loadBalancer", cJSON_CreateObject());
	jset(obj, "status.loadBalancer.ingress", ing);
	if (obj_update(lbc->lk->reg, &res_service, jstr_or(svc, "metadata.namespace", ""),
		       jstr_or(svc, "metadata.name", ""), obj, WRITE_STATUS, &err) < 0) {
		lk_log("servicelb: cannot write status of '%s': %s", obj_key(svc, key), err.msg);
		if (err.code == LK_ECONFLICT)
			workqueue_add_after(lbc->wq, key, 1000);
	}
	lk_err_clear(&err);
	cJSON_Delete(obj);
}

static int enqueue_pending(void *arg, const cJSON *svc)
{
	struct lbc *lbc = arg;
	char key[512];
	if (managed(svc) && !cJSON_GetArraySize(jget(svc, "status.loadBalancer.ingress")))
		workqueue_add(lbc->wq, obj_key(svc, key));
	return 0;
}

/* Exactly [{ip, ipMode: VIP}]: nothing to write. */
static bool ingress_is(const cJSON *ing, const char *ip)
{
	const cJSON *e = cJSON_GetArrayItem(ing, 0);
	return cJSON_GetArraySize(ing) == 1 && str_eq(jstr(e, "ip"), ip) &&
	       str_eq(jstr(e, "ipMode"), "VIP") && cJSON_GetArraySize(e) == 2;
}

static void lb_sync(void *arg, const char *key)
{
	struct lbc *lbc = arg;
	char ns[256], name[256], ip[LK_IP4_STRLEN];
	const cJSON *svc, *ing;
	key_split(key, ns, name);
	svc = informer_get(lbc->svcs, ns, name);
	if (!managed(svc)) {
		if (assigned_to(lbc, key)) {
			unassign(lbc, key);
			/* a pool address came free: pending services may take it */
			informer_foreach(lbc->svcs, NULL, enqueue_pending, lbc);
		}
		return;
	}
	if (!choose(lbc, svc, key, ip)) {
		event_record(lbc->lk->reg, svc, COMPONENT, "Warning", "AllocationFailed",
			     "no free address left in the load-balancer pool %s",
			     lbc->lk->cfg.lb_pool);
		return;
	}
	ing = jget(svc, "status.loadBalancer.ingress");
	if (ingress_is(ing, ip))
		return;
	write_status(lbc, svc, ip);
}

static void on_service(void *arg, enum store_ev_type type, const cJSON *obj,
		       const cJSON *old)
{
	struct lbc *lbc = arg;
	char key[512];
	workqueue_add(lbc->wq, obj_key(obj, key));
}

/* At start: pool addresses already in a status stay with their Service. */
static int adopt(void *arg, const cJSON *svc)
{
	struct lbc *lbc = arg;
	const cJSON *e;
	char key[512];
	uint32_t v;
	obj_key(svc, key);
	if (managed(svc))
		cJSON_ArrayForEach(e, jget(svc, "status.loadBalancer.ingress"))
			if (lk_ip4_parse(jstr(e, "ip"), &v) == 0 && in_pool(lbc, v) &&
			    !ip_taken(lbc, v, key))
				assign(lbc, key, v);
	workqueue_add(lbc->wq, key);
	return 0;
}

void *servicelb_start(struct labkube *lk)
{
	struct lbc *lbc = xcalloc(1, sizeof(*lbc));
	lbc->lk = lk;
	lbc->pool = lk->cfg.lb_pool && *lk->cfg.lb_pool;
	if (lbc->pool && servicelb_pool_parse(lk->cfg.lb_pool, &lbc->first, &lbc->last) < 0) {
		lk_log("servicelb: cannot parse --lb-pool '%s' (want a CIDR or FIRST-LAST)",
		       lk->cfg.lb_pool);
		free(lbc);
		return NULL;
	}
	lbc->svcs = informer_new(lk->reg, &res_service);
	lbc->wq = workqueue_new(lk->loop, "servicelb", lb_sync, lbc);
	lbc->running = true;
	informer_on(lbc->svcs, on_service, lbc);
	informer_foreach(lbc->svcs, NULL, adopt, lbc);
	return lbc;
}

void servicelb_stop(void *state)
{
	struct lbc *lbc = state;
	if (!lbc)
		return;
	lbc->running = false;
	workqueue_free(lbc->wq);
	informer_free(lbc->svcs);
	free(lbc->as);
	free(lbc);
}
