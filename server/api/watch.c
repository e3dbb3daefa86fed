/*
 * server/api/watch.c: watch streams (api-machinery.md §5, wire doc §3).
 *
 * A watch subscribes to the store's change feed for its resource, sends the
 * initial state (synthetic ADDED for resourceVersion ""/"0") or replays the
 * change log from the given revision (ERROR 410 Expired when compacted), then
 * streams one JSON line per event. Selector transitions follow upstream:
 * starts matching → ADDED, stops → DELETED. The body is an hstream
 * (http.c): suspended while there is nothing to send, ended by a client
 * that hangs up.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/loop.h"
#include "server/api/internal.h"
#include "server/labkube.h"
#include "server/resources/resources.h"
#include "server/store/store.h"

struct watch {
	struct api *api;
	const struct resource *res;
	char storage[128];
	char ns[254];
	struct list_filter *filter;
	bool table, sent_columns;
	const char *include;
	struct hstream hs;      /* the response body (http.c) */
	int64_t last_rev;
	struct store_sub *sub;
	struct loop_timer *timeout, *bookmark, *last_bookmark;
	struct watch *next;
};

static struct loop *loop_of(struct watch *w)
{
	return w->api->lk->loop;
}

/* Nothing more goes out: the server ended the stream or the client left. */
static bool closed(const struct watch *w)
{
	return w->hs.ended || w->hs.gone;
}

static void emit(struct watch *w, const char *type, const cJSON *obj, int64_t rev)
{
	cJSON *ev = cJSON_CreateObject(), *o;
	char rvs[32];
	snprintf(rvs, sizeof(rvs), "%lld", (long long)rev);
	if (w->table && strcmp(type, "ERROR") && strcmp(type, "BOOKMARK")) {
		o = table_new(w->res, !w->sent_columns);
		w->sent_columns = true;
		jset_str(o, "metadata.resourceVersion", rvs);
		table_add_row(o, w->res, obj, w->include, time(NULL));
	} else if (!strcmp(type, "ERROR")) {
		o = cJSON_Duplicate(obj, 1);
	} else {
		o = api_served(w->res, cJSON_Duplicate(obj, 1));
	}
	cJSON_AddStringToObject(ev, "type", type);
	cJSON_AddItemToObject(ev, "object", o);
	char *s = jprint(ev);
	cJSON_Delete(ev);
	hstream_write(&w->hs, s, strlen(s));
	hstream_write(&w->hs, "\n", 1);
	free(s);
}

static bool in_scope(struct watch *w, const struct store_event *ev)
{
	return !*w->ns || !strcmp(w->ns, ev->ns);
}

static int on_event(void *arg, const struct store_event *ev)
{
	struct watch *w = arg;
	bool now, before;

	if (closed(w) || ev->rev <= w->last_rev || !in_scope(w, ev))
		return 0;
	w->last_rev = ev->rev;
	now = list_filter_match(w->filter, ev->obj);
	before = ev->prev && list_filter_match(w->filter, ev->prev);
	switch (ev->type) {
	case STORE_ADDED:
		if (now)
			emit(w, "ADDED", ev->obj, ev->rev);
		break;
	case STORE_MODIFIED:
		if (now && before) {
			emit(w, "MODIFIED", ev->obj, ev->rev);
		} else if (now) {
			emit(w, "ADDED", ev->obj, ev->rev);
		} else if (before) {
			cJSON *gone = cJSON_Duplicate(ev->prev, 1);
			char rvs[32];
			snprintf(rvs, sizeof(rvs), "%lld", (long long)ev->rev);
			jset_str(gone, "metadata.resourceVersion", rvs);
			emit(w, "DELETED", gone, ev->rev);
			cJSON_Delete(gone);
		}
		break;
	case STORE_DELETED:
		if (now)
			emit(w, "DELETED", ev->obj, ev->rev);
		break;
	}
	return 0;
}

static int initial_one(void *arg, cJSON *obj)
{
	struct watch *w = arg;
	if (list_filter_match(w->filter, obj))
		emit(w, "ADDED", obj, jint(obj, "metadata.resourceVersion", 0));
	cJSON_Delete(obj);
	return 0;
}

