/*
 * server/controllers/deployment.c: the Deployment controller (k8s
 * pkg/controller/deployment, release-1.32; api-machinery.md §6).
 *
 * A Deployment owns ReplicaSets named "<deployment>-<hash>" (wl_hash of
 * its pod template, label pod-template-hash on the RS, its selector and
 * template). The RS whose template equals the Deployment's (ignoring that
 * label) is the new one; creating it or adopting an old one for a rollback
 * gives it revision max(old)+1 (deployment.kubernetes.io/revision, the old
 * number kept in .../revision-history). Replicas move between the new and
 * the old ones as upstream decides: proportional scaling on a scaling
 * event, maxSurge/maxUnavailable for RollingUpdate, all down then up for
 * Recreate; old RSes beyond revisionHistoryLimit are deleted once empty.
 * Status (counters, Available/Progressing conditions, progress deadline)
 * and ScalingReplicaSet events ("Scaled up replica set X from 0 to 2",
 * the 1.32 wording) are upstream's.
 *
 * The planner is pure (deploy_plan_*, deploy_status over struct dplan);
 * the sync below reads the caches, runs it and writes the steps in order.
 *
 * Not here: the deprecated rollbackTo annotation, pausing's interaction
 * with rollbacks (kubectl rollout undo is a template change, handled),
 * terminatingReplicas (1.33 alpha).
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/util.h"
#include "server/controllers/workload.h"
#include "server/labkube.h"
#include "server/registry/event.h"
#include "server/registry/informer.h"
#include "server/registry/selector.h"
#include "server/registry/write.h"
#include "server/resources/resources.h"

#define COMPONENT "deployment-controller"
#define HASH_LABEL "pod-template-hash"
#define A_REVISION "deployment.kubernetes.io/revision"
#define A_HISTORY "deployment.kubernetes.io/revision-history"
#define A_DESIRED "deployment.kubernetes.io/desired-replicas"
#define A_MAX "deployment.kubernetes.io/max-replicas"
#define MAX_HISTORY_CHARS 2000

/* ---- the planner ---- */

void deploy_fenceposts(const cJSON *d, int *surge, int *unavailable)
{
	const cJSON *ru = jget(d, "spec.strategy.rollingUpdate");
	int replicas = (int)jint(d, "spec.replicas", 1), s = 0, u = 0;

	*surge = *unavailable = 0;
	if (!str_eq(jstr(d, "spec.strategy.type"), "RollingUpdate"))
		return;
	wl_intstr_scaled(jget(ru, "maxSurge"), replicas, true, &s);
	wl_intstr_scaled(jget(ru, "maxUnavailable"), replicas, false, &u);
	if (s == 0 && u == 0)
		u = 1;
	*surge = s;
	*unavailable = replicas == 0 ? 0 : u > replicas ? replicas : u;
}

static int sum_replicas(const struct dplan *p)
{
	int n = 0;
	for (size_t i = 0; i < p->n; i++)
		n += p->rs[i].replicas;
	return n;
}

int deploy_new_replicas(const struct dplan *p, int current)
{
	int total = sum_replicas(p), max_total = p->replicas + p->surge, up;
	if (!p->rolling)
		return p->replicas;
	if (total >= max_total)
		return current;
	up = max_total - total;
	if (up > p->replicas - current)
		up = p->replicas - current;
	return current + up;
}

bool deploy_scaling_event(const struct dplan *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->rs[i].replicas > 0 && p->rs[i].desired >= 0 &&
		    p->rs[i].desired != p->replicas)
			return true;
	return false;
}

static void step(struct dplan *p, size_t idx, int to, const char *op)
{
	struct dstep *s = &p->steps[p->nsteps++];
	s->idx = idx;
	s->from = p->rs[idx].replicas;
	s->to = to;
	s->op = op;
	s->event = s->from != to;
	p->rs[idx].replicas = to;
}

bool deploy_plan_to(struct dplan *p, size_t idx, int to)
{
	if (p->rs[idx].replicas == to)
		return false;
	step(p, idx, to, p->rs[idx].replicas < to ? "up" : "down");
	return true;
}

static bool is_new(const struct dplan *p, size_t i)
{
	return p->new_rs >= 0 && (size_t)p->new_rs == i;
}

/* FindActiveOrLatest: the only active RS, else the new or newest one. */
static long active_or_latest(const struct dplan *p)
{
	long active = -1, nactive = 0, newest = -1;
	for (size_t i = 0; i < p->n; i++) {
		if (p->rs[i].replicas > 0) {
			active = (long)i;
			nactive++;
		}
		if (!is_new(p, i))
			newest = (long)i; /* oldest first: the last old one */
	}
	if (nactive == 1)
		return active;
	if (nactive > 1 || p->n == 0)
		return -1;
	return p->new_rs >= 0 ? p->new_rs : newest;
}

static bool saturated(const struct dplan *p)
{
	const struct drs *r = p->new_rs >= 0 ? &p->rs[p->new_rs] : NULL;
	return r && r->desired == p->replicas && r->replicas == p->replicas &&
	       r->available == p->replicas;
}

/* getReplicaSetFraction + GetProportion. */
static int proportion(const struct dplan *p, const struct drs *r, int to_add, int added)
{
	int dep = p->replicas + p->surge, ann, frac, allowed = to_add - added;
	if (r->replicas == 0 || to_add == 0 || to_add == added)
		return 0;
	if (p->replicas == 0) {
		frac = -r->replicas;
	} else {
		ann = r->max >= 0 ? r->max : p->status_replicas;
		if (ann == 0)
			return 0;
		frac = (int)lround((double)(r->replicas * dep) / (double)ann) - r->replicas;
	}
	if (to_add > 0)
		return frac < allowed ? frac : allowed;
	return frac > allowed ? frac : allowed;
}

/* qsort_r order of indexes into p->rs: larger first; on ties, newer first
 * when scaling up (to_add > 0), older first when scaling down. */
struct size_order {
	const struct dplan *p;
	int to_add;
};

