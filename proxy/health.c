/*
 * proxy/health.c: the healthCheckNodePort servers, as kube-proxy's
 * pkg/proxy/healthcheck/service_health.go. A LoadBalancer service with
 * externalTrafficPolicy Local gets an HTTP server on its healthCheckNodePort
 * (all node addresses): any request answers 200 while this node has ready
 * endpoints of the service and the proxy is healthy, else 503, with the
 * count as JSON and in X-Load-Balancing-Endpoint-Weight, so a load balancer
 * sends traffic only to nodes that can serve it without leaving the node.
 *
 * Non-blocking sockets on the loop: one listener per service, opened and
 * closed as plans come and go; each connection reads one request head,
 * writes one response and closes (HTTP/1.1 with Connection: close), or is
 * closed after HC_IDLE_MS. proxy_health_sync runs on every proxy tick: it
 * also ends idle connections and resumes listeners paused by accept errors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/loop.h"
#include "common/util.h"
#include "proxy/proxy.h"

#define HC_MAX_CONNS 64
#define HC_IDLE_MS 10000

struct hc_srv {
	char *svc;              /* "ns/name" */
	uint16_t port;
	int fd;                 /* -1: not listening (bind failed, retried) */
	size_t count;           /* local ready endpoints (distinct IPs) */
	bool seen, logged;
	bool paused;            /* accept failed: off the loop until the next sync */
};

struct hc_conn {
	struct proxy_health *h;
	struct hc_conn *next;
	int fd;
	uint64_t since;         /* lk_now_ms() at accept */
	char *svc;
	char in[2048];
	size_t nin;
	char *out;
	size_t nout, off;
};

struct proxy_health {
	struct loop *loop;
	struct hc_srv *srvs;
	size_t n;
	struct hc_conn *conns;
	size_t nconns;
	bool healthy;
};

char *proxy_health_response(const char *svc, size_t count, bool healthy, size_t *len)
{
	const char *slash = strchr(svc, '/');
	int nslen = slash ? (int)(slash - svc) : 0;
	const char *name = slash ? slash + 1 : svc;
	bool ok = count && healthy;
	char *body = xasprintf("{\n\t\"service\": {\n\t\t\"namespace\": \"%.*s\",\n"
			       "\t\t\"name\": \"%s\"\n\t},\n\t\"localEndpoints\": %zu,\n"
			       "\t\"serviceProxyHealthy\": %s\n}", nslen, svc, name, count,
			       healthy ? "true" : "false");
	char *r = xasprintf("HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
			    "X-Content-Type-Options: nosniff\r\n"
			    "X-Load-Balancing-Endpoint-Weight: %zu\r\n"
			    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
			    ok ? "200 OK" : "503 Service Unavailable", count, strlen(body), body);
	free(body);
	*len = strlen(r);
	return r;
}

struct proxy_health *proxy_health_new(struct loop *l)
{
	struct proxy_health *h = xcalloc(1, sizeof(*h));
	h->loop = l;
	h->healthy = true;
	return h;
}

static void conn_close(struct proxy_health *h, struct hc_conn *c)
{
	struct hc_conn **pp = &h->conns;
	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	loop_fd_del(h->loop, c->fd);
	close(c->fd);
	free(c->svc);
	free(c->out);
	free(c);
	h->nconns--;
}

static struct hc_srv *srv_find(struct proxy_health *h, const char *svc)
{
	for (size_t i = 0; i < h->n; i++)
		if (!strcmp(h->srvs[i].svc, svc))
			return &h->srvs[i];
	return NULL;
}

static void conn_io(struct loop *l, int fd, int events, void *arg)
{
	struct hc_conn *c = arg;
	struct proxy_health *h = c->h;
	ssize_t n;

	if (!c->out) {
		n = read(fd, c->in + c->nin, sizeof(c->in) - 1 - c->nin);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			conn_close(h, c);
			return;
		}
		c->nin += (size_t)n;
		c->in[c->nin] = 0;
		if (!strstr(c->in, "\r\n\r\n") && !strstr(c->in, "\n\n") &&
		    c->nin < sizeof(c->in) - 1)
			return;
		const struct hc_srv *s = srv_find(h, c->svc);
		if (!s) {       /* closed meanwhile */
			conn_close(h, c);
			return;
		}
		c->out = proxy_health_response(c->svc, s->count, h->healthy, &c->nout);
		loop_fd_mod(h->loop, fd, LOOP_WRITE);
	}
	n = write(fd, c->out + c->off, c->nout - c->off);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		c->off += (size_t)n;
	if (n <= 0 || c->off == c->nout)
		conn_close(h, c);
}

static void conn_close_oldest(struct proxy_health *h)
{
	struct hc_conn *o = h->conns;
	while (o && o->next)
		o = o->next;
	if (o)
		conn_close(h, o);
}

static void conn_new(struct proxy_health *h, const struct hc_srv *s, int cfd)
{
	struct hc_conn *c = xcalloc(1, sizeof(*c));
	if (h->nconns >= HC_MAX_CONNS)  /* drop the oldest: a stuck client */
		conn_close_oldest(h);
	c->h = h;
	c->fd = cfd;
	c->since = lk_now_ms();
	c->svc = xstrdup(s->svc);
	c->next = h->conns;
	h->conns = c;
	h->nconns++;
	loop_fd_add(h->loop, cfd, LOOP_READ, conn_io, c);
}

