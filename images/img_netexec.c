/*
 * images/img_netexec.c: `agnhost netexec`, the conformance tests'
 * workhorse (test/images/agnhost/netexec/netexec.go): an HTTP server on
 * --http-port (8080) with /, /clientip, /header, /dial, /echo, /exit,
 * /healthz, /readyz, /hostname, /hostName, /redirect, /shell, /upload and
 * /shutdown, and a UDP server on --udp-port (8081, -1 for none) answering
 * "hostname", "echo <msg>" and "clientip". --http-override serves every
 * request as a GET of one path; --delay-shutdown keeps serving (with
 * /readyz 503) for that many seconds after SIGTERM.
 *
 * /dial and /shell block (upstream runs them in goroutines): they run in a
 * forked child so the server keeps answering. Responses and log lines are
 * upstream's, including its quirks (/dial omits "responses" when the last
 * try failed; /healthz is 412 without a UDP server). Not supported: TLS
 * (--tls-cert-file serves plain HTTP, with a log line) and SCTP.
 */
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/ip.h"
#include "common/loop.h"
#include "images/img.h"

static struct {
	int http_port, udp_port, sctp_port, delay_shutdown;
	const char *cert, *key, *override, *udp_addrs;
} opt = { 8080, 8081, -1, 0, "", "", "", "" };

static struct img_srv *srv;
static bool ready, sigterm;

static const char *hostname(void)
{
	img_golog("hostname: %s", img_hostname());
	return img_hostname();
}

/* A form value, "" when absent; the caller frees. */
static char *form(const struct http_req *rq, const char *key)
{
	char *v = http_form(rq, key);
	return v ? v : xstrdup("");
}

/* ------------------------------------------------------------- handlers */

static void nx_root(const struct http_req *rq, struct http_resp *rs, void *arg)
{
	char now[96];

	img_golog("GET /");
	img_go_now(now, sizeof(now));
	http_printf(rs, "NOW: %s", now);
}

static void nx_clientip(const struct http_req *rq, struct http_resp *rs, void *arg)
{
	img_golog("GET /clientip");
	http_printf(rs, "%s", rq->peer);
}

static void nx_hostname(const struct http_req *rq, struct http_resp *rs, void *arg)
{
	img_golog("GET %s", rq->path);
	http_printf(rs, "%s", hostname());
}

static void nx_healthz(const struct http_req *rq, struct http_resp *rs, void *arg)
{
	img_golog("GET /healthz");
	rs->status = ready ? 200 : 412;
}

static void nx_readyz(const struct http_req *rq, struct http_resp *rs, void *arg)
{
	img_golog("GET /readyz");
	if (sigterm) {
		rs->status = 503;
		http_printf(rs, "shutting down");
	} else if (ready) {
		http_printf(rs, "ok");
	} else {
		rs->status = 412;
	}
}

static void nx_shutdown(const struct http_req *rq, struct http_resp *rs, void *arg)
{
	img_golog("GET /shutdown");
	exit(0);
}

/* strconv.Atoi; false when s is not an integer. */
static bool atoi_go(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < INT32_MIN || v > INT32_MAX)
		return false;
	*out = (int)v;
	return true;
}

static void nx_echo(const struct http_req *rq, struct http_resp *rs, void *arg)
{
	char *msg = form(rq, "msg"), *code = form(rq, "code");
	int c;

	img_golog("GET /echo?msg=%s&code=%s", msg, code);
	if (*code && !atoi_go(code, &c)) {
		struct strbuf q = STRBUF_INIT;
		img_go_quote(&q, code);
		http_printf(rs, "argument 'code' must be an integer or empty, got %s\n", q.buf);
		sb_release(&q);
	} else {
		if (*code)
			rs->status = c;
		http_printf(rs, "%s", msg);
	}
	free(msg);
	free(code);
}

