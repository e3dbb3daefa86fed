/*
 * common/htab.c: see htab.h.
 */
#include <stdlib.h>
#include <string.h>

#include "common/htab.h"
#include "common/util.h"

#define HTAB_MIN_BUCKETS 64

uint32_t htab_hash(const void *key, size_t n)
{
	const uint8_t *p = key;
	uint32_t h = 2166136261u;

	while (n--) {
		h ^= *p++;
		h *= 16777619u;
	}
	return h;
}

/* The link holding key's entry, or the empty link at the end of its chain
 * where it would go. t must have buckets. */
static struct htab_entry **slot(const struct htab *t, const void *key, size_t klen, uint32_t h)
{
	struct htab_entry **pp = &t->b[h & (t->nb - 1)];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == h && (*pp)->klen == klen && !memcmp((*pp)->key, key, klen))
			break;
	return pp;
}

void *htab_get(const struct htab *t, const void *key, size_t klen)
{
	struct htab_entry *e;

	if (!t->nb)
		return NULL;
	e = *slot(t, key, klen, htab_hash(key, klen));
	return e ? e->val : NULL;
}

static void grow(struct htab *t)
{
	size_t nb = t->nb * 2;
	struct htab_entry **b = xcalloc(nb, sizeof(*b));

	for (size_t i = 0; i < t->nb; i++)
		for (struct htab_entry *e = t->b[i], *next; e; e = next) {
			next = e->next;
			e->next = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
		}
	free(t->b);
	t->b = b;
	t->nb = nb;
}

void *htab_put(struct htab *t, const void *key, size_t klen, void *val)
{
	uint32_t h = htab_hash(key, klen);
	struct htab_entry **pp, *e;

	if (!t->nb) {
		t->nb = HTAB_MIN_BUCKETS;
		t->b = xcalloc(t->nb, sizeof(*t->b));
	}
	pp = slot(t, key, klen, h);
	if (*pp) {
		void *old = (*pp)->val;
		(*pp)->val = val;
		return old;
	}
	e = xmalloc(sizeof(*e) + klen + 1);
	e->next = NULL;
	e->hash = h;
	e->klen = klen;
	e->val = val;
	memcpy(e->key, key, klen);
	e->key[klen] = '\0';
	*pp = e;
	if (++t->n > t->nb)
		grow(t);
	return NULL;
}

void *htab_del(struct htab *t, const void *key, size_t klen)
{
	struct htab_entry **pp, *e;
	void *val;

	if (!t->nb)
		return NULL;
	pp = slot(t, key, klen, htab_hash(key, klen));
	e = *pp;
	if (!e)
		return NULL;
	val = e->val;
	*pp = e->next;
	free(e);
	t->n--;
	return val;
}

void htab_clear(struct htab *t, void (*free_val)(void *))
{
	for (size_t i = 0; i < t->nb; i++)
		for (struct htab_entry *e = t->b[i], *next; e; e = next) {
			next = e->next;
			if (free_val)
				free_val(e->val);
			free(e);
		}
	free(t->b);
	t->b = NULL;
	t->nb = t->n = 0;
}

const struct htab_entry *htab_next(const struct htab *t, struct htab_iter *it)
{
	struct htab_entry *e = it->e;

	while (!e && it->i < t->nb)
		e = t->b[it->i++];
	it->e = e ? e->next : NULL;
	return e;
}