static int by_size(const void *a, const void *b, void *arg)
{
	const struct size_order *o = arg;
	const struct drs *x = &o->p->rs[*(const size_t *)a];
	const struct drs *y = &o->p->rs[*(const size_t *)b];
	if (x->replicas != y->replicas)
		return x->replicas > y->replicas ? -1 : 1;
	/* rs is oldest first: index order is creation order */
	if (*(const size_t *)a == *(const size_t *)b)
		return 0;
	return (*(const size_t *)a < *(const size_t *)b) == (o->to_add < 0) ? -1 : 1;
}

static void plan_proportional(struct dplan *p)
{
	size_t *idx = xcalloc(p->n + 1, sizeof(*idx)), na = 0;
	int *size = xcalloc(p->n + 1, sizeof(*size)), all = 0, added = 0, to_add;
	const char *op = "";

	for (size_t i = 0; i < p->n; i++)
		if (p->rs[i].replicas > 0) {
			idx[na++] = i;
			all += p->rs[i].replicas;
		}
	to_add = (p->replicas > 0 ? p->replicas + p->surge : 0) - all;
	if (to_add) {
		struct size_order o = { p, to_add };
		op = to_add > 0 ? "up" : "down";
		qsort_r(idx, na, sizeof(*idx), by_size, &o);
	}
	for (size_t k = 0; k < na; k++) {
		int prop = proportion(p, &p->rs[idx[k]], to_add, added);
		size[k] = p->rs[idx[k]].replicas + prop;
		added += prop;
	}
	for (size_t k = 0; k < na; k++) {
		if (k == 0 && to_add) {
			size[0] += to_add - added;
			if (size[0] < 0)
				size[0] = 0;
		}
		step(p, idx[k], size[k], op);
	}
	free(idx);
	free(size);
}

void deploy_plan_scale(struct dplan *p)
{
	long al = active_or_latest(p);
	if (al >= 0) {
		deploy_plan_to(p, (size_t)al, p->replicas);
		return;
	}
	if (saturated(p)) {
		for (size_t i = 0; i < p->n; i++)
			if (!is_new(p, i) && p->rs[i].replicas > 0)
				deploy_plan_to(p, i, 0);
		return;
	}
	if (p->rolling)
		plan_proportional(p);
}

static bool reconcile_new(struct dplan *p)
{
	struct drs *n = &p->rs[p->new_rs];
	if (n->replicas == p->replicas)
		return false;
	if (n->replicas > p->replicas)
		return deploy_plan_to(p, (size_t)p->new_rs, p->replicas);
	return deploy_plan_to(p, (size_t)p->new_rs, deploy_new_replicas(p, n->replicas));
}

/* cleanupUnhealthyReplicas: old RSes with unavailable pods first. */
static int cleanup_unhealthy(struct dplan *p, int max)
{
	int total = 0;
	for (size_t i = 0; i < p->n && total < max; i++) {
		struct drs *r = &p->rs[i];
		int down;
		if (is_new(p, i) || r->replicas == 0 || r->replicas == r->available)
			continue;
		down = max - total;
		if (down > r->replicas - r->available)
			down = r->replicas - r->available;
		deploy_plan_to(p, i, r->replicas - down);
		total += down;
	}
	return total;
}

/* scaleDownOldReplicaSetsForRollingUpdate. */
static int scale_down_old(struct dplan *p)
{
	int min_avail = p->replicas - p->unavailable, avail = 0, total = 0, want;
	for (size_t i = 0; i < p->n; i++)
		avail += p->rs[i].available;
	if (avail <= min_avail)
		return 0;
	want = avail - min_avail;
	for (size_t i = 0; i < p->n && total < want; i++) {
		struct drs *r = &p->rs[i];
		int down;
		if (is_new(p, i) || r->replicas == 0)
			continue;
		down = r->replicas < want - total ? r->replicas : want - total;
		deploy_plan_to(p, i, r->replicas - down);
		total += down;
	}
	return total;
}

static bool reconcile_old(struct dplan *p)
{
	const struct drs *n = &p->rs[p->new_rs];
	int old = 0, all = sum_replicas(p), max_down, cleaned;
	for (size_t i = 0; i < p->n; i++)
		if (!is_new(p, i))
			old += p->rs[i].replicas;
	if (old == 0)
		return false;
	max_down = all - (p->replicas - p->unavailable) - (n->replicas - n->available);
	if (max_down <= 0)
		return false;
	cleaned = cleanup_unhealthy(p, max_down);
	return cleaned + scale_down_old(p) > 0;
}

void deploy_plan_rolling(struct dplan *p)
{
	if (p->new_rs < 0 || reconcile_new(p))
		return;
	reconcile_old(p);
}

bool deploy_plan_recreate_down(struct dplan *p)
{
	bool scaled = false;
	for (size_t i = 0; i < p->n; i++)
		if (!is_new(p, i) && p->rs[i].replicas > 0)
			scaled |= deploy_plan_to(p, i, 0);
	return scaled;
}

/* ---- status ---- */

static bool has_deadline(const cJSON *d)
{
	const cJSON *pds = jget(d, "spec.progressDeadlineSeconds");
	return cJSON_IsNumber(pds) && pds->valuedouble != INT_MAX;
}

static bool complete(const cJSON *d, const cJSON *st)
{
	long long want = jint(d, "spec.replicas", 1);
	return jint(st, "updatedReplicas", 0) == want && jint(st, "replicas", 0) == want &&
	       jint(st, "availableReplicas", 0) == want &&
	       jint(st, "observedGeneration", 0) >= jint(d, "metadata.generation", 0);
}

static bool progressing(const cJSON *old, const cJSON *st)
{
	long long old_old = jint(old, "replicas", 0) - jint(old, "updatedReplicas", 0);
	long long new_old = jint(st, "replicas", 0) - jint(st, "updatedReplicas", 0);
	return jint(st, "updatedReplicas", 0) > jint(old, "updatedReplicas", 0) ||
	       new_old < old_old || jint(st, "readyReplicas", 0) > jint(old, "readyReplicas", 0) ||
	       jint(st, "availableReplicas", 0) > jint(old, "availableReplicas", 0);
}

