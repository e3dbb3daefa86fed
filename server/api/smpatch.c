/*
 * server/api/smpatch.c: strategic merge patch, server side, as
 * k8s.io/apimachinery/pkg/util/strategicpatch StrategicMergeMapPatch does it
 * (MergeParallelList and IgnoreUnmatchedNulls on), for the built-in kinds.
 *
 * The patch knowledge of k8s.io/api (the patchStrategy/patchMergeKey struct
 * tags) is a small declarative table of struct types below: a type lists only
 * the fields that carry a strategy or lead to one; everything else merges as
 * a plain map (objects) or is replaced (lists). PodSpec, Container and
 * ObjectMeta are shared by every kind that embeds them.
 *
 * Algorithm (mergeMap / mergeSlice upstream), on two private copies: `o` is
 * the result being built (from orig), `p` a scratch copy of the patch whose
 * members are moved into `o` as they are used. Order of the result:
 * $setElementOrder first, then the patch's order, then the live order, with
 * server-only items interleaved keeping their relative order (upstream's
 * normalizeElementOrder / mergeSortedSlice). See patch.h for the errors.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/util.h"
#include "server/api/patch.h"

/* ---- schema ---- */

enum { SM_MERGE = 1 << 0, SM_RETAIN_KEYS = 1 << 1, SM_REPLACE = 1 << 2 };

struct sm_type;

struct sm_field {
	const char *name;
	unsigned strategy;           /* SM_* */
	const char *key;             /* patchMergeKey of a list of maps */
	const struct sm_type *type;  /* the value's (or element's) type */
};

struct sm_type {
	const struct sm_field *fields; /* ends with a NULL name */
};

