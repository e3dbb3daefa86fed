/*
 * server/api/subres.c: subresources served by components (serve.h): the
 * struct sub_call a handler gets, and its streamed replies (an hstream,
 * http.c).
 */
#include <string.h>

#include "server/api/internal.h"
#include "server/labkube.h"
#include "server/registry/serve.h"

struct call {
	struct sub_call pub;  /* first: handlers get &pub */
	struct req *r;
	struct hstream hs;    /* a streamed reply */
	bool streaming;
	void (*gone)(void *arg);
	void *gone_arg;
};

static struct call *call_of(struct sub_call *c)
{
	return (struct call *)c;
}

static const char *call_arg(struct sub_call *c, const char *key)
{
	return req_arg(call_of(c)->r, key);
}

static bool call_arg_bool(struct sub_call *c, const char *key)
{
	return req_arg_bool(call_of(c)->r, key);
}

static void call_reply(struct sub_call *c, int status, const char *ctype, char *body, size_t len)
{
	reply_bytes(call_of(c)->r, status, ctype, body, len);
}

static void call_reply_err(struct sub_call *c, struct lk_err *err)
{
	reply_err(call_of(c)->r, err);
}

static ssize_t call_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	return hstream_read(&((struct call *)cls)->hs, buf, max);
}

static void call_free(void *cls)
{
	struct call *k = cls;
	if (!k->hs.ended && k->gone)
		k->gone(k->gone_arg);
	hstream_release(&k->hs);
	free(k);
}

static void call_stream(struct sub_call *c, int status, const char *ctype,
			void (*gone)(void *arg), void *arg)
{
	struct call *k = call_of(c);
	hstream_init(&k->hs, k->r);
	k->streaming = true;
	k->gone = gone;
	k->gone_arg = arg;
	k->r->reply.status = status;
	k->r->reply.ctype = ctype;
	k->r->stream_read = call_read;
	k->r->stream_free = call_free;
	k->r->stream = k;
}

static void call_write(struct sub_call *c, const char *buf, size_t len)
{
	if (len)
		hstream_write(&call_of(c)->hs, buf, len);
}

static void call_end(struct sub_call *c)
{
	hstream_end(&call_of(c)->hs);
}

static const struct sub_ops ops = {
	.arg = call_arg,
	.arg_bool = call_arg_bool,
	.reply = call_reply,
	.reply_err = call_reply_err,
	.stream = call_stream,
	.write = call_write,
	.end = call_end,
};

bool api_subresource(struct req *r, struct rurl *u)
{
	void *arg;
	sub_fn fn = registry_served(r->api->lk->reg, u->res, u->sub, &arg);
	struct call *k;

	if (!fn)
		return false;
	k = xcalloc(1, sizeof(*k));
	k->pub = (struct sub_call){ &ops, r->method, u->res, u->ns, u->name, u->sub };
	k->r = r;
	fn(arg, &k->pub);
	if (!k->streaming)
		free(k);        /* answered whole: the request holds the reply */
	return true;
}