static void nx_redirect(const struct http_req *rq, struct http_resp *rs, void *arg)
{
	char *loc = form(rq, "location"), *code = form(rq, "code");
	int c = 302;

	img_golog("%s /redirect?msg=%s&code=%s", rq->method, loc, code);
	if (*code && !atoi_go(code, &c)) {
		struct strbuf q = STRBUF_INIT;
		img_go_quote(&q, code);
		http_printf(rs, "argument 'code' must be an integer or empty, got %s\n", q.buf);
		sb_release(&q);
	} else {
		http_go_redirect(rq, rs, loc, c);
	}
	free(loc);
	free(code);
}

static void nx_header(const struct http_req *rq, struct http_resp *rs, void *arg);
static void nx_exit(const struct http_req *rq, struct http_resp *rs, void *arg);
static void nx_dial(const struct http_req *rq, struct http_resp *rs, void *arg);
static void nx_shell(const struct http_req *rq, struct http_resp *rs, void *arg);
static void nx_upload(const struct http_req *rq, struct http_resp *rs, void *arg);

static const struct http_route nx_routes[] = {
	{ "/", nx_root, 0 },
	{ "/clientip", nx_clientip, 0 },
	{ "/header", nx_header, 0 },
	{ "/dial", nx_dial, HTTP_FORK },
	{ "/echo", nx_echo, 0 },
	{ "/exit", nx_exit, 0 },
	{ "/healthz", nx_healthz, 0 },
	{ "/readyz", nx_readyz, 0 },
	{ "/hostname", nx_hostname, 0 },
	{ "/redirect", nx_redirect, 0 },
	{ "/shell", nx_shell, HTTP_FORK },
	{ "/upload", nx_upload, 0 },
	{ "/hostName", nx_hostname, 0 },
	{ "/shutdown", nx_shutdown, 0 },
	{ NULL, NULL, 0 },
};

/* ---------------------------------------------------------------- /header */

