/*
 * server/node/podstatus.c: a pod's status from its containers' states
 * (pure), as the kubelet builds it (pkg/kubelet/kubelet_pods.go getPhase,
 * convertToAPIContainerStatuses; pkg/kubelet/status/generate.go), and the
 * restart back-off (client-go util/flowcontrol.Backoff). See
 * api-machinery.md §7.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "server/node/node_internal.h"

/* ---- back-off ---- */

bool backoff_in(const struct backoff *b, int64_t event, int64_t now)
{
	if (!b->last || event - b->last > 2 * BACKOFF_MAX_MS)
		return false;
	return now - event < b->dur;
}

void backoff_next(struct backoff *b, int64_t event)
{
	if (!b->last || event - b->last > 2 * BACKOFF_MAX_MS)
		b->dur = BACKOFF_INITIAL_MS;
	else
		b->dur = b->dur * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : b->dur * 2;
	b->last = event;
}

void go_duration(int64_t ms, char *buf, size_t len)
{
	int64_t s = ms / 1000, h = s / 3600, m = (s / 60) % 60;
	if (h)
		snprintf(buf, len, "%lldh%lldm%llds", (long long)h, (long long)m,
			 (long long)(s % 60));
	else if (m)
		snprintf(buf, len, "%lldm%llds", (long long)m, (long long)(s % 60));
	else
		snprintf(buf, len, "%llds", (long long)s);
}

/* ---- container runs ---- */

void ctr_run_clear(struct ctr_run *r)
{
	free(r->message);
	memset(r, 0, sizeof(*r));
}

void ctr_run_copy(struct ctr_run *dst, const struct ctr_run *src)
{
	if (dst == src)
		return;
	ctr_run_clear(dst);
	*dst = *src;
	dst->message = src->message ? xstrdup(src->message) : NULL;
}

void ctr_run_set_msg(struct ctr_run *r, const char *msg)
{
	free(r->message);
	r->message = msg && *msg ? xstrdup(msg) : NULL;
}

static void add_time(cJSON *o, const char *key, int64_t t)
{
	char ts[32];
	if (!t) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	lk_rfc3339((time_t)t, ts);
	cJSON_AddStringToObject(o, key, ts);
}

static cJSON *terminated_json(const struct ctr_run *r)
{
	cJSON *t = cJSON_CreateObject();
	/* no "signal": container runtimes report 128+N in exitCode only */
	cJSON_AddNumberToObject(t, "exitCode", r->exit_code);
	cJSON_AddStringToObject(t, "reason", *r->reason ? r->reason
					   : r->exit_code ? "Error" : "Completed");
	if (r->message)
		cJSON_AddStringToObject(t, "message", r->message);
	add_time(t, "startedAt", r->started_at);
	add_time(t, "finishedAt", r->finished_at);
	if (*r->id) {
		char *id = xasprintf("labkube://%s", r->id);
		cJSON_AddStringToObject(t, "containerID", id);
		free(id);
	}
	return t;
}

static cJSON *state_json(const struct ctr_run *r, bool has_init)
{
	cJSON *st = cJSON_CreateObject(), *x;
	switch (r->state) {
	case CTR_RUNNING:
		x = cJSON_AddObjectToObject(st, "running");
		add_time(x, "startedAt", r->started_at);
		break;
	case CTR_TERMINATED:
		cJSON_AddItemToObject(st, "terminated", terminated_json(r));
		break;
	case CTR_WAITING:
		x = cJSON_AddObjectToObject(st, "waiting");
		cJSON_AddStringToObject(x, "reason", *r->reason ? r->reason
					: has_init ? "PodInitializing" : "ContainerCreating");
		if (r->message)
			cJSON_AddStringToObject(x, "message", r->message);
		break;
	}
	return st;
}

cJSON *ctr_status_json(const struct nctr *c, const cJSON *spec_ctr, bool has_init)
{
	cJSON *o = cJSON_CreateObject(), *last;
	const char *id = *c->cur.id ? c->cur.id : c->has_last ? c->last.id : "";

	cJSON_AddStringToObject(o, "name", c->name);
	cJSON_AddItemToObject(o, "state", state_json(&c->cur, has_init));
	last = cJSON_AddObjectToObject(o, "lastState");
	if (c->has_last)
		cJSON_AddItemToObject(last, "terminated", terminated_json(&c->last));
	cJSON_AddBoolToObject(o, "ready", c->ready && c->cur.state == CTR_RUNNING);
	cJSON_AddNumberToObject(o, "restartCount", c->restarts);
	cJSON_AddStringToObject(o, "image", jstr_or(spec_ctr, "image", ""));
	cJSON_AddStringToObject(o, "imageID", *id ? c->image_id : "");
	if (*id) {
		char *cid = xasprintf("labkube://%s", id);
		cJSON_AddStringToObject(o, "containerID", cid);
		free(cid);
	}
	cJSON_AddBoolToObject(o, "started", c->started && c->cur.state == CTR_RUNNING);
	return o;
}

