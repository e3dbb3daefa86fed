/*
 * server/node/shim.c: the `_shim` applet, one per container run (our
 * containerd-shim + runc in one small process).
 *
 *   labkube _shim DATADIR POD-UID CONTAINER ID
 *
 * reads <datadir>/pods/<uid>/<container>/<id>.json (written by runtime.c),
 * joins the sandbox's network, UTS and IPC namespaces (setns on a pidfd),
 * and forks the container as PID 1 of a new PID namespace, in a new mount
 * namespace where:
 *   - the root is an overlay over the host's root with a tmpfs upper layer
 *     (the container shares the host's programs, as the catalog's host
 *     images want, but its writes stay its own and the host is never
 *     changed); other host file systems are bound in read-only;
 *   - /tmp, /run (hence /var/run) and /dev are fresh tmpfs (a minimal /dev
 *     with null, zero, full, random, urandom, tty, pts, shm), /proc is the
 *     container's own, /sys is mounted for its network namespace;
 *   - the node's data dir is masked (it holds every pod's secrets);
 *   - /etc/hosts, /etc/hostname, /etc/resolv.conf are the pod's files,
 *     /var/run/secrets/kubernetes.io/serviceaccount its token, and each
 *     volumeMount its volume (volumes.c), cloned with open_tree before
 *     anything is mounted over their sources;
 * then drops capabilities to the runtime default set (unless privileged),
 * switches user when runAsUser is set, and execs argv with the computed
 * environment (argv[0] searched on the container's PATH).
 *
 * The shim answers "started PID STARTED_NS" or "failed MESSAGE" on stdout,
 * keeps <id>.state current ("running", then "exited" with code and times),
 * and copies the container's stdout/stderr to <id>.log in the CRI format,
 * rotating it once past 10 MiB. It kills the container if the sandbox
 * dies, and exits once the container is gone. The agent watches the shim
 * with a pidfd, so a restarted agent can adopt it.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/json.h"
#include "server/node/node.h"
#include "server/node/node_internal.h"

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- the container's side (after fork; report errors on efd) ---- */

static void die_child(int efd, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
static void die_child(int efd, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0 && write(efd, buf, (size_t)(n < (int)sizeof(buf) ? n : (int)sizeof(buf) - 1)) < 0)
		_exit(127);
	_exit(127);
}

