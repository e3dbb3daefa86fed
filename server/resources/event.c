/*
 * server/resources/event.c: core/v1 Event and events.k8s.io/v1 Event, one
 * storage ("events", the core shape) and one printer (printEvent: LAST
 * SEEN, TYPE, REASON, OBJECT, MESSAGE, wide SUBOBJECT, SOURCE, FIRST SEEN,
 * COUNT, NAME). events.k8s.io bodies are converted to the core shape on the
 * way in and back on the way out (pkg/apis/events/v1/conversion.go), and
 * its field selectors are mapped onto the core ones (regarding.* →
 * involvedObject.*, reportingController → reportingComponent).
 * Validation: legacyValidateEvent for core/v1, plus the strict rules of
 * ValidateEventCreate for events.k8s.io/v1 (release-1.32).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/resources/res_internal.h"

static const struct column ev_columns[] = {
	{ "Last Seen", "string", "", DESC_EV_LAST, 0 },
	{ "Type", "string", "", DESC_EV_TYPE, 0 },
	{ "Reason", "string", "", DESC_EV_REASON, 0 },
	{ "Object", "string", "", DESC_EV_OBJECT, 0 },
	{ "Subobject", "string", "", DESC_EV_SUBOBJECT, 1 },
	{ "Source", "string", "", DESC_EV_SOURCE, 1 },
	{ "Message", "string", "", DESC_EV_MESSAGE, 0 },
	{ "First Seen", "string", "", DESC_EV_FIRST, 1 },
	{ "Count", "string", "", DESC_EV_COUNT, 1 },
	{ "Name", "string", "name", DESC_NAME, 1 },
};

static void since(char *buf, size_t len, const char *ts, time_t now)
{
	if (res_time_zero(ts))
		snprintf(buf, len, "<unknown>");
	else
		lk_age(ts, now, buf, len);
}

static char *lower_target(const cJSON *ev)
{
	const char *kind = jstr_or(ev, "involvedObject.kind", "");
	const char *name = jstr_or(ev, "involvedObject.name", "");
	char *s = *name ? xasprintf("%s/%s", kind, name) : xstrdup(kind);
	for (char *p = s; *p && p < s + strlen(kind); p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

/* formatEventSource: component (else reportingController), ", host"
 * (else reportingInstance) when there is one. */
static char *event_source(const cJSON *ev)
{
	const char *comp = jstr_or(ev, "source.component", "");
	const char *host = jstr_or(ev, "source.host", "");
	if (!*comp)
		comp = jstr_or(ev, "reportingComponent", "");
	if (!*host)
		host = jstr_or(ev, "reportingInstance", "");
	return *host ? xasprintf("%s, %s", comp, host) : xstrdup(comp);
}

