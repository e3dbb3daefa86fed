/*
 * server/registry/selector.c: label and field selectors; see selector.h.
 *
 * The label selector lexer and parser are a line-by-line port of
 * k8s.io/apimachinery/pkg/labels/selector.go (v0.27-v0.33), keeping its
 * token table, its two parser contexts (`in`/`notin` are identifiers where a
 * value is expected) and its error strings. Key and value validation ports
 * util/validation.IsQualifiedName and IsValidLabelValue, whose regexes are
 * small enough to check by hand. Field selectors port pkg/fields/selector.go.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/util.h"
#include "server/registry/selector.h"

/* ------------------------------------------------------------------------- */
/* Go formatting: %q and %#v of []string, as field.Error.ErrorBody uses.      */

/* Decode one UTF-8 rune like Go: invalid, overlong or surrogate → -1. */
static int32_t utf8_rune(const unsigned char *s, size_t *width)
{
	int32_t r;
	size_t n, i;

	*width = 1;
	if (s[0] < 0x80)
		return s[0];
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, r = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, r = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, r = s[0] & 0x07;
	else
		return -1;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		r = (r << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && r < 0x800) || (n == 4 && (r < 0x10000 || r > 0x10ffff)) ||
	    (r >= 0xd800 && r <= 0xdfff))
		return -1;
	*width = n;
	return r;
}

/* unicode.IsPrint for non-ASCII runes, approximated: spaces other than
 * U+0020, C1 controls, format characters and private use are not. */
static bool rune_printable(int32_t r)
{
	static const int32_t unprintable[][2] = {
		{ 0x80, 0xa0 },       { 0xad, 0xad },     { 0x1680, 0x1680 },
		{ 0x2000, 0x200f },   { 0x2028, 0x202f }, { 0x205f, 0x206f },
		{ 0x3000, 0x3000 },   { 0xe000, 0xf8ff }, { 0xfeff, 0xfeff },
		{ 0xfff9, 0xfffb },   { 0xf0000, 0x10ffff },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(unprintable); i++)
		if (r >= unprintable[i][0] && r <= unprintable[i][1])
			return false;
	return true;
}

/* Go's strconv.Quote (%q). */
static void go_quote(struct strbuf *sb, const char *s)
{
	static const char esc[] = "\a\b\f\n\r\t\v", letter[] = "abfnrtv";
	const unsigned char *p = (const unsigned char *)s;
	size_t w;

	sb_addc(sb, '"');
	while (*p) {
		int32_t r = utf8_rune(p, &w);
		const char *e;

		if (r < 0)
			sb_addf(sb, "\\x%02x", *p);
		else if (r == '"' || r == '\\')
			sb_addf(sb, "\\%c", (char)r);
		else if (r >= 0x20 && r < 0x7f)
			sb_addc(sb, (char)r);
		else if (r >= 0x80 && rune_printable(r))
			sb_add(sb, p, w);
		else if (r < 0x80 && r && (e = strchr(esc, (char)r)))
			sb_addf(sb, "\\%c", letter[e - esc]);
		else if (r < 0x20 || r == 0x7f)
			sb_addf(sb, "\\x%02x", (unsigned)r);
		else if (r < 0x10000)
			sb_addf(sb, "\\u%04x", (unsigned)r);
		else
			sb_addf(sb, "\\U%08x", (unsigned)r);
		p += w;
	}
	sb_addc(sb, '"');
}

/* %#v of a []string; n == 0 is a nil slice (the only empty case upstream
 * can reach: append([]string(nil), values...)). */
static void go_string_slice(struct strbuf *sb, char *const *v, size_t n)
{
	size_t i;

	if (!n) {
		sb_adds(sb, "[]string(nil)");
		return;
	}
	sb_adds(sb, "[]string{");
	for (i = 0; i < n; i++) {
		if (i)
			sb_adds(sb, ", ");
		go_quote(sb, v[i]);
	}
	sb_addc(sb, '}');
}

/* ------------------------------------------------------------------------- */
/* An error list with utilerrors.NewAggregate's formatting.                  */

struct msgs {
	char **v;
	size_t n;
};

static void msgs_add(struct msgs *m, struct strbuf *sb)
{
	m->v = xrealloc(m->v, (m->n + 1) * sizeof(*m->v));
	m->v[m->n++] = sb_detach(sb, NULL);
}

/* One message bare; several deduplicated and in brackets. */
static void msgs_aggregate(const struct msgs *m, struct strbuf *out)
{
	size_t i, j, seen = 0;
	struct strbuf body = STRBUF_INIT;

	for (i = 0; i < m->n; i++) {
		for (j = 0; j < i && strcmp(m->v[i], m->v[j]); j++)
			;
		if (j < i)
			continue;
		if (seen++)
			sb_adds(&body, ", ");
		sb_adds(&body, m->v[i]);
	}
	if (seen > 1)
		sb_addf(out, "[%s]", body.buf);
	else if (seen)
		sb_adds(out, body.buf);
	sb_release(&body);
}

static void msgs_release(struct msgs *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->v[i]);
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