/* Go's CanonicalMIMEHeaderKey: "user-agent" → "User-Agent". */
static char *canon(const char *name)
{
	char *c = xstrdup(name);
	bool up = true;

	for (char *p = c; *p; p++) {
		*p = (char)(up ? toupper((unsigned char)*p) : tolower((unsigned char)*p));
		up = *p == '-';
	}
	return c;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* json.Marshal(r.Header): sorted keys, each a list of values; no Host. */
static void headers_json(const struct http_req *rq, struct strbuf *out)
{
	char **names = xcalloc((size_t)rq->nhdrs + 1, sizeof(*names));
	int n = 0;

	for (int i = 0; i < rq->nhdrs; i++) {
		char *c = canon(rq->hdrs[i].name);
		bool dup = !strcmp(c, "Host");
		for (int j = 0; j < n && !dup; j++)
			dup = !strcmp(names[j], c);
		if (dup)
			free(c);
		else
			names[n++] = c;
	}
	qsort(names, (size_t)n, sizeof(*names), cmp_str);
	sb_addc(out, '{');
	for (int j = 0; j < n; j++) {
		int k = 0;
		img_json_str(out, names[j]);
		sb_adds(out, ":[");
		for (int i = 0; i < rq->nhdrs; i++)
			if (!strcasecmp(rq->hdrs[i].name, names[j])) {
				sb_adds(out, k++ ? "," : "");
				img_json_str(out, rq->hdrs[i].value);
			}
		sb_adds(out, j + 1 < n ? "]," : "]");
		free(names[j]);
	}
	sb_addc(out, '}');
	free(names);
}

static void nx_header(const struct http_req *rq, struct http_resp *rs, void *arg)
{
	char *key = form(rq, "key");
	const char *v;

	if (*key) {
		img_golog("GET /header?key=%s", key);
		v = http_header(rq, key);
		http_printf(rs, "%s", v ? v : "");
	} else {
		img_golog("GET /header");
		headers_json(rq, &rs->body);
	}
	free(key);
}

/* ------------------------------------------------------------------ /exit */

static int64_t exit_later(struct loop *l, void *arg)
{
	img_golog("Graceful shutdown completed with: <nil>");
	img_srv_exit(srv, (int)(intptr_t)arg);
	return -1;
}

static bool dur_arg(struct http_resp *rs, const char *name, const char *v,
		    int64_t *ns)
{
	struct strbuf q = STRBUF_INIT;

	*ns = 0;
	if (!*v || img_parse_duration(v, ns) == 0)
		return true;
	img_go_quote(&q, v);
	http_printf(rs, "argument '%s' must be a valid golang duration or empty, "
		    "got %s\n", name, q.buf);
	sb_release(&q);
	return false;
}

static void nx_exit(const struct http_req *rq, struct http_resp *rs, void *arg)
{
	char *ws = form(rq, "wait"), *ts = form(rq, "timeout"), *cs = form(rq, "code");
	char wd[32], td[32];
	int64_t wait, timeout;
	int code = 0;

	img_golog("GET /exit?code=%s&timeout=%s&wait=%s", cs, ts, ws);
	if (!dur_arg(rs, "timeout", ts, &timeout) || !dur_arg(rs, "wait", ws, &wait))
		goto out;
	if (*cs && !atoi_go(cs, &code)) {
		struct strbuf q = STRBUF_INIT;
		img_go_quote(&q, cs);
		http_printf(rs, "argument 'code' must be an integer [0-127] or empty, "
			    "got %s\n", q.buf);
		sb_release(&q);
		goto out;
	}
	img_go_duration(wait, wd, sizeof(wd));
	img_go_duration(timeout, td, sizeof(td));
	img_golog("Will begin shutdown in %s, allowing %s for connections to close, "
		  "then will exit with %d", wd, td, code);
	if (wait > 0)
		usleep((useconds_t)(wait / 1000));
	if (timeout == 0) {
		fflush(stdout);
		exit(code);
	}
	rs->close = true; /* the server shuts down once this is answered */
	loop_timer_add(img_srv_loop(srv), 50, exit_later, (void *)(intptr_t)code);
out:
	free(ws);
	free(ts);
	free(cs);
}

/* ------------------------------------------------------------------ /dial */

static int dial_http(const struct addrinfo *ai, const char *request,
		     struct strbuf *resp, struct strbuf *err)
{
	char hp[72];

	img_hostport(ai->ai_addr, hp);
	return http_get(ai->ai_addr, ai->ai_addrlen, hp, request, 5000, resp, err);
}

static int dial_udp(const struct addrinfo *ai, const char *request,
		    struct strbuf *resp, struct strbuf *err)
{
	struct timeval tv = { .tv_sec = 5 };
	struct sockaddr_storage local;
	socklen_t llen = sizeof(local);
	char buf[2048], hp[72], lp[72];
	int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ssize_t n;

	img_hostport(ai->ai_addr, hp);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		sb_addf(err, "udp dial failed. err:dial udp %s: %s", hp, img_errstr(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	getsockname(fd, (struct sockaddr *)&local, &llen);
	img_hostport((struct sockaddr *)&local, lp);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (send(fd, request, strlen(request), 0) < 0) {
		sb_addf(err, "udp connection write failed. err:write udp %s->%s: %s",
			lp, hp, img_errstr(errno));
	} else if ((n = recv(fd, buf, sizeof(buf), 0)) <= 0) {
		sb_addf(err, "reading from udp connection failed. err:'read udp %s->%s: "
			"%s'", lp, hp, n == 0 ? "EOF" : errno == EAGAIN ? "i/o timeout"
							: img_errstr(errno));
	} else {
		sb_add(resp, buf, (size_t)n);
	}
	close(fd);
	return err->len ? -1 : 0;
}

/* {"errors":[...],"responses":[...]} as json.Marshal of a map sorts it. */
static void dial_json(struct strbuf *out, char **resps, int nr, char **errs,
		      int ne, bool last_ok)
{
	sb_addc(out, '{');
	if (ne) {
		sb_adds(out, "\"errors\":[");
		for (int i = 0; i < ne; i++) {
			sb_adds(out, i ? "," : "");
			img_json_str(out, errs[i]);
		}
		sb_addc(out, ']');
	}
	if (last_ok) {
		sb_adds(out, ne ? ",\"responses\":[" : "\"responses\":[");
		for (int i = 0; i < nr; i++) {
			sb_adds(out, i ? "," : "");
			img_json_str(out, resps[i]);
		}
		sb_addc(out, ']');
	}
	sb_addc(out, '}');
}

static void dial_run(struct http_resp *rs, const struct addrinfo *ai, bool udp,
		     const char *request, int tries)
{
	char **resps = xcalloc((size_t)tries + 1, sizeof(char *));
	char **errs = xcalloc((size_t)tries + 1, sizeof(char *));
	int nr = 0, ne = 0;
	bool last_ok = false;

	for (int i = 0; i < tries; i++) {
		struct strbuf r = STRBUF_INIT, e = STRBUF_INIT;
		int rc = (udp ? dial_udp : dial_http)(ai, request, &r, &e);
		if (rc == 0)
			resps[nr++] = sb_detach(&r, NULL);
		else
			errs[ne++] = sb_detach(&e, NULL);
		last_ok = rc == 0 && resps[nr - 1][0];
		sb_release(&r);
		sb_release(&e);
	}
	dial_json(&rs->body, resps, nr, errs, ne, last_ok);
	for (int i = 0; i < nr; i++)
		free(resps[i]);
	for (int i = 0; i < ne; i++)
		free(errs[i]);
	free(resps);
	free(errs);
}

static void nx_dial(const struct http_req *rq, struct http_resp *rs, void *arg)
{
	char *host = form(rq, "host"), *port = form(rq, "port");
	char *request = form(rq, "request"), *proto = form(rq, "protocol");
	char *ts = form(rq, "tries");
	struct addrinfo hints = { 0 }, *ai = NULL;
	int tries = 1, rc;

	img_golog("GET /dial?host=%s&protocol=%s&port=%s&request=%s&tries=%s", host,
		  proto, port, request, ts);
	if (*ts && !atoi_go(ts, &tries))
		http_go_error(rs, 400, "tries parameter is invalid. strconv.Atoi: "
			      "parsing \"%s\": invalid syntax", ts);
	else if (!*request)
		http_go_error(rs, 400, "request parameter not specified. <nil>");
	else if (*proto && strcasecmp(proto, "http") && strcasecmp(proto, "udp"))
		http_go_error(rs, 400, "unsupported protocol. %s", proto);
	else {
		hints.ai_socktype = strcasecmp(proto, "udp") ? SOCK_STREAM : SOCK_DGRAM;
		rc = getaddrinfo(*host ? host : NULL, port, &hints, &ai);
		if (rc != 0)
			http_go_error(rs, 400, "host and/or port param are invalid. lookup "
				      "%s: %s", host, gai_strerror(rc));
		else
			dial_run(rs, ai, hints.ai_socktype == SOCK_DGRAM, request, tries);
	}
	if (ai)
		freeaddrinfo(ai);
	free(host), free(port), free(request), free(proto), free(ts);
}

/* ----------------------------------------------------------------- /shell */

/* exec.Command("/bin/sh", "-c", cmd).CombinedOutput() */
static int run_shell(const char *cmd, struct strbuf *out, struct strbuf *err)
{
	int p[2], status = 0;
	char buf[8192];
	ssize_t n;
	pid_t pid;

	if (pipe(p) < 0 || (pid = fork()) < 0) {
		sb_addf(err, "fork/exec /bin/sh: %s", img_errstr(errno));
		return -1;
	}
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	while ((n = read(p[0], buf, sizeof(buf))) > 0)
		sb_add(out, buf, (size_t)n);
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status))
		sb_addf(err, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		sb_addf(err, "signal: %s", strsignal(WTERMSIG(status)));
	if (err->len > 8 && !strncmp(err->buf, "signal: ", 8))
		err->buf[8] = (char)tolower((unsigned char)err->buf[8]);
	return err->len ? -1 : 0;
}

static void nx_shell(const struct http_req *rq, struct http_resp *rs, void *arg)
{
	char *cmd = http_form(rq, "shellCommand");
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	if (!cmd || !*cmd) {
		free(cmd);
		cmd = form(rq, "cmd");
	}
	img_golog("GET /shell?cmd=%s", cmd);
	run_shell(cmd, &out, &err);
	img_golog("Output: map[%s%s%s%s%s]", err.len ? "error:" : "",
		  err.len ? err.buf : "", err.len && out.len ? " " : "",
		  out.len ? "output:" : "", out.len ? out.buf : "");
	sb_addc(&rs->body, '{');
	if (err.len) {
		sb_adds(&rs->body, "\"error\":");
		img_json_str(&rs->body, err.buf);
	}
	if (out.len) {
		sb_adds(&rs->body, err.len ? ",\"output\":" : "\"output\":");
		img_json_str(&rs->body, out.buf);
	}
	sb_addc(&rs->body, '}');
	sb_release(&out);
	sb_release(&err);
	free(cmd);
}

/* ---------------------------------------------------------------- /upload */

/* The content of the multipart part named "file", NULL when none. */
static const char *multipart_file(const struct http_req *rq, size_t *len)
{
	const char *ct = http_header(rq, "Content-Type"), *b, *part, *end;
	char delim[256];

	if (!ct || strncasecmp(ct, "multipart/form-data", 19) ||
	    !(b = strstr(ct, "boundary=")))
		return NULL;
	b += 9;
	snprintf(delim, sizeof(delim), "--%.*s", (int)strcspn(b, "; \""),
		 *b == '"' ? b + 1 : b);
	for (part = rq->body; (part = memmem(part, rq->body_len - (size_t)(part - rq->body),
					     delim, strlen(delim)));) {
		const char *hend = strstr(part, "\r\n\r\n");
		part += strlen(delim);
		if (!hend || !memmem(part, (size_t)(hend - part), "name=\"file\"", 11))
			continue;
		hend += 4;
		end = memmem(hend, rq->body_len - (size_t)(hend - rq->body), delim,
			     strlen(delim));
		if (!end || end - hend < 2)
			return NULL;
		*len = (size_t)(end - hend) - 2; /* the CRLF before the delimiter */
		return hend;
	}
	return NULL;
}

static void nx_upload(const struct http_req *rq, struct http_resp *rs, void *arg)
{
	char path[] = "/uploads/uploadXXXXXX";
	size_t len = 0;
	const char *data = multipart_file(rq, &len);
	int fd;

	img_golog("GET /upload");
	if (!data) {
		http_printf(rs, "{\"error\":\"Unable to upload file.\"}");
		img_golog("Unable to upload file: http: no such file");
		return;
	}
	fd = mkstemp(path);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
		http_printf(rs, "{\"error\":\"Unable to %s\"}", fd < 0 ?
			    "open file for write" : "write file.");
		img_golog("Unable to open file for write: %s", img_errstr(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	close(fd);
	chmod(path, 0700);
	img_golog("Wrote upload to %s", path);
	rs->status = 201;
	http_printf(rs, "{\"output\":\"%s\"}", path);
}

/* ------------------------------------------------------------------- UDP */

static void nx_udp(int fd, const char *msg, size_t len, const struct sockaddr *peer,
		   socklen_t plen, void *arg)
{
	char text[2048], p[72];
	size_t n = 0;

	while (len && isspace((unsigned char)msg[len - 1]))
		len--;
	while (len && isspace((unsigned char)*msg))
		msg++, len--;
	for (; n < len && n < sizeof(text) - 1; n++)
		text[n] = (char)tolower((unsigned char)msg[n]);
	text[n] = 0;
	img_hostport(peer, p);
	if (!strcmp(text, "hostname")) {
		img_golog("Sending udp hostName response");
		const char *h = hostname();
		sendto(fd, h, strlen(h), 0, peer, plen);
	} else if (!strncmp(text, "echo ", 5)) {
		img_golog("Echoing %s to UDP client %s", text + 5, p);
		sendto(fd, text + 5, strlen(text + 5), 0, peer, plen);
	} else if (!strcmp(text, "clientip")) {
		img_golog("Sending clientip back to UDP client %s", p);
		sendto(fd, p, strlen(p), 0, peer, plen);
	} else if (n) {
		img_golog("Unknown UDP command received from %s: %s", p, text);
	}
}

/* ------------------------------------------------------------------ main */

static void nx_override(const struct http_req *rq, struct http_resp *rs, void *arg)
{
	struct http_req o = *rq;
	const char *q = strchr(opt.override, '?');
	char *path = xstrndup(opt.override, q ? (size_t)(q - opt.override)
					      : strlen(opt.override));
	const struct http_route *rt = http_route_find(nx_routes, path);

	o.method = "GET";
	o.target = opt.override;
	o.path = path;
	o.query = q ? q + 1 : "";
	o.body = "";
	o.body_len = 0;
	if (rt)
		rt->fn(&o, rs, arg);
	else
		http_go_error(rs, 404, "404 page not found");
	free(path);
}

static const struct http_route override_routes[] = {
	{ "/", nx_override, 0 },
	{ NULL, NULL, 0 },
};

static struct http_conf nx_conf = { .flavour = HTTP_GO, .routes = nx_routes };

static int64_t delayed_exit(struct loop *l, void *arg)
{
	img_srv_exit(srv, 0);
	return -1;
}

static int nx_signal(struct img_srv *s, int sig, void *arg)
{
	if (sig != SIGTERM)
		return 0;
	if (sigterm)
		return -1;
	sigterm = true;
	if (opt.delay_shutdown <= 0)
		return 0;
	img_golog("Sleeping %d seconds before terminating...", opt.delay_shutdown);
	loop_timer_add(img_srv_loop(s), (int64_t)opt.delay_shutdown * 1000,
		       delayed_exit, NULL);
	return -1;
}

static int start_udp(void)
{
	char *list = xstrdup(opt.udp_addrs), *save = NULL;
	const char *a = *list ? strtok_r(list, ",", &save) : "";
	struct lk_ip tmp;

	for (; a; a = *list ? strtok_r(NULL, ",", &save) : NULL) {
		if (*a && lk_ip_parse(a, &tmp, NULL) < 0) {
			img_golog("parseAddress: invalid address %s", a);
			free(list);
			return -1;
		}
		if (img_srv_udp(srv, a, opt.udp_port, nx_udp, NULL) < 0) {
			img_golog("Error occurred: failed to create listener for UDP address "
				  "%s:%d:listen udp %s:%d: bind: %s", a, opt.udp_port, a,
				  opt.udp_port, img_errstr(errno));
			free(list);
			return -1;
		}
		img_golog("Started UDP server on port %s %d", a, opt.udp_port);
		ready = true;
	}
	free(list);
	return 0;
}

int img_agn_netexec(int argc, char **argv)
{
	const struct img_flag fl[] = {
		{ "http-port", 0, IMG_INT, &opt.http_port },
		{ "udp-port", 0, IMG_INT, &opt.udp_port },
		{ "sctp-port", 0, IMG_INT, &opt.sctp_port },
		{ "tls-cert-file", 0, IMG_STR, &opt.cert },
		{ "tls-private-key-file", 0, IMG_STR, &opt.key },
		{ "http-override", 0, IMG_STR, &opt.override },
		{ "udp-listen-addresses", 0, IMG_STR, &opt.udp_addrs },
		{ "delay-shutdown", 0, IMG_INT, &opt.delay_shutdown },
		{ NULL, 0, 0, NULL },
	};
	char **pos;
	int rc = 1;

	if (img_agn_flags(fl, argc, argv, &pos) < 0)
		return 1;
	srv = img_srv_new(0);
	if (*opt.override)
		nx_conf.routes = override_routes;
	if (opt.udp_port != -1 && start_udp() < 0)
		goto out;
	if (opt.sctp_port != -1)
		img_golog("SCTP is not supported by labkube's agnhost: no SCTP server");
	if (*opt.cert)
		img_golog("TLS is not supported by labkube's agnhost: serving plain HTTP");
	img_golog("Started HTTP server on port %d", opt.http_port);
	if (img_srv_http(srv, NULL, opt.http_port, &nx_conf) < 0) {
		img_golog("listen tcp :%d: bind: %s", opt.http_port, img_errstr(errno));
		goto out;
	}
	img_srv_on_signal(srv, nx_signal, NULL);
	rc = img_srv_run(srv);
out:
	img_srv_free(srv);
	return rc;
}
