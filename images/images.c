/*
 * images/images.c: the catalog of built-in images (see images.h), the
 * reference matching, Kubernetes' command resolution, and the two applets.
 *
 * The catalog is one table; an entry is a line. The built-ins live in
 * img_*.c, one file per image family (img_samples.c, img_kubia.c,
 * img_nginx.c, img_httpd.c, img_pause.c, img_agnhost.c, img_agnhost_srv.c,
 * img_netexec.c), on one shared skeleton: img_srv.c (loop, signals,
 * sockets), img_http.c + img_http_util.c (HTTP/1.1 server), img_files.c
 * (static files), img_client.c (HTTP client), img_util.c (Go-style output,
 * flags); their shared kit is declared in img.h.
 *
 * Follows: Kubernetes "Define a Command and Arguments for a Container"
 * (command replaces ENTRYPOINT, args replaces CMD) and the distribution
 * reference grammar (registry[:port]/path[:tag][@digest]).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/util.h"
#include "images/img.h"

#define V(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* The catalog. Upstream ENTRYPOINT/CMD as the real images declare them. */
static const struct image catalog[] = {
	{ "node-hello", V("gcr.io/google-samples/node-hello"),
	  "HTTP :8080 answers 'Hello Kubernetes!'",
	  img_node_hello_main, NULL, V("node", "server.js"), V("node"), 0 },
	{ "hello-app", V("gcr.io/google-samples/hello-app"),
	  "HTTP :8080 'Hello, world!', Version (the tag), Hostname",
	  img_hello_app_main, NULL, V("/hello-app"), V("hello-app"), 0 },
	{ "kubia", V("luksa/kubia", "*/kubia"),
	  "HTTP :8080 \"You've hit POD\" (Kubernetes in Action; tags v1-v4)",
	  img_kubia_main, V("node", "app.js"), NULL, V("node"), 0 },
	{ "kubia-unhealthy", V("luksa/kubia-unhealthy"),
	  "kubia that answers 500 after its 5th request",
	  img_kubia_main, V("node", "app.js"), NULL, V("node"), 0 },
	{ "kubia-pet", V("luksa/kubia-pet"),
	  "kubia that stores POSTed data in /var/data/kubia.txt",
	  img_kubia_main, V("node", "app.js"), NULL, V("node"), 0 },
	{ "k8sbook", V("nigelpoulton/k8sbook"),
	  "HTTP :8080 a small HTML page (The Kubernetes Book)",
	  img_k8sbook_main, NULL, V("node", "./app.js"), V("node"), 0 },
	{ "nginx", V("nginx", "registry.k8s.io/e2e-test-images/nginx"),
	  "HTTP :80 nginx welcome page, /usr/share/nginx/html, access log",
	  img_nginx_main, V("/docker-entrypoint.sh"),
	  V("nginx", "-g", "daemon off;"),
	  V("docker-entrypoint.sh", "nginx", "nginx-debug"), 0 },
	{ "httpd", V("httpd", "registry.k8s.io/e2e-test-images/httpd"),
	  "HTTP :80 'It works!', /usr/local/apache2/htdocs, access log",
	  img_httpd_main, NULL, V("httpd-foreground"),
	  V("httpd-foreground", "httpd"), 0 },
	{ "http-echo", V("hashicorp/http-echo"),
	  "HTTP :5678 answers -text (flags -text, -listen, -status-code)",
	  img_http_echo_main, V("/http-echo"), NULL, V("http-echo"), 0 },
	{ "agnhost", V("registry.k8s.io/e2e-test-images/agnhost",
		       "k8s.gcr.io/e2e-test-images/agnhost",
		       "gcr.io/kubernetes-e2e-test-images/agnhost"),
	  "the conformance tests' image: netexec, serve-hostname, pause, porter, ...",
	  img_agnhost_main, V("/agnhost"), V("pause"),
	  V("agnhost", "agnhost-2"), 0 },
	{ "pause", V("registry.k8s.io/pause", "k8s.gcr.io/pause"),
	  "sleeps until SIGTERM/SIGINT, then exits 0",
	  img_pause_main, V("/pause"), NULL, V("pause"), 0 },
	{ "busybox", V("busybox", "registry.k8s.io/e2e-test-images/busybox"),
	  "host tools: busybox applets (host busybox, else same-named programs)",
	  NULL, NULL, V("sh"), NULL, IMAGE_BUSYBOX },
	{ "alpine", V("alpine"), "host tools: /bin/sh and busybox applets",
	  NULL, NULL, V("/bin/sh"), NULL, IMAGE_BUSYBOX },
	{ "debian", V("debian"), "host tools: bash", NULL, NULL, V("bash"), NULL, 0 },
	{ "ubuntu", V("ubuntu"), "host tools: bash", NULL, NULL, V("/bin/bash"), NULL, 0 },
	{ "curl", V("curlimages/curl"), "host curl (ENTRYPOINT curl's entrypoint.sh)",
	  NULL, V("/entrypoint.sh"), V("curl"), NULL, IMAGE_CURL },
	{ "jessie-dnsutils", V("registry.k8s.io/e2e-test-images/jessie-dnsutils",
			       "*/jessie-dnsutils"),
	  "host tools: dig, nslookup, bash", NULL, NULL, V("bash"), NULL, 0 },
	{ "dnsutils", V("registry.k8s.io/e2e-test-images/dnsutils", "*/dnsutils"),
	  "host tools: dig, nslookup, sh", NULL, NULL, V("/bin/sh"), NULL,
	  IMAGE_BUSYBOX },
};

