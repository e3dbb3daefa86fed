/*
 * dns/wire.c: the DNS wire codec (see dns.h). Pure: no allocation, no I/O.
 *
 * Every read goes through struct rd and its helpers (rd_need is the one
 * bounds check, dnsmasq's CHECK_LEN), so a lying count or length ends in
 * an error, never a read past the packet.
 *
 * Decisions (documented for the tests and the e2e suite):
 *   - Compression pointers must point strictly before the start of the
 *     run of labels being read (so a loop is impossible), at most
 *     MAX_JUMPS of them per name; anything else is FORMERR.
 *   - Bytes after the last counted record are accepted and ignored, as
 *     BIND, Unbound and dnsmasq do.
 *   - An OPT record outside the additional section, with an owner other
 *     than the root, or twice, is FORMERR. EDNS options are not read.
 *   - The answer echoes the opcode (0 for every query we answer; the
 *     opcode of the query for NOTIMP, as RFC 1035 asks).
 *   - Dropping additional records does not set TC (RFC 2181 9); answer or
 *     authority records that do not fit give the TC reply.
 *   - SRV targets are never compressed (RFC 2782), and are not offered
 *     as compression targets to later names either.
 *   - Owner names are compressed case-insensitively, so they take the
 *     case of the question as sent (what 0x20-randomising resolvers
 *     want); names in rdata only against the exact same bytes, so a CNAME
 *     target reads as the zone wrote it.
 *   - Upstream responses: records after an OPT record are stripped with
 *     it; check_response's negative TTL is min(SOA TTL, SOA minimum).
 */
#include <string.h>

#include "dns/dns.h"

#define MAX_JUMPS 32
#define CTAB_MAX 64             /* compression table entries */
#define OPT_LEN 11              /* root owner + type + class + ttl + rdlen */

/* ---- reading ---- */

struct rd {
	const uint8_t *p;
	size_t len, off;        /* invariant: off <= len */
};

static inline bool rd_need(const struct rd *r, size_t n)
{
	return r->len - r->off >= n;
}

static bool rd_u16(struct rd *r, uint16_t *v)
{
	if (!rd_need(r, 2))
		return false;
	*v = (uint16_t)(r->p[r->off] << 8 | r->p[r->off + 1]);
	r->off += 2;
	return true;
}

static bool rd_u32(struct rd *r, uint32_t *v)
{
	if (!rd_need(r, 4))
		return false;
	*v = (uint32_t)r->p[r->off] << 24 | (uint32_t)r->p[r->off + 1] << 16 |
	     (uint32_t)r->p[r->off + 2] << 8 | r->p[r->off + 3];
	r->off += 4;
	return true;
}

static bool rd_skip(struct rd *r, size_t n)
{
	if (!rd_need(r, n))
		return false;
	r->off += n;
	return true;
}

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/*
 * Read the (possibly compressed) name at r->off into wire (>= 255 bytes,
 * uncompressed, original case) and move past it. wire may be NULL to skip.
 * Returns the wire length, or 0 when malformed.
 */
static size_t rd_name(struct rd *r, uint8_t *wire)
{
	size_t pos = r->off, lowest = r->off, end = 0, w = 0;
	int jumps = 0;

	for (;;) {
		uint8_t c;

		if (pos >= r->len)
			return 0;
		c = r->p[pos];
		if ((c & 0xc0) == 0xc0) {
			size_t ptr;

			if (r->len - pos < 2 || ++jumps > MAX_JUMPS)
				return 0;
			ptr = (size_t)(c & 0x3f) << 8 | r->p[pos + 1];
			if (ptr >= lowest)
				return 0;       /* forward, or a loop */
			if (!end)
				end = pos + 2;
			pos = lowest = ptr;
			continue;
		}
		if (c & 0xc0)
			return 0;               /* 0x40, 0x80: no such labels */
		if (w + 1 + c > 255 || r->len - pos - 1 < c)
			return 0;
		if (wire) {
			wire[w] = c;
			memcpy(wire + w + 1, r->p + pos + 1, c);
		}
		w += 1 + (size_t)c;
		pos += 1 + (size_t)c;
		if (!c)
			break;
	}
	r->off = end ? end : pos;
	return w;
}

