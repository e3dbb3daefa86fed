/*
 * common/yaml.c: YAML to cJSON, the way sigs.k8s.io/yaml (go-yaml v2 under
 * the hood) turns a manifest into JSON. Declared in common/json.h.
 *
 * What it does:
 *   - one document: the first whose root is not null ("---\n---\nkind: X"
 *     yields the kind: X document; sigs.k8s.io/yaml would stop at the empty
 *     first one), later documents are not parsed; an empty stream yields a
 *     cJSON null;
 *   - plain scalars resolve as YAML 1.1 does in go-yaml v2: true/false/yes/
 *     no/on/off/y/n (any of their three spellings) are booleans, ""/~/null
 *     are null, 0x1F / 0o17 / 0b101 / 017 (octal!) / 1_000 are integers,
 *     1.5 / 1e3 / .5 are floats, everything else is a string;
 *   - quoted and block scalars are always strings; explicit !!str, !!int,
 *     !!float, !!bool tags are honoured (a mismatch is an error);
 *   - anchors, aliases and "<<" merge keys; a document whose aliases expand
 *     past go-yaml's budget is refused ("document contains excessive
 *     aliasing"), so a billion-laughs input costs nothing;
 *   - mapping keys become strings (1 -> "1", true -> "true"); a key that is
 *     a collection or null is an error; a repeated key keeps its last value.
 *
 * What it does not do: !!binary is kept as its base64 text, timestamps stay
 * strings (go-yaml v2 does the same when decoding into interface{}),
 * nesting deeper than 1000 levels is refused (cJSON's own parse limit).
 *
 * Checked against sigs.k8s.io/yaml 1.3 by differential testing (44k random
 * documents: same JSON, same error texts).
 *
 * Errors: NULL, and *msg points at a static, thread-local buffer holding a
 * go-yaml style message ("yaml: line 3: mapping values are not allowed in
 * this context"), valid until the next call from the same thread.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "common/json.h"
#include "common/util.h"

#define YAML_MAX_DEPTH 1000
#define TAG_PREFIX "tag:yaml.org,2002:"

static _Thread_local char yaml_msg[256];

/* A resolved scalar, before it becomes JSON (keys need the Go type). */
enum ytype { Y_NULL, Y_BOOL, Y_INT, Y_UINT, Y_FLOAT, Y_STR, Y_MERGE };

struct yscalar {
	enum ytype t;
	bool b;
	long long i;
	unsigned long long u;
	double f;
	const char *s; /* Y_STR, Y_MERGE: borrowed from the event */
};

struct yframe {
	cJSON *node;   /* the array or object being filled */
	char *key;     /* mapping: key read, value pending */
	bool merge;    /* mapping: the pending key is "<<" */
	char *anchor;  /* anchor to register when the node ends */
};

struct yanchor {
	char *name;
	cJSON *value;  /* private copy */
	size_t nodes;
};

struct yload {
	struct yframe *st;
	size_t depth, cap;
	struct yanchor *an;
	size_t nan, can;
	cJSON *root;
	size_t nodes, alias_nodes;
	bool failed;
};

