/*
 * server/registry/informer.c: see informer.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/htab.h"
#include "common/json.h"
#include "common/util.h"
#include "server/registry/informer.h"
#include "server/registry/registry.h"
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

/* ---- the shared cache and its references ----
 *
 * One struct inf_cache per (registry, kind), in reg->informers; every
 * informer_new() hands out a struct informer, a reference to it. Handlers
 * live on the cache, in one list in registration order, each tagged with
 * the reference that added it, so that releasing a reference removes them.
 *
 * Re-entrancy: during a dispatch (on_change) a handler may add or remove
 * handlers and release or take references, its own included. Removal only
 * clears the handler's fn (the walk skips it) and the cache is swept when
 * the outermost dispatch ends; a cache whose last reference went during a
 * dispatch is freed then too. A handler added during a dispatch does not
 * hear the change being dispatched (its seq is past the dispatch's).
 */

struct handler {
	informer_fn fn;                /* NULL: removed, swept after dispatch */
	void *arg;
	const struct informer *owner;  /* the reference that added it */
	uint64_t seq;
	struct handler *next;
};

struct inf_cache {
	struct registry *reg;
	const struct resource *res;
	struct htab cache;             /* "ns/name" -> cJSON, owned */
	struct store_sub *sub;
	struct handler *handlers;
	uint64_t next_seq;
	int refs;
	int dispatching;               /* nesting depth of on_change */
	bool removed;                  /* some handler's fn is NULL */
	struct inf_cache *next;        /* in reg->informers */
};

struct informer {
	struct inf_cache *c;
};

/* Cached objects are json_pack() copies: one allocation each. */
static void free_json(void *p)
{
	json_pack_free(p);
}

static void sweep(struct inf_cache *c)
{
	struct handler **pp = &c->handlers;

	while (*pp) {
		struct handler *h = *pp;
		if (h->fn) {
			pp = &h->next;
			continue;
		}
		*pp = h->next;
		free(h);
	}
	c->removed = false;
}

static void cache_free(struct inf_cache *c)
{
	struct inf_cache **pp = &c->reg->informers;

	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	store_unsubscribe(c->sub);
	htab_clear(&c->cache, free_json);
	while (c->handlers) {
		struct handler *h = c->handlers;
		c->handlers = h->next;
		free(h);
	}
	free(c);
}

static int on_change(void *arg, const struct store_event *ev)
{
	struct inf_cache *c = arg;
	uint64_t seq = c->next_seq;
	char key[512];
	cJSON *old;

	obj_key(ev->obj, key);
	if (ev->type == STORE_DELETED)
		old = htab_dels(&c->cache, key);
	else
		old = htab_puts(&c->cache, key, json_pack(ev->obj));
	c->dispatching++;
	for (struct handler *h = c->handlers; h; h = h->next)
		if (h->fn && h->seq < seq)
			h->fn(h->arg, ev->type, ev->obj, ev->prev ? ev->prev : old);
	c->dispatching--;
	json_pack_free(old);
	if (!c->dispatching) {
		if (c->removed)
			sweep(c);
		if (!c->refs)
			cache_free(c);
	}
	return 0;
}

static int load_one(void *arg, cJSON *obj)
{
	struct inf_cache *c = arg;
	char key[512];
	json_pack_free(htab_puts(&c->cache, obj_key(obj, key), json_pack(obj)));
	cJSON_Delete(obj);
	return 0;
}

static struct inf_cache *cache_new(struct registry *reg, const struct resource *res)
{
	struct inf_cache *c = xcalloc(1, sizeof(*c));
	char storage[128];

	c->reg = reg;
	c->res = res;
	resource_storage(res, storage);
	/* Subscribing sees only what commits after now; the list is the rest. */
	c->sub = store_subscribe(reg->store, storage, on_change, c);
	store_list(reg->store, storage, NULL, NULL, load_one, c, NULL, NULL);
	c->next = reg->informers;
	reg->informers = c;
	return c;
}

struct informer *informer_new(struct registry *reg, const struct resource *res)
{
	struct informer *inf = xcalloc(1, sizeof(*inf));
	struct inf_cache *c = reg->informers;

	while (c && c->res != res)
		c = c->next;
	inf->c = c ? c : cache_new(reg, res);
	inf->c->refs++;
	return inf;
}

void informer_free(struct informer *inf)
{
	struct inf_cache *c;

	if (!inf)
		return;
	c = inf->c;
	for (struct handler *h = c->handlers; h; h = h->next)
		if (h->owner == inf)
			h->fn = NULL, h->owner = NULL, c->removed = true;
	free(inf);
	c->refs--;
	if (c->dispatching)
		return; /* on_change sweeps, and frees c if that was the last */
	if (c->removed)
		sweep(c);
	if (!c->refs)
		cache_free(c);
}

void informer_on(struct informer *inf, informer_fn fn, void *arg)
{
	struct inf_cache *c = inf->c;
	struct handler *h = xcalloc(1, sizeof(*h)), **pp = &c->handlers;

	h->fn = fn;
	h->arg = arg;
	h->owner = inf;
	h->seq = c->next_seq++;
	while (*pp)
		pp = &(*pp)->next;
	*pp = h;
}

void informer_off(struct informer *inf, informer_fn fn, const void *arg)
{
	struct inf_cache *c = inf->c;

	for (struct handler *h = c->handlers; h; h = h->next)
		if (h->owner == inf && h->fn == fn && h->arg == arg) {
			h->fn = NULL;
			h->owner = NULL;
			c->removed = true;
			break;
		}
	if (c->removed && !c->dispatching)
		sweep(c);
}

size_t informer_refs(const struct informer *inf)
{
	return (size_t)inf->c->refs;
}

const cJSON *informer_get(const struct informer *inf, const char *ns, const char *name)
{
	char key[512];
	snprintf(key, sizeof(key), "%s%s%s", ns ? ns : "", ns && *ns ? "/" : "", name);
	return htab_gets(&inf->c->cache, key);
}

void informer_foreach(const struct informer *inf, const char *ns,
		      int (*fn)(void *arg, const cJSON *obj), void *arg)
{
	const struct htab *t = &inf->c->cache;
	struct htab_iter it = HTAB_ITER_INIT;

	for (const struct htab_entry *e = htab_next(t, &it); e; e = htab_next(t, &it)) {
		if (ns && strcmp(jstr_or(e->val, "metadata.namespace", ""), ns))
			continue;
		if (fn(arg, e->val))
			return;
	}
}

size_t informer_count(const struct informer *inf)
{
	return htab_count(&inf->c->cache);
}

const struct resource *informer_resource(const struct informer *inf)
{
	return inf->c->res;
}
