/*
 * tests/unit/test_store.c: server/store on a real SQLite file in a temp dir.
 *
 * CRUD and its errors, list order and paging, revisions across reopen, the
 * change feed (only after commit, in order, re-entrant), replay and 410
 * after compaction, counts, the schema version (recorded, an unversioned
 * data dir upgraded, a newer one refused untouched; the old data dir is
 * tests/e2e/fixtures/datadir-v0.sql, or $LK_STORE_FIXTURES/...).
 */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/err.h"
#include "common/json.h"
#include "common/util.h"
#include "server/store/store.h"

static char dir[64];
static char path[128];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "%s", "/tmp/lk-test-store.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state.db", dir);
}

static void teardown(void)
{
	char p[160];
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };

	for (size_t i = 0; i < ARRAY_SIZE(sfx); i++) {
		snprintf(p, sizeof(p), "%s%s", path, sfx[i]);
		unlink(p);
	}
	rmdir(dir);
}

static struct store *open_store(const struct store_opts *opts)
{
	struct lk_err err = { 0 };
	struct store *st = store_open(path, opts, &err);

	ck_assert_msg(st, "store_open: %s", err.msg);
	return st;
}

static cJSON *mkobj(const char *ns, const char *name)
{
	cJSON *o = cJSON_CreateObject();

	jset_str(o, "kind", "Pod");
	jset_str(o, "metadata.name", name);
	if (*ns)
		jset_str(o, "metadata.namespace", ns);
	jset_str(o, "metadata.uid", "uid-1");
	jset_str(o, "metadata.creationTimestamp", "2024-05-13T13:37:30Z");
	return o;
}

static int64_t rv_of(const cJSON *o)
{
	return jint(o, "metadata.resourceVersion", -1);
}

/* Create res ns/name and return its revision. */
static int64_t create(struct store *st, const char *res, const char *ns,
		      const char *name)
{
	struct lk_err err = { 0 };
	cJSON *o = mkobj(ns, name);
	int64_t rv;

	ck_assert_msg(store_create(st, res, ns, name, o, &err) == 0,
		      "create %s: %s", name, err.msg);
	rv = rv_of(o);
	cJSON_Delete(o);
	return rv;
}

static void commit(struct store *st)
{
	struct lk_err err = { 0 };

	ck_assert_msg(store_commit(st, &err) == 0, "commit: %s", err.msg);
}

START_TEST(test_crud)
{
	struct store *st = open_store(NULL);
	struct lk_err err = { 0 };
	cJSON *o = mkobj("default", "a"), *got = NULL, *old = NULL;

	ck_assert_int_eq(store_create(st, "pods", "default", "a", o, &err), 0);
	ck_assert_int_eq(rv_of(o), 1);
	ck_assert(store_dirty(st));
	/* reads see the open transaction */
	ck_assert_int_eq(store_get(st, "pods", "default", "a", &got, &err), 0);
	ck_assert_int_eq(rv_of(got), 1);
	ck_assert_str_eq(jstr(got, "metadata.name"), "a");
	cJSON_Delete(got);
	commit(st);
	ck_assert(!store_dirty(st));

	/* exists: caller's copy keeps its resourceVersion */
	ck_assert_int_eq(store_create(st, "pods", "default", "a", o, &err), -1);
	ck_assert_int_eq(err.code, LK_EEXISTS);
	ck_assert_str_eq(err.msg, "pods \"a\" already exists");
	ck_assert_str_eq(err.kind, "pods");
	ck_assert_str_eq(err.group, "");
	ck_assert_int_eq(rv_of(o), 1);
	ck_assert_int_eq(store_rev(st), 1);

	/* conflict, then a good conditional update */
	jset_str(o, "spec.x", "y");
	ck_assert_int_eq(store_update(st, "pods", "default", "a", o, 7, &err), -1);
	ck_assert_int_eq(err.code, LK_ECONFLICT);
	ck_assert(strstr(err.msg, "Operation cannot be fulfilled on pods \"a\""));
	ck_assert_int_eq(store_update(st, "pods", "default", "a", o, 1, &err), 0);
	ck_assert_int_eq(rv_of(o), 2);
	ck_assert_int_eq(store_update(st, "pods", "default", "a", o, 0, &err), 0);
	ck_assert_int_eq(rv_of(o), 3);
	ck_assert_int_eq(store_get(st, "pods", "default", "a", &got, &err), 0);
	ck_assert_str_eq(jstr(got, "spec.x"), "y");
	ck_assert_int_eq(rv_of(got), 3);
	cJSON_Delete(got);

	/* not found */
	ck_assert_int_eq(store_update(st, "pods", "default", "b", o, 0, &err), -1);
	ck_assert_int_eq(err.code, LK_ENOTFOUND);
	ck_assert_str_eq(err.msg, "pods \"b\" not found");
	ck_assert_int_eq(store_get(st, "pods", "other", "a", &got, &err), -1);
	ck_assert_int_eq(err.code, LK_ENOTFOUND);
	ck_assert_ptr_null(got);

	/* delete: conflict, then the last state stamped with its revision */
	ck_assert_int_eq(store_delete(st, "pods", "default", "a", 2, NULL, &err), -1);
	ck_assert_int_eq(err.code, LK_ECONFLICT);
	ck_assert_int_eq(store_delete(st, "pods", "default", "a", 3, &old, &err), 0);
	ck_assert_int_eq(rv_of(old), 4);
	ck_assert_str_eq(jstr(old, "spec.x"), "y");
	cJSON_Delete(old);
	ck_assert_int_eq(store_get(st, "pods", "default", "a", &got, &err), -1);
	ck_assert_int_eq(err.code, LK_ENOTFOUND);
	ck_assert_int_eq(store_delete(st, "pods", "default", "a", 0, NULL, &err), -1);
	ck_assert_int_eq(err.code, LK_ENOTFOUND);
	commit(st);
	ck_assert_int_eq(store_rev(st), 4);

	/* not an object */
	cJSON *arr = cJSON_CreateArray();
	ck_assert_int_eq(store_create(st, "pods", "default", "z", arr, &err), -1);
	ck_assert_int_eq(err.code, LK_EBADREQUEST);
	cJSON_Delete(arr);

	cJSON_Delete(o);
	lk_err_clear(&err);
	store_free(st);
}
END_TEST