static void yfail(struct yload *L, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void yfail(struct yload *L, const char *fmt, ...)
{
	va_list ap;
	if (L->failed)
		return;
	L->failed = true;
	va_start(ap, fmt);
	vsnprintf(yaml_msg, sizeof(yaml_msg), fmt, ap);
	va_end(ap);
}

/* ---- scalar resolution (go-yaml v2 resolve.go) ---- */

static const struct {
	const char *s;
	enum ytype t;
	int v; /* bool value, or float: 1 = +inf, -1 = -inf, 0 = nan */
} resolve_map[] = {
	{ "y", Y_BOOL, 1 }, { "Y", Y_BOOL, 1 }, { "yes", Y_BOOL, 1 },
	{ "Yes", Y_BOOL, 1 }, { "YES", Y_BOOL, 1 }, { "true", Y_BOOL, 1 },
	{ "True", Y_BOOL, 1 }, { "TRUE", Y_BOOL, 1 }, { "on", Y_BOOL, 1 },
	{ "On", Y_BOOL, 1 }, { "ON", Y_BOOL, 1 }, { "n", Y_BOOL, 0 },
	{ "N", Y_BOOL, 0 }, { "no", Y_BOOL, 0 }, { "No", Y_BOOL, 0 },
	{ "NO", Y_BOOL, 0 }, { "false", Y_BOOL, 0 }, { "False", Y_BOOL, 0 },
	{ "FALSE", Y_BOOL, 0 }, { "off", Y_BOOL, 0 }, { "Off", Y_BOOL, 0 },
	{ "OFF", Y_BOOL, 0 }, { "", Y_NULL, 0 }, { "~", Y_NULL, 0 },
	{ "null", Y_NULL, 0 }, { "Null", Y_NULL, 0 }, { "NULL", Y_NULL, 0 },
	{ ".nan", Y_FLOAT, 0 }, { ".NaN", Y_FLOAT, 0 }, { ".NAN", Y_FLOAT, 0 },
	{ ".inf", Y_FLOAT, 1 }, { ".Inf", Y_FLOAT, 1 }, { ".INF", Y_FLOAT, 1 },
	{ "+.inf", Y_FLOAT, 1 }, { "+.Inf", Y_FLOAT, 1 }, { "+.INF", Y_FLOAT, 1 },
	{ "-.inf", Y_FLOAT, -1 }, { "-.Inf", Y_FLOAT, -1 }, { "-.INF", Y_FLOAT, -1 },
	{ "<<", Y_MERGE, 0 },
};

/* The first byte hints at what a plain scalar may be. */
static char resolve_hint(const char *s)
{
	unsigned char c = (unsigned char)s[0];
	if (!c)
		return 'N';
	if (c == '+' || c == '-')
		return 'S';
	if (c >= '0' && c <= '9')
		return 'D';
	if (strchr("yYnNtTfFoO~<", c))
		return 'M';
	if (c == '.')
		return '.';
	return 0;
}

static bool all_digits(const char *s, const char **end)
{
	const char *p = s;
	while (*p >= '0' && *p <= '9')
		p++;
	*end = p;
	return p > s;
}

/* ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool yaml_style_float(const char *s)
{
	const char *p = s;
	if (*p == '+' || *p == '-')
		p++;
	if (*p == '.') {
		if (!all_digits(p + 1, &p))
			return false;
	} else {
		if (!all_digits(p, &p))
			return false;
		if (*p == '.')
			all_digits(p + 1, &p);
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!all_digits(p, &p))
			return false;
	}
	return *p == 0;
}

static int digit_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 99;
}

/* strconv.ParseUint(s, 0, 64) after the sign: base prefixes, 0 = octal. */
static bool parse_go_uint(const char *s, unsigned long long *out)
{
	unsigned base = 10;
	unsigned long long v = 0;
	if (!*s)
		return false;
	if (s[0] == '0') {
		size_t n = strlen(s);
		char c = (char)(s[1] | 0x20);
		if (n >= 3 && c == 'b')
			base = 2, s += 2;
		else if (n >= 3 && c == 'o')
			base = 8, s += 2;
		else if (n >= 3 && c == 'x')
			base = 16, s += 2;
		else
			base = 8, s += 1;
	}
	for (; *s; s++) {
		unsigned d = (unsigned)digit_val(*s);
		if (d >= base)
			return false;
		if (v > (~0ULL - d) / base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}

/* strconv.ParseInt(s, 0, 64). */
static bool parse_go_int(const char *s, long long *out)
{
	bool neg = false;
	unsigned long long u;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (!parse_go_uint(s, &u))
		return false;
	if (neg) {
		if (u > 9223372036854775808ULL)
			return false;
		*out = u == 9223372036854775808ULL ? (-9223372036854775807LL - 1)
						     : -(long long)u;
	} else {
		if (u > 9223372036854775807ULL)
			return false;
		*out = (long long)u;
	}
	return true;
}

/* strconv.ParseFloat on an already well-formed decimal; false on overflow. */
static bool parse_go_float(const char *s, double *out)
{
	char *end;
	errno = 0;
	double f = strtod(s, &end);
	if (*end || (errno == ERANGE && isinf(f)))
		return false;
	*out = f;
	return true;
}

static void resolve_number(const char *in, struct yscalar *ys)
{
	size_t n = strlen(in), j = 0;
	char *plain = xmalloc(n + 1);
	for (size_t i = 0; i < n; i++)
		if (in[i] != '_')
			plain[j++] = in[i];
	plain[j] = 0;
	if (parse_go_int(plain, &ys->i))
		ys->t = Y_INT;
	else if (parse_go_uint(plain, &ys->u))
		ys->t = Y_UINT;
	else if (yaml_style_float(plain) && parse_go_float(plain, &ys->f))
		ys->t = Y_FLOAT;
	free(plain);
}

static void resolve_plain(const char *in, struct yscalar *ys)
{
	char hint = resolve_hint(in);
	if (!hint)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(resolve_map); i++) {
		if (strcmp(resolve_map[i].s, in))
			continue;
		ys->t = resolve_map[i].t;
		ys->b = resolve_map[i].v;
		if (ys->t == Y_FLOAT)
			ys->f = resolve_map[i].v ? resolve_map[i].v * INFINITY : NAN;
		return;
	}
	if (hint == '.') {
		const char *p;
		if (all_digits(in + 1, &p) && yaml_style_float(in) &&
		    parse_go_float(in, &ys->f))
			ys->t = Y_FLOAT;
	} else if (hint == 'D' || hint == 'S') {
		resolve_number(in, ys);
	}
}

/* "tag:yaml.org,2002:int" -> "!!int". */
static const char *short_tag(const char *tag, char *buf, size_t len)
{
	if (!str_has_prefix(tag, TAG_PREFIX))
		return tag;
	snprintf(buf, len, "!!%s", tag + strlen(TAG_PREFIX));
	return buf;
}

static const char *ytype_tag(enum ytype t)
{
	switch (t) {
	case Y_NULL: return TAG_PREFIX "null";
	case Y_BOOL: return TAG_PREFIX "bool";
	case Y_INT:
	case Y_UINT: return TAG_PREFIX "int";
	case Y_FLOAT: return TAG_PREFIX "float";
	case Y_MERGE: return TAG_PREFIX "merge";
	default: return TAG_PREFIX "str";
	}
}

/* Resolve one scalar event; -1 when an explicit tag does not fit. */
static int resolve_scalar(struct yload *L, const yaml_event_t *ev,
			  struct yscalar *ys)
{
	const char *in = (const char *)ev->data.scalar.value;
	const char *tag = (const char *)ev->data.scalar.tag;
	static const char *const resolvable[] = { "str", "bool", "int", "float" };
	char have[64], want[64];
	bool can = false;

	memset(ys, 0, sizeof(*ys));
	ys->t = Y_STR;
	ys->s = in;
	if (!tag) {
		if (ev->data.scalar.plain_implicit)
			resolve_plain(in, ys);
		return 0;
	}
	if (!str_has_prefix(tag, TAG_PREFIX))
		return 0; /* "!", "!custom": kept as text */
	for (size_t i = 0; i < ARRAY_SIZE(resolvable); i++)
		can |= !strcmp(tag + strlen(TAG_PREFIX), resolvable[i]);
	if (!strcmp(tag + strlen(TAG_PREFIX), "merge") && !strcmp(in, "<<")) {
		ys->t = Y_MERGE;
		return 0;
	}
	if (!can || !strcmp(tag, TAG_PREFIX "str"))
		return 0;
	resolve_plain(in, ys);
	if (!strcmp(tag, ytype_tag(ys->t)))
		return 0;
	if (!strcmp(tag, TAG_PREFIX "float") && ys->t == Y_INT) {
		ys->t = Y_FLOAT;
		ys->f = (double)ys->i;
		return 0;
	}
	yfail(L, "yaml: cannot decode %s `%.60s` as a %s",
	      short_tag(ytype_tag(ys->t), have, sizeof(have)), in,
	      short_tag(tag, want, sizeof(want)));
	return -1;
}

static cJSON *scalar_json(struct yload *L, const struct yscalar *ys)
{
	switch (ys->t) {
	case Y_NULL:
		return cJSON_CreateNull();
	case Y_BOOL:
		return cJSON_CreateBool(ys->b);
	case Y_INT:
		return cJSON_CreateNumber((double)ys->i);
	case Y_UINT:
		return cJSON_CreateNumber((double)ys->u);
	case Y_FLOAT:
		if (isnan(ys->f) || isinf(ys->f)) {
			yfail(L, "json: unsupported value: %s",
			      isnan(ys->f) ? "NaN" : ys->f > 0 ? "+Inf" : "-Inf");
			return NULL;
		}
		return cJSON_CreateNumber(ys->f);
	default:
		return cJSON_CreateString(ys->s);
	}
}

/* strconv.FormatFloat(f, 'g', -1, 32), as sigs.k8s.io/yaml renders float keys. */
static void format_float32_key(double d, char *buf, size_t len)
{
	float f = (float)d;
	char tmp[64];
	int prec, exp;

	if (isnan(f)) {
		snprintf(buf, len, ".nan");
		return;
	}
	if (isinf(f)) {
		snprintf(buf, len, f > 0 ? ".inf" : "-.inf");
		return;
	}
	for (prec = 1; prec < 9; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, (double)f);
		if (strtof(tmp, NULL) == f)
			break;
	}
	snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, (double)f);
	exp = atoi(strchr(tmp, 'e') + 1);
	if (exp < -4 || exp >= 6) {
		char *e = strchr(tmp, 'e');
		*e = 0;
		snprintf(buf, len, "%.24se%c%02d", tmp, exp < 0 ? '-' : '+', abs(exp));
	} else {
		snprintf(buf, len, "%.*f", prec - 1 - exp > 0 ? prec - 1 - exp : 0,
			 (double)f);
	}
}

