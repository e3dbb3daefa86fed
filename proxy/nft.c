/*
 * proxy/nft.c: the nftables back end. Programs table `ip labkube` over
 * netlink (libnftnl builds the messages, libmnl carries them), one batch per
 * change: the kernel commits all of it or none of it. The layout is the one
 * render.c prints (see proxy.h). Errors come back while sendmsg() runs (the
 * kernel handles a batch synchronously), so after sending we drain the
 * socket without blocking, as nft does.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "common/util.h"
#include "proxy/proxy.h"

/* nft's datatype numbers, so `nft list` prints keys readably. */
enum { T_VERDICT = 1, T_INTEGER = 4, T_IPADDR = 7, T_PROTO = 12, T_SERVICE = 13 };
#define CONCAT2(a, b) (((a) << 6) | (b))
#define CONCAT3(a, b, c) (((((a) << 6) | (b)) << 6) | (c))

struct nftbe {
	struct mnl_socket *nl;
	uint32_t portid, seq;
};

struct batch {
	char *buf;
	size_t len, cap;
	struct nftbe *be;
	uint32_t set_id;
	uint32_t seq0;          /* seq of the batch begin */
	uint16_t *types;        /* message type by seq - seq0 */
	const char **owners;    /* service port key by seq - seq0 (NULL: fixed) */
	const char *owner;      /* key of the messages being built */
	size_t ntypes;
};

static void b_reserve(struct batch *b, size_t n)
{
	if (b->len + n <= b->cap)
		return;
	while (b->len + n > b->cap)
		b->cap = b->cap ? b->cap * 2 : 1 << 20;
	b->buf = xrealloc(b->buf, b->cap);
}

static struct nlmsghdr *b_hdr(struct batch *b, uint16_t type, uint16_t flags, size_t need)
{
	b_reserve(b, need + 4096);
	b->types = xrealloc(b->types, (b->ntypes + 1) * sizeof(*b->types));
	b->owners = xrealloc(b->owners, (b->ntypes + 1) * sizeof(*b->owners));
	b->owners[b->ntypes] = b->owner;
	b->types[b->ntypes++] = type;
	return nftnl_nlmsg_build_hdr(b->buf + b->len, type, NFPROTO_IPV4, flags, b->be->seq++);
}

static void b_done(struct batch *b, struct nlmsghdr *nlh)
{
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

static void b_table(struct batch *b, uint16_t type)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh = b_hdr(b, type, type == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0, 256);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, PROXY_TABLE);
	nftnl_table_nlmsg_build_payload(nlh, t);
	b_done(b, nlh);
	nftnl_table_free(t);
}

/* hook < 0: a regular chain. */
static void b_chain(struct batch *b, uint16_t type, const char *name, int hook, int prio,
		    const char *ctype)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh = b_hdr(b, type, type == NFT_MSG_NEWCHAIN ? NLM_F_CREATE : 0, 512);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, PROXY_TABLE);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	if (hook >= 0) {
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, (uint32_t)hook);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, ctype);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	nftnl_chain_nlmsg_build_payload(nlh, c);
	b_done(b, nlh);
	nftnl_chain_free(c);
}

/* Flush a chain's rules (DELRULE with only the chain). */
static void b_flush(struct batch *b, const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh = b_hdr(b, NFT_MSG_DELRULE, 0, 512);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, PROXY_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	b_done(b, nlh);
	nftnl_rule_free(r);
}

static struct nftnl_rule *rule_new(const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, PROXY_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	return r;
}

static void b_rule(struct batch *b, struct nftnl_rule *r)
{
	struct nlmsghdr *nlh = b_hdr(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, 65536);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	b_done(b, nlh);
	nftnl_rule_free(r);
}

/* ---- expressions ---- */

static struct nftnl_expr *ex(struct nftnl_rule *r, const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);
	if (!e)
		lk_die("proxy: libnftnl has no '%s' expression", name);
	nftnl_rule_add_expr(r, e);
	return e;
}

static void e_payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len, uint32_t dreg)
{
	struct nftnl_expr *e = ex(r, "payload");
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
}

#define E_SADDR(r, reg) e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, reg)
#define E_DADDR(r, reg) e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 16, 4, reg)

static void e_meta(struct nftnl_rule *r, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = ex(r, "meta");
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
}