#define FIELD(n, t) { (n), 0, NULL, (t) }
#define MERGE(n, k, t) { (n), SM_MERGE, (k), (t) }
#define MERGE_RETAIN(n, k, t) { (n), SM_MERGE | SM_RETAIN_KEYS, (k), (t) }
#define RETAIN(n, t) { (n), SM_RETAIN_KEYS, NULL, (t) }
#define TYPE(id, ...)                                                         \
	static const struct sm_field id##_fields[] = { __VA_ARGS__,           \
						       { NULL, 0, NULL, NULL } }; \
	static const struct sm_type id = { id##_fields }

/* k8s.io/api, 1.27-1.33: metav1.ObjectMeta, core/v1, apps/v1, batch/v1. */
TYPE(t_object_meta,
     MERGE("finalizers", NULL, NULL),
     MERGE("ownerReferences", "uid", NULL));
TYPE(t_container,
     MERGE("ports", "containerPort", NULL),
     MERGE("env", "name", NULL),
     MERGE("volumeMounts", "mountPath", NULL),
     MERGE("volumeDevices", "devicePath", NULL));
TYPE(t_pod_spec,
     MERGE_RETAIN("volumes", "name", NULL),
     MERGE("initContainers", "name", &t_container),
     MERGE("containers", "name", &t_container),
     MERGE("ephemeralContainers", "name", &t_container),
     MERGE("imagePullSecrets", "name", NULL),
     MERGE("hostAliases", "ip", NULL),
     MERGE("topologySpreadConstraints", "topologyKey", NULL),
     MERGE("schedulingGates", "name", NULL),
     MERGE_RETAIN("resourceClaims", "name", NULL));
TYPE(t_pod_status,
     MERGE("conditions", "type", NULL),
     MERGE("podIPs", "ip", NULL),
     MERGE("hostIPs", "ip", NULL),
     MERGE_RETAIN("resourceClaimStatuses", "name", NULL));
/* Status types whose only strategic list is conditions keyed by type. */
TYPE(t_conditions, MERGE("conditions", "type", NULL));
TYPE(t_pod_template_spec,
     FIELD("metadata", &t_object_meta),
     FIELD("spec", &t_pod_spec));
/* ReplicaSetSpec, StatefulSetSpec, DaemonSetSpec, RC spec, JobSpec. */
TYPE(t_templated_spec, FIELD("template", &t_pod_template_spec));
TYPE(t_deployment_spec,
     FIELD("template", &t_pod_template_spec),
     RETAIN("strategy", NULL));
TYPE(t_service_spec, MERGE("ports", "port", NULL));
TYPE(t_node_spec, MERGE("podCIDRs", NULL, NULL));
TYPE(t_node_status,
     MERGE("conditions", "type", NULL),
     MERGE("addresses", "type", NULL));
TYPE(t_job_template_spec,
     FIELD("metadata", &t_object_meta),
     FIELD("spec", &t_templated_spec));
TYPE(t_cronjob_spec, FIELD("jobTemplate", &t_job_template_spec));

/* Top-level kinds. */
TYPE(t_meta_only, FIELD("metadata", &t_object_meta));
TYPE(t_pod,
     FIELD("metadata", &t_object_meta),
     FIELD("spec", &t_pod_spec),
     FIELD("status", &t_pod_status));
TYPE(t_pod_template,
     FIELD("metadata", &t_object_meta),
     FIELD("template", &t_pod_template_spec));
TYPE(t_templated,
     FIELD("metadata", &t_object_meta),
     FIELD("spec", &t_templated_spec),
     FIELD("status", &t_conditions));
TYPE(t_deployment,
     FIELD("metadata", &t_object_meta),
     FIELD("spec", &t_deployment_spec),
     FIELD("status", &t_conditions));
TYPE(t_service,
     FIELD("metadata", &t_object_meta),
     FIELD("spec", &t_service_spec),
     FIELD("status", &t_conditions));
TYPE(t_service_account,
     FIELD("metadata", &t_object_meta),
     MERGE("secrets", "name", NULL));
TYPE(t_node,
     FIELD("metadata", &t_object_meta),
     FIELD("spec", &t_node_spec),
     FIELD("status", &t_node_status));
TYPE(t_with_conditions,
     FIELD("metadata", &t_object_meta),
     FIELD("status", &t_conditions));
TYPE(t_cronjob,
     FIELD("metadata", &t_object_meta),
     FIELD("spec", &t_cronjob_spec));

static const struct {
	const char *group, *kind;
	const struct sm_type *type;
} sm_kinds[] = {
	{ "", "Pod", &t_pod },
	{ "", "PodTemplate", &t_pod_template },
	{ "", "ReplicationController", &t_templated },
	{ "", "Service", &t_service },
	{ "", "ServiceAccount", &t_service_account },
	{ "", "Node", &t_node },
	{ "", "Namespace", &t_with_conditions },
	{ "", "PersistentVolumeClaim", &t_with_conditions },
	{ "", "PersistentVolume", &t_meta_only },
	{ "", "ConfigMap", &t_meta_only },
	{ "", "Secret", &t_meta_only },
	{ "", "Endpoints", &t_meta_only },
	{ "", "Event", &t_meta_only },
	{ "", "LimitRange", &t_meta_only },
	{ "", "ResourceQuota", &t_meta_only },
	{ "apps", "Deployment", &t_deployment },
	{ "apps", "ReplicaSet", &t_templated },
	{ "apps", "StatefulSet", &t_templated },
	{ "apps", "DaemonSet", &t_templated },
	{ "apps", "ControllerRevision", &t_meta_only },
	{ "batch", "Job", &t_templated },
	{ "batch", "CronJob", &t_cronjob },
	{ "autoscaling", "Scale", &t_meta_only },
	{ "discovery.k8s.io", "EndpointSlice", &t_meta_only },
	{ "events.k8s.io", "Event", &t_meta_only },
	{ "coordination.k8s.io", "Lease", &t_meta_only },
};

static const struct sm_field sm_none = { NULL, 0, NULL, NULL };

static const struct sm_type *kind_type(const char *group, const char *kind)
{
	for (size_t i = 0; i < ARRAY_SIZE(sm_kinds); i++)
		if (str_eq(sm_kinds[i].group, group ? group : "") &&
		    str_eq(sm_kinds[i].kind, kind))
			return sm_kinds[i].type;
	return NULL;
}

bool patch_strategic_supported(const char *group, const char *kind)
{
	return kind_type(group, kind) != NULL;
}

/* The field's metadata; a field without any is a plain map or atomic list. */
static const struct sm_field *lookup(const struct sm_type *t, const char *name)
{
	for (const struct sm_field *f = t ? t->fields : NULL; f && f->name; f++)
		if (!strcmp(f->name, name))
			return f;
	return &sm_none;
}

/* ---- Go's view of JSON values (types, ==, %v) ---- */

enum gokind { GK_NIL, GK_BOOL, GK_INT, GK_FLOAT, GK_STRING, GK_SLICE, GK_MAP };

/* Integers decode as int64 upstream (UnmarshalCaseSensitivePreserveInts). */
static enum gokind go_kind(const cJSON *v)
{
	if (!v || cJSON_IsNull(v))
		return GK_NIL;
	if (cJSON_IsBool(v))
		return GK_BOOL;
	if (cJSON_IsNumber(v))
		return jis_int(v) ? GK_INT : GK_FLOAT;
	if (cJSON_IsString(v))
		return GK_STRING;
	return cJSON_IsArray(v) ? GK_SLICE : GK_MAP;
}

static const char *go_type_name(const cJSON *v)
{
	static const char *const names[] = {
		[GK_NIL] = "%!s(<nil>)", [GK_BOOL] = "bool", [GK_INT] = "int64",
		[GK_FLOAT] = "float64", [GK_STRING] = "string",
		[GK_SLICE] = "[]interface {}", [GK_MAP] = "map[string]interface {}",
	};
	return names[go_kind(v)];
}

/* interface{} == interface{} on scalars; containers never compare equal. */
static bool go_eq(const cJSON *a, const cJSON *b)
{
	enum gokind ka = go_kind(a), kb = go_kind(b);
	if (ka != kb)
		return false;
	switch (ka) {
	case GK_NIL: return true;
	case GK_BOOL: return cJSON_IsTrue(a) == cJSON_IsTrue(b);
	case GK_INT:
	case GK_FLOAT: return a->valuedouble == b->valuedouble;
	case GK_STRING: return !strcmp(a->valuestring, b->valuestring);
	default: return false;
	}
}

/* A hash index over Go-comparable values: value -> first position. Keeps
 * the lookups of long lists linear, as the loop thread needs. Containers
 * never compare equal, so they are never indexed. */
struct hidx {
	cJSON *own;        /* copies of the keys */
	const cJSON **key;
	long *pos;
	size_t cap, n;
};

static uint64_t go_hash(const cJSON *v)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)go_kind(v);
	const unsigned char *b = NULL;
	unsigned char num[sizeof(double)];
	size_t n = 0;

	if (cJSON_IsNumber(v)) {
		double d = v->valuedouble == 0 ? 0 : v->valuedouble; /* -0 */
		memcpy(num, &d, sizeof(d));
		b = num;
		n = sizeof(d);
	} else if (cJSON_IsString(v)) {
		b = (const unsigned char *)v->valuestring;
		n = strlen(v->valuestring);
	} else if (cJSON_IsTrue(v)) {
		h ^= 0xff;
	}
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

static bool hashable(const cJSON *v)
{
	enum gokind k = go_kind(v);
	return k != GK_SLICE && k != GK_MAP;
}

static size_t hidx_slot(const struct hidx *h, const cJSON *v)
{
	size_t i = (size_t)go_hash(v) & (h->cap - 1);
	while (h->key[i] && !go_eq(h->key[i], v))
		i = (i + 1) & (h->cap - 1);
	return i;
}

static long hidx_find(const struct hidx *h, const cJSON *v)
{
	if (!h->cap || !hashable(v))
		return -1;
	size_t i = hidx_slot(h, v);
	return h->key[i] ? h->pos[i] : -1;
}

