/*
 * proxy/render.c: a plan in nft syntax. The same layout nft.c programs over
 * netlink, as text: `labkube proxy rules` prints it for students, and the
 * benchmark loads it with `nft -f` to compare. Pure.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ip.h"
#include "common/util.h"
#include "proxy/proxy.h"

/* A plan's network-order address as text (buf: LK_IP4_STRLEN). */
static const char *ip_str(uint32_t ip, char *buf)
{
	return lk_ip4_format(ntohl(ip), buf);
}

/* The plan's pod CIDR as text (buf: LK_CIDR_STRLEN). */
static const char *pod_cidr(const struct proxy_plan *p, char *buf)
{
	struct lk_cidr c = { lk_ip4(ntohl(p->pod_net)), __builtin_popcount(p->pod_mask) };
	return lk_cidr_format(&c, buf);
}

static void ep_name(const struct proxy_svc *s, const struct proxy_ep *e, struct strbuf *sb,
		    const char *prefix)
{
	char b[LK_IP4_STRLEN];
	sb_addf(sb, "%s%s__%s/%u", prefix, s->chain + 4, ip_str(e->ip, b), e->port);
}

/* The DNAT (or affinity lookups) of a chain over eps[n], and its end. */
static void render_dispatch(struct strbuf *sb, const struct proxy_svc *s,
			    const struct proxy_ep *eps, size_t n)
{
	char b[LK_IP4_STRLEN];
	if (!s->affinity) {
		sb_addf(sb, "\t\tmeta l4proto %s dnat ip to numgen random mod %zu map { ",
			proxy_proto_name(s->proto), n);
		for (size_t i = 0; i < n; i++)
			sb_addf(sb, "%s%zu : %s . %u", i ? ", " : "", i,
				ip_str(eps[i].ip, b), eps[i].port);
		sb_adds(sb, " }\n\t}\n");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		sb_adds(sb, "\t\tip saddr @");
		ep_name(s, &eps[i], sb, "aff-");
		sb_adds(sb, " goto ");
		ep_name(s, &eps[i], sb, "ep-");
		sb_addc(sb, '\n');
	}
	sb_addf(sb, "\t\tnumgen random mod %zu vmap { ", n);
	for (size_t i = 0; i < n; i++) {
		sb_addf(sb, "%s%zu : goto ", i ? ", " : "", i);
		ep_name(s, &eps[i], sb, "ep-");
	}
	sb_adds(sb, " }\n\t}\n");
}

/* local- and ext- chains of the traffic policies (nft.c policy_rules). */
static void render_policy(struct strbuf *sb, const struct proxy_plan *p, const struct proxy_svc *s)
{
	char b[LK_IP4_STRLEN], c[LK_CIDR_STRLEN];
	pod_cidr(p, c);
	if (s->lchain) {
		sb_addf(sb, "\tchain %s {\n", s->lchain);
		if (s->int_local)
			sb_addf(sb, "\t\tip daddr %s ip saddr != %s meta mark set meta mark | 0x%x\n",
				ip_str(s->vips[0], b), c, PROXY_MASQ_MARK);
		render_dispatch(sb, s, s->leps, s->nleps);
	}
	if (!s->xchain)
		return;
	sb_addf(sb, "\tchain %s {\n"
		"\t\tip saddr %s goto %s comment \"short-circuit pod traffic\"\n"
		"\t\tfib saddr type local meta mark set meta mark | 0x%x comment \"masquerade local traffic\"\n"
		"\t\tfib saddr type local goto %s comment \"short-circuit local traffic\"\n",
		s->xchain, c, s->chain, PROXY_MASQ_MARK, s->chain);
	if (s->lchain)
		sb_addf(sb, "\t\tgoto %s comment \"external traffic keeps its source\"\n\t}\n", s->lchain);
	else
		sb_adds(sb, "\t\tdrop comment \"no local endpoints\"\n\t}\n");
}

static void render_svc(struct strbuf *sb, const struct proxy_plan *p, const struct proxy_svc *s)
{
	char b[LK_CIDR_STRLEN];
	if (!s->neps)
		return;
	if (s->affinity)
		for (size_t i = 0; i < s->naeps; i++) {
			sb_adds(sb, "\tset ");
			ep_name(s, &s->aeps[i], sb, "aff-");
			sb_addf(sb, " {\n\t\ttype ipv4_addr\n\t\tflags dynamic,timeout\n"
				"\t\ttimeout %us\n\t}\n", s->affinity);
		}
	sb_addf(sb, "\tchain %s {\n", s->chain);
	sb_addf(sb, "\t\tip saddr != %s meta mark set meta mark | 0x%x\n", pod_cidr(p, b),
		PROXY_MASQ_MARK);
	render_dispatch(sb, s, s->eps, s->neps);
	render_policy(sb, p, s);
	if (!s->affinity)
		return;
	for (size_t i = 0; i < s->naeps; i++) {
		sb_adds(sb, "\tchain ");
		ep_name(s, &s->aeps[i], sb, "ep-");
		sb_adds(sb, " {\n\t\tupdate @");
		ep_name(s, &s->aeps[i], sb, "aff-");
		sb_addf(sb, " { ip saddr }\n\t\tmeta l4proto %s dnat ip to %s:%u\n\t}\n",
			proxy_proto_name(s->proto), ip_str(s->aeps[i].ip, b), s->aeps[i].port);
	}
}

