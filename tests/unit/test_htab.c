/*
 * tests/unit/test_htab.c: common/htab (the chained hash table keyed by
 * bytes used by the DNS zone and the informers): put/get/del, growth past
 * several doublings, binary keys, the free callback, iteration, and
 * deleting around and during growth.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/htab.h"
#include "common/util.h"

#define V(i) ((void *)(uintptr_t)(i))

static void key(char *buf, size_t cap, int i)
{
	snprintf(buf, cap, "key-%d", i);
}

/* Put "key-<i>" -> V(i + plus) for i in [from, to). */
static void fill(struct htab *t, int from, int to, int plus)
{
	char k[32];

	for (int i = from; i < to; i++) {
		key(k, sizeof(k), i);
		ck_assert_ptr_null(htab_puts(t, k, V(i + plus)));
	}
}

START_TEST(empty_table)
{
	struct htab t = HTAB_INIT;
	struct htab_iter it = HTAB_ITER_INIT;

	ck_assert_ptr_null(htab_gets(&t, "a"));
	ck_assert_ptr_null(htab_dels(&t, "a"));
	ck_assert_ptr_null(htab_next(&t, &it));
	ck_assert_ptr_null(t.b);        /* lookups allocate nothing */
	ck_assert_uint_eq(htab_count(&t), 0);
	htab_clear(&t, NULL);
	ck_assert_ptr_null(t.b);
}
END_TEST

START_TEST(put_get_del)
{
	struct htab t = HTAB_INIT;

	ck_assert_ptr_null(htab_puts(&t, "web.default", V(1)));
	ck_assert_ptr_null(htab_puts(&t, "db.default", V(2)));
	ck_assert_uint_eq(htab_count(&t), 2);
	ck_assert_ptr_eq(htab_gets(&t, "web.default"), V(1));
	ck_assert_ptr_eq(htab_get(&t, "db.default", 10), V(2));
	ck_assert_ptr_null(htab_gets(&t, "web"));
	ck_assert_ptr_null(htab_gets(&t, "web.default."));

	/* Replacing hands the old value back and keeps the count. */
	ck_assert_ptr_eq(htab_puts(&t, "web.default", V(3)), V(1));
	ck_assert_uint_eq(htab_count(&t), 2);
	ck_assert_ptr_eq(htab_gets(&t, "web.default"), V(3));

	/* A key is bytes: the string form and the byte form are one entry,
	 * and a key compared by length never reads past it. */
	ck_assert_ptr_eq(htab_get(&t, "web.default.svc", 11), V(3));

	ck_assert_ptr_eq(htab_dels(&t, "web.default"), V(3));
	ck_assert_ptr_null(htab_dels(&t, "web.default"));
	ck_assert_ptr_null(htab_gets(&t, "web.default"));
	ck_assert_ptr_eq(htab_gets(&t, "db.default"), V(2));
	ck_assert_uint_eq(htab_count(&t), 1);
	htab_clear(&t, NULL);
	ck_assert_uint_eq(htab_count(&t), 0);
}
END_TEST

START_TEST(growth)
{
	struct htab t = HTAB_INIT;
	char k[32];
	const int n = 20000;    /* 64 buckets -> 32768: nine doublings */

	for (int i = 0; i < n; i++) {
		key(k, sizeof(k), i);
		ck_assert_ptr_null(htab_puts(&t, k, V(i + 1)));
		ck_assert_uint_ge(t.nb, t.n);   /* about one entry a chain */
		ck_assert_uint_eq(t.nb & (t.nb - 1), 0);
	}
	ck_assert_uint_eq(htab_count(&t), (size_t)n);
	ck_assert_uint_eq(t.nb, 32768);
	for (int i = 0; i < n; i++) {
		key(k, sizeof(k), i);
		ck_assert_ptr_eq(htab_gets(&t, k), V(i + 1));
	}
	key(k, sizeof(k), n);
	ck_assert_ptr_null(htab_gets(&t, k));
	htab_clear(&t, NULL);
	ck_assert_ptr_null(t.b);
	ck_assert_uint_eq(t.nb, 0);
}
END_TEST

/* The moment of growth: 64 buckets hold 64 entries, the 65th doubles them;
 * replacing a value or deleting never grows or shrinks. */
START_TEST(growth_threshold)
{
	struct htab t = HTAB_INIT;
	char k[32];

	fill(&t, 0, 64, 1);
	ck_assert_uint_eq(t.nb, 64);
	key(k, sizeof(k), 10);
	ck_assert_ptr_eq(htab_puts(&t, k, V(100)), V(11));
	ck_assert_uint_eq(t.nb, 64);
	ck_assert_ptr_eq(htab_dels(&t, k), V(100));
	key(k, sizeof(k), 64);
	htab_puts(&t, k, V(65));
	ck_assert_uint_eq(t.nb, 64);    /* back to 64 entries */
	key(k, sizeof(k), 65);
	htab_puts(&t, k, V(66));
	ck_assert_uint_eq(t.nb, 128);
	ck_assert_uint_eq(htab_count(&t), 65);
	for (int i = 0; i < 66; i++) {
		key(k, sizeof(k), i);
		ck_assert_ptr_eq(htab_gets(&t, k), i == 10 ? NULL : V(i + 1));
	}
	for (int i = 0; i < 66; i++) {
		key(k, sizeof(k), i);
		htab_dels(&t, k);
	}
	ck_assert_uint_eq(htab_count(&t), 0);
	ck_assert_uint_eq(t.nb, 128);   /* never shrinks */
	htab_clear(&t, NULL);
}
END_TEST

