/*
 * dns/server.c: the cluster DNS component (dns_start/dns_stop), the shell
 * around the pure codec (wire.c), zone view (zone.c) and cache (cache.c).
 *
 * Informers on Services and EndpointSlices keep the zone current (filled
 * from their caches at start, then by their change handlers). Listeners:
 * UDP and TCP on port 53 of the bridge address (first address of the pod
 * CIDR; bound with IP_FREEBIND since the bridge may appear after us) and on
 * every --dns-listen address.
 *
 * An address that cannot be bound fails the start, as it does for CoreDNS
 * (its pod exits, "listen udp ...: bind: address already in use") and for
 * the API's --listen: one line names it, e.g. "dns: cannot listen on
 * 10.244.0.1:53: Address already in use", and the server exits non-zero
 * rather than run a cluster whose pods cannot resolve names. IP_FREEBIND
 * lifts only the "address not (yet) on an interface" check: a port taken on
 * that address, or on 0.0.0.0, still fails. UDP and TCP go together: a
 * listener is both or neither. The one exception, stated in
 * listeners_open(ds): the bridge address refused for lack of privilege.
 *
 * UDP: recvmmsg a batch, answer each (zone answers encoded into reused
 * buffers, no allocation per query), sendmmsg the batch; replies leave from
 * the socket, hence the address, the query came to. TCP (RFC 7766):
 * length-framed, pipelined, answered in any order, partial reads and writes
 * buffered, idle connections closed after 10 s; back-pressure: a connection
 * with TCP_MAX_JOBS queries in flight or more than TCP_OUT_HIGH bytes of
 * unread answers is not read until that drains; when MAX_CONNS are open, a
 * new one replaces the least recently active idle one. At most MAX_JOBS
 * queries wait for the forwarder (beyond: SERVFAIL), so a flood of one
 * question cannot grow memory without bound. Names outside the zone go
 * to the cache, then the forwarder (forward.c); an ExternalName CNAME to an
 * outside name is chased through the same path and the target's records
 * appended (the CNAME alone when that fails, as CoreDNS does).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/loop.h"
#include "common/util.h"
#include "dns/dns.h"
#include "dns/dns_internal.h"
#include "server/labkube.h"
#include "server/registry/informer.h"
#include "server/registry/serve.h"
#include "server/resources/resources.h"

#define MAX_LISTEN 16
#define MAX_UPSTREAM 8
#define BATCH 32
#define INBUF 2048
#define OUTBUF 4096
#define MAX_CONNS 256
#define MAX_JOBS 8192
#define TCP_QUERY_MAX 4096
#define TCP_MAX_JOBS 64                 /* queries in flight per connection */
#define TCP_OUT_HIGH (64u << 10)        /* unread answers: stop reading */
#define TCP_OUT_MAX (256u << 10)        /* unread answers: close */
#define TCP_OUT_KEEP (16u << 10)        /* a drained buffer bigger is freed */
#define TCP_IDLE_MS 10000
#define CACHE_ENTRIES 10000
#define CACHE_BYTES (8u << 20)

struct dnssrv;

struct listener {
	struct dnssrv *ds;              /* the server it belongs to */
	struct dns_addr addr;
	int ufd, tfd;
	bool up;
};

struct job;

struct tconn {
	struct tconn *prev, *next;
	struct listener *l;
	int fd;
	int watch;              /* LOOP_* events watched, 0: none */
	bool eof;
	uint64_t last_ms;
	size_t inlen;
	uint8_t *out;
	size_t ooff, olen, ocap;        /* out[ooff..olen) is unsent */
	struct job *jobs;
	int njobs;
	uint8_t in[2 + TCP_QUERY_MAX];
};

/* Where an answer goes. */
struct origin {
	struct listener *l;
	const struct sockaddr_storage *peer;
	socklen_t plen;
	struct tconn *conn;
};