static void e_meta_set(struct nftnl_rule *r, uint32_t key, uint32_t sreg)
{
	struct nftnl_expr *e = ex(r, "meta");
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, sreg);
}

static void e_cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = ex(r, "cmp");
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
}

static void e_bitwise(struct nftnl_rule *r, uint32_t mask, uint32_t xor)
{
	struct nftnl_expr *e = ex(r, "bitwise");
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 4);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, 4);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &xor, 4);
}

static void e_lookup(struct nftnl_rule *r, uint32_t sreg, int dreg, const char *set, uint32_t id)
{
	struct nftnl_expr *e = ex(r, "lookup");
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, sreg);
	if (dreg >= 0)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, (uint32_t)dreg);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	if (id)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, id);
}

static void e_verdict(struct nftnl_rule *r, int verdict, const char *chain)
{
	struct nftnl_expr *e = ex(r, "immediate");
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
	if (chain)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
}

static void e_imm(struct nftnl_rule *r, uint32_t dreg, const void *data, uint32_t len)
{
	struct nftnl_expr *e = ex(r, "immediate");
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, dreg);
	nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, data, len);
}

static void e_dnat(struct nftnl_rule *r)
{
	struct nftnl_expr *e = ex(r, "nat");
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG32_01);
}

static void e_masq(struct nftnl_rule *r)
{
	ex(r, "masq");
}

static void e_reject(struct nftnl_rule *r, uint32_t type, uint8_t code)
{
	struct nftnl_expr *e = ex(r, "reject");
	nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, type);
	nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, code);
}

static void e_l4proto(struct nftnl_rule *r, uint32_t dreg)
{
	e_meta(r, NFT_META_L4PROTO, dreg);
}

/* ---- sets ---- */

static struct nftnl_set *set_new(const char *name, uint32_t flags, uint32_t ktype, uint32_t klen)
{
	struct nftnl_set *s = nftnl_set_alloc();
	nftnl_set_set_str(s, NFTNL_SET_TABLE, PROXY_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_IPV4);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, ktype);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, klen);
	if (flags & NFT_SET_MAP)
		nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 16);
	return s;
}

static void set_concat(struct nftnl_set *s, const uint8_t *lens, size_t n)
{
	return; /* NFTA_SET_DESC needs NFT_SET_CONCAT (interval sets only) */
	nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, lens, (uint32_t)n);
}

static void b_set(struct batch *b, uint16_t type, struct nftnl_set *s)
{
	if (type == NFT_MSG_NEWSET && !nftnl_set_is_set(s, NFTNL_SET_ID))
		nftnl_set_set_u32(s, NFTNL_SET_ID, ++b->set_id);
	struct nlmsghdr *nlh = b_hdr(b, type, type == NFT_MSG_NEWSET ? NLM_F_CREATE : 0, 1024);
	nftnl_set_nlmsg_build_payload(nlh, s);
	b_done(b, nlh);
}

static void b_elems(struct batch *b, uint16_t type, struct nftnl_set *s, size_t n)
{
	struct nlmsghdr *nlh = b_hdr(b, type, type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0,
				     256 * (n + 1));
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	b_done(b, nlh);
}

static void elem_key(struct nftnl_set *s, const void *key, uint32_t klen, int verdict,
		     const char *chain, const void *data, uint32_t dlen)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, klen);
	if (chain) {
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, (uint32_t)verdict);
		nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, chain);
	} else if (data) {
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, data, dlen);
	}
	nftnl_set_elem_add(s, e);
}

/* Elements of the named sets, built in chunks so no message is huge. */
struct elemset {
	const char *name;
	uint16_t type;
	struct nftnl_set *s;
	size_t n;
};

static void es_flush(struct batch *b, struct elemset *es)
{
	if (es->s && es->n)
		b_elems(b, es->type, es->s, es->n);
	if (es->s)
		nftnl_set_free(es->s);
	es->s = NULL;
	es->n = 0;
}

static struct nftnl_set *es_get(struct batch *b, struct elemset *es)
{
	if (es->n >= 500)
		es_flush(b, es);
	if (!es->s) {
		es->s = nftnl_set_alloc();
		nftnl_set_set_str(es->s, NFTNL_SET_TABLE, PROXY_TABLE);
		nftnl_set_set_str(es->s, NFTNL_SET_NAME, es->name);
	}
	es->n++;
	return es->s;
}

