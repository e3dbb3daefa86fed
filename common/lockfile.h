/*
 * common/lockfile.h: one process per resource, held with a lock file.
 *
 * The server holds two: its data dir's (<data-dir>/lock) and its network
 * namespace's (/run/labkube/netns-DEV-INO.lock, DEV and INO those of
 * /proc/self/ns/net), so that a second server on the same data dir, or in
 * the same network namespace, refuses to start instead of sharing them.
 *
 * lockfile_take() opens (creating) the file with O_CLOEXEC, takes an
 * exclusive POSIX record lock on it without waiting (fcntl F_SETLK) and
 * writes the caller's pid into it. Record locks, not flock(): a record lock
 * belongs to the process, so no child the server forks holds it (a flock
 * lives in the open file, which a forked child shares until it closes it
 * or exits: a probe's helper or a sandbox outliving a SIGKILLed server
 * would keep it), and the kernel drops it when the process ends, however
 * it ends. O_CLOEXEC keeps the fd out of every program the server execs.
 * The price of record locks: closing *any* fd of that file in the holding
 * process drops the lock; only this module opens the file.
 *
 * lockfile_release() unlinks the file while it still holds the lock, then
 * closes it; a taker that locked a file unlinked meanwhile notices (its fd
 * is no longer the file at the path) and starts over, so two takers never
 * both win. A holder killed with SIGKILL leaves the file behind, unlocked:
 * the next taker reuses it.
 *
 * Errors: -1 with errno. EWOULDBLOCK: another process holds it, *holder is
 * its pid (what F_GETLK reports, else the pid written in the file, else 0).
 * Not thread-safe (start-up only).
 */
#ifndef LK_LOCKFILE_H
#define LK_LOCKFILE_H

#include <stddef.h>
#include <sys/types.h>

struct lockfile {
	int fd;         /* -1: not held */
	char *path;     /* owned */
};
#define LOCKFILE_INIT { -1, NULL }

int lockfile_take(struct lockfile *lf, const char *path, pid_t *holder);
/* Unlink and unlock; NULL-safe, and a no-op when not held. */
void lockfile_release(struct lockfile *lf);

/* The lock file of the network namespace this process is in, under dir
 * (the server's is /run/labkube): "DIR/netns-DEV-INO.lock". NULL with errno
 * when /proc/self/ns/net cannot be read. Caller frees. */
char *lockfile_netns_path(const char *dir);
/* That namespace in messages: "network namespace 'NAME'" (its `ip netns`
 * name, found in /run/netns), else "the host's network namespace" when it
 * is pid 1's, else "network namespace net:[INO]". Caller frees. */
char *lockfile_netns_name(void);

#endif