static time_t cond_updated(const cJSON *c)
{
	const char *ts = jstr(c, "lastUpdateTime");
	time_t t = ts ? lk_parse_rfc3339(ts) : -1;
	return t < 0 ? 0 : t;
}

static bool timed_out(const cJSON *d, const cJSON *st, time_t now)
{
	const cJSON *c = wl_cond_get(st, "Progressing");
	if (!has_deadline(d) || !c || str_eq(jstr(c, "reason"), "NewReplicaSetAvailable"))
		return false;
	if (str_eq(jstr(c, "reason"), "ProgressDeadlineExceeded"))
		return true;
	return cond_updated(c) + jint(d, "spec.progressDeadlineSeconds", 600) < now;
}

/* "ReplicaSet \"x\" ..." or, without a new RS, "Deployment \"d\" ...". */
static char *subject(const cJSON *d, const struct dplan *p, const char *what)
{
	if (p->new_rs >= 0)
		return xasprintf("ReplicaSet \"%s\" %s", p->rs[p->new_rs].name, what);
	return xasprintf("Deployment \"%s\" %s", jstr_or(d, "metadata.name", ""), what);
}

static void set_progress(const cJSON *d, const struct dplan *p, cJSON *st, time_t now)
{
	const cJSON *cur = wl_cond_get(jget(d, "status"), "Progressing");
	char *msg = NULL;
	cJSON *c;

	if (complete(d, st)) {
		msg = subject(d, p, "has successfully progressed.");
		c = wl_cond_new("Progressing", "True", "NewReplicaSetAvailable", msg, now, true);
		wl_cond_set(st, c);
	} else if (progressing(jget(d, "status"), st)) {
		msg = subject(d, p, "is progressing.");
		c = wl_cond_new("Progressing", "True", "ReplicaSetUpdated", msg, now, true);
		if (cur) {
			if (str_eq(jstr(cur, "status"), "True"))
				jset(c, "lastTransitionTime",
				     cJSON_Duplicate(jget(cur, "lastTransitionTime"), 1));
			wl_cond_remove(st, "Progressing");
		}
		wl_cond_set(st, c);
	} else if (timed_out(d, st, now)) {
		msg = subject(d, p, "has timed out progressing.");
		c = wl_cond_new("Progressing", "False", "ProgressDeadlineExceeded", msg, now, true);
		wl_cond_set(st, c);
	}
	free(msg);
}

/* getReplicaFailures: the new RS's first, else any RS's. */
static void set_failure(const struct dplan *p, cJSON *st)
{
	const cJSON *f = p->new_rs >= 0 ? p->rs[p->new_rs].failure : NULL;
	cJSON *c;
	for (size_t i = 0; !f && i < p->n; i++)
		f = p->rs[i].failure;
	if (!f) {
		wl_cond_remove(st, "ReplicaFailure");
		return;
	}
	c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "type", "ReplicaFailure");
	cJSON_AddStringToObject(c, "status", jstr_or(f, "status", ""));
	cJSON_AddItemToObject(c, "lastUpdateTime", cJSON_Duplicate(jget(f, "lastTransitionTime"), 1));
	cJSON_AddItemToObject(c, "lastTransitionTime", cJSON_Duplicate(jget(f, "lastTransitionTime"), 1));
	cJSON_AddStringToObject(c, "reason", jstr_or(f, "reason", ""));
	cJSON_AddStringToObject(c, "message", jstr_or(f, "message", ""));
	wl_cond_set(st, c);
}

/* requeueStuckDeployment: when to look at the deadline again. */
static int64_t stuck_requeue(const cJSON *d, const cJSON *st, time_t now)
{
	const cJSON *cur = wl_cond_get(jget(d, "status"), "Progressing");
	time_t after;
	if (!has_deadline(d) || !cur || complete(d, st) ||
	    str_eq(jstr(cur, "reason"), "ProgressDeadlineExceeded"))
		return -1;
	after = cond_updated(cur) + jint(d, "spec.progressDeadlineSeconds", 600) - now;
	return after < 1 ? 1000 : (int64_t)(after + 1) * 1000;
}

static void status_counts(const cJSON *d, const struct dplan *p, const int *spec0, cJSON *st)
{
	int avail = 0, total = 0, actual = 0, ready = 0;
	for (size_t i = 0; i < p->n; i++) {
		avail += p->rs[i].available;
		total += spec0[i];
		actual += p->rs[i].actual;
		ready += p->rs[i].ready;
	}
	wl_set_count(st, "observedGeneration", jint(d, "metadata.generation", 0), true);
	wl_set_count(st, "replicas", actual, true);
	wl_set_count(st, "updatedReplicas", p->new_rs >= 0 ? p->rs[p->new_rs].actual : 0, true);
	wl_set_count(st, "readyReplicas", ready, true);
	wl_set_count(st, "availableReplicas", avail, true);
	wl_set_count(st, "unavailableReplicas", total > avail ? total - avail : 0, true);
}

cJSON *deploy_status(const cJSON *d, const struct dplan *p, const int *spec0,
		     bool rollout, time_t now, int64_t *requeue_ms)
{
	const cJSON *old = jget(d, "status");
	cJSON *st = cJSON_CreateObject();
	bool min_ok;

	status_counts(d, p, spec0, st);
	if (cJSON_GetArraySize(jget(old, "conditions")))
		jset(st, "conditions", cJSON_Duplicate(jget(old, "conditions"), 1));
	if (jget(old, "collisionCount"))
		jset(st, "collisionCount", cJSON_Duplicate(jget(old, "collisionCount"), 1));
	min_ok = jint(st, "availableReplicas", 0) >= (long long)p->replicas - p->unavailable;
	wl_cond_set(st, min_ok ?
		    wl_cond_new("Available", "True", "MinimumReplicasAvailable",
				"Deployment has minimum availability.", now, true) :
		    wl_cond_new("Available", "False", "MinimumReplicasUnavailable",
				"Deployment does not have minimum availability.", now, true));
	if (rollout) {
		const cJSON *cur = wl_cond_get(old, "Progressing");
		if (!has_deadline(d))
			wl_cond_remove(st, "Progressing");
		else if (!(jint(st, "replicas", 0) == jint(st, "updatedReplicas", 0) && cur &&
			   str_eq(jstr(cur, "reason"), "NewReplicaSetAvailable")))
			set_progress(d, p, st, now);
		set_failure(p, st);
	}
	*requeue_ms = stuck_requeue(d, st, now);
	return st;
}

