/*
 * server/resources/validate.c: apimachinery's name, label and key checks
 * (k8s.io/apimachinery/pkg/util/validation, release-1.32), their messages
 * byte for byte, and Go %#v rendering of the values causes quote.
 * Not here: which check applies to which field (the kind files decide).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/resources/res_internal.h"

/* RegexError(msg, fmt, examples...) spelled out, as upstream builds it. */
#define DNS1123_LABEL_FMT "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
#define DNS1123_SUBDOMAIN_FMT DNS1123_LABEL_FMT "(\\." DNS1123_LABEL_FMT ")*"
#define QNAME_FMT "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
#define QNAME_MSG "must consist of alphanumeric characters, '-', '_' or '.', " \
	"and must start and end with an alphanumeric character (e.g. 'MyName', " \
	" or 'my.name',  or '123-abc', regex used for validation is '" QNAME_FMT "')"

#define MSG_LABEL "a lowercase RFC 1123 label must consist of lower case " \
	"alphanumeric characters or '-', and must start and end with an " \
	"alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for " \
	"validation is '" DNS1123_LABEL_FMT "')"
#define MSG_SUBDOMAIN "a lowercase RFC 1123 subdomain must consist of lower " \
	"case alphanumeric characters, '-' or '.', and must start and end with " \
	"an alphanumeric character (e.g. 'example.com', regex used for " \
	"validation is '" DNS1123_SUBDOMAIN_FMT "')"
#define MSG_DNS1035 "a DNS-1035 label must consist of lower case alphanumeric " \
	"characters or '-', start with an alphabetic character, and end with an " \
	"alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for " \
	"validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
#define MSG_LABEL_VALUE "a valid label must be an empty string or consist of " \
	"alphanumeric characters, '-', '_' or '.', and must start and end with " \
	"an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', " \
	"regex used for validation is '(" QNAME_FMT ")?')"
#define MSG_CONFIG_KEY "a valid config key must consist of alphanumeric " \
	"characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or " \
	"'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
#define MSG_PERCENT "a valid percent string must be a numeric string " \
	"followed by an ending '%' (e.g. '1%',  or '93%', regex used for " \
	"validation is '[0-9]+%')"
#define TOO_LONG(n) "must be no more than " #n " characters"

const char *res_fp(char *buf, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, FP_MAX, fmt, ap);
	va_end(ap);
	return buf;
}

static bool lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool alnum(char c)
{
	return lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])? over s[0..n) (first char class: first). */
