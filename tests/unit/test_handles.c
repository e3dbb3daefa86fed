/*
 * tests/unit/test_handles.c: two clusters side by side in one process
 * (issue 10 item 4, components as handles). Two stores in two temporary
 * directories, each with its own registry and different Service ranges:
 * whatever one does (allocations, dry runs, failed writes, open allocator
 * transactions, repeated events, informers) shows in it alone.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/json.h"
#include "common/util.h"
#include "server/registry/event.h"
#include "server/registry/informer.h"
#include "server/registry/registry.h"
#include "server/registry/write.h"
#include "server/resources/resources.h"
#include "server/resources/svcalloc.h"
#include "server/store/store.h"
#include "tests/unit/tmpcluster.h"

/* A: 10.96.0.0/24 and 30000-30099; B: 10.200.0.0/24 and 30000-30199 (the
 * port ranges overlap on purpose: the same node port is free in each). */
static struct tmpcluster A, B;

/* JSON with ' for " (manifests stay readable). */
static cJSON *J(const char *s)
{
	char *t = xstrdup(s);
	for (char *p = t; *p; p++)
		if (*p == '\'')
			*p = '"';
	cJSON *j = cJSON_Parse(t);
	ck_assert_msg(j != NULL, "bad test JSON: %s", s);
	free(t);
	return j;
}

static void cluster_open(struct tmpcluster *c, const char *cidr, const char *ports)
{
	struct registry_opts o = { cidr, ports };
	tmpcluster_open(c, &o);
	ck_assert_int_eq(store_commit(c->st, NULL), 0);
}

static void setup(void)
{
	cluster_open(&A, "10.96.0.0/24", "30000-30099");
	cluster_open(&B, "10.200.0.0/24", "30000-30199");
}

static void teardown(void)
{
	tmpcluster_close(&A);
	tmpcluster_close(&B);
}

/* Create a Service in c (namespace default); the stored object, or NULL
 * with err set. */