static void hidx_add(struct hidx *h, const cJSON *v, long pos)
{
	if (!hashable(v))
		return;
	if (2 * (h->n + 1) > h->cap) {
		struct hidx g = { h->own, NULL, NULL, h->cap ? 2 * h->cap : 16, 0 };
		g.key = xcalloc(g.cap, sizeof(*g.key));
		g.pos = xcalloc(g.cap, sizeof(*g.pos));
		for (size_t i = 0; i < h->cap; i++) {
			if (h->key[i]) {
				size_t j = hidx_slot(&g, h->key[i]);
				g.key[j] = h->key[i];
				g.pos[j] = h->pos[i];
				g.n++;
			}
		}
		free(h->key);
		free(h->pos);
		*h = g;
	}
	size_t i = hidx_slot(h, v);
	if (h->key[i])
		return; /* keep the first position */
	if (!h->own)
		h->own = cJSON_CreateArray();
	cJSON *d = v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
	if (!d)
		abort();
	cJSON_AddItemToArray(h->own, d);
	h->key[i] = d;
	h->pos[i] = pos;
	h->n++;
}

static void hidx_release(struct hidx *h)
{
	cJSON_Delete(h->own);
	free(h->key);
	free(h->pos);
	memset(h, 0, sizeof(*h));
}

/* strconv 'g' with shortest precision, as %v prints a float64. */
static void go_float(struct strbuf *sb, double d)
{
	char tmp[64];
	int prec, exp;
	if (!isfinite(d)) { /* a JSON number too large for a double */
		sb_adds(sb, isnan(d) ? "NaN" : d > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (prec = 1; prec < 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, d);
	exp = atoi(strchr(tmp, 'e') + 1);
	if (exp < -4 || exp >= 6) {
		*strchr(tmp, 'e') = 0;
		sb_addf(sb, "%se%c%02d", tmp, exp < 0 ? '-' : '+', abs(exp));
	} else {
		sb_addf(sb, "%.*f", prec - 1 - exp > 0 ? prec - 1 - exp : 0, d);
	}
}

static int cmp_member(const void *a, const void *b)
{
	return strcmp((*(const cJSON *const *)a)->string,
		      (*(const cJSON *const *)b)->string);
}

/* fmt's %v of the decoded value: map[a:1 b:[x y]] with sorted keys. */
static void go_fmt(struct strbuf *sb, const cJSON *v)
{
	const cJSON *c;
	const cJSON **m;
	size_t n = 0, i = 0;

	switch (go_kind(v)) {
	case GK_NIL: sb_adds(sb, "<nil>"); return;
	case GK_BOOL: sb_adds(sb, cJSON_IsTrue(v) ? "true" : "false"); return;
	case GK_INT: sb_addf(sb, "%.0f", v->valuedouble); return;
	case GK_FLOAT: go_float(sb, v->valuedouble); return;
	case GK_STRING: sb_adds(sb, v->valuestring); return;
	case GK_SLICE:
		sb_addc(sb, '[');
		cJSON_ArrayForEach(c, v) {
			if (c != v->child)
				sb_addc(sb, ' ');
			go_fmt(sb, c);
		}
		sb_addc(sb, ']');
		return;
	case GK_MAP:
		break;
	}
	cJSON_ArrayForEach(c, v)
		n++;
	m = xcalloc(n ? n : 1, sizeof(*m));
	cJSON_ArrayForEach(c, v)
		m[i++] = c;
	qsort(m, n, sizeof(*m), cmp_member);
	sb_adds(sb, "map[");
	for (i = 0; i < n; i++) {
		sb_addf(sb, "%s%s:", i ? " " : "", m[i]->string);
		go_fmt(sb, m[i]);
	}
	sb_addc(sb, ']');
	free(m);
}

/* ---- errors ---- */

struct smp {
	struct lk_err *err;
};

/* A bare Go error upstream: HTTP 500 with its text. */
static int fail(struct smp *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct smp *x, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	lk_error(x->err, LK_EUNKNOWN, "%s", sb.buf ? sb.buf : "");
	sb_release(&sb);
	return -1;
}

static int fail_v(struct smp *x, const char *pre, const cJSON *v,
		  const char *post)
{
	struct strbuf sb = STRBUF_INIT;
	go_fmt(&sb, v);
	fail(x, "%s%s%s", pre, sb.buf, post);
	sb_release(&sb);
	return -1;
}

static int bad_format(struct smp *x, const char *what)
{
	return lk_error(x->err, LK_EBADREQUEST, "invalid patch format of %s", what);
}

static int no_merge_key(struct smp *x, const cJSON *m, const char *key)
{
	struct strbuf sb = STRBUF_INIT;
	sb_addf(&sb, " does not contain declared merge key: %s", key);
	fail_v(x, "map: ", m, sb.buf);
	sb_release(&sb);
	return -1;
}

static int bad_arg_type(struct smp *x, const char *expected, const cJSON *v)
{
	return fail(x, "expected a %s, but received a %s", expected,
		    go_type_name(v));
}

static const char *const MAP_T = "map[string]interface {}";

/* mergepatch.ErrBadPatchType: "unknown patch type: %s in map: %v". */
static int bad_patch_type(struct smp *x, const cJSON *t, const cJSON *m)
{
	struct strbuf sb = STRBUF_INIT;
	sb_adds(&sb, "unknown patch type: ");
	if (cJSON_IsString(t)) {
		sb_adds(&sb, t->valuestring);
	} else if (go_kind(t) == GK_NIL) {
		sb_adds(&sb, "%!s(<nil>)");
	} else { /* fmt's bad-verb form: %!s(int64=1) */
		sb_addf(&sb, "%%!s(%s=", go_type_name(t));
		go_fmt(&sb, t);
		sb_addc(&sb, ')');
	}
	sb_adds(&sb, " in map: ");
	fail_v(x, sb.buf, m, "");
	sb_release(&sb);
	return -1;
}

/* ---- item vectors and order values ---- */

struct vec {
	cJSON **v;
	size_t n, cap;
};

static void vec_push(struct vec *a, cJSON *c)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 8;
		a->v = xrealloc(a->v, a->cap * sizeof(*a->v));
	}
	a->v[a->n++] = c;
}

/* Detach every element of arr into a. */
static void vec_take(struct vec *a, cJSON *arr)
{
	cJSON *c, *next;
	for (c = arr ? arr->child : NULL; c; c = next) {
		next = c->next;
		c->next = c->prev = NULL;
		vec_push(a, c);
	}
	if (arr)
		arr->child = NULL;
}

