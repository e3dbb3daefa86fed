/*
 * images/img_nginx.c: the nginx image (docker-library/nginx, stock
 * default.conf): /docker-entrypoint.sh's start-up lines, then nginx on :80
 * ([::]:80 too) serving /usr/share/nginx/html with index.html, its welcome
 * page and 50x.html built in for when the pod has no such directory,
 * nginx's own error pages, the access log in the image's "main" format on
 * stdout and [notice] lines on stderr. SIGTERM/SIGINT (fast) and SIGQUIT
 * (graceful, the image's STOPSIGNAL) exit 0.
 *
 * The Server header names the tag's version (nginx:1.25.3 says
 * nginx/1.25.3). nginx.conf is not read: "-g", "-c" are accepted and
 * ignored; "-v", "-t" answer as nginx does. Any other command after the
 * entrypoint runs on the host, as the entrypoint would exec it.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "images/img.h"

#define NGINX_ROOT "/usr/share/nginx/html"

static char version[32];
static char server[48];

static const char welcome[] =
	"<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\n"
	"<style>\nhtml { color-scheme: light dark; }\nbody { width: 35em; "
	"margin: 0 auto;\nfont-family: Tahoma, Verdana, Arial, sans-serif; }\n"
	"</style>\n</head>\n<body>\n<h1>Welcome to nginx!</h1>\n<p>If you see "
	"this page, the nginx web server is successfully installed and\nworking. "
	"Further configuration is required.</p>\n\n<p>For online documentation "
	"and support please refer to\n<a href=\"http://nginx.org/\">nginx.org</a>"
	".<br/>\nCommercial support is available at\n<a href=\"http://nginx.com/"
	"\">nginx.com</a>.</p>\n\n<p><em>Thank you for using nginx.</em></p>\n"
	"</body>\n</html>\n";

static const char fifty_x[] =
	"<!DOCTYPE html>\n<html>\n<head>\n<title>Error</title>\n<style>\nhtml { "
	"color-scheme: light dark; }\nbody { width: 35em; margin: 0 auto;\n"
	"font-family: Tahoma, Verdana, Arial, sans-serif; }\n</style>\n</head>\n"
	"<body>\n<h1>An error occurred.</h1>\n<p>Sorry, the page you are looking "
	"for is currently unavailable.<br/>\nPlease try again later.</p>\n<p>If "
	"you are the system administrator of this resource then you should check\n"
	"the error log for details.</p>\n<p><em>Faithfully yours, nginx.</em></p>\n"
	"</body>\n</html>\n";

static void notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void notice(const char *fmt, ...)
{
	char ts[32], msg[512];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;

	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y/%m/%d %H:%M:%S", &tm);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s [notice] %d#%d: %s\n", ts, (int)getpid(),
		(int)getpid(), msg);
}

/* nginx's built-in error pages (CRLF, as nginx sends them). */
static void error_page(struct http_resp *rs, int status)
{
	rs->status = status;
	rs->reason = status == 405 ? "Not Allowed" : NULL;
	rs->ctype = "text/html";
	sb_reset(&rs->body);
	http_printf(rs, "<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n"
		    "<center><h1>%d %s</h1></center>\r\n<hr><center>%s</center>\r\n"
		    "</body>\r\n</html>\r\n", status,
		    status == 405 ? "Not Allowed" : http_reason(status), status,
		    status == 405 ? "Not Allowed" : http_reason(status), server);
}

static void builtin_page(struct http_resp *rs, const char *page, size_t len)
{
	rs->ctype = "text/html";
	sb_add(&rs->body, page, len);
	http_header_add(rs, "Last-Modified", "Tue, 28 May 2024 13:22:30 GMT");
	http_header_add(rs, "ETag", "\"6655da96-%zx\"", len);
	http_header_add(rs, "Accept-Ranges", "bytes");
}

