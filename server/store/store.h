/*
 * server/store/store.h: the object store, on one SQLite database (WAL mode).
 *
 * One row per object, keyed (resource, namespace, name), holding its JSON,
 * uid, resourceVersion and creation time; a change log of every write; one
 * global revision counter. The revision of a write is the resourceVersion of
 * the object it wrote and of every list read after it.
 *
 * Writes and group commit. The first write after a commit opens a
 * transaction; later writes in the same loop iteration join it. The loop's
 * before-sleep hook calls store_commit(), which makes them durable
 * (synchronous=FULL) and only then pushes their events to subscribers (the
 * change feed). Callers that answer a client must not answer until
 * store_dirty() is false again (the API defers its replies until the commit).
 * Reads see the writes of the open transaction.
 *
 * Objects cross this API as cJSON trees. Write calls take a borrowed object,
 * stamp metadata.resourceVersion into it (the caller's copy is updated), and
 * store a copy. Read calls return new trees the caller frees.
 *
 * Threading: one thread (the loop). Not thread-safe.
 */
#ifndef LK_STORE_H
#define LK_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/err.h"

struct store;
struct store_sub;

struct store_opts {
	int64_t keep_revisions;  /* compaction keeps at least this many (10000) */
	int keep_seconds;        /* ... and everything younger than this (3600) */
};

enum store_ev_type { STORE_ADDED, STORE_MODIFIED, STORE_DELETED };

struct store_event {
	enum store_ev_type type;
	const char *resource;  /* "pods", "deployments.apps", ... (the storage key) */
	const char *ns;        /* "" for cluster-scoped */
	const char *name;
	int64_t rev;           /* the revision of this change */
	const cJSON *obj;      /* object after the change (for DELETED: last state,
	                          with metadata.resourceVersion = rev) */
	const cJSON *prev;     /* object before the change; NULL for ADDED */
};

/* Return 0 to keep going, non-zero to stop a replay. */
typedef int (*store_event_fn)(void *arg, const struct store_event *ev);

/*
 * The schema version, kept in SQLite's user_version. 0 means none recorded:
 * a database written by a labkube from before versions were recorded (up to
 * b3e3ef8), whose tables are version 1's. store_open() upgrades an older
 * database in one transaction before anything reads it (and logs it once),
 * and refuses one newer than STORE_SCHEMA_VERSION without writing to it.
 */
#define STORE_SCHEMA_VERSION 1

/* Open or create the database at path; NULL on failure (err set). A newer
 * schema is LK_EINTERNAL, "schema version N is newer than ..." naming both
 * versions. */
struct store *store_open(const char *path, const struct store_opts *opts,
			 struct lk_err *err);
/* Commits anything pending, checkpoints, closes. NULL-safe. */
void store_free(struct store *st);

int64_t store_rev(const struct store *st);           /* latest revision */
int64_t store_compacted_rev(const struct store *st); /* oldest replayable - 1 */
/* Latest durable revision; outside store_commit() its events have all been
 * delivered (what a watch bookmark may promise). */
int64_t store_committed_rev(const struct store *st);

/* Reads. ns is "" for cluster-scoped resources. */
int store_get(struct store *st, const char *resource, const char *ns,
	      const char *name, cJSON **out, struct lk_err *err);
/*
 * List objects of a resource, in (namespace, name) order, calling fn for each
 * (fn returns non-zero to stop). ns NULL lists every namespace. start_after
 * (namespace "/" name, or NULL) resumes a paged list after that key.
 * *rev_out gets the revision the list reflects.
 */
typedef int (*store_list_fn)(void *arg, cJSON *obj); /* fn owns obj */
int store_list(struct store *st, const char *resource, const char *ns,
	       const char *start_after, store_list_fn fn, void *arg,
	       int64_t *rev_out, struct lk_err *err);
/* Number of objects of a resource (in ns, or all when ns is NULL); -1 on a
 * database error. */
long store_count(struct store *st, const char *resource, const char *ns);

/*
 * Writes. Each assigns the next revision and stamps it into
 * obj.metadata.resourceVersion.
 * create: fails with AlreadyExists if the key exists (err details use
 *   `group`/`plural` split from resource: "deployments.apps").
 * update: expect_rev > 0 makes it conditional (Conflict on mismatch);
 *   NotFound if missing.
 * delete: expect_rev as for update; *old_out (optional) gets the last state,
 *   stamped with the deletion revision.
 */
int store_create(struct store *st, const char *resource, const char *ns,
		 const char *name, cJSON *obj, struct lk_err *err);
int store_update(struct store *st, const char *resource, const char *ns,
		 const char *name, cJSON *obj, int64_t expect_rev,
		 struct lk_err *err);
int store_delete(struct store *st, const char *resource, const char *ns,
		 const char *name, int64_t expect_rev, cJSON **old_out,
		 struct lk_err *err);

/* True while a write transaction is open (replies must wait for commit). */
bool store_dirty(const struct store *st);
/* Commit the open transaction durably, then deliver its events. 0 or -1. */
int store_commit(struct store *st, struct lk_err *err);

/*
 * The change feed. fn is called once per committed change of `resource`
 * (NULL = every resource), in revision order, after the commit is durable.
 * A subscriber may unsubscribe itself (or others) from inside fn, and may
 * write to the store (those writes join the next transaction).
 * A new subscription gets only the changes committed after it was made;
 * store_replay() covers those up to that point, so subscribe-and-replay
 * (in either order) misses nothing.
 */
struct store_sub *store_subscribe(struct store *st, const char *resource,
				  store_event_fn fn, void *arg);
void store_unsubscribe(struct store_sub *sub);

/*
 * Replay the committed changes of `resource` (NULL = all) with revision >
 * since, in order, from the change log (not those of the open transaction).
 * LK_EGONE ("too old resource version: <since> (<compacted+1>)") when
 * 0 < since < store_compacted_rev(); since 0 replays what the log holds.
 */
int store_replay(struct store *st, const char *resource, int64_t since,
		 store_event_fn fn, void *arg, struct lk_err *err);

/* Drop change-log history beyond the retention limits and checkpoint the
 * WAL. Called by the periodic cron; cheap when there is nothing to do. */
int store_compact(struct store *st, struct lk_err *err);

/* Give back SQLite's page cache (the pages no statement holds) after bulk
 * work; it fills again as pages are read. A no-op inside a transaction. */
void store_release_memory(struct store *st);

#endif