/* Append a's items (NULLs skipped) to arr and empty a. Also how items go
 * home on error: whatever sits in `o` is freed with the result. */
static void vec_link(struct vec *a, cJSON *arr)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i])
			cJSON_AddItemToArray(arr, a->v[i]);
	a->n = 0;
}

static void vec_release(struct vec *a)
{
	free(a->v);
	memset(a, 0, sizeof(*a));
}

/* What upstream's index() compares: the merge key's value for maps, the
 * item itself otherwise; NULL stands for Go's nil. */
static const cJSON *item_val(const cJSON *item, const char *key)
{
	if (!key)
		return item;
	return cJSON_IsObject(item) ? cJSON_GetObjectItemCaseSensitive(item, key)
				    : NULL;
}

/* A snapshot of those values, taken before the items are merged away. */
struct vals {
	cJSON *own;
	const cJSON **v;
	size_t n;
	struct hidx h;
};

static void vals_make(struct vals *vs, cJSON *const *items, size_t n,
		      const char *key)
{
	vs->own = cJSON_CreateArray();
	vs->v = xcalloc(n ? n : 1, sizeof(*vs->v));
	vs->n = n;
	for (size_t i = 0; i < n; i++) {
		const cJSON *g = item_val(items[i], key);
		cJSON *d = g ? cJSON_Duplicate(g, 1) : cJSON_CreateNull();
		if (!d)
			abort();
		cJSON_AddItemToArray(vs->own, d);
		vs->v[i] = d;
		hidx_add(&vs->h, d, (long)i);
	}
}

static void vals_of_array(struct vals *vs, const cJSON *arr, const char *key)
{
	struct vec a = { 0 };
	const cJSON *c;
	cJSON_ArrayForEach(c, arr)
		vec_push(&a, (cJSON *)c);
	vals_make(vs, a.v, a.n, key);
	vec_release(&a);
}

static void vals_release(struct vals *vs)
{
	cJSON_Delete(vs->own);
	free(vs->v);
	hidx_release(&vs->h);
}

/* Rebuild the index after v[] was rearranged (the aliasing view). */
static void vals_reindex(struct vals *vs)
{
	hidx_release(&vs->h);
	for (size_t i = 0; i < vs->n; i++)
		hidx_add(&vs->h, vs->v[i], (long)i);
}

/* upstream's index(): the first position of val, or -1. */
static long vals_index(const struct vals *vs, const cJSON *val)
{
	return hidx_find(&vs->h, val);
}

/*
 * Go slice aliasing, replayed. Upstream deletes from and appends to the live
 * list in place, so the $setElementOrder pass, which reads the live list's
 * original slice as "the live order", sees: the survivors shifted left, the
 * appended items after them, and stale entries last. The view keeps that
 * picture (merge-key values), as it ends up after mergeSlice.
 */
struct view {
	struct vals v; /* n = the original length */
	size_t len;    /* the slice's current length (may run past n) */
};

static void view_delete(struct view *w, const cJSON *kv)
{
	for (;;) {
		size_t k = 0;
		while (k < w->len && k < w->v.n && !go_eq(w->v.v[k], kv))
			k++;
		if (k >= w->len || k >= w->v.n)
			return;
		memmove(&w->v.v[k], &w->v.v[k + 1],
			(w->len - k - 1) * sizeof(*w->v.v));
		w->len--;
	}
}

static void view_append(struct view *w, const cJSON *item, const char *key)
{
	const cJSON *kv = item_val(item, key);
	cJSON *d = kv ? cJSON_Duplicate(kv, 1) : cJSON_CreateNull();
	if (!d)
		abort();
	cJSON_AddItemToArray(w->v.own, d);
	if (w->len < w->v.n)
		w->v.v[w->len] = d;
	w->len++;
}

/* ---- ordering (normalizeElementOrder) ---- */

struct ord {
	long idx;
	cJSON *item;
};

/* Upstream's comparator: by index when both are known, else "less". */
static bool ord_less(const struct ord *a, const struct ord *b)
{
	return a->idx >= 0 && b->idx >= 0 ? a->idx < b->idx : true;
}

/* sort.SliceStable: insertion sort (exact for upstream's odd comparator),
 * or a merge sort when every index is known (same result, O(n log n)). */
static void ord_sort(struct ord *o, size_t n)
{
	bool known = true;
	for (size_t i = 0; i < n; i++)
		known &= o[i].idx >= 0;
	if (!known || n <= 20) {
		for (size_t i = 1; i < n; i++)
			for (size_t j = i; j > 0 && ord_less(&o[j], &o[j - 1]); j--) {
				struct ord t = o[j];
				o[j] = o[j - 1];
				o[j - 1] = t;
			}
		return;
	}
	struct ord *tmp = xmalloc(n * sizeof(*tmp));
	for (size_t w = 1; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n;
			size_t hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t i = lo, j = mid, k = lo;
			while (i < mid && j < hi)
				tmp[k++] = o[j].idx < o[i].idx ? o[j++] : o[i++];
			while (i < mid)
				tmp[k++] = o[i++];
			while (j < hi)
				tmp[k++] = o[j++];
		}
		memcpy(o, tmp, n * sizeof(*o));
	}
	free(tmp);
}

/* normalizeSliceOrder: items by their position in order; for lists of maps
 * every item needs the key and "$patch: delete" items go last. */
static int sort_by(struct smp *x, struct vec *items, const struct vals *order,
		   const char *key, bool maps)
{
	struct ord *o = xcalloc(items->n ? items->n : 1, sizeof(*o));
	size_t n = 0, ndel = 0;

	for (size_t i = 0; i < items->n; i++) {
		cJSON *it = items->v[i];
		if (maps && !cJSON_IsObject(it)) {
			free(o);
			return bad_arg_type(x, MAP_T, it);
		}
		if (maps && !cJSON_GetObjectItemCaseSensitive(it, key ? key : "")) {
			free(o);
			return no_merge_key(x, it, key ? key : "");
		}
	}
	for (size_t i = 0; i < items->n; i++) {
		const cJSON *d = maps ? cJSON_GetObjectItemCaseSensitive(
						items->v[i], "$patch") : NULL;
		if (cJSON_IsString(d) && !strcmp(d->valuestring, "delete"))
			continue;
		o[n].item = items->v[i];
		o[n].idx = vals_index(order, item_val(items->v[i], key));
		n++;
	}
	ord_sort(o, n);
	for (size_t i = 0; i < items->n; i++) {
		const cJSON *d = maps ? cJSON_GetObjectItemCaseSensitive(
						items->v[i], "$patch") : NULL;
		if (cJSON_IsString(d) && !strcmp(d->valuestring, "delete"))
			o[n + ndel++].item = items->v[i];
	}
	for (size_t i = 0; i < n + ndel; i++)
		items->v[i] = o[i].item;
	free(o);
	return 0;
}

