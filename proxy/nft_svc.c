/*
 * proxy/nft_svc.c: the nftables objects of one service port (nft.c sends
 * them): its entries in the verdict maps, the svc- chain (masquerade mark,
 * DNAT into a random endpoint or the ClientIP affinity chains and sets),
 * the local- and ext- chains of the Local traffic policies (see proxy.h),
 * and their removal when the service port changes or goes.
 */
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>

#include "common/ip.h"
#include "common/util.h"
#include "proxy/nft_internal.h"
#include "proxy/proxy.h"

/* A verdict-map element: key -> goto chain (chain NULL: drop); add false:
 * the key alone, for deleting. */
static void elem_target(struct nftnl_set *s, const void *key, uint32_t klen, bool add,
			const char *chain)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, klen);
	if (add) {
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, chain ? (uint32_t)NFT_GOTO : NF_DROP);
		if (chain)
			nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, chain);
	}
	nftnl_set_elem_add(s, e);
}

/* vips[0] is the cluster IP (internal traffic); the others and the node
 * port are external destinations (proxy_svc_target). */
void nft_svc_elems(struct batch *b, struct elemset *ips, struct elemset *nps,
		   const struct proxy_svc *s)
{
	for (size_t v = 0; v < s->nvips; v++) {
		uint8_t key[12] = { 0 };
		uint16_t port = htons(s->port);
		memcpy(key, &s->vips[v], 4);
		key[4] = s->proto;
		memcpy(key + 8, &port, 2);
		elem_target(nft_es_get(b, ips), key, 12, ips->type == NFT_MSG_NEWSETELEM,
			    proxy_svc_target(s, v > 0));
	}
	if (s->nodeport) {
		uint8_t key[8] = { 0 };
		uint16_t port = htons(s->nodeport);
		key[0] = s->proto;
		memcpy(key + 4, &port, 2);
		elem_target(nft_es_get(b, nps), key, 8, nps->type == NFT_MSG_NEWSETELEM,
			    proxy_svc_target(s, true));
	}
}

/* ---- per service port ---- */

static char *ep_name(const struct proxy_svc *s, const struct proxy_ep *e, const char *prefix)
{
	char b[LK_IP4_STRLEN];
	return xasprintf("%s%s__%s/%u", prefix, s->chain + 4, lk_ip4_format(ntohl(e->ip), b),
			 e->port);
}

/* [ip daddr D] ip saddr != pod CIDR: set the masquerade mark. */
void nft_mark_rule(struct batch *b, const struct proxy_plan *p, const char *chain,
		   const uint32_t *daddr)
{
	struct nftnl_rule *r = nft_rule_new(chain);
	if (daddr) {
		E_DADDR(r, NFT_REG_1);
		nft_e_cmp(r, NFT_CMP_EQ, daddr, 4);
	}
	E_SADDR(r, NFT_REG_1);
	nft_e_bitwise(r, p->pod_mask, 0);
	nft_e_cmp(r, NFT_CMP_NEQ, &p->pod_net, 4);
	nft_e_meta(r, NFT_META_MARK, NFT_REG_1);
	nft_e_bitwise(r, ~PROXY_MASQ_MARK, PROXY_MASQ_MARK);
	nft_e_meta_set(r, NFT_META_MARK, NFT_REG_1);
	nft_b_rule(b, r);
}

