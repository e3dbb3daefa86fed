/*
 * server/controllers/scheduler.c: a minimal default-scheduler. Pending pods
 * without spec.nodeName (schedulerName default-scheduler, no scheduling
 * gates, not being deleted) go to a node that passes upstream's filters in
 * their order: NodeUnschedulable, TaintToleration (NoSchedule/NoExecute),
 * NodeAffinity (nodeSelector and required node affinity, matchExpressions
 * and matchFields metadata.name). Not here: resources, host ports,
 * volumes, pod (anti-)affinity, topology spread, scoring, preemption.
 *
 * Nodes come from Node objects (another controller writes ours); while
 * there are none, a stand-in for this host is used (sched_default_node).
 * Binding: upstream POSTs pods/binding; we update the pod's spec.nodeName
 * through the write path, then set condition PodScheduled True (status)
 * and record Scheduled "Successfully assigned <ns>/<pod> to <node>". A pod
 * that fits nowhere gets PodScheduled False/Unschedulable with FitError's
 * message and a FailedScheduling Warning, and is tried again when it or a
 * node changes, or after five minutes (podMaxInUnschedulablePodsDuration).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "common/json.h"
#include "common/util.h"
#include "server/controllers/workload.h"
#include "server/labkube.h"
#include "server/registry/event.h"
#include "server/registry/informer.h"
#include "server/registry/selector.h"
#include "server/registry/write.h"
#include "server/resources/resources.h"

#define COMPONENT "default-scheduler"
#define RETRY_MS (5 * 60 * 1000)

static const char R_UNSCHEDULABLE[] = "node(s) were unschedulable";
static const char R_AFFINITY[] = "node(s) didn't match Pod's node affinity/selector";

/* ---- filters (pure) ---- */

cJSON *sched_default_node(const char *name)
{
	struct utsname u;
	const char *arch = "amd64";
	cJSON *node = cJSON_CreateObject(), *labels;

	if (uname(&u) == 0 && (!strcmp(u.machine, "aarch64") || !strcmp(u.machine, "arm64")))
		arch = "arm64";
	jset_str(node, "apiVersion", "v1");
	jset_str(node, "kind", "Node");
	jset_str(node, "metadata.name", name);
	labels = jobj(node, "metadata.labels");
	cJSON_AddStringToObject(labels, "beta.kubernetes.io/arch", arch);
	cJSON_AddStringToObject(labels, "beta.kubernetes.io/os", "linux");
	cJSON_AddStringToObject(labels, "kubernetes.io/arch", arch);
	cJSON_AddStringToObject(labels, "kubernetes.io/hostname", name);
	cJSON_AddStringToObject(labels, "kubernetes.io/os", "linux");
	return node;
}

static bool value_in(const char *v, const cJSON *values)
{
	const cJSON *x;
	cJSON_ArrayForEach(x, values)
		if (cJSON_IsString(x) && str_eq(x->valuestring, v))
			return true;
	return false;
}

static bool int_cmp(const char *v, const cJSON *values, bool gt)
{
	const cJSON *x = cJSON_GetArrayItem(values, 0);
	char *end1, *end2;
	long long a, b;
	if (!v || !cJSON_IsString(x) || cJSON_GetArraySize(values) != 1)
		return false;
	a = strtoll(v, &end1, 10);
	b = strtoll(x->valuestring, &end2, 10);
	if (*end1 || *end2 || !*v || !*x->valuestring)
		return false;
	return gt ? a > b : a < b;
}

/* One NodeSelectorRequirement against a value (NULL: key absent). */
static bool requirement(const cJSON *req, const char *v)
{
	const char *op = jstr_or(req, "operator", "");
	const cJSON *values = jget(req, "values");
	if (!strcmp(op, "In"))
		return v && value_in(v, values);
	if (!strcmp(op, "NotIn"))
		return !v || !value_in(v, values);
	if (!strcmp(op, "Exists"))
		return v != NULL;
	if (!strcmp(op, "DoesNotExist"))
		return v == NULL;
	if (!strcmp(op, "Gt") || !strcmp(op, "Lt"))
		return int_cmp(v, values, !strcmp(op, "Gt"));
	return false;
}

static bool term_match(const cJSON *term, const cJSON *node)
{
	const cJSON *labels = jget(node, "metadata.labels"), *req;
	int n = 0;
	cJSON_ArrayForEach(req, jget(term, "matchExpressions")) {
		const cJSON *l = cJSON_GetObjectItemCaseSensitive(labels, jstr_or(req, "key", ""));
		if (!requirement(req, cJSON_IsString(l) ? l->valuestring : NULL))
			return false;
		n++;
	}
	cJSON_ArrayForEach(req, jget(term, "matchFields")) {
		if (!str_eq(jstr(req, "key"), "metadata.name") ||
		    !requirement(req, jstr(node, "metadata.name")))
			return false;
		n++;
	}
	return n > 0; /* an empty term matches nothing */
}