/* A query waiting for the forwarder. */
struct job {
	struct job *cprev, *cnext;      /* on conn's list */
	struct tconn *conn;             /* NULL: UDP, or the connection closed */
	struct listener *l;
	struct sockaddr_storage peer;
	socklen_t plen;
	bool tcp;
	struct dns_answer ans;          /* chase: the zone's CNAME answer */
	struct dns_qpack q;             /* the client's */
};

struct udpbatch {
	struct mmsghdr in[BATCH], out[BATCH];
	struct iovec iin[BATCH], iout[BATCH];
	struct sockaddr_storage peer[BATCH];
	uint8_t ib[BATCH][INBUF];
	uint8_t ob[BATCH][OUTBUF];
};

struct dnssrv {
	struct labkube *lk;
	struct dns_zone *zone;
	struct informer *svcs, *slices;
	struct dns_cache *cache;
	struct fwd *fwd;
	struct listener ls[MAX_LISTEN];
	int nls;
	struct tconn *conns;
	int nconns, njobs;
	char domain[DNS_RNAME_BUF];     /* cluster domain: lower case, no final dot */
	struct loop_timer *timer;
	char *reason;
	uint64_t send_errors, logged_errors, last_log_ms;
	struct dns_answer ans;          /* reused by the synchronous path */
	struct dns_query q, jq;         /* jq: a job's query, restored */
	struct udpbatch *ub;
	uint8_t rbuf[2 + 65536];        /* async answers and TCP */
	uint8_t scratch[65536];
};

/* ---- answering ---- */

static void count_error(struct dnssrv *ds)
{
	ds->send_errors++;
}

static void conn_flush(struct tconn *c);
static int conn_queue(struct tconn *c, const uint8_t *msg, size_t len);
static void conn_close(struct tconn *c);
static void job_free(struct job *j);
static void on_conn_event(struct loop *lp, int fd, int events, void *arg);

/* Send an async answer and free the job. */
static void job_finish(struct job *j, const uint8_t *msg, size_t len)
{
	struct dnssrv *ds = j->l->ds;
	struct tconn *c = j->conn;
	if (j->tcp) {
		if (c && len && conn_queue(c, msg, len) < 0) {
			conn_close(c);  /* clears j->conn */
			c = NULL;
		}
	} else if (len && j->l->ufd >= 0 &&
		   sendto(j->l->ufd, msg, len, MSG_DONTWAIT, (struct sockaddr *)&j->peer,
			  j->plen) < 0) {
		count_error(ds);
	}
	job_free(j);
	if (c)
		conn_flush(c);  /* may read what waited for this job */
}

static size_t client_max(const struct dns_query *q, bool tcp, size_t cap)
{
	size_t max = tcp ? DNS_TCP_MAX : q->udp_size < DNS_UDP_MIN ? DNS_UDP_MIN : q->udp_size;
	return max < cap ? max : cap;
}

/* The job's query as a struct dns_query (ds->jq, valid until the next call). */
static const struct dns_query *job_query(const struct job *j)
{
	struct dnssrv *ds = j->l->ds;
	dns_qpack_load(&ds->jq, &j->q);
	return &ds->jq;
}

static void job_free(struct job *j)
{
	struct dnssrv *ds = j->l->ds;
	if (j->conn) {
		if (j->cprev)
			j->cprev->cnext = j->cnext;
		else
			j->conn->jobs = j->cnext;
		if (j->cnext)
			j->cnext->cprev = j->cprev;
		j->conn->njobs--;
	}
	ds->njobs--;
	dns_answer_release(&j->ans);
	free(j);
}

/* NULL when MAX_JOBS wait already (answer SERVFAIL). */
static struct job *job_new(const struct dns_query *q, const struct origin *o)
{
	struct dnssrv *ds = o->l->ds;
	if (ds->njobs >= MAX_JOBS)
		return NULL;
	struct job *j = xcalloc(1, sizeof(*j));
	ds->njobs++;
	dns_qpack_save(&j->q, q);
	dns_answer_init(&j->ans);
	j->l = o->l;
	j->tcp = o->conn != NULL;
	if (o->conn) {
		j->conn = o->conn;
		j->cnext = o->conn->jobs;
		if (j->cnext)
			j->cnext->cprev = j;
		o->conn->jobs = j;
		o->conn->njobs++;
	} else {
		memcpy(&j->peer, o->peer, o->plen);
		j->plen = o->plen;
	}
	return j;
}

