/*
 * tests/unit/tmpcluster.h: what tests of the write path stand on: a store in
 * a fresh temporary directory, its registry, and the namespace "default".
 * Header-only, since each unit test is one file.
 */
#ifndef LK_TEST_TMPCLUSTER_H
#define LK_TEST_TMPCLUSTER_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "server/registry/registry.h"
#include "server/registry/write.h"
#include "server/resources/resources.h"
#include "server/store/store.h"

struct tmpcluster {
	char dir[64];
	struct store *st;
	struct registry *reg;
};

/* opts: the Service ranges (NULL: upstream's defaults). */
static inline void tmpcluster_open(struct tmpcluster *c, const struct registry_opts *opts)
{
	struct lk_err err = { 0 };
	cJSON *ns = cJSON_Parse("{\"metadata\":{\"name\":\"default\"}}");
	char *path;

	snprintf(c->dir, sizeof(c->dir), "%s", "/tmp/lk-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(c->dir));
	path = xasprintf("%s/db", c->dir);
	c->st = store_open(path, NULL, &err);
	free(path);
	ck_assert_msg(c->st != NULL, "store_open: %s", err.msg);
	c->reg = registry_new(NULL, c->st, opts, &err);
	ck_assert_msg(c->reg != NULL, "registry_new: %s", err.msg);
	ck_assert_int_eq(obj_create(c->reg, &res_namespace, "", ns, 0, NULL), 0);
	cJSON_Delete(ns);
}

/* Everything goes, the directory too. */
static inline void tmpcluster_close(struct tmpcluster *c)
{
	char *cmd = xasprintf("rm -rf '%s'", c->dir);
	registry_free(c->reg);
	store_free(c->st);
	(void)!system(cmd);
	free(cmd);
	memset(c, 0, sizeof(*c));
}

#endif