bool sched_affinity_match(const cJSON *podspec, const cJSON *node)
{
	const cJSON *req, *term;
	if (!label_set_match(jget(podspec, "nodeSelector"), jget(node, "metadata.labels")))
		return false;
	req = jget(podspec, "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution");
	if (!req || cJSON_IsNull(req))
		return true;
	cJSON_ArrayForEach(term, jget(req, "nodeSelectorTerms"))
		if (term_match(term, node))
			return true;
	return false;
}

bool sched_tolerates(const cJSON *tolerations, const cJSON *taint)
{
	const cJSON *t;
	cJSON_ArrayForEach(t, tolerations) {
		const char *effect = jstr_or(t, "effect", ""), *key = jstr_or(t, "key", "");
		const char *op = jstr_or(t, "operator", "");
		if (*effect && !str_eq(effect, jstr(taint, "effect")))
			continue;
		if (*key && !str_eq(key, jstr(taint, "key")))
			continue;
		if (!strcmp(op, "Exists"))
			return true;
		if ((!*op || !strcmp(op, "Equal")) &&
		    !strcmp(jstr_or(t, "value", ""), jstr_or(taint, "value", "")))
			return true;
	}
	return false;
}

const char *sched_fit(const cJSON *podspec, const cJSON *node, char *buf, size_t len)
{
	const cJSON *tol = jget(podspec, "tolerations"), *taint;
	cJSON *unsched;
	bool ok;

	if (jbool(node, "spec.unschedulable", false)) {
		unsched = cJSON_Parse("{\"key\":\"node.kubernetes.io/unschedulable\","
				      "\"effect\":\"NoSchedule\"}");
		ok = sched_tolerates(tol, unsched);
		cJSON_Delete(unsched);
		if (!ok)
			return R_UNSCHEDULABLE;
	}
	cJSON_ArrayForEach(taint, jget(node, "spec.taints")) {
		const char *effect = jstr_or(taint, "effect", "");
		if (strcmp(effect, "NoSchedule") && strcmp(effect, "NoExecute"))
			continue;
		if (!sched_tolerates(tol, taint)) {
			snprintf(buf, len, "node(s) had untolerated taint {%s: %s}",
				 jstr_or(taint, "key", ""), jstr_or(taint, "value", ""));
			return buf;
		}
	}
	if (!sched_affinity_match(podspec, node))
		return R_AFFINITY;
	return NULL;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *sched_fit_error(const char *const *reasons, size_t nnodes)
{
	struct strbuf sb = STRBUF_INIT;
	char **hist = xcalloc(nnodes + 1, sizeof(*hist));
	size_t nh = 0;

	for (size_t i = 0; i < nnodes; i++) {
		size_t count = 0;
		bool seen = false;
		for (size_t j = 0; j < i; j++)
			seen |= str_eq(reasons[j], reasons[i]);
		if (seen)
			continue;
		for (size_t j = i; j < nnodes; j++)
			count += str_eq(reasons[j], reasons[i]);
		hist[nh++] = xasprintf("%zu %s", count, reasons[i]);
	}
	qsort(hist, nh, sizeof(*hist), str_cmp);
	sb_addf(&sb, "0/%zu nodes are available:", nnodes);
	for (size_t i = 0; i < nh; i++) {
		sb_addf(&sb, "%s%s", i ? ", " : " ", hist[i]);
		free(hist[i]);
	}
	if (nh)
		sb_addc(&sb, '.');
	if (nnodes)
		sb_addf(&sb, " preemption: 0/%zu nodes are available: %zu Preemption is not "
			"helpful for scheduling.", nnodes, nnodes);
	free(hist);
	return sb_detach(&sb, NULL);
}

/* ---- the controller ---- */

struct backoff {
	char *key;
	uint64_t until;
	struct backoff *next;
};

struct sched {
	struct wl_ctl ctl;          /* over pods */
	struct informer *nodes;
	struct backoff *waiting;    /* unschedulable pods and when to retry */
};

static struct backoff **backoff_find(struct sched *sc, const char *key)
{
	struct backoff **pp = &sc->waiting;
	while (*pp && strcmp((*pp)->key, key))
		pp = &(*pp)->next;
	return pp;
}

static void backoff_drop(struct sched *sc, const char *key)
{
	struct backoff **pp = backoff_find(sc, key), *b = *pp;
	if (!b)
		return;
	*pp = b->next;
	free(b->key);
	free(b);
}

static void backoff_clear(struct sched *sc)
{
	while (sc->waiting) {
		struct backoff *b = sc->waiting;
		sc->waiting = b->next;
		free(b->key);
		free(b);
	}
}

static bool wants_scheduling(const cJSON *pod)
{
	const char *phase = jstr_or(pod, "status.phase", "");
	return !*jstr_or(pod, "spec.nodeName", "") && !wl_deleting(pod) &&
	       str_eq(jstr_or(pod, "spec.schedulerName", COMPONENT), COMPONENT) &&
	       !cJSON_GetArraySize(jget(pod, "spec.schedulingGates")) &&
	       strcmp(phase, "Succeeded") && strcmp(phase, "Failed");
}

/* podutil.UpdatePodCondition: replace in place, keep the transition time
 * when the status is the same. false when nothing changed. */
static bool set_pod_condition(cJSON *pod, const char *status, const char *reason,
			      const char *msg)
{
	cJSON *conds = jget(pod, "status.conditions"), *c, *cur = NULL;
	char ts[32];

	cJSON_ArrayForEach(c, conds)
		if (str_eq(jstr(c, "type"), "PodScheduled"))
			cur = c;
	if (cur && str_eq(jstr(cur, "status"), status) && str_eq(jstr(cur, "reason"), reason) &&
	    str_eq(jstr(cur, "message"), msg))
		return false;
	lk_rfc3339(time(NULL), ts);
	c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "type", "PodScheduled");
	cJSON_AddStringToObject(c, "status", status);
	cJSON_AddNullToObject(c, "lastProbeTime");
	if (cur && str_eq(jstr(cur, "status"), status))
		cJSON_AddItemToObject(c, "lastTransitionTime",
				      cJSON_Duplicate(jget(cur, "lastTransitionTime"), 1));
	else
		cJSON_AddStringToObject(c, "lastTransitionTime", ts);
	if (reason)
		cJSON_AddStringToObject(c, "reason", reason);
	if (msg)
		cJSON_AddStringToObject(c, "message", msg);
	if (cur) {
		cJSON_ReplaceItemViaPointer(conds, cur, c);
	} else {
		if (!cJSON_IsArray(conds)) {
			conds = cJSON_CreateArray();
			jset(pod, "status.conditions", conds);
		}
		cJSON_AddItemToArray(conds, c);
	}
	return true;
}