/* The forwarder's answer to a client's question. */
static void on_forwarded(void *arg, const uint8_t *pkt, size_t len, bool stopping)
{
	struct job *j = arg;
	struct dnssrv *ds = j->l->ds;
	uint8_t *buf = ds->rbuf + 2;
	size_t n = 0, cap = sizeof(ds->rbuf) - 2;

	if (stopping) {
		job_free(j);
		return;
	}
	const struct dns_query *q = job_query(j);
	size_t max = client_max(q, j->tcp, cap);
	if (pkt && len <= cap) {
		memcpy(buf, pkt, len);
		n = dns_relay_fixup(q, buf, len, cap, max);
	}
	if (!n)
		n = dns_rcode_reply(q, DNS_R_SERVFAIL, buf, max);
	job_finish(j, buf, n);
}

static void on_chased(void *arg, const uint8_t *pkt, size_t len, bool stopping)
{
	struct job *j = arg;
	struct dnssrv *ds = j->l->ds;
	uint8_t *buf = ds->rbuf + 2;
	size_t cap = sizeof(ds->rbuf) - 2;

	if (stopping) {
		job_free(j);
		return;
	}
	if (pkt)
		dns_chase_merge(&j->ans, pkt, len);
	const struct dns_query *q = job_query(j);
	job_finish(j, buf, dnswire_encode(q, &j->ans, buf, client_max(q, j->tcp, cap)));
}

/* A name outside the zone: the cache, else the forwarder (0: later). */
static size_t forward(const struct dns_query *q, uint8_t *out, size_t cap, size_t max,
		      const struct origin *o)
{
	struct dnssrv *ds = o->l->ds;
	if (q->qtype == DNS_T_AXFR || q->qtype == DNS_T_IXFR)
		return dns_rcode_reply(q, DNS_R_REFUSED, out, max);
	/* through a 64 KiB buffer: an entry too big for this client is
	 * still served (with TC) instead of going upstream again */
	size_t n = dnscache_get(ds->cache, q, q->id, lk_now_ms(), ds->scratch, sizeof(ds->scratch));
	if (n)
		n = dns_relay_fixup(q, ds->scratch, n, sizeof(ds->scratch), max);
	if (n) {
		memcpy(out, ds->scratch, n);     /* n <= max <= cap */
		return n;
	}
	struct job *j = fwd_busy(ds->fwd, q) ? NULL : job_new(q, o);
	if (!j)
		return dns_rcode_reply(q, DNS_R_SERVFAIL, out, max);
	if (fwd_query(ds->fwd, q, on_forwarded, j) < 0) {
		job_free(j);
		return dns_rcode_reply(q, DNS_R_SERVFAIL, out, max);
	}
	return 0;
}

static size_t chase(const struct dns_query *q, struct dns_answer *a, uint8_t *out, size_t max,
		    const struct origin *o)
{
	struct dnssrv *ds = o->l->ds;
	struct dns_query q2;
	const char *target = a->rr[a->count[DNS_SEC_AN] - 1].u.target;

	dns_chase_query(q, target, &q2);
	if (!q2.wire_len)
		return dnswire_encode(q, a, out, max);
	size_t n = dnscache_get(ds->cache, &q2, q2.id, lk_now_ms(), ds->scratch, sizeof(ds->scratch));
	if (n) {
		dns_chase_merge(a, ds->scratch, n);
		return dnswire_encode(q, a, out, max);
	}
	struct job *j = fwd_busy(ds->fwd, &q2) ? NULL : job_new(q, o);
	if (!j)
		return dnswire_encode(q, a, out, max);  /* the CNAME alone */
	j->ans.rcode = a->rcode;
	j->ans.aa = a->aa;
	dns_answer_copy(&j->ans, a);
	if (fwd_query(ds->fwd, &q2, on_chased, j) < 0) {        /* copies q2 */
		job_free(j);
		return dnswire_encode(q, a, out, max);
	}
	return 0;
}

