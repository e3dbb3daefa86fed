/*
 * server/node/nl.c: rtnetlink requests over common/netlink.h; see nl.h.
 * Message building follows iproute2 (ip link add type bridge|veth, ip addr
 * add, ip route add default, bridge link set hairpin on).
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "common/util.h"
#include "server/node/nl.h"

struct lk_nl *nl_open(struct lk_err *err)
{
	return lk_nl_open(NETLINK_ROUTE, 0, err);
}

struct lk_nl *nl_open_monitor(struct lk_err *err)
{
	return lk_nl_open(NETLINK_ROUTE, RTMGRP_LINK, err);
}

static int fail(struct lk_err *err, const char *what, const char *name, int rc)
{
	return lk_nl_error(err, rc, "%s '%s'", what, name);
}

static int index_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	*(int *)data = ifi->ifi_index;
	return MNL_CB_OK;
}

int nl_link_index(struct lk_nl *nl, const char *name)
{
	struct nlmsghdr *nlh = lk_nl_msg(nl, RTM_GETLINK, NLM_F_ACK);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	int idx = 0;
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (lk_nl_talk(nl, nlh, index_cb, &idx) < 0)
		return 0;
	return idx;
}

int nl_bridge_ensure(struct lk_nl *nl, const char *name, struct lk_err *err)
{
	struct nlmsghdr *nlh = lk_nl_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	uint8_t mac[6];
	uint32_t r = lk_random_u32(), r2 = lk_random_u32();
	struct nlattr *li;
	int rc, idx;

	/* locally administered, unicast: 02:xx:xx:xx:xx:xx */
	mac[0] = 0x02;
	memcpy(mac + 1, &r, 4);
	mac[5] = (uint8_t)r2;
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put(nlh, IFLA_ADDRESS, sizeof(mac), mac);
	li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	mnl_attr_nest_end(nlh, li);
	rc = lk_nl_talk(nl, nlh, NULL, NULL);
	if (rc < 0 && rc != -EEXIST)
		return fail(err, "cannot create bridge", name, rc);
	idx = nl_link_index(nl, name);
	if (!idx)
		return lk_error(err, LK_EINTERNAL, "netlink: bridge '%s' not found", name);
	return idx;
}

int nl_link_up(struct lk_nl *nl, int ifindex, struct lk_err *err)
{
	struct nlmsghdr *nlh = lk_nl_msg(nl, RTM_NEWLINK, NLM_F_ACK);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	char name[32];
	int rc;
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = IFF_UP;
	rc = lk_nl_talk(nl, nlh, NULL, NULL);
	snprintf(name, sizeof(name), "#%d", ifindex);
	return rc < 0 ? fail(err, "cannot set up link", name, rc) : 0;
}

int nl_addr_add(struct lk_nl *nl, int ifindex, const struct lk_ip *ip, int prefix,
		struct lk_err *err)
{
	struct nlmsghdr *nlh = lk_nl_msg(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	char s[LK_IP_STRLEN];
	int rc;
	ifa->ifa_family = (uint8_t)ip->family;
	ifa->ifa_prefixlen = (uint8_t)prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned)ifindex;
	lk_nl_put_ip(nlh, IFA_LOCAL, ip);
	lk_nl_put_ip(nlh, IFA_ADDRESS, ip);
	rc = lk_nl_talk(nl, nlh, NULL, NULL);
	if (rc < 0 && rc != -EEXIST)
		return fail(err, "cannot add address", lk_ip_format(ip, s), rc);
	return 0;
}

static int veth_once(struct lk_nl *nl, const char *host, const char *peer, int nsfd,
		     int master)
{
	struct nlmsghdr *nlh = lk_nl_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi)), *pifi;
	struct nlattr *li, *data, *pe;

	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, host);
	if (master > 0)
		mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
	li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	pe = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	pifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*pifi));
	pifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	if (nsfd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)nsfd);
	mnl_attr_nest_end(nlh, pe);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, li);
	return lk_nl_talk(nl, nlh, NULL, NULL);
}

int nl_veth_add(struct lk_nl *nl, const char *host, const char *peer, int peer_nsfd,
		int master, struct lk_err *err)
{
	int rc = veth_once(nl, host, peer, peer_nsfd, master);
	if (rc == -EEXIST) {
		/* left over from a pod whose sandbox died: replace it */
		nl_link_del(nl, host, NULL);
		rc = veth_once(nl, host, peer, peer_nsfd, master);
	}
	return rc < 0 ? fail(err, "cannot create veth", host, rc) : 0;
}

