/*
 * tests/unit/test_controllers_workload.c: the pure cores of the workload
 * controllers (server/controllers/workload.h): template hash, intstr
 * math, deployment fenceposts and plans (rolling, proportional scaling,
 * scaling events), deployment status and conditions, pod readiness and
 * deletion ranking, ReplicaSet plans and status, claiming, the
 * StatefulSet planner and the scheduler's filters and messages.
 *
 * Expected values are worked out from upstream's code (k8s
 * pkg/controller/{deployment,replicaset,statefulset}, the scheduler's
 * FitError, release-1.32); the scenarios follow upstream's unit tests
 * (rolling_test.go, sync_test.go TestScale) where they exist. No store,
 * no loop, no root.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/json.h"
#include "common/util.h"
#include "server/controllers/workload.h"

/* ---- helpers ---- */

static cJSON *J(const char *text)
{
	cJSON *v = cJSON_Parse(text);
	ck_assert_msg(v != NULL, "bad JSON in test: %s", text);
	return v;
}

static char *ts(time_t t)
{
	static char buf[8][32];
	static int i;
	i = (i + 1) % 8;
	lk_rfc3339(t, buf[i]);
	return buf[i];
}

/* A pod: node "" = unassigned; ready_since 0 = not ready. */
static cJSON *mkpod(const char *name, const char *node, const char *phase, time_t ready_since,
		    time_t created, int restarts)
{
	char *s = xasprintf(
		"{\"metadata\":{\"name\":\"%s\",\"uid\":\"uid-%s\",\"creationTimestamp\":\"%s\","
		"\"labels\":{\"app\":\"web\"}},\"spec\":{\"nodeName\":\"%s\"},"
		"\"status\":{\"phase\":\"%s\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"%s\","
		"\"lastTransitionTime\":\"%s\"}],\"containerStatuses\":[{\"name\":\"c\","
		"\"restartCount\":%d}]}}",
		name, name, ts(created), node, phase, ready_since ? "True" : "False",
		ts(ready_since ? ready_since : created), restarts);
	cJSON *p = J(s);
	free(s);
	return p;
}

static struct drs R(const char *name, time_t created, int replicas, int available,
		    int desired, int max)
{
	struct drs r = { 0 };
	r.name = name;
	r.created = created;
	r.replicas = replicas;
	r.actual = replicas;
	r.ready = available;
	r.available = available;
	r.desired = desired;
	r.max = max;
	return r;
}

static void plan_init(struct dplan *p, struct drs *rs, size_t n, long new_rs, int replicas,
		      int surge, int unavailable)
{
	memset(p, 0, sizeof(*p));
	p->rs = rs;
	p->n = n;
	p->new_rs = new_rs;
	p->replicas = replicas;
	p->rolling = true;
	p->surge = surge;
	p->unavailable = unavailable;
	p->steps = xcalloc(2 * n + 2, sizeof(*p->steps));
}

static void expect_step(const struct dplan *p, size_t k, size_t idx, int from, int to,
			const char *op)
{
	ck_assert_msg(k < p->nsteps, "step %zu missing (have %zu)", k, p->nsteps);
	ck_assert_uint_eq(p->steps[k].idx, idx);
	ck_assert_int_eq(p->steps[k].from, from);
	ck_assert_int_eq(p->steps[k].to, to);
	ck_assert_str_eq(p->steps[k].op, op);
}

/* ---- values ---- */

START_TEST(hash_format)
{
	cJSON *a = J("{\"b\":1,\"a\":{\"y\":[1,2],\"x\":\"s\"}}");
	cJSON *b = J("{\"a\":{\"x\":\"s\",\"y\":[1,2]},\"b\":1}");
	cJSON *t = J("{\"metadata\":{\"labels\":{\"app\":\"web\"}}}");
	char h1[16], h2[16], h3[16];
	long long one = 1;

	wl_hash(a, NULL, h1);
	wl_hash(b, NULL, h2);
	ck_assert_str_eq(h1, h2); /* key order does not matter */
	ck_assert_uint_ge(strlen(h1), 1);
	ck_assert_uint_le(strlen(h1), 10);
	ck_assert_uint_eq(strspn(h1, "456789bcdf"), strlen(h1));
	/* FNV-32a of the canonical text = 2190097830, digits mapped */
	wl_hash(t, NULL, h3);
	ck_assert_str_eq(h3, "65f44fcd74");
	wl_hash(t, &one, h3);
	ck_assert_str_eq(h3, "bc4bf45d7"); /* 670690183 */
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(t);
}
END_TEST

