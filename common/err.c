/*
 * common/err.c: errors and their one mapping to HTTP status + metav1.Status.
 * Wording follows k8s.io/apimachinery/pkg/api/errors (unchanged 1.27 → 1.33).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/util.h"

static const struct {
	int http;
	const char *reason;
} codes[] = {
	[LK_OK] = { 200, "" },
	[LK_EBADREQUEST] = { 400, "BadRequest" },
	[LK_EFORBIDDEN] = { 403, "Forbidden" },
	[LK_ENOTFOUND] = { 404, "NotFound" },
	[LK_EMETHOD] = { 405, "MethodNotAllowed" },
	[LK_ENOTACCEPT] = { 406, "NotAcceptable" },
	[LK_EEXISTS] = { 409, "AlreadyExists" },
	[LK_ECONFLICT] = { 409, "Conflict" },
	[LK_EGONE] = { 410, "Expired" },
	[LK_ETOOLARGE] = { 413, "RequestEntityTooLarge" },
	[LK_EMEDIATYPE] = { 415, "UnsupportedMediaType" },
	[LK_EINVALID] = { 422, "Invalid" },
	[LK_ETIMEOUT] = { 504, "Timeout" },
	[LK_EINTERNAL] = { 500, "InternalError" },
	[LK_EUNAVAILABLE] = { 503, "ServiceUnavailable" },
	[LK_EUNKNOWN] = { 500, "" },
};

int lk_err_http(enum lk_code code)
{
	return codes[code].http;
}

const char *lk_err_reason(enum lk_code code)
{
	return codes[code].reason;
}

int lk_error(struct lk_err *err, enum lk_code code, const char *fmt, ...)
{
	va_list ap;
	if (!err)
		return -1;
	lk_err_clear(err);
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static void set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = v ? xstrdup(v) : NULL;
}

void lk_err_details(struct lk_err *err, const char *name, const char *group,
		    const char *kind)
{
	if (!err)
		return;
	set_str(&err->name, name);
	set_str(&err->group, group);
	set_str(&err->kind, kind);
}

void lk_err_clear(struct lk_err *err)
{
	if (!err)
		return;
	free(err->name);
	free(err->group);
	free(err->kind);
	free(err->uid);
	cJSON_Delete(err->causes);
	memset(err, 0, sizeof(*err));
}

void lk_err_move(struct lk_err *dst, struct lk_err *src)
{
	if (!dst) {
		lk_err_clear(src);
		return;
	}
	lk_err_clear(dst);
	*dst = *src;
	memset(src, 0, sizeof(*src));
}

cJSON *lk_err_status(const struct lk_err *err)
{
	cJSON *st = cJSON_CreateObject();
	cJSON_AddStringToObject(st, "kind", "Status");
	cJSON_AddStringToObject(st, "apiVersion", "v1");
	cJSON_AddObjectToObject(st, "metadata");
	cJSON_AddStringToObject(st, "status", "Failure");
	cJSON_AddStringToObject(st, "message", err->msg);
	if (*codes[err->code].reason) /* metav1.Status: reason,omitempty */
		cJSON_AddStringToObject(st, "reason", codes[err->code].reason);
	if (err->name || err->group || err->kind || err->causes || err->uid) {
		cJSON *d = cJSON_AddObjectToObject(st, "details");
		if (err->name)
			cJSON_AddStringToObject(d, "name", err->name);
		if (err->group && *err->group) /* StatusDetails: group,omitempty */
			cJSON_AddStringToObject(d, "group", err->group);
		if (err->kind)
			cJSON_AddStringToObject(d, "kind", err->kind);
		if (err->uid)
			cJSON_AddStringToObject(d, "uid", err->uid);
		if (err->causes)
			cJSON_AddItemToObject(d, "causes", cJSON_Duplicate(err->causes, 1));
	}
	cJSON_AddNumberToObject(st, "code", codes[err->code].http);
	return st;
}

const char *lk_group_resource(const char *group, const char *plural, char *buf)
{
	if (group && *group)
		snprintf(buf, 128, "%s.%s", plural, group);
	else
		snprintf(buf, 128, "%s", plural);
	return buf;
}

static int named_error(struct lk_err *err, enum lk_code code, const char *group,
		       const char *res, const char *name, const char *what)
{
	char gr[128];
	if (!err)
		return -1;
	lk_error(err, code, "%s \"%s\" %s", lk_group_resource(group, res, gr),
		 name, what);
	lk_err_details(err, name, group ? group : "", res);
	return -1;
}

int lk_err_notfound(struct lk_err *err, const char *group, const char *res, const char *name)
{
	return named_error(err, LK_ENOTFOUND, group, res, name, "not found");
}

int lk_err_exists(struct lk_err *err, const char *group, const char *res, const char *name)
{
	return named_error(err, LK_EEXISTS, group, res, name, "already exists");
}

int lk_err_conflict(struct lk_err *err, const char *group, const char *res, const char *name)
{
	char gr[128];
	if (!err)
		return -1;
	lk_error(err, LK_ECONFLICT,
		 "Operation cannot be fulfilled on %s \"%s\": the object has been "
		 "modified; please apply your changes to the latest version and try again",
		 lk_group_resource(group, res, gr), name);
	lk_err_details(err, name, group ? group : "", res);
	return -1;
}

