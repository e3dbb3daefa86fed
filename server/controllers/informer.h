/*
 * server/controllers/informer.h: what every in-process controller stands on
 * (client-go's informer, lister and workqueue, in one thread).
 *
 * An informer keeps an in-memory copy of every object of one resource,
 * filled from the store at start and kept current by the change feed (no
 * polling); handlers registered on it hear each change after the cache has
 * applied it. A workqueue holds keys ("ns/name") to reconcile, de-duplicated,
 * with optional delay; its sync function runs from the loop's before-sleep
 * hook, so many changes in one iteration cost one reconcile per key.
 *
 * Controllers write only through server/api/write.h (obj_create/update/
 * delete), never to the store directly. Objects handed out by an informer
 * are borrowed: valid until the next change of that object; copy to keep.
 */
#ifndef LK_INFORMER_H
#define LK_INFORMER_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "server/store/store.h"

struct labkube;
struct resource;
struct informer;
struct workqueue;

/* obj: current state (for DELETED, the last one); old: NULL on ADDED. */
typedef void (*informer_fn)(void *arg, enum store_ev_type type, const cJSON *obj,
			    const cJSON *old);

struct informer *informer_new(struct labkube *lk, const struct resource *res);
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

typedef void (*workqueue_fn)(void *arg, const char *key);
struct workqueue *workqueue_new(struct labkube *lk, const char *name,
				workqueue_fn sync, void *arg);
void workqueue_free(struct workqueue *wq);
void workqueue_add(struct workqueue *wq, const char *key);
void workqueue_add_after(struct workqueue *wq, const char *key, int64_t delay_ms);

/*
 * Events, as upstream's recorder writes them: core v1 Event named
 * "<object>.<hex time>", involvedObject from obj, source.component =
 * component (and host when given); a repeat of the same (object, type,
 * reason, message) within 10 minutes bumps count and lastTimestamp instead.
 */
void event_record(struct labkube *lk, const cJSON *obj, const char *component,
		  const char *type, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* Same, with the container's fieldPath (spec.containers{name}) and host. */
void event_record_path(struct labkube *lk, const cJSON *obj, const char *component,
		       const char *host, const char *field_path, const char *type,
		       const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 8, 9)));

#endif
