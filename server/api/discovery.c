/*
 * server/api/discovery.c: /api, /apis, /api/v1, /apis/G/V (legacy
 * discovery) and the aggregated forms (apidiscovery.k8s.io v2 and v2beta1),
 * all generated from the resource table. kubectl-wire.md §2.
 */
#include <string.h>

#include "server/api/internal.h"
#include "server/api/openapi.h"
#include "server/resources/resources.h"

static const char *const verbs_all[] = { "create", "delete", "deletecollection",
					 "get", "list", "patch", "update", "watch", NULL };
static const char *const verbs_sub[] = { "get", "patch", "update", NULL };

struct subres {
	const char *plural, *name, *group, *version, *kind;
	const char *const *verbs;
};

static const char *const verbs_get[] = { "get", NULL };
static const char *const verbs_create_get[] = { "create", "get", NULL };
static const char *const verbs_update[] = { "update", NULL };

static const struct subres extra_subs[] = {
	{ "pods", "attach", "", "v1", "PodAttachOptions", verbs_create_get },
	{ "pods", "exec", "", "v1", "PodExecOptions", verbs_create_get },
	{ "pods", "log", "", "v1", "Pod", verbs_get },
	{ "pods", "portforward", "", "v1", "PodPortForwardOptions", verbs_create_get },
	{ "namespaces", "finalize", "", "v1", "Namespace", verbs_update },
};

static cJSON *strings(const char *const *list)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; list && list[i]; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(list[i]));
	return a;
}

static bool same_gv(const struct resource *r, const char *group, const char *version)
{
	return !strcmp(r->group, group) && !strcmp(r->version, version);
}

/* Each subresource of r, as (name, group, version, kind, verbs). */
static size_t subresources(const struct resource *r, struct subres *out)
{
	size_t n = 0;
	if (r->has_status)
		out[n++] = (struct subres){ r->plural, "status", r->group, r->version,
					    r->kind, verbs_sub };
	if (r->has_scale)
		out[n++] = (struct subres){ r->plural, "scale", "autoscaling", "v1",
					    "Scale", verbs_sub };
	for (size_t i = 0; i < ARRAY_SIZE(extra_subs); i++)
		if (!strcmp(extra_subs[i].plural, r->plural) && !*r->group)
			out[n++] = extra_subs[i];
	return n;
}

static cJSON *legacy_resource(const struct resource *r)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", r->plural);
	cJSON_AddStringToObject(o, "singularName", r->singular);
	cJSON_AddBoolToObject(o, "namespaced", r->namespaced);
	cJSON_AddStringToObject(o, "kind", r->kind);
	cJSON_AddItemToObject(o, "verbs", strings(verbs_all));
	if (r->short_names && r->short_names[0])
		cJSON_AddItemToObject(o, "shortNames", strings(r->short_names));
	if (r->categories && r->categories[0])
		cJSON_AddItemToObject(o, "categories", strings(r->categories));
	return o;
}

static void resource_list(struct req *r, const char *group, const char *version)
{
	cJSON *doc = cJSON_CreateObject(), *items;
	char gv[64];
	size_t found = 0;

	snprintf(gv, sizeof(gv), "%s%s%s", group, *group ? "/" : "", version);
	cJSON_AddStringToObject(doc, "kind", "APIResourceList");
	cJSON_AddStringToObject(doc, "apiVersion", "v1");
	cJSON_AddStringToObject(doc, "groupVersion", gv);
	items = cJSON_AddArrayToObject(doc, "resources");
	for (size_t i = 0; i < resource_count; i++) {
		const struct resource *res = resource_table[i];
		struct subres subs[8];
		if (!same_gv(res, group, version))
			continue;
		found++;
		cJSON_AddItemToArray(items, legacy_resource(res));
		size_t ns = subresources(res, subs);
		for (size_t j = 0; j < ns; j++) {
			cJSON *o = cJSON_CreateObject();
			char name[96];
			snprintf(name, sizeof(name), "%s/%s", res->plural, subs[j].name);
			cJSON_AddStringToObject(o, "name", name);
			cJSON_AddStringToObject(o, "singularName", "");
			cJSON_AddBoolToObject(o, "namespaced", res->namespaced);
			if (strcmp(subs[j].group, res->group) || strcmp(subs[j].version, res->version)) {
				cJSON_AddStringToObject(o, "group", subs[j].group);
				cJSON_AddStringToObject(o, "version", subs[j].version);
			}
			cJSON_AddStringToObject(o, "kind", subs[j].kind);
			cJSON_AddItemToObject(o, "verbs", strings(subs[j].verbs));
			cJSON_AddItemToArray(items, o);
		}
	}
	if (!found) {
		cJSON_Delete(doc);
		reply_text(r, 404, "text/plain; charset=utf-8", "404 page not found\n");
		return;
	}
	reply_json(r, 200, doc);
}

