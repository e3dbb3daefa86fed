/*
 * images/img_files.c: static files for the built-in web servers:
 * nginx's /usr/share/nginx/html, httpd's htdocs and agnhost's
 * test-webserver (Go's http.FileServer over "/"). A pod that mounts a
 * volume there (a ConfigMap, an emptyDir a sidecar writes) sees its files
 * served, as with the real images.
 *
 * Whole files are read into the response (lab pages are small); no ranges,
 * no conditional requests. Paths with a ".." segment name nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/img.h"

#define MAX_FILE (64 * 1024 * 1024)

static const struct {
	const char *ext, *type;
} mime_types[] = {
	{ "html", "text/html" }, { "htm", "text/html" }, { "css", "text/css" },
	{ "js", "application/javascript" }, { "json", "application/json" },
	{ "txt", "text/plain" }, { "xml", "text/xml" }, { "csv", "text/csv" },
	{ "png", "image/png" }, { "jpg", "image/jpeg" }, { "jpeg", "image/jpeg" },
	{ "gif", "image/gif" }, { "svg", "image/svg+xml" }, { "ico", "image/x-icon" },
	{ "webp", "image/webp" }, { "pdf", "application/pdf" },
	{ "wasm", "application/wasm" }, { "md", "text/markdown" },
};

const char *http_mime(const char *path)
{
	const char *dot = strrchr(path, '.');
	const char *slash = strrchr(path, '/');

	if (dot && (!slash || dot > slash))
		for (size_t i = 0; i < ARRAY_SIZE(mime_types); i++)
			if (!strcasecmp(dot + 1, mime_types[i].ext))
				return mime_types[i].type;
	return "application/octet-stream";
}

static bool has_dotdot(const char *path)
{
	for (const char *p = path; (p = strstr(p, "..")); p += 2)
		if ((p == path || p[-1] == '/') && (!p[2] || p[2] == '/'))
			return true;
	return false;
}

static int read_file(const char *path, struct strbuf *sb)
{
	char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0 && sb->len < MAX_FILE)
		sb_add(sb, buf, (size_t)n);
	close(fd);
	if (!sb->buf)
		sb_adds(sb, "");
	return n < 0 ? -1 : 0;
}

static void file_headers(struct http_resp *rs, const struct stat *st,
			 enum http_flavour f)
{
	char date[32];

	http_date(st->st_mtime, date);
	http_header_add(rs, "Last-Modified", "%s", date);
	if (f == HTTP_NGINX)
		http_header_add(rs, "ETag", "\"%lx-%llx\"", (long)st->st_mtime,
				(unsigned long long)st->st_size);
	else if (f == HTTP_APACHE)
		http_header_add(rs, "ETag", "\"%llx-%llx\"",
				(unsigned long long)st->st_size,
				(unsigned long long)st->st_mtime * 1000000ULL);
	http_header_add(rs, "Accept-Ranges", "bytes");
}

static int send_file(struct http_resp *rs, const char *full,
		     const struct stat *st, enum http_flavour f)
{
	const char *type = http_mime(full);

	if (read_file(full, &rs->body) < 0) {
		sb_reset(&rs->body);
		rs->status = errno == EACCES ? 403 : 404;
		return errno == EACCES ? 0 : -1;
	}
	if (f == HTTP_GO && !strncmp(type, "text/", 5))
		rs->ctype = !strcmp(type, "text/html") ? "text/html; charset=utf-8"
						       : "text/plain; charset=utf-8";
	else
		rs->ctype = type;
	file_headers(rs, st, f);
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Go's http.FileServer directory listing. */
static void go_listing(struct http_resp *rs, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;

	rs->ctype = "text/html; charset=utf-8";
	sb_adds(&rs->body, "<!doctype html>\n<meta name=\"viewport\" "
		"content=\"width=device-width\">\n<pre>\n");
	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = xasprintf("%s%s", e->d_name,
				       e->d_type == DT_DIR ? "/" : "");
	}
	if (d)
		closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		sb_addf(&rs->body, "<a href=\"%s\">%s</a>\n", names[i], names[i]);
		free(names[i]);
	}
	free(names);
	sb_adds(&rs->body, "</pre>\n");
}

static int serve_dir(const struct http_req *rq, struct http_resp *rs,
		     const char *full, const char *index, enum http_flavour f)
{
	char *idx;
	struct stat st;
	int rc = -1;

	if (rq->path[strlen(rq->path) - 1] != '/') {
		rs->status = 301;
		http_header_add(rs, "Location", "%s/%s%s", rq->path,
				*rq->query ? "?" : "", rq->query);
		return 0;
	}
	idx = index ? xasprintf("%s/%s", full, index) : NULL;
	if (idx && stat(idx, &st) == 0 && S_ISREG(st.st_mode))
		rc = send_file(rs, idx, &st, f);
	else if (f == HTTP_GO)
		go_listing(rs, full), rc = 0;
	else
		rs->status = 403, rc = 0;
	free(idx);
	return rc;
}

int http_serve_file(const struct http_req *rq, struct http_resp *rs,
		    const char *root, const char *index, enum http_flavour f)
{
	char *full;
	struct stat st;
	int rc = -1;

	if (rq->path[0] != '/' || has_dotdot(rq->path))
		return -1;
	full = xasprintf("%s%s", strcmp(root, "/") ? root : "", rq->path);
	if (stat(full, &st) < 0)
		rc = errno == EACCES ? (rs->status = 403, 0) : -1;
	else if (S_ISDIR(st.st_mode))
		rc = serve_dir(rq, rs, full, index, f);
	else if (S_ISREG(st.st_mode))
		rc = send_file(rs, full, &st, f);
	free(full);
	return rc;
}
