/*
 * server/registry/write.h: the one write path for objects, shared by HTTP
 * handlers and in-process controllers (they write with the same defaulting,
 * validation and admission as any client; DESIGN.md "Rules of the flow").
 *
 * Each call works on a borrowed object tree that it completes in place
 * (uid, timestamps, defaults, resourceVersion): on success the tree is the
 * stored object. Failures are upstream-worded errors (Status-ready).
 */
#ifndef LK_WRITE_H
#define LK_WRITE_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "common/err.h"

struct registry;
struct resource;

enum write_flags {
	WRITE_DRY_RUN = 1,      /* everything but the store write */
	WRITE_STATUS = 2,       /* the status subresource: only status changes */
};

/* ns: the namespace from the URL ("" for cluster-scoped). */
int obj_create(struct registry *reg, const struct resource *res, const char *ns,
	       cJSON *obj, unsigned flags, struct lk_err *err);
/* Replace the object named (ns, name) with obj; obj's resourceVersion, when
 * set, must match the stored one (409 Conflict otherwise). */
int obj_update(struct registry *reg, const struct resource *res, const char *ns,
	       const char *name, cJSON *obj, unsigned flags, struct lk_err *err);

struct delete_opts {
	const char *propagation;   /* "Background" (default), "Foreground", "Orphan" */
	long long grace;           /* -1 = default */
	const char *uid;           /* preconditions */
	const char *rv;
	bool dry_run;
};
/* *out gets what the client sees: the object (still present, with a
 * deletionTimestamp, when finalizers hold it) or its last state. */
int obj_delete(struct registry *reg, const struct resource *res, const char *ns,
	       const char *name, const struct delete_opts *opts, cJSON **out,
	       bool *gone, struct lk_err *err);

/* The Kind's apiVersion and kind checked and filled in. */
int obj_check_type(const struct resource *res, cJSON *obj, struct lk_err *err);

#endif
