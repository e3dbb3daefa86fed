/*
 * server/controllers/gc.c: the garbage collector
 * (pkg/controller/garbagecollector), over ownerReferences.
 *
 * It reads the change feed of every kind but events (no informers: it
 * keeps no copy of objects, only an index of who names whom as owner):
 *   deps    "storage|ns|name" of every object with ownerReferences → its
 *           uid and a copy of its references;
 *   owners  owner uid → the keys of its dependents.
 * Work items, on one queue:
 *   "d:" + key  attemptToDeleteItem: classify the dependent's owners
 *               (solid / dangling / waiting for foreground deletion, by a
 *               read of each owner, uid compared) and act as gc_plan() says:
 *               nothing, strip dangling references, or delete it
 *               (Background, or Foreground when a waiting owner has it and
 *               it has dependents of its own, or as its finalizers say);
 *   "o:" + key  an owner being deleted: with the `orphan` finalizer, strip
 *               its uid from every dependent then drop the finalizer; with
 *               `foregroundDeletion`, ask every dependent to go and drop the
 *               finalizer once no dependent with blockOwnerDeletion is left.
 * A dependent is looked at when it appears or its references change, and
 * when an owner goes; an owner when it is being deleted with one of the
 * two finalizers and when one of its dependents goes. At start every
 * object is read once to build the index and catch what happened while
 * the server was down. The finalizers themselves are put on by DELETE
 * (server/registry/write.c, propagationPolicy).
 * Not done: upstream's cycle breaking for foreground chains (it unblocks
 * references of a dependent that is itself deleting dependents); unknown
 * owner kinds are kept as if present.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/util.h"
#include "server/controllers/netctl.h"
#include "server/labkube.h"
#include "server/registry/workqueue.h"
#include "server/registry/write.h"
#include "server/resources/resources.h"
#include "server/store/store.h"

#define FIN_ORPHAN "orphan"
#define FIN_FOREGROUND "foregroundDeletion"

/* ---- the pure core ---- */

static bool has_finalizer(const cJSON *obj, const char *f)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, jget(obj, "metadata.finalizers"))
		if (cJSON_IsString(it) && !strcmp(it->valuestring, f))
			return true;
	return false;
}

void gc_plan(const cJSON *dep, const enum gc_owner_state *states,
	     bool has_dependents, struct gc_plan *plan)
{
	const cJSON *refs = jget(dep, "metadata.ownerReferences"), *r;
	int n[3] = { 0, 0, 0 }, i = 0;

	memset(plan, 0, sizeof(*plan));
	if (jget(dep, "metadata.deletionTimestamp") || !cJSON_GetArraySize(refs))
		return;
	cJSON_ArrayForEach(r, refs)
		n[states[i++]]++;
	if (n[GC_OWNER_SOLID]) {
		if (!n[GC_OWNER_DANGLING] && !n[GC_OWNER_WAITING])
			return;
		plan->action = GC_STRIP_REFS;
		plan->refs = cJSON_CreateArray();
		i = 0;
		cJSON_ArrayForEach(r, refs)
			if (states[i++] == GC_OWNER_SOLID)
				cJSON_AddItemToArray(plan->refs, cJSON_Duplicate(r, 1));
		return;
	}
	plan->action = GC_DELETE;
	if (n[GC_OWNER_WAITING] && has_dependents)
		plan->policy = "Foreground";
	else if (has_finalizer(dep, FIN_ORPHAN))
		plan->policy = "Orphan";
	else if (has_finalizer(dep, FIN_FOREGROUND))
		plan->policy = "Foreground";
	else
		plan->policy = "Background";
}

/* ---- a string map ---- */

struct mentry {
	char *key;
	void *val;
	struct mentry *next;
};

struct smap {
	struct mentry **b;
	size_t nb, n;
};

static size_t shash(const char *s, size_t nb)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h & (nb - 1);
}

static struct mentry **smap_slot(struct smap *m, const char *key)
{
	struct mentry **pp;
	if (!m->b) {
		m->nb = 256;
		m->b = xcalloc(m->nb, sizeof(*m->b));
	}
	pp = &m->b[shash(key, m->nb)];
	while (*pp && strcmp((*pp)->key, key))
		pp = &(*pp)->next;
	return pp;
}

static void smap_grow(struct smap *m)
{
	struct mentry **nb = xcalloc(m->nb * 2, sizeof(*nb));
	for (size_t i = 0; i < m->nb; i++)
		for (struct mentry *e = m->b[i], *next; e; e = next) {
			size_t h = shash(e->key, m->nb * 2);
			next = e->next;
			e->next = nb[h];
			nb[h] = e;
		}
	free(m->b);
	m->b = nb;
	m->nb *= 2;
}

