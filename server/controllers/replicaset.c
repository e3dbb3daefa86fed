/*
 * server/controllers/replicaset.c: the ReplicaSet and ReplicationController
 * controllers (one engine, k8s pkg/controller/replicaset release-1.32), and
 * the plumbing every workload controller shares (workload.h): shared
 * informers, the controller skeleton, owner references and claiming, pod
 * readiness and deletion ranking, template hash, intstr and conditions.
 *
 * A ReplicaSet keeps spec.replicas active pods that its selector matches
 * and that it controls (adopting orphans, releasing pods it no longer
 * selects): it creates pods from its template with generateName
 * "<name>-" and deletes the lowest-ranked ones (wl_pods_rank), recording
 * SuccessfulCreate/SuccessfulDelete (FailedCreate/FailedDelete) events as
 * replicaset-controller (replication-controller for RCs), then writes
 * status replicas/fullyLabeledReplicas/readyReplicas/availableReplicas/
 * observedGeneration. Pods of a deleted ReplicaSet are the garbage
 * collector's, not ours.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/loop.h"
#include "common/util.h"
#include "server/controllers/workload.h"
#include "server/labkube.h"
#include "server/registry/event.h"
#include "server/registry/informer.h"
#include "server/registry/selector.h"
#include "server/registry/workqueue.h"
#include "server/registry/write.h"
#include "server/resources/resources.h"

/* ---- the controller skeleton ---- */

struct wl_delayed {
	char *key;
	uint64_t at;
	struct wl_delayed *next;
};

static int enqueue_one(void *arg, const cJSON *obj)
{
	wl_ctl_add_obj(arg, obj);
	return 0;
}

static int64_t resync_tick(struct loop *l, void *arg)
{
	struct wl_ctl *c = arg;
	informer_foreach(c->objs, NULL, enqueue_one, c);
	return WL_RESYNC_MS;
}

static void on_own(void *arg, enum store_ev_type type, const cJSON *obj,
		   const cJSON *old)
{
	struct wl_ctl *c = arg;
	if (c->running)
		wl_ctl_add_obj(c, obj);
}

void wl_ctl_start(struct wl_ctl *c, struct labkube *lk, const char *name,
		  const struct resource *res, workqueue_fn sync, void *arg)
{
	c->lk = lk;
	c->objs = informer_new(lk->reg, res);
	c->wq = workqueue_new(lk->loop, name, sync, arg);
	c->running = true;
	informer_on(c->objs, on_own, c);
	informer_foreach(c->objs, NULL, enqueue_one, c);
	c->resync = loop_timer_add(lk->loop, WL_RESYNC_MS, resync_tick, c);
}

void wl_ctl_stop(struct wl_ctl *c)
{
	if (!c->running)
		return;
	c->running = false;
	loop_timer_del(c->lk->loop, c->resync);
	loop_timer_del(c->lk->loop, c->delay_timer);
	c->resync = c->delay_timer = NULL;
	while (c->delayed) {
		struct wl_delayed *d = c->delayed;
		c->delayed = d->next;
		free(d->key);
		free(d);
	}
	workqueue_free(c->wq);
	c->wq = NULL;
	informer_free(c->objs);
	c->objs = NULL;
}

void wl_ctl_add(struct wl_ctl *c, const char *key)
{
	if (c->running)
		workqueue_add(c->wq, key);
}

void wl_ctl_add_obj(struct wl_ctl *c, const cJSON *obj)
{
	char key[512];
	wl_ctl_add(c, obj_key(obj, key));
}

static int64_t delay_tick(struct loop *l, void *arg)
{
	struct wl_ctl *c = arg;
	uint64_t now = lk_now_ms(), next = 0;
	struct wl_delayed **pp = &c->delayed, *d;

	while ((d = *pp)) {
		if (d->at <= now) {
			*pp = d->next;
			wl_ctl_add(c, d->key);
			free(d->key);
			free(d);
			continue;
		}
		if (!next || d->at < next)
			next = d->at;
		pp = &d->next;
	}
	if (!next) {
		c->delay_timer = NULL;
		return -1;
	}
	c->delay_at = next;
	return (int64_t)(next - now);
}

