/*
 * server/node/nodestatus.c: this host's Node object and its heartbeat,
 * as the kubelet's node status manager and lease controller keep them
 * (pkg/kubelet/kubelet_node_status.go, nodestatus/setters.go,
 * component-helpers/apimachinery/lease).
 *
 * Registers the Node named --node-name with the labels the kubelet puts on
 * (kubernetes.io/hostname, kubernetes.io/os, kubernetes.io/arch and their
 * beta twins) plus node-role.kubernetes.io/control-plane="" (ROLES shows
 * control-plane, as single-node distributions do); status addresses
 * (InternalIP = --node-ip, Hostname), capacity = allocatable (cpu, memory
 * from /proc/meminfo, ephemeral-storage of the data dir, pods 110,
 * hugepages 0), nodeInfo and daemonEndpoints. Conditions MemoryPressure,
 * DiskPressure, PIDPressure False and Ready True, or Ready False with reason
 * KubeletNotReady and the node agent's message when it cannot run pods
 * (struct node's why). Every 10 s the Lease kube-node-lease/<node>
 * is renewed (leaseDurationSeconds 40) and the agent's state checked; the
 * status is written when it changes and at least every 40 s (heartbeat).
 * A deleted Node is registered again at the next tick. Status goes
 * through the status subresource (WRITE_STATUS). Events as the kubelet's
 * (Starting, NodeHasSufficientMemory, ..., NodeReady/NodeNotReady) and the
 * node controller's RegisteredNode.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "common/json.h"
#include "common/loop.h"
#include "common/util.h"
#include "server/labkube.h"
#include "server/node/node_internal.h"
#include "server/registry/event.h"
#include "server/registry/write.h"
#include "server/resources/resources.h"
#include "server/store/store.h"

#define LEASE_NS "kube-node-lease"
#define LEASE_SECONDS 40
#define TICK_MS 10000
#define BEAT_SECONDS 40
#define KUBELET_PORT 10250

/* ---- the pure core ---- */

static void put_str(cJSON *obj, const char *key, const char *v)
{
	jput(obj, key, cJSON_CreateString(v ? v : ""));
}

static cJSON *node_labels(const struct node_facts *f)
{
	cJSON *l = cJSON_CreateObject();
	put_str(l, "beta.kubernetes.io/arch", f->arch);
	put_str(l, "beta.kubernetes.io/os", "linux");
	put_str(l, "kubernetes.io/arch", f->arch);
	put_str(l, "kubernetes.io/hostname", f->name);
	put_str(l, "kubernetes.io/os", "linux");
	put_str(l, "node-role.kubernetes.io/control-plane", "");
	return l;
}

static cJSON *node_capacity(const struct node_facts *f)
{
	cJSON *c = cJSON_CreateObject();
	char buf[64];
	snprintf(buf, sizeof(buf), "%ld", f->cpus);
	put_str(c, "cpu", buf);
	snprintf(buf, sizeof(buf), "%lldKi", f->storage_ki);
	put_str(c, "ephemeral-storage", buf);
	put_str(c, "hugepages-1Gi", "0");
	put_str(c, "hugepages-2Mi", "0");
	snprintf(buf, sizeof(buf), "%lldKi", f->mem_ki);
	put_str(c, "memory", buf);
	put_str(c, "pods", "110");
	return c;
}

static cJSON *node_info(const struct node_facts *f)
{
	cJSON *i = cJSON_CreateObject();
	put_str(i, "machineID", f->machine_id);
	put_str(i, "systemUUID", f->system_uuid);
	put_str(i, "bootID", f->boot_id);
	put_str(i, "kernelVersion", f->kernel);
	put_str(i, "osImage", f->os_image);
	put_str(i, "containerRuntimeVersion", "labkube://" LABKUBE_VERSION);
	put_str(i, "kubeletVersion", K8S_GIT_VERSION);
	put_str(i, "kubeProxyVersion", K8S_GIT_VERSION);
	put_str(i, "operatingSystem", "linux");
	put_str(i, "architecture", f->arch);
	return i;
}