/* ------------------------------------------------------------------ matching */

/* The last path component of a reference, without tag or digest. */
static size_t ref_repo(const char *ref, const char **start)
{
	size_t len = strcspn(ref, "@");
	const char *slash = NULL;

	for (size_t i = 0; i < len; i++)
		if (ref[i] == '/')
			slash = ref + i;
	*start = slash ? slash + 1 : ref;
	len -= (size_t)(*start - ref);
	const char *colon = memchr(*start, ':', len);
	return colon ? (size_t)(colon - *start) : len;
}

static bool repo_matches(const char *pattern, const char *name, size_t len)
{
	const char *p;
	size_t plen = ref_repo(pattern, &p);

	return plen == len && len > 0 && !strncasecmp(p, name, len);
}

const struct image *image_lookup(const char *ref)
{
	const char *name;
	size_t len;

	if (!ref)
		return NULL;
	len = ref_repo(ref, &name);
	for (size_t i = 0; i < ARRAY_SIZE(catalog); i++)
		for (const char *const *r = catalog[i].repos; *r; r++)
			if (repo_matches(*r, name, len))
				return &catalog[i];
	return NULL;
}

const char *image_tag(const char *ref)
{
	static char tag[128];
	const char *name, *colon;
	size_t len = ref ? ref_repo(ref, &name) : 0;

	snprintf(tag, sizeof(tag), "latest");
	if (!len)
		return tag;
	colon = name + len;
	if (*colon == ':') {
		size_t n = strcspn(colon + 1, "@");
		if (n > 0 && n < sizeof(tag))
			snprintf(tag, sizeof(tag), "%.*s", (int)n, colon + 1);
	}
	return tag;
}

const char *image_names(void)
{
	static char *names;
	struct strbuf sb = STRBUF_INIT;

	if (names)
		return names;
	for (size_t i = 0; i < ARRAY_SIZE(catalog); i++)
		sb_addf(&sb, "%s%s", i ? ", " : "", catalog[i].name);
	names = sb_detach(&sb, NULL);
	return names;
}

/* --------------------------------------------------------------- resolution */

struct argvec {
	char **v;
	size_t n, alloc;
};

static void av_push(struct argvec *a, const char *s)
{
	if (a->n + 2 > a->alloc) {
		a->alloc = a->alloc ? a->alloc * 2 : 8;
		a->v = xrealloc(a->v, a->alloc * sizeof(*a->v));
	}
	a->v[a->n++] = xstrdup(s);
	a->v[a->n] = NULL;
}

static void av_pushv(struct argvec *a, const char *const *v)
{
	for (; v && *v; v++)
		av_push(a, *v);
}

static void av_shift(struct argvec *a)
{
	free(a->v[0]);
	memmove(a->v, a->v + 1, a->n * sizeof(*a->v)); /* moves the NULL too */
	a->n--;
}

static void av_unshift(struct argvec *a, const char *s)
{
	av_push(a, s);
	char *last = a->v[a->n - 1];
	memmove(a->v + 1, a->v, (a->n - 1) * sizeof(*a->v));
	a->v[0] = last;
}

