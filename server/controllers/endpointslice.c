/*
 * server/controllers/endpointslice.c: the EndpointSlice controller
 * (staging/src/k8s.io/endpointslice, pkg/controller/endpointslice) and the
 * EndpointSlice mirroring controller (pkg/controller/endpointslicemirroring).
 *
 * Controller: for every Service with a selector (not ExternalName), slices
 * named from generateName "<svc>-", owned by the Service (controller
 * reference), labelled kubernetes.io/service-name and managed-by
 * endpointslice-controller.k8s.io (+ the Service's own labels and the
 * headless label), one addressType per spec.ipFamilies, one slice group
 * per distinct port set, at most 100 endpoints a slice. Endpoints carry
 * conditions {ready, serving, terminating} (terminating pods stay, marked),
 * targetRef, nodeName, hostname; ports always carry "name" ("" when the
 * Service port has none: kubectl 1.33 describe needs it). A Service with no
 * endpoints gets one placeholder slice. Unlike upstream, slices of a
 * Service that loses its selector are deleted rather than left stale.
 *
 * Mirroring: a Service without selector and its hand-written Endpoints of
 * the same name get slices managed by endpointslicemirroring-controller.k8s.io,
 * owned by the Endpoints, with its labels and annotations (but the
 * trigger time and last-applied configuration); ready = listed in
 * addresses. Skipped (and mirrored slices removed) for skip-mirror
 * Endpoints, leader-election records, and the `kubernetes` Service, whose
 * slice the bootstrap writes.
 *
 * Reconciling keeps existing slices where it can: a desired slice takes an
 * existing one that already says the same, else one with the same address
 * type and ports (updated), else it is created; leftovers are deleted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ip.h"
#include "common/json.h"
#include "common/loop.h"
#include "common/util.h"
#include "server/controllers/netctl.h"
#include "server/labkube.h"
#include "server/registry/informer.h"
#include "server/registry/workqueue.h"
#include "server/registry/write.h"
#include "server/resources/resources.h"

/* ---- the pure cores ---- */

static cJSON *owner_ref(const char *kind, const cJSON *owner)
{
	cJSON *refs = cJSON_CreateArray(), *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "apiVersion", "v1");
	cJSON_AddStringToObject(r, "kind", kind);
	cJSON_AddStringToObject(r, "name", jstr_or(owner, "metadata.name", ""));
	cJSON_AddStringToObject(r, "uid", jstr_or(owner, "metadata.uid", ""));
	cJSON_AddBoolToObject(r, "controller", true);
	cJSON_AddBoolToObject(r, "blockOwnerDeletion", true);
	cJSON_AddItemToArray(refs, r);
	return refs;
}

/* setEndpointSliceLabels: the Service's labels but the reserved ones,
 * the headless label, then service-name and managed-by. */
static cJSON *slice_labels(const cJSON *svc)
{
	cJSON *l = cJSON_CreateObject();
	const cJSON *src = jget(svc, "metadata.labels"), *it;
	if (!cJSON_IsObject(src))
		src = NULL;
	cJSON_ArrayForEach(it, src) {
		if (!strcmp(it->string, LABEL_SERVICE_NAME) || !strcmp(it->string, LABEL_MANAGED_BY))
			continue;
		cJSON_AddItemToObject(l, it->string, cJSON_Duplicate(it, 1));
	}
	if (svc_headless(svc))
		jput(l, LABEL_HEADLESS, cJSON_CreateString(""));
	else
		cJSON_DeleteItemFromObjectCaseSensitive(l, LABEL_HEADLESS);
	jput(l, LABEL_SERVICE_NAME, cJSON_CreateString(jstr_or(svc, "metadata.name", "")));
	jput(l, LABEL_MANAGED_BY, cJSON_CreateString(SLICE_CONTROLLER));
	return l;
}

static cJSON *slice_new(const char *ns, const char *name, const char *family,
			const cJSON *ports)
{
	cJSON *s = cJSON_CreateObject(), *md = cJSON_AddObjectToObject(s, "metadata");
	char *gen = xasprintf("%s-", name);
	cJSON_AddStringToObject(md, "generateName", gen);
	cJSON_AddStringToObject(md, "namespace", ns);
	cJSON_AddStringToObject(s, "addressType", family);
	cJSON_AddArrayToObject(s, "endpoints");
	if (cJSON_GetArraySize(ports))
		cJSON_AddItemToObject(s, "ports", cJSON_Duplicate(ports, 1));
	free(gen);
	return s;
}

