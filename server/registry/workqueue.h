/*
 * server/registry/workqueue.h: keys to reconcile (client-go's workqueue, in
 * one thread). A workqueue holds keys ("ns/name"), de-duplicated, with
 * optional delay; its sync function runs from the loop's before-sleep hook,
 * so many changes in one loop iteration cost one reconcile per key.
 */
#ifndef LK_WORKQUEUE_H
#define LK_WORKQUEUE_H

#include <stdint.h>

struct loop;
struct workqueue;

typedef void (*workqueue_fn)(void *arg, const char *key);
struct workqueue *workqueue_new(struct loop *loop, const char *name,
				workqueue_fn sync, void *arg);
void workqueue_free(struct workqueue *wq);
void workqueue_add(struct workqueue *wq, const char *key);
void workqueue_add_after(struct workqueue *wq, const char *key, int64_t delay_ms);

#endif