/* ---- annotations (keys have dots: no jget paths) ---- */

static const char *ann_get(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(jget(obj, "metadata.annotations"), key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void ann_set(cJSON *obj, const char *key, const char *val)
{
	cJSON *ann = jobj(obj, "metadata.annotations");
	cJSON_DeleteItemFromObjectCaseSensitive(ann, key);
	cJSON_AddStringToObject(ann, key, val);
}

/* -1 when missing or not a number (MaxRevision skips those as 0). */
static long long ann_int(const cJSON *obj, const char *key)
{
	const char *v = ann_get(obj, key);
	char *end;
	long long n;
	if (!v || !*v)
		return -1;
	n = strtoll(v, &end, 10);
	return *end ? -1 : n;
}

static bool skip_annotation(const char *k)
{
	static const char *const skip[] = { "kubectl.kubernetes.io/last-applied-configuration",
		A_REVISION, A_HISTORY, A_DESIRED, A_MAX, "deprecated.deployment.rollback.to" };
	for (size_t i = 0; i < ARRAY_SIZE(skip); i++)
		if (!strcmp(k, skip[i]))
			return true;
	return false;
}

/* copyDeploymentAnnotationsToReplicaSet. */
static bool copy_annotations(const cJSON *d, cJSON *rs)
{
	const cJSON *a;
	bool changed = false;
	cJSON_ArrayForEach(a, jget(d, "metadata.annotations")) {
		if (!cJSON_IsString(a) || skip_annotation(a->string) ||
		    str_eq(ann_get(rs, a->string), a->valuestring))
			continue;
		ann_set(rs, a->string, a->valuestring);
		changed = true;
	}
	return changed;
}

static bool set_replica_annotations(cJSON *rs, int desired, int max)
{
	char d[16], m[16];
	bool changed = false;
	snprintf(d, sizeof(d), "%d", desired);
	snprintf(m, sizeof(m), "%d", max);
	if (!str_eq(ann_get(rs, A_DESIRED), d)) {
		ann_set(rs, A_DESIRED, d);
		changed = true;
	}
	if (!str_eq(ann_get(rs, A_MAX), m)) {
		ann_set(rs, A_MAX, m);
		changed = true;
	}
	return changed;
}

/* Append old to revision-history, dropping the oldest past 2000 chars. */
static void add_history(cJSON *rs, const char *old)
{
	const char *h = ann_get(rs, A_HISTORY);
	size_t total, start = 0;
	char *v;
	if (!h || !*h) {
		ann_set(rs, A_HISTORY, old);
		return;
	}
	total = strlen(h) + strlen(old) + 1;
	while (total > MAX_HISTORY_CHARS && h[start]) {
		const char *comma = strchr(h + start, ',');
		size_t len = comma ? (size_t)(comma - (h + start)) : strlen(h + start);
		total -= len + 1;
		start += len + (comma ? 1 : 0);
	}
	if (total > MAX_HISTORY_CHARS)
		return;
	v = h[start] ? xasprintf("%s,%s", h + start, old) : xstrdup(old);
	ann_set(rs, A_HISTORY, v);
	free(v);
}

/* SetNewReplicaSetAnnotations. */
static bool new_rs_annotations(const cJSON *d, cJSON *rs, long long rev, bool exists,
			       int surge)
{
	bool changed = copy_annotations(d, rs);
	const char *old = ann_get(rs, A_REVISION);
	long long oldn = ann_int(rs, A_REVISION);
	char buf[24], *keep = old ? xstrdup(old) : NULL;

	if (old && *old && oldn < 0) {
		free(keep);
		return false;
	}
	if (oldn < rev) {
		snprintf(buf, sizeof(buf), "%lld", rev);
		ann_set(rs, A_REVISION, buf);
		changed = true;
		if (keep)
			add_history(rs, keep);
	}
	free(keep);
	if (!exists) {
		int want = (int)jint(d, "spec.replicas", 1);
		changed |= set_replica_annotations(rs, want, want + surge);
	}
	return changed;
}

/* ---- templates ---- */

/* Drop nulls, empty objects and empty arrays: Go's semantic equality
 * treats nil and empty alike. */
static void prune(cJSON *v)
{
	cJSON *c, *next;
	for (c = v ? v->child : NULL; c; c = next) {
		next = c->next;
		prune(c);
		if (cJSON_IsObject(v) && (cJSON_IsNull(c) || ((cJSON_IsObject(c) ||
		    cJSON_IsArray(c)) && !c->child)))
			cJSON_Delete(cJSON_DetachItemViaPointer(v, c));
	}
}

/* EqualIgnoreHash. */
static bool template_equal(const cJSON *a, const cJSON *b)
{
	cJSON *x = a ? cJSON_Duplicate(a, 1) : cJSON_CreateObject();
	cJSON *y = b ? cJSON_Duplicate(b, 1) : cJSON_CreateObject();
	bool eq;
	cJSON_DeleteItemFromObjectCaseSensitive(jget(x, "metadata.labels"), HASH_LABEL);
	cJSON_DeleteItemFromObjectCaseSensitive(jget(y, "metadata.labels"), HASH_LABEL);
	prune(x);
	prune(y);
	eq = jequal(x, y);
	cJSON_Delete(x);
	cJSON_Delete(y);
	return eq;
}

/* ---- the controller ---- */

struct dc {
	struct wl_ctl ctl;
	struct informer *rsets, *pods;
};

/* One sync's working state. */
struct dsync {
	struct dc *dc;
	struct labkube *lk;
	const char *key, *ns;
	const cJSON *cached;       /* the Deployment as the cache has it */
	cJSON *d;                  /* working copy: annotations and status */
	cJSON **rs;                /* working copies of its RSes, oldest first */
	struct drs *v;             /* the planner's view of them */
	int *spec0;                /* their spec.replicas before the plan */
	size_t n, cap;
	struct dplan p;
	bool failed;               /* look again soon */
	bool aborted;              /* a write conflicted: no status this round */
};

static int rs_order(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	time_t tx = wl_created(x), ty = wl_created(y);
	if (tx != ty)
		return tx < ty ? -1 : 1;
	return strcmp(jstr_or(x, "metadata.name", ""), jstr_or(y, "metadata.name", ""));
}

static void add_rs(struct dsync *s, cJSON *rs)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->rs = xrealloc(s->rs, s->cap * sizeof(*s->rs));
	}
	s->rs[s->n++] = rs;
}

