/*
 * proxy/proxy.c: the service proxy as a component (proxy_start/stop) and
 * its applets (`labkube proxy rules`, `labkube cleanup`).
 *
 * Informers on Services, EndpointSlices and Nodes mark the proxy dirty; the
 * loop's before-sleep hook then plans from the informer caches (pure,
 * O(services)), diffs against the plan last applied, and sends only the
 * changed service ports to the back end in one batch. A full reconcile
 * runs at start (removing whatever an earlier run left) and whenever the
 * periodic read-back finds the kernel's table differs (flushed by hand);
 * after a failure the next sync is a full one, retried every second.
 * Faults never stop the server: logged once, reported by
 * the "proxy" readiness check (registered when the server may program the
 * kernel: server/registry/serve.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/json.h"
#include "common/loop.h"
#include "common/util.h"
#include "proxy/proxy.h"
#include "server/labkube.h"
#include "server/registry/informer.h"
#include "server/registry/serve.h"
#include "server/resources/resources.h"

struct proxy {
	struct labkube *lk;
	const struct proxy_backend *ops;
	void *be;
	struct informer *svcs, *slices, *nodes;
	struct loop_timer *timer;
	struct proxy_plan applied;
	struct proxy_health *health;
	bool dirty, need_full, route_ok;
	char *reason;           /* NULL: healthy */
	char *last_err;         /* log each distinct error once */
	uint64_t last_check;    /* last read-back (monotonic ms) */
};

static const char *ready_check(void *arg)
{
	const struct proxy *px = arg;
	return px->reason;
}

static void set_reason(struct proxy *px, const char *what, const char *err)
{
	char *r = err ? xasprintf("proxy: %s: %s", what, err) : NULL;
	if (r && (!px->last_err || strcmp(px->last_err, r))) {
		lk_log("%s", r);
		free(px->last_err);
		px->last_err = xstrdup(r);
	}
	if (!r) {
		free(px->last_err);
		px->last_err = NULL;
	}
	free(px->reason);
	px->reason = r;
}

struct collect {
	const cJSON **v;
	size_t n, cap;
};

static int collect_fn(void *arg, const cJSON *obj)
{
	struct collect *c = arg;
	if (c->n == c->cap)
		c->v = xrealloc(c->v, (c->cap = c->cap ? c->cap * 2 : 64) * sizeof(*c->v));
	c->v[c->n++] = obj;
	return 0;
}

/* UDP service ports that lost endpoints (or went away): flush their flows. */
static void ct_diff(void *arg, const struct proxy_svc *o, const struct proxy_svc *n)
{
	uint32_t *keep;
	size_t nkeep;
	struct lk_err err = { 0 };
	int rc = 0;
	if (!o || o->proto != IPPROTO_UDP || !o->neps)
		return;
	nkeep = n && n->neps ? n->naeps : 0;
	keep = xcalloc(nkeep ? nkeep : 1, sizeof(*keep));
	for (size_t i = 0; i < nkeep; i++)
		keep[i] = n->aeps[i].ip;
	for (size_t v = 0; !rc && v < o->nvips; v++)
		rc = proxy_conntrack_flush_udp(o->vips[v], o->port, keep, nkeep, &err);
	if (!rc && o->nodeport)
		rc = proxy_conntrack_flush_udp(0, o->nodeport, keep, nkeep, &err);
	if (rc < 0)
		lk_log("proxy: cannot flush conntrack of service '%s': %s", o->key, err.msg);
	lk_err_clear(&err);
	free(keep);
}

/* A sync that did not reach the kernel: say why, report the health checks
 * unhealthy, rebuild the whole table next time. Clears err, frees plan. */
static void sync_failed(struct proxy *px, const char *what, struct lk_err *err,
			struct proxy_plan *plan)
{
	set_reason(px, what, err->msg);
	lk_err_clear(err);
	proxy_health_sync(px->health, plan, false);
	proxy_plan_release(plan);
	px->need_full = true;
}

