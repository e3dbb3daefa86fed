/*
 * tests/unit/test_yaml.c: yaml_to_json() (common/yaml.c), checked against
 * what sigs.k8s.io/yaml.YAMLToJSON (go-yaml v2) produces for the same text.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/util.h"

static cJSON *Y(const char *text)
{
	const char *msg = "unset";
	cJSON *v = yaml_to_json(text, strlen(text), &msg);
	ck_assert_msg(v != NULL, "yaml error: %s\n%s", msg, text);
	ck_assert_ptr_null(msg);
	return v;
}

/* The YAML must convert to exactly this JSON (objects compared unordered). */
static void expect_yaml(const char *text, const char *json)
{
	cJSON *got = Y(text), *want = cJSON_Parse(json);
	char *g = jprint(got);
	ck_assert_msg(want != NULL, "bad test JSON %s", json);
	ck_assert_msg(jequal(got, want), "yaml:\n%s\ngot  %s\nwant %s", text, g, json);
	free(g);
	cJSON_Delete(got);
	cJSON_Delete(want);
}

static void expect_yaml_err(const char *text, const char *msg)
{
	const char *m = NULL;
	cJSON *v = yaml_to_json(text, strlen(text), &m);
	ck_assert_msg(v == NULL, "expected an error for:\n%s", text);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m, msg);
}

START_TEST(yaml_deployment)
{
	static const char manifest[] =
		"# a typical manifest\n"
		"apiVersion: apps/v1\n"
		"kind: Deployment\n"
		"metadata:\n"
		"  name: web\n"
		"  labels: {app: web, tier: \"1\"}\n"
		"  annotations:\n"
		"    note: |\n"
		"      line one\n"
		"      line two\n"
		"spec:\n"
		"  replicas: 2\n"
		"  selector:\n"
		"    matchLabels:\n"
		"      app: web\n"
		"  template:\n"
		"    metadata:\n"
		"      labels:\n"
		"        app: web\n"
		"    spec:\n"
		"      containers:\n"
		"      - name: web\n"
		"        image: nginx:1.25\n"
		"        args: [\"--port\", '8080', -v]\n"
		"        ports:\n"
		"        - containerPort: 8080\n"
		"          protocol: TCP\n"
		"        env:\n"
		"        - name: DEBUG\n"
		"          value: \"true\"\n"
		"        resources:\n"
		"          limits: {cpu: 500m, memory: 128Mi}\n"
		"      volumes:\n"
		"      - name: cfg\n"
		"        configMap:\n"
		"          name: cfg\n"
		"          defaultMode: 0644\n";
	cJSON *d = Y(manifest);
	ck_assert_str_eq(jstr(d, "kind"), "Deployment");
	ck_assert_str_eq(jstr(d, "metadata.labels.tier"), "1");
	ck_assert_str_eq(jstr(d, "metadata.annotations.note"), "line one\nline two\n");
	ck_assert(jis_int(jget(d, "spec.replicas")));
	ck_assert_int_eq(jint(d, "spec.replicas", 0), 2);
	cJSON *c = cJSON_GetArrayItem(jget(d, "spec.template.spec.containers"), 0);
	ck_assert_str_eq(jstr(c, "image"), "nginx:1.25");
	expect_yaml("[\"--port\", '8080', -v]", "[\"--port\",\"8080\",\"-v\"]");
	ck_assert_int_eq(jint(cJSON_GetArrayItem(jget(c, "ports"), 0), "containerPort", 0), 8080);
	ck_assert_str_eq(jstr(cJSON_GetArrayItem(jget(c, "env"), 0), "value"), "true");
	ck_assert_str_eq(jstr(c, "resources.limits.cpu"), "500m");
	cJSON *v = cJSON_GetArrayItem(jget(d, "spec.template.spec.volumes"), 0);
	/* 0644 is octal in YAML 1.1: the famous 420 */
	ck_assert_int_eq(jint(v, "configMap.defaultMode", 0), 420);
	cJSON_Delete(d);
}
END_TEST

