/*
 * tests/unit/test_informer.c: shared informers (server/registry/informer.c)
 * over a real store in a temporary directory: one cache per kind shared by
 * every reference, reference counts, handlers added and removed, and
 * handlers that remove themselves, release references or write during a
 * dispatch.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/json.h"
#include "common/util.h"
#include "server/registry/informer.h"
#include "server/registry/registry.h"
#include "server/registry/write.h"
#include "server/resources/resources.h"
#include "server/store/store.h"
#include "tests/unit/tmpcluster.h"

static struct tmpcluster C;
static struct store *st;
static struct registry *reg;
static char calls[256];          /* the handlers that ran, in order */

static void add_call(const char *tag)
{
	size_t n = strlen(calls);
	snprintf(calls + n, sizeof(calls) - n, "%s", tag);
}

static void create_cm(const char *name)
{
	cJSON *cm = cJSON_CreateObject();
	cJSON_AddStringToObject(cJSON_AddObjectToObject(cm, "metadata"), "name", name);
	ck_assert_int_eq(obj_create(reg, &res_configmap, "default", cm, 0, NULL), 0);
	cJSON_Delete(cm);
}

/* Commit what is pending: the change feed dispatches it. */
static void commit(void)
{
	ck_assert_int_eq(store_commit(st, NULL), 0);
}

static void setup(void)
{
	tmpcluster_open(&C, NULL);
	st = C.st;
	reg = C.reg;
	commit();
	calls[0] = 0;
}

static void teardown(void)
{
	ck_assert_ptr_null(reg->informers);   /* every cache went with its last reference */
	tmpcluster_close(&C);
}

/* A handler that appends its tag (arg, a string) to calls. */
static void note(void *arg, enum store_ev_type type, const cJSON *obj, const cJSON *old)
{
	add_call(arg);
}

START_TEST(one_cache_per_kind)
{
	create_cm("before");
	commit();
	struct informer *a = informer_new(reg, &res_configmap);
	struct informer *b = informer_new(reg, &res_configmap);
	struct informer *p = informer_new(reg, &res_pod);

	ck_assert_ptr_ne(a, b);
	ck_assert_uint_eq(informer_refs(a), 2);
	ck_assert_uint_eq(informer_refs(p), 1);
	ck_assert_ptr_eq(informer_resource(b), &res_configmap);
	/* the same object, not a copy per reference */
	ck_assert_ptr_nonnull(informer_get(a, "default", "before"));
	ck_assert_ptr_eq(informer_get(a, "default", "before"), informer_get(b, "default", "before"));
	create_cm("after");
	commit();
	ck_assert_uint_eq(informer_count(a), 2);
	ck_assert_ptr_eq(informer_get(a, "default", "after"), informer_get(b, "default", "after"));
	ck_assert_uint_eq(informer_count(p), 0);

	/* One reference gone: the other still sees changes. */
	informer_free(a);
	ck_assert_uint_eq(informer_refs(b), 1);
	create_cm("later");
	commit();
	ck_assert_uint_eq(informer_count(b), 3);
	informer_free(b);
	informer_free(p);
	ck_assert_ptr_null(reg->informers);

	/* A new reference after the last went: a new cache, loaded again. */
	a = informer_new(reg, &res_configmap);
	ck_assert_uint_eq(informer_refs(a), 1);
	ck_assert_uint_eq(informer_count(a), 3);
	informer_free(a);
	informer_free(NULL);
}
END_TEST

/* The cache holds packed copies (one allocation each): they read as the
 * object, arrays and numbers included, and duplicate into ordinary cJSON. */
START_TEST(packed_copy_reads_as_the_object)
{
	cJSON *ep = cJSON_Parse("{\"metadata\":{\"name\":\"e\",\"labels\":{\"a\":\"b\"}},"
				"\"subsets\":[{\"addresses\":[{\"ip\":\"10.244.0.5\"},"
				"{\"ip\":\"10.244.0.6\"}],\"ports\":[{\"port\":8080,"
				"\"protocol\":\"TCP\"}]}]}");
	struct informer *inf = informer_new(reg, &res_endpoints);
	ck_assert_int_eq(obj_create(reg, &res_endpoints, "default", ep, 0, NULL), 0);
	commit();
	const cJSON *got = informer_get(inf, "default", "e");
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(jstr_or(got, "metadata.labels.a", ""), "b");
	const cJSON *addrs = jget(cJSON_GetArrayItem(jget(got, "subsets"), 0), "addresses");
	ck_assert_int_eq(cJSON_GetArraySize(addrs), 2);
	ck_assert_str_eq(jstr_or(cJSON_GetArrayItem(addrs, 1), "ip", ""), "10.244.0.6");
	ck_assert_ptr_eq(addrs->child->prev, cJSON_GetArrayItem(addrs, 1));
	const cJSON *port = cJSON_GetArrayItem(jget(cJSON_GetArrayItem(jget(got, "subsets"), 0), "ports"), 0);
	ck_assert_int_eq(jint(port, "port", 0), 8080);
	/* an ordinary copy, equal, that outlives the cached one */
	cJSON *dup = cJSON_Duplicate(got, 1);
	ck_assert(cJSON_Compare(dup, got, 1));
	/* common keys and values are shared by every packed copy, not held
	 * by each */
	cJSON *other = json_pack(got);
	ck_assert_ptr_eq(jget(other, "metadata")->string, jget(got, "metadata")->string);
	ck_assert_ptr_eq(jget(port, "protocol")->valuestring,
			 jget(cJSON_GetArrayItem(jget(cJSON_GetArrayItem(jget(other, "subsets"), 0),
						      "ports"), 0), "protocol")->valuestring);
	ck_assert_ptr_ne(jget(other, "metadata.name")->valuestring,
			 jget(got, "metadata.name")->valuestring);
	json_pack_free(other);
	/* a reference outlives the cache's next version too */
	const cJSON *kept = json_pack_ref(got);
	cJSON_Delete(ep);
	ep = cJSON_Duplicate(got, 1);
	cJSON_ReplaceItemInObject(jget(ep, "metadata"), "labels", cJSON_Parse("{\"a\":\"c\"}"));
	ck_assert_int_eq(obj_update(reg, &res_endpoints, "default", "e", ep, 0, NULL), 0);
	commit();
	ck_assert_str_eq(jstr_or(informer_get(inf, "default", "e"), "metadata.labels.a", ""), "c");
	ck_assert_str_eq(jstr_or(dup, "metadata.labels.a", ""), "b");
	ck_assert_ptr_ne(informer_get(inf, "default", "e"), kept);
	ck_assert_str_eq(jstr_or(kept, "metadata.labels.a", ""), "b");
	ck_assert(cJSON_Compare(dup, kept, 1));
	json_pack_free(kept);
	json_pack_free(NULL);
	ck_assert_int_eq(cJSON_GetArraySize(jget(dup, "subsets")), 1);
	cJSON_Delete(dup);
	cJSON_Delete(ep);
	informer_free(inf);
}
END_TEST

