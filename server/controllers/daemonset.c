/*
 * server/controllers/daemonset.c: the DaemonSet controller (k8s
 * pkg/controller/daemon, release-1.32), for our one node (or several, if
 * Node objects say so).
 *
 * A node should run the daemon pod when its template's nodeName (if any),
 * nodeSelector and required node affinity match the node and the pod
 * tolerates the node's NoSchedule/NoExecute taints (the daemon tolerations
 * below included). Each such node gets one pod (generateName "<ds>-",
 * labels controller-revision-hash and pod-template-generation, the daemon
 * tolerations, and a required node affinity on metadata.name so the
 * scheduler puts it there); failed pods are deleted (Warning
 * FailedDaemonPod) and made again, surplus ones and pods on nodes that
 * should not run them are deleted. RollingUpdate replaces pods of an old
 * revision within maxUnavailable. The revision is a ControllerRevision
 * "<ds>-<hash>". Status: desired/current/misscheduled/ready/updated/
 * available/unavailable counts and observedGeneration.
 *
 * Not here: maxSurge > 0 rolling updates (treated as maxUnavailable 1),
 * failed-pod back-off.
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

#define COMPONENT "daemonset-controller"
#define HASH_LABEL "controller-revision-hash"
#define GEN_LABEL "pod-template-generation"

/* AddOrUpdateDaemonPodTolerations, in upstream's order. */
static void add_tolerations(cJSON *spec)
{
	static const char *const tol[][2] = {
		{ "node.kubernetes.io/not-ready", "NoExecute" },
		{ "node.kubernetes.io/unreachable", "NoExecute" },
		{ "node.kubernetes.io/disk-pressure", "NoSchedule" },
		{ "node.kubernetes.io/memory-pressure", "NoSchedule" },
		{ "node.kubernetes.io/pid-pressure", "NoSchedule" },
		{ "node.kubernetes.io/unschedulable", "NoSchedule" },
		{ "node.kubernetes.io/network-unavailable", "NoSchedule" },
	};
	size_t n = ARRAY_SIZE(tol) - !jbool(spec, "hostNetwork", false);
	cJSON *list = jget(spec, "tolerations"), *t;

	if (!cJSON_IsArray(list)) {
		list = cJSON_CreateArray();
		jset(spec, "tolerations", list);
	}
	for (size_t i = 0; i < n; i++) {
		bool have = false;
		cJSON_ArrayForEach(t, list)
			have |= str_eq(jstr(t, "key"), tol[i][0]) &&
				str_eq(jstr(t, "operator"), "Exists") &&
				str_eq(jstr(t, "effect"), tol[i][1]) && !*jstr_or(t, "value", "");
		if (have)
			continue;
		t = cJSON_CreateObject();
		cJSON_AddStringToObject(t, "key", tol[i][0]);
		cJSON_AddStringToObject(t, "operator", "Exists");
		cJSON_AddStringToObject(t, "effect", tol[i][1]);
		cJSON_AddItemToArray(list, t);
	}
}

/* NodeShouldRunDaemonPod: (shouldRun, *keep = shouldContinueRunning). */
static bool should_run(const cJSON *ds, const cJSON *node, bool *keep)
{
	const cJSON *tspec = jget(ds, "spec.template.spec"), *taint;
	cJSON *spec = tspec ? cJSON_Duplicate(tspec, 1) : cJSON_CreateObject();
	const char *want = jstr_or(spec, "nodeName", ""), *name = jstr_or(node, "metadata.name", "");
	bool run = true;

	*keep = false;
	add_tolerations(spec);
	if ((*want && strcmp(want, name)) || !sched_affinity_match(spec, node)) {
		cJSON_Delete(spec);
		return false;
	}
	*keep = true;
	cJSON_ArrayForEach(taint, jget(node, "spec.taints")) {
		const char *effect = jstr_or(taint, "effect", "");
		if (strcmp(effect, "NoSchedule") && strcmp(effect, "NoExecute"))
			continue;
		if (!sched_tolerates(jget(spec, "tolerations"), taint)) {
			run = false;
			if (!strcmp(effect, "NoExecute"))
				*keep = false;
		}
	}
	cJSON_Delete(spec);
	return run;
}

