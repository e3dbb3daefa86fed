/*
 * server/api/patch.c: JSON merge patch (RFC 7386) and JSON patch (RFC 6902),
 * as kube-apiserver applies them through evanphx/json-patch v4
 * (MergePatch, Patch.Apply). Strategic merge patch lives in smpatch.c.
 * See patch.h for the contract and the error texts.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/util.h"
#include "server/api/patch.h"

/* A copy (never NULL: cJSON_Duplicate only fails on allocation). */
static cJSON *dup(const cJSON *v)
{
	cJSON *d = cJSON_Duplicate(v, 1);
	if (!d)
		abort();
	return d;
}

/* Set obj[key] = v (owned), keeping the member's place when it exists. */
static void obj_put(cJSON *obj, const char *key, cJSON *v)
{
	if (cJSON_GetObjectItemCaseSensitive(obj, key))
		cJSON_ReplaceItemInObjectCaseSensitive(obj, key, v);
	else
		cJSON_AddItemToObject(obj, key, v);
}

/* ---- RFC 7386 ---- */

/* evanphx pruneNulls: drop null members of objects, at any depth; nulls
 * that are array elements stay. */
static void prune_nulls(cJSON *v)
{
	cJSON *c, *next;
	for (c = v ? v->child : NULL; c; c = next) {
		next = c->next;
		if (cJSON_IsObject(v) && cJSON_IsNull(c))
			cJSON_Delete(cJSON_DetachItemViaPointer(v, c));
		else
			prune_nulls(c);
	}
}

static cJSON *pruned_copy(const cJSON *v)
{
	cJSON *d = dup(v);
	prune_nulls(d);
	return d;
}

static void merge_docs(cJSON *doc, const cJSON *patch)
{
	const cJSON *p;
	cJSON_ArrayForEach(p, patch) {
		cJSON *cur = cJSON_GetObjectItemCaseSensitive(doc, p->string);
		if (cJSON_IsNull(p)) {
			if (cur)
				cJSON_Delete(cJSON_DetachItemViaPointer(doc, cur));
		} else if (!cur || cJSON_IsNull(cur) || !cJSON_IsObject(cur)) {
			obj_put(doc, p->string, pruned_copy(p));
		} else if (!cJSON_IsObject(p)) {
			obj_put(doc, p->string, dup(p));
		} else {
			merge_docs(cur, p);
		}
	}
}

int patch_merge(const cJSON *orig, const cJSON *patch, cJSON **out,
		struct lk_err *err)
{
	*out = NULL;
	if (cJSON_IsArray(patch)) {
		*out = pruned_copy(patch);
		return 0;
	}
	if (!cJSON_IsObject(patch))
		return lk_error(err, LK_EBADREQUEST, "Invalid JSON Patch");
	if (!orig || cJSON_IsNull(orig))
		return lk_error(err, LK_EBADREQUEST, "Invalid JSON Document");
	if (!cJSON_IsObject(orig)) {
		*out = pruned_copy(patch);
		return 0;
	}
	*out = dup(orig);
	merge_docs(*out, patch);
	return 0;
}

/* ---- RFC 6902 ---- */

/* Copies may not grow the document without bound (copy-doubling attacks):
 * nodes copied by one patch, a guard of ours (upstream sets no limit). */
#define JSONPATCH_COPY_BUDGET 1000000

struct jp {
	cJSON *doc;
	size_t copied;
};

/* Go's strconv.Atoi: optional sign, decimal digits, no overflow. */
static bool go_atoi(const char *s, long long *out)
{
	bool neg = false;
	long long v = 0;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (v > (LLONG_MAX - (*s - '0')) / 10)
			return false;
		v = v * 10 + (*s - '0');
	}
	*out = neg ? -v : v;
	return true;
}

/* RFC 6901 unescaping in one pass: "~1" -> "/", "~0" -> "~". */
static char *unescape_token(const char *s, size_t n)
{
	char *out = xmalloc(n + 1), *o = out;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '~' && i + 1 < n && (s[i + 1] == '0' || s[i + 1] == '1')) {
			*o++ = s[i + 1] == '1' ? '/' : '~';
			i++;
		} else {
			*o++ = s[i];
		}
	}
	*o = 0;
	return out;
}

/* Array index for get/set/remove (len = size); -1 when invalid. Negative
 * indices count from the end (json-patch v4 SupportNegativeIndices). */
static int array_index(const char *key, int len, int limit)
{
	long long idx;
	if (!go_atoi(key, &idx))
		return -1;
	if (idx < 0) {
		if (idx < -(long long)len)
			return -1;
		idx += len;
	}
	if (idx >= limit)
		return -1;
	return (int)idx;
}

/* The member or element `key` of container con: NULL when absent. *bad is
 * set when the key cannot address an array element. */
