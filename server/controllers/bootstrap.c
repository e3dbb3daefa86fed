/*
 * server/controllers/bootstrap.c: what every cluster has from the start, and
 * the namespace lifecycle, driven by the change feed:
 *  - namespaces default, kube-system, kube-public, kube-node-lease;
 *  - a `default` ServiceAccount in every namespace (upstream's
 *    serviceaccounts controller);
 *  - the `kubernetes` Service in default with its Endpoints and
 *    EndpointSlice pointing at the API (upstream's apiserver reconciler);
 *  - the `kube-dns` Service in kube-system (--cluster-dns) whose endpoint
 *    is the DNS responder on the bridge address (dns/), labelled as
 *    kubeadm's CoreDNS Service so `kubectl cluster-info` lists it;
 *  - namespace deletion: a Terminating namespace's content is deleted, then
 *    its `kubernetes` finalizer is dropped and it goes (namespace controller);
 *    content that goes later (a pod after its grace period, an object held
 *    by finalizers) brings it back to the namespace when it is deleted.
 * Every write goes through the API's write path (server/registry/write.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ip.h"
#include "common/json.h"
#include "common/util.h"
#include "server/labkube.h"
#include "server/registry/write.h"
#include "server/resources/resources.h"
#include "server/store/store.h"

/* The two change-feed subscriptions it keeps while running. */
struct bootstrap {
	struct store_sub *ns_sub, *content_sub;
};

static void ensure(struct labkube *lk, const struct resource *res, const char *ns,
		   const char *json)
{
	struct lk_err err = { 0 };
	cJSON *obj = cJSON_Parse(json);
	if (obj_create(lk->reg, res, ns, obj, 0, &err) < 0 && err.code != LK_EEXISTS)
		lk_log("bootstrap: cannot create %s '%s/%s': %s", res->kind, ns,
		       jstr_or(obj, "metadata.name", ""), err.msg);
	lk_err_clear(&err);
	cJSON_Delete(obj);
}

/*
 * Create the object json describes, or bring an existing one back to it:
 * the fields at the dot paths in owned are ours, as the apiserver's
 * reconciler owns the kubernetes Service's, so a restart with another
 * --node-ip, --pod-cidr or --cluster-dns repairs them. A Service whose
 * cluster IP must change is deleted and created again (the IP is
 * immutable).
 */
static void ensure_current(struct labkube *lk, const struct resource *res, const char *ns,
			   const char *json, const char *const *owned)
{
	struct delete_opts del = { .propagation = "Background", .grace = -1 };
	struct lk_err err = { 0 };
	cJSON *want = cJSON_Parse(json), *have = NULL, *out = NULL;
	const char *name = jstr_or(want, "metadata.name", "");
	char storage[128];
	bool gone = false, same = true;

	if (store_get(lk->store, resource_storage(res, storage), ns, name, &have, NULL) < 0)
		goto create;
	for (const char *const *p = owned; *p; p++)
		same = same && cJSON_Compare(jget(want, *p), jget(have, *p), true);
	if (same)
		goto out;
	if (res == &res_service && !cJSON_Compare(jget(want, "spec.clusterIP"),
						  jget(have, "spec.clusterIP"), true)) {
		if (obj_delete(lk->reg, res, ns, name, &del, &out, &gone, &err) < 0)
			goto fail;
		goto create;
	}
	for (const char *const *p = owned; *p; p++)
		jset(have, *p, cJSON_Duplicate(jget(want, *p), true));
	if (obj_update(lk->reg, res, ns, name, have, 0, &err) < 0)
		goto fail;
	goto out;
create:
	ensure(lk, res, ns, json);
	goto out;
fail:
	lk_log("bootstrap: cannot repair %s '%s/%s': %s", res->kind, ns, name, err.msg);
out:
	lk_err_clear(&err);
	cJSON_Delete(want);
	cJSON_Delete(have);
	cJSON_Delete(out);
}

static const char *const svc_owned[] = { "spec.clusterIP", "spec.ports", "metadata.labels", NULL };
static const char *const eps_owned[] = { "subsets", NULL };
static const char *const slice_owned[] = { "endpoints", "ports", NULL };

static void ensure_default_sa(struct labkube *lk, const char *ns)
{
	cJSON *sa = NULL;
	if (store_get(lk->store, "serviceaccounts", ns, "default", &sa, NULL) == 0) {
		cJSON_Delete(sa);
		return;
	}
	ensure(lk, &res_serviceaccount, ns, "{\"metadata\":{\"name\":\"default\"}}");
}

struct names {
	cJSON *list;
};

static int collect(void *arg, cJSON *obj)
{
	struct names *n = arg;
	cJSON_AddItemToArray(n->list, cJSON_CreateString(jstr_or(obj, "metadata.name", "")));
	cJSON_Delete(obj);
	return 0;
}

