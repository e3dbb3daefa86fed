/*
 * server/store/store.c: the object store on one SQLite database (WAL mode).
 *
 * Tables:
 *   objects(resource, ns, name, uid, rev, created, json)
 *	current state, a rowid table with a unique index on (resource, ns,
 *	name) (WITHOUT ROWID would spill ~1 KB rows into overflow pages), so
 *	a list is one ordered range scan;
 *   changes(rev, resource, ns, name, type, json, prev_json, at_unix_time)
 *	the change log that watches replay from, trimmed by store_compact();
 *	for DELETED, json is the last state stamped with the deletion revision;
 *   meta(key, value)
 *	"compacted", and "rev" as of the last compaction or close;
 * and the schema version in PRAGMA user_version (see upgrades[] below).
 * Every revision has its change row until compaction, so the revision at
 * open is the highest of changes.rev, meta.rev and meta.compacted: a commit
 * writes only the rows it changes, no counter row.
 *
 * Group commit: the first write opens BEGIN IMMEDIATE, later writes join it,
 * store_commit() COMMITs (synchronous=FULL: one WAL fsync for the whole
 * group), then hands the buffered events to subscribers.
 * Events are buffered as the JSON text the write already printed and are
 * parsed at delivery only if some subscriber wants them. A write that fails
 * inside SQLite (not a NotFound/Conflict/AlreadyExists) poisons the open
 * transaction: later writes fail and the next commit rolls it back.
 *
 * Delivery is re-entrant: subscribers may write (a new transaction), commit
 * (those events queue behind the ones being delivered, so order holds),
 * subscribe, or unsubscribe (marked dead, swept when the outermost delivery
 * ends). A subscription sees only revisions above the committed revision
 * at the time it was made, and store_replay() stops at that revision, so
 * replay-then-subscribe neither misses nor repeats an event.
 *
 * Not here: validation, defaulting, uid and timestamps (the API layer sets
 * them), HTTP. Revision semantics follow Kubernetes resourceVersion
 * (shared/specs/api-machinery.md).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/json.h"
#include "common/util.h"
#include "server/store/store.h"

#define BUSY_MS 1000
#define COMPACT_BATCH 100000 /* rows dropped per store_compact() at most */

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS objects ("
	" resource TEXT NOT NULL, ns TEXT NOT NULL, name TEXT NOT NULL,"
	" uid TEXT, rev INTEGER NOT NULL, created TEXT, json TEXT NOT NULL,"
	" PRIMARY KEY (resource, ns, name));"
	"CREATE TABLE IF NOT EXISTS changes ("
	" rev INTEGER PRIMARY KEY, resource TEXT NOT NULL, ns TEXT NOT NULL,"
	" name TEXT NOT NULL, type TEXT NOT NULL, json TEXT NOT NULL,"
	" prev_json TEXT, at_unix_time INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS meta ("
	" key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;";

/*
 * upgrades[v] takes a database from schema version v to v + 1, inside the
 * transaction that then records STORE_SCHEMA_VERSION. A file without our
 * tables (new) gets schema[] directly. The versions:
 *   0  no version recorded: every labkube up to b3e3ef8. Its tables are
 *      schema[] (before 2776ba6 objects was WITHOUT ROWID; the statements
 *      below read and write both alike).
 *   1  the same tables, with the version recorded.
 * A change to schema[] bumps STORE_SCHEMA_VERSION and adds its upgrade.
 */
static const char *const upgrades[STORE_SCHEMA_VERSION] = {
	[0] = "", /* only the version is new */
};

/* Every object statement binds ?1 resource, ?2 ns, ?3 name. */
enum stmt_id {
	Q_BEGIN, Q_COMMIT, Q_ROLLBACK, Q_META_SET,
	Q_GET, Q_INSERT, Q_UPDATE, Q_DELETE, Q_CHANGE,
	Q_LIST_ALL, Q_LIST_NS, Q_COUNT_ALL, Q_COUNT_NS,
	Q_REPLAY_ALL, Q_REPLAY_RES, Q_COMPACT_SCAN, Q_COMPACT_DEL,
	Q_MAX
};

#define KEY_SQL "resource = ?1 AND ns = ?2 AND name = ?3"
#define REPLAY_SQL \
	"SELECT rev, type, resource, ns, name, json, prev_json FROM changes" \
	" WHERE rev > ?1 AND rev <= ?2"

static const char *const sql[Q_MAX] = {
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	[Q_META_SET] = "INSERT OR REPLACE INTO meta VALUES (?1, ?2)",
	[Q_GET] = "SELECT rev, json FROM objects WHERE " KEY_SQL,
	[Q_INSERT] = "INSERT INTO objects (resource, ns, name, uid, rev,"
		     " created, json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[Q_UPDATE] = "UPDATE objects SET uid = ?4, rev = ?5, created = ?6,"
		     " json = ?7 WHERE " KEY_SQL,
	[Q_DELETE] = "DELETE FROM objects WHERE " KEY_SQL,
	[Q_CHANGE] = "INSERT INTO changes (resource, ns, name, rev, type, json,"
		     " prev_json, at_unix_time) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
		     " ?7, ?8)",
	/* lists resume after (?2, ?3); ("", "") is before every key */
	[Q_LIST_ALL] = "SELECT json FROM objects WHERE resource = ?1"
		       " AND (ns, name) > (?2, ?3) ORDER BY ns, name",
	[Q_LIST_NS] = "SELECT json FROM objects WHERE resource = ?1"
		      " AND ns = ?2 AND name > ?3 ORDER BY name",
	[Q_COUNT_ALL] = "SELECT count(*) FROM objects WHERE resource = ?1",
	[Q_COUNT_NS] = "SELECT count(*) FROM objects WHERE resource = ?1"
		       " AND ns = ?2",
	[Q_REPLAY_ALL] = REPLAY_SQL " ORDER BY rev",
	[Q_REPLAY_RES] = REPLAY_SQL " AND resource = ?3 ORDER BY rev",
	[Q_COMPACT_SCAN] = "SELECT rev, at_unix_time FROM changes"
			   " WHERE rev > ?1 AND rev <= ?2 ORDER BY rev",
	[Q_COMPACT_DEL] = "DELETE FROM changes WHERE rev <= ?1",
};

static const char *const type_names[] = {
	[STORE_ADDED] = "ADDED",
	[STORE_MODIFIED] = "MODIFIED",
	[STORE_DELETED] = "DELETED",
};

/* A buffered change: owned strings, key in one allocation. */
struct pev {
	enum store_ev_type type;
	int64_t rev;
	char *res, *ns, *name; /* res owns "res\0ns\0name\0" */
	char *json, *prev;
};

struct evq {
	struct pev *v;
	size_t n, alloc;
};

struct store_sub {
	struct store *st;
	struct store_sub *next;
	char *resource; /* NULL: every resource */
	store_event_fn fn;
	void *arg;
	int64_t after; /* sees only revisions above this */
	bool dead;
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *q[Q_MAX];
	struct store_opts opts;
	int64_t rev;       /* latest, including the open transaction */
	int64_t committed; /* latest durable */
	int64_t compacted;
	int64_t ckpt_rev;  /* committed revision at the last checkpoint */
	bool in_tx, broken;
	struct evq pending; /* written in the open transaction */
	struct evq ready;   /* committed, not yet delivered */
	struct store_sub *subs;
	bool delivering, sweep;
};

/* One write being built. */
struct wr {
	const char *res, *ns, *name;
	enum store_ev_type type;
	int64_t rev;
	char *json, *prev; /* owned until queued */
	int json_len;
};

static int db_error(struct store *st, struct lk_err *err, const char *what)
{
	const char *msg = sqlite3_errmsg(st->db);

	lk_log("store: %s: %s", what, msg);
	return lk_error(err, LK_EINTERNAL, "store: %s: %s", what, msg);
}

/* NotFound/AlreadyExists/Conflict for "plural[.group]". */
static int key_error(struct lk_err *err, enum lk_code code, const char *res,
		     const char *name)
{
	char plural[128];
	const char *dot = strchr(res, '.');
	const char *group = dot ? dot + 1 : "";
	size_t n = dot ? (size_t)(dot - res) : strlen(res);

	if (n >= sizeof(plural))
		n = sizeof(plural) - 1;
	memcpy(plural, res, n);
	plural[n] = 0;
	if (code == LK_ENOTFOUND)
		return lk_err_notfound(err, group, plural, name);
	if (code == LK_EEXISTS)
		return lk_err_exists(err, group, plural, name);
	return lk_err_conflict(err, group, plural, name);
}

/* Step a statement that returns no rows; 0 or the SQLite error code. */
static int exec_q(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : rc;
}

static void bind_key(sqlite3_stmt *s, const char *res, const char *ns,
		     const char *name)
{
	sqlite3_bind_text(s, 1, res, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, name, -1, SQLITE_STATIC);
}

/* The cached statement, or a fresh one while it is stepping (re-entry). */
static sqlite3_stmt *q_take(struct store *st, enum stmt_id id, bool *fresh)
{
	sqlite3_stmt *s = st->q[id];

	*fresh = false;
	if (!sqlite3_stmt_busy(s))
		return s;
	if (sqlite3_prepare_v2(st->db, sql[id], -1, &s, NULL) != SQLITE_OK)
		return NULL;
	*fresh = true;
	return s;
}

static void q_put(sqlite3_stmt *s, bool fresh)
{
	if (fresh)
		sqlite3_finalize(s);
	else
		sqlite3_reset(s);
}

static cJSON *parse_col(sqlite3_stmt *s, int col)
{
	const char *t = (const char *)sqlite3_column_text(s, col);
	size_t n = (size_t)sqlite3_column_bytes(s, col);

	return t ? cJSON_ParseWithLength(t, n) : NULL;
}

static int meta_set(struct store *st, const char *key, int64_t v)
{
	sqlite3_stmt *s = st->q[Q_META_SET];

	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, v);
	return exec_q(s) ? -1 : 0;
}

