/*
 * tests/unit/test_serve.c: what components register with the registry
 * (server/registry/serve.h): subresource handlers and readiness checks.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "server/registry/registry.h"
#include "server/registry/serve.h"
#include "server/resources/resources.h"
#include "server/store/store.h"
#include "tests/unit/tmpcluster.h"

static struct tmpcluster C;

/* A registry over a fresh store; both go with teardown. */
static struct registry *new_registry(void)
{
	tmpcluster_open(&C, NULL);
	return C.reg;
}

static void teardown(void)
{
	tmpcluster_close(&C);
}

static void log_a(void *arg, struct sub_call *c) { (void)arg; (void)c; }
static void log_b(void *arg, struct sub_call *c) { (void)arg; (void)c; }

static const char *ok(void *arg) { (void)arg; return NULL; }
static const char *bad(void *arg) { return arg; }

START_TEST(subresources_by_kind_and_name)
{
	struct registry *reg = new_registry();
	int x, y;
	void *arg = NULL;

	ck_assert_ptr_null(registry_served(reg, &res_pod, "log", &arg));
	registry_serve(reg, &res_pod, "log", log_a, &x);
	registry_serve(reg, &res_pod, "exec", log_b, &y);
	ck_assert_ptr_eq(registry_served(reg, &res_pod, "log", &arg), log_a);
	ck_assert_ptr_eq(arg, &x);
	ck_assert_ptr_eq(registry_served(reg, &res_pod, "exec", &arg), log_b);
	ck_assert_ptr_eq(arg, &y);
	/* another kind with the same subresource name is another entry */
	ck_assert_ptr_null(registry_served(reg, &res_service, "log", &arg));
	/* a second registration replaces the first */
	registry_serve(reg, &res_pod, "log", log_b, &y);
	ck_assert_ptr_eq(registry_served(reg, &res_pod, "log", &arg), log_b);
	ck_assert_ptr_eq(arg, &y);
	registry_unserve(reg, &res_pod, "log");
	ck_assert_ptr_null(registry_served(reg, &res_pod, "log", &arg));
	ck_assert_ptr_eq(registry_served(reg, &res_pod, "exec", &arg), log_b);
	registry_unserve(reg, &res_pod, "nope"); /* unknown: nothing happens */
}
END_TEST

START_TEST(checks_in_registration_order)
{
	struct registry *reg = new_registry();
	const struct ready_check *c;
	size_t n;

	c = registry_checks(reg, &n);
	ck_assert_uint_eq(n, 0);
	registry_check_add(reg, "node", ok, NULL);
	registry_check_add(reg, "proxy", bad, "proxy: no table");
	registry_check_add(reg, "dns", ok, NULL);
	c = registry_checks(reg, &n);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(c[0].name, "node");
	ck_assert_str_eq(c[1].name, "proxy");
	ck_assert_str_eq(c[2].name, "dns");
	ck_assert_ptr_null(c[0].fn(c[0].arg));
	ck_assert_str_eq(c[1].fn(c[1].arg), "proxy: no table");
	registry_check_del(reg, "proxy");
	registry_check_del(reg, "nope");
	c = registry_checks(reg, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(c[0].name, "node");
	ck_assert_str_eq(c[1].name, "dns");
	/* a removed name may come back (a component restarted) */
	registry_check_add(reg, "proxy", ok, NULL);
	c = registry_checks(reg, &n);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(c[2].name, "proxy");
}
END_TEST

static Suite *serve_suite(void)
{
	Suite *s = suite_create("serve");
	TCase *t = tcase_create("serve");
	tcase_add_checked_fixture(t, NULL, teardown);
	tcase_add_test(t, subresources_by_kind_and_name);
	tcase_add_test(t, checks_in_registration_order);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(serve_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