START_TEST(yaml_scalars)
{
	/* plain scalars resolve; quoted ones never do */
	expect_yaml("a: true\nb: 'true'\nc: yes\nd: \"yes\"\ne: Off\nf: n\ng: TRUE\nh: tRUE",
		    "{\"a\":true,\"b\":\"true\",\"c\":true,\"d\":\"yes\",\"e\":false,"
		    "\"f\":false,\"g\":true,\"h\":\"tRUE\"}");
	expect_yaml("a: ~\nb: null\nc:\nd: ''\ne: NULL\nf: nil",
		    "{\"a\":null,\"b\":null,\"c\":null,\"d\":\"\",\"e\":null,\"f\":\"nil\"}");
	expect_yaml("a: 10\nb: -3\nc: +7\nd: 0x1F\ne: 0o17\nf: 017\ng: 0b101\nh: 1_000\ni: 08\nj: '10'",
		    "{\"a\":10,\"b\":-3,\"c\":7,\"d\":31,\"e\":15,\"f\":15,\"g\":5,"
		    "\"h\":1000,\"i\":8,\"j\":\"10\"}");
	expect_yaml("a: 1.5\nb: 1e3\nc: .5\nd: -2.5E-1\ne: 1.\nf: 1.20\ng: \"1.20\"\nh: 1e999",
		    "{\"a\":1.5,\"b\":1000,\"c\":0.5,\"d\":-0.25,\"e\":1,\"f\":1.2,"
		    "\"g\":\"1.20\",\"h\":\"1e999\"}");
	/* things that look numeric but are not */
	expect_yaml("a: 1.2.3\nb: 2001-12-14\nc: 12:30\nd: 0x\ne: '-'\nf: -x\ng: 1e\nh: _1",
		    "{\"a\":\"1.2.3\",\"b\":\"2001-12-14\",\"c\":\"12:30\",\"d\":\"0x\","
		    "\"e\":\"-\",\"f\":\"-x\",\"g\":\"1e\",\"h\":\"_1\"}");
	/* block scalars and explicit tags */
	expect_yaml("a: |\n  10\nb: >\n  x\n  y\nc: !!str 10\nd: !!int '12'\ne: !!float 3\nf: !!bool yes\ng: !custom 5",
		    "{\"a\":\"10\\n\",\"b\":\"x y\\n\",\"c\":\"10\",\"d\":12,\"e\":3,\"f\":true,\"g\":\"5\"}");
	expect_yaml_err("a: !!int 1.5", "yaml: cannot decode !!float `1.5` as a !!int");
	expect_yaml_err("a: !!bool 1", "yaml: cannot decode !!int `1` as a !!bool");
	expect_yaml_err("a: .inf", "json: unsupported value: +Inf");
	expect_yaml_err("a: .nan", "json: unsupported value: NaN");
}
END_TEST

START_TEST(yaml_keys)
{
	/* keys become strings the way sigs.k8s.io/yaml renders them */
	expect_yaml("1: a\ntrue: b\n1.5: c\n0x10: d\n2.0: e\n\"3\": f",
		    "{\"1\":\"a\",\"true\":\"b\",\"1.5\":\"c\",\"16\":\"d\",\"2\":\"e\",\"3\":\"f\"}");
	/* YAML 1.1 booleans as keys: go-yaml v2 makes `y:` the key "true" */
	expect_yaml("y: 1\nno: 2\nx: 3", "{\"true\":1,\"false\":2,\"x\":3}");
	/* a repeated key keeps the last value */
	expect_yaml("a: 1\nb: 2\na: 3", "{\"a\":3,\"b\":2}");
	expect_yaml_err("? [a]\n: 1", "yaml: invalid map key");
	expect_yaml_err("~: 1", "yaml: unsupported map key");
}
END_TEST

START_TEST(yaml_anchors)
{
	expect_yaml("base: &b {x: 1, z: 2}\nuse: *b\nlist: [&s str, *s]",
		    "{\"base\":{\"x\":1,\"z\":2},\"use\":{\"x\":1,\"z\":2},\"list\":[\"str\",\"str\"]}");
	/* merge keys: explicit keys win, earlier maps win over later ones */
	expect_yaml("a: &a {x: 1, w: 1}\nb: &b {w: 2, z: 2}\n"
		    "c:\n  <<: [*a, *b]\n  x: 0\n"
		    "d:\n  w: 9\n  <<: *b\n"
		    "e:\n  '<<': 1",
		    "{\"a\":{\"x\":1,\"w\":1},\"b\":{\"w\":2,\"z\":2},"
		    "\"c\":{\"x\":0,\"w\":1,\"z\":2},\"d\":{\"w\":2,\"z\":2},"
		    "\"e\":{\"<<\":1}}");
	/* the anchored node is copied: later changes to its parent do not matter */
	expect_yaml("a: &x [1]\na: 2\nb: *x", "{\"a\":2,\"b\":[1]}");
	expect_yaml_err("a: *nope", "yaml: unknown anchor 'nope' referenced");
	expect_yaml_err("a: {<<: 1}",
			"yaml: map merge requires map or sequence of maps as the value");
	expect_yaml_err("a: &s [1]\nb: {<<: [*s]}",
			"yaml: map merge requires map or sequence of maps as the value");
	expect_yaml_err("a: &s [{x: 1}]\nb: {<<: *s}",
			"yaml: map merge requires map or sequence of maps as the value");
	/* an alias as a key is just a key */
	expect_yaml("a: &k name\nb: {*k : 1}", "{\"a\":\"name\",\"b\":{\"name\":1}}");
}
END_TEST

