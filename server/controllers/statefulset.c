/*
 * server/controllers/statefulset.c: the StatefulSet controller (k8s
 * pkg/controller/statefulset, release-1.32).
 *
 * Pods are named <set>-<ordinal> for ordinals spec.ordinals.start ..
 * start+replicas-1, carry the template's labels plus
 * statefulset.kubernetes.io/pod-name, apps.kubernetes.io/pod-index and
 * controller-revision-hash (the ControllerRevision's name), and get
 * spec.hostname = their name and spec.subdomain = spec.serviceName (the
 * stable DNS name under a headless Service). OrderedReady creates one pod
 * at a time, each once its predecessors are Running and Ready, and removes
 * surplus pods highest ordinal first, one at a time; Parallel does all at
 * once. Failed or Succeeded pods are deleted and made again. A template
 * change is a new ControllerRevision (revision max+1, an equal older one is
 * reused); RollingUpdate deletes pods of other revisions from the highest
 * ordinal down to the partition, one at a time, waiting for health.
 * Events are upstream's: "create Pod web-0 in StatefulSet web successful".
 *
 * Not here: volumeClaimTemplates (there is no PersistentVolumeClaim kind
 * yet), maxUnavailable (alpha), minReadySeconds in the ordering (it counts
 * in availableReplicas only), in-place identity repair of existing pods.
 */
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

#define COMPONENT "statefulset-controller"
#define REV_LABEL "controller-revision-hash"

cJSON *wl_revision_data(const cJSON *owner)
{
	cJSON *data = cJSON_CreateObject();
	const cJSON *t = jget(owner, "spec.template");
	cJSON *tmpl = cJSON_IsObject(t) ? cJSON_Duplicate(t, 1) : cJSON_CreateObject();
	cJSON_AddStringToObject(tmpl, "$patch", "replace");
	jset(data, "spec.template", tmpl);
	return data;
}

/* ---- the planner (pure) ---- */

static bool terminating(const cJSON *pod)
{
	return wl_deleting(pod);
}

bool sts_pod_healthy(const cJSON *pod)
{
	return pod && str_eq(jstr(pod, "status.phase"), "Running") && wl_pod_ready(pod);
}

static bool finished(const cJSON *pod)
{
	const char *phase = jstr_or(pod, "status.phase", "");
	return !strcmp(phase, "Failed") || !strcmp(phase, "Succeeded");
}

static bool add_step(struct sts_step *steps, size_t *n, size_t max, enum sts_act act,
		     long ordinal, const cJSON *pod)
{
	if (*n >= max)
		return false;
	steps[*n].act = act;
	steps[*n].ordinal = ordinal;
	steps[*n].pod = pod;
	(*n)++;
	return true;
}

/* processReplica over every wanted ordinal; true: stop here. */
static bool plan_replicas(const cJSON *const *pods, long want, long start, bool mono,
			  struct sts_step *steps, size_t *n, size_t max)
{
	for (long i = 0; i < want; i++) {
		const cJSON *p = pods[i];
		if (p && finished(p)) {
			if (!terminating(p))
				add_step(steps, n, max, STS_DELETE, start + i, p);
			if (mono)
				return true;
			continue;
		}
		if (!p) {
			add_step(steps, n, max, STS_CREATE, start + i, NULL);
			if (mono)
				return true;
			continue;
		}
		if (mono && (terminating(p) || !sts_pod_healthy(p))) {
			add_step(steps, n, max, STS_WAIT, start + i, p);
			return true;
		}
	}
	return false;
}

/* processCondemned, highest ordinal first; true: stop here. */
static bool plan_condemned(const cJSON *const *extra, size_t nextra, const cJSON *first_bad,
			   bool mono, struct sts_step *steps, size_t *n, size_t max)
{
	for (size_t i = 0; i < nextra; i++) {
		const cJSON *p = extra[i];
		if (terminating(p)) {
			if (mono) {
				add_step(steps, n, max, STS_WAIT, -1, p);
				return true;
			}
			continue;
		}
		if (mono && !sts_pod_healthy(p) && p != first_bad) {
			add_step(steps, n, max, STS_WAIT, -1, p);
			return true;
		}
		add_step(steps, n, max, STS_DELETE, -1, p);
		if (mono)
			return true;
	}
	return false;
}

