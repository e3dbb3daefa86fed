/*
 * server/resources/cells.c: Table cells and the shared formatting helpers of
 * k8s pkg/printers/internalversion/printers.go and apimachinery's labels
 * package (FormatLabels, LabelSelector → Selector.String()), release-1.32.
 * Not here: the per-kind columns (each kind's file).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/resources/res_internal.h"

void cell_str(cJSON *cells, const char *s)
{
	cJSON_AddItemToArray(cells, cJSON_CreateString(s ? s : ""));
}

void cell_take(cJSON *cells, char *s)
{
	cell_str(cells, s);
	free(s);
}

void cell_int(cJSON *cells, long long v)
{
	cJSON_AddItemToArray(cells, cJSON_CreateNumber((double)v));
}

void cell_name(cJSON *cells, const cJSON *obj)
{
	cell_str(cells, jstr(obj, "metadata.name"));
}

bool res_time_zero(const char *ts)
{
	return !ts || lk_parse_rfc3339(ts) == -1 ||
	       str_has_prefix(ts, "0001-01-01T00:00:00");
}

void cell_since(cJSON *cells, const char *ts, time_t now)
{
	char buf[32];
	if (res_time_zero(ts))
		snprintf(buf, sizeof(buf), "<unknown>");
	else
		lk_age(ts, now, buf, sizeof(buf));
	cell_str(cells, buf);
}

void cell_age(cJSON *cells, const cJSON *obj, time_t now)
{
	cell_since(cells, jstr(obj, "metadata.creationTimestamp"), now);
}

long long res_num(const cJSON *v)
{
	double d = cJSON_IsNumber(v) ? v->valuedouble : 0;
	if (d != d)
		return 0;
	if (d >= 9.2e18)
		return 9200000000000000000LL;
	if (d <= -9.2e18)
		return -9200000000000000000LL;
	return (long long)d;
}

void res_jput(cJSON *obj, const char *key, cJSON *v)
{
	if (cJSON_GetObjectItemCaseSensitive(obj, key))
		cJSON_ReplaceItemInObjectCaseSensitive(obj, key, v);
	else
		cJSON_AddItemToObject(obj, key, v);
}

int res_jsize(const cJSON *v)
{
	return cJSON_IsArray(v) || cJSON_IsObject(v) ? cJSON_GetArraySize(v) : 0;
}

char *fmt_join_field(const cJSON *arr, const char *key)
{
	struct strbuf sb = STRBUF_INIT;
	const cJSON *it;
	int i = 0;
	cJSON_ArrayForEach(it, ONLY_ARR(arr)) {
		if (i++)
			sb_addc(&sb, ',');
		sb_adds(&sb, jstr_or(it, key, ""));
	}
	return sb_detach(&sb, NULL);
}

char *fmt_containers(const cJSON *podspec, const char *key)
{
	return fmt_join_field(jget(podspec, "containers"), key);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *fmt_labels(const cJSON *labels)
{
	int n = res_jsize(labels), i = 0;
	char **pairs;
	const cJSON *it;
	struct strbuf sb = STRBUF_INIT;
	if (!cJSON_IsObject(labels) || n == 0)
		return xstrdup("<none>");
	pairs = xcalloc((size_t)n, sizeof(*pairs));
	cJSON_ArrayForEach(it, labels)
		pairs[i++] = xasprintf("%s=%s", it->string,
				       cJSON_IsString(it) ? it->valuestring : "");
	qsort(pairs, (size_t)n, sizeof(*pairs), cmp_str);
	for (i = 0; i < n; i++) {
		if (i)
			sb_addc(&sb, ',');
		sb_adds(&sb, pairs[i]);
		free(pairs[i]);
	}
	free(pairs);
	return sb_detach(&sb, NULL);
}

/* One labels.Requirement: key plus its rendering. */
struct req {
	const char *key;
	char *text;
};

static char *sorted_values(const cJSON *vals)
{
	int n = res_jsize(vals), i = 0;
	const char **v = xcalloc((size_t)n + 1, sizeof(*v));
	const cJSON *it;
	struct strbuf sb = STRBUF_INIT;
	cJSON_ArrayForEach(it, vals)
		v[i++] = cJSON_IsString(it) ? it->valuestring : "";
	qsort(v, (size_t)n, sizeof(*v), cmp_str);
	for (i = 0; i < n; i++) {
		if (i)
			sb_addc(&sb, ',');
		sb_adds(&sb, v[i]);
	}
	free(v);
	return sb_detach(&sb, NULL);
}

/* labels.NewRequirement's checks; NULL when upstream would fail. */
static char *requirement(const char *key, const char *op, const cJSON *vals)
{
	const char *msgs[MSG_MAX];
	const cJSON *it;
	int n = res_jsize(vals);
	if (!key || is_qualified_name(key, msgs))
		return NULL;
	cJSON_ArrayForEach(it, vals)
		if (!cJSON_IsString(it) || is_label_value(it->valuestring, msgs))
			return NULL;
	if (!strcmp(op, "Exists") || !strcmp(op, "DoesNotExist"))
		return n ? NULL : xasprintf("%s%s", *op == 'D' ? "!" : "", key);
	if (strcmp(op, "In") && strcmp(op, "NotIn") && strcmp(op, "="))
		return NULL;
	if (n == 0 || (*op == '=' && n != 1))
		return NULL;
	char *v = sorted_values(vals), *r;
	if (*op == '=')
		r = xasprintf("%s=%s", key, v);
	else
		r = xasprintf("%s %s (%s)", key, *op == 'I' ? "in" : "notin", v);
	free(v);
	return r;
}

