/*
 * proxy/route.c: the kernel state around the table, over rtnetlink and
 * ctnetlink (common/netlink.h; no ip, no conntrack binaries):
 *   - the service CIDR routed via the bridge, so host traffic to a cluster
 *     IP has a route before the output NAT chain rewrites it;
 *   - UDP conntrack entries of removed endpoints deleted (a UDP "flow"
 *     would otherwise keep going to the old endpoint until it times out).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ip.h"
#include "common/netlink.h"
#include "common/util.h"
#include "proxy/proxy.h"

int proxy_route_service_cidr(const char *cidr, const char *dev, bool del,
			     struct lk_err *err)
{
	struct lk_nl *nl;
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	struct lk_cidr dst;
	unsigned idx = if_nametoindex(dev);
	int rc;

	if (lk_cidr_parse(cidr, LK_CIDR_ADDR, &dst, NULL) < 0 || dst.ip.family != AF_INET)
		return lk_error(err, LK_EBADREQUEST, "bad service CIDR '%s'", cidr);
	if (!idx)
		return lk_error(err, LK_EUNAVAILABLE, "no device '%s' yet", dev);
	if (!(nl = lk_nl_open(NETLINK_ROUTE, 0, err)))
		return -1;
	nlh = lk_nl_msg(nl, del ? RTM_DELROUTE : RTM_NEWROUTE,
			NLM_F_ACK | (del ? 0 : NLM_F_CREATE | NLM_F_REPLACE));
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = (unsigned char)dst.bits;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	lk_nl_put_ip(nlh, RTA_DST, &dst.ip);
	mnl_attr_put_u32(nlh, RTA_OIF, idx);
	rc = lk_nl_talk(nl, nlh, NULL, NULL);
	lk_nl_close(nl);
	if (rc < 0)
		return lk_nl_error(err, rc, "cannot %s route '%s' dev %s", del ? "delete" : "add",
				   cidr, dev);
	return 0;
}

/* ---- conntrack ---- */

struct ctwalk {
	uint32_t ip;
	uint16_t port;
	const uint32_t *keep;
	size_t nkeep;
	char **victims;         /* copies of CTA_TUPLE_ORIG attributes */
	size_t n;
};

static const struct nlattr *nested(const struct nlattr *a, uint16_t type)
{
	const struct nlattr *x;
	if (!a)
		return NULL;
	mnl_attr_for_each_nested(x, a)
		if (mnl_attr_get_type(x) == type)
			return x;
	return NULL;
}

static int ct_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct ctwalk *w = arg;
	const struct nlattr *a, *orig = NULL, *reply = NULL, *x;
	uint32_t dst = 0, rsrc = 0;
	uint16_t dport = 0;
	uint8_t proto = 0;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) == CTA_TUPLE_ORIG)
			orig = a;
		else if (mnl_attr_get_type(a) == CTA_TUPLE_REPLY)
			reply = a;
	}
	if (!orig || !reply)
		return MNL_CB_OK;
	if ((x = nested(nested(orig, CTA_TUPLE_IP), CTA_IP_V4_DST)))
		dst = mnl_attr_get_u32(x);
	if ((x = nested(nested(orig, CTA_TUPLE_PROTO), CTA_PROTO_NUM)))
		proto = mnl_attr_get_u8(x);
	if ((x = nested(nested(orig, CTA_TUPLE_PROTO), CTA_PROTO_DST_PORT)))
		dport = ntohs(mnl_attr_get_u16(x));
	if ((x = nested(nested(reply, CTA_TUPLE_IP), CTA_IP_V4_SRC)))
		rsrc = mnl_attr_get_u32(x);
	if (proto != IPPROTO_UDP || (w->ip && dst != w->ip) || (w->port && dport != w->port))
		return MNL_CB_OK;
	if (rsrc == dst)
		return MNL_CB_OK;       /* not NATed */
	for (size_t i = 0; i < w->nkeep; i++)
		if (w->keep[i] == rsrc)
			return MNL_CB_OK;
	w->victims = xrealloc(w->victims, (w->n + 1) * sizeof(*w->victims));
	w->victims[w->n] = xmalloc(orig->nla_len);
	memcpy(w->victims[w->n++], orig, orig->nla_len);
	return MNL_CB_OK;
}

/* A ctnetlink request header for AF_INET in nl's buffer. */
static struct nlmsghdr *ct_msg(struct lk_nl *nl, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = lk_nl_msg(nl, (NFNL_SUBSYS_CTNETLINK << 8) | type, flags);
	struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->version = NFNETLINK_V0;
	return nlh;
}

int proxy_conntrack_flush_udp(uint32_t ip, uint16_t port, const uint32_t *keep,
			      size_t nkeep, struct lk_err *err)
{
	struct ctwalk w = { ip, port, keep, nkeep, NULL, 0 };
	struct lk_nl *nl = lk_nl_open(NETLINK_NETFILTER, 0, NULL);
	struct nlmsghdr *nlh;
	int rc = nl ? 0 : -errno;

	if (nl)
		rc = lk_nl_talk(nl, ct_msg(nl, IPCTNL_MSG_CT_GET, NLM_F_DUMP), ct_cb, &w);
	for (size_t i = 0; !rc && i < w.n; i++) {
		struct nlattr *o = (struct nlattr *)w.victims[i];
		nlh = ct_msg(nl, IPCTNL_MSG_CT_DELETE, NLM_F_ACK);
		mnl_attr_put(nlh, CTA_TUPLE_ORIG, o->nla_len - MNL_ATTR_HDRLEN,
			     (char *)o + MNL_ATTR_HDRLEN);
		/* the nested flag is kept by the kernel's parser either way;
		 * a flow gone meanwhile (ENOENT) is what we wanted */
		lk_nl_talk(nl, nlh, NULL, NULL);
	}
	if (rc < 0)
		lk_error(err, LK_EINTERNAL, "conntrack: %s", strerror(-rc));
	for (size_t i = 0; i < w.n; i++)
		free(w.victims[i]);
	free(w.victims);
	lk_nl_close(nl);
	return rc < 0 ? -1 : 0;
}