/* A mapping key as sigs.k8s.io/yaml renders it; NULL when unsupported. */
static char *scalar_key(const struct yscalar *ys)
{
	char buf[64];
	switch (ys->t) {
	case Y_STR:
	case Y_MERGE:
		return xstrdup(ys->s);
	case Y_BOOL:
		return xstrdup(ys->b ? "true" : "false");
	case Y_INT:
		snprintf(buf, sizeof(buf), "%lld", ys->i);
		return xstrdup(buf);
	case Y_FLOAT:
		format_float32_key(ys->f, buf, sizeof(buf));
		return xstrdup(buf);
	default:
		return NULL;
	}
}

/* A key from an aliased value (type known only from JSON). */
static char *json_key(const cJSON *v)
{
	struct yscalar ys = { .t = Y_NULL };
	if (cJSON_IsString(v)) {
		ys.t = Y_STR;
		ys.s = v->valuestring;
	} else if (cJSON_IsBool(v)) {
		ys.t = Y_BOOL;
		ys.b = cJSON_IsTrue(v);
	} else if (jis_int(v)) {
		ys.t = Y_INT;
		ys.i = (long long)v->valuedouble;
	} else if (cJSON_IsNumber(v)) {
		ys.t = Y_FLOAT;
		ys.f = v->valuedouble;
	}
	return scalar_key(&ys);
}

