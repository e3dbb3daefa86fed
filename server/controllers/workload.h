/*
 * server/controllers/workload.h: private to the workload controllers
 * (replicaset.c, deployment.c, statefulset.c, daemonset.c, scheduler.c),
 * and to tests/unit/test_controllers_workload.c. Upstream behaviour:
 * k8s pkg/controller/{replicaset,deployment,statefulset,daemonset} and the
 * scheduler's filter plugins (release-1.32), as summarised in
 * shared/specs/api-machinery.md §6 and §8.
 *
 * Shape: every controller is a `struct wl_ctl` (its own kind's informer, a
 * workqueue, a 30 s resync of every key and a delayed re-queue) plus the
 * informers it watches; a sync reads the informer caches, decides with a
 * pure core declared below, and writes through server/registry/write.h only.
 * Informers are shared between the controllers (one cache per kind).
 *
 * Caches and writes: the loop commits the store before it drains the
 * workqueues, so a sync sees every write of the previous round; writes of
 * the current round (by this or another controller) show up in the next
 * one. A write that conflicts (409) re-queues the key; nothing retries in
 * place. Objects from informers are borrowed (informer.h); everything these
 * functions return is the caller's unless said otherwise.
 *
 * One thread (the loop). Nothing here blocks.
 */
#ifndef LK_WORKLOAD_H
#define LK_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "common/err.h"
#include "server/registry/workqueue.h"

struct labkube;
struct resource;
struct label_selector;
struct loop_timer;

/* The controllers, in the table of controllers.c. */
void *replicaset_start(struct labkube *lk);
void replicaset_stop(void *state);
void *replicationcontroller_start(struct labkube *lk);
void replicationcontroller_stop(void *state);
void *deployment_start(struct labkube *lk);
void deployment_stop(void *state);
void *statefulset_start(struct labkube *lk);
void statefulset_stop(void *state);
void *daemonset_start(struct labkube *lk);
void daemonset_stop(void *state);
void *scheduler_start(struct labkube *lk);
void scheduler_stop(void *state);

/* ---------------------------------------------------------------------
 * Plumbing (replicaset.c)
 * ------------------------------------------------------------------- */

#define WL_RESYNC_MS 30000

struct wl_delayed;

/*
 * A controller's skeleton. Its informers are references to the registry's
 * shared caches (informer.h): wl_ctl_stop releases them, and their handlers
 * with them.
 */
struct wl_ctl {
	struct labkube *lk;
	struct informer *objs;        /* the controller's own kind */
	struct workqueue *wq;
	struct loop_timer *resync;
	struct loop_timer *delay_timer;
	uint64_t delay_at;            /* when delay_timer fires (monotonic ms) */
	struct wl_delayed *delayed;
	bool running;
};

/* Informer for res, workqueue `name` with sync(arg, key), every object of
 * res enqueued now, on each of its changes, and every WL_RESYNC_MS. */
void wl_ctl_start(struct wl_ctl *c, struct labkube *lk, const char *name,
		  const struct resource *res, workqueue_fn sync, void *arg);
void wl_ctl_stop(struct wl_ctl *c);
void wl_ctl_add(struct wl_ctl *c, const char *key);
void wl_ctl_add_obj(struct wl_ctl *c, const cJSON *obj);
/* At most one pending delay per key (the earliest wins). */
void wl_ctl_add_after(struct wl_ctl *c, const char *key, int64_t ms);

/* ---------------------------------------------------------------------
 * Object helpers (replicaset.c)
 * ------------------------------------------------------------------- */

/* metadata.creationTimestamp as time_t (0 when missing). */
time_t wl_created(const cJSON *obj);
bool wl_deleting(const cJSON *obj);
/* Set key to v; with omitempty, a 0 removes the key (Go's omitempty). */
void wl_set_count(cJSON *obj, const char *key, long long v, bool omitempty);

/* map[key] = v on a label/annotation map; keys may hold dots (no jset
 * paths). v NULL removes the key. */
void wl_map_set(cJSON *map, const char *key, const char *v);
const char *wl_map_get(const cJSON *map, const char *key);

/* obj_update of obj onto its own namespace/name (copied first: the write
 * path rewrites those fields, so pointers into obj would dangle). */
int wl_update(struct labkube *lk, const struct resource *res, cJSON *obj,
	      unsigned flags, struct lk_err *err);

/* The ownerReference with controller: true, or NULL. */
const cJSON *wl_controller_ref(const cJSON *obj);
/* metav1.NewControllerRef(owner): apiVersion, kind, name, uid,
 * controller: true, blockOwnerDeletion: true. */
cJSON *wl_owner_ref(const cJSON *owner);
/* The object in inf (obj's namespace) that obj's controller reference
 * names, when kind and uid match; NULL otherwise. */
const cJSON *wl_owner(const struct informer *inf, const cJSON *obj, const char *kind);

/* owner's spec.selector: a LabelSelector, or a plain label map when owner
 * is a ReplicationController. A bad selector selects nothing. Never NULL. */
struct label_selector *wl_selector(const cJSON *owner);