static void *smap_get(struct smap *m, const char *key)
{
	struct mentry *e = *smap_slot(m, key);
	return e ? e->val : NULL;
}

static void smap_put(struct smap *m, const char *key, void *val)
{
	struct mentry **pp = smap_slot(m, key), *e;
	if (*pp) {
		(*pp)->val = val;
		return;
	}
	e = xcalloc(1, sizeof(*e));
	e->key = xstrdup(key);
	e->val = val;
	*pp = e;
	if (++m->n > m->nb)
		smap_grow(m);
}

static void *smap_del(struct smap *m, const char *key)
{
	struct mentry **pp = smap_slot(m, key), *e = *pp;
	void *val;
	if (!e)
		return NULL;
	val = e->val;
	*pp = e->next;
	free(e->key);
	free(e);
	m->n--;
	return val;
}

static void smap_clear(struct smap *m, void (*fr)(void *))
{
	for (size_t i = 0; i < m->nb; i++)
		for (struct mentry *e = m->b[i], *next; e; e = next) {
			next = e->next;
			fr(e->val);
			free(e->key);
			free(e);
		}
	free(m->b);
	memset(m, 0, sizeof(*m));
}

/* ---- the index ---- */

struct dep {
	char *uid;
	cJSON *refs;
};

struct keylist {
	char **v;
	size_t n, cap;
};

struct gc {
	struct labkube *lk;
	struct store_sub *sub;
	struct workqueue *wq;
	struct smap deps;    /* key → struct dep */
	struct smap owners;  /* uid → struct keylist */
	bool running;
};

static void dep_free(void *p)
{
	struct dep *d = p;
	if (!d)
		return;
	free(d->uid);
	cJSON_Delete(d->refs);
	free(d);
}

static void keylist_free(void *p)
{
	struct keylist *l = p;
	for (size_t i = 0; l && i < l->n; i++)
		free(l->v[i]);
	if (l)
		free(l->v);
	free(l);
}

static void owner_link(struct gc *g, const char *uid, const char *key)
{
	struct keylist *l = smap_get(&g->owners, uid);
	if (!l) {
		l = xcalloc(1, sizeof(*l));
		smap_put(&g->owners, uid, l);
	}
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], key))
			return;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = xstrdup(key);
}

static void owner_unlink(struct gc *g, const char *uid, const char *key)
{
	struct keylist *l = smap_get(&g->owners, uid);
	for (size_t i = 0; l && i < l->n; i++)
		if (!strcmp(l->v[i], key)) {
			free(l->v[i]);
			l->v[i] = l->v[--l->n];
			break;
		}
	if (l && !l->n)
		keylist_free(smap_del(&g->owners, uid));
}

static void index_drop(struct gc *g, const char *key)
{
	struct dep *d = smap_del(&g->deps, key);
	const cJSON *r;
	if (!d)
		return;
	cJSON_ArrayForEach(r, d->refs)
		owner_unlink(g, jstr_or(r, "uid", ""), key);
	dep_free(d);
}

/* Record obj's references; true when they are new or changed. */
static bool index_set(struct gc *g, const char *key, const cJSON *obj)
{
	const cJSON *refs = jget(obj, "metadata.ownerReferences"), *r;
	struct dep *d = smap_get(&g->deps, key);
	if (!cJSON_GetArraySize(refs)) {
		index_drop(g, key);
		return d != NULL;
	}
	if (d && jequal(d->refs, refs) && str_eq(d->uid, jstr(obj, "metadata.uid")))
		return false;
	index_drop(g, key);
	d = xcalloc(1, sizeof(*d));
	d->uid = xstrdup(jstr_or(obj, "metadata.uid", ""));
	d->refs = cJSON_Duplicate(refs, 1);
	smap_put(&g->deps, key, d);
	cJSON_ArrayForEach(r, refs)
		owner_link(g, jstr_or(r, "uid", ""), key);
	return true;
}

static bool has_dependents(struct gc *g, const char *uid)
{
	struct keylist *l = smap_get(&g->owners, uid);
	return l && l->n;
}

/* ---- keys and references ---- */

#define KEY_MAX 600

static const struct resource *res_of_storage(const char *storage)
{
	char buf[128];
	for (size_t i = 0; i < resource_count; i++)
		if (!strcmp(resource_storage(resource_table[i], buf), storage))
			return resource_table[i];
	return NULL;
}

