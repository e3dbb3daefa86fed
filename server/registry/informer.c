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

/* ---- informer ---- */

struct handler {
	informer_fn fn;
	void *arg;
	struct handler *next;
};

struct informer {
	struct registry *reg;
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

struct informer *informer_new(struct registry *reg, const struct resource *res)
{
	struct informer *inf = xcalloc(1, sizeof(*inf));
	char storage[128];
	inf->reg = reg;
	inf->res = res;
	resource_storage(res, storage);
	/* Subscribing sees only what commits after now; the list is the rest. */
	inf->sub = store_subscribe(reg->store, storage, on_change, inf);
	store_list(reg->store, storage, NULL, NULL, load_one, inf, NULL, NULL);
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
