/*
 * server/controllers/informer.c: see informer.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/htab.h"
#include "common/json.h"
#include "common/loop.h"
#include "common/util.h"
#include "server/api/write.h"
#include "server/controllers/informer.h"
#include "server/labkube.h"
#include "server/resources/resources.h"

/* ---- keys ---- */

const char *obj_key(const cJSON *obj, char *buf)
{
	const char *ns = jstr_or(obj, "metadata.namespace", "");
	snprintf(buf, 512, "%s%s%s", ns, *ns ? "/" : "", jstr_or(obj, "metadata.name", ""));
	return buf;
}

void key_split(const char *key, char *ns, char *name)
{
	const char *slash = strchr(key, '/');
	if (!slash) {
		ns[0] = 0;
		snprintf(name, 256, "%s", key);
		return;
	}
	snprintf(ns, 256, "%.*s", (int)(slash - key), key);
	snprintf(name, 256, "%s", slash + 1);
}

/* ---- informer ---- */

struct handler {
	informer_fn fn;
	void *arg;
	struct handler *next;
};

struct informer {
	struct labkube *lk;
	const struct resource *res;
	struct htab cache;     /* "ns/name" -> cJSON, owned */
	struct store_sub *sub;
	struct handler *handlers;
};

static void free_json(void *p)
{
	cJSON_Delete(p);
}

static int on_change(void *arg, const struct store_event *ev)
{
	struct informer *inf = arg;
	char key[512];
	cJSON *old;

	obj_key(ev->obj, key);
	if (ev->type == STORE_DELETED)
		old = htab_dels(&inf->cache, key);
	else
		old = htab_puts(&inf->cache, key, cJSON_Duplicate(ev->obj, 1));
	for (struct handler *h = inf->handlers; h; h = h->next)
		h->fn(h->arg, ev->type, ev->obj, ev->prev ? ev->prev : old);
	cJSON_Delete(old);
	return 0;
}

static int load_one(void *arg, cJSON *obj)
{
	struct informer *inf = arg;
	char key[512];
	cJSON_Delete(htab_puts(&inf->cache, obj_key(obj, key), obj));
	return 0;
}

struct informer *informer_new(struct labkube *lk, const struct resource *res)
{
	struct informer *inf = xcalloc(1, sizeof(*inf));
	char storage[128];
	inf->lk = lk;
	inf->res = res;
	resource_storage(res, storage);
	/* Subscribing sees only what commits after now; the list is the rest. */
	inf->sub = store_subscribe(lk->store, storage, on_change, inf);
	store_list(lk->store, storage, NULL, NULL, load_one, inf, NULL, NULL);
	return inf;
}

void informer_free(struct informer *inf)
{
	if (!inf)
		return;
	store_unsubscribe(inf->sub);
	htab_clear(&inf->cache, free_json);
	while (inf->handlers) {
		struct handler *h = inf->handlers;
		inf->handlers = h->next;
		free(h);
	}
	free(inf);
}

void informer_on(struct informer *inf, informer_fn fn, void *arg)
{
	struct handler *h = xcalloc(1, sizeof(*h)), **pp = &inf->handlers;
	h->fn = fn;
	h->arg = arg;
	while (*pp)
		pp = &(*pp)->next;
	*pp = h;
}

const cJSON *informer_get(const struct informer *inf, const char *ns, const char *name)
{
	char key[512];
	snprintf(key, sizeof(key), "%s%s%s", ns ? ns : "", ns && *ns ? "/" : "", name);
	return htab_gets(&inf->cache, key);
}

void informer_foreach(const struct informer *inf, const char *ns,
		      int (*fn)(void *arg, const cJSON *obj), void *arg)
{
	struct htab_iter it = HTAB_ITER_INIT;

	for (const struct htab_entry *e = htab_next(&inf->cache, &it); e;
	     e = htab_next(&inf->cache, &it)) {
		if (ns && strcmp(jstr_or(e->val, "metadata.namespace", ""), ns))
			continue;
		if (fn(arg, e->val))
			return;
	}
}

size_t informer_count(const struct informer *inf)
{
	return htab_count(&inf->cache);
}

const struct resource *informer_resource(const struct informer *inf)
{
	return inf->res;
}

/* ---- workqueue ---- */

struct workqueue {
	struct labkube *lk;
	char *name;
	workqueue_fn sync;
	void *arg;
	struct htab pending;    /* key → (void *)1 */
	bool draining;
	struct delayed *delayed; /* keys waiting for their timer */
};

struct delayed {
	struct workqueue *wq;
	char *key;
	struct loop_timer *timer;
	struct delayed *next;
};

static void drain(struct loop *l, void *arg)
{
	struct workqueue *wq = arg;
	if (!htab_count(&wq->pending) || wq->draining)
		return;
	/* Take the whole set: keys added while syncing wait for the next round. */
	struct htab batch = wq->pending;
	struct htab_iter it = HTAB_ITER_INIT;
	wq->pending = (struct htab)HTAB_INIT;
	wq->draining = true;
	for (const struct htab_entry *e = htab_next(&batch, &it); e; e = htab_next(&batch, &it))
		wq->sync(wq->arg, e->key);
	wq->draining = false;
	htab_clear(&batch, NULL);
	loop_wake_within(l, 0); /* the syncs wrote: commit without sleeping */
}

struct workqueue *workqueue_new(struct labkube *lk, const char *name,
				workqueue_fn sync, void *arg)
{
	struct workqueue *wq = xcalloc(1, sizeof(*wq));
	wq->lk = lk;
	wq->name = xstrdup(name);
	wq->sync = sync;
	wq->arg = arg;
	loop_before_sleep(lk->loop, drain, wq);
	return wq;
}

