/*
 * common/lockfile.c: see lockfile.h.
 */
#include "common/lockfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

/* Who holds the lock on fd: F_GETLK, else the pid the holder wrote (F_GETLK
 * reports 0 for a holder in another pid namespace), else 0. 0 too when the
 * lock went away meanwhile (*gone set). */
static pid_t holder_of(int fd, int *gone)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char buf[32];
	ssize_t n;

	*gone = 0;
	if (fcntl(fd, F_GETLK, &fl) == 0) {
		if (fl.l_type == F_UNLCK) {
			*gone = 1;
			return 0;
		}
		if (fl.l_pid > 0)
			return fl.l_pid;
	}
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	return (pid_t)atoi(buf);
}

/* fd still is the file at path (not unlinked by a releasing holder). */
static int same_file(int fd, const char *path)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

static int write_pid(int fd)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n)
		return -1;
	return 0;
}

int lockfile_take(struct lockfile *lf, const char *path, pid_t *holder)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int gone;

	*holder = 0;
	for (int tries = 0; tries < 10; tries++) {
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0)
			return -1;
		if (fcntl(fd, F_SETLK, &fl) < 0) {
			int e = errno;
			if (e == EAGAIN || e == EACCES) {
				*holder = holder_of(fd, &gone);
				close(fd);
				if (gone)
					continue;       /* released meanwhile */
				errno = EWOULDBLOCK;
				return -1;
			}
			close(fd);
			errno = e;
			return -1;
		}
		if (!same_file(fd, path)) {
			close(fd);              /* a releasing holder unlinked it */
			continue;
		}
		if (write_pid(fd) < 0) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		lf->fd = fd;
		lf->path = xstrdup(path);
		return 0;
	}
	errno = EWOULDBLOCK;            /* a busy race, ten times over */
	return -1;
}

void lockfile_release(struct lockfile *lf)
{
	if (!lf || lf->fd < 0)
		return;
	unlink(lf->path);
	close(lf->fd);
	free(lf->path);
	lf->fd = -1;
	lf->path = NULL;
}

char *lockfile_netns_path(const char *dir)
{
	struct stat st;
	if (stat("/proc/self/ns/net", &st) < 0)
		return NULL;
	return xasprintf("%s/netns-%llu-%llu.lock", dir, (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino);
}

char *lockfile_netns_name(void)
{
	struct stat self, st;
	struct dirent *de;
	char *name = NULL;
	DIR *d;

	if (stat("/proc/self/ns/net", &self) < 0)
		return xstrdup("this network namespace");
	if ((d = opendir("/run/netns"))) {
		while (!name && (de = readdir(d))) {
			char *p = xasprintf("/run/netns/%s", de->d_name);
			if (de->d_name[0] != '.' && stat(p, &st) == 0 &&
			    st.st_dev == self.st_dev && st.st_ino == self.st_ino)
				name = xasprintf("network namespace '%s'", de->d_name);
			free(p);
		}
		closedir(d);
	}
	if (!name && stat("/proc/1/ns/net", &st) == 0 && st.st_dev == self.st_dev &&
	    st.st_ino == self.st_ino)
		name = xstrdup("the host's network namespace");
	return name ? name : xasprintf("network namespace net:[%llu]",
				       (unsigned long long)self.st_ino);
}
