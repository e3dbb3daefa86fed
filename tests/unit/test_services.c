/*
 * tests/unit/test_services.c: Service semantics in the API (issue 4): the
 * allocators (server/resources/svcalloc.c), admission through the shared
 * write path (create/update/delete over a real store: allocation, type
 * changes, patchAllocatedValues, releases) and upstream's messages
 * (shared/specs/services.md §2).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/json.h"
#include "common/util.h"
#include "server/registry/registry.h"
#include "server/registry/write.h"
#include "server/resources/resources.h"
#include "server/resources/svcalloc.h"
#include "server/store/store.h"
#include "tests/unit/tmpcluster.h"

static struct tmpcluster C;
static struct store *st;
static struct registry *reg;
static struct svcalloc *sa; /* reg's allocators */

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

static void setup(void)
{
	tmpcluster_open(&C, NULL);
	st = C.st;
	reg = C.reg;
	sa = reg->svcalloc;
}

static void teardown(void)
{
	tmpcluster_close(&C);
	st = NULL;
	reg = NULL;
	sa = NULL;
}

/* Create a Service; returns the stored object (or NULL, err set). */
static cJSON *create(const char *json, struct lk_err *err)
{
	cJSON *o = J(json);
	lk_err_clear(err);
	if (obj_create(reg, &res_service, "default", o, 0, err) < 0) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static cJSON *get(const char *name)
{
	cJSON *o = NULL;
	store_get(st, "services", "default", name, &o, NULL);
	return o;
}

static int update(cJSON *o, struct lk_err *err)
{
	char name[256];
	lk_err_clear(err);
	snprintf(name, sizeof(name), "%s", jstr_or(o, "metadata.name", ""));
	return obj_update(reg, &res_service, "default", name, o, 0, err);
}

static void del(const char *name)
{
	struct delete_opts o = { .grace = -1 };
	struct lk_err err = { 0 };
	bool gone;
	ck_assert_int_eq(obj_delete(reg, &res_service, "default", name, &o, NULL, &gone, &err), 0);
	ck_assert(gone);
}

static void expect_err(const char *json, int code, const char *msg)
{
	struct lk_err err = { 0 };
	cJSON *o = create(json, &err);
	ck_assert_msg(o == NULL, "create succeeded: %s", json);
	ck_assert_int_eq(err.code, code);
	ck_assert_str_eq(err.msg, msg);
	lk_err_clear(&err);
}

static unsigned ip_last(const char *ip)
{
	unsigned a, b, c, d;
	ck_assert_int_eq(sscanf(ip, "%u.%u.%u.%u", &a, &b, &c, &d), 4);
	return (a << 24) | (b << 16) | (c << 8) | d;
}

/* ---- allocator ---- */

/* New, empty allocators for these ranges (NULL: the defaults): reg's in
 * the "write" cases, standalone in the "allocator" ones (no registry). */
static void configure(const char *cidr, const char *ports)
{
	svcalloc_free(sa);
	sa = svcalloc_new(cidr, ports, NULL);
	ck_assert_ptr_nonnull(sa);
	if (reg)
		reg->svcalloc = sa;
}

static void alloc_teardown(void)
{
	svcalloc_free(sa);
	sa = NULL;
}

START_TEST(alloc_bands)
{
	char ip[16];
	long port;
	configure("10.96.0.0/12", "30000-32767");
	for (int i = 0; i < 200; i++) {
		ck_assert_int_eq(svcalloc_ip_next(sa, ip), SA_OK);
		/* dynamic: above the static band 10.96.0.1 .. 10.96.1.0 */
		ck_assert_uint_gt(ip_last(ip), ip_last("10.96.1.0"));
		ck_assert_uint_le(ip_last(ip), ip_last("10.111.255.254"));
		ck_assert_int_eq(svcalloc_port_next(sa, &port), SA_OK);
		ck_assert_int_ge(port, 30086);
		ck_assert_int_le(port, 32767);
	}
	ck_assert_int_eq(svcalloc_ip_take(sa, "10.96.0.10"), SA_OK);
	ck_assert_int_eq(svcalloc_ip_take(sa, "10.96.0.10"), SA_TAKEN);
	ck_assert_int_eq(svcalloc_ip_take(sa, "10.96.0.0"), SA_RANGE);   /* network */
	ck_assert_int_eq(svcalloc_ip_take(sa, "10.111.255.255"), SA_RANGE); /* broadcast */
	ck_assert_int_eq(svcalloc_ip_take(sa, "1.1.1.1"), SA_RANGE);
	ck_assert_int_eq(svcalloc_port_take(sa, 30000), SA_OK);
	ck_assert_int_eq(svcalloc_port_take(sa, 30000), SA_TAKEN);
	ck_assert_int_eq(svcalloc_port_take(sa, 80), SA_RANGE);
	ck_assert_ptr_null(svcalloc_new("10.96.0.0/33", "1-2", NULL));
	ck_assert_ptr_null(svcalloc_new("10.96.0.0/24", "5-2", NULL));
}
END_TEST

/* A small range: the upper band first, then the static one, then full. */
START_TEST(alloc_exhaustion_release)
{
	char ip[16], seen[256] = { 0 };
	configure("10.0.0.0/27", "30000-30019");
	/* /27: 30 usable, static band 16 (10.0.0.1-16) */
	for (int i = 0; i < 30; i++) {
		ck_assert_int_eq(svcalloc_ip_next(sa, ip), SA_OK);
		unsigned last = ip_last(ip) & 0xff;
		ck_assert(!seen[last]);
		seen[last] = 1;
		if (i < 14)
			ck_assert_uint_gt(last, 16);
		else
			ck_assert_uint_le(last, 16);
	}
	ck_assert_int_eq(svcalloc_ip_next(sa, ip), SA_FULL);
	svcalloc_ip_release(sa, "10.0.0.5");
	ck_assert_int_eq(svcalloc_ip_next(sa, ip), SA_OK);
	ck_assert_str_eq(ip, "10.0.0.5");
	long p;
	for (int i = 0; i < 20; i++)
		ck_assert_int_eq(svcalloc_port_next(sa, &p), SA_OK);
	ck_assert_int_eq(svcalloc_port_next(sa, &p), SA_FULL);
	ck_assert_uint_eq(svcalloc_port_free(sa), 0);
}
END_TEST

START_TEST(alloc_txn)
{
	configure("10.96.0.0/12", "30000-32767");
	ck_assert_int_eq(svcalloc_ip_take(sa, "10.96.0.20"), SA_OK);
	svcalloc_txn_begin(sa);
	ck_assert_int_eq(svcalloc_ip_take(sa, "10.96.0.21"), SA_OK);
	svcalloc_ip_release(sa, "10.96.0.20");
	ck_assert(svcalloc_ip_used(sa, "10.96.0.20")); /* deferred */
	svcalloc_txn_revert(sa);
	ck_assert(svcalloc_ip_used(sa, "10.96.0.20"));
	ck_assert(!svcalloc_ip_used(sa, "10.96.0.21"));
	svcalloc_txn_begin(sa);
	ck_assert_int_eq(svcalloc_port_take(sa, 30500), SA_OK);
	svcalloc_ip_release(sa, "10.96.0.20");
	svcalloc_txn_commit(sa);
	ck_assert(!svcalloc_ip_used(sa, "10.96.0.20"));
	ck_assert(svcalloc_port_used(sa, 30500));
}
END_TEST

/* The state is rebuilt from the store: nothing handed out twice. */
START_TEST(alloc_rebuild)
{
	struct lk_err err = { 0 };
	cJSON *a = create("{'metadata':{'name':'a'},'spec':{'type':'NodePort',"
			  "'clusterIP':'10.96.0.50','ports':[{'port':80,'nodePort':30080}]}}", &err);
	ck_assert_msg(a != NULL, "%s", err.msg);
	configure(NULL, NULL);
	svcalloc_rebuild(sa, st);
	ck_assert(svcalloc_ip_used(sa, "10.96.0.50"));
	ck_assert(svcalloc_port_used(sa, 30080));
	ck_assert_int_eq(svcalloc_ip_free(sa), (1u << 20) - 2 - 1);
	expect_err("{'metadata':{'name':'b'},'spec':{'clusterIP':'10.96.0.50','ports':[{'port':80}]}}",
		   LK_EINVALID, "Service \"b\" is invalid: spec.clusterIPs: Invalid value: "
		   "[]string{\"10.96.0.50\"}: failed to allocate IP 10.96.0.50: provided IP is "
		   "already allocated");
	cJSON_Delete(a);
	lk_err_clear(&err);
}
END_TEST

/* ---- create ---- */

START_TEST(create_allocates)
{
	struct lk_err err = { 0 };
	cJSON *s = create("{'metadata':{'name':'web'},'spec':{'type':'NodePort','selector':"
			  "{'app':'web'},'ports':[{'port':8080}]}}", &err);
	ck_assert_msg(s != NULL, "%s", err.msg);
	const char *ip = jstr(s, "spec.clusterIP");
	ck_assert_str_eq(ip, cJSON_GetArrayItem(jget(s, "spec.clusterIPs"), 0)->valuestring);
	ck_assert_uint_gt(ip_last(ip), ip_last("10.96.1.0"));
	ck_assert(svcalloc_ip_used(sa, ip));
	long np = (long)jint(cJSON_GetArrayItem(jget(s, "spec.ports"), 0), "nodePort", 0);
	ck_assert_int_ge(np, 30000);
	ck_assert(svcalloc_port_used(sa, np));
	ck_assert_str_eq(jstr(s, "spec.externalTrafficPolicy"), "Cluster");
	del("web");
	ck_assert(!svcalloc_ip_used(sa, ip));
	ck_assert(!svcalloc_port_used(sa, np));
	cJSON_Delete(s);
}
END_TEST

/* Same port number on TCP and UDP: one node port. Headless: no IP. */
START_TEST(create_shared_nodeport_headless)
{
	struct lk_err err = { 0 };
	cJSON *s = create("{'metadata':{'name':'dns'},'spec':{'type':'NodePort','ports':["
			  "{'name':'t','port':53},{'name':'u','port':53,'protocol':'UDP'}]}}", &err);
	ck_assert_msg(s != NULL, "%s", err.msg);
	ck_assert_int_eq(jint(cJSON_GetArrayItem(jget(s, "spec.ports"), 0), "nodePort", 0),
			 jint(cJSON_GetArrayItem(jget(s, "spec.ports"), 1), "nodePort", 0));
	cJSON *h = create("{'metadata':{'name':'h'},'spec':{'clusterIP':'None','selector':{'a':'b'}}}",
			  &err);
	ck_assert_msg(h != NULL, "%s", err.msg);
	ck_assert_str_eq(jstr(h, "spec.clusterIP"), "None");
	uint32_t before = svcalloc_ip_free(sa);
	cJSON *e = create("{'metadata':{'name':'e'},'spec':{'type':'ExternalName',"
			  "'externalName':'example.com'}}", &err);
	ck_assert_msg(e != NULL, "%s", err.msg);
	ck_assert_ptr_null(jget(e, "spec.clusterIP"));
	ck_assert_uint_eq(svcalloc_ip_free(sa), before);
	cJSON_Delete(s);
	cJSON_Delete(h);
	cJSON_Delete(e);
}
END_TEST

START_TEST(create_errors)
{
	struct lk_err err = { 0 };
	expect_err("{'metadata':{'name':'x'},'spec':{'clusterIP':'1.1.1.1','ports':[{'port':80}]}}",
		   LK_EINVALID, "Service \"x\" is invalid: spec.clusterIPs: Invalid value: "
		   "[]string{\"1.1.1.1\"}: failed to allocate IP 1.1.1.1: the provided IP (1.1.1.1) "
		   "is not in the valid range. The range of valid IPs is 10.96.0.0/12");
	expect_err("{'metadata':{'name':'x'},'spec':{'type':'NodePort','ports':[{'port':80,"
		   "'nodePort':80}]}}", LK_EINVALID,
		   "Service \"x\" is invalid: spec.ports[0].nodePort: Invalid value: 80: provided "
		   "port is not in the valid range. The range of valid ports is 30000-32767");
	cJSON *a = create("{'metadata':{'name':'a'},'spec':{'type':'NodePort','ports':[{'port':80,"
			  "'nodePort':30080}]}}", &err);
	ck_assert_msg(a != NULL, "%s", err.msg);
	uint32_t before = svcalloc_ip_free(sa);
	expect_err("{'metadata':{'name':'x'},'spec':{'type':'NodePort','ports':[{'port':80,"
		   "'nodePort':30080}]}}", LK_EINVALID,
		   "Service \"x\" is invalid: spec.ports[0].nodePort: Invalid value: 30080: "
		   "provided port is already allocated");
	/* the failed create gave its cluster IP back */
	ck_assert_uint_eq(svcalloc_ip_free(sa), before);
	expect_err("{'metadata':{'name':'x'},'spec':{'ports':[{'port':80},{'port':81}]}}",
		   LK_EINVALID, "Service \"x\" is invalid: [spec.ports[0].name: Required value, "
		   "spec.ports[1].name: Required value]");
	ck_assert_uint_eq(svcalloc_ip_free(sa), before);
	expect_err("{'metadata':{'name':'x'},'spec':{'type':'ExternalName'}}", LK_EINVALID,
		   "Service \"x\" is invalid: spec.externalName: Required value");
	expect_err("{'metadata':{'name':'x'},'spec':{'type':'NodePort','clusterIP':'None',"
		   "'ports':[{'port':80}]}}", LK_EINVALID,
		   "Service \"x\" is invalid: spec.clusterIPs[0]: Invalid value: \"None\": may not "
		   "be set to 'None' for NodePort services");
	expect_err("{'metadata':{'name':'x'},'spec':{'sessionAffinity':'ClientIP','ports':[{'port':80}],"
		   "'sessionAffinityConfig':{'clientIP':{'timeoutSeconds':86401}}}}", LK_EINVALID,
		   "Service \"x\" is invalid: spec.sessionAffinityConfig.clientIP.timeoutSeconds: "
		   "Invalid value: 86401: must be greater than 0 and less than 86400");
	expect_err("{'metadata':{'name':'x'},'spec':{'internalTrafficPolicy':'X','ports':[{'port':80}]}}",
		   LK_EINVALID, "Service \"x\" is invalid: spec.internalTrafficPolicy: Unsupported "
		   "value: \"X\": supported values: \"Cluster\", \"Local\"");
	expect_err("{'metadata':{'name':'x'},'spec':{'clusterIP':'x','ports':[{'port':80}]}}",
		   LK_EINVALID, "Service \"x\" is invalid: spec.clusterIPs[0]: Invalid value: \"x\": "
		   "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
	ck_assert_uint_eq(svcalloc_ip_free(sa), before);
	cJSON_Delete(a);
	lk_err_clear(&err);
}
END_TEST

START_TEST(create_full)
{
	struct lk_err err = { 0 };
	configure("10.96.0.0/30", "30000-30001");
	svcalloc_rebuild(sa, st);
	cJSON *a = create("{'metadata':{'name':'a'},'spec':{'ports':[{'port':80}]}}", &err);
	cJSON *b = create("{'metadata':{'name':'b'},'spec':{'ports':[{'port':80}]}}", &err);
	ck_assert(a && b);
	expect_err("{'metadata':{'name':'c'},'spec':{'ports':[{'port':80}]}}", LK_EINTERNAL,
		   "Internal error occurred: failed to allocate a serviceIP: range is full");
	cJSON_Delete(a);
	cJSON_Delete(b);
}
END_TEST

/* Creating an existing Service is AlreadyExists, not "already allocated"
 * (bootstrap re-creates default/kubernetes at every start). */
START_TEST(create_existing)
{
	struct lk_err err = { 0 };
	const char *k = "{'metadata':{'name':'kubernetes'},'spec':{'clusterIP':'10.96.0.1',"
			"'ports':[{'name':'https','port':443}]}}";
	cJSON *a = create(k, &err);
	ck_assert_msg(a != NULL, "%s", err.msg);
	expect_err(k, LK_EEXISTS, "services \"kubernetes\" already exists");
	ck_assert(svcalloc_ip_used(sa, "10.96.0.1"));
	cJSON_Delete(a);
}
END_TEST

/* ---- update ---- */

START_TEST(update_immutable_and_patch)
{
	struct lk_err err = { 0 };
	cJSON *s = create("{'metadata':{'name':'s'},'spec':{'type':'NodePort','ports':"
			  "[{'name':'http','port':80}]}}", &err);
	ck_assert_msg(s != NULL, "%s", err.msg);
	long np = (long)jint(cJSON_GetArrayItem(jget(s, "spec.ports"), 0), "nodePort", 0);
	char *ip = xstrdup(jstr(s, "spec.clusterIP"));
	/* re-apply the original manifest: IP and node port are kept */
	cJSON *u = J("{'metadata':{'name':'s'},'spec':{'type':'NodePort','ports':"
		     "[{'name':'http','port':80}]}}");
	ck_assert_msg(update(u, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(jstr(u, "spec.clusterIP"), ip);
	ck_assert_int_eq(jint(cJSON_GetArrayItem(jget(u, "spec.ports"), 0), "nodePort", 0), np);
	cJSON_Delete(u);
	u = get("s");
	jset_str(u, "spec.clusterIP", "10.96.0.99");
	jset(u, "spec.clusterIPs", J("['10.96.0.99']"));
	ck_assert_int_eq(update(u, &err), -1);
	char *want = xasprintf("Service \"s\" is invalid: spec.clusterIPs[0]: Invalid value: "
			       "[]string{\"10.96.0.99\"}: may not change once set");
	ck_assert_str_eq(err.msg, want);
	ck_assert(!svcalloc_ip_used(sa, "10.96.0.99"));
	free(want);
	cJSON_Delete(u);
	cJSON_Delete(s);
	free(ip);
	lk_err_clear(&err);
}
END_TEST

/* NodePort -> ClusterIP -> ExternalName -> NodePort with what was read. */
START_TEST(update_type_changes)
{
	struct lk_err err = { 0 };
	cJSON *s = create("{'metadata':{'name':'t'},'spec':{'type':'NodePort','ports':[{'port':80}]}}",
			  &err);
	ck_assert_msg(s != NULL, "%s", err.msg);
	long np = (long)jint(cJSON_GetArrayItem(jget(s, "spec.ports"), 0), "nodePort", 0);
	char *ip = xstrdup(jstr(s, "spec.clusterIP"));
	jset_str(s, "spec.type", "ClusterIP");
	ck_assert_msg(update(s, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(jint(cJSON_GetArrayItem(jget(s, "spec.ports"), 0), "nodePort", 0), 0);
	ck_assert_ptr_null(jget(s, "spec.externalTrafficPolicy"));
	ck_assert(!svcalloc_port_used(sa, np));
	ck_assert(svcalloc_ip_used(sa, ip));
	jset_str(s, "spec.type", "ExternalName");
	jset_str(s, "spec.externalName", "example.com");
	ck_assert_msg(update(s, &err) == 0, "%s", err.msg);
	ck_assert_ptr_null(jget(s, "spec.clusterIP"));
	ck_assert_ptr_null(jget(s, "spec.clusterIPs"));
	ck_assert_ptr_null(jget(s, "spec.ipFamilies"));
	ck_assert_ptr_null(jget(s, "spec.ipFamilyPolicy"));
	ck_assert(!svcalloc_ip_used(sa, ip));
	jset_str(s, "spec.type", "NodePort");
	jdel(s, "spec.externalName");
	ck_assert_msg(update(s, &err) == 0, "%s", err.msg);
	ck_assert(svcalloc_ip_used(sa, jstr(s, "spec.clusterIP")));
	np = (long)jint(cJSON_GetArrayItem(jget(s, "spec.ports"), 0), "nodePort", 0);
	ck_assert(svcalloc_port_used(sa, np));
	/* LB -> ClusterIP clears the status */
	jset_str(s, "spec.type", "LoadBalancer");
	ck_assert_msg(update(s, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(jint(cJSON_GetArrayItem(jget(s, "spec.ports"), 0), "nodePort", 0), np);
	ck_assert(jbool(s, "spec.allocateLoadBalancerNodePorts", false));
	cJSON_Delete(s);
	free(ip);
	lk_err_clear(&err);
}
END_TEST

/* A failed update gives back what it took and keeps what it would release. */
START_TEST(update_failure_reverts)
{
	struct lk_err err = { 0 };
	cJSON *a = create("{'metadata':{'name':'a'},'spec':{'type':'NodePort','ports':"
			  "[{'port':80,'nodePort':30080}]}}", &err);
	cJSON *b = create("{'metadata':{'name':'b'},'spec':{'type':'NodePort','ports':"
			  "[{'port':80,'nodePort':30081}]}}", &err);
	ck_assert(a && b);
	cJSON *p = cJSON_GetArrayItem(jget(b, "spec.ports"), 0);
	jset_int(p, "nodePort", 30080);
	ck_assert_int_eq(update(b, &err), -1);
	ck_assert_str_eq(err.msg, "Service \"b\" is invalid: spec.ports[0].nodePort: Invalid "
			 "value: 30080: provided port is already allocated");
	ck_assert(svcalloc_port_used(sa, 30081));
	jset_int(p, "nodePort", 30082);
	jset_str(p, "protocol", "ICMP"); /* validation fails after allocation */
	ck_assert_int_eq(update(b, &err), -1);
	ck_assert(!svcalloc_port_used(sa, 30082));
	ck_assert(svcalloc_port_used(sa, 30081));
	/* status: ingress only for LoadBalancer */
	cJSON *st_ = get("a");
	jset(st_, "status", J("{'loadBalancer':{'ingress':[{'ip':'203.0.113.1'}]}}"));
	lk_err_clear(&err);
	ck_assert_int_eq(obj_update(reg, &res_service, "default", "a", st_, WRITE_STATUS, &err), -1);
	ck_assert_str_eq(err.msg, "Service \"a\" is invalid: status.loadBalancer.ingress: "
			 "Forbidden: may only be used when `spec.type` is 'LoadBalancer'");
	cJSON_Delete(st_);
	cJSON_Delete(a);
	cJSON_Delete(b);
	lk_err_clear(&err);
}
END_TEST

/* Delete takes the same-named Endpoints with it. */
START_TEST(delete_endpoints)
{
	struct lk_err err = { 0 };
	cJSON *s = create("{'metadata':{'name':'d'},'spec':{'ports':[{'port':80}]}}", &err);
	cJSON *ep = J("{'metadata':{'name':'d'},'subsets':[]}");
	ck_assert(s);
	ck_assert_int_eq(obj_create(reg, &res_endpoints, "default", ep, 0, &err), 0);
	del("d");
	cJSON *o = NULL;
	ck_assert_int_eq(store_get(st, "endpoints", "default", "d", &o, NULL), -1);
	cJSON_Delete(s);
	cJSON_Delete(ep);
	lk_err_clear(&err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("services");
	TCase *a = tcase_create("allocator"), *w = tcase_create("write");
	tcase_add_checked_fixture(a, NULL, alloc_teardown);
	tcase_add_test(a, alloc_bands);
	tcase_add_test(a, alloc_exhaustion_release);
	tcase_add_test(a, alloc_txn);
	tcase_add_checked_fixture(w, setup, teardown);
	tcase_add_test(w, alloc_rebuild);
	tcase_add_test(w, create_allocates);
	tcase_add_test(w, create_shared_nodeport_headless);
	tcase_add_test(w, create_errors);
	tcase_add_test(w, create_full);
	tcase_add_test(w, create_existing);
	tcase_add_test(w, update_immutable_and_patch);
	tcase_add_test(w, update_type_changes);
	tcase_add_test(w, update_failure_reverts);
	tcase_add_test(w, delete_endpoints);
	suite_add_tcase(s, a);
	suite_add_tcase(s, w);
	SRunner *r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