START_TEST(test_group_errors)
{
	struct store *st = open_store(NULL);
	struct lk_err err = { 0 };
	cJSON *o = mkobj("ns1", "web");

	create(st, "deployments.apps", "ns1", "web");
	ck_assert_int_eq(store_create(st, "deployments.apps", "ns1", "web", o,
				      &err), -1);
	ck_assert_int_eq(err.code, LK_EEXISTS);
	ck_assert_str_eq(err.msg, "deployments.apps \"web\" already exists");
	ck_assert_str_eq(err.group, "apps");
	ck_assert_str_eq(err.kind, "deployments");
	ck_assert_str_eq(err.name, "web");
	ck_assert_int_eq(store_delete(st, "foos.example.com", "", "x", 0, NULL,
				      &err), -1);
	ck_assert_str_eq(err.msg, "foos.example.com \"x\" not found");
	ck_assert_str_eq(err.group, "example.com");
	ck_assert_str_eq(err.kind, "foos");
	/* the same key under another resource is another object */
	create(st, "replicasets.apps", "ns1", "web");
	cJSON_Delete(o);
	lk_err_clear(&err);
	store_free(st);
}
END_TEST

struct names {
	char buf[16][32];
	int n, stop_at;
};

static int collect(void *arg, cJSON *obj)
{
	struct names *nm = arg;

	snprintf(nm->buf[nm->n++], 32, "%s/%s",
		 jstr_or(obj, "metadata.namespace", ""),
		 jstr(obj, "metadata.name"));
	cJSON_Delete(obj);
	return nm->n == nm->stop_at;
}

static void list(struct store *st, const char *res, const char *ns,
		 const char *after, struct names *nm)
{
	struct lk_err err = { 0 };
	int64_t rev = -1;

	nm->n = 0;
	ck_assert_int_eq(store_list(st, res, ns, after, collect, nm, &rev, &err), 0);
	ck_assert_int_eq(rev, store_rev(st));
}