/* Deleting while the table grows: every step checked against a plain
 * array of what should be there. */
START_TEST(delete_while_growing)
{
	enum { N = 3000 };
	static bool in[N];
	struct htab t = HTAB_INIT;
	size_t want = 0;
	char k[32];

	memset(in, 0, sizeof(in));
	for (int i = 0; i < N; i++) {
		key(k, sizeof(k), i);
		htab_puts(&t, k, V(i + 1));
		in[i] = true;
		want++;
		if (i % 3 == 2) {       /* drop an older one, sometimes the newest */
			int d = i % 2 ? i : i / 2;
			key(k, sizeof(k), d);
			ck_assert_ptr_eq(htab_dels(&t, k), in[d] ? V(d + 1) : NULL);
			want -= in[d];
			in[d] = false;
		}
		ck_assert_uint_eq(htab_count(&t), want);
	}
	for (int i = 0; i < N; i++) {
		key(k, sizeof(k), i);
		ck_assert_ptr_eq(htab_gets(&t, k), in[i] ? V(i + 1) : NULL);
	}
	/* Empty it after growth, then fill it again. */
	for (int i = 0; i < N; i++) {
		key(k, sizeof(k), i);
		htab_dels(&t, k);
	}
	ck_assert_uint_eq(htab_count(&t), 0);
	for (int i = 0; i < N; i++) {
		key(k, sizeof(k), i);
		ck_assert_ptr_null(htab_gets(&t, k));
		ck_assert_ptr_null(htab_puts(&t, k, V(i + 7)));
	}
	for (int i = 0; i < N; i++) {
		key(k, sizeof(k), i);
		ck_assert_ptr_eq(htab_gets(&t, k), V(i + 7));
	}
	htab_clear(&t, NULL);
}
END_TEST

/* Keys that share a bucket: deleting the head, the middle and the tail of
 * one chain leaves the others reachable, across a doubling. */
START_TEST(same_bucket)
{
	struct htab t = HTAB_INIT;
	char keys[6][32], k[32];
	int n = 0;

	for (int i = 0; n < 6; i++) {
		key(k, sizeof(k), i);
		if ((htab_hash(k, strlen(k)) & 127) == (htab_hash("key-0", 5) & 127))
			memcpy(keys[n++], k, sizeof(k));
	}
	for (int i = 0; i < 6; i++)
		htab_puts(&t, keys[i], V(i + 1));
	ck_assert_ptr_eq(htab_dels(&t, keys[0]), V(1));
	ck_assert_ptr_eq(htab_dels(&t, keys[3]), V(4));
	fill(&t, 100000, 100200, 0);    /* grow to 256 buckets: chains split */
	ck_assert_uint_ge(t.nb, 256);
	ck_assert_ptr_eq(htab_dels(&t, keys[5]), V(6));
	for (int i = 0; i < 6; i++)
		ck_assert_ptr_eq(htab_gets(&t, keys[i]), i == 0 || i == 3 || i == 5 ? NULL : V(i + 1));
	htab_clear(&t, NULL);
}
END_TEST

START_TEST(binary_keys)
{
	struct htab t = HTAB_INIT;
	struct {
		uint8_t fam;
		uint8_t b[16];
	} ip4 = { 4, { 10, 96, 0, 1 } }, ip6 = { 6, { 0xfd, 0 } }, probe;

	htab_put(&t, "a", 1, V(1));
	htab_put(&t, "a\0", 2, V(2));           /* a NUL inside the key */
	htab_put(&t, "a\0b", 3, V(3));
	htab_put(&t, "", 0, V(4));              /* the empty key */
	htab_put(&t, &ip4, sizeof(ip4), V(5));
	htab_put(&t, &ip6, sizeof(ip6), V(6));
	ck_assert_uint_eq(htab_count(&t), 6);
	ck_assert_ptr_eq(htab_gets(&t, "a"), V(1));
	ck_assert_ptr_eq(htab_get(&t, "a\0", 2), V(2));
	ck_assert_ptr_eq(htab_get(&t, "a\0b", 3), V(3));
	ck_assert_ptr_null(htab_get(&t, "a\0c", 3));
	ck_assert_ptr_eq(htab_gets(&t, ""), V(4));
	memset(&probe, 0, sizeof(probe));
	probe.fam = 4;
	probe.b[0] = 10, probe.b[1] = 96, probe.b[3] = 1;
	ck_assert_ptr_eq(htab_get(&t, &probe, sizeof(probe)), V(5));
	probe.b[3] = 2;
	ck_assert_ptr_null(htab_get(&t, &probe, sizeof(probe)));
	ck_assert_ptr_eq(htab_get(&t, &ip6, sizeof(ip6)), V(6));
	ck_assert_ptr_eq(htab_get(&t, "a\0", 2), V(2));
	ck_assert_ptr_eq(htab_del(&t, "a\0", 2), V(2));
	ck_assert_ptr_eq(htab_gets(&t, "a"), V(1));
	ck_assert_ptr_eq(htab_get(&t, "a\0b", 3), V(3));
	ck_assert_uint_eq(htab_count(&t), 5);
	htab_clear(&t, NULL);
}
END_TEST