/* Answer one query packet into out; 0 when there is nothing to send now
 * (dropped, or the forwarder answers later). */
static size_t handle_query(const uint8_t *pkt, size_t len, uint8_t *out, size_t cap,
			   const struct origin *o)
{
	struct dnssrv *ds = o->l->ds;
	struct dns_query *q = &ds->q;
	int rc = dnswire_parse(pkt, len, q);
	bool tcp = o->conn != NULL;

	if (rc == DNSWIRE_DROP)
		return 0;
	if (rc > 0)
		return dns_rcode_reply(q, (uint16_t)rc, out, tcp ? cap : DNS_UDP_MIN);
	size_t max = client_max(q, tcp, cap);
	dns_answer_reset(&ds->ans);
	if (!dnszone_answer(ds->zone, q, &ds->ans))
		return forward(q, out, cap, max, o);
	if (dns_needs_chase(q, &ds->ans, ds->domain))
		return chase(q, &ds->ans, out, max, o);
	return dnswire_encode(q, &ds->ans, out, max);
}

/* ---- UDP ---- */

/* One recvmmsg/sendmmsg round; returns how many queries came. */
static int udp_batch(struct listener *l)
{
	struct dnssrv *ds = l->ds;
	struct udpbatch *b = ds->ub;
	int n, k = 0;

	for (int i = 0; i < BATCH; i++) {
		b->iin[i] = (struct iovec){ b->ib[i], INBUF };
		b->in[i].msg_hdr = (struct msghdr){ .msg_name = &b->peer[i],
						    .msg_namelen = sizeof(b->peer[i]),
						    .msg_iov = &b->iin[i], .msg_iovlen = 1 };
	}
	n = recvmmsg(l->ufd, b->in, BATCH, MSG_DONTWAIT, NULL);
	for (int i = 0; i < n; i++) {
		struct origin o = { l, &b->peer[i], b->in[i].msg_hdr.msg_namelen, NULL };
		if (b->in[i].msg_hdr.msg_flags & MSG_TRUNC)
			continue;
		size_t len = handle_query(b->ib[i], b->in[i].msg_len, b->ob[k], OUTBUF, &o);
		if (!len)
			continue;
		b->iout[k] = (struct iovec){ b->ob[k], len };
		b->out[k].msg_hdr = (struct msghdr){ .msg_name = &b->peer[i],
						     .msg_namelen = o.plen,
						     .msg_iov = &b->iout[k], .msg_iovlen = 1 };
		k++;
	}
	for (int sent = 0; sent < k;) {
		int r = sendmmsg(l->ufd, b->out + sent, (unsigned)(k - sent), MSG_DONTWAIT);
		if (r <= 0) {
			count_error(ds);
			sent++;         /* skip the one that failed */
			continue;
		}
		sent += r;
	}
	return n;
}

static void on_udp(struct loop *lp, int fd, int events, void *arg)
{
	/* a few rounds while full batches come, then let others run */
	for (int i = 0; i < 4 && udp_batch(arg) == BATCH; i++)
		;
}

/* ---- TCP ---- */

static void conn_close(struct tconn *c)
{
	struct dnssrv *ds = c->l->ds;
	for (struct job *j = c->jobs; j; j = j->cnext)
		j->conn = NULL;
	loop_fd_del(ds->lk->loop, c->fd);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		ds->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	ds->nconns--;
	free(c->out);
	free(c);
}

