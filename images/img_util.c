/*
 * images/img_util.c: what every built-in image shares besides its
 * sockets: output in the formats of the upstream programs (Go's log, klog,
 * %q, %v of a float, Duration.String, encoding/json strings) and command
 * line flags parsed as cobra/pflag and Go's flag package parse them.
 *
 * Follows the documented behaviour of Go's log, fmt, time, encoding/json
 * and flag packages, and spf13/pflag, so that the built-ins print what the
 * real images print. Not a general implementation of any of them.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/ip.h"
#include "images/img.h"

const char *img_hostname(void)
{
	static char name[256];

	if (!name[0] && gethostname(name, sizeof(name) - 1) < 0)
		snprintf(name, sizeof(name), "localhost");
	return name;
}

void img_tag_version(char *buf, size_t len, const char *dflt)
{
	const char *tag = img_version();
	unsigned a, b, c;
	int n = sscanf(tag, "%u.%u.%u", &a, &b, &c);

	if (tag[0] < '0' || tag[0] > '9' || n < 2)
		snprintf(buf, len, "%s", dflt);
	else if (n == 2)
		snprintf(buf, len, "%u.%u.0", a, b);
	else
		snprintf(buf, len, "%u.%u.%u", a, b, c);
}

void img_pod_ip(char *buf, size_t len)
{
	struct ifaddrs *ifs = NULL;

	snprintf(buf, len, "127.0.0.1");
	if (getifaddrs(&ifs) < 0)
		return;
	for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
		char t[LK_IP_STRLEN];
		struct lk_ip a;
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
		    lk_ip_from_sockaddr(i->ifa_addr, &a, NULL) == 0 && a.a[0] != 127) {
			snprintf(buf, len, "%s", lk_ip_format(&a, t));
			break;
		}
	}
	freeifaddrs(ifs);
}

/* ------------------------------------------------------------------ logs */

void img_golog(const char *fmt, ...)
{
	char ts[32], msg[8192];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;
	size_t n;

	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y/%m/%d %H:%M:%S", &tm);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = strlen(msg);
	/* log.Printf adds a newline unless the message ends with one */
	fprintf(stderr, "%s %s%s", ts, msg, n && msg[n - 1] == '\n' ? "" : "\n");
}

void img_klog(char sev, const char *file, int line, const char *fmt, ...)
{
	char msg[8192];
	struct timeval tv;
	struct tm tm;
	va_list ap;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%c%02d%02d %02d:%02d:%02d.%06ld %7d %s:%d] %s\n", sev,
		tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		(long)tv.tv_usec, (int)getpid(), file, line, msg);
}

/* ---------------------------------------------------------- Go's formats */

void img_go_quote(struct strbuf *sb, const char *s)
{
	sb_addc(sb, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': sb_adds(sb, "\\\""); break;
		case '\\': sb_adds(sb, "\\\\"); break;
		case '\n': sb_adds(sb, "\\n"); break;
		case '\r': sb_adds(sb, "\\r"); break;
		case '\t': sb_adds(sb, "\\t"); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				sb_addf(sb, "\\x%02x", *p);
			else
				sb_addc(sb, (char)*p);
		}
	}
	sb_addc(sb, '"');
}

/* %v of a float64: the shortest digits that read back the same value,
 * in %e form only for exponents < -4 or >= 21 (strconv 'g', -1). */
