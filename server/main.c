/*
 * server/main.c: the labkube binary. A small sorted applet table
 * (`labkube server`, `labkube version`), the configuration table behind the
 * flags and --help, and the start/stop order of the components.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <malloc.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/ip.h"
#include "common/lockfile.h"
#include "common/loop.h"
#include "common/util.h"
#include "dns/dns.h"
#include "images/images.h"
#include "proxy/proxy.h"
#include "server/api/api.h"
#include "server/controllers/controllers.h"
#include "server/labkube.h"
#include "server/node/node.h"
#include "server/registry/registry.h"
#include "server/store/store.h"

/* ---- configuration: one table feeds flags and --help ---- */

enum opt_type { OPT_STR, OPT_INT, OPT_BOOL };

struct option_def {
	const char *name;
	enum opt_type type;
	size_t off;
	const char *dflt;   /* shown in --help; NULL = computed at start */
	const char *help;
};

#define CFG(f) offsetof(struct config, f)
static const struct option_def options[] = {
	{ "cluster-dns", OPT_STR, CFG(cluster_dns), "10.96.0.10", "the cluster DNS service IP written into pods' resolv.conf" },
	{ "cluster-domain", OPT_STR, CFG(cluster_domain), "cluster.local", "DNS domain of the cluster" },
	{ "data-dir", OPT_STR, CFG(data_dir), NULL, "where the database and kubeconfig live (/var/lib/labkube as root, else $XDG_DATA_HOME/labkube)" },
	{ "dns-listen", OPT_STR, CFG(dns_listen), NULL, "more addresses for the cluster DNS, IP:PORT[,IP:PORT...] (it always serves port 53 of the bridge address)" },
	{ "dns-ttl", OPT_INT, CFG(dns_ttl), "5", "TTL of cluster DNS records, seconds" },
	{ "dns-upstream", OPT_STR, CFG(dns_upstream), NULL, "resolvers for names outside the cluster, IP[:PORT][,...] (default: the host's /etc/resolv.conf)" },
	{ "history-revisions", OPT_INT, CFG(history_revisions), "10000", "revisions of change history kept for watches" },
	{ "history-seconds", OPT_INT, CFG(history_seconds), "3600", "seconds of change history kept for watches" },
	{ "lb-pool", OPT_STR, CFG(lb_pool), NULL, "addresses for LoadBalancer services: a CIDR or FIRST-LAST (default: the node IP)" },
	{ "listen", OPT_STR, CFG(listen), "127.0.0.1:6443", "address of the API (plain HTTP)" },
	{ "node-ip", OPT_STR, CFG(node_ip), NULL, "the node's address (default: the interface of the default route)" },
	{ "node-name", OPT_STR, CFG(node_name), NULL, "the node's name (default: the hostname)" },
	{ "pod-cidr", OPT_STR, CFG(pod_cidr), "10.244.0.0/16", "the range of pod IPs (the bridge labkube0 takes the first)" },
	{ "quiet", OPT_BOOL, CFG(quiet), "false", "print nothing but errors" },
	{ "service-cidr", OPT_STR, CFG(service_cidr), "10.96.0.0/12", "the range of cluster IPs" },
	{ "service-node-port-range", OPT_STR, CFG(node_port_range), "30000-32767", "the range of node ports" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: labkube server [flags]\n\nflags:\n");
	for (size_t i = 0; i < ARRAY_SIZE(options); i++) {
		char left[64];
		snprintf(left, sizeof(left), "--%s%s", options[i].name,
			 options[i].type == OPT_BOOL ? "" : " VALUE");
		fprintf(f, "  %-28s %s", left, options[i].help);
		if (options[i].dflt)
			fprintf(f, " (default %s)", options[i].dflt);
		fputc('\n', f);
	}
}

static void set_option(struct config *cfg, const struct option_def *o, const char *v)
{
	char *p = (char *)cfg + o->off;
	switch (o->type) {
	case OPT_STR:
		free(*(char **)p);
		*(char **)p = xstrdup(v);
		break;
	case OPT_INT:
		*(int *)p = atoi(v);
		break;
	case OPT_BOOL:
		*(bool *)p = !v || !strcmp(v, "true") || !strcmp(v, "1");
		break;
	}
}

static const struct option_def *find_option(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(options); i++)
		if (strlen(options[i].name) == len && !strncmp(options[i].name, name, len))
			return &options[i];
	return NULL;
}