static cJSON *address(const char *type, const char *addr)
{
	cJSON *a = cJSON_CreateObject();
	put_str(a, "type", type);
	put_str(a, "address", addr);
	return a;
}

cJSON *nodestatus_build(const struct node_facts *f)
{
	cJSON *n = cJSON_CreateObject(), *md = cJSON_AddObjectToObject(n, "metadata");
	cJSON *ann, *st, *addrs;
	put_str(md, "name", f->name);
	cJSON_AddItemToObject(md, "labels", node_labels(f));
	ann = cJSON_AddObjectToObject(md, "annotations");
	put_str(ann, "node.alpha.kubernetes.io/ttl", "0");
	put_str(ann, "volumes.kubernetes.io/controller-managed-attach-detach", "true");
	cJSON_AddObjectToObject(n, "spec");
	st = cJSON_AddObjectToObject(n, "status");
	cJSON_AddItemToObject(st, "capacity", node_capacity(f));
	cJSON_AddItemToObject(st, "allocatable", node_capacity(f));
	addrs = cJSON_AddArrayToObject(st, "addresses");
	cJSON_AddItemToArray(addrs, address("InternalIP", f->ip));
	cJSON_AddItemToArray(addrs, address("Hostname", f->name));
	cJSON_AddNumberToObject(cJSON_AddObjectToObject(cJSON_AddObjectToObject(st, "daemonEndpoints"),
							"kubeletEndpoint"),
				"Port", KUBELET_PORT);
	cJSON_AddItemToObject(st, "nodeInfo", node_info(f));
	return n;
}

static const struct condition_def {
	const char *type, *status, *reason, *message;
} condition_defs[] = {
	{ "MemoryPressure", "False", "KubeletHasSufficientMemory",
	  "kubelet has sufficient memory available" },
	{ "DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure" },
	{ "PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available" },
	{ "Ready", "True", "KubeletReady", "kubelet is posting ready status" },
};

static const cJSON *find_condition(const cJSON *conds, const char *type)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, conds)
		if (str_eq(jstr(c, "type"), type))
			return c;
	return NULL;
}

cJSON *nodestatus_conditions(const cJSON *old, const char *not_ready, time_t now, bool beat)
{
	cJSON *out = cJSON_CreateArray();
	char ts[32];
	lk_rfc3339(now, ts);
	for (size_t i = 0; i < ARRAY_SIZE(condition_defs); i++) {
		const struct condition_def *d = &condition_defs[i];
		const cJSON *prev = find_condition(old, d->type);
		bool down = not_ready && !strcmp(d->type, "Ready");
		const char *status = down ? "False" : d->status;
		bool same = prev && str_eq(jstr(prev, "status"), status);
		cJSON *c = cJSON_CreateObject();
		put_str(c, "type", d->type);
		put_str(c, "status", status);
		put_str(c, "lastHeartbeatTime",
			beat || !same || !jstr(prev, "lastHeartbeatTime") ? ts
									  : jstr(prev, "lastHeartbeatTime"));
		put_str(c, "lastTransitionTime",
			same && jstr(prev, "lastTransitionTime") ? jstr(prev, "lastTransitionTime") : ts);
		put_str(c, "reason", down ? "KubeletNotReady" : d->reason);
		put_str(c, "message", down ? not_ready : d->message);
		cJSON_AddItemToArray(out, c);
	}
	return out;
}

/* ---- what this host is ---- */

static char *read_line(const char *path)
{
	char buf[512];
	FILE *f = fopen(path, "r");
	size_t n;
	if (!f)
		return NULL;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return NULL;
	}
	fclose(f);
	n = strcspn(buf, "\r\n");
	buf[n] = 0;
	return n ? xstrdup(buf) : NULL;
}

