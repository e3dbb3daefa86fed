/*
 * server/controllers/endpoints.c: the Endpoints controller
 * (pkg/controller/endpoint/endpoints_controller.go), plus what it shares
 * with the EndpointSlice controller (netctl.h): the Service and Pod rules
 * of pkg/api/v1/pod and endpointslice/util, the trigger-time tracker, and
 * one informer per watched kind.
 *
 * For every Service with a selector (not ExternalName) it keeps an
 * Endpoints of the same name: the Service's labels (+ the headless label),
 * the selected pods' IPs in addresses (ready, or every pod with
 * publishNotReadyAddresses) or notReadyAddresses, targetPort resolved per
 * pod, subsets repacked as RepackSubsets does, and the
 * last-change-trigger-time annotation. A Service without selector is left
 * alone (users write its Endpoints); a deleted Service's Endpoints goes.
 * Not done: the 1000-address truncation (over-capacity annotation) and the
 * 1.33 managed-by label (we serve 1.32). Subsets and ports are sorted by
 * content, not by upstream's hash of the Go struct: the same set, another
 * order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/loop.h"
#include "common/util.h"
#include "server/controllers/netctl.h"
#include "server/labkube.h"
#include "server/registry/event.h"
#include "server/registry/informer.h"
#include "server/registry/selector.h"
#include "server/registry/workqueue.h"
#include "server/registry/write.h"
#include "server/resources/resources.h"

/* ---- Service and Pod rules ---- */

bool svc_selects(const cJSON *svc)
{
	const cJSON *sel = jget(svc, "spec.selector");
	return cJSON_IsObject(sel) && sel->child &&
	       !str_eq(jstr(svc, "spec.type"), "ExternalName");
}

bool svc_headless(const cJSON *svc)
{
	const char *ip = jstr_or(svc, "spec.clusterIP", "");
	return !*ip || !strcmp(ip, "None");
}

bool pod_ready(const cJSON *pod)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, jget(pod, "status.conditions"))
		if (str_eq(jstr(c, "type"), "Ready"))
			return str_eq(jstr(c, "status"), "True");
	return false;
}

static const char *ready_transition(const cJSON *pod)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, jget(pod, "status.conditions"))
		if (str_eq(jstr(c, "type"), "Ready"))
			return jstr(c, "lastTransitionTime");
	return NULL;
}