static void svc_elems(struct batch *b, struct elemset *ips, struct elemset *nps,
		      const struct proxy_svc *s)
{
	const char *target = s->neps ? s->chain : "reject-chain";
	for (size_t v = 0; v < s->nvips; v++) {
		uint8_t key[12] = { 0 };
		uint16_t port = htons(s->port);
		memcpy(key, &s->vips[v], 4);
		key[4] = s->proto;
		memcpy(key + 8, &port, 2);
		elem_key(es_get(b, ips), key, 12, NFT_GOTO, ips->type == NFT_MSG_NEWSETELEM ? target : NULL, NULL, 0);
	}
	if (s->nodeport) {
		uint8_t key[8] = { 0 };
		uint16_t port = htons(s->nodeport);
		key[0] = s->proto;
		memcpy(key + 4, &port, 2);
		elem_key(es_get(b, nps), key, 8, NFT_GOTO, nps->type == NFT_MSG_NEWSETELEM ? target : NULL, NULL, 0);
	}
}

/* ---- per service port ---- */

static char *ep_name(const struct proxy_svc *s, const struct proxy_ep *e, const char *prefix)
{
	char b[INET_ADDRSTRLEN];
	struct in_addr a = { .s_addr = e->ip };
	inet_ntop(AF_INET, &a, b, sizeof(b));
	return xasprintf("%s%s__%s/%u", prefix, s->chain + 4, b, e->port);
}

static void mark_rule(struct batch *b, const struct proxy_plan *p, const char *chain)
{
	struct nftnl_rule *r = rule_new(chain);
	E_SADDR(r, NFT_REG_1);
	e_bitwise(r, p->pod_mask, 0);
	e_cmp(r, NFT_CMP_NEQ, &p->pod_net, 4);
	e_meta(r, NFT_META_MARK, NFT_REG_1);
	e_bitwise(r, ~PROXY_MASQ_MARK, PROXY_MASQ_MARK);
	e_meta_set(r, NFT_META_MARK, NFT_REG_1);
	b_rule(b, r);
}

static void dnat_map_rule(struct batch *b, const struct proxy_svc *s)
{
	struct nftnl_rule *r = rule_new(s->chain);
	struct nftnl_set *m;
	struct nftnl_expr *e;
	struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(64);
	uint32_t id = ++b->set_id;

	m = set_new("__map%d", NFT_SET_ANONYMOUS | NFT_SET_CONSTANT | NFT_SET_MAP, T_INTEGER, 4);
	nftnl_set_set_u32(m, NFTNL_SET_ID, id);
	nftnl_set_set_u32(m, NFTNL_SET_DATA_TYPE, CONCAT2(T_IPADDR, T_SERVICE));
	nftnl_set_set_u32(m, NFTNL_SET_DATA_LEN, 8);
	nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, 1);
	nftnl_set_set_data(m, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud),
			   nftnl_udata_buf_len(ud));
	nftnl_udata_buf_free(ud);
	b_set(b, NFT_MSG_NEWSET, m);
	for (size_t i = 0; i < s->neps; i++) {
		uint32_t k = (uint32_t)i;
		uint8_t d[8] = { 0 };
		uint16_t port = htons(s->eps[i].port);
		memcpy(d, &s->eps[i].ip, 4);
		memcpy(d + 4, &port, 2);
		elem_key(m, &k, 4, 0, NULL, d, 8);
	}
	b_elems(b, NFT_MSG_NEWSETELEM, m, s->neps);
	nftnl_set_free(m);

	e_l4proto(r, NFT_REG_1);
	e_cmp(r, NFT_CMP_EQ, &s->proto, 1);
	e = ex(r, "numgen");
	nftnl_expr_set_u32(e, NFTNL_EXPR_NG_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NG_MODULUS, (uint32_t)s->neps);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NG_TYPE, NFT_NG_RANDOM);
	e_lookup(r, NFT_REG_1, NFT_REG_1, "__map%d", id);
	e_dnat(r);
	b_rule(b, r);
}