START_TEST(test_list)
{
	static const char *const keys[][2] = {
		{ "b", "y" }, { "a", "z" }, { "b", "x" }, { "a", "a" },
		{ "c", "m" }, { "a", "b-1" }, { "a", "b" },
	};
	static const char *const want[] = { "a/a", "a/b", "a/b-1", "a/z",
					    "b/x", "b/y", "c/m" };
	struct store *st = open_store(NULL);
	struct names nm = { .stop_at = -1 };

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		create(st, "pods", keys[i][0], keys[i][1]);
	create(st, "services", "a", "svc");
	list(st, "pods", NULL, NULL, &nm);
	ck_assert_int_eq(nm.n, 7);
	for (int i = 0; i < nm.n; i++)
		ck_assert_str_eq(nm.buf[i], want[i]);

	list(st, "pods", "a", NULL, &nm);
	ck_assert_int_eq(nm.n, 4);
	ck_assert_str_eq(nm.buf[3], "a/z");

	/* paging: "ns/name" across namespaces, or "name" inside one */
	list(st, "pods", NULL, "a/z", &nm);
	ck_assert_int_eq(nm.n, 3);
	ck_assert_str_eq(nm.buf[0], "b/x");
	list(st, "pods", "a", "b", &nm);
	ck_assert_int_eq(nm.n, 2);
	ck_assert_str_eq(nm.buf[0], "a/b-1");
	list(st, "pods", "a", "a/b-1", &nm);
	ck_assert_int_eq(nm.n, 1);
	list(st, "pods", "b", "a/zzz", &nm);
	ck_assert_int_eq(nm.n, 2);
	list(st, "pods", "b", "c/a", &nm);
	ck_assert_int_eq(nm.n, 0);

	/* fn stops the list */
	nm.stop_at = 2;
	list(st, "pods", NULL, NULL, &nm);
	ck_assert_int_eq(nm.n, 2);
	nm.stop_at = -1;

	/* cluster-scoped */
	create(st, "nodes", "", "n2");
	create(st, "nodes", "", "n1");
	list(st, "nodes", NULL, NULL, &nm);
	ck_assert_int_eq(nm.n, 2);
	ck_assert_str_eq(nm.buf[0], "/n1");
	list(st, "nodes", NULL, "n1", &nm);
	ck_assert_int_eq(nm.n, 1);
	ck_assert_str_eq(nm.buf[0], "/n2");
	list(st, "nodes", "", "n1", &nm);
	ck_assert_int_eq(nm.n, 1);
	list(st, "nothing", NULL, NULL, &nm);
	ck_assert_int_eq(nm.n, 0);
	store_free(st);
}
END_TEST

struct nested {
	struct store *st;
	int outer, inner;
};

static int count_inner(void *arg, cJSON *obj)
{
	struct nested *n = arg;

	n->inner++;
	cJSON_Delete(obj);
	return 0;
}

static int list_again(void *arg, cJSON *obj)
{
	struct nested *n = arg;
	struct lk_err err = { 0 };

	n->outer++;
	cJSON_Delete(obj);
	ck_assert_int_eq(store_list(n->st, "pods", NULL, NULL, count_inner, n,
				    NULL, &err), 0);
	return 0;
}

START_TEST(test_list_reentrant)
{
	struct store *st = open_store(NULL);
	struct nested n = { .st = st };
	struct lk_err err = { 0 };

	create(st, "pods", "a", "1");
	create(st, "pods", "a", "2");
	create(st, "pods", "a", "3");
	ck_assert_int_eq(store_list(st, "pods", NULL, NULL, list_again, &n,
				    NULL, &err), 0);
	ck_assert_int_eq(n.outer, 3);
	ck_assert_int_eq(n.inner, 9);
	store_free(st);
}
END_TEST

START_TEST(test_count)
{
	struct store *st = open_store(NULL);

	ck_assert_int_eq(store_count(st, "pods", NULL), 0);
	create(st, "pods", "a", "1");
	create(st, "pods", "a", "2");
	create(st, "pods", "b", "1");
	create(st, "services", "a", "1");
	ck_assert_int_eq(store_count(st, "pods", NULL), 3);
	ck_assert_int_eq(store_count(st, "pods", "a"), 2);
	ck_assert_int_eq(store_count(st, "pods", "c"), 0);
	ck_assert_int_eq(store_delete(st, "pods", "a", "1", 0, NULL, NULL), 0);
	ck_assert_int_eq(store_count(st, "pods", "a"), 1);
	store_free(st);
}
END_TEST

