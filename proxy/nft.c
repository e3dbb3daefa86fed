/*
 * proxy/nft.c: the nftables back end. Programs table `ip labkube` over
 * netlink (libnftnl builds the messages, libmnl carries them), one batch per
 * change: the kernel commits all of it or none of it. The layout is the one
 * render.c prints (see proxy.h). Errors come back while sendmsg() runs (the
 * kernel handles a batch synchronously), so after sending we drain the
 * socket without blocking, as nft does. The objects of each service port
 * are built by nft_svc.c; this file has the message builders, the fixed
 * part, the hairpin set, the transport and the ops.
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

#include "proxy/nft_internal.h"

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
	return nftnl_nlmsg_build_hdr(b->buf + b->len, type, NFPROTO_IPV4, flags,
				     lk_nl_seq(b->be->nl));
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
void nft_b_chain(struct batch *b, uint16_t type, const char *name, int hook, int prio,
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
void nft_b_flush(struct batch *b, const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh = b_hdr(b, NFT_MSG_DELRULE, 0, 512);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, PROXY_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	b_done(b, nlh);
	nftnl_rule_free(r);
}

struct nftnl_rule *nft_rule_new(const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, PROXY_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	return r;
}

void nft_b_rule(struct batch *b, struct nftnl_rule *r)
{
	struct nlmsghdr *nlh = b_hdr(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, 65536);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	b_done(b, nlh);
	nftnl_rule_free(r);
}

/* ---- expressions ---- */

struct nftnl_expr *nft_ex(struct nftnl_rule *r, const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);
	if (!e)
		lk_die("proxy: libnftnl has no '%s' expression", name);
	nftnl_rule_add_expr(r, e);
	return e;
}

void nft_e_payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len, uint32_t dreg)
{
	struct nftnl_expr *e = nft_ex(r, "payload");
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
}


void nft_e_meta(struct nftnl_rule *r, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = nft_ex(r, "meta");
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
}

void nft_e_meta_set(struct nftnl_rule *r, uint32_t key, uint32_t sreg)
{
	struct nftnl_expr *e = nft_ex(r, "meta");
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, sreg);
}

void nft_e_cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nft_ex(r, "cmp");
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
}

void nft_e_bitwise(struct nftnl_rule *r, uint32_t mask, uint32_t xor)
{
	struct nftnl_expr *e = nft_ex(r, "bitwise");
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 4);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, 4);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &xor, 4);
}

void nft_e_lookup(struct nftnl_rule *r, uint32_t sreg, int dreg, const char *set, uint32_t id)
{
	struct nftnl_expr *e = nft_ex(r, "lookup");
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, sreg);
	if (dreg >= 0)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, (uint32_t)dreg);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	if (id)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, id);
}

void nft_e_verdict(struct nftnl_rule *r, int verdict, const char *chain)
{
	struct nftnl_expr *e = nft_ex(r, "immediate");
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
	if (chain)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
}

void nft_e_imm(struct nftnl_rule *r, uint32_t dreg, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nft_ex(r, "immediate");
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, dreg);
	nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, data, len);
}

void nft_e_dnat(struct nftnl_rule *r)
{
	struct nftnl_expr *e = nft_ex(r, "nat");
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG32_01);
}

static void e_masq(struct nftnl_rule *r)
{
	nft_ex(r, "masq");
}

static void e_reject(struct nftnl_rule *r, uint32_t type, uint8_t code)
{
	struct nftnl_expr *e = nft_ex(r, "reject");
	nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, type);
	nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, code);
}

void nft_e_l4proto(struct nftnl_rule *r, uint32_t dreg)
{
	nft_e_meta(r, NFT_META_L4PROTO, dreg);
}

/* ---- sets ---- */

struct nftnl_set *nft_set_new(const char *name, uint32_t flags, uint32_t ktype, uint32_t klen)
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

void nft_b_set(struct batch *b, uint16_t type, struct nftnl_set *s)
{
	if (type == NFT_MSG_NEWSET && !nftnl_set_is_set(s, NFTNL_SET_ID))
		nftnl_set_set_u32(s, NFTNL_SET_ID, ++b->set_id);
	struct nlmsghdr *nlh = b_hdr(b, type, type == NFT_MSG_NEWSET ? NLM_F_CREATE : 0, 1024);
	nftnl_set_nlmsg_build_payload(nlh, s);
	b_done(b, nlh);
}

