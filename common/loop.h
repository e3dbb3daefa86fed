/*
 * common/loop.h: the one event loop (epoll + timerfd-free timers + signalfd).
 *
 * In the style of Redis' ae.c: file events on fds, timers that return their
 * next delay (or -1 to stop), and before-sleep hooks that run once per
 * iteration before epoll_wait (the store's group commit lives there).
 * Single-threaded; every callback runs on the loop thread.
 */
#ifndef LK_LOOP_H
#define LK_LOOP_H

#include <stdint.h>

struct loop;
struct loop_timer;

enum { LOOP_READ = 1, LOOP_WRITE = 2 };

typedef void (*loop_fd_fn)(struct loop *l, int fd, int events, void *arg);
/* Return the next delay in ms, or -1 to remove the timer. */
typedef int64_t (*loop_timer_fn)(struct loop *l, void *arg);
typedef void (*loop_hook_fn)(struct loop *l, void *arg);

struct loop *loop_new(void);
void loop_free(struct loop *l);
/* Watch fd for events (LOOP_READ|LOOP_WRITE); replaces an earlier watch. */
int loop_fd_add(struct loop *l, int fd, int events, loop_fd_fn fn, void *arg);
int loop_fd_mod(struct loop *l, int fd, int events);
void loop_fd_del(struct loop *l, int fd);
struct loop_timer *loop_timer_add(struct loop *l, int64_t delay_ms,
				  loop_timer_fn fn, void *arg);
void loop_timer_del(struct loop *l, struct loop_timer *t);
/* Hooks run in the order added, every iteration before sleeping. */
void loop_before_sleep(struct loop *l, loop_hook_fn fn, void *arg);
/* Remove the hook added with the same fn and arg (not from inside a hook). */
void loop_before_sleep_del(struct loop *l, loop_hook_fn fn, void *arg);
/* Cap the next sleep at ms (e.g. libmicrohttpd's own timeout); reset each
 * iteration. */
void loop_wake_within(struct loop *l, int64_t ms);
/* Run until loop_stop(). */
void loop_run(struct loop *l);
void loop_stop(struct loop *l);

#endif