/* In chain: DNAT to one of eps[n] at random. */
static void dnat_map_rule(struct batch *b, const struct proxy_svc *s, const char *chain,
			  const struct proxy_ep *eps, size_t n)
{
	struct nftnl_rule *r = nft_rule_new(chain);
	struct nftnl_set *m;
	struct nftnl_expr *e;
	struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(64);
	uint32_t id = ++b->set_id;

	m = nft_set_new("__map%d", NFT_SET_ANONYMOUS | NFT_SET_CONSTANT | NFT_SET_MAP, T_INTEGER, 4);
	nftnl_set_set_u32(m, NFTNL_SET_ID, id);
	nftnl_set_set_u32(m, NFTNL_SET_DATA_TYPE, CONCAT2(T_IPADDR, T_SERVICE));
	nftnl_set_set_u32(m, NFTNL_SET_DATA_LEN, 8);
	nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, 1);
	nftnl_set_set_data(m, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud),
			   nftnl_udata_buf_len(ud));
	nftnl_udata_buf_free(ud);
	nft_b_set(b, NFT_MSG_NEWSET, m);
	for (size_t i = 0; i < n; i++) {
		uint32_t k = (uint32_t)i;
		uint8_t d[8] = { 0 };
		uint16_t port = htons(eps[i].port);
		memcpy(d, &eps[i].ip, 4);
		memcpy(d + 4, &port, 2);
		nft_elem_key(m, &k, 4, 0, NULL, d, 8);
	}
	nft_b_elems(b, NFT_MSG_NEWSETELEM, m, n);
	nftnl_set_free(m);

	nft_e_l4proto(r, NFT_REG_1);
	nft_e_cmp(r, NFT_CMP_EQ, &s->proto, 1);
	e = nft_ex(r, "numgen");
	nftnl_expr_set_u32(e, NFTNL_EXPR_NG_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NG_MODULUS, (uint32_t)n);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NG_TYPE, NFT_NG_RANDOM);
	nft_e_lookup(r, NFT_REG_1, NFT_REG_1, "__map%d", id);
	nft_e_dnat(r);
	nft_b_rule(b, r);
}

/* In chain: clients seen within the timeout go back to their endpoint
 * (of eps[n]); others pick one at random. The ep- chains and aff- sets are
 * the service's, made for s->aeps (eps is s->eps or s->leps). */
static void affinity_dispatch(struct batch *b, const struct proxy_svc *s, const char *chain,
			      const struct proxy_ep *eps, size_t n)
{
	struct nftnl_rule *r;
	struct nftnl_expr *e;
	struct nftnl_set *m;
	uint32_t id = ++b->set_id;

	for (size_t i = 0; i < n; i++) {
		char *set = ep_name(s, &eps[i], "aff-"), *ch = ep_name(s, &eps[i], "ep-");
		r = nft_rule_new(chain);
		E_SADDR(r, NFT_REG_1);
		nft_e_lookup(r, NFT_REG_1, -1, set, 0);
		nft_e_verdict(r, NFT_GOTO, ch);
		nft_b_rule(b, r);
		free(set);
		free(ch);
	}
	m = nft_set_new("__map%d", NFT_SET_ANONYMOUS | NFT_SET_CONSTANT | NFT_SET_MAP, T_INTEGER, 4);
	nftnl_set_set_u32(m, NFTNL_SET_ID, id);
	nftnl_set_set_u32(m, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
	nft_b_set(b, NFT_MSG_NEWSET, m);
	for (size_t i = 0; i < n; i++) {
		uint32_t k = (uint32_t)i;
		char *ch = ep_name(s, &eps[i], "ep-");
		nft_elem_key(m, &k, 4, NFT_GOTO, ch, NULL, 0);
		free(ch);
	}
	nft_b_elems(b, NFT_MSG_NEWSETELEM, m, n);
	nftnl_set_free(m);
	r = nft_rule_new(chain);
	e = nft_ex(r, "numgen");
	nftnl_expr_set_u32(e, NFTNL_EXPR_NG_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NG_MODULUS, (uint32_t)n);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NG_TYPE, NFT_NG_RANDOM);
	nft_e_lookup(r, NFT_REG_1, NFT_REG_VERDICT, "__map%d", id);
	nft_b_rule(b, r);
}