static void affinity_rules(struct batch *b, const struct proxy_svc *s, bool new_sets)
{
	struct nftnl_rule *r;
	struct nftnl_expr *e;
	struct nftnl_set *m;
	uint32_t id = ++b->set_id;

	for (size_t i = 0; i < s->neps; i++) {
		char *set = ep_name(s, &s->eps[i], "aff-"), *ch = ep_name(s, &s->eps[i], "ep-");
		if (new_sets) {
			struct nftnl_set *as = set_new(set, NFT_SET_TIMEOUT | NFT_SET_EVAL, T_IPADDR, 4);
			nftnl_set_set_u64(as, NFTNL_SET_TIMEOUT, (uint64_t)s->affinity * 1000);
			b_set(b, NFT_MSG_NEWSET, as);
			nftnl_set_free(as);
		}
		r = rule_new(s->chain);
		E_SADDR(r, NFT_REG_1);
		e_lookup(r, NFT_REG_1, -1, set, 0);
		e_verdict(r, NFT_GOTO, ch);
		b_rule(b, r);
		free(set);
		free(ch);
	}
	m = set_new("__map%d", NFT_SET_ANONYMOUS | NFT_SET_CONSTANT | NFT_SET_MAP, T_INTEGER, 4);
	nftnl_set_set_u32(m, NFTNL_SET_ID, id);
	nftnl_set_set_u32(m, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
	b_set(b, NFT_MSG_NEWSET, m);
	for (size_t i = 0; i < s->neps; i++) {
		uint32_t k = (uint32_t)i;
		char *ch = ep_name(s, &s->eps[i], "ep-");
		elem_key(m, &k, 4, NFT_GOTO, ch, NULL, 0);
		free(ch);
	}
	b_elems(b, NFT_MSG_NEWSETELEM, m, s->neps);
	nftnl_set_free(m);
	r = rule_new(s->chain);
	e = ex(r, "numgen");
	nftnl_expr_set_u32(e, NFTNL_EXPR_NG_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NG_MODULUS, (uint32_t)s->neps);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NG_TYPE, NFT_NG_RANDOM);
	e_lookup(r, NFT_REG_1, NFT_REG_VERDICT, "__map%d", id);
	b_rule(b, r);

	for (size_t i = 0; i < s->neps; i++) {
		char *set = ep_name(s, &s->eps[i], "aff-"), *ch = ep_name(s, &s->eps[i], "ep-");
		uint16_t port = htons(s->eps[i].port);
		r = rule_new(ch);
		E_SADDR(r, NFT_REG_1);
		e = ex(r, "dynset");
		nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_UPDATE);
		nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, set);
		b_rule(b, r);
		r = rule_new(ch);
		e_l4proto(r, NFT_REG_1);
		e_cmp(r, NFT_CMP_EQ, &s->proto, 1);
		e_imm(r, NFT_REG_1, &s->eps[i].ip, 4);
		e_imm(r, NFT_REG32_01, &port, 2);
		e_dnat(r);
		b_rule(b, r);
		free(set);
		free(ch);
	}
}

static bool has_ep_chain(const struct proxy_svc *s, const struct proxy_ep *e)
{
	if (!s || !s->affinity)
		return false;
	for (size_t i = 0; i < s->neps; i++)
		if (s->eps[i].ip == e->ip && s->eps[i].port == e->port)
			return true;
	return false;
}

/* Chains (and affinity sets) of n, created if missing. */
static void svc_chains(struct batch *b, const struct proxy_svc *n)
{
	if (!n || !n->neps)
		return;
	b_chain(b, NFT_MSG_NEWCHAIN, n->chain, -1, 0, NULL);
	for (size_t i = 0; n->affinity && i < n->neps; i++) {
		char *ch = ep_name(n, &n->eps[i], "ep-");
		b_chain(b, NFT_MSG_NEWCHAIN, ch, -1, 0, NULL);
		free(ch);
	}
}

static void svc_rules(struct batch *b, const struct proxy_plan *p, const struct proxy_svc *o,
		      const struct proxy_svc *n)
{
	if (!n || !n->neps)
		return;
	mark_rule(b, p, n->chain);
	if (!n->affinity) {
		dnat_map_rule(b, n);
		return;
	}
	/* new affinity sets only for endpoints o did not have: keep the
	 * clients of the others where they are */
	struct proxy_svc one = *n;
	for (size_t i = 0; i < n->neps; i++)
		if (!has_ep_chain(o, &n->eps[i]) || o->affinity != n->affinity) {
			char *set = ep_name(n, &n->eps[i], "aff-");
			struct nftnl_set *as = set_new(set, NFT_SET_TIMEOUT | NFT_SET_EVAL, T_IPADDR, 4);
			nftnl_set_set_u64(as, NFTNL_SET_TIMEOUT, (uint64_t)n->affinity * 1000);
			b_set(b, NFT_MSG_NEWSET, as);
			nftnl_set_free(as);
			free(set);
		}
	affinity_rules(b, &one, false);
}