static bool vec_empty(const char *const *v)
{
	return !v || !v[0];
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* Is prog an executable on the host (a path, or a name on $PATH)? */
static bool host_has(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0;
	if (!path || !*path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		if (n && snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, prog) <
				 (int)sizeof(buf) &&
		    access(buf, X_OK) == 0)
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

/* busybox images: applets by name, with or without a host busybox. */
static void fix_busybox(struct argvec *a)
{
	bool bb = !strcmp(base_name(a->v[0]), "busybox");

	if (bb && a->n > 1 && !host_has(a->v[0]) && !host_has("busybox"))
		av_shift(a);
	else if (bb && !host_has(a->v[0]) && host_has("busybox")) {
		av_shift(a);
		av_unshift(a, "busybox");
	} else if (!bb && !host_has(a->v[0]) && host_has("busybox"))
		av_unshift(a, "busybox");
}

/* curlimages/curl's /entrypoint.sh: curl unless $1 is a command. */
static void fix_curl(struct argvec *a)
{
	if (strcmp(a->v[0], "/entrypoint.sh") || host_has(a->v[0]))
		return;
	av_shift(a);
	if (!a->n || a->v[0][0] == '-' || !host_has(a->v[0]))
		av_unshift(a, "curl");
}

static bool is_program(const struct image *img, const char *argv0)
{
	for (const char *const *p = img->programs; p && *p; p++)
		if (!strcmp(*p, base_name(argv0)))
			return true;
	return false;
}

/* Kubernetes: command replaces ENTRYPOINT, args replaces CMD. */
static void resolve(struct argvec *a, const struct image *img,
		    const char *const *command, const char *const *args)
{
	if (!vec_empty(command)) {
		av_pushv(a, command);
		av_pushv(a, args);
		return;
	}
	av_pushv(a, img->entrypoint);
	av_pushv(a, vec_empty(args) ? img->cmd : args);
}

static char **argv_for(const struct image *img, const char *name,
		       const char *const *command, const char *const *args,
		       const char **why)
{
	struct argvec a = { 0 };
	struct argvec out = { 0 };

	resolve(&a, img, command, args);
	if (!a.n) {
		*why = "no command specified";
		return NULL;
	}
	if (img->flags & IMAGE_BUSYBOX)
		fix_busybox(&a);
	if (img->flags & IMAGE_CURL)
		fix_curl(&a);
	if (!img->main || !is_program(img, a.v[0]))
		return a.v;
	av_push(&out, "/proc/self/exe");
	av_push(&out, "_image");
	av_push(&out, name);
	av_pushv(&out, (const char *const *)a.v);
	image_argv_free(a.v);
	return out.v;
}

char **image_argv(const struct image *img, const char *const *command,
		  const char *const *args, const char **why)
{
	if (!img) {
		*why = "image not in catalog";
		return NULL;
	}
	return argv_for(img, img->name, command, args, why);
}

char **image_ref_argv(const char *ref, const char *const *command,
		      const char *const *args, const char **why)
{
	const struct image *img = image_lookup(ref);

	if (!img) {
		*why = "image not in catalog";
		return NULL;
	}
	return argv_for(img, ref, command, args, why);
}

void image_argv_free(char **argv)
{
	for (char **p = argv; p && *p; p++)
		free(*p);
	free(argv);
}

/* ------------------------------------------------------------------ applets */

static const char *cur_ref = "";
static char cur_repo[128], cur_tag[128];

const char *img_ref(void)
{
	return cur_ref;
}

const char *img_repo(void)
{
	return cur_repo;
}

const char *img_version(void)
{
	return cur_tag;
}

static void set_current(const char *ref)
{
	const char *name;
	size_t len = ref_repo(ref, &name);

	cur_ref = ref;
	snprintf(cur_repo, sizeof(cur_repo), "%.*s", (int)len, name);
	snprintf(cur_tag, sizeof(cur_tag), "%s", image_tag(ref));
}

/* A container starts with clean signal state, whatever the agent had. */
static void reset_signals(void)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
}

int image_exec_main(int argc, char **argv)
{
	const struct image *img = argc > 0 ? image_lookup(argv[0]) : NULL;
	struct argvec a = { 0 };
	int rc;

	if (!img || !img->main) {
		fprintf(stderr, "labkube _image: '%s' is not a built-in image "
			"(built-in: %s)\n", argc > 0 ? argv[0] : "", image_names());
		return 127;
	}
	reset_signals();
	setvbuf(stdout, NULL, _IOLBF, 0);
	set_current(argv[0]);
	if (argc > 1 && is_program(img, argv[1])) {
		av_pushv(&a, (const char *const *)argv + 1);
	} else {
		av_pushv(&a, img->entrypoint);
		av_pushv(&a, argc > 1 ? (const char *const *)argv + 1 : img->cmd);
	}
	rc = img->main((int)a.n, a.v);
	fflush(stdout);
	image_argv_free(a.v);
	return rc;
}

/* NAME, MATCHES, DESCRIPTION; an entry's further repositories follow on
 * lines of their own under MATCHES. */
int images_cmd(int argc, char **argv)
{
	int wn = 4, wm = 7;

	for (size_t i = 0; i < ARRAY_SIZE(catalog); i++) {
		if ((int)strlen(catalog[i].name) > wn)
			wn = (int)strlen(catalog[i].name);
		for (const char *const *r = catalog[i].repos; *r; r++)
			if ((int)strlen(*r) > wm)
				wm = (int)strlen(*r);
	}
	printf("%-*s   %-*s   %s\n", wn, "NAME", wm, "MATCHES", "DESCRIPTION");
	for (size_t i = 0; i < ARRAY_SIZE(catalog); i++) {
		const char *const *r = catalog[i].repos;
		printf("%-*s   %-*s   %s\n", wn, catalog[i].name, wm, r[0],
		       catalog[i].desc);
		while (*++r)
			printf("%-*s   %s\n", wn, "", *r);
	}
	printf("\nAn image matches by its repository name, whatever the registry, "
	       "owner and tag\n(\"docker.io/luksa/kubia:v2\" is kubia).\n");
	return 0;
}