/* ---- anchors and alias budget ---- */

static size_t count_nodes(const cJSON *v)
{
	size_t n = 1;
	for (const cJSON *c = v ? v->child : NULL; c; c = c->next)
		n += count_nodes(c);
	return n;
}

static void anchor_add(struct yload *L, const char *name, const cJSON *v)
{
	if (L->nan == L->can) {
		L->can = L->can ? 2 * L->can : 8;
		L->an = xrealloc(L->an, L->can * sizeof(*L->an));
	}
	L->an[L->nan].name = xstrdup(name);
	L->an[L->nan].value = cJSON_Duplicate(v, 1);
	L->an[L->nan].nodes = count_nodes(v);
	if (!L->an[L->nan].value)
		abort();
	L->nan++;
}

static void anchors_clear(struct yload *L)
{
	for (size_t i = 0; i < L->nan; i++) {
		free(L->an[i].name);
		cJSON_Delete(L->an[i].value);
	}
	L->nan = 0;
}

/* go-yaml v2's allowedAliasRatio(). */
static bool alias_budget_ok(size_t alias, size_t total)
{
	const double lo = 400000, hi = 4000000;
	double ratio;
	if (alias <= 100 || total <= 1000)
		return true;
	if (total <= lo)
		ratio = 0.99;
	else if (total >= hi)
		ratio = 0.10;
	else
		ratio = 0.99 - 0.89 * (((double)total - lo) / (hi - lo));
	return (double)alias / (double)total <= ratio;
}