/* ------------------------------------------------------------------------- */
/* util/validation: IsQualifiedName, IsValidLabelValue, IsDNS1123Subdomain.   */

#define QNAME_FMT "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
#define QNAME_MSG "must consist of alphanumeric characters, '-', '_' or '.', " \
		  "and must start and end with an alphanumeric character"
/* RegexError(msg, fmt, examples...) with upstream's "'x',  or 'y', " quirk. */
#define QNAME_REGEX_ERR QNAME_MSG " (e.g. 'MyName',  or 'my.name',  or " \
		  "'123-abc', regex used for validation is '" QNAME_FMT "')"
#define LVALUE_REGEX_ERR "a valid label must be an empty string or consist " \
		  "of alphanumeric characters, '-', '_' or '.', and must start " \
		  "and end with an alphanumeric character (e.g. 'MyValue',  or " \
		  "'my_value',  or '12345', regex used for validation is '(" \
		  QNAME_FMT ")?')"
#define DNS1123_FMT "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
#define SUBDOMAIN_REGEX_ERR "a lowercase RFC 1123 subdomain must consist of " \
		  "lower case alphanumeric characters, '-' or '.', and must " \
		  "start and end with an alphanumeric character (e.g. " \
		  "'example.com', regex used for validation is '" DNS1123_FMT \
		  "(\\." DNS1123_FMT ")*')"

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

