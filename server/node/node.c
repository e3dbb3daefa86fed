/*
 * server/node/node.c: the node agent's shell: start/stop, the informers it
 * reads (pods, services, configmaps, secrets), the per-pod sync (a
 * workqueue keyed by pod uid), deletion, status writes, and adoption of
 * what a previous run left behind. See node.h and node_internal.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/json.h"
#include "common/loop.h"
#include "server/labkube.h"
#include "server/node/nl.h"
#include "server/node/node.h"
#include "server/node/node_internal.h"
#include "server/registry/event.h"
#include "server/registry/informer.h"
#include "server/registry/registry.h"
#include "server/registry/serve.h"
#include "server/registry/workqueue.h"
#include "server/registry/write.h"
#include "server/resources/resources.h"

#define NO_CAPS_MSG "labkube needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to give pods " \
	"their own network namespaces, so no pod runs on this node: start it with sudo"

/* ---- pods ---- */

struct npod *node_pod(struct node *n, const char *uid)
{
	for (struct npod *p = n->list; p; p = p->next)
		if (!strcmp(p->uid, uid))
			return p;
	return NULL;
}

void node_enqueue(struct node *n, struct npod *p, int64_t delay_ms)
{
	if (n->wq)
		workqueue_add_after(n->wq, p->uid, delay_ms > 0 ? delay_ms : 0);
}

const cJSON *node_spec_ctr(const struct npod *p, const struct nctr *c)
{
	const cJSON *arr = jget(p->obj, c->init ? "spec.initContainers" : "spec.containers");
	const cJSON *sc = cJSON_GetArrayItem(arr, c->index);
	if (sc && str_eq(jstr(sc, "name"), c->name))
		return sc;
	cJSON_ArrayForEach(sc, arr)
		if (str_eq(jstr(sc, "name"), c->name))
			return sc;
	return NULL;
}

void node_event(struct node *n, struct npod *p, const struct nctr *c, const char *type,
		const char *reason, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	char fp[320];
	va_list ap;
	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	if (c)
		snprintf(fp, sizeof(fp), "%s{%s}", c->init ? "spec.initContainers"
							   : "spec.containers", c->name);
	event_record_path(n->lk->reg, p->obj, "kubelet", n->lk->cfg.node_name, c ? fp : NULL,
			  type, reason, "%s", sb.buf ? sb.buf : "");
	sb_release(&sb);
}

static void add_ctrs(struct npod *p, const cJSON *arr, bool init)
{
	const cJSON *sc;
	int i = 0;
	cJSON_ArrayForEach(sc, arr) {
		struct nctr *c = &p->ctrs[p->n++];
		c->name = xstrdup(jstr_or(sc, "name", ""));
		c->init = init;
		c->index = i++;
		c->pod = p;
		c->shim_fd = c->pid_fd = c->report_fd = -1;
	}
}

/* The pod as the handler heard it: the informer's cached copy when it is
 * that very version (shared, one reference more), else a copy of our own. */
static const cJSON *pod_copy(struct node *n, const cJSON *obj)
{
	const cJSON *c = informer_get(n->pods, jstr_or(obj, "metadata.namespace", ""),
				      jstr_or(obj, "metadata.name", ""));

	if (c && str_eq(jstr(c, "metadata.uid"), jstr(obj, "metadata.uid")) &&
	    str_eq(jstr(c, "metadata.resourceVersion"), jstr(obj, "metadata.resourceVersion")))
		return json_pack_ref(c);
	return json_pack(obj);
}

static struct npod *track(struct node *n, const cJSON *obj)
{
	struct npod *p = xcalloc(1, sizeof(*p));
	const cJSON *init = jget(obj, "spec.initContainers"), *app = jget(obj, "spec.containers");
	const char *phase = jstr_or(obj, "status.phase", "");