bool pod_in_endpoints(const cJSON *pod, bool include_terminating)
{
	const char *phase = jstr_or(pod, "status.phase", "");
	if (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed"))
		return false;
	if (!*jstr_or(pod, "status.podIP", "") &&
	    !cJSON_GetArraySize(jget(pod, "status.podIPs")))
		return false;
	return include_terminating || !jget(pod, "metadata.deletionTimestamp");
}

static bool ip_is_family(const char *ip, const char *family)
{
	bool v6 = strchr(ip, ':') != NULL;
	return v6 == !strcmp(family, "IPv6");
}

const char *pod_ip_for(const cJSON *pod, const char *family)
{
	const cJSON *it;
	const char *ip;
	cJSON_ArrayForEach(it, jget(pod, "status.podIPs")) {
		ip = jstr(it, "ip");
		if (ip && *ip && ip_is_family(ip, family))
			return ip;
	}
	ip = jstr(pod, "status.podIP");
	return ip && *ip && ip_is_family(ip, family) ? ip : NULL;
}

static int find_named(const cJSON *containers, const char *name, const char *proto,
		      bool sidecars_only)
{
	const cJSON *c, *p;
	cJSON_ArrayForEach(c, containers) {
		if (sidecars_only && !str_eq(jstr(c, "restartPolicy"), "Always"))
			continue;
		cJSON_ArrayForEach(p, jget(c, "ports"))
			if (str_eq(jstr(p, "name"), name) &&
			    !strcmp(jstr_or(p, "protocol", "TCP"), proto))
				return (int)jint(p, "containerPort", 0);
	}
	return 0;
}

int pod_find_port(const cJSON *pod, const cJSON *svc_port)
{
	const cJSON *tp = jget(svc_port, "targetPort");
	const char *proto = jstr_or(svc_port, "protocol", "TCP");
	int port;
	if (cJSON_IsNumber(tp))
		return (int)tp->valuedouble;
	if (!cJSON_IsString(tp) || !*tp->valuestring)
		return (int)jint(svc_port, "port", 0);
	port = find_named(jget(pod, "spec.containers"), tp->valuestring, proto, false);
	if (!port)
		port = find_named(jget(pod, "spec.initContainers"), tp->valuestring, proto, true);
	return port;
}

bool pod_sets_hostname(const cJSON *pod, const cJSON *svc)
{
	return *jstr_or(pod, "spec.hostname", "") &&
	       str_eq(jstr(pod, "spec.subdomain"), jstr(svc, "metadata.name")) &&
	       str_eq(jstr(pod, "metadata.namespace"), jstr(svc, "metadata.namespace"));
}

/* ---- trigger times ---- */

struct trigger_tracker {
	cJSON *state; /* key → {"s": service time, "p": {pod: time}} */
};

struct trigger_tracker *trigger_tracker_new(void)
{
	struct trigger_tracker *t = xcalloc(1, sizeof(*t));
	t->state = cJSON_CreateObject();
	return t;
}

void trigger_tracker_free(struct trigger_tracker *t)
{
	if (!t)
		return;
	cJSON_Delete(t->state);
	free(t);
}

void trigger_forget(struct trigger_tracker *t, const char *key)
{
	cJSON_DeleteItemFromObjectCaseSensitive(t->state, key);
}

static time_t earliest(time_t a, time_t b)
{
	return !a || (b && b < a) ? b : a;
}

time_t trigger_compute(struct trigger_tracker *t, const char *key, const cJSON *svc,
		       const cJSON *const *pods, size_t npods)
{
	cJSON *st = cJSON_GetObjectItemCaseSensitive(t->state, key);
	const cJSON *oldp = st ? cJSON_GetObjectItemCaseSensitive(st, "p") : NULL;
	cJSON *now = cJSON_CreateObject(), *newp = cJSON_AddObjectToObject(now, "p");
	time_t min = 0, svc_t = lk_parse_rfc3339(jstr_or(svc, "metadata.creationTimestamp", ""));
	bool known = st != NULL;

	for (size_t i = 0; i < npods; i++) {
		const char *name = jstr_or(pods[i], "metadata.name", "");
		time_t pt = lk_parse_rfc3339(ready_transition(pods[i]) ? ready_transition(pods[i]) : "");
		if (pt <= 0)
			continue;
		const cJSON *was = cJSON_GetObjectItemCaseSensitive(oldp, name);
		cJSON_AddNumberToObject(newp, name, (double)pt);
		if (!cJSON_IsNumber(was) || pt > (time_t)was->valuedouble)
			min = earliest(min, pt);
	}
	if (svc_t < 0)
		svc_t = 0;
	if (svc_t > jint(st, "s", 0))
		min = earliest(min, svc_t);
	cJSON_AddNumberToObject(now, "s", (double)svc_t);
	jput(t->state, key, now);
	return known ? min : svc_t;
}

void trigger_annotate(cJSON *obj, time_t t)
{
	cJSON *ann = jget(obj, "metadata.annotations");
	char ts[32];
	if (t > 0) {
		lk_rfc3339(t, ts);
		jput(jobj(obj, "metadata.annotations"), ANN_TRIGGER_TIME,
			   cJSON_CreateString(ts));
		return;
	}
	if (!cJSON_IsObject(ann))
		return;
	cJSON_DeleteItemFromObjectCaseSensitive(ann, ANN_TRIGGER_TIME);
	if (!ann->child)
		jdel(obj, "metadata.annotations");
}

/* ---- the pure core: subsets ---- */

static cJSON *target_ref(const cJSON *pod)
{
	cJSON *ref = cJSON_CreateObject();
	cJSON_AddStringToObject(ref, "kind", "Pod");
	cJSON_AddStringToObject(ref, "namespace", jstr_or(pod, "metadata.namespace", ""));
	cJSON_AddStringToObject(ref, "name", jstr_or(pod, "metadata.name", ""));
	cJSON_AddStringToObject(ref, "uid", jstr_or(pod, "metadata.uid", ""));
	return ref;
}

static cJSON *address_of(const cJSON *svc, const cJSON *pod, const char *ip)
{
	cJSON *a = cJSON_CreateObject();
	const char *node = jstr_or(pod, "spec.nodeName", "");
	cJSON_AddStringToObject(a, "ip", ip);
	if (pod_sets_hostname(pod, svc))
		cJSON_AddStringToObject(a, "hostname", jstr(pod, "spec.hostname"));
	if (*node)
		cJSON_AddStringToObject(a, "nodeName", node);
	cJSON_AddItemToObject(a, "targetRef", target_ref(pod));
	return a;
}

static cJSON *endpoint_port(const cJSON *sp, int num)
{
	cJSON *p = cJSON_CreateObject();
	const char *name = jstr_or(sp, "name", "");
	if (*name)
		cJSON_AddStringToObject(p, "name", name);
	cJSON_AddNumberToObject(p, "port", num);
	cJSON_AddStringToObject(p, "protocol", jstr_or(sp, "protocol", "TCP"));
	if (jstr(sp, "appProtocol"))
		cJSON_AddStringToObject(p, "appProtocol", jstr(sp, "appProtocol"));
	return p;
}

/*
 * RepackSubsets, step 1: per distinct port, the set of addresses offering
 * it, each ready or not (ready wins). ports is an array of
 * {"p": port or null (headless sentinel), "set": {addrkey: ready}};
 * addrs maps addrkey ("ip\x1fuid") to the address.
 */
struct repack {
	cJSON *ports, *addrs;
};

static void repack_add(struct repack *r, cJSON *port, const char *akey,
		       const cJSON *addr, bool ready)
{
	cJSON *e, *set, *was;
	cJSON_ArrayForEach(e, r->ports)
		if (jequal(cJSON_GetObjectItemCaseSensitive(e, "p"), port))
			break;
	if (!e) {
		e = cJSON_CreateObject();
		cJSON_AddItemToObject(e, "p", port);
		cJSON_AddObjectToObject(e, "set");
		cJSON_AddItemToArray(r->ports, e);
	} else {
		cJSON_Delete(port);
	}
	if (!cJSON_GetObjectItemCaseSensitive(r->addrs, akey))
		cJSON_AddItemToObject(r->addrs, akey, cJSON_Duplicate(addr, 1));
	set = cJSON_GetObjectItemCaseSensitive(e, "set");
	was = cJSON_GetObjectItemCaseSensitive(set, akey);
	if (!was)
		cJSON_AddBoolToObject(set, akey, ready);
	else if (cJSON_IsFalse(was))
		jput(set, akey, cJSON_CreateBool(ready));
}

static void repack_pod(struct repack *r, const cJSON *svc, const cJSON *pod)
{
	bool pub = jbool(svc, "spec.publishNotReadyAddresses", false);
	const char *fam = cJSON_GetStringValue(cJSON_GetArrayItem(jget(svc, "spec.ipFamilies"), 0));
	const char *ip = pod_ip_for(pod, fam ? fam : "IPv4");
	const cJSON *sp;
	char *akey;
	cJSON *addr;

	if (!pod_in_endpoints(pod, pub) || !ip)
		return;
	addr = address_of(svc, pod, ip);
	akey = xasprintf("%s\x1f%s", ip, jstr_or(pod, "metadata.uid", ""));
	if (!cJSON_GetArraySize(jget(svc, "spec.ports")) && svc_headless(svc))
		repack_add(r, cJSON_CreateNull(), akey, addr, pub || pod_ready(pod));
	cJSON_ArrayForEach(sp, jget(svc, "spec.ports")) {
		int num = pod_find_port(pod, sp);
		if (num > 0)
			repack_add(r, endpoint_port(sp, num), akey, addr, pub || pod_ready(pod));
	}
	free(akey);
	cJSON_Delete(addr);
}

static int cmp_item_str(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	return strcmp(x->string, y->string);
}

/* Sort an object's members, or an array's items, with cmp over cJSON **. */
static void json_sort(cJSON *c, int (*cmp)(const void *, const void *))
{
	int n = cJSON_GetArraySize(c), i = 0;
	cJSON **v, *it;
	if (n < 2)
		return;
	v = xcalloc((size_t)n, sizeof(*v));
	while ((it = c->child)) {
		cJSON_DetachItemViaPointer(c, it);
		v[i++] = it;
	}
	qsort(v, (size_t)n, sizeof(*v), cmp);
	for (i = 0; i < n; i++) {
		if (cJSON_IsObject(c))
			cJSON_AddItemToObject(c, v[i]->string, v[i]);
		else
			cJSON_AddItemToArray(c, v[i]);
	}
	free(v);
}

/* The key of a set of addresses with readiness: its sorted members. */
static char *set_signature(cJSON *set)
{
	struct strbuf sb = STRBUF_INIT;
	const cJSON *it;
	json_sort(set, cmp_item_str);
	cJSON_ArrayForEach(it, set)
		sb_addf(&sb, "%s=%d;", it->string, cJSON_IsTrue(it));
	return sb_detach(&sb, NULL);
}

static cJSON *subset_new(const struct repack *r, const cJSON *set)
{
	cJSON *ss = cJSON_CreateObject(), *ready = cJSON_CreateArray();
	cJSON *notready = cJSON_CreateArray();
	const cJSON *it;
	cJSON_ArrayForEach(it, set) {
		cJSON *a = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(r->addrs, it->string), 1);
		cJSON_AddItemToArray(cJSON_IsTrue(it) ? ready : notready, a);
	}
	if (cJSON_GetArraySize(ready))
		cJSON_AddItemToObject(ss, "addresses", ready);
	else
		cJSON_Delete(ready);
	if (cJSON_GetArraySize(notready))
		cJSON_AddItemToObject(ss, "notReadyAddresses", notready);
	else
		cJSON_Delete(notready);
	return ss;
}