static char *trim_space(const char *s)
{
	size_t n;
	while (*s && isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

static void ev_cells(const cJSON *ev, time_t now, cJSON *cells)
{
	char first[32], last[32];
	const char *ft = jstr(ev, "firstTimestamp"), *lt = jstr(ev, "lastTimestamp");
	long long count = jint(ev, "count", 0);
	since(first, sizeof(first), res_time_zero(ft) ? jstr(ev, "eventTime") : ft, now);
	if (res_time_zero(lt))
		snprintf(last, sizeof(last), "%s", first);
	else
		since(last, sizeof(last), lt, now);
	if (cJSON_IsObject(jget(ev, "series"))) {
		since(last, sizeof(last), jstr(ev, "series.lastObservedTime"), now);
		count = jint(ev, "series.count", 0);
	} else if (count == 0) {
		count = 1; /* singleton events have no count in the new API */
	}
	cell_str(cells, last);
	cell_str(cells, jstr(ev, "type"));
	cell_str(cells, jstr(ev, "reason"));
	cell_take(cells, lower_target(ev));
	cell_str(cells, jstr(ev, "involvedObject.fieldPath"));
	cell_take(cells, event_source(ev));
	cell_take(cells, trim_space(jstr_or(ev, "message", "")));
	cell_str(cells, first);
	cell_int(cells, count);
	cell_name(cells, ev);
}

static const struct field_def ev_fields[] = {
	{ "metadata.name", "metadata.name", FK_STR },
	{ "metadata.namespace", "metadata.namespace", FK_STR },
	{ "involvedObject.kind", "involvedObject.kind", FK_STR },
	{ "involvedObject.namespace", "involvedObject.namespace", FK_STR },
	{ "involvedObject.name", "involvedObject.name", FK_STR },
	{ "involvedObject.uid", "involvedObject.uid", FK_STR },
	{ "involvedObject.apiVersion", "involvedObject.apiVersion", FK_STR },
	{ "involvedObject.resourceVersion", "involvedObject.resourceVersion", FK_STR },
	{ "involvedObject.fieldPath", "involvedObject.fieldPath", FK_STR },
	{ "reason", "reason", FK_STR },
	{ "reportingComponent", "reportingComponent", FK_STR },
	{ "source", "source.component", FK_EV_SOURCE },
	{ "type", "type", FK_STR },
	{ NULL, NULL, FK_STR },
};

static int ev_field(const cJSON *obj, const char *label, char *buf, size_t len)
{
	return res_field_from_defs(ev_fields, obj, label, buf, len);
}

/* events.k8s.io labels → core labels (AddFieldLabelConversionsForEvent). */
static const char *const ev2_labels[][2] = {
	{ "reason", "reason" },
	{ "regarding.kind", "involvedObject.kind" },
	{ "regarding.namespace", "involvedObject.namespace" },
	{ "regarding.name", "involvedObject.name" },
	{ "regarding.uid", "involvedObject.uid" },
	{ "regarding.apiVersion", "involvedObject.apiVersion" },
	{ "regarding.resourceVersion", "involvedObject.resourceVersion" },
	{ "regarding.fieldPath", "involvedObject.fieldPath" },
	{ "reportingController", "reportingComponent" },
	{ "source", "source" },
	{ "type", "type" },
	{ "metadata.namespace", "metadata.namespace" },
	{ "metadata.name", "metadata.name" },
};

static int ev2_field(const cJSON *obj, const char *label, char *buf, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(ev2_labels); i++)
		if (!strcmp(label, ev2_labels[i][0]))
			return ev_field(obj, ev2_labels[i][1], buf, len);
	return -1;
}

/* Core name ↔ events.k8s.io/v1 name of the renamed fields. */
static const char *const renames[][2] = {
	{ "involvedObject", "regarding" },
	{ "message", "note" },
	{ "source", "deprecatedSource" },
	{ "firstTimestamp", "deprecatedFirstTimestamp" },
	{ "lastTimestamp", "deprecatedLastTimestamp" },
	{ "count", "deprecatedCount" },
	{ "reportingComponent", "reportingController" },
};

/* Re-key obj's members (from column `from` to `to` of renames), keeping
 * their order; set apiVersion. */
static void rekey(cJSON *obj, int from, const char *api_version)
{
	cJSON *kept = cJSON_CreateArray(), *it;
	if (!cJSON_IsObject(obj))
		goto out;
	while ((it = obj->child))
		cJSON_AddItemToArray(kept, cJSON_DetachItemViaPointer(obj, it));
	while ((it = kept->child)) {
		const char *key = it->string;
		cJSON_DetachItemViaPointer(kept, it);
		for (size_t i = 0; i < ARRAY_SIZE(renames); i++)
			if (!strcmp(key, renames[i][from]))
				key = renames[i][!from];
		char *k = xstrdup(key);
		cJSON_AddItemToObject(obj, k, it);
		free(k);
	}
	jset_str(obj, "apiVersion", api_version);
out:
	cJSON_Delete(kept);
}

static void ev2_to_storage(cJSON *obj)
{
	rekey(obj, 1, "v1");
}

static void ev2_from_storage(cJSON *obj)
{
	rekey(obj, 0, "events.k8s.io/v1");
}

/* legacyValidateEvent; `reporting` names the reporting-controller field. */
static void legacy_validate(const cJSON *ev, const char *reporting, struct field_errs *fe)
{
	static const struct { const char *key, *field; size_t max; } limits[] = {
		{ "reportingInstance", "reportingInstance", 128 },
		{ "action", "action", 128 },
		{ "reason", "reason", 128 },
		{ "message", "message", 1024 },
	};
	const char *ns = jstr_or(ev, "metadata.namespace", "");
	const char *ins = jstr_or(ev, "involvedObject.namespace", "");
	char msg[48];
	if (res_time_zero(jstr(ev, "eventTime"))) {
		if ((!*ins && *ns && strcmp(ns, "default")) || (*ins && strcmp(ns, ins)))
			field_err_invalid_str(fe, "involvedObject.namespace", ins,
					      "does not match event.namespace");
	} else {
		if (!*ins && strcmp(ns, "default") && strcmp(ns, "kube-system"))
			field_err_invalid_str(fe, "involvedObject.namespace", ins,
					      "does not match event.namespace");
		if (!*jstr_or(ev, "reportingComponent", ""))
			field_err_required(fe, reporting, NULL);
		res_invalid_each(fe, reporting, jstr_or(ev, "reportingComponent", ""), is_qualified_name);
		for (size_t i = 0; i < ARRAY_SIZE(limits); i++) {
			const char *v = jstr_or(ev, limits[i].key, "");
			if (!*v && i < 3)
				field_err_required(fe, limits[i].field, NULL);
			if (strlen(v) > limits[i].max) {
				snprintf(msg, sizeof(msg), "can have at most %zu characters", limits[i].max);
				field_err_invalid_str(fe, limits[i].field, "", msg);
			}
		}
	}
	res_invalid_each(fe, "namespace", ns, is_dns1123_subdomain);
}

static void ev_validate(const cJSON *ev, const cJSON *old, struct field_errs *fe)
{
	legacy_validate(ev, "reportingComponent", fe);
}

/* ValidateEventCreate for events.k8s.io/v1 (the body in the core shape). */
static void ev2_validate(const cJSON *ev, const cJSON *old, struct field_errs *fe)
{
	const char *type = jstr_or(ev, "type", "");
	char msg[128];
	legacy_validate(ev, "reportingController", fe);
	if (cJSON_IsObject(jget(ev, "series"))) {
		if (jint(ev, "series.count", 0) < 2)
			field_err_invalid_str(fe, "series.count", "", "should be at least 2");
		if (res_time_zero(jstr(ev, "series.lastObservedTime")))
			field_err_required(fe, "series.lastObservedTime", NULL);
	}
	if (res_time_zero(jstr(ev, "eventTime")))
		field_err_required(fe, "eventTime", NULL);
	if (strcmp(type, "Normal") && strcmp(type, "Warning")) {
		snprintf(msg, sizeof(msg), "has invalid value: %.100s", type);
		field_err_invalid_str(fe, "type", "", msg);
	}
	if (!res_time_zero(jstr(ev, "firstTimestamp")))
		field_err_invalid_str(fe, "deprecatedFirstTimestamp", "", "needs to be unset");
	if (!res_time_zero(jstr(ev, "lastTimestamp")))
		field_err_invalid_str(fe, "deprecatedLastTimestamp", "", "needs to be unset");
	if (jint(ev, "count", 0))
		field_err_invalid_str(fe, "deprecatedCount", "", "needs to be unset");
	if (*jstr_or(ev, "source.component", "") || *jstr_or(ev, "source.host", ""))
		field_err_invalid_str(fe, "deprecatedSource", "", "needs to be unset");
}

static const char *const ev_short[] = { "ev", NULL };

const struct resource res_event = {
	.group = "", .version = "v1", .kind = "Event",
	.plural = "events", .singular = "event", .namespaced = true,
	.short_names = ev_short,
	.name_rule = NAME_EVENT,
	.columns = ev_columns, .ncolumns = ARRAY_SIZE(ev_columns),
	.cells = ev_cells,
	.field = ev_field, .field_conv = true,
	.validate = ev_validate,
};

const struct resource res_events_event = {
	.group = "events.k8s.io", .version = "v1", .kind = "Event",
	.plural = "events", .singular = "event", .namespaced = true,
	.short_names = ev_short,
	.storage = "events",
	.name_rule = NAME_SUBDOMAIN,
	.columns = ev_columns, .ncolumns = ARRAY_SIZE(ev_columns),
	.cells = ev_cells,
	.field = ev2_field, .field_conv = true,
	.validate = ev2_validate,
	.to_storage = ev2_to_storage,
	.from_storage = ev2_from_storage,
};
