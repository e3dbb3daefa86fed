/*
 * common/loop.c: see loop.h. epoll for fds, a small sorted list for timers
 * (there are few: the cron, watch timeouts), hooks before each sleep.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/loop.h"
#include "common/util.h"

struct fd_watch {
	int fd;
	loop_fd_fn fn;
	void *arg;
	struct fd_watch *next;
};

struct loop_timer {
	uint64_t when_ms;
	loop_timer_fn fn;
	void *arg;
	bool dead;
	struct loop_timer *next;
};

struct hook {
	loop_hook_fn fn;
	void *arg;
	struct hook *next;
};

struct loop {
	int epfd;
	bool stop;
	int64_t wake_within;
	struct fd_watch *fds;
	struct loop_timer *timers;
	struct hook *hooks, **hooks_tail;
};

struct loop *loop_new(void)
{
	struct loop *l = xcalloc(1, sizeof(*l));
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		lk_die("loop: epoll_create1: %s", strerror(errno));
	l->hooks_tail = &l->hooks;
	l->wake_within = -1;
	return l;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	while (l->fds) {
		struct fd_watch *w = l->fds;
		l->fds = w->next;
		free(w);
	}
	while (l->timers) {
		struct loop_timer *t = l->timers;
		l->timers = t->next;
		free(t);
	}
	while (l->hooks) {
		struct hook *h = l->hooks;
		l->hooks = h->next;
		free(h);
	}
	close(l->epfd);
	free(l);
}

static struct fd_watch *find_fd(struct loop *l, int fd)
{
	for (struct fd_watch *w = l->fds; w; w = w->next)
		if (w->fd == fd)
			return w;
	return NULL;
}

static uint32_t ep_events(int events)
{
	return (events & LOOP_READ ? EPOLLIN : 0) | (events & LOOP_WRITE ? EPOLLOUT : 0);
}

int loop_fd_add(struct loop *l, int fd, int events, loop_fd_fn fn, void *arg)
{
	struct fd_watch *w = find_fd(l, fd);
	struct epoll_event ev = { .events = ep_events(events), .data.fd = fd };
	int op = w ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(l->epfd, op, fd, &ev) < 0)
		return -1;
	if (!w) {
		w = xcalloc(1, sizeof(*w));
		w->next = l->fds;
		l->fds = w;
	}
	w->fd = fd;
	w->fn = fn;
	w->arg = arg;
	return 0;
}

int loop_fd_mod(struct loop *l, int fd, int events)
{
	struct epoll_event ev = { .events = ep_events(events), .data.fd = fd };
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev);
}

void loop_fd_del(struct loop *l, int fd)
{
	for (struct fd_watch **pp = &l->fds; *pp; pp = &(*pp)->next) {
		if ((*pp)->fd == fd) {
			struct fd_watch *w = *pp;
			*pp = w->next;
			free(w);
			epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
			return;
		}
	}
}

static void timer_insert(struct loop *l, struct loop_timer *t)
{
	struct loop_timer **pp = &l->timers;
	while (*pp && (*pp)->when_ms <= t->when_ms)
		pp = &(*pp)->next;
	t->next = *pp;
	*pp = t;
}

struct loop_timer *loop_timer_add(struct loop *l, int64_t delay_ms,
				  loop_timer_fn fn, void *arg)
{
	struct loop_timer *t = xcalloc(1, sizeof(*t));
	t->when_ms = lk_now_ms() + (uint64_t)(delay_ms < 0 ? 0 : delay_ms);
	t->fn = fn;
	t->arg = arg;
	timer_insert(l, t);
	return t;
}

void loop_timer_del(struct loop *l, struct loop_timer *t)
{
	if (t)
		t->dead = true; /* freed by the run loop */
	(void)l;
}

void loop_before_sleep(struct loop *l, loop_hook_fn fn, void *arg)
{
	struct hook *h = xcalloc(1, sizeof(*h));
	h->fn = fn;
	h->arg = arg;
	*l->hooks_tail = h;
	l->hooks_tail = &h->next;
}

void loop_before_sleep_del(struct loop *l, loop_hook_fn fn, void *arg)
{
	for (struct hook **pp = &l->hooks; *pp; pp = &(*pp)->next) {
		struct hook *h = *pp;
		if (h->fn == fn && h->arg == arg) {
			*pp = h->next;
			if (l->hooks_tail == &h->next)
				l->hooks_tail = pp;
			free(h);
			return;
		}
	}
}

void loop_wake_within(struct loop *l, int64_t ms)
{
	if (ms >= 0 && (l->wake_within < 0 || ms < l->wake_within))
		l->wake_within = ms;
}

void loop_stop(struct loop *l)
{
	l->stop = true;
}

static void run_timers(struct loop *l)
{
	uint64_t now = lk_now_ms();
	while (l->timers && (l->timers->dead || l->timers->when_ms <= now)) {
		struct loop_timer *t = l->timers;
		l->timers = t->next;
		int64_t next = t->dead ? -1 : t->fn(l, t->arg);
		if (next < 0 || t->dead) {
			free(t);
			continue;
		}
		t->when_ms = now + (uint64_t)next;
		timer_insert(l, t);
	}
}

static int next_timeout(struct loop *l)
{
	int64_t ms = l->wake_within;
	/* Dead timers at the head are swept by run_timers. */
	if (l->timers) {
		uint64_t now = lk_now_ms();
		int64_t t = l->timers->when_ms > now ? (int64_t)(l->timers->when_ms - now) : 0;
		if (ms < 0 || t < ms)
			ms = t;
	}
	l->wake_within = -1;
	return ms > 60000 || ms < 0 ? 60000 : (int)ms;
}

void loop_run(struct loop *l)
{
	struct epoll_event evs[64];
	while (!l->stop) {
		for (struct hook *h = l->hooks; h; h = h->next)
			h->fn(l, h->arg);
		if (l->stop)
			break;
		int n = epoll_wait(l->epfd, evs, 64, next_timeout(l));
		if (n < 0 && errno != EINTR)
			lk_die("loop: epoll_wait: %s", strerror(errno));
		for (int i = 0; i < n; i++) {
			struct fd_watch *w = find_fd(l, evs[i].data.fd);
			if (!w)
				continue;
			int e = 0;
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				e |= LOOP_READ;
			if (evs[i].events & EPOLLOUT)
				e |= LOOP_WRITE;
			w->fn(l, w->fd, e, w->arg);
		}
		run_timers(l);
	}
}
