/*
 * tests/unit/test_controllers_net.c: the pure cores of the endpoints,
 * endpointslice (and mirroring) and garbage collector controllers
 * (server/controllers/netctl.h), without a store; and, over a real store
 * in a temporary directory, the finalizers DELETE leaves for the garbage
 * collector (propagationPolicy, server/registry/write.c); and the service-lb
 * controller's --lb-pool (servicelb_pool_parse).
 *
 * Objects are written as JSON with single quotes (J() swaps them), shaped
 * as the API stores them.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/json.h"
#include "common/util.h"
#include "server/controllers/netctl.h"
#include "server/controllers/servicelb.h"
#include "server/registry/registry.h"
#include "server/registry/write.h"
#include "server/resources/resources.h"
#include "server/store/store.h"
#include "tests/unit/tmpcluster.h"

/* JSON with ' for ", parsed; the test frees it. */
static cJSON *J(const char *s)
{
	char *t = xstrdup(s);
	cJSON *j;
	for (char *p = t; *p; p++)
		if (*p == '\'')
			*p = '"';
	j = cJSON_Parse(t);
	ck_assert_msg(j != NULL, "bad fixture: %s", s);
	free(t);
	return j;
}

/* Compact JSON of v compared to want (single quotes). */
static void ck_json(const cJSON *v, const char *want)
{
	cJSON *w = J(want);
	char *got = jprint(v), *exp = jprint(w);
	ck_assert_msg(jequal(v, w), "\n got: %s\nwant: %s", got, exp);
	free(got);
	free(exp);
	cJSON_Delete(w);
}

#define SVC_WEB "{'metadata':{'name':'web','namespace':'default','uid':'svc-uid'," \
	"'creationTimestamp':'2024-05-01T10:00:00Z','labels':{'app':'web'}}," \
	"'spec':{'selector':{'app':'web'},'clusterIP':'10.96.0.20','ipFamilies':['IPv4']," \
	"'ports':[{'name':'http','port':80,'protocol':'TCP','targetPort':'http'}," \
	"{'name':'metrics','port':9090,'protocol':'TCP','targetPort':9090}]}}"

/* A pod: name, ip ("" = none), ready, the named port it offers ("" = none). */
static cJSON *pod(const char *name, const char *ip, bool ready, const char *port_name)
{
	cJSON *p = J("{'metadata':{'namespace':'default','labels':{'app':'web'}},"
		     "'spec':{'nodeName':'node1','containers':[{'name':'c'}]},"
		     "'status':{'phase':'Running','conditions':[{'type':'Ready',"
		     "'lastTransitionTime':'2024-05-01T10:05:00Z'}]}}");
	char uid[64];
	jset_str(p, "metadata.name", name);
	snprintf(uid, sizeof(uid), "uid-%s", name);
	jset_str(p, "metadata.uid", uid);
	if (*ip)
		jset_str(p, "status.podIP", ip);
	jset_str(cJSON_GetArrayItem(jget(p, "status.conditions"), 0), "status",
		 ready ? "True" : "False");
	if (*port_name) {
		cJSON *port = J("{'containerPort':8080,'protocol':'TCP'}");
		cJSON *c = cJSON_GetArrayItem(jget(p, "spec.containers"), 0);
		jset_str(port, "name", port_name);
		cJSON_AddItemToArray(cJSON_AddArrayToObject(c, "ports"), port);
	}
	return p;
}

/* ---- endpoints ---- */

START_TEST(endpoints_ready_and_not_ready)
{
	cJSON *svc = J(SVC_WEB);
	cJSON *p[2] = { pod("a", "10.244.0.5", true, "http"), pod("b", "10.244.0.6", false, "http") };
	cJSON *ss = endpoints_subsets(svc, (const cJSON *const *)p, 2);
	ck_json(ss, "[{'addresses':[{'ip':'10.244.0.5','nodeName':'node1','targetRef':{'kind':'Pod',"
		"'namespace':'default','name':'a','uid':'uid-a'}}],'notReadyAddresses':[{'ip':"
		"'10.244.0.6','nodeName':'node1','targetRef':{'kind':'Pod','namespace':'default',"
		"'name':'b','uid':'uid-b'}}],'ports':[{'name':'http','port':8080,'protocol':'TCP'},"
		"{'name':'metrics','port':9090,'protocol':'TCP'}]}]");
	cJSON_Delete(ss);
	/* publishNotReadyAddresses: every pod is an address. */
	jset(svc, "spec.publishNotReadyAddresses", cJSON_CreateTrue());
	ss = endpoints_subsets(svc, (const cJSON *const *)p, 2);
	ck_assert_int_eq(cJSON_GetArraySize(jget(cJSON_GetArrayItem(ss, 0), "addresses")), 2);
	ck_assert_ptr_null(jget(cJSON_GetArrayItem(ss, 0), "notReadyAddresses"));
	cJSON_Delete(ss);
	cJSON_Delete(p[0]);
	cJSON_Delete(p[1]);
	cJSON_Delete(svc);
}
END_TEST

