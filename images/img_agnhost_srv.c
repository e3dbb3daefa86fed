/*
 * images/img_agnhost_srv.c: agnhost's small servers (see
 * img_agnhost.c for the command):
 *
 *   liveness        :8080 /healthz 200 "ok" for 10 s, then 500; /started;
 *                   /redirect?loc=
 *   porter          an HTTP server per SERVE_PORT_<n>=text, answering text
 *                   (--json-response: {"Method":...,"Body":...})
 *   serve-hostname  the hostname over HTTP (default), or raw --tcp / --udp
 *                   (with --http=false), on --port 9376
 *   test-webserver  Go's http.FileServer over "/" on --port 80
 *
 * Deviation: serve-hostname upstream sleeps 60 s after SIGTERM ("Awaiting
 * pod deletion"); here it logs the same lines and exits 0 at once, so a
 * deleted pod does not hold its grace period. TLS and SCTP ports of porter
 * are reported as unsupported.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/loop.h"
#include "images/img.h"

extern char **environ;

static const struct img_flag no_flags[] = { { NULL, 0, 0, NULL } };

/* -------------------------------------------------------------- liveness */

static uint64_t live_start_us;

static void live_started(const struct http_req *rq, struct http_resp *rs, void *arg)
{
	char d[64];

	img_go_duration((int64_t)(lk_now_us() - live_start_us) * 1000, d, sizeof(d));
	http_printf(rs, "%s", d);
}

static void live_healthz(const struct http_req *rq, struct http_resp *rs, void *arg)
{
	double secs = (double)(lk_now_us() - live_start_us) / 1e6;
	char f[64];

	if (secs > 10) {
		img_go_float(secs, f, sizeof(f));
		rs->status = 500;
		http_printf(rs, "error: %s", f);
	} else {
		http_printf(rs, "ok");
	}
}

static void live_redirect(const struct http_req *rq, struct http_resp *rs, void *arg)
{
	char *loc = http_form(rq, "loc");

	http_go_redirect(rq, rs, loc ? loc : "", 302);
	free(loc);
}

static const struct http_route live_routes[] = {
	{ "/started", live_started, 0 },
	{ "/healthz", live_healthz, 0 },
	{ "/redirect", live_redirect, 0 },
	{ NULL, NULL, 0 },
};

static const struct http_conf live_conf = {
	.flavour = HTTP_GO,
	.routes = live_routes,
};

int img_agn_liveness(int argc, char **argv)
{
	char **pos;

	if (img_agn_flags(no_flags, argc, argv, &pos) < 0)
		return 1;
	live_start_us = lk_now_us();
	return img_http_main(NULL, 8080, &live_conf, NULL, NULL);
}

/* ---------------------------------------------------------------- porter */

static bool porter_json;

static void porter_answer(const struct http_req *rq, struct http_resp *rs, void *arg)
{
	const char *value = arg;

	if (!porter_json) {
		http_printf(rs, "%s", value);
		return;
	}
	rs->ctype = "application/json";
	sb_adds(&rs->body, "{\"Method\":");
	img_json_str(&rs->body, rq->method);
	sb_adds(&rs->body, ",\"Body\":");
	img_json_str(&rs->body, value);
	sb_addc(&rs->body, '}');
}

static const struct http_route porter_routes[] = {
	{ "/", porter_answer, 0 },
	{ NULL, NULL, 0 },
};

static void porter_port(struct img_srv *s, const char *port, const char *value)
{
	struct http_conf *conf = xcalloc(1, sizeof(*conf));
	int n = atoi(port);

	img_srv_own(s, conf, free);
	conf->flavour = HTTP_GO;
	conf->routes = porter_routes;
	conf->arg = (void *)value;
	if (n <= 0 || n > 65535 || img_srv_http(s, "0.0.0.0", n, conf) < 0)
		img_golog("server on port \"%s\" failed: listen tcp 0.0.0.0:%s: %s",
			  port, port, n <= 0 || n > 65535 ? "invalid port"
							  : img_errstr(errno));
}

int img_agn_porter(int argc, char **argv)
{
	const struct img_flag fl[] = {
		{ "json-response", 0, IMG_BOOL, &porter_json },
		{ NULL, 0, 0, NULL },
	};
	struct img_srv *s;
	char **pos;
	int rc;

	if (img_agn_flags(fl, argc, argv, &pos) < 0)
		return 1;
	s = img_srv_new(0);
	for (char **e = environ; *e; e++) {
		char *eq = strchr(*e, '=');
		char *key = eq ? xstrndup(*e, (size_t)(eq - *e)) : NULL;
		if (key && str_has_prefix(key, "SERVE_PORT_"))
			porter_port(s, key + 11, eq + 1);
		else if (key && (str_has_prefix(key, "SERVE_TLS_PORT_") ||
				 str_has_prefix(key, "SERVE_SCTP_PORT_")))
			img_golog("server on port \"%s\" failed: %s is not supported by "
				  "labkube's agnhost", strrchr(key, '_') + 1,
				  key[6] == 'T' ? "TLS" : "SCTP");
		free(key);
	}
	rc = img_srv_run(s);
	img_srv_free(s);
	return rc;
}