START_TEST(test_persist)
{
	struct store *st = open_store(NULL);
	struct lk_err err = { 0 };
	cJSON *got = NULL;
	int64_t last = 0;

	for (int i = 0; i < 20; i++) {
		char name[16];
		int64_t rv;

		snprintf(name, sizeof(name), "p%d", i);
		rv = create(st, "pods", "default", name);
		ck_assert_int_eq(rv, last + 1);
		last = rv;
		if (i % 7 == 0)
			commit(st);
	}
	ck_assert_int_eq(store_delete(st, "pods", "default", "p3", 0, NULL, &err), 0);
	store_free(st); /* commits the rest */

	st = open_store(NULL);
	ck_assert_int_eq(store_rev(st), 21);
	ck_assert_int_eq(store_count(st, "pods", NULL), 19);
	ck_assert_int_eq(create(st, "pods", "default", "after"), 22);
	ck_assert_int_eq(store_get(st, "pods", "default", "p19", &got, &err), 0);
	ck_assert_int_eq(rv_of(got), 20);
	cJSON_Delete(got);
	store_free(st);

	/* the columns next to the JSON */
	sqlite3 *db;
	sqlite3_stmt *s;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db,
		"SELECT uid, rev, created FROM objects WHERE name = 'after'",
		-1, &s, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(s, 0), "uid-1");
	ck_assert_int_eq(sqlite3_column_int64(s, 1), 22);
	ck_assert_str_eq((const char *)sqlite3_column_text(s, 2),
			 "2024-05-13T13:37:30Z");
	sqlite3_finalize(s);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s,
					    NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	sqlite3_close(db);
}
END_TEST

/* A commit is durable even if the process dies without store_free(). */
START_TEST(test_crash)
{
	struct store *st;
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		st = store_open(path, NULL, NULL);
		for (int i = 0; i < 5; i++) {
			char name[8];

			snprintf(name, sizeof(name), "p%d", i);
			create(st, "pods", "a", name);
		}
		store_commit(st, NULL);
		create(st, "pods", "a", "lost"); /* never committed */
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	st = open_store(NULL);
	ck_assert_int_eq(store_rev(st), 5);
	ck_assert_int_eq(store_count(st, "pods", NULL), 5);
	ck_assert_int_eq(create(st, "pods", "a", "next"), 6);
	store_free(st);
}
END_TEST

/* ---- change feed ---- */

struct rec {
	struct store *st;
	char log[64][48];
	int n;
	struct store_sub *self, *victim;
	int unsub_at;   /* unsubscribe self after this many events */
	int write_at;   /* write (and maybe commit) at this event */
	bool commit_inside;
	struct rec *late; /* subscribe this one at the first event */
};

static const char *const tnames[] = { "ADDED", "MODIFIED", "DELETED" };

static int record(void *arg, const struct store_event *ev)
{
	struct rec *r = arg;

	ck_assert_int_lt(r->n, 64);
	ck_assert_int_eq(rv_of(ev->obj), ev->rev);
	ck_assert(ev->type == STORE_ADDED ? !ev->prev : !!ev->prev);
	snprintf(r->log[r->n++], 48, "%lld %s %s %s/%s", (long long)ev->rev,
		 tnames[ev->type], ev->resource, ev->ns, ev->name);
	if (r->n == r->unsub_at) {
		store_unsubscribe(r->self);
		store_unsubscribe(r->victim);
	}
	if (r->n == r->write_at) {
		create(r->st, "pods", "x", "from-feed");
		if (r->commit_inside)
			commit(r->st);
	}
	if (r->late && r->n == 1) {
		r->late->self = store_subscribe(r->st, NULL, record, r->late);
		r->late = NULL;
	}
	return 0;
}

START_TEST(test_feed)
{
	struct store *st = open_store(NULL);
	struct rec all = { .st = st }, svc = { .st = st };
	struct lk_err err = { 0 };
	cJSON *o = mkobj("a", "1");

	store_subscribe(st, NULL, record, &all);
	store_subscribe(st, "services", record, &svc);
	create(st, "pods", "a", "2");
	create(st, "services", "a", "s");
	ck_assert_int_eq(store_create(st, "pods", "a", "1", o, &err), 0);
	ck_assert_int_eq(store_update(st, "pods", "a", "1", o, 3, &err), 0);
	ck_assert_int_eq(store_delete(st, "pods", "a", "2", 0, NULL, &err), 0);
	ck_assert_int_eq(all.n, 0); /* nothing before the commit */
	commit(st);
	ck_assert_int_eq(all.n, 5);
	ck_assert_str_eq(all.log[0], "1 ADDED pods a/2");
	ck_assert_str_eq(all.log[1], "2 ADDED services a/s");
	ck_assert_str_eq(all.log[2], "3 ADDED pods a/1");
	ck_assert_str_eq(all.log[3], "4 MODIFIED pods a/1");
	ck_assert_str_eq(all.log[4], "5 DELETED pods a/2");
	ck_assert_int_eq(svc.n, 1);
	ck_assert_str_eq(svc.log[0], "2 ADDED services a/s");
	commit(st); /* nothing pending: no events */
	ck_assert_int_eq(all.n, 5);
	cJSON_Delete(o);
	store_free(st); /* frees remaining subscriptions */
}
END_TEST

