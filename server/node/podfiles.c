/*
 * server/node/podfiles.c: the text of a pod's /etc/hosts and
 * /etc/resolv.conf (pure), as the kubelet writes them
 * (pkg/kubelet/kubelet_pods.go managedHostsFileContent,
 * pkg/kubelet/network/dns/dns.go GetPodDNS).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "server/node/node_internal.h"

void pod_hostname(const cJSON *pod, char *buf, size_t len)
{
	const char *h = jstr(pod, "spec.hostname");
	size_t n;

	if (!h || !*h)
		h = jstr_or(pod, "metadata.name", "pod");
	n = strlen(h);
	if (n > 63)
		n = 63;
	/* truncatePodHostnameIfNeeded: no trailing '-' or '.' after the cut */
	while (n > 1 && (h[n - 1] == '-' || h[n - 1] == '.'))
		n--;
	snprintf(buf, len, "%.*s", (int)n, h);
}

static void host_aliases(const cJSON *pod, struct strbuf *sb)
{
	const cJSON *aliases = jget(pod, "spec.hostAliases"), *a, *h;
	if (!cJSON_IsArray(aliases) || !cJSON_GetArraySize(aliases))
		return;
	sb_adds(sb, "\n# Entries added by HostAliases.\n");
	cJSON_ArrayForEach(a, aliases) {
		sb_adds(sb, jstr_or(a, "ip", ""));
		cJSON_ArrayForEach(h, jget(a, "hostnames"))
			if (cJSON_IsString(h))
				sb_addf(sb, "\t%s", h->valuestring);
		sb_addc(sb, '\n');
	}
}

char *pod_hosts_file(const cJSON *pod, const char *ip, const char *domain)
{
	struct strbuf sb = STRBUF_INIT;
	char host[64];
	const char *sub = jstr(pod, "spec.subdomain");

	pod_hostname(pod, host, sizeof(host));
	sb_adds(&sb, "# Kubernetes-managed hosts file.\n"
		     "127.0.0.1\tlocalhost\n"
		     "::1\tlocalhost ip6-localhost ip6-loopback\n"
		     "fe00::0\tip6-localnet\n"
		     "fe00::0\tip6-mcastprefix\n"
		     "fe00::1\tip6-allnodes\n"
		     "fe00::2\tip6-allrouters\n");
	if (ip && *ip) {
		if (sub && *sub)
			sb_addf(&sb, "%s\t%s.%s.%s.svc.%s\t%s\n", ip, host, sub,
				jstr_or(pod, "metadata.namespace", "default"), domain, host);
		else
			sb_addf(&sb, "%s\t%s\n", ip, host);
	}
	host_aliases(pod, &sb);
	return sb_detach(&sb, NULL);
}

struct resolv {
	char *ns[8];
	char *search[32];
	char *opts[16];
	size_t nns, nsearch, nopts;
};

static void add_word(char **arr, size_t *n, size_t max, const char *w, size_t len)
{
	for (size_t i = 0; i < *n; i++)
		if (strlen(arr[i]) == len && !strncmp(arr[i], w, len))
			return;
	if (*n < max)
		arr[(*n)++] = xstrndup(w, len);
}

/* An option "name[:value]" replaces one of the same name. */
static void add_opt(struct resolv *r, const char *o, size_t len)
{
	size_t klen = strcspn(o, ":");
	if (klen > len)
		klen = len;
	for (size_t i = 0; i < r->nopts; i++)
		if (strcspn(r->opts[i], ":") == klen && !strncmp(r->opts[i], o, klen)) {
			free(r->opts[i]);
			r->opts[i] = xstrndup(o, len);
			return;
		}
	add_word(r->opts, &r->nopts, 16, o, len);
}

