/*
 * tests/unit/test_resources.c: the resource table (server/resources/).
 *
 * Table cells, defaults and validation causes are checked against fixtures
 * in tests/unit/fixtures/resources/ (expected values written from upstream
 * printers.go, defaults.go and validation.go, release-1.32); the rest
 * (durations, name messages, selectors, field selectors, the registry) is
 * checked inline. Runs without root, a store or a network.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/json.h"
#include "common/util.h"
#include "server/resources/res_internal.h"
#include "server/resources/resources.h"

/* ---- helpers ---- */

static cJSON *load(const char *name)
{
	char path[512], *buf;
	const char *slash = strrchr(__FILE__, '/'), *dir = getenv("LK_FIXTURES");
	int dirlen = slash ? (int)(slash - __FILE__ + 1) : 0;
	FILE *f;
	long n;
	/* Next to this file (run from the top of the tree), or $LK_FIXTURES. */
	if (dir)
		snprintf(path, sizeof(path), "%s/%s", dir, name);
	else
		snprintf(path, sizeof(path), "%.*sfixtures/resources/%s", dirlen, __FILE__, name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open fixture %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = xmalloc((size_t)n + 1);
	ck_assert_int_eq(fread(buf, 1, (size_t)n, f), n);
	buf[n] = 0;
	fclose(f);
	cJSON *j = cJSON_Parse(buf);
	ck_assert_msg(j != NULL, "fixture %s is not JSON", path);
	free(buf);
	return j;
}

/* The descriptor serving obj's apiVersion and kind. */
static const struct resource *resource_of(const cJSON *obj)
{
	const char *av = jstr_or(obj, "apiVersion", ""), *slash = strchr(av, '/');
	char group[64] = "";
	if (slash)
		snprintf(group, sizeof(group), "%.*s", (int)(slash - av), av);
	const struct resource *r = resource_by_kind(group, jstr_or(obj, "kind", ""));
	ck_assert_msg(r != NULL, "no resource for %s %s", av, jstr_or(obj, "kind", ""));
	return r;
}

static void expect_json(const cJSON *got, const cJSON *want, const char *what)
{
	char *g = got ? jprint(got) : xstrdup("null");
	char *w = want ? jprint(want) : xstrdup("null");
	ck_assert_msg(jequal(got, want), "%s:\n got  %s\n want %s", what, g, w);
	free(g);
	free(w);
}

/* Defaults, then metadata and kind validation, as the API layer does. */
static cJSON *validate(cJSON *obj, const cJSON *old)
{
	const struct resource *r = resource_of(obj);
	struct field_errs fe = { 0 };
	if (r->to_storage)
		r->to_storage(obj);
	if (r->defaults)
		r->defaults(obj);
	resource_validate_meta(r, obj, &fe);
	if (r->validate)
		r->validate(obj, old, &fe);
	return fe.causes ? fe.causes : cJSON_CreateArray();
}

/* ---- Table cells ---- */

static const char *const cell_fixtures[] = {
	"cells-pods.json", "cells-services.json", "cells-endpoints.json",
	"cells-endpointslices.json", "cells-nodes.json", "cells-events.json",
	"cells-others.json",
};

START_TEST(test_cells)
{
	cJSON *fx = load(cell_fixtures[_i]), *c;
	time_t now = lk_parse_rfc3339(jstr(fx, "now"));
	cJSON_ArrayForEach(c, jget(fx, "cases")) {
		const cJSON *obj = jget(c, "object");
		const struct resource *r = resource_of(obj);
		cJSON *cells = cJSON_CreateArray(), *cond;
		size_t ncol;
		char what[256];
		resource_columns(r, &ncol);
		resource_cells(r, obj, now, cells);
		snprintf(what, sizeof(what), "%s: %s", cell_fixtures[_i], jstr(c, "desc"));
		expect_json(cells, jget(c, "cells"), what);
		ck_assert_int_eq(cJSON_GetArraySize(cells), (int)ncol);
		cond = r->row_conditions ? r->row_conditions(obj) : NULL;
		expect_json(cond, jget(c, "conditions"), what);
		cJSON_Delete(cond);
		cJSON_Delete(cells);
	}
	cJSON_Delete(fx);
}
END_TEST

START_TEST(test_columns)
{
	for (size_t i = 0; i < resource_count; i++) {
		const struct resource *r = resource_table[i];
		size_t n, names = 0;
		const struct column *cols = resource_columns(r, &n);
		for (size_t k = 0; k < n; k++) {
			ck_assert(cols[k].name && cols[k].type && cols[k].format && cols[k].description);
			ck_assert(*cols[k].description);
			ck_assert(cols[k].priority == 0 || cols[k].priority == 1);
			if (!strcmp(cols[k].name, "Name")) {
				ck_assert_str_eq(cols[k].format, "name");
				names++;
			}
		}
		ck_assert_uint_eq(names, 1);
	}
	/* Pod: READY/STATUS/RESTARTS strings, wide-only extras. */
	size_t n;
	const struct column *pc = resource_columns(&res_pod, &n);
	ck_assert_uint_eq(n, 9);
	ck_assert_str_eq(pc[3].name, "Restarts");
	ck_assert_str_eq(pc[3].type, "string");
	ck_assert_int_eq(pc[4].priority, 0);
	ck_assert_int_eq(pc[5].priority, 1);
	ck_assert_str_eq(resource_columns(&res_service, &n)[4].name, "Port(s)");
	ck_assert_str_eq(resource_columns(&res_replicaset, &n)[1].type, "integer");
	ck_assert_str_eq(resource_columns(&res_event, &n)[0].name, "Last Seen");
	ck_assert_int_eq(resource_columns(&res_event, &n)[9].priority, 1);
}
END_TEST

START_TEST(test_default_printer)
{
	static const struct resource bare = { .group = "", .version = "v1", .kind = "Thing",
					      .plural = "things" };
	cJSON *obj = cJSON_Parse("{\"metadata\":{\"name\":\"t\",\"creationTimestamp\":"
				 "\"2024-05-13T15:37:30+02:00\"}}");
	cJSON *cells = cJSON_CreateArray(), *want;
	size_t n;
	const struct column *cols = resource_columns(&bare, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(cols[1].name, "Created At");
	ck_assert_str_eq(cols[1].type, "date");
	resource_cells(&bare, obj, 0, cells);
	want = cJSON_Parse("[\"t\",\"2024-05-13T13:37:30Z\"]");
	expect_json(cells, want, "default printer");
	cJSON_Delete(want);
	cJSON_Delete(cells);
	jdel(obj, "metadata.creationTimestamp");
	cells = cJSON_CreateArray();
	resource_cells(&bare, obj, 0, cells);
	ck_assert_str_eq(cJSON_GetArrayItem(cells, 1)->valuestring, "0001-01-01T00:00:00Z");
	cJSON_Delete(cells);
	cJSON_Delete(obj);
}
END_TEST

/* ---- durations ---- */

START_TEST(test_human_duration)
{
	static const struct { long long s; const char *want; } cases[] = {
		{ -5, "<invalid>" }, { -1, "0s" }, { 0, "0s" }, { 119, "119s" },
		{ 120, "2m" }, { 182, "3m2s" }, { 599, "9m59s" }, { 600, "10m" },
		{ 10799, "179m" }, { 10800, "3h" }, { 11100, "3h5m" }, { 28800, "8h" },
		{ 172799, "47h" }, { 172800, "2d" }, { 183600, "2d3h" },
		{ 691200, "8d" }, { 730 * 86400LL, "2y" }, { 731 * 86400LL, "2y1d" },
		{ 8 * 365 * 86400LL, "8y" },
	};
	char buf[32];
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		lk_human_duration(cases[i].s, buf, sizeof(buf));
		ck_assert_msg(!strcmp(buf, cases[i].want), "%lld s: got %s want %s",
			      cases[i].s, buf, cases[i].want);
	}
	cJSON *cells = cJSON_CreateArray();
	cell_since(cells, NULL, 0);
	cell_since(cells, "0001-01-01T00:00:00Z", 0);
	cell_since(cells, "2024-05-13T13:37:30Z", lk_parse_rfc3339("2024-05-13T13:37:31Z"));
	ck_assert_str_eq(cJSON_GetArrayItem(cells, 0)->valuestring, "<unknown>");
	ck_assert_str_eq(cJSON_GetArrayItem(cells, 1)->valuestring, "<unknown>");
	ck_assert_str_eq(cJSON_GetArrayItem(cells, 2)->valuestring, "1s");
	cJSON_Delete(cells);
}
END_TEST

/* ---- names, labels: the exact upstream messages ---- */

#define SUBDOMAIN_MSG "a lowercase RFC 1123 subdomain must consist of lower case " \
	"alphanumeric characters, '-' or '.', and must start and end with an " \
	"alphanumeric character (e.g. 'example.com', regex used for validation is " \
	"'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
#define LABEL_MSG "a lowercase RFC 1123 label must consist of lower case " \
	"alphanumeric characters or '-', and must start and end with an alphanumeric " \
	"character (e.g. 'my-name',  or '123-abc', regex used for validation is " \
	"'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
#define DNS1035_MSG "a DNS-1035 label must consist of lower case alphanumeric " \
	"characters or '-', start with an alphabetic character, and end with an " \
	"alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for " \
	"validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"

START_TEST(test_name_messages)
{
	const char *m[MSG_MAX];
	char long_name[300];
	ck_assert_int_eq(is_dns1123_subdomain("web.example.com", m), 0);
	ck_assert_int_eq(is_dns1123_subdomain("Web", m), 1);
	ck_assert_str_eq(m[0], SUBDOMAIN_MSG);
	ck_assert_int_eq(is_dns1123_label("a.b", m), 1);
	ck_assert_str_eq(m[0], "must not contain dots");
	ck_assert_int_eq(is_dns1123_label("-a", m), 1);
	ck_assert_str_eq(m[0], LABEL_MSG);
	ck_assert_int_eq(is_dns1035_label("1abc", m), 1);
	ck_assert_str_eq(m[0], DNS1035_MSG);
	ck_assert_int_eq(is_dns1035_label("abc-1", m), 0);
	/* Length first, then syntax. */
	memset(long_name, 'a', 254);
	long_name[254] = 0;
	ck_assert_int_eq(is_dns1123_subdomain(long_name, m), 1);
	ck_assert_str_eq(m[0], "must be no more than 253 characters");
	long_name[0] = '-';
	ck_assert_int_eq(is_dns1123_subdomain(long_name, m), 2);
	ck_assert_str_eq(m[0], "must be no more than 253 characters");
	ck_assert_str_eq(m[1], SUBDOMAIN_MSG);
	long_name[64] = 0;
	ck_assert_int_eq(is_dns1035_label(long_name, m), 2);
	ck_assert_str_eq(m[0], "must be no more than 63 characters");
	/* Qualified names and label values. */
	ck_assert_int_eq(is_qualified_name("app.kubernetes.io/name", m), 0);
	ck_assert_int_eq(is_qualified_name("/x", m), 1);
	ck_assert_str_eq(m[0], "prefix part must be non-empty");
	ck_assert_int_eq(is_qualified_name("a/", m), 2);
	ck_assert_str_eq(m[0], "name part must be non-empty");
	ck_assert_int_eq(is_qualified_name("a/b/c", m), 1);
	ck_assert(str_has_suffix(m[0], "with an optional DNS subdomain prefix and '/' "
				 "(e.g. 'example.com/MyName')"));
	ck_assert_int_eq(is_qualified_name("Bad_Prefix/ok", m), 1);
	ck_assert_str_eq(m[0], "prefix part " SUBDOMAIN_MSG);
	ck_assert_int_eq(is_label_value("", m), 0);
	ck_assert_int_eq(is_label_value("v1.2_3-x", m), 0);
	ck_assert_int_eq(is_label_value("x_", m), 1);
	ck_assert_int_eq(is_port_name("http-8080", m), 0);
	ck_assert_int_eq(is_port_name("8080", m), 1);
	ck_assert_str_eq(m[0], "must contain at least one letter (a-z)");
	ck_assert_int_eq(is_port_name("-Way-too-long-port", m), 3);
	ck_assert_str_eq(m[0], "must be no more than 15 characters");
	ck_assert_int_eq(is_config_map_key("..data", m), 1);
	ck_assert_str_eq(m[0], "must not start with '..'");
	ck_assert_int_eq(is_path_segment("a/b%c", m), 2);
	/* generateName: the trailing '-' is masked (upstream drops 2 chars). */
	ck_assert_int_eq(res_check_prefix(is_dns1123_label, "web-", m), 0);
	ck_assert_int_eq(res_check_prefix(is_dns1123_label, "-", m), 1);
}
END_TEST

START_TEST(test_meta_messages)
{
	struct field_errs fe = { 0 };
	struct lk_err err = { 0 };
	cJSON *svc = cJSON_Parse("{\"metadata\":{\"name\":\"Bad_Name\",\"namespace\":\"default\"}}");
	resource_validate_meta(&res_service, svc, &fe);
	ck_assert_int_eq(lk_err_invalid(&err, "", "Service", "Bad_Name", &fe), -1);
	ck_assert_int_eq(err.code, LK_EINVALID);
	ck_assert_str_eq(err.msg, "Service \"Bad_Name\" is invalid: metadata.name: Invalid value: "
				  "\"Bad_Name\": " DNS1035_MSG);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(
				 cJSON_GetArrayItem(err.causes, 0), "reason")), "FieldValueInvalid");
	lk_err_clear(&err);
	cJSON_Delete(svc);

	cJSON *ns = cJSON_Parse("{\"metadata\":{}}");
	resource_validate_meta(&res_namespace, ns, &fe);
	lk_err_invalid(&err, "", "Namespace", "", &fe);
	ck_assert_str_eq(err.msg, "Namespace \"\" is invalid: metadata.name: Required value: "
				  "name or generateName is required");
	lk_err_clear(&err);
	cJSON_Delete(ns);

	cJSON *pod = cJSON_Parse("{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\","
				 "\"finalizers\":[\"orphan\",\"foregroundDeletion\"],"
				 "\"ownerReferences\":[{\"apiVersion\":\"apps/\",\"kind\":\"RS\","
				 "\"name\":\"r\",\"uid\":\"\"}]}}");
	resource_validate_meta(&res_pod, pod, &fe);
	lk_err_invalid(&err, "", "Pod", "p", &fe);
	ck_assert_str_eq(err.msg, "Pod \"p\" is invalid: [metadata.ownerReferences.apiVersion: "
				  "Invalid value: \"apps/\": version must not be empty, "
				  "metadata.ownerReferences.uid: Invalid value: \"\": uid must not be empty, "
				  "metadata.finalizers: Invalid value: []string{\"orphan\", "
				  "\"foregroundDeletion\"}: finalizer orphan and foregroundDeletion "
				  "cannot be both set]");
	lk_err_clear(&err);
	cJSON_Delete(pod);
}
END_TEST