static void sync_now(struct proxy *px, bool full)
{
	struct collect s = { 0 }, e = { 0 };
	struct proxy_input in = { 0 };
	struct proxy_plan plan;
	struct lk_err err = { 0 };
	int rc;
	uint64_t t0 = lk_now_us();

	informer_foreach(px->svcs, NULL, collect_fn, &s);
	informer_foreach(px->slices, NULL, collect_fn, &e);
	in.svcs = s.v, in.nsvcs = s.n, in.slices = e.v, in.nslices = e.n;
	in.pod_cidr = px->lk->cfg.pod_cidr;
	in.node_name = px->lk->cfg.node_name;
	proxy_plan_build(&in, &plan);
	free(s.v);
	free(e.v);
	px->dirty = false;

	if (!px->be) {
		px->be = px->ops->init(&err);
		if (!px->be) {
			sync_failed(px, "nftables unavailable", &err, &plan);
			return;
		}
	}
	if (full || px->need_full)
		rc = px->ops->sync_full(px->be, &plan, &err);
	else
		rc = px->ops->sync_diff(px->be, &px->applied, &plan, &err);
	if (rc < 0 && !full && !px->need_full) {
		/* the kernel's table was not what we thought: rebuild */
		lk_err_clear(&err);
		rc = px->ops->sync_full(px->be, &plan, &err);
	}
	if (rc < 0) {
		/* err names the first changed service, as it is about it */
		sync_failed(px, "cannot program the services table", &err, &plan);
		return;
	}
	proxy_plan_diff(&px->applied, &plan, ct_diff, NULL);
	proxy_plan_release(&px->applied);
	px->applied = plan;
	px->need_full = false;
	if (!px->route_ok) {
		if (proxy_route_service_cidr(px->lk->cfg.service_cidr, PROXY_BRIDGE, false, &err) == 0)
			px->route_ok = true;
		lk_err_clear(&err);
	}
	set_reason(px, NULL, NULL);
	proxy_health_sync(px->health, &px->applied, true);
	lk_debug("proxy: %s sync of %zu service ports in %llu us", full ? "full" : "incremental",
		 plan.n, (unsigned long long)(lk_now_us() - t0));
}

static void on_change(void *arg, enum store_ev_type type, const cJSON *obj, const cJSON *old)
{
	struct proxy *px = arg;
	px->dirty = true;
}

static void before_sleep(struct loop *l, void *arg)
{
	struct proxy *px = arg;
	if (px->dirty)
		sync_now(px, false);
}

static int64_t tick(struct loop *l, void *arg)
{
	struct proxy *px = arg;
	struct lk_err err = { 0 };
	uint64_t now = lk_now_ms();
	int rc;
	if (px->need_full) {
		sync_now(px, true);
		return 1000;
	}
	if (!px->route_ok) {
		if (proxy_route_service_cidr(px->lk->cfg.service_cidr, PROXY_BRIDGE, false, &err) == 0)
			px->route_ok = true;
		lk_err_clear(&err);
	}
	proxy_health_sync(px->health, &px->applied, !px->reason);  /* retries binds */
	if (now - px->last_check >= PROXY_RESYNC_MS) {
		px->last_check = now;
		rc = px->ops->check(px->be, &px->applied, &err);
		if (rc < 0)
			lk_log("proxy: cannot read the table back: %s", err.msg);
		else if (rc == 0)
			lk_log("proxy: table 'ip %s' differs from the plan: rebuilding", PROXY_TABLE);
		lk_err_clear(&err);
		if (rc != 1)
			sync_now(px, true);
	}
	return px->route_ok ? 5000 : 1000;
}

static void write_sysctl(const char *path, const char *v)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(v, f);
		fclose(f);
	}
}

int proxy_start(struct labkube *lk)
{
	struct proxy *px = xcalloc(1, sizeof(*px));
	lk->proxy = px;
	px->lk = lk;
	px->ops = &proxy_nft_backend;
	/* localhost:NODE_PORT (iptables-mode kube-proxy does the same; the
	 * CVE-2020-8558 guard in filter-prerouting goes with it) */
	write_sysctl("/proc/sys/net/ipv4/conf/all/route_localnet", "1");
	write_sysctl("/proc/sys/net/ipv4/ip_forward", "1");
	px->svcs = informer_new(lk->reg, &res_service);
	px->slices = informer_new(lk->reg, &res_endpointslice);
	px->nodes = informer_new(lk->reg, &res_node);
	informer_on(px->svcs, on_change, px);
	informer_on(px->slices, on_change, px);
	informer_on(px->nodes, on_change, px);
	px->health = proxy_health_new(lk->loop);
	sync_now(px, true);
	loop_before_sleep(lk->loop, before_sleep, px);
	px->timer = loop_timer_add(lk->loop, 1000, tick, px);
	if (lk_net_privileged())
		registry_check_add(lk->reg, "proxy", ready_check, px);
	return 0;
}

void proxy_stop(struct labkube *lk)
{
	struct proxy *px = lk->proxy;
	if (!px)
		return;
	registry_check_del(lk->reg, "proxy");
	loop_before_sleep_del(lk->loop, before_sleep, px);
	loop_timer_del(lk->loop, px->timer);
	informer_free(px->svcs);
	informer_free(px->slices);
	informer_free(px->nodes);
	if (px->be)
		px->ops->free(px->be);
	proxy_health_free(px->health);
	proxy_plan_release(&px->applied);
	free(px->reason);
	free(px->last_err);
	free(px);
	lk->proxy = NULL;
}