static inline uint8_t lc(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* Uncompressed wire to presentation form: lower-case, no trailing dot,
 * bytes other than [a-z0-9-_] as \DDD. false when it does not fit cap. */
static bool wire_to_pres(const uint8_t *wire, size_t wlen, char *out, size_t cap)
{
	size_t i = 0, o = 0;

	while (i < wlen && wire[i]) {
		size_t l = wire[i++];

		if (o && o + 1 < cap)
			out[o++] = '.';
		for (; l; l--, i++) {
			uint8_t c = lc(wire[i]);

			if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
			    c == '_') {
				if (o + 1 >= cap)
					return false;
				out[o++] = (char)c;
			} else {
				if (o + 4 >= cap)
					return false;
				out[o++] = '\\';
				out[o++] = (char)('0' + c / 100);
				out[o++] = (char)('0' + c / 10 % 10);
				out[o++] = (char)('0' + c % 10);
			}
		}
		if (o + 1 >= cap)
			return false;
	}
	if (!cap)
		return false;
	out[o] = '\0';
	return true;
}

static bool wire_eq_nocase(const uint8_t *a, const uint8_t *b, size_t n)
{
	/* Length bytes are < 64, so lower-casing them changes nothing. */
	for (size_t i = 0; i < n; i++)
		if (lc(a[i]) != lc(b[i]))
			return false;
	return true;
}

/* One resource record's fixed part, rdata bounds-checked. */
struct rrhdr {
	size_t name_off;        /* where the owner name starts */
	size_t name_len;        /* its wire length (root: 1) */
	uint16_t type, class;
	size_t ttl_off;
	uint32_t ttl;
	size_t rdata;           /* offset of rdata */
	uint16_t rdlen;
};

static bool rd_rr(struct rd *r, struct rrhdr *h)
{
	h->name_off = r->off;
	h->name_len = rd_name(r, NULL);
	if (!h->name_len || !rd_u16(r, &h->type) || !rd_u16(r, &h->class))
		return false;
	h->ttl_off = r->off;
	if (!rd_u32(r, &h->ttl) || !rd_u16(r, &h->rdlen))
		return false;
	h->rdata = r->off;
	return rd_skip(r, h->rdlen);
}

/* Header counts of pkt (len >= 12). */
static void counts(const uint8_t *pkt, uint16_t c[4])
{
	for (int i = 0; i < 4; i++)
		c[i] = get16(pkt + 4 + 2 * i);
}

/* ---- parse ---- */

static void query_reset(struct dns_query *q, const uint8_t *pkt)
{
	q->id = get16(pkt);
	q->flags = get16(pkt + 2);
	q->qtype = q->qclass = 0;
	q->name[0] = '\0';
	q->wire_len = 0;
	q->edns = false;
	q->edns_version = 0;
	q->dnssec_ok = false;
	q->udp_size = DNS_UDP_MIN;
}

static int parse_opt(const struct rrhdr *h, bool *seen, struct dns_query *q)
{
	if (*seen || h->name_len != 1)
		return DNS_R_FORMERR;
	*seen = true;
	q->edns = true;
	q->udp_size = h->class > DNS_UDP_MIN ? h->class : DNS_UDP_MIN;
	q->edns_version = (uint8_t)(h->ttl >> 16);
	q->dnssec_ok = h->ttl & 0x8000;
	return 0;
}

int dnswire_parse(const uint8_t *pkt, size_t len, struct dns_query *q)
{
	struct rd r = { pkt, len, DNS_HDR_LEN };
	uint16_t c[4], qtype, qclass;
	struct rrhdr h;
	bool seen = false;
	size_t wlen;
	int rc;

	if (len < DNS_HDR_LEN)
		return DNSWIRE_DROP;
	query_reset(q, pkt);
	if (q->flags & DNS_F_QR)
		return DNSWIRE_DROP;
	if (q->flags & DNS_F_OPCODE)
		return DNS_R_NOTIMP;
	counts(pkt, c);
	if (c[0] != 1)
		return DNS_R_FORMERR;
	wlen = rd_name(&r, q->wire);
	if (!wlen || !rd_u16(&r, &qtype) || !rd_u16(&r, &qclass))
		return DNS_R_FORMERR;
	q->wire_len = wlen;
	q->qtype = qtype;
	q->qclass = qclass;
	wire_to_pres(q->wire, wlen, q->name, sizeof(q->name));  /* always fits */
	for (unsigned i = 0; i < (unsigned)c[1] + c[2] + c[3]; i++) {
		if (!rd_rr(&r, &h))
			return DNS_R_FORMERR;
		if (h.type != DNS_T_OPT)
			continue;
		if (i < (unsigned)c[1] + c[2])
			return DNS_R_FORMERR;
		rc = parse_opt(&h, &seen, q);
		if (rc)
			return rc;
	}
	/* Trailing bytes after the counted records are ignored. */
	return q->edns_version > 0 ? DNS_R_BADVERS : 0;
}