void wl_ctl_add_after(struct wl_ctl *c, const char *key, int64_t ms)
{
	uint64_t at = lk_now_ms() + (uint64_t)(ms > 0 ? ms : 0);
	struct wl_delayed *d;

	if (!c->running)
		return;
	if (ms <= 0) {
		wl_ctl_add(c, key);
		return;
	}
	for (d = c->delayed; d; d = d->next)
		if (!strcmp(d->key, key))
			break;
	if (d && d->at <= at)
		return;
	if (!d) {
		d = xcalloc(1, sizeof(*d));
		d->key = xstrdup(key);
		d->next = c->delayed;
		c->delayed = d;
	}
	d->at = at;
	if (c->delay_timer && c->delay_at <= at)
		return;
	loop_timer_del(c->lk->loop, c->delay_timer);
	c->delay_timer = loop_timer_add(c->lk->loop, ms, delay_tick, c);
	c->delay_at = at;
}

/* ---- object helpers ---- */

time_t wl_created(const cJSON *obj)
{
	const char *ts = jstr(obj, "metadata.creationTimestamp");
	time_t t = ts ? lk_parse_rfc3339(ts) : -1;
	return t < 0 ? 0 : t;
}

bool wl_deleting(const cJSON *obj)
{
	const cJSON *ts = jget(obj, "metadata.deletionTimestamp");
	return ts && !cJSON_IsNull(ts);
}

void wl_set_count(cJSON *obj, const char *key, long long v, bool omitempty)
{
	if (omitempty && v == 0)
		cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	else
		jset_int(obj, key, v);
}

int wl_update(struct labkube *lk, const struct resource *res, cJSON *obj,
	      unsigned flags, struct lk_err *err)
{
	char ns[256], name[256];
	snprintf(ns, sizeof(ns), "%s", jstr_or(obj, "metadata.namespace", ""));
	snprintf(name, sizeof(name), "%s", jstr_or(obj, "metadata.name", ""));
	return obj_update(lk->reg, res, ns, name, obj, flags, err);
}

void wl_map_set(cJSON *map, const char *key, const char *v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(map, key);
	if (v)
		cJSON_AddStringToObject(map, key, v);
}

const char *wl_map_get(const cJSON *map, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(map, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

const cJSON *wl_controller_ref(const cJSON *obj)
{
	const cJSON *ref;
	cJSON_ArrayForEach(ref, jget(obj, "metadata.ownerReferences"))
		if (jbool(ref, "controller", false))
			return ref;
	return NULL;
}

cJSON *wl_owner_ref(const cJSON *owner)
{
	cJSON *ref = cJSON_CreateObject();
	cJSON_AddStringToObject(ref, "apiVersion", jstr_or(owner, "apiVersion", ""));
	cJSON_AddStringToObject(ref, "kind", jstr_or(owner, "kind", ""));
	cJSON_AddStringToObject(ref, "name", jstr_or(owner, "metadata.name", ""));
	cJSON_AddStringToObject(ref, "uid", jstr_or(owner, "metadata.uid", ""));
	cJSON_AddTrueToObject(ref, "controller");
	cJSON_AddTrueToObject(ref, "blockOwnerDeletion");
	return ref;
}

const cJSON *wl_owner(const struct informer *inf, const cJSON *obj, const char *kind)
{
	const cJSON *ref = wl_controller_ref(obj), *owner;
	if (!ref || !str_eq(jstr(ref, "kind"), kind))
		return NULL;
	owner = informer_get(inf, jstr_or(obj, "metadata.namespace", ""),
			     jstr_or(ref, "name", ""));
	if (!owner || !str_eq(jstr(owner, "metadata.uid"), jstr(ref, "uid")))
		return NULL;
	return owner;
}

struct label_selector *wl_selector(const cJSON *owner)
{
	struct label_selector *sel = NULL;
	const cJSON *s = jget(owner, "spec.selector");
	if (str_eq(jstr(owner, "kind"), "ReplicationController"))
		return label_selector_from_set(s);
	if (label_selector_from_json(s, &sel, NULL) < 0)
		label_selector_from_json(NULL, &sel, NULL); /* matches nothing */
	return sel;
}

enum wl_claim wl_claim(const cJSON *owner, const cJSON *obj, bool selected)
{
	const cJSON *ref = wl_controller_ref(obj);
	bool owner_gone = wl_deleting(owner);
	if (ref) {
		if (!str_eq(jstr(ref, "uid"), jstr(owner, "metadata.uid")))
			return WL_SKIP;
		if (selected)
			return WL_MINE;
		/* Being deleted: keep it until the GC is done with it. */
		if (owner_gone)
			return WL_MINE;
		return wl_deleting(obj) ? WL_SKIP : WL_RELEASE;
	}
	if (owner_gone || !selected || wl_deleting(obj))
		return WL_SKIP;
	if (!str_eq(jstr(obj, "metadata.namespace"), jstr(owner, "metadata.namespace")))
		return WL_SKIP;
	return WL_ADOPT;
}

int wl_claim_write(struct labkube *lk, const struct resource *res,
		   const cJSON *obj, const cJSON *owner, enum wl_claim c, cJSON **out)
{
	struct lk_err err = { 0 };
	cJSON *upd = cJSON_Duplicate(obj, 1), *refs, *ref, *next;
	const char *uid = jstr_or(owner, "metadata.uid", "");
	int ret;

	refs = jget(upd, "metadata.ownerReferences");
	if (c == WL_ADOPT) {
		if (!cJSON_IsArray(refs)) {
			refs = cJSON_CreateArray();
			jset(upd, "metadata.ownerReferences", refs);
		}
		cJSON_AddItemToArray(refs, wl_owner_ref(owner));
	} else {
		for (ref = refs ? refs->child : NULL; ref; ref = next) {
			next = ref->next;
			if (str_eq(jstr(ref, "uid"), uid))
				cJSON_Delete(cJSON_DetachItemViaPointer(refs, ref));
		}
		if (refs && !cJSON_GetArraySize(refs))
			jdel(upd, "metadata.ownerReferences");
	}
	ret = wl_update(lk, res, upd, 0, &err);
	if (ret < 0 && err.code != LK_ENOTFOUND && err.code != LK_ECONFLICT)
		lk_log("controllers: cannot %s %s '%s/%s': %s",
		       c == WL_ADOPT ? "adopt" : "release", res->kind,
		       jstr_or(obj, "metadata.namespace", ""),
		       jstr_or(obj, "metadata.name", ""), err.msg);
	lk_err_clear(&err);
	if (ret == 0 && out)
		*out = upd;
	else
		cJSON_Delete(upd);
	return ret;
}

/* ---- pods ---- */

bool wl_pod_active(const cJSON *pod)
{
	const char *phase = jstr_or(pod, "status.phase", "");
	return strcmp(phase, "Succeeded") && strcmp(phase, "Failed") && !wl_deleting(pod);
}

static const cJSON *ready_condition(const cJSON *pod)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, jget(pod, "status.conditions"))
		if (str_eq(jstr(c, "type"), "Ready"))
			return c;
	return NULL;
}