/* ---- phase ---- */

static bool stopped_before(const struct nctr *c)
{
	return c->has_last && c->last.state == CTR_TERMINATED;
}

struct counts {
	int pending_init, failed_init;
	int running, waiting, stopped, succeeded, unknown;
	bool any_app_started;
};

static void count(const struct pod_view *v, struct counts *k)
{
	memset(k, 0, sizeof(*k));
	for (size_t i = 0; i < v->n; i++) {
		const struct nctr *c = &v->ctrs[i];
		if (c->init) {
			if (c->cur.state == CTR_RUNNING)
				k->pending_init++;
			else if (c->cur.state == CTR_TERMINATED)
				k->failed_init += c->cur.exit_code != 0;
			else if (stopped_before(c))
				k->failed_init += c->last.exit_code != 0;
			else
				k->pending_init++;
			continue;
		}
		if (*c->cur.id || c->has_last)
			k->any_app_started = true;
		if (c->cur.state == CTR_RUNNING) {
			k->running++;
		} else if (c->cur.state == CTR_TERMINATED) {
			k->stopped++;
			k->succeeded += c->cur.exit_code == 0;
		} else if (stopped_before(c)) {
			k->stopped++;
		} else {
			k->waiting++;
		}
	}
}

const char *pod_phase(const struct pod_view *v)
{
	const char *policy = jstr_or(v->pod, "spec.restartPolicy", "Always");
	struct counts k;

	count(v, &k);
	if (k.failed_init > 0 && !strcmp(policy, "Never"))
		return "Failed";
	if ((k.pending_init > 0 && !k.any_app_started) || k.waiting > 0)
		return "Pending";
	if (k.running > 0 && k.unknown == 0)
		return "Running";
	if (k.running == 0 && k.stopped > 0 && k.unknown == 0) {
		if (v->terminal)
			return k.stopped == k.succeeded ? "Succeeded" : "Failed";
		if (!strcmp(policy, "Always"))
			return "Running";
		if (k.stopped == k.succeeded)
			return "Succeeded";
		if (!strcmp(policy, "Never"))
			return "Failed";
		return "Running";
	}
	return "Pending";
}

/* ---- conditions ---- */

/* "containers with unready status: [a b]" (a Go slice). */
static void names_msg(struct strbuf *sb, const char *what, const char *const *names, size_t n)
{
	if (!n)
		return;
	if (sb->len)
		sb_adds(sb, ", ");
	sb_addf(sb, "containers with %s status: [", what);
	for (size_t i = 0; i < n; i++)
		sb_addf(sb, "%s%s", i ? " " : "", names[i]);
	sb_addc(sb, ']');
}

static cJSON *cond(const cJSON *old_status, const char *type, bool ok,
		   const char *reason, const char *msg, time_t now)
{
	cJSON *c = cJSON_CreateObject(), *o;
	const char *status = ok ? "True" : "False", *ltt = NULL;
	char ts[32];

	cJSON_ArrayForEach(o, jget(old_status, "conditions"))
		if (str_eq(jstr(o, "type"), type) && str_eq(jstr(o, "status"), status))
			ltt = jstr(o, "lastTransitionTime");
	if (!ltt) {
		lk_rfc3339(now, ts);
		ltt = ts;
	}
	cJSON_AddStringToObject(c, "type", type);
	cJSON_AddStringToObject(c, "status", status);
	cJSON_AddNullToObject(c, "lastProbeTime");
	cJSON_AddStringToObject(c, "lastTransitionTime", ltt);
	if (reason && *reason)
		cJSON_AddStringToObject(c, "reason", reason);
	if (msg && *msg)
		cJSON_AddStringToObject(c, "message", msg);
	return c;
}

static void add_init_cond(const struct pod_view *v, const char *phase, cJSON *conds)
{
	const cJSON *old = jget(v->pod, "status");
	const char **names = xcalloc(v->n + 1, sizeof(*names));
	struct strbuf msg = STRBUF_INIT;
	size_t k = 0;

	for (size_t i = 0; i < v->n; i++)
		if (v->ctrs[i].init && !(v->ctrs[i].cur.state == CTR_TERMINATED &&
					 v->ctrs[i].cur.exit_code == 0))
			names[k++] = v->ctrs[i].name;
	if (!strcmp(phase, "Succeeded") && v->ninit)
		cJSON_AddItemToArray(conds, cond(old, "Initialized", true, "PodCompleted", NULL, v->now));
	else if (k) {
		names_msg(&msg, "incomplete", names, k);
		cJSON_AddItemToArray(conds, cond(old, "Initialized", false,
						 "ContainersNotInitialized", msg.buf, v->now));
	} else
		cJSON_AddItemToArray(conds, cond(old, "Initialized", true, NULL, NULL, v->now));
	sb_release(&msg);
	free(names);
}