/* getEndpointPorts: the Service ports the pod resolves. */
static cJSON *slice_ports(const cJSON *svc, const cJSON *pod)
{
	cJSON *out = cJSON_CreateArray();
	const cJSON *sp;
	cJSON_ArrayForEach(sp, jget(svc, "spec.ports")) {
		int num = pod_find_port(pod, sp);
		cJSON *p;
		if (num <= 0)
			continue;
		p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "name", jstr_or(sp, "name", ""));
		cJSON_AddStringToObject(p, "protocol", jstr_or(sp, "protocol", "TCP"));
		cJSON_AddNumberToObject(p, "port", num);
		if (jstr(sp, "appProtocol"))
			cJSON_AddStringToObject(p, "appProtocol", jstr(sp, "appProtocol"));
		cJSON_AddItemToArray(out, p);
	}
	return out;
}

/* podToEndpoint. */
static cJSON *slice_endpoint(const cJSON *svc, const cJSON *pod, const char *ip)
{
	cJSON *e = cJSON_CreateObject(), *cond, *ref;
	bool serving = pod_ready(pod);
	bool terminating = jget(pod, "metadata.deletionTimestamp") != NULL;
	bool ready = jbool(svc, "spec.publishNotReadyAddresses", false) || (serving && !terminating);
	const char *node = jstr_or(pod, "spec.nodeName", "");

	cJSON_AddItemToArray(cJSON_AddArrayToObject(e, "addresses"), cJSON_CreateString(ip));
	cond = cJSON_AddObjectToObject(e, "conditions");
	cJSON_AddBoolToObject(cond, "ready", ready);
	cJSON_AddBoolToObject(cond, "serving", serving);
	cJSON_AddBoolToObject(cond, "terminating", terminating);
	if (pod_sets_hostname(pod, svc))
		cJSON_AddStringToObject(e, "hostname", jstr(pod, "spec.hostname"));
	ref = cJSON_AddObjectToObject(e, "targetRef");
	cJSON_AddStringToObject(ref, "kind", "Pod");
	cJSON_AddStringToObject(ref, "namespace", jstr_or(pod, "metadata.namespace", ""));
	cJSON_AddStringToObject(ref, "name", jstr_or(pod, "metadata.name", ""));
	cJSON_AddStringToObject(ref, "uid", jstr_or(pod, "metadata.uid", ""));
	if (*node)
		cJSON_AddStringToObject(e, "nodeName", node);
	return e;
}

/* Groups: an array of {"k": key, "t": addressType, "p": ports, "e": endpoints}. */
static cJSON *group_of(cJSON *groups, const char *family, const cJSON *ports)
{
	char *pj = jprint(ports), *key = xasprintf("%s|%s", family, pj);
	cJSON *g;
	cJSON_ArrayForEach(g, groups)
		if (!strcmp(jstr_or(g, "k", ""), key))
			break;
	if (!g) {
		g = cJSON_CreateObject();
		cJSON_AddStringToObject(g, "k", key);
		cJSON_AddStringToObject(g, "t", family);
		cJSON_AddItemToObject(g, "p", cJSON_Duplicate(ports, 1));
		cJSON_AddArrayToObject(g, "e");
		cJSON_AddItemToArray(groups, g);
	}
	free(pj);
	free(key);
	return g;
}

static int cmp_group(const void *a, const void *b)
{
	return strcmp(jstr_or(*(const cJSON *const *)a, "k", ""),
		      jstr_or(*(const cJSON *const *)b, "k", ""));
}

static int cmp_endpoint(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	int c = strcmp(cJSON_GetStringValue(cJSON_GetArrayItem(jget(x, "addresses"), 0)),
		       cJSON_GetStringValue(cJSON_GetArrayItem(jget(y, "addresses"), 0)));
	return c ? c : strcmp(jstr_or(x, "targetRef.name", ""), jstr_or(y, "targetRef.name", ""));
}

static void sort_items(cJSON *arr, int (*cmp)(const void *, const void *))
{
	int n = cJSON_GetArraySize(arr), i = 0;
	cJSON **v, *it;
	if (n < 2)
		return;
	v = xcalloc((size_t)n, sizeof(*v));
	while ((it = arr->child)) {
		cJSON_DetachItemViaPointer(arr, it);
		v[i++] = it;
	}
	qsort(v, (size_t)n, sizeof(*v), cmp);
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, v[i]);
	free(v);
}

