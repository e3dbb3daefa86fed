/*
 * server/node/node_internal.h: what the node agent's files share (not for
 * other modules).
 *
 * Layout of the agent:
 *   node.c      start/stop, informers, the per-pod sync (workqueue keyed by
 *               pod uid), sandboxes, deletion, status writes
 *   adopt.c     what a restarted agent finds (processes, IPs, leftovers)
 *   volumes.c   emptyDir, configMap, secret, downwardAPI, projected,
 *               hostPath, persistentVolumeClaim as directories
 *   sys.c       file, directory, pidfd and /proc helpers
 *   runtime.c   containers in the loop: spawn shims, read their reports,
 *               exits, restarts with back-off, kills
 *   sandbox.c   the `_sandbox` applet (holds a pod's namespaces, wires its
 *               veth) and its spawn/teardown from the loop
 *   shim.c      the `_shim` applet: one per container run; joins the pod's
 *               namespaces, builds the container's mounts and PID namespace,
 *               execs it, writes its log and its exit
 *   nl.c        rtnetlink over libmnl (bridge, veth, addresses, routes)
 *   ipam.c      pure: the pod IP allocator over the pod CIDR
 *   ctrenv.c    pure: a container's environment and $(VAR) expansion
 *   podfiles.c  pure: /etc/hosts and /etc/resolv.conf text
 *   podstatus.c pure: containerStatuses, phase, conditions; the back-off
 *   logs.c      the CRI log format (pure) and GET .../pods/NAME/log
 *   probe.c     readiness/liveness/startup probes
 *
 * On disk, under <data-dir>/pods/ (last-ip: the allocator's round robin)
 * and <data-dir>/pods/<pod-uid>/:
 *   ip, meta                  the pod's IP and "namespace/name"
 *   hosts, hostname, resolv.conf, sa/{token,ca.crt,namespace}
 *   volumes/<name>/           emptyDir, configMap, secret, ... (volumes.c)
 *   sandbox.err               the sandbox's stderr
 *   <container>/current       "<container id> <restart count>"
 *   <container>/<id>.json     what the shim runs (argv, env, binds, caps)
 *   <container>/<id>.state    JSON: {"state":"running","pid","startedAt"} or
 *                             {"state":"exited","exitCode","signal",
 *                             "startedAt","finishedAt"[,"reason","message"]}
 *                             (times in ns)
 *   <container>/<id>.log[.1]  CRI-format log ("TS stdout F text"); the
 *                             last two runs are kept
 *   <container>/shim.err      the shims' stderr
 * and <data-dir>/volumes/<namespace>/<claim>/ for persistentVolumeClaims.
 * Processes carry their marker in their command line:
 *   labkube _sandbox <data-dir> <pod-uid> ...
 *   labkube _shim <data-dir> <pod-uid> <container> <id>
 * so a restarted agent finds (adopts) them by scanning /proc.
 *
 * Everything runs on the loop thread; children report over pipes and are
 * watched with pidfds.
 */
#ifndef LK_NODE_INTERNAL_H
#define LK_NODE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "common/err.h"
#include "common/ip.h"
#include "common/util.h"

struct labkube;
struct loop_timer;
struct informer;
struct workqueue;

#define NODE_BRIDGE "labkube0"
#define LOG_MAX_BYTES (10 * 1024 * 1024)

/* ---- ipam.c (pure) ---- */

struct ipam {                   /* IPv4 addresses as numbers (common/ip.h) */
	uint32_t base;      /* network address, host order */
	int prefix;
	uint32_t size;      /* addresses in the range */
	uint8_t *bits;      /* one bit per address */
	uint32_t next;      /* offset where the next search starts */
};
/* The range of cidr ("10.244.0.0/16"), with the network address, the
 * gateway (first address) and the broadcast address reserved. */
int ipam_init(struct ipam *a, const char *cidr, struct lk_err *err);
void ipam_release_all(struct ipam *a);
uint32_t ipam_gateway(const struct ipam *a);
bool ipam_contains(const struct ipam *a, uint32_t ip);
/* Mark ip used (an existing pod's); -1 when outside the range. */
int ipam_reserve(struct ipam *a, uint32_t ip);
bool ipam_used(const struct ipam *a, uint32_t ip);
/* The next free address after the last one handed out (round robin, as
 * host-local IPAM does, so a freed address is not reused at once); -1 when
 * the range is full. */
int ipam_alloc(struct ipam *a, uint32_t *out);
void ipam_free(struct ipam *a, uint32_t ip);

/* ---- podfiles.c (pure) ---- */