START_TEST(test_feed_unsubscribe)
{
	struct store *st = open_store(NULL);
	struct rec a = { .st = st, .unsub_at = 1 }, b = { .st = st };
	struct rec c = { .st = st };

	a.self = store_subscribe(st, NULL, record, &a);
	b.self = store_subscribe(st, NULL, record, &b);
	c.self = store_subscribe(st, NULL, record, &c);
	a.victim = b.self; /* a drops itself and b at its first event */
	create(st, "pods", "a", "1");
	create(st, "pods", "a", "2");
	commit(st);
	ck_assert_int_eq(a.n, 1);
	ck_assert_int_eq(b.n, 0);
	ck_assert_int_eq(c.n, 2);
	create(st, "pods", "a", "3");
	commit(st);
	ck_assert_int_eq(a.n, 1);
	ck_assert_int_eq(c.n, 3);
	store_unsubscribe(c.self);
	create(st, "pods", "a", "4");
	commit(st);
	ck_assert_int_eq(c.n, 3);
	store_free(st);
}
END_TEST

START_TEST(test_feed_write_inside)
{
	struct store *st = open_store(NULL);
	struct rec a = { .st = st, .write_at = 1 }, b = { .st = st };

	store_subscribe(st, NULL, record, &a);
	store_subscribe(st, NULL, record, &b);
	create(st, "pods", "a", "1");
	create(st, "pods", "a", "2");
	commit(st);
	/* a wrote rev 3 at the first event: a new, open transaction */
	ck_assert_int_eq(a.n, 2);
	ck_assert_int_eq(b.n, 2);
	ck_assert(store_dirty(st));
	commit(st);
	ck_assert_int_eq(a.n, 3);
	ck_assert_str_eq(b.log[2], "3 ADDED pods x/from-feed");
	store_free(st);
}
END_TEST

START_TEST(test_feed_commit_inside)
{
	struct store *st = open_store(NULL);
	struct rec a = { .st = st, .write_at = 1, .commit_inside = true };
	struct rec b = { .st = st }, late = { .st = st };

	a.late = &late;
	store_subscribe(st, NULL, record, &a);
	store_subscribe(st, NULL, record, &b);
	create(st, "pods", "a", "1");
	create(st, "pods", "a", "2");
	commit(st);
	/* the inner commit's event comes after the outer batch, for everyone */
	ck_assert_int_eq(b.n, 3);
	ck_assert_str_eq(b.log[0], "1 ADDED pods a/1");
	ck_assert_str_eq(b.log[1], "2 ADDED pods a/2");
	ck_assert_str_eq(b.log[2], "3 ADDED pods x/from-feed");
	ck_assert_int_eq(a.n, 3);
	/* subscribed during delivery: only revisions committed after that */
	ck_assert_int_eq(late.n, 0);
	create(st, "pods", "a", "4");
	commit(st);
	ck_assert_int_eq(late.n, 1);
	ck_assert_str_eq(late.log[0], "4 ADDED pods a/4");
	store_free(st);
}
END_TEST

/* A failed write poisons the open transaction; the commit rolls it back. */
START_TEST(test_rollback)
{
	struct store *st = open_store(NULL);
	struct rec r = { .st = st };
	struct lk_err err = { 0 };
	cJSON *o = mkobj("a", "boom"), *got = NULL;
	sqlite3 *db;

	store_subscribe(st, NULL, record, &r);
	create(st, "pods", "a", "1");
	commit(st);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db,
		"CREATE TRIGGER boom BEFORE INSERT ON changes"
		" WHEN NEW.name = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END",
		NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	create(st, "pods", "a", "2");
	ck_assert_int_eq(store_create(st, "pods", "a", "boom", o, &err), -1);
	ck_assert_int_eq(err.code, LK_EINTERNAL);
	ck_assert_ptr_null(jstr(o, "metadata.resourceVersion"));
	ck_assert_int_eq(store_update(st, "pods", "a", "1", o, 0, &err), -1);
	ck_assert_int_eq(err.code, LK_EINTERNAL);
	ck_assert_int_eq(store_commit(st, &err), -1);
	ck_assert_int_eq(err.code, LK_EINTERNAL);
	ck_assert(!store_dirty(st));
	ck_assert_int_eq(store_rev(st), 1);
	ck_assert_int_eq(r.n, 1); /* nothing delivered from the lost batch */
	ck_assert_int_eq(store_get(st, "pods", "a", "2", &got, &err), -1);
	ck_assert_int_eq(err.code, LK_ENOTFOUND);

	/* the store carries on */
	ck_assert_int_eq(create(st, "pods", "a", "3"), 2);
	commit(st);
	ck_assert_int_eq(r.n, 2);
	ck_assert_str_eq(r.log[1], "2 ADDED pods a/3");
	cJSON_Delete(o);
	lk_err_clear(&err);
	store_free(st);
}
END_TEST