/* Each group as slices of at most max endpoints, with metadata set by fill. */
static cJSON *chunk_groups(cJSON *groups, const char *ns, const char *name, int max)
{
	cJSON *out = cJSON_CreateArray(), *g;
	sort_items(groups, cmp_group);
	cJSON_ArrayForEach(g, groups) {
		cJSON *eps = jget(g, "e"), *s = NULL, *e;
		int n = 0;
		while ((e = eps->child)) {
			if (!s || n == max) {
				s = slice_new(ns, name, jstr(g, "t"), jget(g, "p"));
				cJSON_AddItemToArray(out, s);
				n = 0;
			}
			cJSON_DetachItemViaPointer(eps, e);
			cJSON_AddItemToArray(jget(s, "endpoints"), e);
			n++;
		}
	}
	return out;
}

static void slice_meta(cJSON *slices, const cJSON *labels, const cJSON *ann,
		       const cJSON *refs)
{
	cJSON *s;
	cJSON_ArrayForEach(s, slices) {
		cJSON *md = jget(s, "metadata");
		cJSON_AddItemToObject(md, "labels", cJSON_Duplicate(labels, 1));
		if (ann && ann->child)
			cJSON_AddItemToObject(md, "annotations", cJSON_Duplicate(ann, 1));
		cJSON_AddItemToObject(md, "ownerReferences", cJSON_Duplicate(refs, 1));
	}
}

cJSON *endpointslice_desired(const cJSON *svc, const cJSON *const *pods,
			     size_t npods, int max)
{
	const char *ns = jstr_or(svc, "metadata.namespace", "");
	const char *name = jstr_or(svc, "metadata.name", "");
	const cJSON *fams = jget(svc, "spec.ipFamilies"), *f;
	cJSON *groups = cJSON_CreateArray(), *out, *labels, *refs, *deflt = NULL;

	if (!cJSON_GetArraySize(fams))
		fams = deflt = cJSON_CreateStringArray((const char *[]){ "IPv4" }, 1);
	for (size_t i = 0; i < npods; i++) {
		cJSON *ports;
		if (!pod_in_endpoints(pods[i], true))
			continue;
		ports = slice_ports(svc, pods[i]);
		cJSON_ArrayForEach(f, fams) {
			const char *ip = pod_ip_for(pods[i], cJSON_GetStringValue(f));
			if (ip)
				cJSON_AddItemToArray(jget(group_of(groups, f->valuestring, ports), "e"),
						     slice_endpoint(svc, pods[i], ip));
		}
		cJSON_Delete(ports);
	}
	cJSON_ArrayForEach(f, groups)
		sort_items(jget(f, "e"), cmp_endpoint);
	out = chunk_groups(groups, ns, name, max);
	if (!cJSON_GetArraySize(out))
		cJSON_AddItemToArray(out, slice_new(ns, name,
						    cJSON_GetStringValue(cJSON_GetArrayItem(fams, 0)),
						    NULL));
	labels = slice_labels(svc);
	refs = owner_ref("Service", svc);
	slice_meta(out, labels, NULL, refs);
	cJSON_Delete(labels);
	cJSON_Delete(refs);
	cJSON_Delete(groups);
	cJSON_Delete(deflt);
	return out;
}

/* ---- mirroring ---- */

static cJSON *mirror_ports(const cJSON *subset)
{
	cJSON *out = cJSON_CreateArray();
	const cJSON *sp;
	cJSON_ArrayForEach(sp, jget(subset, "ports")) {
		cJSON *p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "name", jstr_or(sp, "name", ""));
		cJSON_AddStringToObject(p, "protocol", jstr_or(sp, "protocol", "TCP"));
		cJSON_AddNumberToObject(p, "port", (double)jint(sp, "port", 0));
		if (jstr(sp, "appProtocol"))
			cJSON_AddStringToObject(p, "appProtocol", jstr(sp, "appProtocol"));
		cJSON_AddItemToArray(out, p);
	}
	return out;
}

static int ip_family(const char *ip, const char **family)
{
	struct lk_ip v;
	if (lk_ip_parse(ip, &v, NULL) < 0)
		return -1;
	*family = v.family == AF_INET ? "IPv4" : "IPv6";
	return 0;
}

