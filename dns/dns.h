/*
 * dns/dns.h: the cluster DNS responder (issue 5), our CoreDNS.
 *
 * Follows the Kubernetes DNS-Based Service Discovery specification, schema
 * 1.1.0 (../shared/specs/dns-spec-checklist.md), and RFC 1035 / 2181 / 2308
 * (negative answers carry the zone's SOA) / 6891 (EDNS0) / 7766 (TCP).
 *
 * Three layers, as STYLE.md asks:
 *   dnswire_*   wire.c    pure: parse a query, encode a response (name
 *                         compression, EDNS0, truncation), check and age an
 *                         upstream response. Every read bounds-checked; bad
 *                         input gets an rcode or is dropped, never a crash.
 *                         `make fuzz` runs a libFuzzer target over it.
 *   dns_answer_* answer.c the records of one answer (part of the codec).
 *   dnszone_*   zone.c    pure: the in-memory view of Services and
 *                         EndpointSlices (zone.c) and the answer to a
 *               zone_answer.c  question in the cluster zone or one of its
 *                         reverse ranges (zone_answer.c).
 *   dns_start   server.c  the shell: UDP/TCP listeners on the loop,
 *                         informers feeding the zone, forwarding of other
 *                         names to the upstream resolvers (forward.c) with
 *                         a bounded cache (cache.c), CNAME chasing for
 *                         ExternalName services.
 *
 * Ownership: cJSON inputs are borrowed (the zone copies what it keeps);
 * answers own their records (fixed-size buffers, no pointers). Everything
 * runs on the loop thread; no threads.
 */
#ifndef LK_DNS_H
#define LK_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct labkube;

enum dns_type {
	DNS_T_A = 1, DNS_T_NS = 2, DNS_T_CNAME = 5, DNS_T_SOA = 6, DNS_T_PTR = 12,
	DNS_T_TXT = 16, DNS_T_AAAA = 28, DNS_T_SRV = 33, DNS_T_OPT = 41,
	DNS_T_IXFR = 251, DNS_T_AXFR = 252, DNS_T_ANY = 255,
};
enum { DNS_C_IN = 1, DNS_C_CH = 3, DNS_C_ANY = 255 };
enum dns_rcode {
	DNS_R_NOERROR = 0, DNS_R_FORMERR = 1, DNS_R_SERVFAIL = 2,
	DNS_R_NXDOMAIN = 3, DNS_R_NOTIMP = 4, DNS_R_REFUSED = 5,
	DNS_R_BADVERS = 16,     /* extended (EDNS0): upper 8 bits go in OPT */
};
/* Header flag bits (host order). */
#define DNS_F_QR 0x8000u
#define DNS_F_OPCODE 0x7800u
#define DNS_F_AA 0x0400u
#define DNS_F_TC 0x0200u
#define DNS_F_RD 0x0100u
#define DNS_F_RA 0x0080u
#define DNS_F_AD 0x0020u
#define DNS_F_CD 0x0010u

#define DNS_HDR_LEN 12
#define DNS_UDP_MIN 512         /* without EDNS0 */
#define DNS_EDNS_SIZE 1232      /* what we advertise (DNS flag day 2020) */
#define DNS_TCP_MAX 65535
#define DNS_NAME_BUF 1024       /* presentation form, \DDD escapes included */
#define DNS_RNAME_BUF 256       /* names we generate (<= 253 + NUL) */

/* ---- codec (wire.c) ---- */

/* One parsed query. */
struct dns_query {
	uint16_t id;
	uint16_t flags;         /* as received */
	uint16_t qtype, qclass;
	/* The question name in presentation form: lower-case, no trailing
	 * dot ("" for the root), bytes other than [a-z0-9-_] and in-label
	 * dots escaped as \DDD (such names never match the cluster zone). */
	char name[DNS_NAME_BUF];
	uint8_t wire[256];      /* the name as sent (original case), uncompressed */
	size_t wire_len;
	bool edns;              /* an OPT record came with it */
	uint8_t edns_version;
	bool dnssec_ok;         /* the DO bit */
	uint16_t udp_size;      /* largest UDP answer the client takes: 512
				 * without EDNS0, else max(512, advertised) */
};

