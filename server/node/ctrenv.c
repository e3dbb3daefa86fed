/*
 * server/node/ctrenv.c: a container's environment (pure), as the kubelet
 * computes it (pkg/kubelet/kubelet_pods.go makeEnvironmentVariables,
 * pkg/kubelet/envvars/envvars.go, third_party/forked/golang/expansion) and
 * the runtime completes it (PATH, HOSTNAME, HOME). See services.md §4.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "server/node/node_internal.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* ---- an ordered name → value list ---- */

static ssize_t env_find(const struct env_list *e, const char *name)
{
	for (size_t i = 0; i < e->n; i++)
		if (!strcmp(e->names[i], name))
			return (ssize_t)i;
	return -1;
}

void env_set(struct env_list *e, const char *name, const char *value)
{
	ssize_t i = env_find(e, name);
	if (i >= 0) {
		free(e->values[i]);
		e->values[i] = xstrdup(value);
		return;
	}
	if (e->n == e->alloc) {
		e->alloc = e->alloc ? e->alloc * 2 : 16;
		e->names = xrealloc(e->names, e->alloc * sizeof(char *));
		e->values = xrealloc(e->values, e->alloc * sizeof(char *));
	}
	e->names[e->n] = xstrdup(name);
	e->values[e->n++] = xstrdup(value);
}

const char *env_get(const struct env_list *e, const char *name)
{
	ssize_t i = env_find(e, name);
	return i >= 0 ? e->values[i] : NULL;
}

void env_release(struct env_list *e)
{
	for (size_t i = 0; i < e->n; i++) {
		free(e->names[i]);
		free(e->values[i]);
	}
	free(e->names);
	free(e->values);
	memset(e, 0, sizeof(*e));
}

/* ---- $(VAR) expansion ---- */

static char *expand2(const char *in, const struct env_list *a, const struct env_list *b)
{
	struct strbuf sb = STRBUF_INIT;
	size_t len = strlen(in), checkpoint = 0;

	for (size_t cur = 0; cur < len; cur++) {
		if (in[cur] != '$' || cur + 1 >= len)
			continue;
		sb_add(&sb, in + checkpoint, cur - checkpoint);
		const char *rest = in + cur + 1;
		size_t advance = 1;
		if (rest[0] == '$') {
			sb_addc(&sb, '$');            /* escaped operator */
		} else if (rest[0] == '(') {
			const char *close = strchr(rest, ')');
			if (close) {
				char *name = xstrndup(rest + 1, (size_t)(close - rest - 1));
				const char *v = a ? env_get(a, name) : NULL;
				if (!v && b)
					v = env_get(b, name);
				if (v)
					sb_adds(&sb, v);
				else
					sb_addf(&sb, "$(%s)", name);
				free(name);
				advance = (size_t)(close - rest) + 1;
			} else {
				sb_adds(&sb, "$(");           /* incomplete reference */
			}
		} else {
			sb_addc(&sb, '$');
			sb_addc(&sb, rest[0]);
		}
		cur += advance;
		checkpoint = cur + 1;
	}
	sb_adds(&sb, in + (checkpoint < len ? checkpoint : len));
	return sb_detach(&sb, NULL);
}

char *env_expand(const char *in, const struct env_list *e)
{
	return expand2(in, e, NULL);
}

/* ---- service links ---- */

static void env_name(const char *s, char *buf, size_t len)
{
	size_t i = 0;
	for (; s[i] && i + 1 < len; i++)
		buf[i] = s[i] == '-' ? '_' : (char)toupper((unsigned char)s[i]);
	buf[i] = 0;
}

static bool ip_set(const cJSON *svc)
{
	const char *ip = jstr(svc, "spec.clusterIP");
	return ip && *ip && strcmp(ip, "None") != 0;
}