START_TEST(handlers_in_order_added_and_removed)
{
	struct informer *a = informer_new(reg, &res_configmap);
	struct informer *b = informer_new(reg, &res_configmap);

	informer_on(a, note, "a1");
	informer_on(b, note, "b1");
	informer_on(a, note, "a2");
	create_cm("x");
	commit();
	ck_assert_str_eq(calls, "a1b1a2");

	calls[0] = 0;
	informer_off(a, note, "a1");
	informer_off(b, note, "a2");   /* not b's: stays */
	informer_off(a, note, "nope"); /* absent: no-op */
	create_cm("y");
	commit();
	ck_assert_str_eq(calls, "b1a2");

	/* Releasing b removes b's handlers, not a's. */
	calls[0] = 0;
	informer_free(b);
	create_cm("z");
	commit();
	ck_assert_str_eq(calls, "a2");
	informer_free(a);
}
END_TEST

/* ---- re-entrancy ---- */

struct reent {
	struct informer *inf;
	struct informer *other;      /* released from the handler when set */
	bool write;
};

static void remove_self(void *arg, enum store_ev_type type, const cJSON *obj, const cJSON *old)
{
	struct reent *r = arg;
	add_call("R");
	informer_off(r->inf, remove_self, r);
	/* a handler added now does not hear this change */
	informer_on(r->inf, note, "n");
}

START_TEST(handler_removes_itself)
{
	struct reent r = { 0 };
	r.inf = informer_new(reg, &res_configmap);
	informer_on(r.inf, note, "1");
	informer_on(r.inf, remove_self, &r);
	informer_on(r.inf, note, "2");
	create_cm("x");
	commit();
	ck_assert_str_eq(calls, "1R2");
	calls[0] = 0;
	create_cm("y");
	commit();
	ck_assert_str_eq(calls, "12n");
	informer_free(r.inf);
}
END_TEST

static void release(void *arg, enum store_ev_type type, const cJSON *obj, const cJSON *old)
{
	struct reent *r = arg;
	add_call("F");
	if (r->other) {
		informer_free(r->other);
		r->other = NULL;
	}
	informer_free(r->inf);       /* its own reference, this handler with it */
	r->inf = NULL;
	if (r->write)
		create_cm("from-handler");
}

/* The last references go during a dispatch: the handlers after them do
 * not run, and the cache is freed once the dispatch ends. */
START_TEST(handler_releases_last_reference)
{
	struct reent r = { 0 };
	r.inf = informer_new(reg, &res_configmap);
	r.other = informer_new(reg, &res_configmap);
	informer_on(r.other, note, "o");
	informer_on(r.inf, release, &r);
	informer_on(r.other, note, "p");
	create_cm("x");
	commit();
	ck_assert_str_eq(calls, "oF");
	ck_assert_ptr_null(reg->informers);
	create_cm("y");
	commit();
	ck_assert_str_eq(calls, "oF");
}
END_TEST

/* A handler that writes: the write joins the next commit, whose event the
 * remaining references hear after this dispatch. */
START_TEST(handler_writes)
{
	struct reent r = { 0 };
	struct informer *keep = informer_new(reg, &res_configmap);
	r.inf = informer_new(reg, &res_configmap);
	r.write = true;
	informer_on(r.inf, release, &r);
	informer_on(keep, note, "k");
	create_cm("x");
	commit();
	ck_assert_str_eq(calls, "Fk");
	ck_assert_uint_eq(informer_refs(keep), 1);
	ck_assert_ptr_null(informer_get(keep, "default", "from-handler"));
	commit();
	ck_assert_str_eq(calls, "Fkk");
	ck_assert_ptr_nonnull(informer_get(keep, "default", "from-handler"));
	informer_free(keep);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("informer");
	TCase *tc = tcase_create("shared");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, one_cache_per_kind);
	tcase_add_test(tc, packed_copy_reads_as_the_object);
	tcase_add_test(tc, handlers_in_order_added_and_removed);
	tcase_add_test(tc, handler_removes_itself);
	tcase_add_test(tc, handler_releases_last_reference);
	tcase_add_test(tc, handler_writes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