struct gather {
	struct dsync *s;
	struct label_selector *sel;
	cJSON *adopt;               /* orphans to adopt, written after the walk */
};

static int gather_one(void *arg, const cJSON *rs)
{
	struct gather *g = arg;
	switch (wl_claim(g->s->cached, rs, label_selector_match(g->sel, jget(rs, "metadata.labels")))) {
	case WL_MINE:
		add_rs(g->s, cJSON_Duplicate(rs, 1));
		break;
	case WL_ADOPT:
	case WL_RELEASE:
		cJSON_AddItemToArray(g->adopt, cJSON_Duplicate(rs, 1));
		break;
	default:
		break;
	}
	return 0;
}

/* getReplicaSetsForDeployment: its RSes, adopting and releasing. */
static void gather_rs(struct dsync *s)
{
	struct gather g = { s, wl_selector(s->cached), cJSON_CreateArray() };
	cJSON *rs;

	informer_foreach(s->dc->rsets, s->ns, gather_one, &g);
	cJSON_ArrayForEach(rs, g.adopt) {
		bool sel = label_selector_match(g.sel, jget(rs, "metadata.labels"));
		cJSON *out = NULL;
		enum wl_claim c = wl_claim(s->cached, rs, sel);
		if (wl_claim_write(s->lk, &res_replicaset, rs, s->cached, c, &out) < 0)
			s->failed = s->aborted = true;
		else if (c == WL_ADOPT)
			add_rs(s, cJSON_Duplicate(out, 1));
		cJSON_Delete(out);
	}
	if (s->n)
		qsort(s->rs, s->n, sizeof(*s->rs), rs_order);
	label_selector_free(g.sel);
	cJSON_Delete(g.adopt);
}

static void view_fill(struct drs *v, const cJSON *rs)
{
	long long rev = ann_int(rs, A_REVISION);
	v->name = jstr_or(rs, "metadata.name", "");
	v->created = wl_created(rs);
	v->revision = rev < 0 ? 0 : rev;
	v->replicas = (int)jint(rs, "spec.replicas", 1);
	v->actual = (int)jint(rs, "status.replicas", 0);
	v->ready = (int)jint(rs, "status.readyReplicas", 0);
	v->available = (int)jint(rs, "status.availableReplicas", 0);
	v->desired = (int)ann_int(rs, A_DESIRED);
	v->max = (int)ann_int(rs, A_MAX);
	v->failure = wl_cond_get(jget(rs, "status"), "ReplicaFailure");
}

/* The planner's view: new RS, counts, fenceposts. Room for one more RS. */
static void build_view(struct dsync *s)
{
	struct dplan *p = &s->p;
	s->v = xcalloc(s->n + 1, sizeof(*s->v));
	s->spec0 = xcalloc(s->n + 1, sizeof(*s->spec0));
	p->rs = s->v;
	p->n = s->n;
	p->new_rs = -1;
	p->replicas = (int)jint(s->d, "spec.replicas", 1);
	p->rolling = str_eq(jstr(s->d, "spec.strategy.type"), "RollingUpdate");
	p->status_replicas = (int)jint(s->d, "status.replicas", 0);
	deploy_fenceposts(s->d, &p->surge, &p->unavailable);
	p->steps = xcalloc(2 * (s->n + 1) + 2, sizeof(*p->steps));
	for (size_t i = 0; i < s->n; i++) {
		view_fill(&s->v[i], s->rs[i]);
		s->spec0[i] = s->v[i].replicas;
		if (p->new_rs < 0 && template_equal(jget(s->rs[i], "spec.template"),
						    jget(s->d, "spec.template")))
			p->new_rs = (long)i;
	}
}

static long long max_old_revision(const struct dsync *s)
{
	long long max = 0;
	for (size_t i = 0; i < s->n; i++)
		if ((long)i != s->p.new_rs && s->v[i].revision > max)
			max = s->v[i].revision;
	return max;
}

static int update_rs(struct dsync *s, size_t i)
{
	struct lk_err err = { 0 };
	int ret = wl_update(s->lk, &res_replicaset, s->rs[i], 0, &err);
	if (ret < 0) {
		if (err.code != LK_ECONFLICT && err.code != LK_ENOTFOUND)
			lk_log("deployment: cannot update replica set '%s/%s': %s", s->ns,
			       jstr_or(s->rs[i], "metadata.name", ""), err.msg);
		s->failed = s->aborted = true;
	}
	lk_err_clear(&err);
	view_fill(&s->v[i], s->rs[i]);
	return ret;
}

static bool set_revision(cJSON *d, const char *rev)
{
	if (!rev || str_eq(ann_get(d, A_REVISION), rev))
		return false;
	ann_set(d, A_REVISION, rev);
	return true;
}

/* getNewReplicaSet for an existing new RS: its revision, annotations and
 * minReadySeconds; the deployment's revision; FoundNewReplicaSet. */
