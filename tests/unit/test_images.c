/*
 * tests/unit/test_images.c: the built-in image catalog (images/images.h):
 * reference matching (registries, owners, tags, digests, ports, case,
 * non-matches), Kubernetes' command resolution (command replaces
 * ENTRYPOINT, args replaces CMD; built-in vs host; busybox applets and
 * curl's entrypoint against a fake $PATH), and the pure helpers the
 * built-ins print with (Go's Duration, float and JSON formats, duration
 * and flag parsing, form decoding, route matching).
 *
 * libcheck forks each test, so the tests that set $PATH do not leak it.
 */
#include <check.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "images/img.h"

#define V(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NONE ((const char *const *)NULL)

/* ------------------------------------------------------------------------- */
/* helpers                                                                   */

static const char *lookup_name(const char *ref)
{
	const struct image *img = image_lookup(ref);
	return img ? img->name : "(none)";
}

/* argv joined with '|', "NULL: why" when there is nothing to run. */
static char *argv_str(char **argv, const char *why)
{
	struct strbuf sb = STRBUF_INIT;

	if (!argv)
		return xasprintf("NULL: %s", why ? why : "?");
	for (char **p = argv; *p; p++)
		sb_addf(&sb, "%s%s", p == argv ? "" : "|", *p);
	image_argv_free(argv);
	return sb_detach(&sb, NULL);
}

static char *resolve(const char *ref, const char *const *command,
		     const char *const *args)
{
	const char *why = NULL;
	char **argv = image_argv(image_lookup(ref), command, args, &why);

	return argv_str(argv, why);
}

static void check_resolve(const char *ref, const char *const *command,
			  const char *const *args, const char *want)
{
	char *got = resolve(ref, command, args);
	ck_assert_msg(!strcmp(got, want), "%s: want '%s', got '%s'", ref, want, got);
	free(got);
}

static char fake_dir[] = "/tmp/lkt-img-path.XXXXXX";

static void fake_path_remove(void)
{
	DIR *d = opendir(fake_dir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char *p = xasprintf("%s/%s", fake_dir, e->d_name);
		if (e->d_name[0] != '.')
			unlink(p);
		free(p);
	}
	if (d)
		closedir(d);
	rmdir(fake_dir);
}

/* A $PATH of one fresh directory holding executables named in progs;
 * removed when the test's process exits. */
static void fake_path(const char *const *progs)
{
	const char *dir = fake_dir;

	ck_assert_ptr_nonnull(mkdtemp(fake_dir));
	atexit(fake_path_remove);
	for (; progs && *progs; progs++) {
		char *p = xasprintf("%s/%s", dir, *progs);
		FILE *f = fopen(p, "w");
		ck_assert_ptr_nonnull(f);
		fputs("#!/bin/sh\n", f);
		fclose(f);
		chmod(p, 0755);
		free(p);
	}
	setenv("PATH", dir, 1);
}

/* ------------------------------------------------------------------------- */
/* matching                                                                  */