/* ---- defaults and validation fixtures ---- */

START_TEST(test_defaults)
{
	cJSON *fx = load("defaults.json"), *c;
	cJSON_ArrayForEach(c, fx) {
		cJSON *in = cJSON_Duplicate(jget(c, "in"), 1);
		const struct resource *r = resource_of(in);
		ck_assert_msg(r->defaults != NULL, "%s has no defaults", r->kind);
		r->defaults(in);
		expect_json(in, jget(c, "out"), jstr(c, "desc"));
		r->defaults(in); /* idempotent */
		expect_json(in, jget(c, "out"), jstr(c, "desc"));
		cJSON_Delete(in);
	}
	cJSON_Delete(fx);
}
END_TEST

START_TEST(test_validation)
{
	cJSON *fx = load("validation.json"), *c;
	cJSON_ArrayForEach(c, fx) {
		cJSON *obj = cJSON_Duplicate(jget(c, "object"), 1), *want = cJSON_CreateArray();
		const struct resource *r = resource_of(obj);
		cJSON *got = validate(obj, jget(c, "old")), *it, *pair;
		cJSON_ArrayForEach(it, got) {
			pair = cJSON_CreateArray();
			cJSON_AddItemToArray(pair, cJSON_Duplicate(cJSON_GetObjectItem(it, "field"), 1));
			cJSON_AddItemToArray(pair, cJSON_Duplicate(cJSON_GetObjectItem(it, "message"), 1));
			cJSON_AddItemToArray(want, pair);
		}
		expect_json(want, jget(c, "causes"), jstr(c, "desc"));
		if (jstr(c, "message")) {
			struct field_errs fe = { got };
			struct lk_err err = { 0 };
			lk_err_invalid(&err, r->group, r->kind, jstr(obj, "metadata.name"), &fe);
			ck_assert_str_eq(err.msg, jstr(c, "message"));
			lk_err_clear(&err);
		} else {
			cJSON_Delete(got);
		}
		cJSON_Delete(want);
		cJSON_Delete(obj);
	}
	cJSON_Delete(fx);
}
END_TEST

