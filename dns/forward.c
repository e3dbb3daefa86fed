/*
 * dns/forward.c: the forwarder (see dns_internal.h), CoreDNS' forward
 * plugin in small.
 *
 * One connected UDP socket per upstream, so an ICMP port unreachable comes
 * back as ECONNREFUSED and the query moves on at once. Each query gets a
 * random 16-bit id (unique among those pending) and its answer must match
 * it and the question (dnswire_check_response). A new query goes first to
 * the upstream that answered last (a dead first nameserver costs one try,
 * not one per query), always with RD set. After a try without answer the
 * query goes to the next upstream (and back to the one that answered last
 * if it answered recently, see fq_next); after at most four tries, two
 * seconds in all, it fails (the caller answers SERVFAIL): never a hang. A
 * truncated UDP answer is asked again over TCP (RFC 7766) to the same
 * upstream, non-blocking on the loop; if that fails the truncated answer is
 * relayed, so the client retries over TCP itself. Answers worth keeping go
 * into the cache. Identical questions in flight share one upstream query,
 * up to FWD_MAX_WAITERS clients each (dns_internal.h): memory stays bounded
 * when one question floods in while the upstreams are silent.
 * A 50 ms tick checks deadlines while queries are pending.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/loop.h"
#include "common/util.h"
#include "dns/dns_internal.h"

#define FWD_TOTAL_MS 2000
#define FWD_TCP_MS 2000
#define FWD_HASH 1024

/* A client of a pending query: identical questions share one. */
struct waiter {
	struct waiter *next;
	fwd_fn fn;
	void *arg;
};

struct fq {
	struct fwd *f;
	struct fq *prev, *next;         /* pending list */
	struct fq *hnext;               /* id hash chain */
	uint16_t id;
	int up, tries;
	uint64_t deadline;
	uint64_t sent_us;               /* of the last try (a local upstream's
					 * ICMP error comes back within the ms) */
	struct waiter *waiters;         /* who asked, the first one last */
	int nwaiters;
	struct fq *khnext;              /* question hash chain */
	uint32_t khash;
	/* TCP phase (tfd >= 0) */
	int tfd;
	bool twriting;
	uint8_t *tbuf;                  /* query to write, then the answer */
	size_t tlen, toff;
	uint8_t *tc_pkt;                /* the truncated UDP answer */
	size_t tc_len;
	struct dns_query q;
};

struct fwd {
	struct loop *loop;
	struct dns_cache *cache;
	struct dns_addr *ups;
	int *ufd;
	int n, max_tries;
	int good;                       /* the upstream that answered last */
	uint64_t good_ms;               /* when (0: none yet) */
	uint64_t try_ms;
	struct fq *head, *tail;
	size_t npending;
	struct fq *hash[FWD_HASH];      /* by id */
	struct fq *khash[FWD_HASH];     /* by question */
	struct loop_timer *timer;
	struct fwd_stats st;
	uint8_t buf[65536];
};

static void on_udp(struct loop *l, int fd, int events, void *arg);
static int64_t tick(struct loop *l, void *arg);

static struct fq *by_id(struct fwd *f, uint16_t id)
{
	for (struct fq *q = f->hash[id % FWD_HASH]; q; q = q->hnext)
		if (q->id == id)
			return q;
	return NULL;
}

static void fq_unlink(struct fwd *f, struct fq *q)
{
	struct fq **pp = &f->hash[q->id % FWD_HASH];
	while (*pp && *pp != q)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = q->hnext;
	pp = &f->khash[q->khash % FWD_HASH];
	while (*pp && *pp != q)
		pp = &(*pp)->khnext;
	if (*pp)
		*pp = q->khnext;
	if (q->prev)
		q->prev->next = q->next;
	else
		f->head = q->next;
	if (q->next)
		q->next->prev = q->prev;
	else
		f->tail = q->prev;
	f->npending--;
}

static void fq_free(struct fwd *f, struct fq *q)
{
	if (q->tfd >= 0) {
		loop_fd_del(f->loop, q->tfd);
		close(q->tfd);
	}
	free(q->tbuf);
	free(q->tc_pkt);
	free(q);
}

static void fq_notify(struct fq *q, const uint8_t *pkt, size_t len, bool stopping)
{
	while (q->waiters) {
		struct waiter *w = q->waiters;
		q->waiters = w->next;
		w->fn(w->arg, pkt, len, stopping);
		free(w);
	}
}

/* A pending query for the same question (name, type, class, DO). */
static struct fq *by_question(struct fwd *f, const struct dns_query *dq, uint32_t h)
{
	for (struct fq *q = f->khash[h % FWD_HASH]; q; q = q->khnext)
		if (q->khash == h &&
		    dnsq_match(dq, q->q.name, q->q.qtype, q->q.qclass, q->q.dnssec_ok))
			return q;
	return NULL;
}