static void one_service(const cJSON *svc, struct env_list *out)
{
	char p[256], pn[256], k[600], v[600], proto[16], lproto[16];
	const char *ip = jstr(svc, "spec.clusterIP");
	const cJSON *ports = jget(svc, "spec.ports"), *sp;
	int i = 0;

	if (!cJSON_GetArraySize(ports))
		return;
	env_name(jstr_or(svc, "metadata.name", ""), p, sizeof(p));
	snprintf(k, sizeof(k), "%s_SERVICE_HOST", p);
	env_set(out, k, ip);
	snprintf(k, sizeof(k), "%s_SERVICE_PORT", p);
	snprintf(v, sizeof(v), "%lld", jint(cJSON_GetArrayItem(ports, 0), "port", 0));
	env_set(out, k, v);
	cJSON_ArrayForEach(sp, ports) {
		const char *name = jstr(sp, "name");
		if (!name || !*name)
			continue;
		env_name(name, pn, sizeof(pn));
		snprintf(k, sizeof(k), "%s_SERVICE_PORT_%s", p, pn);
		snprintf(v, sizeof(v), "%lld", jint(sp, "port", 0));
		env_set(out, k, v);
	}
	cJSON_ArrayForEach(sp, ports) {
		long long port = jint(sp, "port", 0);
		env_name(jstr_or(sp, "protocol", "TCP"), proto, sizeof(proto));
		for (size_t j = 0; j <= strlen(proto); j++)
			lproto[j] = (char)tolower((unsigned char)proto[j]);
		if (i++ == 0) {
			snprintf(k, sizeof(k), "%s_PORT", p);
			snprintf(v, sizeof(v), "%s://%s:%lld", lproto, ip, port);
			env_set(out, k, v);
		}
		snprintf(k, sizeof(k), "%s_PORT_%lld_%s", p, port, proto);
		snprintf(v, sizeof(v), "%s://%s:%lld", lproto, ip, port);
		env_set(out, k, v);
		snprintf(k, sizeof(k), "%s_PORT_%lld_%s_PROTO", p, port, proto);
		env_set(out, k, lproto);
		snprintf(k, sizeof(k), "%s_PORT_%lld_%s_PORT", p, port, proto);
		snprintf(v, sizeof(v), "%lld", port);
		env_set(out, k, v);
		snprintf(k, sizeof(k), "%s_PORT_%lld_%s_ADDR", p, port, proto);
		env_set(out, k, ip);
	}
}

static int by_name(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	return strcmp(jstr_or(x, "metadata.name", ""), jstr_or(y, "metadata.name", ""));
}

void service_env(const struct env_src *s, struct env_list *out)
{
	const char *ns = jstr_or(s->pod, "metadata.namespace", "default");
	bool links = jbool(s->pod, "spec.enableServiceLinks", true);
	const cJSON **pick = xcalloc(s->nservices + 1, sizeof(*pick));
	const cJSON *master = NULL;
	size_t n = 0;

	for (size_t i = 0; i < s->nservices; i++) {
		const cJSON *svc = s->services[i];
		const char *sns = jstr_or(svc, "metadata.namespace", "");
		const char *name = jstr_or(svc, "metadata.name", "");
		if (!ip_set(svc))
			continue;
		if (!strcmp(sns, "default") && !strcmp(name, "kubernetes"))
			master = svc;
		else if (!strcmp(sns, ns) && links)
			pick[n++] = svc;
	}
	/* default/kubernetes always, unless the pod's namespace has its own
	 * "kubernetes" service (and links are on). */
	if (master) {
		bool shadowed = false;
		for (size_t i = 0; i < n; i++)
			if (!strcmp(jstr_or(pick[i], "metadata.name", ""), "kubernetes"))
				shadowed = true;
		if (!shadowed)
			pick[n++] = master;
	}
	qsort(pick, n, sizeof(*pick), by_name);
	for (size_t i = 0; i < n; i++)
		one_service(pick[i], out);
	free(pick);
}

/* ---- valueFrom ---- */