static int cmp_port(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	int c = strcmp(jstr_or(x, "name", ""), jstr_or(y, "name", ""));
	if (c)
		return c;
	if (jint(x, "port", 0) != jint(y, "port", 0))
		return jint(x, "port", 0) < jint(y, "port", 0) ? -1 : 1;
	return strcmp(jstr_or(x, "protocol", ""), jstr_or(y, "protocol", ""));
}

static const char *subset_first_ip(const cJSON *ss)
{
	const cJSON *a = cJSON_GetArrayItem(jget(ss, "addresses"), 0);
	if (!a)
		a = cJSON_GetArrayItem(jget(ss, "notReadyAddresses"), 0);
	return jstr_or(a, "ip", "");
}

static int cmp_subset(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	int c = strcmp(subset_first_ip(x), subset_first_ip(y));
	if (c)
		return c;
	return cmp_port(&(const cJSON *){ cJSON_GetArrayItem(jget(x, "ports"), 0) },
			&(const cJSON *){ cJSON_GetArrayItem(jget(y, "ports"), 0) });
}

/* Step 2: ports offered by the same set of addresses share a subset. */
static cJSON *repack_subsets(struct repack *r)
{
	cJSON *bysig = cJSON_CreateObject(), *out = cJSON_CreateArray(), *e, *ss;
	cJSON_ArrayForEach(e, r->ports) {
		cJSON *set = cJSON_GetObjectItemCaseSensitive(e, "set");
		cJSON *port = cJSON_GetObjectItemCaseSensitive(e, "p");
		char *sig = set_signature(set);
		ss = cJSON_GetObjectItemCaseSensitive(bysig, sig);
		if (!ss) {
			ss = subset_new(r, set);
			cJSON_AddItemToObject(bysig, sig, ss);
		}
		if (!cJSON_IsNull(port))
			cJSON_AddItemToArray(jget(ss, "ports") ? jget(ss, "ports")
						 : cJSON_AddArrayToObject(ss, "ports"),
					     cJSON_Duplicate(port, 1));
		free(sig);
	}
	while ((ss = bysig->child)) {
		cJSON_DetachItemViaPointer(bysig, ss);
		json_sort(jget(ss, "ports"), cmp_port);
		cJSON_AddItemToArray(out, ss);
	}
	cJSON_Delete(bysig);
	json_sort(out, cmp_subset);
	return out;
}