#define DNSWIRE_DROP (-1)
/*
 * Parse a query packet. Returns 0 (answer it), an rcode to answer with
 * (FORMERR: malformed or qdcount != 1; NOTIMP: opcode other than QUERY;
 * BADVERS: EDNS version > 0), or DNSWIRE_DROP (shorter than a header, or QR
 * set: a response is never answered). With an rcode, q holds what could be
 * read (always id and flags; the question when it was readable) so
 * dnswire_encode can answer it. Pointer loops, labels over 63, names over
 * 255, counts beyond the packet: FORMERR.
 */
int dnswire_parse(const uint8_t *pkt, size_t len, struct dns_query *q);

enum dns_section { DNS_SEC_AN, DNS_SEC_NS, DNS_SEC_AR };

struct dns_rr {
	char name[DNS_RNAME_BUF];       /* presentation, no trailing dot */
	uint16_t type;
	uint32_t ttl;
	union {
		uint8_t a[4];
		uint8_t aaaa[16];
		char target[DNS_RNAME_BUF];     /* CNAME, PTR, NS */
		struct {
			uint16_t prio, weight, port;
			char target[DNS_RNAME_BUF];
		} srv;
		struct {
			char mname[DNS_RNAME_BUF], rname[DNS_RNAME_BUF];
			uint32_t serial, refresh, retry, expire, minimum;
		} soa;
		char txt[DNS_RNAME_BUF];        /* one character-string */
	} u;
};

/* ---- answers (answer.c) ---- */

/* An answer: records in section order (answer, authority, additional). */
struct dns_answer {
	uint16_t rcode;
	bool aa;                /* authoritative (our zone) */
	struct dns_rr *rr;
	size_t n, cap;
	size_t count[3];        /* per enum dns_section */
};

void dns_answer_init(struct dns_answer *a);
void dns_answer_reset(struct dns_answer *a);   /* empty, keeps memory */
void dns_answer_release(struct dns_answer *a);
/* Append a record (sections must be added in order: AN, then NS, then AR);
 * the caller fills rr->u. name is copied (truncated to fit). */
struct dns_rr *dns_answer_add(struct dns_answer *a, enum dns_section s, const char *name,
			      uint16_t type, uint32_t ttl);
/* Append copies of all of src's records to dst, each at the end of its own
 * section of dst (so dst stays in section order). dst's rcode and aa are
 * left alone. dst and src must differ. */
void dns_answer_copy(struct dns_answer *dst, const struct dns_answer *src);

/* ---- codec, continued (wire.c) ---- */

/* Presentation form (\DDD and \X escapes, optional trailing dot, "" or "."
 * for the root) to an uncompressed wire name in out (cap bytes; 255 always
 * suffice). Returns its length, or -1 when malformed (an empty label, a
 * label over 63 bytes, a name over 255, a dangling \, \DDD over 255) or
 * when it does not fit cap. */
int dnswire_name_to_wire(const char *name, uint8_t *out, size_t cap);

/*
 * Encode the response to q into buf (cap >= max): header (q's id, RD and
 * CD copied, QR, RA, AA when a->aa, a->rcode), the question as asked
 * (original case), a's records with name compression, and an OPT record
 * (DNS_EDNS_SIZE, DO echoed, extended rcode) when q->edns. max is the limit:
 * q->udp_size over UDP, DNS_TCP_MAX over TCP. When the message does not fit,
 * additional records are dropped first; if answer or authority still do
 * not fit, the answer is the header and question alone with TC set. A query
 * whose question could not be read is answered without a question. Returns
 * the length.
 */
