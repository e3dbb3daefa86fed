/*
 * common/json.c: see json.h.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/util.h"

/* Walk path; with create, make missing objects. */
static cJSON *walk(cJSON *obj, const char *path, bool create, const char **last)
{
	const char *p = path, *dot;
	char key[256];
	while ((dot = strchr(p, '.'))) {
		size_t n = (size_t)(dot - p);
		if (!obj || !cJSON_IsObject(obj) || n >= sizeof(key))
			return NULL;
		memcpy(key, p, n);
		key[n] = 0;
		cJSON *next = cJSON_GetObjectItemCaseSensitive(obj, key);
		if (!next || !cJSON_IsObject(next)) {
			if (!create)
				return NULL;
			if (next)
				cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
			next = cJSON_AddObjectToObject(obj, key);
		}
		obj = next;
		p = dot + 1;
	}
	*last = p;
	return obj;
}

cJSON *jget(const cJSON *obj, const char *path)
{
	const char *last;
	cJSON *parent = walk((cJSON *)obj, path, false, &last);
	if (!parent || !cJSON_IsObject(parent))
		return NULL;
	return cJSON_GetObjectItemCaseSensitive(parent, last);
}

const char *jstr(const cJSON *obj, const char *path)
{
	cJSON *v = jget(obj, path);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *jstr_or(const cJSON *obj, const char *path, const char *dflt)
{
	const char *s = jstr(obj, path);
	return s ? s : dflt;
}

long long jint(const cJSON *obj, const char *path, long long dflt)
{
	cJSON *v = jget(obj, path);
	if (cJSON_IsNumber(v)) {
		if (v->valuedouble >= 9.2e18)
			return LLONG_MAX;
		if (v->valuedouble <= -9.2e18)
			return LLONG_MIN;
		return (long long)v->valuedouble;
	}
	if (cJSON_IsString(v) && *v->valuestring) {
		char *end;
		errno = 0;
		long long n = strtoll(v->valuestring, &end, 10);
		if (!*end && !errno)
			return n;
	}
	return dflt;
}

bool jbool(const cJSON *obj, const char *path, bool dflt)
{
	cJSON *v = jget(obj, path);
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v);
	return dflt;
}

cJSON *jobj(cJSON *obj, const char *path)
{
	const char *last;
	cJSON *parent = walk(obj, path, true, &last);
	cJSON *v = cJSON_GetObjectItemCaseSensitive(parent, last);
	if (cJSON_IsObject(v))
		return v;
	if (v)
		cJSON_DeleteItemFromObjectCaseSensitive(parent, last);
	return cJSON_AddObjectToObject(parent, last);
}

void jset(cJSON *obj, const char *path, cJSON *val)
{
	const char *last;
	cJSON *parent = walk(obj, path, true, &last);
	if (cJSON_GetObjectItemCaseSensitive(parent, last))
		cJSON_ReplaceItemInObjectCaseSensitive(parent, last, val);
	else
		cJSON_AddItemToObject(parent, last, val);
}

void jset_str(cJSON *obj, const char *path, const char *v)
{
	jset(obj, path, cJSON_CreateString(v));
}

void jset_int(cJSON *obj, const char *path, long long v)
{
	jset(obj, path, cJSON_CreateNumber((double)v));
}

void jdel(cJSON *obj, const char *path)
{
	const char *last;
	cJSON *parent = walk(obj, path, false, &last);
	if (parent && cJSON_IsObject(parent))
		cJSON_DeleteItemFromObjectCaseSensitive(parent, last);
}

char *jprint(const cJSON *obj)
{
	char *s = cJSON_PrintUnformatted(obj);
	if (!s)
		abort();
	return s;
}

bool jis_int(const cJSON *v)
{
	return cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) &&
	       fabs(v->valuedouble) < 9007199254740992.0;
}

bool jequal(const cJSON *a, const cJSON *b)
{
	if (!a || !b)
		return a == b;
	if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
		return a->valuedouble == b->valuedouble;
	return cJSON_Compare(a, b, true);
}

void jput(cJSON *obj, const char *key, cJSON *val)
{
	cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	cJSON_AddItemToObject(obj, key, val);
}
