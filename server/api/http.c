/*
 * server/api/http.c: libmicrohttpd glue. MHD runs in external-epoll mode:
 * its epoll fd sits in the loop, MHD_run() is called when it is readable,
 * and its timeout caps the loop's sleep. Handlers run once the body is in;
 * replies wait for the store's group commit (see internal.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "common/ip.h"
#include "common/loop.h"
#include "server/api/api.h"
#include "server/api/internal.h"
#include "server/labkube.h"
#include "server/store/store.h"

const char *req_arg(struct req *r, const char *key)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

/* A media type match, ignoring case and parameters (";charset=..."). */
bool ctype_is(const char *ct, const char *want)
{
	size_t n = strlen(want);
	return ct && !strncasecmp(ct, want, n) && (!ct[n] || ct[n] == ';' || ct[n] == ' ');
}

/* Go's strconv.ParseBool truths, as upstream reads query booleans. */
bool req_arg_bool(struct req *r, const char *key)
{
	static const char *const truths[] = { "1", "t", "T", "true", "TRUE", "True" };
	const char *v = req_arg(r, key);
	for (size_t i = 0; v && i < ARRAY_SIZE(truths); i++)
		if (!strcmp(v, truths[i]))
			return true;
	return false;
}

struct arg_walk {
	const char *key;
	const char **out;
	size_t n, max;
};

static enum MHD_Result arg_one(void *cls, enum MHD_ValueKind kind, const char *key,
			       const char *value)
{
	struct arg_walk *w = cls;
	if (!strcmp(key, w->key)) {
		if (w->n < w->max)
			w->out[w->n] = value ? value : "";
		w->n++;
	}
	return MHD_YES;
}

size_t req_arg_all(struct req *r, const char *key, const char **out, size_t max)
{
	struct arg_walk w = { key, out, 0, max };
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, arg_one, &w);
	return w.n;
}

const char *req_header(struct req *r, const char *key)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, key);
}

void reply_bytes(struct req *r, int status, const char *ctype, char *buf, size_t len)
{
	free(r->reply.body);
	r->reply.status = status;
	r->reply.ctype = ctype;
	r->reply.body = buf;
	r->reply.len = len;
}

void reply_text(struct req *r, int status, const char *ctype, const char *text)
{
	reply_bytes(r, status, ctype, xstrdup(text), strlen(text));
}

void reply_json_ctype(struct req *r, int status, const char *ctype, cJSON *obj)
{
	char *s = jprint(obj);
	cJSON_Delete(obj);
	reply_bytes(r, status, ctype, s, strlen(s));
}

void reply_json(struct req *r, int status, cJSON *obj)
{
	reply_json_ctype(r, status, "application/json", obj);
}

void reply_err(struct req *r, struct lk_err *err)
{
	if (err->code == LK_OK)
		lk_error(err, LK_EINTERNAL, "internal error");
	reply_json(r, lk_err_http(err->code), lk_err_status(err));
	lk_err_clear(err);
}

void reply_status(struct req *r, enum lk_code code, const char *fmt, ...)
{
	struct lk_err err = { 0 };
	va_list ap;
	err.code = code;
	va_start(ap, fmt);
	vsnprintf(err.msg, sizeof(err.msg), fmt, ap);
	va_end(ap);
	reply_err(r, &err);
}

void http_suspend(struct req *r)
{
	MHD_suspend_connection(r->conn);
}

void http_resume(struct req *r)
{
	MHD_resume_connection(r->conn);
}

/* ---- streams (internal.h) ---- */

void hstream_init(struct hstream *s, struct req *r)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	memset(s, 0, sizeof(*s));
	s->api = r->api;
	s->conn = r->conn;
	s->fd = ci ? ci->connect_fd : -1;
}

static void hstream_wake(struct hstream *s)
{
	if (!s->suspended)
		return;
	s->suspended = false;
	if (!s->hup_off)
		loop_fd_del(s->api->lk->loop, s->fd);
	MHD_resume_connection(s->conn);
	s->api->resumed = true; /* MHD runs before the loop sleeps */
}

static void hstream_hup(struct loop *l, int fd, int events, void *arg)
{
	struct hstream *s = arg;
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		s->hup_off = true; /* the client talks: let MHD read it */
	else
		s->gone = true;
	hstream_wake(s);
}

void hstream_write(struct hstream *s, const char *buf, size_t len)
{
	sb_add(&s->buf, buf, len);
	hstream_wake(s);
}