/* Which pod updates the Endpoints and EndpointSlice controllers act on:
 * readiness, address, labels, deletion; not unrelated fields. */
START_TEST(pod_endpoint_changes)
{
	cJSON *a = pod("a", "10.244.0.5", true, "http");
	cJSON *b = cJSON_Duplicate(a, 1);
	ck_assert(pod_endpoint_changed(NULL, a));
	ck_assert(!pod_endpoint_changed(a, b));
	jset_str(b, "metadata.annotations.note", "x");
	ck_assert(!pod_endpoint_changed(a, b));
	jset_str(cJSON_GetArrayItem(jget(b, "status.conditions"), 0), "status", "False");
	ck_assert_msg(pod_endpoint_changed(a, b), "ready -> not ready is a change");
	ck_assert_msg(pod_endpoint_changed(b, a), "not ready -> ready is a change");
	cJSON_Delete(b);
	b = cJSON_Duplicate(a, 1);
	jset_str(b, "status.podIP", "10.244.0.6");
	ck_assert(pod_endpoint_changed(a, b));
	cJSON_Delete(b);
	b = cJSON_Duplicate(a, 1);
	jset_str(b, "metadata.labels.app", "other");
	ck_assert(pod_endpoint_changed(a, b));
	cJSON_Delete(b);
	b = cJSON_Duplicate(a, 1);
	jset_str(b, "metadata.deletionTimestamp", "2024-05-01T10:10:00Z");
	ck_assert(pod_endpoint_changed(a, b));
	cJSON_Delete(b);
	cJSON_Delete(a);
}
END_TEST

/* A named targetPort a pod lacks leaves that pod out of that port only:
 * the ports then have different address sets, so two subsets. */
START_TEST(endpoints_named_port_per_pod)
{
	cJSON *svc = J(SVC_WEB);
	cJSON *p[2] = { pod("a", "10.244.0.5", true, "http"), pod("b", "10.244.0.6", true, "web") };
	cJSON *ss = endpoints_subsets(svc, (const cJSON *const *)p, 2);
	ck_assert_int_eq(cJSON_GetArraySize(ss), 2);
	/* Sorted by first address: the http subset has only a (.5). */
	ck_json(jget(cJSON_GetArrayItem(ss, 0), "ports"),
		"[{'name':'http','port':8080,'protocol':'TCP'}]");
	ck_assert_int_eq(cJSON_GetArraySize(jget(cJSON_GetArrayItem(ss, 0), "addresses")), 1);
	ck_json(jget(cJSON_GetArrayItem(ss, 1), "ports"),
		"[{'name':'metrics','port':9090,'protocol':'TCP'}]");
	ck_assert_int_eq(cJSON_GetArraySize(jget(cJSON_GetArrayItem(ss, 1), "addresses")), 2);
	cJSON_Delete(ss);
	cJSON_Delete(p[0]);
	cJSON_Delete(p[1]);
	cJSON_Delete(svc);
}
END_TEST

