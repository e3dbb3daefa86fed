/*
 * server/node/node.h: the node agent (our kubelet). It runs the pods bound
 * to this node (spec.nodeName == --node-name) as real processes, each pod in
 * its own network namespace with its own IP on the bridge labkube0 (the
 * first address of --pod-cidr), and reports pod status back through the
 * write path (status subresource) with the kubelet's events. See issue 3,
 * shared/recipes/datapath-netns.sh for the network it builds, and
 * node_internal.h for how it is put together.
 *
 * It registers this host's Node and renews its Lease (nodestatus.c). Without
 * CAP_NET_ADMIN/CAP_SYS_ADMIN it says so once, the Node is NotReady with
 * that message, and it runs nothing.
 *
 * Pods outlive the agent: stopping labkube leaves their processes running
 * and a restarted agent adopts them (or restarts them with the same IP);
 * pods deleted meanwhile are cleaned up then.
 *
 * Slow or blocking work (creating a pod's sandbox, starting a process)
 * happens in child processes that report back over pipes watched by the
 * loop; the loop thread never blocks on them.
 */
#ifndef LK_NODE_H
#define LK_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct labkube;
struct lk_err;

int node_start(struct labkube *lk);
void node_stop(struct labkube *lk);   /* NULL-safe: may run without start */

/* `labkube cleanup` (main.c's cmd_cleanup calls it, with no server running
 * in this network namespace): delete what the agent created on the host by
 * name -- the bridge labkube0 and pod veths lkv* left behind (their pods
 * lose their network). Prints each removal to out; sysctls stay. Returns 0,
 * or -1 with err filled (may be NULL). */
int node_host_cleanup(FILE *out, struct lk_err *err);

/* Internal applets (main.c's table): `labkube _sandbox ...` holds a pod's
 * namespaces, `labkube _shim ...` runs one container. */
int node_sandbox_main(int argc, char **argv);
int node_shim_main(int argc, char **argv);

/* GET .../pods/NAME/log is served by logs.c, registered with the registry
 * at start (server/registry/serve.h), as is the "node" readiness check. */

#endif
