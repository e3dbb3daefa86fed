/*
 * common/json.h: small helpers over cJSON for Kubernetes objects.
 *
 * Paths are dot-separated object keys ("metadata.name"); no array indexing.
 * Getters borrow (never free their result); setters create intermediate
 * objects as needed and replace what was there.
 */
#ifndef LK_JSON_H
#define LK_JSON_H

#include <stdbool.h>
#include <cjson/cJSON.h>

cJSON *jget(const cJSON *obj, const char *path);
const char *jstr(const cJSON *obj, const char *path);    /* NULL unless a string */
const char *jstr_or(const cJSON *obj, const char *path, const char *dflt);
/* Integer value of a number (or an all-digit string) at path, else dflt. */
long long jint(const cJSON *obj, const char *path, long long dflt);
bool jbool(const cJSON *obj, const char *path, bool dflt);
/* The object at path, created (replacing a non-object) when missing. */
cJSON *jobj(cJSON *obj, const char *path);
void jset(cJSON *obj, const char *path, cJSON *val); /* takes val */
/* obj[key] = val with key taken literally (label keys have dots); takes val. */
void jput(cJSON *obj, const char *key, cJSON *val);
void jset_str(cJSON *obj, const char *path, const char *v);
void jset_int(cJSON *obj, const char *path, long long v);
void jdel(cJSON *obj, const char *path);
/* Compact text; caller frees. */
char *jprint(const cJSON *obj);
/* Deep equality (objects unordered, arrays ordered, numbers by value). */
bool jequal(const cJSON *a, const cJSON *b);
/* Integral double check (for JSON numbers that must be integers). */
bool jis_int(const cJSON *v);

/*
 * A read-only, reference-counted copy of obj (not its siblings) in one
 * allocation: its nodes, then every key and string value. cJSON's own copy
 * costs a malloc per node, key and string value, each with its header and
 * rounding: about twice the bytes, spread over the heap. Readers see
 * ordinary nodes through the const API; cJSON_Duplicate of it (or of any
 * part of it) is an ordinary copy (no IsReference or StringIsConst flag is
 * set here). Never modify it, never cJSON_Delete or free() it: json_pack
 * returns it with one reference, json_pack_ref adds one (and returns the
 * same pointer), json_pack_free drops one (NULL-safe) and frees the block
 * with the last. Only the root of a packed copy can be ref'd or freed.
 */
cJSON *json_pack(const cJSON *obj);
const cJSON *json_pack_ref(const cJSON *packed);
void json_pack_free(const cJSON *packed);

/* Parse YAML (one document) into cJSON; NULL on error with *msg set (static). */
cJSON *yaml_to_json(const char *buf, size_t len, const char **msg);

#endif
