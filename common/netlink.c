/*
 * common/netlink.c: the netlink socket and request/ack (see netlink.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "common/netlink.h"
#include "common/util.h"

struct lk_nl {
	struct mnl_socket *s;
	uint32_t portid;
	uint32_t seq;
	char buf[LK_NL_BUF];
};

struct lk_nl *lk_nl_open(int bus, unsigned groups, struct lk_err *err)
{
	struct lk_nl *nl = xcalloc(1, sizeof(*nl));
	nl->s = mnl_socket_open2(bus, SOCK_CLOEXEC);
	if (!nl->s || mnl_socket_bind(nl->s, groups, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;
		lk_error(err, LK_EINTERNAL, "netlink: %s", strerror(e));
		lk_nl_close(nl);
		errno = e;
		return NULL;
	}
	nl->portid = mnl_socket_get_portid(nl->s);
	nl->seq = (uint32_t)time(NULL);
	return nl;
}

void lk_nl_close(struct lk_nl *nl)
{
	if (!nl)
		return;
	if (nl->s)
		mnl_socket_close(nl->s);
	free(nl);
}

int lk_nl_fd(const struct lk_nl *nl)
{
	return mnl_socket_get_fd(nl->s);
}

uint32_t lk_nl_portid(const struct lk_nl *nl)
{
	return nl->portid;
}

uint32_t lk_nl_seq(struct lk_nl *nl)
{
	return nl->seq++;
}

struct nlmsghdr *lk_nl_msg(struct lk_nl *nl, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = lk_nl_seq(nl);
	return nlh;
}

void lk_nl_put_ip(struct nlmsghdr *nlh, uint16_t type, const struct lk_ip *ip)
{
	mnl_attr_put(nlh, type, (size_t)lk_ip_bits(ip) / 8, ip->a);
}

int lk_nl_talk(struct lk_nl *nl, const struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	uint32_t seq = nlh->nlmsg_seq;
	ssize_t n;
	int ret;

	if (mnl_socket_sendto(nl->s, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(nl->s, nl->buf, sizeof(nl->buf));
		if (n < 0)
			return -errno;
		errno = 0;
		ret = mnl_cb_run(nl->buf, (size_t)n, seq, nl->portid, cb, data);
		if (ret < 0)
			return errno ? -errno : -EIO;
	} while (ret > MNL_CB_STOP);
	return 0;
}

int lk_nl_send(struct lk_nl *nl, const void *buf, size_t len)
{
	return mnl_socket_sendto(nl->s, buf, len) < 0 ? -errno : 0;
}

int lk_nl_read(struct lk_nl *nl, mnl_cb_t cb, void *data)
{
	ssize_t n = mnl_socket_recvfrom(nl->s, nl->buf, sizeof(nl->buf));
	if (n < 0)
		return -errno;
	return mnl_cb_run(nl->buf, (size_t)n, 0, 0, cb, data);
}

int lk_nl_error(struct lk_err *err, int rc, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return lk_error(err, LK_EINTERNAL, "netlink: %s: %s", what, strerror(-rc));
}