static void nginx_serve(const struct http_req *rq, struct http_resp *rs, void *arg)
{
	if (strcmp(rq->method, "GET") && strcmp(rq->method, "HEAD")) {
		error_page(rs, 405);
		return;
	}
	if (http_serve_file(rq, rs, NGINX_ROOT, "index.html", HTTP_NGINX) == 0) {
		if (rs->status >= 300)
			error_page(rs, rs->status); /* keeps the 301's Location */
		return;
	}
	if (!strcmp(rq->path, "/") || !strcmp(rq->path, "/index.html"))
		builtin_page(rs, welcome, sizeof(welcome) - 1);
	else if (!strcmp(rq->path, "/50x.html"))
		builtin_page(rs, fifty_x, sizeof(fifty_x) - 1);
	else
		error_page(rs, 404);
}

static const struct http_route nginx_routes[] = {
	{ "/", nginx_serve, 0 },
	{ NULL, NULL, 0 },
};

static const struct http_conf nginx_conf = {
	.flavour = HTTP_NGINX,
	.server = server,
	.routes = nginx_routes,
	.log = http_log_nginx,
	.idle_sec = 65,
};

static void entrypoint_lines(void)
{
	static const char *const lines[] = {
		"/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will "
		"attempt to perform configuration",
		"/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/",
		"/docker-entrypoint.sh: Launching /docker-entrypoint.d/"
		"10-listen-on-ipv6-by-default.sh",
		"10-listen-on-ipv6-by-default.sh: info: Getting the checksum of "
		"/etc/nginx/conf.d/default.conf",
		"10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in "
		"/etc/nginx/conf.d/default.conf",
		"/docker-entrypoint.sh: Sourcing /docker-entrypoint.d/15-local-resolvers.envsh",
		"/docker-entrypoint.sh: Launching /docker-entrypoint.d/"
		"20-envsubst-on-templates.sh",
		"/docker-entrypoint.sh: Launching /docker-entrypoint.d/"
		"30-tune-worker-processes.sh",
		"/docker-entrypoint.sh: Configuration complete; ready for start up",
	};

	if (getenv("NGINX_ENTRYPOINT_QUIET_LOGS"))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++)
		printf("%s\n", lines[i]);
}

static int nginx_signal(struct img_srv *s, int sig, void *arg)
{
	if (sig == SIGQUIT) {
		notice("signal 3 (SIGQUIT) received, shutting down");
		notice("gracefully shutting down");
	} else {
		notice("signal %d (%s) received, exiting", sig,
		       sig == SIGTERM ? "SIGTERM" : "SIGINT");
	}
	notice("exiting");
	notice("exit");
	return 0;
}

/* nginx's own options; 1 when one of them answered (exit code in *rc). */
static int nginx_options(int argc, char **argv, int *rc)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-v") || !strcmp(a, "-V")) {
			fprintf(stderr, "nginx version: %s\n", server);
			*rc = 0;
			return 1;
		}
		if (!strcmp(a, "-t") || !strcmp(a, "-T")) {
			fprintf(stderr, "nginx: the configuration file /etc/nginx/nginx.conf "
				"syntax is ok\nnginx: configuration file "
				"/etc/nginx/nginx.conf test is successful\n");
			*rc = 0;
			return 1;
		}
		if (!strcmp(a, "-s")) {
			fprintf(stderr, "nginx: [error] invalid PID number \"\" in "
				"\"/run/nginx.pid\"\n");
			*rc = 1;
			return 1;
		}
		if (strchr("gcpe", a[1]) && a[0] == '-' && !a[2])
			i++;
	}
	return 0;
}

int img_nginx_main(int argc, char **argv)
{
	struct utsname u;
	int rc;

	img_tag_version(version, sizeof(version), "1.27.0");
	snprintf(server, sizeof(server), "nginx/%s", version);
	if (!strcmp(argv[0], "/docker-entrypoint.sh") ||
	    !strcmp(argv[0], "docker-entrypoint.sh")) {
		argv++, argc--;
		if (!argc)
			return 0;
		if (strcmp(argv[0], "nginx") && strcmp(argv[0], "nginx-debug"))
			img_exec_host(argv);
		entrypoint_lines();
	}
	if (nginx_options(argc, argv, &rc))
		return rc;
	uname(&u);
	notice("using the \"epoll\" event method");
	notice("%s", server);
	notice("OS: Linux %s", u.release);
	notice("start worker processes");
	return img_http_main(NULL, 80, &nginx_conf, nginx_signal, NULL);
}