static int sync_existing_new(struct dsync *s)
{
	size_t i = (size_t)s->p.new_rs;
	cJSON *rs = s->rs[i];
	long long mrs = jint(s->d, "spec.minReadySeconds", 0);
	bool changed = new_rs_annotations(s->d, rs, max_old_revision(s) + 1, true, s->p.surge);

	if (changed || jint(rs, "spec.minReadySeconds", 0) != mrs) {
		wl_set_count(jobj(rs, "spec"), "minReadySeconds", mrs, true);
		if (update_rs(s, i) < 0)
			return -1;
	}
	set_revision(s->d, ann_get(rs, A_REVISION));
	if (has_deadline(s->d) && !wl_cond_get(jget(s->d, "status"), "Progressing")) {
		char *msg = xasprintf("Found new replica set \"%s\"", s->v[i].name);
		wl_cond_set(jobj(s->d, "status"), wl_cond_new("Progressing", "True",
			    "FoundNewReplicaSet", msg, time(NULL), true));
		free(msg);
	}
	return 0;
}

/* The new RS object for the deployment's template. */
static cJSON *new_rs_object(struct dsync *s, const char *hash)
{
	const cJSON *d = s->d;
	cJSON *rs = cJSON_CreateObject(), *tmpl = cJSON_Duplicate(jget(d, "spec.template"), 1);
	cJSON *sel = cJSON_Duplicate(jget(d, "spec.selector"), 1);
	char *name = xasprintf("%s-%s", jstr_or(d, "metadata.name", ""), hash);

	wl_map_set(jobj(tmpl, "metadata.labels"), HASH_LABEL, hash);
	wl_map_set(jobj(sel, "matchLabels"), HASH_LABEL, hash);
	jset_str(rs, "metadata.name", name);
	jset_str(rs, "metadata.namespace", s->ns);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(jget(rs, "metadata"), "ownerReferences"),
			     wl_owner_ref(s->cached));
	jset(rs, "metadata.labels", cJSON_Duplicate(jget(tmpl, "metadata.labels"), 1));
	jset_int(rs, "spec.replicas", 0);
	wl_set_count(jget(rs, "spec"), "minReadySeconds", jint(d, "spec.minReadySeconds", 0), true);
	jset(rs, "spec.selector", sel);
	jset(rs, "spec.template", tmpl);
	free(name);
	return rs;
}

/* Already there: ours (a slow cache) or a hash collision. */
static int create_exists(struct dsync *s, cJSON *rs)
{
	cJSON *cur = NULL;
	const cJSON *ref;
	store_get(s->lk->store, "replicasets.apps", s->ns, jstr_or(rs, "metadata.name", ""),
		  &cur, NULL);
	ref = cur ? wl_controller_ref(cur) : NULL;
	if (ref && str_eq(jstr(ref, "uid"), jstr(s->cached, "metadata.uid")) &&
	    template_equal(jget(cur, "spec.template"), jget(s->d, "spec.template"))) {
		add_rs(s, cur);
		return 1;
	}
	cJSON_Delete(cur);
	jset_int(jobj(s->d, "status"), "collisionCount",
		 jint(s->d, "status.collisionCount", 0) + 1);
	s->failed = true;
	return -1;
}

static void create_failed(struct dsync *s, const cJSON *rs, const struct lk_err *err)
{
	char *msg;
	if (err->code == LK_EFORBIDDEN && strstr(err->msg, "because it is being terminated"))
		return;
	msg = xasprintf("Failed to create new replica set \"%s\": %s",
			jstr_or(rs, "metadata.name", ""), err->msg);
	if (has_deadline(s->d))
		wl_cond_set(jobj(s->d, "status"), wl_cond_new("Progressing", "False",
			    "ReplicaSetCreateError", msg, time(NULL), true));
	event_record(s->lk->reg, s->cached, COMPONENT, "Warning", "ReplicaSetCreateError", "%s", msg);
	free(msg);
}

/* getNewReplicaSet(createIfNotExisted): create the new RS. 0 or -1. */
static int create_new(struct dsync *s)
{
	struct lk_err err = { 0 };
	const cJSON *cc = jget(s->d, "status.collisionCount");
	long long coll = cc ? jint(s->d, "status.collisionCount", 0) : 0, rev = max_old_revision(s) + 1;
	char hash[16], revs[24];
	int replicas = deploy_new_replicas(&s->p, 0), ret;
	cJSON *rs;

	wl_hash(jget(s->d, "spec.template"), cc ? &coll : NULL, hash);
	rs = new_rs_object(s, hash);
	jset_int(rs, "spec.replicas", replicas);
	new_rs_annotations(s->d, rs, rev, false, s->p.surge);
	ret = obj_create(s->lk->reg, &res_replicaset, s->ns, rs, 0, &err);
	if (ret < 0 && err.code == LK_EEXISTS)
		ret = create_exists(s, rs);
	else if (ret < 0)
		create_failed(s, rs, &err);
	lk_err_clear(&err);
	if (ret < 0) {
		s->failed = true;
		cJSON_Delete(rs);
		return -1;
	}
	if (ret == 0)
		add_rs(s, rs);
	else
		cJSON_Delete(rs);
	s->p.new_rs = (long)(s->n - 1);
	s->p.n = s->n;
	view_fill(&s->v[s->n - 1], s->rs[s->n - 1]);
	s->spec0[s->n - 1] = s->v[s->n - 1].replicas;
	if (ret == 1)
		return 0;
	if (replicas > 0)
		event_record(s->lk->reg, s->cached, COMPONENT, "Normal", "ScalingReplicaSet",
			     "Scaled up replica set %s from 0 to %d", s->v[s->n - 1].name, replicas);
	snprintf(revs, sizeof(revs), "%lld", rev);
	set_revision(s->d, revs);
	if (has_deadline(s->d)) {
		char *msg = xasprintf("Created new replica set \"%s\"", s->v[s->n - 1].name);
		wl_cond_set(jobj(s->d, "status"), wl_cond_new("Progressing", "True",
			    "NewReplicaSetCreated", msg, time(NULL), true));
		free(msg);
	}
	return 0;
}