static void emit_error(struct watch *w, struct lk_err *err)
{
	cJSON *st = lk_err_status(err);
	emit(w, "ERROR", st, 0);
	cJSON_Delete(st);
	lk_err_clear(err);
	hstream_end(&w->hs);
}

static int64_t on_timeout(struct loop *l, void *arg)
{
	struct watch *w = arg;
	w->timeout = NULL;
	hstream_end(&w->hs);
	return -1;
}

static void bookmark(struct watch *w)
{
	char av[64], rvs[32];
	cJSON *o = cJSON_CreateObject();
	int64_t rev = store_committed_rev(w->api->lk->store);
	if (rev > w->last_rev)
		w->last_rev = rev;
	snprintf(rvs, sizeof(rvs), "%lld", (long long)w->last_rev);
	cJSON_AddStringToObject(o, "kind", w->res->kind);
	cJSON_AddStringToObject(o, "apiVersion", resource_api_version(w->res, av));
	jset_str(o, "metadata.resourceVersion", rvs);
	emit(w, "BOOKMARK", o, w->last_rev);
	cJSON_Delete(o);
}

static int64_t on_bookmark(struct loop *l, void *arg)
{
	bookmark(arg);
	return 60000;
}

static int64_t on_last_bookmark(struct loop *l, void *arg)
{
	struct watch *w = arg;
	w->last_bookmark = NULL;
	bookmark(w);
	return -1;
}

ssize_t watch_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	return hstream_read(&((struct watch *)cls)->hs, buf, max);
}

void watch_free_cb(void *cls)
{
	struct watch *w = cls;
	hstream_release(&w->hs);
	for (struct watch **pp = &w->api->watches; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	store_unsubscribe(w->sub);
	loop_timer_del(loop_of(w), w->timeout);
	loop_timer_del(loop_of(w), w->bookmark);
	loop_timer_del(loop_of(w), w->last_bookmark);
	list_filter_free(w->filter);
	free(w);
}

void watch_close_all(struct api *api)
{
	for (struct watch *w = api->watches; w; w = w->next)
		hstream_end(&w->hs);
}

static long timeout_seconds(struct req *r)
{
	const char *t = req_arg(r, "timeoutSeconds");
	if (t && atol(t) > 0)
		return atol(t);
	return 1800 + (long)(lk_random_u32() % 1800);
}

void api_watch(struct req *r, struct rurl *u)
{
	struct lk_err err = { 0 };
	struct store *st = r->api->lk->store;
	struct watch *w = xcalloc(1, sizeof(*w));
	const char *rv = req_arg(r, "resourceVersion");

	w->api = r->api;
	w->res = u->res;
	snprintf(w->storage, sizeof(w->storage), "%s", u->storage);
	snprintf(w->ns, sizeof(w->ns), "%s", u->res->namespaced ? u->ns : "");
	w->table = api_wants_table(r);
	if ((w->table && table_check_include(r, &w->include, &err) < 0) ||
	    list_filter_new(r, u->res, &w->filter, &err) < 0) {
		free(w);
		reply_err(r, &err);
		return;
	}
	hstream_init(&w->hs, r);
	w->next = r->api->watches;
	r->api->watches = w;
	w->sub = store_subscribe(st, w->storage, on_event, w);
	if (!rv || !*rv || !strcmp(rv, "0")) {
		store_list(st, w->storage, *w->ns ? w->ns : NULL, NULL, initial_one, w,
			   &w->last_rev, NULL);
	} else {
		int64_t since = atoll(rv);
		w->last_rev = since;
		if (store_replay(st, w->storage, since, on_event, w, &err) < 0)
			emit_error(w, &err);
	}
	long tmo = timeout_seconds(r);
	w->timeout = loop_timer_add(loop_of(w), tmo * 1000, on_timeout, w);
	/* Bookmarks every minute, and one about 2 s before the deadline so a
	 * client can resume from there (as upstream's watch cache does). */
	if (req_arg_bool(r, "allowWatchBookmarks")) {
		w->bookmark = loop_timer_add(loop_of(w), 60000, on_bookmark, w);
		if (tmo > 2)
			w->last_bookmark = loop_timer_add(loop_of(w), (tmo - 2) * 1000,
							  on_last_bookmark, w);
	}
	r->watch = w;
	r->reply.status = 200;
	r->reply.ctype = w->table ? TABLE_CTYPE : "application/json";
}
