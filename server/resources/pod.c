/*
 * server/resources/pod.c: core/v1 Pod.
 *
 * Printer: printPod of k8s pkg/printers/internalversion (release-1.32): the
 * READY/STATUS/RESTARTS algorithm with init containers, restartable
 * (sidecar) init containers, CrashLoopBackOff, Completed/NotReady and
 * Terminating (not for Succeeded/Failed pods, 1.31+). Defaults: PodSpec's
 * plus SetDefaults_Pod (requests from limits, enableServiceLinks, host
 * network ports). PrepareForCreate: status {phase: Pending, qosClass} and
 * the SchedulingGated condition. Not here: pod update rules, eviction,
 * binding, graceful deletion (the API layer).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/resources/res_internal.h"

static const struct column pod_columns[] = {
	COL_NAME,
	{ "Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic.", 0 },
	{ "Status", "string", "", "The aggregate status of the containers in this pod.", 0 },
	{ "Restarts", "string", "", "The number of times the containers in this pod have been "
	  "restarted and when the last container in this pod has restarted.", 0 },
	COL_AGE,
	{ "IP", "string", "", DESC_POD_IP, 1 },
	{ "Node", "string", "", DESC_POD_NODE, 1 },
	{ "Nominated Node", "string", "", DESC_POD_NOMINATED, 1 },
	{ "Readiness Gates", "string", "", DESC_POD_GATES, 1 },
};

/* What printPod accumulates. A restart time of 0 with have_* false is Go's
 * zero time. */
struct podrow {
	char *reason;
	int ready, total;
	long long restarts, side_restarts;
	time_t last, side_last;
	bool have_last, have_side_last;
};

static void set_reason(struct podrow *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_reason(struct podrow *p, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	free(p->reason);
	p->reason = sb_detach(&sb, NULL);
}

/* lastRestartDate.Before(&finishedAt) → take it. */
static void note_restart(const cJSON *cs, time_t *last, bool *have)
{
	const char *fin = jstr(cs, "lastState.terminated.finishedAt");
	if (!cJSON_IsObject(jget(cs, "lastState.terminated")) || res_time_zero(fin))
		return;
	time_t t = lk_parse_rfc3339(fin);
	if (!*have || t > *last) {
		*last = t;
		*have = true;
	}
}

static bool has_condition(const cJSON *pod, const char *type, const char *status)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, jget(pod, "status.conditions"))
		if (str_eq(jstr(c, "type"), type) && str_eq(jstr(c, "status"), status))
			return true;
	return false;
}

static bool is_sidecar(const cJSON *pod, const char *name)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, jget(pod, "spec.initContainers"))
		if (str_eq(jstr(c, "name"), name))
			return str_eq(jstr(c, "restartPolicy"), "Always");
	return false;
}

/* Terminated without a reason: Signal:N or ExitCode:N (prefix "Init:"). */
static void terminated_reason(struct podrow *p, const cJSON *term, const char *pfx)
{
	const char *r = jstr_or(term, "reason", "");
	if (*r)
		set_reason(p, "%s%s", pfx, r);
	else if (jint(term, "signal", 0))
		set_reason(p, "%sSignal:%lld", pfx, jint(term, "signal", 0));
	else
		set_reason(p, "%sExitCode:%lld", pfx, jint(term, "exitCode", 0));
}

/* The init-container loop; true when the pod is still initializing. */
static bool init_statuses(const cJSON *pod, struct podrow *p)
{
	const cJSON *cs;
	int i = 0, n = res_jsize(jget(pod, "spec.initContainers"));
	cJSON_ArrayForEach(cs, jget(pod, "status.initContainerStatuses")) {
		bool side = is_sidecar(pod, jstr(cs, "name"));
		const cJSON *term = jget(cs, "state.terminated");
		const char *wr = jstr_or(cs, "state.waiting.reason", "");
		long long rc = jint(cs, "restartCount", 0);
		p->restarts += rc;
		note_restart(cs, &p->last, &p->have_last);
		if (side) {
			p->side_restarts += rc;
			note_restart(cs, &p->side_last, &p->have_side_last);
		}
		if (cJSON_IsObject(term) && jint(term, "exitCode", 0) == 0) {
			i++;
			continue;
		}
		if (side && jbool(cs, "started", false)) {
			p->ready += jbool(cs, "ready", false);
			i++;
			continue;
		}
		if (cJSON_IsObject(term))
			terminated_reason(p, term, "Init:");
		else if (cJSON_IsObject(jget(cs, "state.waiting")) && *wr &&
			 strcmp(wr, "PodInitializing"))
			set_reason(p, "Init:%s", wr);
		else
			set_reason(p, "Init:%d/%d", i, n);
		return true;
	}
	return false;
}

