/*
 * server/registry/workqueue.c: see workqueue.h.
 */
#include <stdlib.h>

#include "common/htab.h"
#include "common/loop.h"
#include "common/util.h"
#include "server/registry/workqueue.h"

struct workqueue {
	struct loop *loop;
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

struct workqueue *workqueue_new(struct loop *loop, const char *name,
				workqueue_fn sync, void *arg)
{
	struct workqueue *wq = xcalloc(1, sizeof(*wq));
	wq->loop = loop;
	wq->name = xstrdup(name);
	wq->sync = sync;
	wq->arg = arg;
	loop_before_sleep(loop, drain, wq);
	return wq;
}

void workqueue_free(struct workqueue *wq)
{
	if (!wq)
		return;
	loop_before_sleep_del(wq->loop, drain, wq);
	while (wq->delayed) {
		struct delayed *d = wq->delayed;
		wq->delayed = d->next;
		loop_timer_del(wq->loop, d->timer);
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
	loop_wake_within(wq->loop, 0);
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
	d->timer = loop_timer_add(wq->loop, delay_ms, fire, d);
}