bool wl_pod_ready(const cJSON *pod)
{
	const cJSON *c = ready_condition(pod);
	return c && str_eq(jstr(c, "status"), "True");
}

time_t wl_pod_available_at(const cJSON *pod, long long min_ready)
{
	const char *ts;
	time_t t;
	if (!wl_pod_ready(pod))
		return 0;
	ts = jstr(ready_condition(pod), "lastTransitionTime");
	t = ts ? lk_parse_rfc3339(ts) : -1;
	return t <= 0 ? 0 : t + (time_t)min_ready;
}

bool wl_pod_available(const cJSON *pod, long long min_ready, time_t now)
{
	time_t at;
	if (!wl_pod_ready(pod))
		return false;
	if (min_ready <= 0)
		return true;
	at = wl_pod_available_at(pod, min_ready);
	return at && at < now;
}

/* What the ranking compares, read once per pod. */
struct prank {
	const cJSON *pod;
	bool assigned, ready;
	int phase;
	long long cost, restarts, side_restarts;
	time_t ready_at, created;
	const char *uid;
};

static int phase_ordinal(const char *phase)
{
	if (!strcmp(phase, "Unknown"))
		return 1;
	if (!strcmp(phase, "Running"))
		return 2;
	return 0; /* Pending, and whatever the map does not hold */
}

static bool is_sidecar(const cJSON *pod, const char *name)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, jget(pod, "spec.initContainers"))
		if (str_eq(jstr(c, "name"), name))
			return str_eq(jstr(c, "restartPolicy"), "Always");
	return false;
}