/* One integer from a one-off query (at open); 0 when there is none. */
static int64_t query_i64(struct store *st, const char *q)
{
	sqlite3_stmt *s = NULL;
	int64_t v = 0;

	if (sqlite3_prepare_v2(st->db, q, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* ---- event queues and subscribers ---- */

static void evq_push(struct evq *q, const struct pev *e)
{
	if (q->n == q->alloc) {
		q->alloc = q->alloc ? 2 * q->alloc : 64;
		q->v = xrealloc(q->v, q->alloc * sizeof(*q->v));
	}
	q->v[q->n++] = *e;
}

static void evq_clear(struct evq *q)
{
	for (size_t i = 0; i < q->n; i++) {
		free(q->v[i].res);
		free(q->v[i].json);
		free(q->v[i].prev);
	}
	q->n = 0;
}

/* Queue w as a pending event; takes w's strings. */
static void queue_write(struct store *st, struct wr *w)
{
	size_t a = strlen(w->res) + 1, b = strlen(w->ns) + 1;
	size_t c = strlen(w->name) + 1;
	struct pev e = { .type = w->type, .rev = w->rev, .json = w->json,
			 .prev = w->prev };

	e.res = xmalloc(a + b + c);
	e.ns = e.res + a;
	e.name = e.ns + b;
	memcpy(e.res, w->res, a);
	memcpy(e.ns, w->ns, b);
	memcpy(e.name, w->name, c);
	evq_push(&st->pending, &e);
	w->json = w->prev = NULL;
}

static bool sub_wants(const struct store_sub *sub, const struct pev *e)
{
	return !sub->dead && e->rev > sub->after &&
	       (!sub->resource || !strcmp(sub->resource, e->res));
}

static void deliver_one(struct store *st, const struct pev *e)
{
	struct store_event ev = { .type = e->type, .resource = e->res,
				  .ns = e->ns, .name = e->name, .rev = e->rev };
	cJSON *obj = NULL, *prev = NULL;

	for (struct store_sub *sub = st->subs; sub; sub = sub->next) {
		if (!sub_wants(sub, e))
			continue;
		if (!obj) {
			obj = cJSON_Parse(e->json);
			prev = e->prev ? cJSON_Parse(e->prev) : NULL;
			if (!obj) {
				lk_log("store: cannot parse change %lld",
				       (long long)e->rev);
				break;
			}
			ev.obj = obj;
			ev.prev = prev;
		}
		sub->fn(sub->arg, &ev);
	}
	cJSON_Delete(obj);
	cJSON_Delete(prev);
}

static void sub_free(struct store_sub *sub)
{
	free(sub->resource);
	free(sub);
}

static void sweep_subs(struct store *st)
{
	struct store_sub **pp = &st->subs, *sub;

	while (st->sweep && (sub = *pp)) {
		if (sub->dead) {
			*pp = sub->next;
			sub_free(sub);
		} else {
			pp = &sub->next;
		}
	}
	st->sweep = false;
}

/*
 * Deliver the ready queue in order. A commit from inside a subscriber only
 * appends to the queue; this (outermost) loop delivers it next.
 */
static void deliver(struct store *st)
{
	if (st->delivering)
		return;
	st->delivering = true;
	for (size_t i = 0; i < st->ready.n; i++) {
		struct pev e = st->ready.v[i]; /* ready.v may move meanwhile */

		deliver_one(st, &e);
	}
	evq_clear(&st->ready);
	st->delivering = false;
	sweep_subs(st);
}

struct store_sub *store_subscribe(struct store *st, const char *resource,
				  store_event_fn fn, void *arg)
{
	struct store_sub *sub = xcalloc(1, sizeof(*sub)), **pp;

	sub->st = st;
	sub->resource = resource ? xstrdup(resource) : NULL;
	sub->fn = fn;
	sub->arg = arg;
	sub->after = st->committed;
	for (pp = &st->subs; *pp; pp = &(*pp)->next)
		;
	*pp = sub;
	return sub;
}

void store_unsubscribe(struct store_sub *sub)
{
	struct store *st;
	struct store_sub **pp;

	if (!sub)
		return;
	st = sub->st;
	sub->dead = true;
	if (st->delivering) {
		st->sweep = true;
		return;
	}
	for (pp = &st->subs; *pp && *pp != sub; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = sub->next;
	sub_free(sub);
}

/* ---- transactions ---- */

static int tx_begin(struct store *st, struct lk_err *err)
{
	if (st->in_tx && st->broken)
		return lk_error(err, LK_EINTERNAL,
				"store: an earlier write failed, rolling back");
	if (st->in_tx)
		return 0;
	if (exec_q(st->q[Q_BEGIN]))
		return db_error(st, err, "begin");
	st->in_tx = true;
	return 0;
}

static void tx_rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db) && exec_q(st->q[Q_ROLLBACK]))
		lk_log("store: rollback: %s", sqlite3_errmsg(st->db));
	st->in_tx = st->broken = false;
	st->rev = st->committed;
	evq_clear(&st->pending);
}

bool store_dirty(const struct store *st)
{
	return st->in_tx;
}

int store_commit(struct store *st, struct lk_err *err)
{
	if (!st->in_tx)
		return 0;
	if (st->broken) {
		lk_log("store: a write failed, rolling back %zu changes",
		       st->pending.n);
		lk_error(err, LK_EINTERNAL,
			 "store: a write failed; transaction rolled back");
		goto fail;
	}
	if (exec_q(st->q[Q_COMMIT])) {
		db_error(st, err, "commit");
		goto fail;
	}
	st->in_tx = false;
	st->committed = st->rev;
	for (size_t i = 0; i < st->pending.n; i++)
		evq_push(&st->ready, &st->pending.v[i]);
	st->pending.n = 0; /* the strings moved to ready */
	deliver(st);
	return 0;
fail:
	tx_rollback(st);
	return -1;
}

/* ---- writes ---- */

static void stamp_rev(cJSON *obj, int64_t rev)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lld", (long long)rev);
	jset_str(obj, "metadata.resourceVersion", buf);
}