static int parse_flags(struct config *cfg, int argc, char **argv)
{
	for (size_t i = 0; i < ARRAY_SIZE(options); i++)
		if (options[i].dflt)
			set_option(cfg, &options[i], options[i].dflt);
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *eq;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		}
		if (strncmp(a, "--", 2) != 0)
			goto bad;
		a += 2;
		eq = strchr(a, '=');
		const struct option_def *o = find_option(a, eq ? (size_t)(eq - a) : strlen(a));
		if (!o)
			goto bad;
		if (eq)
			set_option(cfg, o, eq + 1);
		else if (o->type == OPT_BOOL)
			set_option(cfg, o, NULL);
		else if (i + 1 < argc)
			set_option(cfg, o, argv[++i]);
		else
			goto bad;
		continue;
bad:
		fprintf(stderr, "labkube server: unknown or incomplete flag '%s'\n", argv[i]);
		usage(stderr);
		return -1;
	}
	return 0;
}

/* The address of the interface with the default route, else the first
 * non-loopback IPv4 address, else 127.0.0.1. */
static char *default_node_ip(void)
{
	char ifname[IF_NAMESIZE + 1] = "", line[256];
	FILE *f = fopen("/proc/net/route", "r");
	struct ifaddrs *ifs = NULL;
	char *ip = NULL;

	while (f && fgets(line, sizeof(line), f)) {
		char name[IF_NAMESIZE + 1];
		unsigned long dst;
		if (sscanf(line, "%16s %lx", name, &dst) == 2 && dst == 0) {
			memcpy(ifname, name, sizeof(ifname));
			break;
		}
	}
	if (f)
		fclose(f);
	if (getifaddrs(&ifs) == 0) {
		for (int pass = 0; pass < 2 && !ip; pass++)
			for (struct ifaddrs *i = ifs; i && !ip; i = i->ifa_next) {
				char buf[LK_IP_STRLEN];
				struct lk_ip a;
				if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET ||
				    (i->ifa_flags & IFF_LOOPBACK))
					continue;
				if (pass == 0 && strcmp(i->ifa_name, ifname) != 0)
					continue;
				lk_ip_from_sockaddr(i->ifa_addr, &a, NULL);
				ip = xstrdup(lk_ip_format(&a, buf));
			}
		freeifaddrs(ifs);
	}
	return ip ? ip : xstrdup("127.0.0.1");
}

static char *default_data_dir(void)
{
	const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	if (geteuid() == 0)
		return xstrdup("/var/lib/labkube");
	if (xdg && *xdg)
		return xasprintf("%s/labkube", xdg);
	return xasprintf("%s/.local/share/labkube", home ? home : "/tmp");
}

static void fill_defaults(struct config *cfg)
{
	char host[HOST_NAME_MAX + 1] = "localhost";
	if (!cfg->data_dir)
		cfg->data_dir = default_data_dir();
	if (!cfg->node_ip)
		cfg->node_ip = default_node_ip();
	if (!cfg->node_name) {
		gethostname(host, sizeof(host) - 1);
		for (char *p = host; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		cfg->node_name = xstrdup(host);
	}
}

static void config_release(struct config *cfg)
{
	for (size_t i = 0; i < ARRAY_SIZE(options); i++)
		if (options[i].type == OPT_STR) {
			char **p = (char **)((char *)cfg + options[i].off);
			free(*p);
			*p = NULL;
		}
}

/* ---- start-up files ---- */

static int mkdir_p(const char *path)
{
	char *p = xstrdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		mkdir(p, 0755);
		*s = '/';
	}
	int rc = mkdir(p, 0755);
	free(p);
	return rc < 0 && errno != EEXIST ? -1 : 0;
}