/* GetTargetNodeName: spec.nodeName, else the metadata.name affinity. */
static const char *target_node(const cJSON *pod)
{
	const cJSON *term, *req;
	if (*jstr_or(pod, "spec.nodeName", ""))
		return jstr(pod, "spec.nodeName");
	cJSON_ArrayForEach(term, jget(pod, "spec.affinity.nodeAffinity."
				      "requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms"))
		cJSON_ArrayForEach(req, jget(term, "matchFields"))
			if (str_eq(jstr(req, "key"), "metadata.name") &&
			    str_eq(jstr(req, "operator"), "In") &&
			    cJSON_GetArraySize(jget(req, "values")) == 1)
				return cJSON_GetArrayItem(jget(req, "values"), 0)->valuestring;
	return "";
}

/* ---- the controller ---- */

struct dsc {
	struct wl_ctl ctl;
	struct informer *pods, *nodes, *revs;
};

struct objv {
	const cJSON **v;
	size_t n, cap;
};

static int collect(void *arg, const cJSON *obj)
{
	struct objv *o = arg;
	if (o->n == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 8;
		o->v = xrealloc(o->v, o->cap * sizeof(*o->v));
	}
	o->v[o->n++] = obj;
	return 0;
}

struct dsync {
	struct dsc *dsc;
	struct labkube *lk;
	const char *ns, *key;
	const cJSON *ds;
	struct objv pods;           /* claimed */
	struct objv nodes;
	struct objv revs;           /* its ControllerRevisions */
	long long collisions;
	bool has_coll;              /* status.collisionCount is set */
	cJSON *stand_in;
	char hash[16];
	bool acted, failed;
	bool claim_failed;          /* an adoption/release conflicted */
};

static void claim(struct dsync *s)
{
	struct objv all = { 0 };
	struct label_selector *sel = wl_selector(s->ds);
	informer_foreach(s->dsc->pods, s->ns, collect, &all);
	for (size_t i = 0; i < all.n; i++) {
		const cJSON *pod = all.v[i];
		enum wl_claim c = wl_claim(s->ds, pod, label_selector_match(sel, jget(pod, "metadata.labels")));
		if ((c == WL_ADOPT || c == WL_RELEASE) &&
		    wl_claim_write(s->lk, &res_pod, pod, s->ds, c, NULL) < 0)
			s->claim_failed = true;
		else if (c == WL_MINE || c == WL_ADOPT)
			collect(&s->pods, pod);
	}
	label_selector_free(sel);
	free(all.v);
}

static void gather_revisions(struct dsync *s)
{
	struct objv all = { 0 };
	informer_foreach(s->dsc->revs, s->ns, collect, &all);
	for (size_t i = 0; i < all.n; i++) {
		const cJSON *ref = wl_controller_ref(all.v[i]);
		if (ref && str_eq(jstr(ref, "uid"), jstr(s->ds, "metadata.uid")))
			collect(&s->revs, all.v[i]);
	}
	free(all.v);
}

/* snapshot: a new ControllerRevision "<ds>-<hash>" for the template. */
static int snapshot(struct dsync *s, const cJSON *data, long long rev)
{
	const cJSON *tl = jget(s->ds, "spec.template.metadata.labels");
	struct lk_err err = { 0 };
	cJSON *cr = cJSON_CreateObject(), *cur = NULL;
	char *name;
	int ret = 0;

	wl_hash(jget(s->ds, "spec.template"), s->has_coll ? &s->collisions : NULL, s->hash);
	name = xasprintf("%s-%s", jstr_or(s->ds, "metadata.name", ""), s->hash);
	jset_str(cr, "metadata.name", name);
	jset(cr, "metadata.labels", cJSON_IsObject(tl) ? cJSON_Duplicate(tl, 1) : cJSON_CreateObject());
	wl_map_set(jget(cr, "metadata.labels"), HASH_LABEL, s->hash);
	if (jget(s->ds, "metadata.annotations"))
		jset(cr, "metadata.annotations", cJSON_Duplicate(jget(s->ds, "metadata.annotations"), 1));
	cJSON_AddItemToArray(cJSON_AddArrayToObject(jget(cr, "metadata"), "ownerReferences"),
			     wl_owner_ref(s->ds));
	jset(cr, "data", cJSON_Duplicate(data, 1));
	jset_int(cr, "revision", rev);
	if (obj_create(s->lk->reg, &res_controllerrevision, s->ns, cr, 0, &err) < 0 &&
	    (err.code != LK_EEXISTS ||
	     store_get(s->lk->store, "controllerrevisions.apps", s->ns, name, &cur, NULL) < 0 ||
	     !jequal(jget(cur, "data"), data))) {
		if (err.code == LK_EEXISTS) {   /* a hash collision: try another */
			s->collisions++;
			s->has_coll = true;
		} else {
			lk_log("daemonset: cannot create revision for '%s': %s", s->key, err.msg);
		}
		ret = -1;
	}
	cJSON_Delete(cur);
	cJSON_Delete(cr);
	free(name);
	lk_err_clear(&err);
	return ret;
}