START_TEST(endpoints_excluded_pods)
{
	cJSON *svc = J(SVC_WEB);
	cJSON *p[3] = { pod("noip", "", true, "http"), pod("done", "10.244.0.7", true, "http"),
			pod("bye", "10.244.0.8", true, "http") };
	cJSON *ss;
	jset_str(p[1], "status.phase", "Succeeded");
	jset_str(p[2], "metadata.deletionTimestamp", "2024-05-01T11:00:00Z");
	ss = endpoints_subsets(svc, (const cJSON *const *)p, 3);
	ck_json(ss, "[]");
	cJSON_Delete(ss);
	/* publishNotReadyAddresses keeps the terminating one. */
	jset(svc, "spec.publishNotReadyAddresses", cJSON_CreateTrue());
	ss = endpoints_subsets(svc, (const cJSON *const *)p, 3);
	ck_assert_str_eq(jstr(cJSON_GetArrayItem(jget(cJSON_GetArrayItem(ss, 0), "addresses"), 0), "ip"),
			 "10.244.0.8");
	cJSON_Delete(ss);
	for (int i = 0; i < 3; i++)
		cJSON_Delete(p[i]);
	cJSON_Delete(svc);
}
END_TEST

START_TEST(endpoints_headless_hostname)
{
	cJSON *svc = J("{'metadata':{'name':'db','namespace':'default'},'spec':{'clusterIP':'None',"
		       "'selector':{'app':'web'}}}");
	cJSON *p = pod("db-0", "10.244.0.9", true, "");
	cJSON *ss, *labels;
	jset_str(p, "spec.hostname", "db-0");
	jset_str(p, "spec.subdomain", "db");
	ss = endpoints_subsets(svc, (const cJSON *const *)&p, 1);
	ck_json(ss, "[{'addresses':[{'ip':'10.244.0.9','hostname':'db-0','nodeName':'node1',"
		"'targetRef':{'kind':'Pod','namespace':'default','name':'db-0','uid':'uid-db-0'}}]}]");
	labels = endpoints_labels(svc);
	ck_json(labels, "{'service.kubernetes.io/headless':''}");
	cJSON_Delete(labels);
	cJSON_Delete(ss);
	cJSON_Delete(p);
	cJSON_Delete(svc);
}
END_TEST

START_TEST(find_port_rules)
{
	cJSON *p = pod("a", "10.244.0.5", true, "http");
	cJSON *num = J("{'port':80,'targetPort':8000}");
	cJSON *named = J("{'port':80,'targetPort':'http'}");
	cJSON *udp = J("{'port':80,'protocol':'UDP','targetPort':'http'}");
	ck_assert_int_eq(pod_find_port(p, num), 8000);
	ck_assert_int_eq(pod_find_port(p, named), 8080);
	ck_assert_int_eq(pod_find_port(p, udp), 0);
	cJSON_Delete(p);
	cJSON_Delete(num);
	cJSON_Delete(named);
	cJSON_Delete(udp);
}
END_TEST

START_TEST(trigger_times)
{
	struct trigger_tracker *t = trigger_tracker_new();
	cJSON *svc = J(SVC_WEB), *p = pod("a", "10.244.0.5", true, "http");
	const cJSON *pods[1] = { p };
	/* First sync: the Service's creation. */
	ck_assert_int_eq(trigger_compute(t, "default/web", svc, pods, 1),
			 lk_parse_rfc3339("2024-05-01T10:00:00Z"));
	/* Nothing changed: no trigger. */
	ck_assert_int_eq(trigger_compute(t, "default/web", svc, pods, 1), 0);
	/* The pod's readiness moved. */
	jset_str(cJSON_GetArrayItem(jget(p, "status.conditions"), 0), "lastTransitionTime",
		 "2024-05-01T10:07:00Z");
	ck_assert_int_eq(trigger_compute(t, "default/web", svc, pods, 1),
			 lk_parse_rfc3339("2024-05-01T10:07:00Z"));
	trigger_forget(t, "default/web");
	ck_assert_int_eq(trigger_compute(t, "default/web", svc, pods, 1),
			 lk_parse_rfc3339("2024-05-01T10:00:00Z"));
	trigger_annotate(svc, 0);
	ck_assert_ptr_null(jget(svc, "metadata.annotations"));
	trigger_annotate(svc, lk_parse_rfc3339("2024-05-01T10:07:00Z"));
	ck_json(jget(svc, "metadata.annotations"),
		"{'endpoints.kubernetes.io/last-change-trigger-time':'2024-05-01T10:07:00Z'}");
	cJSON_Delete(p);
	cJSON_Delete(svc);
	trigger_tracker_free(t);
}
END_TEST

/* ---- endpointslices ---- */