static void conn_watch(struct tconn *c, int events)
{
	struct dnssrv *ds = c->l->ds;
	if (events == c->watch)
		return;
	if (!events)
		loop_fd_del(ds->lk->loop, c->fd);
	else
		loop_fd_add(ds->lk->loop, c->fd, events, on_conn_event, c);
	c->watch = events;
}

/* Whether c may take more queries: few enough in flight, its answers
 * read (RFC 7766 section 6.2.1.1: back-pressure instead of memory). */
static bool conn_more(const struct tconn *c)
{
	return c->njobs < TCP_MAX_JOBS && c->olen - c->ooff <= TCP_OUT_HIGH;
}

/* Write what is queued; -1 when c must close. */
static int conn_send(struct tconn *c)
{
	while (c->ooff < c->olen) {
		ssize_t w = send(c->fd, c->out + c->ooff, c->olen - c->ooff,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (w <= 0)
			return -1;
		c->ooff += (size_t)w;
		c->last_ms = lk_now_ms();
	}
	c->ooff = c->olen = 0;
	if (c->ocap > TCP_OUT_KEEP) {
		free(c->out);
		c->out = NULL;
		c->ocap = 0;
	}
	return 0;
}

static int conn_process(struct tconn *c);

/* Write what is queued, answer what was read as far as back-pressure
 * allows, close a client that is done, watch what is wanted next. */
static void conn_flush(struct tconn *c)
{
	for (;;) {
		if (conn_send(c) < 0) {
			conn_close(c);
			return;
		}
		size_t before = c->inlen;
		if (c->inlen < 2 || !conn_more(c))
			break;
		if (conn_process(c) < 0) {
			conn_close(c);
			return;
		}
		if (c->inlen == before)
			break;  /* an incomplete message */
	}
	bool out = c->ooff < c->olen;
	if (c->eof && !out && !c->jobs) {
		conn_close(c);
		return;
	}
	/* after EOF, or under back-pressure, no reading */
	bool rd = !c->eof && conn_more(c) && c->inlen < sizeof(c->in);
	conn_watch(c, (rd ? LOOP_READ : 0) | (out ? LOOP_WRITE : 0));
}

static int conn_queue(struct tconn *c, const uint8_t *msg, size_t len)
{
	if (c->olen - c->ooff + len + 2 > TCP_OUT_MAX)
		return -1;      /* the client does not read its answers */
	if (c->olen + len + 2 > c->ocap && c->ooff) {
		memmove(c->out, c->out + c->ooff, c->olen - c->ooff);
		c->olen -= c->ooff;
		c->ooff = 0;
	}
	if (c->olen + len + 2 > c->ocap) {
		size_t want = (c->olen + len + 2) * 2;
		c->ocap = want < TCP_OUT_MAX ? want : TCP_OUT_MAX;
		c->out = xrealloc(c->out, c->ocap);
	}
	c->out[c->olen] = (uint8_t)(len >> 8);
	c->out[c->olen + 1] = (uint8_t)len;
	memcpy(c->out + c->olen + 2, msg, len);
	c->olen += len + 2;
	return 0;
}

/* Answer the complete messages in c->in while back-pressure allows (the
 * rest stays for later); -1 when c must close (a bad length, or too much
 * unread output). */
static int conn_process(struct tconn *c)
{
	struct dnssrv *ds = c->l->ds;
	size_t off = 0;
	int rc = 0;
	while (c->inlen - off >= 2 && conn_more(c)) {
		size_t mlen = (size_t)c->in[off] << 8 | c->in[off + 1];
		if (mlen < DNS_HDR_LEN || mlen > TCP_QUERY_MAX)
			return -1;
		if (c->inlen - off < 2 + mlen)
			break;
		struct origin o = { c->l, NULL, 0, c };
		size_t n = handle_query(c->in + off + 2, mlen, ds->rbuf, DNS_TCP_MAX, &o);
		off += 2 + mlen;
		if (n && conn_queue(c, ds->rbuf, n) < 0) {
			rc = -1;
			break;
		}
	}
	memmove(c->in, c->in + off, c->inlen - off);
	c->inlen -= off;
	return rc;
}

static void on_conn_event(struct loop *lp, int fd, int events, void *arg)
{
	struct tconn *c = arg;
	size_t room = sizeof(c->in) - c->inlen;
	if ((events & LOOP_READ) && !c->eof && room) {
		ssize_t r = recv(fd, c->in + c->inlen, room, MSG_DONTWAIT);
		if (r < 0 && errno != EAGAIN && errno != EINTR) {
			conn_close(c);
			return;
		}
		if (r == 0)
			c->eof = true;
		if (r > 0) {
			c->inlen += (size_t)r;
			c->last_ms = lk_now_ms();
		}
	}
	conn_flush(c);  /* answers what came */
}

/* All MAX_CONNS are open: close the least recently active one that waits
 * for no answer, so idle clients cannot shut everyone out. */
static bool conn_evict(struct dnssrv *ds)
{
	struct tconn *old = NULL;
	for (struct tconn *c = ds->conns; c; c = c->next)
		if (!c->jobs && (!old || c->last_ms < old->last_ms))
			old = c;
	if (!old)
		return false;
	conn_close(old);
	return true;
}

static void on_accept(struct loop *lp, int fd, int events, void *arg)
{
	struct listener *l = arg;
	struct dnssrv *ds = l->ds;
	for (int i = 0; i < 16; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0)
			return;
		if (ds->nconns >= MAX_CONNS && !conn_evict(ds)) {
			close(cfd);
			count_error(ds);
			continue;
		}
		struct tconn *c = xcalloc(1, sizeof(*c));
		c->fd = cfd;
		c->l = l;
		c->watch = 0;
		c->last_ms = lk_now_ms();
		c->next = ds->conns;
		if (ds->conns)
			ds->conns->prev = c;
		ds->conns = c;
		ds->nconns++;
		conn_watch(c, LOOP_READ);
	}
}