static unsigned long vfs_flags(const char *path)
{
	struct statvfs sv;
	unsigned long f = 0;
	if (statvfs(path, &sv) < 0)
		return 0;
	if (sv.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (sv.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	return f;
}

static void mkdirs(const char *path, mode_t mode)
{
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *s = buf + 1; *s; s++)
		if (*s == '/') {
			*s = 0;
			mkdir(buf, mode);
			*s = '/';
		}
	mkdir(buf, mode);
}

static void tmpfs(const char *where, const char *opts, int efd)
{
	if (mount("tmpfs", where, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
		die_child(efd, "cannot mount tmpfs on %s: %s", where, strerror(errno));
}

static void make_dev(int efd)
{
	static const struct {
		const char *name;
		unsigned maj, min;
	} devs[] = { { "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 },
		     { "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 } };
	static const char *const links[][2] = {
		{ "/proc/self/fd", "/dev/fd" }, { "/proc/self/fd/0", "/dev/stdin" },
		{ "/proc/self/fd/1", "/dev/stdout" }, { "/proc/self/fd/2", "/dev/stderr" },
		{ "pts/ptmx", "/dev/ptmx" } };
	char path[64];

	if (mount("tmpfs", "/dev", "tmpfs", MS_NOSUID, "mode=755,size=65536k") < 0)
		die_child(efd, "cannot mount tmpfs on /dev: %s", strerror(errno));
	for (size_t i = 0; i < ARRAY_SIZE(devs); i++) {
		snprintf(path, sizeof(path), "/dev/%s", devs[i].name);
		if (mknod(path, S_IFCHR | 0666, makedev(devs[i].maj, devs[i].min)) < 0)
			die_child(efd, "cannot create %s: %s", path, strerror(errno));
		chmod(path, 0666);
	}
	for (size_t i = 0; i < ARRAY_SIZE(links); i++)
		if (symlink(links[i][0], links[i][1]) < 0)
			die_child(efd, "cannot create %s: %s", links[i][1], strerror(errno));
	mkdir("/dev/pts", 0755);
	mkdir("/dev/shm", 01777);
	mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
	      "newinstance,ptmxmode=0666,mode=0620");
	mount("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k");
}

/*
 * Binds: the pod's files and volumes, cloned (open_tree) before anything
 * is mounted over their sources (the data dir may well be under /tmp),
 * attached (move_mount) once the container's tree is ready.
 */
struct bind {
	const char *dst;
	int fd;
	bool ro, dir;
};

static struct bind *clone_binds(const cJSON *spec, size_t *count, int efd)
{
	const cJSON *it;
	size_t n = 0;
	struct bind *b = xcalloc((size_t)cJSON_GetArraySize(jget(spec, "binds")) + 1, sizeof(*b));
	cJSON_ArrayForEach(it, jget(spec, "binds")) {
		const char *src = jstr_or(it, "src", ""), *dst = jstr_or(it, "dst", "");
		int fd = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
		if (fd < 0)
			die_child(efd, "cannot mount %s: %s", src, strerror(errno));
		b[n++] = (struct bind){ dst, fd, jbool(it, "ro", false), jbool(it, "dir", true) };
	}
	*count = n;
	return b;
}

static int make_node(const char *path, bool dir)
{
	if (dir)
		return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -1;
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static void attach(const struct bind *b, int efd)
{
	char target[4096];
	struct stat st;
	const char *dst = b->dst;

	/* /etc/resolv.conf may be a symlink into /run, now our tmpfs */
	if (!b->dir && lstat(dst, &st) == 0 && S_ISLNK(st.st_mode) && stat(dst, &st) < 0) {
		ssize_t n = readlink(dst, target, sizeof(target) - 1);
		if (n > 0 && target[0] == '/') {
			target[n] = 0;
			dst = target;
		}
	}
	if (stat(dst, &st) < 0) {
		char parent[4096];
		snprintf(parent, sizeof(parent), "%s", dst);
		char *slash = strrchr(parent, '/');
		if (slash && slash != parent) {
			*slash = 0;
			mkdirs(parent, 0755);
		}
		if (make_node(dst, b->dir) < 0)
			die_child(efd, "cannot make mount point %s: %s", dst, strerror(errno));
	}
	if (move_mount(b->fd, "", AT_FDCWD, dst, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		die_child(efd, "cannot mount on %s: %s", dst, strerror(errno));
	if (b->ro && mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
		die_child(efd, "cannot make %s read-only: %s", dst, strerror(errno));
}

static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return !strncmp(path, dir, n) && (path[n] == 0 || path[n] == '/');
}

/* Host file systems mounted below "/" (a separate /home, /usr, ...): bound
 * read-only into the new root, so the container sees the whole host. */
static void bind_host_mounts(const char *root)
{
	static const char *const skip_dirs[] = { "/proc", "/sys", "/dev", "/run", "/tmp",
						 "/var/run" };
	static const char *const pseudo[] = { "proc", "sysfs", "devtmpfs", "devpts", "tmpfs",
		"cgroup", "cgroup2", "nsfs", "mqueue", "debugfs", "tracefs", "securityfs",
		"pstore", "bpf", "autofs", "fusectl", "configfs", "hugetlbfs", "binfmt_misc",
		"efivarfs", "ramfs", "rpc_pipefs", "nfsd", "overlay" };
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096], mp[2048], type[64], dst[4096];

	while (f && fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - ");
		bool skip = false;
		if (!sep || sscanf(line, "%*s %*s %*s %*s %2047s", mp) != 1 ||
		    sscanf(sep + 3, "%63s", type) != 1 || !strcmp(mp, "/") || strchr(mp, '\\'))
			continue;
		for (size_t i = 0; i < ARRAY_SIZE(skip_dirs); i++)
			skip |= under(mp, skip_dirs[i]);
		for (size_t i = 0; i < ARRAY_SIZE(pseudo); i++)
			skip |= !strcmp(type, pseudo[i]);
		snprintf(dst, sizeof(dst), "%s%s", root, mp);
		if (skip || mount(mp, dst, NULL, MS_BIND, NULL) < 0)
			continue;
		mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | vfs_flags(mp), NULL);
	}
	if (f)
		fclose(f);
}

/* The container's root: an overlay over the host's root whose upper layer
 * is a tmpfs, so the container may write anywhere (and make mount points)
 * while the host stays untouched; its writes go with it. */
static void make_root(int efd)
{
	if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID, "mode=700") < 0)
		die_child(efd, "cannot mount a scratch tmpfs: %s", strerror(errno));
	mkdir("/tmp/u", 0755);
	mkdir("/tmp/w", 0700);
	mkdir("/tmp/r", 0755);
	if (mount("overlay", "/tmp/r", "overlay", 0,
		  "lowerdir=/,upperdir=/tmp/u,workdir=/tmp/w") < 0)
		die_child(efd, "cannot make the container's root: %s", strerror(errno));
	bind_host_mounts("/tmp/r");
	if (chdir("/tmp/r") < 0 || syscall(SYS_pivot_root, ".", ".") < 0 ||
	    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		die_child(efd, "cannot enter the container's root: %s", strerror(errno));
}

static void make_mounts(const cJSON *spec, int efd)
{
	struct bind *b;
	struct stat st;
	const cJSON *it;
	size_t n;

	if (unshare(CLONE_NEWNS) < 0)
		die_child(efd, "cannot create a mount namespace: %s", strerror(errno));
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die_child(efd, "cannot make / private: %s", strerror(errno));
	b = clone_binds(spec, &n, efd);
	make_root(efd);
	tmpfs("/tmp", "mode=1777", efd);
	tmpfs("/run", "mode=755", efd);
	if (lstat("/var/run", &st) == 0 && S_ISDIR(st.st_mode))
		tmpfs("/var/run", "mode=755", efd);
	make_dev(efd);
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		die_child(efd, "cannot mount /proc: %s", strerror(errno));
	mount("sysfs", "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	/* what the container must not read: the node's data (other pods' secrets) */
	cJSON_ArrayForEach(it, jget(spec, "mask"))
		if (cJSON_IsString(it) && stat(it->valuestring, &st) == 0 && S_ISDIR(st.st_mode))
			mount("tmpfs", it->valuestring, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV,
			      "size=4k,mode=755");
	for (size_t i = 0; i < n; i++)
		attach(&b[i], efd);
	for (size_t i = 0; i < n; i++)
		close(b[i].fd);
	free(b);
}

static void drop_caps(const cJSON *spec, int efd)
{
	uint64_t keep;
	int last = 40;
	FILE *f;

	if (!cJSON_IsNumber(jget(spec, "caps")))
		return; /* privileged */
	keep = (uint64_t)jget(spec, "caps")->valuedouble;
	f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	if (f) {
		if (fscanf(f, "%d", &last) != 1)
			last = 40;
		fclose(f);
	}
	for (int c = 0; c <= last && c < 64; c++)
		if (!(keep & (1ull << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			die_child(efd, "cannot drop capability %d: %s", c, strerror(errno));
}

static void set_user(const cJSON *spec, int efd)
{
	long long uid = jint(spec, "uid", -1), gid = jint(spec, "gid", -1);
	if (gid >= 0) {
		gid_t g = (gid_t)gid;
		if (setgroups(1, &g) < 0 || setgid(g) < 0)
			die_child(efd, "cannot set group %lld: %s", gid, strerror(errno));
	}
	if (uid >= 0 && setuid((uid_t)uid) < 0)
		die_child(efd, "cannot set user %lld: %s", uid, strerror(errno));
}

/* Go's exec.LookPath on the container's PATH, worded like runc. */
static const char *look_path(const char *file, const char *path, char *buf, size_t len,
			     int efd)
{
	struct stat st;
	if (strchr(file, '/')) {
		if (stat(file, &st) < 0)
			die_child(efd, "exec: \"%s\": stat %s: %s", file, file, strerror(errno));
		return file;
	}
	for (const char *p = path ? path : ""; ; ) {
		const char *colon = strchr(p, ':');
		size_t dl = colon ? (size_t)(colon - p) : strlen(p);
		snprintf(buf, len, "%.*s/%s", (int)dl, dl ? p : ".", file);
		if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111))
			return buf;
		if (!colon)
			break;
		p = colon + 1;
	}
	die_child(efd, "exec: \"%s\": executable file not found in $PATH", file);
}

static char **str_array(const cJSON *arr)
{
	int n = cJSON_GetArraySize(arr), i = 0;
	char **v = xcalloc((size_t)n + 1, sizeof(char *));
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
		v[i++] = cJSON_IsString(it) ? it->valuestring : "";
	return v;
}

static void container_child(const cJSON *spec, int out, int err, int efd)
{
	char **argv = str_array(jget(spec, "argv")), **envp = str_array(jget(spec, "env"));
	const char *cwd = jstr_or(spec, "cwd", "/"), *path = NULL, *exe;
	char buf[4096];
	int devnull;

	for (char **e = envp; *e; e++)
		if (str_has_prefix(*e, "PATH="))
			path = *e + 5;
	if (!argv[0])
		die_child(efd, "no command specified");
	make_mounts(spec, efd);
	if (*cwd && chdir(cwd) < 0 && errno == ENOENT)
		mkdirs(cwd, 0755);   /* runc makes a missing working directory */
	if (chdir(*cwd ? cwd : "/") < 0)
		die_child(efd, "chdir to cwd (\"%s\") set in config.json failed: %s", cwd,
			  strerror(errno));
	exe = look_path(argv[0], path, buf, sizeof(buf), efd);
	drop_caps(spec, efd);
	set_user(spec, efd);
	/* close-on-exec: only its copy on fd 0 reaches the container (dup2
	 * clears the flag on the copy; already on 0, it keeps no flag) */
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull == 0)
		fcntl(0, F_SETFD, 0);
	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		die_child(efd, "cannot set up stdio: %s", strerror(errno));
	signal(SIGPIPE, SIG_DFL);
	execve(exe, argv, envp);
	int e = errno;
	snprintf(buf, sizeof(buf), "%s", strerror(e));
	buf[0] = (char)tolower((unsigned char)buf[0]);
	die_child(efd, "exec: \"%s\": %s", argv[0], buf);
}

/* ---- the shim's side ---- */

struct shim {
	cJSON *spec;
	const char *state_path, *log_path;
	int logfd;
	off_t logsize;
	int64_t started;
	struct strbuf part[2];
};

static void write_state(struct shim *s, cJSON *st)
{
	char *text = jprint(st), *tmp = xasprintf("%s.tmp", s->state_path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		if (write(fd, text, strlen(text)) < 0 || fsync(fd) < 0)
			perror("shim: state");
		close(fd);
		rename(tmp, s->state_path);
	}
	free(tmp);
	free(text);
	cJSON_Delete(st);
}

static void state_exited(struct shim *s, int code, int sig, const char *reason, const char *msg)
{
	cJSON *st = cJSON_CreateObject();
	cJSON_AddStringToObject(st, "state", "exited");
	cJSON_AddNumberToObject(st, "exitCode", code);
	cJSON_AddNumberToObject(st, "signal", sig);
	cJSON_AddNumberToObject(st, "startedAt", (double)s->started);
	cJSON_AddNumberToObject(st, "finishedAt", (double)now_ns());
	if (reason)
		cJSON_AddStringToObject(st, "reason", reason);
	if (msg)
		cJSON_AddStringToObject(st, "message", msg);
	write_state(s, st);
}

static void log_open(struct shim *s)
{
	struct stat st;
	s->logfd = open(s->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	s->logsize = s->logfd >= 0 && fstat(s->logfd, &st) == 0 ? st.st_size : 0;
}

/* RFC 3339 with nanoseconds, trailing zeros trimmed (Go's RFC3339Nano). */
static void ts_nano(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char frac[16];
	int n;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(frac, sizeof(frac), ".%09ld", ts.tv_nsec);
	while (n > 1 && frac[n - 1] == '0')
		frac[--n] = 0;
	if (n == 1)
		frac[0] = 0;
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d%sZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

static void log_line(struct shim *s, int stream, const char *text, size_t len, bool full)
{
	char ts[48];
	struct strbuf sb = STRBUF_INIT;
	ts_nano(ts, sizeof(ts));
	sb_addf(&sb, "%s %s %c ", ts, stream ? "stderr" : "stdout", full ? 'F' : 'P');
	sb_add(&sb, text, len);
	sb_addc(&sb, '\n');
	if (s->logfd >= 0 && write(s->logfd, sb.buf, sb.len) > 0)
		s->logsize += (off_t)sb.len;
	sb_release(&sb);
	if (s->logsize > LOG_MAX_BYTES) {
		char *old = xasprintf("%s.1", s->log_path);
		close(s->logfd);
		rename(s->log_path, old);
		free(old);
		log_open(s);
	}
}

#define PARTIAL_MAX 16384

static void log_chunk(struct shim *s, int stream, const char *buf, size_t n)
{
	struct strbuf *p = &s->part[stream];
	sb_add(p, buf, n);
	size_t start = 0;
	for (size_t i = 0; i < p->len; i++)
		if (p->buf[i] == '\n') {
			log_line(s, stream, p->buf + start, i - start, true);
			start = i + 1;
		}
	while (p->len - start >= PARTIAL_MAX) {
		log_line(s, stream, p->buf + start, PARTIAL_MAX, false);
		start += PARTIAL_MAX;
	}
	memmove(p->buf, p->buf + start, p->len - start);
	p->len -= start;
	if (p->buf)
		p->buf[p->len] = 0;
}

static void pump(struct shim *s, int out, int err, int sbfd, pid_t child)
{
	struct pollfd pf[3] = { { out, POLLIN, 0 }, { err, POLLIN, 0 }, { sbfd, POLLIN, 0 } };
	char buf[16384];
	int open_fds = 2;

	while (open_fds > 0) {
		if (poll(pf, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[2].revents) {
			kill(child, SIGKILL); /* the pod's sandbox is gone */
			pf[2].fd = -1;
		}
		for (int i = 0; i < 2; i++) {
			if (!pf[i].revents)
				continue;
			ssize_t n = read(pf[i].fd, buf, sizeof(buf));
			if (n > 0) {
				log_chunk(s, i, buf, (size_t)n);
			} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				close(pf[i].fd);
				pf[i].fd = -1;
				open_fds--;
			}
		}
	}
	for (int i = 0; i < 2; i++)
		if (s->part[i].len)
			log_line(s, i, s->part[i].buf, s->part[i].len, true);
}

static int start_failed(struct shim *s, const char *msg, pid_t child)
{
	if (child > 0)
		waitpid(child, NULL, 0);
	state_exited(s, 128, 0, "StartError", msg);
	printf("failed %s\n", msg);
	fflush(stdout);
	return 1;
}

static void report_started(struct shim *s, pid_t child)
{
	cJSON *st = cJSON_CreateObject();
	int devnull;
	cJSON_AddStringToObject(st, "state", "running");
	cJSON_AddNumberToObject(st, "pid", child);
	cJSON_AddNumberToObject(st, "startedAt", (double)s->started);
	write_state(s, st);
	printf("started %d %lld\n", (int)child, (long long)s->started);
	fflush(stdout);
	devnull = open("/dev/null", O_WRONLY);
	if (devnull >= 0) {
		dup2(devnull, 1);
		close(devnull);
	}
}

static int join_sandbox(const cJSON *spec, int *sbfd, struct lk_err *err)
{
	pid_t sb = (pid_t)jint(spec, "sandbox", 0);
	int flags = jbool(spec, "hostNetwork", false)
			    ? CLONE_NEWIPC : CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC;
	*sbfd = sb > 0 ? pidfd_open(sb, 0) : -1;
	if (*sbfd < 0 || setns(*sbfd, flags) < 0)
		return lk_error(err, LK_EINTERNAL, "cannot join the pod's sandbox (pid %d): %s",
				(int)sb, strerror(errno));
	return 0;
}

static int run(struct shim *s)
{
	int out[2], err[2], efd[2], sbfd, status;
	struct lk_err jerr = { 0 };
	char msg[1024];
	pid_t child;
	ssize_t n;

	if (join_sandbox(s->spec, &sbfd, &jerr) < 0)
		return start_failed(s, jerr.msg, 0);
	if (unshare(CLONE_NEWPID) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
	    pipe2(err, O_CLOEXEC) < 0 || pipe2(efd, O_CLOEXEC) < 0) {
		snprintf(msg, sizeof(msg), "cannot prepare the container: %s", strerror(errno));
		return start_failed(s, msg, 0);
	}
	s->started = now_ns();
	child = fork();
	if (child < 0) {
		snprintf(msg, sizeof(msg), "fork: %s", strerror(errno));
		return start_failed(s, msg, 0);
	}
	if (child == 0) {
		close(efd[0]);
		container_child(s->spec, out[1], err[1], efd[1]);
	}
	close(out[1]);
	close(err[1]);
	close(efd[1]);
	n = read(efd[0], msg, sizeof(msg) - 1);
	close(efd[0]);
	if (n > 0) {
		msg[n] = 0;
		close(out[0]);
		close(err[0]);
		return start_failed(s, msg, child);
	}
	report_started(s, child);
	pump(s, out[0], err[0], sbfd, child);
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(status))
		state_exited(s, 128 + WTERMSIG(status), WTERMSIG(status), NULL, NULL);
	else
		state_exited(s, WEXITSTATUS(status), 0, NULL, NULL);
	return 0;
}

/* argv: DATADIR UID CONTAINER ID */
int node_shim_main(int argc, char **argv)
{
	struct shim s = { 0 };
	char *base, *text;
	int rc;

	close_range(3, ~0u, 0);
	signal(SIGPIPE, SIG_IGN);
	if (argc < 4) {
		fprintf(stderr, "usage: labkube _shim DATADIR UID CONTAINER ID\n");
		return 2;
	}
	base = xasprintf("%s/pods/%s/%s/%s", argv[0], argv[1], argv[2], argv[3]);
	char *spec_path = xasprintf("%s.json", base);
	text = lk_read_file(spec_path, NULL);
	s.spec = text ? cJSON_Parse(text) : NULL;
	s.state_path = xasprintf("%s.state", base);
	s.log_path = xasprintf("%s.log", base);
	free(text);
	free(spec_path);
	if (!s.spec) {
		printf("failed cannot read the container's spec %s.json\n", base);
		return 1;
	}
	log_open(&s);
	rc = run(&s);
	cJSON_Delete(s.spec);
	free(base);
	return rc;
}
