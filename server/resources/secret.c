/*
 * server/resources/secret.c: core/v1 Secret.
 *
 * Printer: NAME, TYPE, DATA (len(data)), AGE. Defaults: type Opaque, and
 * stringData merged into data base64-encoded (the v1 → internal conversion;
 * stringData wins and is never stored). Validation: ValidateSecret (keys,
 * 1 MiB, the keys each built-in type requires) and, on update, the type
 * and `immutable` rules (release-1.32). Field selectors: type.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/resources/res_internal.h"

static const struct column secret_columns[] = {
	COL_NAME,
	{ "Type", "string", "", DESC_SECRET_TYPE, 0 },
	{ "Data", "string", "", DESC_SECRET_DATA, 0 },
	COL_AGE,
};

static void secret_cells(const cJSON *s, time_t now, cJSON *cells)
{
	cell_name(cells, s);
	cell_str(cells, jstr(s, "type"));
	cell_int(cells, res_jsize(jget(s, "data")));
	cell_age(cells, s, now);
}

static const struct field_def secret_fields[] = {
	{ "metadata.name", "metadata.name", FK_STR },
	{ "metadata.namespace", "metadata.namespace", FK_STR },
	{ "type", "type", FK_STR },
	{ NULL, NULL, FK_STR },
};

static int secret_field(const cJSON *obj, const char *label, char *buf, size_t len)
{
	return res_field_from_defs(secret_fields, obj, label, buf, len);
}

static char *base64(const char *in)
{
	static const char tbl[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(in), o = 0;
	char *out = xmalloc((n + 2) / 3 * 4 + 1);
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)in[i] << 16;
		if (i + 1 < n)
			v |= (unsigned char)in[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)in[i + 2];
		out[o++] = tbl[v >> 18 & 63];
		out[o++] = tbl[v >> 12 & 63];
		out[o++] = i + 1 < n ? tbl[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? tbl[v & 63] : '=';
	}
	out[o] = 0;
	return out;
}

static void secret_defaults(cJSON *s)
{
	cJSON *sd = jget(s, "stringData"), *it;
	const char *type = jstr(s, "type");
	if (!type || !*type)
		jset_str(s, "type", "Opaque");
	if (cJSON_IsObject(sd)) {
		cJSON *data = jobj(s, "data");
		cJSON_ArrayForEach(it, sd) {
			char *enc = base64(cJSON_IsString(it) ? it->valuestring : "");
			res_jput(data, it->string, cJSON_CreateString(enc));
			free(enc);
		}
	}
	jdel(s, "stringData");
}

static bool has_key(const cJSON *s, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(jget(s, "data"), key) != NULL;
}

static void require_keys(const cJSON *s, const char *const *keys, struct field_errs *fe)
{
	char f[FP_MAX];
	for (; *keys; keys++)
		if (!has_key(s, *keys))
			field_err_required(fe, res_fp(f, "data[%s]", *keys), NULL);
}

/* What each built-in type needs (the switch of ValidateSecret). */
static void validate_type(const cJSON *s, struct field_errs *fe)
{
	static const char *const tls[] = { "tls.crt", "tls.key", NULL };
	static const char *const basic[] = { "username", "password", NULL };
	static const char *const dockercfg[] = { ".dockercfg", NULL };
	static const char *const dockerjson[] = { ".dockerconfigjson", NULL };
	const char *type = jstr_or(s, "type", "");
	const char *sa = "kubernetes.io/service-account.name";
	if (!strcmp(type, "kubernetes.io/service-account-token")) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(jget(s, "metadata.annotations"), sa);
		if (!cJSON_IsString(v) || !*v->valuestring)
			field_err_required(fe, "metadata.annotations[kubernetes.io/service-account.name]",
					   NULL);
	} else if (!strcmp(type, "kubernetes.io/dockercfg")) {
		require_keys(s, dockercfg, fe);
	} else if (!strcmp(type, "kubernetes.io/dockerconfigjson")) {
		require_keys(s, dockerjson, fe);
	} else if (!strcmp(type, "kubernetes.io/basic-auth")) {
		if (!has_key(s, "username") && !has_key(s, "password"))
			require_keys(s, basic, fe);
	} else if (!strcmp(type, "kubernetes.io/ssh-auth")) {
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(jget(s, "data"), "ssh-privatekey");
		if (!cJSON_IsString(k) || !*k->valuestring)
			field_err_required(fe, "data[ssh-privatekey]", NULL);
	} else if (!strcmp(type, "kubernetes.io/tls")) {
		require_keys(s, tls, fe);
	}
}

static void secret_validate(const cJSON *s, const cJSON *old, struct field_errs *fe)
{
	const cJSON *it;
	char f[FP_MAX];
	size_t total = 0;
	cJSON_ArrayForEach(it, ONLY_OBJ(jget(s, "data"))) {
		res_invalid_each(fe, res_fp(f, "data[%s]", it->string), it->string, is_config_map_key);
		total += cJSON_IsString(it) ? strlen(it->valuestring) / 4 * 3 : 0;
	}
	if (total > 1024 * 1024)
		field_err_add(fe, "FieldValueTooLong", "data",
			      "Too long: may not be more than %d bytes", 1024 * 1024);
	validate_type(s, fe);
	if (!old)
		return;
	if (!str_eq(jstr(s, "type"), jstr(old, "type")))
		field_err_invalid_str(fe, "type", jstr_or(s, "type", ""), "field is immutable");
	if (!jbool(old, "immutable", false))
		return;
	if (!jbool(s, "immutable", false))
		field_err_forbidden(fe, "immutable", "field is immutable when `immutable` is set");
	if (!jequal(jget(s, "data"), jget(old, "data")))
		field_err_forbidden(fe, "data", "field is immutable when `immutable` is set");
}

const struct resource res_secret = {
	.group = "", .version = "v1", .kind = "Secret",
	.plural = "secrets", .singular = "secret", .namespaced = true,
	.name_rule = NAME_SUBDOMAIN,
	.columns = secret_columns, .ncolumns = ARRAY_SIZE(secret_columns),
	.cells = secret_cells,
	.field = secret_field, .field_conv = true,
	.defaults = secret_defaults,
	.validate = secret_validate,
};