/* ---- encode ---- */

struct enc {
	uint8_t *buf;
	size_t max, len;
	uint16_t tab[CTAB_MAX];         /* offsets of names (suffixes) written */
	uint16_t tlen[CTAB_MAX];        /* their uncompressed wire lengths */
	size_t ntab;
};

static bool enc_room(const struct enc *e, size_t n)
{
	return e->max - e->len >= n;
}

/* Whether the name at off in the packet written so far equals the
 * uncompressed wire name s (case-insensitive). */
static bool enc_match(const struct enc *e, size_t off, const uint8_t *s, bool nocase)
{
	int jumps = 0;

	for (;;) {
		uint8_t c;

		if (off >= e->len)
			return false;
		c = e->buf[off];
		if ((c & 0xc0) == 0xc0) {
			if (off + 1 >= e->len || ++jumps > MAX_JUMPS)
				return false;
			off = (size_t)(c & 0x3f) << 8 | e->buf[off + 1];
			continue;
		}
		if (c != *s || off + 1 + c > e->len)
			return false;
		if (!c)
			return true;
		if (nocase ? !wire_eq_nocase(e->buf + off + 1, s + 1, c)
			   : memcmp(e->buf + off + 1, s + 1, c) != 0)
			return false;
		off += 1 + (size_t)c;
		s += 1 + (size_t)c;
	}
}

static void enc_remember(struct enc *e, size_t off, size_t wlen)
{
	if (e->ntab < CTAB_MAX && off < 0x4000) {
		e->tab[e->ntab] = (uint16_t)off;
		e->tlen[e->ntab++] = (uint16_t)wlen;
	}
}

enum { NAME_PLAIN, NAME_EXACT, NAME_NOCASE };

/* Write the uncompressed wire name w (wlen bytes, root-terminated). With
 * NAME_EXACT or NAME_NOCASE (case-insensitive: owner names, which then
 * take the case of the question), the longest suffix already written is
 * replaced by a pointer, and the name's own suffixes become targets for
 * later names; NAME_PLAIN does neither (SRV targets). */
static bool enc_name(struct enc *e, const uint8_t *w, size_t wlen, int how)
{
	bool compress = how != NAME_PLAIN;

	size_t s, base = e->len;
	int hit = -1;

	for (s = 0; compress && w[s]; s += 1 + (size_t)w[s]) {
		for (size_t t = 0; t < e->ntab; t++)
			if (e->tlen[t] == wlen - s &&
			    enc_match(e, e->tab[t], w + s, how == NAME_NOCASE)) {
				hit = (int)t;
				break;
			}
		if (hit >= 0)
			break;
	}
	if (hit < 0)
		s = wlen;
	if (!enc_room(e, hit < 0 ? wlen : s + 2))
		return false;
	memcpy(e->buf + e->len, w, s);
	e->len += s;
	if (hit >= 0) {
		put16(e->buf + e->len, (uint16_t)(0xc000 | e->tab[hit]));
		e->len += 2;
	}
	for (size_t i = 0; compress && i < s && w[i]; i += 1 + (size_t)w[i])
		enc_remember(e, base + i, wlen - i);
	return true;
}

/* Presentation form (\DDD and \X escapes, optional trailing dot, "" or
 * "." for the root) to uncompressed wire form in out (>= 255 bytes).
 * Returns the length, or 0 when malformed or too long. */