/* "storage|ns|name" into its parts (storage >= 128, ns and name >= 256). */
static const struct resource *key_parse(const char *key, char *storage, char *ns,
					char *name)
{
	const char *a = strchr(key, '|'), *b = a ? strchr(a + 1, '|') : NULL;
	if (!b || a - key >= 128)
		return NULL;
	snprintf(storage, 128, "%.*s", (int)(a - key), key);
	snprintf(ns, 256, "%.*s", (int)(b - a - 1), a + 1);
	snprintf(name, 256, "%s", b + 1);
	return res_of_storage(storage);
}

/* The resource an ownerReference names, or NULL for a kind we do not serve. */
static const struct resource *ref_resource(const cJSON *ref)
{
	const char *av = jstr_or(ref, "apiVersion", ""), *slash = strchr(av, '/');
	char group[128];
	snprintf(group, sizeof(group), "%.*s", slash ? (int)(slash - av) : 0, av);
	return resource_by_kind(group, jstr_or(ref, "kind", ""));
}

static void enqueue(struct gc *g, char kind, const char *key)
{
	char buf[KEY_MAX + 4];
	snprintf(buf, sizeof(buf), "%c:%s", kind, key);
	workqueue_add(g->wq, buf);
}

/* Owners named by refs (of a dependent in ns) should look again. */
static void enqueue_owners(struct gc *g, const char *ns, const cJSON *refs)
{
	const cJSON *r;
	cJSON_ArrayForEach(r, refs) {
		const struct resource *res = ref_resource(r);
		char key[KEY_MAX], storage[128];
		if (!res)
			continue;
		snprintf(key, sizeof(key), "%s|%s|%s", resource_storage(res, storage),
			 res->namespaced ? ns : "", jstr_or(r, "name", ""));
		enqueue(g, 'o', key);
	}
}

static void enqueue_dependents(struct gc *g, const char *uid)
{
	struct keylist *l = smap_get(&g->owners, uid);
	for (size_t i = 0; l && i < l->n; i++)
		enqueue(g, 'd', l->v[i]);
}

static bool gc_finalizing(const cJSON *obj)
{
	return jget(obj, "metadata.deletionTimestamp") &&
	       (has_finalizer(obj, FIN_ORPHAN) || has_finalizer(obj, FIN_FOREGROUND));
}

/* An object was written (or found at start). */
static void seen(struct gc *g, const char *key, const char *ns, const cJSON *obj)
{
	struct dep *d = smap_get(&g->deps, key);
	const cJSON *refs = jget(obj, "metadata.ownerReferences");
	bool changed = d ? !jequal(d->refs, refs) || !str_eq(d->uid, jstr(obj, "metadata.uid"))
			 : cJSON_GetArraySize(refs) > 0;
	if (changed) {
		if (d)
			enqueue_owners(g, ns, d->refs);
		index_set(g, key, obj);
		if (cJSON_GetArraySize(refs))
			enqueue(g, 'd', key);
	}
	if (gc_finalizing(obj))
		enqueue(g, 'o', key);
}

static void gone(struct gc *g, const char *key, const char *ns, const cJSON *obj)
{
	struct dep *d = smap_get(&g->deps, key);
	if (d) {
		enqueue_owners(g, ns, d->refs);
		index_drop(g, key);
	}
	enqueue_dependents(g, jstr_or(obj, "metadata.uid", ""));
}

static int on_change(void *arg, const struct store_event *ev)
{
	struct gc *g = arg;
	char key[KEY_MAX];
	if (!g->running || !strcmp(ev->resource, "events"))
		return 0;
	snprintf(key, sizeof(key), "%s|%s|%s", ev->resource, ev->ns, ev->name);
	if (ev->type == STORE_DELETED)
		gone(g, key, ev->ns, ev->obj);
	else
		seen(g, key, ev->ns, ev->obj);
	return 0;
}

/* ---- acting ---- */

static void retry(struct gc *g, const char *item, const char *what, struct lk_err *err)
{
	if (err->code == LK_ENOTFOUND)
		return;
	if (err->code != LK_ECONFLICT)
		lk_log("garbage-collector: cannot %s '%s': %s", what, item + 2, err->msg);
	workqueue_add_after(g->wq, item, err->code == LK_ECONFLICT ? 100 : 5000);
}

