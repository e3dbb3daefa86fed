/*
 * server/api/subres.c: subresources served by components (serve.h): the
 * struct sub_call a handler gets, and its streamed replies.
 *
 * A stream is a chunked response whose body the handler pushes (write)
 * while MHD pulls it (call_read): with nothing buffered the connection is
 * suspended until the next write or end. libmicrohttpd does not notice a
 * client leaving a suspended connection, so meanwhile the socket is
 * watched for a hang-up (a read that would return 0), as watch.c does.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "common/loop.h"
#include "server/api/internal.h"
#include "server/labkube.h"
#include "server/registry/serve.h"

struct call {
	struct sub_call pub;  /* first: handlers get &pub */
	struct req *r;
	struct api *api;
	struct MHD_Connection *conn;
	struct strbuf buf;    /* written, not yet sent */
	size_t off;
	int fd;               /* the client's socket */
	bool streaming, ended, suspended, hup_off, hup;
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

static struct loop *loop_of(struct call *k)
{
	return k->api->lk->loop;
}

static void on_hup(struct loop *l, int fd, int events, void *arg);

static void wake(struct call *k)
{
	if (!k->suspended)
		return;
	k->suspended = false;
	if (!k->hup_off)
		loop_fd_del(loop_of(k), k->fd);
	MHD_resume_connection(k->conn);
	k->api->resumed = true; /* MHD runs before the loop sleeps */
}

static void on_hup(struct loop *l, int fd, int events, void *arg)
{
	struct call *k = arg;
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		k->hup_off = true; /* the client talks: let MHD read it */
	else
		k->hup = true;     /* gone: the stream ends, gone() runs */
	wake(k);
}

static ssize_t call_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct call *k = cls;
	size_t avail = k->buf.len - k->off;

	if (avail) {
		size_t n = avail < max ? avail : max;
		memcpy(buf, k->buf.buf + k->off, n);
		k->off += n;
		if (k->off == k->buf.len) {
			sb_reset(&k->buf);
			k->off = 0;
		}
		return (ssize_t)n;
	}
	if (k->ended || k->hup)
		return MHD_CONTENT_READER_END_OF_STREAM;
	k->suspended = true;
	if (!k->hup_off && k->fd >= 0)
		loop_fd_add(loop_of(k), k->fd, LOOP_READ, on_hup, k);
	else
		k->hup_off = true;
	MHD_suspend_connection(k->conn);
	return 0;
}

static void call_free(void *cls)
{
	struct call *k = cls;
	if (k->suspended && !k->hup_off)
		loop_fd_del(loop_of(k), k->fd);
	if (!k->ended && k->gone)
		k->gone(k->gone_arg);
	sb_release(&k->buf);
	free(k);
}

static void call_stream(struct sub_call *c, int status, const char *ctype,
			void (*gone)(void *arg), void *arg)
{
	struct call *k = call_of(c);
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(k->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	k->fd = ci ? ci->connect_fd : -1;
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
	struct call *k = call_of(c);
	if (!len)
		return;
	sb_add(&k->buf, buf, len);
	wake(k);
}

static void call_end(struct sub_call *c)
{
	struct call *k = call_of(c);
	k->ended = true;
	wake(k);
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
	k->api = r->api;
	k->conn = r->conn;
	k->fd = -1;
	fn(arg, &k->pub);
	if (!k->streaming)
		free(k);        /* answered whole: the request holds the reply */
	return true;
}