	p->node = n;
	snprintf(p->uid, sizeof(p->uid), "%s", jstr_or(obj, "metadata.uid", ""));
	snprintf(p->ns, sizeof(p->ns), "%s", jstr_or(obj, "metadata.namespace", ""));
	snprintf(p->name, sizeof(p->name), "%s", jstr_or(obj, "metadata.name", ""));
	p->dir = xasprintf("%s/%s", n->podsdir, p->uid);
	p->obj = pod_copy(n, obj);
	p->host_network = jbool(obj, "spec.hostNetwork", false);
	p->sb_fd = p->sb_report_fd = -1;
	p->ctrs = xcalloc((size_t)(cJSON_GetArraySize(init) + cJSON_GetArraySize(app)) + 1,
			  sizeof(*p->ctrs));
	add_ctrs(p, init, true);
	p->ninit = p->n;
	add_ctrs(p, app, false);
	p->start_time = lk_parse_rfc3339(jstr_or(obj, "status.startTime", ""));
	if (p->start_time < 0)
		p->start_time = 0;
	p->finished = !strcmp(phase, "Succeeded") || !strcmp(phase, "Failed");
	p->next = n->list;
	n->list = p;
	return p;
}

static void sb_forget(struct node *n, struct npod *p)
{
	if (p->sb_report_fd >= 0) {
		loop_fd_del(n->lk->loop, p->sb_report_fd);
		close(p->sb_report_fd);
		p->sb_report_fd = -1;
	}
	if (p->sb_fd >= 0) {
		siginfo_t si;
		loop_fd_del(n->lk->loop, p->sb_fd);
		waitid(P_PIDFD, (id_t)p->sb_fd, &si, WEXITED | WNOHANG);
		close(p->sb_fd);
		p->sb_fd = -1;
	}
}