/* addressToEndpoint; NULL for an address that is not an IP. */
static cJSON *mirror_endpoint(const cJSON *a, bool ready, const char **family)
{
	const char *ip = jstr_or(a, "ip", "");
	cJSON *e;
	if (ip_family(ip, family) < 0)
		return NULL;
	e = cJSON_CreateObject();
	cJSON_AddItemToArray(cJSON_AddArrayToObject(e, "addresses"), cJSON_CreateString(ip));
	cJSON_AddBoolToObject(cJSON_AddObjectToObject(e, "conditions"), "ready", ready);
	if (*jstr_or(a, "hostname", ""))
		cJSON_AddStringToObject(e, "hostname", jstr(a, "hostname"));
	if (jget(a, "targetRef"))
		cJSON_AddItemToObject(e, "targetRef", cJSON_Duplicate(jget(a, "targetRef"), 1));
	if (jstr(a, "nodeName"))
		cJSON_AddStringToObject(e, "nodeName", jstr(a, "nodeName"));
	return e;
}

#define MAX_MIRRORED_PER_SUBSET 1000

static void mirror_subset(cJSON *groups, const cJSON *ss)
{
	static const char *const lists[] = { "addresses", "notReadyAddresses" };
	cJSON *ports = mirror_ports(ss);
	int n = 0;
	for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
		const cJSON *a;
		cJSON_ArrayForEach(a, jget(ss, lists[l])) {
			const char *family = NULL;
			cJSON *e;
			if (n == MAX_MIRRORED_PER_SUBSET)
				break;
			e = mirror_endpoint(a, l == 0, &family);
			if (!e)
				continue;
			cJSON_AddItemToArray(jget(group_of(groups, family, ports), "e"), e);
			n++;
		}
	}
	cJSON_Delete(ports);
}

cJSON *endpointslice_mirror(const cJSON *ep, int max)
{
	const char *ns = jstr_or(ep, "metadata.namespace", "");
	const char *name = jstr_or(ep, "metadata.name", "");
	const cJSON *ss, *it, *src = jget(ep, "metadata.labels");
	cJSON *groups = cJSON_CreateArray(), *out, *labels, *ann, *refs;

	cJSON_ArrayForEach(ss, jget(ep, "subsets"))
		mirror_subset(groups, ss);
	out = chunk_groups(groups, ns, name, max);
	labels = cJSON_IsObject(src) ? cJSON_Duplicate(src, 1) : cJSON_CreateObject();
	jput(labels, LABEL_SERVICE_NAME, cJSON_CreateString(name));
	jput(labels, LABEL_MANAGED_BY, cJSON_CreateString(MIRROR_CONTROLLER));
	ann = cJSON_CreateObject();
	src = jget(ep, "metadata.annotations");
	if (!cJSON_IsObject(src))
		src = NULL;
	cJSON_ArrayForEach(it, src)
		if (strcmp(it->string, ANN_TRIGGER_TIME) && strcmp(it->string, ANN_LAST_APPLIED))
			cJSON_AddItemToObject(ann, it->string, cJSON_Duplicate(it, 1));
	refs = owner_ref("Endpoints", ep);
	slice_meta(out, labels, ann, refs);
	cJSON_Delete(labels);
	cJSON_Delete(ann);
	cJSON_Delete(refs);
	cJSON_Delete(groups);
	return out;
}

static bool same_list(const cJSON *a, const cJSON *b)
{
	bool ea = !cJSON_GetArraySize(a), eb = !cJSON_GetArraySize(b);
	return ea || eb ? ea && eb : jequal(a, b);
}

static bool same_map(const cJSON *a, const cJSON *b)
{
	bool ea = !cJSON_IsObject(a) || !a->child, eb = !cJSON_IsObject(b) || !b->child;
	return ea || eb ? ea && eb : jequal(a, b);
}

static bool same_shape(const cJSON *want, const cJSON *have)
{
	return str_eq(jstr(want, "addressType"), jstr(have, "addressType")) &&
	       same_list(jget(want, "ports"), jget(have, "ports"));
}