static int64_t tick(struct loop *l, void *arg)
{
	struct dnssrv *ds = arg;
	uint64_t now = lk_now_ms();
	for (struct tconn *c = ds->conns, *nx; c; c = nx) {
		nx = c->next;
		if (now - c->last_ms > TCP_IDLE_MS)
			conn_close(c);
	}
	if (ds->send_errors != ds->logged_errors && now - ds->last_log_ms >= 60000) {
		lk_log("dns: %llu answers could not be sent or connections refused (since start)",
		       (unsigned long long)ds->send_errors);
		ds->logged_errors = ds->send_errors;
		ds->last_log_ms = now;
	}
	return 1000;
}

/* ---- setup ---- */

static const char *ready_check(void *arg)
{
	const struct dnssrv *ds = arg;
	return ds->reason;
}

static int open_sock(struct listener *l, int type, bool freebind)
{
	int one = 1, fam = l->addr.sa.ss_family;
	int fd = socket(fam, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (freebind)
		setsockopt(fd, fam == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
			   fam == AF_INET ? IP_FREEBIND : IPV6_FREEBIND, &one, sizeof(one));
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	else
		dns_udp_buffers(fd);
	if (fam == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&l->addr.sa, l->addr.len) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 128) < 0)) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Both sockets of a listener, or neither: -1 with errno, *tcp set when it
 * was TCP that failed. */
static int listener_open(struct listener *l, bool freebind, bool *tcp)
{
	struct dnssrv *ds = l->ds;
	*tcp = false;
	if ((l->ufd = open_sock(l, SOCK_DGRAM, freebind)) < 0)
		return -1;
	if ((l->tfd = open_sock(l, SOCK_STREAM, freebind)) < 0) {
		int e = errno;
		close(l->ufd);
		l->ufd = -1;
		*tcp = true;
		errno = e;
		return -1;
	}
	loop_fd_add(ds->lk->loop, l->ufd, LOOP_READ, on_udp, l);
	loop_fd_add(ds->lk->loop, l->tfd, LOOP_READ, on_accept, l);
	l->up = true;
	return 0;
}