static char *save_rv(const cJSON *obj)
{
	const char *rv = jstr(obj, "metadata.resourceVersion");

	return rv ? xstrdup(rv) : NULL;
}

/* Put back the caller's resourceVersion after a failed write. */
static void restore_rv(cJSON *obj, char *rv)
{
	if (rv)
		jset_str(obj, "metadata.resourceVersion", rv);
	else
		jdel(obj, "metadata.resourceVersion");
	free(rv);
}

/* Append w to the change log and queue its event. */
static int log_change(struct store *st, struct wr *w, struct lk_err *err)
{
	sqlite3_stmt *s = st->q[Q_CHANGE];

	bind_key(s, w->res, w->ns, w->name);
	sqlite3_bind_int64(s, 4, w->rev);
	sqlite3_bind_text(s, 5, type_names[w->type], -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, w->json, w->json_len, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, w->prev, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 8, (int64_t)time(NULL));
	if (exec_q(s)) {
		st->broken = true;
		return db_error(st, err, "change log");
	}
	st->rev = w->rev;
	queue_write(st, w);
	return 0;
}

/* INSERT or UPDATE the object row; 0 or the SQLite error code. */
static int put_object(struct store *st, enum stmt_id id, const struct wr *w,
		      const cJSON *obj)
{
	sqlite3_stmt *s = st->q[id];

	bind_key(s, w->res, w->ns, w->name);
	sqlite3_bind_text(s, 4, jstr(obj, "metadata.uid"), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, w->rev);
	sqlite3_bind_text(s, 6, jstr(obj, "metadata.creationTimestamp"), -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(s, 7, w->json, w->json_len, SQLITE_STATIC);
	return exec_q(s);
}

/* Load the stored JSON of w's key into w->prev and check expect_rev. */
static int load_current(struct store *st, struct wr *w, int64_t expect_rev,
			struct lk_err *err)
{
	sqlite3_stmt *s = st->q[Q_GET];
	int rc, ret = 0;

	bind_key(s, w->res, w->ns, w->name);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		ret = key_error(err, LK_ENOTFOUND, w->res, w->name);
	else if (rc != SQLITE_ROW)
		ret = db_error(st, err, "read");
	else if (expect_rev > 0 && expect_rev != sqlite3_column_int64(s, 0))
		ret = key_error(err, LK_ECONFLICT, w->res, w->name);
	else
		w->prev = xstrndup((const char *)sqlite3_column_text(s, 1),
				   (size_t)sqlite3_column_bytes(s, 1));
	sqlite3_reset(s);
	return ret;
}

/* Stamp, print and store obj for w (create or update). */
static int write_object(struct store *st, struct wr *w, cJSON *obj,
			struct lk_err *err)
{
	char *old_rv;
	int rc;

	if (!cJSON_IsObject(obj))
		return lk_error(err, LK_EBADREQUEST,
				"store: not a JSON object");
	old_rv = save_rv(obj);
	w->rev = st->rev + 1;
	stamp_rev(obj, w->rev);
	w->json = jprint(obj);
	w->json_len = (int)strlen(w->json);
	rc = put_object(st, w->type == STORE_ADDED ? Q_INSERT : Q_UPDATE, w,
			obj);
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
		key_error(err, LK_EEXISTS, w->res, w->name);
		goto fail;
	}
	if (rc) {
		st->broken = true;
		db_error(st, err, "write");
		goto fail;
	}
	if (log_change(st, w, err) < 0)
		goto fail;
	free(old_rv);
	return 0;
fail:
	restore_rv(obj, old_rv);
	return -1;
}

