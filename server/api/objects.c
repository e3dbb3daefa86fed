/*
 * server/api/objects.c: the HTTP verbs on objects and collections: GET,
 * LIST (selectors, paging, Table), POST, PUT, PATCH (merge, JSON,
 * strategic, apply), DELETE (one and collection), and the status and scale
 * subresources. The write semantics live in write.c; this file only maps
 * requests to them and results to replies.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/json.h"
#include "server/api/internal.h"
#include "server/api/patch.h"
#include "server/labkube.h"
#include "server/registry/write.h"
#include "server/resources/resources.h"
#include "server/store/store.h"

static struct store *store_of(struct req *r)
{
	return r->api->lk->store;
}

static struct registry *reg_of(struct req *r)
{
	return r->api->lk->reg;
}

bool api_wants_table(struct req *r)
{
	const char *acc = req_header(r, "Accept");
	return acc && strstr(acc, "as=Table") && strstr(acc, "g=meta.k8s.io");
}

static bool dry_run(struct req *r)
{
	const char *d = req_arg(r, "dryRun");
	return d && !strcmp(d, "All");
}

cJSON *api_served(const struct resource *res, cJSON *obj)
{
	if (res->from_storage && obj)
		res->from_storage(obj);
	return obj;
}

static void reply_object(struct req *r, struct rurl *u, int status, cJSON *obj)
{
	if (api_wants_table(r)) {
		const char *inc;
		struct lk_err err = { 0 };
		if (table_check_include(r, &inc, &err) < 0) {
			cJSON_Delete(obj);
			reply_err(r, &err);
			return;
		}
		cJSON *t = table_new(u->res, true);
		jset(t, "metadata.resourceVersion",
		     cJSON_Duplicate(jget(obj, "metadata.resourceVersion"), 1));
		table_add_row(t, u->res, obj, inc, time(NULL));
		cJSON_Delete(obj);
		reply_json_ctype(r, status, TABLE_CTYPE, t);
		return;
	}
	reply_json(r, status, api_served(u->res, obj));
}

/* ---- scale subresource (autoscaling/v1 Scale) ---- */

static char *scale_selector(const struct resource *res, const cJSON *obj)
{
	const cJSON *sel = jget(obj, "spec.selector");
	char *s;
	if (cJSON_IsObject(sel) && (jget(sel, "matchLabels") || jget(sel, "matchExpressions")))
		s = fmt_label_selector(sel);
	else
		s = fmt_labels(sel);
	if (!strcmp(s, "<none>"))
		s[0] = 0;
	return s;
}

static cJSON *to_scale(const struct resource *res, const cJSON *obj)
{
	cJSON *sc = cJSON_CreateObject();
	static const char *const meta[] = { "name", "namespace", "uid", "resourceVersion",
					    "creationTimestamp" };
	cJSON_AddStringToObject(sc, "kind", "Scale");
	cJSON_AddStringToObject(sc, "apiVersion", "autoscaling/v1");
	cJSON *md = cJSON_AddObjectToObject(sc, "metadata");
	for (size_t i = 0; i < ARRAY_SIZE(meta); i++) {
		cJSON *v = jget(jget(obj, "metadata"), meta[i]);
		if (v)
			cJSON_AddItemToObject(md, meta[i], cJSON_Duplicate(v, 1));
	}
	cJSON_AddNumberToObject(cJSON_AddObjectToObject(sc, "spec"), "replicas",
				(double)jint(obj, res->scale_spec, 1));
	cJSON *st = cJSON_AddObjectToObject(sc, "status");
	cJSON_AddNumberToObject(st, "replicas", (double)jint(obj, res->scale_status, 0));
	char *sel = scale_selector(res, obj);
	if (*sel)
		cJSON_AddStringToObject(st, "selector", sel);
	free(sel);
	return sc;
}

/* ---- reads ---- */

static void get_one(struct req *r, struct rurl *u)
{
	struct lk_err err = { 0 };
	cJSON *obj = NULL;
	if (store_get(store_of(r), u->storage, u->ns, u->name, &obj, NULL) < 0) {
		lk_err_notfound(&err, u->res->group, u->res->plural, u->name);
		reply_err(r, &err);
		return;
	}
	if (!strcmp(u->sub, "scale")) {
		cJSON *sc = to_scale(u->res, obj);
		cJSON_Delete(obj);
		reply_json(r, 200, sc);
		return;
	}
	reply_object(r, u, 200, obj);
}