static void add_ready_conds(const struct pod_view *v, const char *phase, cJSON *conds)
{
	const cJSON *old = jget(v->pod, "status");
	const char **names = xcalloc(v->n + 1, sizeof(*names));
	struct strbuf msg = STRBUF_INIT;
	const char *reason = NULL;
	size_t k = 0;

	for (size_t i = 0; i < v->n; i++) {
		const struct nctr *c = &v->ctrs[i];
		if (!c->init && !(c->ready && c->cur.state == CTR_RUNNING))
			names[k++] = c->name;
	}
	if (!strcmp(phase, "Succeeded"))
		reason = "PodCompleted";
	else if (!strcmp(phase, "Failed"))
		reason = "PodFailed";
	else if (k) {
		names_msg(&msg, "unready", names, k);
		reason = "ContainersNotReady";
	}
	cJSON_AddItemToArray(conds, cond(old, "Ready", !reason, reason, msg.buf, v->now));
	cJSON_AddItemToArray(conds, cond(old, "ContainersReady", !reason, reason, msg.buf, v->now));
	sb_release(&msg);
	free(names);
}

static const char *const kubelet_conds[] = { "PodReadyToStartContainers", "Initialized",
					     "Ready", "ContainersReady", NULL };

static cJSON *conditions(const struct pod_view *v, const char *phase)
{
	cJSON *conds = cJSON_CreateArray(), *o;
	const cJSON *old = jget(v->pod, "status");

	cJSON_AddItemToArray(conds, cond(old, "PodReadyToStartContainers", v->sandbox_ready,
					 NULL, NULL, v->now));
	add_init_cond(v, phase, conds);
	add_ready_conds(v, phase, conds);
	cJSON_ArrayForEach(o, jget(old, "conditions")) {
		bool ours = false;
		for (const char *const *k = kubelet_conds; *k; k++)
			ours |= str_eq(jstr(o, "type"), *k);
		if (!ours)
			cJSON_AddItemToArray(conds, cJSON_Duplicate(o, 1));
	}
	return conds;
}

/* ---- the status ---- */

static void add_ips(cJSON *st, const char *key, const char *keys, const char *ip)
{
	cJSON *arr, *one;
	if (!ip || !*ip)
		return;
	cJSON_AddStringToObject(st, key, ip);
	arr = cJSON_AddArrayToObject(st, keys);
	one = cJSON_CreateObject();
	cJSON_AddStringToObject(one, "ip", ip);
	cJSON_AddItemToArray(arr, one);
}

static void ctr_statuses(const struct pod_view *v, cJSON *st)
{
	cJSON *init = NULL, *app = NULL;
	const char *list;
	for (size_t i = 0; i < v->n; i++) {
		const struct nctr *c = &v->ctrs[i];
		const cJSON *spec = NULL, *it;
		list = c->init ? "spec.initContainers" : "spec.containers";
		cJSON_ArrayForEach(it, jget(v->pod, list))
			if (str_eq(jstr(it, "name"), c->name))
				spec = it;
		cJSON **arr = c->init ? &init : &app;
		if (!*arr)
			*arr = cJSON_CreateArray();
		cJSON_AddItemToArray(*arr, ctr_status_json(c, spec, v->ninit > 0));
	}
	if (init)
		cJSON_AddItemToObject(st, "initContainerStatuses", init);
	if (app)
		cJSON_AddItemToObject(st, "containerStatuses", app);
}

cJSON *pod_status_build(const struct pod_view *v)
{
	cJSON *st = cJSON_CreateObject();
	const cJSON *old = jget(v->pod, "status");
	const char *phase = pod_phase(v);
	const char *old_ip = jstr(old, "podIP");

	cJSON_AddStringToObject(st, "phase", phase);
	cJSON_AddItemToObject(st, "conditions", conditions(v, phase));
	add_ips(st, "hostIP", "hostIPs", v->host_ip);
	add_ips(st, "podIP", "podIPs", v->pod_ip && *v->pod_ip ? v->pod_ip : old_ip);
	if (v->start_time)
		add_time(st, "startTime", v->start_time);
	ctr_statuses(v, st);
	if (jstr(old, "qosClass"))
		cJSON_AddStringToObject(st, "qosClass", jstr(old, "qosClass"));
	static const char *const keep[] = { "nominatedNodeName", "reason", "message" };
	for (size_t i = 0; i < ARRAY_SIZE(keep); i++)
		if (jget(old, keep[i]))
			cJSON_AddItemToObject(st, keep[i], cJSON_Duplicate(jget(old, keep[i]), 1));
	return st;
}
