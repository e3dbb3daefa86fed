/*
 * common/netlink.h: a netlink socket and the request/ack exchange, over
 * libmnl, for every netlink user in the tree (issue 10 item 5): the node
 * agent's rtnetlink requests (server/node/nl.c), the proxy's service route
 * and conntrack cleanup (proxy/route.c) and its nftables batches
 * (proxy/nft.c). Message building stays with the callers (libmnl's
 * mnl_attr_put*, libnftnl); this is the transport under them.
 *
 * A struct lk_nl owns the socket, its port id, a sequence counter (seeded
 * from the clock, one number taken per message) and one buffer that holds
 * the message being built (lk_nl_msg) and then the replies. Replies are
 * checked for sequence number and port id (mnl_cb_run), as dnsmasq checks
 * them. A socket works in the network namespace it was opened in, even
 * after its process moved to another one.
 *
 * Errors: lk_nl_talk and friends return 0 or -errno, the kernel's own for a
 * refused request (-EEXIST, -ENODEV, -ENOENT: callers decide which are
 * fine); lk_nl_error words one into a struct lk_err. Blocking: each
 * request is one short round trip to the kernel. Not thread-safe; one
 * socket per thread of use.
 */
#ifndef LK_NETLINK_H
#define LK_NETLINK_H

#include <stddef.h>
#include <stdint.h>

#include <libmnl/libmnl.h>

#include "common/err.h"
#include "common/ip.h"

#define LK_NL_BUF 32768         /* a request, or one datagram of a dump */

struct lk_nl;

/* A socket on bus (NETLINK_ROUTE, NETLINK_NETFILTER, ...), subscribed to
 * the multicast groups (0: none), close-on-exec; NULL with err filled
 * ("netlink: <strerror>") and errno set. */
struct lk_nl *lk_nl_open(int bus, unsigned groups, struct lk_err *err);
void lk_nl_close(struct lk_nl *nl);     /* NULL-safe */
int lk_nl_fd(const struct lk_nl *nl);   /* to poll, or for setsockopt */
uint32_t lk_nl_portid(const struct lk_nl *nl);
/* The next sequence number, taken (batches number their messages). */
uint32_t lk_nl_seq(struct lk_nl *nl);

/* A request header in nl's buffer: type, NLM_F_REQUEST | flags, the next
 * sequence number. Valid until the next lk_nl_* call on nl; append the
 * family header with mnl_nlmsg_put_extra_header and attributes with
 * mnl_attr_put* or lk_nl_put_ip. */
struct nlmsghdr *lk_nl_msg(struct lk_nl *nl, uint16_t type, uint16_t flags);
/* An address attribute: 4 or 16 bytes, by ip's family. */
void lk_nl_put_ip(struct nlmsghdr *nlh, uint16_t type, const struct lk_ip *ip);

/* Send nlh (built anywhere, lk_nl_msg's buffer included) and read the
 * replies into nl's buffer until the ACK, the end of a dump or an error:
 * cb (may be NULL) runs for each reply that is not an ACK. 0, or -errno:
 * the kernel's errno from an error ACK, or the socket's. */
int lk_nl_talk(struct lk_nl *nl, const struct nlmsghdr *nlh, mnl_cb_t cb, void *data);
/* Send len bytes as they are (an nfnetlink batch); 0 or -errno. */
int lk_nl_send(struct lk_nl *nl, const void *buf, size_t len);
/* Read one datagram of notifications (a monitor socket) and run cb on each
 * message; the callbacks' result (MNL_CB_*), or -errno. */
int lk_nl_read(struct lk_nl *nl, mnl_cb_t cb, void *data);

/* Fill err with "netlink: <fmt ...>: <strerror(-rc)>" (LK_EINTERNAL) and
 * return -1. */
int lk_nl_error(struct lk_err *err, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
