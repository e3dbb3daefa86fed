/*
 * images/img_agnhost.c: registry.k8s.io/e2e-test-images/agnhost, the
 * image the upstream conformance tests run (kubernetes/kubernetes
 * test/images/agnhost): the cobra command ("app") and its subcommands
 * that are not servers: pause, dns-suffix, dns-server-list, etc-hosts,
 * entrypoint-tester, connect, logs-generator, mounttest. The servers live
 * in img_agnhost_srv.c (liveness, porter, serve-hostname, test-webserver)
 * and img_netexec.c.
 *
 * Output, exit codes and flag errors are upstream's, so the conformance
 * tests' expectations hold. Not built in: the webhook, guestbook, nettest,
 * resource-consumer and the other subcommands that need the API or TLS;
 * asking for them says so.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "images/img.h"

/* ------------------------------------------------------------- the command */

int img_agn_flags(const struct img_flag *fl, int argc, char **argv, char ***pos)
{
	int n = img_flags(fl, argc - 2, argv + 2, 0);

	if (n < 0) {
		fprintf(stderr, "Run 'app %s --help' for usage.\n", argv[1]);
		return -1;
	}
	*pos = argv + 2;
	return n;
}

static void go_panic(const char *msg)
{
	fprintf(stderr, "panic: %s\n\ngoroutine 1 [running]:\nmain.main()\n", msg);
	fflush(stdout);
	exit(2);
}

/* agnhost pause: "Paused"; SIGINT exits 1, SIGTERM exits 2. */
static int agn_pause(int argc, char **argv)
{
	sigset_t set;
	int sig = 0;

	printf("Paused\n");
	fflush(stdout);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGCHLD, SIG_IGN); /* no zombies when we are PID 1 */
	while (sigwait(&set, &sig) != 0)
		;
	return sig == SIGINT ? 1 : 2;
}

/* The fields after `key` on the first resolv.conf line starting with it,
 * split on single spaces like Go's strings.Split, joined with ','. */
static int resolv_list(const char *key)
{
	char *data = lk_read_file("/etc/resolv.conf", NULL), *save = NULL, *line;
	struct strbuf out = STRBUF_INIT;

	if (!data)
		go_panic("open /etc/resolv.conf: no such file or directory");
	for (line = strtok_r(data, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, key, strlen(key)))
			continue;
		int n = 0;
		for (char *p = strchr(line, ' '); p; p = strchr(p + 1, ' '))
			sb_addf(&out, "%s%.*s", n++ ? "," : "",
				(int)strcspn(p + 1, " "), p + 1);
		printf("%s\n", out.buf ? out.buf : "");
		sb_release(&out);
		free(data);
		return 0;
	}
	go_panic("Could not find DNS search list!");
	return 2;
}

static int agn_dns_suffix(int argc, char **argv)
{
	return resolv_list("search");
}

static int agn_dns_servers(int argc, char **argv)
{
	return resolv_list("nameserver");
}

static int agn_etc_hosts(int argc, char **argv)
{
	char *data = lk_read_file("/etc/hosts", NULL);

	if (!data)
		go_panic("open /etc/hosts: no such file or directory");
	printf("%s\n", data);
	free(data);
	return 0;
}

/* fmt.Printf("%v\n", os.Args) */
static int agn_entrypoint_tester(int argc, char **argv)
{
	printf("[");
	for (int i = 0; i < argc; i++)
		printf("%s%s", i ? " " : "", argv[i]);
	printf("]\n");
	return 0;
}

/* --------------------------------------------------------------- connect */

static struct {
	int64_t timeout;
	const char *protocol, *udp_data;
} conn_opt = { 0, "tcp", "hostname" };

/* Go's net.SplitHostPort + resolution; exits like connect does. */
static struct addrinfo *resolve(const char *dest, int socktype)
{
	struct addrinfo hints = { .ai_socktype = socktype }, *ai = NULL;
	const char *colon = strrchr(dest, ':');
	char host[256];
	int rc;

	if (!colon) {
		fprintf(stderr, "UNKNOWN: address %s: missing port in address\n", dest);
		exit(1);
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - dest), dest);
	if (host[0] == '[' && strlen(host) > 1 && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = 0;
	}
	rc = getaddrinfo(*host ? host : NULL, colon + 1, &hints, &ai);
	if (rc != 0) {
		fprintf(stderr, "DNS: lookup %s: %s\n", host,
			rc == EAI_NONAME ? "no such host" : gai_strerror(rc));
		exit(1);
	}
	return ai;
}

static int wait_connect(int fd, int64_t timeout_ns)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int err = 0;
	socklen_t len = sizeof(err);
	int ms = timeout_ns > 0 ? (int)(timeout_ns / 1000000) : -1;

	if (poll(&p, 1, ms) == 0)
		return ETIMEDOUT;
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	return err;
}

