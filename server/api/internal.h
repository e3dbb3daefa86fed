/*
 * server/api/internal.h: what the API's files share (not for other modules).
 *
 * A request is handled once its body is in: the handler fills req->reply
 * (status, content type, body) or turns the request into a stream (watch).
 * Replies produced while the store has uncommitted writes are held until the
 * group commit in the loop's before-sleep hook, so an answer is never sent
 * before its write is durable.
 */
#ifndef LK_API_INTERNAL_H
#define LK_API_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "common/err.h"
#include "common/json.h"
#include "common/util.h"

struct labkube;
struct resource;
struct MHD_Connection;
struct MHD_Daemon;
struct watch;

#define MAX_BODY (3 * 1024 * 1024)

struct reply {
	int status;
	const char *ctype;   /* static string */
	char *body;          /* owned */
	size_t len;
	struct strbuf headers; /* extra "Name: value\n" lines */
};

struct req {
	struct api *api;
	struct MHD_Connection *conn;
	const char *method;
	char *path;
	struct strbuf body;
	bool too_large;
	bool handled;
	bool deferred;
	struct reply reply;
	struct watch *watch;   /* set when the reply is a stream */
	/* Any other streamed reply (pod logs with follow): MHD content reader
	 * callbacks set by the handler; stream_free runs when it is done. */
	ssize_t (*stream_read)(void *cls, uint64_t pos, char *buf, size_t max);
	void (*stream_free)(void *cls);
	void *stream;
	struct req *next_deferred;
};

struct api {
	struct labkube *lk;
	struct MHD_Daemon *mhd;
	int mhd_epfd;
	struct req *deferred;  /* replies waiting for the commit */
	bool resumed;          /* a stream was resumed: MHD must run */
	struct watch *watches; /* every open watch stream */
	char *openapi_v2;      /* built once */
	size_t openapi_v2_len;
};

/* Query argument (decoded) or NULL; header value or NULL. */
const char *req_arg(struct req *r, const char *key);
const char *req_header(struct req *r, const char *key);
bool req_arg_bool(struct req *r, const char *key);
/* Every occurrence of a query argument, in order ("" for one without a
 * value): the first max go to out; returns how many there are. */
size_t req_arg_all(struct req *r, const char *key, const char **out, size_t max);
bool ctype_is(const char *ct, const char *want);

/* Replies. Each takes ownership of what it is given. */
void reply_json(struct req *r, int status, cJSON *obj);          /* frees obj */
void reply_json_ctype(struct req *r, int status, const char *ctype, cJSON *obj);
void reply_text(struct req *r, int status, const char *ctype, const char *text);
void reply_bytes(struct req *r, int status, const char *ctype, char *buf, size_t len);
void reply_err(struct req *r, struct lk_err *err);                /* clears err */
/* Status for an error built on the spot. */
void reply_status(struct req *r, enum lk_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Routing (router.c) and handlers. */
void api_route(struct req *r);
void api_discovery(struct req *r, const char *path); /* /api..., /apis... */
void api_openapi(struct req *r, const char *path);   /* /openapi/... */
bool api_wants_table(struct req *r);

/* A parsed resource URL. */
struct rurl {
	const struct resource *res;
	char group[64], version[16], plural[64];
	char ns[254];           /* "" when none */
	char name[254];         /* "" for collections */
	char sub[32];           /* "status", "scale", "log", ... */
	char storage[128];
};
void api_objects(struct req *r, struct rurl *u);
/* A subresource a component registered (server/registry/serve.h): handled,
 * or false when nobody serves it (subres.c). */
bool api_subresource(struct req *r, struct rurl *u);

/* Table rendering (table.c). Takes items (array of objects), borrows them. */
cJSON *table_new(const struct resource *res, bool with_columns);
void table_add_row(cJSON *table, const struct resource *res, const cJSON *obj,
		   const char *include_object, time_t now);
int table_check_include(struct req *r, const char **include, struct lk_err *err);
#define TABLE_CTYPE "application/json;as=Table;v=v1;g=meta.k8s.io"

/* The object as clients see it: stored shape converted for kinds served in
 * another shape (events.k8s.io Event). Takes and returns obj. */
cJSON *api_served(const struct resource *res, cJSON *obj);

/* Watch (watch.c). Starts a stream on r; list-style parameters in u. */
void api_watch(struct req *r, struct rurl *u);
void watch_close_all(struct api *api);
/* Called by http.c for the response stream. */
ssize_t watch_read(void *cls, uint64_t pos, char *buf, size_t max);
void watch_free_cb(void *cls);

/* Selectors of a list or watch request: parsed once. */
struct list_filter;
int list_filter_new(struct req *r, const struct resource *res,
		    struct list_filter **out, struct lk_err *err);
bool list_filter_match(const struct list_filter *f, const cJSON *obj);
void list_filter_free(struct list_filter *f);

/* Request bodies: JSON, YAML, protobuf by Content-Type. */
int body_decode(struct req *r, cJSON **out, struct lk_err *err);

/* http.c: suspend until the commit; resume a stream with new data. */
void http_suspend(struct req *r);
void http_resume(struct req *r);

/*
 * A response body produced over time (watch streams, streams of component
 * subresources), in http.c. The producer appends (hstream_write) and ends
 * it (hstream_end); MHD pulls (hstream_read, from the response's content
 * reader). With nothing buffered the connection is suspended until the next
 * write or end, and meanwhile its socket is watched for a hang-up, since
 * libmicrohttpd does not notice a client leaving a suspended connection:
 * a hang-up ends the stream too, with gone set.
 */
struct hstream {
	struct api *api;
	struct MHD_Connection *conn;
	int fd;                 /* the client's socket; -1 when unknown */
	struct strbuf buf;      /* written, not yet sent */
	size_t off;
	bool suspended, hup_off;
	bool ended;             /* by the producer */
	bool gone;              /* by the client */
};
void hstream_init(struct hstream *s, struct req *r);
void hstream_write(struct hstream *s, const char *buf, size_t len);
void hstream_end(struct hstream *s);
ssize_t hstream_read(struct hstream *s, char *buf, size_t max);
void hstream_release(struct hstream *s);

#endif