static int write_kubeconfig(const char *path, const char *server)
{
	char *tmp = xasprintf("%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		free(tmp);
		return -1;
	}
	fprintf(f,
		"apiVersion: v1\n"
		"kind: Config\n"
		"clusters:\n"
		"- name: labkube\n"
		"  cluster:\n"
		"    server: %s\n"
		"users:\n"
		"- name: labkube\n"
		"  user: {}\n"
		"contexts:\n"
		"- name: labkube\n"
		"  context:\n"
		"    cluster: labkube\n"
		"    user: labkube\n"
		"    namespace: default\n"
		"current-context: labkube\n"
		"preferences: {}\n",
		server);
	int rc = fclose(f) == 0 ? rename(tmp, path) : -1;
	free(tmp);
	return rc;
}

static void write_kubeconfigs(struct labkube *lk, char **used)
{
	char *path = xasprintf("%s/kubeconfig", lk->cfg.data_dir);
	const char *home = getenv("HOME");
	if (write_kubeconfig(path, lk->server_url) < 0)
		lk_log("labkube: cannot write '%s': %s", path, strerror(errno));
	*used = path;
	if (home && *home) {
		char *dir = xasprintf("%s/.kube", home), *cfg = xasprintf("%s/config", dir);
		if (access(cfg, F_OK) != 0 && mkdir_p(dir) == 0 &&
		    write_kubeconfig(cfg, lk->server_url) == 0) {
			free(*used);
			*used = cfg;
			cfg = NULL;
		}
		free(dir);
		free(cfg);
	}
}

/* ---- one cluster per data dir and per network namespace ---- */

#define RUN_DIR "/run/labkube"

/* The data dir's lock: a second server on it would share its database. */
static int lock_data_dir(struct lockfile *lf, const char *dir)
{
	char *path = xasprintf("%s/lock", dir);
	pid_t pid;
	int rc = lockfile_take(lf, path, &pid), e = errno;

	if (rc < 0 && e == EWOULDBLOCK)
		lk_log("labkube: data dir '%s' is in use by another labkube server (pid %d)",
		       dir, (int)pid);
	else if (rc < 0)
		lk_log("labkube: cannot lock data dir '%s': %s: %s", dir, path, strerror(e));
	free(path);
	return rc;
}

/* The network namespace's lock: a second server there would fight over the
 * bridge, the nftables table and the addresses. An unprivileged server,
 * which cannot write RUN_DIR, programs nothing there and goes without (its
 * API address alone is exclusive). */
static int lock_netns(struct lockfile *lf)
{
	char *path = lockfile_netns_path(RUN_DIR), *ns;
	const char *what = path;
	pid_t pid = 0;
	int rc = -1, e = errno;

	if (!path)
		what = "/proc/self/ns/net";
	else if (mkdir(RUN_DIR, 0755) < 0 && errno != EEXIST)
		e = errno, what = RUN_DIR;
	else if ((rc = lockfile_take(lf, path, &pid)) < 0)
		e = errno;
	if (rc < 0 && geteuid() != 0 && (e == EACCES || e == EPERM || e == EROFS))
		rc = 0;
	if (rc < 0) {
		ns = lockfile_netns_name();
		if (e == EWOULDBLOCK)
			lk_log("labkube: %s is in use by another labkube (pid %d)", ns, (int)pid);
		else
			lk_log("labkube: cannot lock %s: %s: %s", ns, what, strerror(e));
		free(ns);
	}
	free(path);
	return rc;
}

static int lock_cluster(struct lockfile *dir_lock, struct lockfile *ns_lock, const char *dir)
{
	if (lock_data_dir(dir_lock, dir) < 0 || lock_netns(ns_lock) < 0)
		return -1;
	return 0;
}

/* ---- the server ---- */

static void on_signal(struct loop *l, int fd, int events, void *arg)
{
	struct signalfd_siginfo si;
	if (read(fd, &si, sizeof(si)) == sizeof(si))
		loop_stop(l);
}

static int64_t cron(struct loop *l, void *arg)
{
	struct labkube *lk = arg;
	struct lk_err err = { 0 };
	if (store_compact(lk->store, &err) < 0) {
		lk_log("store: compaction failed: %s", err.msg);
		lk_err_clear(&err);
	}
	return 30000;
}