/* Remove what o had and n does not; flush what both have. */
static void svc_remove(struct batch *b, const struct proxy_svc *o, const struct proxy_svc *n)
{
	if (!o || !o->neps)
		return;
	b_flush(b, o->chain);
	for (size_t i = 0; o->affinity && i < o->neps; i++) {
		char *ch = ep_name(o, &o->eps[i], "ep-");
		b_flush(b, ch);
		free(ch);
	}
	for (size_t i = 0; o->affinity && i < o->neps; i++) {
		bool keep = n && n->neps && has_ep_chain(n, &o->eps[i]) && n->affinity == o->affinity;
		char *ch, *set;
		if (keep)
			continue;
		ch = ep_name(o, &o->eps[i], "ep-");
		set = ep_name(o, &o->eps[i], "aff-");
		b_chain(b, NFT_MSG_DELCHAIN, ch, -1, 0, NULL);
		struct nftnl_set *as = set_new(set, 0, T_IPADDR, 4);
		b_set(b, NFT_MSG_DELSET, as);
		nftnl_set_free(as);
		free(ch);
		free(set);
	}
	if (!n || !n->neps)
		b_chain(b, NFT_MSG_DELCHAIN, o->chain, -1, 0, NULL);
}

/* ---- the fixed part ---- */

static void fixed_objects(struct batch *b)
{
	static const uint8_t k3[] = { 4, 1, 2 }, k2[] = { 1, 2 }, kh[] = { 4, 4 };
	struct nftnl_set *s;

	s = set_new("service-ips", NFT_SET_MAP, CONCAT3(T_IPADDR, T_PROTO, T_SERVICE), 12);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
	set_concat(s, k3, 3);
	b_set(b, NFT_MSG_NEWSET, s);
	nftnl_set_free(s);
	s = set_new("service-nodeports", NFT_SET_MAP, CONCAT2(T_PROTO, T_SERVICE), 8);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
	set_concat(s, k2, 2);
	b_set(b, NFT_MSG_NEWSET, s);
	nftnl_set_free(s);
	s = set_new("hairpin", 0, CONCAT2(T_IPADDR, T_IPADDR), 8);
	set_concat(s, kh, 2);
	b_set(b, NFT_MSG_NEWSET, s);
	nftnl_set_free(s);

	b_chain(b, NFT_MSG_NEWCHAIN, "reject-chain", -1, 0, NULL);
	b_chain(b, NFT_MSG_NEWCHAIN, "services", -1, 0, NULL);
	b_chain(b, NFT_MSG_NEWCHAIN, "nat-prerouting", NF_INET_PRE_ROUTING, -100, "nat");
	b_chain(b, NFT_MSG_NEWCHAIN, "nat-output", NF_INET_LOCAL_OUT, -100, "nat");
	b_chain(b, NFT_MSG_NEWCHAIN, "nat-postrouting", NF_INET_POST_ROUTING, 100, "nat");
	b_chain(b, NFT_MSG_NEWCHAIN, "filter-prerouting", NF_INET_PRE_ROUTING, -110, "filter");
}

