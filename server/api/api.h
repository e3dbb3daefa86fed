/*
 * server/api/api.h: the Kubernetes REST API over HTTP (libmicrohttpd in the
 * loop's epoll, no threads of its own).
 *
 * Routing, discovery, content negotiation (JSON, YAML, protobuf in; JSON and
 * Table out), CRUD with patch, watch streams, Status errors. It talks only to
 * the store and the resource table.
 */
#ifndef LK_API_H
#define LK_API_H

#include "common/err.h"

struct labkube;
struct api;

struct api *api_new(struct labkube *lk, struct lk_err *err);
/* Stop accepting, end every stream, free. NULL-safe. */
void api_free(struct api *api);

#endif