/* ---- replay and compaction ---- */

static int replay_rec(void *arg, const struct store_event *ev)
{
	struct rec *r = arg;

	record(arg, ev);
	return r->n == r->unsub_at;
}

START_TEST(test_replay)
{
	struct store *st = open_store(NULL);
	struct rec r = { .st = st };
	struct lk_err err = { 0 };
	cJSON *o = mkobj("a", "1");

	ck_assert_int_eq(store_create(st, "pods", "a", "1", o, &err), 0);
	create(st, "services", "a", "s");
	ck_assert_int_eq(store_update(st, "pods", "a", "1", o, 0, &err), 0);
	commit(st);
	ck_assert_int_eq(store_delete(st, "pods", "a", "1", 0, NULL, &err), 0);
	/* uncommitted changes are not replayed (they come by subscription) */
	ck_assert_int_eq(store_replay(st, NULL, 0, replay_rec, &r, &err), 0);
	ck_assert_int_eq(r.n, 3);
	commit(st);
	r.n = 0;
	ck_assert_int_eq(store_replay(st, "pods", 1, replay_rec, &r, &err), 0);
	ck_assert_int_eq(r.n, 2);
	ck_assert_str_eq(r.log[0], "3 MODIFIED pods a/1");
	ck_assert_str_eq(r.log[1], "4 DELETED pods a/1");
	r.n = 0;
	r.unsub_at = 2; /* fn returns non-zero: stop */
	ck_assert_int_eq(store_replay(st, NULL, 0, replay_rec, &r, &err), 0);
	ck_assert_int_eq(r.n, 2);
	r.n = 0;
	ck_assert_int_eq(store_replay(st, NULL, 4, replay_rec, &r, &err), 0);
	ck_assert_int_eq(r.n, 0);
	cJSON_Delete(o);
	store_free(st);
}
END_TEST

static long wal_size(void)
{
	char p[160];
	struct stat sb;

	snprintf(p, sizeof(p), "%s-wal", path);
	return stat(p, &sb) == 0 ? (long)sb.st_size : -1;
}

START_TEST(test_compact)
{
	struct store_opts opts = { .keep_revisions = 3, .keep_seconds = 0 };
	struct store *st = open_store(&opts);
	struct rec r = { .st = st };
	struct lk_err err = { 0 };

	for (int i = 0; i < 10; i++) {
		char name[8];

		snprintf(name, sizeof(name), "p%d", i);
		create(st, "pods", "a", name);
	}
	ck_assert_int_eq(store_delete(st, "pods", "a", "p9", 0, NULL, &err), 0);
	commit(st);
	ck_assert_int_eq(store_compacted_rev(st), 0);
	ck_assert_int_eq(store_compact(st, &err), 0);
	ck_assert_int_eq(store_compacted_rev(st), 8);
	ck_assert_int_eq(wal_size(), 0); /* checkpointed and truncated */

	ck_assert_int_eq(store_replay(st, NULL, 7, replay_rec, &r, &err), -1);
	ck_assert_int_eq(err.code, LK_EGONE);
	ck_assert_str_eq(err.msg, "too old resource version: 7 (9)");
	ck_assert_int_eq(store_replay(st, NULL, 8, replay_rec, &r, &err), 0);
	ck_assert_int_eq(r.n, 3);
	ck_assert_str_eq(r.log[2], "11 DELETED pods a/p9");
	r.n = 0;
	ck_assert_int_eq(store_replay(st, NULL, 0, replay_rec, &r, &err), 0);
	ck_assert_int_eq(r.n, 3);
	/* objects are untouched */
	ck_assert_int_eq(store_count(st, "pods", NULL), 9);
	/* nothing to do the second time */
	ck_assert_int_eq(store_compact(st, &err), 0);
	ck_assert_int_eq(store_compacted_rev(st), 8);
	/* compaction commits pending writes first */
	create(st, "pods", "b", "x");
	ck_assert_int_eq(store_compact(st, &err), 0);
	ck_assert(!store_dirty(st));
	ck_assert_int_eq(store_compacted_rev(st), 9);
	store_free(st);

	st = open_store(&opts);
	ck_assert_int_eq(store_compacted_rev(st), 9);
	ck_assert_int_eq(store_rev(st), 12);
	ck_assert_int_eq(store_replay(st, "pods", 3, replay_rec, &r, &err), -1);
	ck_assert_str_eq(err.msg, "too old resource version: 3 (10)");
	lk_err_clear(&err);
	store_free(st);
}
END_TEST