/*
 * ControllerRefManager.ClaimObject: what owner does with obj, whose labels
 * `selected` says whether owner's selector matches.
 *   WL_MINE    owner controls it and selects it (or owner is being deleted)
 *   WL_ADOPT   an orphan owner selects (neither is being deleted)
 *   WL_RELEASE owned but no longer selected (neither is being deleted)
 *   WL_SKIP    someone else's, or nothing to do
 */
enum wl_claim { WL_SKIP, WL_MINE, WL_ADOPT, WL_RELEASE };
enum wl_claim wl_claim(const cJSON *owner, const cJSON *obj, bool selected);
/* Write an adoption or release of obj (of kind res) by owner. 0 or -1;
 * *out (optional) gets the stored object. */
int wl_claim_write(struct labkube *lk, const struct resource *res,
		   const cJSON *obj, const cJSON *owner, enum wl_claim c, cJSON **out);

/* ---------------------------------------------------------------------
 * Pods (replicaset.c)
 * ------------------------------------------------------------------- */

/* controller.IsPodActive: not Succeeded/Failed and not being deleted. */
bool wl_pod_active(const cJSON *pod);
/* podutil.IsPodReady: condition Ready is True. */
bool wl_pod_ready(const cJSON *pod);
/* podutil.IsPodAvailable: ready, and for more than min_ready seconds
 * (0: as soon as ready). */
bool wl_pod_available(const cJSON *pod, long long min_ready, time_t now);
/* When a ready pod becomes available (Ready's lastTransitionTime +
 * min_ready); 0 when it is not ready or has no transition time. */
time_t wl_pod_available_at(const cJSON *pod, long long min_ready);

/*
 * Order pods for deletion, first = deleted first (controller.
 * ActivePodsWithRanks with LogarithmicScaleDown, on by default since
 * 1.22): unassigned < assigned; Pending < Unknown < Running; not ready <
 * ready; lower controller.kubernetes.io/pod-deletion-cost; ready for less
 * time (log2 buckets); more container restarts; newer (log2 buckets of
 * age); then by uid. All pods share one rank (one node).
 */
void wl_pods_rank(const cJSON **pods, size_t n, time_t now);

/* controller.GetPodFromTemplate: template labels, annotations and
 * finalizers, owner's controller reference, the template's spec. No name. */
cJSON *wl_pod_from_template(const cJSON *tmpl, const cJSON *owner);

/*
 * manageReplicas of the ReplicaSet controller (burst 500): create
 * `create` pods, or delete remove[0..nremove) (pointers into pods, which
 * is reordered by wl_pods_rank).
 */
#define WL_BURST 500
struct rs_plan {
	size_t create;
	const cJSON **remove;
	size_t nremove;
};
void rs_plan(long long replicas, const cJSON **pods, size_t n, time_t now,
	     struct rs_plan *out);

/*
 * ReplicaSet/ReplicationController calculateStatus: the status rs should
 * have given its active pods and the error of its last manageReplicas
 * (NULL: none; a ReplicaFailure condition FailedCreate/FailedDelete is
 * set on error and removed on success). observedGeneration = generation.
 */
cJSON *rs_status(const cJSON *rs, const cJSON *const *pods, size_t n,
		 const char *manage_err, time_t now);

/* ---------------------------------------------------------------------
 * Values (replicaset.c)
 * ------------------------------------------------------------------- */

/*
 * The template hash: FNV-32a over the canonical JSON of obj (object keys
 * sorted, so it does not depend on key order), then collision (when not
 * NULL) as 8 little-endian bytes; printed in decimal and each digit mapped
 * through rand.SafeEncodeString's alphabet, so it looks like upstream's
 * ("7c5ddbdf54": only 4-9 and b, c, d, f occur). out >= 11 bytes.
 */
void wl_hash(const cJSON *obj, const long long *collision, char *out);

/* intstr.GetScaledValueFromIntOrPercent: an int as is, "N%" of total
 * rounded up or down; 0 or -1 (bad value). NULL counts as 0. */
int wl_intstr_scaled(const cJSON *v, int total, bool round_up, int *out);

/* ---------------------------------------------------------------------
 * Conditions (replicaset.c), in status.conditions
 * ------------------------------------------------------------------- */

/* {type, status, [lastUpdateTime,] lastTransitionTime, reason, message};
 * lastUpdateTime only when update_time (Deployment conditions). */
cJSON *wl_cond_new(const char *type, const char *status, const char *reason,
		   const char *msg, time_t now, bool update_time);
const cJSON *wl_cond_get(const cJSON *status, const char *type);
/* SetDeploymentCondition: same status and reason → unchanged (cond is
 * freed); same status → keep lastTransitionTime; the old one is removed
 * and cond appended last. Takes cond. */
void wl_cond_set(cJSON *status, cJSON *cond);
void wl_cond_remove(cJSON *status, const char *type);

/* ---------------------------------------------------------------------
 * The Deployment planner (deployment.c): pure, over numbers
 * ------------------------------------------------------------------- */