static void prank_fill(struct prank *r, const cJSON *pod)
{
	const cJSON *cs, *ann = jget(pod, "metadata.annotations");
	char *end;

	memset(r, 0, sizeof(*r));
	r->pod = pod;
	r->assigned = *jstr_or(pod, "spec.nodeName", "") != 0;
	r->phase = phase_ordinal(jstr_or(pod, "status.phase", ""));
	r->ready = wl_pod_ready(pod);
	cs = cJSON_GetObjectItemCaseSensitive(ann, "controller.kubernetes.io/pod-deletion-cost");
	if (cJSON_IsString(cs)) {
		long long v = strtoll(cs->valuestring, &end, 10);
		if (*cs->valuestring && !*end && v >= INT32_MIN && v <= INT32_MAX)
			r->cost = v;
	}
	r->ready_at = r->ready ? wl_pod_available_at(pod, 0) : 0;
	cJSON_ArrayForEach(cs, jget(pod, "status.containerStatuses"))
		if (jint(cs, "restartCount", 0) > r->restarts)
			r->restarts = jint(cs, "restartCount", 0);
	cJSON_ArrayForEach(cs, jget(pod, "status.initContainerStatuses"))
		if (is_sidecar(pod, jstr_or(cs, "name", "")) &&
		    jint(cs, "restartCount", 0) > r->side_restarts)
			r->side_restarts = jint(cs, "restartCount", 0);
	r->created = wl_created(pod);
	r->uid = jstr_or(pod, "metadata.uid", "");
}

/* logarithmicRankDiff: floor(log2(age in ns)) of each, compared. */
static long long log_rank_diff(time_t now, time_t t1, time_t t2)
{
	double d1 = ((double)now - (double)t1) * 1e9;
	double d2 = ((double)now - (double)t2) * 1e9;
	long long r1 = d1 > 0 ? (long long)log2(d1) : -1;
	long long r2 = d2 > 0 ? (long long)log2(d2) : -1;
	return r1 - r2;
}

/* Compare two times the LogarithmicScaleDown way: < 0 when a goes first. */
static int time_rank(time_t now, time_t a, time_t b, const char *ua, const char *ub)
{
	long long d;
	if (!now || !a || !b) /* afterOrZero: zero first, then later first */
		return !a ? -1 : !b ? 1 : a > b ? -1 : 1;
	d = log_rank_diff(now, a, b);
	if (d == 0)
		return strcmp(ua, ub) < 0 ? -1 : 1;
	return d < 0 ? -1 : 1;
}

/* qsort_r order; arg points to the ranking's time_t now. */
static int prank_cmp(const void *pa, const void *pb, void *arg)
{
	const struct prank *a = pa, *b = pb;
	time_t now = *(const time_t *)arg;
	if (a->assigned != b->assigned)
		return a->assigned ? 1 : -1;
	if (a->phase != b->phase)
		return a->phase < b->phase ? -1 : 1;
	if (a->ready != b->ready)
		return a->ready ? 1 : -1;
	if (a->cost != b->cost)
		return a->cost < b->cost ? -1 : 1;
	if (a->ready && a->ready_at != b->ready_at) /* b->ready == a->ready here */
		return time_rank(now, a->ready_at, b->ready_at, a->uid, b->uid);
	if (a->restarts != b->restarts)
		return a->restarts > b->restarts ? -1 : 1;
	if (a->side_restarts != b->side_restarts)
		return a->side_restarts > b->side_restarts ? -1 : 1;
	if (a->created != b->created)
		return time_rank(now, a->created, b->created, a->uid, b->uid);
	return strcmp(a->uid, b->uid);
}

void wl_pods_rank(const cJSON **pods, size_t n, time_t now)
{
	struct prank *r = xcalloc(n ? n : 1, sizeof(*r));
	for (size_t i = 0; i < n; i++)
		prank_fill(&r[i], pods[i]);
	qsort_r(r, n, sizeof(*r), prank_cmp, &now);
	for (size_t i = 0; i < n; i++)
		pods[i] = r[i].pod;
	free(r);
}

cJSON *wl_pod_from_template(const cJSON *tmpl, const cJSON *owner)
{
	static const char *const copy[] = { "labels", "annotations", "finalizers" };
	cJSON *pod = cJSON_CreateObject(), *md = cJSON_AddObjectToObject(pod, "metadata");
	const cJSON *spec = jget(tmpl, "spec");

	for (size_t i = 0; i < ARRAY_SIZE(copy); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(jget(tmpl, "metadata"), copy[i]);
		if (v && !cJSON_IsNull(v))
			cJSON_AddItemToObject(md, copy[i], cJSON_Duplicate(v, 1));
	}
	if (owner)
		cJSON_AddItemToArray(cJSON_AddArrayToObject(md, "ownerReferences"),
				     wl_owner_ref(owner));
	cJSON_AddItemToObject(pod, "spec", spec ? cJSON_Duplicate(spec, 1) : cJSON_CreateObject());
	return pod;
}

