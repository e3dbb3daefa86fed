/*
 * proxy/route.c: the kernel state around the table, over rtnetlink and
 * ctnetlink with libmnl (no ip, no conntrack binaries):
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
#include <time.h>

#include <libmnl/libmnl.h>

#include "common/ip.h"
#include "common/util.h"
#include "proxy/proxy.h"

static int talk(int bus, struct nlmsghdr *nlh, char **err)
{
	char buf[32768];
	struct mnl_socket *nl = mnl_socket_open(bus);
	int n, rc = -1;
	uint32_t portid;

	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	portid = mnl_socket_get_portid(nl);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto out;
	n = (int)mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0)
		goto out;
	rc = mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, portid, NULL, NULL) < 0 ? -1 : 0;
out:
	if (rc < 0)
		*err = xasprintf("netlink: %s", strerror(errno));
	if (nl)
		mnl_socket_close(nl);
	return rc;
}

int proxy_route_service_cidr(const char *cidr, const char *dev, bool del, char **err)
{
	char buf[32768];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;
	struct lk_cidr dst;
	unsigned idx = if_nametoindex(dev);

	if (lk_cidr_parse(cidr, LK_CIDR_ADDR, &dst, NULL) < 0 || dst.ip.family != AF_INET) {
		*err = xasprintf("bad service CIDR '%s'", cidr);
		return -1;
	}
	if (!idx) {
		*err = xasprintf("no device '%s' yet", dev);
		return -1;
	}
	nlh->nlmsg_type = del ? RTM_DELROUTE : RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (del ? 0 : NLM_F_CREATE | NLM_F_REPLACE);
	nlh->nlmsg_seq = (uint32_t)time(NULL);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = (unsigned char)dst.bits;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_DST, 4, dst.ip.a);
	mnl_attr_put_u32(nlh, RTA_OIF, idx);
	return talk(NETLINK_ROUTE, nlh, err);
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

int proxy_conntrack_flush_udp(uint32_t ip, uint16_t port, const uint32_t *keep,
			      size_t nkeep, char **err)
{
	char buf[32768];
	struct ctwalk w = { ip, port, keep, nkeep, NULL, 0 };
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	uint32_t seq = (uint32_t)time(NULL), portid;
	int n, rc = -1;

	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->version = NFNETLINK_V0;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto out;
	while ((n = (int)mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		n = mnl_cb_run(buf, (size_t)n, seq, portid, ct_cb, &w);
		if (n <= 0)
			break;
	}
	if (n < 0)
		goto out;
	for (size_t i = 0; i < w.n; i++) {
		struct nlattr *o = (struct nlattr *)w.victims[i];
		nlh = mnl_nlmsg_put_header(buf);
		nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
		nlh->nlmsg_seq = ++seq;
		nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
		nfg->nfgen_family = AF_INET;
		nfg->version = NFNETLINK_V0;
		mnl_attr_put(nlh, CTA_TUPLE_ORIG, o->nla_len - MNL_ATTR_HDRLEN,
			     (char *)o + MNL_ATTR_HDRLEN);
		/* the nested flag is kept by the kernel's parser either way */
		if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) >= 0 &&
		    (n = (int)mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0)
			mnl_cb_run(buf, (size_t)n, seq, portid, NULL, NULL);
	}
	rc = 0;
out:
	if (rc < 0)
		*err = xasprintf("conntrack: %s", strerror(errno));
	for (size_t i = 0; i < w.n; i++)
		free(w.victims[i]);
	free(w.victims);
	if (nl)
		mnl_socket_close(nl);
	return rc;
}
