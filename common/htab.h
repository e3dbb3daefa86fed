/*
 * common/htab.h: a small chained hash table keyed by bytes.
 *
 * Keys are any bytes (a name, a packed address struct without padding);
 * the _s helpers take NUL-terminated strings and use their bytes without
 * the NUL, so htab_puts(t, "a", v) and htab_put(t, "a", 1, v) are the same
 * entry. The hash is 32-bit FNV-1a; buckets are a power of two.
 *
 * Ownership: the table copies every key into its entry (the caller's key
 * is borrowed for the call only) and frees that copy when the entry goes.
 * Values are borrowed pointers the table never looks at: htab_put and
 * htab_del hand the old value back, htab_clear frees values only through
 * the callback it is given. A NULL value cannot be told from an absent key.
 *
 * Growth: a zeroed struct htab (HTAB_INIT) is an empty table that has
 * allocated nothing; the first put allocates 64 buckets and the bucket
 * array doubles whenever the table holds more entries than buckets, so a
 * chain is about one entry long. It never shrinks; htab_clear frees it all.
 *
 * Cost: get, put and del hash the key once and walk one chain: O(key
 * length) on average. htab_get never allocates (lookups on hot paths, the
 * DNS zone, stay allocation-free); a put of a new key allocates its entry,
 * and a put that grows the table rehashes every entry (amortised O(1)).
 *
 * Iteration (htab_next) visits every entry once in no particular order.
 * While iterating, the entry just returned may be deleted; any other put
 * or delete on the table ends the iteration's guarantees.
 *
 * Not thread-safe: a table belongs to one thread (the loop thread).
 */
#ifndef LK_HTAB_H
#define LK_HTAB_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct htab_entry {
	struct htab_entry *next;
	uint32_t hash;
	size_t klen;
	void *val;
	char key[];             /* klen bytes, then a NUL (a string key reads as one) */
};

struct htab {
	struct htab_entry **b;  /* nb buckets, NULL until the first put */
	size_t nb, n;           /* buckets, entries */
};

#define HTAB_INIT { NULL, 0, 0 }

/* FNV-1a of n bytes: the hash the table uses. */
uint32_t htab_hash(const void *key, size_t n);

/* The value under key, NULL when absent. Never allocates. */
void *htab_get(const struct htab *t, const void *key, size_t klen);
/* Put val under key; returns the value it replaced (NULL when the key is
 * new), which stays the caller's. */
void *htab_put(struct htab *t, const void *key, size_t klen, void *val);
/* Remove key; returns its value (NULL when absent), the caller's again. */
void *htab_del(struct htab *t, const void *key, size_t klen);
/* Remove every entry, calling free_val (when not NULL) on each value, and
 * free the buckets: t is an empty table again, usable as is. */
void htab_clear(struct htab *t, void (*free_val)(void *));

static inline size_t htab_count(const struct htab *t)
{
	return t->n;
}

static inline void *htab_gets(const struct htab *t, const char *key)
{
	return htab_get(t, key, strlen(key));
}

static inline void *htab_puts(struct htab *t, const char *key, void *val)
{
	return htab_put(t, key, strlen(key), val);
}

static inline void *htab_dels(struct htab *t, const char *key)
{
	return htab_del(t, key, strlen(key));
}

/* Iteration: struct htab_iter it = HTAB_ITER_INIT;
 *            for (e = htab_next(t, &it); e; e = htab_next(t, &it)) ... */
struct htab_iter {
	size_t i;               /* next bucket to look at */
	struct htab_entry *e;   /* next entry in the current chain */
};

#define HTAB_ITER_INIT { 0, NULL }

const struct htab_entry *htab_next(const struct htab *t, struct htab_iter *it);

#endif
