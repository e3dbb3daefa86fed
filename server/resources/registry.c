/*
 * server/resources/registry.c: the table of kinds, lookups, object-metadata
 * validation (apimachinery ValidateObjectMetaAccessor, release-1.32), the
 * default Table printer and complete field-selector answers.
 * Each kind's behaviour lives in its own file; this one only dispatches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/resources/res_internal.h"

/* Discovery order: sorted by plural within a group; groups as kube-apiserver
 * ranks them (core, apps, events.k8s.io, coordination.k8s.io,
 * discovery.k8s.io). `kubectl get all` follows it: pod, rc, service, ... */
const struct resource *const resource_table[] = {
	&res_configmap,
	&res_endpoints,
	&res_event,
	&res_namespace,
	&res_node,
	&res_pod,
	&res_podtemplate,
	&res_replicationcontroller,
	&res_secret,
	&res_serviceaccount,
	&res_service,
	&res_controllerrevision,
	&res_daemonset,
	&res_deployment,
	&res_replicaset,
	&res_statefulset,
	&res_events_event,
	&res_lease,
	&res_endpointslice,
};
const size_t resource_count = ARRAY_SIZE(resource_table);

const char *const res_all_category[] = { "all", NULL };

const struct resource *resource_find(const char *group, const char *version,
				     const char *plural)
{
	for (size_t i = 0; i < resource_count; i++) {
		const struct resource *r = resource_table[i];
		if (str_eq(r->group, group ? group : "") && str_eq(r->version, version) &&
		    str_eq(r->plural, plural))
			return r;
	}
	return NULL;
}

const struct resource *resource_by_kind(const char *group, const char *kind)
{
	for (size_t i = 0; i < resource_count; i++) {
		const struct resource *r = resource_table[i];
		if (str_eq(r->group, group ? group : "") && str_eq(r->kind, kind))
			return r;
	}
	return NULL;
}

const char *resource_storage(const struct resource *r, char *buf)
{
	if (r->storage)
		snprintf(buf, 128, "%s", r->storage);
	else
		lk_group_resource(r->group, r->plural, buf);
	return buf;
}

const char *resource_api_version(const struct resource *r, char *buf)
{
	if (*r->group)
		snprintf(buf, 64, "%s/%s", r->group, r->version);
	else
		snprintf(buf, 64, "%s", r->version);
	return buf;
}

/* ---- metadata ---- */

static const check_fn name_checks[] = {
	[NAME_SUBDOMAIN] = is_dns1123_subdomain,
	[NAME_LABEL] = is_dns1123_label,
	[NAME_DNS1035] = is_dns1035_label,
	[NAME_EVENT] = is_path_segment,
};

void resource_validate_labels(const cJSON *labels, const char *field,
			      struct field_errs *fe)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, ONLY_OBJ(labels)) {
		res_invalid_each(fe, field, it->string, is_qualified_name);
		res_invalid_each(fe, field, cJSON_IsString(it) ? it->valuestring : "",
			     is_label_value);
	}
}