static cJSON *create_svc(struct tmpcluster *c, const char *json, unsigned flags,
			 struct lk_err *err)
{
	cJSON *o = J(json);
	lk_err_clear(err);
	if (obj_create(c->reg, &res_service, "default", o, flags, err) < 0) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static long node_port(const cJSON *svc)
{
	return (long)jint(cJSON_GetArrayItem(jget(svc, "spec.ports"), 0), "nodePort", 0);
}

static uint32_t ips_free(const struct tmpcluster *c)
{
	return svcalloc_ip_free(c->reg->svcalloc);
}

static uint32_t ports_free(const struct tmpcluster *c)
{
	return svcalloc_port_free(c->reg->svcalloc);
}

/* ---- the Service allocators ---- */

/* The same manifest in each: addresses and ports from its own ranges. */
START_TEST(services_take_from_their_own_ranges)
{
	const char *web = "{'metadata':{'name':'web'},'spec':{'type':'NodePort',"
			  "'ports':[{'port':80}]}}";
	struct lk_err err = { 0 };
	cJSON *a = create_svc(&A, web, 0, &err), *b;
	ck_assert_msg(a != NULL, "%s", err.msg);
	b = create_svc(&B, web, 0, &err);
	ck_assert_msg(b != NULL, "%s", err.msg);
	ck_assert_msg(!strncmp(jstr(a, "spec.clusterIP"), "10.96.0.", 8), "A got %s",
		      jstr(a, "spec.clusterIP"));
	ck_assert_msg(!strncmp(jstr(b, "spec.clusterIP"), "10.200.0.", 9), "B got %s",
		      jstr(b, "spec.clusterIP"));
	ck_assert_int_ge(node_port(a), 30000);
	ck_assert_int_le(node_port(a), 30099);
	ck_assert_int_ge(node_port(b), 30000);
	ck_assert_int_le(node_port(b), 30199);
	ck_assert(svcalloc_ip_used(A.reg->svcalloc, jstr(a, "spec.clusterIP")));
	ck_assert(!svcalloc_ip_used(B.reg->svcalloc, jstr(a, "spec.clusterIP")));
	ck_assert(svcalloc_ip_used(B.reg->svcalloc, jstr(b, "spec.clusterIP")));
	ck_assert(!svcalloc_ip_used(A.reg->svcalloc, jstr(b, "spec.clusterIP")));
	cJSON_Delete(a);
	cJSON_Delete(b);
}
END_TEST

/* A value is "already allocated" only where it was taken, and each
 * cluster's errors name its own ranges. */
#define FIXED "{'metadata':{'name':'%s'},'spec':{'type':'NodePort'," \
	      "'clusterIP':'%s','ports':[{'port':80,'nodePort':%d}]}}"

START_TEST(static_values_and_errors_are_per_cluster)
{
	struct lk_err err = { 0 };
	char *m;
	cJSON *o;

	m = xasprintf(FIXED, "a1", "10.96.0.50", 30080);
	o = create_svc(&A, m, 0, &err);
	ck_assert_msg(o != NULL, "%s", err.msg);
	cJSON_Delete(o);
	free(m);
	/* B: the same node port is free, A's address is out of its range */
	m = xasprintf(FIXED, "b1", "10.200.0.50", 30080);
	o = create_svc(&B, m, 0, &err);
	ck_assert_msg(o != NULL, "%s", err.msg);
	cJSON_Delete(o);
	free(m);
	m = xasprintf(FIXED, "b2", "10.96.0.50", 30081);
	ck_assert_ptr_null(create_svc(&B, m, 0, &err));
	ck_assert_msg(strstr(err.msg, "The range of valid IPs is 10.200.0.0/24"), "%s", err.msg);
	free(m);
	/* A: its own node port again, and a port only B's range has */
	m = xasprintf(FIXED, "a2", "10.96.0.51", 30080);
	ck_assert_ptr_null(create_svc(&A, m, 0, &err));
	ck_assert_msg(strstr(err.msg, "provided port is already allocated"), "%s", err.msg);
	free(m);
	m = xasprintf(FIXED, "a3", "10.96.0.52", 30150);
	ck_assert_ptr_null(create_svc(&A, m, 0, &err));
	ck_assert_msg(strstr(err.msg, "The range of valid ports is 30000-30099"), "%s", err.msg);
	free(m);
	m = xasprintf(FIXED, "b3", "10.200.0.52", 30150);
	o = create_svc(&B, m, 0, &err);
	ck_assert_msg(o != NULL, "%s", err.msg);
	cJSON_Delete(o);
	free(m);
	lk_err_clear(&err);
}
END_TEST

/* A dry run or a failed create gives back what it took, in its own
 * cluster, and never touches the other one. */
START_TEST(dry_runs_and_failures_stay_local)
{
	struct lk_err err = { 0 };
	cJSON *o;
	uint32_t ai = ips_free(&A), ap = ports_free(&A);
	uint32_t bi = ips_free(&B), bp = ports_free(&B);

	o = create_svc(&A, "{'metadata':{'name':'dry'},'spec':{'type':'NodePort',"
		       "'ports':[{'port':80}]}}", WRITE_DRY_RUN, &err);
	ck_assert_msg(o != NULL, "%s", err.msg);
	ck_assert_ptr_nonnull(jstr(o, "spec.clusterIP"));  /* allocated, then given back */
	cJSON_Delete(o);
	/* allocation succeeds, validation fails: two ports without names */
	ck_assert_ptr_null(create_svc(&A, "{'metadata':{'name':'bad'},'spec':{'type':'NodePort',"
				      "'ports':[{'port':80},{'port':81}]}}", 0, &err));
	ck_assert_int_eq(err.code, LK_EINVALID);
	ck_assert_uint_eq(ips_free(&A), ai);
	ck_assert_uint_eq(ports_free(&A), ap);
	ck_assert_uint_eq(ips_free(&B), bi);
	ck_assert_uint_eq(ports_free(&B), bp);

	/* B stores one while A's allocator has a transaction open: A's
	 * revert gives back A's value only, B keeps what it stored. */
	svcalloc_txn_begin(A.reg->svcalloc);
	ck_assert_int_eq(svcalloc_ip_take(A.reg->svcalloc, "10.96.0.77"), SA_OK);
	o = create_svc(&B, "{'metadata':{'name':'kept'},'spec':{'ports':[{'port':80}]}}", 0,
		       &err);
	ck_assert_msg(o != NULL, "%s", err.msg);
	svcalloc_txn_revert(A.reg->svcalloc);
	ck_assert(!svcalloc_ip_used(A.reg->svcalloc, "10.96.0.77"));
	ck_assert(svcalloc_ip_used(B.reg->svcalloc, jstr(o, "spec.clusterIP")));
	ck_assert_uint_eq(ips_free(&A), ai);
	ck_assert_uint_eq(ips_free(&B), bi - 1);
	cJSON_Delete(o);
	lk_err_clear(&err);
}
END_TEST

/* A registry rebuilt over a store marks that store's Services only. */
START_TEST(rebuild_reads_its_own_store)
{
	struct lk_err err = { 0 };
	struct registry_opts o = { "10.96.0.0/24", "30000-30099" };
	struct registry *again;
	cJSON *a = create_svc(&A, "{'metadata':{'name':'a'},'spec':{'type':'NodePort',"
			      "'ports':[{'port':80}]}}", 0, &err);
	ck_assert_msg(a != NULL, "%s", err.msg);
	ck_assert_int_eq(store_commit(A.st, NULL), 0);
	again = registry_new(NULL, B.st, &o, &err);
	ck_assert_ptr_nonnull(again);
	ck_assert(!svcalloc_ip_used(again->svcalloc, jstr(a, "spec.clusterIP")));
	ck_assert_uint_eq(svcalloc_ip_free(again->svcalloc), ips_free(&A) + 1);
	registry_free(again);
	again = registry_new(NULL, A.st, &o, &err);
	ck_assert_ptr_nonnull(again);
	ck_assert(svcalloc_ip_used(again->svcalloc, jstr(a, "spec.clusterIP")));
	ck_assert(svcalloc_port_used(again->svcalloc, node_port(a)));
	registry_free(again);
	ck_assert_ptr_null(registry_new(NULL, A.st, &(struct registry_opts){ "10.0.0.0/33", NULL },
					&err));
	ck_assert_msg(strstr(err.msg, "invalid service CIDR"), "%s", err.msg);
	cJSON_Delete(a);
	lk_err_clear(&err);
}
END_TEST

/* ---- the event recorder ---- */

struct ev_count {
	int n;
	long long count;
};

static int count_event(void *arg, cJSON *ev)
{
	struct ev_count *c = arg;
	c->n++;
	c->count = jint(ev, "count", 0);
	cJSON_Delete(ev);
	return 0;
}

static struct ev_count events_in(struct tmpcluster *c)
{
	struct ev_count n = { 0, 0 };
	ck_assert_int_eq(store_list(c->st, "events", "default", NULL, count_event, &n, NULL,
				    NULL), 0);
	return n;
}

/* The same event, interleaved A, B, A, B: each cluster deduplicates its
 * own repeats (one Event, count 2) whatever the other recorded between. */
START_TEST(events_deduplicate_per_registry)
{
	cJSON *pod = J("{'kind':'Pod','apiVersion':'v1','metadata':{'name':'p',"
		       "'namespace':'default','uid':'u-1'}}");
	struct ev_count a, b;
	for (int i = 0; i < 2; i++) {
		event_record(A.reg, pod, "test", "Normal", "Pulled", "same message");
		event_record(B.reg, pod, "test", "Normal", "Pulled", "same message");
	}
	a = events_in(&A);
	b = events_in(&B);
	ck_assert_int_eq(a.n, 1);
	ck_assert_int_eq(a.count, 2);
	ck_assert_int_eq(b.n, 1);
	ck_assert_int_eq(b.count, 2);
	/* a third in A only */
	event_record(A.reg, pod, "test", "Normal", "Pulled", "same message");
	ck_assert_int_eq(events_in(&A).count, 3);
	ck_assert_int_eq(events_in(&B).count, 2);
	cJSON_Delete(pod);
}
END_TEST

/* ---- informers ---- */

static void count_change(void *arg, enum store_ev_type type, const cJSON *obj,
			 const cJSON *old)
{
	(*(int *)arg)++;
}

/* An informer over each registry sees that cluster's objects only, at
 * start and as they change. */
START_TEST(informers_see_their_own_cluster)
{
	struct lk_err err = { 0 };
	struct informer *ia, *ib;
	int na = 0, nb = 0;
	cJSON *o = create_svc(&A, "{'metadata':{'name':'before-a'},'spec':{'ports':[{'port':80}]}}",
			      0, &err);
	ck_assert_msg(o != NULL, "%s", err.msg);
	cJSON_Delete(o);
	ck_assert_int_eq(store_commit(A.st, NULL), 0);

	ia = informer_new(A.reg, &res_service);
	ib = informer_new(B.reg, &res_service);
	informer_on(ia, count_change, &na);
	informer_on(ib, count_change, &nb);
	ck_assert_uint_eq(informer_count(ia), 1);
	ck_assert_uint_eq(informer_count(ib), 0);

	o = create_svc(&B, "{'metadata':{'name':'only-b'},'spec':{'ports':[{'port':80}]}}", 0,
		       &err);
	ck_assert_msg(o != NULL, "%s", err.msg);
	cJSON_Delete(o);
	ck_assert_int_eq(store_commit(A.st, NULL), 0);
	ck_assert_int_eq(store_commit(B.st, NULL), 0);
	ck_assert_int_eq(na, 0);
	ck_assert_int_eq(nb, 1);
	ck_assert_ptr_nonnull(informer_get(ib, "default", "only-b"));
	ck_assert_ptr_null(informer_get(ia, "default", "only-b"));
	ck_assert_ptr_nonnull(informer_get(ia, "default", "before-a"));
	ck_assert_ptr_null(informer_get(ib, "default", "before-a"));
	informer_free(ia);
	informer_free(ib);
	lk_err_clear(&err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("handles");
	TCase *t = tcase_create("two clusters");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, services_take_from_their_own_ranges);
	tcase_add_test(t, static_values_and_errors_are_per_cluster);
	tcase_add_test(t, dry_runs_and_failures_stay_local);
	tcase_add_test(t, rebuild_reads_its_own_store);
	tcase_add_test(t, events_deduplicate_per_registry);
	tcase_add_test(t, informers_see_their_own_cluster);
	suite_add_tcase(s, t);
	SRunner *r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