/* The pod's hostname: spec.hostname or the name, cut to 63 characters. */
void pod_hostname(const cJSON *pod, char *buf, size_t len);
/* Kubelet's managed /etc/hosts for a pod with IP ip. Caller frees. */
char *pod_hosts_file(const cJSON *pod, const char *ip, const char *domain);
/* /etc/resolv.conf per spec.dnsPolicy and spec.dnsConfig. host_resolv is
 * the node's own file (dnsPolicy Default), may be NULL. Caller frees. */
char *pod_resolv_conf(const cJSON *pod, const char *cluster_dns,
		      const char *domain, const char *host_resolv);

/* ---- ctrenv.c (pure) ---- */

/* Where env values come from, for makeEnvironmentVariables. */
struct env_src {
	const cJSON *pod;
	const char *pod_ip, *host_ip, *node_name;
	long long alloc_cpu_milli, alloc_memory;  /* node allocatable: limits default */
	/* Services of every namespace (the agent passes the informer's view). */
	const cJSON *const *services;
	size_t nservices;
	/* Look a ConfigMap/Secret up in the pod's namespace; NULL = missing. */
	const cJSON *(*configmap)(void *arg, const char *name);
	const cJSON *(*secret)(void *arg, const char *name);
	void *arg;
};

struct env_list {
	char **names, **values;
	size_t n, alloc;
};
void env_set(struct env_list *e, const char *name, const char *value);
const char *env_get(const struct env_list *e, const char *name);
void env_release(struct env_list *e);

/* Upstream getServiceEnvVarMap + envvars.FromServices, in service name
 * order. */
void service_env(const struct env_src *s, struct env_list *out);
/* The container's environment as the runtime gets it: PATH and HOSTNAME
 * defaults, envFrom, env (with valueFrom and $(VAR) expansion), then the
 * service variables the container did not define, then HOME. -1 with a
 * CreateContainerConfigError message in err on a missing ConfigMap/Secret
 * or key. */
int container_env(const struct env_src *s, const cJSON *ctr, const char *hostname,
		  struct env_list *out, struct lk_err *err);
/* A downward API item's value (fieldRef or resourceFieldRef; ctr may be
 * NULL when the item names its container); -1 when unsupported. */
int env_downward_value(const struct env_src *s, const cJSON *ctr, const cJSON *item,
		       struct strbuf *out);
char *env_b64_decode(const char *in);   /* lenient; caller frees */
/* Kubernetes' $(VAR) expansion (third_party/forked/golang/expansion).
 * Caller frees. */
char *env_expand(const char *in, const struct env_list *e);

/* ---- podstatus.c (pure) ---- */

/* flowcontrol.Backoff with 10 s initial, 300 s cap (times in ms, wall). */
struct backoff {
	int64_t last;   /* 0 = no entry */
	int64_t dur;
};
#define BACKOFF_INITIAL_MS 10000
#define BACKOFF_MAX_MS 300000
/* IsInBackOffSince(event): true while now - event < the current delay. */
bool backoff_in(const struct backoff *b, int64_t event, int64_t now);
/* Next(event): start at 10 s, or double (cap 300 s); an entry older than
 * 2 x cap starts over. */
void backoff_next(struct backoff *b, int64_t event);
/* Go's time.Duration.String() of whole seconds: "10s", "1m20s", "5m0s". */
void go_duration(int64_t ms, char *buf, size_t len);

enum ctr_state { CTR_WAITING, CTR_RUNNING, CTR_TERMINATED };

struct ctr_run {
	enum ctr_state state;
	char reason[48];      /* waiting/terminated reason ("" = default) */
	char *message;        /* owned, may be NULL */
	int exit_code;
	int signal;
	int64_t started_at;   /* unix seconds; 0 = unset */
	int64_t finished_at;
	char id[65];          /* container id (hex); "" = never created */
};
void ctr_run_clear(struct ctr_run *r);
void ctr_run_copy(struct ctr_run *dst, const struct ctr_run *src);
void ctr_run_set_msg(struct ctr_run *r, const char *msg);

struct probe;

/* One container of a pod: its status (pure data, read by podstatus.c) and
 * its runtime handles (runtime.c). */
struct nctr {
	char *name;
	bool init;             /* an init container */
	int index;             /* in spec.containers or spec.initContainers */
	struct ctr_run cur;    /* state now */
	struct ctr_run last;   /* lastState.terminated when state != WAITING or set */
	bool has_last;
	int restarts;
	bool ready;
	bool started;          /* running and the startup probe passed */
	char image_id[160];