/* ---- selectors ---- */

static char *sel(const char *json, bool labels)
{
	cJSON *j = cJSON_Parse(json);
	char *s = labels ? fmt_labels(j) : fmt_label_selector(j);
	cJSON_Delete(j);
	return s;
}

START_TEST(test_selectors)
{
	static const struct { const char *in; bool labels; const char *want; } cases[] = {
		{ "null", true, "<none>" },
		{ "{}", true, "<none>" },
		/* Go sorts the "k=v" strings, so '.' < '=' puts a.b/c first. */
		{ "{\"b\":\"2\",\"a\":\"1\",\"a.b/c\":\"\"}", true, "a.b/c=,a=1,b=2" },
		{ "null", false, "<none>" },
		{ "{}", false, "<none>" },
		{ "{\"matchLabels\":{\"app\":\"web\"}}", false, "app=web" },
		{ "{\"matchExpressions\":[{\"key\":\"env\",\"operator\":\"NotIn\",\"values\":"
		  "[\"prod\",\"dev\"]},{\"key\":\"beta\",\"operator\":\"Exists\"}],"
		  "\"matchLabels\":{\"z\":\"1\"}}", false, "beta,env notin (dev,prod),z=1" },
		{ "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\",\"values\":[]}]}",
		  false, "<error>" },
		{ "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Exists\",\"values\":[\"x\"]}]}",
		  false, "<error>" },
		{ "{\"matchLabels\":{\"a\":\"bad value\"}}", false, "<error>" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *s = sel(cases[i].in, cases[i].labels);
		ck_assert_msg(!strcmp(s, cases[i].want), "%s: got %s want %s", cases[i].in, s,
			      cases[i].want);
		free(s);
	}
	cJSON *lab = cJSON_Parse("{\"app\":\"web\",\"env\":\"prod\"}");
	cJSON *s1 = cJSON_Parse("{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":"
				"[{\"key\":\"env\",\"operator\":\"In\",\"values\":[\"prod\"]},"
				"{\"key\":\"canary\",\"operator\":\"DoesNotExist\"}]}");
	cJSON *s2 = cJSON_Parse("{\"matchExpressions\":[{\"key\":\"env\",\"operator\":"
				"\"NotIn\",\"values\":[\"prod\"]}]}");
	cJSON *empty = cJSON_Parse("{}");
	ck_assert(res_selector_matches(s1, lab));
	ck_assert(!res_selector_matches(s2, lab));
	ck_assert(res_selector_matches(empty, lab));
	ck_assert(!res_selector_matches(NULL, lab));
	ck_assert(res_map_selector_matches(jget(s1, "matchLabels"), lab));
	ck_assert(!res_map_selector_matches(lab, jget(s1, "matchLabels")));
	cJSON_Delete(lab);
	cJSON_Delete(s1);
	cJSON_Delete(s2);
	cJSON_Delete(empty);

	cJSON *arr = cJSON_Parse("[{\"name\":\"a\",\"image\":\"x\"},{\"name\":\"b\"}]");
	char *j = fmt_join_field(arr, "image");
	ck_assert_str_eq(j, "x,");
	free(j);
	j = fmt_join_field(arr, "name");
	ck_assert_str_eq(j, "a,b");
	free(j);
	cJSON_Delete(arr);
}
END_TEST

/* ---- field selectors ---- */

static void expect_field(const struct resource *r, const cJSON *obj, const char *label,
			 const char *want)
{
	char buf[256];
	int rc = resource_field(r, obj, label, buf, sizeof(buf));
	if (!want) {
		ck_assert_msg(rc == -1, "%s %s: accepted (%s)", r->kind, label, buf);
		return;
	}
	ck_assert_msg(rc == 0, "%s %s: rejected", r->kind, label);
	ck_assert_msg(!strcmp(buf, want), "%s %s: got %s want %s", r->kind, label, buf, want);
}

START_TEST(test_fields)
{
	cJSON *pod = cJSON_Parse("{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\"},"
				 "\"spec\":{\"nodeName\":\"node-1\",\"restartPolicy\":\"Always\"},"
				 "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.1\","
				 "\"podIPs\":[{\"ip\":\"10.0.0.2\"}]}}");
	expect_field(&res_pod, pod, "metadata.name", "p");
	expect_field(&res_pod, pod, "metadata.namespace", "ns");
	expect_field(&res_pod, pod, "spec.nodeName", "node-1");
	expect_field(&res_pod, pod, "spec.host", "node-1");
	expect_field(&res_pod, pod, "spec.hostNetwork", "false");
	expect_field(&res_pod, pod, "spec.serviceAccountName", "");
	expect_field(&res_pod, pod, "status.phase", "Running");
	expect_field(&res_pod, pod, "status.podIP", "10.0.0.2");
	expect_field(&res_pod, pod, "status.podIPs", NULL);
	expect_field(&res_pod, pod, "metadata.uid", NULL);
	cJSON_Delete(pod);

	cJSON *node = cJSON_Parse("{\"metadata\":{\"name\":\"n\"},\"spec\":{\"unschedulable\":true}}");
	expect_field(&res_node, node, "metadata.name", "n");
	expect_field(&res_node, node, "spec.unschedulable", "true");
	expect_field(&res_node, node, "metadata.namespace", NULL);
	expect_field(&res_namespace, node, "status.phase", "");
	expect_field(&res_namespace, node, "metadata.namespace", NULL);
	cJSON_Delete(node);

	cJSON *ev = cJSON_Parse("{\"metadata\":{\"name\":\"e\",\"namespace\":\"default\"},"
				"\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"p\",\"uid\":\"u\"},"
				"\"reason\":\"Started\",\"type\":\"Normal\","
				"\"reportingComponent\":\"kubelet\"}");
	expect_field(&res_event, ev, "involvedObject.uid", "u");
	expect_field(&res_event, ev, "involvedObject.kind", "Pod");
	expect_field(&res_event, ev, "source", "kubelet");
	expect_field(&res_event, ev, "reportingComponent", "kubelet");
	expect_field(&res_event, ev, "regarding.name", NULL);
	expect_field(&res_events_event, ev, "regarding.name", "p");
	expect_field(&res_events_event, ev, "reportingController", "kubelet");
	expect_field(&res_events_event, ev, "type", "Normal");
	expect_field(&res_events_event, ev, "involvedObject.name", NULL);
	cJSON_Delete(ev);

	cJSON *obj = cJSON_Parse("{\"metadata\":{\"name\":\"x\",\"namespace\":\"d\"},"
				 "\"type\":\"Opaque\",\"spec\":{\"type\":\"NodePort\","
				 "\"clusterIP\":\"10.96.0.1\"},\"status\":{\"replicas\":3}}");
	expect_field(&res_secret, obj, "type", "Opaque");
	expect_field(&res_service, obj, "spec.type", "NodePort");
	expect_field(&res_service, obj, "spec.clusterIP", "10.96.0.1");
	expect_field(&res_replicationcontroller, obj, "status.replicas", "3");
	expect_field(&res_replicaset, obj, "metadata.namespace", "d");
	expect_field(&res_replicaset, obj, "status.replicas", NULL);
	expect_field(&res_deployment, obj, "spec.replicas", NULL);
	cJSON_Delete(obj);

	struct lk_err err = { 0 };
	ck_assert_int_eq(resource_field_error(&res_pod, "spec.foo", &err), -1);
	ck_assert_int_eq(err.code, LK_EBADREQUEST);
	ck_assert_str_eq(err.msg, "field label not supported: spec.foo");
	resource_field_error(&res_deployment, "status.replicas", &err);
	ck_assert_str_eq(err.msg, "\"status.replicas\" is not a known field selector: only "
				  "\"metadata.name\", \"metadata.namespace\"");
	lk_err_clear(&err);
}
END_TEST

/* ---- registry ---- */

static char *joined(const char *const *list)
{
	struct strbuf sb = STRBUF_INIT;
	for (; list && *list; list++) {
		if (sb.len)
			sb_addc(&sb, ',');
		sb_adds(&sb, *list);
	}
	return sb_detach(&sb, NULL);
}

START_TEST(test_registry)
{
	static const struct { const char *plural, *group, *short_names, *categories; } want[] = {
		{ "configmaps", "", "cm", "" },
		{ "endpoints", "", "ep", "" },
		{ "events", "", "ev", "" },
		{ "namespaces", "", "ns", "" },
		{ "nodes", "", "no", "" },
		{ "pods", "", "po", "all" },
		{ "podtemplates", "", "", "" },
		{ "replicationcontrollers", "", "rc", "all" },
		{ "secrets", "", "", "" },
		{ "serviceaccounts", "", "sa", "" },
		{ "services", "", "svc", "all" },
		{ "controllerrevisions", "apps", "", "" },
		{ "daemonsets", "apps", "ds", "all" },
		{ "deployments", "apps", "deploy", "all" },
		{ "replicasets", "apps", "rs", "all" },
		{ "statefulsets", "apps", "sts", "all" },
		{ "events", "events.k8s.io", "ev", "" },
		{ "leases", "coordination.k8s.io", "", "" },
		{ "endpointslices", "discovery.k8s.io", "", "" },
	};
	char buf[128];
	ck_assert_uint_eq(resource_count, ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		const struct resource *r = resource_table[i];
		char *s = joined(r->short_names), *c = joined(r->categories);
		ck_assert_str_eq(r->plural, want[i].plural);
		ck_assert_str_eq(r->group, want[i].group);
		ck_assert_str_eq(s, want[i].short_names);
		ck_assert_str_eq(c, want[i].categories);
		ck_assert_ptr_eq(resource_find(r->group, r->version, r->plural), r);
		ck_assert_ptr_eq(resource_by_kind(r->group, r->kind), r);
		free(s);
		free(c);
	}
	ck_assert_ptr_null(resource_find("apps", "v1", "pods"));
	ck_assert_ptr_null(resource_find("", "v2", "pods"));
	ck_assert_str_eq(resource_storage(&res_deployment, buf), "deployments.apps");
	ck_assert_str_eq(resource_storage(&res_pod, buf), "pods");
	ck_assert_str_eq(resource_storage(&res_events_event, buf), "events");
	ck_assert_str_eq(resource_storage(&res_endpointslice, buf), "endpointslices.discovery.k8s.io");
	ck_assert_str_eq(resource_api_version(&res_lease, buf), "coordination.k8s.io/v1");
	ck_assert_str_eq(resource_api_version(&res_node, buf), "v1");
	ck_assert(!res_node.namespaced && !res_namespace.namespaced && res_pod.namespaced);
	ck_assert(res_pod.delete_returns_object && res_serviceaccount.delete_returns_object);
	ck_assert(res_service.delete_returns_object && !res_configmap.delete_returns_object);
	ck_assert(res_deployment.generation_on_annotations && res_replicaset.generation);
	ck_assert(!res_pod.generation && !res_service.generation);
	ck_assert(res_deployment.has_scale && res_statefulset.has_scale && !res_daemonset.has_scale);
	ck_assert(res_replicationcontroller.has_scale);
	ck_assert_str_eq(res_replicaset.scale_spec, "spec.replicas");
	ck_assert_ptr_nonnull(res_service.admit); /* issue 4 */
}
END_TEST

START_TEST(test_events_conversion)
{
	const char *v1 = "{\"apiVersion\":\"events.k8s.io/v1\",\"kind\":\"Event\","
			 "\"metadata\":{\"name\":\"e\"},\"eventTime\":\"2024-05-13T13:00:00.000000Z\","
			 "\"reportingController\":\"kubelet\",\"reportingInstance\":\"n\","
			 "\"action\":\"Pull\",\"reason\":\"Pulled\",\"regarding\":{\"kind\":\"Pod\"},"
			 "\"note\":\"done\",\"type\":\"Normal\",\"deprecatedCount\":2,"
			 "\"deprecatedSource\":{\"component\":\"kubelet\"}}";
	cJSON *obj = cJSON_Parse(v1), *orig = cJSON_Parse(v1);
	res_events_event.to_storage(obj);
	ck_assert_str_eq(jstr(obj, "apiVersion"), "v1");
	ck_assert_str_eq(jstr(obj, "message"), "done");
	ck_assert_str_eq(jstr(obj, "involvedObject.kind"), "Pod");
	ck_assert_str_eq(jstr(obj, "reportingComponent"), "kubelet");
	ck_assert_int_eq(jint(obj, "count", 0), 2);
	ck_assert_str_eq(jstr(obj, "source.component"), "kubelet");
	ck_assert_ptr_null(jget(obj, "note"));
	res_events_event.from_storage(obj);
	expect_json(obj, orig, "events.k8s.io round trip");
	/* Member order survives the round trip. */
	char *a = jprint(obj), *b = jprint(orig);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	cJSON_Delete(obj);
	cJSON_Delete(orig);
}
END_TEST

START_TEST(test_prepare_create)
{
	static const struct { const char *obj, *status; } cases[] = {
		{ "{\"kind\":\"Pod\",\"spec\":{\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":\"Running\"}}",
		  "{\"phase\":\"Pending\",\"qosClass\":\"BestEffort\"}" },
		{ "{\"kind\":\"Pod\",\"spec\":{\"containers\":[{\"name\":\"a\",\"resources\":{\"limits\":"
		  "{\"cpu\":\"1\",\"memory\":\"1Gi\"},\"requests\":{\"cpu\":\"1000m\",\"memory\":\"1024Mi\"}}}]}}",
		  "{\"phase\":\"Pending\",\"qosClass\":\"Guaranteed\"}" },
		{ "{\"kind\":\"Pod\",\"spec\":{\"containers\":[{\"name\":\"a\",\"resources\":{\"requests\":"
		  "{\"cpu\":\"100m\"}}}],\"schedulingGates\":[{\"name\":\"g\"}]}}",
		  "{\"phase\":\"Pending\",\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"False\","
		  "\"lastProbeTime\":null,\"lastTransitionTime\":null,\"reason\":\"SchedulingGated\","
		  "\"message\":\"Scheduling is blocked due to non-empty scheduling gates\"}],"
		  "\"qosClass\":\"Burstable\"}" },
		{ "{\"kind\":\"Deployment\",\"status\":{\"replicas\":3}}", "{}" },
		{ "{\"kind\":\"ReplicaSet\"}", "{\"replicas\":0}" },
		{ "{\"kind\":\"StatefulSet\"}", "{\"replicas\":0,\"availableReplicas\":0}" },
		{ "{\"kind\":\"DaemonSet\"}", "{\"currentNumberScheduled\":0,\"numberMisscheduled\":0,"
		  "\"desiredNumberScheduled\":0,\"numberReady\":0}" },
		{ "{\"kind\":\"Service\",\"status\":{\"loadBalancer\":{\"ingress\":[{\"ip\":\"1.2.3.4\"}]}}}",
		  "{\"loadBalancer\":{}}" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		cJSON *obj = cJSON_Parse(cases[i].obj), *want = cJSON_Parse(cases[i].status);
		const char *kind = jstr(obj, "kind");
		const struct resource *r = resource_by_kind(
			!strcmp(kind, "Pod") || !strcmp(kind, "Service") ? "" : "apps", kind);
		r->prepare_create(obj);
		expect_json(jget(obj, "status"), want, kind);
		if (i == 2) { /* JSON member order as the Go encoder writes it */
			char *a = jprint(jget(obj, "status")), *b = jprint(want);
			ck_assert_str_eq(a, b);
			free(a);
			free(b);
		}
		cJSON_Delete(obj);
		cJSON_Delete(want);
	}
	double q;
	ck_assert(res_quantity_parse("1.5Gi", &q) && q == 1.5 * 1073741824.0);
	ck_assert(res_quantity_parse("250m", &q) && q == 0.25);
	ck_assert(!res_quantity_parse("12 Mi", &q) && !res_quantity_parse("", &q));
}
END_TEST

/* Bad input never aborts: every hook on odd shapes, under ASan/UBSan. */
START_TEST(test_robust)
{
	static const char *const odd[] = {
		"{}",
		"{\"spec\":{\"replicas\":-1e300,\"progressDeadlineSeconds\":1e300,"
		"\"leaseDurationSeconds\":-1e300,\"ports\":[{\"targetPort\":1e300}]}}",
		"{\"metadata\":[],\"spec\":\"x\",\"status\":7,\"data\":[1],\"subsets\":{}}",
		"{\"metadata\":{\"name\":5,\"labels\":[\"a\"],\"annotations\":\"x\","
		"\"ownerReferences\":{},\"finalizers\":[1,null]},\"spec\":{\"containers\":{\"a\":1},"
		"\"template\":[],\"selector\":[1],\"ports\":[7,\"x\",{\"port\":\"80\"}],"
		"\"strategy\":{\"type\":5,\"rollingUpdate\":\"x\"},\"updateStrategy\":[],"
		"\"clusterIPs\":[1,2,3],\"ipFamilies\":{},\"externalIPs\":[null],"
		"\"sessionAffinity\":\"ClientIP\",\"sessionAffinityConfig\":\"x\",\"type\":\"LoadBalancer\"},"
		"\"status\":{\"conditions\":\"x\",\"containerStatuses\":[1,{\"state\":[]}],"
		"\"loadBalancer\":{\"ingress\":[null,{}]},\"addresses\":7},"
		"\"subsets\":[{\"addresses\":[{}],\"ports\":[{}]},7],\"endpoints\":[{\"addresses\":[5]}],"
		"\"involvedObject\":[],\"series\":{},\"stringData\":{\"k\":5},\"data\":{\"a.b\":1}}",
		"{\"metadata\":{\"name\":\"x\",\"namespace\":\"d\",\"deletionTimestamp\":\"bad\","
		"\"creationTimestamp\":\"2024-99-99\"},\"spec\":{\"initContainers\":[{\"name\":\"i\"}],"
		"\"containers\":[{}],\"template\":{\"metadata\":[],\"spec\":[]},\"selector\":{"
		"\"matchLabels\":[\"x\"],\"matchExpressions\":[7,{\"values\":{}}]}},\"status\":{"
		"\"initContainerStatuses\":[{\"name\":\"i\",\"state\":{\"terminated\":{\"exitCode\":\"x\"}}}],"
		"\"podIPs\":[7]}}",
	};
	for (size_t i = 0; i < resource_count; i++) {
		const struct resource *r = resource_table[i];
		for (size_t k = 0; k < ARRAY_SIZE(odd); k++) {
			cJSON *obj = cJSON_Parse(odd[k]), *cells = cJSON_CreateArray(), *cond;
			struct field_errs fe = { 0 };
			char buf[64];
			ck_assert_ptr_nonnull(obj);
			if (r->to_storage)
				r->to_storage(obj);
			if (r->defaults)
				r->defaults(obj);
			resource_validate_meta(r, obj, &fe);
			if (r->validate) {
				r->validate(obj, NULL, &fe);
				r->validate(obj, obj, &fe);
			}
			field_errs_release(&fe);
			resource_cells(r, obj, 0, cells);
			cond = r->row_conditions ? r->row_conditions(obj) : NULL;
			resource_field(r, obj, "metadata.name", buf, sizeof(buf));
			resource_field(r, obj, "status.phase", buf, sizeof(buf));
			if (r->prepare_create)
				r->prepare_create(obj);
			if (r->from_storage)
				r->from_storage(obj);
			cJSON_Delete(cond);
			cJSON_Delete(cells);
			cJSON_Delete(obj);
		}
	}
}
END_TEST

static Suite *resources_suite(void)
{
	Suite *s = suite_create("resources");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, test_cells, 0, (int)ARRAY_SIZE(cell_fixtures));
	tcase_add_test(tc, test_columns);
	tcase_add_test(tc, test_default_printer);
	tcase_add_test(tc, test_human_duration);
	tcase_add_test(tc, test_name_messages);
	tcase_add_test(tc, test_meta_messages);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_validation);
	tcase_add_test(tc, test_selectors);
	tcase_add_test(tc, test_fields);
	tcase_add_test(tc, test_registry);
	tcase_add_test(tc, test_events_conversion);
	tcase_add_test(tc, test_prepare_create);
	tcase_add_test(tc, test_robust);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(resources_suite());
	int failed;
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