/* ---- applets ---- */

/* GET http://host:port/path (HTTP/1.0); the body, or NULL. */
static char *http_get(const char *server, const char *path)
{
	char host[256] = "127.0.0.1", port[16] = "6443", buf[65536];
	const char *h = strncmp(server, "http://", 7) ? server : server + 7, *c;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	struct strbuf sb = STRBUF_INIT;
	char *body = NULL, *p;
	ssize_t n;
	int fd = -1;

	c = strchr(h, ':');
	if (c) {
		snprintf(host, sizeof(host), "%.*s", (int)(c - h), h);
		snprintf(port, sizeof(port), "%.*s", (int)strcspn(c + 1, "/"), c + 1);
	}
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return NULL;
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		goto out;
	dprintf(fd, "GET %s HTTP/1.0\r\nHost: %s\r\nAccept: application/json\r\n\r\n", path, host);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		sb_add(&sb, buf, (size_t)n);
	if (sb.buf && (p = strstr(sb.buf, "\r\n\r\n")) && !strncmp(sb.buf + 9, "200", 3))
		body = xstrdup(p + 4);
out:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	sb_release(&sb);
	return body;
}

static const char *server_url(int *argc, char ***argv)
{
	const char *env = getenv("LABKUBE_SERVER");
	const char *url = env && *env ? env : "http://127.0.0.1:6443";
	if (*argc >= 2 && !strcmp((*argv)[0], "--server")) {
		url = (*argv)[1];
		*argc -= 2, *argv += 2;
	}
	return url;
}

/* Whose endpoints are local: $LABKUBE_NODE_NAME, else the cluster's first
 * (on labkube, only) Node. *owned is freed by the caller. */
static const char *node_name(const char *url, char **owned)
{
	const char *env = getenv("LABKUBE_NODE_NAME");
	char *nj;
	cJSON *nv;

	if (env && *env)
		return env;
	nj = http_get(url, "/api/v1/nodes");
	nv = nj ? cJSON_Parse(nj) : NULL;
	*owned = nv ? xstrdup(jstr_or(cJSON_GetArrayItem(jget(nv, "items"), 0), "metadata.name", "")) : NULL;
	cJSON_Delete(nv);
	free(nj);
	return *owned && **owned ? *owned : NULL;
}

static int cmd_rules(int argc, char **argv)
{
	const char *url = server_url(&argc, &argv), *want = argc ? argv[0] : NULL;
	char *sj = http_get(url, "/api/v1/services"), *ej = NULL, *out, *key = NULL;
	cJSON *sv = NULL, *ev = NULL;
	char *node = NULL;
	struct collect s = { 0 }, e = { 0 };
	struct proxy_input in = { 0 };
	struct proxy_plan plan;
	const cJSON *it;
	int rc = 1;

	ej = http_get(url, "/apis/discovery.k8s.io/v1/endpointslices");
	sv = sj ? cJSON_Parse(sj) : NULL;
	ev = ej ? cJSON_Parse(ej) : NULL;
	if (!sv || !ev) {
		fprintf(stderr, "labkube proxy rules: cannot read services from %s\n", url);
		goto out;
	}
	cJSON_ArrayForEach(it, jget(sv, "items"))
		collect_fn(&s, it);
	cJSON_ArrayForEach(it, jget(ev, "items"))
		collect_fn(&e, it);
	in.svcs = s.v, in.nsvcs = s.n, in.slices = e.v, in.nslices = e.n;
	in.pod_cidr = getenv("LABKUBE_POD_CIDR") ? getenv("LABKUBE_POD_CIDR") : "10.244.0.0/16";
	in.node_name = node_name(url, &node);
	if (want)
		key = strchr(want, '/') ? xstrdup(want) : xasprintf("default/%s", want);
	proxy_plan_build(&in, &plan);
	if (key) {
		bool found = false;
		for (size_t i = 0; i < plan.n; i++)
			found |= !strcmp(plan.svcs[i].svc, key);
		if (!found) {
			fprintf(stderr, "labkube proxy rules: service '%s' is not proxied "
				"(not found, headless or ExternalName)\n", key);
			proxy_plan_release(&plan);
			goto out;
		}
	}
	out = proxy_plan_render(&plan, key);
	fputs(out, stdout);
	free(out);
	proxy_plan_release(&plan);
	rc = 0;
out:
	free(node);
	free(key);
	free(s.v);
	free(e.v);
	cJSON_Delete(sv);
	cJSON_Delete(ev);
	free(sj);
	free(ej);
	return rc;
}

/* `labkube proxy bench N`: N services x 2 endpoints (the addresses of
 * bench/kube-proxy-nft.py) programmed in the namespace it runs in:
 * a full sync, then one service's endpoint changed (incremental). Only for
 * bench/proxy-sync.py, inside a throw-away namespace. */