static void validate_annotations(const cJSON *ann, struct field_errs *fe)
{
	const cJSON *it;
	size_t total = 0;
	cJSON_ArrayForEach(it, ONLY_OBJ(ann)) {
		char *lower = xstrdup(it->string);
		const char *msgs[MSG_MAX];
		for (char *p = lower; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		/* The rule is QualifiedName on the lower-cased key; the cause
		 * quotes the key as given. */
		int n = is_qualified_name(lower, msgs);
		for (int i = 0; i < n; i++)
			field_err_invalid_str(fe, "metadata.annotations", it->string, msgs[i]);
		free(lower);
		total += strlen(it->string) +
			 (cJSON_IsString(it) ? strlen(it->valuestring) : 0);
	}
	if (total > 256 * 1024)
		field_err_add(fe, "FieldValueTooLong", "metadata.annotations",
			      "Too long: may not be more than %d bytes", 256 * 1024);
}

static void validate_owner_refs(const cJSON *refs, struct field_errs *fe)
{
	static const struct { const char *key, *field, *msg; } must[] = {
		{ "apiVersion", "metadata.ownerReferences.apiVersion", "version must not be empty" },
		{ "kind", "metadata.ownerReferences.kind", "kind must not be empty" },
		{ "name", "metadata.ownerReferences.name", "name must not be empty" },
		{ "uid", "metadata.ownerReferences.uid", "uid must not be empty" },
	};
	const cJSON *ref;
	char first[FP_MAX] = "";
	cJSON_ArrayForEach(ref, ONLY_ARR(refs)) {
		for (size_t i = 0; i < ARRAY_SIZE(must); i++) {
			const char *v = jstr_or(ref, must[i].key, "");
			/* "v1" has a version; "apps/" has none. */
			bool empty = !*v || (i == 0 && str_has_suffix(v, "/"));
			if (empty)
				field_err_invalid_str(fe, must[i].field, v, must[i].msg);
		}
		if (!jbool(ref, "controller", false))
			continue;
		char cur[FP_MAX];
		res_fp(cur, "%s/%s", jstr_or(ref, "kind", ""), jstr_or(ref, "name", ""));
		if (*first)
			field_err_add(fe, "FieldValueInvalid", "metadata.ownerReferences",
				      "Invalid value: []v1.OwnerReference{...}: Only one "
				      "reference can have Controller set to true. Found "
				      "\"true\" in references for %s and %s", first, cur);
		else
			snprintf(first, sizeof(first), "%s", cur);
	}
}

static void validate_finalizers(const cJSON *fins, struct field_errs *fe)
{
	const cJSON *it;
	bool orphan = false, foreground = false;
	cJSON_ArrayForEach(it, ONLY_ARR(fins)) {
		const char *v = cJSON_IsString(it) ? it->valuestring : "";
		res_invalid_each(fe, "metadata.finalizers", v, is_qualified_name);
		orphan |= !strcmp(v, "orphan");
		foreground |= !strcmp(v, "foregroundDeletion");
	}
	if (orphan && foreground) {
		char *v = res_go_strings(fins);
		field_err_invalid_raw(fe, "metadata.finalizers", v,
				      "finalizer orphan and foregroundDeletion cannot be both set");
		free(v);
	}
}

void resource_validate_meta(const struct resource *r, const cJSON *obj,
			    struct field_errs *fe)
{
	const char *name = jstr_or(obj, "metadata.name", "");
	const char *gen = jstr_or(obj, "metadata.generateName", "");
	const char *ns = jstr_or(obj, "metadata.namespace", "");
	check_fn fn = name_checks[r->name_rule];
	const char *msgs[MSG_MAX];
	int n;

	n = *gen ? res_check_prefix(fn, gen, msgs) : 0;
	for (int i = 0; i < n; i++)
		field_err_invalid_str(fe, "metadata.generateName", gen, msgs[i]);
	if (!*name && !*gen)
		field_err_required(fe, "metadata.name", "name or generateName is required");
	else if (*name)
		res_invalid_each(fe, "metadata.name", name, fn);
	if (r->namespaced && !*ns)
		field_err_required(fe, "metadata.namespace", NULL);
	else if (r->namespaced)
		res_invalid_each(fe, "metadata.namespace", ns, is_dns1123_label);
	else if (*ns)
		field_err_forbidden(fe, "metadata.namespace", "not allowed on this type");
	res_check_nonneg(fe, "metadata.generation", jget(obj, "metadata.generation"));
	resource_validate_labels(jget(obj, "metadata.labels"), "metadata.labels", fe);
	validate_annotations(jget(obj, "metadata.annotations"), fe);
	validate_owner_refs(jget(obj, "metadata.ownerReferences"), fe);
	validate_finalizers(jget(obj, "metadata.finalizers"), fe);
}

/* ---- printing ---- */

static const struct column default_columns[] = {
	COL_NAME,
	{ "Created At", "date", "", DESC_CREATED, 0 },
};

const struct column *resource_columns(const struct resource *r, size_t *n)
{
	if (r->columns) {
		*n = r->ncolumns;
		return r->columns;
	}
	*n = ARRAY_SIZE(default_columns);
	return default_columns;
}

void resource_cells(const struct resource *r, const cJSON *obj, time_t now,
		    cJSON *cells)
{
	const char *ts = jstr(obj, "metadata.creationTimestamp");
	char buf[32];
	if (r->cells) {
		r->cells(obj, now, cells);
		return;
	}
	cell_name(cells, obj);
	/* m.GetCreationTimestamp().Time.UTC().Format(time.RFC3339) */
	if (res_time_zero(ts))
		snprintf(buf, sizeof(buf), "0001-01-01T00:00:00Z");
	else
		lk_rfc3339(lk_parse_rfc3339(ts), buf);
	cell_str(cells, buf);
}

/* ---- field selectors ---- */

int resource_field(const struct resource *r, const cJSON *obj,
		   const char *label, char *buf, size_t len)
{
	if (r->field)
		return r->field(obj, label, buf, len);
	if (!strcmp(label, "metadata.name") ||
	    (r->namespaced && !strcmp(label, "metadata.namespace"))) {
		snprintf(buf, len, "%s", jstr_or(obj, label, ""));
		return 0;
	}
	return -1;
}

int resource_field_error(const struct resource *r, const char *label,
			 struct lk_err *err)
{
	if (r->field_conv)
		return lk_error(err, LK_EBADREQUEST, "field label not supported: %s", label);
	return lk_error(err, LK_EBADREQUEST,
			"\"%s\" is not a known field selector: only \"metadata.name\", "
			"\"metadata.namespace\"", label);
}