static size_t pres_to_wire(const char *name, uint8_t *out)
{
	size_t o = 0, n = 0;    /* current label: length byte at o, n bytes */
	const char *p = name;

	if (p[0] == '.' && !p[1])
		p++;
	while (*p) {
		unsigned c = (unsigned char)*p++;

		if (c == '.') {
			if (!n)
				return 0;       /* empty label */
			out[o] = (uint8_t)n;
			o += n + 1;
			n = 0;
			continue;
		}
		if (c == '\\') {
			if (p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9' &&
			    p[2] >= '0' && p[2] <= '9') {
				c = (unsigned)((p[0] - '0') * 100 + (p[1] - '0') * 10 + p[2] - '0');
				if (c > 255)
					return 0;
				p += 3;
			} else if (*p) {
				c = (unsigned char)*p++;
			} else {
				return 0;
			}
		}
		if (n == 63 || o + n + 3 > 255)
			return 0;
		out[o + 1 + n++] = (uint8_t)c;
	}
	if (n) {
		out[o] = (uint8_t)n;
		o += n + 1;
	}
	out[o] = 0;
	return o + 1;
}

int dnswire_name_to_wire(const char *name, uint8_t *out, size_t cap)
{
	uint8_t w[256];
	size_t n = pres_to_wire(name, w);

	if (!n || n > cap)
		return -1;
	memcpy(out, w, n);
	return (int)n;
}

/* The rdata of rr. 1: written; 0: it does not encode (a bad name, a type
 * we do not write); -1: it does not fit. */
static int enc_rdata(struct enc *e, const struct dns_rr *rr)
{
	uint8_t t[256], m[256];
	size_t tlen, mlen, n;

	switch (rr->type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		n = rr->type == DNS_T_A ? 4 : 16;
		if (!enc_room(e, n))
			return -1;
		memcpy(e->buf + e->len, rr->u.aaaa, n);
		e->len += n;
		return 1;
	case DNS_T_CNAME:
	case DNS_T_PTR:
	case DNS_T_NS:
		if (!(tlen = pres_to_wire(rr->u.target, t)))
			return 0;
		return enc_name(e, t, tlen, NAME_EXACT) ? 1 : -1;
	case DNS_T_SRV:
		if (!(tlen = pres_to_wire(rr->u.srv.target, t)))
			return 0;
		if (!enc_room(e, 6 + tlen))
			return -1;
		put16(e->buf + e->len, rr->u.srv.prio);
		put16(e->buf + e->len + 2, rr->u.srv.weight);
		put16(e->buf + e->len + 4, rr->u.srv.port);
		e->len += 6;
		return enc_name(e, t, tlen, NAME_PLAIN) ? 1 : -1;
	case DNS_T_SOA:
		if (!(mlen = pres_to_wire(rr->u.soa.mname, m)) ||
		    !(tlen = pres_to_wire(rr->u.soa.rname, t)))
			return 0;
		if (!enc_name(e, m, mlen, NAME_EXACT) || !enc_name(e, t, tlen, NAME_EXACT) ||
		    !enc_room(e, 20))
			return -1;
		put32(e->buf + e->len, rr->u.soa.serial);
		put32(e->buf + e->len + 4, rr->u.soa.refresh);
		put32(e->buf + e->len + 8, rr->u.soa.retry);
		put32(e->buf + e->len + 12, rr->u.soa.expire);
		put32(e->buf + e->len + 16, rr->u.soa.minimum);
		e->len += 20;
		return 1;
	case DNS_T_TXT:
		n = strnlen(rr->u.txt, sizeof(rr->u.txt) - 1);
		if (!enc_room(e, 1 + n))
			return -1;
		e->buf[e->len] = (uint8_t)n;
		memcpy(e->buf + e->len + 1, rr->u.txt, n);
		e->len += 1 + n;
		return 1;
	default:
		return 0;
	}
}

/* Encode one record. 1: written; 0: skipped (a name that does not
 * convert, a type we do not encode); -1: does not fit. Nothing is left
 * behind unless 1. */