void nft_b_elems(struct batch *b, uint16_t type, struct nftnl_set *s, size_t n)
{
	struct nlmsghdr *nlh = b_hdr(b, type, type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0,
				     256 * (n + 1));
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	b_done(b, nlh);
}

void nft_elem_key(struct nftnl_set *s, const void *key, uint32_t klen, int verdict,
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


static void es_flush(struct batch *b, struct elemset *es)
{
	if (es->s && es->n)
		nft_b_elems(b, es->type, es->s, es->n);
	if (es->s)
		nftnl_set_free(es->s);
	es->s = NULL;
	es->n = 0;
}

struct nftnl_set *nft_es_get(struct batch *b, struct elemset *es)
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

/* ---- the fixed part ---- */

static void fixed_objects(struct batch *b)
{
	struct nftnl_set *s;

	s = nft_set_new("service-ips", NFT_SET_MAP, CONCAT3(T_IPADDR, T_PROTO, T_SERVICE), 12);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
	nft_b_set(b, NFT_MSG_NEWSET, s);
	nftnl_set_free(s);
	s = nft_set_new("service-nodeports", NFT_SET_MAP, CONCAT2(T_PROTO, T_SERVICE), 8);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
	nft_b_set(b, NFT_MSG_NEWSET, s);
	nftnl_set_free(s);
	s = nft_set_new("hairpin", 0, CONCAT2(T_IPADDR, T_IPADDR), 8);
	nft_b_set(b, NFT_MSG_NEWSET, s);
	nftnl_set_free(s);

	nft_b_chain(b, NFT_MSG_NEWCHAIN, "reject-chain", -1, 0, NULL);
	nft_b_chain(b, NFT_MSG_NEWCHAIN, "services", -1, 0, NULL);
	nft_b_chain(b, NFT_MSG_NEWCHAIN, "nat-prerouting", NF_INET_PRE_ROUTING, -100, "nat");
	nft_b_chain(b, NFT_MSG_NEWCHAIN, "nat-output", NF_INET_LOCAL_OUT, -100, "nat");
	nft_b_chain(b, NFT_MSG_NEWCHAIN, "nat-postrouting", NF_INET_POST_ROUTING, 100, "nat");
	nft_b_chain(b, NFT_MSG_NEWCHAIN, "filter-prerouting", NF_INET_PRE_ROUTING, -110, "filter");
}

/* Pods (and the node, whose source towards the service CIDR is the bridge
 * address) leaving by an interface other than the bridge and lo are
 * masqueraded, as the bridge CNI plugin's ipMasq does: without it replies
 * to a pod address (an endpoint off the node, a pod reaching the outside)
 * have no way back. */
static void egress_masq_rule(struct batch *b, const struct proxy_plan *p)
{
	struct nftnl_rule *r = nft_rule_new("nat-postrouting");
	char lo[16] = "lo", br[16] = PROXY_BRIDGE;

	E_SADDR(r, NFT_REG_1);
	nft_e_bitwise(r, p->pod_mask, 0);
	nft_e_cmp(r, NFT_CMP_EQ, &p->pod_net, 4);
	E_DADDR(r, NFT_REG_1);
	nft_e_bitwise(r, p->pod_mask, 0);
	nft_e_cmp(r, NFT_CMP_NEQ, &p->pod_net, 4);
	nft_e_meta(r, NFT_META_OIFNAME, NFT_REG_1);
	nft_e_cmp(r, NFT_CMP_NEQ, lo, 16);
	nft_e_meta(r, NFT_META_OIFNAME, NFT_REG_1);
	nft_e_cmp(r, NFT_CMP_NEQ, br, 16);
	e_masq(r);
	nft_b_rule(b, r);
}

static void fixed_rules(struct batch *b, const struct proxy_plan *p)
{
	struct nftnl_rule *r;
	struct nftnl_expr *e;
	uint8_t tcp = IPPROTO_TCP;
	uint32_t local = htonl(0) | 2 /* RTN_LOCAL, host order */, zero = 0;
	uint32_t lo_net = htonl(0x7f000000), lo_mask = htonl(0xff000000);
	char lo[16] = "lo";

	r = nft_rule_new("reject-chain");
	nft_e_l4proto(r, NFT_REG_1);
	nft_e_cmp(r, NFT_CMP_EQ, &tcp, 1);
	e_reject(r, NFT_REJECT_TCP_RST, 0);
	nft_b_rule(b, r);
	r = nft_rule_new("reject-chain");
	e_reject(r, NFT_REJECT_ICMP_UNREACH, ICMP_PORT_UNREACH);
	nft_b_rule(b, r);

	r = nft_rule_new("services");
	E_DADDR(r, NFT_REG32_00);
	nft_e_l4proto(r, NFT_REG32_01);
	nft_e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG32_02);
	nft_e_lookup(r, NFT_REG32_00, NFT_REG_VERDICT, "service-ips", 0);
	nft_b_rule(b, r);
	r = nft_rule_new("services");
	e = nft_ex(r, "fib");
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
	nft_e_cmp(r, NFT_CMP_EQ, &local, 4);
	nft_e_l4proto(r, NFT_REG32_00);
	nft_e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG32_01);
	nft_e_lookup(r, NFT_REG32_00, NFT_REG_VERDICT, "service-nodeports", 0);
	nft_b_rule(b, r);

	r = nft_rule_new("nat-prerouting");
	nft_e_verdict(r, NFT_JUMP, "services");
	nft_b_rule(b, r);
	r = nft_rule_new("nat-output");
	nft_e_verdict(r, NFT_JUMP, "services");
	nft_b_rule(b, r);

	r = nft_rule_new("nat-postrouting");
	e = nft_ex(r, "ct");
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATUS);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	nft_e_bitwise(r, IPS_DST_NAT, 0);
	nft_e_cmp(r, NFT_CMP_NEQ, &zero, 4);
	E_SADDR(r, NFT_REG32_00);
	E_DADDR(r, NFT_REG32_01);
	nft_e_lookup(r, NFT_REG32_00, -1, "hairpin", 0);
	e_masq(r);
	nft_b_rule(b, r);
	egress_masq_rule(b, p);
	r = nft_rule_new("nat-postrouting");
	nft_e_meta(r, NFT_META_MARK, NFT_REG_1);
	nft_e_bitwise(r, PROXY_MASQ_MARK, 0);
	nft_e_cmp(r, NFT_CMP_EQ, &zero, 4);
	nft_e_verdict(r, NFT_RETURN, NULL);
	nft_b_rule(b, r);
	r = nft_rule_new("nat-postrouting");
	nft_e_meta(r, NFT_META_MARK, NFT_REG_1);
	nft_e_bitwise(r, 0xffffffffu, PROXY_MASQ_MARK);
	nft_e_meta_set(r, NFT_META_MARK, NFT_REG_1);
	e_masq(r);
	nft_b_rule(b, r);

	r = nft_rule_new("filter-prerouting");
	nft_e_meta(r, NFT_META_IIFNAME, NFT_REG_1);
	nft_e_cmp(r, NFT_CMP_NEQ, lo, 16);
	E_DADDR(r, NFT_REG_1);
	nft_e_bitwise(r, lo_mask, 0);
	nft_e_cmp(r, NFT_CMP_EQ, &lo_net, 4);
	nft_e_verdict(r, NF_DROP, NULL);
	nft_b_rule(b, r);
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
		for (size_t e = 0; e < p->svcs[i].naeps; e++) {
			if (k == cap)
				ips = xrealloc(ips, (cap *= 2) * sizeof(*ips));
			ips[k++] = p->svcs[i].aeps[e].ip;
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
		nft_elem_key(nft_es_get(b, c < 0 ? &del : &add), key, 8, 0, NULL, NULL, 0);
	}
	es_flush(b, &del);
	es_flush(b, &add);
	free(o);
	free(n);
}