/* Groups other than core, in table order, each once. */
static size_t groups(const char **out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < resource_count; i++) {
		const char *g = resource_table[i]->group;
		bool seen = !*g;
		for (size_t j = 0; j < n && !seen; j++)
			seen = !strcmp(out[j], g);
		if (!seen && n < max)
			out[n++] = g;
	}
	return n;
}

static const char *group_version(const char *group)
{
	for (size_t i = 0; i < resource_count; i++)
		if (!strcmp(resource_table[i]->group, group))
			return resource_table[i]->version;
	return NULL;
}

static cJSON *gv_obj(const char *group, const char *version)
{
	cJSON *o = cJSON_CreateObject();
	char gv[64];
	snprintf(gv, sizeof(gv), "%s/%s", group, version);
	cJSON_AddStringToObject(o, "groupVersion", gv);
	cJSON_AddStringToObject(o, "version", version);
	return o;
}

static cJSON *api_group(const char *g)
{
	const char *v = group_version(g);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", g);
	cJSON *vs = cJSON_AddArrayToObject(o, "versions");
	cJSON_AddItemToArray(vs, gv_obj(g, v));
	cJSON_AddItemToObject(o, "preferredVersion", gv_obj(g, v));
	return o;
}

static void group_list(struct req *r)
{
	const char *gs[32];
	size_t n = groups(gs, ARRAY_SIZE(gs));
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "kind", "APIGroupList");
	cJSON_AddStringToObject(doc, "apiVersion", "v1");
	cJSON *arr = cJSON_AddArrayToObject(doc, "groups");
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, api_group(gs[i]));
	reply_json(r, 200, doc);
}

static void core_versions(struct req *r)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "kind", "APIVersions");
	cJSON *vs = cJSON_AddArrayToObject(doc, "versions");
	cJSON_AddItemToArray(vs, cJSON_CreateString("v1"));
	cJSON *addrs = cJSON_AddArrayToObject(doc, "serverAddressByClientCIDRs");
	cJSON *a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "clientCIDR", "0.0.0.0/0");
	const char *host = req_header(r, "Host");
	cJSON_AddStringToObject(a, "serverAddress", host ? host : "127.0.0.1:6443");
	cJSON_AddItemToArray(addrs, a);
	reply_json(r, 200, doc);
}

/* Aggregated discovery: one APIGroupDiscovery per group ("" for /api). */
static cJSON *kind_ref(const char *g, const char *v, const char *k)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "group", g);
	cJSON_AddStringToObject(o, "version", v);
	cJSON_AddStringToObject(o, "kind", k);
	return o;
}

static cJSON *agg_resource(const struct resource *res)
{
	struct subres subs[8];
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "resource", res->plural);
	cJSON_AddItemToObject(o, "responseKind", kind_ref(res->group, res->version, res->kind));
	cJSON_AddStringToObject(o, "scope", res->namespaced ? "Namespaced" : "Cluster");
	cJSON_AddStringToObject(o, "singularResource", res->singular);
	cJSON_AddItemToObject(o, "verbs", strings(verbs_all));
	if (res->short_names && res->short_names[0])
		cJSON_AddItemToObject(o, "shortNames", strings(res->short_names));
	if (res->categories && res->categories[0])
		cJSON_AddItemToObject(o, "categories", strings(res->categories));
	size_t n = subresources(res, subs);
	if (n) {
		cJSON *arr = cJSON_AddArrayToObject(o, "subresources");
		for (size_t j = 0; j < n; j++) {
			cJSON *s = cJSON_CreateObject();
			cJSON_AddStringToObject(s, "subresource", subs[j].name);
			cJSON_AddItemToObject(s, "responseKind",
					      kind_ref(subs[j].group, subs[j].version, subs[j].kind));
			cJSON_AddItemToObject(s, "verbs", strings(subs[j].verbs));
			cJSON_AddItemToArray(arr, s);
		}
	}
	return o;
}

static cJSON *agg_group(const char *g)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *md = cJSON_AddObjectToObject(o, "metadata");
	cJSON_AddStringToObject(md, "name", g);
	cJSON *vs = cJSON_AddArrayToObject(o, "versions");
	cJSON *v = cJSON_CreateObject();
	const char *ver = *g ? group_version(g) : "v1";
	cJSON_AddStringToObject(v, "version", ver);
	cJSON *rs = cJSON_AddArrayToObject(v, "resources");
	for (size_t i = 0; i < resource_count; i++)
		if (same_gv(resource_table[i], g, ver))
			cJSON_AddItemToArray(rs, agg_resource(resource_table[i]));
	cJSON_AddStringToObject(v, "freshness", "Current");
	cJSON_AddItemToArray(vs, v);
	return o;
}