START_TEST(slice_shape)
{
	cJSON *svc = J(SVC_WEB);
	cJSON *p[2] = { pod("a", "10.244.0.5", true, "http"), pod("b", "10.244.0.6", false, "http") };
	cJSON *s = endpointslice_desired(svc, (const cJSON *const *)p, 2, 100), *one;
	ck_assert_int_eq(cJSON_GetArraySize(s), 1);
	one = cJSON_GetArrayItem(s, 0);
	ck_json(jget(one, "metadata"),
		"{'generateName':'web-','namespace':'default','labels':{'app':'web',"
		"'kubernetes.io/service-name':'web','endpointslice.kubernetes.io/managed-by':"
		"'endpointslice-controller.k8s.io'},'ownerReferences':[{'apiVersion':'v1','kind':"
		"'Service','name':'web','uid':'svc-uid','controller':true,'blockOwnerDeletion':true}]}");
	ck_assert_str_eq(jstr(one, "addressType"), "IPv4");
	ck_json(jget(one, "ports"), "[{'name':'http','protocol':'TCP','port':8080},"
		"{'name':'metrics','protocol':'TCP','port':9090}]");
	ck_json(cJSON_GetArrayItem(jget(one, "endpoints"), 1),
		"{'addresses':['10.244.0.6'],'conditions':{'ready':false,'serving':false,"
		"'terminating':false},'targetRef':{'kind':'Pod','namespace':'default','name':'b',"
		"'uid':'uid-b'},'nodeName':'node1'}");
	cJSON_Delete(s);
	for (int i = 0; i < 2; i++)
		cJSON_Delete(p[i]);
	cJSON_Delete(svc);
}
END_TEST

/* Unnamed ports still carry "name": "" (kubectl 1.33 describe needs it);
 * terminating pods stay, not ready. */
START_TEST(slice_unnamed_port_and_terminating)
{
	cJSON *svc = J("{'metadata':{'name':'x','namespace':'default','uid':'u'},'spec':{"
		       "'clusterIP':'10.96.0.9','selector':{'app':'web'},'ports':[{'port':80,"
		       "'protocol':'TCP','targetPort':8080}]}}");
	cJSON *p = pod("a", "10.244.0.5", true, "");
	cJSON *s;
	jset_str(p, "metadata.deletionTimestamp", "2024-05-01T11:00:00Z");
	s = endpointslice_desired(svc, (const cJSON *const *)&p, 1, 100);
	ck_json(jget(cJSON_GetArrayItem(s, 0), "ports"), "[{'name':'','protocol':'TCP','port':8080}]");
	ck_json(jget(cJSON_GetArrayItem(jget(cJSON_GetArrayItem(s, 0), "endpoints"), 0), "conditions"),
		"{'ready':false,'serving':true,'terminating':true}");
	cJSON_Delete(s);
	cJSON_Delete(p);
	cJSON_Delete(svc);
}
END_TEST

START_TEST(slice_placeholder_and_chunks)
{
	cJSON *svc = J(SVC_WEB), *s, *p[5];
	char name[8], ip[32];
	s = endpointslice_desired(svc, NULL, 0, 100);
	ck_assert_int_eq(cJSON_GetArraySize(s), 1);
	ck_json(jget(cJSON_GetArrayItem(s, 0), "endpoints"), "[]");
	ck_assert_ptr_null(jget(cJSON_GetArrayItem(s, 0), "ports"));
	cJSON_Delete(s);
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		snprintf(ip, sizeof(ip), "10.244.0.%d", 10 + i);
		p[i] = pod(name, ip, true, "http");
	}
	s = endpointslice_desired(svc, (const cJSON *const *)p, 5, 2);
	ck_assert_int_eq(cJSON_GetArraySize(s), 3);
	ck_assert_int_eq(cJSON_GetArraySize(jget(cJSON_GetArrayItem(s, 2), "endpoints")), 1);
	cJSON_Delete(s);
	for (int i = 0; i < 5; i++)
		cJSON_Delete(p[i]);
	cJSON_Delete(svc);
}
END_TEST

