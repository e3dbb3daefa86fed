/*
 * server/node/sandbox.c: a pod's sandbox, the process that holds its
 * network, UTS and IPC namespaces (the "pause" container), and the node's
 * bridge.
 *
 *   labkube _sandbox DATADIR UID HOSTNAME net IP/PREFIX GW BRIDGE VETH
 *   labkube _sandbox DATADIR UID HOSTNAME host
 *
 * The applet opens a netlink socket in the node's namespace, unshares, and
 * wires its own veth from both sides (the old socket still talks to the
 * node's namespace): host end on the bridge with hairpin on, eth0 inside
 * with the pod IP, lo up, default route via the bridge. It answers "ok" or
 * "err MESSAGE" on stdout, then sleeps. It exits when eth0 disappears,
 * which happens when the agent deletes the veth or when the node's own
 * namespace is destroyed (a test's throw-away namespace): a pod never
 * outlives its network. Shims watch the sandbox and kill their container
 * when it goes (shim.c).
 *
 * The loop side (sandbox_start/report/stop) spawns it with posix_spawn and
 * reads the answer from a pipe watched by the loop (node.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/if_ether.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/json.h"
#include "server/labkube.h"
#include "server/node/nl.h"
#include "server/node/node.h"
#include "server/node/node_internal.h"

void veth_name(const char *uid, char *buf)
{
	int n = 0;
	memcpy(buf, "lkv", 3);
	for (const char *s = uid; *s && n < 12; s++)
		if (*s != '-')
			buf[3 + n++] = *s;
	buf[3 + n] = 0;
}

/* ---- the applet ---- */

static void answer(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void answer(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(1, buf, (size_t)n) < 0)
		return;
}

struct sb_args {
	struct lk_cidr ip;      /* the pod's address and the pod CIDR's length */
	struct lk_ip gw;
	const char *bridge, *veth;
};

static int wire_host_side(struct lk_nl *node, const struct sb_args *a, int nsfd,
			  struct lk_err *err)
{
	int br = nl_link_index(node, a->bridge), idx;
	if (!br)
		return lk_error(err, LK_EINTERNAL, "bridge '%s' not found", a->bridge);
	if (nl_veth_add(node, a->veth, "eth0", nsfd, br, err) < 0)
		return -1;
	idx = nl_link_index(node, a->veth);
	if (!idx)
		return lk_error(err, LK_EINTERNAL, "veth '%s' vanished", a->veth);
	if (nl_bridge_port_hairpin(node, idx, err) < 0 || nl_link_up(node, idx, err) < 0)
		return -1;
	return 0;
}

/*
 * Announce the pod's address on eth0 (gratuitous ARPs, as the CNI bridge
 * plugin sends): a pod that comes back with its IP has a new MAC, and the
 * node's and other pods' neighbour entries still name the old one until
 * they expire (30 s and more). Best effort: a pod works without it.
 */
