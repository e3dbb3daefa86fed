/*
 * dns/answer.c: struct dns_answer, the records of one response (see dns.h).
 * Part of the codec: the zone fills answers, wire.c encodes them and
 * extracts upstream records into them. The answer owns its array of
 * records; records hold no pointers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "dns/dns.h"

void dns_answer_init(struct dns_answer *a)
{
	memset(a, 0, sizeof(*a));
}

void dns_answer_reset(struct dns_answer *a)
{
	a->rcode = DNS_R_NOERROR;
	a->aa = false;
	a->n = 0;
	memset(a->count, 0, sizeof(a->count));
}

void dns_answer_release(struct dns_answer *a)
{
	free(a->rr);
	dns_answer_init(a);
}

/* Room for n records. */
static void reserve(struct dns_answer *a, size_t n)
{
	if (n <= a->cap)
		return;
	a->cap = a->cap ? a->cap * 2 : 16;
	if (a->cap < n)
		a->cap = n;
	a->rr = xrealloc(a->rr, a->cap * sizeof(*a->rr));
}

struct dns_rr *dns_answer_add(struct dns_answer *a, enum dns_section s, const char *name,
			      uint16_t type, uint32_t ttl)
{
	struct dns_rr *rr;

	reserve(a, a->n + 1);
	rr = &a->rr[a->n++];
	memset(rr, 0, sizeof(*rr));
	snprintf(rr->name, sizeof(rr->name), "%s", name);
	rr->type = type;
	rr->ttl = ttl;
	a->count[s]++;
	return rr;
}

/* Each of src's sections goes at the end of the same section of dst, so
 * dst stays in section order whatever it held. */
void dns_answer_copy(struct dns_answer *dst, const struct dns_answer *src)
{
	size_t at = 0, from = 0;

	for (int s = DNS_SEC_AN; s <= DNS_SEC_AR; s++) {
		size_t k = src->count[s];

		if (k > src->n - from)
			k = src->n - from;
		at += dst->count[s];
		if (at > dst->n)
			at = dst->n;
		reserve(dst, dst->n + k);
		memmove(&dst->rr[at + k], &dst->rr[at], (dst->n - at) * sizeof(*dst->rr));
		memcpy(&dst->rr[at], &src->rr[from], k * sizeof(*dst->rr));
		dst->n += k;
		dst->count[s] += k;
		at += k;
		from += k;
	}
}