START_TEST(match_registries_and_tags)
{
	static const struct {
		const char *ref, *name;
	} cases[] = {
		{ "gcr.io/google-samples/node-hello:1.0", "node-hello" },
		{ "node-hello", "node-hello" },
		{ "gcr.io/google-samples/hello-app:2.0", "hello-app" },
		{ "docker.io/luksa/kubia:latest", "kubia" },
		{ "luksa/kubia", "kubia" },
		{ "wanstack/kubia:v1", "kubia" },
		{ "luksa/kubia-unhealthy", "kubia-unhealthy" },
		{ "luksa/kubia-pet", "kubia-pet" },
		{ "nigelpoulton/k8sbook:edge", "k8sbook" },
		{ "nginx", "nginx" },
		{ "docker.io/library/nginx:1.25.3-alpine", "nginx" },
		{ "registry.k8s.io/e2e-test-images/nginx:1.14-4", "nginx" },
		{ "httpd:2.4", "httpd" },
		{ "hashicorp/http-echo:1.0", "http-echo" },
		{ "registry.k8s.io/e2e-test-images/agnhost:2.53", "agnhost" },
		{ "k8s.gcr.io/e2e-test-images/agnhost:2.39", "agnhost" },
		{ "gcr.io/kubernetes-e2e-test-images/agnhost:2.8", "agnhost" },
		{ "registry.k8s.io/pause:3.9", "pause" },
		{ "k8s.gcr.io/pause", "pause" },
		{ "busybox:1.36", "busybox" },
		{ "registry.k8s.io/e2e-test-images/busybox:1.29-4", "busybox" },
		{ "alpine:3.19", "alpine" },
		{ "debian:bookworm-slim", "debian" },
		{ "ubuntu:22.04", "ubuntu" },
		{ "curlimages/curl:8.5.0", "curl" },
		{ "registry.k8s.io/e2e-test-images/jessie-dnsutils:1.7", "jessie-dnsutils" },
		{ "gcr.io/kubernetes-e2e-test-images/dnsutils:1.3", "dnsutils" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		ck_assert_msg(!strcmp(lookup_name(cases[i].ref), cases[i].name),
			      "%s: want %s, got %s", cases[i].ref, cases[i].name,
			      lookup_name(cases[i].ref));
}
END_TEST

START_TEST(match_digests_ports_case)
{
	ck_assert_str_eq(lookup_name("nginx@sha256:0123456789abcdef0123456789abcdef"
				     "0123456789abcdef0123456789abcdef"), "nginx");
	ck_assert_str_eq(lookup_name("nginx:1.25@sha256:0123456789abcdef"), "nginx");
	ck_assert_str_eq(lookup_name("localhost:5000/nginx"), "nginx");
	ck_assert_str_eq(lookup_name("localhost:5000/nginx:1.2"), "nginx");
	ck_assert_str_eq(lookup_name("registry.example.com:443/team/kubia:v2@sha256:ab"),
			 "kubia");
	ck_assert_str_eq(lookup_name("NGINX:Latest"), "nginx");
	ck_assert_str_eq(lookup_name("Registry.K8s.io/Pause:3.9"), "pause");
}
END_TEST

START_TEST(match_non_matches)
{
	static const char *const refs[] = {
		"", "nginx-ingress", "mynginx", "bitnami/nginx-foo", "foo/bar",
		"registry.k8s.io/pause-amd64x", "agnhost2", "kubia/other",
		"localhost:5000", "nginx/", ":latest", "@sha256:abc", "redis:7",
	};

	ck_assert_ptr_null(image_lookup(NULL));
	for (size_t i = 0; i < ARRAY_SIZE(refs); i++)
		ck_assert_msg(!image_lookup(refs[i]), "'%s' matched %s", refs[i],
			      lookup_name(refs[i]));
}
END_TEST

START_TEST(match_tags)
{
	ck_assert_str_eq(image_tag("nginx"), "latest");
	ck_assert_str_eq(image_tag("nginx:1.25"), "1.25");
	ck_assert_str_eq(image_tag("localhost:5000/nginx"), "latest");
	ck_assert_str_eq(image_tag("localhost:5000/nginx:1.2"), "1.2");
	ck_assert_str_eq(image_tag("nginx@sha256:abc"), "latest");
	ck_assert_str_eq(image_tag("nginx:1.25@sha256:abc"), "1.25");
	ck_assert_str_eq(image_tag(NULL), "latest");
}
END_TEST

/* Every name image_names() lists is a reference to its own entry. */
START_TEST(names_name_themselves)
{
	char *names = xstrdup(image_names()), *save = NULL;
	int n = 0;

	ck_assert_ptr_nonnull(strstr(names, "node-hello, "));
	for (char *t = strtok_r(names, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
		ck_assert_str_eq(lookup_name(t), t);
		n++;
	}
	ck_assert_int_ge(n, 18);
	ck_assert_ptr_eq(image_names(), image_names()); /* static */
	free(names);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* command resolution                                                        */

START_TEST(argv_builtin_defaults)
{
	check_resolve("gcr.io/google-samples/node-hello:1.0", NONE, NONE,
		      "/proc/self/exe|_image|node-hello|node|server.js");
	check_resolve("luksa/kubia", NONE, NONE,
		      "/proc/self/exe|_image|kubia|node|app.js");
	check_resolve("nginx", NONE, NONE,
		      "/proc/self/exe|_image|nginx|/docker-entrypoint.sh|nginx|-g|daemon off;");
	check_resolve("registry.k8s.io/pause:3.9", NONE, NONE,
		      "/proc/self/exe|_image|pause|/pause");
	check_resolve("registry.k8s.io/e2e-test-images/agnhost:2.53", NONE, NONE,
		      "/proc/self/exe|_image|agnhost|/agnhost|pause");
	/* empty arrays are unset, as upstream */
	check_resolve("registry.k8s.io/e2e-test-images/agnhost:2.53", V(NULL), V(NULL),
		      "/proc/self/exe|_image|agnhost|/agnhost|pause");
}
END_TEST

START_TEST(argv_command_and_args)
{
	const char *ag = "registry.k8s.io/e2e-test-images/agnhost:2.53";

	/* args replace CMD, after the ENTRYPOINT */
	check_resolve(ag, NONE, V("netexec", "--http-port=8080"),
		      "/proc/self/exe|_image|agnhost|/agnhost|netexec|--http-port=8080");
	/* command replaces ENTRYPOINT, args follow it */
	check_resolve(ag, V("/agnhost-2"), V("entrypoint-tester", "a"),
		      "/proc/self/exe|_image|agnhost|/agnhost-2|entrypoint-tester|a");
	/* command alone drops the image's CMD too */
	check_resolve(ag, V("/agnhost"), NONE, "/proc/self/exe|_image|agnhost|/agnhost");
	/* a command that is not one of the image's programs runs on the host */
	check_resolve(ag, V("/bin/sh", "-c", "echo hi"), NONE, "/bin/sh|-c|echo hi");
	check_resolve(ag, V("sh"), V("-c", "sleep 1"), "sh|-c|sleep 1");
	check_resolve("nginx", V("sleep", "3600"), NONE, "sleep|3600");
	/* args that are no program of an image without ENTRYPOINT: host */
	check_resolve("node-hello", NONE, V("ls", "/"), "ls|/");
	check_resolve("hashicorp/http-echo", NONE, V("-text=hi"),
		      "/proc/self/exe|_image|http-echo|/http-echo|-text=hi");
	check_resolve("nginx", V("nginx"), V("-g", "daemon off;"),
		      "/proc/self/exe|_image|nginx|nginx|-g|daemon off;");
}
END_TEST

START_TEST(argv_ref_carries_the_tag)
{
	const char *why = NULL;
	char **argv = image_ref_argv("luksa/kubia:v2", NONE, NONE, &why);
	char *got = argv_str(argv, why);

	ck_assert_str_eq(got, "/proc/self/exe|_image|luksa/kubia:v2|node|app.js");
	free(got);
	argv = image_ref_argv("redis:7", NONE, NONE, &why);
	got = argv_str(argv, why);
	ck_assert_str_eq(got, "NULL: image not in catalog");
	free(got);
	argv = image_ref_argv("busybox", V("true"), NONE, &why);
	got = argv_str(argv, why);
	ck_assert_str_eq(got, "true");
	free(got);
}
END_TEST

START_TEST(argv_errors)
{
	const struct image empty = { "empty", V("empty"), "", NULL, NULL, NULL,
				     NULL, 0 };
	const char *why = NULL;

	ck_assert_ptr_null(image_argv(NULL, NONE, NONE, &why));
	ck_assert_str_eq(why, "image not in catalog");
	why = NULL;
	ck_assert_ptr_null(image_argv(&empty, NONE, V(NULL), &why));
	ck_assert_str_eq(why, "no command specified");
	image_argv_free(NULL);
}
END_TEST

START_TEST(argv_host_images)
{
	fake_path(V("sh", "bash", "sleep"));
	check_resolve("debian", NONE, NONE, "bash");
	check_resolve("ubuntu", NONE, NONE, "/bin/bash");
	check_resolve("alpine", NONE, NONE, "/bin/sh");
	check_resolve("jessie-dnsutils", V("sleep", "infinity"), NONE, "sleep|infinity");
	check_resolve("debian", NONE, V("sleep", "1"), "sleep|1");
}
END_TEST

START_TEST(argv_busybox_with_host_busybox)
{
	fake_path(V("busybox", "sh"));
	check_resolve("busybox", NONE, NONE, "sh");
	check_resolve("busybox", V("busybox", "sh", "-c", "x"), NONE, "busybox|sh|-c|x");
	/* an applet the host lacks runs as a busybox applet */
	check_resolve("busybox", V("wget", "-qO-", "http://x"), NONE,
		      "busybox|wget|-qO-|http://x");
	check_resolve("busybox", NONE, V("nslookup", "kubernetes"),
		      "busybox|nslookup|kubernetes");
	/* /bin/busybox missing on the host: the one on PATH */
	check_resolve("busybox", V("/nonexistent/busybox", "ls"), NONE, "busybox|ls");
	check_resolve("alpine", V("sh", "-c", "env"), NONE, "sh|-c|env");
}
END_TEST

START_TEST(argv_busybox_without_host_busybox)
{
	fake_path(V("sh", "wget"));
	check_resolve("busybox", V("busybox", "sh", "-c", "x"), NONE, "sh|-c|x");
	check_resolve("busybox", V("/nonexistent/busybox", "wget", "http://x"), NONE,
		      "wget|http://x");
	check_resolve("busybox", V("wget", "http://x"), NONE, "wget|http://x");
	/* nothing to fall back to: left as asked, exec says why */
	check_resolve("busybox", V("busybox"), NONE, "busybox");
	check_resolve("busybox", V("nosuchapplet"), NONE, "nosuchapplet");
}
END_TEST

START_TEST(argv_curl_entrypoint)
{
	fake_path(V("curl", "sh"));
	check_resolve("curlimages/curl", NONE, NONE, "curl");
	check_resolve("curlimages/curl", NONE, V("-s", "http://web"), "curl|-s|http://web");
	check_resolve("curlimages/curl", NONE, V("http://web"), "curl|http://web");
	check_resolve("curlimages/curl", NONE, V("sh", "-c", "curl x"), "sh|-c|curl x");
	check_resolve("curlimages/curl", V("curl"), V("-v", "x"), "curl|-v|x");
}
END_TEST

/* ------------------------------------------------------------------------- */
/* helpers of the built-ins                                                  */

START_TEST(go_duration_strings)
{
	static const struct {
		int64_t ns;
		const char *s;
	} cases[] = {
		{ 0, "0s" }, { 999, "999ns" }, { 1500, "1.5µs" }, { 1500000, "1.5ms" },
		{ 100000000, "100ms" }, { 1500000000, "1.5s" }, { 90000000000, "1m30s" },
		{ 3661000000000, "1h1m1s" }, { 7200000000000, "2h0m0s" },
		{ 12345678901, "12.345678901s" }, { -2000000000, "-2s" },
	};
	char buf[64];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		img_go_duration(cases[i].ns, buf, sizeof(buf));
		ck_assert_str_eq(buf, cases[i].s);
	}
}
END_TEST

START_TEST(go_duration_parsing)
{
	static const struct {
		const char *s;
		int64_t ns;
		int rc;
	} cases[] = {
		{ "1s", 1000000000, 0 }, { "1m30s", 90000000000, 0 },
		{ "1.5h", 5400000000000, 0 }, { "300ms", 300000000, 0 },
		{ "2us", 2000, 0 }, { "0", 0, 0 }, { "-2s", -2000000000, 0 },
		{ "", 0, -1 }, { "5", 0, -1 }, { "1x", 0, -1 }, { "s", 0, -1 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int64_t ns = 42;
		int rc = img_parse_duration(cases[i].s, &ns);
		ck_assert_msg(rc == cases[i].rc, "'%s': rc %d", cases[i].s, rc);
		if (rc == 0)
			ck_assert_msg(ns == cases[i].ns, "'%s': %lld", cases[i].s,
				      (long long)ns);
	}
}
END_TEST

START_TEST(go_floats_and_json)
{
	static const struct {
		double v;
		const char *s;
	} cases[] = {
		{ 10.5, "10.5" }, { 0.1, "0.1" }, { 100, "100" }, { 0, "0" },
		{ 12.000001, "12.000001" }, { 1e21, "1e+21" }, { 1e-5, "1e-05" },
	};
	struct strbuf sb = STRBUF_INIT;
	char buf[64];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		img_go_float(cases[i].v, buf, sizeof(buf));
		ck_assert_str_eq(buf, cases[i].s);
	}
	img_json_str(&sb, "a<b>&\"\n\t\x01é");
	ck_assert_str_eq(sb.buf, "\"a\\u003cb\\u003e\\u0026\\\"\\n\\t\\u0001é\"");
	sb_reset(&sb);
	img_json_str(&sb, "bad\xff");
	ck_assert_str_eq(sb.buf, "\"bad\\ufffd\"");
	sb_reset(&sb);
	img_go_quote(&sb, "/a \"b\"\n");
	ck_assert_str_eq(sb.buf, "\"/a \\\"b\\\"\\n\"");
	sb_release(&sb);
}
END_TEST

START_TEST(flags_pflag_style)
{
	int port = 0, udp = 0, t = 0;
	bool b = true, c = false;
	const char *s = "x";
	const struct img_flag fl[] = {
		{ "http-port", 0, IMG_INT, &port }, { "udp-port", 0, IMG_INT, &udp },
		{ "lines", 't', IMG_INT, &t }, { "http", 0, IMG_BOOL, &b },
		{ "close", 0, IMG_BOOL, &c }, { "name", 0, IMG_STR, &s },
		{ NULL, 0, 0, NULL },
	};
	char *argv[] = { "--http-port=8080", "pos1", "--udp-port", "9", "-t", "5",
			 "--v=2", "--http=false", "--close", "--name", "n", "pos2",
			 "--", "--pos3" };
	char *before[ARRAY_SIZE(argv)];
	int n;

	memcpy(before, argv, sizeof(argv));
	n = img_flags(fl, (int)ARRAY_SIZE(argv), argv, 0);
	ck_assert_int_eq(n, 3);
	ck_assert_str_eq(argv[0], "pos1");
	ck_assert_str_eq(argv[1], "pos2");
	ck_assert_str_eq(argv[2], "--pos3");
	ck_assert_int_eq(port, 8080);
	ck_assert_int_eq(udp, 9);
	ck_assert_int_eq(t, 5);
	ck_assert(!b && c);
	ck_assert_str_eq(s, "n");
	/* a permutation: every pointer still there exactly once */
	for (size_t i = 0; i < ARRAY_SIZE(argv); i++) {
		int seen = 0;
		for (size_t j = 0; j < ARRAY_SIZE(argv); j++)
			seen += argv[j] == before[i];
		ck_assert_int_eq(seen, 1);
	}
}
END_TEST

START_TEST(flags_errors_and_go_style)
{
	int port = 0;
	const char *text = "";
	const struct img_flag fl[] = {
		{ "port", 0, IMG_INT, &port }, { "text", 0, IMG_STR, &text },
		{ NULL, 0, 0, NULL },
	};
	char *unknown[] = { "--nope" };
	char *badint[] = { "--port=abc" };
	char *missing[] = { "--port" };
	char *go[] = { "-text=hi", "--port", "7", "extra", "-port=9" };

	ck_assert_int_eq(img_flags(fl, 1, unknown, 0), -1);
	ck_assert_int_eq(img_flags(fl, 1, badint, 0), -1);
	ck_assert_int_eq(img_flags(fl, 1, missing, 0), -1);
	/* Go's flag package stops at the first positional */
	ck_assert_int_eq(img_flags(fl, 5, go, IMG_FLAGS_GO), 2);
	ck_assert_str_eq(text, "hi");
	ck_assert_int_eq(port, 7);
	ck_assert_str_eq(go[0], "extra");
	ck_assert_str_eq(go[1], "-port=9");
}
END_TEST

START_TEST(http_forms_and_routes)
{
	static void (*const fn)(const struct http_req *, struct http_resp *, void *) = NULL;
	const struct http_route routes[] = {
		{ "/", fn, 0 }, { "/echo", fn, 0 }, { "/static/", fn, 0 },
		{ NULL, NULL, 0 },
	};
	struct http_hdr ct = { "Content-Type", "application/x-www-form-urlencoded" };
	struct http_req rq = { .method = "POST", .query = "msg=a%20b+c&empty=&code=2",
			       .hdrs = &ct, .nhdrs = 1, .body = "cmd=ls+-l&msg=body" };
	char *v;

	v = http_form(&rq, "msg");
	ck_assert_str_eq(v, "a b c");
	free(v);
	v = http_form(&rq, "empty");
	ck_assert_str_eq(v, "");
	free(v);
	v = http_form(&rq, "cmd"); /* from the urlencoded body */
	ck_assert_str_eq(v, "ls -l");
	free(v);
	ck_assert_ptr_null(http_form(&rq, "nope"));
	v = http_unescape("%2Fa%zz+%41", 11, false);
	ck_assert_str_eq(v, "/a%zz+A");
	free(v);
	ck_assert_str_eq(http_route_find(routes, "/echo")->path, "/echo");
	ck_assert_str_eq(http_route_find(routes, "/echo/x")->path, "/");
	ck_assert_str_eq(http_route_find(routes, "/static/a.css")->path, "/static/");
	ck_assert_str_eq(http_route_find(routes, "/nope")->path, "/");
	ck_assert_ptr_null(http_route_find(routes + 1, "/nope"));
	ck_assert_str_eq(http_mime("/a/b.HTML"), "text/html");
	ck_assert_str_eq(http_mime("/a.b/c"), "application/octet-stream");
	ck_assert_str_eq(http_reason(404), "Not Found");
}
END_TEST

static Suite *images_suite(void)
{
	Suite *s = suite_create("images");
	TCase *tm = tcase_create("matching");
	TCase *ta = tcase_create("argv");
	TCase *th = tcase_create("helpers");

	tcase_add_test(tm, match_registries_and_tags);
	tcase_add_test(tm, match_digests_ports_case);
	tcase_add_test(tm, match_non_matches);
	tcase_add_test(tm, match_tags);
	tcase_add_test(tm, names_name_themselves);
	tcase_add_test(ta, argv_builtin_defaults);
	tcase_add_test(ta, argv_command_and_args);
	tcase_add_test(ta, argv_ref_carries_the_tag);
	tcase_add_test(ta, argv_errors);
	tcase_add_test(ta, argv_host_images);
	tcase_add_test(ta, argv_busybox_with_host_busybox);
	tcase_add_test(ta, argv_busybox_without_host_busybox);
	tcase_add_test(ta, argv_curl_entrypoint);
	tcase_add_test(th, go_duration_strings);
	tcase_add_test(th, go_duration_parsing);
	tcase_add_test(th, go_floats_and_json);
	tcase_add_test(th, flags_pflag_style);
	tcase_add_test(th, flags_errors_and_go_style);
	tcase_add_test(th, http_forms_and_routes);
	suite_add_tcase(s, tm);
	suite_add_tcase(s, ta);
	suite_add_tcase(s, th);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(images_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
