/*
 * proxy/nft_internal.h: shared by nft.c (batches, transport, the fixed part,
 * the ops) and nft_svc.c (the objects of one service port). Not for use
 * outside proxy/nft*.c.
 */
#ifndef LK_PROXY_NFT_INTERNAL_H
#define LK_PROXY_NFT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>

#include "common/netlink.h"
#include "proxy/proxy.h"

/* nft's datatype numbers, so `nft list` prints keys readably. */
enum { T_VERDICT = 1, T_INTEGER = 4, T_IPADDR = 7, T_PROTO = 12, T_SERVICE = 13 };
#define CONCAT2(a, b) (((a) << 6) | (b))
#define CONCAT3(a, b, c) (((((a) << 6) | (b)) << 6) | (c))

struct nftbe {
	struct lk_nl *nl;       /* NETLINK_NETFILTER, NETLINK_CAP_ACK */
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

/* Elements of the named sets, built in chunks so no message is huge. */
struct elemset {
	const char *name;
	uint16_t type;
	struct nftnl_set *s;
	size_t n;
};

#define E_SADDR(r, reg) nft_e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, reg)
#define E_DADDR(r, reg) nft_e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 16, 4, reg)

/* ---- message builders (nft.c) ---- */
void nft_b_chain(struct batch *b, uint16_t type, const char *name, int hook, int prio,
		 const char *ctype);
void nft_b_flush(struct batch *b, const char *chain);
struct nftnl_rule *nft_rule_new(const char *chain);
void nft_b_rule(struct batch *b, struct nftnl_rule *r);
struct nftnl_expr *nft_ex(struct nftnl_rule *r, const char *name);
void nft_e_payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len, uint32_t dreg);
void nft_e_meta(struct nftnl_rule *r, uint32_t key, uint32_t dreg);
void nft_e_meta_set(struct nftnl_rule *r, uint32_t key, uint32_t sreg);
void nft_e_cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len);
void nft_e_bitwise(struct nftnl_rule *r, uint32_t mask, uint32_t xor);
void nft_e_lookup(struct nftnl_rule *r, uint32_t sreg, int dreg, const char *set, uint32_t id);
void nft_e_verdict(struct nftnl_rule *r, int verdict, const char *chain);
void nft_e_imm(struct nftnl_rule *r, uint32_t dreg, const void *data, uint32_t len);
void nft_e_dnat(struct nftnl_rule *r);
void nft_e_l4proto(struct nftnl_rule *r, uint32_t dreg);
struct nftnl_set *nft_set_new(const char *name, uint32_t flags, uint32_t ktype, uint32_t klen);
void nft_b_set(struct batch *b, uint16_t type, struct nftnl_set *s);
void nft_b_elems(struct batch *b, uint16_t type, struct nftnl_set *s, size_t n);
void nft_elem_key(struct nftnl_set *s, const void *key, uint32_t klen, int verdict,
		  const char *chain, const void *data, uint32_t dlen);
struct nftnl_set *nft_es_get(struct batch *b, struct elemset *es);

/* ---- one service port (nft_svc.c) ---- */
void nft_svc_elems(struct batch *b, struct elemset *ips, struct elemset *nps,
		   const struct proxy_svc *s);
void nft_mark_rule(struct batch *b, const struct proxy_plan *p, const char *chain,
		   const uint32_t *daddr);
void nft_policy_rules(struct batch *b, const struct proxy_plan *p, const struct proxy_svc *s);
void nft_svc_chains(struct batch *b, const struct proxy_svc *n);
void nft_svc_rules(struct batch *b, const struct proxy_plan *p, const struct proxy_svc *o,
		   const struct proxy_svc *n);
void nft_svc_remove(struct batch *b, const struct proxy_svc *o, const struct proxy_svc *n);

#endif