static const cJSON *first_unhealthy(const cJSON *const *pods, long want,
				    const cJSON *const *extra, size_t nextra)
{
	for (long i = 0; i < want; i++)
		if (pods[i] && (!sts_pod_healthy(pods[i]) || terminating(pods[i])))
			return pods[i];
	for (size_t i = 0; i < nextra; i++)
		if (!sts_pod_healthy(extra[i]) || terminating(extra[i]))
			return extra[i];
	return NULL;
}

size_t sts_plan(const cJSON *const *pods, long want, long start,
		const cJSON *const *extra, size_t nextra, bool parallel,
		const char *update_rev, long partition, struct sts_step *steps,
		size_t max)
{
	const cJSON *bad = first_unhealthy(pods, want, extra, nextra);
	bool mono = !parallel;
	size_t n = 0;

	if (plan_replicas(pods, want, start, mono, steps, &n, max) ||
	    plan_condemned(extra, nextra, bad, mono, steps, &n, max) || partition < 0)
		return n;
	for (long t = want - 1; t >= partition && t >= 0; t--) {
		const cJSON *p = pods[t];
		if (p && !str_eq(wl_map_get(jget(p, "metadata.labels"), REV_LABEL), update_rev) &&
		    !terminating(p)) {
			add_step(steps, &n, max, STS_DELETE, start + t, p);
			return n;
		}
		if (!sts_pod_healthy(p) || terminating(p)) {
			if (p)
				add_step(steps, &n, max, STS_WAIT, start + t, p);
			return n;
		}
	}
	return n;
}

/* ---- the controller ---- */

struct ssc {
	struct wl_ctl ctl;
	struct informer *pods, *revs;
};

struct objv {
	const cJSON **v;
	size_t n, cap;
};

static void objv_push(struct objv *o, const cJSON *x)
{
	if (o->n == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 8;
		o->v = xrealloc(o->v, o->cap * sizeof(*o->v));
	}
	o->v[o->n++] = x;
}

static int collect(void *arg, const cJSON *obj)
{
	objv_push(arg, obj);
	return 0;
}

/* One sync's state. */
struct ssync {
	struct ssc *ssc;
	struct labkube *lk;
	const char *ns, *key;
	const cJSON *set;
	struct objv pods;            /* claimed pods */
	struct objv revs;            /* its ControllerRevisions, by revision */
	cJSON *update, *current;     /* the two revisions (owned copies) */
	long long collisions;
	bool failed;
	bool claim_failed;           /* an adoption/release conflicted */
};

/* isMemberOf: "<set>-<ordinal>"; the ordinal or -1. */
static long ordinal_of(const cJSON *set, const cJSON *pod)
{
	const char *name = jstr_or(pod, "metadata.name", ""), *sn = jstr_or(set, "metadata.name", "");
	size_t len = strlen(sn);
	char *end;
	long o;
	if (strncmp(name, sn, len) || name[len] != '-' || !name[len + 1])
		return -1;
	o = strtol(name + len + 1, &end, 10);
	return *end || o < 0 || name[len + 1] == '+' ? -1 : o;
}

static void claim(struct ssync *s)
{
	struct objv all = { 0 };
	struct label_selector *sel = wl_selector(s->set);
	informer_foreach(s->ssc->pods, s->ns, collect, &all);
	for (size_t i = 0; i < all.n; i++) {
		const cJSON *pod = all.v[i];
		bool match = label_selector_match(sel, jget(pod, "metadata.labels")) &&
			     ordinal_of(s->set, pod) >= 0;
		enum wl_claim c = wl_claim(s->set, pod, match);
		if ((c == WL_ADOPT || c == WL_RELEASE) &&
		    wl_claim_write(s->lk, &res_pod, pod, s->set, c, NULL) < 0)
			s->claim_failed = true;
		else if (c == WL_MINE || c == WL_ADOPT)
			objv_push(&s->pods, pod);
	}
	label_selector_free(sel);
	free(all.v);
}