/* scaleReplicaSet for each planned step, in order. */
static void apply_steps(struct dsync *s)
{
	int want = s->p.replicas, max = want + s->p.surge;
	for (size_t k = 0; k < s->p.nsteps && !s->aborted; k++) {
		const struct dstep *st = &s->p.steps[k];
		cJSON *rs = s->rs[st->idx];
		bool size = jint(rs, "spec.replicas", 1) != st->to;
		bool ann = set_replica_annotations(rs, want, max);
		if (!size && !ann)
			continue;
		jset_int(rs, "spec.replicas", st->to);
		if (update_rs(s, st->idx) < 0)
			return;
		if (size)
			event_record(s->lk->reg, s->cached, COMPONENT, "Normal", "ScalingReplicaSet",
				     "Scaled %s replica set %s from %d to %d", st->op,
				     s->v[st->idx].name, st->from, st->to);
	}
}

static int by_revision(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	long long rx = ann_int(x, A_REVISION), ry = ann_int(y, A_REVISION);
	if (rx != ry)
		return rx < ry ? -1 : 1;
	return rs_order(a, b);
}

/* cleanupDeployment: old, empty RSes beyond revisionHistoryLimit. */
static void cleanup(struct dsync *s)
{
	const cJSON *lim = jget(s->d, "spec.revisionHistoryLimit");
	const cJSON **old = xcalloc(s->n + 1, sizeof(*old));
	size_t n = 0;
	long long diff;

	for (size_t i = 0; i < s->n; i++)
		if ((long)i != s->p.new_rs && !wl_deleting(s->rs[i]))
			old[n++] = s->rs[i];
	diff = cJSON_IsNumber(lim) && lim->valuedouble != INT_MAX ?
	       (long long)n - (long long)lim->valuedouble : 0;
	qsort(old, n, sizeof(*old), by_revision);
	for (long long i = 0; i < diff; i++) {
		struct delete_opts o = { .propagation = "Background", .grace = -1 };
		struct lk_err err = { 0 };
		cJSON *out = NULL;
		bool gone;
		if (jint(old[i], "status.replicas", 0) || jint(old[i], "spec.replicas", 1) ||
		    jint(old[i], "metadata.generation", 0) > jint(old[i], "status.observedGeneration", 0))
			continue;
		obj_delete(s->lk->reg, &res_replicaset, s->ns, jstr_or(old[i], "metadata.name", ""),
			   &o, &out, &gone, &err);
		cJSON_Delete(out);
		lk_err_clear(&err);
	}
	free(old);
}

/* oldPodsRunning (Recreate): pods of old RSes not yet Succeeded/Failed. */
struct oldpods {
	const struct dsync *s;
	bool running;
};

static int old_pod(void *arg, const cJSON *pod)
{
	struct oldpods *o = arg;
	const cJSON *ref = wl_controller_ref(pod);
	const char *phase = jstr_or(pod, "status.phase", "");
	if (!ref || !strcmp(phase, "Succeeded") || !strcmp(phase, "Failed"))
		return 0;
	for (size_t i = 0; i < o->s->n; i++)
		if ((long)i != o->s->p.new_rs &&
		    str_eq(jstr(ref, "uid"), jstr(o->s->rs[i], "metadata.uid"))) {
			o->running = true;
			return 1;
		}
	return 0;
}

static bool old_pods_running(const struct dsync *s)
{
	struct oldpods o = { s, false };
	for (size_t i = 0; i < s->n; i++)
		if ((long)i != s->p.new_rs && s->v[i].actual > 0)
			return true;
	informer_foreach(s->dc->pods, s->ns, old_pod, &o);
	return o.running;
}

/* checkPausedConditions. */
static void paused_conditions(struct dsync *s)
{
	cJSON *st = jobj(s->d, "status");
	const cJSON *cur = wl_cond_get(st, "Progressing");
	bool paused = jbool(s->d, "spec.paused", false);
	bool shown = cur && str_eq(jstr(cur, "reason"), "DeploymentPaused");
	if (!has_deadline(s->d) || (cur && str_eq(jstr(cur, "reason"), "ProgressDeadlineExceeded")))
		return;
	if (paused && !shown)
		wl_cond_set(st, wl_cond_new("Progressing", "Unknown", "DeploymentPaused",
					    "Deployment is paused", time(NULL), true));
	else if (!paused && shown)
		wl_cond_set(st, wl_cond_new("Progressing", "Unknown", "DeploymentResumed",
					    "Deployment is resumed", time(NULL), true));
}

static void rollout_rolling(struct dsync *s)
{
	if (s->p.new_rs < 0 && create_new(s) < 0)
		return;
	deploy_plan_rolling(&s->p);
	apply_steps(s);
	if (!s->p.nsteps && complete(s->d, jget(s->d, "status")))
		cleanup(s);
}

static void rollout_recreate(struct dsync *s)
{
	if (deploy_plan_recreate_down(&s->p)) {
		apply_steps(s);
		return;
	}
	if (old_pods_running(s))
		return;
	if (s->p.new_rs < 0 && create_new(s) < 0)
		return;
	deploy_plan_to(&s->p, (size_t)s->p.new_rs, s->p.replicas);
	apply_steps(s);
	if (complete(s->d, jget(s->d, "status")))
		cleanup(s);
}

/* Status (and revision) onto the Deployment. WRITE_STATUS keeps
 * annotations only if the write path lets status writes change them (as
 * upstream's status strategy does); else they go on the main resource. */