struct drs {                    /* one ReplicaSet of the deployment */
	const char *name;
	time_t created;
	long long revision;
	int replicas;               /* spec.replicas; the plan changes it */
	int actual, ready, available;   /* status */
	int desired;                /* desired-replicas annotation; -1: none */
	int max;                    /* max-replicas annotation; -1: none */
	const cJSON *failure;       /* its ReplicaFailure condition (borrowed) */
};

struct dstep {                  /* scale rs[idx] from → to */
	size_t idx;
	int from, to;
	const char *op;             /* "up" / "down" (event wording) */
	bool event;                 /* size changed: ScalingReplicaSet */
};

struct dplan {
	/* in */
	int replicas;               /* deployment spec.replicas */
	bool rolling;               /* RollingUpdate (else Recreate) */
	int surge, unavailable;     /* deploy_fenceposts() */
	int status_replicas;        /* deployment status.replicas */
	struct drs *rs;             /* all of them, oldest first */
	size_t n;
	long new_rs;                /* index of the new RS; -1: none */
	/* out: the writes, in order */
	struct dstep *steps;        /* capacity 2 * n + 2 */
	size_t nsteps;
};

/* MaxSurge and MaxUnavailable of a Deployment object (0, 0 for Recreate;
 * unavailable clamped to replicas; both 0 → unavailable 1). */
void deploy_fenceposts(const cJSON *d, int *surge, int *unavailable);
/* NewRSNewReplicas: what the new RS (now at `current`) may grow to. */
int deploy_new_replicas(const struct dplan *p, int current);
/* isScalingEvent: an active RS whose desired-replicas differs. */
bool deploy_scaling_event(const struct dplan *p);
/* DeploymentController.scale (proportional scaling). */
void deploy_plan_scale(struct dplan *p);
/* rolloutRolling: reconcileNewReplicaSet, else reconcileOldReplicaSets. */
void deploy_plan_rolling(struct dplan *p);
/* rolloutRecreate: every active old RS to 0; true when any was scaled. */
bool deploy_plan_recreate_down(struct dplan *p);
/* Scale rs[idx] to `to` with an event when it changes (no-op if equal). */
bool deploy_plan_to(struct dplan *p, size_t idx, int to);

/*
 * calculateStatus (+ syncRolloutStatus when `rollout`): the status the
 * deployment d (with the conditions its sync set so far) should have,
 * counting the replica sets as they were before this sync's plan
 * (spec0[i] = their spec.replicas then). *requeue_ms gets when to look
 * again for a progress deadline (-1: no need).
 */
cJSON *deploy_status(const cJSON *d, const struct dplan *p, const int *spec0,
		     bool rollout, time_t now, int64_t *requeue_ms);

/* ---------------------------------------------------------------------
 * StatefulSet (statefulset.c) and DaemonSet (daemonset.c) helpers
 * ------------------------------------------------------------------- */

/* ControllerRevision data for a set or daemon set: {"spec":{"template":
 * <template + "$patch":"replace">}}. */
cJSON *wl_revision_data(const cJSON *owner);

/*
 * One pass of the StatefulSet pod management (OrderedReady or Parallel):
 * pods[i] is the pod of ordinal start+i (NULL when missing) for i < want,
 * extra[] are the condemned pods (ordinals out of range), highest first.
 * Returns the next action and the ordinal/pod it is about.
 */
enum sts_act { STS_NONE, STS_CREATE, STS_DELETE, STS_WAIT };
struct sts_step {
	enum sts_act act;
	long ordinal;
	const cJSON *pod;           /* for STS_DELETE */
};
/* parallel: Parallel policy; update_rev: the update revision name;
 * partition: RollingUpdate partition (-1: OnDelete). Fills up to max
 * steps (Parallel: every action; OrderedReady: at most one). */
size_t sts_plan(const cJSON *const *pods, long want, long start,
		const cJSON *const *extra, size_t nextra, bool parallel,
		const char *update_rev, long partition, struct sts_step *steps,
		size_t max);
/* Running and Ready (isRunningAndReady). */
bool sts_pod_healthy(const cJSON *pod);

/* ---------------------------------------------------------------------
 * Scheduling (scheduler.c)
 * ------------------------------------------------------------------- */

/* The Node to use when no Node object exists yet: name and the labels
 * kubernetes.io/hostname, kubernetes.io/os=linux, kubernetes.io/arch. */
cJSON *sched_default_node(const char *name);
/* nodeSelector and required node affinity (NodeAffinity filter). */
bool sched_affinity_match(const cJSON *podspec, const cJSON *node);
/* Does a toleration list tolerate taint (TolerationsTolerateTaint)? */
bool sched_tolerates(const cJSON *tolerations, const cJSON *taint);
/*
 * Why podspec cannot go to node, as the scheduler's filter reasons
 * ("node(s) were unschedulable", "node(s) didn't match Pod's node
 * affinity/selector", "node(s) had untolerated taint {k: v}"); NULL when
 * it fits. buf (>= 256) holds the taint text.
 */
const char *sched_fit(const cJSON *podspec, const cJSON *node, char *buf,
		      size_t len);
/* FitError.Error() for nnodes nodes with one reason each (same order). */
char *sched_fit_error(const char *const *reasons, size_t nnodes);

#endif