static int write_pod(struct sched *sc, cJSON *pod, unsigned flags, const char *key)
{
	struct lk_err err = { 0 };
	int ret = wl_update(sc->ctl.lk, &res_pod, pod, flags, &err);
	if (ret < 0 && err.code == LK_ECONFLICT)
		wl_ctl_add_after(&sc->ctl, key, 100);
	else if (ret < 0 && err.code != LK_ENOTFOUND)
		lk_log("scheduler: cannot update pod '%s': %s", key, err.msg);
	lk_err_clear(&err);
	return ret;
}

static void bind(struct sched *sc, const cJSON *cached, const char *node, const char *key)
{
	cJSON *pod = cJSON_Duplicate(cached, 1);
	jset_str(pod, "spec.nodeName", node);
	if (write_pod(sc, pod, 0, key) == 0) {
		set_pod_condition(pod, "True", NULL, NULL);
		write_pod(sc, pod, WRITE_STATUS, key);
		event_record(sc->ctl.lk->reg, cached, COMPONENT, "Normal", "Scheduled",
			     "Successfully assigned %s/%s to %s",
			     jstr_or(cached, "metadata.namespace", ""),
			     jstr_or(cached, "metadata.name", ""), node);
	}
	cJSON_Delete(pod);
}

static void unschedulable(struct sched *sc, const cJSON *cached,
			  const char *msg, const char *key)
{
	struct backoff **pp = backoff_find(sc, key);
	cJSON *pod = cJSON_Duplicate(cached, 1);

	if (set_pod_condition(pod, "False", "Unschedulable", msg))
		write_pod(sc, pod, WRITE_STATUS, key);
	event_record(sc->ctl.lk->reg, cached, COMPONENT, "Warning", "FailedScheduling", "%s", msg);
	if (!*pp) {
		*pp = xcalloc(1, sizeof(**pp));
		(*pp)->key = xstrdup(key);
	}
	(*pp)->until = lk_now_ms() + RETRY_MS;
	wl_ctl_add_after(&sc->ctl, key, RETRY_MS + 10);
	cJSON_Delete(pod);
}

struct nodes {
	const cJSON **v;
	size_t n, cap;
};