static enum gc_owner_state classify(struct gc *g, const cJSON *ref,
				    const struct resource *dep_res, const char *ns)
{
	const struct resource *res = ref_resource(ref);
	struct lk_err err = { 0 };
	enum gc_owner_state st = GC_OWNER_SOLID;
	char storage[128];
	cJSON *owner = NULL;

	/* Unknown kinds, and namespaced owners of cluster-scoped objects
	 * (invalid upstream), are left alone. */
	if (!res || (res->namespaced && !dep_res->namespaced))
		return GC_OWNER_SOLID;
	if (store_get(g->lk->store, resource_storage(res, storage), res->namespaced ? ns : "",
		      jstr_or(ref, "name", ""), &owner, &err) < 0)
		st = err.code == LK_ENOTFOUND ? GC_OWNER_DANGLING : GC_OWNER_SOLID;
	else if (!str_eq(jstr(owner, "metadata.uid"), jstr(ref, "uid")))
		st = GC_OWNER_DANGLING;
	else if (jget(owner, "metadata.deletionTimestamp") && has_finalizer(owner, FIN_FOREGROUND))
		st = GC_OWNER_WAITING;
	cJSON_Delete(owner);
	lk_err_clear(&err);
	return st;
}

static void remove_finalizer(struct gc *g, const struct resource *res, const char *item,
			     const char *ns, const char *name, const cJSON *obj,
			     const char *f)
{
	cJSON *o = cJSON_Duplicate(obj, 1), *keep = cJSON_CreateArray();
	const cJSON *it;
	struct lk_err err = { 0 };
	cJSON_ArrayForEach(it, jget(obj, "metadata.finalizers"))
		if (!cJSON_IsString(it) || strcmp(it->valuestring, f))
			cJSON_AddItemToArray(keep, cJSON_Duplicate(it, 1));
	if (cJSON_GetArraySize(keep))
		jset(o, "metadata.finalizers", keep);
	else {
		jdel(o, "metadata.finalizers");
		cJSON_Delete(keep);
	}
	if (obj_update(g->lk->reg, res, ns, name, o, 0, &err) < 0)
		retry(g, item, "remove a finalizer of", &err);
	lk_err_clear(&err);
	cJSON_Delete(o);
}

/* Strip uid from one dependent's references. */
static int orphan_one(struct gc *g, const char *key, const char *uid)
{
	char storage[128], ns[256], name[256];
	const struct resource *res = key_parse(key, storage, ns, name);
	cJSON *obj = NULL, *refs, *r, *next;
	struct lk_err err = { 0 };
	int rc = 0;
	if (!res || store_get(g->lk->store, storage, ns, name, &obj, NULL) < 0)
		return 0;
	refs = jget(obj, "metadata.ownerReferences");
	for (r = refs ? refs->child : NULL; r; r = next) {
		next = r->next;
		if (str_eq(jstr(r, "uid"), uid))
			cJSON_Delete(cJSON_DetachItemViaPointer(refs, r));
	}
	if (!cJSON_GetArraySize(refs))
		jdel(obj, "metadata.ownerReferences");
	if (obj_update(g->lk->reg, res, ns, name, obj, 0, &err) < 0 && err.code != LK_ENOTFOUND)
		rc = -1;
	lk_err_clear(&err);
	cJSON_Delete(obj);
	return rc;
}

/* A copy of an owner's dependents (the index may change as we write). */
static struct keylist dependents_of(struct gc *g, const char *uid)
{
	struct keylist *l = smap_get(&g->owners, uid), out = { 0 };
	for (size_t i = 0; l && i < l->n; i++) {
		if (out.n == out.cap) {
			out.cap = out.cap ? out.cap * 2 : 4;
			out.v = xrealloc(out.v, out.cap * sizeof(*out.v));
		}
		out.v[out.n++] = xstrdup(l->v[i]);
	}
	return out;
}

static bool blocks(struct gc *g, const char *dep_key, const char *owner_uid)
{
	struct dep *d = smap_get(&g->deps, dep_key);
	const cJSON *r, *refs = d ? d->refs : NULL;
	cJSON_ArrayForEach(r, refs)
		if (str_eq(jstr(r, "uid"), owner_uid) && jbool(r, "blockOwnerDeletion", false))
			return true;
	return false;
}

/* An owner being deleted with the orphan or foregroundDeletion finalizer. */
static void sync_owner(struct gc *g, const char *item, const struct resource *res,
		       const char *ns, const char *name, const cJSON *obj)
{
	const char *uid = jstr_or(obj, "metadata.uid", "");
	struct keylist deps;
	size_t blocking = 0;
	int failed = 0;

	if (!gc_finalizing(obj))
		return;
	deps = dependents_of(g, uid);
	for (size_t i = 0; i < deps.n; i++) {
		if (has_finalizer(obj, FIN_ORPHAN)) {
			failed |= orphan_one(g, deps.v[i], uid) < 0;
			continue;
		}
		blocking += blocks(g, deps.v[i], uid);
		enqueue(g, 'd', deps.v[i]);
	}
	if (failed)
		workqueue_add_after(g->wq, item, 100);
	else if (has_finalizer(obj, FIN_ORPHAN))
		remove_finalizer(g, res, item, ns, name, obj, FIN_ORPHAN);
	else if (!blocking)
		remove_finalizer(g, res, item, ns, name, obj, FIN_FOREGROUND);
	for (size_t i = 0; i < deps.n; i++)
		free(deps.v[i]);
	free(deps.v);
}

