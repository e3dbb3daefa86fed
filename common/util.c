/*
 * common/util.c: see util.h.
 */
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

int lk_verbose;

static void oom(void)
{
	fputs("labkube: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	return sb_detach(&sb, NULL);
}

static void vlog(const char *fmt, va_list ap)
{
	char line[2048];
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(2, line, n);
}

void lk_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void lk_debug(const char *fmt, ...)
{
	va_list ap;
	if (!lk_verbose)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void lk_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
	exit(1);
}

void sb_grow(struct strbuf *sb, size_t extra)
{
	size_t need = sb->len + extra + 1;
	if (need <= sb->alloc)
		return;
	size_t n = sb->alloc ? sb->alloc : 64;
	while (n < need)
		n *= 2;
	sb->buf = xrealloc(sb->buf, n);
	sb->alloc = n;
}

void sb_add(struct strbuf *sb, const void *data, size_t len)
{
	sb_grow(sb, len);
	memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = 0;
}

void sb_adds(struct strbuf *sb, const char *s)
{
	sb_add(sb, s, strlen(s));
}

void sb_addc(struct strbuf *sb, char c)
{
	sb_add(sb, &c, 1);
}

void sb_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	sb_grow(sb, (size_t)n);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
}

void sb_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sb_vaddf(sb, fmt, ap);
	va_end(ap);
}

char *sb_detach(struct strbuf *sb, size_t *len)
{
	char *p = sb->buf ? sb->buf : xstrdup("");
	if (len)
		*len = sb->len;
	sb->buf = NULL;
	sb->len = sb->alloc = 0;
	return p;
}

void sb_release(struct strbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->alloc = 0;
}

void sb_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->buf)
		sb->buf[0] = 0;
}

char *lk_read_file(const char *path, size_t *len)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		sb_add(&sb, buf, (size_t)n);
	if (n < 0) {
		int e = errno;
		close(fd);
		sb_release(&sb);
		errno = e;
		return NULL;
	}
	close(fd);
	if (!sb.buf)
		sb_adds(&sb, "");
	return sb_detach(&sb, len);
}

uint64_t lk_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t lk_now_ms(void)
{
	return lk_now_us() / 1000u;
}

void lk_rfc3339(time_t t, char *buf)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void lk_rfc3339_micro(char *buf)
{
	struct timespec ts;
	struct tm tm;
	char head[32];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(head, sizeof(head), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, 28, "%.19s.%06uZ", head, (unsigned)(ts.tv_nsec / 1000) % 1000000u);
}

time_t lk_parse_rfc3339(const char *s)
{
	struct tm tm = { 0 };
	const char *p;
	if (!s || !(p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)))
		return -1;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	time_t t = timegm(&tm);
	if (*p == 'Z' || *p == 'z')
		return t;
	if (*p == '+' || *p == '-') {
		int hh, mm;
		if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2)
			return -1;
		int off = (hh * 60 + mm) * 60;
		return *p == '+' ? t - off : t + off;
	}
	return -1;
}

/* k8s.io/apimachinery/pkg/util/duration.HumanDuration */
void lk_human_duration(int64_t s, char *buf, size_t len)
{
	if (s < -1) {
		snprintf(buf, len, "<invalid>");
		return;
	}
	if (s < 0)
		s = 0;
	int64_t m = s / 60, h = s / 3600, d = h / 24, y = h / (24 * 365);
	if (s < 120)
		snprintf(buf, len, "%llds", (long long)s);
	else if (m < 10 && s % 60)
		snprintf(buf, len, "%lldm%llds", (long long)m, (long long)(s % 60));
	else if (m < 180)
		snprintf(buf, len, "%lldm", (long long)m);
	else if (h < 8 && m % 60)
		snprintf(buf, len, "%lldh%lldm", (long long)h, (long long)(m % 60));
	else if (h < 48)
		snprintf(buf, len, "%lldh", (long long)h);
	else if (h < 192 && h % 24)
		snprintf(buf, len, "%lldd%lldh", (long long)d, (long long)(h % 24));
	else if (h < 24 * 365 * 2)
		snprintf(buf, len, "%lldd", (long long)d);
	else if (h < 24 * 365 * 8 && d % 365)
		snprintf(buf, len, "%lldy%lldd", (long long)y, (long long)(d % 365));
	else
		snprintf(buf, len, "%lldy", (long long)y);
}

void lk_age(const char *ts, time_t now, char *buf, size_t len)
{
	time_t t = lk_parse_rfc3339(ts);
	if (!ts || t < 0) {
		snprintf(buf, len, "<unknown>");
		return;
	}
	lk_human_duration((int64_t)(now - t), buf, len);
}

static uint64_t test_seed; /* non-zero: deterministic (lk_random_seed) */

void lk_random_seed(uint64_t seed)
{
	test_seed = seed;
}

static void fill_random(void *buf, size_t n)
{
	if (test_seed) {
		for (size_t i = 0; i < n; i++) {
			test_seed ^= test_seed << 13;
			test_seed ^= test_seed >> 7;
			test_seed ^= test_seed << 17;
			((unsigned char *)buf)[i] = (unsigned char)test_seed;
		}
		return;
	}
	if (getrandom(buf, n, 0) == (ssize_t)n)
		return;
	for (size_t i = 0; i < n; i++)
		((unsigned char *)buf)[i] = (unsigned char)rand();
}

uint32_t lk_random_u32(void)
{
	uint32_t v;
	fill_random(&v, sizeof(v));
	return v;
}

void lk_uuid(char *buf)
{
	unsigned char b[16];
	fill_random(b, sizeof(b));
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(buf, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
}

void lk_rand_suffix(char *buf, size_t n)
{
	static const char alpha[] = "bcdfghjklmnpqrstvwxz2456789";
	unsigned char r[64];
	if (n > sizeof(r))
		n = sizeof(r);
	fill_random(r, n);
	for (size_t i = 0; i < n; i++)
		buf[i] = alpha[r[i] % (sizeof(alpha) - 1)];
	buf[n] = 0;
}

bool str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool str_has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

bool lk_net_privileged(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0)
		return false;
	return (d[0].effective & (1u << CAP_NET_ADMIN)) && (d[0].effective & (1u << CAP_SYS_ADMIN));
}
