/*
 * common/err.h: errors as values.
 *
 * Functions return 0 on success and -1 on failure, filling an optional
 * struct lk_err. The error code names a Kubernetes StatusReason; the one place
 * that maps it to an HTTP status and a metav1.Status body is lk_err_status()
 * (err.c). Messages are worded exactly like upstream's apimachinery errors
 * (see shared/specs/api-machinery.md §4); the helpers below build them.
 */
#ifndef LK_ERR_H
#define LK_ERR_H

#include <stdbool.h>

#include <cjson/cJSON.h>

enum lk_code {
	LK_OK = 0,
	LK_EBADREQUEST,    /* 400 BadRequest */
	LK_EFORBIDDEN,     /* 403 Forbidden */
	LK_ENOTFOUND,      /* 404 NotFound */
	LK_EMETHOD,        /* 405 MethodNotAllowed */
	LK_ENOTACCEPT,     /* 406 NotAcceptable */
	LK_EEXISTS,        /* 409 AlreadyExists */
	LK_ECONFLICT,      /* 409 Conflict */
	LK_EGONE,          /* 410 Expired */
	LK_ETOOLARGE,      /* 413 RequestEntityTooLarge */
	LK_EMEDIATYPE,     /* 415 UnsupportedMediaType */
	LK_EINVALID,       /* 422 Invalid */
	LK_ETIMEOUT,       /* 504 Timeout */
	LK_EINTERNAL,      /* 500 InternalError */
	LK_EUNAVAILABLE,   /* 503 ServiceUnavailable */
	LK_EUNKNOWN,       /* 500, no reason: what upstream sends for a bare
	                    * Go error (kubectl prints "Error from server: ...") */
};

struct lk_err {
	enum lk_code code;
	char msg[4096];
	/* Status.details; any may be NULL. kind is the resource plural for
	 * NotFound/AlreadyExists/Conflict and the Kind for Invalid. */
	char *name, *group, *kind, *uid;
	cJSON *causes;  /* array of {reason,message,field}, owned */
};

/* Fill err (if non-NULL) and return -1. */
int lk_error(struct lk_err *err, enum lk_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void lk_err_details(struct lk_err *err, const char *name, const char *group,
		    const char *kind);
void lk_err_clear(struct lk_err *err); /* frees details; err reusable */
void lk_err_move(struct lk_err *dst, struct lk_err *src);

/* HTTP status for a code, and the metav1.Status body (caller frees). */
int lk_err_http(enum lk_code code);
const char *lk_err_reason(enum lk_code code);
cJSON *lk_err_status(const struct lk_err *err);

/* "pods" / "deployments.apps" from a group and plural. buf >= 128. */
const char *lk_group_resource(const char *group, const char *plural, char *buf);

/* Upstream messages. `res` is the plural, `group` "" for core. */
int lk_err_notfound(struct lk_err *err, const char *group, const char *res, const char *name);
int lk_err_exists(struct lk_err *err, const char *group, const char *res, const char *name);
int lk_err_conflict(struct lk_err *err, const char *group, const char *res, const char *name);

/*
 * Field errors for 422 Invalid. Collect causes with field_err_*(), then
 * finish with lk_err_invalid(), which builds the aggregate message
 * `<Kind>[.group] "<name>" is invalid: <field>: <body>` (several → `[a, b]`).
 * Each returns -1 so callers can `return field_err_required(...)` when they
 * stop at the first error.
 */
struct field_errs {
	cJSON *causes; /* owned until lk_err_invalid() takes it */
};
void field_err_add(struct field_errs *fe, const char *reason, const char *field,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* "Invalid value: <v>: <detail>": v is rendered like Go (%q for strings). */
void field_err_invalid_str(struct field_errs *fe, const char *field, const char *v, const char *detail);
void field_err_invalid_int(struct field_errs *fe, const char *field, long long v, const char *detail);
/* A raw, already-rendered value (e.g. Go's []string{"1.1.1.1"}). */
void field_err_invalid_raw(struct field_errs *fe, const char *field, const char *v, const char *detail);
void field_err_required(struct field_errs *fe, const char *field, const char *detail);
void field_err_forbidden(struct field_errs *fe, const char *field, const char *detail);
void field_err_duplicate_str(struct field_errs *fe, const char *field, const char *v);
void field_err_duplicate_raw(struct field_errs *fe, const char *field, const char *v);
/* supported: NULL-terminated list, rendered `"A", "B"`. */
void field_err_unsupported(struct field_errs *fe, const char *field, const char *v,
			   const char *const *supported);
bool field_errs_any(const struct field_errs *fe);
void field_errs_release(struct field_errs *fe);
/* Takes fe's causes; kind is the Kind ("Service"), group "" for core. */
int lk_err_invalid(struct lk_err *err, const char *group, const char *kind,
		   const char *name, struct field_errs *fe);

#endif