cJSON *endpoints_subsets(const cJSON *svc, const cJSON *const *pods, size_t npods)
{
	struct repack r = { cJSON_CreateArray(), cJSON_CreateObject() };
	cJSON *out;
	for (size_t i = 0; i < npods; i++)
		repack_pod(&r, svc, pods[i]);
	out = repack_subsets(&r);
	cJSON_Delete(r.ports);
	cJSON_Delete(r.addrs);
	return out;
}

cJSON *endpoints_labels(const cJSON *svc)
{
	const cJSON *l = jget(svc, "metadata.labels");
	cJSON *out = cJSON_IsObject(l) ? cJSON_Duplicate(l, 1) : cJSON_CreateObject();
	if (svc_headless(svc))
		jput(out, LABEL_HEADLESS, cJSON_CreateString(""));
	else
		cJSON_DeleteItemFromObjectCaseSensitive(out, LABEL_HEADLESS);
	return out;
}

/* ---- selecting pods ---- */

struct selection {
	const cJSON *selector;
	const cJSON **v;
	size_t n, cap;
};

static int select_one(void *arg, const cJSON *pod)
{
	struct selection *s = arg;
	if (!label_set_match_nonempty(s->selector, jget(pod, "metadata.labels")))
		return 0;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] = pod;
	return 0;
}

