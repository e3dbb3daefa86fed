/*
 * server/api/openapi.c: minimal OpenAPI v2 (protobuf) and v3 (JSON)
 * documents; see openapi.h.
 *
 * v2 follows gnostic's openapiv2/OpenAPIv2.proto (github.com/google/
 * gnostic-models), the message kube-apiserver serves at /openapi/v2 for
 * Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf:
 *   Document{swagger 1, info 2{title 1, version 2}, paths 8{path 2*:
 *     NamedPathItem{name 1, value 2: PathItem{patch 8: Operation{
 *       operation_id 5, parameters 8*: ParametersItem{parameter 1:
 *         Parameter{non_body_parameter 2: NonBodyParameter{
 *           query_parameter_sub_schema 3: {in 2, name 4, type 6,
 *                                          unique_items 20}}}},
 *       vendor_extension 13*: NamedAny{name 1, value 2: Any{yaml 2}}}}}}}
 * which is byte for byte what reference/kubectl-probe/openapi_pb.py builds
 * and what was verified with kubectl 1.27-1.33. v3 mirrors the fake's JSON
 * (patch, put and get on the object path, post on the collection).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/util.h"
#include "server/api/openapi.h"
#include "server/labkube.h"
#include "server/resources/resources.h"

/* ---- paths shared by both documents ---- */

/* "api/v1" or "apis/apps/v1": the index key of r's group-version. */
static void gv_key(const struct resource *r, char *buf, size_t size)
{
	if (r->group[0])
		snprintf(buf, size, "apis/%s/%s", r->group, r->version);
	else
		snprintf(buf, size, "api/%s", r->version);
}

/* "/api/v1/namespaces/{namespace}/pods" (+ "/{name}" when item). */
static char *res_path(const struct resource *r, bool item)
{
	char gv[160];
	gv_key(r, gv, sizeof(gv));
	return xasprintf("/%s%s/%s%s", gv, r->namespaced ? "/namespaces/{namespace}" : "",
			 r->plural, item ? "/{name}" : "");
}

/* true when an earlier entry of the table has the same group-version. */
static bool gv_seen_before(size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (str_eq(resource_table[j]->group, resource_table[i]->group) &&
		    str_eq(resource_table[j]->version, resource_table[i]->version))
			return true;
	return false;
}

const char *openapi_hash(const void *data, size_t len, char buf[OPENAPI_HASH_LEN])
{
	const unsigned char *p = data;
	uint64_t h = 14695981039346656037ULL; /* FNV-1a 64 */
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	snprintf(buf, OPENAPI_HASH_LEN, "%016llX", (unsigned long long)h);
	return buf;
}

/* ---- v2: protobuf ---- */

static void pb_varint(struct strbuf *sb, uint64_t v)
{
	while (v >= 0x80) {
		sb_addc(sb, (char)(v | 0x80));
		v >>= 7;
	}
	sb_addc(sb, (char)v);
}

static void pb_bytes(struct strbuf *sb, unsigned num, const void *data, size_t len)
{
	pb_varint(sb, (uint64_t)num << 3 | 2);
	pb_varint(sb, len);
	sb_add(sb, data, len);
}

static void pb_str(struct strbuf *sb, unsigned num, const char *s)
{
	pb_bytes(sb, num, s, strlen(s));
}

/* Append inner as field num of sb and empty inner. */
static void pb_msg(struct strbuf *sb, unsigned num, struct strbuf *inner)
{
	pb_bytes(sb, num, inner->buf ? inner->buf : "", inner->len);
	sb_reset(inner);
}

/* ParametersItem for a string query parameter. */
static void v2_query_param(struct strbuf *op, const char *name)
{
	struct strbuf q = STRBUF_INIT, a = STRBUF_INIT, b = STRBUF_INIT;

	pb_str(&q, 2, "query");
	pb_str(&q, 4, name);
	pb_str(&q, 6, "string");
	pb_varint(&q, 20 << 3 | 0);  /* unique_items: true */
	pb_varint(&q, 1);
	pb_msg(&a, 3, &q);           /* NonBodyParameter.query_parameter_sub_schema */
	pb_msg(&b, 2, &a);           /* Parameter.non_body_parameter */
	pb_msg(&a, 1, &b);           /* ParametersItem.parameter */
	pb_msg(op, 8, &a);           /* Operation.parameters */
	sb_release(&q);
	sb_release(&a);
	sb_release(&b);
}

/* One NamedPathItem{name, PathItem{patch}} for r, appended to paths. */
static void v2_path(struct strbuf *paths, const struct resource *r)
{
	struct strbuf op = STRBUF_INIT, ext = STRBUF_INIT, any = STRBUF_INIT;
	char *path = res_path(r, true);
	char *id = xasprintf("patch%s", r->kind);
	char *yaml = xasprintf("group: \"%s\"\nkind: %s\nversion: %s\n",
			       r->group, r->kind, r->version);

	pb_str(&op, 5, id);
	v2_query_param(&op, "fieldValidation");
	v2_query_param(&op, "dryRun");
	pb_str(&ext, 1, "x-kubernetes-group-version-kind");
	pb_str(&any, 2, yaml);       /* Any.yaml */
	pb_msg(&ext, 2, &any);       /* NamedAny.value */
	pb_msg(&op, 13, &ext);       /* Operation.vendor_extension */
	pb_msg(&any, 8, &op);        /* PathItem.patch (any reused) */
	pb_str(&ext, 1, path);       /* NamedPathItem.name (ext reused) */
	pb_msg(&ext, 2, &any);       /* NamedPathItem.value */
	pb_msg(paths, 2, &ext);      /* Paths.path */
	sb_release(&op);
	sb_release(&ext);
	sb_release(&any);
	free(path);
	free(id);
	free(yaml);
}

