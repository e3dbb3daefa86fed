/*
 * images/img_http.c: the HTTP/1.1 server every built-in image serves
 * with: non-blocking connections on the image's one loop, keep-alive and
 * pipelining (RFC 9112 §9), Content-Length and chunked request bodies,
 * "Expect: 100-continue", HEAD, idle timeouts, a route table matched like
 * Go's ServeMux, slow handlers in a forked child (HTTP_FORK), and headers
 * shaped like the server the image stands for (Go, Node, nginx, Apache).
 *
 * Request and response helpers and the access logs are in img_http_util.c.
 * Not here: TLS, HTTP/2, request smuggling defences beyond refusing both
 * Content-Length and Transfer-Encoding; these are lab servers.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/loop.h"
#include "images/img.h"

#define MAX_HEAD (64 * 1024)
#define MAX_BODY (64 * 1024 * 1024)
#define MAX_HDRS 100

struct http_srv {
	struct img_srv *srv;
	const struct http_conf *conf;
	int port, fd;
	struct conn *conns;
};

struct conn {
	struct http_srv *hs;
	int fd;
	struct strbuf in, out;
	size_t out_off;
	bool close_after, cont_sent, dead;
	uint64_t last_ms;
	char peer[72], peer_ip[64], peer_raw[64];
	int peer_port;
	struct conn *next;
};

/* One parsed request; fields point into head. */
struct parsed {
	char *head;
	char *method, *target, *proto;
	struct http_hdr hdrs[MAX_HDRS];
	int nhdrs;
	struct strbuf body;
	size_t consumed;
	bool expect;
};

/* ------------------------------------------------------------ connections */

static void conn_free(struct conn *c)
{
	struct http_srv *hs = c->hs;

	for (struct conn **pp = &hs->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	loop_fd_del(img_srv_loop(hs->srv), c->fd);
	close(c->fd);
	sb_release(&c->in);
	sb_release(&c->out);
	free(c);
}

/* Write what is pending; 0 when drained or waiting, -1 when c is gone. */
static int conn_flush(struct conn *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n = write(c->fd, c->out.buf + c->out_off, c->out.len - c->out_off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			loop_fd_mod(img_srv_loop(c->hs->srv), c->fd,
				    c->close_after ? LOOP_WRITE : LOOP_READ | LOOP_WRITE);
			return 0;
		}
		if (n <= 0) {
			conn_free(c);
			return -1;
		}
		c->out_off += (size_t)n;
	}
	sb_reset(&c->out);
	c->out_off = 0;
	if (c->close_after) {
		shutdown(c->fd, SHUT_WR);
		conn_free(c);
		return -1;
	}
	loop_fd_mod(img_srv_loop(c->hs->srv), c->fd, LOOP_READ);
	return 0;
}

/* ----------------------------------------------------------------- parsing */

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