size_t netctl_select_pods(struct informer *pods, const cJSON *svc, const cJSON ***out)
{
	struct selection s = { jget(svc, "spec.selector"), NULL, 0, 0 };
	informer_foreach(pods, jstr_or(svc, "metadata.namespace", ""), select_one, &s);
	*out = s.v;
	return s.n;
}

bool pod_endpoint_changed(const cJSON *old, const cJSON *pod)
{
	static const char *const paths[] = {
		"metadata.labels", "metadata.deletionTimestamp", "status.podIP",
		"status.podIPs", "status.phase", "spec.hostname", "spec.subdomain",
		"spec.nodeName",
	};
	if (!old || !pod)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++)
		if (!jequal(jget(old, paths[i]), jget(pod, paths[i])))
			return true;
	return pod_ready(old) != pod_ready(pod) ||
	       !str_eq(ready_transition(old), ready_transition(pod));
}

struct pod_services {
	const cJSON *labels, *old_labels;
	void (*fn)(void *arg, const char *key);
	void *arg;
};

static int service_selects(void *arg, const cJSON *svc)
{
	struct pod_services *ps = arg;
	const cJSON *sel = jget(svc, "spec.selector");
	char key[512];
	if (label_set_match_nonempty(sel, ps->labels) ||
	    (ps->old_labels && label_set_match_nonempty(sel, ps->old_labels)))
		ps->fn(ps->arg, obj_key(svc, key));
	return 0;
}

void netctl_pod_services(struct informer *svcs, const cJSON *pod, const cJSON *old,
			 void (*fn)(void *arg, const char *key), void *arg)
{
	const cJSON *any = pod ? pod : old;
	struct pod_services ps = { jget(any, "metadata.labels"),
				   old && pod ? jget(old, "metadata.labels") : NULL, fn, arg };
	informer_foreach(svcs, jstr_or(any, "metadata.namespace", ""), service_selects, &ps);
}

/* ---- the controller ---- */

