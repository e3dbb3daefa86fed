/*
 * common/util.h: allocation, logging, strings and time helpers used everywhere.
 *
 * Allocation failure aborts (xmalloc and friends); bad input never does.
 * Log lines are lower case, one line per event, subject quoted:
 *   lk_log("proxy: cannot program service '%s': %s", key, why);
 * Everything here runs on the one loop thread unless stated otherwise.
 */
#ifndef LK_UTIL_H
#define LK_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a fresh string; the caller frees it. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Log one line to stderr, prefixed with nothing: callers say their component. */
void lk_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Set by tests and --quiet; lk_debug() prints only when this is set. */
extern int lk_verbose;
void lk_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Start-up failure: print and exit(1). Never use at run time. */
void lk_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* A growable string. sb.buf is always NUL-terminated once anything is added. */
struct strbuf {
	char *buf;
	size_t len, alloc;
};
#define STRBUF_INIT { NULL, 0, 0 }
void sb_grow(struct strbuf *sb, size_t extra);
void sb_add(struct strbuf *sb, const void *data, size_t len);
void sb_adds(struct strbuf *sb, const char *s);
void sb_addc(struct strbuf *sb, char c);
void sb_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
/* Hand the buffer to the caller (never NULL) and reset sb. */
char *sb_detach(struct strbuf *sb, size_t *len);
void sb_release(struct strbuf *sb);
void sb_reset(struct strbuf *sb);

/* The whole file at path as a NUL-terminated string ("" when empty; the
 * caller frees it); its length in *len when len is not NULL. NULL when it
 * cannot be opened or read (errno set). */
char *lk_read_file(const char *path, size_t *len);

/* Time. */
uint64_t lk_now_ms(void);                 /* CLOCK_MONOTONIC in ms */
uint64_t lk_now_us(void);                 /* CLOCK_MONOTONIC in us */
/* RFC 3339 UTC with seconds, e.g. "2024-05-13T13:37:30Z"; buf >= 21 bytes. */
void lk_rfc3339(time_t t, char *buf);
/* MicroTime "2006-01-02T15:04:05.000000Z"; buf >= 28 bytes. */
void lk_rfc3339_micro(char *buf);
/* Parse RFC 3339 (with or without fraction, Z or offset); -1 on failure. */
time_t lk_parse_rfc3339(const char *s);
/* Kubernetes duration.HumanDuration of now - t ("5s", "3m2s", "2d3h"); buf >= 16. */
void lk_human_duration(int64_t seconds, char *buf, size_t len);
void lk_age(const char *rfc3339, time_t now, char *buf, size_t len);

/* A random lowercase UUIDv4; buf >= 37 bytes. */
void lk_uuid(char *buf);
/* n random characters from the Kubernetes name alphabet "bcdfghjklmnpqrstvwxz2456789". */
void lk_rand_suffix(char *buf, size_t n);
uint32_t lk_random_u32(void);
/* Tests only: a non-zero seed makes every random value above repeatable;
 * 0 returns to the kernel's randomness. */
void lk_random_seed(uint64_t seed);

/* CAP_NET_ADMIN and CAP_SYS_ADMIN are both effective: what the node agent
 * needs to run pods, and so what makes the proxy's and DNS's failures
 * count for readiness (a server without them runs nothing on purpose). */
bool lk_net_privileged(void);

bool str_has_prefix(const char *s, const char *prefix);
bool str_has_suffix(const char *s, const char *suffix);
bool str_eq(const char *a, const char *b); /* NULL-safe */

#endif