/* A resource quantity ("250m", "1Gi", "1e3") as a number; -1 when bad. */
static double quantity(const char *s)
{
	static const struct {
		const char *sfx;
		double mul;
	} sfx[] = {
		{ "Ki", 1024.0 }, { "Mi", 1048576.0 }, { "Gi", 1073741824.0 },
		{ "Ti", 1099511627776.0 }, { "Pi", 1125899906842624.0 },
		{ "Ei", 1152921504606846976.0 }, { "n", 1e-9 }, { "u", 1e-6 },
		{ "m", 1e-3 }, { "k", 1e3 }, { "M", 1e6 }, { "G", 1e9 }, { "T", 1e12 },
		{ "P", 1e15 }, { "E", 1e18 }, { "", 1.0 },
	};
	char *end;
	double v;
	if (!s || !*s)
		return -1;
	v = strtod(s, &end);
	if (end == s)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(sfx); i++)
		if (!strcmp(end, sfx[i].sfx))
			return v * sfx[i].mul;
	return -1;
}

static const cJSON *find_ctr(const cJSON *pod, const char *name)
{
	const cJSON *c;
	for (int k = 0; k < 2; k++)
		cJSON_ArrayForEach(c, jget(pod, k ? "spec.initContainers" : "spec.containers"))
			if (str_eq(jstr(c, "name"), name))
				return c;
	return NULL;
}

static int resource_value(const struct env_src *s, const cJSON *ctr, const cJSON *ref,
			  char *buf, size_t len)
{
	const char *cname = jstr(ref, "containerName");
	const char *res = jstr_or(ref, "resource", "");
	const cJSON *c = cname && *cname ? find_ctr(s->pod, cname) : ctr;
	bool cpu = strstr(res, "cpu") != NULL;
	double div = quantity(jstr(ref, "divisor"));
	double v;

	if (!c)
		return -1;
	if (div <= 0)
		div = 1;
	/* jget splits on dots: take the last key by hand ("limits.cpu") */
	const char *dot = strchr(res, '.');
	const cJSON *grp = dot ? jget(c, strncmp(res, "limits", 6) ? "resources.requests"
							: "resources.limits") : NULL;
	const cJSON *q = grp ? cJSON_GetObjectItemCaseSensitive(grp, dot + 1) : NULL;
	v = cJSON_IsString(q) ? quantity(q->valuestring) : cJSON_IsNumber(q) ? q->valuedouble : -1;
	if (v < 0 && str_has_prefix(res, "limits."))
		v = cpu ? (double)s->alloc_cpu_milli / 1000.0 : (double)s->alloc_memory;
	if (v < 0)
		v = 0;
	snprintf(buf, len, "%lld", (long long)ceil(v / div - 1e-9));
	return 0;
}

/* fieldpath.ExtractFieldPathAsString for labels/annotations maps. */
static void format_map(const cJSON *m, struct strbuf *sb)
{
	const cJSON *it;
	size_t n = (size_t)cJSON_GetArraySize(m), i = 0;
	const char **keys = xcalloc(n + 1, sizeof(*keys));
	cJSON_ArrayForEach(it, m)
		keys[i++] = it->string;
	for (size_t a = 0; a < n; a++)
		for (size_t b = a + 1; b < n; b++)
			if (strcmp(keys[a], keys[b]) > 0) {
				const char *t = keys[a];
				keys[a] = keys[b];
				keys[b] = t;
			}
	for (i = 0; i < n; i++)
		sb_addf(sb, "%s%s=\"%s\"", i ? "\n" : "", keys[i],
			jstr_or(m, keys[i], ""));
	free(keys);
}