static void act(struct gc *g, const char *item, const struct resource *res,
		const char *ns, const char *name, cJSON *obj, struct gc_plan *plan)
{
	struct lk_err err = { 0 };
	if (plan->action == GC_STRIP_REFS) {
		jset(obj, "metadata.ownerReferences", plan->refs);
		plan->refs = NULL;
		if (obj_update(g->lk->reg, res, ns, name, obj, 0, &err) < 0)
			retry(g, item, "update the owners of", &err);
	} else if (plan->action == GC_DELETE) {
		struct delete_opts o = { .propagation = plan->policy, .grace = -1,
					 .uid = jstr(obj, "metadata.uid") };
		cJSON *out = NULL;
		bool deleted;
		if (obj_delete(g->lk->reg, res, ns, name, &o, &out, &deleted, &err) < 0 &&
		    err.code != LK_ECONFLICT)
			retry(g, item, "delete", &err);
		cJSON_Delete(out);
	}
	lk_err_clear(&err);
}

/* attemptToDeleteItem. */
static void sync_dependent(struct gc *g, const char *item, const struct resource *res,
			   const char *ns, const char *name, cJSON *obj)
{
	const cJSON *refs = jget(obj, "metadata.ownerReferences"), *r;
	int n = cJSON_GetArraySize(refs), i = 0;
	enum gc_owner_state *states;
	struct gc_plan plan;

	if (jget(obj, "metadata.deletionTimestamp")) {
		if (has_finalizer(obj, FIN_FOREGROUND))
			sync_owner(g, item, res, ns, name, obj);
		return;
	}
	if (!n)
		return;
	states = xcalloc((size_t)n, sizeof(*states));
	cJSON_ArrayForEach(r, refs)
		states[i++] = classify(g, r, res, ns);
	gc_plan(obj, states, has_dependents(g, jstr_or(obj, "metadata.uid", "")), &plan);
	act(g, item, res, ns, name, obj, &plan);
	cJSON_Delete(plan.refs);
	free(states);
}

static void gc_sync(void *arg, const char *item)
{
	struct gc *g = arg;
	char storage[128], ns[256], name[256];
	const struct resource *res;
	cJSON *obj = NULL;

	if (strlen(item) < 3 || item[1] != ':')
		return;
	res = key_parse(item + 2, storage, ns, name);
	if (!res || store_get(g->lk->store, storage, ns, name, &obj, NULL) < 0)
		return;
	if (item[0] == 'o')
		sync_owner(g, item, res, ns, name, obj);
	else
		sync_dependent(g, item, res, ns, name, obj);
	cJSON_Delete(obj);
}

/* ---- start and stop ---- */

struct scan {
	struct gc *g;
	const char *storage;
};

static int scan_one(void *arg, cJSON *obj)
{
	struct scan *s = arg;
	char key[KEY_MAX];
	const char *ns = jstr_or(obj, "metadata.namespace", "");
	snprintf(key, sizeof(key), "%s|%s|%s", s->storage, ns, jstr_or(obj, "metadata.name", ""));
	seen(s->g, key, ns, obj);
	cJSON_Delete(obj);
	return 0;
}

void *gc_start(struct labkube *lk)
{
	struct gc *g = xcalloc(1, sizeof(*g));
	g->lk = lk;
	g->wq = workqueue_new(lk->loop, "garbage-collector", gc_sync, g);
	g->running = true;
	/* Subscribing first: the list covers what committed before. */
	g->sub = store_subscribe(lk->store, NULL, on_change, g);
	for (size_t i = 0; i < resource_count; i++) {
		char storage[128];
		struct scan s = { g, resource_storage(resource_table[i], storage) };
		if (!strcmp(storage, "events") || res_of_storage(storage) != resource_table[i])
			continue;
		store_list(lk->store, storage, NULL, NULL, scan_one, &s, NULL, NULL);
	}
	return g;
}

void gc_stop(void *state)
{
	struct gc *g = state;
	if (!g)
		return;
	g->running = false;
	store_unsubscribe(g->sub);
	workqueue_free(g->wq);
	smap_clear(&g->deps, dep_free);
	smap_clear(&g->owners, keylist_free);
	free(g);
}
