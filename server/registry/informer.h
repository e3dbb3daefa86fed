/*
 * server/registry/informer.h: the in-memory copy of one kind that components
 * read (client-go's shared informer and lister, in one thread).
 *
 * One cache per (registry, kind), shared by every component that reads the
 * kind and reference-counted: informer_new() hands out a reference to it
 * (creating it on first use: filled from the store, then kept current by
 * the change feed, no polling), informer_free() releases that reference
 * and removes every handler added through it; the last release frees the
 * cache. A component keeps its own reference per kind it reads.
 *
 * Handlers hear each change after the cache has applied it, all of them in
 * registration order (a component's own in the order it added them). A
 * handler may add or remove handlers, release references (its own too)
 * and write objects (writes join the store's next transaction, whose
 * events come after this dispatch); a handler added during a dispatch does
 * not hear the change being dispatched. informer_on() replays nothing:
 * walk the cache (informer_foreach) after adding handlers to see what is
 * already there.
 *
 * Components write only through server/registry/write.h (obj_create/update/
 * delete), never to the store directly. Objects handed out by
 * informer_get/foreach are borrowed and shared with every other reader:
 * never modify them; valid until the next change of that object. They are
 * json_pack copies (common/json.h, one allocation each): to keep one past
 * that, take a reference (json_pack_ref, dropped with json_pack_free) or
 * copy it. The obj and old a handler is given are borrowed for the call
 * (obj is the store's event object; informer_get gives the cached one).
 *
 * One thread (the loop).
 */
#ifndef LK_INFORMER_H
#define LK_INFORMER_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "server/store/store.h"

struct registry;
struct resource;
struct informer;

/* obj: current state (for DELETED, the last one); old: NULL on ADDED. */
typedef void (*informer_fn)(void *arg, enum store_ev_type type, const cJSON *obj,
			    const cJSON *old);

/* A new reference to the shared cache of res in reg; the caller's. */
struct informer *informer_new(struct registry *reg, const struct resource *res);
/* Release the reference and the handlers added through it. NULL-safe. */
void informer_free(struct informer *inf);
/* Handlers run in registration order; the cache is already updated. */
void informer_on(struct informer *inf, informer_fn fn, void *arg);
/* Remove the handler (fn, arg) added through inf; a no-op when absent. */
void informer_off(struct informer *inf, informer_fn fn, const void *arg);
/* How many references the shared cache behind inf has (for tests). */
size_t informer_refs(const struct informer *inf);
const cJSON *informer_get(const struct informer *inf, const char *ns, const char *name);
/* Every object (in ns, or all when ns is NULL); fn returns non-zero to stop.
 * The cache must not change during the walk (do not write from fn: collect
 * keys and write after). */
void informer_foreach(const struct informer *inf, const char *ns,
		      int (*fn)(void *arg, const cJSON *obj), void *arg);
size_t informer_count(const struct informer *inf);
const struct resource *informer_resource(const struct informer *inf);

/* "ns/name" (or "name" for cluster-scoped) of obj into buf (>= 512). */
const char *obj_key(const cJSON *obj, char *buf);
/* Split a key; ns gets "" for cluster-scoped. buffers >= 256. */
void key_split(const char *key, char *ns, char *name);

#endif