struct list_ctx {
	const struct resource *res;
	bool table;
	struct list_filter *filter;
	cJSON *items;
	long limit, n;
	char last_key[512];
	bool more;
};

static int list_one(void *arg, cJSON *obj)
{
	struct list_ctx *c = arg;
	if (!list_filter_match(c->filter, obj)) {
		cJSON_Delete(obj);
		return 0;
	}
	if (c->limit > 0 && c->n == c->limit) {
		c->more = true;
		cJSON_Delete(obj);
		return 1;
	}
	const char *ns = jstr_or(obj, "metadata.namespace", "");
	snprintf(c->last_key, sizeof(c->last_key), "%s%s%s", ns, *ns ? "/" : "",
		 jstr_or(obj, "metadata.name", ""));
	cJSON_AddItemToArray(c->items, c->table ? obj : api_served(c->res, obj));
	c->n++;
	return 0;
}

/* {"kind":"<Kind>List","apiVersion":..,"metadata":{},"items":items}; takes items. */
static cJSON *list_envelope(const struct resource *res, cJSON *items)
{
	char kind[96], av[64];
	cJSON *doc = cJSON_CreateObject();
	snprintf(kind, sizeof(kind), "%sList", res->kind);
	cJSON_AddStringToObject(doc, "kind", kind);
	cJSON_AddStringToObject(doc, "apiVersion", resource_api_version(res, av));
	cJSON_AddObjectToObject(doc, "metadata");
	cJSON_AddItemToObject(doc, "items", items);
	return doc;
}

/* The continue token: base64 would be upstream's shape; the key is enough. */
static char *encode_continue(int64_t rev, const char *key)
{
	return xasprintf("%lld:%s", (long long)rev, key);
}

static const char *decode_continue(const char *tok)
{
	const char *colon = tok ? strchr(tok, ':') : NULL;
	return colon ? colon + 1 : NULL;
}

static void list(struct req *r, struct rurl *u)
{
	struct lk_err err = { 0 };
	struct list_ctx c = { 0 };
	const char *lim = req_arg(r, "limit"), *cont = req_arg(r, "continue");
	const char *inc = NULL;
	int64_t rev = 0;
	bool table = api_wants_table(r);

	if (cont && *cont && !decode_continue(cont)) {
		reply_status(r, LK_EBADREQUEST, "invalid continue token");
		return;
	}
	if ((table && table_check_include(r, &inc, &err) < 0) ||
	    list_filter_new(r, u->res, &c.filter, &err) < 0) {
		reply_err(r, &err);
		return;
	}
	c.limit = lim ? atol(lim) : 0;
	c.res = u->res;
	c.table = table;
	c.items = cJSON_CreateArray();
	if (store_list(store_of(r), u->storage, u->res->namespaced && *u->ns ? u->ns : NULL,
		       cont && *cont ? decode_continue(cont) : NULL, list_one, &c, &rev,
		       &err) < 0) {
		cJSON_Delete(c.items);
		list_filter_free(c.filter);
		reply_err(r, &err);
		return;
	}
	list_filter_free(c.filter);
	cJSON *doc;
	if (table) {
		time_t now = time(NULL);
		doc = table_new(u->res, true);
		cJSON *it;
		cJSON_ArrayForEach(it, c.items)
			table_add_row(doc, u->res, it, inc, now);
		cJSON_Delete(c.items);
	} else {
		doc = list_envelope(u->res, c.items);
	}
	char rvs[32];
	snprintf(rvs, sizeof(rvs), "%lld", (long long)rev);
	jset_str(doc, "metadata.resourceVersion", rvs);
	if (c.more) {
		char *tok = encode_continue(rev, c.last_key);
		jset_str(doc, "metadata.continue", tok);
		free(tok);
	}
	reply_json_ctype(r, 200, table ? TABLE_CTYPE : "application/json", doc);
}