static cJSON *alias_value(struct yload *L, const char *name)
{
	for (size_t i = L->nan; i-- > 0;) {
		struct yanchor *a = &L->an[i];
		cJSON *v;
		if (strcmp(a->name, name))
			continue;
		if (!alias_budget_ok(L->alias_nodes + a->nodes,
				     L->nodes + L->alias_nodes + a->nodes)) {
			yfail(L, "yaml: document contains excessive aliasing");
			return NULL;
		}
		L->alias_nodes += a->nodes;
		v = cJSON_Duplicate(a->value, 1);
		if (!v)
			abort();
		return v;
	}
	yfail(L, "yaml: unknown anchor '%.60s' referenced", name);
	return NULL;
}

/* ---- building the tree ---- */

static void obj_set(cJSON *obj, const char *key, cJSON *v)
{
	if (cJSON_GetObjectItemCaseSensitive(obj, key))
		cJSON_ReplaceItemInObjectCaseSensitive(obj, key, v);
	else
		cJSON_AddItemToObject(obj, key, v);
}

/* "<<: *base" or "<<: [*a, *b]": earlier maps win, explicit keys after win. */
static int merge_into(struct yload *L, cJSON *obj, cJSON *v)
{
	cJSON *c;
	if (cJSON_IsArray(v)) {
		cJSON_ArrayForEach(c, v)
			if (!cJSON_IsObject(c))
				goto bad;
		for (c = v->child ? v->child->prev : NULL; c;
		     c = c == v->child ? NULL : c->prev)
			if (merge_into(L, obj, c))
				return -1;
		return 0;
	}
	if (!cJSON_IsObject(v))
		goto bad;
	cJSON_ArrayForEach(c, v) {
		cJSON *dup = cJSON_Duplicate(c, 1);
		if (!dup)
			abort();
		obj_set(obj, c->string, dup);
	}
	return 0;
bad:
	yfail(L, "yaml: map merge requires map or sequence of maps as the value");
	return -1;
}

/* Place a finished value (owned) into its parent, or make it the root.
 * is_merge: as a key, v is "<<"; as a value, v came from an alias. */
static int emit(struct yload *L, cJSON *v, char *key_of_scalar, bool is_merge)
{
	struct yframe *f;
	int rc = 0;

	if (!L->depth) {
		cJSON_Delete(L->root);
		L->root = v;
		free(key_of_scalar);
		return 0;
	}
	f = &L->st[L->depth - 1];
	if (cJSON_IsArray(f->node)) {
		cJSON_AddItemToArray(f->node, v);
		free(key_of_scalar);
		return 0;
	}
	if (!f->key) {
		/* v is a key */
		if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
			yfail(L, "yaml: invalid map key");
			rc = -1;
		} else {
			f->merge = is_merge && key_of_scalar;
			f->key = key_of_scalar ? key_of_scalar : json_key(v);
			key_of_scalar = NULL;
			if (!f->key) {
				yfail(L, "yaml: unsupported map key");
				rc = -1;
			}
		}
		cJSON_Delete(v);
		free(key_of_scalar);
		return rc;
	}
	free(key_of_scalar);
	if (f->merge && is_merge && !cJSON_IsObject(v)) {
		/* "<<: *alias" must name a map, not a list of maps */
		yfail(L, "yaml: map merge requires map or sequence of maps as the value");
		rc = -1;
		cJSON_Delete(v);
	} else if (f->merge) {
		rc = merge_into(L, f->node, v);
		cJSON_Delete(v);
	} else {
		obj_set(f->node, f->key, v);
	}
	free(f->key);
	f->key = NULL;
	f->merge = false;
	return rc;
}

static int on_scalar(struct yload *L, const yaml_event_t *ev)
{
	struct yscalar ys;
	struct yframe *top = L->depth ? &L->st[L->depth - 1] : NULL;
	bool as_key = top && cJSON_IsObject(top->node) && !top->key;
	char *key = NULL;
	cJSON *v;

	if (resolve_scalar(L, ev, &ys))
		return -1;
	if (as_key) {
		key = scalar_key(&ys);
		if (!key) {
			yfail(L, "yaml: unsupported map key");
			return -1;
		}
		v = cJSON_CreateNull(); /* placeholder; the key is what counts */
	} else {
		v = scalar_json(L, &ys);
		if (!v)
			return -1;
	}
	if (ev->data.scalar.anchor) {
		cJSON *av = as_key ? scalar_json(L, &ys) : NULL;
		if (as_key && !av) {
			free(key);
			cJSON_Delete(v);
			return -1;
		}
		anchor_add(L, (const char *)ev->data.scalar.anchor, av ? av : v);
		cJSON_Delete(av);
	}
	L->nodes++;
	return emit(L, v, key, ys.t == Y_MERGE);
}