static bool label_syntax(const char *s, size_t n, bool (*first)(char))
{
	if (!n || !first(s[0]) || !lower_alnum(s[n - 1]))
		return false;
	for (size_t i = 1; i + 1 < n; i++)
		if (!lower_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

static bool lower_alpha(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool subdomain_syntax(const char *s)
{
	const char *dot;
	do {
		dot = strchr(s, '.');
		size_t n = dot ? (size_t)(dot - s) : strlen(s);
		if (!label_syntax(s, n, lower_alnum))
			return false;
		s = dot + 1;
	} while (dot);
	return true;
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9] over s[0..n). */
static bool qname_syntax(const char *s, size_t n)
{
	if (!n || !alnum(s[0]) || !alnum(s[n - 1]))
		return false;
	for (size_t i = 1; i + 1 < n; i++)
		if (!alnum(s[i]) && !strchr("-_.", s[i]))
			return false;
	return true;
}

int is_dns1123_label(const char *v, const char **msgs)
{
	int n = 0;
	if (strlen(v) > 63)
		msgs[n++] = TOO_LONG(63);
	if (!label_syntax(v, strlen(v), lower_alnum))
		msgs[n++] = subdomain_syntax(v) ? "must not contain dots" : MSG_LABEL;
	return n;
}

int is_dns1123_subdomain(const char *v, const char **msgs)
{
	int n = 0;
	if (strlen(v) > 253)
		msgs[n++] = TOO_LONG(253);
	if (!subdomain_syntax(v))
		msgs[n++] = MSG_SUBDOMAIN;
	return n;
}

int is_dns1035_label(const char *v, const char **msgs)
{
	int n = 0;
	if (strlen(v) > 63)
		msgs[n++] = TOO_LONG(63);
	if (!label_syntax(v, strlen(v), lower_alpha))
		msgs[n++] = MSG_DNS1035;
	return n;
}

int is_qualified_name(const char *v, const char **msgs)
{
	const char *slash = strchr(v, '/'), *name = v;
	int n = 0;
	if (slash && strchr(slash + 1, '/')) {
		msgs[0] = "a qualified name " QNAME_MSG
			  " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')";
		return 1;
	}
	if (slash) {
		char prefix[512];
		size_t plen = (size_t)(slash - v);
		name = slash + 1;
		if (!plen) {
			msgs[n++] = "prefix part must be non-empty";
		} else {
			snprintf(prefix, sizeof(prefix), "%.*s", (int)plen, v);
			if (plen > 253)
				msgs[n++] = "prefix part " TOO_LONG(253);
			if (plen >= sizeof(prefix) || !subdomain_syntax(prefix))
				msgs[n++] = "prefix part " MSG_SUBDOMAIN;
		}
	}
	if (!*name)
		msgs[n++] = "name part must be non-empty";
	else if (strlen(name) > 63)
		msgs[n++] = "name part " TOO_LONG(63);
	if (!qname_syntax(name, strlen(name)))
		msgs[n++] = "name part " QNAME_MSG;
	return n;
}

int is_label_value(const char *v, const char **msgs)
{
	int n = 0;
	if (strlen(v) > 63)
		msgs[n++] = TOO_LONG(63);
	if (*v && !qname_syntax(v, strlen(v)))
		msgs[n++] = MSG_LABEL_VALUE;
	return n;
}

int is_port_name(const char *v, const char **msgs)
{
	size_t len = strlen(v);
	bool charset = len > 0, letter = false;
	int n = 0;
	for (size_t i = 0; i < len; i++) {
		charset &= lower_alnum(v[i]) || v[i] == '-';
		letter |= lower_alpha(v[i]);
	}
	if (len > 15)
		msgs[n++] = TOO_LONG(15);
	if (!charset)
		msgs[n++] = "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)";
	if (!letter)
		msgs[n++] = "must contain at least one letter (a-z)";
	if (strstr(v, "--"))
		msgs[n++] = "must not contain consecutive hyphens";
	if (len && (v[0] == '-' || v[len - 1] == '-'))
		msgs[n++] = "must not begin or end with a hyphen";
	return n;
}

int is_config_map_key(const char *v, const char **msgs)
{
	size_t len = strlen(v);
	bool ok = len > 0;
	int n = 0;
	for (size_t i = 0; i < len; i++)
		ok &= alnum(v[i]) || strchr("-._", v[i]) != NULL;
	if (len > 253)
		msgs[n++] = TOO_LONG(253);
	if (!ok)
		msgs[n++] = MSG_CONFIG_KEY;
	if (!strcmp(v, "."))
		msgs[n++] = "must not be '.'";
	else if (!strcmp(v, ".."))
		msgs[n++] = "must not be '..'";
	else if (str_has_prefix(v, ".."))
		msgs[n++] = "must not start with '..'";
	return n;
}

/* path.IsValidPathSegmentName (names of kinds without a DNS rule). */
int is_path_segment(const char *v, const char **msgs)
{
	int n = 0;
	if (!strcmp(v, ".") || !strcmp(v, "..")) {
		msgs[0] = !strcmp(v, ".") ? "may not be '.'" : "may not be '..'";
		return 1;
	}
	if (strchr(v, '/'))
		msgs[n++] = "may not contain '/'";
	if (strchr(v, '%'))
		msgs[n++] = "may not contain '%'";
	return n;
}

int res_is_percent(const char *v, const char **msgs)
{
	size_t len = strlen(v), i = 0;
	while (i < len && v[i] >= '0' && v[i] <= '9')
		i++;
	if (i == 0 || i + 1 != len || v[i] != '%') {
		msgs[0] = MSG_PERCENT;
		return 1;
	}
	return 0;
}

int res_check_prefix(check_fn fn, const char *v, const char **msgs)
{
	size_t len = strlen(v);
	if (len > 1 && v[len - 1] == '-') {
		/* maskTrailingDash: name[:len-2] + "a" (sic, upstream). */
		char *m = xstrdup(v);
		m[len - 2] = 'a';
		m[len - 1] = 0;
		int n = fn(m, msgs);
		free(m);
		return n;
	}
	return fn(v, msgs);
}

void res_invalid_each(struct field_errs *fe, const char *field, const char *v,
		  check_fn fn)
{
	const char *msgs[MSG_MAX];
	int n = fn(v, msgs);
	for (int i = 0; i < n; i++)
		field_err_invalid_str(fe, field, v, msgs[i]);
}

void res_check_nonneg(struct field_errs *fe, const char *field, const cJSON *v)
{
	if (cJSON_IsNumber(v) && v->valuedouble < 0)
		field_err_invalid_int(fe, field, res_num(v),
				      "must be greater than or equal to 0");
}

void res_check_port(struct field_errs *fe, const char *field, long long v)
{
	if (v < 1 || v > 65535)
		field_err_invalid_int(fe, field, v, "must be between 1 and 65535, inclusive");
}

/* ValidateEndpointIP: unspecified, loopback, link-local are refused. */
void check_endpoint_ip(struct field_errs *fe, const char *field, const char *ip)
{
	struct lk_ip v;
	const uint8_t *b = v.a;
	char msg[128];
	bool zero = true;
	int n;
	if (lk_ip_parse(ip, &v, NULL) < 0) {
		field_err_invalid_str(fe, field, ip, "must be a valid IP address");
		return;
	}
	/* An IPv4-mapped IPv6 address is judged as IPv4, as Go does. */
	v = lk_ip_unmap(&v);
	n = lk_ip_bits(&v) / 8;
	for (int i = 0; i < n; i++)
		zero &= b[i] == 0;
	if (zero) {
		snprintf(msg, sizeof(msg), "may not be unspecified (%s)", ip);
		field_err_invalid_str(fe, field, ip, msg);
	}
	if ((n == 4 && b[0] == 127) ||
	    (n == 16 && !memcmp(b, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16)))
		field_err_invalid_str(fe, field, ip,
				      "may not be in the loopback range (127.0.0.0/8, ::1/128)");
	if ((n == 4 && b[0] == 169 && b[1] == 254) ||
	    (n == 16 && b[0] == 0xfe && (b[1] & 0xc0) == 0x80))
		field_err_invalid_str(fe, field, ip,
				      "may not be in the link-local range (169.254.0.0/16, fe80::/10)");
	if ((n == 4 && b[0] == 224 && b[1] == 0 && b[2] == 0) ||
	    (n == 16 && b[0] == 0xff && (b[1] & 0x0f) == 0x02))
		field_err_invalid_str(fe, field, ip,
				      "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)");
}

bool res_str_in(const char *v, const char *const *list)
{
	for (; v && *list; list++)
		if (!strcmp(v, *list))
			return true;
	return false;
}

/* Go's %q, as common/err.c renders strings. */
static void quote(struct strbuf *sb, const char *s)
{
	sb_addc(sb, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			sb_addf(sb, "\\%c", c);
		else if (c == '\n')
			sb_adds(sb, "\\n");
		else if (c == '\t')
			sb_adds(sb, "\\t");
		else if (c < 0x20 || c == 0x7f)
			sb_addf(sb, "\\x%02x", c);
		else
			sb_addc(sb, (char)c);
	}
	sb_addc(sb, '"');
}

static int cmp_keys(const void *a, const void *b)
{
	return strcmp((*(const cJSON *const *)a)->string,
		      (*(const cJSON *const *)b)->string);
}

/* fmt sorts map keys; `"k":"v"` pairs joined by ", ". */
static void map_body(struct strbuf *sb, const cJSON *map)
{
	int n = res_jsize(map), i = 0;
	const cJSON **items = xcalloc((size_t)n + 1, sizeof(*items));
	const cJSON *it;
	cJSON_ArrayForEach(it, map)
		items[i++] = it;
	qsort(items, (size_t)n, sizeof(*items), cmp_keys);
	sb_addc(sb, '{');
	for (i = 0; i < n; i++) {
		if (i)
			sb_adds(sb, ", ");
		quote(sb, items[i]->string);
		sb_addc(sb, ':');
		quote(sb, cJSON_IsString(items[i]) ? items[i]->valuestring : "");
	}
	sb_addc(sb, '}');
	free(items);
}

char *res_go_map(const cJSON *map)
{
	struct strbuf sb = STRBUF_INIT;
	if (!cJSON_IsObject(map))
		return xstrdup("map[string]string(nil)");
	sb_adds(&sb, "map[string]string");
	map_body(&sb, map);
	return sb_detach(&sb, NULL);
}

char *res_go_strings(const cJSON *arr)
{
	struct strbuf sb = STRBUF_INIT;
	const cJSON *it;
	int i = 0;
	if (!cJSON_IsArray(arr))
		return xstrdup("[]string(nil)");
	sb_adds(&sb, "[]string{");
	cJSON_ArrayForEach(it, arr) {
		if (i++)
			sb_adds(&sb, ", ");
		quote(&sb, cJSON_IsString(it) ? it->valuestring : "");
	}
	sb_addc(&sb, '}');
	return sb_detach(&sb, NULL);
}

char *res_go_label_selector(const cJSON *sel)
{
	struct strbuf sb = STRBUF_INIT;
	const cJSON *ml = jget(sel, "matchLabels"), *me = jget(sel, "matchExpressions");
	const cJSON *e;
	int i = 0;
	sb_adds(&sb, "v1.LabelSelector{MatchLabels:");
	if (cJSON_IsObject(ml)) {
		sb_adds(&sb, "map[string]string");
		map_body(&sb, ml);
	} else {
		sb_adds(&sb, "map[string]string(nil)");
	}
	sb_adds(&sb, ", MatchExpressions:");
	if (!cJSON_IsArray(me)) {
		sb_adds(&sb, "[]v1.LabelSelectorRequirement(nil)}");
		return sb_detach(&sb, NULL);
	}
	sb_adds(&sb, "[]v1.LabelSelectorRequirement{");
	cJSON_ArrayForEach(e, me) {
		char *vals = res_go_strings(jget(e, "values"));
		sb_adds(&sb, i++ ? ", " : "");
		sb_adds(&sb, "v1.LabelSelectorRequirement{Key:");
		quote(&sb, jstr_or(e, "key", ""));
		sb_adds(&sb, ", Operator:");
		quote(&sb, jstr_or(e, "operator", ""));
		sb_addf(&sb, ", Values:%s}", vals);
		free(vals);
	}
	sb_adds(&sb, "}}");
	return sb_detach(&sb, NULL);
}

char *res_go_intstr(const cJSON *v)
{
	struct strbuf sb = STRBUF_INIT;
	if (cJSON_IsString(v)) {
		sb_adds(&sb, "intstr.IntOrString{Type:1, IntVal:0, StrVal:");
		quote(&sb, v->valuestring);
		sb_addc(&sb, '}');
		return sb_detach(&sb, NULL);
	}
	return xasprintf("intstr.IntOrString{Type:0, IntVal:%lld, StrVal:\"\"}",
			 cJSON_IsNumber(v) ? res_num(v) : 0LL);
}

int res_field_from_defs(const struct field_def *defs, const cJSON *obj,
		    const char *label, char *buf, size_t len)
{
	for (; defs->label; defs++) {
		if (strcmp(defs->label, label))
			continue;
		const cJSON *v = jget(obj, defs->path);
		const char *s;
		switch (defs->kind) {
		case FK_STR:
			snprintf(buf, len, "%s", cJSON_IsString(v) ? v->valuestring : "");
			break;
		case FK_BOOL:
			snprintf(buf, len, "%s", cJSON_IsTrue(v) ? "true" : "false");
			break;
		case FK_INT:
			snprintf(buf, len, "%lld", jint(obj, defs->path, 0));
			break;
		case FK_FIRST_IP:
			s = jstr(cJSON_GetArrayItem(jget(obj, "status.podIPs"), 0), "ip");
			snprintf(buf, len, "%s", s ? s : jstr_or(obj, "status.podIP", ""));
			break;
		case FK_EV_SOURCE:
			s = jstr_or(obj, "source.component", "");
			snprintf(buf, len, "%s", *s ? s : jstr_or(obj, "reportingComponent", ""));
			break;
		}
		return 0;
	}
	return -1;
}