START_TEST(intstr_scaled)
{
	static const struct {
		const char *v;
		int total;
		bool up;
		int ret, want;
	} cases[] = {
		{ "\"25%\"", 2, true, 0, 1 },  { "\"25%\"", 2, false, 0, 0 },
		{ "\"25%\"", 10, true, 0, 3 }, { "\"25%\"", 10, false, 0, 2 },
		{ "\"100%\"", 3, false, 0, 3 }, { "3", 10, true, 0, 3 },
		{ "\"0%\"", 10, true, 0, 0 },  { "\"abc\"", 10, true, -1, 0 },
		{ "\"5\"", 10, true, -1, 0 },  { "null", 10, true, 0, 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		cJSON *v = J(cases[i].v);
		int out = -7;
		ck_assert_int_eq(wl_intstr_scaled(v, cases[i].total, cases[i].up, &out), cases[i].ret);
		if (cases[i].ret == 0)
			ck_assert_msg(out == cases[i].want, "%s of %d: %d, want %d", cases[i].v,
				      cases[i].total, out, cases[i].want);
		cJSON_Delete(v);
	}
}
END_TEST

START_TEST(fenceposts)
{
	static const struct {
		int replicas;
		const char *surge, *unav, *type;
		int want_surge, want_unav;
	} cases[] = {
		{ 2, "\"25%\"", "\"25%\"", "RollingUpdate", 1, 0 },
		{ 4, "\"25%\"", "\"25%\"", "RollingUpdate", 1, 1 },
		{ 10, "\"25%\"", "\"25%\"", "RollingUpdate", 3, 2 },
		{ 3, "0", "0", "RollingUpdate", 0, 1 },      /* both 0: unavailable 1 */
		{ 0, "\"25%\"", "\"25%\"", "RollingUpdate", 0, 0 },
		{ 3, "1", "5", "RollingUpdate", 1, 3 },      /* clamped to replicas */
		{ 3, "1", "1", "Recreate", 0, 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *s = xasprintf("{\"spec\":{\"replicas\":%d,\"strategy\":{\"type\":\"%s\","
				    "\"rollingUpdate\":{\"maxSurge\":%s,\"maxUnavailable\":%s}}}}",
				    cases[i].replicas, cases[i].type, cases[i].surge, cases[i].unav);
		cJSON *d = J(s);
		int surge, unav;
		deploy_fenceposts(d, &surge, &unav);
		ck_assert_msg(surge == cases[i].want_surge && unav == cases[i].want_unav,
			      "case %zu: surge %d unavailable %d", i, surge, unav);
		cJSON_Delete(d);
		free(s);
	}
}
END_TEST

/* ---- deployment plans ---- */

/* rolling_test.go TestDeploymentController_reconcileNewReplicaSet. */
START_TEST(rolling_new_rs)
{
	static const struct {
		int replicas, surge, old, new, want; /* want -1: no scaling */
	} cases[] = {
		{ 10, 0, 10, 0, -1 }, { 10, 2, 10, 0, 2 }, { 10, 2, 5, 0, 7 },
		{ 10, 2, 10, 2, -1 }, { 2, 0, 2, 4, 2 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct drs rs[2] = { R("old", 100, cases[i].old, cases[i].old, cases[i].replicas, -1),
				     R("new", 200, cases[i].new, 0, cases[i].replicas, -1) };
		struct dplan p;
		plan_init(&p, rs, 2, 1, cases[i].replicas, cases[i].surge, cases[i].surge ? 0 : 1);
		/* only the new RS's part: old ones have nothing to give yet */
		rs[0].available = 0;
		deploy_plan_rolling(&p);
		if (cases[i].want < 0) {
			ck_assert_msg(p.nsteps == 0 || p.steps[0].idx == 0, "case %zu scaled new RS", i);
		} else {
			ck_assert_msg(p.nsteps >= 1, "case %zu: no step", i);
			expect_step(&p, 0, 1, cases[i].new, cases[i].want,
				    cases[i].want > cases[i].new ? "up" : "down");
		}
		free(p.steps);
	}
}
END_TEST

START_TEST(rolling_old_rs)
{
	struct dplan p;
	/* 3 replicas, surge 1, unavailable 0: the new RS is up and available, so
	 * one old pod may go. */
	struct drs a[2] = { R("old", 100, 3, 3, 3, 4), R("new", 200, 1, 1, 3, 4) };
	plan_init(&p, a, 2, 1, 3, 1, 0);
	deploy_plan_rolling(&p);
	ck_assert_uint_eq(p.nsteps, 1);
	expect_step(&p, 0, 0, 3, 2, "down");
	free(p.steps);

	/* The new pod is not available yet: nothing moves. */
	struct drs b[2] = { R("old", 100, 3, 3, 3, 4), R("new", 200, 1, 0, 3, 4) };
	plan_init(&p, b, 2, 1, 3, 1, 0);
	deploy_plan_rolling(&p);
	ck_assert_uint_eq(p.nsteps, 0);
	free(p.steps);

	/* Unhealthy old replicas are cleaned up first. */
	struct drs c[2] = { R("old", 100, 3, 1, 3, 4), R("new", 200, 1, 1, 3, 4) };
	plan_init(&p, c, 2, 1, 3, 1, 0);
	deploy_plan_rolling(&p);
	ck_assert_uint_eq(p.nsteps, 1);
	expect_step(&p, 0, 0, 3, 2, "down");
	free(p.steps);

	/* A fresh rollout of 2 with the defaults (surge 1, unavailable 0). */
	struct drs d[2] = { R("old", 100, 2, 2, 2, 3), R("new", 200, 0, 0, 2, 3) };
	plan_init(&p, d, 2, 1, 2, 1, 0);
	deploy_plan_rolling(&p);
	ck_assert_uint_eq(p.nsteps, 1);
	expect_step(&p, 0, 1, 0, 1, "up");
	ck_assert_int_eq(deploy_new_replicas(&p, 1), 1); /* 3 pods = 2 + surge */
	free(p.steps);
}
END_TEST

/* sync_test.go TestScale: proportional scaling. */
START_TEST(proportional_scaling)
{
	struct dplan p;
	struct drs up[2] = { R("foo-v1", 100, 3, 3, 5, 5), R("foo-v2", 200, 2, 2, 5, 5) };
	plan_init(&p, up, 2, 1, 10, 0, 1);
	ck_assert(deploy_scaling_event(&p));
	deploy_plan_scale(&p);
	ck_assert_uint_eq(p.nsteps, 2);
	expect_step(&p, 0, 0, 3, 6, "up");
	expect_step(&p, 1, 1, 2, 4, "up");
	free(p.steps);

	struct drs down[2] = { R("foo-v1", 100, 3, 3, 5, 5), R("foo-v2", 200, 2, 2, 5, 5) };
	plan_init(&p, down, 2, 1, 3, 0, 1);
	deploy_plan_scale(&p);
	ck_assert_uint_eq(p.nsteps, 2);
	expect_step(&p, 0, 0, 3, 2, "down");
	expect_step(&p, 1, 1, 2, 1, "down");
	free(p.steps);

	/* One active RS takes the whole count. */
	struct drs one[2] = { R("foo-v1", 100, 0, 0, 2, 3), R("foo-v2", 200, 2, 2, 2, 3) };
	plan_init(&p, one, 2, 1, 5, 2, 1);
	deploy_plan_scale(&p);
	ck_assert_uint_eq(p.nsteps, 1);
	expect_step(&p, 0, 1, 2, 5, "up");
	free(p.steps);

	/* ... and the lower count too (kubectl scale --replicas=1). */
	struct drs one_down[2] = { R("foo-v1", 100, 0, 0, 2, 3), R("foo-v2", 200, 5, 5, 5, 6) };
	plan_init(&p, one_down, 2, 1, 1, 1, 0);
	ck_assert(deploy_scaling_event(&p));
	deploy_plan_scale(&p);
	ck_assert_uint_eq(p.nsteps, 1);
	expect_step(&p, 0, 1, 5, 1, "down");
	free(p.steps);

	/* Saturated new RS: the old ones go to 0. */
	struct drs sat[2] = { R("foo-v1", 100, 1, 1, 2, 3), R("foo-v2", 200, 3, 3, 3, 4) };
	plan_init(&p, sat, 2, 1, 3, 1, 0);
	deploy_plan_scale(&p);
	ck_assert_uint_eq(p.nsteps, 1);
	expect_step(&p, 0, 0, 1, 0, "down");
	free(p.steps);
}
END_TEST

START_TEST(scaling_event)
{
	struct dplan p;
	struct drs rs[2] = { R("a", 100, 0, 0, 7, 8), R("b", 200, 2, 0, 2, 3) };
	plan_init(&p, rs, 2, 1, 2, 1, 0);
	ck_assert(!deploy_scaling_event(&p)); /* the 0-replica RS does not count */
	p.replicas = 5;
	ck_assert(deploy_scaling_event(&p));
	rs[1].desired = -1; /* no annotation: not a scaling event */
	ck_assert(!deploy_scaling_event(&p));
	free(p.steps);
}
END_TEST

START_TEST(recreate_plan)
{
	struct dplan p;
	struct drs rs[2] = { R("a", 100, 2, 2, 2, 2), R("b", 200, 0, 0, 2, 2) };
	plan_init(&p, rs, 2, 1, 2, 0, 0);
	p.rolling = false;
	ck_assert(deploy_plan_recreate_down(&p));
	expect_step(&p, 0, 0, 2, 0, "down");
	ck_assert_int_eq(deploy_new_replicas(&p, 0), 2);
	ck_assert(!deploy_plan_recreate_down(&p));
	free(p.steps);
}
END_TEST

/* ---- deployment status ---- */

static const cJSON *cond_at(const cJSON *st, int i)
{
	return cJSON_GetArrayItem(jget(st, "conditions"), i);
}

START_TEST(status_rollout)
{
	time_t now = time(NULL);
	cJSON *d = J("{\"metadata\":{\"name\":\"web\",\"generation\":1},\"spec\":{\"replicas\":2,"
		     "\"progressDeadlineSeconds\":600},\"status\":{}}");
	struct drs rs[1] = { R("web-abc", 100, 2, 0, 2, 3) };
	int spec0[1] = { 2 };
	int64_t requeue;
	struct dplan p;
	cJSON *st;

	rs[0].ready = 0;
	plan_init(&p, rs, 1, 0, 2, 1, 0);
	st = deploy_status(d, &p, spec0, true, now, &requeue);
	ck_assert_int_eq(jint(st, "observedGeneration", 0), 1);
	ck_assert_int_eq(jint(st, "replicas", 0), 2);
	ck_assert_int_eq(jint(st, "updatedReplicas", 0), 2);
	ck_assert_int_eq(jint(st, "unavailableReplicas", 0), 2);
	ck_assert_ptr_null(jget(st, "availableReplicas")); /* omitempty */
	ck_assert_str_eq(jstr(cond_at(st, 0), "type"), "Available");
	ck_assert_str_eq(jstr(cond_at(st, 0), "status"), "False");
	ck_assert_str_eq(jstr(cond_at(st, 0), "reason"), "MinimumReplicasUnavailable");
	ck_assert_str_eq(jstr(cond_at(st, 0), "message"),
			 "Deployment does not have minimum availability.");
	ck_assert_str_eq(jstr(cond_at(st, 1), "type"), "Progressing");
	ck_assert_str_eq(jstr(cond_at(st, 1), "reason"), "ReplicaSetUpdated");
	ck_assert_str_eq(jstr(cond_at(st, 1), "message"), "ReplicaSet \"web-abc\" is progressing.");
	ck_assert_int_eq(requeue, -1); /* no Progressing condition to time yet */

	/* No progress since: look again when the deadline passes. */
	jset(d, "status", st);
	st = deploy_status(d, &p, spec0, true, now, &requeue);
	ck_assert(jequal(st, jget(d, "status")));
	ck_assert_int_ge(requeue, 600000);
	ck_assert_int_le(requeue, 601000);
	cJSON_Delete(st);

	/* The pods become available: complete, order Available, Progressing. */
	rs[0].ready = rs[0].available = 2;
	st = deploy_status(d, &p, spec0, true, now, &requeue);
	ck_assert_str_eq(jstr(cond_at(st, 0), "type"), "Available");
	ck_assert_str_eq(jstr(cond_at(st, 0), "reason"), "MinimumReplicasAvailable");
	ck_assert_str_eq(jstr(cond_at(st, 0), "message"), "Deployment has minimum availability.");
	ck_assert_str_eq(jstr(cond_at(st, 1), "reason"), "NewReplicaSetAvailable");
	ck_assert_str_eq(jstr(cond_at(st, 1), "message"),
			 "ReplicaSet \"web-abc\" has successfully progressed.");
	ck_assert_int_eq(requeue, -1);
	ck_assert_ptr_null(jget(st, "unavailableReplicas"));
	cJSON_Delete(st);
	free(p.steps);
	cJSON_Delete(d);
}
END_TEST

START_TEST(status_deadline)
{
	time_t now = time(NULL);
	char *s = xasprintf("{\"metadata\":{\"name\":\"web\",\"generation\":1},\"spec\":{\"replicas\":2,"
			    "\"progressDeadlineSeconds\":600},\"status\":{\"observedGeneration\":1,"
			    "\"replicas\":2,\"updatedReplicas\":2,\"unavailableReplicas\":2,"
			    "\"conditions\":[{\"type\":\"Progressing\",\"status\":\"True\","
			    "\"lastUpdateTime\":\"%s\",\"lastTransitionTime\":\"%s\","
			    "\"reason\":\"ReplicaSetUpdated\",\"message\":\"x\"}]}}",
			    ts(now - 700), ts(now - 700));
	cJSON *d = J(s), *st;
	struct drs rs[1] = { R("web-abc", 100, 2, 0, 2, 3) };
	int spec0[1] = { 2 };
	int64_t requeue;
	struct dplan p;

	plan_init(&p, rs, 1, 0, 2, 1, 0);
	st = deploy_status(d, &p, spec0, true, now, &requeue);
	ck_assert_str_eq(jstr(cond_at(st, 1), "type"), "Progressing");
	ck_assert_str_eq(jstr(cond_at(st, 1), "status"), "False");
	ck_assert_str_eq(jstr(cond_at(st, 1), "reason"), "ProgressDeadlineExceeded");
	ck_assert_str_eq(jstr(cond_at(st, 1), "message"),
			 "ReplicaSet \"web-abc\" has timed out progressing.");
	/* Without a new RS the messages name the deployment. */
	p.new_rs = -1;
	cJSON_Delete(st);
	st = deploy_status(d, &p, spec0, true, now, &requeue);
	ck_assert_str_eq(jstr(cond_at(st, 1), "message"),
			 "Deployment \"web\" has timed out progressing.");
	cJSON_Delete(st);
	free(p.steps);
	cJSON_Delete(d);
	free(s);
}
END_TEST

START_TEST(condition_set)
{
	cJSON *st = cJSON_CreateObject();
	wl_cond_set(st, wl_cond_new("Available", "False", "A", "m", 1000, true));
	wl_cond_set(st, wl_cond_new("Progressing", "True", "P", "m", 1000, true));
	/* same status and reason: untouched */
	wl_cond_set(st, wl_cond_new("Available", "False", "A", "m2", 2000, true));
	ck_assert_str_eq(jstr(cond_at(st, 0), "message"), "m");
	/* same status, new reason: transition time kept, appended last */
	wl_cond_set(st, wl_cond_new("Available", "False", "B", "m3", 3000, true));
	ck_assert_str_eq(jstr(cond_at(st, 0), "type"), "Progressing");
	ck_assert_str_eq(jstr(cond_at(st, 1), "reason"), "B");
	ck_assert_str_eq(jstr(cond_at(st, 1), "lastTransitionTime"), ts(1000));
	ck_assert_str_eq(jstr(cond_at(st, 1), "lastUpdateTime"), ts(3000));
	/* new status: new transition time */
	wl_cond_set(st, wl_cond_new("Available", "True", "C", "m4", 4000, true));
	ck_assert_str_eq(jstr(cond_at(st, 1), "lastTransitionTime"), ts(4000));
	wl_cond_remove(st, "Available");
	wl_cond_remove(st, "Progressing");
	ck_assert_ptr_null(jget(st, "conditions"));
	cJSON_Delete(st);
}
END_TEST

/* ---- pods ---- */

START_TEST(pod_readiness)
{
	time_t now = 100000;
	cJSON *ready = mkpod("a", "n", "Running", now - 11, now - 100, 0);
	cJSON *young = mkpod("b", "n", "Running", now - 5, now - 100, 0);
	cJSON *not = mkpod("c", "n", "Running", 0, now - 100, 0);

	ck_assert(wl_pod_ready(ready));
	ck_assert(!wl_pod_ready(not));
	ck_assert(wl_pod_available(ready, 0, now));
	ck_assert(wl_pod_available(ready, 10, now));
	ck_assert(!wl_pod_available(young, 10, now));
	ck_assert(wl_pod_available(young, 0, now));
	ck_assert(!wl_pod_available(not, 0, now));
	ck_assert_int_eq(wl_pod_available_at(young, 10), now + 5);
	ck_assert(wl_pod_active(ready));
	jset_str(ready, "status.phase", "Succeeded");
	ck_assert(!wl_pod_active(ready));
	jset_str(young, "metadata.deletionTimestamp", ts(now));
	ck_assert(!wl_pod_active(young));
	cJSON_Delete(ready);
	cJSON_Delete(young);
	cJSON_Delete(not);
}
END_TEST

START_TEST(pod_rank)
{
	time_t now = 1700000000;
	cJSON *old_ready = mkpod("old-ready", "n", "Running", now - 5000, now - 100000, 0);
	cJSON *unready = mkpod("unready", "n", "Running", 0, now - 100000, 0);
	cJSON *pending = mkpod("pending", "n", "Pending", 0, now - 100000, 0);
	cJSON *unassigned = mkpod("unassigned", "", "Pending", 0, now - 100000, 0);
	cJSON *new_ready = mkpod("new-ready", "n", "Running", now - 2, now - 3, 0);
	cJSON *crashy = mkpod("crashy", "n", "Running", 0, now - 100000, 5);
	const cJSON *pods[] = { old_ready, unready, pending, unassigned, new_ready, crashy };
	static const char *const want[] = { "unassigned", "pending", "crashy", "unready",
					     "new-ready", "old-ready" };
	struct rs_plan plan;

	wl_pods_rank(pods, ARRAY_SIZE(pods), now);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		ck_assert_str_eq(jstr(pods[i], "metadata.name"), want[i]);
	rs_plan(4, pods, ARRAY_SIZE(pods), now, &plan);
	ck_assert_uint_eq(plan.create, 0);
	ck_assert_uint_eq(plan.nremove, 2);
	ck_assert_str_eq(jstr(plan.remove[0], "metadata.name"), "unassigned");
	ck_assert_str_eq(jstr(plan.remove[1], "metadata.name"), "pending");
	rs_plan(9, pods, ARRAY_SIZE(pods), now, &plan);
	ck_assert_uint_eq(plan.create, 3);
	ck_assert_uint_eq(plan.nremove, 0);
	rs_plan(800, pods, 0, now, &plan);
	ck_assert_uint_eq(plan.create, WL_BURST);
	for (size_t i = 0; i < ARRAY_SIZE(pods); i++)
		cJSON_Delete((cJSON *)pods[i]);
}
END_TEST

START_TEST(replicaset_status)
{
	time_t now = time(NULL);
	cJSON *rs = J("{\"metadata\":{\"generation\":3},\"spec\":{\"replicas\":5,"
		      "\"minReadySeconds\":10,\"template\":{\"metadata\":{\"labels\":"
		      "{\"app\":\"web\",\"tier\":\"x\"}}}},\"status\":{\"replicas\":0}}");
	cJSON *p[4] = { mkpod("a", "n", "Running", now - 100, now - 200, 0),
			mkpod("b", "n", "Running", now - 5, now - 200, 0),
			mkpod("c", "n", "Running", 0, now - 200, 0),
			mkpod("d", "n", "Pending", 0, now - 200, 0) };
	cJSON *st;

	for (int i = 0; i < 3; i++)
		jset_str(jget(p[i], "metadata.labels"), "tier", "x");
	st = rs_status(rs, (const cJSON *const *)p, 4, NULL, now);
	ck_assert_int_eq(jint(st, "replicas", -1), 4);
	ck_assert_int_eq(jint(st, "fullyLabeledReplicas", -1), 3);
	ck_assert_int_eq(jint(st, "readyReplicas", -1), 2);
	ck_assert_int_eq(jint(st, "availableReplicas", -1), 1);
	ck_assert_int_eq(jint(st, "observedGeneration", -1), 3);
	ck_assert_ptr_null(jget(st, "conditions"));
	cJSON_Delete(st);
	st = rs_status(rs, (const cJSON *const *)p, 4, "pods \"x\" is forbidden", now);
	ck_assert_str_eq(jstr(cond_at(st, 0), "type"), "ReplicaFailure");
	ck_assert_str_eq(jstr(cond_at(st, 0), "reason"), "FailedCreate");
	ck_assert_str_eq(jstr(cond_at(st, 0), "message"), "pods \"x\" is forbidden");
	cJSON_Delete(st);
	st = rs_status(rs, (const cJSON *const *)p, 0, NULL, now);
	ck_assert_int_eq(jint(st, "replicas", -1), 0); /* replicas is never omitted */
	ck_assert_ptr_null(jget(st, "readyReplicas"));
	cJSON_Delete(st);
	for (int i = 0; i < 4; i++)
		cJSON_Delete(p[i]);
	cJSON_Delete(rs);
}
END_TEST

START_TEST(claiming)
{
	cJSON *owner = J("{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":"
			 "{\"name\":\"rs\",\"namespace\":\"ns\",\"uid\":\"u1\"}}");
	cJSON *mine = J("{\"metadata\":{\"namespace\":\"ns\",\"ownerReferences\":[{\"uid\":\"u1\","
			"\"controller\":true}]}}");
	cJSON *other = J("{\"metadata\":{\"namespace\":\"ns\",\"ownerReferences\":[{\"uid\":\"u2\","
			 "\"controller\":true}]}}");
	cJSON *orphan = J("{\"metadata\":{\"namespace\":\"ns\",\"ownerReferences\":[{\"uid\":\"u3\"}]}}");
	cJSON *ref = wl_owner_ref(owner);

	ck_assert_int_eq(wl_claim(owner, mine, true), WL_MINE);
	ck_assert_int_eq(wl_claim(owner, mine, false), WL_RELEASE);
	ck_assert_int_eq(wl_claim(owner, other, true), WL_SKIP);
	ck_assert_int_eq(wl_claim(owner, orphan, true), WL_ADOPT);
	ck_assert_int_eq(wl_claim(owner, orphan, false), WL_SKIP);
	jset_str(owner, "metadata.deletionTimestamp", "2024-01-01T00:00:00Z");
	ck_assert_int_eq(wl_claim(owner, orphan, true), WL_SKIP);
	ck_assert_int_eq(wl_claim(owner, mine, false), WL_MINE);
	ck_assert_str_eq(jstr(ref, "apiVersion"), "apps/v1");
	ck_assert_str_eq(jstr(ref, "kind"), "ReplicaSet");
	ck_assert(jbool(ref, "controller", false) && jbool(ref, "blockOwnerDeletion", false));
	cJSON_Delete(ref);
	cJSON_Delete(owner);
	cJSON_Delete(mine);
	cJSON_Delete(other);
	cJSON_Delete(orphan);
}
END_TEST

START_TEST(pod_from_template)
{
	cJSON *owner = J("{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":"
			 "{\"name\":\"rs\",\"uid\":\"u1\"}}");
	cJSON *tmpl = J("{\"metadata\":{\"labels\":{\"app\":\"web\"},\"annotations\":{\"a\":\"b\"}},"
			"\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}");
	cJSON *pod = wl_pod_from_template(tmpl, owner), *data;

	ck_assert_str_eq(jstr(pod, "metadata.labels.app"), "web");
	ck_assert_str_eq(jstr(pod, "metadata.annotations.a"), "b");
	ck_assert_str_eq(jstr(cJSON_GetArrayItem(jget(pod, "metadata.ownerReferences"), 0), "uid"), "u1");
	ck_assert(jequal(jget(pod, "spec"), jget(tmpl, "spec")));
	ck_assert_ptr_null(jget(pod, "metadata.name"));
	cJSON_Delete(pod);
	jset(owner, "spec.template", cJSON_Duplicate(tmpl, 1));
	data = wl_revision_data(owner);
	ck_assert_str_eq(jstr(data, "spec.template.$patch"), "replace");
	ck_assert_str_eq(jstr(data, "spec.template.metadata.labels.app"), "web");
	cJSON_Delete(data);
	cJSON_Delete(tmpl);
	cJSON_Delete(owner);
}
END_TEST

/* ---- StatefulSet ---- */

static cJSON *stspod(const char *name, const char *rev, bool healthy)
{
	cJSON *p = mkpod(name, "n", healthy ? "Running" : "Pending", healthy ? 1000 : 0, 900, 0);
	wl_map_set(jget(p, "metadata.labels"), "controller-revision-hash", rev);
	return p;
}

START_TEST(statefulset_plan)
{
	struct sts_step st[8];
	cJSON *p0 = stspod("web-0", "r1", true), *p1 = stspod("web-1", "r1", true);
	cJSON *p2 = stspod("web-2", "r1", true), *pend = stspod("web-1", "r1", false);
	const cJSON *none[3] = { NULL, NULL, NULL };
	const cJSON *first[3] = { p0, NULL, NULL };
	const cJSON *waiting[3] = { p0, pend, NULL };
	const cJSON *two[2] = { p0, p1 };
	const cJSON *extra[2] = { p2, p1 };
	size_t n;

	n = sts_plan(none, 3, 0, NULL, 0, false, "r1", 0, st, 8);
	ck_assert_uint_eq(n, 1);
	ck_assert(st[0].act == STS_CREATE && st[0].ordinal == 0);
	n = sts_plan(first, 3, 0, NULL, 0, false, "r1", 0, st, 8);
	ck_assert(n == 1 && st[0].act == STS_CREATE && st[0].ordinal == 1);
	n = sts_plan(waiting, 3, 0, NULL, 0, false, "r1", 0, st, 8);
	ck_assert(n == 1 && st[0].act == STS_WAIT && st[0].ordinal == 1);
	n = sts_plan(none, 3, 0, NULL, 0, true, "r1", 0, st, 8);
	ck_assert_uint_eq(n, 3);
	ck_assert(st[2].act == STS_CREATE && st[2].ordinal == 2);
	n = sts_plan(first, 3, 5, NULL, 0, true, "r1", 0, st, 8); /* ordinals.start 5 */
	ck_assert(n == 2 && st[0].ordinal == 6 && st[1].ordinal == 7);
	/* scale 3 → 1: the highest ordinal goes first, one at a time */
	n = sts_plan(first, 1, 0, extra, 2, false, "r1", 0, st, 8);
	ck_assert(n == 1 && st[0].act == STS_DELETE && st[0].pod == p2);
	n = sts_plan(first, 1, 0, extra, 2, true, "r1", 0, st, 8);
	ck_assert(n == 2 && st[0].pod == p2 && st[1].pod == p1);
	/* rolling update: the highest ordinal of another revision goes */
	n = sts_plan(two, 2, 0, NULL, 0, false, "r2", 0, st, 8);
	ck_assert(n == 1 && st[0].act == STS_DELETE && st[0].pod == p1);
	n = sts_plan(two, 2, 0, NULL, 0, false, "r2", 2, st, 8); /* partition 2 */
	ck_assert_uint_eq(n, 0);
	n = sts_plan(two, 2, 0, NULL, 0, false, "r2", -1, st, 8); /* OnDelete */
	ck_assert_uint_eq(n, 0);
	/* a failed pod is deleted to be made again */
	jset_str(p1, "status.phase", "Failed");
	n = sts_plan(two, 2, 0, NULL, 0, false, "r1", 0, st, 8);
	ck_assert(n == 1 && st[0].act == STS_DELETE && st[0].pod == p1);
	ck_assert(sts_pod_healthy(p0) && !sts_pod_healthy(pend) && !sts_pod_healthy(NULL));
	cJSON_Delete(p0);
	cJSON_Delete(p1);
	cJSON_Delete(p2);
	cJSON_Delete(pend);
}
END_TEST

/* ---- scheduling ---- */

START_TEST(scheduler_filters)
{
	cJSON *node = sched_default_node("n1");
	cJSON *plain = J("{}");
	cJSON *ssd = J("{\"nodeSelector\":{\"disk\":\"ssd\"}}");
	cJSON *aff = J("{\"affinity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuring"
		       "Execution\":{\"nodeSelectorTerms\":[{\"matchExpressions\":[{\"key\":"
		       "\"kubernetes.io/os\",\"operator\":\"In\",\"values\":[\"windows\"]}]},"
		       "{\"matchFields\":[{\"key\":\"metadata.name\",\"operator\":\"In\","
		       "\"values\":[\"n1\"]}]}]}}}}");
	cJSON *tol = J("{\"tolerations\":[{\"key\":\"dedicated\",\"operator\":\"Exists\"}]}");
	cJSON *tol_cordon = J("{\"tolerations\":[{\"key\":\"node.kubernetes.io/unschedulable\","
			      "\"operator\":\"Exists\",\"effect\":\"NoSchedule\"}]}");
	char buf[256];

	ck_assert_str_eq(wl_map_get(jget(node, "metadata.labels"), "kubernetes.io/hostname"), "n1");
	ck_assert_str_eq(wl_map_get(jget(node, "metadata.labels"), "kubernetes.io/os"), "linux");
	ck_assert_ptr_null(sched_fit(plain, node, buf, sizeof(buf)));
	ck_assert_str_eq(sched_fit(ssd, node, buf, sizeof(buf)),
			 "node(s) didn't match Pod's node affinity/selector");
	ck_assert_ptr_null(sched_fit(aff, node, buf, sizeof(buf))); /* second term matches */
	wl_map_set(jget(node, "metadata.labels"), "disk", "ssd");
	ck_assert_ptr_null(sched_fit(ssd, node, buf, sizeof(buf)));
	jset(node, "spec.taints", J("[{\"key\":\"dedicated\",\"value\":\"db\",\"effect\":"
				    "\"NoSchedule\"},{\"key\":\"soft\",\"effect\":\"PreferNoSchedule\"}]"));
	ck_assert_str_eq(sched_fit(plain, node, buf, sizeof(buf)),
			 "node(s) had untolerated taint {dedicated: db}");
	ck_assert_ptr_null(sched_fit(tol, node, buf, sizeof(buf)));
	jdel(node, "spec.taints");
	jset(node, "spec.unschedulable", cJSON_CreateTrue());
	ck_assert_str_eq(sched_fit(plain, node, buf, sizeof(buf)), "node(s) were unschedulable");
	ck_assert_ptr_null(sched_fit(tol_cordon, node, buf, sizeof(buf)));
	cJSON_Delete(node);
	cJSON_Delete(plain);
	cJSON_Delete(ssd);
	cJSON_Delete(aff);
	cJSON_Delete(tol);
	cJSON_Delete(tol_cordon);
}
END_TEST

START_TEST(scheduler_message)
{
	const char *one[] = { "node(s) didn't match Pod's node affinity/selector" };
	const char *three[] = { "node(s) were unschedulable",
				"node(s) didn't match Pod's node affinity/selector",
				"node(s) didn't match Pod's node affinity/selector" };
	char *m = sched_fit_error(one, 1);
	ck_assert_str_eq(m, "0/1 nodes are available: 1 node(s) didn't match Pod's node "
			 "affinity/selector. preemption: 0/1 nodes are available: 1 Preemption "
			 "is not helpful for scheduling.");
	free(m);
	m = sched_fit_error(three, 3);
	ck_assert_str_eq(m, "0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) "
			 "didn't match Pod's node affinity/selector. preemption: 0/3 nodes are "
			 "available: 3 Preemption is not helpful for scheduling.");
	free(m);
}
END_TEST

START_TEST(tolerations)
{
	cJSON *taint = J("{\"key\":\"k\",\"value\":\"v\",\"effect\":\"NoSchedule\"}");
	static const struct {
		const char *tol;
		bool ok;
	} cases[] = {
		{ "[]", false },
		{ "[{\"key\":\"k\",\"value\":\"v\"}]", true },
		{ "[{\"key\":\"k\",\"operator\":\"Equal\",\"value\":\"w\"}]", false },
		{ "[{\"key\":\"k\",\"operator\":\"Exists\",\"effect\":\"NoExecute\"}]", false },
		{ "[{\"operator\":\"Exists\"}]", true },
		{ "[{\"key\":\"other\",\"operator\":\"Exists\"}]", false },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		cJSON *t = J(cases[i].tol);
		ck_assert_msg(sched_tolerates(t, taint) == cases[i].ok, "case %zu", i);
		cJSON_Delete(t);
	}
	cJSON_Delete(taint);
}
END_TEST

static Suite *workload_suite(void)
{
	Suite *s = suite_create("controllers_workload");
	TCase *tv = tcase_create("values"), *td = tcase_create("deployment");
	TCase *tp = tcase_create("pods"), *ts_ = tcase_create("statefulset");
	TCase *tsch = tcase_create("scheduler");

	tcase_add_test(tv, hash_format);
	tcase_add_test(tv, intstr_scaled);
	tcase_add_test(tv, fenceposts);
	tcase_add_test(tv, condition_set);
	tcase_add_test(td, rolling_new_rs);
	tcase_add_test(td, rolling_old_rs);
	tcase_add_test(td, proportional_scaling);
	tcase_add_test(td, scaling_event);
	tcase_add_test(td, recreate_plan);
	tcase_add_test(td, status_rollout);
	tcase_add_test(td, status_deadline);
	tcase_add_test(tp, pod_readiness);
	tcase_add_test(tp, pod_rank);
	tcase_add_test(tp, replicaset_status);
	tcase_add_test(tp, claiming);
	tcase_add_test(tp, pod_from_template);
	tcase_add_test(ts_, statefulset_plan);
	tcase_add_test(tsch, scheduler_filters);
	tcase_add_test(tsch, scheduler_message);
	tcase_add_test(tsch, tolerations);
	suite_add_tcase(s, tv);
	suite_add_tcase(s, td);
	suite_add_tcase(s, tp);
	suite_add_tcase(s, ts_);
	suite_add_tcase(s, tsch);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(workload_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