/* Patch items and server-only items, each sorted, then interleaved by the
 * live order (mergeSortedSlice); result linked into arr. */
static int normalize(struct smp *x, cJSON *arr, struct vec *patch,
		     struct vec *server, const struct vals *porder,
		     const struct vals *sorder, const char *key, bool maps)
{
	size_t i = 0, j = 0;
	struct vec all = { 0 };

	if (sort_by(x, patch, porder, key, maps) ||
	    sort_by(x, server, sorder, key, maps))
		return -1;
	while (i < server->n || j < patch->n) {
		if (i >= server->n) {
			vec_push(&all, patch->v[j++]);
		} else if (j >= patch->n) {
			vec_push(&all, server->v[i++]);
		} else {
			long li = vals_index(sorder, item_val(server->v[i], key));
			long ri = vals_index(sorder, item_val(patch->v[j], key));
			if (li >= 0 && ri >= 0 && li < ri)
				vec_push(&all, server->v[i++]);
			else
				vec_push(&all, patch->v[j++]);
		}
	}
	patch->n = server->n = 0;
	vec_link(&all, arr);
	vec_release(&all);
	return 0;
}

/* Split merged into items present in `by` and server-only ones
 * (partitionPrimitivesByPresentInList / partitionMapsByPresentInList). */
static int partition(struct smp *x, struct vec *merged, const struct vals *by,
		     const char *key, struct vec *in, struct vec *out)
{
	for (size_t i = 0; i < merged->n; i++) {
		cJSON *it = merged->v[i];
		if (key && !cJSON_IsObject(it))
			return bad_arg_type(x, MAP_T, it);
		if (key && !cJSON_GetObjectItemCaseSensitive(it, key))
			return no_merge_key(x, it, key);
		vec_push(vals_index(by, item_val(it, key)) >= 0 ? in : out, it);
		merged->v[i] = NULL;
	}
	merged->n = 0;
	return 0;
}

/* ---- lists ---- */

/* removeDirectives (1.28+): drop the maps carrying $patch, at any depth;
 * false when v itself is one. */
static bool strip_directives(cJSON *v)
{
	cJSON *c, *next;
	if (cJSON_IsObject(v) && cJSON_GetObjectItemCaseSensitive(v, "$patch"))
		return false;
	for (c = v->child; c; c = next) {
		next = c->next;
		if (!strip_directives(c))
			cJSON_Delete(cJSON_DetachItemViaPointer(v, c));
	}
	return true;
}


static int merge_map(struct smp *x, cJSON *o, cJSON *p, const struct sm_type *t);

/* sliceElementType over both lists. */
static int elem_kind(struct smp *x, const cJSON *a, const cJSON *b,
		     enum gokind *kind)
{
	const cJSON *lists[2] = { a, b }, *c;
	int prev = -1;

	for (int l = 0; l < 2; l++) {
		cJSON_ArrayForEach(c, lists[l]) {
			enum gokind k = go_kind(c);
			if (prev < 0 && k == GK_SLICE)
				return lk_error(x->err, LK_EINVALID,
						"the server rejected our request due "
						"to an error in our request");
			if (prev < 0 && k != GK_NIL) {
				prev = (int)k;
			} else if ((int)k != prev) {
				struct strbuf sb = STRBUF_INIT;
				sb_adds(&sb, "list element types are not identical: [");
				a ? go_fmt(&sb, a) : sb_adds(&sb, "[]");
				sb_addc(&sb, ' ');
				b ? go_fmt(&sb, b) : sb_adds(&sb, "[]");
				sb_addc(&sb, ']');
				fail(x, "%s", sb.buf);
				sb_release(&sb);
				return -1;
			}
		}
	}
	if (prev < 0)
		return fail(x, "no elements in any of the given slices");
	*kind = (enum gokind)prev;
	return 0;
}

/* The first map in list whose key equals val (findMapInSliceBasedOnKeyValue). */
static long find_by_key(struct smp *x, struct vec *list, const char *key,
			const cJSON *val, bool *bad)
{
	*bad = false;
	for (size_t i = 0; i < list->n; i++) {
		const cJSON *kv;
		if (!list->v[i])
			continue;
		if (!cJSON_IsObject(list->v[i])) {
			*bad = true;
			fail(x, "value for key %zu is not a map", i);
			return -1;
		}
		kv = cJSON_GetObjectItemCaseSensitive(list->v[i], key);
		if (kv && go_eq(kv, val))
			return (long)i;
	}
	return -1;
}

/* Drop the NULL slots of a. */
static void vec_compact(struct vec *a)
{
	size_t j = 0;
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i])
			a->v[j++] = a->v[i];
	a->n = j;
}

/* mergeSliceWithSpecialElements: items carrying $patch. Deletes remove the
 * live items with that key; a replace makes `orig` the plain items alone. */
