/*
 * bench/sqlite_insert.c: the physical limit that labkube's durable creates
 * are measured against. One SQLite database in WAL mode with
 * synchronous=FULL (the store's settings), a loop of transactions that each
 * insert ROWS rows of about 1 KB of JSON text (BEGIN IMMEDIATE; INSERT...;
 * COMMIT), so every commit pays one WAL fsync, exactly as one group commit
 * of the API does. Nothing else: no HTTP, no JSON parsing, no change log.
 *
 *   sqlite_insert DB [SECONDS [ROWS_PER_TX [ROW_BYTES]]]
 *
 * Runs for SECONDS (default 3) and prints one line of key=value pairs:
 *   tx=N rows=N secs=S tx_per_s=R rows_per_s=R p50_us=U p99_us=U
 * where the latencies are of whole transactions (BEGIN to COMMIT returned).
 * DB is created (and must not exist); the caller removes it.
 * Not here: concurrency (SQLite serialises writers; the API has one thread).
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* A ConfigMap-like JSON document of about want bytes for row number i. */
static char *make_row(long i, size_t want)
{
	char *s = malloc(want + 256);
	int n;

	if (!s)
		abort();
	n = snprintf(s, 256,
		     "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
		     "{\"name\":\"bench-%ld\",\"namespace\":\"default\","
		     "\"resourceVersion\":\"%ld\"},\"data\":{\"k\":\"",
		     i, i);
	for (; (size_t)n < want; n++)
		s[n] = (char)('a' + n % 26);
	memcpy(s + n, "\"}}", 4);
	return s;
}

static int exec_sql(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	fprintf(stderr, "sqlite_insert: %s: %s\n", sql, msg ? msg : "?");
	sqlite3_free(msg);
	return -1;
}

static int one_tx(sqlite3 *db, sqlite3_stmt *ins, long *next, int rows,
		  size_t bytes)
{
	if (exec_sql(db, "BEGIN IMMEDIATE") < 0)
		return -1;
	for (int r = 0; r < rows; r++) {
		char *row = make_row(*next, bytes);
		char name[32];

		snprintf(name, sizeof(name), "bench-%ld", *next);
		sqlite3_bind_text(ins, 1, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(ins, 2, row, -1, SQLITE_TRANSIENT);
		free(row);
		if (sqlite3_step(ins) != SQLITE_DONE) {
			fprintf(stderr, "sqlite_insert: insert: %s\n",
				sqlite3_errmsg(sqlite3_db_handle(ins)));
			return -1;
		}
		sqlite3_reset(ins);
		(*next)++;
	}
	return exec_sql(db, "COMMIT");
}

int main(int argc, char **argv)
{
	double secs = argc > 2 ? atof(argv[2]) : 3.0;
	int rows = argc > 3 ? atoi(argv[3]) : 1;
	size_t bytes = argc > 4 ? (size_t)atol(argv[4]) : 1000;
	sqlite3 *db = NULL;
	sqlite3_stmt *ins = NULL;
	int64_t *lat = NULL, start, end;
	size_t n = 0, cap = 1 << 16;
	long next = 0;
	int rc = 1;

	if (argc < 2 || secs <= 0 || rows < 1 || bytes < 64) {
		fprintf(stderr, "usage: sqlite_insert DB [SECONDS [ROWS_PER_TX [ROW_BYTES]]]\n");
		return 2;
	}
	lat = malloc(cap * sizeof(*lat));
	if (!lat)
		abort();
	if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_EXCLUSIVE, NULL) != SQLITE_OK) {
		fprintf(stderr, "sqlite_insert: cannot open '%s': %s\n", argv[1],
			db ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	if (exec_sql(db, "PRAGMA journal_mode = WAL") < 0 ||
	    exec_sql(db, "PRAGMA synchronous = FULL") < 0 ||
	    exec_sql(db, "CREATE TABLE objects (id INTEGER PRIMARY KEY, "
			 "name TEXT NOT NULL, json TEXT NOT NULL)") < 0)
		goto out;
	if (sqlite3_prepare_v2(db, "INSERT INTO objects (name, json) VALUES (?1, ?2)",
			       -1, &ins, NULL) != SQLITE_OK) {
		fprintf(stderr, "sqlite_insert: prepare: %s\n", sqlite3_errmsg(db));
		goto out;
	}
	start = now_ns();
	end = start + (int64_t)(secs * 1e9);
	for (int64_t t = start; t < end;) {
		int64_t t1;

		if (one_tx(db, ins, &next, rows, bytes) < 0)
			goto out;
		t1 = now_ns();
		if (n == cap) {
			cap *= 2;
			lat = realloc(lat, cap * sizeof(*lat));
			if (!lat)
				abort();
		}
		lat[n++] = t1 - t;
		t = t1;
	}
	secs = (double)(now_ns() - start) / 1e9;
	qsort(lat, n, sizeof(*lat), cmp_i64);
	printf("tx=%zu rows=%ld secs=%.3f tx_per_s=%.1f rows_per_s=%.1f "
	       "p50_us=%.0f p99_us=%.0f\n",
	       n, next, secs, (double)n / secs, (double)next / secs,
	       (double)lat[n / 2] / 1e3, (double)lat[n * 99 / 100] / 1e3);
	rc = 0;
out:
	sqlite3_finalize(ins);
	sqlite3_close(db);
	free(lat);
	return rc;
}