static int rev_cmp(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	long long rx = jint(x, "revision", 0), ry = jint(y, "revision", 0);
	if (rx != ry)
		return rx < ry ? -1 : 1;
	return strcmp(jstr_or(x, "metadata.name", ""), jstr_or(y, "metadata.name", ""));
}

static void gather_revisions(struct ssync *s)
{
	struct objv all = { 0 };
	const char *uid = jstr_or(s->set, "metadata.uid", "");
	informer_foreach(s->ssc->revs, s->ns, collect, &all);
	for (size_t i = 0; i < all.n; i++) {
		const cJSON *ref = wl_controller_ref(all.v[i]);
		if (ref && str_eq(jstr(ref, "uid"), uid))
			objv_push(&s->revs, all.v[i]);
	}
	free(all.v);
	if (s->revs.n)
		qsort(s->revs.v, s->revs.n, sizeof(*s->revs.v), rev_cmp);
}

/* history.NewControllerRevision for data at revision rev. */
static cJSON *new_revision(const struct ssync *s, const cJSON *data, long long rev,
			   long long collisions)
{
	cJSON *cr = cJSON_CreateObject(), *labels;
	const cJSON *tl = jget(s->set, "spec.template.metadata.labels");
	char hash[16], *name;

	wl_hash(data, &collisions, hash);
	name = xasprintf("%.223s-%s", jstr_or(s->set, "metadata.name", ""), hash);
	jset_str(cr, "metadata.name", name);
	labels = cJSON_IsObject(tl) ? cJSON_Duplicate(tl, 1) : cJSON_CreateObject();
	wl_map_set(labels, "controller.kubernetes.io/hash", hash);
	jset(cr, "metadata.labels", labels);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(jget(cr, "metadata"), "ownerReferences"),
			     wl_owner_ref(s->set));
	jset(cr, "data", cJSON_Duplicate(data, 1));
	jset_int(cr, "revision", rev);
	free(name);
	return cr;
}

/* CreateControllerRevision, stepping the collision count on a clash. */
static cJSON *create_revision(struct ssync *s, const cJSON *data, long long rev)
{
	for (int tries = 0; tries < 5; tries++) {
		struct lk_err err = { 0 };
		cJSON *cr = new_revision(s, data, rev, s->collisions), *cur = NULL;
		if (obj_create(s->lk->reg, &res_controllerrevision, s->ns, cr, 0, &err) == 0)
			return cr;
		if (err.code == LK_EEXISTS &&
		    store_get(s->lk->store, "controllerrevisions.apps", s->ns,
			      jstr_or(cr, "metadata.name", ""), &cur, NULL) == 0 &&
		    jequal(jget(cur, "data"), data)) {
			cJSON_Delete(cr);
			lk_err_clear(&err);
			return cur;
		}
		cJSON_Delete(cur);
		cJSON_Delete(cr);
		if (err.code != LK_EEXISTS) {
			lk_log("statefulset: cannot create revision for '%s': %s", s->key, err.msg);
			lk_err_clear(&err);
			return NULL;
		}
		lk_err_clear(&err);
		s->collisions++;
	}
	return NULL;
}

/* getStatefulSetRevisions: the update and current revisions. */
static int sync_revisions(struct ssync *s)
{
	cJSON *data = wl_revision_data(s->set);
	const cJSON *last = s->revs.n ? s->revs.v[s->revs.n - 1] : NULL, *eq = NULL;
	long long next = last ? jint(last, "revision", 0) + 1 : 1;
	const char *cur = jstr(s->set, "status.currentRevision");

	for (size_t i = 0; i < s->revs.n; i++)
		if (jequal(jget(s->revs.v[i], "data"), data))
			eq = s->revs.v[i];
	if (eq && eq == last) {
		s->update = cJSON_Duplicate(eq, 1);
	} else if (eq) {
		struct lk_err err = { 0 };
		s->update = cJSON_Duplicate(eq, 1);
		jset_int(s->update, "revision", next);
		if (wl_update(s->lk, &res_controllerrevision, s->update, 0, &err) < 0)
			s->failed = true;
		lk_err_clear(&err);
	} else {
		s->update = create_revision(s, data, next);
	}
	cJSON_Delete(data);
	if (!s->update)
		return -1;
	for (size_t i = 0; cur && i < s->revs.n; i++)
		if (str_eq(jstr(s->revs.v[i], "metadata.name"), cur))
			s->current = cJSON_Duplicate(s->revs.v[i], 1);
	if (!s->current)
		s->current = cJSON_Duplicate(s->update, 1);
	return 0;
}