static int special_items(struct smp *x, struct vec *orig, struct vec *patch,
			 struct vec *plain, const char *key, struct view *w,
			 bool *replace)
{
	bool bad;

	for (size_t i = 0; i < patch->n; i++) {
		cJSON *v = patch->v[i];
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(v, "$patch");
		const char *ds = cJSON_IsString(d) ? cJSON_GetStringValue(d) : "";
		long k;

		if (!d) {
			vec_push(plain, v);
		} else if (!strcmp(ds, "delete")) {
			const cJSON *kv = cJSON_GetObjectItemCaseSensitive(v, key);
			if (!kv)
				return no_merge_key(x, v, key);
			if (w)
				view_delete(w, kv);
			while ((k = find_by_key(x, orig, key, kv, &bad)) >= 0) {
				cJSON_Delete(orig->v[k]);
				orig->v[k] = NULL;
			}
			if (bad)
				return -1;
			cJSON_Delete(v);
		} else if (!strcmp(ds, "replace")) {
			*replace = true;
			cJSON_Delete(v);
		} else if (!strcmp(ds, "merge")) {
			return fail(x, "merging lists cannot yet be specified in the patch");
		} else {
			return bad_patch_type(x, d, v);
		}
		patch->v[i] = NULL;
	}
	patch->n = 0;
	if (*replace) {
		struct vec t = *orig;
		for (size_t i = 0; i < t.n; i++)
			cJSON_Delete(t.v[i]);
		t.n = 0;
		*orig = *plain;
		*plain = t;
	}
	return 0;
}

/* mergeSliceWithoutSpecialElements: merge by key, or append. */
static int merge_plain(struct smp *x, struct vec *orig, struct vec *plain,
		       const char *key, const struct sm_type *et, struct view *w)
{
	struct hidx h = { 0 };
	int rc = -1;

	for (size_t i = 0; i < orig->n; i++) {
		const cJSON *kv = cJSON_GetObjectItemCaseSensitive(orig->v[i], key);
		if (kv)
			hidx_add(&h, kv, (long)i);
	}
	for (size_t i = 0; i < plain->n; i++) {
		cJSON *v = plain->v[i];
		const cJSON *kv = cJSON_GetObjectItemCaseSensitive(v, key);
		long k;

		if (!kv) {
			no_merge_key(x, v, key);
			goto out;
		}
		k = hidx_find(&h, kv);
		if (k >= 0) {
			if (merge_map(x, orig->v[k], v, et))
				goto out;
			cJSON_Delete(v);
		} else {
			if (w)
				view_append(w, v, key);
			hidx_add(&h, kv, (long)orig->n);
			vec_push(orig, v);
		}
		plain->v[i] = NULL;
	}
	plain->n = 0;
	rc = 0;
out:
	hidx_release(&h);
	return rc;
}

/* Union of two scalar lists, first occurrence kept (deduplicateScalars). */
static void union_scalars(struct vec *orig, struct vec *patch)
{
	struct vec all = { 0 };
	struct hidx seen = { 0 };
	for (size_t i = 0; i < orig->n + patch->n; i++) {
		cJSON *c = i < orig->n ? orig->v[i] : patch->v[i - orig->n];
		if (hidx_find(&seen, c) >= 0) {
			cJSON_Delete(c);
		} else {
			hidx_add(&seen, c, (long)all.n);
			vec_push(&all, c);
		}
	}
	hidx_release(&seen);
	patch->n = 0;
	vec_release(orig);
	*orig = all;
}

/* $deleteFromPrimitiveList: drop the listed values (deleteFromSlice). */
static void delete_scalars(cJSON *o, const cJSON *del)
{
	struct hidx h = { 0 };
	const cJSON *d;
	cJSON *c, *next;

	cJSON_ArrayForEach(d, del)
		hidx_add(&h, d, 0);
	for (c = o->child; c; c = next) {
		next = c->next;
		if (hidx_find(&h, c) >= 0)
			cJSON_Delete(cJSON_DetachItemViaPointer(o, c));
	}
	hidx_release(&h);
}

/* mergeSlice: o (live list) := merge of o and p, in place. */
static int merge_slice(struct smp *x, cJSON *o, cJSON *p,
		       const struct sm_field *f, bool del, struct view *w)
{
	struct vec orig = { 0 }, patch = { 0 }, plain = { 0 }, in = { 0 },
		   out = { 0 };
	struct vec *all[] = { &orig, &patch, &plain, &in, &out };
	struct vals sv = { 0 }, pv = { 0 };
	const char *key = f->key;
	enum gokind kind;
	bool replace = false;
	int rc = -1;

	if (!cJSON_GetArraySize(o) && !cJSON_GetArraySize(p))
		return 0;
	if (elem_kind(x, o, p, &kind))
		return -1;
	if (kind != GK_MAP && del) {
		delete_scalars(o, p);
		return 0;
	}
	if (kind == GK_MAP && !key)
		return fail(x, "cannot merge lists without merge key for struct");
	vec_take(&orig, o);
	vec_take(&patch, p);
	if (kind != GK_MAP) {
		vals_make(&sv, orig.v, orig.n, NULL);
		vals_make(&pv, patch.v, patch.n, NULL);
		union_scalars(&orig, &patch);
	} else {
		if (w) {
			vals_make(&w->v, orig.v, orig.n, key);
			w->len = orig.n;
		}
		if (special_items(x, &orig, &patch, &plain, key, w, &replace))
			goto out;
		vec_compact(&orig);
		vals_make(&sv, orig.v, orig.n, key);
		vals_make(&pv, plain.v, plain.n, key);
		if (merge_plain(x, &orig, &plain, key, f->type,
				replace ? NULL : w))
			goto out;
	}
	if (partition(x, &orig, &pv, key, &in, &out))
		goto out;
	rc = normalize(x, o, &in, &out, &pv, &sv, key, kind == GK_MAP);
out:
	for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
		vec_link(all[i], o); /* empty unless we failed half way */
		vec_release(all[i]);
	}
	if (sv.own)
		vals_release(&sv);
	if (pv.own)
		vals_release(&pv);
	return rc;
}

/* mergeSliceHandler: merge lists merge (so do deletion lists), others are
 * replaced by the patch's list. */
static int merge_list(struct smp *x, cJSON *o, cJSON *p,
		      const struct sm_field *f, bool del, struct view *w)
{
	if ((f->strategy & SM_MERGE) || del)
		return merge_slice(x, o, p, f, del, w);
	cJSON *t = o->child;
	o->child = p->child;
	p->child = t;
	return 0;
}

/* ---- maps and directives ---- */

/* "$setElementOrder/containers" -> "containers" (extractKey). */
static const char *directive_key(const char *s, const char *prefix)
{
	const char *slash = strchr(s, '/');
	if (!slash || (size_t)(slash - s) != strlen(prefix) ||
	    strncmp(s, prefix, strlen(prefix)))
		return NULL;
	return slash + 1;
}

