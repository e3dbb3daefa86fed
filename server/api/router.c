/*
 * server/api/router.c: from a URL to a handler.
 *
 *   /version /readyz /livez /healthz       health and version
 *   /api /apis /api/v1 /apis/G[/V]         discovery (discovery.c)
 *   /openapi/v2 /openapi/v3[/...]          OpenAPI (openapi.c)
 *   /api/v1/[namespaces/NS/]RES[/NAME[/SUB]]
 *   /apis/G/V/[namespaces/NS/]RES[/NAME[/SUB]]   objects (objects.c)
 */
#include <stdio.h>
#include <string.h>

#include "dns/dns.h"
#include "proxy/proxy.h"
#include "server/api/internal.h"
#include "server/labkube.h"
#include "server/node/node.h"
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

/* /livez and /healthz: the process serves. /readyz also asks the
 * components that can be degraded (the proxy), worded like upstream's
 * failing check list. Without root the node runs nothing on purpose (the
 * Node says so): the API alone is then what "ready" means. */
static void health(struct req *r, bool ready)
{
	const char *why = NULL, *what = "proxy";
	/* A node without root runs no proxy and no DNS on port 53 on purpose;
	 * only a capable node's failures make it not ready. */
	if (ready && !node_not_ready_reason(r->api->lk)) {
		why = proxy_ready_reason();
		if (!why && (why = dns_ready_reason()))
			what = "dns";
	}
	if (why) {
		char *text = xasprintf("[+]ping ok\n[-]%s failed: %s\nreadyz check failed\n", what, why);
		reply_bytes(r, 500, "text/plain; charset=utf-8", text, strlen(text));
		return;
	}
	reply_text(r, 200, "text/plain; charset=utf-8", "ok");
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
	} else if (n == 1 && (!strcmp(segs[0], "readyz") || !strcmp(segs[0], "livez") ||
			      !strcmp(segs[0], "healthz"))) {
		health(r, !strcmp(segs[0], "readyz"));
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
