/*
 * tests/unit/test_selector.c: label and field selectors (server/registry/selector.h).
 *
 * The golden table at the end was produced by running the same inputs
 * through k8s.io/apimachinery v0.27.0 (labels.Parse, fields.ParseSelector,
 * metav1.LabelSelectorAsSelector, String() and Matches()); v0.27-v0.33 do
 * not differ here. Each row is rendered as "OK <matches> [<String()>]" or
 * "ERR <message>", exactly as the Go harness printed it.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/util.h"
#include "server/registry/selector.h"

/* ------------------------------------------------------------------------- */
/* helpers                                                                   */

static bool lmatch(const char *sel_text, const char *labels_json)
{
	struct label_selector *sel = NULL;
	struct lk_err err = { 0 };
	cJSON *labels = labels_json ? cJSON_Parse(labels_json) : NULL;
	bool m;

	ck_assert_msg(label_selector_parse(sel_text, &sel, &err) == 0,
		      "parse '%s': %s", sel_text, err.msg);
	m = label_selector_match(sel, labels);
	label_selector_free(sel);
	cJSON_Delete(labels);
	lk_err_clear(&err);
	return m;
}

/* Parse must fail with exactly msg (400 BadRequest). */
static void lparse_err(const char *sel_text, const char *msg)
{
	struct label_selector *sel = (void *)1;
	struct lk_err err = { 0 };

	ck_assert_int_eq(label_selector_parse(sel_text, &sel, &err), -1);
	ck_assert_ptr_null(sel);
	ck_assert_int_eq(err.code, LK_EBADREQUEST);
	ck_assert_str_eq(err.msg, msg);
	lk_err_clear(&err);
}

static char *lstring(const char *sel_text)
{
	struct label_selector *sel = NULL;
	char *s;

	ck_assert_int_eq(label_selector_parse(sel_text, &sel, NULL), 0);
	s = label_selector_string(sel);
	label_selector_free(sel);
	return s;
}

/* A pod-like getter: the fields §3 lists for Pod, plus the generic pair. */
static int pod_field(const cJSON *obj, const char *label, char *buf,
		     size_t len, void *arg)
{
	static const char *const paths[][2] = {
		{ "spec.nodeName", "spec.nodeName" },
		{ "spec.host", "spec.nodeName" },
		{ "spec.restartPolicy", "spec.restartPolicy" },
		{ "status.phase", "status.phase" },
	};
	size_t i;
	int n = field_get_meta(obj, label, buf, len, arg);

	if (n >= 0)
		return n;
	for (i = 0; i < ARRAY_SIZE(paths); i++)
		if (!strcmp(label, paths[i][0]))
			return field_put(buf, len, jstr(obj, paths[i][1]));
	return -1;
}

/* Event getter: flat "involvedObject.x" paths, values may be long. */
static int event_field(const cJSON *obj, const char *label, char *buf,
		       size_t len, void *arg)
{
	int n = field_get_meta(obj, label, buf, len, arg);

	if (n >= 0)
		return n;
	if (str_has_prefix(label, "involvedObject.") || !strcmp(label, "reason") ||
	    !strcmp(label, "type"))
		return field_put(buf, len, jstr(obj, label));
	return -1;
}

static bool fmatch(const char *sel_text, const char *obj_json,
		   field_get_fn *get)
{
	struct field_selector *sel = NULL;
	struct lk_err err = { 0 };
	cJSON *obj = cJSON_Parse(obj_json);
	bool m;

	ck_assert_ptr_nonnull(obj);
	ck_assert_msg(field_selector_parse(sel_text, &sel, &err) == 0,
		      "parse '%s': %s", sel_text, err.msg);
	ck_assert_int_eq(field_selector_check(sel, get, NULL, true, &err), 0);
	m = field_selector_match(sel, obj, get, NULL);
	field_selector_free(sel);
	cJSON_Delete(obj);
	return m;
}

static void fparse_err(const char *sel_text, const char *msg)
{
	struct field_selector *sel = (void *)1;
	struct lk_err err = { 0 };

	ck_assert_int_eq(field_selector_parse(sel_text, &sel, &err), -1);
	ck_assert_ptr_null(sel);
	ck_assert_int_eq(err.code, LK_EBADREQUEST);
	ck_assert_str_eq(err.msg, msg);
	lk_err_clear(&err);
}

#define POD "{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"default\"}," \
	    "\"spec\":{\"nodeName\":\"node-1\",\"restartPolicy\":\"Always\"}," \
	    "\"status\":{\"phase\":\"Running\"}}"

/* ------------------------------------------------------------------------- */
/* label selectors                                                           */

START_TEST(label_equality)
{
	ck_assert(lmatch("app=web", "{\"app\":\"web\"}"));
	ck_assert(lmatch("app==web", "{\"app\":\"web\"}"));
	ck_assert(!lmatch("app=web", "{\"app\":\"db\"}"));
	ck_assert(!lmatch("app=web", "{}"));
	ck_assert(!lmatch("app=web", NULL));
	ck_assert(lmatch("app!=web", "{\"app\":\"db\"}"));
	ck_assert(!lmatch("app!=web", "{\"app\":\"web\"}"));
	/* != matches when the key is missing */
	ck_assert(lmatch("app!=web", "{}"));
	ck_assert(lmatch("app!=web", NULL));
	/* empty values */
	ck_assert(lmatch("app=", "{\"app\":\"\"}"));
	ck_assert(!lmatch("app=", "{}"));
	ck_assert(lmatch("app!=", "{}"));
	/* keys are case-sensitive */
	ck_assert(!lmatch("App=web", "{\"app\":\"web\"}"));
}
END_TEST

START_TEST(label_sets)
{
	ck_assert(lmatch("env in (prod,qa)", "{\"env\":\"qa\"}"));
	ck_assert(!lmatch("env in (prod,qa)", "{\"env\":\"dev\"}"));
	ck_assert(!lmatch("env in (prod,qa)", "{}"));
	ck_assert(lmatch("env notin (prod)", "{\"env\":\"qa\"}"));
	ck_assert(!lmatch("env notin (prod)", "{\"env\":\"prod\"}"));
	/* notin matches when the key is missing */
	ck_assert(lmatch("env notin (prod)", "{}"));
	ck_assert(lmatch("env notin (prod)", NULL));
	/* () and empty members mean the empty value */
	ck_assert(lmatch("env in ()", "{\"env\":\"\"}"));
	ck_assert(lmatch("env in (a,,b)", "{\"env\":\"\"}"));
	ck_assert(lmatch("env in (,a)", "{\"env\":\"\"}"));
	/* in/notin are plain words where a key or value is expected */
	ck_assert(lmatch("in in (notin)", "{\"in\":\"notin\"}"));
	ck_assert(lmatch("notin=in", "{\"notin\":\"in\"}"));
}
END_TEST