/* Delete everything in ns; true when nothing is left. */
static bool empty_namespace(struct labkube *lk, const char *ns)
{
	bool empty = true;
	for (size_t i = 0; i < resource_count; i++) {
		const struct resource *res = resource_table[i];
		char storage[128];
		struct names n;
		cJSON *it;
		if (!res->namespaced || res->storage)
			continue;
		n.list = cJSON_CreateArray();
		store_list(lk->store, resource_storage(res, storage), ns, NULL, collect, &n,
			   NULL, NULL);
		cJSON_ArrayForEach(it, n.list) {
			struct delete_opts o = { .propagation = "Background", .grace = -1 };
			struct lk_err err = { 0 };
			bool gone = false;
			cJSON *out = NULL;
			if (obj_delete(lk->reg, res, ns, it->valuestring, &o, &out, &gone, &err) < 0)
				gone = err.code == LK_ENOTFOUND;
			empty = empty && gone;
			cJSON_Delete(out);
			lk_err_clear(&err);
		}
		cJSON_Delete(n.list);
	}
	return empty;
}

/* Nothing of any namespaced kind is left in ns (counted, nothing deleted). */
static bool namespace_is_empty(struct labkube *lk, const char *ns)
{
	for (size_t i = 0; i < resource_count; i++) {
		const struct resource *res = resource_table[i];
		char storage[128];
		if (res->namespaced && !res->storage &&
		    store_count(lk->store, resource_storage(res, storage), ns) > 0)
			return false;
	}
	return true;
}

/* The namespace controller's last step: drop the `kubernetes` finalizer. */
static void drop_finalizer(struct labkube *lk, const cJSON *ns)
{
	const char *name = jstr_or(ns, "metadata.name", "");
	struct lk_err err = { 0 };
	cJSON *obj = cJSON_Duplicate(ns, 1);
	jset(obj, "spec.finalizers", cJSON_CreateArray());
	if (obj_update(lk->reg, &res_namespace, "", name, obj, 0, &err) < 0 &&
	    err.code != LK_ENOTFOUND)
		lk_log("namespace: cannot finalize '%s': %s", name, err.msg);
	lk_err_clear(&err);
	cJSON_Delete(obj);
}

static int on_namespace(void *arg, const struct store_event *ev)
{
	struct labkube *lk = arg;
	if (ev->type == STORE_DELETED)
		return 0;
	if (!jget(ev->obj, "metadata.deletionTimestamp"))
		ensure_default_sa(lk, ev->name);
	else if (empty_namespace(lk, ev->name))
		drop_finalizer(lk, ev->obj);
	return 0;
}

/* The deletion of a Terminating namespace's content may be the last one it
 * waits for: its content was already deleted (on_namespace), so this only
 * counts what is left, and drops the finalizer once nothing is. */
static int on_content(void *arg, const struct store_event *ev)
{
	struct labkube *lk = arg;
	cJSON *ns = NULL;

	if (ev->type != STORE_DELETED || !*ev->ns)
		return 0;
	if (store_get(lk->store, "namespaces", "", ev->ns, &ns, NULL) == 0 &&
	    jget(ns, "metadata.deletionTimestamp") && namespace_is_empty(lk, ev->ns))
		drop_finalizer(lk, ns);
	cJSON_Delete(ns);
	return 0;
}

/* The first usable address of a CIDR: the kubernetes Service's in the
 * service CIDR, the bridge's (where dns/ listens) in the pod CIDR. The
 * address written plus one, as dns/ counts it (dnsaddr_cidr_first). */
static void cidr_first_ip(const char *cidr, char *out)
{
	struct lk_cidr c;
	if (lk_cidr_parse(cidr, LK_CIDR_ADDR, &c, NULL) < 0 || c.ip.family != AF_INET)
		lk_cidr_parse("10.96.0.0/12", 0, &c, NULL);
	lk_ip_add(&c.ip, 1);
	lk_ip_format(&c.ip, out);
}

static void kubernetes_service(struct labkube *lk)
{
	const char *port = strrchr(lk->cfg.listen, ':');
	int p = port ? atoi(port + 1) : 6443;
	char *json;

	char vip[LK_IP_STRLEN];

	cidr_first_ip(lk->cfg.service_cidr, vip);
	json = xasprintf("{\"metadata\":{\"name\":\"kubernetes\",\"labels\":{\"component\":\"apiserver\","
			 "\"provider\":\"kubernetes\"}},\"spec\":{\"type\":\"ClusterIP\","
			 "\"clusterIP\":\"%s\",\"clusterIPs\":[\"%s\"],"
			 "\"ports\":[{\"name\":\"https\",\"port\":443,\"protocol\":\"TCP\","
			 "\"targetPort\":%d}],\"sessionAffinity\":\"None\"}}", vip, vip, p);
	ensure_current(lk, &res_service, "default", json, svc_owned);
	free(json);
	json = xasprintf("{\"metadata\":{\"name\":\"kubernetes\",\"labels\":"
			 "{\"endpointslice.kubernetes.io/skip-mirror\":\"true\"}},"
			 "\"subsets\":[{\"addresses\":[{\"ip\":\"%s\"}],"
			 "\"ports\":[{\"name\":\"https\",\"port\":%d,\"protocol\":\"TCP\"}]}]}",
			 lk->cfg.node_ip, p);
	ensure_current(lk, &res_endpoints, "default", json, eps_owned);
	free(json);
	json = xasprintf("{\"metadata\":{\"name\":\"kubernetes\",\"labels\":"
			 "{\"kubernetes.io/service-name\":\"kubernetes\"}},"
			 "\"addressType\":\"IPv4\",\"endpoints\":[{\"addresses\":[\"%s\"],"
			 "\"conditions\":{\"ready\":true}}],"
			 "\"ports\":[{\"name\":\"https\",\"port\":%d,\"protocol\":\"TCP\"}]}",
			 lk->cfg.node_ip, p);
	ensure_current(lk, &res_endpointslice, "default", json, slice_owned);
	free(json);
}