/* Regular containers, last to first: the first container's state wins. */
static void container_statuses(const cJSON *pod, struct podrow *p)
{
	const cJSON *all = jget(pod, "status.containerStatuses");
	bool running = false;
	p->restarts = p->side_restarts;
	p->last = p->side_last;
	p->have_last = p->have_side_last;
	for (int k = res_jsize(all) - 1; k >= 0; k--) {
		const cJSON *cs = cJSON_GetArrayItem(all, k);
		const cJSON *term = jget(cs, "state.terminated");
		const char *wr = jstr_or(cs, "state.waiting.reason", "");
		p->restarts += jint(cs, "restartCount", 0);
		note_restart(cs, &p->last, &p->have_last);
		if (cJSON_IsObject(jget(cs, "state.waiting")) && *wr) {
			set_reason(p, "%s", wr);
		} else if (cJSON_IsObject(term)) {
			terminated_reason(p, term, "");
		} else if (jbool(cs, "ready", false) && cJSON_IsObject(jget(cs, "state.running"))) {
			running = true;
			p->ready++;
		}
	}
	if (!strcmp(p->reason, "Completed") && running)
		set_reason(p, "%s", has_condition(pod, "Ready", "True") ? "Running" : "NotReady");
}

static void pod_status(const cJSON *pod, struct podrow *p)
{
	const char *phase = jstr_or(pod, "status.phase", "");
	const char *sreason = jstr_or(pod, "status.reason", "");
	const cJSON *c;
	bool deleting = jstr(pod, "metadata.deletionTimestamp") != NULL;
	p->total = res_jsize(jget(pod, "spec.containers"));
	cJSON_ArrayForEach(c, jget(pod, "spec.initContainers"))
		p->total += str_eq(jstr(c, "restartPolicy"), "Always");
	set_reason(p, "%s", *sreason ? sreason : phase);
	cJSON_ArrayForEach(c, jget(pod, "status.conditions"))
		if (str_eq(jstr(c, "type"), "PodScheduled") &&
		    str_eq(jstr(c, "reason"), "SchedulingGated"))
			set_reason(p, "SchedulingGated");
	if (!init_statuses(pod, p) || has_condition(pod, "Initialized", "True"))
		container_statuses(pod, p);
	if (deleting && !strcmp(sreason, "NodeLost"))
		set_reason(p, "Unknown");
	else if (deleting && strcmp(phase, "Succeeded") && strcmp(phase, "Failed"))
		set_reason(p, "Terminating");
}

static char *readiness_gates(const cJSON *pod)
{
	const cJSON *g, *c;
	int n = res_jsize(jget(pod, "spec.readinessGates")), ok = 0;
	if (!n)
		return xstrdup("<none>");
	cJSON_ArrayForEach(g, jget(pod, "spec.readinessGates")) {
		cJSON_ArrayForEach(c, jget(pod, "status.conditions")) {
			if (str_eq(jstr(c, "type"), jstr(g, "conditionType"))) {
				ok += str_eq(jstr(c, "status"), "True");
				break;
			}
		}
	}
	return xasprintf("%d/%d", ok, n);
}

static const char *or_none(const char *s)
{
	return s && *s ? s : "<none>";
}

static void pod_cells(const cJSON *pod, time_t now, cJSON *cells)
{
	struct podrow p = { 0 };
	char age[32];
	const char *ip = jstr(cJSON_GetArrayItem(jget(pod, "status.podIPs"), 0), "ip");
	pod_status(pod, &p);
	cell_name(cells, pod);
	cell_take(cells, xasprintf("%d/%d", p.ready, p.total));
	cell_take(cells, p.reason);
	if (p.restarts && p.have_last) {
		lk_human_duration((int64_t)(now - p.last), age, sizeof(age));
		cell_take(cells, xasprintf("%lld (%s ago)", p.restarts, age));
	} else {
		cell_take(cells, xasprintf("%lld", p.restarts));
	}
	cell_age(cells, pod, now);
	cell_str(cells, or_none(ip ? ip : jstr(pod, "status.podIP")));
	cell_str(cells, or_none(jstr(pod, "spec.nodeName")));
	cell_str(cells, or_none(jstr(pod, "status.nominatedNodeName")));
	cell_take(cells, readiness_gates(pod));
}

static cJSON *pod_row_conditions(const cJSON *pod)
{
	const char *phase = jstr_or(pod, "status.phase", "");
	bool ok = !strcmp(phase, "Succeeded");
	cJSON *arr, *c;
	if (!ok && strcmp(phase, "Failed"))
		return NULL;
	arr = cJSON_CreateArray();
	c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "type", "Completed");
	cJSON_AddStringToObject(c, "status", "True");
	cJSON_AddStringToObject(c, "reason", phase);
	cJSON_AddStringToObject(c, "message", ok ? "The pod has completed successfully." :
						   "The pod failed.");
	cJSON_AddItemToArray(arr, c);
	return arr;
}