/* With the whole log compacted away the revision still survives. */
START_TEST(test_compact_all)
{
	struct store_opts opts = { .keep_revisions = 0, .keep_seconds = 0 };
	struct store *st = open_store(&opts);
	struct rec r = { .st = st };
	struct lk_err err = { 0 };

	create(st, "pods", "a", "1");
	create(st, "pods", "a", "2");
	ck_assert_int_eq(store_delete(st, "pods", "a", "2", 0, NULL, &err), 0);
	ck_assert_int_eq(store_compact(st, &err), 0);
	ck_assert_int_eq(store_compacted_rev(st), 3);
	ck_assert_int_eq(store_replay(st, NULL, 3, replay_rec, &r, &err), 0);
	ck_assert_int_eq(r.n, 0);
	store_free(st);
	st = open_store(&opts);
	ck_assert_int_eq(store_rev(st), 3);
	ck_assert_int_eq(store_compacted_rev(st), 3);
	ck_assert_int_eq(create(st, "pods", "a", "3"), 4);
	store_free(st);
}
END_TEST

START_TEST(test_compact_keeps_young)
{
	struct store_opts opts = { .keep_revisions = 1, .keep_seconds = 3600 };
	struct store *st = open_store(&opts);
	struct lk_err err = { 0 };

	for (int i = 0; i < 5; i++) {
		char name[8];

		snprintf(name, sizeof(name), "p%d", i);
		create(st, "pods", "a", name);
	}
	commit(st);
	ck_assert_int_eq(store_compact(st, &err), 0);
	ck_assert_int_eq(store_compacted_rev(st), 0);
	store_free(st);

	/* defaults keep 10000 revisions */
	st = open_store(NULL);
	ck_assert_int_eq(store_compact(st, &err), 0);
	ck_assert_int_eq(store_compacted_rev(st), 0);
	store_free(st);
}
END_TEST

START_TEST(test_open_fail)
{
	struct lk_err err = { 0 };

	ck_assert_ptr_null(store_open("/nonexistent/dir/x.db", NULL, &err));
	ck_assert_int_eq(err.code, LK_EINTERNAL);
	ck_assert(strstr(err.msg, "/nonexistent/dir/x.db"));
	store_free(NULL);
}
END_TEST

/* ---- schema version ---- */

static sqlite3 *raw_open(void)
{
	sqlite3 *db = NULL;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	return db;
}