int store_create(struct store *st, const char *resource, const char *ns,
		 const char *name, cJSON *obj, struct lk_err *err)
{
	struct wr w = { .res = resource, .ns = ns, .name = name,
			.type = STORE_ADDED };
	int ret = tx_begin(st, err);

	if (ret == 0)
		ret = write_object(st, &w, obj, err);
	free(w.json);
	return ret;
}

int store_update(struct store *st, const char *resource, const char *ns,
		 const char *name, cJSON *obj, int64_t expect_rev,
		 struct lk_err *err)
{
	struct wr w = { .res = resource, .ns = ns, .name = name,
			.type = STORE_MODIFIED };
	int ret = load_current(st, &w, expect_rev, err);

	if (ret == 0)
		ret = tx_begin(st, err);
	if (ret == 0)
		ret = write_object(st, &w, obj, err);
	free(w.json);
	free(w.prev);
	return ret;
}

int store_delete(struct store *st, const char *resource, const char *ns,
		 const char *name, int64_t expect_rev, cJSON **old_out,
		 struct lk_err *err)
{
	struct wr w = { .res = resource, .ns = ns, .name = name,
			.type = STORE_DELETED };
	cJSON *last = NULL;
	int ret = -1;

	if (load_current(st, &w, expect_rev, err) < 0 ||
	    tx_begin(st, err) < 0)
		goto out;
	last = cJSON_Parse(w.prev);
	if (!last) {
		lk_log("store: cannot parse stored %s '%s/%s'", resource, ns,
		       name);
		lk_error(err, LK_EINTERNAL, "store: corrupt object");
		goto out;
	}
	w.rev = st->rev + 1;
	stamp_rev(last, w.rev);
	w.json = jprint(last);
	w.json_len = (int)strlen(w.json);
	bind_key(st->q[Q_DELETE], resource, ns, name);
	if (exec_q(st->q[Q_DELETE])) {
		st->broken = true;
		db_error(st, err, "delete");
		goto out;
	}
	ret = log_change(st, &w, err);
out:
	if (ret == 0 && old_out) {
		*old_out = last;
		last = NULL;
	}
	cJSON_Delete(last);
	free(w.json);
	free(w.prev);
	return ret;
}