void rs_plan(long long replicas, const cJSON **pods, size_t n, time_t now,
	     struct rs_plan *out)
{
	long long diff = (long long)n - replicas;
	memset(out, 0, sizeof(*out));
	if (diff < 0) {
		out->create = (size_t)(-diff > WL_BURST ? WL_BURST : -diff);
		return;
	}
	if (diff == 0)
		return;
	if (diff > WL_BURST)
		diff = WL_BURST;
	if ((size_t)diff < n)
		wl_pods_rank(pods, n, now);
	out->remove = pods;
	out->nremove = (size_t)diff;
}

cJSON *rs_status(const cJSON *rs, const cJSON *const *pods, size_t n,
		 const char *manage_err, time_t now)
{
	const cJSON *st = jget(rs, "status");
	cJSON *ns = cJSON_IsObject(st) ? cJSON_Duplicate(st, 1) : cJSON_CreateObject();
	const cJSON *tlabels = jget(rs, "spec.template.metadata.labels");
	long long min_ready = jint(rs, "spec.minReadySeconds", 0), want = jint(rs, "spec.replicas", 1);
	long long labeled = 0, ready = 0, avail = 0;

	for (size_t i = 0; i < n; i++) {
		if (label_set_match(tlabels, jget(pods[i], "metadata.labels")))
			labeled++;
		if (wl_pod_ready(pods[i])) {
			ready++;
			avail += wl_pod_available(pods[i], min_ready, now);
		}
	}
	if (manage_err && !wl_cond_get(ns, "ReplicaFailure")) {
		const char *reason = (long long)n < want ? "FailedCreate" : "FailedDelete";
		wl_cond_set(ns, wl_cond_new("ReplicaFailure", "True", reason, manage_err, now, false));
	} else if (!manage_err) {
		wl_cond_remove(ns, "ReplicaFailure");
	}
	wl_set_count(ns, "replicas", (long long)n, false);
	wl_set_count(ns, "fullyLabeledReplicas", labeled, true);
	wl_set_count(ns, "readyReplicas", ready, true);
	wl_set_count(ns, "availableReplicas", avail, true);
	wl_set_count(ns, "observedGeneration", jint(rs, "metadata.generation", 0), true);
	return ns;
}

/* ---- values ---- */

static void canonical(struct strbuf *sb, const cJSON *v);

static int key_cmp(const void *a, const void *b)
{
	return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

static void canonical_object(struct strbuf *sb, const cJSON *v)
{
	size_t n = 0, i = 0;
	const cJSON *c;
	cJSON_ArrayForEach(c, v)
		n++;
	const cJSON **kids = xcalloc(n ? n : 1, sizeof(*kids));
	cJSON_ArrayForEach(c, v)
		kids[i++] = c;
	qsort(kids, n, sizeof(*kids), key_cmp);
	sb_addc(sb, '{');
	for (i = 0; i < n; i++) {
		cJSON *ks = cJSON_CreateString(kids[i]->string);
		char *k = cJSON_PrintUnformatted(ks);
		sb_addf(sb, "%s%s:", i ? "," : "", k);
		cJSON_Delete(ks);
		free(k);
		canonical(sb, kids[i]);
	}
	sb_addc(sb, '}');
	free(kids);
}

static void canonical(struct strbuf *sb, const cJSON *v)
{
	const cJSON *c;
	char *s;
	if (cJSON_IsObject(v)) {
		canonical_object(sb, v);
	} else if (cJSON_IsArray(v)) {
		sb_addc(sb, '[');
		cJSON_ArrayForEach(c, v) {
			canonical(sb, c);
			if (c->next)
				sb_addc(sb, ',');
		}
		sb_addc(sb, ']');
	} else {
		s = cJSON_PrintUnformatted(v);
		sb_adds(sb, s ? s : "null");
		free(s);
	}
}

void wl_hash(const cJSON *obj, const long long *collision, char *out)
{
	static const char alpha[] = "bcdfghjklmnpqrstvwxz2456789";
	struct strbuf sb = STRBUF_INIT;
	uint32_t h = 2166136261u;
	char dec[16];

	canonical(&sb, obj);
	for (size_t i = 0; i < sb.len; i++)
		h = (h ^ (unsigned char)sb.buf[i]) * 16777619u;
	if (collision) {
		uint64_t c = (uint32_t)*collision;
		for (int i = 0; i < 8; i++)
			h = (h ^ (unsigned char)(c >> (8 * i))) * 16777619u;
	}
	sb_release(&sb);
	snprintf(dec, sizeof(dec), "%u", h);
	for (size_t i = 0; dec[i]; i++)
		out[i] = alpha[(unsigned char)dec[i] % (sizeof(alpha) - 1)];
	out[strlen(dec)] = 0;
}

int wl_intstr_scaled(const cJSON *v, int total, bool round_up, int *out)
{
	char *end;
	long long n;
	*out = 0;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (cJSON_IsNumber(v)) {
		*out = (int)v->valuedouble;
		return 0;
	}
	if (!cJSON_IsString(v))
		return -1;
	n = strtoll(v->valuestring, &end, 10);
	if (end == v->valuestring || strcmp(end, "%"))
		return -1;
	double x = (double)n * (double)total / 100.0;
	*out = (int)(round_up ? ceil(x) : floor(x));
	return 0;
}

/* ---- conditions ---- */

cJSON *wl_cond_new(const char *type, const char *status, const char *reason,
		   const char *msg, time_t now, bool update_time)
{
	cJSON *c = cJSON_CreateObject();
	char ts[32];
	lk_rfc3339(now, ts);
	cJSON_AddStringToObject(c, "type", type);
	cJSON_AddStringToObject(c, "status", status);
	if (update_time)
		cJSON_AddStringToObject(c, "lastUpdateTime", ts);
	cJSON_AddStringToObject(c, "lastTransitionTime", ts);
	cJSON_AddStringToObject(c, "reason", reason);
	cJSON_AddStringToObject(c, "message", msg);
	return c;
}

const cJSON *wl_cond_get(const cJSON *status, const char *type)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, jget(status, "conditions"))
		if (str_eq(jstr(c, "type"), type))
			return c;
	return NULL;
}

