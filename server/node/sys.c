/*
 * server/node/sys.c: small system helpers of the node agent: files written
 * whole (temp file + rename), directories, pidfds, /proc reads.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "server/node/node_internal.h"

int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int write_file(const char *path, const char *data, size_t len, int mode)
{
	char *tmp = xasprintf("%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode), rc = -1;
	if (fd >= 0) {
		rc = write(fd, data, len) == (ssize_t)len ? 0 : -1;
		if (close(fd) < 0)
			rc = -1;
		if (rc == 0)
			rc = rename(tmp, path);
		if (rc < 0)
			unlink(tmp);
	}
	free(tmp);
	return rc;
}

int mkdir_all(const char *path, int mode)
{
	char *p = xstrdup(path);
	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = 0;
			mkdir(p, (mode_t)mode);
			*s = '/';
		}
	int rc = mkdir(p, (mode_t)mode) < 0 && errno != EEXIST ? -1 : 0;
	free(p);
	return rc;
}

void rm_rf(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *sub = xasprintf("%s/%s", path, de->d_name);
		if (de->d_type == DT_DIR)
			rm_rf(sub);
		else
			unlink(sub);
		free(sub);
	}
	if (d)
		closedir(d);
	rmdir(path);
}

bool pidfd_exited(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	return fd >= 0 && poll(&pfd, 1, 0) == 1;
}

int pidfd_open_checked(pid_t pid)
{
	int fd = pid > 0 ? pidfd_open(pid, 0) : -1;
	if (fd >= 0)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	return fd;
}

pid_t proc_ppid(pid_t pid)
{
	char path[64], buf[512], *rp;
	int ppid = 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	rp = strrchr(buf, ')');   /* comm may hold spaces */
	if (!rp || sscanf(rp + 1, " %*c %d", &ppid) != 1)
		return -1;
	return ppid;
}

int proc_cmdline(pid_t pid, char ***argv_out, int *argc_out)
{
	char path[64], *buf;
	size_t len;
	int argc = 0;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	buf = lk_read_file(path, &len);
	if (!buf || !len) {
		free(buf);
		return -1;
	}
	for (size_t i = 0; i < len; i++)
		argc += buf[i] == 0;
	char **argv = xcalloc((size_t)argc + 2, sizeof(char *));
	argv[0] = buf;   /* argv[0] owns the buffer */
	for (size_t i = 0, k = 1; i + 1 < len && (int)k < argc; i++)
		if (buf[i] == 0)
			argv[k++] = buf + i + 1;
	*argv_out = argv;
	*argc_out = argc;
	return 0;
}

void proc_cmdline_free(char **argv)
{
	if (argv)
		free(argv[0]);
	free(argv);
}