/* ^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$ over s[0..n) */
static bool qname_ok(const char *s, size_t n)
{
	size_t i;

	if (!n || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return false;
	for (i = 1; i + 1 < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

/* ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$ */
static bool subdomain_ok(const char *s, size_t n)
{
	size_t i, start = 0;

	for (i = 0; i <= n; i++) {
		if (i < n && s[i] != '.') {
			bool lower = (s[i] >= 'a' && s[i] <= 'z') ||
				     (s[i] >= '0' && s[i] <= '9');
			bool edge = i == start || i + 1 == n || s[i + 1] == '.';
			if (!lower && (edge || s[i] != '-'))
				return false;
			continue;
		}
		if (i == start)
			return false; /* empty segment */
		start = i + 1;
	}
	return true;
}

static void join_msg(struct strbuf *sb, const char *msg)
{
	if (sb->len)
		sb_adds(sb, "; ");
	sb_adds(sb, msg);
}

/* IsQualifiedName errors joined by "; " into sb (left empty when valid). */
static void qualified_name_errors(const char *v, struct strbuf *sb)
{
	const char *slash = strchr(v, '/'), *name = v;
	size_t n;

	if (slash && strchr(slash + 1, '/')) {
		join_msg(sb, "a qualified name " QNAME_REGEX_ERR " with an "
			 "optional DNS subdomain prefix and '/' (e.g. "
			 "'example.com/MyName')");
		return;
	}
	if (slash) {
		size_t plen = (size_t)(slash - v);
		if (!plen) {
			join_msg(sb, "prefix part must be non-empty");
		} else {
			if (plen > 253)
				join_msg(sb, "prefix part must be no more than "
					 "253 characters");
			if (!subdomain_ok(v, plen))
				join_msg(sb, "prefix part " SUBDOMAIN_REGEX_ERR);
		}
		name = slash + 1;
	}
	n = strlen(name);
	if (!n)
		join_msg(sb, "name part must be non-empty");
	else if (n > 63)
		join_msg(sb, "name part must be no more than 63 characters");
	if (!qname_ok(name, n))
		join_msg(sb, "name part " QNAME_REGEX_ERR);
}

static void label_value_errors(const char *v, struct strbuf *sb)
{
	size_t n = strlen(v);

	if (n > 63)
		join_msg(sb, "must be no more than 63 characters");
	if (n && !qname_ok(v, n))
		join_msg(sb, LVALUE_REGEX_ERR);
}

/* "<path>: Invalid value: "<v>": <detail>" */
static void add_invalid(struct msgs *m, const char *path, const char *v,
			const char *detail)
{
	struct strbuf sb = STRBUF_INIT;

	sb_addf(&sb, "%s: Invalid value: ", path);
	go_quote(&sb, v);
	sb_addf(&sb, ": %s", detail);
	msgs_add(m, &sb);
}

/* strconv.ParseInt(s, 10, 64) */
static int parse_int64(const char *s, long long *out)
{
	const char *p = s;
	char *end;

	if (*p == '+' || *p == '-')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	*out = strtoll(s, &end, 10);
	if (errno || *end)
		return -1;
	return 0;
}

/* ------------------------------------------------------------------------- */
/* Label selector data.                                                      */

enum lop {
	OP_IN, OP_NOTIN, OP_EQ, OP_DEQ, OP_NEQ, OP_GT, OP_LT, OP_EXISTS, OP_DNE,
};

struct lreq {
	char *key;
	enum lop op;
	char **vals; /* NULL entries (from a non-string set value) never match */
	size_t nvals;
};

struct label_selector {
	bool nothing;
	struct lreq *reqs;
	size_t nreqs;
};

static void lreq_release(struct lreq *r)
{
	size_t i;

	free(r->key);
	for (i = 0; i < r->nvals; i++)
		free(r->vals[i]);
	free(r->vals);
}

void label_selector_free(struct label_selector *sel)
{
	size_t i;

	if (!sel)
		return;
	for (i = 0; i < sel->nreqs; i++)
		lreq_release(&sel->reqs[i]);
	free(sel->reqs);
	free(sel);
}

static void sel_push(struct label_selector *sel, const struct lreq *r)
{
	sel->reqs = xrealloc(sel->reqs, (sel->nreqs + 1) * sizeof(*sel->reqs));
	sel->reqs[sel->nreqs++] = *r;
}

/* sort.Sort(ByKey): stable insertion sort (Go's choice for small inputs). */
static void sel_sort(struct label_selector *sel)
{
	size_t i, j;

	for (i = 1; i < sel->nreqs; i++) {
		struct lreq r = sel->reqs[i];
		for (j = i; j && strcmp(sel->reqs[j - 1].key, r.key) > 0; j--)
			sel->reqs[j] = sel->reqs[j - 1];
		sel->reqs[j] = r;
	}
}

/*
 * labels.NewRequirement with no path option. Validates key, values and
 * their count for op; on success fills r, taking key and vals. On failure
 * adds the aggregated message to out and frees nothing.
 */
static int lreq_new(struct lreq *r, char *key, enum lop op, char **vals,
		    size_t n, struct strbuf *out)
{
	struct strbuf sb = STRBUF_INIT;
	struct msgs m = { NULL, 0 };
	const char *count = NULL;
	long long ll;
	size_t i;

	qualified_name_errors(key, &sb);
	if (sb.len) {
		add_invalid(&m, "key", key, sb.buf);
		sb_reset(&sb);
	}
	if ((op == OP_IN || op == OP_NOTIN) && !n)
		count = "for 'in', 'notin' operators, values set can't be empty";
	else if ((op == OP_EQ || op == OP_DEQ || op == OP_NEQ) && n != 1)
		count = "exact-match compatibility requires one single value";
	else if ((op == OP_EXISTS || op == OP_DNE) && n)
		count = "values set must be empty for exists and does not exist";
	else if ((op == OP_GT || op == OP_LT) && n != 1)
		count = "for 'Gt', 'Lt' operators, exactly one value is required";
	if (count) {
		sb_adds(&sb, "values: Invalid value: ");
		go_string_slice(&sb, vals, n);
		sb_addf(&sb, ": %s", count);
		msgs_add(&m, &sb);
	}
	for (i = 0; (op == OP_GT || op == OP_LT) && i < n; i++) {
		if (parse_int64(vals[i], &ll) < 0) {
			char path[32];
			snprintf(path, sizeof(path), "values[%zu]", i);
			add_invalid(&m, path, vals[i], "for 'Gt', 'Lt' "
				    "operators, the value must be an integer");
		}
	}
	for (i = 0; i < n; i++) {
		label_value_errors(vals[i], &sb);
		if (sb.len) {
			char *path = xasprintf("values[%zu][%s]", i, key);
			add_invalid(&m, path, vals[i], sb.buf);
			free(path);
			sb_reset(&sb);
		}
	}
	sb_release(&sb);
	if (m.n) {
		msgs_aggregate(&m, out);
		msgs_release(&m);
		return -1;
	}
	r->key = key;
	r->op = op;
	r->vals = vals;
	r->nvals = n;
	return 0;
}

/* ------------------------------------------------------------------------- */
/* Label selector lexer.                                                     */

enum tok {
	T_ERROR, T_EOS, T_CPAR, T_COMMA, T_NOT, T_DEQ, T_EQ, T_GT, T_IDENT,
	T_IN, T_LT, T_NEQ, T_NOTIN, T_OPAR,
};

static const struct {
	const char *s;
	enum tok tok;
} string2token[] = {
	{ ")", T_CPAR }, { ",", T_COMMA }, { "!", T_NOT },   { "==", T_DEQ },
	{ "=", T_EQ },   { ">", T_GT },    { "in", T_IN },   { "<", T_LT },
	{ "!=", T_NEQ }, { "notin", T_NOTIN }, { "(", T_OPAR },
};

static enum tok token_of(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(string2token); i++)
		if (strlen(string2token[i].s) == n &&
		    !memcmp(string2token[i].s, s, n))
			return string2token[i].tok;
	return T_ERROR;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_special(char c)
{
	return c && strchr("=!(),><", c);
}

struct item {
	enum tok tok;
	char *lit;
};

/* Lexer.Lex: one token from s at *pos. */
static struct item lex(const char *s, size_t *pos)
{
	struct item it = { T_EOS, NULL };
	size_t start, p, last_len = 0;

	while (is_blank(s[*pos]))
		(*pos)++;
	start = p = *pos;
	if (!s[p]) {
		it.lit = xstrdup("");
	} else if (is_special(s[p])) {
		/* Longest run of specials that is still a token. */
		it.tok = T_ERROR;
		for (; is_special(s[p]); p++) {
			enum tok t = token_of(s + start, p - start + 1);
			if (t != T_ERROR) {
				it.tok = t;
				last_len = p - start + 1;
			} else if (it.tok != T_ERROR) {
				break;
			}
		}
		if (it.tok == T_ERROR) {
			it.lit = xasprintf("error expected: keyword found '%.*s'",
					   (int)(p - start), s + start);
		} else {
			p = start + last_len;
			it.lit = xstrndup(s + start, last_len);
		}
	} else {
		while (s[p] && !is_special(s[p]) && !is_blank(s[p]))
			p++;
		it.lit = xstrndup(s + start, p - start);
		it.tok = token_of(it.lit, p - start);
		if (it.tok == T_ERROR)
			it.tok = T_IDENT;
	}
	*pos = p;
	return it;
}

/* ------------------------------------------------------------------------- */
/* Label selector parser.                                                    */

struct parser {
	struct item *items;
	size_t n, pos;
	struct strbuf msg; /* the error, once one happened */
};

enum ctx { KEY_AND_OPERATOR, VALUES };

static struct item *peek(struct parser *ps, enum ctx c, enum tok *tok)
{
	struct item *it = &ps->items[ps->pos < ps->n ? ps->pos : ps->n - 1];

	*tok = it->tok;
	if (c == VALUES && (*tok == T_IN || *tok == T_NOTIN))
		*tok = T_IDENT;
	return it;
}

static struct item *consume(struct parser *ps, enum ctx c, enum tok *tok)
{
	struct item *it = peek(ps, c, tok);

	if (ps->pos < ps->n)
		ps->pos++;
	return it;
}

static int perr(struct parser *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int perr(struct parser *ps, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sb_vaddf(&ps->msg, fmt, ap);
	va_end(ap);
	return -1;
}

/* sets.String: insert unique; sorted by the caller. */
static void set_insert(char ***v, size_t *n, const char *s)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (!strcmp((*v)[i], s))
			return;
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = xstrdup(s);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int parse_key(struct parser *ps, char **key, enum lop *op, bool *has_op)
{
	struct strbuf sb = STRBUF_INIT;
	struct item *it;
	enum tok t;

	*has_op = false;
	it = consume(ps, VALUES, &t);
	if (t == T_NOT) {
		*op = OP_DNE;
		*has_op = true;
		it = consume(ps, VALUES, &t);
	}
	if (t != T_IDENT)
		return perr(ps, "found '%s', expected: identifier", it->lit);
	qualified_name_errors(it->lit, &sb);
	if (sb.len) {
		sb_adds(&ps->msg, "<nil>: Invalid value: ");
		go_quote(&ps->msg, it->lit);
		sb_addf(&ps->msg, ": %s", sb.buf);
		sb_release(&sb);
		return -1;
	}
	peek(ps, VALUES, &t);
	if ((t == T_EOS || t == T_COMMA) && !*has_op) {
		*op = OP_EXISTS;
		*has_op = true;
	}
	*key = xstrdup(it->lit);
	return 0;
}

static int parse_operator(struct parser *ps, enum lop *op)
{
	static const struct {
		enum tok tok;
		enum lop op;
	} map[] = {
		{ T_IN, OP_IN }, { T_EQ, OP_EQ }, { T_DEQ, OP_DEQ },
		{ T_GT, OP_GT }, { T_LT, OP_LT }, { T_NOTIN, OP_NOTIN },
		{ T_NEQ, OP_NEQ },
	};
	enum tok t;
	struct item *it = consume(ps, KEY_AND_OPERATOR, &t);
	size_t i;

	for (i = 0; i < ARRAY_SIZE(map); i++) {
		if (map[i].tok == t) {
			*op = map[i].op;
			return 0;
		}
	}
	return perr(ps, "found '%s', expected: in, notin, =, ==, !=, gt, lt",
		    it->lit);
}

/* parseIdentifiersList: after "(", up to (not including) ")". */
static int parse_ident_list(struct parser *ps, char ***v, size_t *n)
{
	for (;;) {
		enum tok t, t2;
		struct item *it = consume(ps, VALUES, &t), *it2;

		if (t == T_IDENT) {
			set_insert(v, n, it->lit);
			it2 = peek(ps, VALUES, &t2);
			if (t2 == T_CPAR)
				return 0;
			if (t2 != T_COMMA)
				return perr(ps, "found '%s', expected: ',' or ')'",
					    it2->lit);
		} else if (t == T_COMMA) {
			if (!*n)
				set_insert(v, n, "");
			peek(ps, VALUES, &t2);
			if (t2 == T_CPAR) {
				set_insert(v, n, "");
				return 0;
			}
			if (t2 == T_COMMA)
				set_insert(v, n, "");
		} else {
			return perr(ps, "found '%s', expected: ',', or identifier",
				    it->lit);
		}
	}
}

static int parse_values(struct parser *ps, char ***v, size_t *n)
{
	enum tok t;
	struct item *it = consume(ps, VALUES, &t);

	if (t != T_OPAR)
		return perr(ps, "found '%s' expected: '('", it->lit);
	it = peek(ps, VALUES, &t);
	if (t == T_IDENT || t == T_COMMA) {
		const char *lit = it->lit;
		if (parse_ident_list(ps, v, n) < 0)
			return -1;
		consume(ps, VALUES, &t);
		if (t != T_CPAR) /* unreachable, as upstream */
			return perr(ps, "found '%s', expected: ')'", lit);
		return 0;
	}
	if (t == T_CPAR) {
		consume(ps, VALUES, &t);
		set_insert(v, n, "");
		return 0;
	}
	return perr(ps, "found '%s', expected: ',', ')' or identifier", it->lit);
}

static int parse_exact_value(struct parser *ps, char ***v, size_t *n)
{
	enum tok t;
	struct item *it;

	peek(ps, VALUES, &t);
	if (t == T_EOS || t == T_COMMA) {
		set_insert(v, n, "");
		return 0;
	}
	it = consume(ps, VALUES, &t);
	if (t != T_IDENT)
		return perr(ps, "found '%s', expected: identifier", it->lit);
	set_insert(v, n, it->lit);
	return 0;
}

static int parse_requirement(struct parser *ps, struct lreq *r)
{
	char *key = NULL, **v = NULL;
	size_t n = 0;
	enum lop op = OP_EXISTS;
	bool has_op;
	int rc = -1;

	if (parse_key(ps, &key, &op, &has_op) < 0)
		goto out;
	if (!has_op) {
		if (parse_operator(ps, &op) < 0)
			goto out;
		if (op == OP_IN || op == OP_NOTIN)
			rc = parse_values(ps, &v, &n);
		else
			rc = parse_exact_value(ps, &v, &n);
		if (rc < 0)
			goto out;
		if (n > 1)
			qsort(v, n, sizeof(*v), cmp_str);
	}
	rc = lreq_new(r, key, op, v, n, &ps->msg);
	if (!rc)
		return 0;
out:
	free(key);
	free_strv(v, n);
	return -1;
}

/* Parser.parse: requirements into sel; -1 with ps->msg set. */
static int parse_all(struct parser *ps, struct label_selector *sel)
{
	for (;;) {
		enum tok t;
		struct item *it = peek(ps, VALUES, &t);
		struct lreq r;

		if (t == T_EOS)
			return 0;
		if (t != T_IDENT && t != T_NOT)
			return perr(ps, "found '%s', expected: !, identifier, "
				    "or 'end of string'", it->lit);
		if (parse_requirement(ps, &r) < 0) {
			char *why = sb_detach(&ps->msg, NULL);
			sb_addf(&ps->msg, "unable to parse requirement: %s", why);
			free(why);
			return -1;
		}
		sel_push(sel, &r);
		it = consume(ps, VALUES, &t);
		if (t == T_EOS)
			return 0;
		if (t != T_COMMA)
			return perr(ps, "found '%s', expected: ',' or 'end of "
				    "string'", it->lit);
		it = peek(ps, VALUES, &t);
		if (t != T_IDENT && t != T_NOT)
			return perr(ps, "found '%s', expected: identifier after "
				    "','", it->lit);
	}
}

int label_selector_parse(const char *s, struct label_selector **out,
			 struct lk_err *err)
{
	struct label_selector *sel = xcalloc(1, sizeof(*sel));
	struct parser ps = { NULL, 0, 0, STRBUF_INIT };
	size_t pos = 0, i;
	int rc = 0;

	*out = NULL;
	if (!s)
		s = "";
	do {
		ps.items = xrealloc(ps.items, (ps.n + 1) * sizeof(*ps.items));
		ps.items[ps.n] = lex(s, &pos);
	} while (ps.items[ps.n++].tok != T_EOS);

	if (parse_all(&ps, sel) < 0) {
		rc = lk_error(err, LK_EBADREQUEST, "%s", ps.msg.buf);
		label_selector_free(sel);
	} else {
		sel_sort(sel);
		*out = sel;
	}
	for (i = 0; i < ps.n; i++)
		free(ps.items[i].lit);
	free(ps.items);
	sb_release(&ps.msg);
	return rc;
}

/* ------------------------------------------------------------------------- */
/* Label selectors from objects.                                             */

static const struct {
	const char *name;
	enum lop op;
} json_ops[] = {
	{ "In", OP_IN },
	{ "NotIn", OP_NOTIN },
	{ "Exists", OP_EXISTS },
	{ "DoesNotExist", OP_DNE },
};

/* One matchExpressions entry; -1 with msg set. */
static int expr_from_json(const cJSON *e, struct lreq *r, struct strbuf *msg)
{
	const cJSON *vals, *v;
	const char *opname;
	char **sv = NULL, *key;
	size_t n = 0, i;

	if (!cJSON_IsObject(e)) {
		sb_adds(msg, "matchExpressions: each entry must be an object");
		return -1;
	}
	vals = cJSON_GetObjectItemCaseSensitive(e, "values");
	opname = jstr_or(e, "operator", "");
	for (i = 0; i < ARRAY_SIZE(json_ops); i++)
		if (!strcmp(json_ops[i].name, opname))
			break;
	if (i == ARRAY_SIZE(json_ops)) {
		go_quote(msg, opname);
		sb_adds(msg, " is not a valid label selector operator");
		return -1;
	}
	if (vals && !cJSON_IsNull(vals) && !cJSON_IsArray(vals)) {
		sb_adds(msg, "matchExpressions: values must be an array");
		return -1;
	}
	cJSON_ArrayForEach(v, vals) {
		if (!cJSON_IsString(v)) {
			sb_adds(msg, "matchExpressions: values must be strings");
			free_strv(sv, n);
			return -1;
		}
		sv = xrealloc(sv, (n + 1) * sizeof(*sv));
		sv[n++] = xstrdup(v->valuestring);
	}
	/* NewRequirement keeps the given order (no dedup) */
	key = xstrdup(jstr_or(e, "key", ""));
	if (lreq_new(r, key, json_ops[i].op, sv, n, msg) < 0) {
		free(key);
		free_strv(sv, n);
		return -1;
	}
	return 0;
}

int label_selector_from_json(const cJSON *ls, struct label_selector **out,
			     struct lk_err *err)
{
	const cJSON *ml, *me, *it;
	struct label_selector *sel = xcalloc(1, sizeof(*sel));
	struct strbuf msg = STRBUF_INIT;
	struct lreq r;

	*out = NULL;
	if (!ls || cJSON_IsNull(ls)) {
		sel->nothing = true;
		goto done;
	}
	if (!cJSON_IsObject(ls)) {
		sb_adds(&msg, "label selector must be an object");
		goto fail;
	}
	ml = cJSON_GetObjectItemCaseSensitive(ls, "matchLabels");
	me = cJSON_GetObjectItemCaseSensitive(ls, "matchExpressions");
	if ((ml && !cJSON_IsNull(ml) && !cJSON_IsObject(ml)) ||
	    (me && !cJSON_IsNull(me) && !cJSON_IsArray(me))) {
		sb_adds(&msg, "matchLabels must be an object and "
			"matchExpressions an array");
		goto fail;
	}
	cJSON_ArrayForEach(it, ml) {
		char **v, *key;
		if (!cJSON_IsString(it)) {
			sb_adds(&msg, "matchLabels: values must be strings");
			goto fail;
		}
		v = xmalloc(sizeof(*v));
		v[0] = xstrdup(it->valuestring);
		key = xstrdup(it->string);
		if (lreq_new(&r, key, OP_EQ, v, 1, &msg) < 0) {
			free(key);
			free_strv(v, 1);
			goto fail;
		}
		sel_push(sel, &r);
	}
	cJSON_ArrayForEach(it, me) {
		if (expr_from_json(it, &r, &msg) < 0)
			goto fail;
		sel_push(sel, &r);
	}
	sel_sort(sel);
done:
	*out = sel;
	return 0;
fail:
	lk_error(err, LK_EBADREQUEST, "%s", msg.buf);
	sb_release(&msg);
	label_selector_free(sel);
	return -1;
}

struct label_selector *label_selector_from_set(const cJSON *set)
{
	struct label_selector *sel = xcalloc(1, sizeof(*sel));
	const cJSON *it;

	if (!cJSON_IsObject(set))
		return sel;
	cJSON_ArrayForEach(it, set) {
		struct lreq r = { xstrdup(it->string), OP_EQ, NULL, 1 };
		r.vals = xmalloc(sizeof(*r.vals));
		r.vals[0] = cJSON_IsString(it) ? xstrdup(it->valuestring) : NULL;
		sel_push(sel, &r);
	}
	sel_sort(sel);
	return sel;
}

/* ------------------------------------------------------------------------- */
/* Label matching and printing.                                              */

/* Labels.Lookup: present? *val is NULL for a non-string value. */
static bool lookup(const cJSON *labels, const char *key, const char **val)
{
	const cJSON *v;

	*val = NULL;
	if (!cJSON_IsObject(labels))
		return false;
	v = cJSON_GetObjectItemCaseSensitive(labels, key);
	if (!v)
		return false;
	if (cJSON_IsString(v))
		*val = v->valuestring;
	return true;
}

static bool has_value(const struct lreq *r, const char *val)
{
	size_t i;

	for (i = 0; val && i < r->nvals; i++)
		if (r->vals[i] && !strcmp(r->vals[i], val))
			return true;
	return false;
}

static bool lreq_match(const struct lreq *r, const cJSON *labels)
{
	const char *val;
	bool present = lookup(labels, r->key, &val);
	long long have, want;

	switch (r->op) {
	case OP_IN:
	case OP_EQ:
	case OP_DEQ:
		return present && has_value(r, val);
	case OP_NOTIN:
	case OP_NEQ:
		return !present || !has_value(r, val);
	case OP_EXISTS:
		return present;
	case OP_DNE:
		return !present;
	case OP_GT:
	case OP_LT:
		if (!present || !val || r->nvals != 1 || !r->vals[0] ||
		    parse_int64(val, &have) < 0 ||
		    parse_int64(r->vals[0], &want) < 0)
			return false;
		return r->op == OP_GT ? have > want : have < want;
	}
	return false;
}

bool label_selector_match(const struct label_selector *sel,
			  const cJSON *labels)
{
	size_t i;

	if (!sel)
		return true;
	if (sel->nothing)
		return false;
	for (i = 0; i < sel->nreqs; i++)
		if (!lreq_match(&sel->reqs[i], labels))
			return false;
	return true;
}

bool label_selector_empty(const struct label_selector *sel)
{
	return !sel || (!sel->nothing && !sel->nreqs);
}

static void lreq_string(const struct lreq *r, struct strbuf *sb)
{
	static const char *const opstr[] = {
		[OP_IN] = " in ", [OP_NOTIN] = " notin ", [OP_EQ] = "=",
		[OP_DEQ] = "==",  [OP_NEQ] = "!=",        [OP_GT] = ">",
		[OP_LT] = "<",    [OP_EXISTS] = "",       [OP_DNE] = "",
	};
	bool set = r->op == OP_IN || r->op == OP_NOTIN;
	char **v;
	size_t i;

	if (r->op == OP_DNE)
		sb_addc(sb, '!');
	sb_adds(sb, r->key);
	if (r->op == OP_EXISTS || r->op == OP_DNE)
		return;
	sb_adds(sb, opstr[r->op]);
	if (set)
		sb_addc(sb, '(');
	v = xmalloc((r->nvals + 1) * sizeof(*v));
	for (i = 0; i < r->nvals; i++)
		v[i] = r->vals[i] ? r->vals[i] : "";
	if (r->nvals > 1)
		qsort(v, r->nvals, sizeof(*v), cmp_str);
	for (i = 0; i < r->nvals; i++) {
		if (i)
			sb_addc(sb, ',');
		sb_adds(sb, v[i]);
	}
	free(v);
	if (set)
		sb_addc(sb, ')');
}

char *label_selector_string(const struct label_selector *sel)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 0; sel && !sel->nothing && i < sel->nreqs; i++) {
		if (i)
			sb_addc(&sb, ',');
		lreq_string(&sel->reqs[i], &sb);
	}
	return sb_detach(&sb, NULL);
}

bool label_set_match(const cJSON *set, const cJSON *labels)
{
	const cJSON *it;
	const char *val;

	if (!cJSON_IsObject(set))
		return true;
	cJSON_ArrayForEach(it, set) {
		if (!lookup(labels, it->string, &val) || !val ||
		    !cJSON_IsString(it) || strcmp(val, it->valuestring))
			return false;
	}
	return true;
}

bool label_set_match_nonempty(const cJSON *set, const cJSON *labels)
{
	if (!cJSON_IsObject(set) || !set->child)
		return false;
	return label_set_match(set, labels);
}

/* ------------------------------------------------------------------------- */
/* Field selectors.                                                          */

struct fterm {
	char *key, *value;
	bool neq;
};

struct field_selector {
	struct fterm *terms;
	size_t n;
};

void field_selector_free(struct field_selector *sel)
{
	size_t i;

	if (!sel)
		return;
	for (i = 0; i < sel->n; i++) {
		free(sel->terms[i].key);
		free(sel->terms[i].value);
	}
	free(sel->terms);
	free(sel);
}

/* splitTerms: split on commas not preceded by an escaping backslash. */
static char **split_terms(const char *s, size_t *n)
{
	char **v = NULL;
	size_t start = 0, i;
	bool in_slash = false;

	*n = 0;
	if (!*s)
		return NULL;
	for (i = 0;; i++) {
		if (s[i] && in_slash) {
			in_slash = false;
		} else if (s[i] == '\\') {
			in_slash = true;
		} else if (s[i] == ',' || !s[i]) {
			v = xrealloc(v, (*n + 1) * sizeof(*v));
			v[(*n)++] = xstrndup(s + start, i - start);
			start = i + 1;
			if (!s[i])
				break;
		}
	}
	return v;
}

/* UnescapeValue: into out; -1 with msg set. */
static int unescape(const char *s, struct strbuf *out, struct strbuf *msg)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w;

	for (; *p; p++) {
		if (*p == '\\') {
			if (!p[1]) {
				sb_adds(msg, "invalid field selector: invalid "
					"escape sequence: \\");
				return -1;
			}
			if (!strchr("\\,=", p[1])) {
				utf8_rune(p + 1, &w);
				sb_adds(msg, "invalid field selector: invalid "
					"escape sequence: \\");
				sb_add(msg, p + 1, w);
				return -1;
			}
			sb_addc(out, (char)*++p);
		} else if (*p == ',' || *p == '=') {
			sb_addf(msg, "invalid field selector: unescaped "
				"character in value: %d", *p);
			return -1;
		} else {
			sb_addc(out, (char)*p);
		}
	}
	return 0;
}

/* splitTerm + UnescapeValue for one non-empty term. */
static int parse_term(const char *sel_text, const char *part, struct fterm *t,
		      struct strbuf *msg)
{
	static const char *const ops[] = { "!=", "==", "=" };
	struct strbuf val = STRBUF_INIT;
	const char *p;
	size_t i;

	for (p = part; *p; p++)
		for (i = 0; i < ARRAY_SIZE(ops); i++)
			if (str_has_prefix(p, ops[i]))
				goto found;
	sb_addf(msg, "invalid selector: '%s'; can't understand '%s'", sel_text,
		part);
	return -1;
found:
	if (unescape(p + strlen(ops[i]), &val, msg) < 0) {
		sb_release(&val);
		return -1;
	}
	t->key = xstrndup(part, (size_t)(p - part));
	t->value = sb_detach(&val, NULL);
	t->neq = i == 0;
	return 0;
}

int field_selector_parse(const char *s, struct field_selector **out,
			 struct lk_err *err)
{
	struct field_selector *sel = xcalloc(1, sizeof(*sel));
	struct strbuf msg = STRBUF_INIT;
	struct fterm *t;
	char **parts;
	size_t n, i;
	int rc = 0;

	*out = NULL;
	if (!s)
		s = "";
	parts = split_terms(s, &n);
	if (n > 1)
		qsort(parts, n, sizeof(*parts), cmp_str);
	sel->terms = xcalloc(n ? n : 1, sizeof(*sel->terms));
	for (i = 0; i < n; i++) {
		if (!*parts[i])
			continue;
		t = &sel->terms[sel->n];
		if (parse_term(s, parts[i], t, &msg) < 0) {
			rc = lk_error(err, LK_EBADREQUEST, "%s", msg.buf);
			break;
		}
		/* Transform drops a term with empty key and value ("=") */
		if (!*t->key && !*t->value) {
			free(t->key);
			free(t->value);
			continue;
		}
		sel->n++;
	}
	free_strv(parts, n);
	sb_release(&msg);
	if (rc < 0)
		field_selector_free(sel);
	else
		*out = sel;
	return rc;
}

int field_put(char *buf, size_t len, const char *v)
{
	if (!v)
		v = "";
	if (len)
		snprintf(buf, len, "%s", v);
	return (int)strlen(v);
}

int field_get_meta(const cJSON *obj, const char *label, char *buf,
		   size_t len, void *arg)
{
	(void)arg;
	if (!strcmp(label, "metadata.name"))
		return field_put(buf, len, jstr(obj, "metadata.name"));
	if (!strcmp(label, "metadata.namespace"))
		return field_put(buf, len, jstr(obj, "metadata.namespace"));
	return -1;
}

int field_selector_check(const struct field_selector *sel, field_get_fn *get,
			 void *arg, bool field_conv, struct lk_err *err)
{
	cJSON *empty = cJSON_CreateObject();
	char buf[64];
	size_t i;
	int rc = 0;

	for (i = 0; sel && i < sel->n; i++) {
		const char *label = sel->terms[i].key;
		struct strbuf q = STRBUF_INIT;

		if (get(empty, label, buf, sizeof(buf), arg) >= 0)
			continue;
		if (field_conv) {
			rc = lk_error(err, LK_EBADREQUEST,
				      "field label not supported: %s", label);
		} else {
			go_quote(&q, label);
			rc = lk_error(err, LK_EBADREQUEST, "%s is not a known "
				      "field selector: only \"metadata.name\", "
				      "\"metadata.namespace\"", q.buf);
			sb_release(&q);
		}
		break;
	}
	cJSON_Delete(empty);
	return rc;
}

/* The value of one field; -1 reads as "". */
static bool term_match(const struct fterm *t, const cJSON *obj,
		       field_get_fn *get, void *arg)
{
	char buf[512], *big = NULL;
	const char *v = buf;
	int n = get(obj, t->key, buf, sizeof(buf), arg);
	bool eq;

	if (n < 0) {
		v = "";
	} else if ((size_t)n >= sizeof(buf)) {
		big = xmalloc((size_t)n + 1);
		if (get(obj, t->key, big, (size_t)n + 1, arg) < 0)
			big[0] = 0;
		v = big;
	}
	eq = !strcmp(v, t->value);
	free(big);
	return t->neq ? !eq : eq;
}

bool field_selector_match(const struct field_selector *sel, const cJSON *obj,
			  field_get_fn *get, void *arg)
{
	size_t i;

	for (i = 0; sel && i < sel->n; i++)
		if (!term_match(&sel->terms[i], obj, get, arg))
			return false;
	return true;
}

size_t field_selector_nterms(const struct field_selector *sel)
{
	return sel ? sel->n : 0;
}

const char *field_selector_term_key(const struct field_selector *sel, size_t i)
{
	return sel->terms[i].key;
}

const char *field_selector_term_value(const struct field_selector *sel,
				      size_t i)
{
	return sel->terms[i].value;
}

bool field_selector_term_neq(const struct field_selector *sel, size_t i)
{
	return sel->terms[i].neq;
}

const char *field_selector_requires(const struct field_selector *sel,
				    const char *key)
{
	size_t i;

	for (i = 0; sel && i < sel->n; i++)
		if (!sel->terms[i].neq && !strcmp(sel->terms[i].key, key))
			return sel->terms[i].value;
	return NULL;
}