static cJSON *con_get(cJSON *con, const char *key, bool *bad)
{
	*bad = false;
	if (cJSON_IsObject(con))
		return cJSON_GetObjectItemCaseSensitive(con, key);
	int n = cJSON_GetArraySize(con);
	int i = array_index(key, n, n);
	if (i < 0) {
		*bad = true;
		return NULL;
	}
	return cJSON_GetArrayItem(con, i);
}

/* Walk every token of path but the last; the container and last token. */
static cJSON *find_object(cJSON *doc, const char *path, char **key)
{
	const char *p = strchr(path, '/'), *next;
	cJSON *con = doc;

	*key = NULL;
	if (!p)
		return NULL; /* upstream ignores what precedes the first '/' */
	for (p++; (next = strchr(p, '/')); p = next + 1) {
		char *tok = unescape_token(p, (size_t)(next - p));
		bool bad;
		cJSON *c = con_get(con, tok, &bad);
		free(tok);
		if (!c || !(cJSON_IsObject(c) || cJSON_IsArray(c)))
			return NULL;
		con = c;
	}
	*key = unescape_token(p, strlen(p));
	return con;
}

/* Insert v before element i (i == size appends). Not cJSON_InsertItemInArray:
 * Debian's 1.7.15-1+deb12u4 refuses every index but the first and last. */
static void arr_insert(cJSON *arr, int i, cJSON *v)
{
	cJSON *at = arr->child;
	while (i-- > 0 && at)
		at = at->next;
	if (!at) {
		cJSON_AddItemToArray(arr, v);
		return;
	}
	v->next = at;
	v->prev = at->prev; /* the head's prev is the tail */
	if (at == arr->child)
		arr->child = v;
	else
		at->prev->next = v;
	at->prev = v;
}

static int con_add(cJSON *con, const char *key, cJSON *val)
{
	if (cJSON_IsObject(con)) {
		obj_put(con, key, val);
		return 0;
	}
	int n, i;
	if (!strcmp(key, "-")) {
		cJSON_AddItemToArray(con, val);
		return 0;
	}
	n = cJSON_GetArraySize(con);
	i = array_index(key, n + 1, n + 1);
	if (i < 0)
		goto fail;
	arr_insert(con, i, val);
	return 0;
fail:
	cJSON_Delete(val);
	return -1;
}

static int con_remove(cJSON *con, const char *key)
{
	bool bad;
	cJSON *c = con_get(con, key, &bad);
	if (!c)
		return -1;
	cJSON_Delete(cJSON_DetachItemViaPointer(con, c));
	return 0;
}