static int enc_rr(struct enc *e, const struct dns_rr *rr)
{
	uint8_t w[256];
	size_t wlen, len0 = e->len, ntab0 = e->ntab, rdata;
	int rc = -1;

	wlen = pres_to_wire(rr->name, w);
	if (!wlen)
		return 0;
	if (enc_name(e, w, wlen, NAME_NOCASE) && enc_room(e, 10)) {
		put16(e->buf + e->len, rr->type);
		put16(e->buf + e->len + 2, DNS_C_IN);
		put32(e->buf + e->len + 4, rr->ttl);
		e->len += 10;
		rdata = e->len;
		rc = enc_rdata(e, rr);
		if (rc > 0) {
			put16(e->buf + rdata - 2, (uint16_t)(e->len - rdata));
			return 1;
		}
	}
	e->len = len0;
	e->ntab = ntab0;
	return rc;
}

/* Records [from, to) of a into e; counts what was written in *n. Returns
 * false at the first that does not fit. */
static bool enc_rrs(struct enc *e, const struct dns_answer *a, size_t from, size_t to,
		    uint16_t *n)
{
	for (size_t i = from; i < to; i++) {
		int rc = enc_rr(e, &a->rr[i]);

		if (rc < 0)
			return false;
		*n = (uint16_t)(*n + rc);
	}
	return true;
}

static void enc_opt(struct enc *e, uint16_t rcode, bool dnssec_ok)
{
	uint8_t *p = e->buf + e->len;

	p[0] = 0;
	put16(p + 1, DNS_T_OPT);
	put16(p + 3, DNS_EDNS_SIZE);
	put32(p + 5, (uint32_t)(rcode >> 4) << 24 | (dnssec_ok ? 0x8000u : 0));
	put16(p + 9, 0);
	e->len += OPT_LEN;
}

size_t dnswire_encode(const struct dns_query *q, const struct dns_answer *a, uint8_t *buf,
		      size_t max)
{
	struct enc e = { .buf = buf, .len = DNS_HDR_LEN };
	size_t n_an, n_ns, n_ar, qend;
	uint16_t cnt[4] = { 0, 0, 0, 0 }, flags;
	bool edns = q->edns, tc = false;

	max = max > DNS_TCP_MAX ? DNS_TCP_MAX : max;
	if (max < DNS_HDR_LEN)
		return 0;
	if (edns && max < DNS_HDR_LEN + OPT_LEN)
		edns = false;
	e.max = max - (edns ? OPT_LEN : 0);
	if (q->wire_len && q->wire_len <= 255 && enc_room(&e, q->wire_len + 4) &&
	    enc_name(&e, q->wire, q->wire_len, NAME_EXACT)) {
		put16(buf + e.len, q->qtype);
		put16(buf + e.len + 2, q->qclass);
		e.len += 4;
		cnt[0] = 1;
	}
	qend = e.len;
	n_an = a->count[DNS_SEC_AN] < a->n ? a->count[DNS_SEC_AN] : a->n;
	n_ns = a->count[DNS_SEC_NS] < a->n - n_an ? a->count[DNS_SEC_NS] : a->n - n_an;
	n_ar = a->count[DNS_SEC_AR] < a->n - n_an - n_ns ? a->count[DNS_SEC_AR]
							  : a->n - n_an - n_ns;
	if (!enc_rrs(&e, a, 0, n_an, &cnt[1]) || !enc_rrs(&e, a, n_an, n_an + n_ns, &cnt[2])) {
		tc = true;
		e.len = qend;
		cnt[1] = cnt[2] = 0;
	} else {
		enc_rrs(&e, a, n_an + n_ns, n_an + n_ns + n_ar, &cnt[3]);
	}
	e.max = max;
	if (edns) {
		enc_opt(&e, a->rcode, q->dnssec_ok);
		cnt[3]++;
	}
	flags = DNS_F_QR | (q->flags & (DNS_F_OPCODE | DNS_F_RD | DNS_F_CD)) | DNS_F_RA |
		(a->aa ? DNS_F_AA : 0) | (tc ? DNS_F_TC : 0) | (a->rcode & 0xf);
	put16(buf, q->id);
	put16(buf + 2, flags);
	for (int i = 0; i < 4; i++)
		put16(buf + 4 + 2 * i, cnt[i]);
	return e.len;
}