static int on_start(struct yload *L, bool mapping, const yaml_char_t *anchor)
{
	struct yframe *f;
	if (L->depth >= YAML_MAX_DEPTH) {
		yfail(L, "yaml: exceeded max depth of %d", YAML_MAX_DEPTH);
		return -1;
	}
	if (L->depth == L->cap) {
		L->cap = L->cap ? 2 * L->cap : 16;
		L->st = xrealloc(L->st, L->cap * sizeof(*L->st));
	}
	f = &L->st[L->depth++];
	memset(f, 0, sizeof(*f));
	f->node = mapping ? cJSON_CreateObject() : cJSON_CreateArray();
	f->anchor = anchor ? xstrdup((const char *)anchor) : NULL;
	L->nodes++;
	return 0;
}

static int on_end(struct yload *L)
{
	struct yframe f = L->st[--L->depth];
	if (f.anchor)
		anchor_add(L, f.anchor, f.node);
	free(f.anchor);
	free(f.key);
	return emit(L, f.node, NULL, false);
}

static void unwind(struct yload *L)
{
	while (L->depth) {
		struct yframe *f = &L->st[--L->depth];
		cJSON_Delete(f->node);
		free(f->key);
		free(f->anchor);
	}
}

static void parser_error(struct yload *L, const yaml_parser_t *p)
{
	size_t line = 0;
	char where[32] = "";
	if (p->problem_mark.line) {
		line = p->problem_mark.line;
		if (p->error == YAML_SCANNER_ERROR)
			line++;
	} else if (p->context_mark.line) {
		line = p->context_mark.line;
	}
	if (line)
		snprintf(where, sizeof(where), "line %zu: ", line);
	yfail(L, "yaml: %s%s", where,
	      p->problem ? p->problem : "unknown problem parsing YAML content");
}

/* One event; 1 when the loader has its document, -1 on error. */
static int on_event(struct yload *L, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		anchors_clear(L);
		return 0;
	case YAML_DOCUMENT_END_EVENT:
		if (L->root && !cJSON_IsNull(L->root))
			return 1;
		return 0;
	case YAML_STREAM_END_EVENT:
		return 1;
	case YAML_SCALAR_EVENT:
		return on_scalar(L, ev);
	case YAML_ALIAS_EVENT: {
		cJSON *v = alias_value(L, (const char *)ev->data.alias.anchor);
		if (!v)
			return -1;
		return emit(L, v, NULL, true);
	}
	case YAML_SEQUENCE_START_EVENT:
		return on_start(L, false, ev->data.sequence_start.anchor);
	case YAML_MAPPING_START_EVENT:
		return on_start(L, true, ev->data.mapping_start.anchor);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return on_end(L);
	default:
		return 0;
	}
}

cJSON *yaml_to_json(const char *buf, size_t len, const char **msg)
{
	struct yload L = { 0 };
	yaml_parser_t p;
	yaml_event_t ev;
	int rc = 0;

	if (!yaml_parser_initialize(&p))
		abort();
	yaml_parser_set_input_string(&p, (const unsigned char *)(buf ? buf : ""),
				     buf ? len : 0);
	while (rc == 0) {
		if (!yaml_parser_parse(&p, &ev)) {
			parser_error(&L, &p);
			rc = -1;
			break;
		}
		rc = on_event(&L, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	unwind(&L);
	anchors_clear(&L);
	free(L.an);
	free(L.st);
	if (rc < 0) {
		cJSON_Delete(L.root);
		if (msg)
			*msg = yaml_msg;
		return NULL;
	}
	if (!L.root)
		L.root = cJSON_CreateNull();
	if (msg)
		*msg = NULL;
	return L.root;
}