	/* runtime */
	struct npod *pod;
	bool created;          /* a container was created once (restarts count) */
	pid_t shim, pid;       /* shim and container (host pids), 0 = none */
	int shim_fd, pid_fd;   /* pidfds, -1 */
	int report_fd;         /* shim's report pipe while it starts, -1 */
	struct strbuf report;
	bool starting, killing;
	int64_t kill_at;       /* wall ms: SIGKILL after this (killing) */
	struct backoff bo;     /* crash back-off */
	struct backoff pull_bo;/* image pull back-off */
	int64_t retry_at;      /* wall ms: not (re)started before this */
	bool pull_failed;      /* last image lookup failed */
	bool config_error;     /* last start failed with a config error */
	char *image;           /* the image the current run was started from */
	bool changed;          /* killed because its spec changed: restart now */
	struct probe *probes[3];  /* startup, liveness, readiness */
};

/* Pod-level view for podstatus.c. */
struct pod_view {
	const cJSON *pod;       /* the object: spec + current status */
	struct nctr *ctrs;      /* init containers first, then app containers */
	size_t ninit, n;
	bool sandbox_ready;
	const char *pod_ip;     /* NULL or "" = none yet */
	const char *host_ip;
	int64_t start_time;     /* unix seconds, 0 = unset */
	bool terminal;          /* containers stopped for good (pod ending) */
	time_t now;
};

/* PodStatus.phase per kubelet getPhase. */
const char *pod_phase(const struct pod_view *v);
/* The whole new status object (caller frees): conditions keep their
 * lastTransitionTime when unchanged; PodScheduled and other conditions
 * not owned by the kubelet are kept; qosClass is kept. */
cJSON *pod_status_build(const struct pod_view *v);
cJSON *ctr_status_json(const struct nctr *c, const cJSON *spec_ctr, bool has_init);

/* ---- logs.c ---- */

/* One CRI log line: "2024-05-13T13:37:30.123456789Z stdout F text". */
struct log_line {
	const char *ts;   size_t ts_len;
	const char *text; size_t text_len;
	bool partial;
	int64_t ts_ns;
};
/* Parse one line (without its '\n'); -1 when malformed. */
int log_parse_line(const char *s, size_t len, struct log_line *out);

struct log_opts {
	long tail;            /* -1 = all */
	int64_t since_ns;     /* 0 = all */
	bool timestamps;
	long long limit;      /* bytes, -1 = no limit */
};
/* Render CRI content (whole lines) as kubectl shows it. Appends to out. */
void log_render(const char *buf, size_t len, const struct log_opts *o,
		struct strbuf *out);

/* ---- the agent ---- */

struct npod {
	struct node *node;
	char uid[64], ns[254], name[254];
	const cJSON *obj;       /* latest object: a json_pack copy, one reference
	                           ours (often the informer's cached object) */
	bool gone;              /* deleted from the API or not ours any more */
	char ip[LK_IP4_STRLEN];
	bool host_network;
	char *dir;              /* <data>/pods/<uid>, owned */

	enum { SB_NONE, SB_STARTING, SB_READY } sb;
	pid_t sb_pid;
	int sb_fd, sb_report_fd;
	struct strbuf sb_report;
	char *sb_err;
	struct backoff sb_bo;
	int64_t sb_retry_at;

	struct nctr *ctrs;
	size_t ninit, n;
	int64_t start_time;
	bool terminating;       /* deletionTimestamp seen: containers stopping */
	bool finished;          /* phase Succeeded/Failed written: nothing runs */
	bool deleted_sent;      /* obj_delete sent */
	char *mount_err;        /* last FailedMount message */
	int64_t mount_err_at;
	cJSON *written;         /* the status last written */
	struct npod *next;
};

struct log_stream;

struct node {
	struct labkube *lk;
	char *datadir;          /* absolute */
	char *podsdir;          /* <datadir>/pods */
	char why[512];          /* not-ready reason, "" when ready */
	bool running;
	struct informer *pods, *services, *configmaps, *secrets;
	struct workqueue *wq;
	struct npod *list;
	struct ipam ipam;
	char gw[LK_IP4_STRLEN];
	int prefix;
	struct loop_timer *tick;
	struct log_stream *streams;
	struct nodestatus *status; /* this host's Node and Lease (nodestatus.c) */
};

/* node.c */
struct npod *node_pod(struct node *n, const char *uid);
/* Watch the sandbox's report pipe and pidfd in the loop. */
void node_sb_watch(struct node *n, struct npod *p);