int nl_bridge_port_hairpin(struct lk_nl *nl, int ifindex, struct lk_err *err)
{
	struct nlmsghdr *nlh = lk_nl_msg(nl, RTM_SETLINK, NLM_F_ACK);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	struct nlattr *pi;
	char name[32];
	int rc;
	ifi->ifi_family = AF_BRIDGE;
	ifi->ifi_index = ifindex;
	pi = mnl_attr_nest_start(nlh, IFLA_PROTINFO);
	mnl_attr_put_u8(nlh, IFLA_BRPORT_MODE, 1);
	mnl_attr_nest_end(nlh, pi);
	rc = lk_nl_talk(nl, nlh, NULL, NULL);
	snprintf(name, sizeof(name), "#%d", ifindex);
	return rc < 0 ? fail(err, "cannot set hairpin on", name, rc) : 0;
}

int nl_route_default(struct lk_nl *nl, int ifindex, const struct lk_ip *gw, struct lk_err *err)
{
	struct nlmsghdr *nlh = lk_nl_msg(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	int rc;
	rtm->rtm_family = (uint8_t)gw->family;
	rtm->rtm_dst_len = 0;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	lk_nl_put_ip(nlh, RTA_GATEWAY, gw);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	rc = lk_nl_talk(nl, nlh, NULL, NULL);
	return rc < 0 && rc != -EEXIST ? fail(err, "cannot add route", "default", rc) : 0;
}

int nl_link_del(struct lk_nl *nl, const char *name, struct lk_err *err)
{
	struct nlmsghdr *nlh = lk_nl_msg(nl, RTM_DELLINK, NLM_F_ACK);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	int rc;
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	rc = lk_nl_talk(nl, nlh, NULL, NULL);
	if (rc == -ENODEV)
		rc = 0;
	return rc < 0 ? fail(err, "cannot delete link", name, rc) : 0;
}

struct name_walk {
	const char *prefix;
	void (*fn)(void *arg, const char *name);
	void *arg;
};

static int name_attr(const struct nlattr *a, void *data)
{
	const char **name = data;
	if (mnl_attr_get_type(a) == IFLA_IFNAME && mnl_attr_validate(a, MNL_TYPE_STRING) >= 0)
		*name = mnl_attr_get_str(a);
	return MNL_CB_OK;
}

static int links_cb(const struct nlmsghdr *nlh, void *data)
{
	struct name_walk *w = data;
	const char *name = NULL;
	mnl_attr_parse(nlh, sizeof(struct ifinfomsg), name_attr, &name);
	if (name && str_has_prefix(name, w->prefix))
		w->fn(w->arg, name);
	return MNL_CB_OK;
}

int nl_links(struct lk_nl *nl, const char *prefix, void (*fn)(void *arg, const char *name),
	     void *arg, struct lk_err *err)
{
	struct nlmsghdr *nlh = lk_nl_msg(nl, RTM_GETLINK, NLM_F_DUMP);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	struct name_walk w = { prefix, fn, arg };
	int rc;
	ifi->ifi_family = AF_UNSPEC;
	rc = lk_nl_talk(nl, nlh, links_cb, &w);
	return rc < 0 ? fail(err, "cannot list links", prefix, rc) : 0;
}

struct gone {
	const char *name;
	bool gone;
};

static int gone_cb(const struct nlmsghdr *nlh, void *data)
{
	struct gone *g = data;
	const char *name = NULL;
	if (nlh->nlmsg_type != RTM_DELLINK)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(struct ifinfomsg), name_attr, &name);
	if (name && !strcmp(name, g->name))
		g->gone = true;
	return MNL_CB_OK;
}

bool nl_link_gone(struct lk_nl *mon, const char *name)
{
	struct gone g = { name, false };
	lk_nl_read(mon, gone_cb, &g);
	if (!g.gone) {
		/* missed messages (ENOBUFS) or none for us: ask */
		struct lk_nl *q = nl_open(NULL);
		if (q) {
			g.gone = nl_link_index(q, name) == 0;
			lk_nl_close(q);
		}
	}
	return g.gone;
}