/* Forget a pod (its processes are either gone or left running). */
static void untrack(struct node *n, struct npod *p)
{
	for (struct npod **pp = &n->list; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	for (size_t i = 0; i < p->n; i++)
		runtime_ctr_release(n, &p->ctrs[i]);
	sb_forget(n, p);
	sb_release(&p->sb_report);
	free(p->sb_err);
	free(p->mount_err);
	free(p->ctrs);
	json_pack_free(p->obj);
	cJSON_Delete(p->written);
	free(p->dir);
	free(p);
}

/* ---- IPs and the pod's files ---- */

static void ip_release(struct node *n, struct npod *p)
{
	uint32_t ip;
	if (!p->host_network && lk_ip4_parse(p->ip, &ip) == 0)
		ipam_free(&n->ipam, ip);
	char *path = xasprintf("%s/ip", p->dir);
	unlink(path);
	free(path);
	p->ip[0] = 0;
}

static int ip_assign(struct node *n, struct npod *p, struct lk_err *err)
{
	uint32_t ip;
	char *path, last[16];
	if (p->host_network) {
		snprintf(p->ip, sizeof(p->ip), "%s", n->lk->cfg.node_ip);
		return 0;
	}
	if (*p->ip)
		return 0;
	if (ipam_alloc(&n->ipam, &ip) < 0)
		return lk_error(err, LK_EUNAVAILABLE, "no IP address left in the pod CIDR %s",
				n->lk->cfg.pod_cidr);
	lk_ip4_format(ip, p->ip);
	path = xasprintf("%s/ip", p->dir);
	write_file(path, p->ip, strlen(p->ip), 0644);
	free(path);
	path = xasprintf("%s/last-ip", n->podsdir);
	snprintf(last, sizeof(last), "%s", p->ip);
	write_file(path, last, strlen(last), 0644);
	free(path);
	return 0;
}

static int put(const char *dir, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	int rc = write_file(path, text, strlen(text), 0644);
	free(path);
	return rc;
}

static int pod_files(struct node *n, struct npod *p)
{
	char host[68], *hosts, *resolv, *host_resolv, *sa, *ca, *meta;
	int rc = 0;

	pod_hostname(p->obj, host, sizeof(host));
	if (p->host_network) {
		/* the node's own files, as the kubelet copies them */
		hosts = lk_read_file("/etc/hosts", NULL);
		if (!hosts)
			hosts = pod_hosts_file(p->obj, NULL, n->lk->cfg.cluster_domain);
		gethostname(host, sizeof(host) - 2);
	} else {
		hosts = pod_hosts_file(p->obj, p->ip, n->lk->cfg.cluster_domain);
	}
	host_resolv = lk_read_file("/etc/resolv.conf", NULL);
	resolv = pod_resolv_conf(p->obj, n->lk->cfg.cluster_dns, n->lk->cfg.cluster_domain,
				 host_resolv);
	meta = xasprintf("%s/%s\n", p->ns, p->name);
	sa = xasprintf("%s/sa", p->dir);
	mkdir_all(sa, 0755);
	ca = xasprintf("%s/ca.crt", n->datadir);
	char *cadata = lk_read_file(ca, NULL), *token = xasprintf("labkube-token-%s", p->uid);
	rc |= put(p->dir, "meta", meta) | put(p->dir, "hosts", hosts);
	char *hostline = xasprintf("%s\n", host);
	rc |= put(p->dir, "hostname", hostline) | put(p->dir, "resolv.conf", resolv);
	free(hostline);
	rc |= put(sa, "token", token) | put(sa, "namespace", p->ns);
	rc |= put(sa, "ca.crt", cadata ? cadata : "");
	free(cadata);
	free(token);
	free(ca);
	free(sa);
	free(meta);
	free(resolv);
	free(host_resolv);
	free(hosts);
	return rc ? -1 : 0;
}

/* ---- the sandbox in the loop ---- */

static void on_sb_report(struct loop *l, int fd, int events, void *arg)
{
	struct npod *p = arg;
	struct node *n = p->node;
	int rc = sandbox_report(n, p);

	if (rc == 0)
		return;
	loop_fd_del(l, p->sb_report_fd);
	close(p->sb_report_fd);
	p->sb_report_fd = -1;
	if (rc > 0) {
		p->sb = SB_READY;
	} else {
		int64_t now = wall_ms();
		lk_log("node: cannot create the sandbox of pod '%s/%s': %s", p->ns, p->name, p->sb_err);
		node_event(n, p, NULL, "Warning", "FailedCreatePodSandBox",
			   "Failed to create pod sandbox: %s", p->sb_err);
		sandbox_stop(n, p);
		backoff_next(&p->sb_bo, now);
		p->sb_retry_at = now + p->sb_bo.dur;
	}
	node_enqueue(n, p, 0);
}

static void on_sb_exit(struct loop *l, int fd, int events, void *arg)
{
	struct npod *p = arg;
	struct node *n = p->node;
	bool was_ready = p->sb == SB_READY;

	if (!pidfd_exited(fd))
		return;
	if (p->sb_report_fd >= 0)
		on_sb_report(l, p->sb_report_fd, LOOP_READ, p);
	sb_forget(n, p);
	if (was_ready && !p->gone && !p->terminating && !p->finished) {
		int64_t now = wall_ms();
		/* the first death in ten minutes is retried at once */
		bool first = !p->sb_bo.last || now - p->sb_bo.last > 2 * BACKOFF_MAX_MS;
		lk_log("node: the sandbox of pod '%s/%s' died: restarting the pod", p->ns, p->name);
		node_event(n, p, NULL, "Normal", "SandboxChanged",
			   "Pod sandbox changed, it will be killed and re-created.");
		runtime_kill_all(n, p, 0, "");
		backoff_next(&p->sb_bo, now);
		p->sb_retry_at = first ? 0 : now + p->sb_bo.dur;
	}
	p->sb = SB_NONE;
	node_enqueue(n, p, 0);
}

void node_sb_watch(struct node *n, struct npod *p)
{
	if (p->sb_report_fd >= 0)
		loop_fd_add(n->lk->loop, p->sb_report_fd, LOOP_READ, on_sb_report, p);
	if (p->sb_fd >= 0)
		loop_fd_add(n->lk->loop, p->sb_fd, LOOP_READ, on_sb_exit, p);
}

static void ensure_sandbox(struct node *n, struct npod *p)
{
	struct lk_err err = { 0 };
	int64_t now = wall_ms();

	if (p->sb_retry_at > now) {
		node_enqueue(n, p, p->sb_retry_at - now);
		return;
	}
	if (!runtime_all_stopped(p))
		return;   /* containers of the old sandbox are still going */
	mkdir_all(p->dir, 0755);
	if (ip_assign(n, p, &err) < 0 || pod_files(n, p) < 0 ||
	    sandbox_start(n, p, &err) < 0) {
		if (!err.msg[0])
			lk_error(&err, LK_EINTERNAL, "cannot write the pod's files in %s", p->dir);
		lk_log("node: cannot start pod '%s/%s': %s", p->ns, p->name, err.msg);
		node_event(n, p, NULL, "Warning", "FailedCreatePodSandBox",
			   "Failed to create pod sandbox: %s", err.msg);
		backoff_next(&p->sb_bo, now);
		p->sb_retry_at = now + p->sb_bo.dur;
		node_enqueue(n, p, p->sb_bo.dur);
		lk_err_clear(&err);
		return;
	}
	node_sb_watch(n, p);
}

/* ---- status ---- */

static void pod_view_of(struct node *n, struct npod *p, struct pod_view *v)
{
	memset(v, 0, sizeof(*v));
	v->pod = p->obj;
	v->ctrs = p->ctrs;
	v->ninit = p->ninit;
	v->n = p->n;
	v->sandbox_ready = p->sb == SB_READY;
	v->pod_ip = p->ip;
	v->host_ip = n->lk->cfg.node_ip;
	v->start_time = p->start_time;
	v->terminal = p->terminating && runtime_all_stopped(p);
	v->now = time(NULL);
}

static void write_status(struct node *n, struct npod *p)
{
	struct pod_view v;
	struct lk_err err = { 0 };
	cJSON *st, *copy;

	pod_view_of(n, p, &v);
	st = pod_status_build(&v);
	if (jequal(st, jget(p->obj, "status"))) {
		cJSON_Delete(st);
		return;
	}
	copy = cJSON_Duplicate(p->obj, 1);
	jset(copy, "status", st);
	jdel(copy, "metadata.resourceVersion");
	if (obj_update(n->lk->reg, &res_pod, p->ns, p->name, copy, WRITE_STATUS, &err) == 0 &&
	    str_eq(jstr(copy, "metadata.uid"), p->uid)) {
		json_pack_free(p->obj);
		p->obj = json_pack(copy);
	} else if (err.code != LK_ENOTFOUND && err.code != LK_OK) {
		lk_log("node: cannot update the status of pod '%s/%s': %s", p->ns, p->name, err.msg);
	}
	cJSON_Delete(copy);
	lk_err_clear(&err);
}

/* ---- the sync ---- */

static void teardown(struct node *n, struct npod *p)
{
	if (p->sb != SB_NONE || p->sb_fd >= 0)
		sandbox_stop(n, p);
	else if (!p->host_network) {
		/* no sandbox process (died, or never adopted): the veth may remain */
		struct lk_nl *nl = nl_open(NULL);
		char veth[16];
		veth_name(p->uid, veth);
		if (nl)
			nl_link_del(nl, veth, NULL);
		lk_nl_close(nl);
	}
	ip_release(n, p);
}

static void pod_gone(struct node *n, struct npod *p)
{
	runtime_kill_all(n, p, 0, "");
	if (!runtime_all_stopped(p))
		return;
	teardown(n, p);
	rm_rf(p->dir);
	untrack(n, p);
}

static void pod_terminate(struct node *n, struct npod *p)
{
	struct lk_err err = { 0 };
	long long grace = jint(p->obj, "metadata.deletionGracePeriodSeconds", 30);
	struct delete_opts o = { .grace = 0, .uid = p->uid };
	cJSON *out = NULL;
	bool gone;

	p->terminating = true;
	runtime_kill_all(n, p, grace, NULL);
	if (!runtime_all_stopped(p)) {
		write_status(n, p);
		return;
	}
	if (p->sb != SB_NONE || *p->ip)
		teardown(n, p);
	write_status(n, p);
	if (p->deleted_sent)
		return;
	p->deleted_sent = true;
	if (obj_delete(n->lk->reg, &res_pod, p->ns, p->name, &o, &out, &gone, &err) < 0 &&
	    err.code != LK_ENOTFOUND)
		lk_log("node: cannot delete pod '%s/%s': %s", p->ns, p->name, err.msg);
	cJSON_Delete(out);
	lk_err_clear(&err);
}

static int mount_volumes(struct node *n, struct npod *p)
{
	struct lk_err err = { 0 };
	int64_t now = wall_ms();
	if (volumes_prepare(n, p, &err) == 0) {
		free(p->mount_err);
		p->mount_err = NULL;
		return 0;
	}
	if (!str_eq(p->mount_err, err.msg) || now - p->mount_err_at >= 10000) {
		node_event(n, p, NULL, "Warning", "FailedMount", "%s", err.msg);
		free(p->mount_err);
		p->mount_err = xstrdup(err.msg);
		p->mount_err_at = now;
	}
	node_enqueue(n, p, 10000);
	lk_err_clear(&err);
	return -1;
}

static void pod_run(struct node *n, struct npod *p)
{
	struct pod_view v;
	const char *phase;

	if (!p->start_time)
		p->start_time = time(NULL);
	if (p->sb == SB_NONE) {
		ensure_sandbox(n, p);
		return;
	}
	if (p->sb != SB_READY || mount_volumes(n, p) < 0)
		return;
	runtime_step(n, p);
	pod_view_of(n, p, &v);
	phase = pod_phase(&v);
	if ((!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed")) && runtime_all_stopped(p)) {
		p->finished = true;
		teardown(n, p);
	}
}

static void pod_sync(void *arg, const char *uid)
{
	struct node *n = arg;
	struct npod *p = node_pod(n, uid);

	if (!p || !n->running)
		return;
	if (p->gone) {
		pod_gone(n, p);
		return;
	}
	if (jget(p->obj, "metadata.deletionTimestamp")) {
		pod_terminate(n, p);
		return;
	}
	if (!p->finished)
		pod_run(n, p);
	write_status(n, p);
}

/* ---- informers ---- */

static bool bound_here(struct node *n, const cJSON *obj)
{
	return str_eq(jstr(obj, "spec.nodeName"), n->lk->cfg.node_name);
}

static void on_pod(void *arg, enum store_ev_type type, const cJSON *obj, const cJSON *old)
{
	struct node *n = arg;
	struct npod *p = node_pod(n, jstr_or(obj, "metadata.uid", ""));

	if (type == STORE_DELETED || !bound_here(n, obj)) {
		if (p) {
			p->gone = true;
			node_enqueue(n, p, 0);
		}
		return;
	}
	if (!p) {
		p = track(n, obj);
	} else {
		json_pack_free(p->obj);
		p->obj = pod_copy(n, obj);
	}
	node_enqueue(n, p, 0);
}

/* A ConfigMap or Secret changed: refresh the volumes of the pods in its
 * namespace, retry containers that missed one. */
static void on_config(void *arg, enum store_ev_type type, const cJSON *obj, const cJSON *old)
{
	struct node *n = arg;
	const char *ns = jstr_or(obj, "metadata.namespace", "");
	for (struct npod *p = n->list; p; p = p->next) {
		if (strcmp(p->ns, ns) != 0)
			continue;
		for (size_t i = 0; i < p->n; i++)
			if (p->ctrs[i].config_error)
				p->ctrs[i].retry_at = 0;
		node_enqueue(n, p, 0);
	}
}

static int track_existing(void *arg, const cJSON *obj)
{
	struct node *n = arg;
	if (bound_here(n, obj))
		track(n, obj);
	return 0;
}

static int64_t resync(struct loop *l, void *arg)
{
	struct node *n = arg;
	for (struct npod *p = n->list; p; p = p->next)
		node_enqueue(n, p, 0);
	return 10000;
}

/* ---- start/stop ---- */

static int setup(struct node *n, struct lk_err *err)
{
	struct labkube *lk = n->lk;
	char real[PATH_MAX];
	uint32_t gw;

	if (mkdir_all(lk->cfg.data_dir, 0755) < 0 || !realpath(lk->cfg.data_dir, real))
		return lk_error(err, LK_EINTERNAL, "cannot use data dir '%s': %s",
				lk->cfg.data_dir, strerror(errno));
	n->datadir = xstrdup(real);
	n->podsdir = xasprintf("%s/pods", real);
	if (mkdir_all(n->podsdir, 0755) < 0)
		return lk_error(err, LK_EINTERNAL, "cannot create '%s': %s", n->podsdir,
				strerror(errno));
	if (ipam_init(&n->ipam, lk->cfg.pod_cidr ? lk->cfg.pod_cidr : "10.244.0.0/16", err) < 0)
		return -1;
	gw = ipam_gateway(&n->ipam);
	lk_ip4_format(gw, n->gw);
	n->prefix = n->ipam.prefix;
	return node_net_setup(n, err);
}

/* The "node" readiness check: a node that may run pods and cannot. */
static const char *node_check(void *arg)
{
	struct node *n = arg;
	return n->why[0] ? n->why : NULL;
}

int node_start(struct labkube *lk)
{
	struct node *n = xcalloc(1, sizeof(*n));
	struct lk_err err = { 0 };

	n->lk = lk;
	lk->node = n;
	if (!lk->cfg.pod_cidr)
		lk->cfg.pod_cidr = xstrdup("10.244.0.0/16");
	if (!lk->cfg.cluster_dns)
		lk->cfg.cluster_dns = xstrdup("10.96.0.10");
	/* Logs are files: served with or without the privilege to run pods. */
	registry_serve(lk->reg, &res_pod, "log", logs_serve, n);
	n->status = nodestatus_start(n);
	if (!lk_net_privileged()) {
		snprintf(n->why, sizeof(n->why), "%s", NO_CAPS_MSG);
		lk_log("node: %s", n->why);
		return 0;
	}
	registry_check_add(lk->reg, "node", node_check, n);
	if (setup(n, &err) < 0) {
		snprintf(n->why, sizeof(n->why), "the node's network cannot be set up: %.400s", err.msg);
		lk_log("node: %s", n->why);
		lk_err_clear(&err);
		return 0;
	}
	n->pods = informer_new(lk->reg, &res_pod);
	n->services = informer_new(lk->reg, &res_service);
	n->configmaps = informer_new(lk->reg, &res_configmap);
	n->secrets = informer_new(lk->reg, &res_secret);
	informer_on(n->pods, on_pod, n);
	informer_on(n->configmaps, on_config, n);
	informer_on(n->secrets, on_config, n);
	n->wq = workqueue_new(lk->loop, "node", pod_sync, n);
	informer_foreach(n->pods, NULL, track_existing, n);
	node_adopt(n);
	n->running = true;
	n->tick = loop_timer_add(lk->loop, 10000, resync, n);
	resync(lk->loop, n);
	return 0;
}

void node_stop(struct labkube *lk)
{
	struct node *n = lk ? lk->node : NULL;
	if (!n)
		return;
	n->running = false;
	nodestatus_stop(n->status);
	registry_unserve(lk->reg, &res_pod, "log");
	registry_check_del(lk->reg, "node");
	logs_close_all(n);
	if (n->tick)
		loop_timer_del(lk->loop, n->tick);
	while (n->list)
		untrack(n, n->list);   /* pods keep running: a restart adopts them */
	workqueue_free(n->wq);
	informer_free(n->pods);
	informer_free(n->services);
	informer_free(n->configmaps);
	informer_free(n->secrets);
	ipam_release_all(&n->ipam);
	free(n->datadir);
	free(n->podsdir);
	free(n);
	lk->node = NULL;
}

struct cleanup_walk {
	char (*names)[16];  /* IFNAMSIZ */
	size_t n;
};

static void cleanup_veth(void *arg, const char *name)
{
	struct cleanup_walk *w = arg;
	w->names = xrealloc(w->names, (w->n + 1) * sizeof(*w->names));
	snprintf(w->names[w->n++], sizeof(*w->names), "%s", name);
}

int node_host_cleanup(FILE *out, struct lk_err *err)
{
	struct cleanup_walk w = { 0 };
	struct lk_nl *nl = nl_open(err);
	int rc = -1;

	if (!nl)
		goto out;
	if (nl_links(nl, "lkv", cleanup_veth, &w, err) < 0)
		goto out;
	for (size_t i = 0; i < w.n; i++) {
		if (nl_link_del(nl, w.names[i], err) < 0)
			goto out;
		fprintf(out, "removed link %s\n", w.names[i]);
	}
	if (nl_link_index(nl, NODE_BRIDGE) > 0) {
		if (nl_link_del(nl, NODE_BRIDGE, err) < 0)
			goto out;
		fprintf(out, "removed bridge %s\n", NODE_BRIDGE);
	}
	rc = 0;
out:
	free(w.names);
	lk_nl_close(nl);
	return rc;
}