static void write_deployment(struct dsync *s, cJSON *status, int64_t requeue)
{
	struct lk_err err = { 0 };
	bool ann = !jequal(jget(s->cached, "metadata.annotations"), jget(s->d, "metadata.annotations"));
	cJSON *upd = cJSON_Duplicate(s->d, 1);

	jset(upd, "status", status);
	if (!ann && jequal(jget(s->cached, "status"), status)) {
		if (requeue >= 0)
			wl_ctl_add_after(&s->dc->ctl, s->key, requeue);
		goto out;
	}
	if (wl_update(s->lk, &res_deployment, upd, WRITE_STATUS, &err) < 0)
		goto fail;
	if (ann && !jequal(jget(upd, "metadata.annotations"), jget(s->d, "metadata.annotations"))) {
		long long gen = jint(upd, "metadata.generation", 0);
		jset(upd, "metadata.annotations", cJSON_Duplicate(jget(s->d, "metadata.annotations"), 1));
		if (wl_update(s->lk, &res_deployment, upd, 0, &err) < 0)
			goto fail;
		if (jint(upd, "metadata.generation", 0) != gen &&
		    jint(upd, "status.observedGeneration", 0) == gen) {
			jset_int(jobj(upd, "status"), "observedGeneration", jint(upd, "metadata.generation", 0));
			if (wl_update(s->lk, &res_deployment, upd, WRITE_STATUS, &err) < 0)
				goto fail;
		}
	}
	goto out;
fail:
	if (err.code != LK_ECONFLICT && err.code != LK_ENOTFOUND)
		lk_log("deployment: cannot update '%s': %s", s->key, err.msg);
	s->failed = true;
out:
	lk_err_clear(&err);
	cJSON_Delete(upd);
}

static void finish(struct dsync *s, bool rollout)
{
	int64_t requeue = -1;
	cJSON *st = deploy_status(s->d, &s->p, s->spec0, rollout, time(NULL), &requeue);
	write_deployment(s, st, requeue);
}

static bool selects_all(const cJSON *d)
{
	const cJSON *sel = jget(d, "spec.selector");
	return cJSON_IsObject(sel) && !cJSON_GetArraySize(jget(sel, "matchLabels")) &&
	       !cJSON_GetArraySize(jget(sel, "matchExpressions"));
}

/* syncDeployment. */
static void run(struct dsync *s)
{
	bool paused = jbool(s->d, "spec.paused", false);
	gather_rs(s);
	build_view(s);
	if (s->aborted)
		return;
	if (s->p.new_rs >= 0 && sync_existing_new(s) < 0)
		return;
	if (wl_deleting(s->d)) {
		finish(s, false);
		return;
	}
	paused_conditions(s);
	if (paused || deploy_scaling_event(&s->p)) {
		deploy_plan_scale(&s->p);
		apply_steps(s);
		if (paused && !s->aborted)
			cleanup(s);
		if (!s->aborted)
			finish(s, false);
		return;
	}
	if (s->p.rolling)
		rollout_rolling(s);
	else
		rollout_recreate(s);
	if (!s->aborted)
		finish(s, true);
}

static void deploy_sync(void *arg, const char *key)
{
	struct dc *dc = arg;
	char ns[256], name[256];
	struct dsync s = { 0 };
	const cJSON *d;

	key_split(key, ns, name);
	if (!(d = informer_get(dc->ctl.objs, ns, name)))
		return;
	s.dc = dc;
	s.lk = dc->ctl.lk;
	s.key = key;
	s.ns = ns;
	s.cached = d;
	s.d = cJSON_Duplicate(d, 1);
	if (selects_all(d)) {
		event_record(s.lk->reg, d, COMPONENT, "Warning", "SelectingAll",
			     "This deployment is selecting all pods. A non-empty selector is required.");
	} else {
		run(&s);
	}
	if (s.failed)
		wl_ctl_add_after(&dc->ctl, key, 200);
	for (size_t i = 0; i < s.n; i++)
		cJSON_Delete(s.rs[i]);
	free(s.rs);
	free(s.v);
	free(s.spec0);
	free(s.p.steps);
	cJSON_Delete(s.d);
}

struct sel_arg {
	struct dc *dc;
	const cJSON *labels;
};

static int enqueue_if_selects(void *arg, const cJSON *d)
{
	struct sel_arg *a = arg;
	struct label_selector *sel = wl_selector(d);
	if (label_selector_match(sel, a->labels))
		wl_ctl_add_obj(&a->dc->ctl, d);
	label_selector_free(sel);
	return 0;
}

static void on_rs(void *arg, enum store_ev_type type, const cJSON *rs, const cJSON *old)
{
	struct dc *dc = arg;
	const cJSON *owner, *ref = wl_controller_ref(rs);
	struct sel_arg a = { dc, jget(rs, "metadata.labels") };

	if (!dc->ctl.running)
		return;
	if (old && (owner = wl_owner(dc->ctl.objs, old, "Deployment")) &&
	    !(ref && str_eq(jstr(ref, "uid"), jstr(owner, "metadata.uid"))))
		wl_ctl_add_obj(&dc->ctl, owner);
	if (ref) {
		if ((owner = wl_owner(dc->ctl.objs, rs, "Deployment")))
			wl_ctl_add_obj(&dc->ctl, owner);
		return;
	}
	if (type == STORE_DELETED || (old && !wl_controller_ref(old) &&
	    jequal(jget(old, "metadata.labels"), jget(rs, "metadata.labels"))))
		return;
	informer_foreach(dc->ctl.objs, jstr_or(rs, "metadata.namespace", ""), enqueue_if_selects, &a);
}

/* A pod gone may let a Recreate rollout go on. */
static void on_pod(void *arg, enum store_ev_type type, const cJSON *pod, const cJSON *old)
{
	struct dc *dc = arg;
	const cJSON *rs, *d;
	if (!dc->ctl.running || type != STORE_DELETED)
		return;
	if ((rs = wl_owner(dc->rsets, pod, "ReplicaSet")) &&
	    (d = wl_owner(dc->ctl.objs, rs, "Deployment")))
		wl_ctl_add_obj(&dc->ctl, d);
}

void *deployment_start(struct labkube *lk)
{
	struct dc *dc = xcalloc(1, sizeof(*dc));
	dc->rsets = informer_new(lk->reg, &res_replicaset);
	dc->pods = informer_new(lk->reg, &res_pod);
	wl_ctl_start(&dc->ctl, lk, "deployment", &res_deployment, deploy_sync, dc);
	informer_on(dc->rsets, on_rs, dc);
	informer_on(dc->pods, on_pod, dc);
	return dc;
}

void deployment_stop(void *state)
{
	struct dc *dc = state;
	if (!dc)
		return;
	wl_ctl_stop(&dc->ctl);
	informer_free(dc->rsets);
	informer_free(dc->pods);
	free(dc);
}