/* Whether a directive list holds the string s. */
static bool strlist_has(const cJSON *list, const char *s)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, list)
		if (cJSON_IsString(c) && !strcmp(c->valuestring, s))
			return true;
	return false;
}

/* applyRetainKeysDirective: fields of o not listed are cleared; a patch
 * field not listed is a bad patch. */
static int retain_keys(struct smp *x, cJSON *o, cJSON *p)
{
	cJSON *rk = cJSON_GetObjectItemCaseSensitive(p, "$retainKeys");
	cJSON *c, *next;
	int rc = 0;

	if (!rk)
		return 0;
	cJSON_DetachItemViaPointer(p, rk);
	if (!cJSON_IsArray(rk)) {
		rc = bad_format(x, "retainKeys");
		goto out;
	}
	cJSON_ArrayForEach(c, p) {
		if (cJSON_IsNull(c) ||
		    str_has_prefix(c->string, "$deleteFromPrimitiveList") ||
		    str_has_prefix(c->string, "$setElementOrder"))
			continue;
		if (!strlist_has(rk, c->string)) {
			rc = bad_format(x, "retainKeys");
			goto out;
		}
	}
	for (c = o->child; c; c = next) {
		next = c->next;
		if (!strlist_has(rk, c->string))
			cJSON_Delete(cJSON_DetachItemViaPointer(o, c));
	}
out:
	cJSON_Delete(rk);
	return rc;
}

/* mergeKeyValueEqual for validatePatchWithSetOrderList. */
static int key_equal(struct smp *x, const cJSON *l, const cJSON *r,
		     const char *key, bool *eq)
{
	const cJSON *kl, *kr;
	if (!key) {
		*eq = go_eq(l, r);
		return 0;
	}
	if (!cJSON_IsObject(l))
		return bad_arg_type(x, MAP_T, l);
	if (!cJSON_IsObject(r))
		return bad_arg_type(x, MAP_T, r);
	if (!(kl = cJSON_GetObjectItemCaseSensitive(l, key)))
		return no_merge_key(x, l, key);
	if (!(kr = cJSON_GetObjectItemCaseSensitive(r, key)))
		return no_merge_key(x, r, key);
	*eq = go_eq(kl, kr);
	return 0;
}

static bool is_delete_item(const cJSON *v)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(v, "$patch");
	return cJSON_IsString(d) && !strcmp(d->valuestring, "delete");
}

/* validatePatchWithSetOrderList: the patch's items (deletions and other
 * directives aside) must appear in the order list, in the same order. */
static int check_order(struct smp *x, const cJSON *pl, const cJSON *order,
		       const char *key)
{
	const cJSON *pi, *si = order ? order->child : NULL;
	struct strbuf sb = STRBUF_INIT;

	if (!cJSON_GetArraySize(pl) || !cJSON_GetArraySize(order))
		return 0;
	cJSON_ArrayForEach(pi, pl)
		if (key && !cJSON_IsObject(pi))
			return bad_arg_type(x, MAP_T, pi);
	pi = pl->child;
	while (pi && si) {
		bool eq = false;
		if (key && is_delete_item(pi)) {
			pi = pi->next;
			continue;
		}
		if (cJSON_GetObjectItemCaseSensitive(pi, "$patch")) {
			pi = pi->next;
			continue;
		}
		if (key_equal(x, pi, si, key, &eq))
			return -1;
		if (eq)
			pi = pi->next;
		si = si->next;
	}
	while (pi && key && is_delete_item(pi))
		pi = pi->next;
	if (!pi)
		return 0;
	sb_adds(&sb, "The order in patch list:\n");
	go_fmt(&sb, pl);
	sb_adds(&sb, "\n doesn't match $setElementOrder list:\n");
	go_fmt(&sb, order);
	sb_addc(&sb, '\n');
	fail(x, "%s", sb.buf);
	sb_release(&sb);
	return -1;
}

/* One "$setElementOrder/<f>" (mergePatchIntoOriginal): merge the list now
 * and order it: listed items first as listed, server-only items
 * interleaved by their live order. */
static int set_order_one(struct smp *x, cJSON *o, cJSON *p,
			 const struct sm_type *t, const cJSON *order)
{
	const char *name = directive_key(order->string, "$setElementOrder");
	cJSON *ol, *pl;
	const struct sm_field *f;
	struct vec items = { 0 }, in = { 0 }, out = { 0 };
	struct vals sv = { 0 }, ov = { 0 };
	struct view w = { 0 };
	enum gokind kind;
	const cJSON *c;
	int rc = -1;

	if (!cJSON_IsArray(order))
		return bad_arg_type(x, "[]interface {}", order);
	if (!name)
		return bad_format(x, "setElementOrder list");
	ol = cJSON_GetObjectItemCaseSensitive(o, name);
	pl = cJSON_GetObjectItemCaseSensitive(p, name);
	if ((ol && !cJSON_IsArray(ol)) || (pl && !cJSON_IsArray(pl)))
		return bad_arg_type(x, "[]interface {}", ol && !cJSON_IsArray(ol) ? ol : pl);
	f = lookup(t, name);
	if (check_order(x, pl, order, f->key))
		return -1;
	if (!ol && !pl)
		return 0;
	if (elem_kind(x, ol, pl, &kind))
		return -1;
	vals_of_array(&sv, ol, kind == GK_MAP ? f->key : NULL);
	if (ol && pl) {
		if (merge_list(x, ol, pl, f, false, &w))
			goto out;
		cJSON_Delete(cJSON_DetachItemViaPointer(p, pl));
	} else if (pl) {
		strip_directives(pl);
		ol = cJSON_DetachItemViaPointer(p, pl);
		cJSON_AddItemToArray(o, ol);
	}
	if (kind == GK_MAP) {
		cJSON_ArrayForEach(c, order) {
			if (!cJSON_IsObject(c))
				goto bad_order;
			if (!cJSON_GetObjectItemCaseSensitive(c, f->key ? f->key : ""))
				goto no_key;
		}
	}
	vals_of_array(&ov, order, f->key);
	vec_take(&items, ol);
	if (partition(x, &items, &ov, f->key, &in, &out))
		goto out;
	if (w.v.own)
		vals_reindex(&w.v);
	rc = normalize(x, ol, &in, &out, &ov, w.v.own ? &w.v : &sv, f->key,
		       kind == GK_MAP);
	goto out;
bad_order:
	bad_arg_type(x, MAP_T, c);
	goto out;
no_key:
	no_merge_key(x, c, f->key ? f->key : "");
out:
	vec_link(&items, ol);
	vec_link(&in, ol);
	vec_link(&out, ol);
	vec_release(&items);
	vec_release(&in);
	vec_release(&out);
	if (sv.own)
		vals_release(&sv);
	if (ov.own)
		vals_release(&ov);
	if (w.v.own)
		vals_release(&w.v);
	return rc;
}