void wl_cond_remove(cJSON *status, const char *type)
{
	cJSON *conds = jget(status, "conditions"), *c, *next;
	for (c = conds ? conds->child : NULL; c; c = next) {
		next = c->next;
		if (str_eq(jstr(c, "type"), type))
			cJSON_Delete(cJSON_DetachItemViaPointer(conds, c));
	}
	if (conds && !cJSON_GetArraySize(conds))
		cJSON_DeleteItemFromObjectCaseSensitive(status, "conditions");
}

void wl_cond_set(cJSON *status, cJSON *cond)
{
	const cJSON *cur = wl_cond_get(status, jstr_or(cond, "type", ""));
	cJSON *conds;
	if (cur && str_eq(jstr(cur, "status"), jstr(cond, "status"))) {
		if (str_eq(jstr(cur, "reason"), jstr(cond, "reason"))) {
			cJSON_Delete(cond);
			return;
		}
		jset(cond, "lastTransitionTime",
		     cJSON_Duplicate(jget(cur, "lastTransitionTime"), 1));
	}
	wl_cond_remove(status, jstr_or(cond, "type", ""));
	conds = jget(status, "conditions");
	if (!cJSON_IsArray(conds)) {
		conds = cJSON_CreateArray();
		jset(status, "conditions", conds);
	}
	cJSON_AddItemToArray(conds, cond);
}

/* ---- the ReplicaSet / ReplicationController controller ---- */

struct rsc {
	struct wl_ctl ctl;
	const struct resource *res;
	const char *component;
	struct informer *pods;
};

struct podvec {
	const cJSON **v;
	size_t n, cap;
};

static void podvec_push(struct podvec *pv, const cJSON *pod)
{
	if (pv->n == pv->cap) {
		pv->cap = pv->cap ? pv->cap * 2 : 16;
		pv->v = xrealloc(pv->v, pv->cap * sizeof(*pv->v));
	}
	pv->v[pv->n++] = pod;
}

static int collect_pod(void *arg, const cJSON *pod)
{
	podvec_push(arg, pod);
	return 0;
}

/* The active pods rs controls, after adopting and releasing; -1 when a
 * claim could not be written (ClaimPods fails: no manage this round). */