/* Every listener, or the start fails naming the first address that cannot
 * be bound. The one exception is the bridge address (ls[0]) refused for
 * lack of privilege (EACCES: port 53 without CAP_NET_BIND_SERVICE): such a
 * server runs no pods either, so nothing would ask there; it is said once
 * and is the DNS readiness reason. */
static int listeners_open(struct dnssrv *ds)
{
	bool tcp;

	for (int i = 0; i < ds->nls; i++) {
		struct listener *l = &ds->ls[i];
		if (listener_open(l, i == 0, &tcp) == 0)
			continue;
		int e = errno;
		char *r = xasprintf("dns: cannot listen on %s%s: %s", l->addr.text,
				    tcp ? " (tcp)" : "", strerror(e));
		lk_log("%s", r);
		if (i == 0 && e == EACCES) {
			ds->reason = r;
			continue;
		}
		free(r);
		return -1;
	}
	return 0;
}

/* The bridge address plus --dns-listen; -1 on a bad flag. */
static int listeners_parse(struct dnssrv *ds, const struct config *cfg)
{
	struct dns_addr extra[MAX_LISTEN - 1];
	char bad[128];
	int n;

	if (dnsaddr_cidr_first(cfg->pod_cidr, 53, &ds->ls[0].addr) < 0) {
		lk_log("dns: cannot use pod cidr '%s'", cfg->pod_cidr ? cfg->pod_cidr : "");
		return -1;
	}
	n = dnsaddr_parse_list(cfg->dns_listen, 53, extra, MAX_LISTEN - 1, bad);
	if (n < 0) {
		lk_log("dns: bad --dns-listen address '%s'", bad);
		return -1;
	}
	ds->nls = 1;
	for (int i = 0; i < n; i++)
		if (!dnsaddr_equal(&extra[i], &ds->ls[0].addr))
			ds->ls[ds->nls++].addr = extra[i];
	for (int i = 0; i < ds->nls; i++)
		ds->ls[i].ufd = ds->ls[i].tfd = -1;
	return 0;
}

/* Upstreams from --dns-upstream or resolv.conf, less our own addresses. */
static int upstreams(struct dnssrv *ds, const struct config *cfg, struct dns_addr *ups)
{
	struct dns_addr skip[MAX_LISTEN + 1];
	char bad[128];
	int n, ns = 0;

	if (cfg->dns_upstream && *cfg->dns_upstream) {
		n = dnsaddr_parse_list(cfg->dns_upstream, 53, ups, MAX_UPSTREAM, bad);
		if (n < 0) {
			lk_log("dns: bad --dns-upstream address '%s'", bad);
			return -1;
		}
	} else {
		char *text = lk_read_file("/etc/resolv.conf", NULL);
		n = text ? dnsaddr_resolvconf(text, ups, MAX_UPSTREAM) : 0;
		free(text);
	}
	for (int i = 0; i < ds->nls; i++)
		skip[ns++] = ds->ls[i].addr;
	if (cfg->cluster_dns && dnsaddr_parse(cfg->cluster_dns, 0, &skip[ns]) == 0)
		ns++;
	return dnsaddr_filter(ups, n, skip, ns);
}

static int add_service(void *arg, const cJSON *obj)
{
	struct dnssrv *ds = arg;
	dnszone_service(ds->zone, obj, false);
	return 0;
}

static int add_slice(void *arg, const cJSON *obj)
{
	struct dnssrv *ds = arg;
	dnszone_slice(ds->zone, obj, false);
	return 0;
}

static void on_service(void *arg, enum store_ev_type type, const cJSON *obj, const cJSON *old)
{
	struct dnssrv *ds = arg;
	dnszone_service(ds->zone, obj, type == STORE_DELETED);
}

static void on_slice(void *arg, enum store_ev_type type, const cJSON *obj, const cJSON *old)
{
	struct dnssrv *ds = arg;
	dnszone_slice(ds->zone, obj, type == STORE_DELETED);
}