static void parse_host_resolv(struct resolv *r, const char *text)
{
	for (const char *l = text; l && *l;) {
		const char *nl = strchr(l, '\n'), *end = nl ? nl : l + strlen(l);
		char key[16];
		int klen = 0;
		while (l < end && klen < 15 && *l != ' ' && *l != '\t')
			key[klen++] = *l++;
		key[klen] = 0;
		while (l < end) {
			while (l < end && (*l == ' ' || *l == '\t'))
				l++;
			const char *w = l;
			while (l < end && *l != ' ' && *l != '\t')
				l++;
			if (l == w)
				break;
			if (!strcmp(key, "nameserver"))
				add_word(r->ns, &r->nns, 8, w, (size_t)(l - w));
			else if (!strcmp(key, "search") || !strcmp(key, "domain"))
				add_word(r->search, &r->nsearch, 32, w, (size_t)(l - w));
			else if (!strcmp(key, "options"))
				add_opt(r, w, (size_t)(l - w));
		}
		l = nl ? nl + 1 : end;
	}
}

static void add_dns_config(struct resolv *r, const cJSON *cfg)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, jget(cfg, "nameservers"))
		if (cJSON_IsString(it))
			add_word(r->ns, &r->nns, 8, it->valuestring, strlen(it->valuestring));
	cJSON_ArrayForEach(it, jget(cfg, "searches"))
		if (cJSON_IsString(it))
			add_word(r->search, &r->nsearch, 32, it->valuestring,
				 strlen(it->valuestring));
	cJSON_ArrayForEach(it, jget(cfg, "options")) {
		const char *name = jstr(it, "name"), *value = jstr(it, "value");
		if (!name)
			continue;
		char *o = value ? xasprintf("%s:%s", name, value) : xstrdup(name);
		add_opt(r, o, strlen(o));
		free(o);
	}
}

static char *resolv_text(struct resolv *r)
{
	struct strbuf sb = STRBUF_INIT;
	if (r->nsearch) {
		sb_adds(&sb, "search");
		for (size_t i = 0; i < r->nsearch; i++)
			sb_addf(&sb, " %s", r->search[i]);
		sb_addc(&sb, '\n');
	}
	for (size_t i = 0; i < r->nns; i++)
		sb_addf(&sb, "nameserver %s\n", r->ns[i]);
	if (r->nopts) {
		sb_adds(&sb, "options");
		for (size_t i = 0; i < r->nopts; i++)
			sb_addf(&sb, " %s", r->opts[i]);
		sb_addc(&sb, '\n');
	}
	for (size_t i = 0; i < r->nns; i++)
		free(r->ns[i]);
	for (size_t i = 0; i < r->nsearch; i++)
		free(r->search[i]);
	for (size_t i = 0; i < r->nopts; i++)
		free(r->opts[i]);
	if (!sb.buf)
		sb_adds(&sb, "");
	return sb_detach(&sb, NULL);
}

char *pod_resolv_conf(const cJSON *pod, const char *cluster_dns,
		      const char *domain, const char *host_resolv)
{
	struct resolv r = { 0 };
	const char *policy = jstr_or(pod, "spec.dnsPolicy", "ClusterFirst");
	const char *ns = jstr_or(pod, "metadata.namespace", "default");
	bool hostnet = jbool(pod, "spec.hostNetwork", false);

	if (!strcmp(policy, "ClusterFirstWithHostNet") ||
	    (!strcmp(policy, "ClusterFirst") && !hostnet)) {
		char *s = xasprintf("%s.svc.%s", ns, domain);
		add_word(r.ns, &r.nns, 8, cluster_dns, strlen(cluster_dns));
		add_word(r.search, &r.nsearch, 32, s, strlen(s));
		free(s);
		s = xasprintf("svc.%s", domain);
		add_word(r.search, &r.nsearch, 32, s, strlen(s));
		free(s);
		add_word(r.search, &r.nsearch, 32, domain, strlen(domain));
		add_opt(&r, "ndots:5", 7);
	} else if (strcmp(policy, "None") != 0) {
		/* Default, or ClusterFirst on the host network: the node's. */
		parse_host_resolv(&r, host_resolv);
	}
	add_dns_config(&r, jget(pod, "spec.dnsConfig"));
	return resolv_text(&r);
}