START_TEST(slice_mirroring)
{
	cJSON *ep = J("{'metadata':{'name':'ext','namespace':'default','uid':'ep-uid','labels':{"
		      "'team':'a'},'annotations':{'note':'x','kubectl.kubernetes.io/last-applied-"
		      "configuration':'{}','endpoints.kubernetes.io/last-change-trigger-time':'t'}},"
		      "'subsets':[{'addresses':[{'ip':'192.0.2.50'},{'ip':'not-an-ip'}],"
		      "'notReadyAddresses':[{'ip':'192.0.2.51','nodeName':'n'}],'ports':[{'port':8080,"
		      "'protocol':'TCP'}]}]}");
	cJSON *s = endpointslice_mirror(ep, 100), *one = cJSON_GetArrayItem(s, 0);
	ck_assert_int_eq(cJSON_GetArraySize(s), 1);
	ck_json(jget(one, "metadata"),
		"{'generateName':'ext-','namespace':'default','labels':{'team':'a',"
		"'kubernetes.io/service-name':'ext','endpointslice.kubernetes.io/managed-by':"
		"'endpointslicemirroring-controller.k8s.io'},'annotations':{'note':'x'},"
		"'ownerReferences':[{'apiVersion':'v1','kind':'Endpoints','name':'ext','uid':'ep-uid',"
		"'controller':true,'blockOwnerDeletion':true}]}");
	ck_json(jget(one, "endpoints"), "[{'addresses':['192.0.2.50'],'conditions':{'ready':true}},"
		"{'addresses':['192.0.2.51'],'conditions':{'ready':false},'nodeName':'n'}]");
	ck_json(jget(one, "ports"), "[{'name':'','protocol':'TCP','port':8080}]");
	/* The same slice as stored (name, uid, rv added) says the same. */
	cJSON *have = cJSON_Duplicate(one, 1);
	jset_str(have, "metadata.name", "ext-abcde");
	jset_str(have, "metadata.resourceVersion", "12");
	ck_assert(endpointslice_same(one, have, true));
	jset_str(have, "metadata.annotations.note", "y");
	ck_assert(!endpointslice_same(one, have, true));
	ck_assert(endpointslice_same(one, have, false));
	cJSON_Delete(have);
	cJSON_Delete(s);
	jdel(ep, "subsets");
	s = endpointslice_mirror(ep, 100);
	ck_json(s, "[]");
	cJSON_Delete(s);
	cJSON_Delete(ep);
}
END_TEST

/* ---- garbage collection ---- */

#define DEP_TWO_OWNERS "{'metadata':{'name':'d','uid':'d1','ownerReferences':[" \
	"{'apiVersion':'v1','kind':'ConfigMap','name':'a','uid':'ua'}," \
	"{'apiVersion':'v1','kind':'ConfigMap','name':'b','uid':'ub'}]}}"

START_TEST(gc_plans)
{
	cJSON *dep = J(DEP_TWO_OWNERS);
	struct gc_plan plan;
	enum gc_owner_state solid[2] = { GC_OWNER_SOLID, GC_OWNER_SOLID };
	enum gc_owner_state half[2] = { GC_OWNER_SOLID, GC_OWNER_DANGLING };
	enum gc_owner_state gone[2] = { GC_OWNER_DANGLING, GC_OWNER_DANGLING };
	enum gc_owner_state wait[2] = { GC_OWNER_WAITING, GC_OWNER_DANGLING };

	gc_plan(dep, solid, false, &plan);
	ck_assert_int_eq(plan.action, GC_NOTHING);
	gc_plan(dep, half, false, &plan);
	ck_assert_int_eq(plan.action, GC_STRIP_REFS);
	ck_json(plan.refs, "[{'apiVersion':'v1','kind':'ConfigMap','name':'a','uid':'ua'}]");
	cJSON_Delete(plan.refs);
	gc_plan(dep, gone, false, &plan);
	ck_assert_int_eq(plan.action, GC_DELETE);
	ck_assert_str_eq(plan.policy, "Background");
	/* A waiting owner: foreground when the dependent has dependents. */
	gc_plan(dep, wait, true, &plan);
	ck_assert_str_eq(plan.policy, "Foreground");
	gc_plan(dep, wait, false, &plan);
	ck_assert_str_eq(plan.policy, "Background");
	/* Its own finalizers are honoured. */
	jset(dep, "metadata.finalizers", cJSON_CreateStringArray((const char *[]){ "orphan" }, 1));
	gc_plan(dep, gone, false, &plan);
	ck_assert_str_eq(plan.policy, "Orphan");
	/* Being deleted already: left alone. */
	jset_str(dep, "metadata.deletionTimestamp", "2024-05-01T11:00:00Z");
	gc_plan(dep, gone, false, &plan);
	ck_assert_int_eq(plan.action, GC_NOTHING);
	cJSON_Delete(dep);
}
END_TEST

