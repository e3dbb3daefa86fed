/*
 * server/api/router.c: from a URL to a handler.
 *
 *   /version                               version
 *   /readyz /livez /healthz[/CHECK]        health checks
 *   /api /apis /api/v1 /apis/G[/V]         discovery (discovery.c)
 *   /openapi/v2 /openapi/v3[/...]          OpenAPI (openapi.c)
 *   /api/v1/[namespaces/NS/]RES[/NAME[/SUB]]
 *   /apis/G/V/[namespaces/NS/]RES[/NAME[/SUB]]   objects (objects.c)
 */
#include <stdio.h>
#include <string.h>

#include "server/api/internal.h"
#include "server/labkube.h"
#include "server/registry/serve.h"
#include "server/resources/resources.h"

#define MAX_SEGS 8

static int split(char *path, char **segs)
{
	int n = 0;
	char *save = NULL;
	for (char *tok = strtok_r(path, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (n == MAX_SEGS)
			return -1;
		segs[n++] = tok;
	}
	return n;
}

static bool copy_seg(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);
	if (n >= len)
		return false;
	memcpy(dst, src, n + 1);
	return true;
}

/* segs after the group-version prefix. */
static bool parse_resource(struct rurl *u, char **segs, int n)
{
	if (n >= 3 && strcmp(segs[0], "namespaces") == 0) {
		const struct resource *r = resource_find(u->group, u->version, segs[2]);
		if (r && r->namespaced) {
			if (!copy_seg(u->ns, sizeof(u->ns), segs[1]))
				return false;
			segs += 2;
			n -= 2;
		}
	}
	if (n < 1 || n > 3)
		return false;
	if (!copy_seg(u->plural, sizeof(u->plural), segs[0]) ||
	    (n > 1 && !copy_seg(u->name, sizeof(u->name), segs[1])) ||
	    (n > 2 && !copy_seg(u->sub, sizeof(u->sub), segs[2])))
		return false;
	u->res = resource_find(u->group, u->version, u->plural);
	if (u->res)
		resource_storage(u->res, u->storage);
	return true;
}

static void not_found_page(struct req *r)
{
	reply_text(r, 404, "text/plain; charset=utf-8", "404 page not found\n");
}

static void route_objects(struct req *r, char **segs, int n)
{
	struct rurl u = { 0 };
	int skip;

	if (strcmp(segs[0], "api") == 0) {
		copy_seg(u.version, sizeof(u.version), segs[1]);
		skip = 2;
	} else {
		if (n < 4 || !copy_seg(u.group, sizeof(u.group), segs[1]) ||
		    !copy_seg(u.version, sizeof(u.version), segs[2])) {
			not_found_page(r);
			return;
		}
		skip = 3;
	}
	if (!parse_resource(&u, segs + skip, n - skip)) {
		not_found_page(r);
		return;
	}
	if (!u.res) {
		reply_status(r, LK_ENOTFOUND, "the server could not find the requested resource");
		return;
	}
	api_objects(r, &u);
}

/*
 * /readyz, /livez and /healthz as upstream's healthz handler answers them
 * (k8s.io/apiserver/pkg/server/healthz): "ok"; with ?verbose one line per
 * check and "readyz check passed"; when a check fails, every line and
 * "readyz check failed" with 500, the reason withheld (the component logs
 * it; /readyz/CHECK answers "internal server error: REASON"). ?exclude=CHECK
 * (repeatable) skips a check. /readyz runs ping and the checks components
 * registered (server/registry/serve.h: node, proxy, dns on a privileged
 * server; one without privilege runs nothing on purpose and registers
 * none); /livez and /healthz run ping: the process serves.
 */
#define MAX_EXCLUDE 16

static void health_reply(struct req *r, int status, char *body)
{
	reply_bytes(r, status, "text/plain; charset=utf-8", body, strlen(body));
	sb_adds(&r->reply.headers, "X-Content-Type-Options: nosniff\n");
}

