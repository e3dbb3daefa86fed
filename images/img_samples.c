/*
 * images/img_samples.c: the small sample apps of tutorials and books:
 *
 *   gcr.io/google-samples/node-hello   Node http server: "Hello Kubernetes!"
 *                                      (kubernetes-engine-samples, $PORT or 8080)
 *   gcr.io/google-samples/hello-app    Go: "Hello, world!\nVersion: 1.0.0\n
 *                                      Hostname: POD\n", the version from the tag
 *   nigelpoulton/k8sbook               Express + pug: one HTML page per tag
 *   hashicorp/http-echo                Go: -text, -listen, -status-code,
 *                                      /health, its access log on stdout
 *
 * Each answers exactly what its upstream source answers, with the headers
 * its runtime adds (Node's chunked writeHead, Go's sniffed Content-Type).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "images/img.h"

static int env_port(int dflt)
{
	const char *p = getenv("PORT");
	int n = p ? atoi(p) : 0;

	return n > 0 && n < 65536 ? n : dflt;
}

/* ------------------------------------------------------------- node-hello */

static void node_hello(const struct http_req *rq, struct http_resp *rs, void *arg)
{
	rs->chunked = true; /* response.writeHead(200) then end(text) */
	http_printf(rs, "Hello Kubernetes!");
}

static const struct http_route node_hello_routes[] = {
	{ "/", node_hello, 0 },
	{ NULL, NULL, 0 },
};

static const struct http_conf node_hello_conf = {
	.flavour = HTTP_NODE,
	.routes = node_hello_routes,
};

int img_node_hello_main(int argc, char **argv)
{
	return img_http_main(NULL, env_port(8080), &node_hello_conf, NULL, NULL);
}

/* -------------------------------------------------------------- hello-app */

/* "Version: 2.0.0" for the tag 2.0, as the sample's releases print. */
static void app_version(char *buf, size_t len)
{
	const char *tag = img_version();
	int dots = 0;

	for (const char *p = tag; *p; p++) {
		if (*p == '.')
			dots++;
		else if (*p < '0' || *p > '9')
			dots = -100;
	}
	if (dots == 1)
		snprintf(buf, len, "%s.0", tag);
	else if (dots == 2)
		snprintf(buf, len, "%s", tag);
	else
		snprintf(buf, len, "1.0.0");
}

static void hello_app(const struct http_req *rq, struct http_resp *rs, void *arg)
{
	char version[64];

	img_golog("Serving request: %s", rq->path);
	app_version(version, sizeof(version));
	http_printf(rs, "Hello, world!\nVersion: %s\nHostname: %s\n", version,
		    img_hostname());
}

static const struct http_route hello_app_routes[] = {
	{ "/", hello_app, 0 },
	{ NULL, NULL, 0 },
};

static const struct http_conf hello_app_conf = {
	.flavour = HTTP_GO,
	.routes = hello_app_routes,
};

int img_hello_app_main(int argc, char **argv)
{
	int port = env_port(8080);

	img_golog("Server listening on port %d", port);
	return img_http_main(NULL, port, &hello_app_conf, NULL, NULL);
}

/* ---------------------------------------------------------------- k8sbook */

/* The book's pug views, rendered as Express renders them (no whitespace). */
static const struct {
	const char *tag, *title, *css, *h1, *p, *href, *link;
} k8sbook_pages[] = {
	{ "edge", "ACG loves K8S",
	  "http://netdna.bootstrapcdn.com/bootstrap/3.1.1/css/bootstrap.min.css",
	  "The Kubernetes Book!!!", "",
	  "https://acloud.guru/learn/kubernetes-deep-dive",
	  "What about a video course as well!" },
	{ "1.0", "K8s rocks",
	  "https://cdn.jsdelivr.net/npm/bootstrap@5.3.3/dist/css/bootstrap.min.css",
	  "Kubernetes rocks!", "Check out my AI book.",
	  "https://www.amazon.com/dp/1916585388",
	  "AI Explained: Facts, Fiction, and Future" },
	{ "2.0", "K8s rocks",
	  "https://cdn.jsdelivr.net/npm/bootstrap@5.3.3/dist/css/bootstrap.min.css",
	  "Kubernetes rocks!",
	  "Do you, or any of your family and friends want to understand AI? "
	  "Look nor further!",
	  "https://www.amazon.com/dp/1916585388", "AI Explained" },
	{ NULL, "Docker FTW",
	  "http://netdna.bootstrapcdn.com/bootstrap/3.1.1/css/bootstrap.min.css",
	  "I'm running in a container!!!", "",
	  "https://www.amazon.com/Docker-Deep-Dive-Nigel-Poulton-ebook/dp/B01LXWQUFF",
	  "Link to my Docker book" },
};