static int connect_tcp(const char *dest)
{
	struct addrinfo *ai = resolve(dest, SOCK_STREAM);
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int err = connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ? 0 : errno;

	if (err == EINPROGRESS)
		err = wait_connect(fd, conn_opt.timeout);
	close(fd);
	freeaddrinfo(ai);
	if (!err)
		return 0;
	if (err == ETIMEDOUT)
		fprintf(stderr, "TIMEOUT\n");
	else if (err == ECONNREFUSED)
		fprintf(stderr, "REFUSED\n");
	else
		fprintf(stderr, "OTHER: dial tcp %s: connect: %s\n", dest, img_errstr(err));
	return 1;
}

static int udp_fail(int err, const char *dest)
{
	if (err == EAGAIN || err == ETIMEDOUT)
		fprintf(stderr, "TIMEOUT: read udp %s: i/o timeout\n", dest);
	else if (err == ECONNREFUSED)
		fprintf(stderr, "REFUSED: read udp %s: connection refused\n", dest);
	else
		fprintf(stderr, "UNKNOWN: read udp %s: %s\n", dest, img_errstr(err));
	return 1;
}

static int connect_udp(const char *dest)
{
	struct addrinfo *ai = resolve(dest, SOCK_DGRAM);
	int fd = socket(ai->ai_family, SOCK_DGRAM, 0);
	char *msg = xasprintf("%s\n", conn_opt.udp_data), buf[1024];
	struct timeval tv = { .tv_sec = conn_opt.timeout / 1000000000,
			      .tv_usec = conn_opt.timeout % 1000000000 / 1000 };
	ssize_t n = -1;
	int rc = 1;

	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		fprintf(stderr, "OTHER: dial udp %s: %s\n", dest, img_errstr(errno));
	else {
		if (conn_opt.timeout > 0)
			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (send(fd, msg, strlen(msg), 0) < 0 || (n = recv(fd, buf, sizeof(buf), 0)) < 0)
			rc = udp_fail(errno, dest);
		else if (n == 0)
			fprintf(stderr, "OTHER: No data received from the server. Cannot "
				"guarantee the server received the request.\n");
		else
			rc = 0;
	}
	free(msg);
	close(fd);
	freeaddrinfo(ai);
	return rc;
}

static int agn_connect(int argc, char **argv)
{
	static const struct img_flag fl[] = {
		{ "timeout", 0, IMG_DUR, &conn_opt.timeout },
		{ "protocol", 0, IMG_STR, &conn_opt.protocol },
		{ "udp-data", 0, IMG_STR, &conn_opt.udp_data },
		{ NULL, 0, 0, NULL },
	};
	char **pos;
	int n = img_agn_flags(fl, argc, argv, &pos);

	if (n < 0)
		return 1;
	if (n != 1) {
		fprintf(stderr, "Error: accepts 1 arg(s), received %d\n", n);
		return 1;
	}
	if (!strcmp(conn_opt.protocol, "") || !strcmp(conn_opt.protocol, "tcp"))
		return connect_tcp(pos[0]);
	if (!strcmp(conn_opt.protocol, "udp"))
		return connect_udp(pos[0]);
	if (!strcmp(conn_opt.protocol, "sctp"))
		fprintf(stderr, "OTHER: sctp is not supported by labkube's agnhost\n");
	else
		fprintf(stderr, "Unsupported protocol\n%s", conn_opt.protocol);
	return 1;
}

/* -------------------------------------------------------- logs-generator */