size_t dnswire_encode_query(uint16_t id, const struct dns_query *q, uint8_t *buf, size_t cap)
{
	struct enc e = { .buf = buf, .max = cap, .len = DNS_HDR_LEN };

	if (!q->wire_len || q->wire_len > 255 || cap < DNS_HDR_LEN + q->wire_len + 4 + OPT_LEN)
		return 0;
	memset(buf, 0, DNS_HDR_LEN);
	put16(buf, id);
	put16(buf + 2, q->flags & (DNS_F_RD | DNS_F_CD));
	put16(buf + 4, 1);
	put16(buf + 10, 1);
	memcpy(buf + e.len, q->wire, q->wire_len);
	e.len += q->wire_len;
	put16(buf + e.len, q->qtype);
	put16(buf + e.len + 2, q->qclass);
	e.len += 4;
	enc_opt(&e, 0, q->dnssec_ok);
	return e.len;
}

/* ---- responses from upstream ---- */

/*
 * One walk over a message, shared by the upstream response helpers below
 * (the parser, on the hot path, keeps its own loop): the header's counts,
 * the questions (skipped, or read by the caller through w->r), then each
 * record's fixed part into w->h, rdata bounds-checked.
 */
struct walk {
	struct rd r;
	uint16_t c[4];          /* the header's counts */
	unsigned i, n;          /* records read so far, and where to stop */
	struct rrhdr h;         /* the record read last */
};

/* Start a walk of pkt: false when shorter than a header, or (skip set)
 * when a question does not parse; else w->r is at the first record (skip)
 * or the first question. The walk covers every record. */
static bool walk_init(struct walk *w, const uint8_t *pkt, size_t len, bool skip)
{
	if (len < DNS_HDR_LEN)
		return false;
	w->r = (struct rd){ pkt, len, DNS_HDR_LEN };
	counts(pkt, w->c);
	w->i = 0;
	w->n = (unsigned)w->c[1] + w->c[2] + w->c[3];
	for (unsigned q = 0; skip && q < w->c[0]; q++)
		if (!rd_name(&w->r, NULL) || !rd_skip(&w->r, 4))
			return false;
	return true;
}

/* The next record into w->h: 1, 0 after the last, -1 when malformed. */
static int walk_next(struct walk *w)
{
	if (w->i >= w->n)
		return 0;
	if (!rd_rr(&w->r, &w->h))
		return -1;
	w->i++;
	return 1;
}

/* The section of the record read last. */
static enum dns_section walk_sec(const struct walk *w)
{
	unsigned k = w->i - 1;

	return k < w->c[1] ? DNS_SEC_AN : k < (unsigned)w->c[1] + w->c[2] ? DNS_SEC_NS : DNS_SEC_AR;
}

/* The SOA minimum of the record h (its rdata checked). */
static bool soa_minimum(const uint8_t *pkt, const struct rrhdr *h, uint32_t *min)
{
	struct rd r = { pkt, h->rdata + h->rdlen, h->rdata };

	return rd_name(&r, NULL) && rd_name(&r, NULL) && rd_skip(&r, 16) && rd_u32(&r, min);
}

/* Does the one question at w->r match q? */
static bool same_question(struct walk *w, const struct dns_query *q)
{
	uint8_t wire[256];
	uint16_t qtype, qclass;
	size_t wlen;

	if (w->c[0] != 1)
		return false;
	wlen = rd_name(&w->r, wire);
	return wlen && rd_u16(&w->r, &qtype) && rd_u16(&w->r, &qclass) && wlen == q->wire_len &&
	       wire_eq_nocase(wire, q->wire, wlen) && qtype == q->qtype && qclass == q->qclass;
}