size_t dnswire_encode(const struct dns_query *q, const struct dns_answer *a, uint8_t *buf,
		      size_t max);

/* A query for an upstream server: id, q's name as sent, qtype, qclass, RD,
 * and an OPT record advertising DNS_EDNS_SIZE (DO copied). Returns the
 * length (0 when cap is too small). */
size_t dnswire_encode_query(uint16_t id, const struct dns_query *q, uint8_t *buf, size_t cap);

/*
 * Check an upstream response against the query it answers: QR set, same
 * question (name compared case-insensitively, type, class), all sections
 * parse. On success returns 0 and sets *rcode, *tc, and *min_ttl: the
 * smallest TTL of the answer and authority records (OPT excluded), or for
 * an answer without records the SOA minimum from the authority section
 * (RFC 2308), or 0 when there is neither. -1 when it does not match or is
 * malformed.
 */
int dnswire_check_response(const uint8_t *pkt, size_t len, const struct dns_query *q,
			   uint16_t *rcode, bool *tc, uint32_t *min_ttl);

/* In place: set the id, and lower every TTL (OPT excluded) by age seconds
 * (not below 0). For answers from the cache. -1 when malformed. */
int dnswire_age(uint8_t *pkt, size_t len, uint16_t id, uint32_t age);

/* In place: remove the OPT record from a response (for a client that sent
 * no EDNS0: RFC 6891 forbids answering it with one). Returns the new
 * length, or -1 when malformed. */
long dnswire_strip_opt(uint8_t *pkt, size_t len);

/* The records of an upstream response's answer section, for appending to
 * a CNAME we answered (ExternalName chasing): every A/AAAA/CNAME record
 * in the answer section is appended to out's answer section, names
 * decompressed. -1 when malformed. */
int dnswire_extract_answers(const uint8_t *pkt, size_t len, struct dns_answer *out);

/* ---- zone view (zone.c) ---- */

#define DNS_SCHEMA_VERSION "1.1.0"

struct dns_zone;

/* domain: "cluster.local"; ttl: for every record we serve; service_cidr and
 * pod_cidr: the reverse ranges we are authoritative for. */
struct dns_zone *dnszone_new(const char *domain, uint32_t ttl, const char *service_cidr,
			     const char *pod_cidr);
void dnszone_free(struct dns_zone *z);
/* A Service was added or changed (deleted false) or deleted (svc: its last
 * state). */
void dnszone_service(struct dns_zone *z, const cJSON *svc, bool deleted);
/* An EndpointSlice (discovery.k8s.io/v1, labelled kubernetes.io/service-name)
 * was added, changed or deleted. A service's endpoints are the union of its
 * slices. */
void dnszone_slice(struct dns_zone *z, const cJSON *slice, bool deleted);
size_t dnszone_service_count(const struct dns_zone *z);

/*
 * Answer q from the view. Returns true when q's name is ours (the cluster
 * zone, or a PTR name in the service or pod range): *a is filled, a->aa
 * set, with NXDOMAIN / NODATA + SOA as RFC 2308 says. Returns false when
 * the name is not ours (forward it). For an ExternalName service the answer
 * is the CNAME (chased inside the zone when the target is in it); the
 * caller resolves an outside target and appends its records.
 */
bool dnszone_answer(const struct dns_zone *z, const struct dns_query *q, struct dns_answer *a);

/* ---- the component (server.c) ---- */

/* Its state, struct dnssrv, hangs off lk->dns from start to stop. */
struct dnssrv;

/* -1 when an address cannot be bound (logged, naming it): the server does
 * not start. dns_stop() after a failed start releases what it made. */
int dns_start(struct labkube *lk);
void dns_stop(struct labkube *lk);
/* dns_start registers the "dns" readiness check with lk->reg when the server
 * is privileged: why DNS is not served where pods ask (the bridge address
 * refused for lack of privilege, the one bind failure that is not fatal). */

#endif
