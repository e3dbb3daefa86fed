/*
 * server/registry/informer.h: the in-memory copy of one kind that components
 * read (client-go's informer and lister, in one thread).
 *
 * An informer keeps an in-memory copy of every object of one resource,
 * filled from the store at start and kept current by the change feed (no
 * polling); handlers registered on it hear each change after the cache has
 * applied it.
 *
 * Components write only through server/registry/write.h (obj_create/update/
 * delete), never to the store directly. Objects handed out by an informer
 * are borrowed: valid until the next change of that object; copy to keep.
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

struct informer *informer_new(struct registry *reg, const struct resource *res);
void informer_free(struct informer *inf);
/* Handlers run in registration order; the cache is already updated. */
void informer_on(struct informer *inf, informer_fn fn, void *arg);
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