bool endpointslice_same(const cJSON *want, const cJSON *have, bool with_annotations)
{
	return same_shape(want, have) &&
	       same_list(jget(want, "endpoints"), jget(have, "endpoints")) &&
	       same_map(jget(want, "metadata.labels"), jget(have, "metadata.labels")) &&
	       same_list(jget(want, "metadata.ownerReferences"),
			 jget(have, "metadata.ownerReferences")) &&
	       (!with_annotations || same_map(jget(want, "metadata.annotations"),
					      jget(have, "metadata.annotations")));
}

/* ---- the controller ---- */

#define RESYNC_MS 120000

/* A label's value (keys have dots: not a jget() path), or NULL. */
static const char *label(const cJSON *obj, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(jget(obj, "metadata.labels"),
								     key));
}

struct esc {
	struct labkube *lk;
	struct informer *svcs, *pods, *eps, *slices;
	struct workqueue *wq;
	struct trigger_tracker *tt;
	struct loop_timer *resync;
	bool running;
};

/* Keys: "s:ns/name" syncs a Service's slices, "m:ns/name" its mirror. */
static void enqueue2(struct esc *c, char kind, const char *key)
{
	char buf[520];
	snprintf(buf, sizeof(buf), "%c:%s", kind, key);
	workqueue_add(c->wq, buf);
}

static void enqueue_svc(void *arg, const char *key)
{
	enqueue2(arg, 's', key);
}

static void on_service(void *arg, enum store_ev_type type, const cJSON *obj,
		       const cJSON *old)
{
	struct esc *c = arg;
	char key[512];
	if (!c->running)
		return;
	enqueue2(c, 's', obj_key(obj, key));
	enqueue2(c, 'm', key);
}

static void on_pod(void *arg, enum store_ev_type type, const cJSON *obj, const cJSON *old)
{
	struct esc *c = arg;
	if (!c->running || (type == STORE_MODIFIED && !pod_endpoint_changed(old, obj)))
		return;
	netctl_pod_services(c->svcs, obj, type == STORE_MODIFIED ? old : NULL, enqueue_svc, c);
}

static void on_endpoints(void *arg, enum store_ev_type type, const cJSON *obj,
			 const cJSON *old)
{
	struct esc *c = arg;
	char key[512];
	if (c->running)
		enqueue2(c, 'm', obj_key(obj, key));
}

/* A managed slice changed (by us, GC or a user): look at its owner again. */
static int enqueue_slice_owner(void *arg, const cJSON *slice)
{
	struct esc *c = arg;
	const char *by = label(slice, LABEL_MANAGED_BY), *svc = label(slice, LABEL_SERVICE_NAME);
	char key[512];
	if (!by || !svc)
		return 0;
	snprintf(key, sizeof(key), "%s/%s", jstr_or(slice, "metadata.namespace", ""), svc);
	if (!strcmp(by, SLICE_CONTROLLER))
		enqueue2(c, 's', key);
	else if (!strcmp(by, MIRROR_CONTROLLER))
		enqueue2(c, 'm', key);
	return 0;
}

static void on_slice(void *arg, enum store_ev_type type, const cJSON *obj, const cJSON *old)
{
	struct esc *c = arg;
	if (!c->running)
		return;
	enqueue_slice_owner(c, obj);
	if (old && !jequal(jget(old, "metadata.labels"), jget(obj, "metadata.labels")))
		enqueue_slice_owner(c, old);
}

struct owned {
	const char *service, *by;
	const cJSON **v;
	size_t n, cap;
};

static int collect_owned(void *arg, const cJSON *slice)
{
	struct owned *o = arg;
	if (!str_eq(label(slice, LABEL_SERVICE_NAME), o->service) ||
	    !str_eq(label(slice, LABEL_MANAGED_BY), o->by))
		return 0;
	if (o->n == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 4;
		o->v = xrealloc(o->v, o->cap * sizeof(*o->v));
	}
	o->v[o->n++] = slice;
	return 0;
}

/* The work one reconcile does, and how to retry it. */
struct slice_job {
	struct esc *c;
	const char *ns, *key;
	bool with_annotations;
	time_t trig;
	bool retry;
};

static void slice_failed(struct slice_job *j, const char *verb, const cJSON *s,
			 struct lk_err *err)
{
	if (err->code == LK_ENOTFOUND && !strcmp(verb, "delete"))
		return;
	if (err->code != LK_ECONFLICT && err->code != LK_EEXISTS && err->code != LK_ENOTFOUND)
		lk_log("endpointslice: cannot %s a slice of '%s': %s", verb, j->key + 2,
		       err->msg);
	j->retry = true;
}