START_TEST(yaml_alias_bomb)
{
	static const char bomb[] =
		"a: &a [x, x, x, x, x, x, x, x, x, x]\n"
		"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
		"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
		"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
		"f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
		"g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
		"h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
		"i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
	expect_yaml_err(bomb, "yaml: document contains excessive aliasing");
}
END_TEST

START_TEST(yaml_documents)
{
	/* the first document with content wins */
	expect_yaml("---\n---\n# only a comment\n---\nkind: A\n---\nkind: B\n", "{\"kind\":\"A\"}");
	expect_yaml("kind: A\n---\nkind: B\n", "{\"kind\":\"A\"}");
	expect_yaml("--- ~\n--- {kind: C}\n", "{\"kind\":\"C\"}");
	/* anything after the chosen document is not parsed */
	expect_yaml("kind: A\n---\n: : [\n", "{\"kind\":\"A\"}");
	/* nothing at all is null, not an error */
	expect_yaml("", "null");
	expect_yaml("# nothing\n", "null");
	expect_yaml("---\n...\n", "null");
	/* JSON is YAML */
	expect_yaml("{\"a\": [1, 2.5, \"x\", null, true], \"b\": {}}",
		    "{\"a\":[1,2.5,\"x\",null,true],\"b\":{}}");
	/* a scalar document */
	expect_yaml("hello", "\"hello\"");
}
END_TEST

START_TEST(yaml_errors)
{
	/* go-yaml names no line for errors on the first one */
	expect_yaml_err("a: b: c", "yaml: mapping values are not allowed in this context");
	expect_yaml_err("a: 1\n b: 2\nc", "yaml: line 2: mapping values are not allowed in this context");
	expect_yaml_err("a: [1, 2", "yaml: line 1: did not find expected ',' or ']'");
	expect_yaml_err("a: \"x", "yaml: found unexpected end of stream");
	expect_yaml_err("a:\n\t- 1", "yaml: line 2: found character that cannot start any token");
	expect_yaml_err("a: \x01", "yaml: control characters are not allowed");

	/* nesting is bounded like cJSON's parser */
	size_t n = 5000;
	char *deep = xmalloc(n + 1);
	memset(deep, '[', n);
	deep[n] = 0;
	expect_yaml_err(deep, "yaml: exceeded max depth of 1000");
	free(deep);

	/* a NULL buffer is an empty stream */
	const char *msg;
	cJSON *v = yaml_to_json(NULL, 0, &msg);
	ck_assert(cJSON_IsNull(v));
	cJSON_Delete(v);
}
END_TEST

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Garbage never crashes, never leaks, always answers a tree or a message. */
static void feed(const char *buf, size_t len)
{
	const char *msg = NULL;
	cJSON *v = yaml_to_json(buf, len, &msg);
	if (v) {
		ck_assert_ptr_null(msg);
		cJSON_Delete(v);
	} else {
		ck_assert_ptr_nonnull(msg);
		ck_assert(strlen(msg) > 0);
	}
}

START_TEST(yaml_garbage)
{
	static const char *const tokens[] = {
		"- ", ": ", "&a ", "*a ", "&b ", "*b ", "<<: ", "[", "]", "{", "}",
		", ", "\n", "  ", "'", "\"", "!!int ", "!!str ", "? ", "---\n",
		"...\n", "|\n", ">-\n", "# c\n", "0x1F", "~", "yes", "1e3", "k",
		"%YAML 1.1\n", "%TAG ! tag:x,2000:\n", "!x ", "\t", ".inf", "0777",
		"\xef\xbb\xbf", "\xc3\xa9", "\xff", "\\", "@", "`", "key", "1.5",
	};
	char buf[512];

	for (int iter = 0; iter < 20000; iter++) {
		size_t len = next_rand() % sizeof(buf);
		for (size_t i = 0; i < len; i++)
			buf[i] = (char)(next_rand() & 0xff);
		feed(buf, len);
	}
	for (int iter = 0; iter < 20000; iter++) {
		size_t len = 0, n = next_rand() % 40;
		for (size_t i = 0; i < n; i++) {
			const char *t = tokens[next_rand() % ARRAY_SIZE(tokens)];
			size_t tl = strlen(t);
			if (len + tl >= sizeof(buf))
				break;
			memcpy(buf + len, t, tl);
			len += tl;
		}
		feed(buf, len);
	}
}
END_TEST

static Suite *yaml_suite(void)
{
	Suite *s = suite_create("yaml");
	TCase *tc = tcase_create("yaml_to_json");

	tcase_add_test(tc, yaml_deployment);
	tcase_add_test(tc, yaml_scalars);
	tcase_add_test(tc, yaml_keys);
	tcase_add_test(tc, yaml_anchors);
	tcase_add_test(tc, yaml_alias_bomb);
	tcase_add_test(tc, yaml_documents);
	tcase_add_test(tc, yaml_errors);
	tcase_add_test(tc, yaml_garbage);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(yaml_suite());
	int failed;
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