static void add_waiter(struct fq *q, fwd_fn fn, void *arg)
{
	struct waiter *w = xcalloc(1, sizeof(*w));
	w->fn = fn;
	w->arg = arg;
	w->next = q->waiters;
	q->waiters = w;
	q->nwaiters++;
}

/* The end of a query: pkt NULL means failure. */
static void fq_done(struct fwd *f, struct fq *q, const uint8_t *pkt, size_t len)
{
	fq_unlink(f, q);
	fq_notify(q, pkt, len, false);
	fq_free(f, q);
}

/* An upstream answered q: keep the answer when worth it, remember the
 * upstream, hand the answer to every waiter. */
static void fq_answered(struct fwd *f, struct fq *q, const uint8_t *pkt, size_t len,
			uint16_t rcode, bool tc, uint32_t min_ttl)
{
	if (f->cache)
		dnscache_put(f->cache, &q->q, pkt, len, dnscache_ttl(pkt, len, rcode, tc, min_ttl),
			     lk_now_ms());
	f->st.answered++;
	f->good = q->up;
	f->good_ms = lk_now_ms();
	fq_done(f, q, pkt, len);
}

size_t fwd_encode_query(uint16_t id, const struct dns_query *q, uint8_t *buf, size_t cap)
{
	size_t len = dnswire_encode_query(id, q, buf, cap);
	if (len >= DNS_HDR_LEN)
		buf[2] |= DNS_F_RD >> 8;
	return len;
}

/* One try of q to upstream q->up; false when the send failed. */
static bool fq_try(struct fwd *f, struct fq *q, const uint8_t *pkt, size_t len)
{
	int fd = f->ufd[q->up];
	q->tries++;
	q->sent_us = lk_now_us();
	q->deadline = lk_now_ms() + f->try_ms;
	if (len && fd >= 0 && send(fd, pkt, len, MSG_DONTWAIT) == (ssize_t)len) {
		f->st.sent++;
		return true;
	}
	return false;
}

/* Send to upstreams from q->up on until one accepts; fail after max_tries. */
static void fq_send(struct fwd *f, struct fq *q)
{
	uint8_t pkt[DNS_NAME_BUF + 64];
	size_t len = fwd_encode_query(q->id, &q->q, pkt, sizeof(pkt));

	while (len && q->tries < f->max_tries) {
		if (fq_try(f, q, pkt, len))
			return;
		f->st.refused++;
		q->up = (q->up + 1) % f->n;
	}
	fq_done(f, q, NULL, 0);
}

/* The next try: the next upstream in turn, except that a try elsewhere
 * is followed by one at the upstream that answered within the last
 * FWD_TOTAL_MS (a packet it dropped in a burst is asked again there, not
 * only at the silent ones). */
static void fq_next(struct fwd *f, struct fq *q)
{
	if (q->up != f->good && f->good_ms && lk_now_ms() - f->good_ms < FWD_TOTAL_MS)
		q->up = f->good;
	else
		q->up = (q->up + 1) % f->n;
	fq_send(f, q);
}