/* newVersionedStatefulSetPod: the current revision below the partition. */
static cJSON *new_pod(struct ssync *s, long ordinal)
{
	long long part = jint(s->set, "spec.updateStrategy.rollingUpdate.partition", 0);
	bool use_cur = str_eq(jstr(s->set, "spec.updateStrategy.type"), "RollingUpdate") &&
		       jget(s->set, "spec.updateStrategy.rollingUpdate") &&
		       ordinal < jint(s->set, "spec.ordinals.start", 0) + part &&
		       jget(s->current, "data.spec.template");
	const cJSON *rev = use_cur ? s->current : s->update;
	cJSON *tmpl = cJSON_Duplicate(use_cur ? jget(rev, "data.spec.template") :
				      jget(s->set, "spec.template"), 1);
	cJSON *pod, *labels;
	char *name = xasprintf("%s-%ld", jstr_or(s->set, "metadata.name", ""), ordinal), idx[24];

	cJSON_DeleteItemFromObjectCaseSensitive(tmpl, "$patch");
	pod = wl_pod_from_template(tmpl, s->set);
	jset_str(pod, "metadata.name", name);
	labels = jobj(pod, "metadata.labels");
	snprintf(idx, sizeof(idx), "%ld", ordinal);
	wl_map_set(labels, "statefulset.kubernetes.io/pod-name", name);
	wl_map_set(labels, "apps.kubernetes.io/pod-index", idx);
	wl_map_set(labels, REV_LABEL, jstr_or(rev, "metadata.name", ""));
	jset_str(pod, "spec.hostname", name);
	if (*jstr_or(s->set, "spec.serviceName", ""))
		jset_str(pod, "spec.subdomain", jstr(s->set, "spec.serviceName"));
	cJSON_Delete(tmpl);
	free(name);
	return pod;
}

static void pod_event(struct ssync *s, const char *verb, const char *pod, const struct lk_err *err)
{
	const char *set = jstr_or(s->set, "metadata.name", "");
	if (err && err->code)
		event_record(s->lk->reg, s->set, COMPONENT, "Warning",
			     *verb == 'c' ? "FailedCreate" : "FailedDelete",
			     "%s Pod %s in StatefulSet %s failed error: %s", verb, pod, set, err->msg);
	else
		event_record(s->lk->reg, s->set, COMPONENT, "Normal",
			     *verb == 'c' ? "SuccessfulCreate" : "SuccessfulDelete",
			     "%s Pod %s in StatefulSet %s successful", verb, pod, set);
}

static void apply(struct ssync *s, const struct sts_step *st)
{
	struct lk_err err = { 0 };
	if (st->act == STS_CREATE) {
		cJSON *pod = new_pod(s, st->ordinal);
		if (obj_create(s->lk->reg, &res_pod, s->ns, pod, 0, &err) < 0)
			s->failed = true;
		if (err.code != LK_EEXISTS)
			pod_event(s, "create", jstr_or(pod, "metadata.name", ""), &err);
		cJSON_Delete(pod);
	} else if (st->act == STS_DELETE) {
		struct delete_opts o = { .propagation = "Background", .grace = -1 };
		const char *name = jstr_or(st->pod, "metadata.name", "");
		cJSON *out = NULL;
		bool gone;
		if (obj_delete(s->lk->reg, &res_pod, s->ns, name, &o, &out, &gone, &err) < 0 &&
		    err.code != LK_ENOTFOUND)
			s->failed = true;
		if (err.code != LK_ENOTFOUND)
			pod_event(s, "delete", name, &err);
		cJSON_Delete(out);
	}
	lk_err_clear(&err);
}

static int desc_ordinal(const void *a, const void *b)
{
	long x = (long)strtol(strrchr(jstr_or(*(const cJSON *const *)a, "metadata.name", "-0"), '-') + 1, NULL, 10);
	long y = (long)strtol(strrchr(jstr_or(*(const cJSON *const *)b, "metadata.name", "-0"), '-') + 1, NULL, 10);
	return x == y ? 0 : x > y ? -1 : 1;
}