/* ---- DELETE and the collector's finalizers (server/registry/write.c) ---- */

static struct tmpcluster C;
static struct store *st;
static struct registry *reg;

static void store_setup(void)
{
	tmpcluster_open(&C, NULL);
	st = C.st;
	reg = C.reg;
}

static void store_teardown(void)
{
	tmpcluster_close(&C);
}

/* Delete (ns default) with a policy; the stored object after, or NULL. */
static cJSON *del(const struct resource *res, const char *name, const char *policy,
		  long long grace)
{
	struct delete_opts o = { .propagation = policy, .grace = grace };
	struct lk_err err = { 0 };
	char storage[128];
	cJSON *out = NULL, *now = NULL;
	bool gone;
	ck_assert_msg(obj_delete(reg, res, "default", name, &o, &out, &gone, &err) == 0,
		      "delete %s: %s", name, err.msg);
	cJSON_Delete(out);
	store_get(st, resource_storage(res, storage), "default", name, &now, NULL);
	return now;
}

static void mkcm(const char *name)
{
	cJSON *cm = J("{'metadata':{}}");
	jset_str(cm, "metadata.name", name);
	ck_assert_int_eq(obj_create(reg, &res_configmap, "default", cm, 0, NULL), 0);
	cJSON_Delete(cm);
}

START_TEST(delete_policies_add_finalizers)
{
	cJSON *o;
	mkcm("fg");
	o = del(&res_configmap, "fg", "Foreground", -1);
	ck_assert_ptr_nonnull(o);
	ck_json(jget(o, "metadata.finalizers"), "['foregroundDeletion']");
	ck_assert_ptr_nonnull(jget(o, "metadata.deletionTimestamp"));
	ck_assert_int_eq(jint(o, "metadata.deletionGracePeriodSeconds", -1), 0);
	cJSON_Delete(o);
	/* Deleting again with Orphan switches the finalizer. */
	o = del(&res_configmap, "fg", "Orphan", -1);
	ck_json(jget(o, "metadata.finalizers"), "['orphan']");
	cJSON_Delete(o);
	/* Background drops it: the object goes. */
	o = del(&res_configmap, "fg", "Background", -1);
	ck_assert_ptr_null(o);
	/* No policy: a plain kind goes at once. */
	mkcm("plain");
	ck_assert_ptr_null(del(&res_configmap, "plain", NULL, -1));
}
END_TEST

START_TEST(delete_rc_orphans_by_default)
{
	cJSON *rc = J("{'metadata':{'name':'rc'},'spec':{'replicas':0,'selector':{'a':'b'},"
		      "'template':{'metadata':{'labels':{'a':'b'}},'spec':{'containers':"
		      "[{'name':'c','image':'nginx'}]}}}}"), *o;
	struct lk_err err = { 0 };
	ck_assert_msg(obj_create(reg, &res_replicationcontroller, "default", rc, 0, &err) == 0,
		      "%s", err.msg);
	o = del(&res_replicationcontroller, "rc", NULL, -1);
	ck_json(jget(o, "metadata.finalizers"), "['orphan']");
	cJSON_Delete(o);
	cJSON_Delete(rc);
}
END_TEST

/* A pod in its grace period stays when its last finalizer goes; a later
 * delete with grace 0 may shorten the period. */
START_TEST(delete_pod_grace_and_finalizers)
{
	cJSON *pod = J("{'metadata':{'name':'p'},'spec':{'nodeName':'n1',"
		       "'containers':[{'name':'c','image':'nginx'}]}}"), *o;
	struct lk_err err = { 0 };
	ck_assert_msg(obj_create(reg, &res_pod, "default", pod, 0, &err) == 0, "%s", err.msg);
	o = del(&res_pod, "p", "Foreground", -1);
	ck_assert_int_eq(jint(o, "metadata.deletionGracePeriodSeconds", 0), 30);
	ck_json(jget(o, "metadata.finalizers"), "['foregroundDeletion']");
	jdel(o, "metadata.finalizers");
	ck_assert_int_eq(obj_update(reg, &res_pod, "default", "p", o, 0, &err), 0);
	cJSON_Delete(o);
	o = NULL;
	ck_assert_int_eq(store_get(st, "pods", "default", "p", &o, NULL), 0);
	ck_assert_ptr_null(jget(o, "metadata.finalizers"));
	cJSON_Delete(o);
	o = del(&res_pod, "p", "Background", 0);
	ck_assert_ptr_null(o);
	cJSON_Delete(pod);
}
END_TEST