/* ---- reads ---- */

int64_t store_rev(const struct store *st)
{
	return st->rev;
}

int64_t store_committed_rev(const struct store *st)
{
	return st->committed;
}

int64_t store_compacted_rev(const struct store *st)
{
	return st->compacted;
}

int store_get(struct store *st, const char *resource, const char *ns,
	      const char *name, cJSON **out, struct lk_err *err)
{
	sqlite3_stmt *s = st->q[Q_GET];
	int rc, ret = 0;

	*out = NULL;
	bind_key(s, resource, ns, name);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && !(*out = parse_col(s, 1)))
		ret = lk_error(err, LK_EINTERNAL, "store: corrupt object");
	else if (rc == SQLITE_DONE)
		ret = key_error(err, LK_ENOTFOUND, resource, name);
	else if (rc != SQLITE_ROW)
		ret = db_error(st, err, "get");
	sqlite3_reset(s);
	return ret;
}

/*
 * Split "ns/name" (or "name", in ns) into the list's lower bound. In one
 * namespace, a key from an earlier namespace starts at the beginning and one
 * from a later namespace leaves nothing (*name = NULL).
 */
static char *after_key(const char *start_after, const char *ns,
		       const char **name)
{
	const char *slash = start_after ? strchr(start_after, '/') : NULL;
	char *key_ns;
	int cmp;

	*name = slash ? slash + 1 : start_after ? start_after : "";
	if (slash)
		key_ns = xstrndup(start_after, (size_t)(slash - start_after));
	else
		key_ns = xstrdup(start_after && ns ? ns : "");
	if (!ns || !(cmp = strcmp(key_ns, ns)))
		return key_ns;
	*name = cmp < 0 ? "" : NULL;
	free(key_ns);
	return xstrdup(ns);
}

