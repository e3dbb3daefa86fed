/*
 * tests/unit/test_write.c: the shared write path (server/registry/write.c) over a
 * real store in a temporary directory.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/json.h"
#include "common/util.h"
#include "server/registry/registry.h"
#include "server/registry/write.h"
#include "server/resources/resources.h"
#include "server/store/store.h"
#include "tests/unit/tmpcluster.h"

static struct tmpcluster C;
static struct store *st;
static struct registry *reg;

static void setup(void)
{
	tmpcluster_open(&C, NULL);
	st = C.st;
	reg = C.reg;
}

static void teardown(void)
{
	tmpcluster_close(&C);
	lk_random_seed(0);
}

static cJSON *create_generated(struct lk_err *err, int *rc)
{
	cJSON *cm = cJSON_Parse("{\"metadata\":{\"generateName\":\"g-\"}}");
	*rc = obj_create(reg, &res_configmap, "default", cm, 0, err);
	return cm;
}

/* The same random suffix twice: the second create must pick another name
 * (upstream retries since 1.32) instead of failing with AlreadyExists. */
START_TEST(generate_name_retries_collision)
{
	struct lk_err err = { 0 };
	int rc;

	lk_random_seed(42);
	cJSON *a = create_generated(&err, &rc);
	ck_assert_int_eq(rc, 0);
	lk_random_seed(42);
	cJSON *b = create_generated(&err, &rc);
	ck_assert_msg(rc == 0, "second create failed: %s", err.msg);
	ck_assert_str_ne(jstr(a, "metadata.name"), jstr(b, "metadata.name"));
	ck_assert(str_has_prefix(jstr(b, "metadata.name"), "g-"));
	cJSON_Delete(a);
	cJSON_Delete(b);
	lk_err_clear(&err);
}
END_TEST

/* A named create that exists is still AlreadyExists with upstream's text. */
START_TEST(named_create_exists)
{
	struct lk_err err = { 0 };
	cJSON *a = cJSON_Parse("{\"metadata\":{\"name\":\"x\"}}");
	cJSON *b = cJSON_Parse("{\"metadata\":{\"name\":\"x\"}}");
	ck_assert_int_eq(obj_create(reg, &res_configmap, "default", a, 0, &err), 0);
	ck_assert_int_eq(obj_create(reg, &res_configmap, "default", b, 0, &err), -1);
	ck_assert_int_eq(err.code, LK_EEXISTS);
	ck_assert_str_eq(err.msg, "configmaps \"x\" already exists");
	cJSON_Delete(a);
	cJSON_Delete(b);
	lk_err_clear(&err);
}
END_TEST

/* Generation moves with the spec only; a no-op update keeps the revision. */
START_TEST(update_generation_and_noop)
{
	struct lk_err err = { 0 };
	cJSON *d = cJSON_Parse("{\"metadata\":{\"name\":\"d\"},\"spec\":{\"replicas\":1,"
			       "\"selector\":{\"matchLabels\":{\"a\":\"b\"}},\"template\":{\"metadata\":"
			       "{\"labels\":{\"a\":\"b\"}},\"spec\":{\"containers\":[{\"name\":\"c\","
			       "\"image\":\"nginx\"}]}}}}");
	ck_assert_int_eq(obj_create(reg, &res_deployment, "default", d, 0, &err), 0);
	ck_assert_int_eq(jint(d, "metadata.generation", 0), 1);
	long long rv = jint(d, "metadata.resourceVersion", 0);
	cJSON *same = cJSON_Duplicate(d, 1);
	ck_assert_int_eq(obj_update(reg, &res_deployment, "default", "d", same, 0, &err), 0);
	ck_assert_int_eq(jint(same, "metadata.resourceVersion", 0), rv);
	jset_int(d, "spec.replicas", 3);
	ck_assert_int_eq(obj_update(reg, &res_deployment, "default", "d", d, 0, &err), 0);
	ck_assert_int_eq(jint(d, "metadata.generation", 0), 2);
	ck_assert_int_gt(jint(d, "metadata.resourceVersion", 0), rv);
	cJSON_Delete(same);
	cJSON_Delete(d);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("write");
	TCase *tc = tcase_create("write");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, generate_name_retries_collision);
	tcase_add_test(tc, named_create_exists);
	tcase_add_test(tc, update_generation_and_noop);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