static int claim_pods(struct rsc *r, const cJSON *rs, struct podvec *mine)
{
	struct podvec all = { 0 };
	struct label_selector *sel = wl_selector(rs);
	int ret = 0;

	informer_foreach(r->pods, jstr_or(rs, "metadata.namespace", ""), collect_pod, &all);
	for (size_t i = 0; i < all.n; i++) {
		const cJSON *pod = all.v[i];
		enum wl_claim c;
		if (!wl_pod_active(pod))
			continue;
		c = wl_claim(rs, pod, label_selector_match(sel, jget(pod, "metadata.labels")));
		if (c == WL_ADOPT || c == WL_RELEASE) {
			if (wl_claim_write(r->ctl.lk, &res_pod, pod, rs, c, NULL) < 0)
				ret = -1;
			else if (c == WL_ADOPT)
				podvec_push(mine, pod);
		} else if (c == WL_MINE) {
			podvec_push(mine, pod);
		}
	}
	label_selector_free(sel);
	free(all.v);
	return ret;
}

static bool ns_terminating(const struct lk_err *err)
{
	return err->code == LK_EFORBIDDEN && strstr(err->msg, "because it is being terminated");
}

static int create_pod(struct rsc *r, const cJSON *rs, struct strbuf *why)
{
	struct labkube *lk = r->ctl.lk;
	struct lk_err err = { 0 };
	const char *ns = jstr_or(rs, "metadata.namespace", "");
	cJSON *pod = wl_pod_from_template(jget(rs, "spec.template"), rs);
	char *prefix = xasprintf("%s-", jstr_or(rs, "metadata.name", ""));
	int ret = -1;

	jset_str(pod, "metadata.generateName", prefix);
	if (!cJSON_GetArraySize(jget(pod, "metadata.labels"))) {
		sb_adds(why, "unable to create pods, no labels");
		goto out;
	}
	if (obj_create(lk->reg, &res_pod, ns, pod, 0, &err) < 0) {
		sb_adds(why, err.msg);
		if (!ns_terminating(&err))
			event_record(lk->reg, rs, r->component, "Warning", "FailedCreate",
				     "Error creating: %s", err.msg);
		goto out;
	}
	event_record(lk->reg, rs, r->component, "Normal", "SuccessfulCreate", "Created pod: %s",
		     jstr_or(pod, "metadata.name", ""));
	ret = 0;
out:
	lk_err_clear(&err);
	free(prefix);
	cJSON_Delete(pod);
	return ret;
}

static int delete_pod(struct rsc *r, const cJSON *rs, const cJSON *pod, struct strbuf *why)
{
	struct delete_opts o = { .propagation = "Background", .grace = -1 };
	struct lk_err err = { 0 };
	const char *name = jstr_or(pod, "metadata.name", "");
	bool gone;
	cJSON *out = NULL;
	int ret = obj_delete(r->ctl.lk->reg, &res_pod, jstr_or(pod, "metadata.namespace", ""),
			     name, &o, &out, &gone, &err);
	cJSON_Delete(out);
	if (ret < 0 && err.code != LK_ENOTFOUND) {
		sb_adds(why, err.msg);
		event_record(r->ctl.lk->reg, rs, r->component, "Warning", "FailedDelete",
			     "Error deleting: %s", err.msg);
	} else if (ret == 0) {
		event_record(r->ctl.lk->reg, rs, r->component, "Normal", "SuccessfulDelete",
			     "Deleted pod: %s", name);
	}
	lk_err_clear(&err);
	return ret;
}

/* manageReplicas; returns the error text (caller frees) or NULL. */
static char *manage(struct rsc *r, const cJSON *rs, struct podvec *pods, time_t now)
{
	struct strbuf why = STRBUF_INIT;
	struct rs_plan plan;

	rs_plan(jint(rs, "spec.replicas", 1), pods->v, pods->n, now, &plan);
	for (size_t i = 0; i < plan.create; i++)
		if (create_pod(r, rs, &why) < 0)
			break;
	for (size_t i = 0; i < plan.nremove; i++)
		if (delete_pod(r, rs, plan.remove[i], &why) < 0 && why.len)
			break;
	return why.len ? sb_detach(&why, NULL) : NULL;
}

static void write_status(struct rsc *r, const cJSON *rs, cJSON *status, const char *key)
{
	struct lk_err err = { 0 };
	cJSON *upd;
	if (jequal(jget(rs, "status"), status)) {
		cJSON_Delete(status);
		return;
	}
	upd = cJSON_Duplicate(rs, 1);
	jset(upd, "status", status);
	if (wl_update(r->ctl.lk, r->res, upd, WRITE_STATUS, &err) < 0) {
		if (err.code == LK_ECONFLICT)
			wl_ctl_add_after(&r->ctl, key, 100);
		else if (err.code != LK_ENOTFOUND)
			lk_log("%s: cannot update status of '%s': %s", r->component, key, err.msg);
	}
	lk_err_clear(&err);
	cJSON_Delete(upd);
}

