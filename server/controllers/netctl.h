/*
 * server/controllers/netctl.h: private to the Service-networking and garbage
 * collection controllers (endpoints.c, endpointslice.c, gc.c). Not a public contract: controllers.c includes it only for
 * the start/stop pairs of its table.
 *
 * Each controller is a thin shell over a pure core declared here, so the
 * cores are unit-tested without a store (tests/unit/test_controllers_net.c):
 *   endpoints_subsets()       what a Service's Endpoints should hold
 *                             (endpoints_controller.go + RepackSubsets)
 *   endpointslice_desired()   its EndpointSlices (endpointslice reconciler)
 *   endpointslice_mirror()    slices mirrored from hand-written Endpoints
 *   gc_plan()                 what the garbage collector does with one
 *                             dependent (garbagecollector.go
 *                             attemptToDeleteItem)
 *
 * Ownership: cJSON arguments are borrowed; returned cJSON trees and char *
 * are the caller's. Everything runs on the loop thread.
 */
#ifndef LK_NETCTL_H
#define LK_NETCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <cjson/cJSON.h>

struct labkube;
struct resource;
struct informer;

void *endpoints_start(struct labkube *lk);
void endpoints_stop(void *state);
void *endpointslice_start(struct labkube *lk);
void endpointslice_stop(void *state);
void *gc_start(struct labkube *lk);
void gc_stop(void *state);

/* ---- Service and Pod helpers (endpoints.c), as upstream's ---- */
#define LABEL_SERVICE_NAME "kubernetes.io/service-name"
#define LABEL_MANAGED_BY "endpointslice.kubernetes.io/managed-by"
#define LABEL_HEADLESS "service.kubernetes.io/headless"
#define LABEL_SKIP_MIRROR "endpointslice.kubernetes.io/skip-mirror"
#define ANN_TRIGGER_TIME "endpoints.kubernetes.io/last-change-trigger-time"
#define ANN_LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"
#define ANN_LEADER "control-plane.alpha.kubernetes.io/leader"
#define SLICE_CONTROLLER "endpointslice-controller.k8s.io"
#define MIRROR_CONTROLLER "endpointslicemirroring-controller.k8s.io"
#define MAX_ENDPOINTS_PER_SLICE 100

/* A Service the endpoint controllers manage: a non-empty selector and a
 * type other than ExternalName. */
bool svc_selects(const cJSON *svc);
/* clusterIP is "None" (or unset): the headless label. */
bool svc_headless(const cJSON *svc);
/* podutil.IsPodReady: condition Ready is True. */
bool pod_ready(const cJSON *pod);
/* ShouldPodBeInEndpoints: not Succeeded/Failed, has an IP, and not
 * terminating unless include_terminating. */
bool pod_in_endpoints(const cJSON *pod, bool include_terminating);
/* The pod's IP of family "IPv4"/"IPv6" (status.podIPs, then podIP), or NULL. */
const char *pod_ip_for(const cJSON *pod, const char *family);
/* podutil.FindPort: a numeric targetPort as is, a named one looked up in
 * the pod's (and restartable init) container ports with the same
 * protocol. 0 when the pod has no such port. */
int pod_find_port(const cJSON *pod, const cJSON *svc_port);
/* ShouldSetHostname: spec.hostname set and spec.subdomain == service. */
bool pod_sets_hostname(const cJSON *pod, const cJSON *svc);

/* The pods of svc's namespace its selector selects, borrowed from the
 * informer into *out (caller frees the array, not the pods). */
size_t netctl_select_pods(struct informer *pods, const cJSON *svc, const cJSON ***out);
/* Did a pod change in a way endpoints see (labels, IPs, readiness,
 * phase, deletion, hostname, node)? */
bool pod_endpoint_changed(const cJSON *old, const cJSON *pod);
/* Call fn with the key ("ns/name") of every Service in the pod's namespace
 * that selects pod or old (either may be NULL). */
void netctl_pod_services(struct informer *svcs, const cJSON *pod, const cJSON *old,
			 void (*fn)(void *arg, const char *key), void *arg);

/* ---- the last-change-trigger-time tracker (trigger_time_tracker.go) ----
 * Per Service: the Ready lastTransitionTime of each pod and the Service's
 * creationTimestamp seen at the last sync. compute() answers the earliest
 * of those that changed since (the Service's creation on the first sync),
 * or 0 when nothing did. */
struct trigger_tracker;
struct trigger_tracker *trigger_tracker_new(void);
void trigger_tracker_free(struct trigger_tracker *t);
time_t trigger_compute(struct trigger_tracker *t, const char *key, const cJSON *svc,
		       const cJSON *const *pods, size_t npods);
void trigger_forget(struct trigger_tracker *t, const char *key);
/* Set or (t == 0) remove the annotation on obj. */
void trigger_annotate(cJSON *obj, time_t t);

/* ---- pure cores ---- */

/* The subsets of svc's Endpoints for these pods (already selected by the
 * Service's selector): addresses / notReadyAddresses, ports per pod,
 * repacked so pods offering the same ports share a subset, sorted. An
 * empty array when there is nothing. */
cJSON *endpoints_subsets(const cJSON *svc, const cJSON *const *pods, size_t npods);
/* The Endpoints' labels: the Service's, plus the headless label. */
cJSON *endpoints_labels(const cJSON *svc);

/* The EndpointSlices svc should have for these pods: full objects without
 * a name (generateName "<svc>-", labels, the controller ownerReference,
 * addressType, endpoints, ports with "name" always present), grouped by
 * address type and port set, at most max endpoints each, sorted. One
 * placeholder slice with no ports and no endpoints when there is nothing. */
cJSON *endpointslice_desired(const cJSON *svc, const cJSON *const *pods,
			     size_t npods, int max);
/* Slices mirrored from a selector-less Service's Endpoints (the
 * endpointslicemirroring controller): ready = in addresses; invalid IPs
 * dropped; owned by the Endpoints. Empty when it has no addresses. */
cJSON *endpointslice_mirror(const cJSON *ep, int max);
/* Do two slices (desired and existing) say the same? Compares address
 * type, endpoints, ports, labels and ownerReferences (and annotations
 * when with_annotations). */
bool endpointslice_same(const cJSON *want, const cJSON *have, bool with_annotations);

/* What the garbage collector does with one dependent whose owners it has
 * classified (one state per ownerReferences entry, in order). */
enum gc_owner_state {
	GC_OWNER_SOLID,    /* exists with that uid, not waiting on dependents */
	GC_OWNER_DANGLING, /* absent, or another object with that name */
	GC_OWNER_WAITING,  /* being deleted with foregroundDeletion */
};
enum gc_action {
	GC_NOTHING,
	GC_STRIP_REFS,     /* remove the dangling and waiting references */
	GC_DELETE,         /* delete with plan->policy */
};
struct gc_plan {
	enum gc_action action;
	const char *policy;   /* "Background", "Foreground", "Orphan" */
	cJSON *refs;          /* GC_STRIP_REFS: the ownerReferences to keep */
};
/* dep: the dependent's current state; has_dependents: something names dep
 * as its owner. Fills plan (free plan->refs). */
void gc_plan(const cJSON *dep, const enum gc_owner_state *states,
	     bool has_dependents, struct gc_plan *plan);
#endif