static int collect_node(void *arg, const cJSON *node)
{
	struct nodes *ns = arg;
	if (ns->n == ns->cap) {
		ns->cap = ns->cap ? ns->cap * 2 : 4;
		ns->v = xrealloc(ns->v, ns->cap * sizeof(*ns->v));
	}
	ns->v[ns->n++] = node;
	return 0;
}

static int node_cmp(const void *a, const void *b)
{
	return strcmp(jstr_or(*(const cJSON *const *)a, "metadata.name", ""),
		      jstr_or(*(const cJSON *const *)b, "metadata.name", ""));
}

/* Filter every node; bind to ours when it fits, else the first that does. */
static void schedule(struct sched *sc, const cJSON *pod, const char *key)
{
	struct nodes ns = { 0 };
	cJSON *stand_in = NULL;
	const char **why;
	char (*bufs)[256];
	const char *pick = NULL;

	informer_foreach(sc->nodes, NULL, collect_node, &ns);
	if (!ns.n)
		collect_node(&ns, stand_in = sched_default_node(sc->ctl.lk->cfg.node_name));
	qsort(ns.v, ns.n, sizeof(*ns.v), node_cmp);
	why = xcalloc(ns.n, sizeof(*why));
	bufs = xcalloc(ns.n, sizeof(*bufs));
	for (size_t i = 0; i < ns.n; i++) {
		const char *name = jstr_or(ns.v[i], "metadata.name", "");
		why[i] = sched_fit(jget(pod, "spec"), ns.v[i], bufs[i], sizeof(bufs[i]));
		if (!why[i] && (!pick || str_eq(name, sc->ctl.lk->cfg.node_name)))
			pick = name;
	}
	if (pick) {
		backoff_drop(sc, key);
		bind(sc, pod, pick, key);
	} else {
		char *msg = sched_fit_error(why, ns.n);
		unschedulable(sc, pod, msg, key);
		free(msg);
	}
	free(why);
	free(bufs);
	free(ns.v);
	cJSON_Delete(stand_in);
}

static void sched_sync(void *arg, const char *key)
{
	struct sched *sc = arg;
	char ns[256], name[256];
	struct backoff **b;
	const cJSON *pod;

	key_split(key, ns, name);
	pod = informer_get(sc->ctl.objs, ns, name);
	if (!pod || !wants_scheduling(pod)) {
		backoff_drop(sc, key);
		return;
	}
	b = backoff_find(sc, key);
	if (*b && (*b)->until > lk_now_ms())
		return;
	schedule(sc, pod, key);
}

/* A pod whose spec or labels change is worth another try at once. */
static void on_pod(void *arg, enum store_ev_type type, const cJSON *pod, const cJSON *old)
{
	struct sched *sc = arg;
	char key[512];
	if (!sc->ctl.running)
		return;
	if (type == STORE_DELETED || !old || !jequal(jget(pod, "spec"), jget(old, "spec")) ||
	    !jequal(jget(pod, "metadata.labels"), jget(old, "metadata.labels")))
		backoff_drop(sc, obj_key(pod, key));
}

static int enqueue_pending(void *arg, const cJSON *pod)
{
	struct sched *sc = arg;
	if (wants_scheduling(pod))
		wl_ctl_add_obj(&sc->ctl, pod);
	return 0;
}

/* Nodes added, relabelled, tainted or cordoned: pending pods try again. */
static void on_node(void *arg, enum store_ev_type type, const cJSON *node, const cJSON *old)
{
	struct sched *sc = arg;
	static const char *const paths[] = { "metadata.labels", "spec.taints",
					     "spec.unschedulable" };
	bool changed = type != STORE_MODIFIED || !old;
	if (!sc->ctl.running)
		return;
	for (size_t i = 0; !changed && i < ARRAY_SIZE(paths); i++)
		changed = !jequal(jget(node, paths[i]), jget(old, paths[i]));
	if (!changed)
		return;
	backoff_clear(sc);
	informer_foreach(sc->ctl.objs, NULL, enqueue_pending, sc);
}

void *scheduler_start(struct labkube *lk)
{
	struct sched *sc = xcalloc(1, sizeof(*sc));
	sc->nodes = informer_new(lk->reg, &res_node);
	wl_ctl_start(&sc->ctl, lk, "scheduler", &res_pod, sched_sync, sc);
	informer_on(sc->ctl.objs, on_pod, sc);
	informer_on(sc->nodes, on_node, sc);
	return sc;
}

void scheduler_stop(void *state)
{
	struct sched *sc = state;
	if (!sc)
		return;
	wl_ctl_stop(&sc->ctl);
	informer_free(sc->nodes);
	backoff_clear(sc);
	free(sc);
}