/* Look again when a ready pod becomes available (minReadySeconds). */
static void requeue_available(struct rsc *r, const cJSON *rs, struct podvec *pods,
			      time_t now, const char *key)
{
	long long min_ready = jint(rs, "spec.minReadySeconds", 0);
	time_t soonest = 0;
	if (min_ready <= 0)
		return;
	for (size_t i = 0; i < pods->n; i++) {
		time_t at = wl_pod_available_at(pods->v[i], min_ready);
		if (at && at >= now && (!soonest || at < soonest))
			soonest = at;
	}
	if (soonest)
		wl_ctl_add_after(&r->ctl, key, (int64_t)(soonest - now + 1) * 1000);
}

static void rs_sync(void *arg, const char *key)
{
	struct rsc *r = arg;
	char ns[256], name[256];
	struct podvec pods = { 0 };
	time_t now = time(NULL);
	char *err = NULL;
	cJSON *rs;

	key_split(key, ns, name);
	if (!informer_get(r->ctl.objs, ns, name))
		return;
	rs = cJSON_Duplicate(informer_get(r->ctl.objs, ns, name), 1);
	if (claim_pods(r, rs, &pods) < 0) {
		wl_ctl_add_after(&r->ctl, key, 100);
		goto out;
	}
	if (!wl_deleting(rs))
		err = manage(r, rs, &pods, now);
	write_status(r, rs, rs_status(rs, pods.v, pods.n, err, now), key);
	if (err)
		wl_ctl_add_after(&r->ctl, key, 5000);
	requeue_available(r, rs, &pods, now, key);
out:
	free(err);
	free(pods.v);
	cJSON_Delete(rs);
}

struct match_arg {
	struct rsc *r;
	const cJSON *labels;
};

static int enqueue_if_selects(void *arg, const cJSON *rs)
{
	struct match_arg *m = arg;
	struct label_selector *sel = wl_selector(rs);
	if (label_selector_match(sel, m->labels))
		wl_ctl_add_obj(&m->r->ctl, rs);
	label_selector_free(sel);
	return 0;
}

static void on_pod(void *arg, enum store_ev_type type, const cJSON *pod, const cJSON *old)
{
	struct rsc *r = arg;
	const cJSON *owner, *ref = wl_controller_ref(pod);
	struct match_arg m = { r, jget(pod, "metadata.labels") };

	if (!r->ctl.running)
		return;
	if (old && (owner = wl_owner(r->ctl.objs, old, r->res->kind)) &&
	    !(ref && str_eq(jstr(ref, "uid"), jstr(owner, "metadata.uid"))))
		wl_ctl_add_obj(&r->ctl, owner);
	if (ref) {
		if ((owner = wl_owner(r->ctl.objs, pod, r->res->kind)))
			wl_ctl_add_obj(&r->ctl, owner);
		return;
	}
	if (type == STORE_DELETED)
		return;
	if (old && !wl_controller_ref(old) &&
	    jequal(jget(old, "metadata.labels"), jget(pod, "metadata.labels")))
		return;
	/* An orphan: whoever selects it may adopt it. */
	informer_foreach(r->ctl.objs, jstr_or(pod, "metadata.namespace", ""),
			 enqueue_if_selects, &m);
}

static struct rsc *rsc_start(struct labkube *lk, const struct resource *res,
			     const char *component)
{
	struct rsc *r = xcalloc(1, sizeof(*r));
	r->res = res;
	r->component = component;
	r->pods = informer_new(lk->reg, &res_pod);
	wl_ctl_start(&r->ctl, lk, component, res, rs_sync, r);
	informer_on(r->pods, on_pod, r);
	return r;
}

static void rsc_stop(void *state)
{
	struct rsc *r = state;
	if (!r)
		return;
	wl_ctl_stop(&r->ctl);
	informer_free(r->pods);
	free(r);
}

void *replicaset_start(struct labkube *lk)
{
	return rsc_start(lk, &res_replicaset, "replicaset-controller");
}

void replicaset_stop(void *state)
{
	rsc_stop(state);
}

void *replicationcontroller_start(struct labkube *lk)
{
	return rsc_start(lk, &res_replicationcontroller, "replication-controller");
}

void replicationcontroller_stop(void *state)
{
	rsc_stop(state);
}