static void k8sbook_home(const struct http_req *rq, struct http_resp *rs, void *arg)
{
	size_t i = 0;

	if (strcmp(rq->path, "/") ||
	    (strcmp(rq->method, "GET") && strcmp(rq->method, "HEAD"))) {
		rs->status = 404;
		rs->ctype = "text/html; charset=utf-8";
		http_header_add(rs, "X-Powered-By", "Express");
		http_header_add(rs, "Content-Security-Policy", "default-src 'none'");
		http_header_add(rs, "X-Content-Type-Options", "nosniff");
		http_printf(rs, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
			    "<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n"
			    "<body>\n<pre>Cannot %s %s</pre>\n</body>\n</html>\n",
			    rq->method, rq->path);
		return;
	}
	while (k8sbook_pages[i].tag && strcmp(k8sbook_pages[i].tag, img_version()))
		i++;
	rs->ctype = "text/html; charset=utf-8";
	http_header_add(rs, "X-Powered-By", "Express");
	http_printf(rs, "<html><head><title>%s</title><link rel=\"stylesheet\" "
		    "href=\"%s\"></head><body><div class=\"container\"><div "
		    "class=\"jumbotron\"><h1>%s</h1><p>%s</p><p><a class=\"btn "
		    "btn-primary\" href=\"%s\">%s</a></p></div></div></body></html>",
		    k8sbook_pages[i].title, k8sbook_pages[i].css, k8sbook_pages[i].h1,
		    k8sbook_pages[i].p, k8sbook_pages[i].href, k8sbook_pages[i].link);
}

static const struct http_route k8sbook_routes[] = {
	{ "/", k8sbook_home, 0 },
	{ NULL, NULL, 0 },
};

static const struct http_conf k8sbook_conf = {
	.flavour = HTTP_NODE,
	.routes = k8sbook_routes,
	.idle_sec = 5,
};

int img_k8sbook_main(int argc, char **argv)
{
	return img_http_main(NULL, 8080, &k8sbook_conf, NULL, NULL);
}

/* -------------------------------------------------------------- http-echo */

static struct {
	const char *listen, *text;
	int status;
	bool version;
} echo = { ":5678", "", 200, false };

static void echo_headers(struct http_resp *rs)
{
	http_header_add(rs, "X-App-Name", "http-echo");
	http_header_add(rs, "X-App-Version", "1.0.0");
}

static void echo_text(const struct http_req *rq, struct http_resp *rs, void *arg)
{
	echo_headers(rs);
	rs->status = echo.status;
	http_printf(rs, "%s\n", echo.text);
}

static void echo_health(const struct http_req *rq, struct http_resp *rs, void *arg)
{
	echo_headers(rs);
	http_printf(rs, "{\"status\":\"ok\"}\n");
}

/* 2006/01/02 15:04:05 HOST REMOTE "GET / HTTP/1.1" 200 6 "UA" 12.5µs */
static void echo_log(const struct http_req *rq, const struct http_resp *rs, void *arg)
{
	char ts[32], dur[32];
	time_t now = time(NULL);
	struct tm tm;
	const char *ua = http_header(rq, "User-Agent");

	if (strcmp(rq->path, "/health") == 0)
		return;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y/%m/%d %H:%M:%S", &tm);
	img_go_duration((int64_t)(lk_now_us() - rq->start_us) * 1000, dur, sizeof(dur));
	printf("%s %s %s \"%s %s %s\" %d %zu \"%s\" %s\n", ts, rq->host, rq->peer,
	       rq->method, rq->path, rq->proto, rs->status, rs->body.len,
	       ua ? ua : "", dur);
	fflush(stdout);
}

static const struct http_route echo_routes[] = {
	{ "/", echo_text, 0 },
	{ "/health", echo_health, 0 },
	{ NULL, NULL, 0 },
};

static const struct http_conf echo_conf = {
	.flavour = HTTP_GO,
	.routes = echo_routes,
	.log = echo_log,
};

static int echo_signal(struct img_srv *s, int sig, void *arg)
{
	if (sig != SIGINT)
		return 0;
	img_golog("[INFO] received interrupt, shutting down...");
	return 2; /* "it was an interrupt, so don't exit cleanly" */
}

/* "-listen" is Go's host:port: ":5678", "127.0.0.1:5678", "[::1]:5678". */
static int split_listen(const char *l, char *host, size_t hlen, int *port)
{
	const char *colon = strrchr(l, ':');

	if (!colon || atoi(colon + 1) <= 0 || atoi(colon + 1) > 65535)
		return -1;
	*port = atoi(colon + 1);
	if (l[0] == '[' && colon > l + 1 && colon[-1] == ']')
		snprintf(host, hlen, "%.*s", (int)(colon - l - 2), l + 1);
	else
		snprintf(host, hlen, "%.*s", (int)(colon - l), l);
	return 0;
}

int img_http_echo_main(int argc, char **argv)
{
	static const struct img_flag flags[] = {
		{ "listen", 0, IMG_STR, &echo.listen },
		{ "text", 0, IMG_STR, &echo.text },
		{ "status-code", 0, IMG_INT, &echo.status },
		{ "version", 0, IMG_BOOL, &echo.version },
		{ NULL, 0, 0, NULL },
	};
	char host[256];
	int port, n = img_flags(flags, argc - 1, argv + 1, IMG_FLAGS_GO);

	if (n < 0)
		return 2;
	if (echo.version) {
		fprintf(stderr, "http-echo v1.0.0\n");
		return 0;
	}
	if (!*echo.text && getenv("ECHO_TEXT"))
		echo.text = getenv("ECHO_TEXT");
	if (!*echo.text) {
		fprintf(stderr, "Missing -text option OR ENV var TEXT is empty!\n");
		return 127;
	}
	if (n > 0) {
		fprintf(stderr, "Too many arguments!\n");
		return 127;
	}
	if (split_listen(echo.listen, host, sizeof(host), &port) < 0) {
		img_golog("[ERR] server exited with: listen tcp: address %s: "
			  "missing port in address", echo.listen);
		return 1;
	}
	img_golog("[INFO] server is listening on %s", echo.listen);
	return img_http_main(host, port, &echo_conf, echo_signal, NULL);
}
