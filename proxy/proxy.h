/*
 * proxy/proxy.h: the service proxy (our kube-proxy), issue 4.
 *
 * Three layers, as STYLE.md asks:
 *   proxy_plan_build()   pure: Services + EndpointSlices -> the rule set
 *                        (struct proxy_plan), unit-tested without root;
 *   proxy_plan_diff()    pure: which service ports changed between plans;
 *   a back end           (struct proxy_backend, an ops table) applies a plan
 *                        to the kernel and reads it back. nft.c (nftables
 *                        over netlink: libnftnl + libmnl, one batch per
 *                        change) is the default; IPVS and userspace modes are
 *                        later entries in the same table.
 * proxy.c is the shell: informers on Services, EndpointSlices and Nodes,
 * an incremental sync from the change feed (before-sleep hook), a full
 * reconcile at start and every PROXY_RESYNC_MS (a table flushed by hand is
 * rebuilt), the service CIDR route, conntrack cleanup for UDP, the health
 * check servers.
 *
 * Layout of table `ip labkube` (see proxy_plan_render for the exact text):
 * a verdict map service-ips (daddr . l4proto . dport -> goto svc-<port>) for
 * cluster, external and load-balancer IPs; service-nodeports (l4proto .
 * dport -> goto svc-<port>) behind `fib daddr type local`; one chain per
 * service port that DNATs through `numgen random mod N` into an anonymous
 * map of endpoints (no chain per endpoint, so the kernel's cost stays flat);
 * ClientIP affinity uses kube-proxy's per-endpoint chains and dynamic sets
 * with timeouts; a service without ready endpoints maps to reject-chain.
 * svc-<port> marks for masquerade what does not come from the pod CIDR, so
 * with externalTrafficPolicy Cluster (the default) outside clients reach
 * the pod from a node address.
 *
 * Traffic policies, as kube-proxy's nftables mode on one node ("local" is
 * an endpoint whose EndpointSlice nodeName is this node; ready ones, else
 * serving+terminating ones):
 *   externalTrafficPolicy Local (a service reachable from outside): its
 *     external IPs, LB IPs and node port map to ext-<port>:
 *       ip saddr <pod CIDR> goto svc-<port>      pods: all endpoints
 *       fib saddr type local mark + goto svc-    the host: all, masqueraded
 *       goto local-<port>                        the rest: local endpoints,
 *                                                source address kept
 *     or `drop` without local endpoints (kube-proxy drops, not rejects);
 *     the cluster IP keeps all endpoints. A LoadBalancer's
 *     healthCheckNodePort is served over HTTP (health.c).
 *   internalTrafficPolicy Local: the cluster IP maps to local-<port>
 *     (masquerading off-cluster sources to it), or to `drop` without local
 *     endpoints.
 *   No endpoints at all: reject-chain, whatever the policies.
 *
 * Ownership: cJSON inputs are borrowed; a plan owns all its memory.
 * Everything runs on the loop thread; no threads.
 */
#ifndef LK_PROXY_H
#define LK_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/err.h"

struct labkube;

#define PROXY_TABLE "labkube"
#define PROXY_MASQ_MARK 0x4000u
#define PROXY_BRIDGE "labkube0"     /* the pods' bridge (server/node) */
#define PROXY_RESYNC_MS 30000

struct proxy_ep {
	uint32_t ip;            /* network order */
	uint16_t port;          /* host order */
};

/* One service port: what the kernel gets for it. */
struct proxy_svc {
	char *key;              /* "ns/name:port" for logs */
	char *svc;              /* "ns/name" */
	char *chain;            /* "svc-ns/name/tcp/port" */
	uint8_t proto;          /* IPPROTO_TCP / UDP / SCTP */
	uint16_t port;          /* service port */
	uint16_t nodeport;      /* 0: none */
	uint32_t *vips;         /* cluster IP first, then external/LB IPs */
	size_t nvips;
	struct proxy_ep *eps;   /* sorted, unique */
	size_t neps;
	uint32_t affinity;      /* ClientIP timeout in seconds; 0: None */
	/* Traffic policies (issue 4), as kube-proxy's CategorizeEndpoints: */
	bool ext_local;         /* externalTrafficPolicy Local, externally reachable */
	bool int_local;         /* internalTrafficPolicy Local */
	struct proxy_ep *leps;  /* endpoints on this node, sorted: the ready ones,
				 * else the serving+terminating ones (then not
				 * always a subset of eps) */
	size_t nleps;
	struct proxy_ep *aeps;  /* eps and leps, sorted, unique: every endpoint a
				 * chain can send to (kube-proxy's
				 * allLocallyReachableEndpoints); the ep- chains
				 * and aff- sets are made for these */
	size_t naeps;
	bool leps_ready;        /* leps are ready ones (not the terminating fallback) */
	char *lchain;           /* "local-..." (leps) when a policy is Local; else NULL */
	char *xchain;           /* "ext-..." when ext_local and eps; else NULL */
	uint16_t hcport;        /* healthCheckNodePort (LoadBalancer + eTP Local); 0 */
};