/* constructHistory: the current revision's hash (created when new). */
static int sync_history(struct dsync *s)
{
	cJSON *data = wl_revision_data(s->ds), *cr;
	const cJSON *cur = NULL;
	long long max = 0;
	int ret = 0;

	for (size_t i = 0; i < s->revs.n; i++) {
		if (jequal(jget(s->revs.v[i], "data"), data))
			cur = s->revs.v[i];
		else if (jint(s->revs.v[i], "revision", 0) > max)
			max = jint(s->revs.v[i], "revision", 0);
	}
	if (!cur) {
		ret = snapshot(s, data, max + 1);
	} else {
		const char *h = wl_map_get(jget(cur, "metadata.labels"), HASH_LABEL);
		snprintf(s->hash, sizeof(s->hash), "%s", h ? h : jstr_or(cur, "metadata.name", ""));
		if (jint(cur, "revision", 0) <= max) {
			struct lk_err err = { 0 };
			cr = cJSON_Duplicate(cur, 1);
			jset_int(cr, "revision", max + 1);
			wl_update(s->lk, &res_controllerrevision, cr, 0, &err);
			lk_err_clear(&err);
			cJSON_Delete(cr);
		}
	}
	cJSON_Delete(data);
	return ret;
}

static int by_revision(const void *a, const void *b)
{
	long long x = jint(*(const cJSON *const *)a, "revision", 0);
	long long y = jint(*(const cJSON *const *)b, "revision", 0);
	return x == y ? 0 : x < y ? -1 : 1;
}

/* cleanupHistory: revisions no pod uses, oldest first, past the limit. */
static void cleanup_history(struct dsync *s)
{
	long long limit = jint(s->ds, "spec.revisionHistoryLimit", 10), old = 0;
	const cJSON **dead = xcalloc(s->revs.n + 1, sizeof(*dead));

	for (size_t i = 0; i < s->revs.n; i++) {
		const char *h = wl_map_get(jget(s->revs.v[i], "metadata.labels"), HASH_LABEL);
		bool live = str_eq(h, s->hash);
		for (size_t j = 0; !live && j < s->pods.n; j++)
			live = str_eq(h, wl_map_get(jget(s->pods.v[j], "metadata.labels"), HASH_LABEL));
		if (!live)
			dead[old++] = s->revs.v[i];
	}
	if (old)
		qsort(dead, (size_t)old, sizeof(*dead), by_revision);
	for (long long i = 0; i < old - limit; i++) {
		struct delete_opts o = { .propagation = "Background", .grace = -1 };
		struct lk_err err = { 0 };
		cJSON *out = NULL;
		bool gone;
		obj_delete(s->lk->reg, &res_controllerrevision, s->ns,
			   jstr_or(dead[i], "metadata.name", ""), &o, &out, &gone, &err);
		cJSON_Delete(out);
		lk_err_clear(&err);
	}
	free(dead);
}

static const char *template_generation(const cJSON *ds, char *buf)
{
	const char *a = wl_map_get(jget(ds, "metadata.annotations"),
				   "deprecated.daemonset.template.generation");
	if (a)
		return a;
	snprintf(buf, 24, "%lld", jint(ds, "metadata.generation", 1));
	return buf;
}