/* A value from a KEY=value file (/etc/os-release), quotes removed. */
static char *read_var(const char *path, const char *key)
{
	char line[512], *out = NULL;
	size_t klen = strlen(key);
	FILE *f = fopen(path, "r");
	while (f && !out && fgets(line, sizeof(line), f)) {
		char *v = line + klen + 1;
		size_t n;
		if (strncmp(line, key, klen) || line[klen] != '=')
			continue;
		v[strcspn(v, "\r\n")] = 0;
		n = strlen(v);
		if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
			v[n - 1] = 0;
			v++;
		}
		out = xstrdup(v);
	}
	if (f)
		fclose(f);
	return out;
}

static long long meminfo_ki(const char *key)
{
	char line[256];
	long long v = 0;
	FILE *f = fopen("/proc/meminfo", "r");
	while (f && fgets(line, sizeof(line), f))
		if (str_has_prefix(line, key) && line[strlen(key)] == ':') {
			v = atoll(line + strlen(key) + 1);
			break;
		}
	if (f)
		fclose(f);
	return v;
}

static const char *go_arch(const char *machine)
{
	static const char *const map[][2] = {
		{ "x86_64", "amd64" }, { "aarch64", "arm64" }, { "armv7l", "arm" },
		{ "armv6l", "arm" },   { "i686", "386" },      { "i386", "386" },
		{ "ppc64le", "ppc64le" }, { "s390x", "s390x" }, { "riscv64", "riscv64" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (!strcmp(machine, map[i][0]))
			return map[i][1];
	return machine;
}

/* Strings the facts point at, owned here. */
struct owned_facts {
	struct node_facts f;
	char *s[8];
};

static const char *keep(struct owned_facts *o, int i, char *s, const char *dflt)
{
	o->s[i] = s ? s : xstrdup(dflt);
	return o->s[i];
}

static char *uuid_of(const char *machine_id)
{
	if (!machine_id || strlen(machine_id) != 32)
		return NULL;
	return xasprintf("%.8s-%.4s-%.4s-%.4s-%.12s", machine_id, machine_id + 8,
			 machine_id + 12, machine_id + 16, machine_id + 20);
}

static void gather(struct labkube *lk, struct owned_facts *o)
{
	struct utsname u;
	struct statvfs vfs;
	char *mid = read_line("/etc/machine-id"), *uuid;

	uname(&u);
	o->f.name = lk->cfg.node_name;
	o->f.ip = lk->cfg.node_ip;
	o->f.arch = keep(o, 0, xstrdup(go_arch(u.machine)), "amd64");
	o->f.kernel = keep(o, 1, xstrdup(u.release), "");
	o->f.os_image = keep(o, 2, read_var("/etc/os-release", "PRETTY_NAME"), "Linux");
	o->f.machine_id = keep(o, 3, mid, "");
	o->f.boot_id = keep(o, 4, read_line("/proc/sys/kernel/random/boot_id"), "");
	uuid = read_line("/sys/class/dmi/id/product_uuid");
	for (char *p = uuid; p && *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	o->f.system_uuid = keep(o, 5, uuid ? uuid : uuid_of(mid), "");
	o->f.cpus = sysconf(_SC_NPROCESSORS_ONLN);
	o->f.mem_ki = meminfo_ki("MemTotal");
	if (statvfs(lk->cfg.data_dir, &vfs) == 0)
		o->f.storage_ki = (long long)(vfs.f_blocks * vfs.f_frsize / 1024);
}

/* ---- the shell ---- */

struct nodestatus {
	struct labkube *lk;
	struct node *node;
	struct owned_facts facts;
	struct loop_timer *timer;
	char *reason;           /* last reported, NULL = Ready */
	bool reported, labels_synced, started;
	time_t last_beat;
};

/* The kubelet's reference to its node: uid = the node's name. */
static cJSON *kubelet_ref(const char *name)
{
	cJSON *ref = cJSON_CreateObject();
	cJSON_AddStringToObject(ref, "kind", "Node");
	jset_str(ref, "metadata.name", name);
	jset_str(ref, "metadata.uid", name);
	return ref;
}

static void kubelet_event(struct nodestatus *n, const char *type, const char *reason,
			  const char *msg)
{
	cJSON *ref = kubelet_ref(n->facts.f.name);
	event_record_path(n->lk->reg, ref, "kubelet", n->facts.f.name, NULL, type, reason, "%s", msg);
	cJSON_Delete(ref);
}

static void starting_events(struct nodestatus *n)
{
	static const char *const reasons[] = { "NodeHasSufficientMemory",
		"NodeHasNoDiskPressure", "NodeHasSufficientPID" };
	char msg[512];
	kubelet_event(n, "Normal", "Starting", "Starting kubelet.");
	for (size_t i = 0; i < ARRAY_SIZE(reasons); i++) {
		snprintf(msg, sizeof(msg), "Node %s status is now: %s", n->facts.f.name, reasons[i]);
		kubelet_event(n, "Normal", reasons[i], msg);
	}
	kubelet_event(n, "Normal", "NodeAllocatableEnforced",
		      "Updated Node Allocatable limit across pods");
}

/* Our labels on an existing Node (a user's own labels stay). */
static void sync_labels(struct nodestatus *n, const cJSON *node)
{
	cJSON *want = nodestatus_build(&n->facts.f), *obj = cJSON_Duplicate(node, 1);
	cJSON *labels = jobj(obj, "metadata.labels");
	const cJSON *it;
	struct lk_err err = { 0 };
	cJSON_ArrayForEach(it, jget(want, "metadata.labels"))
		jput(labels, it->string, cJSON_Duplicate(it, 1));
	if (!jequal(labels, jget(node, "metadata.labels")) &&
	    obj_update(n->lk->reg, &res_node, "", n->facts.f.name, obj, 0, &err) < 0)
		lk_log("node: cannot label '%s': %s", n->facts.f.name, err.msg);
	n->labels_synced = true;
	lk_err_clear(&err);
	cJSON_Delete(want);
	cJSON_Delete(obj);
}

/* The Node as stored, registering it first when missing. */
static cJSON *ensure_node(struct nodestatus *n)
{
	char msg[512];
	cJSON *node = NULL;
	struct lk_err err = { 0 };

	if (store_get(n->lk->store, "nodes", "", n->facts.f.name, &node, NULL) == 0) {
		if (!n->labels_synced)
			sync_labels(n, node);
		return node;
	}
	node = nodestatus_build(&n->facts.f);
	if (obj_create(n->lk->reg, &res_node, "", node, 0, &err) < 0) {
		lk_log("node: cannot register '%s': %s", n->facts.f.name, err.msg);
		lk_err_clear(&err);
		cJSON_Delete(node);
		return NULL;
	}
	n->labels_synced = true;
	n->reported = false;
	snprintf(msg, sizeof(msg), "Node %s event: Registered Node %s in Controller",
		 n->facts.f.name, n->facts.f.name);
	event_record(n->lk->reg, node, "node-controller", "Normal", "RegisteredNode", "%s", msg);
	return node;
}

static void ready_event(struct nodestatus *n, const cJSON *old_conds, const char *reason)
{
	const cJSON *prev = find_condition(old_conds, "Ready");
	bool was = prev && str_eq(jstr(prev, "status"), "True");
	char msg[512];
	if (prev && was == !reason)
		return;
	snprintf(msg, sizeof(msg), "Node %s status is now: %s", n->facts.f.name,
		 reason ? "NodeNotReady" : "NodeReady");
	kubelet_event(n, "Normal", reason ? "NodeNotReady" : "NodeReady", msg);
}

static void report_status(struct nodestatus *n, const cJSON *node, time_t now)
{
	const char *reason = n->node->why[0] ? n->node->why : NULL;
	bool changed = !n->reported || !str_eq(reason, n->reason);
	cJSON *want, *obj;
	struct lk_err err = { 0 };

	if (!changed && now - n->last_beat < BEAT_SECONDS)
		return;
	want = nodestatus_build(&n->facts.f);
	jset(want, "status.conditions",
	     nodestatus_conditions(jget(node, "status.conditions"), reason, now, true));
	obj = cJSON_Duplicate(node, 1);
	jset(obj, "status", cJSON_DetachItemFromObjectCaseSensitive(want, "status"));
	jdel(obj, "metadata.resourceVersion");
	if (obj_update(n->lk->reg, &res_node, "", n->facts.f.name, obj, WRITE_STATUS, &err) < 0) {
		lk_log("node: cannot update the status of '%s': %s", n->facts.f.name, err.msg);
	} else {
		ready_event(n, jget(node, "status.conditions"), reason);
		free(n->reason);
		n->reason = reason ? xstrdup(reason) : NULL;
		n->reported = true;
		n->last_beat = now;
	}
	lk_err_clear(&err);
	cJSON_Delete(want);
	cJSON_Delete(obj);
}

static cJSON *lease_new(struct nodestatus *n, const cJSON *node)
{
	cJSON *l = cJSON_CreateObject(), *refs, *r;
	jset_str(l, "metadata.name", n->facts.f.name);
	jset_str(l, "metadata.namespace", LEASE_NS);
	refs = cJSON_AddArrayToObject(jget(l, "metadata"), "ownerReferences");
	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "apiVersion", "v1");
	cJSON_AddStringToObject(r, "kind", "Node");
	cJSON_AddStringToObject(r, "name", n->facts.f.name);
	cJSON_AddStringToObject(r, "uid", jstr_or(node, "metadata.uid", ""));
	cJSON_AddItemToArray(refs, r);
	return l;
}

/* Renew kube-node-lease/<node> (create it, owned by the Node, if missing). */
static void renew_lease(struct nodestatus *n, const cJSON *node)
{
	char storage[128], ts[32];
	cJSON *lease = NULL;
	struct lk_err err = { 0 };
	int rc;

	lk_rfc3339_micro(ts);
	resource_storage(&res_lease, storage);
	if (store_get(n->lk->store, storage, LEASE_NS, n->facts.f.name, &lease, NULL) < 0)
		lease = lease_new(n, node);
	jset_str(lease, "spec.holderIdentity", n->facts.f.name);
	jset_int(lease, "spec.leaseDurationSeconds", LEASE_SECONDS);
	jset_str(lease, "spec.renewTime", ts);
	if (jstr(lease, "metadata.uid"))
		rc = obj_update(n->lk->reg, &res_lease, LEASE_NS, n->facts.f.name, lease, 0, &err);
	else
		rc = obj_create(n->lk->reg, &res_lease, LEASE_NS, lease, 0, &err);
	if (rc < 0)
		lk_log("node: cannot renew the lease of '%s': %s", n->facts.f.name, err.msg);
	lk_err_clear(&err);
	cJSON_Delete(lease);
}

static int64_t tick(struct loop *l, void *arg)
{
	struct nodestatus *n = arg;
	cJSON *node = ensure_node(n);
	if (!n->started) {
		n->started = true;
		starting_events(n);
	}
	if (node) {
		report_status(n, node, time(NULL));
		renew_lease(n, node);
	}
	cJSON_Delete(node);
	return TICK_MS;
}

struct nodestatus *nodestatus_start(struct node *node)
{
	struct labkube *lk = node->lk;
	struct nodestatus *n = xcalloc(1, sizeof(*n));
	n->lk = lk;
	n->node = node;
	gather(lk, &n->facts);
	/* First tick on the first loop iteration: after the node agent has
	 * started and knows whether it can run pods. */
	n->timer = loop_timer_add(lk->loop, 0, tick, n);
	return n;
}

void nodestatus_stop(struct nodestatus *n)
{
	if (!n)
		return;
	loop_timer_del(n->lk->loop, n->timer);
	for (size_t i = 0; i < ARRAY_SIZE(n->facts.s); i++)
		free(n->facts.s[i]);
	free(n->reason);
	free(n);
}