/* A string member of an operation ("op", "path", "from"). */
static const char *op_str(const cJSON *op, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(op, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* op.value(): a copy, JSON null when absent (add/replace store null). */
static cJSON *op_value(const cJSON *op)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(op, "value");
	cJSON *d = v ? dup(v) : cJSON_CreateNull();
	free(d->string); /* "value": the caller names it */
	d->string = NULL;
	return d;
}

static int jp_add(struct jp *jp, const cJSON *op, const char *path)
{
	char *key;
	cJSON *con = find_object(jp->doc, path, &key);
	int rc = con ? con_add(con, key, op_value(op)) : -1;
	free(key);
	return rc;
}

static int jp_remove(struct jp *jp, const cJSON *op, const char *path)
{
	char *key;
	cJSON *con = find_object(jp->doc, path, &key);
	int rc = con ? con_remove(con, key) : -1;
	free(key);
	return rc;
}

static int jp_replace(struct jp *jp, const cJSON *op, const char *path)
{
	char *key;
	cJSON *con, *cur;
	bool bad;
	int rc = -1;

	if (!*path) {
		/* The whole document. Upstream's check for a non-container value
		 * wraps a nil error, so such a replace is a silent no-op. */
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(op, "value");
		if (!v)
			return -1;
		if (!cJSON_IsObject(v) && !cJSON_IsArray(v))
			return 0;
		cJSON_Delete(jp->doc);
		jp->doc = dup(v);
		return 0;
	}
	con = find_object(jp->doc, path, &key);
	if (!con)
		goto out;
	cur = con_get(con, key, &bad);
	if (bad)
		goto out;
	if (cJSON_IsObject(con)) {
		obj_put(con, key, op_value(op));
	} else {
		if (!cJSON_ReplaceItemViaPointer(con, cur, op_value(op)))
			goto out;
	}
	rc = 0;
out:
	free(key);
	return rc;
}

static size_t count_nodes(const cJSON *v)
{
	size_t n = v ? 1 : 0;
	for (const cJSON *c = v ? v->child : NULL; c; c = c->next)
		n += count_nodes(c);
	return n;
}

/* Detach (move) or copy the value at from; NULL when it cannot. A missing
 * object member copies as null, as upstream's nil node does. */
static cJSON *take_from(struct jp *jp, const char *from, bool move)
{
	char *key;
	cJSON *con = find_object(jp->doc, from, &key), *v = NULL;
	bool bad;

	if (!con)
		goto out;
	v = con_get(con, key, &bad);
	if (bad)
		goto out;
	if (move) {
		v = v ? cJSON_DetachItemViaPointer(con, v) : NULL;
	} else {
		jp->copied += count_nodes(v);
		if (jp->copied > JSONPATCH_COPY_BUDGET) {
			v = NULL;
			goto out;
		}
		v = v ? dup(v) : cJSON_CreateNull();
	}
out:
	free(key);
	return v;
}

static int jp_move_copy(struct jp *jp, const cJSON *op, const char *path,
			bool move)
{
	const char *from = op_str(op, "from");
	char *key;
	cJSON *v, *con;
	int rc;

	if (!from || !(v = take_from(jp, from, move)))
		return -1;
	con = find_object(jp->doc, path, &key);
	if (!con) {
		cJSON_Delete(v);
		free(key);
		return -1;
	}
	rc = con_add(con, key, v);
	free(key);
	return rc;
}

static int jp_test(struct jp *jp, const cJSON *op, const char *path)
{
	const cJSON *want = cJSON_GetObjectItemCaseSensitive(op, "value");
	const cJSON *have;
	char *key;
	cJSON *con;
	bool bad;
	int rc = -1;

	if (!*path)
		return jequal(jp->doc, want) ? 0 : -1;
	con = find_object(jp->doc, path, &key);
	if (!con)
		goto out;
	have = con_get(con, key, &bad);
	if (bad || !want)
		goto out;
	if (!have || cJSON_IsNull(have))
		rc = cJSON_IsNull(want) ? 0 : -1;
	else
		rc = jequal(have, want) ? 0 : -1;
out:
	free(key);
	return rc;
}

static int jp_move(struct jp *jp, const cJSON *op, const char *path)
{
	return jp_move_copy(jp, op, path, true);
}

static int jp_copy(struct jp *jp, const cJSON *op, const char *path)
{
	return jp_move_copy(jp, op, path, false);
}

static const struct {
	const char *name;
	int (*apply)(struct jp *jp, const cJSON *op, const char *path);
} jp_ops[] = {
	{ "add", jp_add },   { "remove", jp_remove }, { "replace", jp_replace },
	{ "move", jp_move }, { "copy", jp_copy },     { "test", jp_test },
};

/* One operation; an unknown "op" or a missing "path" fails it. */
static int jp_apply(struct jp *jp, const cJSON *op)
{
	const char *kind = op_str(op, "op"), *path = op_str(op, "path");

	for (size_t i = 0; kind && path && i < ARRAY_SIZE(jp_ops); i++)
		if (!strcmp(kind, jp_ops[i].name))
			return jp_ops[i].apply(jp, op, path);
	return -1;
}

/* encoding/json's name for a value's JSON type. */
static const char *json_type_name(const cJSON *v)
{
	if (cJSON_IsObject(v))
		return "object";
	if (cJSON_IsArray(v))
		return "array";
	if (cJSON_IsString(v))
		return "string";
	if (cJSON_IsNumber(v))
		return "number";
	return "bool";
}

int patch_json(const cJSON *orig, const cJSON *ops, cJSON **out,
	       struct lk_err *err)
{
	struct jp jp = { 0 };
	const cJSON *op;
	int n = 0;

	*out = NULL;
	if (ops && !cJSON_IsNull(ops) && !cJSON_IsArray(ops))
		return lk_error(err, LK_EBADREQUEST,
				"json: cannot unmarshal %s into Go value of type jsonpatch.Patch",
				json_type_name(ops));
	cJSON_ArrayForEach(op, ops) {
		if (!cJSON_IsObject(op) && !cJSON_IsNull(op))
			return lk_error(err, LK_EBADREQUEST,
					"json: cannot unmarshal %s into Go value of type jsonpatch.Operation",
					json_type_name(op));
		n++;
	}
	if (n > PATCH_JSON_MAX_OPS)
		return lk_error(err, LK_ETOOLARGE,
				"Request entity too large: The allowed maximum "
				"operations in a JSON patch is %d, got %d",
				PATCH_JSON_MAX_OPS, n);
	jp.doc = orig ? dup(orig) : cJSON_CreateObject();
	cJSON_ArrayForEach(op, ops) {
		if (jp_apply(&jp, op)) {
			cJSON_Delete(jp.doc);
			return lk_error(err, LK_EINVALID,
					"the server rejected our request due to an "
					"error in our request");
		}
	}
	*out = jp.doc;
	return 0;
}