static void health(struct req *r, const char *name, const char *only)
{
	const struct ready_check *checks = NULL;
	const char *excl[MAX_EXCLUDE], *verbose[1];
	bool used[MAX_EXCLUDE] = { false }, failed = false;
	size_t n = 0, nex = req_arg_all(r, "exclude", excl, MAX_EXCLUDE);
	struct strbuf out = STRBUF_INIT;

	if (nex > MAX_EXCLUDE)
		nex = MAX_EXCLUDE;
	if (!strcmp(name, "readyz"))
		checks = registry_checks(r->api->lk->reg, &n);
	if (only) {
		const char *why = NULL;
		size_t i = 0;
		while (i < n && strcmp(checks[i].name, only))
			i++;
		if (strcmp(only, "ping") && i == n) {
			not_found_page(r);
			return;
		}
		if (i < n && (why = checks[i].fn(checks[i].arg)))
			health_reply(r, 500, xasprintf("internal server error: %s\n", why));
		else
			health_reply(r, 200, xstrdup("ok"));
		return;
	}
	for (size_t i = 0; i <= n; i++) {
		const char *check = i ? checks[i - 1].name : "ping";
		size_t x = 0;
		while (x < nex && strcmp(excl[x], check))
			x++;
		if (x < nex) {
			used[x] = true;
			sb_addf(&out, "[+]%s excluded: ok\n", check);
		} else if (i && checks[i - 1].fn(checks[i - 1].arg)) {
			sb_addf(&out, "[-]%s failed: reason withheld\n", check);
			failed = true;
		} else {
			sb_addf(&out, "[+]%s ok\n", check);
		}
	}
	for (size_t x = 0, first = 1; x < nex; x++) {
		bool seen = used[x];
		for (size_t y = 0; y < x && !seen; y++)
			seen = !strcmp(excl[y], excl[x]);
		if (seen)
			continue;
		sb_addf(&out, "%s\"%s\"", first ? "warn: some health checks cannot be excluded: "
				"no matches for " : ",", excl[x]);
		first = 0;
	}
	if (out.len && out.buf[out.len - 1] != '\n')
		sb_adds(&out, "\n");
	if (failed) {
		sb_addf(&out, "%s check failed\n", name);
		health_reply(r, 500, sb_detach(&out, NULL));
	} else if (req_arg_all(r, "verbose", verbose, 1)) {
		sb_addf(&out, "%s check passed\n", name);
		health_reply(r, 200, sb_detach(&out, NULL));
	} else {
		health_reply(r, 200, xstrdup("ok"));
	}
	sb_release(&out);
}

static void version(struct req *r)
{
	cJSON *v = cJSON_CreateObject();
	cJSON_AddStringToObject(v, "major", K8S_MAJOR);
	cJSON_AddStringToObject(v, "minor", K8S_MINOR);
	cJSON_AddStringToObject(v, "gitVersion", K8S_GIT_VERSION);
	cJSON_AddStringToObject(v, "gitCommit", "0000000000000000000000000000000000000000");
	cJSON_AddStringToObject(v, "gitTreeState", "clean");
	cJSON_AddStringToObject(v, "buildDate", "2026-11-22T00:00:00Z");
	cJSON_AddStringToObject(v, "goVersion", "go1.23.0");
	cJSON_AddStringToObject(v, "compiler", "gc");
	cJSON_AddStringToObject(v, "platform", "linux/amd64");
	reply_json(r, 200, v);
}

void api_route(struct req *r)
{
	char *copy = xstrdup(r->path);
	char *segs[MAX_SEGS];
	int n = split(copy, segs);

	if (n < 0) {
		not_found_page(r);
	} else if (n == 0) {
		api_discovery(r, "/");
	} else if ((n == 1 || n == 2) && (!strcmp(segs[0], "readyz") ||
					  !strcmp(segs[0], "livez") || !strcmp(segs[0], "healthz"))) {
		health(r, segs[0], n == 2 ? segs[1] : NULL);
	} else if (n == 1 && !strcmp(segs[0], "version")) {
		version(r);
	} else if (!strcmp(segs[0], "openapi")) {
		api_openapi(r, r->path);
	} else if ((!strcmp(segs[0], "api") && n <= 2) || (!strcmp(segs[0], "apis") && n <= 3)) {
		api_discovery(r, r->path);
	} else if (!strcmp(segs[0], "api") || !strcmp(segs[0], "apis")) {
		route_objects(r, segs, n);
	} else {
		not_found_page(r);
	}
	free(copy);
}