static void slice_create(struct slice_job *j, const cJSON *want)
{
	cJSON *obj = cJSON_Duplicate(want, 1);
	struct lk_err err = { 0 };
	if (!j->with_annotations)
		trigger_annotate(obj, j->trig);
	if (obj_create(j->c->lk->reg, &res_endpointslice, j->ns, obj, 0, &err) < 0)
		slice_failed(j, "create", want, &err);
	lk_err_clear(&err);
	cJSON_Delete(obj);
}

static void slice_update(struct slice_job *j, const cJSON *want, const cJSON *have)
{
	static const char *const fields[] = { "addressType", "endpoints", "ports" };
	static const char *const meta[] = { "labels", "ownerReferences", "annotations" };
	cJSON *obj = cJSON_Duplicate(have, 1);
	struct lk_err err = { 0 };
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		cJSON_DeleteItemFromObjectCaseSensitive(obj, fields[i]);
		if (jget(want, fields[i]))
			cJSON_AddItemToObject(obj, fields[i], cJSON_Duplicate(jget(want, fields[i]), 1));
	}
	for (size_t i = 0; i < ARRAY_SIZE(meta); i++) {
		char path[64];
		snprintf(path, sizeof(path), "metadata.%s", meta[i]);
		if (i == 2 && !j->with_annotations)
			continue;
		jdel(obj, path);
		if (jget(want, path))
			jset(obj, path, cJSON_Duplicate(jget(want, path), 1));
	}
	if (!j->with_annotations)
		trigger_annotate(obj, j->trig);
	if (obj_update(j->c->lk->reg, &res_endpointslice, j->ns,
		       jstr_or(have, "metadata.name", ""), obj, 0, &err) < 0)
		slice_failed(j, "update", have, &err);
	lk_err_clear(&err);
	cJSON_Delete(obj);
}

static void slice_delete(struct slice_job *j, const cJSON *have)
{
	struct delete_opts o = { .propagation = "Background", .grace = -1,
				 .uid = jstr(have, "metadata.uid") };
	struct lk_err err = { 0 };
	cJSON *out = NULL;
	bool gone;
	if (obj_delete(j->c->lk->reg, &res_endpointslice, j->ns,
		       jstr_or(have, "metadata.name", ""), &o, &out, &gone, &err) < 0)
		slice_failed(j, "delete", have, &err);
	lk_err_clear(&err);
	cJSON_Delete(out);
}

/* Pair each desired slice with an existing one: first one that already
 * says the same, then one of the same shape; create the rest and delete
 * the existing slices left over. */
static void reconcile(struct slice_job *j, const cJSON *desired, const struct owned *have)
{
	bool *used = xcalloc(have->n + 1, sizeof(*used));
	int n = cJSON_GetArraySize(desired), i = 0;
	const cJSON **pair = xcalloc((size_t)n + 1, sizeof(*pair)), *want;

	cJSON_ArrayForEach(want, desired) {
		for (size_t k = 0; k < have->n && !pair[i]; k++)
			if (!used[k] && endpointslice_same(want, have->v[k], j->with_annotations))
				pair[i] = have->v[k], used[k] = true;
		i++;
	}
	i = 0;
	cJSON_ArrayForEach(want, desired) {
		for (size_t k = 0; k < have->n && !pair[i]; k++)
			if (!used[k] && same_shape(want, have->v[k])) {
				pair[i] = have->v[k], used[k] = true;
				slice_update(j, want, have->v[k]);
			}
		if (!pair[i])
			slice_create(j, want);
		i++;
	}
	for (size_t k = 0; k < have->n; k++)
		if (!used[k])
			slice_delete(j, have->v[k]);
	free(used);
	free(pair);
}

static void run_job(struct slice_job *j, const char *service, const char *by,
		    const cJSON *desired)
{
	struct owned have = { service, by, NULL, 0, 0 };
	const cJSON *empty = NULL;
	informer_foreach(j->c->slices, j->ns, collect_owned, &have);
	reconcile(j, desired ? desired : (empty = cJSON_CreateArray()), &have);
	cJSON_Delete((cJSON *)empty);
	free(have.v);
	if (j->retry)
		workqueue_add_after(j->c->wq, j->key, 200);
}

