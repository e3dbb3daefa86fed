/*
 * images/img_httpd.c: the httpd image (docker-library/httpd, stock
 * httpd.conf): httpd-foreground on :80 serving /usr/local/apache2/htdocs
 * with index.html, its "It works!" page built in for when the pod has no
 * such directory, Apache's error pages, the "common" access log on stdout
 * and the start-up and shutdown lines of the error log on stderr.
 * SIGTERM/SIGINT and SIGWINCH (the image's STOPSIGNAL, graceful) exit 0.
 *
 * The Server header names the tag's version (httpd:2.4.38 says
 * Apache/2.4.38 (Unix)). httpd.conf is not read; "-v" and "-t" answer as
 * httpd does.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "images/img.h"

#define HTTPD_ROOT "/usr/local/apache2/htdocs"

static char server[64];

static const char it_works[] = "<html><body><h1>It works!</h1></body></html>\n";

/* "[Mon May 13 13:37:30.123456 2024] [mpm_event:notice] [pid 1:tid 1] ..." */
static void errlog(const char *module, const char *msg)
{
	struct timeval tv;
	struct tm tm;
	char ts[64];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%a %b %d %H:%M:%S", &tm);
	fprintf(stderr, "[%s.%06ld %d] [%s] [pid %d:tid %d] %s\n", ts,
		(long)tv.tv_usec, tm.tm_year + 1900, module, (int)getpid(),
		(int)getpid(), msg);
}

static const struct {
	int status;
	const char *title, *text;
} pages[] = {
	{ 301, "Moved Permanently", "<p>The document has moved here.</p>" },
	{ 403, "Forbidden", "<p>You don't have permission to access this "
			    "resource.</p>" },
	{ 404, "Not Found", "<p>The requested URL was not found on this "
			    "server.</p>" },
	{ 405, "Method Not Allowed", "<p>The requested method is not allowed "
				     "for this URL.</p>" },
};

static void error_page(struct http_resp *rs, int status)
{
	size_t i = 0;

	while (i + 1 < ARRAY_SIZE(pages) && pages[i].status != status)
		i++;
	rs->status = status;
	rs->ctype = "text/html; charset=iso-8859-1";
	sb_reset(&rs->body);
	http_printf(rs, "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n"
		    "<html><head>\n<title>%d %s</title>\n</head><body>\n<h1>%s</h1>\n"
		    "%s\n</body></html>\n", status, http_reason(status),
		    pages[i].title, pages[i].text);
}

static void httpd_serve(const struct http_req *rq, struct http_resp *rs, void *arg)
{
	if (!strcmp(rq->method, "OPTIONS")) {
		http_header_add(rs, "Allow", "GET,POST,OPTIONS,HEAD");
		return;
	}
	if (strcmp(rq->method, "GET") && strcmp(rq->method, "HEAD") &&
	    strcmp(rq->method, "POST")) {
		error_page(rs, 405);
		return;
	}
	if (http_serve_file(rq, rs, HTTPD_ROOT, "index.html", HTTP_APACHE) == 0) {
		if (rs->status >= 300)
			error_page(rs, rs->status);
		return;
	}
	if (strcmp(rq->path, "/") && strcmp(rq->path, "/index.html")) {
		error_page(rs, 404);
		return;
	}
	rs->ctype = "text/html";
	sb_add(&rs->body, it_works, sizeof(it_works) - 1);
	http_header_add(rs, "Last-Modified", "Mon, 11 Jun 2007 18:53:14 GMT");
	http_header_add(rs, "ETag", "\"2d-432a5e4a73a80\"");
	http_header_add(rs, "Accept-Ranges", "bytes");
}

static const struct http_route httpd_routes[] = {
	{ "/", httpd_serve, 0 },
	{ NULL, NULL, 0 },
};

static const struct http_conf httpd_conf = {
	.flavour = HTTP_APACHE,
	.server = server,
	.routes = httpd_routes,
	.log = http_log_apache,
	.idle_sec = 5,
};

static int httpd_signal(struct img_srv *s, int sig, void *arg)
{
	if (sig == SIGWINCH)
		errlog("mpm_event:notice", "AH00492: caught SIGWINCH, shutting down "
			"gracefully");
	else
		errlog("mpm_event:notice", "AH00491: caught SIGTERM, shutting down");
	return 0;
}

static int httpd_options(int argc, char **argv, const char *version)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-v")) {
			printf("Server version: Apache/%s (Unix)\nServer built:   "
			       "Jul 17 2024 00:00:00\n", version);
			return 0;
		}
		if (!strcmp(argv[i], "-t")) {
			fprintf(stderr, "Syntax OK\n");
			return 0;
		}
	}
	return -1;
}

int img_httpd_main(int argc, char **argv)
{
	struct img_srv *s;
	char version[32], ip[64], msg[256];
	int rc;

	img_tag_version(version, sizeof(version), "2.4.62");
	snprintf(server, sizeof(server), "Apache/%s (Unix)", version);
	if ((rc = httpd_options(argc, argv, version)) >= 0)
		return rc;
	s = img_srv_new(SIGWINCH);
	if (img_srv_http(s, NULL, 80, &httpd_conf) < 0) {
		fprintf(stderr, "(98)Address already in use: AH00072: make_sock: "
			"could not bind to address [::]:80\n");
		img_srv_free(s);
		return 1;
	}
	img_pod_ip(ip, sizeof(ip));
	fprintf(stderr, "AH00558: httpd: Could not reliably determine the server's "
		"fully qualified domain name, using %s. Set the 'ServerName' "
		"directive globally to suppress this message\n", ip);
	snprintf(msg, sizeof(msg), "AH00489: %s configured -- resuming normal "
		 "operations", server);
	errlog("mpm_event:notice", msg);
	errlog("core:notice", "AH00094: Command line: 'httpd -D FOREGROUND'");
	img_srv_on_signal(s, httpd_signal, NULL);
	rc = img_srv_run(s);
	img_srv_free(s);
	return rc;
}