/* "v2", "v2beta1" or NULL from the Accept header, in the client's order. */
static const char *agg_version(struct req *r)
{
	const char *acc = req_header(r, "Accept");
	if (!acc || !strstr(acc, "as=APIGroupDiscoveryList"))
		return NULL;
	const char *p2 = strstr(acc, "v=v2;"), *pb = strstr(acc, "v=v2beta1");
	if (!p2)
		p2 = strstr(acc, "v=v2,");
	if (p2 && (!pb || p2 < pb))
		return "v2";
	return pb ? "v2beta1" : NULL;
}

static void aggregated(struct req *r, bool core, const char *ver)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "kind", "APIGroupDiscoveryList");
	cJSON_AddStringToObject(doc, "apiVersion",
				!strcmp(ver, "v2") ? "apidiscovery.k8s.io/v2"
						   : "apidiscovery.k8s.io/v2beta1");
	cJSON_AddObjectToObject(doc, "metadata");
	cJSON *items = cJSON_AddArrayToObject(doc, "items");
	if (core) {
		cJSON_AddItemToArray(items, agg_group(""));
	} else {
		const char *gs[32];
		size_t n = groups(gs, ARRAY_SIZE(gs));
		for (size_t i = 0; i < n; i++)
			cJSON_AddItemToArray(items, agg_group(gs[i]));
	}
	/* The content type must be a static string. */
	reply_json_ctype(r, 200,
			 !strcmp(ver, "v2")
				 ? "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
				 : "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList",
			 doc);
}

static void root_paths(struct req *r)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON *paths = cJSON_AddArrayToObject(doc, "paths");
	const char *fixed[] = { "/api", "/api/v1", "/apis", "/healthz", "/livez",
				"/openapi/v2", "/openapi/v3", "/readyz", "/version" };
	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
		cJSON_AddItemToArray(paths, cJSON_CreateString(fixed[i]));
	reply_json(r, 200, doc);
}

void api_discovery(struct req *r, const char *path)
{
	char g[64] = "", v[16] = "";
	const char *agg = agg_version(r);

	if (strcmp(r->method, "GET") != 0) {
		reply_status(r, LK_EMETHOD, "the server does not allow this method on the requested resource");
		return;
	}
	if (!strcmp(path, "/") || !*path) {
		root_paths(r);
	} else if (!strcmp(path, "/api") || !strcmp(path, "/api/")) {
		if (agg)
			aggregated(r, true, agg);
		else
			core_versions(r);
	} else if (!strcmp(path, "/apis") || !strcmp(path, "/apis/")) {
		if (agg)
			aggregated(r, false, agg);
		else
			group_list(r);
	} else if (sscanf(path, "/api/%15[^/]", v) == 1) {
		resource_list(r, "", v);
	} else if (sscanf(path, "/apis/%63[^/]/%15[^/]", g, v) == 2) {
		resource_list(r, g, v);
	} else if (sscanf(path, "/apis/%63[^/]", g) == 1 && group_version(g)) {
		cJSON *o = api_group(g);
		cJSON_AddStringToObject(o, "kind", "APIGroup");
		cJSON_AddStringToObject(o, "apiVersion", "v1");
		reply_json(r, 200, o);
	} else {
		reply_text(r, 404, "text/plain; charset=utf-8", "404 page not found\n");
	}
}

/* /openapi/v2 (protobuf), /openapi/v3 (index) and /openapi/v3/<gv>: built
 * from the resource table (openapi.c); v2 is built once and kept. */
void api_openapi(struct req *r, const char *path)
{
	const char *gv = "/openapi/v3/";
	size_t len = 0;
	char *doc;

	if (strcmp(r->method, "GET") != 0) {
		reply_status(r, LK_EMETHOD, "the server does not allow this method on the requested resource");
		return;
	}
	if (!strcmp(path, "/openapi/v2")) {
		if (!r->api->openapi_v2)
			r->api->openapi_v2 = openapi_v2_pb(&r->api->openapi_v2_len);
		doc = xmalloc(r->api->openapi_v2_len);
		memcpy(doc, r->api->openapi_v2, r->api->openapi_v2_len);
		reply_bytes(r, 200, OPENAPI_V2_PB_CTYPE, doc, r->api->openapi_v2_len);
	} else if (!strcmp(path, "/openapi/v3") || !strcmp(path, "/openapi/v3/")) {
		doc = openapi_v3_index();
		reply_bytes(r, 200, OPENAPI_V3_CTYPE, doc, strlen(doc));
	} else if (str_has_prefix(path, gv) && (doc = openapi_v3_doc(path + strlen(gv), &len))) {
		reply_bytes(r, 200, OPENAPI_V3_CTYPE, doc, len);
	} else {
		reply_text(r, 404, "text/plain; charset=utf-8", "404 page not found\n");
	}
}