/* A ClientIP affinity set of s (for endpoint e) */
static void aff_set(struct batch *b, const struct proxy_svc *s, const struct proxy_ep *e)
{
	char *set = ep_name(s, e, "aff-");
	struct nftnl_set *as = nft_set_new(set, NFT_SET_TIMEOUT | NFT_SET_EVAL, T_IPADDR, 4);
	nftnl_set_set_u64(as, NFTNL_SET_TIMEOUT, (uint64_t)s->affinity * 1000);
	nft_b_set(b, NFT_MSG_NEWSET, as);
	nftnl_set_free(as);
	free(set);
}

/* The svc- dispatch and the ep- chains' rules: every endpoint of aeps
 * (the local- chain may send to a terminating local one s->eps lacks). */
static void affinity_rules(struct batch *b, const struct proxy_svc *s)
{
	struct nftnl_rule *r;
	struct nftnl_expr *e;

	affinity_dispatch(b, s, s->chain, s->eps, s->neps);
	for (size_t i = 0; i < s->naeps; i++) {
		char *set = ep_name(s, &s->aeps[i], "aff-"), *ch = ep_name(s, &s->aeps[i], "ep-");
		uint16_t port = htons(s->aeps[i].port);
		r = nft_rule_new(ch);
		E_SADDR(r, NFT_REG_1);
		e = nft_ex(r, "dynset");
		nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_UPDATE);
		nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, set);
		nft_b_rule(b, r);
		r = nft_rule_new(ch);
		nft_e_l4proto(r, NFT_REG_1);
		nft_e_cmp(r, NFT_CMP_EQ, &s->proto, 1);
		nft_e_imm(r, NFT_REG_1, &s->aeps[i].ip, 4);
		nft_e_imm(r, NFT_REG32_01, &port, 2);
		nft_e_dnat(r);
		nft_b_rule(b, r);
		free(set);
		free(ch);
	}
}

/* fib saddr type local (the packet comes from this host) into NFT_REG_1 */
static void e_fib_saddr_local(struct nftnl_rule *r)
{
	uint32_t local = 2;     /* RTN_LOCAL, host order */
	struct nftnl_expr *e = nft_ex(r, "fib");
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_SADDR);
	nft_e_cmp(r, NFT_CMP_EQ, &local, 4);
}

/* Traffic policies (see proxy.h): the local- chain (node-local endpoints;
 * masquerade off-cluster traffic to the cluster IP when iTP is Local) and
 * the ext- chain (eTP Local: pods and the host short-circuit to the svc-
 * chain, everyone else keeps its source address and goes to local-, or is
 * dropped without local endpoints). */
void nft_policy_rules(struct batch *b, const struct proxy_plan *p, const struct proxy_svc *s)
{
	struct nftnl_rule *r;

	if (s->lchain) {
		if (s->int_local)
			nft_mark_rule(b, p, s->lchain, &s->vips[0]);
		if (s->affinity)
			affinity_dispatch(b, s, s->lchain, s->leps, s->nleps);
		else
			dnat_map_rule(b, s, s->lchain, s->leps, s->nleps);
	}
	if (!s->xchain)
		return;
	r = nft_rule_new(s->xchain);
	E_SADDR(r, NFT_REG_1);
	nft_e_bitwise(r, p->pod_mask, 0);
	nft_e_cmp(r, NFT_CMP_EQ, &p->pod_net, 4);
	nft_e_verdict(r, NFT_GOTO, s->chain);
	nft_b_rule(b, r);
	r = nft_rule_new(s->xchain);
	e_fib_saddr_local(r);
	nft_e_meta(r, NFT_META_MARK, NFT_REG_1);
	nft_e_bitwise(r, ~PROXY_MASQ_MARK, PROXY_MASQ_MARK);
	nft_e_meta_set(r, NFT_META_MARK, NFT_REG_1);
	nft_b_rule(b, r);
	r = nft_rule_new(s->xchain);
	e_fib_saddr_local(r);
	nft_e_verdict(r, NFT_GOTO, s->chain);
	nft_b_rule(b, r);
	r = nft_rule_new(s->xchain);
	if (s->lchain)
		nft_e_verdict(r, NFT_GOTO, s->lchain);
	else
		nft_e_verdict(r, NF_DROP, NULL);
	nft_b_rule(b, r);
}

