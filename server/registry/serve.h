/*
 * server/registry/serve.h: what components serve through the HTTP face
 * without including it (upstream: a kind's REST storage for pods/log, exec,
 * portforward and proxy; the apiserver's readyz checks).
 *
 * At start a component registers the subresources it serves (the node
 * agent: pods/log) and the readiness checks it answers for (node, proxy,
 * dns); at stop it removes them. server/api/ routes KIND/NAME/SUB to the
 * registered handler, handing it a struct sub_call (the request, and the
 * ways to answer it), and /readyz runs every check by name. Discovery lists
 * a kind's subresources from its own table (the API's surface does not
 * depend on which components run); one that nobody registered answers
 * NotFound.
 */
#ifndef LK_SERVE_H
#define LK_SERVE_H

#include <stdbool.h>
#include <stddef.h>

struct lk_err;
struct registry;
struct resource;
struct sub_call;

/* What the HTTP face offers a handler. Every call ends in exactly one of
 * reply, reply_err, or stream followed by end (or by gone). */
struct sub_ops {
	/* The decoded query argument, or NULL; its Go ParseBool truth. */
	const char *(*arg)(struct sub_call *c, const char *key);
	bool (*arg_bool)(struct sub_call *c, const char *key);
	/* The whole reply; body is taken. */
	void (*reply)(struct sub_call *c, int status, const char *ctype, char *body, size_t len);
	/* A metav1.Status for err; clears err. */
	void (*reply_err)(struct sub_call *c, struct lk_err *err);
	/* A streamed reply: status and type now, the body as write() hands it
	 * over, until end(). gone(arg) runs once if the client leaves (or the
	 * server stops) before end(). After end() or gone() c is not to be
	 * used again. */
	void (*stream)(struct sub_call *c, int status, const char *ctype,
		       void (*gone)(void *arg), void *arg);
	void (*write)(struct sub_call *c, const char *buf, size_t len);
	void (*end)(struct sub_call *c);
};

struct sub_call {
	const struct sub_ops *ops;
	const char *method;          /* "GET", "POST", ... */
	const struct resource *res;
	const char *ns, *name, *sub; /* from the URL; ns "" when cluster-scoped */
};

typedef void (*sub_fn)(void *arg, struct sub_call *c);
/* NULL when ready, else why not (valid until the next call). */
typedef const char *(*check_fn)(void *arg);

struct ready_check {
	char name[32];
	check_fn fn;
	void *arg;
};

/* Serve res/sub with fn (one handler each: a second registration replaces
 * the first); unserve forgets it. */
void registry_serve(struct registry *reg, const struct resource *res, const char *sub,
		    sub_fn fn, void *arg);
void registry_unserve(struct registry *reg, const struct resource *res, const char *sub);
/* The handler of res/sub and its argument, or NULL. */
sub_fn registry_served(const struct registry *reg, const struct resource *res,
		       const char *sub, void **arg);

/* Readiness checks, listed in registration order; a name is added once. */
void registry_check_add(struct registry *reg, const char *name, check_fn fn, void *arg);
void registry_check_del(struct registry *reg, const char *name);
/* The checks and their number. */
const struct ready_check *registry_checks(const struct registry *reg, size_t *n);

#endif