static int freed;

static void free_counted(void *p)
{
	freed++;
	free(p);
}

START_TEST(free_callback)
{
	struct htab t = HTAB_INIT;
	char k[32];

	freed = 0;
	for (int i = 0; i < 300; i++) {
		key(k, sizeof(k), i);
		htab_puts(&t, k, xstrdup(k));
	}
	/* A replaced or deleted value is the caller's, never the callback's. */
	free(htab_puts(&t, "key-7", xstrdup("seven")));
	free(htab_dels(&t, "key-8"));
	ck_assert_str_eq(htab_gets(&t, "key-7"), "seven");
	htab_clear(&t, free_counted);
	ck_assert_int_eq(freed, 299);
	ck_assert_uint_eq(htab_count(&t), 0);
	ck_assert_ptr_null(htab_gets(&t, "key-1"));

	/* Cleared, the table is usable again. */
	htab_puts(&t, "again", xstrdup("x"));
	ck_assert_str_eq(htab_gets(&t, "again"), "x");
	htab_clear(&t, free_counted);
	ck_assert_int_eq(freed, 300);
}
END_TEST

START_TEST(iterate)
{
	enum { N = 1000 };
	static int seen[N];
	struct htab t = HTAB_INIT;
	struct htab_iter it = HTAB_ITER_INIT;
	const struct htab_entry *e;
	char k[32];
	size_t n = 0;

	memset(seen, 0, sizeof(seen));
	fill(&t, 0, N, 0);
	while ((e = htab_next(&t, &it))) {
		int i = (int)(uintptr_t)e->val;
		key(k, sizeof(k), i);
		ck_assert_str_eq(e->key, k);    /* a string key reads as one */
		ck_assert_uint_eq(e->klen, strlen(k));
		seen[i]++;
		n++;
	}
	ck_assert_uint_eq(n, N);
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(seen[i], 1);
	ck_assert_ptr_null(htab_next(&t, &it));         /* stays at the end */
	htab_clear(&t, NULL);
}
END_TEST

/* The entry just returned may be deleted: every entry is still visited
 * once, including the rest of its chain. */
START_TEST(delete_while_iterating)
{
	enum { N = 700 };
	static int seen[N];
	struct htab t = HTAB_INIT;
	struct htab_iter it = HTAB_ITER_INIT;
	const struct htab_entry *e;
	char k[32];

	memset(seen, 0, sizeof(seen));
	fill(&t, 0, N, 0);
	while ((e = htab_next(&t, &it))) {
		int i = (int)(uintptr_t)e->val;
		seen[i]++;
		if (i % 2 == 0) {
			key(k, sizeof(k), i);
			ck_assert_ptr_eq(htab_dels(&t, k), V(i));
		}
	}
	for (int i = 0; i < N; i++) {
		key(k, sizeof(k), i);
		ck_assert_int_eq(seen[i], 1);
		ck_assert_ptr_eq(htab_gets(&t, k), i % 2 ? V(i) : NULL);
	}
	ck_assert_uint_eq(htab_count(&t), N / 2);
	htab_clear(&t, NULL);
}
END_TEST

START_TEST(hash_is_fnv1a)
{
	ck_assert_uint_eq(htab_hash("", 0), 2166136261u);
	ck_assert_uint_eq(htab_hash("a", 1), 0xe40c292cu);
	ck_assert_uint_eq(htab_hash("foobar", 6), 0xbf9cf968u);
}
END_TEST

static Suite *htab_suite(void)
{
	Suite *s = suite_create("htab");
	TCase *t = tcase_create("htab");

	tcase_set_timeout(t, 60);
	tcase_add_test(t, empty_table);
	tcase_add_test(t, put_get_del);
	tcase_add_test(t, growth);
	tcase_add_test(t, growth_threshold);
	tcase_add_test(t, delete_while_growing);
	tcase_add_test(t, same_bucket);
	tcase_add_test(t, binary_keys);
	tcase_add_test(t, free_callback);
	tcase_add_test(t, iterate);
	tcase_add_test(t, delete_while_iterating);
	tcase_add_test(t, hash_is_fnv1a);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(htab_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