struct fwd *fwd_new(struct loop *l, const struct dns_addr *ups, int n, struct dns_cache *cache)
{
	struct fwd *f = xcalloc(1, sizeof(*f));
	f->loop = l;
	f->cache = cache;
	f->n = n;
	f->ups = xcalloc(n ? (size_t)n : 1, sizeof(*f->ups));
	f->ufd = xcalloc(n ? (size_t)n : 1, sizeof(*f->ufd));
	f->max_tries = n < 2 ? 2 : n > 4 ? 4 : n;
	f->try_ms = FWD_TOTAL_MS / (uint64_t)f->max_tries;
	for (int i = 0; i < n; i++) {
		f->ups[i] = ups[i];
		f->ufd[i] = socket(ups[i].sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (f->ufd[i] < 0)
			continue;
		if (connect(f->ufd[i], (struct sockaddr *)&ups[i].sa, ups[i].len) < 0) {
			lk_log("dns: cannot use upstream %s: %s", ups[i].text, strerror(errno));
			close(f->ufd[i]);
			f->ufd[i] = -1;
			continue;
		}
		dns_udp_buffers(f->ufd[i]);
		loop_fd_add(l, f->ufd[i], LOOP_READ, on_udp, f);
	}
	return f;
}

void fwd_free(struct fwd *f)
{
	if (!f)
		return;
	while (f->head) {
		struct fq *q = f->head;
		fq_unlink(f, q);
		fq_notify(q, NULL, 0, true);
		fq_free(f, q);
	}
	for (int i = 0; i < f->n; i++)
		if (f->ufd[i] >= 0) {
			loop_fd_del(f->loop, f->ufd[i]);
			close(f->ufd[i]);
		}
	loop_timer_del(f->loop, f->timer);
	free(f->ups);
	free(f->ufd);
	free(f);
}

bool fwd_busy(struct fwd *f, const struct dns_query *dq)
{
	if (!f || !f->n)
		return true;
	struct fq *q = by_question(f, dq, dnsq_hash(dq));
	return q ? q->nwaiters >= FWD_MAX_WAITERS : f->npending >= FWD_MAX_PENDING;
}

int fwd_query(struct fwd *f, const struct dns_query *dq, fwd_fn fn, void *arg)
{
	if (!f || !f->n)
		return -1;
	uint32_t kh = dnsq_hash(dq);
	struct fq *q = by_question(f, dq, kh);
	if (q) {
		if (q->nwaiters >= FWD_MAX_WAITERS)
			return -1;
		add_waiter(q, fn, arg);
		f->st.coalesced++;
		return 0;
	}
	if (f->npending >= FWD_MAX_PENDING)
		return -1;
	q = xcalloc(1, sizeof(*q));
	do
		q->id = (uint16_t)lk_random_u32();
	while (by_id(f, q->id));
	q->q = *dq;
	add_waiter(q, fn, arg);
	q->khash = kh;
	q->khnext = f->khash[kh % FWD_HASH];
	f->khash[kh % FWD_HASH] = q;
	q->tfd = -1;
	q->f = f;
	q->hnext = f->hash[q->id % FWD_HASH];
	f->hash[q->id % FWD_HASH] = q;
	q->prev = f->tail;
	if (f->tail)
		f->tail->next = q;
	else
		f->head = q;
	f->tail = q;
	f->npending++;
	if (!f->timer)
		f->timer = loop_timer_add(f->loop, 50, tick, f);
	/* the first try only: a failure moves on in the tick, so fn never
	 * runs from inside this call */
	uint8_t pkt[DNS_NAME_BUF + 64];
	q->up = f->good;
	if (!fq_try(f, q, pkt, fwd_encode_query(q->id, &q->q, pkt, sizeof(pkt))))
		q->deadline = 0;        /* the tick moves it on */
	return 0;
}

/* ---- TCP when truncated ---- */

static void tcp_fail(struct fwd *f, struct fq *q)
{
	/* relay the truncated answer: the client retries over TCP itself */
	fq_done(f, q, q->tc_pkt, q->tc_len);
}

static void tcp_answer(struct fwd *f, struct fq *q)
{
	uint16_t rcode;
	bool tc;
	uint32_t min_ttl;
	const uint8_t *pkt = q->tbuf + 2;
	size_t len = q->tlen - 2;
	if (dnswire_check_response(pkt, len, &q->q, &rcode, &tc, &min_ttl) < 0 ||
	    pkt[0] != q->id >> 8 || pkt[1] != (q->id & 0xff)) {
		f->st.bad++;
		tcp_fail(f, q);
		return;
	}
	fq_answered(f, q, pkt, len, rcode, tc, min_ttl);
}

static int tcp_write(struct fwd *f, struct fq *q)
{
	int err = 0;
	socklen_t el = sizeof(err);
	if (q->toff == 0 && (getsockopt(q->tfd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err))
		return -1;
	ssize_t w = send(q->tfd, q->tbuf + q->toff, q->tlen - q->toff, MSG_NOSIGNAL);
	if (w < 0)
		return errno == EAGAIN ? 0 : -1;
	q->toff += (size_t)w;
	if (q->toff == q->tlen) {
		free(q->tbuf);
		q->tbuf = xmalloc(2 + DNS_TCP_MAX);
		q->tlen = q->toff = 0;
		q->twriting = false;
		loop_fd_mod(f->loop, q->tfd, LOOP_READ);
	}
	return 0;
}

/* Returns 1 when the answer is complete, 0 for more, -1 on error. */
static int tcp_read(struct fq *q)
{
	size_t want = q->tlen < 2 ? 2 : 2 + ((size_t)q->tbuf[0] << 8 | q->tbuf[1]);
	ssize_t r = recv(q->tfd, q->tbuf + q->tlen, want - q->tlen, 0);
	if (r < 0)
		return errno == EAGAIN ? 0 : -1;
	if (r == 0)
		return -1;
	q->tlen += (size_t)r;
	if (q->tlen == 2 && want == 2 && ((size_t)q->tbuf[0] << 8 | q->tbuf[1]) < DNS_HDR_LEN)
		return -1;
	if (q->tlen < 2)
		return 0;
	want = 2 + ((size_t)q->tbuf[0] << 8 | q->tbuf[1]);
	return q->tlen == want ? 1 : 0;
}

static void on_tcp(struct loop *l, int fd, int events, void *arg)
{
	struct fq *q = arg;
	struct fwd *f = q->f;
	int rc;

	if (q->twriting) {
		if (tcp_write(f, q) < 0)
			tcp_fail(f, q);
		return;
	}
	rc = tcp_read(q);
	if (rc < 0)
		tcp_fail(f, q);
	else if (rc > 0)
		tcp_answer(f, q);
}

static void tcp_start(struct fwd *f, struct fq *q, int up, const uint8_t *pkt, size_t len)
{
	uint8_t qb[DNS_NAME_BUF + 64];
	size_t ql = fwd_encode_query(q->id, &q->q, qb, sizeof(qb));
	const struct dns_addr *a = &f->ups[up];

	q->tc_pkt = xmalloc(len);
	memcpy(q->tc_pkt, pkt, len);
	q->tc_len = len;
	q->up = up;
	q->deadline = lk_now_ms() + FWD_TCP_MS;
	q->tfd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (q->tfd < 0 || !ql ||
	    (connect(q->tfd, (const struct sockaddr *)&a->sa, a->len) < 0 && errno != EINPROGRESS)) {
		q->deadline = 0;        /* the tick fails it */
		return;
	}
	q->tbuf = xmalloc(ql + 2);
	q->tbuf[0] = (uint8_t)(ql >> 8);
	q->tbuf[1] = (uint8_t)ql;
	memcpy(q->tbuf + 2, qb, ql);
	q->tlen = ql + 2;
	q->toff = 0;
	q->twriting = true;
	f->st.tcp++;
	loop_fd_add(f->loop, q->tfd, LOOP_WRITE, on_tcp, q);
}

/* ---- UDP answers ---- */

static void udp_answer(struct fwd *f, int up, const uint8_t *pkt, size_t len)
{
	uint16_t rcode;
	bool tc;
	uint32_t min_ttl;
	struct fq *q = by_id(f, (uint16_t)(pkt[0] << 8 | pkt[1]));
	if (!q || q->tfd >= 0 || q->tc_pkt)
		return;                 /* late, or already over TCP */
	if (dnswire_check_response(pkt, len, &q->q, &rcode, &tc, &min_ttl) < 0) {
		f->st.bad++;
		return;
	}
	if (tc) {
		tcp_start(f, q, up, pkt, len);
		return;
	}
	q->up = up;
	fq_answered(f, q, pkt, len, rcode, tc, min_ttl);
}

/* ICMP unreachable from upstream up: the queries sent to it before the
 * error was read move on (one sent since may well be answered: the error
 * can be stale, from an older query). */
static void udp_refused(struct fwd *f, int up)
{
	struct fq *end = f->tail;
	uint64_t now = lk_now_us();
	for (struct fq *q = f->head, *nx; q; q = nx) {
		nx = q == end ? NULL : q->next;
		if (q->up == up && q->tfd < 0 && !q->tc_pkt && q->sent_us < now) {
			f->st.refused++;
			fq_next(f, q);
		}
	}
}

static void on_udp(struct loop *l, int fd, int events, void *arg)
{
	struct fwd *f = arg;
	int up = 0;
	while (up < f->n && f->ufd[up] != fd)
		up++;
	if (up == f->n)
		return;
	for (int i = 0; i < 64; i++) {
		ssize_t r = recv(fd, f->buf, sizeof(f->buf), MSG_DONTWAIT);
		if (r < 0) {
			if (errno == ECONNREFUSED)
				udp_refused(f, up);
			else if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			continue;
		}
		if (r >= DNS_HDR_LEN)
			udp_answer(f, up, f->buf, (size_t)r);
	}
}

static int64_t tick(struct loop *l, void *arg)
{
	struct fwd *f = arg;
	uint64_t now = lk_now_ms();
	struct fq *end = f->tail;
	for (struct fq *q = f->head, *nx; q; q = nx) {
		nx = q == end ? NULL : q->next;
		if (now < q->deadline)
			continue;
		if (q->tc_pkt) {
			tcp_fail(f, q);
		} else {
			if (q->deadline)
				f->st.timeouts++;
			fq_next(f, q);
		}
	}
	if (!f->head) {
		f->timer = NULL;
		return -1;
	}
	return 50;
}

size_t fwd_pending(const struct fwd *f)
{
	return f ? f->npending : 0;
}

void dns_udp_buffers(int fd)
{
	int sz = 4 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
}

void fwd_get_stats(const struct fwd *f, struct fwd_stats *st)
{
	if (f)
		*st = f->st;
	else
		memset(st, 0, sizeof(*st));
}