int dnswire_check_response(const uint8_t *pkt, size_t len, const struct dns_query *q,
			   uint16_t *rcode, bool *tc, uint32_t *min_ttl)
{
	struct walk w;
	uint16_t flags, ext = 0;
	uint32_t min = UINT32_MAX, soa = 0;
	bool any = false, have_soa = false;
	int rc;

	if (!walk_init(&w, pkt, len, false))
		return -1;
	flags = get16(pkt + 2);
	if (!(flags & DNS_F_QR) || !same_question(&w, q))
		return -1;
	while ((rc = walk_next(&w)) > 0) {
		if (w.h.type == DNS_T_OPT) {
			ext = (uint16_t)(w.h.ttl >> 24);
			continue;
		}
		if (walk_sec(&w) == DNS_SEC_AR)
			continue;
		any = true;
		min = w.h.ttl < min ? w.h.ttl : min;
		if (walk_sec(&w) == DNS_SEC_NS && w.h.type == DNS_T_SOA && !have_soa) {
			if (!soa_minimum(pkt, &w.h, &soa))
				return -1;
			soa = soa < w.h.ttl ? soa : w.h.ttl;
			have_soa = true;
		}
	}
	if (rc < 0)
		return -1;
	*rcode = (uint16_t)(ext << 4 | (flags & 0xf));
	*tc = flags & DNS_F_TC;
	if (w.c[1])
		*min_ttl = any ? min : 0;
	else
		*min_ttl = have_soa ? soa : 0;
	return 0;
}

int dnswire_age(uint8_t *pkt, size_t len, uint16_t id, uint32_t age)
{
	struct walk w;
	int rc;

	if (!walk_init(&w, pkt, len, true))
		return -1;
	while ((rc = walk_next(&w)) > 0)
		if (w.h.type != DNS_T_OPT)
			put32(pkt + w.h.ttl_off, w.h.ttl > age ? w.h.ttl - age : 0);
	if (rc < 0)
		return -1;
	put16(pkt, id);
	return 0;
}

/* Records after the OPT record (rare: it is normally last) go with it, as
 * they may hold compression pointers into what follows it. */
long dnswire_strip_opt(uint8_t *pkt, size_t len)
{
	struct walk w;
	int rc;

	if (!walk_init(&w, pkt, len, true))
		return -1;
	while ((rc = walk_next(&w)) > 0)
		if (w.h.type == DNS_T_OPT && walk_sec(&w) == DNS_SEC_AR) {
			put16(pkt + 10, (uint16_t)(w.i - 1 - w.c[1] - w.c[2]));
			return (long)w.h.name_off;
		}
	return rc < 0 ? -1 : (long)len;
}

/* Decompress the name at off (bounded by end) to presentation form. */
static bool pres_at(const uint8_t *pkt, size_t end, size_t off, char *out, size_t cap)
{
	struct rd r = { pkt, end, off };
	uint8_t wire[256];
	size_t wlen = rd_name(&r, wire);

	return wlen && wire_to_pres(wire, wlen, out, cap);
}

/* Validate (out NULL) or copy the answer section (only it is read). */
static int extract(const uint8_t *pkt, size_t len, struct dns_answer *out)
{
	char name[DNS_RNAME_BUF], target[DNS_RNAME_BUF];
	const struct rrhdr *h;
	struct dns_rr *rr;
	struct walk w;
	int rc;

	if (!walk_init(&w, pkt, len, true))
		return -1;
	w.n = w.c[1];
	h = &w.h;
	while ((rc = walk_next(&w)) > 0) {
		if (h->class != DNS_C_IN)
			continue;
		if ((h->type == DNS_T_A && h->rdlen != 4) ||
		    (h->type == DNS_T_AAAA && h->rdlen != 16))
			return -1;
		if (h->type != DNS_T_A && h->type != DNS_T_AAAA && h->type != DNS_T_CNAME)
			continue;
		if (!pres_at(pkt, len, h->name_off, name, sizeof(name)))
			continue;       /* too long for a dns_rr once escaped */
		target[0] = '\0';
		if (h->type == DNS_T_CNAME &&
		    !pres_at(pkt, h->rdata + h->rdlen, h->rdata, target, sizeof(target)))
			continue;
		if (!out)
			continue;
		rr = dns_answer_add(out, DNS_SEC_AN, name, h->type, h->ttl);
		if (h->type == DNS_T_CNAME)
			memcpy(rr->u.target, target, sizeof(target));
		else
			memcpy(rr->u.aaaa, pkt + h->rdata, h->rdlen);
	}
	return rc;
}

int dnswire_extract_answers(const uint8_t *pkt, size_t len, struct dns_answer *out)
{
	if (extract(pkt, len, NULL) < 0)
		return -1;
	return extract(pkt, len, out);
}