static bool has_ep_chain(const struct proxy_svc *s, const struct proxy_ep *e)
{
	if (!s || !s->affinity)
		return false;
	for (size_t i = 0; i < s->naeps; i++)
		if (s->aeps[i].ip == e->ip && s->aeps[i].port == e->port)
			return true;
	return false;
}

/* Chains (and affinity sets) of n, created if missing. */
void nft_svc_chains(struct batch *b, const struct proxy_svc *n)
{
	if (!n || !n->neps)
		return;
	nft_b_chain(b, NFT_MSG_NEWCHAIN, n->chain, -1, 0, NULL);
	if (n->lchain)
		nft_b_chain(b, NFT_MSG_NEWCHAIN, n->lchain, -1, 0, NULL);
	if (n->xchain)
		nft_b_chain(b, NFT_MSG_NEWCHAIN, n->xchain, -1, 0, NULL);
	for (size_t i = 0; n->affinity && i < n->naeps; i++) {
		char *ch = ep_name(n, &n->aeps[i], "ep-");
		nft_b_chain(b, NFT_MSG_NEWCHAIN, ch, -1, 0, NULL);
		free(ch);
	}
}

void nft_svc_rules(struct batch *b, const struct proxy_plan *p, const struct proxy_svc *o,
		   const struct proxy_svc *n)
{
	if (!n || !n->neps)
		return;
	nft_mark_rule(b, p, n->chain, NULL);
	if (!n->affinity) {
		dnat_map_rule(b, n, n->chain, n->eps, n->neps);
		nft_policy_rules(b, p, n);
		return;
	}
	/* new affinity sets only for endpoints o did not have (o NULL: all):
	 * keep the clients of the others where they are */
	for (size_t i = 0; i < n->naeps; i++)
		if (!has_ep_chain(o, &n->aeps[i]) || o->affinity != n->affinity)
			aff_set(b, n, &n->aeps[i]);
	affinity_rules(b, n);
	nft_policy_rules(b, p, n);
}

/* Remove what o had and n does not; flush what both have. */
void nft_svc_remove(struct batch *b, const struct proxy_svc *o, const struct proxy_svc *n)
{
	if (!o || !o->neps)
		return;
	if (o->xchain)
		nft_b_flush(b, o->xchain);
	if (o->lchain)
		nft_b_flush(b, o->lchain);
	if (o->xchain && !(n && n->xchain))
		nft_b_chain(b, NFT_MSG_DELCHAIN, o->xchain, -1, 0, NULL);
	if (o->lchain && !(n && n->lchain))
		nft_b_chain(b, NFT_MSG_DELCHAIN, o->lchain, -1, 0, NULL);
	nft_b_flush(b, o->chain);
	for (size_t i = 0; o->affinity && i < o->naeps; i++) {
		char *ch = ep_name(o, &o->aeps[i], "ep-");
		nft_b_flush(b, ch);
		free(ch);
	}
	for (size_t i = 0; o->affinity && i < o->naeps; i++) {
		bool keep = n && n->neps && has_ep_chain(n, &o->aeps[i]) && n->affinity == o->affinity;
		char *ch, *set;
		if (keep)
			continue;
		ch = ep_name(o, &o->aeps[i], "ep-");
		set = ep_name(o, &o->aeps[i], "aff-");
		nft_b_chain(b, NFT_MSG_DELCHAIN, ch, -1, 0, NULL);
		struct nftnl_set *as = nft_set_new(set, 0, T_IPADDR, 4);
		nft_b_set(b, NFT_MSG_DELSET, as);
		nftnl_set_free(as);
		free(ch);
		free(set);
	}
	if (!n || !n->neps)
		nft_b_chain(b, NFT_MSG_DELCHAIN, o->chain, -1, 0, NULL);
}