/* ---- writes ---- */

static void create(struct req *r, struct rurl *u)
{
	struct lk_err err = { 0 };
	cJSON *obj = NULL;
	if (*u->sub || *u->name || (u->res->namespaced && !*u->ns)) {
		reply_status(r, LK_EMETHOD, "the server does not allow this method on the requested resource");
		return;
	}
	if (body_decode(r, &obj, &err) < 0 ||
	    obj_create(reg_of(r), u->res, u->ns, obj, dry_run(r) ? WRITE_DRY_RUN : 0, &err) < 0) {
		cJSON_Delete(obj);
		reply_err(r, &err);
		return;
	}
	reply_object(r, u, 201, obj);
}

/* Write obj (a full object, or a Scale for /scale) to the named object. */
static void write_back(struct req *r, struct rurl *u, cJSON *obj, int ok_status)
{
	struct lk_err err = { 0 };
	unsigned flags = dry_run(r) ? WRITE_DRY_RUN : 0;

	if (!strcmp(u->sub, "scale")) {
		cJSON *cur = NULL;
		long long want = jint(obj, "spec.replicas", -1);
		const char *rv = jstr(obj, "metadata.resourceVersion");
		if (store_get(store_of(r), u->storage, u->ns, u->name, &cur, NULL) < 0) {
			cJSON_Delete(obj);
			lk_err_notfound(&err, u->res->group, u->res->plural, u->name);
			reply_err(r, &err);
			return;
		}
		if (rv && *rv)
			jset_str(cur, "metadata.resourceVersion", rv);
		if (want < 0) {
			struct field_errs fe = { 0 };
			field_err_invalid_int(&fe, "spec.replicas", want,
					      "must be greater than or equal to 0");
			lk_err_invalid(&err, "autoscaling", "Scale", u->name, &fe);
			cJSON_Delete(obj);
			cJSON_Delete(cur);
			reply_err(r, &err);
			return;
		}
		jset_int(cur, u->res->scale_spec, want);
		cJSON_Delete(obj);
		obj = cur;
	} else if (!strcmp(u->sub, "status")) {
		flags |= WRITE_STATUS;
	}
	if (obj_update(reg_of(r), u->res, u->ns, u->name, obj, flags, &err) < 0) {
		cJSON_Delete(obj);
		reply_err(r, &err);
		return;
	}
	if (!strcmp(u->sub, "scale")) {
		cJSON *sc = to_scale(u->res, obj);
		cJSON_Delete(obj);
		reply_json(r, ok_status, sc);
		return;
	}
	reply_object(r, u, ok_status, obj);
}

static void update(struct req *r, struct rurl *u)
{
	struct lk_err err = { 0 };
	cJSON *obj = NULL;
	if (body_decode(r, &obj, &err) < 0) {
		reply_err(r, &err);
		return;
	}
	write_back(r, u, obj, 200);
}

static int parse_patch_body(struct req *r, bool yaml, cJSON **out, struct lk_err *err)
{
	const char *msg = NULL;
	if (yaml) {
		*out = yaml_to_json(r->body.buf ? r->body.buf : "", r->body.len, &msg);
		if (!*out)
			return lk_error(err, LK_EBADREQUEST, "error decoding YAML: %s", msg ? msg : "");
		return 0;
	}
	*out = cJSON_ParseWithLength(r->body.buf ? r->body.buf : "", r->body.len);
	if (!*out)
		return lk_error(err, LK_EBADREQUEST, "error decoding patch: invalid JSON");
	return 0;
}