START_TEST(label_exists)
{
	ck_assert(lmatch("app", "{\"app\":\"\"}"));
	ck_assert(!lmatch("app", "{\"other\":\"x\"}"));
	ck_assert(!lmatch("app", NULL));
	ck_assert(lmatch("!app", "{\"other\":\"x\"}"));
	ck_assert(lmatch("!app", NULL));
	ck_assert(!lmatch("!app", "{\"app\":\"\"}"));
	ck_assert(lmatch("! app", "{}"));
}
END_TEST

START_TEST(label_gt_lt)
{
	ck_assert(lmatch("n>1", "{\"n\":\"2\"}"));
	ck_assert(!lmatch("n>1", "{\"n\":\"1\"}"));
	ck_assert(!lmatch("n>1", "{\"n\":\"x\"}"));
	ck_assert(!lmatch("n>1", "{}"));
	ck_assert(lmatch("n<10", "{\"n\":\"-5\"}"));
	ck_assert(lmatch("n<10", "{\"n\":\"+5\"}"));
	ck_assert(!lmatch("n<10", "{\"n\":\"99999999999999999999\"}"));
}
END_TEST

START_TEST(label_and_whitespace)
{
	const char *l = "{\"app\":\"web\",\"tier\":\"fe\",\"env\":\"qa\"}";

	ck_assert(lmatch("app=web,tier=fe", l));
	ck_assert(!lmatch("app=web,tier=be", l));
	ck_assert(lmatch("  app = web ,\ttier in ( fe , be ) , ! legacy , env ",
			 l));
	ck_assert(lmatch("tier in (frontend,fe),env!=prod", l));
	ck_assert(lmatch("", l));
	ck_assert(lmatch("   ", l));
	ck_assert(lmatch(NULL, l));
	ck_assert(label_selector_match(NULL, NULL));
}
END_TEST

START_TEST(label_kubectl_strings)
{
	const char *dns = "{\"kubernetes.io/cluster-service\":\"true\","
			  "\"k8s-app\":\"kube-dns\"}";

	ck_assert(lmatch("kubernetes.io/cluster-service=true", dns));
	ck_assert(!lmatch("kubernetes.io/cluster-service=true", "{\"x\":\"y\"}"));
	ck_assert(lmatch("k8s-app=kube-dns", dns));
	ck_assert(lmatch("app.kubernetes.io/name=web,"
			 "app.kubernetes.io/instance!=old",
			 "{\"app.kubernetes.io/name\":\"web\"}"));
	/* pod-template-hash as the deployment controller adds it */
	ck_assert(lmatch("app=nginx,pod-template-hash=7c5ddbdf54",
			 "{\"app\":\"nginx\",\"pod-template-hash\":\"7c5ddbdf54\"}"));
}
END_TEST