/* -------------------------------------------------------- serve-hostname */

static bool sh_close;

static void sh_http(const struct http_req *rq, struct http_resp *rs, void *arg)
{
	img_golog("HTTP request from %s", rq->peer);
	if (sh_close)
		rs->close = true;
	http_printf(rs, "%s", img_hostname());
}

static const struct http_route sh_routes[] = {
	{ "/", sh_http, 0 },
	{ NULL, NULL, 0 },
};

static const struct http_conf sh_conf = {
	.flavour = HTTP_GO,
	.routes = sh_routes,
};

static void sh_tcp(int fd, const struct sockaddr *peer, void *arg)
{
	char p[72];
	const char *h = img_hostname();

	img_hostport(peer, p);
	img_golog("TCP request from %s", p);
	if (write(fd, h, strlen(h)) < 0)
		img_golog("write: %s", img_errstr(errno));
	close(fd);
}

static void sh_udp(int fd, const char *msg, size_t len, const struct sockaddr *peer,
		   socklen_t plen, void *arg)
{
	char p[72];
	const char *h = img_hostname();

	img_hostport(peer, p);
	img_golog("UDP request from %s", p);
	sendto(fd, h, strlen(h), 0, peer, plen);
}

static int sh_signal(struct img_srv *s, int sig, void *arg)
{
	if (sig != SIGTERM)
		return 0;
	img_golog("Shutting down after receiving signal: terminated.");
	img_golog("Awaiting pod deletion.");
	return 0;
}

static int sh_listen(struct img_srv *s, bool tcp, bool udp, bool http, int port)
{
	if (tcp && img_srv_tcp(s, NULL, port, sh_tcp, NULL) < 0) {
		img_golog("Error from net.Listen(): listen tcp :%d: bind: %s", port,
			  img_errstr(errno));
		return -1;
	}
	if (udp && img_srv_udp(s, NULL, port, sh_udp, NULL) < 0) {
		img_golog("Error from ListenUDP(): listen udp :%d: bind: %s", port,
			  img_errstr(errno));
		return -1;
	}
	if (http && img_srv_http(s, NULL, port, &sh_conf) < 0) {
		img_golog("listen tcp :%d: bind: %s", port, img_errstr(errno));
		return -1;
	}
	return 0;
}

int img_agn_serve_hostname(int argc, char **argv)
{
	bool tcp = false, udp = false, http = true;
	int port = 9376, rc = 1;
	const struct img_flag fl[] = {
		{ "tcp", 0, IMG_BOOL, &tcp }, { "udp", 0, IMG_BOOL, &udp },
		{ "http", 0, IMG_BOOL, &http }, { "close", 0, IMG_BOOL, &sh_close },
		{ "port", 0, IMG_INT, &port }, { NULL, 0, 0, NULL },
	};
	struct img_srv *s;
	char **pos;

	if (img_agn_flags(fl, argc, argv, &pos) < 0)
		return 1;
	if (http && (tcp || udp)) {
		img_golog("Can't serve TCP/UDP mode and HTTP mode at the same time");
		return 1;
	}
	s = img_srv_new(0);
	if (sh_listen(s, tcp, udp, http, port) == 0) {
		img_golog("Serving on port %d.", port);
		img_srv_on_signal(s, sh_signal, NULL);
		rc = img_srv_run(s);
	}
	img_srv_free(s);
	return rc;
}

/* -------------------------------------------------------- test-webserver */

static void tw_serve(const struct http_req *rq, struct http_resp *rs, void *arg)
{
	http_header_add(rs, "Access-Control-Allow-Credentials", "true");
	http_header_add(rs, "Access-Control-Allow-Headers", "DNT,X-Mx-ReqToken,"
			"Keep-Alive,User-Agent,X-Requested-With,Cache-Control,Content-Type");
	http_header_add(rs, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
	http_header_add(rs, "Access-Control-Allow-Origin", "*");
	http_header_add(rs, "Cache-Control", "private");
	if (http_serve_file(rq, rs, "/", "index.html", HTTP_GO) < 0)
		http_go_error(rs, 404, "404 page not found");
	else if (rs->status == 403)
		http_go_error(rs, 403, "403 Forbidden");
}

static const struct http_route tw_routes[] = {
	{ "/", tw_serve, 0 },
	{ NULL, NULL, 0 },
};

static const struct http_conf tw_conf = {
	.flavour = HTTP_GO,
	.routes = tw_routes,
};

int img_agn_test_webserver(int argc, char **argv)
{
	int port = 80;
	const struct img_flag fl[] = {
		{ "port", 0, IMG_INT, &port },
		{ NULL, 0, 0, NULL },
	};
	char **pos;

	if (img_agn_flags(fl, argc, argv, &pos) < 0)
		return 1;
	return img_http_main(NULL, port, &tw_conf, NULL, NULL);
}