static void patch(struct req *r, struct rurl *u)
{
	struct lk_err err = { 0 };
	const char *ct = req_header(r, "Content-Type");
	cJSON *cur = NULL, *p = NULL, *out = NULL;
	bool apply = ctype_is(ct, "application/apply-patch+yaml");
	int rc;

	if (!ctype_is(ct, "application/merge-patch+json") && !ctype_is(ct, "application/json-patch+json") &&
	    !ctype_is(ct, "application/strategic-merge-patch+json") && !apply) {
		reply_status(r, LK_EMEDIATYPE,
			     "the body of the request was in an unknown format - accepted media types include: "
			     "application/json-patch+json, application/merge-patch+json, "
			     "application/apply-patch+yaml, application/strategic-merge-patch+json");
		return;
	}
	if (parse_patch_body(r, apply, &p, &err) < 0) {
		reply_err(r, &err);
		return;
	}
	if (store_get(store_of(r), u->storage, u->ns, u->name, &cur, NULL) < 0) {
		cJSON_Delete(p);
		if (apply && !*u->sub) {
			/* Server-side apply of a new object creates it. */
			create(r, u);
			return;
		}
		lk_err_notfound(&err, u->res->group, u->res->plural, u->name);
		reply_err(r, &err);
		return;
	}
	if (!strcmp(u->sub, "scale")) {
		cJSON *sc = to_scale(u->res, cur);
		cJSON_Delete(cur);
		cur = sc;
	}
	if (ctype_is(ct, "application/json-patch+json"))
		rc = patch_json(cur, p, &out, &err);
	else if (ctype_is(ct, "application/strategic-merge-patch+json"))
		rc = patch_strategic(cur, p, u->res->group, u->res->kind, &out, &err);
	else
		rc = patch_merge(cur, p, &out, &err);
	cJSON_Delete(p);
	if (rc < 0) {
		cJSON_Delete(cur);
		reply_err(r, &err);
		return;
	}
	/* The stored version is the precondition unless the patch names one. */
	if (!jstr(out, "metadata.resourceVersion") || jequal(jget(out, "metadata.resourceVersion"),
							       jget(cur, "metadata.resourceVersion")))
		jdel(out, "metadata.resourceVersion");
	cJSON_Delete(cur);
	write_back(r, u, out, 200);
}

static int delete_options(struct req *r, struct delete_opts *o, cJSON **body,
			  struct lk_err *err)
{
	const char *v;
	memset(o, 0, sizeof(*o));
	o->grace = -1;
	o->dry_run = dry_run(r);
	*body = NULL;
	if (r->body.len) {
		*body = cJSON_ParseWithLength(r->body.buf, r->body.len);
		if (!*body)
			return lk_error(err, LK_EBADREQUEST, "error decoding DeleteOptions: invalid JSON");
		o->propagation = jstr(*body, "propagationPolicy");
		o->grace = jint(*body, "gracePeriodSeconds", -1);
		o->uid = jstr(*body, "preconditions.uid");
		o->rv = jstr(*body, "preconditions.resourceVersion");
		cJSON *dr = jget(*body, "dryRun");
		if (cJSON_IsArray(dr) && cJSON_GetArraySize(dr) > 0)
			o->dry_run = true;
	}
	if ((v = req_arg(r, "propagationPolicy")))
		o->propagation = v;
	if ((v = req_arg(r, "gracePeriodSeconds")))
		o->grace = atoll(v);
	if (o->propagation && strcmp(o->propagation, "Foreground") &&
	    strcmp(o->propagation, "Background") && strcmp(o->propagation, "Orphan")) {
		struct field_errs fe = { 0 };
		static const char *const ok[] = { "Foreground", "Background", "Orphan", "nil", NULL };
		field_err_unsupported(&fe, "propagationPolicy", o->propagation, ok);
		return lk_err_invalid(err, "", "DeleteOptions", "", &fe);
	}
	return 0;
}

static cJSON *success_status(const struct resource *res, const cJSON *obj)
{
	cJSON *st = cJSON_CreateObject();
	cJSON_AddStringToObject(st, "kind", "Status");
	cJSON_AddStringToObject(st, "apiVersion", "v1");
	cJSON_AddObjectToObject(st, "metadata");
	cJSON_AddStringToObject(st, "status", "Success");
	cJSON *d = cJSON_AddObjectToObject(st, "details");
	cJSON_AddStringToObject(d, "name", jstr_or(obj, "metadata.name", ""));
	cJSON_AddStringToObject(d, "group", res->group);
	cJSON_AddStringToObject(d, "kind", res->plural);
	cJSON_AddStringToObject(d, "uid", jstr_or(obj, "metadata.uid", ""));
	return st;
}