static int list_rows(struct store *st, sqlite3_stmt *s, store_list_fn fn,
		     void *arg, struct lk_err *err)
{
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		cJSON *obj = parse_col(s, 0);

		if (!obj) {
			lk_log("store: skipping a corrupt row in a list");
			continue;
		}
		if (fn(arg, obj))
			return 0;
	}
	return rc == SQLITE_DONE ? 0 : db_error(st, err, "list");
}

int store_list(struct store *st, const char *resource, const char *ns,
	       const char *start_after, store_list_fn fn, void *arg,
	       int64_t *rev_out, struct lk_err *err)
{
	const char *after_name;
	char *after_ns = after_key(start_after, ns, &after_name);
	sqlite3_stmt *s;
	bool fresh;
	int ret;

	if (rev_out)
		*rev_out = st->rev;
	if (!after_name) { /* paged past this namespace */
		free(after_ns);
		return 0;
	}
	s = q_take(st, ns ? Q_LIST_NS : Q_LIST_ALL, &fresh);
	if (!s) {
		free(after_ns);
		return db_error(st, err, "list");
	}
	bind_key(s, resource, after_ns, after_name);
	ret = list_rows(st, s, fn, arg, err);
	q_put(s, fresh);
	free(after_ns);
	return ret;
}

long store_count(struct store *st, const char *resource, const char *ns)
{
	sqlite3_stmt *s = st->q[ns ? Q_COUNT_NS : Q_COUNT_ALL];
	long n = -1;

	sqlite3_bind_text(s, 1, resource, -1, SQLITE_STATIC);
	if (ns)
		sqlite3_bind_text(s, 2, ns, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(s, 0);
	else
		db_error(st, NULL, "count");
	sqlite3_reset(s);
	return n;
}

/* ---- replay ---- */

static enum store_ev_type type_of(const char *t)
{
	if (t && t[0] == 'A')
		return STORE_ADDED;
	return t && t[0] == 'D' ? STORE_DELETED : STORE_MODIFIED;
}

/* Call fn for one change-log row; its return value, 0 for a bad row. */
static int replay_row(sqlite3_stmt *s, store_event_fn fn, void *arg)
{
	struct store_event ev = {
		.rev = sqlite3_column_int64(s, 0),
		.type = type_of((const char *)sqlite3_column_text(s, 1)),
		.resource = (const char *)sqlite3_column_text(s, 2),
		.ns = (const char *)sqlite3_column_text(s, 3),
		.name = (const char *)sqlite3_column_text(s, 4),
	};
	cJSON *obj = parse_col(s, 5), *prev = parse_col(s, 6);
	int ret = 0;

	if (obj) {
		ev.obj = obj;
		ev.prev = prev;
		ret = fn(arg, &ev);
	} else {
		lk_log("store: cannot parse change %lld", (long long)ev.rev);
	}
	cJSON_Delete(obj);
	cJSON_Delete(prev);
	return ret;
}

int store_replay(struct store *st, const char *resource, int64_t since,
		 store_event_fn fn, void *arg, struct lk_err *err)
{
	sqlite3_stmt *s;
	bool fresh;
	int rc;

	if (since > 0 && since < st->compacted)
		return lk_error(err, LK_EGONE,
				"too old resource version: %lld (%lld)",
				(long long)since, (long long)st->compacted + 1);
	s = q_take(st, resource ? Q_REPLAY_RES : Q_REPLAY_ALL, &fresh);
	if (!s)
		return db_error(st, err, "replay");
	sqlite3_bind_int64(s, 1, since);
	sqlite3_bind_int64(s, 2, st->committed);
	if (resource)
		sqlite3_bind_text(s, 3, resource, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (replay_row(s, fn, arg))
			break;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		db_error(st, err, "replay");
		q_put(s, fresh);
		return -1;
	}
	q_put(s, fresh);
	return 0;
}

/* ---- compaction ---- */

/* The highest revision that may go: old by count and by age. */
static int64_t compact_target(struct store *st)
{
	sqlite3_stmt *s = st->q[Q_COMPACT_SCAN];
	int64_t limit = st->committed - st->opts.keep_revisions;
	int64_t cutoff = (int64_t)time(NULL) - st->opts.keep_seconds;
	int64_t upto = st->compacted;
	long n = 0;

	if (limit <= st->compacted)
		return upto;
	sqlite3_bind_int64(s, 1, st->compacted);
	sqlite3_bind_int64(s, 2, limit);
	while (sqlite3_step(s) == SQLITE_ROW && n++ < COMPACT_BATCH) {
		if (sqlite3_column_int64(s, 1) > cutoff)
			break;
		upto = sqlite3_column_int64(s, 0);
	}
	sqlite3_reset(s);
	return upto;
}

static int compact_drop(struct store *st, int64_t upto, struct lk_err *err)
{
	sqlite3_stmt *del = st->q[Q_COMPACT_DEL];

	if (exec_q(st->q[Q_BEGIN]))
		return db_error(st, err, "compact");
	sqlite3_bind_int64(del, 1, upto);
	if (exec_q(del) || meta_set(st, "compacted", upto) < 0 ||
	    meta_set(st, "rev", st->committed) < 0 || exec_q(st->q[Q_COMMIT])) {
		db_error(st, err, "compact");
		if (!sqlite3_get_autocommit(st->db))
			exec_q(st->q[Q_ROLLBACK]);
		return -1;
	}
	st->compacted = upto;
	return 0;
}

/* Fold the WAL back into the database; never waits for other readers. */
static void checkpoint(struct store *st)
{
	int rc;

	sqlite3_busy_timeout(st->db, 0);
	rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
				       NULL, NULL);
	sqlite3_busy_timeout(st->db, BUSY_MS);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		lk_log("store: checkpoint: %s", sqlite3_errmsg(st->db));
	st->ckpt_rev = st->committed;
}