START_TEST(label_parse_errors)
{
	lparse_err("a b", "unable to parse requirement: found 'b', expected: "
		   "in, notin, =, ==, !=, gt, lt");
	lparse_err("a,", "found '', expected: identifier after ','");
	lparse_err(",a", "found ',', expected: !, identifier, or 'end of "
		   "string'");
	lparse_err("a=b c", "found 'c', expected: ',' or 'end of string'");
	lparse_err("!a=b", "found '=', expected: ',' or 'end of string'");
	lparse_err("!", "unable to parse requirement: found '', expected: "
		   "identifier");
	lparse_err("a in x", "unable to parse requirement: found 'x' "
		   "expected: '('");
	lparse_err("a in (x", "unable to parse requirement: found '', "
		   "expected: ',' or ')'");
	lparse_err("a in (=)", "unable to parse requirement: found '=', "
		   "expected: ',', ')' or identifier");
	lparse_err("a=(b)", "unable to parse requirement: found '(', "
		   "expected: identifier");
	lparse_err("a>x", "unable to parse requirement: values[0]: Invalid "
		   "value: \"x\": for 'Gt', 'Lt' operators, the value must be "
		   "an integer");
	lparse_err("/a=b", "unable to parse requirement: <nil>: Invalid value: "
		   "\"/a\": prefix part must be non-empty");
	lparse_err("-a", "unable to parse requirement: <nil>: Invalid value: "
		   "\"-a\": name part must consist of alphanumeric characters, "
		   "'-', '_' or '.', and must start and end with an "
		   "alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
		   "'123-abc', regex used for validation is "
		   "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
	lparse_err("a=b@", "unable to parse requirement: values[0][a]: Invalid "
		   "value: \"b@\": a valid label must be an empty string or "
		   "consist of alphanumeric characters, '-', '_' or '.', and "
		   "must start and end with an alphanumeric character (e.g. "
		   "'MyValue',  or 'my_value',  or '12345', regex used for "
		   "validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
	/* the error code maps to 400 */
	{
		struct label_selector *sel = NULL;
		struct lk_err err = { 0 };

		label_selector_parse("a b", &sel, &err);
		ck_assert_int_eq(lk_err_http(err.code), 400);
		lk_err_clear(&err);
		/* err may be NULL */
		ck_assert_int_eq(label_selector_parse("a b", &sel, NULL), -1);
	}
}
END_TEST

START_TEST(label_string)
{
	char *s;

	/* sorted by key, set values sorted, blanks gone */
	s = lstring(" z = 1 , b in (y, x), !a, c ");
	ck_assert_str_eq(s, "!a,b in (x,y),c,z=1");
	free(s);
	s = lstring("a==b,c!=d,e notin (f),g>1,h<2");
	ck_assert_str_eq(s, "a==b,c!=d,e notin (f),g>1,h<2");
	free(s);
	s = lstring("");
	ck_assert_str_eq(s, "");
	free(s);
	s = label_selector_string(NULL);
	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

static struct label_selector *from_json(const char *json, struct lk_err *err)
{
	struct label_selector *sel = NULL;
	cJSON *j = json ? cJSON_Parse(json) : NULL;
	int rc = label_selector_from_json(j, &sel, err);

	cJSON_Delete(j);
	ck_assert(rc == 0 ? sel != NULL : sel == NULL);
	return sel;
}

START_TEST(label_from_json)
{
	struct lk_err err = { 0 };
	struct label_selector *sel;
	cJSON *web = cJSON_Parse("{\"app\":\"web\",\"tier\":\"fe\"}");
	cJSON *none = cJSON_CreateObject();
	char *s;

	/* NULL / null: nothing */
	sel = from_json(NULL, &err);
	ck_assert(!label_selector_match(sel, web));
	ck_assert(!label_selector_match(sel, none));
	ck_assert(!label_selector_empty(sel));
	label_selector_free(sel);
	sel = from_json("null", &err);
	ck_assert(!label_selector_match(sel, web));
	label_selector_free(sel);

	/* {}: everything */
	sel = from_json("{}", &err);
	ck_assert(label_selector_match(sel, web));
	ck_assert(label_selector_match(sel, NULL));
	ck_assert(label_selector_empty(sel));
	label_selector_free(sel);
	sel = from_json("{\"matchLabels\":{},\"matchExpressions\":[]}", &err);
	ck_assert(label_selector_match(sel, none));
	label_selector_free(sel);

	sel = from_json("{\"matchLabels\":{\"app\":\"web\"},"
			"\"matchExpressions\":["
			"{\"key\":\"tier\",\"operator\":\"In\",\"values\":[\"fe\",\"be\"]},"
			"{\"key\":\"env\",\"operator\":\"NotIn\",\"values\":[\"prod\"]},"
			"{\"key\":\"app\",\"operator\":\"Exists\"},"
			"{\"key\":\"legacy\",\"operator\":\"DoesNotExist\"}]}",
			&err);
	ck_assert_ptr_nonnull(sel);
	ck_assert(label_selector_match(sel, web));
	ck_assert(!label_selector_match(sel, none));
	s = label_selector_string(sel);
	ck_assert_str_eq(s, "app=web,app,env notin (prod),!legacy,tier in (be,fe)");
	free(s);
	label_selector_free(sel);

	ck_assert_ptr_null(from_json("{\"matchExpressions\":[{\"key\":\"a\","
				     "\"operator\":\"In\"}]}", &err));
	ck_assert_int_eq(err.code, LK_EBADREQUEST);
	ck_assert_str_eq(err.msg, "values: Invalid value: []string(nil): for "
			 "'in', 'notin' operators, values set can't be empty");
	ck_assert_ptr_null(from_json("{\"matchExpressions\":[{\"key\":\"a\","
				     "\"operator\":\"Exists\",\"values\":[\"x\",\"y\"]}]}",
				     &err));
	ck_assert_str_eq(err.msg, "values: Invalid value: []string{\"x\", \"y\"}: "
			 "values set must be empty for exists and does not exist");
	ck_assert_ptr_null(from_json("{\"matchExpressions\":[{\"key\":\"a\","
				     "\"operator\":\"Gt\",\"values\":[\"1\"]}]}", &err));
	ck_assert_str_eq(err.msg, "\"Gt\" is not a valid label selector operator");
	ck_assert_ptr_null(from_json("{\"matchExpressions\":[{\"key\":\"a\"}]}",
				     &err));
	ck_assert_str_eq(err.msg, "\"\" is not a valid label selector operator");
	ck_assert_ptr_null(from_json("{\"matchLabels\":{\"a b\":\"c\"}}", &err));
	ck_assert(str_has_prefix(err.msg, "key: Invalid value: \"a b\": name "
				 "part must consist of"));
	ck_assert_ptr_null(from_json("{\"matchLabels\":{\"a\":1}}", &err));
	ck_assert_ptr_null(from_json("{\"matchLabels\":[]}", &err));
	ck_assert_ptr_null(from_json("[]", &err));
	ck_assert_ptr_null(from_json("{\"matchExpressions\":[{\"key\":\"a\","
				     "\"operator\":\"In\",\"values\":[1]}]}", &err));
	lk_err_clear(&err);
	cJSON_Delete(web);
	cJSON_Delete(none);
}
END_TEST

START_TEST(label_sets_from_maps)
{
	cJSON *sel = cJSON_Parse("{\"app\":\"web\",\"tier\":\"fe\"}");
	cJSON *empty = cJSON_CreateObject();
	cJSON *bad = cJSON_Parse("{\"app\":1}");
	cJSON *pod = cJSON_Parse("{\"app\":\"web\",\"tier\":\"fe\",\"x\":\"y\"}");
	cJSON *other = cJSON_Parse("{\"app\":\"web\"}");
	struct label_selector *s;
	char *str;

	ck_assert(label_set_match(sel, pod));
	ck_assert(!label_set_match(sel, other));
	ck_assert(!label_set_match(sel, NULL));
	ck_assert(label_set_match(empty, pod));
	ck_assert(label_set_match(NULL, pod));
	ck_assert(!label_set_match(bad, other));
	/* Service rule: no selector selects nothing */
	ck_assert(label_set_match_nonempty(sel, pod));
	ck_assert(!label_set_match_nonempty(sel, other));
	ck_assert(!label_set_match_nonempty(empty, pod));
	ck_assert(!label_set_match_nonempty(NULL, pod));

	s = label_selector_from_set(sel);
	ck_assert(label_selector_match(s, pod));
	ck_assert(!label_selector_match(s, other));
	str = label_selector_string(s);
	ck_assert_str_eq(str, "app=web,tier=fe");
	free(str);
	label_selector_free(s);
	s = label_selector_from_set(NULL);
	ck_assert(label_selector_match(s, pod));
	ck_assert(label_selector_empty(s));
	label_selector_free(s);
	s = label_selector_from_set(bad);
	ck_assert(!label_selector_match(s, other));
	label_selector_free(s);

	cJSON_Delete(sel);
	cJSON_Delete(empty);
	cJSON_Delete(bad);
	cJSON_Delete(pod);
	cJSON_Delete(other);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* field selectors                                                           */

START_TEST(field_operators)
{
	ck_assert(fmatch("metadata.name=web-1", POD, pod_field));
	ck_assert(fmatch("metadata.name==web-1", POD, pod_field));
	ck_assert(!fmatch("metadata.name!=web-1", POD, pod_field));
	ck_assert(fmatch("metadata.namespace=default", POD, pod_field));
	ck_assert(fmatch("spec.restartPolicy!=Never,status.phase=Running", POD,
			 pod_field));
	ck_assert(!fmatch("metadata.name=web-1,status.phase=Pending", POD,
			  pod_field));
	ck_assert(fmatch("", POD, pod_field));
	ck_assert(fmatch(",,", POD, pod_field));
	ck_assert(fmatch("spec.host=node-1", POD, pod_field));
	/* a missing field is "" */
	ck_assert(fmatch("metadata.namespace=", "{\"metadata\":{\"name\":\"n\"}}",
			 pod_field));
	ck_assert(!fmatch("metadata.namespace!=", "{\"metadata\":{\"name\":\"n\"}}",
			  pod_field));
	ck_assert(field_selector_match(NULL, NULL, pod_field, NULL));
}
END_TEST

START_TEST(field_kubectl_strings)
{
	const char *ev = "{\"metadata\":{\"name\":\"e1\",\"namespace\":\"default\"},"
			 "\"involvedObject\":{\"uid\":\"abc\",\"name\":\"x\","
			 "\"namespace\":\"default\",\"kind\":\"Pod\"}}";
	const char *q = "involvedObject.uid=abc,involvedObject.name=x,"
			"involvedObject.namespace=default";
	const char *kubelet = "spec.nodeName=node-1,status.phase!=Failed,"
			      "status.phase!=Succeeded";

	ck_assert(fmatch(q, ev, event_field));
	ck_assert(!fmatch("involvedObject.uid=abd,involvedObject.name=x,"
			  "involvedObject.namespace=default", ev, event_field));
	ck_assert(fmatch(kubelet, POD, pod_field));
	ck_assert(fmatch(kubelet, "{\"spec\":{\"nodeName\":\"node-1\"}}",
			 pod_field));
	ck_assert(!fmatch(kubelet, "{\"spec\":{\"nodeName\":\"node-1\"},"
			  "\"status\":{\"phase\":\"Failed\"}}", pod_field));
	ck_assert(!fmatch(kubelet, "{\"spec\":{\"nodeName\":\"node-1\"},"
			  "\"status\":{\"phase\":\"Succeeded\"}}", pod_field));
	ck_assert(!fmatch(kubelet, "{\"spec\":{\"nodeName\":\"node-2\"}}",
			  pod_field));
	/* rollout status / wait */
	ck_assert(fmatch("metadata.name=web-1", POD, pod_field));
}
END_TEST

START_TEST(field_terms_and_escapes)
{
	struct field_selector *sel = NULL;

	ck_assert_int_eq(field_selector_parse("b!=x\\,y,a==p\\=q\\\\,,c=", &sel,
					      NULL), 0);
	/* sorted by raw text, empty terms skipped, values unescaped */
	ck_assert_uint_eq(field_selector_nterms(sel), 3);
	ck_assert_str_eq(field_selector_term_key(sel, 0), "a");
	ck_assert_str_eq(field_selector_term_value(sel, 0), "p=q\\");
	ck_assert(!field_selector_term_neq(sel, 0));
	ck_assert_str_eq(field_selector_term_key(sel, 1), "b");
	ck_assert_str_eq(field_selector_term_value(sel, 1), "x,y");
	ck_assert(field_selector_term_neq(sel, 1));
	ck_assert_str_eq(field_selector_term_key(sel, 2), "c");
	ck_assert_str_eq(field_selector_term_value(sel, 2), "");
	ck_assert_str_eq(field_selector_requires(sel, "a"), "p=q\\");
	ck_assert_ptr_null(field_selector_requires(sel, "b"));
	ck_assert_ptr_null(field_selector_requires(sel, "zz"));
	field_selector_free(sel);

	/* a bare "=" term is dropped (Transform) */
	ck_assert_int_eq(field_selector_parse("=,a=b", &sel, NULL), 0);
	ck_assert_uint_eq(field_selector_nterms(sel), 1);
	field_selector_free(sel);
	/* "!" in a key is literal; nothing is trimmed */
	ck_assert_int_eq(field_selector_parse("a!b=c, d = e", &sel, NULL), 0);
	ck_assert_str_eq(field_selector_term_key(sel, 0), " d ");
	ck_assert_str_eq(field_selector_term_value(sel, 0), " e");
	ck_assert_str_eq(field_selector_term_key(sel, 1), "a!b");
	field_selector_free(sel);

	ck_assert_int_eq(field_selector_parse(NULL, &sel, NULL), 0);
	ck_assert_uint_eq(field_selector_nterms(sel), 0);
	field_selector_free(sel);
	ck_assert_uint_eq(field_selector_nterms(NULL), 0);
	field_selector_free(NULL);
}
END_TEST

START_TEST(field_parse_errors)
{
	fparse_err("a", "invalid selector: 'a'; can't understand 'a'");
	fparse_err("a=b,c", "invalid selector: 'a=b,c'; can't understand 'c'");
	/* terms are sorted before parsing: 'a' fails before 'b=x=y' */
	fparse_err("b=x=y,a", "invalid selector: 'b=x=y,a'; can't understand 'a'");
	fparse_err("a=b=c", "invalid field selector: unescaped character in "
		   "value: 61");
	fparse_err("a=b\\", "invalid field selector: invalid escape sequence: \\");
	fparse_err("a=b\\!", "invalid field selector: invalid escape sequence: \\!");
	fparse_err("a=b\\x", "invalid field selector: invalid escape sequence: \\x");
	fparse_err("a=\\\xc3\xa9", "invalid field selector: invalid escape "
		   "sequence: \\\xc3\xa9");
}
END_TEST

static int long_field(const cJSON *obj, const char *label, char *buf,
		      size_t len, void *arg)
{
	if (strcmp(label, "x"))
		return field_get_meta(obj, label, buf, len, arg);
	return field_put(buf, len, jstr(obj, "x"));
}

START_TEST(field_long_values)
{
	struct strbuf v = STRBUF_INIT, sel = STRBUF_INIT, obj = STRBUF_INIT;
	int i;

	for (i = 0; i < 2000; i++)
		sb_addc(&v, 'a' + i % 26);
	sb_addf(&sel, "x=%s", v.buf);
	sb_addf(&obj, "{\"x\":\"%s\"}", v.buf);
	ck_assert(fmatch(sel.buf, obj.buf, long_field));
	sb_addc(&sel, 'z');
	ck_assert(!fmatch(sel.buf, obj.buf, long_field));
	sb_release(&v);
	sb_release(&sel);
	sb_release(&obj);
}
END_TEST

START_TEST(field_check_messages)
{
	struct field_selector *sel = NULL;
	struct lk_err err = { 0 };

	ck_assert_int_eq(field_selector_parse("spec.nodeName=n,spec.bogus=x,"
					      "metadata.name=a", &sel, NULL), 0);
	/* a kind with a conversion func (Pod) */
	ck_assert_int_eq(field_selector_check(sel, pod_field, NULL, true, &err), -1);
	ck_assert_int_eq(err.code, LK_EBADREQUEST);
	ck_assert_int_eq(lk_err_http(err.code), 400);
	ck_assert_str_eq(err.msg, "field label not supported: spec.bogus");
	field_selector_free(sel);

	/* a kind with the default conversion (Deployment, ConfigMap, ...) */
	ck_assert_int_eq(field_selector_parse("status.replicas=1", &sel, NULL), 0);
	ck_assert_int_eq(field_selector_check(sel, field_get_meta, NULL, false,
					      &err), -1);
	ck_assert_str_eq(err.msg, "\"status.replicas\" is not a known field "
			 "selector: only \"metadata.name\", \"metadata.namespace\"");
	field_selector_free(sel);

	/* %q quoting of odd labels */
	ck_assert_int_eq(field_selector_parse("a\"b\\\\c\x01=1", &sel, NULL), 0);
	ck_assert_int_eq(field_selector_check(sel, field_get_meta, NULL, false,
					      &err), -1);
	ck_assert_str_eq(err.msg, "\"a\\\"b\\\\\\\\c\\x01\" is not a known field "
			 "selector: only \"metadata.name\", \"metadata.namespace\"");
	field_selector_free(sel);

	/* first failing term in sorted order wins */
	ck_assert_int_eq(field_selector_parse("zz=1,aa=2", &sel, NULL), 0);
	ck_assert_int_eq(field_selector_check(sel, pod_field, NULL, true, &err), -1);
	ck_assert_str_eq(err.msg, "field label not supported: aa");
	field_selector_free(sel);

	ck_assert_int_eq(field_selector_parse("metadata.name=a,metadata.namespace=b",
					      &sel, NULL), 0);
	ck_assert_int_eq(field_selector_check(sel, field_get_meta, NULL, false,
					      &err), 0);
	field_selector_free(sel);
	ck_assert_int_eq(field_selector_check(NULL, field_get_meta, NULL, false,
					      &err), 0);
	lk_err_clear(&err);
}
END_TEST

START_TEST(field_meta_getter)
{
	cJSON *o = cJSON_Parse("{\"metadata\":{\"name\":\"abcdef\"}}");
	char buf[4];

	ck_assert_int_eq(field_get_meta(o, "metadata.name", buf, sizeof(buf),
					NULL), 6);
	ck_assert_str_eq(buf, "abc");
	ck_assert_int_eq(field_get_meta(o, "metadata.namespace", buf,
					sizeof(buf), NULL), 0);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(field_get_meta(o, "spec.x", buf, sizeof(buf), NULL), -1);
	ck_assert_int_eq(field_put(NULL, 0, "xyz"), 3);
	cJSON_Delete(o);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* golden cases from apimachinery                                            */

static int map_field(const cJSON *obj, const char *label, char *buf,
		     size_t len, void *arg)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, label);

	return field_put(buf, len, cJSON_IsString(v) ? v->valuestring : "");
}

static void fsel_string(const struct field_selector *sel, struct strbuf *sb)
{
	size_t i;
	const char *v;

	for (i = 0; i < field_selector_nterms(sel); i++) {
		if (i)
			sb_addc(sb, ',');
		sb_adds(sb, field_selector_term_key(sel, i));
		sb_adds(sb, field_selector_term_neq(sel, i) ? "!=" : "=");
		for (v = field_selector_term_value(sel, i); *v; v++) {
			if (*v == '\\' || *v == ',' || *v == '=')
				sb_addc(sb, '\\');
			sb_addc(sb, *v);
		}
	}
}

/* Render one case as the Go harness did. */
static char *run_case(char mode, const char *in, const cJSON *labels)
{
	struct strbuf sb = STRBUF_INIT;
	struct lk_err err = { 0 };
	int rc;

	if (mode == 'F') {
		struct field_selector *sel = NULL;
		cJSON *obj = labels ? cJSON_Duplicate(labels, true) : NULL;
		rc = field_selector_parse(in, &sel, &err);
		if (!rc) {
			sb_addf(&sb, "OK %s [", field_selector_match(sel, obj,
				map_field, NULL) ? "true" : "false");
			fsel_string(sel, &sb);
			sb_addc(&sb, ']');
		}
		field_selector_free(sel);
		cJSON_Delete(obj);
	} else {
		struct label_selector *sel = NULL;
		if (mode == 'L') {
			rc = label_selector_parse(in, &sel, &err);
		} else {
			cJSON *j = cJSON_Parse(in);
			rc = label_selector_from_json(j, &sel, &err);
			cJSON_Delete(j);
		}
		if (!rc) {
			char *s = label_selector_string(sel);
			sb_addf(&sb, "OK %s [%s]", label_selector_match(sel,
				labels) ? "true" : "false", s);
			free(s);
		}
		label_selector_free(sel);
	}
	if (rc)
		sb_addf(&sb, "ERR %s", err.msg);
	lk_err_clear(&err);
	return sb_detach(&sb, NULL);
}

static const struct {
	char mode;
	const char *in, *labels, *want;
} golden[] = {
	{ 'L', "", NULL,
	  "OK true []" },
	{ 'L', "   ", NULL,
	  "OK true []" },
	{ 'L', "a", NULL,
	  "OK false [a]" },
	{ 'L', "!a", NULL,
	  "OK true [!a]" },
	{ 'L', "a=b", NULL,
	  "OK false [a=b]" },
	{ 'L', "a==b", NULL,
	  "OK false [a==b]" },
	{ 'L', "a!=b", NULL,
	  "OK true [a!=b]" },
	{ 'L', "a in (x,y)", NULL,
	  "OK false [a in (x,y)]" },
	{ 'L', "a notin (x)", NULL,
	  "OK true [a notin (x)]" },
	{ 'L', "a in ()", NULL,
	  "OK false [a in ()]" },
	{ 'L', "a in (,)", NULL,
	  "OK false [a in ()]" },
	{ 'L', "a in (x,,y)", NULL,
	  "OK false [a in (,x,y)]" },
	{ 'L', "a in (,x)", NULL,
	  "OK false [a in (,x)]" },
	{ 'L', "a in (x,)", NULL,
	  "OK false [a in (,x)]" },
	{ 'L', "a in (x", NULL,
	  "ERR unable to parse requirement: found '', expected: ',' or ')'" },
	{ 'L', "a in x", NULL,
	  "ERR unable to parse requirement: found 'x' expected: '('" },
	{ 'L', "a in (=)", NULL,
	  "ERR unable to parse requirement: found '=', expected: ',', ')' or identifier" },
	{ 'L', "a in (x y)", NULL,
	  "ERR unable to parse requirement: found 'y', expected: ',' or ')'" },
	{ 'L', "a in (x,=)", NULL,
	  "ERR unable to parse requirement: found '=', expected: ',', or identifier" },
	{ 'L', "a=b,c", NULL,
	  "OK false [a=b,c]" },
	{ 'L', "a=b,", NULL,
	  "ERR found '', expected: identifier after ','" },
	{ 'L', ",a", NULL,
	  "ERR found ',', expected: !, identifier, or 'end of string'" },
	{ 'L', "a,,b", NULL,
	  "ERR found ',', expected: identifier after ','" },
	{ 'L', "a=b c", NULL,
	  "ERR found 'c', expected: ',' or 'end of string'" },
	{ 'L', "a b", NULL,
	  "ERR unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt" },
	{ 'L', "a(", NULL,
	  "ERR unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt" },
	{ 'L', "a=(b)", NULL,
	  "ERR unable to parse requirement: found '(', expected: identifier" },
	{ 'L', "=a", NULL,
	  "ERR found '=', expected: !, identifier, or 'end of string'" },
	{ 'L', "!", NULL,
	  "ERR unable to parse requirement: found '', expected: identifier" },
	{ 'L', "!a=b", NULL,
	  "ERR found '=', expected: ',' or 'end of string'" },
	{ 'L', "!=a", NULL,
	  "ERR found '!=', expected: !, identifier, or 'end of string'" },
	{ 'L', "a>1", NULL,
	  "OK false [a>1]" },
	{ 'L', "a<1", NULL,
	  "OK false [a<1]" },
	{ 'L', "a>x", NULL,
	  "ERR unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, the value must be an integer" },
	{ 'L', "a>-1", NULL,
	  "ERR unable to parse requirement: values[0][a]: Invalid value: \"-1\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')" },
	{ 'L', "a>99999999999999999999", NULL,
	  "ERR unable to parse requirement: values[0]: Invalid value: \"99999999999999999999\": for 'Gt', 'Lt' operators, the value must be an integer" },
	{ 'L', "x==a==b", NULL,
	  "ERR found '==', expected: ',' or 'end of string'" },
	{ 'L', "x=a||y=b", NULL,
	  "ERR unable to parse requirement: values[0][x]: Invalid value: \"a||y\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')" },
	{ 'L', "x= ,z= ", NULL,
	  "OK false [x=,z=]" },
	{ 'L', " a = b , c in ( d , e ) , ! f ", NULL,
	  "OK false [a=b,c in (d,e),!f]" },
	{ 'L', "in=notin", NULL,
	  "OK false [in=notin]" },
	{ 'L', "notin=in", NULL,
	  "OK false [notin=in]" },
	{ 'L', "in in (in)", NULL,
	  "OK false [in in (in)]" },
	{ 'L', "a in in", NULL,
	  "ERR unable to parse requirement: found 'in' expected: '('" },
	{ 'L', "a notin (notin,in)", NULL,
	  "OK true [a notin (in,notin)]" },
	{ 'L', "kubernetes.io/cluster-service=true", NULL,
	  "OK false [kubernetes.io/cluster-service=true]" },
	{ 'L', "app.kubernetes.io/name=web,app.kubernetes.io/instance!=x", NULL,
	  "OK false [app.kubernetes.io/instance!=x,app.kubernetes.io/name=web]" },
	{ 'L', "a/b/c=d", NULL,
	  "ERR unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')" },
	{ 'L', "/a=b", NULL,
	  "ERR unable to parse requirement: <nil>: Invalid value: \"/a\": prefix part must be non-empty" },
	{ 'L', "a/=b", NULL,
	  "ERR unable to parse requirement: <nil>: Invalid value: \"a/\": name part must be non-empty; name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')" },
	{ 'L', "A.B/c=d", NULL,
	  "ERR unable to parse requirement: <nil>: Invalid value: \"A.B/c\": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')" },
	{ 'L', "a..b/c=d", NULL,
	  "ERR unable to parse requirement: <nil>: Invalid value: \"a..b/c\": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')" },
	{ 'L', "-a.b/c=d", NULL,
	  "ERR unable to parse requirement: <nil>: Invalid value: \"-a.b/c\": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')" },
	{ 'L', "a.b-/c=d", NULL,
	  "ERR unable to parse requirement: <nil>: Invalid value: \"a.b-/c\": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')" },
	{ 'L', "a_b/c=d", NULL,
	  "ERR unable to parse requirement: <nil>: Invalid value: \"a_b/c\": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')" },
	{ 'L', "_a=b", NULL,
	  "ERR unable to parse requirement: <nil>: Invalid value: \"_a\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')" },
	{ 'L', "a_=b", NULL,
	  "ERR unable to parse requirement: <nil>: Invalid value: \"a_\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')" },
	{ 'L', "a-b_c.d=e", NULL,
	  "OK false [a-b_c.d=e]" },
	{ 'L', "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=b", NULL,
	  "ERR unable to parse requirement: <nil>: Invalid value: \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\": name part must be no more than 63 characters" },
	{ 'L', "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=b", NULL,
	  "OK false [aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=b]" },
	{ 'L', "a=bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", NULL,
	  "ERR unable to parse requirement: values[0][a]: Invalid value: \"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\": must be no more than 63 characters" },
	{ 'L', "a=-b", NULL,
	  "ERR unable to parse requirement: values[0][a]: Invalid value: \"-b\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')" },
	{ 'L', "a in (-x,y_,ok)", NULL,
	  "ERR unable to parse requirement: [values[0][a]: Invalid value: \"-x\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?'), values[2][a]: Invalid value: \"y_\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')]" },
	{ 'L', "a in (b@,c@)", NULL,
	  "ERR unable to parse requirement: [values[0][a]: Invalid value: \"b@\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?'), values[1][a]: Invalid value: \"c@\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')]" },
	{ 'L', "a>b@", NULL,
	  "ERR unable to parse requirement: [values[0]: Invalid value: \"b@\": for 'Gt', 'Lt' operators, the value must be an integer, values[0][a]: Invalid value: \"b@\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')]" },
	{ 'L', "a>-1", NULL,
	  "ERR unable to parse requirement: values[0][a]: Invalid value: \"-1\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')" },
	{ 'L', "a=\xc3""\xa9""", NULL,
	  "ERR unable to parse requirement: values[0][a]: Invalid value: \"\xc3""\xa9""\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')" },
	{ 'L', "\xc3""\xa9""=a", NULL,
	  "ERR unable to parse requirement: <nil>: Invalid value: \"\xc3""\xa9""\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')" },
	{ 'L', "a\"b=c", NULL,
	  "ERR unable to parse requirement: <nil>: Invalid value: \"a\\\"b\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')" },
	{ 'L', "a=b\"", NULL,
	  "ERR unable to parse requirement: values[0][a]: Invalid value: \"b\\\"\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')" },
	{ 'L', "a", "=\tb",
	  "OK false [a]" },
	{ 'L', "a\\nb", NULL,
	  "ERR unable to parse requirement: <nil>: Invalid value: \"a\\\\nb\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')" },
	{ 'L', "a=b\\tc", NULL,
	  "ERR unable to parse requirement: values[0][a]: Invalid value: \"b\\\\tc\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')" },
	{ 'L', "tier in (frontend,backend),environment!=qa", NULL,
	  "OK false [environment!=qa,tier in (backend,frontend)]" },
	{ 'L', "!a,!b,c", NULL,
	  "OK false [!a,!b,c]" },
	{ 'L', "a==", NULL,
	  "OK false [a==]" },
	{ 'L', "a=,b=", NULL,
	  "OK false [a=,b=]" },
	{ 'L', "a=in", NULL,
	  "OK false [a=in]" },
	{ 'L', "a>=1", NULL,
	  "ERR unable to parse requirement: found '=', expected: identifier" },
	{ 'L', "a=>1", NULL,
	  "ERR unable to parse requirement: found '>', expected: identifier" },
	{ 'L', "a<>1", NULL,
	  "ERR unable to parse requirement: found '>', expected: identifier" },
	{ 'L', "a!==1", NULL,
	  "ERR unable to parse requirement: found '=', expected: identifier" },
	{ 'L', "a!!=1", NULL,
	  "ERR unable to parse requirement: found '!', expected: in, notin, =, ==, !=, gt, lt" },
	{ 'L', "(a)", NULL,
	  "ERR found '(', expected: !, identifier, or 'end of string'" },
	{ 'L', "a)", NULL,
	  "ERR unable to parse requirement: found ')', expected: in, notin, =, ==, !=, gt, lt" },
	{ 'L', "a,", NULL,
	  "ERR found '', expected: identifier after ','" },
	{ 'L', "a in (b),", NULL,
	  "ERR found '', expected: identifier after ','" },
	{ 'L', "a in (b)c", NULL,
	  "ERR found 'c', expected: ',' or 'end of string'" },
	{ 'L', "a in (b) c", NULL,
	  "ERR found 'c', expected: ',' or 'end of string'" },
	{ 'L', "app=web", "{\"app\":\"web\"}",
	  "OK true [app=web]" },
	{ 'L', "app=web", "{\"app\":\"db\"}",
	  "OK false [app=web]" },
	{ 'L', "app=web", "null",
	  "OK false [app=web]" },
	{ 'L', "app!=web", "null",
	  "OK true [app!=web]" },
	{ 'L', "app!=web", "{\"app\":\"web\"}",
	  "OK false [app!=web]" },
	{ 'L', "app!=web", "{\"app\":\"x\"}",
	  "OK true [app!=web]" },
	{ 'L', "app in (a,b)", "{\"app\":\"b\"}",
	  "OK true [app in (a,b)]" },
	{ 'L', "app notin (a,b)", "{\"app\":\"b\"}",
	  "OK false [app notin (a,b)]" },
	{ 'L', "app notin (a,b)", "{\"x\":\"b\"}",
	  "OK true [app notin (a,b)]" },
	{ 'L', "app", "{\"app\":\"\"}",
	  "OK true [app]" },
	{ 'L', "!app", "{\"app\":\"\"}",
	  "OK false [!app]" },
	{ 'L', "app=", "{\"app\":\"\"}",
	  "OK true [app=]" },
	{ 'L', "app=", "{}",
	  "OK false [app=]" },
	{ 'L', "app!=", "{}",
	  "OK true [app!=]" },
	{ 'L', "a>1", "{\"a\":\"2\"}",
	  "OK true [a>1]" },
	{ 'L', "a>1", "{\"a\":\"x\"}",
	  "OK false [a>1]" },
	{ 'L', "a<10", "{\"a\":\"-5\"}",
	  "OK true [a<10]" },
	{ 'L', "a<10", "{\"a\":\"+5\"}",
	  "OK true [a<10]" },
	{ 'L', "a in ()", "{\"a\":\"\"}",
	  "OK true [a in ()]" },
	{ 'L', "kubernetes.io/cluster-service=true", "{\"kubernetes.io/cluster-service\":\"true\",\"k8s-app\":\"kube-dns\"}",
	  "OK true [kubernetes.io/cluster-service=true]" },
	{ 'F', "", NULL,
	  "OK true []" },
	{ 'F', "a=b", NULL,
	  "OK false [a=b]" },
	{ 'F', "a==b", NULL,
	  "OK false [a=b]" },
	{ 'F', "a!=b", NULL,
	  "OK true [a!=b]" },
	{ 'F', "a", NULL,
	  "ERR invalid selector: 'a'; can't understand 'a'" },
	{ 'F', "a=b,c", NULL,
	  "ERR invalid selector: 'a=b,c'; can't understand 'c'" },
	{ 'F', "involvedObject.uid=abc,involvedObject.name=x,involvedObject.namespace=default", "{\"involvedObject.uid\":\"abc\",\"involvedObject.name\":\"x\",\"involvedObject.namespace\":\"default\"}",
	  "OK true [involvedObject.name=x,involvedObject.namespace=default,involvedObject.uid=abc]" },
	{ 'F', "involvedObject.uid=abc,involvedObject.name=x,involvedObject.namespace=default", "{\"involvedObject.uid\":\"abd\",\"involvedObject.name\":\"x\",\"involvedObject.namespace\":\"default\"}",
	  "OK false [involvedObject.name=x,involvedObject.namespace=default,involvedObject.uid=abc]" },
	{ 'F', "spec.nodeName=node-1,status.phase!=Failed,status.phase!=Succeeded", "{\"spec.nodeName\":\"node-1\",\"status.phase\":\"Running\"}",
	  "OK true [spec.nodeName=node-1,status.phase!=Failed,status.phase!=Succeeded]" },
	{ 'F', "spec.nodeName=node-1,status.phase!=Failed,status.phase!=Succeeded", "{\"spec.nodeName\":\"node-1\",\"status.phase\":\"Failed\"}",
	  "OK false [spec.nodeName=node-1,status.phase!=Failed,status.phase!=Succeeded]" },
	{ 'F', "spec.nodeName=node-1,status.phase!=Failed,status.phase!=Succeeded", "{\"spec.nodeName\":\"node-1\"}",
	  "OK true [spec.nodeName=node-1,status.phase!=Failed,status.phase!=Succeeded]" },
	{ 'F', "metadata.name=", "{}",
	  "OK true [metadata.name=]" },
	{ 'F', "metadata.name!=", "{}",
	  "OK false [metadata.name!=]" },
	{ 'F', "a=b\\,c", "{\"a\":\"b,c\"}",
	  "OK true [a=b\\,c]" },
	{ 'F', "a=b\\=c", "{\"a\":\"b=c\"}",
	  "OK true [a=b\\=c]" },
	{ 'F', "a=b\\\\c", "{\"a\":\"b\\\\c\"}",
	  "OK true [a=b\\\\c]" },
	{ 'F', "a=b\\\\,c=d", "{\"a\":\"b\\\\\",\"c\":\"d\"}",
	  "OK true [a=b\\\\,c=d]" },
	{ 'F', "a=b\\", NULL,
	  "ERR invalid field selector: invalid escape sequence: \\" },
	{ 'F', "a=b\\!", NULL,
	  "ERR invalid field selector: invalid escape sequence: \\!" },
	{ 'F', "a!=b\\!", NULL,
	  "ERR invalid field selector: invalid escape sequence: \\!" },
	{ 'F', "a=b\\x", NULL,
	  "ERR invalid field selector: invalid escape sequence: \\x" },
	{ 'F', "a=b=c", NULL,
	  "ERR invalid field selector: unescaped character in value: 61" },
	{ 'F', "a=\xc3""\xa9""\\\xc3""\xa9""", NULL,
	  "ERR invalid field selector: invalid escape sequence: \\\xc3""\xa9""" },
	{ 'F', "a==b==c", NULL,
	  "ERR invalid field selector: unescaped character in value: 61" },
	{ 'F', "a=!b", "{\"a\":\"!b\"}",
	  "OK true [a=!b]" },
	{ 'F', "a!b=c", "{\"a!b\":\"c\"}",
	  "OK true [a!b=c]" },
	{ 'F', "!a=b", NULL,
	  "OK false [!a=b]" },
	{ 'F', "=b", "{\"\":\"b\"}",
	  "OK true [=b]" },
	{ 'F', ",,a=b,,", NULL,
	  "OK false [a=b]" },
	{ 'F', "b=1,a", NULL,
	  "ERR invalid selector: 'b=1,a'; can't understand 'a'" },
	{ 'F', "z,a", NULL,
	  "ERR invalid selector: 'z,a'; can't understand 'a'" },
	{ 'F', "a=b, c=d", "{\"a\":\"b\",\" c\":\"d\"}",
	  "OK true [ c=d,a=b]" },
	{ 'F', " a = b", "{\" a \":\" b\"}",
	  "OK true [ a = b]" },
	{ 'F', "a=b,a!=b", "{\"a\":\"b\"}",
	  "OK false [a!=b,a=b]" },
	{ 'F', "\xed""\x95""\xa8""=\xec""\x88""\x98"",\xeb""\xaa""\xa9""=\xeb""\xa1""\x9d""", "{\"\xed""\x95""\xa8""\":\"\xec""\x88""\x98""\",\"\xeb""\xaa""\xa9""\":\"\xeb""\xa1""\x9d""\"}",
	  "OK true [\xeb""\xaa""\xa9""=\xeb""\xa1""\x9d"",\xed""\x95""\xa8""=\xec""\x88""\x98""]" },
	{ 'J', "null", NULL,
	  "OK false []" },
	{ 'J', "{}", NULL,
	  "OK true []" },
	{ 'J', "{\"matchLabels\":{}}", NULL,
	  "OK true []" },
	{ 'J', "{\"matchLabels\":{\"app\":\"web\"}}", "{\"app\":\"web\"}",
	  "OK true [app=web]" },
	{ 'J', "{\"matchLabels\":{\"app\":\"web\"}}", "{\"app\":\"x\"}",
	  "OK false [app=web]" },
	{ 'J', "{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"In\",\"values\":[\"b\",\"a\"]}]}", "{\"app\":\"web\",\"tier\":\"a\"}",
	  "OK true [app=web,tier in (a,b)]" },
	{ 'J', "{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"NotIn\",\"values\":[\"b\",\"a\"]}]}", "{\"app\":\"web\"}",
	  "OK true [tier notin (a,b)]" },
	{ 'J', "{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"Exists\"}]}", "{\"tier\":\"\"}",
	  "OK true [tier]" },
	{ 'J', "{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"DoesNotExist\"}]}", "{\"tier\":\"\"}",
	  "OK false [!tier]" },
	{ 'J', "{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"DoesNotExist\",\"values\":[]}]}", "{\"tier\":\"\"}",
	  "OK false [!tier]" },
	{ 'J', "{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"In\"}]}", NULL,
	  "ERR values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty" },
	{ 'J', "{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"In\",\"values\":[]}]}", NULL,
	  "ERR values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty" },
	{ 'J', "{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"Gt\",\"values\":[\"1\"]}]}", NULL,
	  "ERR \"Gt\" is not a valid label selector operator" },
	{ 'J', "{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"in\",\"values\":[\"1\"]}]}", NULL,
	  "ERR \"in\" is not a valid label selector operator" },
	{ 'J', "{\"matchExpressions\":[{\"key\":\"tier\"}]}", NULL,
	  "ERR \"\" is not a valid label selector operator" },
	{ 'J', "{\"matchExpressions\":[{\"key\":\"\",\"operator\":\"Exists\"}]}", NULL,
	  "ERR key: Invalid value: \"\": name part must be non-empty; name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')" },
	{ 'J', "{\"matchExpressions\":[{\"key\":\"a/b/c\",\"operator\":\"Exists\"}]}", NULL,
	  "ERR key: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')" },
	{ 'J', "{\"matchExpressions\":[{\"key\":\"-bad\",\"operator\":\"In\",\"values\":[\"x@\",\"ok\",\"y@\"]}]}", NULL,
	  "ERR [key: Invalid value: \"-bad\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]'), values[0][-bad]: Invalid value: \"x@\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?'), values[2][-bad]: Invalid value: \"y@\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')]" },
	{ 'J', "{\"matchExpressions\":[{\"key\":\"-bad\",\"operator\":\"Exists\",\"values\":[\"x@\",\"x@\"]}]}", NULL,
	  "ERR [key: Invalid value: \"-bad\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]'), values: Invalid value: []string{\"x@\", \"x@\"}: values set must be empty for exists and does not exist, values[0][-bad]: Invalid value: \"x@\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?'), values[1][-bad]: Invalid value: \"x@\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')]" },
	{ 'J', "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\",\"values\":[\"b@\",\"b@\"]}]}", NULL,
	  "ERR [values[0][a]: Invalid value: \"b@\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?'), values[1][a]: Invalid value: \"b@\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')]" },
	{ 'J', "{\"matchLabels\":{\"a\":\"b@\"}}", NULL,
	  "ERR values[0][a]: Invalid value: \"b@\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')" },
	{ 'J', "{\"matchLabels\":{\"a b\":\"c\"}}", NULL,
	  "ERR key: Invalid value: \"a b\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')" },
	{ 'J', "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"NotIn\",\"values\":[\"y\",\"x\",\"y\"]}]}", "{\"a\":\"x\"}",
	  "OK false [a notin (x,y,y)]" },
	{ 'J', "{\"matchExpressions\":[{\"key\":\"b\",\"operator\":\"Exists\"},{\"key\":\"a\",\"operator\":\"DoesNotExist\"}]}", "{\"b\":\"x\"}",
	  "OK true [!a,b]" },
};

START_TEST(golden_upstream)
{
	cJSON *labels = golden[_i].labels ? cJSON_Parse(golden[_i].labels) : NULL;
	char *got = run_case(golden[_i].mode, golden[_i].in, labels);

	ck_assert_msg(!strcmp(got, golden[_i].want),
		      "%c '%s':\n got: %s\nwant: %s", golden[_i].mode,
		      golden[_i].in, got, golden[_i].want);
	free(got);
	cJSON_Delete(labels);
}
END_TEST

static Suite *selector_suite(void)
{
	Suite *s = suite_create("selector");
	TCase *tl = tcase_create("labels"), *tf = tcase_create("fields");
	TCase *tg = tcase_create("golden");

	tcase_add_test(tl, label_equality);
	tcase_add_test(tl, label_sets);
	tcase_add_test(tl, label_exists);
	tcase_add_test(tl, label_gt_lt);
	tcase_add_test(tl, label_and_whitespace);
	tcase_add_test(tl, label_kubectl_strings);
	tcase_add_test(tl, label_parse_errors);
	tcase_add_test(tl, label_string);
	tcase_add_test(tl, label_from_json);
	tcase_add_test(tl, label_sets_from_maps);
	tcase_add_test(tf, field_operators);
	tcase_add_test(tf, field_kubectl_strings);
	tcase_add_test(tf, field_terms_and_escapes);
	tcase_add_test(tf, field_parse_errors);
	tcase_add_test(tf, field_long_values);
	tcase_add_test(tf, field_check_messages);
	tcase_add_test(tf, field_meta_getter);
	tcase_add_loop_test(tg, golden_upstream, 0, (int)ARRAY_SIZE(golden));
	suite_add_tcase(s, tl);
	suite_add_tcase(s, tf);
	suite_add_tcase(s, tg);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(selector_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