static void delete_one(struct req *r, struct rurl *u)
{
	struct lk_err err = { 0 };
	struct delete_opts o;
	cJSON *body = NULL, *out = NULL;
	bool gone;

	if (*u->sub) {
		reply_status(r, LK_EMETHOD, "the server does not allow this method on the requested resource");
		return;
	}
	if (delete_options(r, &o, &body, &err) < 0 ||
	    obj_delete(reg_of(r), u->res, u->ns, u->name, &o, &out, &gone, &err) < 0) {
		cJSON_Delete(body);
		reply_err(r, &err);
		return;
	}
	cJSON_Delete(body);
	if (!gone || u->res->delete_returns_object) {
		reply_object(r, u, 200, out);
		return;
	}
	reply_json(r, 200, success_status(u->res, out));
	cJSON_Delete(out);
}

struct collect {
	struct list_filter *filter;
	cJSON *names;
};

static int collect_name(void *arg, cJSON *obj)
{
	struct collect *c = arg;
	if (list_filter_match(c->filter, obj)) {
		cJSON *pair = cJSON_CreateArray();
		cJSON_AddItemToArray(pair, cJSON_CreateString(jstr_or(obj, "metadata.namespace", "")));
		cJSON_AddItemToArray(pair, cJSON_CreateString(jstr_or(obj, "metadata.name", "")));
		cJSON_AddItemToArray(c->names, pair);
	}
	cJSON_Delete(obj);
	return 0;
}

static void delete_collection(struct req *r, struct rurl *u)
{
	struct lk_err err = { 0 };
	struct delete_opts o;
	struct collect c = { 0 };
	cJSON *body = NULL, *pair, *doc, *items;
	int64_t rev;

	if (delete_options(r, &o, &body, &err) < 0 ||
	    list_filter_new(r, u->res, &c.filter, &err) < 0) {
		cJSON_Delete(body);
		reply_err(r, &err);
		return;
	}
	c.names = cJSON_CreateArray();
	store_list(store_of(r), u->storage, u->res->namespaced && *u->ns ? u->ns : NULL, NULL,
		   collect_name, &c, &rev, NULL);
	list_filter_free(c.filter);
	items = cJSON_CreateArray();
	doc = list_envelope(u->res, items);
	cJSON_ArrayForEach(pair, c.names) {
		cJSON *out = NULL;
		bool gone;
		const char *ns = cJSON_GetArrayItem(pair, 0)->valuestring;
		const char *name = cJSON_GetArrayItem(pair, 1)->valuestring;
		if (obj_delete(reg_of(r), u->res, ns, name, &o, &out, &gone, &err) == 0)
			cJSON_AddItemToArray(items, api_served(u->res, out));
		lk_err_clear(&err);
	}
	cJSON_Delete(c.names);
	cJSON_Delete(body);
	reply_json(r, 200, doc);
}

static bool sub_allowed(struct rurl *u)
{
	if (!*u->sub)
		return true;
	if (!strcmp(u->sub, "status"))
		return u->res->has_status;
	if (!strcmp(u->sub, "scale"))
		return u->res->has_scale;
	return false;
}

void api_objects(struct req *r, struct rurl *u)
{
	const char *m = r->method;
	bool is_watch = req_arg_bool(r, "watch");

	if (*u->sub && *u->name && api_subresource(r, u))
		return;
	if (!sub_allowed(u)) { /* go-restful: no route, a NotFound Status */
		reply_status(r, LK_ENOTFOUND, "the server could not find the requested resource");
		return;
	}
	if (!strcmp(m, "GET") && *u->name)
		get_one(r, u);
	else if (!strcmp(m, "GET") && is_watch)
		api_watch(r, u);
	else if (!strcmp(m, "GET"))
		list(r, u);
	else if (!strcmp(m, "POST"))
		create(r, u);
	else if (!strcmp(m, "PUT") && *u->name)
		update(r, u);
	else if (!strcmp(m, "PATCH") && *u->name)
		patch(r, u);
	else if (!strcmp(m, "DELETE") && *u->name)
		delete_one(r, u);
	else if (!strcmp(m, "DELETE"))
		delete_collection(r, u);
	else
		reply_status(r, LK_EMETHOD, "the server does not allow this method on the requested resource");
}