void field_err_add(struct field_errs *fe, const char *reason, const char *field,
		   const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	if (!fe->causes)
		fe->causes = cJSON_CreateArray();
	cJSON *c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "reason", reason);
	cJSON_AddStringToObject(c, "message", sb.buf ? sb.buf : "");
	cJSON_AddStringToObject(c, "field", field);
	cJSON_AddItemToArray(fe->causes, c);
	sb_release(&sb);
}

/* Go's %q for a plain string. */
static void go_quote(struct strbuf *sb, const char *s)
{
	sb_addc(sb, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			sb_addc(sb, '\\');
			sb_addc(sb, (char)c);
		} else if (c == '\n') {
			sb_adds(sb, "\\n");
		} else if (c == '\t') {
			sb_adds(sb, "\\t");
		} else if (c < 0x20 || c == 0x7f) {
			sb_addf(sb, "\\x%02x", c);
		} else {
			sb_addc(sb, (char)c);
		}
	}
	sb_addc(sb, '"');
}

void field_err_invalid_raw(struct field_errs *fe, const char *field, const char *v,
			   const char *detail)
{
	if (detail && *detail)
		field_err_add(fe, "FieldValueInvalid", field, "Invalid value: %s: %s", v, detail);
	else
		field_err_add(fe, "FieldValueInvalid", field, "Invalid value: %s", v);
}

void field_err_invalid_str(struct field_errs *fe, const char *field, const char *v,
			   const char *detail)
{
	struct strbuf q = STRBUF_INIT;
	go_quote(&q, v ? v : "");
	field_err_invalid_raw(fe, field, q.buf, detail);
	sb_release(&q);
}

void field_err_invalid_int(struct field_errs *fe, const char *field, long long v,
			   const char *detail)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%lld", v);
	field_err_invalid_raw(fe, field, buf, detail);
}

void field_err_required(struct field_errs *fe, const char *field, const char *detail)
{
	if (detail && *detail)
		field_err_add(fe, "FieldValueRequired", field, "Required value: %s", detail);
	else
		field_err_add(fe, "FieldValueRequired", field, "Required value");
}

void field_err_forbidden(struct field_errs *fe, const char *field, const char *detail)
{
	field_err_add(fe, "FieldValueForbidden", field, "Forbidden: %s", detail);
}

void field_err_duplicate_raw(struct field_errs *fe, const char *field, const char *v)
{
	field_err_add(fe, "FieldValueDuplicate", field, "Duplicate value: %s", v);
}

void field_err_duplicate_str(struct field_errs *fe, const char *field, const char *v)
{
	struct strbuf q = STRBUF_INIT;
	go_quote(&q, v ? v : "");
	field_err_duplicate_raw(fe, field, q.buf);
	sb_release(&q);
}

void field_err_unsupported(struct field_errs *fe, const char *field, const char *v,
			   const char *const *supported)
{
	struct strbuf sb = STRBUF_INIT, q = STRBUF_INIT;
	for (size_t i = 0; supported && supported[i]; i++) {
		if (i)
			sb_adds(&sb, ", ");
		go_quote(&sb, supported[i]);
	}
	go_quote(&q, v ? v : "");
	field_err_add(fe, "FieldValueNotSupported", field,
		      "Unsupported value: %s: supported values: %s", q.buf,
		      sb.buf ? sb.buf : "");
	sb_release(&sb);
	sb_release(&q);
}

bool field_errs_any(const struct field_errs *fe)
{
	return fe->causes && cJSON_GetArraySize(fe->causes) > 0;
}

void field_errs_release(struct field_errs *fe)
{
	cJSON_Delete(fe->causes);
	fe->causes = NULL;
}

int lk_err_invalid(struct lk_err *err, const char *group, const char *kind,
		   const char *name, struct field_errs *fe)
{
	struct strbuf sb = STRBUF_INIT;
	int n = fe->causes ? cJSON_GetArraySize(fe->causes) : 0, shown = 0;
	cJSON *c;

	if (!err) {
		field_errs_release(fe);
		return -1;
	}
	if (group && *group)
		sb_addf(&sb, "%s.%s \"%s\" is invalid: ", kind, group, name ? name : "");
	else
		sb_addf(&sb, "%s \"%s\" is invalid: ", kind, name ? name : "");
	if (n > 1)
		sb_addc(&sb, '[');
	cJSON_ArrayForEach(c, fe->causes) {
		const char *f = cJSON_GetStringValue(cJSON_GetObjectItem(c, "field"));
		const char *m = cJSON_GetStringValue(cJSON_GetObjectItem(c, "message"));
		if (shown++)
			sb_adds(&sb, ", ");
		if (f && *f)
			sb_addf(&sb, "%s: %s", f, m ? m : "");
		else
			sb_adds(&sb, m ? m : "");
	}
	if (n > 1)
		sb_addc(&sb, ']');
	lk_error(err, LK_EINVALID, "%s", sb.buf);
	lk_err_details(err, name, group ? group : "", kind);
	err->causes = fe->causes;
	fe->causes = NULL;
	sb_release(&sb);
	return -1;
}