/* Split claimed pods into the wanted ordinals and the condemned. */
static void manage(struct ssync *s)
{
	long want = (long)jint(s->set, "spec.replicas", 1), start = (long)jint(s->set, "spec.ordinals.start", 0);
	const cJSON **pods = xcalloc((size_t)want + 1, sizeof(*pods));
	struct objv extra = { 0 };
	bool parallel = str_eq(jstr(s->set, "spec.podManagementPolicy"), "Parallel");
	long partition = str_eq(jstr(s->set, "spec.updateStrategy.type"), "OnDelete") ? -1 :
			 (long)jint(s->set, "spec.updateStrategy.rollingUpdate.partition", 0);
	size_t max = (size_t)want + s->pods.n + 2, n;
	struct sts_step *steps = xcalloc(max, sizeof(*steps));

	for (size_t i = 0; i < s->pods.n; i++) {
		long o = ordinal_of(s->set, s->pods.v[i]);
		if (o >= start && o < start + want)
			pods[o - start] = s->pods.v[i];
		else
			objv_push(&extra, s->pods.v[i]);
	}
	if (extra.n)
		qsort(extra.v, extra.n, sizeof(*extra.v), desc_ordinal);
	n = sts_plan(pods, want, start, extra.v, extra.n, parallel,
		     jstr_or(s->update, "metadata.name", ""), partition, steps, max);
	for (size_t i = 0; i < n; i++)
		apply(s, &steps[i]);
	free(steps);
	free(extra.v);
	free(pods);
}

static cJSON *status(struct ssync *s, time_t now)
{
	cJSON *st = cJSON_CreateObject();
	const char *cur = jstr_or(s->current, "metadata.name", ""), *upd = jstr_or(s->update, "metadata.name", "");
	long long min_ready = jint(s->set, "spec.minReadySeconds", 0);
	long long replicas = 0, ready = 0, avail = 0, ncur = 0, nupd = 0;

	for (size_t i = 0; i < s->pods.n; i++) {
		const cJSON *p = s->pods.v[i];
		const char *rev = wl_map_get(jget(p, "metadata.labels"), REV_LABEL);
		replicas += *jstr_or(p, "status.phase", "") != 0;
		if (sts_pod_healthy(p)) {
			ready++;
			avail += wl_pod_available(p, min_ready, now);
		}
		if (!terminating(p)) {
			ncur += str_eq(rev, cur);
			nupd += str_eq(rev, upd);
		}
	}
	if (str_eq(jstr(s->set, "spec.updateStrategy.type"), "RollingUpdate") &&
	    nupd == replicas && ready == replicas) {
		ncur = nupd;
		cur = upd;
	}
	wl_set_count(st, "observedGeneration", jint(s->set, "metadata.generation", 0), true);
	wl_set_count(st, "replicas", replicas, false);
	wl_set_count(st, "readyReplicas", ready, true);
	wl_set_count(st, "currentReplicas", ncur, true);
	wl_set_count(st, "updatedReplicas", nupd, true);
	jset_str(st, "currentRevision", cur);
	jset_str(st, "updateRevision", upd);
	jset_int(st, "collisionCount", s->collisions);
	if (jget(s->set, "status.conditions"))
		jset(st, "conditions", cJSON_Duplicate(jget(s->set, "status.conditions"), 1));
	wl_set_count(st, "availableReplicas", avail, false);
	return st;
}

static void write_status(struct ssync *s, cJSON *st)
{
	struct lk_err err = { 0 };
	cJSON *upd;
	if (jequal(jget(s->set, "status"), st)) {
		cJSON_Delete(st);
		return;
	}
	upd = cJSON_Duplicate(s->set, 1);
	jset(upd, "status", st);
	if (wl_update(s->lk, &res_statefulset, upd, WRITE_STATUS, &err) < 0 &&
	    err.code != LK_ENOTFOUND)
		s->failed = true;
	lk_err_clear(&err);
	cJSON_Delete(upd);
}