void store_release_memory(struct store *st)
{
	if (!st->in_tx)
		sqlite3_db_release_memory(st->db);
}

int store_compact(struct store *st, struct lk_err *err)
{
	int64_t upto;
	bool wrote;

	if (st->in_tx && store_commit(st, err) < 0)
		return -1;
	upto = compact_target(st);
	wrote = upto > st->compacted || st->ckpt_rev != st->committed;
	if (upto > st->compacted && compact_drop(st, upto, err) < 0)
		return -1;
	if (wrote)
		checkpoint(st);
	return 0;
}

/* ---- open and close ---- */

static int setup_db(struct store *st, struct lk_err *err)
{
	static const char pragmas[] =
		"PRAGMA synchronous = FULL;"
		"PRAGMA journal_size_limit = 67108864;" /* 64 MiB */
		/* SQLite's own default, 2 MiB. The page cache is resident heap
		 * that is never given back; at 32 MiB it filled with the change
		 * log's pages and was most of the server's growth with 1,000
		 * pods (bench/memory.sh). Pages beyond it are a pread away in the
		 * kernel's page cache; writes touch the last pages of each b-tree. */
		"PRAGMA cache_size = -2048;"
		"PRAGMA temp_store = MEMORY;";
	sqlite3_stmt *s = NULL;
	bool wal;

	if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &s,
			       NULL) != SQLITE_OK)
		return db_error(st, err, "open");
	wal = sqlite3_step(s) == SQLITE_ROW &&
	      !strcmp((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	if (!wal)
		return lk_error(err, LK_EINTERNAL,
				"store: cannot switch to WAL mode");
	if (sqlite3_exec(st->db, pragmas, NULL, NULL, NULL) != SQLITE_OK)
		return db_error(st, err, "open");
	return 0;
}

/* Refuse a schema newer than ours (at open, before anything writes to the
 * file, and again inside the upgrade's transaction). */
static int check_version(struct store *st, int64_t *version, struct lk_err *err)
{
	*version = query_i64(st, "PRAGMA user_version");
	if (*version > STORE_SCHEMA_VERSION)
		return lk_error(err, LK_EINTERNAL,
				"schema version %lld is newer than this labkube's (%d):"
				" written by a newer labkube; not opening it",
				(long long)*version, STORE_SCHEMA_VERSION);
	if (*version < 0)
		return lk_error(err, LK_EINTERNAL,
				"schema version %lld is not one labkube writes",
				(long long)*version);
	return 0;
}

/* Create or upgrade the tables and record the version, in one transaction. */
static int migrate(struct store *st, const char *path, struct lk_err *err)
{
	char setv[64];
	bool fresh;
	int64_t from, v;

	snprintf(setv, sizeof(setv), "PRAGMA user_version = %d",
		 STORE_SCHEMA_VERSION);
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_error(st, err, "open");
	if (check_version(st, &from, err) < 0) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	fresh = !query_i64(st, "SELECT count(*) FROM sqlite_master"
			       " WHERE type = 'table' AND name = 'objects'");
	if (fresh && sqlite3_exec(st->db, schema, NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	for (v = from; !fresh && v < STORE_SCHEMA_VERSION; v++)
		if (sqlite3_exec(st->db, upgrades[v], NULL, NULL, NULL) != SQLITE_OK)
			goto fail;
	if ((from != STORE_SCHEMA_VERSION || fresh) &&
	    sqlite3_exec(st->db, setv, NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	if (!fresh && from < STORE_SCHEMA_VERSION)
		lk_log("store: upgraded '%s' from schema version %lld%s to %d", path,
		       (long long)from, from ? "" : " (none recorded)",
		       STORE_SCHEMA_VERSION);
	return 0;
fail:
	db_error(st, err, "open: schema");
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static int prepare_all(struct store *st, struct lk_err *err)
{
	for (int i = 0; i < Q_MAX; i++)
		if (sqlite3_prepare_v3(st->db, sql[i], -1,
				       SQLITE_PREPARE_PERSISTENT, &st->q[i],
				       NULL) != SQLITE_OK)
			return db_error(st, err, "prepare");
	return 0;
}

static void close_db(struct store *st)
{
	for (int i = 0; i < Q_MAX; i++)
		sqlite3_finalize(st->q[i]);
	if (sqlite3_close(st->db) != SQLITE_OK)
		lk_log("store: close: %s", sqlite3_errmsg(st->db));
}

static void load_revs(struct store *st)
{
	int64_t logged = query_i64(st, "SELECT max(rev) FROM changes");
	int64_t rev = query_i64(st, "SELECT value FROM meta WHERE key = 'rev'");

	st->compacted = query_i64(st, "SELECT value FROM meta"
				      " WHERE key = 'compacted'");
	if (rev < logged)
		rev = logged;
	if (rev < st->compacted)
		rev = st->compacted;
	st->rev = st->committed = st->ckpt_rev = rev;
}

struct store *store_open(const char *path, const struct store_opts *opts,
			 struct lk_err *err)
{
	static const struct store_opts dflt = { 10000, 3600 };
	struct store *st = xcalloc(1, sizeof(*st));
	int64_t version = 0;

	st->opts = opts ? *opts : dflt;
	if (sqlite3_open_v2(path, &st->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				    SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		lk_error(err, LK_EINTERNAL, "store: cannot open '%s': %s", path,
			 st->db ? sqlite3_errmsg(st->db) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, BUSY_MS);
	if (check_version(st, &version, err) < 0 || setup_db(st, err) < 0 ||
	    migrate(st, path, err) < 0 || prepare_all(st, err) < 0)
		goto fail;
	load_revs(st);
	return st;
fail:
	close_db(st);
	free(st);
	return NULL;
}

void store_free(struct store *st)
{
	struct lk_err err = { 0 };

	if (!st)
		return;
	if (store_commit(st, &err) < 0)
		lk_log("store: final commit failed: %s", err.msg);
	lk_err_clear(&err);
	if (meta_set(st, "rev", st->committed) < 0)
		lk_log("store: cannot save the revision: %s",
		       sqlite3_errmsg(st->db));
	checkpoint(st);
	for (struct store_sub *sub = st->subs, *next; sub; sub = next) {
		next = sub->next;
		sub_free(sub);
	}
	evq_clear(&st->pending);
	free(st->pending.v);
	free(st->ready.v); /* empty: delivery finished */
	close_db(st);
	free(st);
}