#define COMPONENT "endpoint-controller"
#define RESYNC_MS 120000

struct epc {
	struct labkube *lk;
	struct informer *svcs, *pods, *eps;
	struct workqueue *wq;
	struct trigger_tracker *tt;
	struct loop_timer *resync;
	bool running;
};

static void enqueue(void *arg, const char *key)
{
	workqueue_add(((struct epc *)arg)->wq, key);
}

static void on_service(void *arg, enum store_ev_type type, const cJSON *obj,
		       const cJSON *old)
{
	struct epc *c = arg;
	char key[512];
	if (c->running)
		workqueue_add(c->wq, obj_key(obj, key));
}

static void on_pod(void *arg, enum store_ev_type type, const cJSON *obj, const cJSON *old)
{
	struct epc *c = arg;
	if (!c->running)
		return;
	if (type == STORE_MODIFIED && !pod_endpoint_changed(old, obj))
		return;
	netctl_pod_services(c->svcs, obj, type == STORE_MODIFIED ? old : NULL, enqueue, c);
}

/* Upstream only reacts to a deleted Endpoints (recreating it). */
static void on_endpoints(void *arg, enum store_ev_type type, const cJSON *obj,
			 const cJSON *old)
{
	struct epc *c = arg;
	char key[512];
	if (c->running && type == STORE_DELETED)
		workqueue_add(c->wq, obj_key(obj, key));
}

static void write_failed(struct epc *c, const cJSON *svc, const char *key, bool create,
			 struct lk_err *err)
{
	if (err->code == LK_ECONFLICT || err->code == LK_EEXISTS || err->code == LK_ENOTFOUND) {
		workqueue_add_after(c->wq, key, 100);
		return;
	}
	lk_log("endpoints: cannot %s '%s': %s", create ? "create" : "update", key, err->msg);
	event_record(c->lk->reg, svc, COMPONENT, "Warning",
		     create ? "FailedToCreateEndpoint" : "FailedToUpdateEndpoint",
		     "Failed to %s endpoint %s: %s", create ? "create" : "update", key, err->msg);
	workqueue_add_after(c->wq, key, 5000);
}

static bool same_array(const cJSON *a, const cJSON *b)
{
	bool ea = !cJSON_GetArraySize(a), eb = !cJSON_GetArraySize(b);
	return ea || eb ? ea && eb : jequal(a, b);
}

static bool same_object(const cJSON *a, const cJSON *b)
{
	bool ea = !cJSON_IsObject(a) || !a->child, eb = !cJSON_IsObject(b) || !b->child;
	return ea || eb ? ea && eb : jequal(a, b);
}

static void ep_write(struct epc *c, const cJSON *svc, const cJSON *cur, cJSON *subsets,
		     cJSON *labels, time_t trig)
{
	const char *ns = jstr_or(svc, "metadata.namespace", "");
	const char *name = jstr_or(svc, "metadata.name", "");
	cJSON *obj = cur ? cJSON_Duplicate(cur, 1) : cJSON_CreateObject();
	struct lk_err err = { 0 };
	char key[512];
	int rc;

	jset_str(obj, "metadata.name", name);
	jset_str(obj, "metadata.namespace", ns);
	if (cJSON_GetArraySize(subsets))
		jset(obj, "subsets", subsets);
	else {
		jdel(obj, "subsets");
		cJSON_Delete(subsets);
	}
	if (labels->child)
		jset(obj, "metadata.labels", labels);
	else {
		jdel(obj, "metadata.labels");
		cJSON_Delete(labels);
	}
	trigger_annotate(obj, trig);
	if (cur)
		rc = obj_update(c->lk->reg, &res_endpoints, ns, name, obj, 0, &err);
	else
		rc = obj_create(c->lk->reg, &res_endpoints, ns, obj, 0, &err);
	if (rc < 0)
		write_failed(c, svc, obj_key(svc, key), !cur, &err);
	lk_err_clear(&err);
	cJSON_Delete(obj);
}