static void fixed_rules(struct batch *b)
{
	struct nftnl_rule *r;
	struct nftnl_expr *e;
	uint8_t tcp = IPPROTO_TCP;
	uint32_t local = htonl(0) | 2 /* RTN_LOCAL, host order */, zero = 0;
	uint32_t lo_net = htonl(0x7f000000), lo_mask = htonl(0xff000000);
	char lo[16] = "lo";

	r = rule_new("reject-chain");
	e_l4proto(r, NFT_REG_1);
	e_cmp(r, NFT_CMP_EQ, &tcp, 1);
	e_reject(r, NFT_REJECT_TCP_RST, 0);
	b_rule(b, r);
	r = rule_new("reject-chain");
	e_reject(r, NFT_REJECT_ICMP_UNREACH, ICMP_PORT_UNREACH);
	b_rule(b, r);

	r = rule_new("services");
	E_DADDR(r, NFT_REG32_00);
	e_l4proto(r, NFT_REG32_01);
	e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG32_02);
	e_lookup(r, NFT_REG32_00, NFT_REG_VERDICT, "service-ips", 0);
	b_rule(b, r);
	r = rule_new("services");
	e = ex(r, "fib");
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
	e_cmp(r, NFT_CMP_EQ, &local, 4);
	e_l4proto(r, NFT_REG32_00);
	e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG32_01);
	e_lookup(r, NFT_REG32_00, NFT_REG_VERDICT, "service-nodeports", 0);
	b_rule(b, r);

	r = rule_new("nat-prerouting");
	e_verdict(r, NFT_JUMP, "services");
	b_rule(b, r);
	r = rule_new("nat-output");
	e_verdict(r, NFT_JUMP, "services");
	b_rule(b, r);

	r = rule_new("nat-postrouting");
	e = ex(r, "ct");
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATUS);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	e_bitwise(r, IPS_DST_NAT, 0);
	e_cmp(r, NFT_CMP_NEQ, &zero, 4);
	E_SADDR(r, NFT_REG32_00);
	E_DADDR(r, NFT_REG32_01);
	e_lookup(r, NFT_REG32_00, -1, "hairpin", 0);
	e_masq(r);
	b_rule(b, r);
	r = rule_new("nat-postrouting");
	e_meta(r, NFT_META_MARK, NFT_REG_1);
	e_bitwise(r, PROXY_MASQ_MARK, 0);
	e_cmp(r, NFT_CMP_EQ, &zero, 4);
	e_verdict(r, NFT_RETURN, NULL);
	b_rule(b, r);
	r = rule_new("nat-postrouting");
	e_meta(r, NFT_META_MARK, NFT_REG_1);
	e_bitwise(r, 0xffffffffu, PROXY_MASQ_MARK);
	e_meta_set(r, NFT_META_MARK, NFT_REG_1);
	e_masq(r);
	b_rule(b, r);

	r = rule_new("filter-prerouting");
	e_meta(r, NFT_META_IIFNAME, NFT_REG_1);
	e_cmp(r, NFT_CMP_NEQ, lo, 16);
	E_DADDR(r, NFT_REG_1);
	e_bitwise(r, lo_mask, 0);
	e_cmp(r, NFT_CMP_EQ, &lo_net, 4);
	e_verdict(r, NF_DROP, NULL);
	b_rule(b, r);
}

/* ---- hairpin set: one element per endpoint IP ---- */

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static uint32_t *ep_ips(const struct proxy_plan *p, size_t *n)
{
	size_t k = 0, cap = 16;
	uint32_t *ips = xmalloc(cap * sizeof(*ips));
	for (size_t i = 0; p && i < p->n; i++)
		for (size_t e = 0; e < p->svcs[i].neps; e++) {
			if (k == cap)
				ips = xrealloc(ips, (cap *= 2) * sizeof(*ips));
			ips[k++] = p->svcs[i].eps[e].ip;
		}
	qsort(ips, k, sizeof(*ips), u32_cmp);
	*n = 0;
	for (size_t i = 0; i < k; i++)
		if (!*n || ips[*n - 1] != ips[i])
			ips[(*n)++] = ips[i];
	return ips;
}

static void hairpin_elems(struct batch *b, const struct proxy_plan *old, const struct proxy_plan *new)
{
	size_t no, nn, i = 0, j = 0;
	uint32_t *o = ep_ips(old, &no), *n = ep_ips(new, &nn);
	struct elemset del = { "hairpin", NFT_MSG_DELSETELEM, NULL, 0 };
	struct elemset add = { "hairpin", NFT_MSG_NEWSETELEM, NULL, 0 };
	while (i < no || j < nn) {
		uint32_t key[2];
		int c = i >= no ? 1 : j >= nn ? -1 : u32_cmp(&o[i], &n[j]);
		if (!c) {
			i++, j++;
			continue;
		}
		key[0] = key[1] = c < 0 ? o[i++] : n[j++];
		elem_key(es_get(b, c < 0 ? &del : &add), key, 8, 0, NULL, NULL, 0);
	}
	es_flush(b, &del);
	es_flush(b, &add);
	free(o);
	free(n);
}

/* ---- transport ---- */