/* CreatePodTemplate + ReplaceDaemonSetPodNodeNameNodeAffinity. */
static cJSON *new_pod(struct dsync *s, const char *node)
{
	cJSON *pod = wl_pod_from_template(jget(s->ds, "spec.template"), s->ds), *aff;
	char gen[24], *prefix = xasprintf("%s-", jstr_or(s->ds, "metadata.name", ""));

	jset_str(pod, "metadata.generateName", prefix);
	wl_map_set(jobj(pod, "metadata.labels"), GEN_LABEL, template_generation(s->ds, gen));
	wl_map_set(jobj(pod, "metadata.labels"), HASH_LABEL, s->hash);
	add_tolerations(jget(pod, "spec"));
	aff = cJSON_Parse("{\"nodeSelectorTerms\":[{\"matchFields\":[{\"key\":\"metadata.name\","
			  "\"operator\":\"In\",\"values\":[]}]}]}");
	cJSON_AddItemToArray(jget(cJSON_GetArrayItem(jget(cJSON_GetArrayItem(
		jget(aff, "nodeSelectorTerms"), 0), "matchFields"), 0), "values"),
		cJSON_CreateString(node));
	jset(jobj(pod, "spec.affinity.nodeAffinity"),
	     "requiredDuringSchedulingIgnoredDuringExecution", aff);
	free(prefix);
	return pod;
}

static void create_pod(struct dsync *s, const char *node)
{
	struct lk_err err = { 0 };
	cJSON *pod = new_pod(s, node);
	s->acted = true;
	if (obj_create(s->lk->reg, &res_pod, s->ns, pod, 0, &err) < 0) {
		s->failed = true;
		event_record(s->lk->reg, s->ds, COMPONENT, "Warning", "FailedCreate", "Error creating: %s",
			     err.msg);
	} else {
		event_record(s->lk->reg, s->ds, COMPONENT, "Normal", "SuccessfulCreate", "Created pod: %s",
			     jstr_or(pod, "metadata.name", ""));
	}
	lk_err_clear(&err);
	cJSON_Delete(pod);
}

static void delete_pod(struct dsync *s, const cJSON *pod)
{
	struct delete_opts o = { .propagation = "Background", .grace = -1 };
	struct lk_err err = { 0 };
	const char *name = jstr_or(pod, "metadata.name", "");
	cJSON *out = NULL;
	bool gone;
	s->acted = true;
	if (obj_delete(s->lk->reg, &res_pod, s->ns, name, &o, &out, &gone, &err) < 0) {
		if (err.code != LK_ENOTFOUND)
			event_record(s->lk->reg, s->ds, COMPONENT, "Warning", "FailedDelete",
				     "Error deleting: %s", err.msg);
	} else {
		event_record(s->lk->reg, s->ds, COMPONENT, "Normal", "SuccessfulDelete", "Deleted pod: %s", name);
	}
	cJSON_Delete(out);
	lk_err_clear(&err);
}