/* adopt.c: after start, before the first sync. */
void node_adopt(struct node *n);
void node_enqueue(struct node *n, struct npod *p, int64_t delay_ms);
void node_event(struct node *n, struct npod *p, const struct nctr *c,
		const char *type, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
const cJSON *node_spec_ctr(const struct npod *p, const struct nctr *c);
int64_t wall_ms(void);

/* sandbox.c */
/* posix_spawn of `/proc/self/exe argv[1..]` in a session of its own, with
 * default signals, stdout a pipe (*report_fd, non-blocking) and stderr
 * appended to errlog. */
pid_t spawn_self(char *const argv[], int *report_fd, const char *errlog,
		 struct lk_err *err);
/* Start the pod's sandbox process (async: the report arrives on
 * p->sb_report_fd). */
int sandbox_start(struct node *n, struct npod *p, struct lk_err *err);
/* Read the sandbox's report: 1 ready, 0 not yet, -1 failed (p->sb_err). */
int sandbox_report(struct node *n, struct npod *p);
/* Delete the veth and end the sandbox process. */
void sandbox_stop(struct node *n, struct npod *p);
void veth_name(const char *uid, char *buf);  /* buf >= 16 */
int node_net_setup(struct node *n, struct lk_err *err);


/* runtime.c */
/* Start, restart or leave each container as the pod's spec and state say;
 * called by the pod sync once the sandbox is ready. */
void runtime_step(struct node *n, struct npod *p);
/* runtime_kill_ctr on every container. */
void runtime_kill_all(struct node *n, struct npod *p, int64_t grace_s, const char *why);
bool runtime_all_stopped(const struct npod *p);
void runtime_ctr_release(struct node *n, struct nctr *c);
/* Adopt a running shim found by the /proc scan. */
void runtime_adopt(struct node *n, struct npod *p, struct nctr *c, pid_t shim);
void runtime_load_state(struct node *n, struct npod *p, struct nctr *c);
/* SIGTERM now, SIGKILL once grace_s passed (call again to enforce); why
 * is the Killing event's message (NULL: "Stopping container NAME"). */
void runtime_kill_ctr(struct node *n, struct npod *p, struct nctr *c, int64_t grace_s,
		      const char *why);
char *ctr_dir(const struct npod *p, const struct nctr *c);

/* volumes.c */
/* Make (or refresh) the pod's volumes under <poddir>/volumes; -1 with the
 * FailedMount reason in err. */
int volumes_prepare(struct node *n, struct npod *p, struct lk_err *err);
/* The container's volumeMounts as shim binds (appended to binds). */
void volume_binds(struct node *n, struct npod *p, const cJSON *sc, cJSON *binds);
void env_src_init(struct node *n, struct npod *p, struct env_src *s);

/* probe.c */
void probes_start(struct node *n, struct npod *p, struct nctr *c);
void probes_stop(struct nctr *c);

/* nodestatus.c: this host's Node object and its Lease, as the kubelet's
 * node status manager keeps them; started before the agent knows whether
 * it can run pods (the Node says why not). */
struct nodestatus;
struct nodestatus *nodestatus_start(struct node *n);
void nodestatus_stop(struct nodestatus *ns);
/* This host, as the node agent would report it. */
struct node_facts {
	const char *name, *ip, *arch, *kernel, *os_image;
	const char *machine_id, *boot_id, *system_uuid;
	long cpus;
	long long mem_ki, storage_ki;
};
/* The Node to register: metadata (labels, annotations) and status
 * (capacity, allocatable, addresses, daemonEndpoints, nodeInfo). */
cJSON *nodestatus_build(const struct node_facts *f);
/* The four conditions for status: MemoryPressure, DiskPressure and
 * PIDPressure False, Ready True (or False with reason KubeletNotReady and
 * not_ready as message). Transition times come from old (the previous
 * conditions) when a status did not change; heartbeat times are now when
 * beat, else old's. */
cJSON *nodestatus_conditions(const cJSON *old, const char *not_ready, time_t now,
			     bool beat);


/* logs.c: GET pods/NAME/log (registered at start: serve.h's sub_fn), and
 * the end of every follow stream (at stop). */
struct sub_call;
void logs_serve(void *arg, struct sub_call *c);
void logs_close_all(struct node *n);

/* Small system helpers (sys.c). */
int write_file(const char *path, const char *data, size_t len, int mode);
int mkdir_all(const char *path, int mode);
void rm_rf(const char *path);
int pidfd_open_checked(pid_t pid);
bool pidfd_exited(int fd);     /* the process behind a pidfd has ended */
pid_t proc_ppid(pid_t pid);
/* /proc/PID/cmdline split into a NULL-terminated argv (free with
 * proc_cmdline_free); -1 when the process is gone or has none. */
int proc_cmdline(pid_t pid, char ***argv_out, int *argc_out);
void proc_cmdline_free(char **argv);

#endif