static int nft_send(struct nftbe *be, struct batch *b, char **err)
{
	char rbuf[65536];
	struct nlmsghdr *nlh;
	int fd = mnl_socket_get_fd(be->nl), sz, rc = 0;
	ssize_t n;

	b_reserve(b, 4096);
	nlh = nftnl_batch_end(b->buf + b->len, be->seq++);
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
	sz = (int)b->len + 65536;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (mnl_socket_sendto(be->nl, b->buf, b->len) < 0) {
		*err = xasprintf("netlink: %s", strerror(errno));
		return -1;
	}
	while ((n = recv(fd, rbuf, sizeof(rbuf), MSG_DONTWAIT)) > 0) {
		for (nlh = (struct nlmsghdr *)rbuf; mnl_nlmsg_ok(nlh, (int)n);
		     nlh = mnl_nlmsg_next(nlh, (int *)&n)) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
			if (nlh->nlmsg_type == NLMSG_ERROR && e->error && !rc) {
				uint32_t i = e->msg.nlmsg_seq - b->seq0 - 1;
				static const char *names[] = {
					[NFT_MSG_NEWTABLE] = "add table", [NFT_MSG_DELTABLE] = "delete table",
					[NFT_MSG_NEWCHAIN] = "add chain", [NFT_MSG_DELCHAIN] = "delete chain",
					[NFT_MSG_NEWRULE] = "add rule", [NFT_MSG_DELRULE] = "flush chain",
					[NFT_MSG_NEWSET] = "add set", [NFT_MSG_DELSET] = "delete set",
					[NFT_MSG_NEWSETELEM] = "add element", [NFT_MSG_DELSETELEM] = "delete element",
				};
				uint16_t t = i < b->ntypes ? b->types[i] : 0;
				rc = -1;
				const char *who = i < b->ntypes && b->owners[i] ? b->owners[i] : NULL;
				*err = xasprintf("%s%s%snetlink: %s (message %u of %zu: %s)",
						 who ? "service '" : "", who ? who : "", who ? "': " : "",
						 strerror(-e->error), i + 1, b->ntypes,
						 t < ARRAY_SIZE(names) && names[t] ? names[t] : "?");
			}
		}
	}
	return rc;
}

static void batch_start(struct batch *b, struct nftbe *be)
{
	struct nlmsghdr *nlh;
	memset(b, 0, sizeof(*b));
	b->be = be;
	b_reserve(b, 4096);
	b->seq0 = be->seq;
	nlh = nftnl_batch_begin(b->buf, be->seq++);
	b->len = NLMSG_ALIGN(nlh->nlmsg_len);
}

/* ---- the ops ---- */

