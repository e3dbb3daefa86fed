/*
 * images/img_client.c: the one HTTP client a built-in needs: agnhost
 * netexec's /dial, which GETs http://HOST:PORT/REQUEST with a 5 s timeout
 * and returns the body whatever the status (Go's http.Client.Get).
 *
 * Blocking, one request per connection ("Connection: close"), bodies
 * delimited by Content-Length, chunked encoding or the end of the stream.
 * Errors are worded like Go's net/http so /dial's "errors" read the same.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"
#include "images/img.h"

static int64_t left_ms(uint64_t deadline)
{
	uint64_t now = lk_now_ms();
	return now >= deadline ? 0 : (int64_t)(deadline - now);
}

/* Non-blocking connect bounded by the deadline: 0, or -1 with errno
 * (ETIMEDOUT when the deadline passed). */
static int connect_by(int fd, const struct sockaddr *sa, socklen_t len,
		      uint64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	int err = 0;
	socklen_t elen = sizeof(err);

	if (connect(fd, sa, len) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return -1;
	if (poll(&pfd, 1, (int)left_ms(deadline)) <= 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
	errno = err;
	return err ? -1 : 0;
}

/* Read until EOF, the deadline, or a complete response. */
static int read_all(int fd, struct strbuf *sb, uint64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char buf[16384];

	for (;;) {
		if (poll(&pfd, 1, (int)left_ms(deadline)) <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		sb_add(sb, buf, (size_t)n);
	}
}

static void dechunk(const char *b, size_t len, struct strbuf *body)
{
	size_t off = 0;

	while (off < len) {
		char *end;
		unsigned long n = strtoul(b + off, &end, 16);
		const char *nl = memchr(b + off, '\n', len - off);
		if (!nl || end == b + off || n == 0)
			return;
		off = (size_t)(nl - b) + 1;
		if (n > len - off)
			n = len - off;
		sb_add(body, b + off, n);
		off += n;
		while (off < len && (b[off] == '\r' || b[off] == '\n'))
			off++;
	}
}

/* The body of a raw response; -1 when it is not HTTP. */
static int response_body(const struct strbuf *raw, struct strbuf *body)
{
	const char *hend = raw->buf ? strstr(raw->buf, "\r\n\r\n") : NULL;
	const char *te, *cl, *ch;
	size_t off, n;

	if (!hend || strncmp(raw->buf, "HTTP/1.", 7))
		return -1;
	off = (size_t)(hend - raw->buf) + 4;
	n = raw->len - off;
	te = strcasestr(raw->buf, "\r\nTransfer-Encoding:");
	cl = strcasestr(raw->buf, "\r\nContent-Length:");
	ch = te ? strcasestr(te, "chunked") : NULL;
	if (te && te < hend && ch && ch < hend) {
		dechunk(raw->buf + off, n, body);
		return 0;
	}
	if (cl && cl < hend && strtoul(cl + 17, NULL, 10) < n)
		n = strtoul(cl + 17, NULL, 10);
	sb_add(body, raw->buf + off, n);
	return 0;
}

int http_get(const struct sockaddr *sa, socklen_t salen, const char *hostport,
	     const char *path, int timeout_ms, struct strbuf *body,
	     struct strbuf *err)
{
	uint64_t deadline = lk_now_ms() + (uint64_t)timeout_ms;
	struct strbuf raw = STRBUF_INIT;
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int rc = -1;
	char *req = NULL;

	sb_addf(err, "Get \"http://%s/%s\": ", hostport, path);
	if (fd < 0 || connect_by(fd, sa, salen, deadline) < 0) {
		if (errno == ETIMEDOUT)
			sb_adds(err, "context deadline exceeded (Client.Timeout "
				"exceeded while awaiting headers)");
		else
			sb_addf(err, "dial tcp %s: connect: %s", hostport, img_errstr(errno));
		goto out;
	}
	req = xasprintf("GET /%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: "
			"Go-http-client/1.1\r\nConnection: close\r\n\r\n", path, hostport);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req) ||
	    read_all(fd, &raw, deadline) < 0) {
		sb_adds(err, errno == ETIMEDOUT
				     ? "context deadline exceeded (Client.Timeout "
				       "exceeded while awaiting headers)"
				     : img_errstr(errno));
		goto out;
	}
	if (response_body(&raw, body) < 0) {
		sb_adds(err, "malformed HTTP response");
		goto out;
	}
	sb_reset(err);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(req);
	sb_release(&raw);
	return rc;
}