static int field_value(const struct env_src *s, const char *path, struct strbuf *sb)
{
	static const char *const plain[] = { "metadata.name", "metadata.namespace",
		"metadata.uid", "spec.nodeName", "spec.serviceAccountName" };
	for (size_t i = 0; i < ARRAY_SIZE(plain); i++)
		if (!strcmp(path, plain[i])) {
			const char *v = jstr(s->pod, path);
			if (!v && !strcmp(path, "spec.nodeName"))
				v = s->node_name;
			sb_adds(sb, v ? v : "");
			return 0;
		}
	if (!strcmp(path, "status.podIP") || !strcmp(path, "status.podIPs"))
		sb_adds(sb, s->pod_ip ? s->pod_ip : "");
	else if (!strcmp(path, "status.hostIP") || !strcmp(path, "status.hostIPs"))
		sb_adds(sb, s->host_ip ? s->host_ip : "");
	else if (!strcmp(path, "metadata.labels") || !strcmp(path, "metadata.annotations"))
		format_map(jget(s->pod, path), sb);
	else if ((str_has_prefix(path, "metadata.labels['") ||
		  str_has_prefix(path, "metadata.annotations['")) && str_has_suffix(path, "']")) {
		const char *open = strchr(path, '\'');
		char *key = xstrndup(open + 1, strlen(open + 1) - 2);
		const cJSON *m = jget(s->pod, path[9] == 'l' ? "metadata.labels"
							     : "metadata.annotations");
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, key);
		sb_adds(sb, cJSON_IsString(v) ? v->valuestring : "");
		free(key);
	} else {
		return -1;
	}
	return 0;
}

/* The value of a base64 digit (RFC 4648 section 4), 0xff for anything else. */
static unsigned char b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return (unsigned char)(c - 'A');
	if (c >= 'a' && c <= 'z')
		return (unsigned char)(c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (unsigned char)(c - '0' + 52);
	return c == '+' ? 62 : c == '/' ? 63 : 0xff;
}

/* Secret data values are base64; a malformed one decodes to what it can. */
static char *b64_decode(const char *in)
{
	size_t len = strlen(in);
	char *out = xmalloc(len + 1), *o = out;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char v = b64_value(in[i]);
		if (v == 0xff)
			continue;
		acc = (acc << 6) | v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			*o++ = (char)((acc >> bits) & 0xff);
		}
	}
	*o = 0;
	return out;
}

int env_downward_value(const struct env_src *s, const cJSON *ctr, const cJSON *item,
		       struct strbuf *out)
{
	char num[64];
	if (jget(item, "fieldRef"))
		return field_value(s, jstr_or(item, "fieldRef.fieldPath", ""), out);
	if (jget(item, "resourceFieldRef")) {
		if (resource_value(s, ctr, jget(item, "resourceFieldRef"), num, sizeof(num)) < 0)
			return -1;
		sb_adds(out, num);
		return 0;
	}
	return -1;
}

char *env_b64_decode(const char *in)
{
	return b64_decode(in);
}

/* One key of a ConfigMap or Secret, for valueFrom and envFrom. */
static char *source_value(const cJSON *obj, bool secret, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(jget(obj, "data"), key);
	if (!cJSON_IsString(v))
		return NULL;
	return secret ? b64_decode(v->valuestring) : xstrdup(v->valuestring);
}

static const cJSON *lookup(const struct env_src *s, bool secret, const char *name)
{
	if (secret)
		return s->secret ? s->secret(s->arg, name) : NULL;
	return s->configmap ? s->configmap(s->arg, name) : NULL;
}

/* valueFrom.{configMapKeyRef,secretKeyRef}: 1 = value set, 0 = skip
 * (optional and missing), -1 = error. */
static int key_ref(const struct env_src *s, const cJSON *ref, bool secret, char **out,
		   struct lk_err *err)
{
	const char *name = jstr_or(ref, "name", ""), *key = jstr_or(ref, "key", "");
	bool optional = jbool(ref, "optional", false);
	const cJSON *obj = lookup(s, secret, name);

	if (!obj) {
		if (optional)
			return 0;
		return lk_error(err, LK_ENOTFOUND, "%s \"%s\" not found",
				secret ? "secret" : "configmap", name);
	}
	*out = source_value(obj, secret, key);
	if (*out)
		return 1;
	if (optional)
		return 0;
	return lk_error(err, LK_ENOTFOUND, "couldn't find key %s in %s %s/%s", key,
			secret ? "Secret" : "ConfigMap",
			jstr_or(s->pod, "metadata.namespace", "default"), name);
}