/* The daemon pods on node (not terminal and deleted), oldest first. */
static size_t pods_on(struct dsync *s, const char *node, const cJSON **out)
{
	size_t n = 0;
	for (size_t i = 0; i < s->pods.n; i++) {
		const cJSON *p = s->pods.v[i];
		const char *phase = jstr_or(p, "status.phase", "");
		if (wl_deleting(p) && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed")))
			continue;
		if (str_eq(target_node(p), node))
			out[n++] = p;
	}
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && wl_created(out[j]) < wl_created(out[j - 1]); j--) {
			const cJSON *t = out[j];
			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return n;
}

/* podsShouldBeOnNode, then act. */
static void manage_node(struct dsync *s, const cJSON *node, const cJSON **buf)
{
	const char *name = jstr_or(node, "metadata.name", "");
	size_t n = pods_on(s, name, buf), running = 0;
	bool keep, run = should_run(s->ds, node, &keep);

	if (run && !n) {
		create_pod(s, name);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const char *phase = jstr_or(buf[i], "status.phase", "");
		if (wl_deleting(buf[i]))
			continue;
		if (!keep) {
			delete_pod(s, buf[i]);
		} else if (!strcmp(phase, "Failed")) {
			event_record(s->lk->reg, s->ds, COMPONENT, "Warning", "FailedDaemonPod",
				     "Found failed daemon pod %s/%s on node %s, will try to kill it",
				     s->ns, jstr_or(buf[i], "metadata.name", ""), name);
			delete_pod(s, buf[i]);
		} else if (!strcmp(phase, "Succeeded") || running++ > 0) {
			delete_pod(s, buf[i]);
		}
	}
}

/* rollingUpdate (maxSurge 0): old pods out within maxUnavailable. */
static void rolling_update(struct dsync *s, const cJSON **buf, long desired)
{
	const cJSON *mu = jget(s->ds, "spec.updateStrategy.rollingUpdate.maxUnavailable");
	long long min_ready = jint(s->ds, "spec.minReadySeconds", 0);
	int max = 1, unavailable = 0;
	time_t now = time(NULL);
	struct objv cand = { 0 };

	wl_intstr_scaled(mu, (int)desired, true, &max);
	if (max < 1)
		max = 1;
	for (size_t i = 0; i < s->nodes.n; i++) {
		size_t n = pods_on(s, jstr_or(s->nodes.v[i], "metadata.name", ""), buf);
		const cJSON *p = n ? buf[0] : NULL;
		bool fresh = p && str_eq(wl_map_get(jget(p, "metadata.labels"), HASH_LABEL), s->hash);
		if (n != 1 || fresh) {
			unavailable += n != 1 || !wl_pod_available(p, min_ready, now);
			continue;
		}
		if (!wl_pod_available(p, min_ready, now))
			delete_pod(s, p);
		else
			collect(&cand, p);
	}
	for (size_t i = 0; i < cand.n && unavailable < max; i++, unavailable++)
		delete_pod(s, cand.v[i]);
	free(cand.v);
}

static cJSON *status(struct dsync *s, const cJSON **buf)
{
	long long des = 0, cur = 0, mis = 0, ready = 0, upd = 0, avail = 0;
	long long min_ready = jint(s->ds, "spec.minReadySeconds", 0);
	cJSON *st = cJSON_CreateObject();
	time_t now = time(NULL);

	for (size_t i = 0; i < s->nodes.n; i++) {
		bool keep, run = should_run(s->ds, s->nodes.v[i], &keep);
		size_t n = pods_on(s, jstr_or(s->nodes.v[i], "metadata.name", ""), buf);
		if (!run) {
			mis += n > 0;
			continue;
		}
		des++;
		if (!n)
			continue;
		cur++;
		if (wl_pod_ready(buf[0])) {
			ready++;
			avail += wl_pod_available(buf[0], min_ready, now);
		}
		upd += str_eq(wl_map_get(jget(buf[0], "metadata.labels"), HASH_LABEL), s->hash);
	}
	jset_int(st, "currentNumberScheduled", cur);
	jset_int(st, "numberMisscheduled", mis);
	jset_int(st, "desiredNumberScheduled", des);
	jset_int(st, "numberReady", ready);
	wl_set_count(st, "observedGeneration", jint(s->ds, "metadata.generation", 0), true);
	wl_set_count(st, "updatedNumberScheduled", upd, true);
	wl_set_count(st, "numberAvailable", avail, true);
	wl_set_count(st, "numberUnavailable", des - avail, true);
	if (s->has_coll)
		jset_int(st, "collisionCount", s->collisions);
	if (jget(s->ds, "status.conditions"))
		jset(st, "conditions", cJSON_Duplicate(jget(s->ds, "status.conditions"), 1));
	return st;
}

static void write_status(struct dsync *s, cJSON *st)
{
	struct lk_err err = { 0 };
	cJSON *upd;
	if (jequal(jget(s->ds, "status"), st)) {
		cJSON_Delete(st);
		return;
	}
	upd = cJSON_Duplicate(s->ds, 1);
	jset(upd, "status", st);
	if (wl_update(s->lk, &res_daemonset, upd, WRITE_STATUS, &err) < 0 &&
	    err.code != LK_ENOTFOUND)
		s->failed = true;
	lk_err_clear(&err);
	cJSON_Delete(upd);
}

static void ds_sync(void *arg, const char *key)
{
	struct dsc *dsc = arg;
	char ns[256], name[256];
	struct dsync s = { 0 };
	const cJSON **buf;
	long desired = 0;

	key_split(key, ns, name);
	if (!(s.ds = informer_get(dsc->ctl.objs, ns, name)))
		return;
	s.ds = cJSON_Duplicate(s.ds, 1);
	s.dsc = dsc;
	s.lk = dsc->ctl.lk;
	s.ns = ns;
	s.key = key;
	informer_foreach(dsc->nodes, NULL, collect, &s.nodes);
	if (!s.nodes.n)
		collect(&s.nodes, s.stand_in = sched_default_node(s.lk->cfg.node_name));
	s.collisions = jint(s.ds, "status.collisionCount", 0);
	s.has_coll = jget(s.ds, "status.collisionCount") != NULL;
	claim(&s);
	gather_revisions(&s);
	buf = xcalloc(s.pods.n + 1, sizeof(*buf));
	if (!s.claim_failed && sync_history(&s) == 0) {
		for (size_t i = 0; !wl_deleting(s.ds) && i < s.nodes.n; i++) {
			bool keep;
			manage_node(&s, s.nodes.v[i], buf);
			desired += should_run(s.ds, s.nodes.v[i], &keep);
		}
		if (!s.acted && !wl_deleting(s.ds) &&
		    str_eq(jstr(s.ds, "spec.updateStrategy.type"), "RollingUpdate"))
			rolling_update(&s, buf, desired);
		write_status(&s, status(&s, buf));
		cleanup_history(&s);
	} else {
		if (s.has_coll)
			write_status(&s, status(&s, buf));
		s.failed = true;
	}
	if (s.failed)
		wl_ctl_add_after(&dsc->ctl, key, 1000);
	free(buf);
	free(s.pods.v);
	free(s.nodes.v);
	free(s.revs.v);
	cJSON_Delete(s.stand_in);
	cJSON_Delete((cJSON *)s.ds);
}

static int enqueue_all(void *arg, const cJSON *ds)
{
	struct dsc *dsc = arg;
	wl_ctl_add_obj(&dsc->ctl, ds);
	return 0;
}

static void on_pod(void *arg, enum store_ev_type type, const cJSON *pod, const cJSON *old)
{
	struct dsc *dsc = arg;
	const cJSON *owner;
	if (!dsc->ctl.running)
		return;
	if (old && (owner = wl_owner(dsc->ctl.objs, old, "DaemonSet")))
		wl_ctl_add_obj(&dsc->ctl, owner);
	if ((owner = wl_owner(dsc->ctl.objs, pod, "DaemonSet")))
		wl_ctl_add_obj(&dsc->ctl, owner);
	else if (!wl_controller_ref(pod) && type != STORE_DELETED)
		informer_foreach(dsc->ctl.objs, jstr_or(pod, "metadata.namespace", ""), enqueue_all, dsc);
}

static void on_node(void *arg, enum store_ev_type type, const cJSON *node, const cJSON *old)
{
	struct dsc *dsc = arg;
	if (!dsc->ctl.running)
		return;
	if (type != STORE_MODIFIED || !old ||
	    !jequal(jget(node, "metadata.labels"), jget(old, "metadata.labels")) ||
	    !jequal(jget(node, "spec.taints"), jget(old, "spec.taints")))
		informer_foreach(dsc->ctl.objs, NULL, enqueue_all, dsc);
}

void *daemonset_start(struct labkube *lk)
{
	struct dsc *dsc = xcalloc(1, sizeof(*dsc));
	dsc->pods = informer_new(lk->reg, &res_pod);
	dsc->nodes = informer_new(lk->reg, &res_node);
	dsc->revs = informer_new(lk->reg, &res_controllerrevision);
	wl_ctl_start(&dsc->ctl, lk, "daemonset", &res_daemonset, ds_sync, dsc);
	informer_on(dsc->pods, on_pod, dsc);
	informer_on(dsc->nodes, on_node, dsc);
	return dsc;
}

void daemonset_stop(void *state)
{
	struct dsc *dsc = state;
	if (!dsc)
		return;
	wl_ctl_stop(&dsc->ctl);
	informer_free(dsc->pods);
	informer_free(dsc->nodes);
	informer_free(dsc->revs);
	free(dsc);
}