/* --lb-pool: a CIDR without its network and broadcast (below /31), a
 * FIRST-LAST range, or one address; host-order numbers. */
START_TEST(lb_pool)
{
	static const char *const bad[] = {
		"", "nonsense", "10.0.0.0/0", "10.0.0.0/33", "10.0.0.0/24x", "10.0.0.0/",
		"fd00::/120", "10.0.0.9-10.0.0.1", "10.0.0.1-", "-10.0.0.1", "10.0.0.1-fd00::1",
		"010.0.0.1",
	};
	uint32_t first, last;

	ck_assert_int_eq(servicelb_pool_parse("192.0.2.0/29", &first, &last), 0);
	ck_assert_uint_eq(first, 0xc0000201u);
	ck_assert_uint_eq(last, 0xc0000206u);
	ck_assert_int_eq(servicelb_pool_parse("192.0.2.5/29", &first, &last), 0);  /* masked */
	ck_assert_uint_eq(first, 0xc0000201u);
	ck_assert_int_eq(servicelb_pool_parse("192.0.2.4/31", &first, &last), 0);
	ck_assert_uint_eq(first, 0xc0000204u);
	ck_assert_uint_eq(last, 0xc0000205u);
	ck_assert_int_eq(servicelb_pool_parse("192.0.2.7/32", &first, &last), 0);
	ck_assert_uint_eq(first, 0xc0000207u);
	ck_assert_uint_eq(last, 0xc0000207u);
	ck_assert_int_eq(servicelb_pool_parse("192.0.2.100-192.0.2.101", &first, &last), 0);
	ck_assert_uint_eq(first, 0xc0000264u);
	ck_assert_uint_eq(last, 0xc0000265u);
	ck_assert_int_eq(servicelb_pool_parse("192.0.2.9", &first, &last), 0);
	ck_assert_uint_eq(first, 0xc0000209u);
	ck_assert_uint_eq(last, 0xc0000209u);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(servicelb_pool_parse(bad[i], &first, &last) == -1, "'%s' parsed",
			      bad[i]);
	ck_assert_int_eq(servicelb_pool_parse(NULL, &first, &last), -1);
}
END_TEST

static Suite *net_suite(void)
{
	Suite *s = suite_create("controllers_net");
	TCase *ep = tcase_create("endpoints"), *sl = tcase_create("endpointslices");
	TCase *gc = tcase_create("gc");
	TCase *del = tcase_create("delete"), *lb = tcase_create("servicelb");

	tcase_add_test(ep, endpoints_ready_and_not_ready);
	tcase_add_test(ep, pod_endpoint_changes);
	tcase_add_test(ep, endpoints_named_port_per_pod);
	tcase_add_test(ep, endpoints_excluded_pods);
	tcase_add_test(ep, endpoints_headless_hostname);
	tcase_add_test(ep, find_port_rules);
	tcase_add_test(ep, trigger_times);
	tcase_add_test(sl, slice_shape);
	tcase_add_test(sl, slice_unnamed_port_and_terminating);
	tcase_add_test(sl, slice_placeholder_and_chunks);
	tcase_add_test(sl, slice_mirroring);
	tcase_add_test(gc, gc_plans);
	suite_add_tcase(s, ep);
	suite_add_tcase(s, sl);
	suite_add_tcase(s, gc);
	tcase_add_checked_fixture(del, store_setup, store_teardown);
	tcase_add_test(del, delete_policies_add_finalizers);
	tcase_add_test(del, delete_rc_orphans_by_default);
	tcase_add_test(del, delete_pod_grace_and_finalizers);
	tcase_add_test(lb, lb_pool);
	suite_add_tcase(s, del);
	suite_add_tcase(s, lb);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(net_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