static bool env_name_ok(const char *s)
{
	if (!*s || isdigit((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return false;
	return true;
}

static int env_from(const struct env_src *s, const cJSON *ef, struct env_list *tmp,
		    struct lk_err *err)
{
	bool secret = jget(ef, "secretRef") != NULL;
	const cJSON *ref = jget(ef, secret ? "secretRef" : "configMapRef"), *it;
	const char *name = jstr_or(ref, "name", ""), *prefix = jstr_or(ef, "prefix", "");
	const cJSON *obj;

	if (!ref)
		return 0;
	obj = lookup(s, secret, name);
	if (!obj) {
		if (jbool(ref, "optional", false))
			return 0;
		return lk_error(err, LK_ENOTFOUND, "%s \"%s\" not found",
				secret ? "secret" : "configmap", name);
	}
	cJSON_ArrayForEach(it, jget(obj, "data")) {
		char *k = xasprintf("%s%s", prefix, it->string);
		char *v = source_value(obj, secret, it->string);
		if (v && env_name_ok(k))
			env_set(tmp, k, v);
		free(k);
		free(v);
	}
	return 0;
}

static int env_one(const struct env_src *s, const cJSON *ctr, const cJSON *ev,
		   struct env_list *tmp, const struct env_list *svc, struct lk_err *err)
{
	const char *name = jstr_or(ev, "name", ""), *value = jstr(ev, "value");
	const cJSON *vf = jget(ev, "valueFrom");
	struct strbuf sb = STRBUF_INIT;
	char *v = NULL, num[64];
	int rc = 1;

	if (value && *value)
		v = expand2(value, tmp, svc);
	else if (jget(vf, "fieldRef"))
		rc = field_value(s, jstr_or(vf, "fieldRef.fieldPath", ""), &sb) < 0 ? -1 : 1;
	else if (jget(vf, "resourceFieldRef"))
		rc = resource_value(s, ctr, jget(vf, "resourceFieldRef"), num, sizeof(num)) < 0
			     ? -1 : (sb_adds(&sb, num), 1);
	else if (jget(vf, "configMapKeyRef"))
		rc = key_ref(s, jget(vf, "configMapKeyRef"), false, &v, err);
	else if (jget(vf, "secretKeyRef"))
		rc = key_ref(s, jget(vf, "secretKeyRef"), true, &v, err);
	if (rc < 0 && !err->msg[0])
		lk_error(err, LK_EINVALID, "unsupported fieldPath in env %s", name);
	if (rc > 0)
		env_set(tmp, name, v ? v : sb.buf ? sb.buf : "");
	free(v);
	sb_release(&sb);
	return rc < 0 ? -1 : 0;
}

int container_env(const struct env_src *s, const cJSON *ctr, const char *hostname,
		  struct env_list *out, struct lk_err *err)
{
	struct env_list svc = { 0 }, tmp = { 0 };
	struct lk_err e = { 0 };
	const cJSON *it;
	int rc = -1;

	service_env(s, &svc);
	cJSON_ArrayForEach(it, jget(ctr, "envFrom"))
		if (env_from(s, it, &tmp, &e) < 0)
			goto out;
	cJSON_ArrayForEach(it, jget(ctr, "env"))
		if (env_one(s, ctr, it, &tmp, &svc, &e) < 0)
			goto out;
	if (!env_get(&tmp, "PATH"))
		env_set(out, "PATH", DEFAULT_PATH);
	env_set(out, "HOSTNAME", hostname);
	for (size_t i = 0; i < tmp.n; i++)
		env_set(out, tmp.names[i], tmp.values[i]);
	for (size_t i = 0; i < svc.n; i++)
		if (!env_get(&tmp, svc.names[i]))
			env_set(out, svc.names[i], svc.values[i]);
	if (!env_get(out, "HOME"))
		env_set(out, "HOME", "/root");
	rc = 0;
out:
	if (rc < 0) {
		if (err)
			lk_err_move(err, &e);
	}
	lk_err_clear(&e);
	env_release(&svc);
	env_release(&tmp);
	return rc;
}
