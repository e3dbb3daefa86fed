/*
 * images/img_http_util.c: the request and response helpers of the
 * built-in HTTP servers (img_http.c): header and form lookups, percent
 * decoding, status texts, Go's http.Error and http.Redirect, and the access
 * logs of nginx ("main") and Apache ("common").
 *
 * Follows Go's net/http (FormValue, Redirect, Error), RFC 3986 percent
 * encoding and the two servers' documented log formats.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "images/img.h"

/* ----------------------------------------------------------- status */

static const struct {
	int code;
	const char *text;
} reasons[] = {
	{ 100, "Continue" }, { 200, "OK" }, { 201, "Created" },
	{ 202, "Accepted" }, { 204, "No Content" },
	{ 206, "Partial Content" }, { 301, "Moved Permanently" },
	{ 302, "Found" }, { 303, "See Other" }, { 304, "Not Modified" },
	{ 307, "Temporary Redirect" }, { 308, "Permanent Redirect" },
	{ 400, "Bad Request" }, { 401, "Unauthorized" }, { 403, "Forbidden" },
	{ 404, "Not Found" }, { 405, "Method Not Allowed" },
	{ 408, "Request Timeout" }, { 411, "Length Required" },
	{ 412, "Precondition Failed" }, { 413, "Request Entity Too Large" },
	{ 417, "Expectation Failed" }, { 418, "I'm a teapot" },
	{ 431, "Request Header Fields Too Large" },
	{ 500, "Internal Server Error" }, { 501, "Not Implemented" },
	{ 502, "Bad Gateway" }, { 503, "Service Unavailable" },
	{ 504, "Gateway Timeout" }, { 505, "HTTP Version Not Supported" },
};

const char *http_reason(int status)
{
	for (size_t i = 0; i < ARRAY_SIZE(reasons); i++)
		if (reasons[i].code == status)
			return reasons[i].text;
	return status < 600 && status >= 100 ? "status code" : "Unknown";
}

void http_date(time_t t, char *buf)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 32, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* ----------------------------------------------------------- requests */

const char *http_header(const struct http_req *rq, const char *name)
{
	for (int i = 0; i < rq->nhdrs; i++)
		if (!strcasecmp(rq->hdrs[i].name, name))
			return rq->hdrs[i].value;
	return NULL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 32) >= 'a' && (c | 32) <= 'f')
		return (c | 32) - 'a' + 10;
	return -1;
}

char *http_unescape(const char *s, size_t len, bool plus_is_space)
{
	char *out = xmalloc(len + 1), *o = out;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 &&
		    hexval(s[i + 2]) >= 0) {
			*o++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			*o++ = plus_is_space && s[i] == '+' ? ' ' : s[i];
		}
	}
	*o = 0;
	return out;
}

static char *form_lookup(const char *s, const char *key)
{
	size_t klen = strlen(key);

	while (s && *s) {
		size_t n = strcspn(s, "&");
		const char *eq = memchr(s, '=', n);
		size_t kn = eq ? (size_t)(eq - s) : n;
		char *k = http_unescape(s, kn, true);
		bool hit = strlen(k) == klen && !strcmp(k, key);
		free(k);
		if (hit)
			return eq ? http_unescape(eq + 1, n - kn - 1, true) : xstrdup("");
		s += n + (s[n] == '&');
	}
	return NULL;
}

char *http_form(const struct http_req *rq, const char *key)
{
	const char *ct = http_header(rq, "Content-Type");
	char *v = form_lookup(rq->query, key);

	if (!v && ct && !strncasecmp(ct, "application/x-www-form-urlencoded", 33) &&
	    strcmp(rq->method, "GET") && strcmp(rq->method, "HEAD"))
		v = form_lookup(rq->body, key);
	return v;
}

void http_header_add(struct http_resp *rs, const char *name, const char *fmt, ...)
{
	va_list ap;

	sb_addf(&rs->hdrs, "%s: ", name);
	va_start(ap, fmt);
	sb_vaddf(&rs->hdrs, fmt, ap);
	va_end(ap);
	sb_adds(&rs->hdrs, "\r\n");
}

void http_printf(struct http_resp *rs, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sb_vaddf(&rs->body, fmt, ap);
	va_end(ap);
}

void http_go_error(struct http_resp *rs, int code, const char *fmt, ...)
{
	va_list ap;

	rs->status = code;
	rs->ctype = "text/plain; charset=utf-8";
	http_header_add(rs, "X-Content-Type-Options", "nosniff");
	sb_reset(&rs->body);
	va_start(ap, fmt);
	sb_vaddf(&rs->body, fmt, ap);
	va_end(ap);
	sb_addc(&rs->body, '\n');
}

static void html_escape(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': sb_adds(sb, "&lt;"); break;
		case '>': sb_adds(sb, "&gt;"); break;
		case '&': sb_adds(sb, "&amp;"); break;
		case '"': sb_adds(sb, "&#34;"); break;
		case '\'': sb_adds(sb, "&#39;"); break;
		default: sb_addc(sb, *s);
		}
	}
}

void http_go_redirect(const struct http_req *rq, struct http_resp *rs,
		      const char *url, int code)
{
	struct strbuf loc = STRBUF_INIT;
	const char *slash;

	if (!strstr(url, "://") && url[0] != '/') {
		slash = strrchr(rq->path, '/');
		sb_add(&loc, rq->path, slash ? (size_t)(slash - rq->path) + 1 : 0);
		if (!loc.len)
			sb_addc(&loc, '/');
	}
	sb_adds(&loc, url);
	rs->status = code;
	http_header_add(rs, "Location", "%s", loc.buf);
	if (!strcmp(rq->method, "GET") || !strcmp(rq->method, "HEAD")) {
		rs->ctype = "text/html; charset=utf-8";
		sb_adds(&rs->body, "<a href=\"");
		html_escape(&rs->body, loc.buf);
		sb_addf(&rs->body, "\">%s</a>.\n\n", http_reason(code));
	}
	sb_release(&loc);
}

/* "[10/Oct/2000:13:55:36 +0000]" */
static void clf_time(char *buf, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(buf, len, "[%d/%b/%Y:%H:%M:%S +0000]", &tm);
}

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

void http_log_nginx(const struct http_req *rq, const struct http_resp *rs, void *arg)
{
	char ts[40];

	clf_time(ts, sizeof(ts));
	printf("%s - - %s \"%s %s %s\" %d %zu \"%s\" \"%s\" \"%s\"\n", rq->peer_ip,
	       ts, rq->method, rq->target, rq->proto, rs->status,
	       rs->head_only ? 0 : rs->body.len, or_dash(http_header(rq, "Referer")),
	       or_dash(http_header(rq, "User-Agent")),
	       or_dash(http_header(rq, "X-Forwarded-For")));
	fflush(stdout);
}

void http_log_apache(const struct http_req *rq, const struct http_resp *rs, void *arg)
{
	char ts[40], bytes[32];

	clf_time(ts, sizeof(ts));
	if (rs->head_only || !rs->body.len)
		snprintf(bytes, sizeof(bytes), "-");
	else
		snprintf(bytes, sizeof(bytes), "%zu", rs->body.len);
	printf("%s - - %s \"%s %s %s\" %d %s\n", rq->peer_ip, ts, rq->method,
	       rq->target, rq->proto, rs->status, bytes);
	fflush(stdout);
}