void img_go_float(double v, char *buf, size_t len)
{
	char tmp[64];
	int prec = 1, exp10;

	if (v == 0) {
		snprintf(buf, len, "0");
		return;
	}
	for (; prec < 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
	exp10 = atoi(strchr(tmp, 'e') + 1);
	if (exp10 < -4 || exp10 >= 21)
		snprintf(buf, len, "%.*g", prec, v);
	else
		snprintf(buf, len, "%.*f", prec - 1 - exp10 > 0 ? prec - 1 - exp10 : 0, v);
}

/* A fraction of v (nanoseconds of a unit of `digits` decimals), trailing
 * zeros dropped, as Duration.String prints it. */
static void frac(struct strbuf *sb, uint64_t whole, uint64_t part, int digits)
{
	char d[32];
	int n = digits;

	sb_addf(sb, "%llu", (unsigned long long)whole);
	if (!part)
		return;
	snprintf(d, sizeof(d), "%0*llu", digits, (unsigned long long)part);
	while (n > 0 && d[n - 1] == '0')
		n--;
	sb_addf(sb, ".%.*s", n, d);
}

void img_go_duration(int64_t ns, char *buf, size_t len)
{
	struct strbuf sb = STRBUF_INIT;
	uint64_t u = ns < 0 ? (uint64_t)-ns : (uint64_t)ns;

	if (ns < 0)
		sb_addc(&sb, '-');
	if (u == 0)
		sb_adds(&sb, "0s");
	else if (u < 1000)
		sb_addf(&sb, "%lluns", (unsigned long long)u);
	else if (u < 1000000)
		frac(&sb, u / 1000, u % 1000, 3), sb_adds(&sb, "µs");
	else if (u < 1000000000)
		frac(&sb, u / 1000000, u % 1000000, 6), sb_adds(&sb, "ms");
	else {
		uint64_t s = u / 1000000000, h = s / 3600, m = s / 60 % 60;
		if (h)
			sb_addf(&sb, "%lluh", (unsigned long long)h);
		if (h || m)
			sb_addf(&sb, "%llum", (unsigned long long)m);
		frac(&sb, s % 60, u % 1000000000, 9);
		sb_addc(&sb, 's');
	}
	snprintf(buf, len, "%s", sb.buf);
	sb_release(&sb);
}

void img_go_now(char *buf, size_t len)
{
	static struct timespec start;
	struct timespec now, mono;
	struct strbuf sb = STRBUF_INIT;
	char ts[32], m[32];
	struct tm tm;

	if (!start.tv_sec)
		clock_gettime(CLOCK_MONOTONIC, &start);
	clock_gettime(CLOCK_REALTIME, &now);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
	frac(&sb, 0, (uint64_t)now.tv_nsec, 9);
	snprintf(m, sizeof(m), "%+.9f",
		 (double)(mono.tv_sec - start.tv_sec) +
			 (mono.tv_nsec - start.tv_nsec) / 1e9);
	snprintf(buf, len, "%s%s +0000 UTC m=%s", ts, sb.buf + 1, m);
	sb_release(&sb);
}

/* Length of a valid UTF-8 sequence at p, 0 when invalid. */
static int utf8_len(const unsigned char *p)
{
	int n = *p >= 0xf0 && *p < 0xf5 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc2 ? 2 : 0;

	if (*p >= 0xf8)
		return 0;
	for (int i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

void img_json_str(struct strbuf *sb, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;

	sb_addc(sb, '"');
	while (*p) {
		int n;
		if (*p == '"' || *p == '\\')
			sb_addc(sb, '\\'), sb_addc(sb, (char)*p++);
		else if (*p == '\n')
			sb_adds(sb, "\\n"), p++;
		else if (*p == '\r')
			sb_adds(sb, "\\r"), p++;
		else if (*p == '\t')
			sb_adds(sb, "\\t"), p++;
		else if (*p < 0x20 || *p == '<' || *p == '>' || *p == '&') {
			sb_addf(sb, "\\u00%c%c", hex[*p >> 4], hex[*p & 15]);
			p++;
		} else if (*p < 0x80)
			sb_addc(sb, (char)*p++);
		else if ((n = utf8_len(p)) > 0)
			sb_add(sb, p, (size_t)n), p += n;
		else
			sb_adds(sb, "\\ufffd"), p++;
	}
	sb_addc(sb, '"');
}

const char *img_errstr(int err)
{
	static char buf[128];

	snprintf(buf, sizeof(buf), "%s", strerror(err));
	if (buf[0] >= 'A' && buf[0] <= 'Z' && buf[1] >= 'a' && buf[1] <= 'z')
		buf[0] = (char)(buf[0] - 'A' + 'a');
	return buf;
}

void img_exec_host(char **argv)
{
	int err;

	fflush(stdout);
	execvp(argv[0], argv);
	err = errno;
	fprintf(stderr, "exec: \"%s\": %s\n", argv[0],
		err == ENOENT ? (strchr(argv[0], '/') ? "stat: no such file or directory"
						    : "executable file not found in $PATH")
			      : img_errstr(err));
	exit(err == ENOENT ? 127 : 126);
}

/* ------------------------------------------------------------ durations */

static const struct {
	const char *unit;
	double ns;
} dur_units[] = {
	{ "ns", 1 }, { "us", 1e3 }, { "µs", 1e3 }, { "μs", 1e3 },
	{ "ms", 1e6 }, { "s", 1e9 }, { "m", 60e9 }, { "h", 3600e9 },
};

static int dur_unit(const char **s, double *ns)
{
	size_t best = 0;

	for (size_t i = 0; i < ARRAY_SIZE(dur_units); i++) {
		size_t n = strlen(dur_units[i].unit);
		if (!strncmp(*s, dur_units[i].unit, n) && n > best) {
			best = n;
			*ns = dur_units[i].ns;
		}
	}
	*s += best;
	return best ? 0 : -1;
}

int img_parse_duration(const char *s, int64_t *ns)
{
	double total = 0, sign = 1, unit;
	char *end;

	if (*s == '-' || *s == '+')
		sign = *s++ == '-' ? -1 : 1;
	if (!strcmp(s, "0")) {
		*ns = 0;
		return 0;
	}
	if (!*s)
		return -1;
	while (*s) {
		if (!(*s >= '0' && *s <= '9') && *s != '.')
			return -1;
		double v = strtod(s, &end);
		if (end == s)
			return -1;
		s = end;
		if (dur_unit(&s, &unit) < 0)
			return -1;
		total += v * unit;
	}
	*ns = (int64_t)llround(sign * total);
	return 0;
}

/* ----------------------------------------------------------------- flags */

/* klog's flags, which agnhost accepts on every subcommand. */
static const char *const klog_flags[] = {
	"v", "vmodule", "logtostderr", "alsologtostderr", "stderrthreshold",
	"log_dir", "log_file", "log_file_max_size", "log_backtrace_at",
	"skip_headers", "skip_log_headers", "add_dir_header", "one_output",
	NULL,
};
static const char *const klog_bools[] = {
	"logtostderr", "alsologtostderr", "skip_headers", "skip_log_headers",
	"add_dir_header", "one_output", NULL,
};

static bool in_list(const char *const *l, const char *s, size_t n)
{
	for (; *l; l++)
		if (strlen(*l) == n && !strncmp(*l, s, n))
			return true;
	return false;
}

static const struct img_flag *find_flag(const struct img_flag *fl,
					const char *name, size_t n)
{
	for (; fl->name; fl++)
		if (strlen(fl->name) == n && !strncmp(fl->name, name, n))
			return fl;
	return NULL;
}

static const struct img_flag *find_short(const struct img_flag *fl, char c)
{
	for (; fl->name; fl++)
		if (c && fl->shorthand == c)
			return fl;
	return NULL;
}

static int bool_value(const char *v, bool *out)
{
	static const char *const t[] = { "1", "t", "T", "true", "TRUE", "True", NULL };
	static const char *const f[] = { "0", "f", "F", "false", "FALSE", "False", NULL };

	if (in_list(t, v, strlen(v)))
		*out = true;
	else if (in_list(f, v, strlen(v)))
		*out = false;
	else
		return -1;
	return 0;
}

/* Store v into fl; 0, or -1 when v does not parse. */
static int set_flag(const struct img_flag *fl, const char *v)
{
	char *end;
	long n;

	switch (fl->type) {
	case IMG_STR:
		*(const char **)fl->ptr = v;
		return 0;
	case IMG_INT:
		errno = 0;
		n = strtol(v, &end, 0);
		if (!*v || *end || errno || n < INT32_MIN || n > INT32_MAX)
			return -1;
		*(int *)fl->ptr = (int)n;
		return 0;
	case IMG_BOOL:
		return bool_value(v, fl->ptr);
	case IMG_DUR:
		return img_parse_duration(v, fl->ptr);
	}
	return -1;
}

static const char *type_word(const struct img_flag *fl, bool go)
{
	static const char *const w[] = { "string", "int", "bool", "duration" };
	static const char *const gw[] = { "string", "parse error", "parse error",
					  "parse error" };
	return go ? gw[fl->type] : w[fl->type];
}

static int bad_value(const struct img_flag *fl, const char *v, bool go, bool sh)
{
	if (go)
		fprintf(stderr, "invalid value \"%s\" for flag -%s: %s\n", v,
			fl->name, type_word(fl, go));
	else if (sh)
		fprintf(stderr, "Error: invalid argument \"%s\" for \"-%c, --%s\" "
			"flag: %s\n", v, fl->shorthand, fl->name, type_word(fl, go));
	else
		fprintf(stderr, "Error: invalid argument \"%s\" for \"--%s\" flag: "
			"%s\n", v, fl->name, type_word(fl, go));
	return -1;
}

/* One "--name[=v]" (or Go's "-name[=v]"); *i may advance past a value. */
static int long_flag(const struct img_flag *flags, int argc, char **argv,
		     int *i, bool go)
{
	const char *a = argv[*i] + (argv[*i][1] == '-' ? 2 : 1);
	const char *eq = strchr(a, '=');
	size_t n = eq ? (size_t)(eq - a) : strlen(a);
	const struct img_flag *fl = find_flag(flags, a, n);

	if (!fl && !go && in_list(klog_flags, a, n)) {
		if (!eq && !in_list(klog_bools, a, n) && *i + 1 < argc)
			(*i)++;
		return 0;
	}
	if (!fl) {
		if (go)
			fprintf(stderr, "flag provided but not defined: -%.*s\n", (int)n, a);
		else
			fprintf(stderr, "Error: unknown flag: --%.*s\n", (int)n, a);
		return -1;
	}
	if (eq)
		return set_flag(fl, eq + 1) < 0 ? bad_value(fl, eq + 1, go, false) : 0;
	if (fl->type == IMG_BOOL)
		return set_flag(fl, "true");
	if (*i + 1 >= argc) {
		if (go)
			fprintf(stderr, "flag needs an argument: -%s\n", fl->name);
		else
			fprintf(stderr, "Error: flag needs an argument: --%s\n", fl->name);
		return -1;
	}
	(*i)++;
	return set_flag(fl, argv[*i]) < 0 ? bad_value(fl, argv[*i], go, false) : 0;
}

/* pflag's "-t 5", "-t5", "-t=5" (one shorthand; booleans alone). */
static int short_flag(const struct img_flag *flags, int argc, char **argv, int *i)
{
	const char *a = argv[*i] + 1;
	const struct img_flag *fl = find_short(flags, a[0]);
	const char *v = a[1] == '=' ? a + 2 : a[1] ? a + 1 : NULL;

	if (!fl) {
		fprintf(stderr, "Error: unknown shorthand flag: '%c' in -%s\n", a[0], a);
		return -1;
	}
	if (!v && fl->type == IMG_BOOL)
		return set_flag(fl, "true");
	if (!v) {
		if (*i + 1 >= argc) {
			fprintf(stderr, "Error: flag needs an argument: '%c' in -%c\n",
				a[0], a[0]);
			return -1;
		}
		v = argv[++(*i)];
	}
	return set_flag(fl, v) < 0 ? bad_value(fl, v, false, true) : 0;
}

/* Move the positionals (pos[i] set) to the front, keeping every pointer:
 * the caller still owns and frees argv's strings. */
static void positionals_first(int argc, char **argv, const bool *pos)
{
	char **tmp = xmalloc(((size_t)argc + 1) * sizeof(*tmp));
	int n = 0;

	for (int i = 0; i < argc; i++)
		if (pos[i])
			tmp[n++] = argv[i];
	for (int i = 0; i < argc; i++)
		if (!pos[i])
			tmp[n++] = argv[i];
	memcpy(argv, tmp, (size_t)argc * sizeof(*argv));
	free(tmp);
}

int img_flags(const struct img_flag *fl, int argc, char **argv, unsigned mode)
{
	bool go = mode & IMG_FLAGS_GO, *pos = xcalloc((size_t)argc + 1, sizeof(bool));
	int npos = 0, i, rc = 0;

	for (i = 0; i < argc && rc == 0; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (a[0] != '-' || !a[1]) {
			if (go)
				break;
			pos[i] = true, npos++;
			continue;
		}
		if (go || a[1] == '-')
			rc = long_flag(fl, argc, argv, &i, go);
		else
			rc = short_flag(fl, argc, argv, &i);
	}
	for (; i < argc && rc == 0; i++)
		pos[i] = true, npos++;
	if (rc == 0)
		positionals_first(argc, argv, pos);
	free(pos);
	return rc < 0 ? -1 : npos;
}