/*
 * Give freed heap back to the kernel after bulk work. glibc returns only
 * the top of the heap by itself; the objects of a burst of changes (their
 * copies, JSON buffers, a large LIST's parse and print) are freed all over
 * it, and the free pages stayed resident: 1,000 pods left about 11 MiB of
 * them behind (measured with malloc_stats and malloc_trim). SQLite's page
 * cache (2 MiB once the database outgrows it) goes first, to be read again
 * from the kernel's page cache as needed.
 *
 * There is something to give back when the store has committed, or the
 * heap's free bytes grew by TRIM_FREED, since the last trim. Trim then once
 * the server is quiet (no commit and the heap's use unchanged within
 * TRIM_FREED over the last tick), or every TRIM_BUSY_MS under sustained
 * work: a trim walks the free chunks and the pages it gives back are
 * faulted in again by the next burst, so it waits for the burst to end.
 * An idle server does not trim.
 */
#define TRIM_TICK_MS 1000
#define TRIM_BUSY_MS 10000
#define TRIM_FREED (1024 * 1024)

struct trim {
	struct labkube *lk;
	int64_t rev;        /* the committed revision at the last trim */
	size_t freed;       /* free bytes in the heap after the last trim */
	uint64_t last;      /* monotonic ms of the last trim */
	int64_t tick_rev;   /* the revision and heap use at the last tick */
	size_t tick_used;
};

static int64_t trim_tick(struct loop *l, void *arg)
{
	struct trim *t = arg;
	int64_t rev = store_committed_rev(t->lk->store);
	uint64_t now = lk_now_ms();
	struct mallinfo2 mi = mallinfo2();
	size_t used = mi.uordblks;
	bool quiet = rev == t->tick_rev &&
		     (used > t->tick_used ? used - t->tick_used : t->tick_used - used) < TRIM_FREED;

	t->tick_rev = rev;
	t->tick_used = used;
	if (rev == t->rev && mi.fordblks < t->freed + TRIM_FREED)
		return TRIM_TICK_MS;
	if (!quiet && now - t->last < TRIM_BUSY_MS)
		return TRIM_TICK_MS;
	store_release_memory(t->lk->store);
	malloc_trim(0);
	t->rev = rev;
	t->freed = mallinfo2().fordblks;
	t->last = now;
	return TRIM_TICK_MS;
}

static int cmd_server(int argc, char **argv)
{
	struct trim trim = { 0 };
	struct labkube lk = { 0 };
	struct lk_err err = { 0 };
	struct lockfile dir_lock = LOCKFILE_INIT, ns_lock = LOCKFILE_INIT;
	struct store_opts so;
	struct registry_opts ropts;
	sigset_t mask;
	int sfd, rc = 1;
	char *dbpath = NULL, *kcfg = NULL;

	if (parse_flags(&lk.cfg, argc, argv) < 0)
		return 2;
	fill_defaults(&lk.cfg);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

	if (mkdir_p(lk.cfg.data_dir) < 0)
		lk_die("labkube: cannot create data dir '%s': %s", lk.cfg.data_dir, strerror(errno));
	if (lock_cluster(&dir_lock, &ns_lock, lk.cfg.data_dir) < 0)
		goto out;
	dbpath = xasprintf("%s/labkube.db", lk.cfg.data_dir);
	so.keep_revisions = lk.cfg.history_revisions;
	so.keep_seconds = lk.cfg.history_seconds;
	lk.loop = loop_new();
	lk.store = store_open(dbpath, &so, &err);
	if (!lk.store) {
		lk_log("labkube: cannot open store '%s': %s", dbpath, err.msg);
		goto out;
	}
	/* Service allocators: ranges from the flags, state from the store. */
	ropts.service_cidr = lk.cfg.service_cidr;
	ropts.node_port_range = lk.cfg.node_port_range;
	lk.reg = registry_new(lk.loop, lk.store, &ropts, &err);
	if (!lk.reg) {
		lk_log("labkube: %s", err.msg);
		goto out;
	}
	snprintf(lk.server_url, sizeof(lk.server_url), "http://%s", lk.cfg.listen);
	lk.api = api_new(&lk, &err);
	if (!lk.api) {
		lk_log("labkube: %s", err.msg);
		goto out;
	}
	if (controllers_start(&lk) < 0 || node_start(&lk) < 0 || proxy_start(&lk) < 0 ||
	    dns_start(&lk) < 0)
		goto out;
	loop_fd_add(lk.loop, sfd, LOOP_READ, on_signal, &lk);
	loop_timer_add(lk.loop, 30000, cron, &lk);
	trim.lk = &lk;
	loop_timer_add(lk.loop, TRIM_TICK_MS, trim_tick, &trim);
	write_kubeconfigs(&lk, &kcfg);
	if (!lk.cfg.quiet)
		printf("labkube: API at %s; kubectl --kubeconfig %s\n", lk.server_url, kcfg);
	fflush(stdout);
	loop_run(lk.loop);
	rc = 0;
out:
	dns_stop(&lk);
	proxy_stop(&lk);
	node_stop(&lk);
	controllers_stop(&lk);
	api_free(lk.api);
	registry_free(lk.reg);
	store_free(lk.store);
	loop_free(lk.loop);
	lockfile_release(&ns_lock);
	lockfile_release(&dir_lock);
	lk_err_clear(&err);
	config_release(&lk.cfg);
	free(dbpath);
	free(kcfg);
	close(sfd);
	return rc;
}