static void ep_delete(struct epc *c, const char *ns, const char *name)
{
	struct delete_opts o = { .propagation = "Background", .grace = -1 };
	struct lk_err err = { 0 };
	cJSON *out = NULL;
	bool gone;
	if (!informer_get(c->eps, ns, name))
		return;
	if (obj_delete(c->lk->reg, &res_endpoints, ns, name, &o, &out, &gone, &err) < 0 &&
	    err.code != LK_ENOTFOUND)
		lk_log("endpoints: cannot delete '%s/%s': %s", ns, name, err.msg);
	cJSON_Delete(out);
	lk_err_clear(&err);
}

static void ep_sync(void *arg, const char *key)
{
	struct epc *c = arg;
	char ns[256], name[256];
	const cJSON **pods = NULL, *svc, *cur;
	cJSON *subsets, *labels;
	size_t n;
	time_t trig;

	key_split(key, ns, name);
	svc = informer_get(c->svcs, ns, name);
	if (!svc) {
		trigger_forget(c->tt, key);
		ep_delete(c, ns, name);
		return;
	}
	if (!svc_selects(svc))
		return;
	n = netctl_select_pods(c->pods, svc, &pods);
	trig = trigger_compute(c->tt, key, svc, pods, n);
	subsets = endpoints_subsets(svc, pods, n);
	labels = endpoints_labels(svc);
	free(pods);
	cur = informer_get(c->eps, ns, name);
	if (cur && same_array(jget(cur, "subsets"), subsets) &&
	    same_object(jget(cur, "metadata.labels"), labels)) {
		cJSON_Delete(subsets);
		cJSON_Delete(labels);
		return;
	}
	ep_write(c, svc, cur, subsets, labels, trig);
}

static int enqueue_obj(void *arg, const cJSON *obj)
{
	char key[512];
	workqueue_add(((struct epc *)arg)->wq, obj_key(obj, key));
	return 0;
}

/* Endpoints left behind by a Service deleted while we were down
 * (checkLeftoverEndpoints); leader-election records are not ours. */
static int enqueue_leftover(void *arg, const cJSON *ep)
{
	struct epc *c = arg;
	const cJSON *ann = jget(ep, "metadata.annotations");
	if (cJSON_GetObjectItemCaseSensitive(ann, ANN_LEADER))
		return 0;
	if (!informer_get(c->svcs, jstr_or(ep, "metadata.namespace", ""),
			  jstr_or(ep, "metadata.name", "")))
		enqueue_obj(c, ep);
	return 0;
}

static int64_t ep_resync(struct loop *l, void *arg)
{
	struct epc *c = arg;
	informer_foreach(c->svcs, NULL, enqueue_obj, c);
	return RESYNC_MS;
}

void *endpoints_start(struct labkube *lk)
{
	struct epc *c = xcalloc(1, sizeof(*c));
	c->lk = lk;
	c->svcs = informer_new(lk->reg, &res_service);
	c->pods = informer_new(lk->reg, &res_pod);
	c->eps = informer_new(lk->reg, &res_endpoints);
	c->wq = workqueue_new(lk->loop, "endpoints", ep_sync, c);
	c->tt = trigger_tracker_new();
	c->running = true;
	informer_on(c->svcs, on_service, c);
	informer_on(c->pods, on_pod, c);
	informer_on(c->eps, on_endpoints, c);
	informer_foreach(c->svcs, NULL, enqueue_obj, c);
	informer_foreach(c->eps, NULL, enqueue_leftover, c);
	c->resync = loop_timer_add(lk->loop, RESYNC_MS, ep_resync, c);
	return c;
}

void endpoints_stop(void *state)
{
	struct epc *c = state;
	if (!c)
		return;
	c->running = false;
	loop_timer_del(c->lk->loop, c->resync);
	workqueue_free(c->wq);
	trigger_tracker_free(c->tt);
	informer_free(c->svcs);
	informer_free(c->pods);
	informer_free(c->eps);
	free(c);
}