/* Stable insertion sort by key (Go sorts ByKey; ties keep input order). */
static void sort_reqs(struct req *r, int n)
{
	for (int i = 1; i < n; i++) {
		struct req t = r[i];
		int j = i;
		for (; j > 0 && strcmp(r[j - 1].key, t.key) > 0; j--)
			r[j] = r[j - 1];
		r[j] = t;
	}
}

static int collect_reqs(const cJSON *sel, struct req *reqs)
{
	const cJSON *it;
	int n = 0;
	cJSON_ArrayForEach(it, jget(sel, "matchLabels")) {
		cJSON *one = cJSON_CreateArray();
		cJSON_AddItemToArray(one, cJSON_CreateString(
			cJSON_IsString(it) ? it->valuestring : ""));
		reqs[n].key = it->string;
		reqs[n].text = requirement(it->string, "=", one);
		cJSON_Delete(one);
		if (!reqs[n++].text)
			return -n;
	}
	cJSON_ArrayForEach(it, jget(sel, "matchExpressions")) {
		reqs[n].key = jstr_or(it, "key", "");
		reqs[n].text = requirement(jstr(it, "key"), jstr_or(it, "operator", ""),
					   jget(it, "values"));
		if (!reqs[n++].text)
			return -n;
	}
	return n;
}

char *res_selector_string(const cJSON *sel, bool *bad)
{
	int total = res_jsize(jget(sel, "matchLabels")) + res_jsize(jget(sel, "matchExpressions"));
	struct req *reqs = xcalloc((size_t)total + 1, sizeof(*reqs));
	struct strbuf sb = STRBUF_INIT;
	int n = collect_reqs(sel, reqs);
	*bad = n < 0;
	if (n < 0)
		n = -n;
	if (!*bad) {
		sort_reqs(reqs, n);
		for (int i = 0; i < n; i++) {
			if (i)
				sb_addc(&sb, ',');
			sb_adds(&sb, reqs[i].text);
		}
	}
	for (int i = 0; i < n; i++)
		free(reqs[i].text);
	free(reqs);
	return sb_detach(&sb, NULL);
}

char *fmt_label_selector(const cJSON *selector)
{
	bool bad;
	char *s = res_selector_string(selector, &bad);
	if (bad || !*s) {
		free(s);
		return xstrdup(bad ? "<error>" : "<none>");
	}
	return s;
}

static bool label_has(const cJSON *labels, const char *key, const char **val)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(labels, key);
	*val = cJSON_IsString(v) ? v->valuestring : "";
	return cJSON_IsObject(labels) && v != NULL;
}

static bool expr_matches(const cJSON *e, const cJSON *labels)
{
	const char *op = jstr_or(e, "operator", ""), *val;
	bool has = label_has(labels, jstr_or(e, "key", ""), &val), in = false;
	const cJSON *it;
	cJSON_ArrayForEach(it, jget(e, "values"))
		in |= cJSON_IsString(it) && !strcmp(it->valuestring, val);
	if (!strcmp(op, "Exists"))
		return has;
	if (!strcmp(op, "DoesNotExist"))
		return !has;
	if (!strcmp(op, "In"))
		return has && in;
	return !strcmp(op, "NotIn") && (!has || !in);
}

bool res_map_selector_matches(const cJSON *sel, const cJSON *labels)
{
	const cJSON *it;
	const char *val;
	if (!cJSON_IsObject(sel))
		return false;
	cJSON_ArrayForEach(it, sel)
		if (!label_has(labels, it->string, &val) || !cJSON_IsString(it) ||
		    strcmp(val, it->valuestring))
			return false;
	return true;
}

bool res_selector_matches(const cJSON *sel, const cJSON *labels)
{
	const cJSON *e;
	bool bad;
	if (!cJSON_IsObject(sel))
		return false;
	free(res_selector_string(sel, &bad));
	if (bad)
		return false;
	if (jget(sel, "matchLabels") &&
	    !res_map_selector_matches(jget(sel, "matchLabels"), labels))
		return false;
	cJSON_ArrayForEach(e, jget(sel, "matchExpressions"))
		if (!expr_matches(e, labels))
			return false;
	return true;
}

char *res_fmt_more(const char *const *items, int count, bool unset)
{
	struct strbuf sb = STRBUF_INIT;
	int shown = count < 3 ? count : 3;
	for (int i = 0; i < shown; i++) {
		if (i)
			sb_addc(&sb, ',');
		sb_adds(&sb, items[i]);
	}
	if (count > 3)
		sb_addf(&sb, " + %d more...", count - 3);
	else if (!sb.len && unset)
		sb_adds(&sb, "<unset>");
	return sb_detach(&sb, NULL);
}