static const struct field_def pod_fields[] = {
	{ "metadata.name", "metadata.name", FK_STR },
	{ "metadata.namespace", "metadata.namespace", FK_STR },
	{ "spec.nodeName", "spec.nodeName", FK_STR },
	{ "spec.restartPolicy", "spec.restartPolicy", FK_STR },
	{ "spec.schedulerName", "spec.schedulerName", FK_STR },
	{ "spec.serviceAccountName", "spec.serviceAccountName", FK_STR },
	{ "spec.hostNetwork", "spec.hostNetwork", FK_BOOL },
	{ "status.phase", "status.phase", FK_STR },
	{ "status.podIP", "status.podIP", FK_FIRST_IP },
	{ "status.nominatedNodeName", "status.nominatedNodeName", FK_STR },
	{ "spec.host", "spec.nodeName", FK_STR }, /* old v1 clients */
	{ NULL, NULL, FK_STR },
};

static int pod_field(const cJSON *obj, const char *label, char *buf, size_t len)
{
	return res_field_from_defs(pod_fields, obj, label, buf, len);
}

/* SetDefaults_Pod: requests default to limits, per container. */
static void requests_from_limits(cJSON *c)
{
	cJSON *limits = jget(c, "resources.limits"), *req, *it;
	if (!cJSON_IsObject(limits))
		return;
	req = jobj(c, "resources.requests");
	cJSON_ArrayForEach(it, limits)
		if (!cJSON_GetObjectItemCaseSensitive(req, it->string))
			cJSON_AddItemToObject(req, it->string, cJSON_Duplicate(it, 1));
}

static void host_network_ports(cJSON *c)
{
	cJSON *p;
	cJSON_ArrayForEach(p, jget(c, "ports"))
		if (cJSON_IsObject(p) && !jint(p, "hostPort", 0))
			jset_int(p, "hostPort", jint(p, "containerPort", 0));
}

static void pod_defaults(cJSON *pod)
{
	cJSON *spec = jobj(pod, "spec"), *c;
	bool hostnet = jbool(spec, "hostNetwork", false);
	podspec_defaults(spec);
	for (int k = 0; k < 2; k++) {
		cJSON_ArrayForEach(c, jget(spec, k ? "initContainers" : "containers")) {
			requests_from_limits(c);
			if (hostnet)
				host_network_ports(c);
		}
	}
	if (!cJSON_IsBool(jget(spec, "enableServiceLinks")))
		jset(spec, "enableServiceLinks", cJSON_CreateTrue());
}

static void pod_validate(const cJSON *obj, const cJSON *old, struct field_errs *fe)
{
	podspec_validate(jget(obj, "spec"), "spec", fe);
}

static void pod_prepare_create(cJSON *pod)
{
	cJSON *st = cJSON_CreateObject();
	cJSON_AddStringToObject(st, "phase", "Pending");
	if (res_jsize(jget(pod, "spec.schedulingGates"))) {
		/* applySchedulingGatedCondition */
		cJSON *c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "type", "PodScheduled");
		cJSON_AddStringToObject(c, "status", "False");
		cJSON_AddNullToObject(c, "lastProbeTime");
		cJSON_AddNullToObject(c, "lastTransitionTime");
		cJSON_AddStringToObject(c, "reason", "SchedulingGated");
		cJSON_AddStringToObject(c, "message",
					"Scheduling is blocked due to non-empty scheduling gates");
		cJSON_AddItemToArray(cJSON_AddArrayToObject(st, "conditions"), c);
	}
	cJSON_AddStringToObject(st, "qosClass", pod_qos_class(jget(pod, "spec")));
	jset(pod, "status", st);
}

static const char *const pod_short[] = { "po", NULL };

const struct resource res_pod = {
	.group = "", .version = "v1", .kind = "Pod",
	.plural = "pods", .singular = "pod", .namespaced = true,
	.short_names = pod_short, .categories = res_all_category,
	.has_status = true,
	.delete_returns_object = true,
	.name_rule = NAME_SUBDOMAIN,
	.columns = pod_columns, .ncolumns = ARRAY_SIZE(pod_columns),
	.cells = pod_cells,
	.field = pod_field, .field_conv = true,
	.defaults = pod_defaults,
	.validate = pod_validate,
	.prepare_create = pod_prepare_create,
	.row_conditions = pod_row_conditions,
};