static void send_garp(int ifindex, const struct lk_ip *ip)
{
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_ifindex = ifindex,
				  .sll_protocol = htons(ETH_P_ARP), .sll_halen = ETH_ALEN };
	struct ether_arp arp = { 0 };
	struct ifreq ifr = { 0 };
	int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ARP));

	if (fd < 0)
		return;
	if (!if_indextoname((unsigned)ifindex, ifr.ifr_name) ||
	    ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		goto out;
	memset(to.sll_addr, 0xff, ETH_ALEN);
	arp.arp_hrd = htons(ARPHRD_ETHER);
	arp.arp_pro = htons(ETH_P_IP);
	arp.arp_hln = ETH_ALEN;
	arp.arp_pln = 4;
	arp.arp_op = htons(ARPOP_REQUEST);
	memcpy(arp.arp_sha, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	memcpy(arp.arp_spa, ip->a, 4);
	memcpy(arp.arp_tpa, ip->a, 4);
	if (sendto(fd, &arp, sizeof(arp), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		fprintf(stderr, "sandbox: gratuitous ARP: %s\n", strerror(errno));
out:
	close(fd);
}

static int wire_pod_side(const struct sb_args *a, struct lk_err *err)
{
	struct lk_nl *pod = nl_open(err);
	int lo, eth, rc = -1;

	if (!pod)
		return -1;
	lo = nl_link_index(pod, "lo");
	eth = nl_link_index(pod, "eth0");
	if (!lo || !eth) {
		lk_error(err, LK_EINTERNAL, "no lo or eth0 in the pod's namespace");
		goto out;
	}
	if (nl_link_up(pod, lo, err) < 0 || nl_addr_add(pod, eth, &a->ip.ip, a->ip.bits, err) < 0 ||
	    nl_link_up(pod, eth, err) < 0 || nl_route_default(pod, eth, &a->gw, err) < 0)
		goto out;
	rc = 0;
out:
	lk_nl_close(pod);
	return rc;
}

static int sandbox_net(const char *hostname, struct sb_args *a, struct lk_err *err)
{
	struct lk_nl *node = nl_open(err);
	int nsfd = -1, rc = -1;

	if (!node)
		return -1;
	if (unshare(CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC) < 0) {
		lk_error(err, LK_EINTERNAL, "unshare: %s", strerror(errno));
		goto out;
	}
	if (sethostname(hostname, strlen(hostname)) < 0) {
		lk_error(err, LK_EINTERNAL, "sethostname: %s", strerror(errno));
		goto out;
	}
	nsfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (nsfd < 0 || wire_host_side(node, a, nsfd, err) < 0)
		goto out;
	/* Drop the socket: it would keep the node's namespace alive. */
	lk_nl_close(node);
	node = NULL;
	rc = wire_pod_side(a, err);
out:
	if (nsfd >= 0)
		close(nsfd);
	lk_nl_close(node);
	return rc;
}

/*
 * The sandbox's life once the pod is running: announce the pod's address,
 * then wait until eth0 goes (the node deleted the veth). The device is
 * usable only after the kernel's link watch has activated it, asynchronously
 * after the link came up (a frame sent before is dropped), so the
 * announcement is repeated a few times, as arping -U -c does, on the poll
 * timeouts of the wait: off the pod's start-up path, and with the monitor
 * already open so that a veth deleted meanwhile is still seen.
 */
static void wait_for_eth0_gone(const struct lk_ip *ip)
{
	static const int garp_ms[] = { 0, 50, 200, 750 }; /* apart */
	struct lk_nl *mon = nl_open_monitor(NULL);
	int eth = (int)if_nametoindex("eth0");
	size_t sent = 0;

	if (!eth || ip->family != AF_INET)
		sent = ARRAY_SIZE(garp_ms);
	for (;;) {
		/* without a monitor, poll ignores the fd: timeouts, then forever */
		struct pollfd pfd = { .fd = mon ? lk_nl_fd(mon) : -1, .events = POLLIN };
		int wait = sent < ARRAY_SIZE(garp_ms) ? garp_ms[sent] : -1;
		int n = poll(&pfd, 1, wait);
		if (n < 0 && errno != EINTR)
			break;
		if (n == 0) {
			send_garp(eth, ip);
			sent++;
			continue;
		}
		if ((pfd.revents & POLLIN) && nl_link_gone(mon, "eth0"))
			break;
	}
	lk_nl_close(mon);
}

/* argv: DATADIR UID HOSTNAME MODE [IP/PREFIX GW BRIDGE VETH] */
int node_sandbox_main(int argc, char **argv)
{
	struct lk_err err = { 0 };
	struct sb_args a = { 0 };

	close_range(3, ~0u, 0);
	if (argc < 4 || (strcmp(argv[3], "net") && strcmp(argv[3], "host"))) {
		fprintf(stderr, "usage: labkube _sandbox DATADIR UID HOSTNAME net|host ...\n");
		return 2;
	}
	if (!strcmp(argv[3], "host")) {
		if (unshare(CLONE_NEWIPC) < 0) {
			answer("err unshare: %s", strerror(errno));
			return 1;
		}
		answer("ok");
		for (;;)
			pause();
	}
	if (argc < 8) {
		answer("err missing arguments");
		return 2;
	}
	if (lk_cidr_parse(argv[4], 0, &a.ip, NULL) < 0 || lk_ip_parse(argv[5], &a.gw, NULL) < 0) {
		answer("err bad address '%s' or gateway '%s'", argv[4], argv[5]);
		return 2;
	}
	a.bridge = argv[6];
	a.veth = argv[7];
	if (sandbox_net(argv[2], &a, &err) < 0) {
		answer("err %s", err.msg);
		return 1;
	}
	answer("ok");
	int devnull = open("/dev/null", O_RDWR);
	if (devnull >= 0) {
		dup2(devnull, 1);
		close(devnull);
	}
	wait_for_eth0_gone(&a.ip.ip);
	return 0;
}

/* ---- the loop side ---- */

pid_t spawn_self(char *const argv[], int *report_fd, const char *errlog,
		 struct lk_err *err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	int p[2] = { -1, -1 };
	pid_t pid = -1;
	int rc;

	if (pipe2(p, O_CLOEXEC) < 0)
		return lk_error(err, LK_EINTERNAL, "pipe: %s", strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, errlog ? errlog : "/dev/null",
					 O_WRONLY | O_CREAT | O_APPEND, 0644);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
					      POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(&pid, "/proc/self/exe", &fa, &at, argv, NULL);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(p[1]);
	if (rc != 0) {
		close(p[0]);
		return lk_error(err, LK_EINTERNAL, "cannot start '%s': %s", argv[1],
				strerror(rc));
	}
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	*report_fd = p[0];
	return pid;
}

int sandbox_start(struct node *n, struct npod *p, struct lk_err *err)
{
	char host[64], ipp[32], veth[16], *errlog;
	char *argv[11] = { "labkube", "_sandbox", n->datadir, p->uid, host };
	pid_t pid;

	pod_hostname(p->obj, host, sizeof(host));
	veth_name(p->uid, veth);
	snprintf(ipp, sizeof(ipp), "%s/%d", p->ip, n->prefix);
	if (p->host_network) {
		argv[5] = "host";
	} else {
		argv[5] = "net";
		argv[6] = ipp;
		argv[7] = n->gw;
		argv[8] = NODE_BRIDGE;
		argv[9] = veth;
	}
	errlog = xasprintf("%s/sandbox.err", p->dir);
	pid = spawn_self(argv, &p->sb_report_fd, errlog, err);
	free(errlog);
	if (pid < 0)
		return -1;
	p->sb_pid = pid;
	p->sb_fd = pidfd_open_checked(pid);
	p->sb = SB_STARTING;
	sb_reset(&p->sb_report);
	return 0;
}

int sandbox_report(struct node *n, struct npod *p)
{
	char buf[512];
	ssize_t r;

	while ((r = read(p->sb_report_fd, buf, sizeof(buf))) > 0)
		sb_add(&p->sb_report, buf, (size_t)r);
	if (r < 0 && errno == EAGAIN && !(p->sb_report.buf && strchr(p->sb_report.buf, '\n')))
		return 0;
	free(p->sb_err);
	p->sb_err = NULL;
	if (p->sb_report.buf && str_has_prefix(p->sb_report.buf, "ok"))
		return 1;
	if (p->sb_report.buf && str_has_prefix(p->sb_report.buf, "err ")) {
		char *nl = strchr(p->sb_report.buf, '\n');
		p->sb_err = xstrndup(p->sb_report.buf + 4,
				     nl ? (size_t)(nl - p->sb_report.buf - 4) : strlen(p->sb_report.buf + 4));
	} else {
		p->sb_err = xstrdup("the sandbox process exited before it was ready");
	}
	return -1;
}

void sandbox_stop(struct node *n, struct npod *p)
{
	char veth[16];
	struct lk_err err = { 0 };

	if (!p->host_network) {
		struct lk_nl *nl = nl_open(&err);
		veth_name(p->uid, veth);
		if (!nl || nl_link_del(nl, veth, &err) < 0) {
			lk_log("node: pod '%s/%s': %s", p->ns, p->name, err.msg);
			lk_err_clear(&err);
		}
		lk_nl_close(nl);
	}
	if (p->sb_fd >= 0)
		pidfd_send_signal(p->sb_fd, SIGKILL, NULL, 0);
	p->sb = SB_NONE;
}

/*
 * A pod reaching a Service whose endpoint is another pod on this bridge
 * gets its reply bridged straight back (same subnet): only with
 * br_netfilter does conntrack see it and undo the DNAT. The sysctl is per
 * network namespace (default on); without the module, say so once.
 */
static void bridge_netfilter(void)
{
	int fd = open("/proc/sys/net/bridge/bridge-nf-call-iptables", O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		lk_log("node: br_netfilter is not loaded (modprobe br_netfilter): a pod reaching a "
		       "Service backed by another pod of this node gets no reply");
		return;
	}
	if (write(fd, "1\n", 2) != 2)
		lk_log("node: cannot turn on bridge-nf-call-iptables: %s", strerror(errno));
	close(fd);
}

int node_net_setup(struct node *n, struct lk_err *err)
{
	struct lk_nl *nl = nl_open(err);
	struct lk_ip gw;
	int br, rc = -1;

	if (!nl)
		return -1;
	lk_ip_parse(n->gw, &gw, NULL);
	br = nl_bridge_ensure(nl, NODE_BRIDGE, err);
	if (br < 0 || nl_addr_add(nl, br, &gw, n->prefix, err) < 0 ||
	    nl_link_up(nl, br, err) < 0)
		goto out;
	int fd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "1\n", 2) != 2) {
		if (fd >= 0)
			close(fd);
		lk_error(err, LK_EINTERNAL, "cannot turn on IP forwarding: %s", strerror(errno));
		goto out;
	}
	close(fd);
	bridge_netfilter();
	rc = 0;
out:
	lk_nl_close(nl);
	return rc;
}
