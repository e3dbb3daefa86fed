/*
 * images/img_srv.c: the process skeleton of a built-in image: one
 * common/loop, a signalfd for TERM/INT/QUIT/CHLD, and listening sockets
 * (TCP with an accept callback, UDP with a datagram callback). HTTP sits
 * on top of it in img_http.c.
 *
 * Sockets listen dual-stack on [::] (IPV6_V6ONLY off) like Go's and Node's
 * ":port", falling back to 0.0.0.0 when the kernel has no IPv6. Children
 * (forked handlers, orphans when the image is PID 1) are reaped on SIGCHLD.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/ip.h"
#include "common/loop.h"
#include "images/img.h"

struct owned {
	void *p;
	void (*fn)(void *);
	struct owned *next;
};

struct img_srv {
	struct loop *loop;
	int sfd;
	int code;
	img_signal_fn on_signal;
	void *arg;
	struct owned *owned;  /* newest first */
};

static int default_signal(struct img_srv *s, int sig, void *arg)
{
	return 0;
}

static void on_signalfd(struct loop *l, int fd, int events, void *arg)
{
	struct img_srv *s = arg;
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		int code;
		if (si.ssi_signo == SIGCHLD) {
			while (waitpid(-1, NULL, WNOHANG) > 0)
				;
			continue;
		}
		code = s->on_signal(s, (int)si.ssi_signo, s->arg);
		if (code >= 0)
			img_srv_exit(s, code);
	}
}

struct img_srv *img_srv_new(int extra_signal)
{
	struct img_srv *s = xcalloc(1, sizeof(*s));
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGQUIT);
	sigaddset(&mask, SIGCHLD);
	if (extra_signal > 0)
		sigaddset(&mask, extra_signal);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	s->loop = loop_new();
	s->sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->sfd < 0)
		lk_die("signalfd: %s", strerror(errno));
	s->on_signal = default_signal;
	loop_fd_add(s->loop, s->sfd, LOOP_READ, on_signalfd, s);
	return s;
}

struct loop *img_srv_loop(struct img_srv *s)
{
	return s->loop;
}

void img_srv_on_signal(struct img_srv *s, img_signal_fn fn, void *arg)
{
	s->on_signal = fn ? fn : default_signal;
	s->arg = arg;
}

int img_srv_run(struct img_srv *s)
{
	loop_run(s->loop);
	fflush(stdout);
	return s->code;
}

void img_srv_exit(struct img_srv *s, int code)
{
	s->code = code;
	loop_stop(s->loop);
}

void img_srv_own(struct img_srv *s, void *p, void (*fn)(void *))
{
	struct owned *o = xcalloc(1, sizeof(*o));

	o->p = p;
	o->fn = fn;
	o->next = s->owned;
	s->owned = o;
}

void img_srv_free(struct img_srv *s)
{
	if (!s)
		return;
	while (s->owned) {
		struct owned *o = s->owned;
		s->owned = o->next;
		o->fn(o->p);
		free(o);
	}
	loop_free(s->loop);
	close(s->sfd);
	free(s);
}

/* ---------------------------------------------------------------- sockets */

static int bind_any6(int type, int port)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6,
				   .sin6_port = htons((uint16_t)port),
				   .sin6_addr = IN6ADDR_ANY_INIT };
	int fd = socket(AF_INET6, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int off = 0, on = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&a6, sizeof(a6)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* host: an IPv4 or IPv6 address; NULL or "": 0.0.0.0. */
static int bind_addr(int type, const char *host, int port)
{
	struct sockaddr_storage ss;
	struct lk_ip ip = lk_ip4(0);
	socklen_t len;
	int fd, on = 1;

	if (host && *host && lk_ip_parse(host, &ip, NULL) < 0) {
		errno = EADDRNOTAVAIL;
		return -1;
	}
	len = lk_ip_sockaddr(&ip, (uint16_t)port, &ss);
	fd = socket(ss.ss_family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int img_listen(int type, const char *host, int port)
{
	int fd = -1;

	if (!host || !*host || !strcmp(host, "::")) {
		fd = bind_any6(type, port);
		if (fd < 0 && (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL))
			fd = bind_addr(type, NULL, port);
	} else {
		fd = bind_addr(type, host, port);
	}
	if (fd >= 0 && type == SOCK_STREAM && listen(fd, 511) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

void img_addr(const struct sockaddr *sa, char *ip, int *port, bool raw)
{
	char t[LK_IP_STRLEN];
	struct lk_ip v;
	uint16_t p = 0;

	if (lk_ip_from_sockaddr(sa, &v, &p) < 0) {
		snprintf(ip, 64, "?");
		*port = 0;
		return;
	}
	if (!raw)
		v = lk_ip_unmap(&v);
	snprintf(ip, 64, "%s", lk_ip_format(&v, t));
	*port = p;
}

void img_hostport(const struct sockaddr *sa, char *buf)
{
	char ip[64];
	int port;

	img_addr(sa, ip, &port, false);
	snprintf(buf, 72, strchr(ip, ':') ? "[%s]:%d" : "%s:%d", ip, port);
}

/* ------------------------------------------------------------- listeners */

struct listener {
	int fd;
	img_udp_fn udp;
	img_accept_fn accept;
	void *arg;
};

static void listener_free(void *p)
{
	struct listener *ls = p;

	close(ls->fd);
	free(ls);
}

static void on_udp(struct loop *l, int fd, int events, void *arg)
{
	struct listener *ls = arg;
	struct sockaddr_storage peer;
	char buf[65536];

	for (;;) {
		socklen_t plen = sizeof(peer);
		ssize_t n = recvfrom(fd, buf, sizeof(buf) - 1, 0,
				     (struct sockaddr *)&peer, &plen);
		if (n < 0)
			return;
		buf[n] = 0;
		ls->udp(fd, buf, (size_t)n, (struct sockaddr *)&peer, plen, ls->arg);
	}
}

static void on_accept(struct loop *l, int fd, int events, void *arg)
{
	struct listener *ls = arg;
	struct sockaddr_storage peer;

	for (;;) {
		socklen_t plen = sizeof(peer);
		int c = accept4(fd, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
		if (c < 0)
			return;
		ls->accept(c, (struct sockaddr *)&peer, ls->arg);
	}
}

int img_srv_udp(struct img_srv *s, const char *host, int port, img_udp_fn fn,
		void *arg)
{
	struct listener *ls;
	int fd = img_listen(SOCK_DGRAM, host, port);

	if (fd < 0)
		return -1;
	ls = xcalloc(1, sizeof(*ls));
	ls->fd = fd;
	ls->udp = fn;
	ls->arg = arg;
	img_srv_own(s, ls, listener_free);
	return loop_fd_add(s->loop, fd, LOOP_READ, on_udp, ls);
}

int img_srv_tcp(struct img_srv *s, const char *host, int port, img_accept_fn fn,
		void *arg)
{
	struct listener *ls;
	int fd = img_listen(SOCK_STREAM, host, port);

	if (fd < 0)
		return -1;
	ls = xcalloc(1, sizeof(*ls));
	ls->fd = fd;
	ls->accept = fn;
	ls->arg = arg;
	img_srv_own(s, ls, listener_free);
	return loop_fd_add(s->loop, fd, LOOP_READ, on_accept, ls);
}