static void log_serving(struct dnssrv *ds, const struct dns_addr *ups, int nups)
{
	struct strbuf sb = STRBUF_INIT;
	int k = 0;
	sb_addf(&sb, "dns: serving %s on", ds->lk->cfg.cluster_domain);
	for (int i = 0; i < ds->nls; i++)
		if (ds->ls[i].up)
			sb_addf(&sb, "%s %s", k++ ? "," : "", ds->ls[i].addr.text);
	if (!k) {               /* listeners_open(ds) said why */
		sb_release(&sb);
		return;
	}
	sb_adds(&sb, " (udp+tcp), upstream");
	for (int i = 0; i < nups; i++)
		sb_addf(&sb, "%s %s", i ? "," : "", ups[i].text);
	if (!nups)
		sb_adds(&sb, " none (other names get servfail)");
	lk_log("%s", sb.buf);
	sb_release(&sb);
}

int dns_start(struct labkube *lk)
{
	const struct config *cfg = &lk->cfg;
	struct dns_addr ups[MAX_UPSTREAM];
	struct dnssrv *ds = xcalloc(1, sizeof(*ds));
	int nups;

	ds->lk = lk;
	for (int i = 0; i < MAX_LISTEN; i++)
		ds->ls[i].ds = ds;
	if (listeners_parse(ds, cfg) < 0 || (nups = upstreams(ds, cfg, ups)) < 0) {
		free(ds);
		return -1;
	}
	lk->dns = ds;
	dns_domain_norm(cfg->cluster_domain, ds->domain, sizeof(ds->domain));
	ds->ub = xcalloc(1, sizeof(*ds->ub));
	dns_answer_init(&ds->ans);
	ds->zone = dnszone_new(cfg->cluster_domain, cfg->dns_ttl > 0 ? (uint32_t)cfg->dns_ttl : 0,
			       cfg->service_cidr, cfg->pod_cidr);
	ds->svcs = informer_new(lk->reg, &res_service);
	ds->slices = informer_new(lk->reg, &res_endpointslice);
	informer_foreach(ds->svcs, NULL, add_service, ds);
	informer_foreach(ds->slices, NULL, add_slice, ds);
	informer_on(ds->svcs, on_service, ds);
	informer_on(ds->slices, on_slice, ds);
	ds->cache = dnscache_new(CACHE_ENTRIES, CACHE_BYTES);
	ds->fwd = fwd_new(lk->loop, ups, nups, ds->cache);
	ds->timer = loop_timer_add(lk->loop, 1000, tick, ds);
	if (listeners_open(ds) < 0)
		return -1;      /* the caller's dns_stop() undoes the rest */
	log_serving(ds, ups, nups);
	if (lk_net_privileged())
		registry_check_add(lk->reg, "dns", ready_check, ds);
	return 0;
}

void dns_stop(struct labkube *lk)
{
	struct dnssrv *ds = lk->dns;
	if (!ds)
		return;
	registry_check_del(lk->reg, "dns");
	fwd_free(ds->fwd);       /* frees the jobs */
	while (ds->conns)
		conn_close(ds->conns);
	for (int i = 0; i < ds->nls; i++) {
		if (ds->ls[i].ufd >= 0) {
			loop_fd_del(lk->loop, ds->ls[i].ufd);
			close(ds->ls[i].ufd);
		}
		if (ds->ls[i].tfd >= 0) {
			loop_fd_del(lk->loop, ds->ls[i].tfd);
			close(ds->ls[i].tfd);
		}
	}
	loop_timer_del(lk->loop, ds->timer);
	informer_free(ds->svcs);
	informer_free(ds->slices);
	dnszone_free(ds->zone);
	dnscache_free(ds->cache);
	dns_answer_release(&ds->ans);
	free(ds->ub);
	free(ds->reason);
	free(ds);
	lk->dns = NULL;
}