static void synth(struct proxy_plan *p, int n, int changed)
{
	memset(p, 0, sizeof(*p));
	p->svcs = xcalloc((size_t)n, sizeof(*p->svcs));
	p->n = (size_t)n;
	p->pod_net = htonl(0x0af40000);
	p->pod_mask = htonl(0xffff0000);
	for (int i = 0; i < n; i++) {
		struct proxy_svc *s = &p->svcs[i];
		s->key = xasprintf("bench/s%06d:80", i);
		s->svc = xasprintf("bench/s%06d", i);
		s->chain = xasprintf("svc-bench/s%06d/tcp/80", i);
		s->proto = IPPROTO_TCP;
		s->port = 80;
		s->vips = xmalloc(sizeof(*s->vips));
		s->vips[0] = htonl(0x0a600000u + (uint32_t)i);        /* 10.96.0.0 + i */
		s->nvips = 1;
		s->eps = xcalloc(2, sizeof(*s->eps));
		s->neps = 2;
		for (int e = 0; e < 2; e++) {
			int k = 2 * i + e;
			s->eps[e].ip = htonl(0x0af40000u | (uint32_t)((k / 250) % 256) << 8 |
					     (uint32_t)(k % 250 + 1));
			s->eps[e].port = 8080;
		}
		if (i == changed)
			s->eps[1].port = 8081;
		proxy_svc_union(s);
	}
}

static int cmd_bench(int argc, char **argv)
{
	int n = argc ? atoi(argv[0]) : 1000;
	struct proxy_plan a, b;
	struct lk_err err = { 0 };
	void *be = proxy_nft_backend.init(&err);
	uint64_t t0, t1, t2, t3;
	int rc = 1;

	if (!be || n <= 0) {
		fprintf(stderr, "labkube proxy bench: %s\n", be ? "bad N" : err.msg);
		lk_err_clear(&err);
		proxy_nft_backend.free(be);
		return 1;
	}
	synth(&a, n, -1);
	synth(&b, n, n / 2);
	t0 = lk_now_us();
	if (proxy_nft_backend.sync_full(be, &a, &err) < 0)
		goto out;
	t1 = lk_now_us();
	if (proxy_nft_backend.sync_diff(be, &a, &b, &err) < 0)
		goto out;
	t2 = lk_now_us();
	if (proxy_nft_backend.check(be, &b, &err) != 1) {
		fprintf(stderr, "labkube proxy bench: read-back differs\n");
		goto out;
	}
	t3 = lk_now_us();
	printf("services=%d full_ms=%.1f incremental_ms=%.2f readback_ms=%.1f\n", n,
	       (double)(t1 - t0) / 1000, (double)(t2 - t1) / 1000, (double)(t3 - t2) / 1000);
	rc = 0;
out:
	if (err.code)
		fprintf(stderr, "labkube proxy bench: %s\n", err.msg);
	lk_err_clear(&err);
	proxy_plan_release(&a);
	proxy_plan_release(&b);
	proxy_nft_backend.free(be);
	return rc;
}

int proxy_cmd(int argc, char **argv)
{
	if (argc >= 1 && !strcmp(argv[0], "rules"))
		return cmd_rules(argc - 1, argv + 1);
	if (argc >= 1 && !strcmp(argv[0], "bench"))
		return cmd_bench(argc - 1, argv + 1);
	fprintf(stderr, "usage: labkube proxy rules [--server URL] [NAMESPACE/SERVICE]\n"
			"  prints, in nft syntax, the rules of table 'ip %s' that implement\n"
			"  the service (all services without an argument)\n", PROXY_TABLE);
	return 2;
}

/* `labkube cleanup`, the proxy's part: the table and the route. */
int proxy_cleanup_cmd(int argc, char **argv)
{
	const char *cidr = argc >= 2 && !strcmp(argv[0], "--service-cidr") ? argv[1] : "10.96.0.0/12";
	struct lk_err err = { 0 };
	void *be = proxy_nft_backend.init(&err);
	int rc = 0;

	if (!be || proxy_nft_backend.cleanup(be, &err) < 0) {
		if (!strstr(err.msg, "No such file")) {
			fprintf(stderr, "labkube cleanup: table 'ip %s': %s\n", PROXY_TABLE, err.msg);
			rc = 1;
		}
	} else {
		printf("removed table ip %s\n", PROXY_TABLE);
	}
	lk_err_clear(&err);
	proxy_nft_backend.free(be);
	if (proxy_route_service_cidr(cidr, PROXY_BRIDGE, true, &err) == 0)
		printf("removed route %s dev %s\n", cidr, PROXY_BRIDGE);
	lk_err_clear(&err);
	return rc;
}
