/*
 * server/api/watch.c: watch streams (api-machinery.md §5, wire doc §3).
 *
 * A watch subscribes to the store's change feed for its resource, sends the
 * initial state (synthetic ADDED for resourceVersion ""/"0") or replays the
 * change log from the given revision (ERROR 410 Expired when compacted), then
 * streams one JSON line per event. Selector transitions follow upstream:
 * starts matching → ADDED, stops → DELETED. The connection is suspended
 * while there is nothing to send; its socket is watched for hangup meanwhile
 * (libmicrohttpd does not notice a client leaving a suspended connection).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "common/loop.h"
#include "server/api/internal.h"
#include "server/labkube.h"
#include "server/resources/resources.h"
#include "server/store/store.h"

struct watch {
	struct api *api;
	struct MHD_Connection *conn;
	const struct resource *res;
	char storage[128];
	char ns[254];
	struct list_filter *filter;
	bool table, sent_columns;
	const char *include;
	struct strbuf buf;
	size_t off;
	bool suspended, closed, hup_off;
	int fd;
	int64_t last_rev;
	struct store_sub *sub;
	struct loop_timer *timeout, *bookmark, *last_bookmark;
	struct watch *next;
};

static struct loop *loop_of(struct watch *w)
{
	return w->api->lk->loop;
}

static void on_hup(struct loop *l, int fd, int events, void *arg);

static void wake(struct watch *w)
{
	if (!w->suspended)
		return;
	w->suspended = false;
	loop_fd_del(loop_of(w), w->fd);
	MHD_resume_connection(w->conn);
	w->api->resumed = true; /* MHD runs before the loop sleeps */
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
	sb_adds(&w->buf, s);
	sb_addc(&w->buf, '\n');
	free(s);
	wake(w);
}

static bool in_scope(struct watch *w, const struct store_event *ev)
{
	return !*w->ns || !strcmp(w->ns, ev->ns);
}

static int on_event(void *arg, const struct store_event *ev)
{
	struct watch *w = arg;
	bool now, before;

	if (w->closed || ev->rev <= w->last_rev || !in_scope(w, ev))
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
	w->closed = true;
}

static int64_t on_timeout(struct loop *l, void *arg)
{
	struct watch *w = arg;
	w->timeout = NULL;
	w->closed = true;
	wake(w);
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

static void on_hup(struct loop *l, int fd, int events, void *arg)
{
	struct watch *w = arg;
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		w->hup_off = true; /* the client talks: let MHD read it */
	else
		w->closed = true;
	wake(w);
}

ssize_t watch_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct watch *w = cls;
	size_t avail = w->buf.len - w->off;

	if (avail) {
		size_t n = avail < max ? avail : max;
		memcpy(buf, w->buf.buf + w->off, n);
		w->off += n;
		if (w->off == w->buf.len) {
			sb_reset(&w->buf);
			w->off = 0;
		}
		return (ssize_t)n;
	}
	if (w->closed)
		return MHD_CONTENT_READER_END_OF_STREAM;
	w->suspended = true;
	if (!w->hup_off)
		loop_fd_add(loop_of(w), w->fd, LOOP_READ, on_hup, w);
	MHD_suspend_connection(w->conn);
	return 0;
}

void watch_free_cb(void *cls)
{
	struct watch *w = cls;
	if (w->suspended)
		loop_fd_del(loop_of(w), w->fd);
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
	sb_release(&w->buf);
	free(w);
}

void watch_close_all(struct api *api)
{
	for (struct watch *w = api->watches; w; w = w->next) {
		w->closed = true;
		wake(w);
	}
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
	const union MHD_ConnectionInfo *ci;

	w->api = r->api;
	w->conn = r->conn;
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
	ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	w->fd = ci ? ci->connect_fd : -1;
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
