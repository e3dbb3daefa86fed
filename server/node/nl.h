/*
 * server/node/nl.h: the few rtnetlink requests the node agent needs, over
 * common/netlink.h (a struct lk_nl socket, closed with lk_nl_close). Each
 * request waits for the kernel's ACK (replies are checked for sequence
 * number and port id) and fails with the kernel's errno, worded into err
 * ("netlink: cannot add address '10.244.0.1': ..."). A socket works in the
 * network namespace it was opened in, even after its process moved to
 * another one: the sandbox uses that to wire a veth from both sides.
 *
 * Blocking, but each call is one short round trip to the kernel.
 */
#ifndef LK_NODE_NL_H
#define LK_NODE_NL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "common/ip.h"
#include "common/netlink.h"

/* An rtnetlink socket (lk_nl_close closes it). */
struct lk_nl *nl_open(struct lk_err *err);

/* Interface index by name in the socket's namespace; 0 when absent. */
int nl_link_index(struct lk_nl *nl, const char *name);
/* A bridge with a fixed MAC (so it does not change as ports come and go);
 * an existing one is kept. Returns its index or -1. */
int nl_bridge_ensure(struct lk_nl *nl, const char *name, struct lk_err *err);
int nl_link_up(struct lk_nl *nl, int ifindex, struct lk_err *err);
/* An address (IPv4 or IPv6) with prefix; an existing one is fine. */
int nl_addr_add(struct lk_nl *nl, int ifindex, const struct lk_ip *ip, int prefix,
		struct lk_err *err);
/* A veth pair: `host` here, attached to bridge `master`, and `peer` in the
 * namespace of peer_nsfd (an open /proc/PID/ns/net). */
int nl_veth_add(struct lk_nl *nl, const char *host, const char *peer, int peer_nsfd,
		int master, struct lk_err *err);
int nl_bridge_port_hairpin(struct lk_nl *nl, int ifindex, struct lk_err *err);
/* The default route of gw's family via gw on ifindex. */
int nl_route_default(struct lk_nl *nl, int ifindex, const struct lk_ip *gw, struct lk_err *err);
/* Delete a link by name; absent is fine. */
int nl_link_del(struct lk_nl *nl, const char *name, struct lk_err *err);
/* Names of links whose name starts with prefix: fn per name. */
int nl_links(struct lk_nl *nl, const char *prefix, void (*fn)(void *arg, const char *name),
	     void *arg, struct lk_err *err);
/* A socket subscribed to link changes (poll lk_nl_fd); nl_link_gone()
 * reads one batch and says whether `name` was deleted (or can no longer be
 * found). */
struct lk_nl *nl_open_monitor(struct lk_err *err);
bool nl_link_gone(struct lk_nl *mon, const char *name);

#endif