/* Selector-less (no pod runs DNS here): its endpoint is written by hand,
 * like the kubernetes Service's. */
static void kube_dns_service(struct labkube *lk)
{
	char ep[LK_IP_STRLEN];
	char *json;

	cidr_first_ip(lk->cfg.pod_cidr, ep);
	json = xasprintf("{\"metadata\":{\"name\":\"kube-dns\",\"labels\":{\"k8s-app\":\"kube-dns\","
			 "\"kubernetes.io/cluster-service\":\"true\",\"kubernetes.io/name\":\"CoreDNS\"}},"
			 "\"spec\":{\"type\":\"ClusterIP\",\"clusterIP\":\"%s\",\"clusterIPs\":[\"%s\"],"
			 "\"ports\":[{\"name\":\"dns\",\"port\":53,\"protocol\":\"UDP\",\"targetPort\":53},"
			 "{\"name\":\"dns-tcp\",\"port\":53,\"protocol\":\"TCP\",\"targetPort\":53}],"
			 "\"sessionAffinity\":\"None\"}}",
			 lk->cfg.cluster_dns, lk->cfg.cluster_dns);
	ensure_current(lk, &res_service, "kube-system", json, svc_owned);
	free(json);
	json = xasprintf("{\"metadata\":{\"name\":\"kube-dns\",\"labels\":"
			 "{\"k8s-app\":\"kube-dns\",\"endpointslice.kubernetes.io/skip-mirror\":\"true\"}},"
			 "\"subsets\":[{\"addresses\":[{\"ip\":\"%s\"}],"
			 "\"ports\":[{\"name\":\"dns\",\"port\":53,\"protocol\":\"UDP\"},"
			 "{\"name\":\"dns-tcp\",\"port\":53,\"protocol\":\"TCP\"}]}]}",
			 ep);
	ensure_current(lk, &res_endpoints, "kube-system", json, eps_owned);
	free(json);
	json = xasprintf("{\"metadata\":{\"name\":\"kube-dns\",\"labels\":"
			 "{\"k8s-app\":\"kube-dns\",\"kubernetes.io/service-name\":\"kube-dns\"}},"
			 "\"addressType\":\"IPv4\",\"endpoints\":[{\"addresses\":[\"%s\"],"
			 "\"conditions\":{\"ready\":true,\"serving\":true,\"terminating\":false}}],"
			 "\"ports\":[{\"name\":\"dns\",\"port\":53,\"protocol\":\"UDP\"},"
			 "{\"name\":\"dns-tcp\",\"port\":53,\"protocol\":\"TCP\"}]}",
			 ep);
	ensure_current(lk, &res_endpointslice, "kube-system", json, slice_owned);
	free(json);
}

void *bootstrap_start(struct labkube *lk)
{
	static const char *const namespaces[] = { "default", "kube-system", "kube-public",
						  "kube-node-lease" };
	struct bootstrap *b = xcalloc(1, sizeof(*b));
	struct lk_err err = { 0 };

	b->ns_sub = store_subscribe(lk->store, "namespaces", on_namespace, lk);
	b->content_sub = store_subscribe(lk->store, NULL, on_content, lk);
	for (size_t i = 0; i < ARRAY_SIZE(namespaces); i++) {
		char *json = xasprintf("{\"metadata\":{\"name\":\"%s\"}}", namespaces[i]);
		ensure(lk, &res_namespace, "", json);
		free(json);
	}
	if (store_commit(lk->store, &err) < 0) {
		lk_log("bootstrap: %s", err.msg);
		lk_err_clear(&err);
		bootstrap_stop(b);
		return NULL;
	}
	/* The feed has delivered the namespaces: their ServiceAccounts are in
	 * the next transaction, with the kubernetes Service. */
	for (size_t i = 0; i < ARRAY_SIZE(namespaces); i++)
		ensure_default_sa(lk, namespaces[i]);
	kubernetes_service(lk);
	kube_dns_service(lk);
	if (store_commit(lk->store, &err) < 0) {
		lk_log("bootstrap: %s", err.msg);
		lk_err_clear(&err);
		bootstrap_stop(b);
		return NULL;
	}
	return b;
}

void bootstrap_stop(void *state)
{
	struct bootstrap *b = state;
	if (!b)
		return;
	store_unsubscribe(b->ns_sub);
	store_unsubscribe(b->content_sub);
	free(b);
}