void hstream_end(struct hstream *s)
{
	s->ended = true;
	hstream_wake(s);
}

ssize_t hstream_read(struct hstream *s, char *buf, size_t max)
{
	size_t avail = s->buf.len - s->off;

	if (avail) {
		size_t n = avail < max ? avail : max;
		memcpy(buf, s->buf.buf + s->off, n);
		s->off += n;
		if (s->off == s->buf.len) {
			sb_reset(&s->buf);
			s->off = 0;
		}
		return (ssize_t)n;
	}
	if (s->ended || s->gone)
		return MHD_CONTENT_READER_END_OF_STREAM;
	s->suspended = true;
	if (s->fd < 0)
		s->hup_off = true;
	if (!s->hup_off)
		loop_fd_add(s->api->lk->loop, s->fd, LOOP_READ, hstream_hup, s);
	MHD_suspend_connection(s->conn);
	return 0;
}

void hstream_release(struct hstream *s)
{
	if (s->suspended && !s->hup_off)
		loop_fd_del(s->api->lk->loop, s->fd);
	s->suspended = false;
	sb_release(&s->buf);
}

static enum MHD_Result queue_reply(struct req *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (r->watch) {
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384,
							 watch_read, r->watch,
							 watch_free_cb);
		r->watch = NULL; /* the response owns it now */
	} else if (r->stream_read) {
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384,
							 r->stream_read, r->stream,
							 r->stream_free);
		r->stream = NULL;
	} else {
		resp = MHD_create_response_from_buffer(r->reply.len, r->reply.body,
						       MHD_RESPMEM_MUST_FREE);
		r->reply.body = NULL;
	}
	if (!resp)
		return MHD_NO;
	if (r->reply.ctype)
		MHD_add_response_header(resp, "Content-Type", r->reply.ctype);
	MHD_add_response_header(resp, "Cache-Control", "no-cache, private");
	for (char *line = r->reply.headers.buf, *nl; line && *line; line = nl + 1) {
		nl = strchr(line, '\n');
		char *colon = strchr(line, ':');
		if (!nl || !colon)
			break;
		*nl = 0;
		*colon = 0;
		MHD_add_response_header(resp, line, colon + 2);
	}
	ret = MHD_queue_response(r->conn, (unsigned)r->reply.status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct api *api = cls;
	struct req *r = *con_cls;

	if (!r) {
		r = xcalloc(1, sizeof(*r));
		r->api = api;
		r->conn = conn;
		r->method = method;
		r->path = xstrdup(url);
		*con_cls = r;
		return MHD_YES;
	}
	if (*upload_size) {
		if (r->body.len + *upload_size > MAX_BODY)
			r->too_large = true;
		else
			sb_add(&r->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (!r->handled) {
		r->handled = true;
		if (r->too_large)
			reply_status(r, LK_ETOOLARGE, "Request entity too large: limit is %d",
				     MAX_BODY);
		else
			api_route(r);
		if (store_dirty(api->lk->store)) {
			r->deferred = true;
			r->next_deferred = api->deferred;
			api->deferred = r;
			MHD_suspend_connection(conn);
			return MHD_YES;
		}
	}
	return queue_reply(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct req *r = *con_cls;
	if (!r)
		return;
	if (r->watch)
		watch_free_cb(r->watch);
	if (r->stream && r->stream_free)
		r->stream_free(r->stream);
	free(r->path);
	sb_release(&r->body);
	free(r->reply.body);
	sb_release(&r->reply.headers);
	free(r);
	*con_cls = NULL;
}

/* Before sleeping: commit the group, release the replies that waited for
 * it, and run MHD while it has work that no fd event will announce
 * (resumed connections, data it already read): its timeout says so. */
static void before_sleep(struct loop *l, void *arg)
{
	struct api *api = arg;
	struct lk_err err = { 0 };
	MHD_UNSIGNED_LONG_LONG to;
	bool run = api->resumed;

	if (store_dirty(api->lk->store) && store_commit(api->lk->store, &err) < 0) {
		lk_log("api: commit failed: %s", err.msg);
		lk_err_clear(&err);
		for (struct req *r = api->deferred; r; r = r->next_deferred)
			reply_status(r, LK_EINTERNAL, "storage commit failed");
	}
	while (api->deferred) {
		struct req *r = api->deferred;
		api->deferred = r->next_deferred;
		r->deferred = false;
		MHD_resume_connection(r->conn);
		run = true;
	}
	for (int i = 0; i < 8; i++) {
		if (!run && (MHD_get_timeout(api->mhd, &to) != MHD_YES || to != 0))
			break;
		api->resumed = false;
		MHD_run(api->mhd);
		run = api->resumed;
	}
	if (MHD_get_timeout(api->mhd, &to) == MHD_YES)
		loop_wake_within(l, (int64_t)to);
	/* Handlers or subscribers wrote meanwhile: commit them soon. */
	if (store_dirty(api->lk->store) || api->deferred)
		loop_wake_within(l, 0);
}

static void on_mhd(struct loop *l, int fd, int events, void *arg)
{
	struct api *api = arg;
	MHD_run(api->mhd);
}

static int parse_listen(const char *listen, struct sockaddr_in *sa, struct lk_err *err)
{
	char host[64];
	const char *colon = strrchr(listen, ':');
	uint32_t ip;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (!colon || (size_t)(colon - listen) >= sizeof(host))
		return lk_error(err, LK_EBADREQUEST, "bad --listen '%s': want ADDR:PORT", listen);
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = 0;
	int port = atoi(colon + 1);
	if (port <= 0 || port > 65535 || lk_ip4_parse(host, &ip) < 0)
		return lk_error(err, LK_EBADREQUEST, "bad --listen '%s': want ADDR:PORT", listen);
	sa->sin_addr.s_addr = htonl(ip);
	sa->sin_port = htons((uint16_t)port);
	return 0;
}

/* The API's listening socket, opened here rather than by MHD so that a
 * failure names the address with the bind's own errno. SO_REUSEADDR only:
 * a restart binds again while the last run's connections sit in TIME_WAIT,
 * but a port some process listens on is refused (EADDRINUSE). Never
 * SO_REUSEPORT (what MHD_OPTION_LISTENING_ADDRESS_REUSE 1 sets on Linux):
 * with it a second server would bind the same address and the kernel would
 * split kubectl's connections between two clusters. */
static int listen_socket(const struct sockaddr_in *sa, const char *text, struct lk_err *err)
{
	int one = 1, e;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return lk_error(err, LK_EINTERNAL, "cannot listen on %s: %s", text,
				strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 ||
	    listen(fd, SOMAXCONN) < 0) {
		e = errno;
		close(fd);
		return lk_error(err, LK_EINTERNAL, "cannot listen on %s: %s", text, strerror(e));
	}
	return fd;
}

struct api *api_new(struct labkube *lk, struct lk_err *err)
{
	struct api *api = xcalloc(1, sizeof(*api));
	struct sockaddr_in sa;
	int fd;

	api->lk = lk;
	if (parse_listen(lk->cfg.listen, &sa, err) < 0 ||
	    (fd = listen_socket(&sa, lk->cfg.listen, err)) < 0)
		goto fail;
	/* MHD owns fd once started (MHD_stop_daemon closes it), not before. */
	api->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
				    MHD_USE_ERROR_LOG,
				    0, NULL, NULL, on_request, api,
				    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
				    MHD_OPTION_NOTIFY_COMPLETED, on_completed, api,
				    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024,
				    MHD_OPTION_CONNECTION_LIMIT, (unsigned)4000,
				    MHD_OPTION_END);
	if (!api->mhd) {
		lk_error(err, LK_EINTERNAL, "cannot serve on %s: %s", lk->cfg.listen,
			 strerror(errno));
		close(fd);
		goto fail;
	}
	const union MHD_DaemonInfo *info =
		MHD_get_daemon_info(api->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	api->mhd_epfd = info->epoll_fd;
	loop_fd_add(lk->loop, api->mhd_epfd, LOOP_READ, on_mhd, api);
	loop_before_sleep(lk->loop, before_sleep, api);
	return api;
fail:
	api_free(api);
	return NULL;
}

void api_free(struct api *api)
{
	if (!api)
		return;
	if (api->mhd) {
		watch_close_all(api);
		while (api->deferred) {
			struct req *r = api->deferred;
			api->deferred = r->next_deferred;
			MHD_resume_connection(r->conn);
		}
		MHD_run(api->mhd);
		loop_fd_del(api->lk->loop, api->mhd_epfd);
		MHD_stop_daemon(api->mhd);
	}
	free(api->openapi_v2);
	free(api);
}