/* ---- transport ---- */

static int nft_send(struct nftbe *be, struct batch *b, struct lk_err *err)
{
	char rbuf[65536];
	struct nlmsghdr *nlh;
	int fd = lk_nl_fd(be->nl), sz, rc = 0;
	ssize_t n;

	b_reserve(b, 4096);
	nlh = nftnl_batch_end(b->buf + b->len, lk_nl_seq(be->nl));
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
	sz = (int)b->len + 65536;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if ((rc = lk_nl_send(be->nl, b->buf, b->len)) < 0)
		return lk_error(err, LK_EINTERNAL, "netlink: %s", strerror(-rc));
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
				lk_error(err, LK_EINTERNAL, "%s%s%snetlink: %s (message %u of %zu: %s)",
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
	b->seq0 = lk_nl_seq(be->nl);
	nlh = nftnl_batch_begin(b->buf, b->seq0);
	b->len = NLMSG_ALIGN(nlh->nlmsg_len);
}

/* Send b and free it. */
static int batch_send(struct nftbe *be, struct batch *b, struct lk_err *err)
{
	int rc = nft_send(be, b, err);
	free(b->buf);
	free(b->types);
	free(b->owners);
	return rc;
}

/* ---- the ops ---- */

static void *nft_init(struct lk_err *err)
{
	struct nftbe *be = xcalloc(1, sizeof(*be));
	int one = 1;
	be->nl = lk_nl_open(NETLINK_NETFILTER, 0, err);
	if (!be->nl) {
		free(be);
		return NULL;
	}
	/* error ACKs without the failed message: a batch's would be huge */
	setsockopt(lk_nl_fd(be->nl), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	return be;
}

static int nft_full(void *v, const struct proxy_plan *p, struct lk_err *err)
{
	struct nftbe *be = v;
	struct batch b;
	struct elemset ips = { "service-ips", NFT_MSG_NEWSETELEM, NULL, 0 };
	struct elemset nps = { "service-nodeports", NFT_MSG_NEWSETELEM, NULL, 0 };

	batch_start(&b, be);
	b_table(&b, NFT_MSG_NEWTABLE);
	b_table(&b, NFT_MSG_DELTABLE);
	b_table(&b, NFT_MSG_NEWTABLE);
	fixed_objects(&b);
	for (size_t i = 0; i < p->n; i++) {
		b.owner = p->svcs[i].key;
		nft_svc_chains(&b, &p->svcs[i]);
		nft_svc_rules(&b, p, NULL, &p->svcs[i]);
	}
	b.owner = NULL;
	fixed_rules(&b, p);
	for (size_t i = 0; i < p->n; i++)
		nft_svc_elems(&b, &ips, &nps, &p->svcs[i]);
	es_flush(&b, &ips);
	es_flush(&b, &nps);
	hairpin_elems(&b, NULL, p);
	return batch_send(be, &b, err);
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
			nft_svc_elems(d->b, &d->dips, &d->dnps, o);
		break;
	case 1:
		nft_svc_remove(d->b, o, n);
		nft_svc_chains(d->b, n);
		break;
	case 2:
		nft_svc_rules(d->b, d->p, o, n);
		if (n)
			nft_svc_elems(d->b, &d->aips, &d->anps, n);
		break;
	}
}

static int nft_diff(void *v, const struct proxy_plan *old, const struct proxy_plan *new,
		    struct lk_err *err)
{
	struct nftbe *be = v;
	struct batch b;
	struct diffctx d = { &b, new, 0,
			     { "service-ips", NFT_MSG_DELSETELEM, NULL, 0 },
			     { "service-nodeports", NFT_MSG_DELSETELEM, NULL, 0 },
			     { "service-ips", NFT_MSG_NEWSETELEM, NULL, 0 },
			     { "service-nodeports", NFT_MSG_NEWSETELEM, NULL, 0 } };

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
	return batch_send(be, &b, err);
}

static int count_cb(const struct nlmsghdr *nlh, void *data)
{
	(*(size_t *)data)++;
	return MNL_CB_OK;
}

static int nft_check(void *v, const struct proxy_plan *p, struct lk_err *err)
{
	struct nftbe *be = v;
	char buf[4096];
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh;
	size_t want_c, want_r, got = 0;
	int rc;

	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_IPV4, NLM_F_DUMP,
				    lk_nl_seq(be->nl));
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, PROXY_TABLE);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	rc = lk_nl_talk(be->nl, nlh, count_cb, &got);
	if (rc == -ENOENT)
		return 0;       /* no table */
	if (rc < 0)
		return lk_error(err, LK_EINTERNAL, "netlink: %s", strerror(-rc));
	proxy_plan_counts(p, &want_c, &want_r);
	return got == want_r ? 1 : 0;
}

static int nft_cleanup(void *v, struct lk_err *err)
{
	struct nftbe *be = v;
	struct batch b;
	batch_start(&b, be);
	b_table(&b, NFT_MSG_NEWTABLE);
	b_table(&b, NFT_MSG_DELTABLE);
	return batch_send(be, &b, err);
}

static void nft_free(void *v)
{
	struct nftbe *be = v;
	if (!be)
		return;
	lk_nl_close(be->nl);
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