/* The end of the header block (after its empty line), 0 when incomplete. */
static size_t head_end(const char *b, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (b[i] != '\n')
			continue;
		if (b[i + 1] == '\n')
			return i + 2;
		if (b[i + 1] == '\r' && i + 2 < len && b[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

static const char *p_header(const struct parsed *p, const char *name)
{
	for (int i = 0; i < p->nhdrs; i++)
		if (!strcasecmp(p->hdrs[i].name, name))
			return p->hdrs[i].value;
	return NULL;
}

/* Request line and header fields of head (NUL-terminated); an HTTP
 * status on error. */
static int parse_head(struct parsed *p)
{
	char *save = NULL, *line = strtok_r(p->head, "\n", &save);
	char *sp;

	if (!line)
		return 400;
	p->method = line;
	if (!(sp = strchr(line, ' ')))
		return 400;
	*sp = 0;
	p->target = sp + 1;
	if (!(sp = strchr(p->target, ' ')))
		return 400;
	*sp = 0;
	p->proto = trim(sp + 1);
	if (strncmp(p->proto, "HTTP/1.", 7) || !*p->method || !*p->target)
		return strncmp(p->proto, "HTTP/", 5) ? 400 : 505;
	while ((line = strtok_r(NULL, "\n", &save))) {
		char *colon = strchr(line, ':');
		if (!*trim(line))
			break;
		if (!colon || colon == line || strpbrk(line, " \t") < colon)
			return 400;
		if (p->nhdrs == MAX_HDRS)
			return 431;
		*colon = 0;
		p->hdrs[p->nhdrs].name = line;
		p->hdrs[p->nhdrs++].value = trim(colon + 1);
	}
	return 0;
}

/* The trailer section of a chunked body, from off: 1 with *used set when
 * its empty line is there, 0 when incomplete. */
static int trailer(const char *b, size_t len, size_t off, size_t *used)
{
	for (;;) {
		const char *nl = memchr(b + off, '\n', len - off);
		size_t t;
		if (!nl)
			return 0;
		t = (size_t)(nl - b);
		if (t == off || (t == off + 1 && b[off] == '\r')) {
			*used = t + 1;
			return 1;
		}
		off = t + 1;
	}
}

/* Chunked body at b: 1 complete (*used set), 0 incomplete, -1 malformed. */
static int unchunk(const char *b, size_t len, struct strbuf *body, size_t *used)
{
	size_t off = 0;

	for (;;) {
		const char *nl = memchr(b + off, '\n', len - off);
		char *end;
		unsigned long n;
		if (!nl)
			return 0;
		n = strtoul(b + off, &end, 16);
		if (end == b + off || n > MAX_BODY - body->len)
			return -1;
		off = (size_t)(nl - b) + 1;
		if (n == 0)
			return trailer(b, len, off, used);
		if (len - off < n + 1 || (b[off + n] == '\r' && len - off < n + 2))
			return 0;
		sb_add(body, b + off, n);
		off += n + (b[off + n] == '\r');
		if (b[off++] != '\n')
			return -1;
	}
}

/* Body of a parsed head; 1 complete, 0 incomplete, or an HTTP status. */
static int parse_body(struct parsed *p, const char *b, size_t len)
{
	const char *te = p_header(p, "Transfer-Encoding");
	const char *cl = p_header(p, "Content-Length");
	char *end;

	if (te && strcasestr(te, "chunked")) {
		if (cl)
			return 400;
		int rc = unchunk(b, len, &p->body, &p->consumed);
		return rc < 0 ? 400 : rc;
	}
	if (te)
		return 501;
	unsigned long long n = cl ? strtoull(cl, &end, 10) : 0;
	if (cl && (end == cl || *end))
		return 400;
	if (n > MAX_BODY)
		return 413;
	if (len < n)
		return 0;
	sb_add(&p->body, b, (size_t)n);
	p->consumed = (size_t)n;
	return 1;
}

static void parsed_release(struct parsed *p)
{
	free(p->head);
	sb_release(&p->body);
	memset(p, 0, sizeof(*p));
}

/* 1 with a request in p, 0 when more input is needed, else a status. */
static int parse_request(struct conn *c, struct parsed *p)
{
	size_t skip = 0, hend;
	int rc;

	while (skip < c->in.len && (c->in.buf[skip] == '\r' || c->in.buf[skip] == '\n'))
		skip++;
	hend = head_end(c->in.buf + skip, c->in.len - skip);
	if (!hend)
		return c->in.len > MAX_HEAD ? 431 : 0;
	p->head = xstrndup(c->in.buf + skip, hend);
	if ((rc = parse_head(p)) != 0)
		return rc;
	rc = parse_body(p, c->in.buf + skip + hend, c->in.len - skip - hend);
	if (rc == 0) {
		const char *ex = p_header(p, "Expect");
		p->expect = ex && !strcasecmp(ex, "100-continue");
	}
	p->consumed += skip + hend;
	if (!p->body.buf)
		sb_adds(&p->body, "");
	return rc;
}

/* -------------------------------------------------------------- responses */

/* Go's DetectContentType, for the text a built-in writes: an HTML tag
 * from its list, followed by a space or '>', else plain text. */
static const char *go_sniff(const struct strbuf *body)
{
	static const char *const tags[] = {
		"<!DOCTYPE HTML", "<HTML", "<HEAD", "<SCRIPT", "<IFRAME", "<H1",
		"<DIV", "<FONT", "<TABLE", "<A", "<STYLE", "<TITLE", "<B",
		"<BODY", "<BR", "<P", "<!--",
	};
	const char *b = body->buf;

	while (*b == ' ' || *b == '\t' || *b == '\n' || *b == '\r')
		b++;
	for (size_t i = 0; i < ARRAY_SIZE(tags); i++) {
		size_t n = strlen(tags[i]);
		if (!strncasecmp(b, tags[i], n) && (b[n] == ' ' || b[n] == '>'))
			return "text/html; charset=utf-8";
	}
	return "text/plain; charset=utf-8";
}

static bool has_token(const char *list, const char *tok)
{
	size_t n = strlen(tok);

	for (const char *p = list; p && *p;) {
		p += strspn(p, " \t,");
		if (!strncasecmp(p, tok, n) && (!p[n] || strchr(" \t,", p[n])))
			return true;
		p += strcspn(p, ",");
	}
	return false;
}

static const char *conn_header(enum http_flavour f, bool keep, bool http10)
{
	if (f == HTTP_APACHE)
		return keep ? "Keep-Alive: timeout=5, max=100\r\nConnection: Keep-Alive\r\n"
			    : "Connection: close\r\n";
	if (f != HTTP_GO)
		return keep ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
	if (http10)
		return keep ? "Connection: keep-alive\r\n" : "";
	return keep ? "" : "Connection: close\r\n";
}

static void emit(struct strbuf *out, const struct http_conf *cf,
		 struct http_resp *rs, bool keep, bool http10)
{
	const char *ctype = rs->ctype;
	bool nobody = rs->status == 204 || rs->status == 304 || rs->status < 200;
	bool chunked = rs->chunked && !http10 && !nobody;
	char date[32];

	if (!ctype && cf->flavour == HTTP_GO && rs->body.len)
		ctype = go_sniff(&rs->body);
	http_date(time(NULL), date);
	sb_addf(out, "HTTP/1.1 %d %s\r\n", rs->status,
		rs->reason ? rs->reason : http_reason(rs->status));
	if (cf->server)
		sb_addf(out, "Server: %s\r\n", cf->server);
	sb_addf(out, "Date: %s\r\n", date);
	if (ctype)
		sb_addf(out, "Content-Type: %s\r\n", ctype);
	if (chunked)
		sb_adds(out, "Transfer-Encoding: chunked\r\n");
	else if (!nobody && !(rs->chunked && http10))
		sb_addf(out, "Content-Length: %zu\r\n", rs->body.len);
	sb_adds(out, conn_header(cf->flavour, keep, http10));
	if (rs->hdrs.len)
		sb_add(out, rs->hdrs.buf, rs->hdrs.len);
	sb_adds(out, "\r\n");
	if (rs->head_only || nobody)
		return;
	if (chunked && rs->body.len)
		sb_addf(out, "%zx\r\n", rs->body.len);
	sb_add(out, rs->body.buf ? rs->body.buf : "", rs->body.len);
	if (chunked)
		sb_adds(out, rs->body.len ? "\r\n0\r\n\r\n" : "0\r\n\r\n");
}

static void bad_request(struct conn *c, int status)
{
	sb_addf(&c->out, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; "
		"charset=utf-8\r\nConnection: close\r\n\r\n%d %s", status,
		http_reason(status), status, http_reason(status));
	c->close_after = true;
}

/* --------------------------------------------------------------- dispatch */

const struct http_route *http_route_find(const struct http_route *r,
					 const char *path)
{
	const struct http_route *best = NULL;
	size_t blen = 0;

	for (; r && r->path; r++) {
		size_t n = strlen(r->path);
		if (!strcmp(r->path, path))
			return r;
		if (n && r->path[n - 1] == '/' && !strncmp(r->path, path, n) && n > blen) {
			best = r;
			blen = n;
		}
	}
	return best;
}

static void not_found(const struct http_req *rq, struct http_resp *rs, void *arg)
{
	http_go_error(rs, 404, "404 page not found");
}

static void fill_req(struct http_req *rq, struct parsed *p, struct conn *c)
{
	const char *t = p->target, *q;

	if (!strncasecmp(t, "http://", 7) && (q = strchr(t + 7, '/')))
		t = q;
	q = strchr(t, '?');
	memset(rq, 0, sizeof(*rq));
	rq->method = p->method;
	rq->target = p->target;
	rq->path = http_unescape(t, q ? (size_t)(q - t) : strlen(t), false);
	rq->query = q ? q + 1 : "";
	rq->proto = p->proto;
	rq->hdrs = p->hdrs;
	rq->nhdrs = p->nhdrs;
	rq->host = p_header(p, "Host") ? p_header(p, "Host") : "";
	rq->body = p->body.buf;
	rq->body_len = p->body.len;
	rq->peer = c->peer;
	rq->peer_ip = c->peer_ip;
	rq->peer_raw = c->peer_raw;
	rq->peer_port = c->peer_port;
	rq->local_port = c->hs->port;
	rq->start_us = lk_now_us();
}

static void run_handler(struct http_srv *hs, const struct http_route *rt,
			const struct http_req *rq, struct http_resp *rs)
{
	memset(rs, 0, sizeof(*rs));
	rs->status = 200;
	rs->head_only = !strcmp(rq->method, "HEAD");
	(rt ? rt->fn : not_found)(rq, rs, hs->conf->arg);
}

static void finish(struct conn *c, const struct http_req *rq,
		   struct http_resp *rs, bool keep)
{
	const struct http_conf *cf = c->hs->conf;

	keep = keep && !rs->close;
	emit(&c->out, cf, rs, keep, !strcmp(rq->proto, "HTTP/1.0"));
	if (!keep || (rs->chunked && !strcmp(rq->proto, "HTTP/1.0")))
		c->close_after = true;
	if (cf->log)
		cf->log(rq, rs, cf->arg);
	sb_release(&rs->hdrs);
	sb_release(&rs->body);
}

/* A slow handler runs in a child that answers and exits; the parent
 * forgets the connection. */
static bool fork_handler(struct conn *c, const struct http_route *rt,
			 const struct http_req *rq)
{
	struct http_resp rs;
	sigset_t none;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return false;
	if (pid > 0) {
		c->dead = true;
		return true;
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) & ~O_NONBLOCK);
	run_handler(c->hs, rt, rq, &rs);
	finish(c, rq, &rs, false);
	for (size_t off = c->out_off; off < c->out.len;) {
		ssize_t n = write(c->fd, c->out.buf + off, c->out.len - off);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	fflush(stdout);
	shutdown(c->fd, SHUT_WR);
	_exit(0);
}

static void handle(struct conn *c, struct parsed *p)
{
	const struct http_conf *cf = c->hs->conf;
	struct http_req rq;
	struct http_resp rs;
	const struct http_route *rt;
	const char *conn;
	bool keep;

	fill_req(&rq, p, c);
	conn = p_header(p, "Connection");
	keep = strcmp(p->proto, "HTTP/1.0") ? !has_token(conn, "close")
					    : has_token(conn, "keep-alive");
	rt = http_route_find(cf->routes, rq.path);
	if (rt && (rt->flags & HTTP_FORK) && fork_handler(c, rt, &rq)) {
		free((char *)rq.path);
		return;
	}
	run_handler(c->hs, rt, &rq, &rs);
	finish(c, &rq, &rs, keep);
	free((char *)rq.path);
}

/* Serve every complete request in c->in; 0, or -1 when c is gone. */
static int serve_input(struct conn *c)
{
	while (!c->close_after && !c->dead) {
		struct parsed p = { 0 };
		int rc = parse_request(c, &p);
		if (rc == 0 && p.expect && !c->cont_sent) {
			sb_adds(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
			c->cont_sent = true;
		}
		if (rc > 1)
			bad_request(c, rc);
		if (rc == 1) {
			c->cont_sent = false;
			handle(c, &p);
			memmove(c->in.buf, c->in.buf + p.consumed, c->in.len - p.consumed);
			c->in.len -= p.consumed;
			c->in.buf[c->in.len] = 0;
		}
		parsed_release(&p);
		if (rc != 1)
			break;
	}
	if (c->dead) {
		conn_free(c);
		return -1;
	}
	return conn_flush(c);
}

static void on_conn(struct loop *l, int fd, int events, void *arg)
{
	struct conn *c = arg;
	char buf[16384];
	ssize_t n;
	bool eof;

	c->last_ms = lk_now_ms();
	if ((events & LOOP_WRITE) && conn_flush(c) < 0)
		return;
	if (!(events & LOOP_READ))
		return;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		sb_add(&c->in, buf, (size_t)n);
		if (c->in.len > MAX_HEAD + MAX_BODY)
			break;
	}
	eof = n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
	if (c->in.len && serve_input(c) < 0)
		return;
	if (eof) {
		/* the peer is done sending: answer what it sent, then close */
		c->close_after = true;
		if (c->out_off >= c->out.len)
			conn_free(c);
	}
}

static void on_listen(struct loop *l, int lfd, int events, void *arg)
{
	struct http_srv *hs = arg;
	struct sockaddr_storage peer;

	for (;;) {
		socklen_t plen = sizeof(peer);
		int fd = accept4(lfd, (struct sockaddr *)&peer, &plen,
				 SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		struct conn *c = xcalloc(1, sizeof(*c));
		c->hs = hs;
		c->fd = fd;
		c->last_ms = lk_now_ms();
		img_addr((struct sockaddr *)&peer, c->peer_ip, &c->peer_port, false);
		img_addr((struct sockaddr *)&peer, c->peer_raw, &c->peer_port, true);
		img_hostport((struct sockaddr *)&peer, c->peer);
		c->next = hs->conns;
		hs->conns = c;
		loop_fd_add(l, fd, LOOP_READ, on_conn, c);
	}
}

/* Close connections idle past the keep-alive timeout. */
static int64_t sweep(struct loop *l, void *arg)
{
	struct http_srv *hs = arg;
	int idle = hs->conf->idle_sec > 0 ? hs->conf->idle_sec : 120;
	uint64_t now = lk_now_ms();
	struct conn *c = hs->conns, *next;

	for (; c; c = next) {
		next = c->next;
		if (c->out.len == 0 && now - c->last_ms > (uint64_t)idle * 1000)
			conn_free(c);
	}
	return 1000;
}

static void http_srv_free(void *p)
{
	struct http_srv *hs = p;

	while (hs->conns)
		conn_free(hs->conns);
	close(hs->fd);
	free(hs);
}

int img_srv_http(struct img_srv *s, const char *host, int port,
		 const struct http_conf *conf)
{
	struct http_srv *hs;
	int fd = img_listen(SOCK_STREAM, host, port);

	if (fd < 0)
		return -1;
	hs = xcalloc(1, sizeof(*hs));
	hs->srv = s;
	hs->conf = conf;
	hs->port = port;
	hs->fd = fd;
	img_srv_own(s, hs, http_srv_free);
	loop_fd_add(img_srv_loop(s), fd, LOOP_READ, on_listen, hs);
	loop_timer_add(img_srv_loop(s), 1000, sweep, hs);
	return 0;
}

static void listen_error(const char *host, int port, enum http_flavour f, int err)
{
	const char *h = host && *host ? host : "";

	switch (f) {
	case HTTP_NODE:
		fprintf(stderr, "Error: listen %s: %s %s:%d\n",
			err == EADDRINUSE ? "EADDRINUSE" : "EACCES",
			err == EADDRINUSE ? "address already in use" : "permission denied",
			*h ? h : "::", port);
		break;
	case HTTP_NGINX:
		fprintf(stderr, "nginx: [emerg] bind() to %s:%d failed (%d: %s)\n",
			*h ? h : "0.0.0.0", port, err, strerror(err));
		break;
	case HTTP_APACHE:
		fprintf(stderr, "(%d)%s: AH00072: make_sock: could not bind to "
			"address [::]:%d\nno listening sockets available, shutting "
			"down\n", err, strerror(err), port);
		break;
	default:
		img_golog("listen tcp %s:%d: bind: %s", h, port, img_errstr(err));
	}
}

int img_http_main(const char *host, int port, const struct http_conf *conf,
		  img_signal_fn on_signal, void *arg)
{
	struct img_srv *s = img_srv_new(0);
	int rc = 1;

	if (img_srv_http(s, host, port, conf) < 0)
		listen_error(host, port, conf->flavour, errno);
	else {
		img_srv_on_signal(s, on_signal, arg);
		rc = img_srv_run(s);
	}
	img_srv_free(s);
	return rc;
}