static int agn_logs_generator(int argc, char **argv)
{
	static const char *const methods[] = { "GET", "POST", "PUT" };
	static const char *const nss[] = { "kube-system", "default", "ns" };
	static const char alnum[] = "bcdfghjklmnpqrstvwxz2456789";
	int lines = 0;
	int64_t dur = 0;
	const struct img_flag fl[] = {
		{ "log-lines-total", 't', IMG_INT, &lines },
		{ "run-duration", 'd', IMG_DUR, &dur },
		{ NULL, 0, 0, NULL },
	};
	char **pos, name[8];

	if (img_agn_flags(fl, argc, argv, &pos) < 0)
		return 1;
	if (lines <= 0) {
		img_klog('F', "logs_generator.go", 66, "Invalid total number of lines: %d", lines);
		return 255;
	}
	if (dur <= 0) {
		img_klog('F', "logs_generator.go", 70, "Invalid duration: 0s");
		return 255;
	}
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	for (int id = 0; id < lines; id++) {
		int len = 3 + rand() % 2;
		struct timespec ts = { .tv_sec = dur / lines / 1000000000,
				       .tv_nsec = dur / lines % 1000000000 };
		for (int i = 0; i < len; i++)
			name[i] = alnum[rand() % (int)(sizeof(alnum) - 1)];
		name[len] = 0;
		img_klog('I', "logs_generator.go", 79, "%d %s /api/v1/namespaces/%s/pods/%s %d",
			 id, methods[rand() % 3], nss[rand() % 3], name, 200 + rand() % 400);
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* ------------------------------------------------------------- mounttest */

static struct {
	const char *fs_type, *file_mode, *file_perm, *file_owner;
	const char *new0644, *new0666, *new0660, *new0777;
	const char *content, *content_loop;
	int retry;
	bool break_on_expected;
} mt = { .retry = 180, .break_on_expected = true };

#define MT_CONTENT "mount-tester new file\n"

/* printf("<what> %q: %v\n", path, rest) */
static void printq(const char *what, const char *path, const char *rest)
{
	struct strbuf q = STRBUF_INIT;

	img_go_quote(&q, path);
	printf("%s %s: %s\n", what, q.buf, rest);
	sb_release(&q);
}

/* Go's FileMode.String() of a stat mode; perm_only: Mode().Perm(). */
static void go_mode(mode_t m, bool perm_only, char *buf)
{
	static const char rwx[] = "rwxrwxrwx";
	int w = 0;

	if (!perm_only) {
		if (S_ISDIR(m)) buf[w++] = 'd';
		if (S_ISLNK(m)) buf[w++] = 'L';
		if (S_ISBLK(m) || S_ISCHR(m)) buf[w++] = 'D';
		if (S_ISFIFO(m)) buf[w++] = 'p';
		if (S_ISSOCK(m)) buf[w++] = 'S';
		if (m & S_ISUID) buf[w++] = 'u';
		if (m & S_ISGID) buf[w++] = 'g';
		if (S_ISCHR(m)) buf[w++] = 'c';
		if (m & S_ISVTX) buf[w++] = 't';
	}
	if (!w)
		buf[w++] = '-';
	for (int i = 0; i < 9; i++)
		buf[w++] = m & (1 << (8 - i)) ? rwx[i] : '-';
	buf[w] = 0;
}

/* printf("error from statfs(%q): %v\n", path, err) */
static void stat_error(const char *fn, const char *path, const char *err)
{
	struct strbuf q = STRBUF_INIT;

	img_go_quote(&q, path);
	printf("error from %s(%s): %s\n", fn, q.buf, err);
	sb_release(&q);
}

static int mt_read(const char *path)
{
	char *data;
	char err[256];

	if (!path)
		return 0;
	if (!(data = lk_read_file(path, NULL))) {
		snprintf(err, sizeof(err), "open %s: %s", path, img_errstr(errno));
		printq("error reading file content for", path, err);
		return -1;
	}
	printq("content of file", path, data);
	free(data);
	return 0;
}

static int mt_new_file(const char *path, mode_t perm)
{
	char err[256];
	int fd;

	if (!path)
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, perm);
	if (fd < 0 || write(fd, MT_CONTENT, strlen(MT_CONTENT)) < 0) {
		snprintf(err, sizeof(err), "open %s: %s", path, img_errstr(errno));
		printq("error writing new file", path, err);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return mt_read(path);
}

static int mt_stat(const char *path, int what)
{
	struct stat st;
	struct statfs sf;
	char buf[64];

	if (!path)
		return 0;
	if (what == 0 ? statfs(path, &sf) < 0 : stat(path, &st) < 0) {
		snprintf(buf, sizeof(buf), "%s", img_errstr(errno));
		stat_error(what == 0 ? "statfs" : "Stat", path, buf);
		return -1;
	}
	if (what == 0) {
		if (sf.f_type == 0x01021994)
			snprintf(buf, sizeof(buf), "tmpfs");
		else
			snprintf(buf, sizeof(buf), "%ld", (long)sf.f_type);
		printq("mount type of", path, buf);
	} else if (what == 3) {
		snprintf(buf, sizeof(buf), "%u", (unsigned)st.st_uid);
		printq("owner UID of", path, buf);
		snprintf(buf, sizeof(buf), "%u", (unsigned)st.st_gid);
		printq("owner GID of", path, buf);
	} else {
		go_mode(st.st_mode, what == 2, buf);
		printq(what == 1 ? "mode of file" : "perms of file", path, buf);
	}
	return 0;
}

static int mt_loop(const char *path)
{
	uint64_t end = lk_now_ms() + (uint64_t)mt.retry * 1000;
	int rc = -1;

	if (!path)
		return 0;
	for (; lk_now_ms() < end; sleep(2)) {
		char *data = lk_read_file(path, NULL);
		if (!data) {
			printf("Error reading file %s: open %s: %s, retrying\n", path,
			       path, img_errstr(errno));
			rc = -1;
			continue;
		}
		rc = 0;
		printq("content of file", path, data);
		bool expected = !strcmp(data, MT_CONTENT);
		free(data);
		if (!mt.break_on_expected)
			continue;
		if (expected)
			break;
		printf("Unexpected content. Expected: %s. Retrying\n", MT_CONTENT);
	}
	return rc;
}

static int agn_mounttest(int argc, char **argv)
{
	const struct img_flag fl[] = {
		{ "fs_type", 0, IMG_STR, &mt.fs_type },
		{ "file_mode", 0, IMG_STR, &mt.file_mode },
		{ "file_perm", 0, IMG_STR, &mt.file_perm },
		{ "file_owner", 0, IMG_STR, &mt.file_owner },
		{ "new_file_0644", 0, IMG_STR, &mt.new0644 },
		{ "new_file_0666", 0, IMG_STR, &mt.new0666 },
		{ "new_file_0660", 0, IMG_STR, &mt.new0660 },
		{ "new_file_0777", 0, IMG_STR, &mt.new0777 },
		{ "file_content", 0, IMG_STR, &mt.content },
		{ "file_content_in_loop", 0, IMG_STR, &mt.content_loop },
		{ "retry_time", 0, IMG_INT, &mt.retry },
		{ "break_on_expected_content", 0, IMG_BOOL, &mt.break_on_expected },
		{ NULL, 0, 0, NULL },
	};
	char **pos;
	int bad = 0;

	if (img_agn_flags(fl, argc, argv, &pos) < 0)
		return 1;
	umask(0);
	/* upstream's order: one command checks, writes, then reads */
	bad |= mt_stat(mt.fs_type, 0);
	bad |= mt_new_file(mt.new0644, 0644);
	bad |= mt_new_file(mt.new0666, 0666);
	bad |= mt_new_file(mt.new0660, 0660);
	bad |= mt_new_file(mt.new0777, 0777);
	bad |= mt_stat(mt.file_mode, 1);
	bad |= mt_stat(mt.file_perm, 2);
	bad |= mt_stat(mt.file_owner, 3);
	bad |= mt_read(mt.content);
	bad |= mt_loop(mt.content_loop);
	return bad ? 1 : 0;
}

/* ------------------------------------------------------------- dispatch */

static const struct subcmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} subcmds[] = {
	{ "connect", agn_connect,
	  "Attempts a TCP, UDP or SCTP connection and returns useful errors" },
	{ "dns-server-list", agn_dns_servers, "Prints the host's DNS Server list" },
	{ "dns-suffix", agn_dns_suffix, "Prints the host's DNS suffix list" },
	{ "entrypoint-tester", agn_entrypoint_tester,
	  "Prints the args it's passed and exits" },
	{ "etc-hosts", agn_etc_hosts, "Prints the host's /etc/hosts file" },
	{ "liveness", img_agn_liveness, "Starts a server that is alive for 10 seconds" },
	{ "logs-generator", agn_logs_generator,
	  "Outputs lines of logs to stdout uniformly" },
	{ "mounttest", agn_mounttest, "Creates files with given permissions and "
	  "outputs FS type, owner, mode, permissions, contents of files" },
	{ "netexec", img_agn_netexec, "Creates HTTP(S), UDP, and (optionally) SCTP "
	  "servers with various endpoints" },
	{ "pause", agn_pause, "Pauses the execution" },
	{ "porter", img_agn_porter,
	  "Serves requested data on ports specified in ENV variables" },
	{ "serve-hostname", img_agn_serve_hostname, "Serves the hostname" },
	{ "test-webserver", img_agn_test_webserver, "Starts a simple HTTP fileserver" },
};

static int usage(FILE *f)
{
	fprintf(f, "Usage:\n  app [command]\n\nAvailable Commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(subcmds); i++)
		fprintf(f, "  %-18s %s\n", subcmds[i].name, subcmds[i].help);
	fprintf(f, "\nFlags:\n  -h, --help      help for app\n  -v, --v Level   "
		"number for the log level verbosity\n      --version   version for "
		"app\n\nUse \"app [command] --help\" for more information about a "
		"command.\n");
	return 0;
}

int img_agnhost_main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help"))
		return usage(stdout);
	if (!strcmp(argv[1], "--version")) {
		printf("app version %s\n", strcmp(img_version(), "latest")
						   ? img_version() : "2.53");
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(subcmds); i++)
		if (!strcmp(subcmds[i].name, argv[1]))
			return subcmds[i].fn(argc, argv);
	fprintf(stderr, "Error: unknown command \"%s\" for \"app\"\nRun 'app --help' "
		"for usage.\n", argv[1]);
	return 1;
}