static int set_order(struct smp *x, cJSON *o, cJSON *p, const struct sm_type *t)
{
	struct vec dirs = { 0 };
	cJSON *c, *next;
	int rc = 0;

	for (c = p->child; c; c = next) {
		next = c->next;
		if (str_has_prefix(c->string, "$setElementOrder"))
			vec_push(&dirs, cJSON_DetachItemViaPointer(p, c));
	}
	for (size_t i = 0; i < dirs.n; i++) {
		if (!rc)
			rc = set_order_one(x, o, p, t, dirs.v[i]);
		cJSON_Delete(dirs.v[i]);
	}
	vec_release(&dirs);
	return rc;
}

/* discardNullValuesFromPatch: a value added whole loses its null members. */
static void discard_nulls(cJSON *v)
{
	cJSON *c, *next;
	for (c = v->child; c; c = next) {
		next = c->next;
		if (cJSON_IsObject(v) && cJSON_IsNull(c))
			cJSON_Delete(cJSON_DetachItemViaPointer(v, c));
		else
			discard_nulls(c);
	}
}

/* Take patch member c (of p) as o's value for its key, replacing old. As
 * upstream takes a value as-is: with `clean`, nulls inside are dropped and
 * so is every map carrying $patch (c itself being one drops the key). */
static void take(cJSON *o, cJSON *old, cJSON *p, cJSON *c, bool clean)
{
	if (clean) {
		discard_nulls(c);
		if (!strip_directives(c)) {
			if (old)
				cJSON_Delete(cJSON_DetachItemViaPointer(o, old));
			return;
		}
	}
	cJSON_DetachItemViaPointer(p, c);
	if (old)
		cJSON_ReplaceItemViaPointer(o, old, c);
	else
		cJSON_AddItemToArray(o, c);
}

/* One member of the patch (the loop body of mergeMap). */
static int merge_member(struct smp *x, cJSON *o, cJSON *p, cJSON *c,
			const struct sm_type *t)
{
	const char *k = c->string;
	bool del = false;
	cJSON *ov;
	const struct sm_field *f;

	if (str_has_prefix(k, "$deleteFromPrimitiveList")) {
		if (!(k = directive_key(k, "$deleteFromPrimitiveList")))
			return bad_format(x, "primitive list");
		del = true;
	}
	ov = cJSON_GetObjectItemCaseSensitive(o, k);
	if (cJSON_IsNull(c)) {
		if (ov)
			cJSON_Delete(cJSON_DetachItemViaPointer(o, ov));
		return 0;
	}
	if (!ov || go_kind(ov) != go_kind(c)) {
		if (!del)
			take(o, ov, p, c, true);
		return 0;
	}
	f = lookup(t, k);
	if (cJSON_IsObject(ov)) {
		if (f->strategy & SM_REPLACE)
			take(o, ov, p, c, false);
		else
			return merge_map(x, ov, c, f->type);
	} else if (cJSON_IsArray(ov)) {
		return merge_list(x, ov, c, f, del, NULL);
	} else {
		take(o, ov, p, c, false);
	}
	return 0;
}

/* mergeMap: o := o merged with p, in place; p is consumed. */
static int merge_map(struct smp *x, cJSON *o, cJSON *p, const struct sm_type *t)
{
	cJSON *d = cJSON_GetObjectItemCaseSensitive(p, "$patch"), *c, *next;

	if (d) {
		const char *ds = cJSON_IsString(d) ? cJSON_GetStringValue(d) : "";
		if (!strcmp(ds, "replace")) {
			cJSON_Delete(cJSON_DetachItemViaPointer(p, d));
			c = o->child;
			o->child = p->child;
			p->child = c;
			return 0;
		}
		if (!strcmp(ds, "delete")) {
			while (o->child)
				cJSON_DeleteItemFromArray(o, 0);
			return 0;
		}
		return bad_patch_type(x, d, p);
	}
	if (retain_keys(x, o, p) || set_order(x, o, p, t))
		return -1;
	for (c = p->child; c; c = next) {
		next = c->next;
		if (merge_member(x, o, p, c, t))
			return -1;
	}
	return 0;
}

int patch_strategic(const cJSON *orig, const cJSON *patch, const char *group,
		    const char *kind, cJSON **out, struct lk_err *err)
{
	const struct sm_type *t = kind_type(group, kind);
	struct smp x = { .err = err };
	cJSON *p;

	*out = NULL;
	if (!t)
		return lk_error(err, LK_EMEDIATYPE, "%s", PATCH_SMP_UNSUPPORTED);
	if (patch && !cJSON_IsNull(patch) && !cJSON_IsObject(patch))
		return lk_error(err, LK_EBADREQUEST,
				"json: cannot unmarshal %s into Go value of type "
				"map[string]interface {}",
				cJSON_IsArray(patch) ? "array" :
				cJSON_IsString(patch) ? "string" :
				cJSON_IsNumber(patch) ? "number" : "bool");
	*out = cJSON_IsObject(orig) ? cJSON_Duplicate(orig, 1) : cJSON_CreateObject();
	p = cJSON_IsObject(patch) ? cJSON_Duplicate(patch, 1) : cJSON_CreateObject();
	if (!*out || !p)
		abort();
	if (merge_map(&x, *out, p, t)) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	cJSON_Delete(p);
	return *out ? 0 : -1;
}