static int64_t raw_i64(const char *q)
{
	sqlite3 *db = raw_open();
	sqlite3_stmt *s = NULL;
	int64_t v;

	ck_assert_msg(sqlite3_prepare_v2(db, q, -1, &s, NULL) == SQLITE_OK,
		      "%s: %s", q, sqlite3_errmsg(db));
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static void raw_exec(const char *q)
{
	sqlite3 *db = raw_open();
	char *msg = NULL;

	ck_assert_msg(sqlite3_exec(db, q, NULL, NULL, &msg) == SQLITE_OK,
		      "%s: %s", q, msg ? msg : "?");
	sqlite3_close(db);
}

static int count_ev(void *arg, const struct store_event *ev)
{
	(*(int *)arg)++;
	return 0;
}

START_TEST(test_schema_new)
{
	struct store *st = open_store(NULL);

	create(st, "pods", "a", "p");
	store_free(st);
	ck_assert_int_eq(raw_i64("PRAGMA user_version"), STORE_SCHEMA_VERSION);
	/* reopening a current one changes nothing */
	st = open_store(NULL);
	ck_assert_int_eq(store_rev(st), 1);
	store_free(st);
	ck_assert_int_eq(raw_i64("PRAGMA user_version"), STORE_SCHEMA_VERSION);
}
END_TEST

/* The data dir of a labkube from before versions: its objects, revisions
 * and change log are all there after the upgrade. */
START_TEST(test_schema_unversioned)
{
	const char *dir_env = getenv("LK_STORE_FIXTURES");
	char *fx = xasprintf("%s/datadir-v0.sql",
			     dir_env ? dir_env : "tests/e2e/fixtures");
	char *dump = lk_read_file(fx, NULL);
	struct lk_err err = { 0 };
	struct store *st;
	cJSON *cm = NULL;
	int n = 0;

	ck_assert_msg(dump != NULL, "cannot read %s", fx);
	raw_exec(dump);
	ck_assert_int_eq(raw_i64("PRAGMA user_version"), 0);
	ck_assert_int_eq(raw_i64("SELECT count(*) FROM objects"), 26);

	st = open_store(NULL);
	ck_assert_int_eq(raw_i64("PRAGMA user_version"), STORE_SCHEMA_VERSION);
	ck_assert_int_eq(store_rev(st), 27);
	ck_assert_int_eq(store_get(st, "configmaps", "legacy", "old-cm", &cm, &err), 0);
	ck_assert_str_eq(jstr(cm, "data.answer"), "42");
	ck_assert_str_eq(jstr(cm, "data.written-by"), "labkube-b3e3ef8");
	ck_assert_int_eq(rv_of(cm), 27);
	cJSON_Delete(cm);
	ck_assert_int_eq(store_count(st, "namespaces", NULL), 5);
	ck_assert_int_eq(store_replay(st, NULL, 0, count_ev, &n, &err), 0);
	ck_assert_int_eq(n, 27);
	/* and it is writable, revisions going on from where they were */
	ck_assert_int_eq(create(st, "configmaps", "legacy", "new-cm"), 28);
	commit(st);
	store_free(st);

	st = open_store(NULL);
	ck_assert_int_eq(store_rev(st), 28);
	ck_assert_int_eq(store_count(st, "configmaps", "legacy"), 2);
	store_free(st);
	ck_assert_int_eq(raw_i64("PRAGMA user_version"), STORE_SCHEMA_VERSION);
	free(dump);
	free(fx);
}
END_TEST

/* Newer than this build: refused, naming both versions, file untouched. */
START_TEST(test_schema_newer)
{
	struct lk_err err = { 0 };
	struct store *st = open_store(NULL);
	char want[160], q[64];
	int newer = STORE_SCHEMA_VERSION + 1;

	create(st, "pods", "a", "p");
	commit(st);
	store_free(st);
	snprintf(q, sizeof(q), "PRAGMA user_version = %d", newer);
	raw_exec(q);

	ck_assert_ptr_null(store_open(path, NULL, &err));
	ck_assert_int_eq(err.code, LK_EINTERNAL);
	snprintf(want, sizeof(want),
		 "schema version %d is newer than this labkube's (%d):"
		 " written by a newer labkube; not opening it",
		 newer, STORE_SCHEMA_VERSION);
	ck_assert_str_eq(err.msg, want);
	lk_err_clear(&err);
	ck_assert_int_eq(raw_i64("PRAGMA user_version"), newer);
	ck_assert_int_eq(raw_i64("SELECT count(*) FROM objects"), 1);

	/* a newer file with none of today's tables gets none created */
	teardown();
	setup();
	raw_exec("PRAGMA user_version = 99");
	ck_assert_ptr_null(store_open(path, NULL, &err));
	ck_assert(strstr(err.msg, "schema version 99 is newer"));
	lk_err_clear(&err);
	ck_assert_int_eq(raw_i64("SELECT count(*) FROM sqlite_master"), 0);
	ck_assert_int_eq(raw_i64("PRAGMA user_version"), 99);
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("store");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_crud);
	tcase_add_test(tc, test_group_errors);
	tcase_add_test(tc, test_list);
	tcase_add_test(tc, test_list_reentrant);
	tcase_add_test(tc, test_count);
	tcase_add_test(tc, test_persist);
	tcase_add_test(tc, test_crash);
	tcase_add_test(tc, test_feed);
	tcase_add_test(tc, test_feed_unsubscribe);
	tcase_add_test(tc, test_feed_write_inside);
	tcase_add_test(tc, test_feed_commit_inside);
	tcase_add_test(tc, test_rollback);
	tcase_add_test(tc, test_replay);
	tcase_add_test(tc, test_compact);
	tcase_add_test(tc, test_compact_all);
	tcase_add_test(tc, test_compact_keeps_young);
	tcase_add_test(tc, test_open_fail);
	tcase_add_test(tc, test_schema_new);
	tcase_add_test(tc, test_schema_unversioned);
	tcase_add_test(tc, test_schema_newer);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(store_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
