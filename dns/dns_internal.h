/*
 * dns/dns_internal.h: the parts of the DNS component shared between its
 * files (server.c, forward.c, cache.c, upstream.c) and their unit tests.
 * Not for use outside dns/.
 *
 *   dnscache_*  cache.c     pure: upstream answers kept by (name, type,
 *                           class, DO) with TTL and LRU bounds.
 *   dnsaddr_*   upstream.c  pure: "IP[:PORT],..." lists, resolv.conf.
 *   fwd_*       forward.c   the forwarder: one connected UDP socket per
 *                           upstream, retries, TCP when truncated.
 *
 * Everything runs on the loop thread.
 */
#ifndef LK_DNS_INTERNAL_H
#define LK_DNS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dns/dns.h"

struct loop;

/* ---- cache.c ---- */

#define DNSCACHE_MAX_TTL 3600   /* positive answers */
#define DNSCACHE_NEG_TTL 300    /* NXDOMAIN / NODATA (RFC 2308) */

struct dns_cache;

struct dns_cache *dnscache_new(size_t max_entries, size_t max_bytes);
void dnscache_free(struct dns_cache *c);
/*
 * How long to keep an upstream response, in seconds (0: do not keep it):
 * min(min_ttl, 3600) for an answer with records, min(min_ttl, 300) for
 * NXDOMAIN or NODATA; never SERVFAIL, other rcodes or truncated answers.
 * rcode, tc and min_ttl as dnswire_check_response gives them.
 */
uint32_t dnscache_ttl(const uint8_t *pkt, size_t len, uint16_t rcode, bool tc, uint32_t min_ttl);
/* Keep a copy of pkt as the answer to q for ttl seconds from now_ms
 * (replacing an older one); evicts the least recently used entries to stay
 * within the bounds. A packet bigger than the byte bound is not kept. */
void dnscache_put(struct dns_cache *c, const struct dns_query *q, const uint8_t *pkt, size_t len,
		  uint32_t ttl, uint64_t now_ms);
/* The answer to q, copied into buf with id set and TTLs lowered by its age
 * (dnswire_age). Returns its length, or 0 when there is none (or it expired,
 * or does not fit cap). */
size_t dnscache_get(struct dns_cache *c, const struct dns_query *q, uint16_t id, uint64_t now_ms,
		    uint8_t *buf, size_t cap);
size_t dnscache_count(const struct dns_cache *c);
size_t dnscache_bytes(const struct dns_cache *c);

/* ---- upstream.c ---- */

struct dns_addr {
	struct sockaddr_storage sa;
	socklen_t len;
	char text[64];          /* "10.0.0.1:53", "[::1]:53" */
};

/* Parse one "IP", "IP:PORT", "[IPv6]:PORT" or bare IPv6; port defaults to
 * defport. -1 when it is not an address. */
int dnsaddr_parse(const char *s, uint16_t defport, struct dns_addr *out);
/* Parse a comma-separated list into out (at most max); -1 naming the bad
 * item in bad (>= 128 bytes) when an item does not parse, else the count. */
int dnsaddr_parse_list(const char *list, uint16_t defport, struct dns_addr *out, int max,
		       char *bad);
/* The nameserver lines of a resolv.conf text (port 53), at most max; scoped
 * (fe80::1%eth0) addresses are skipped. Returns the count. */
int dnsaddr_resolvconf(const char *text, struct dns_addr *out, int max);
bool dnsaddr_equal(const struct dns_addr *a, const struct dns_addr *b);
/* Remove from list every address equal to one of skip (or, for skip
 * entries with port 0, any port of that IP). Returns the new count. */
int dnsaddr_filter(struct dns_addr *list, int n, const struct dns_addr *skip, int nskip);
/* The first host address of an IPv4 CIDR ("10.244.0.0/16" -> 10.244.0.1:port):
 * the address written plus one, as the bootstrap controller counts it. */
int dnsaddr_cidr_first(const char *cidr, uint16_t port, struct dns_addr *out);

/* ---- forward.c ---- */

struct fwd;

#define FWD_MAX_PENDING 4096    /* distinct questions in flight */
#define FWD_MAX_WAITERS 64      /* clients waiting for one question */

/*
 * The outcome of a forwarded query: pkt is the upstream's response (its own
 * id; borrowed for the call), or NULL when every upstream failed or timed
 * out (answer SERVFAIL) or the forwarder is being freed (stopping true).
 */
typedef void (*fwd_fn)(void *arg, const uint8_t *pkt, size_t len, bool stopping);

/* ups: borrowed (copied). cache: borrowed, may be NULL; answers worth
 * keeping are stored into it. */