void workqueue_free(struct workqueue *wq)
{
	if (!wq)
		return;
	loop_before_sleep_del(wq->lk->loop, drain, wq);
	while (wq->delayed) {
		struct delayed *d = wq->delayed;
		wq->delayed = d->next;
		loop_timer_del(wq->lk->loop, d->timer);
		free(d->key);
		free(d);
	}
	htab_clear(&wq->pending, NULL);
	free(wq->name);
	free(wq);
}

void workqueue_add(struct workqueue *wq, const char *key)
{
	htab_puts(&wq->pending, key, (void *)1);
	loop_wake_within(wq->lk->loop, 0);
}

static int64_t fire(struct loop *l, void *arg)
{
	struct delayed *d = arg;
	for (struct delayed **pp = &d->wq->delayed; *pp; pp = &(*pp)->next)
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	workqueue_add(d->wq, d->key);
	free(d->key);
	free(d);
	return -1;
}

void workqueue_add_after(struct workqueue *wq, const char *key, int64_t delay_ms)
{
	struct delayed *d;
	if (delay_ms <= 0) {
		workqueue_add(wq, key);
		return;
	}
	d = xcalloc(1, sizeof(*d));
	d->wq = wq;
	d->key = xstrdup(key);
	d->next = wq->delayed;
	wq->delayed = d;
	d->timer = loop_timer_add(wq->lk->loop, delay_ms, fire, d);
}

/* ---- events ---- */

struct seen_event {
	char *name;
	time_t last;
};

static struct htab seen; /* (uid, type, reason, message) → event name */

static void record(struct labkube *lk, const cJSON *obj, const char *component,
		   const char *host, const char *field_path, const char *type,
		   const char *reason, const char *msg)
{
	struct lk_err err = { 0 };
	const char *ns = jstr_or(obj, "metadata.namespace", "");
	const char *name = jstr_or(obj, "metadata.name", "");
	char ts[32], *key;
	struct timespec rt;
	time_t now = time(NULL);
	struct seen_event *se;

	if (!*ns)
		ns = "default";
	key = xasprintf("%s\x1f%s\x1f%s\x1f%s\x1f%s", jstr_or(obj, "metadata.uid", name),
			field_path ? field_path : "", type, reason, msg);
	lk_rfc3339(now, ts);
	se = htab_gets(&seen, key);
	if (se && now - se->last < 600) {
		cJSON *ev = NULL;
		if (store_get(lk->store, "events", ns, se->name, &ev, NULL) == 0) {
			jset_int(ev, "count", jint(ev, "count", 1) + 1);
			jset_str(ev, "lastTimestamp", ts);
			if (obj_update(lk->store, &res_event, ns, se->name, ev, 0, &err) == 0) {
				se->last = now;
				cJSON_Delete(ev);
				free(key);
				return;
			}
			lk_err_clear(&err);
		}
		cJSON_Delete(ev);
	}
	cJSON *ev = cJSON_CreateObject();
	clock_gettime(CLOCK_REALTIME, &rt);
	char *evname = xasprintf("%s.%llx", name, (unsigned long long)rt.tv_sec * 1000000000ull +
				 (unsigned long long)rt.tv_nsec);
	jset_str(ev, "metadata.name", evname);
	jset_str(ev, "metadata.namespace", ns);
	cJSON *io = jobj(ev, "involvedObject");
	static const char *const copy[] = { "kind", "apiVersion" };
	for (size_t i = 0; i < ARRAY_SIZE(copy); i++)
		if (jstr(obj, copy[i]))
			cJSON_AddStringToObject(io, copy[i], jstr(obj, copy[i]));
	cJSON_AddStringToObject(io, "namespace", jstr_or(obj, "metadata.namespace", ""));
	cJSON_AddStringToObject(io, "name", name);
	cJSON_AddStringToObject(io, "uid", jstr_or(obj, "metadata.uid", ""));
	cJSON_AddStringToObject(io, "resourceVersion", jstr_or(obj, "metadata.resourceVersion", ""));
	if (field_path)
		cJSON_AddStringToObject(io, "fieldPath", field_path);
	jset_str(ev, "reason", reason);
	jset_str(ev, "message", msg);
	jset_str(ev, "source.component", component);
	if (host)
		jset_str(ev, "source.host", host);
	jset_str(ev, "firstTimestamp", ts);
	jset_str(ev, "lastTimestamp", ts);
	jset_int(ev, "count", 1);
	jset_str(ev, "type", type);
	jset_str(ev, "reportingComponent", component);
	jset_str(ev, "reportingInstance", host ? host : "");
	if (obj_create(lk->store, &res_event, ns, ev, 0, &err) == 0) {
		se = xcalloc(1, sizeof(*se));
		se->name = evname;
		se->last = now;
		evname = NULL;
		struct seen_event *old = htab_puts(&seen, key, se);
		if (old) {
			free(old->name);
			free(old);
		}
	} else {
		lk_err_clear(&err);
	}
	free(evname);
	free(key);
	cJSON_Delete(ev);
}

void event_record(struct labkube *lk, const cJSON *obj, const char *component,
		  const char *type, const char *reason, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	record(lk, obj, component, NULL, NULL, type, reason, sb.buf ? sb.buf : "");
	sb_release(&sb);
}

void event_record_path(struct labkube *lk, const cJSON *obj, const char *component,
		       const char *host, const char *field_path, const char *type,
		       const char *reason, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	record(lk, obj, component, host, field_path, type, reason, sb.buf ? sb.buf : "");
	sb_release(&sb);
}