/* `labkube cleanup`: everything labkube created on this host (the proxy's
 * table and route, the node's bridge and veths). Refused while a server
 * runs in this network namespace: it would rebuild them at once. It holds
 * the namespace's lock meanwhile, so no server starts halfway through. */
static int cmd_cleanup(int argc, char **argv)
{
	struct lockfile ns_lock = LOCKFILE_INIT;
	struct lk_err nerr = { 0 };
	char *path = lockfile_netns_path(RUN_DIR);
	pid_t pid = 0;
	int rc;

	if (path)
		mkdir(RUN_DIR, 0755);   /* without it, no server holds the lock */
	if (path && lockfile_take(&ns_lock, path, &pid) < 0 && errno == EWOULDBLOCK) {
		fprintf(stderr, "labkube cleanup: a labkube server (pid %d) runs in this network "
			"namespace; stop it first\n", (int)pid);
		free(path);
		return 1;
	}
	free(path);
	rc = proxy_cleanup_cmd(argc, argv);
	if (node_host_cleanup(stdout, &nerr) < 0) {
		fprintf(stderr, "labkube cleanup: %s\n", nerr.msg);
		rc = 1;
	}
	lk_err_clear(&nerr);
	lockfile_release(&ns_lock);
	return rc;
}

static int cmd_version(int argc, char **argv)
{
	printf("labkube %s (Kubernetes %s)\n", LABKUBE_VERSION, K8S_GIT_VERSION);
	return 0;
}

/* Sorted by name. */
static const struct applet {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} applets[] = {
	{ "_image", image_exec_main, NULL },  /* internal: a container's process */
	{ "_sandbox", node_sandbox_main, NULL }, /* internal: holds a pod's namespaces */
	{ "_shim", node_shim_main, NULL },   /* internal: runs one container */
	{ "cleanup", cmd_cleanup, "remove what labkube created here (table, route, bridge, veths)" },
	{ "images", images_cmd, "list the built-in images pods can use" },
	{ "proxy", proxy_cmd, "proxy rules [NS/SVC]: the nftables rules of a service" },
	{ "server", cmd_server, "run the cluster (API, controllers, node, proxy, DNS)" },
	{ "version", cmd_version, "print the version" },
};

int main(int argc, char **argv)
{
	if (argc >= 2)
		for (size_t i = 0; i < ARRAY_SIZE(applets); i++)
			if (!strcmp(argv[1], applets[i].name))
				return applets[i].fn(argc - 2, argv + 2);
	fprintf(argc >= 2 ? stderr : stdout, "usage: labkube COMMAND [flags]\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(applets); i++)
		if (applets[i].help)
			fprintf(argc >= 2 ? stderr : stdout, "  %-10s %s\n", applets[i].name,
				applets[i].help);
	return argc >= 2 ? 2 : 0;
}