static void sync_service(struct esc *c, const char *key, const char *ns, const char *name)
{
	struct slice_job j = { c, ns, key, false, 0, false };
	const cJSON *svc = informer_get(c->svcs, ns, name), **pods = NULL;
	cJSON *desired = NULL;
	size_t n;

	if (!svc)
		trigger_forget(c->tt, key + 2);
	if (svc && svc_selects(svc)) {
		n = netctl_select_pods(c->pods, svc, &pods);
		j.trig = trigger_compute(c->tt, key + 2, svc, pods, n);
		desired = endpointslice_desired(svc, pods, n, MAX_ENDPOINTS_PER_SLICE);
		free(pods);
	}
	run_job(&j, name, SLICE_CONTROLLER, desired);
	cJSON_Delete(desired);
}

static bool mirrored(const cJSON *svc, const cJSON *ep)
{
	const cJSON *sel;
	if (!svc || !ep)
		return false;
	sel = jget(svc, "spec.selector");
	if (cJSON_IsObject(sel) && sel->child)
		return false;
	if (str_eq(jstr(ep, "metadata.namespace"), "default") &&
	    str_eq(jstr(ep, "metadata.name"), "kubernetes"))
		return false;
	if (str_eq(label(ep, LABEL_SKIP_MIRROR), "true"))
		return false;
	return !cJSON_GetObjectItemCaseSensitive(jget(ep, "metadata.annotations"), ANN_LEADER);
}

static void sync_mirror(struct esc *c, const char *key, const char *ns, const char *name)
{
	struct slice_job j = { c, ns, key, true, 0, false };
	const cJSON *svc = informer_get(c->svcs, ns, name);
	const cJSON *ep = informer_get(c->eps, ns, name);
	cJSON *desired = mirrored(svc, ep) ? endpointslice_mirror(ep, MAX_ENDPOINTS_PER_SLICE) : NULL;
	run_job(&j, name, MIRROR_CONTROLLER, desired);
	cJSON_Delete(desired);
}

static void slice_sync(void *arg, const char *key)
{
	struct esc *c = arg;
	char ns[256], name[256];
	if (strlen(key) < 3 || key[1] != ':')
		return;
	key_split(key + 2, ns, name);
	if (key[0] == 's')
		sync_service(c, key, ns, name);
	else
		sync_mirror(c, key, ns, name);
}

static int enqueue_service(void *arg, const cJSON *svc)
{
	char key[512];
	enqueue2(arg, 's', obj_key(svc, key));
	enqueue2(arg, 'm', key);
	return 0;
}

static int enqueue_endpoints(void *arg, const cJSON *ep)
{
	char key[512];
	enqueue2(arg, 'm', obj_key(ep, key));
	return 0;
}

static int64_t slice_resync(struct loop *l, void *arg)
{
	struct esc *c = arg;
	informer_foreach(c->svcs, NULL, enqueue_service, c);
	return RESYNC_MS;
}

void *endpointslice_start(struct labkube *lk)
{
	struct esc *c = xcalloc(1, sizeof(*c));
	c->lk = lk;
	c->svcs = informer_new(lk->reg, &res_service);
	c->pods = informer_new(lk->reg, &res_pod);
	c->eps = informer_new(lk->reg, &res_endpoints);
	c->slices = informer_new(lk->reg, &res_endpointslice);
	c->wq = workqueue_new(lk->loop, "endpointslice", slice_sync, c);
	c->tt = trigger_tracker_new();
	c->running = true;
	informer_on(c->svcs, on_service, c);
	informer_on(c->pods, on_pod, c);
	informer_on(c->eps, on_endpoints, c);
	informer_on(c->slices, on_slice, c);
	informer_foreach(c->svcs, NULL, enqueue_service, c);
	informer_foreach(c->eps, NULL, enqueue_endpoints, c);
	informer_foreach(c->slices, NULL, enqueue_slice_owner, c);
	c->resync = loop_timer_add(lk->loop, RESYNC_MS, slice_resync, c);
	return c;
}

void endpointslice_stop(void *state)
{
	struct esc *c = state;
	if (!c)
		return;
	c->running = false;
	loop_timer_del(c->lk->loop, c->resync);
	workqueue_free(c->wq);
	trigger_tracker_free(c->tt);
	informer_free(c->svcs);
	informer_free(c->pods);
	informer_free(c->eps);
	informer_free(c->slices);
	free(c);
}