char *openapi_v2_pb(size_t *len)
{
	struct strbuf doc = STRBUF_INIT, info = STRBUF_INIT, paths = STRBUF_INIT;

	for (size_t i = 0; i < resource_count; i++)
		v2_path(&paths, resource_table[i]);
	pb_str(&doc, 1, "2.0");
	pb_str(&info, 1, "Kubernetes");
	pb_str(&info, 2, K8S_GIT_VERSION);
	pb_msg(&doc, 2, &info);
	pb_msg(&doc, 8, &paths);
	sb_release(&info);
	sb_release(&paths);
	return sb_detach(&doc, len);
}

/* ---- v3: JSON ---- */

static cJSON *v3_param(const char *name)
{
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "name", name);
	cJSON_AddStringToObject(p, "in", "query");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(p, "schema"), "type", "string");
	return p;
}

/* An operation with the GVK extension; params: with the query parameters. */
static cJSON *v3_op(const struct resource *r, const char *verb, bool params)
{
	cJSON *op = cJSON_CreateObject(), *gvk, *pa;
	char *id = xasprintf("%s%s", verb, r->kind);

	cJSON_AddStringToObject(op, "operationId", id);
	gvk = cJSON_AddObjectToObject(op, "x-kubernetes-group-version-kind");
	cJSON_AddStringToObject(gvk, "group", r->group);
	cJSON_AddStringToObject(gvk, "version", r->version);
	cJSON_AddStringToObject(gvk, "kind", r->kind);
	pa = cJSON_AddArrayToObject(op, "parameters");
	if (params) {
		cJSON_AddItemToArray(pa, v3_param("fieldValidation"));
		cJSON_AddItemToArray(pa, v3_param("dryRun"));
	}
	cJSON_AddStringToObject(cJSON_AddObjectToObject(cJSON_AddObjectToObject(op, "responses"),
							"200"),
				"description", "OK");
	free(id);
	return op;
}

static void v3_paths(cJSON *paths, const struct resource *r)
{
	char *item = res_path(r, true), *coll = res_path(r, false);
	cJSON *pi = cJSON_AddObjectToObject(paths, item);
	cJSON *pc = cJSON_AddObjectToObject(paths, coll);

	cJSON_AddItemToObject(pi, "get", v3_op(r, "read", false));
	cJSON_AddItemToObject(pi, "put", v3_op(r, "replace", true));
	cJSON_AddItemToObject(pi, "patch", v3_op(r, "patch", true));
	cJSON_AddItemToObject(pc, "post", v3_op(r, "create", true));
	free(item);
	free(coll);
}

char *openapi_v3_doc(const char *gv_path, size_t *len)
{
	cJSON *doc = NULL, *paths = NULL, *info;
	char gv[160];
	char *text;

	for (size_t i = 0; i < resource_count; i++) {
		gv_key(resource_table[i], gv, sizeof(gv));
		if (!str_eq(gv, gv_path))
			continue;
		if (!doc) {
			doc = cJSON_CreateObject();
			cJSON_AddStringToObject(doc, "openapi", "3.0.0");
			info = cJSON_AddObjectToObject(doc, "info");
			cJSON_AddStringToObject(info, "title", "Kubernetes");
			cJSON_AddStringToObject(info, "version", K8S_GIT_VERSION);
			paths = cJSON_AddObjectToObject(doc, "paths");
			cJSON_AddObjectToObject(cJSON_AddObjectToObject(doc, "components"),
						"schemas");
		}
		v3_paths(paths, resource_table[i]);
	}
	if (!doc)
		return NULL;
	text = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	if (len)
		*len = strlen(text);
	return text;
}

char *openapi_v3_index(void)
{
	cJSON *idx = cJSON_CreateObject(), *paths = cJSON_AddObjectToObject(idx, "paths");
	char gv[160], hash[OPENAPI_HASH_LEN];
	char *text;

	for (size_t i = 0; i < resource_count; i++) {
		if (gv_seen_before(i))
			continue;
		gv_key(resource_table[i], gv, sizeof(gv));
		size_t len = 0;
		char *doc = openapi_v3_doc(gv, &len);
		char *url = xasprintf("/openapi/v3/%s?hash=%s", gv,
				      openapi_hash(doc, len, hash));
		cJSON_AddStringToObject(cJSON_AddObjectToObject(paths, gv),
					"serverRelativeURL", url);
		free(url);
		free(doc);
	}
	text = cJSON_PrintUnformatted(idx);
	cJSON_Delete(idx);
	return text;
}