static void render_elems(struct strbuf *sb, const struct proxy_plan *p, const char *svc,
			 bool nodeports)
{
	char b[LK_IP4_STRLEN];
	bool first = true;
	for (size_t i = 0; i < p->n; i++) {
		const struct proxy_svc *s = &p->svcs[i];
		if (svc && strcmp(s->svc, svc))
			continue;
		for (size_t v = 0; v < (nodeports ? (s->nodeport ? 1u : 0u) : s->nvips); v++) {
			sb_adds(sb, first ? "\t\telements = {\n\t\t\t" : ",\n\t\t\t");
			first = false;
			if (!nodeports)
				sb_addf(sb, "%s . ", ip_str(s->vips[v], b));
			const char *t = proxy_svc_target(s, nodeports || v > 0);
			sb_addf(sb, "%s . %u : %s%s", proxy_proto_name(s->proto),
				nodeports ? s->nodeport : s->port, t ? "goto " : "drop", t ? t : "");
		}
	}
	if (!first)
		sb_adds(sb, "\n\t\t}\n");
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static void render_hairpin(struct strbuf *sb, const struct proxy_plan *p, const char *svc)
{
	char b[LK_IP4_STRLEN];
	size_t n = 0, cap = 16;
	uint32_t *ips = xmalloc(cap * sizeof(*ips));
	for (size_t i = 0; i < p->n; i++) {
		const struct proxy_svc *s = &p->svcs[i];
		if (svc && strcmp(s->svc, svc))
			continue;
		for (size_t e = 0; e < s->naeps; e++) {
			if (n == cap)
				ips = xrealloc(ips, (cap *= 2) * sizeof(*ips));
			ips[n++] = s->aeps[e].ip;
		}
	}
	qsort(ips, n, sizeof(*ips), u32_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i && ips[i] == ips[i - 1])
			continue;
		sb_adds(sb, i ? ", " : "\t\telements = { ");
		ip_str(ips[i], b);
		sb_addf(sb, "%s . %s", b, b);
	}
	if (n)
		sb_adds(sb, " }\n");
	free(ips);
}

char *proxy_plan_render(const struct proxy_plan *p, const char *svc)
{
	struct strbuf sb = STRBUF_INIT;
	char net[LK_CIDR_STRLEN];

	sb_addf(&sb, "table ip %s {\n", PROXY_TABLE);
	sb_adds(&sb, "\tmap service-ips {\n\t\ttype ipv4_addr . inet_proto . inet_service : verdict\n");
	render_elems(&sb, p, svc, false);
	sb_adds(&sb, "\t}\n\tmap service-nodeports {\n\t\ttype inet_proto . inet_service : verdict\n");
	render_elems(&sb, p, svc, true);
	sb_adds(&sb, "\t}\n\tset hairpin {\n\t\ttype ipv4_addr . ipv4_addr\n");
	render_hairpin(&sb, p, svc);
	sb_adds(&sb, "\t}\n");
	sb_adds(&sb,
		"\tchain reject-chain {\n"
		"\t\tmeta l4proto tcp reject with tcp reset\n"
		"\t\treject\n"
		"\t}\n");
	for (size_t i = 0; i < p->n; i++)
		if (!svc || !strcmp(p->svcs[i].svc, svc))
			render_svc(&sb, p, &p->svcs[i]);
	sb_adds(&sb,
		"\tchain services {\n"
		"\t\tip daddr . meta l4proto . th dport vmap @service-ips\n"
		"\t\tfib daddr type local meta l4proto . th dport vmap @service-nodeports\n"
		"\t}\n"
		"\tchain nat-prerouting {\n"
		"\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
		"\t\tjump services\n"
		"\t}\n"
		"\tchain nat-output {\n"
		/* -100 is dstnat; nft 1.0.6 refuses the name for output */
		"\t\ttype nat hook output priority -100; policy accept;\n"
		"\t\tjump services\n"
		"\t}\n");
	pod_cidr(p, net);
	sb_addf(&sb,
		"\tchain nat-postrouting {\n"
		"\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
		"\t\tct status dnat ip saddr . ip daddr @hairpin masquerade\n"
		"\t\tip saddr %s ip daddr != %s oifname != \"lo\" oifname != \"%s\" masquerade\n"
		"\t\tmeta mark & 0x%x == 0x0 return\n"
		"\t\tmeta mark set meta mark ^ 0x%x masquerade\n"
		"\t}\n"
		"\tchain filter-prerouting {\n"
		"\t\ttype filter hook prerouting priority dstnat - 10; policy accept;\n"
		"\t\tiifname != \"lo\" ip daddr 127.0.0.0/8 drop\n"
		"\t}\n"
		"}\n",
		net, net, PROXY_BRIDGE,
		PROXY_MASQ_MARK, PROXY_MASQ_MARK);
	return sb_detach(&sb, NULL);
}