static void *nft_init(char **err)
{
	struct nftbe *be = xcalloc(1, sizeof(*be));
	int one = 1;
	be->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!be->nl || mnl_socket_bind(be->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		*err = xasprintf("netlink: %s", strerror(errno));
		if (be->nl)
			mnl_socket_close(be->nl);
		free(be);
		return NULL;
	}
	setsockopt(mnl_socket_get_fd(be->nl), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	be->portid = mnl_socket_get_portid(be->nl);
	be->seq = (uint32_t)time(NULL);
	return be;
}

static int nft_full(void *v, const struct proxy_plan *p, char **err)
{
	struct nftbe *be = v;
	struct batch b;
	struct elemset ips = { "service-ips", NFT_MSG_NEWSETELEM, NULL, 0 };
	struct elemset nps = { "service-nodeports", NFT_MSG_NEWSETELEM, NULL, 0 };
	int rc;

	batch_start(&b, be);
	b_table(&b, NFT_MSG_NEWTABLE);
	b_table(&b, NFT_MSG_DELTABLE);
	b_table(&b, NFT_MSG_NEWTABLE);
	fixed_objects(&b);
	for (size_t i = 0; i < p->n; i++) {
		b.owner = p->svcs[i].key;
		svc_chains(&b, &p->svcs[i]);
		if (p->svcs[i].affinity && p->svcs[i].neps) {
			mark_rule(&b, p, p->svcs[i].chain);
			affinity_rules(&b, &p->svcs[i], true);
		} else {
			svc_rules(&b, p, NULL, &p->svcs[i]);
		}
	}
	b.owner = NULL;
	fixed_rules(&b);
	for (size_t i = 0; i < p->n; i++)
		svc_elems(&b, &ips, &nps, &p->svcs[i]);
	es_flush(&b, &ips);
	es_flush(&b, &nps);
	hairpin_elems(&b, NULL, p);
	rc = nft_send(be, &b, err);
	free(b.buf);
	free(b.types);
	free(b.owners);
	return rc;
}

struct diffctx {
	struct batch *b;
	const struct proxy_plan *p;
	int pass;
	struct elemset dips, dnps, aips, anps;
};

static void diff_one(void *arg, const struct proxy_svc *o, const struct proxy_svc *n)
{
	struct diffctx *d = arg;
	d->b->owner = (n ? n : o)->key;
	switch (d->pass) {
	case 0: /* element deletions first: they free the chains */
		if (o)
			svc_elems(d->b, &d->dips, &d->dnps, o);
		break;
	case 1:
		svc_remove(d->b, o, n);
		svc_chains(d->b, n);
		break;
	case 2:
		svc_rules(d->b, d->p, o, n);
		if (n)
			svc_elems(d->b, &d->aips, &d->anps, n);
		break;
	}
}

static int nft_diff(void *v, const struct proxy_plan *old, const struct proxy_plan *new, char **err)
{
	struct nftbe *be = v;
	struct batch b;
	struct diffctx d = { &b, new, 0,
			     { "service-ips", NFT_MSG_DELSETELEM, NULL, 0 },
			     { "service-nodeports", NFT_MSG_DELSETELEM, NULL, 0 },
			     { "service-ips", NFT_MSG_NEWSETELEM, NULL, 0 },
			     { "service-nodeports", NFT_MSG_NEWSETELEM, NULL, 0 } };
	int rc;

	batch_start(&b, be);
	proxy_plan_diff(old, new, diff_one, &d);
	b.owner = NULL;
	es_flush(&b, &d.dips);
	es_flush(&b, &d.dnps);
	d.pass = 1;
	proxy_plan_diff(old, new, diff_one, &d);
	d.pass = 2;
	proxy_plan_diff(old, new, diff_one, &d);
	b.owner = NULL;
	es_flush(&b, &d.aips);
	es_flush(&b, &d.anps);
	hairpin_elems(&b, old, new);
	rc = nft_send(be, &b, err);
	free(b.buf);
	free(b.types);
	free(b.owners);
	return rc;
}

static int count_cb(const struct nlmsghdr *nlh, void *data)
{
	(*(size_t *)data)++;
	return MNL_CB_OK;
}

static int nft_check(void *v, const struct proxy_plan *p, char **err)
{
	struct nftbe *be = v;
	char buf[32768];
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh;
	size_t want_c, want_r, got = 0;
	uint32_t seq = be->seq++;
	int n;

	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_IPV4, NLM_F_DUMP, seq);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, PROXY_TABLE);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	if (mnl_socket_sendto(be->nl, nlh, nlh->nlmsg_len) < 0)
		goto fail;
	while ((n = (int)mnl_socket_recvfrom(be->nl, buf, sizeof(buf))) > 0) {
		n = mnl_cb_run(buf, (size_t)n, seq, be->portid, count_cb, &got);
		if (n <= 0)
			break;
	}
	if (n < 0 && errno == ENOENT)
		return 0;
	if (n < 0)
		goto fail;
	proxy_plan_counts(p, &want_c, &want_r);
	return got == want_r ? 1 : 0;
fail:
	*err = xasprintf("netlink: %s", strerror(errno));
	return -1;
}

static int nft_cleanup(void *v, char **err)
{
	struct nftbe *be = v;
	struct batch b;
	int rc;
	batch_start(&b, be);
	b_table(&b, NFT_MSG_NEWTABLE);
	b_table(&b, NFT_MSG_DELTABLE);
	rc = nft_send(be, &b, err);
	free(b.buf);
	free(b.types);
	free(b.owners);
	return rc;
}

static void nft_free(void *v)
{
	struct nftbe *be = v;
	if (!be)
		return;
	mnl_socket_close(be->nl);
	free(be);
}

const struct proxy_backend proxy_nft_backend = {
	.name = "nftables",
	.init = nft_init,
	.sync_full = nft_full,
	.sync_diff = nft_diff,
	.check = nft_check,
	.cleanup = nft_cleanup,
	.free = nft_free,
};