/* Accept what is pending. Out of descriptors: free the oldest connection's
 * once and retry; any other failure (or again out of descriptors) takes the
 * listener off the loop until the next sync, as it is level-triggered and
 * would be called again at once. */
static void on_accept(struct loop *l, int fd, int events, void *arg)
{
	struct proxy_health *h = arg;
	struct hc_srv *s = NULL;
	bool retried = false;
	int cfd;

	for (size_t i = 0; i < h->n && !s; i++)
		if (h->srvs[i].fd == fd)
			s = &h->srvs[i];
	while (s) {
		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd >= 0) {
			conn_new(h, s, cfd);
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if ((errno == EMFILE || errno == ENFILE) && h->conns && !retried) {
			conn_close_oldest(h);
			retried = true;
			continue;
		}
		if (!s->logged)
			lk_log("proxy: cannot accept on the health check port %u of service '%s': %s",
			       s->port, s->svc, strerror(errno));
		s->logged = true;
		loop_fd_del(h->loop, fd);
		s->paused = true;
		return;
	}
}

static int srv_listen(struct proxy_health *h, struct hc_srv *s)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(s->port) };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 64) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	s->fd = fd;
	loop_fd_add(h->loop, fd, LOOP_READ, on_accept, h);
	return 0;
}

static void srv_close(struct proxy_health *h, struct hc_srv *s)
{
	if (s->fd >= 0) {
		if (!s->paused)
			loop_fd_del(h->loop, s->fd);
		close(s->fd);
	}
	free(s->svc);
}

/* Distinct IPs of the service's node-local ready endpoints (all ports), as
 * kube-proxy's EndpointsMap.LocalReadyEndpoints. */
static size_t local_ready(const struct proxy_plan *p, const char *svc)
{
	uint32_t *ips = NULL;
	size_t n = 0;
	for (size_t i = 0; i < p->n; i++) {
		const struct proxy_svc *s = &p->svcs[i];
		if (strcmp(s->svc, svc) || !s->leps_ready)
			continue;
		for (size_t e = 0; e < s->nleps; e++) {
			size_t k = 0;
			while (k < n && ips[k] != s->leps[e].ip)
				k++;
			if (k < n)
				continue;
			ips = xrealloc(ips, (n + 1) * sizeof(*ips));
			ips[n++] = s->leps[e].ip;
		}
	}
	free(ips);
	return n;
}

/* Open (or keep) the listener of ps's service and update its count. */
static void srv_want(struct proxy_health *h, const struct proxy_svc *ps, const struct proxy_plan *p)
{
	struct hc_srv *s = srv_find(h, ps->svc);
	if (!s) {
		h->srvs = xrealloc(h->srvs, (h->n + 1) * sizeof(*h->srvs));
		s = &h->srvs[h->n++];
		memset(s, 0, sizeof(*s));
		s->svc = xstrdup(ps->svc);
		s->port = ps->hcport;
		s->fd = -1;
	}
	if (s->fd < 0 && srv_listen(h, s) < 0 && !s->logged) {
		lk_log("proxy: cannot serve the health check of service '%s' on port %u: %s",
		       s->svc, s->port, strerror(errno));
		s->logged = true;
	}
	if (s->paused && loop_fd_add(h->loop, s->fd, LOOP_READ, on_accept, h) == 0)
		s->paused = false;
	s->count = local_ready(p, s->svc);
}

static void conns_expire(struct proxy_health *h)
{
	uint64_t now = lk_now_ms();
	struct hc_conn *c = h->conns, *next;
	for (; c; c = next) {
		next = c->next;
		if (now - c->since >= HC_IDLE_MS)
			conn_close(h, c);
	}
}

void proxy_health_sync(struct proxy_health *h, const struct proxy_plan *p, bool healthy)
{
	h->healthy = healthy;
	conns_expire(h);
	/* listeners that stay: same service, same port */
	for (size_t i = 0; i < h->n; i++)
		h->srvs[i].seen = false;
	for (size_t i = 0; i < p->n; i++) {
		struct hc_srv *s = p->svcs[i].hcport ? srv_find(h, p->svcs[i].svc) : NULL;
		if (s && s->port == p->svcs[i].hcport)
			s->seen = true;
	}
	/* close the others first: a port another service takes over is free */
	for (size_t i = 0; i < h->n;) {
		if (h->srvs[i].seen) {
			i++;
			continue;
		}
		srv_close(h, &h->srvs[i]);
		h->srvs[i] = h->srvs[--h->n];
	}
	for (size_t i = 0; i < p->n; i++)
		if (p->svcs[i].hcport)
			srv_want(h, &p->svcs[i], p);
}

void proxy_health_free(struct proxy_health *h)
{
	if (!h)
		return;
	while (h->conns)
		conn_close(h, h->conns);
	for (size_t i = 0; i < h->n; i++)
		srv_close(h, &h->srvs[i]);
	free(h->srvs);
	free(h);
}