/* truncateHistory: drop the oldest revisions no pod uses, past the limit. */
static void truncate_history(struct ssync *s)
{
	long long limit = jint(s->set, "spec.revisionHistoryLimit", 10), old = 0;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < s->revs.n; i++) {
			const char *name = jstr_or(s->revs.v[i], "metadata.name", "");
			bool live = str_eq(name, jstr(s->update, "metadata.name")) ||
				    str_eq(name, jstr(s->current, "metadata.name"));
			for (size_t j = 0; !live && j < s->pods.n; j++)
				live = str_eq(name, wl_map_get(jget(s->pods.v[j], "metadata.labels"), REV_LABEL));
			if (live)
				continue;
			if (pass == 0) {
				old++;
			} else if (old-- > limit) {
				struct delete_opts o = { .propagation = "Background", .grace = -1 };
				struct lk_err err = { 0 };
				cJSON *out = NULL;
				bool gone;
				obj_delete(s->lk->reg, &res_controllerrevision, s->ns, name, &o,
					   &out, &gone, &err);
				cJSON_Delete(out);
				lk_err_clear(&err);
			}
		}
}

static void sts_sync(void *arg, const char *key)
{
	struct ssc *ssc = arg;
	char ns[256], name[256];
	struct ssync s = { 0 };
	cJSON *set;

	key_split(key, ns, name);
	if (!informer_get(ssc->ctl.objs, ns, name))
		return;
	set = cJSON_Duplicate(informer_get(ssc->ctl.objs, ns, name), 1);
	s.ssc = ssc;
	s.lk = ssc->ctl.lk;
	s.ns = ns;
	s.key = key;
	s.set = set;
	s.collisions = jint(set, "status.collisionCount", 0);
	claim(&s);
	gather_revisions(&s);
	if (s.claim_failed) {
		s.failed = true;
	} else if (sync_revisions(&s) == 0) {
		if (!wl_deleting(set))
			manage(&s);
		write_status(&s, status(&s, time(NULL)));
		truncate_history(&s);
	}
	if (s.failed || !s.update)
		wl_ctl_add_after(&ssc->ctl, key, 1000);
	cJSON_Delete(s.update);
	cJSON_Delete(s.current);
	free(s.pods.v);
	free(s.revs.v);
	cJSON_Delete(set);
}

struct orphan {
	struct ssc *ssc;
	const cJSON *pod;
};

static int enqueue_if_selects(void *arg, const cJSON *set)
{
	const struct orphan *o = arg;
	struct label_selector *sel = wl_selector(set);
	if (label_selector_match(sel, jget(o->pod, "metadata.labels")) &&
	    ordinal_of(set, o->pod) >= 0)
		wl_ctl_add_obj(&o->ssc->ctl, set);
	label_selector_free(sel);
	return 0;
}

static void on_pod(void *arg, enum store_ev_type type, const cJSON *pod, const cJSON *old)
{
	struct ssc *ssc = arg;
	struct orphan o = { ssc, pod };
	const cJSON *owner;
	if (!ssc->ctl.running)
		return;
	if (old && (owner = wl_owner(ssc->ctl.objs, old, "StatefulSet")))
		wl_ctl_add_obj(&ssc->ctl, owner);
	if ((owner = wl_owner(ssc->ctl.objs, pod, "StatefulSet")))
		wl_ctl_add_obj(&ssc->ctl, owner);
	else if (!wl_controller_ref(pod) && type != STORE_DELETED)
		informer_foreach(ssc->ctl.objs, jstr_or(pod, "metadata.namespace", ""),
				 enqueue_if_selects, &o);
}

void *statefulset_start(struct labkube *lk)
{
	struct ssc *ssc = xcalloc(1, sizeof(*ssc));
	ssc->pods = informer_new(lk->reg, &res_pod);
	ssc->revs = informer_new(lk->reg, &res_controllerrevision);
	wl_ctl_start(&ssc->ctl, lk, "statefulset", &res_statefulset, sts_sync, ssc);
	informer_on(ssc->pods, on_pod, ssc);
	return ssc;
}

void statefulset_stop(void *state)
{
	struct ssc *ssc = state;
	if (!ssc)
		return;
	wl_ctl_stop(&ssc->ctl);
	informer_free(ssc->pods);
	informer_free(ssc->revs);
	free(ssc);
}