struct fwd *fwd_new(struct loop *l, const struct dns_addr *ups, int n, struct dns_cache *cache);
/* Calls every pending callback with stopping set, then frees. */
void fwd_free(struct fwd *f);
/* Send q upstream; fn runs later (never from inside this call). A query
 * for a question already pending (same name, type, class, DO) waits for
 * that one's answer instead. -1 when there is no upstream or too many
 * queries are pending (answer SERVFAIL). */
int fwd_query(struct fwd *f, const struct dns_query *q, fwd_fn fn, void *arg);
/* Whether fwd_query(f, q, ...) would refuse q now (so a caller under a
 * flood answers SERVFAIL without allocating anything for it). */
bool fwd_busy(struct fwd *f, const struct dns_query *q);
size_t fwd_pending(const struct fwd *f);
/* The query sent upstream for q: dnswire_encode_query with RD always set
 * (we are a forwarder: one client's RD=0 must not decide the answer the
 * others share). Returns the length, 0 when cap is too small. */
size_t fwd_encode_query(uint16_t id, const struct dns_query *q, uint8_t *buf, size_t cap);
/* Counters for the log. */
struct fwd_stats {
	uint64_t sent, answered, timeouts, refused, tcp, bad, coalesced;
};
void fwd_get_stats(const struct fwd *f, struct fwd_stats *st);

/* ---- server.c helpers (pure, tested) ---- */

/* What a query waiting for the forwarder keeps of the client's query: all
 * that answering it reads (dnswire_encode, dns_relay_fixup), not the 1 KB
 * presentation name. */
struct dns_qpack {
	uint16_t id, flags, qtype, qclass, udp_size;
	bool edns, dnssec_ok;
	uint8_t edns_version;
	uint8_t wire_len;       /* <= 255 */
	uint8_t wire[255];
};
void dns_qpack_save(struct dns_qpack *p, const struct dns_query *q);
/* Back to a dns_query (name left empty). */
void dns_qpack_load(struct dns_query *q, const struct dns_qpack *p);

/* A domain as dns_name_in and the zone want it ("Cluster.Local." ->
 * "cluster.local"), into out (cap bytes, truncated to fit). */
void dns_domain_norm(const char *domain, char *out, size_t cap);
/* Whether name is domain or under it (case-insensitive). */
bool dns_name_in(const char *name, const char *domain);
/* ExternalName chasing. Whether the zone's answer a to q ends in a CNAME
 * to a name outside domain (normalised, dns_domain_norm) that an A, AAAA
 * or ANY question needs resolved upstream. */
bool dns_needs_chase(const struct dns_query *q, const struct dns_answer *a, const char *domain);
/* The upstream query for target (lower case, no trailing dot; A for ANY,
 * RD and EDNS0 set; wire_len 0 when target is not a name). */
void dns_chase_query(const struct dns_query *q, const char *target, struct dns_query *q2);
/* Append the target's records from an upstream response to a: its answer
 * records when NOERROR, rcode NXDOMAIN when NXDOMAIN (RFC 6604). */
void dns_chase_merge(struct dns_answer *a, const uint8_t *pkt, size_t len);
/* The question key shared by the forwarder's coalescing and the cache:
 * (lower-case name, qtype, qclass, DO bit). */
uint32_t dnsq_hash(const struct dns_query *q);
/* Whether q asks (name, qtype, qclass, dnssec_ok). */
bool dnsq_match(const struct dns_query *q, const char *name, uint16_t qtype, uint16_t qclass,
		bool dnssec_ok);
/* A header+question answer to q with rcode (OPT added when q->edns).
 * Returns the length. */
size_t dns_rcode_reply(const struct dns_query *q, uint16_t rcode, uint8_t *buf, size_t cap);
/* A header+question answer to q with rcode and TC set, for an answer too
 * big for the client (OPT added when q->edns). Returns the length. */
size_t dns_tc_reply(const struct dns_query *q, uint16_t rcode, uint8_t *buf, size_t cap);
/* Turn an upstream response into the client's answer in place: id, RD,
 * the question name in the client's case (a coalesced or cached answer
 * carries the first asker's; 0x20 resolvers check it), OPT stripped when
 * the client sent none, TC reply when over max. Returns
 * the length, or 0 when malformed. buf has room for cap bytes. */
size_t dns_relay_fixup(const struct dns_query *q, uint8_t *buf, size_t len, size_t cap,
		       size_t max);

/* Room for bursts on a UDP socket: resolvers and dnsperf send hundreds of
 * datagrams at once, and the default ~208 KiB receive buffer drops them.
 * SO_RCVBUFFORCE needs CAP_NET_ADMIN; without it, what rmem_max allows.
 * (forward.c) */
void dns_udp_buffers(int fd);

#endif