struct proxy_plan {
	struct proxy_svc *svcs; /* sorted by chain */
	size_t n;
	uint32_t pod_net, pod_mask; /* network order */
};

struct proxy_input {
	const cJSON **svcs;
	size_t nsvcs;
	const cJSON **slices;
	size_t nslices;
	const char *pod_cidr;   /* "10.244.0.0/16" */
	const char *node_name;  /* endpoints[].nodeName that is local; NULL: none */
};

void proxy_plan_build(const struct proxy_input *in, struct proxy_plan *out);
void proxy_plan_release(struct proxy_plan *p);
/* Fills s->aeps from s->eps and s->leps (proxy_plan_build does it; for
 * plans made by hand). */
void proxy_svc_union(struct proxy_svc *s);
bool proxy_svc_equal(const struct proxy_svc *a, const struct proxy_svc *b);
const struct proxy_svc *proxy_plan_find(const struct proxy_plan *p, const char *chain);
/* Where the maps send traffic to s: external false for the cluster IP, true
 * for external/load-balancer IPs and the node port. A chain name, or NULL
 * for `drop` (a Local policy without local endpoints). */
const char *proxy_svc_target(const struct proxy_svc *s, bool external);

/* Walk both plans (sorted by chain): fn(old, new) for every service port
 * that was added (old NULL), removed (new NULL) or changed. Returns how
 * many. */
typedef void (*proxy_diff_fn)(void *arg, const struct proxy_svc *old,
			      const struct proxy_svc *new);
size_t proxy_plan_diff(const struct proxy_plan *old, const struct proxy_plan *new,
		       proxy_diff_fn fn, void *arg);

/* The rule set in nft syntax (`nft -f` loads it). svc: only the objects of
 * that "ns/name" (plus the fixed chains that lead to them); NULL: all.
 * Caller frees. */
char *proxy_plan_render(const struct proxy_plan *p, const char *svc);
/* Rules and chains the back end creates for p (the read-back check). */
void proxy_plan_counts(const struct proxy_plan *p, size_t *chains, size_t *rules);
const char *proxy_proto_name(uint8_t proto);

/* ---- back ends ---- */
/* Errors: -1 (NULL for init) with err filled, as common/err.h; err may be
 * NULL. Messages name the service port a failure is about when there is
 * one: "service 'ns/name:port': netlink: File exists (message 3 of 9: add
 * rule)". */
struct proxy_backend {
	const char *name;
	/* Returns NULL when this kernel cannot do it (why in err). */
	void *(*init)(struct lk_err *err);
	/* Full: replace everything with p. Returns 0 or -1. */
	int (*sync_full)(void *be, const struct proxy_plan *p, struct lk_err *err);
	/* Incremental: old was applied, move to new. */
	int (*sync_diff)(void *be, const struct proxy_plan *old,
			 const struct proxy_plan *new, struct lk_err *err);
	/* Read back: do the kernel's objects still match p? 1 yes, 0 no, -1 err */
	int (*check)(void *be, const struct proxy_plan *p, struct lk_err *err);
	/* Remove everything this back end created. */
	int (*cleanup)(void *be, struct lk_err *err);
	void (*free)(void *be);
};
extern const struct proxy_backend proxy_nft_backend;

/* Conntrack (conntrack.c): delete UDP flows whose original destination is
 * ip:port (port 0: any) and whose reply source is not in keep[]. */
int proxy_conntrack_flush_udp(uint32_t ip, uint16_t port, const uint32_t *keep,
			      size_t nkeep, struct lk_err *err);
/* Routes (route.c): the service CIDR via dev; del removes it. */
int proxy_route_service_cidr(const char *cidr, const char *dev, bool del,
			     struct lk_err *err);

/* Health checks (health.c): HTTP on each healthCheckNodePort of p, as
 * kube-proxy: 200 with local ready endpoints and a healthy proxy, else 503.
 * sync opens/closes listeners to match p (p is only read during the call). */
struct loop;
struct proxy_health;
struct proxy_health *proxy_health_new(struct loop *l);
void proxy_health_sync(struct proxy_health *h, const struct proxy_plan *p, bool healthy);
void proxy_health_free(struct proxy_health *h);   /* NULL-safe */
/* The whole response for svc ("ns/name"); pure, caller frees. */
char *proxy_health_response(const char *svc, size_t count, bool healthy, size_t *len);

/* ---- the component ---- */
/* Its state, struct proxy, hangs off lk->proxy from start to stop. */
struct proxy;
int proxy_start(struct labkube *lk);
void proxy_stop(struct labkube *lk);   /* leaves the table in place */
/* proxy_start registers the "proxy" readiness check (why services are not
 * being proxied) with lk->reg when the server is privileged. */

/* Applets: `labkube proxy rules [NS/SVC]`, `labkube cleanup`. */
int proxy_cmd(int argc, char **argv);
int proxy_cleanup_cmd(int argc, char **argv);

#endif
