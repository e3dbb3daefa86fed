/*
 * server/node/node.h: the node agent (our kubelet). It runs the pods bound
 * to this node (spec.nodeName == --node-name) as real processes, each pod in
 * its own network namespace with its own IP on the bridge, and reports pod
 * status back through the write path (status subresource). See issue 3 and
 * shared/recipes/datapath-netns.sh for the network it builds.
 *
 * Without CAP_NET_ADMIN/CAP_SYS_ADMIN it says so once, marks the Node
 * NotReady with that message, and runs nothing.
 *
 * Slow or blocking work (creating a pod's sandbox, starting a process)
 * happens in child processes that report back over pipes watched by the
 * loop; the loop thread never blocks on them.
 */
#ifndef LK_NODE_H
#define LK_NODE_H

#include <stdbool.h>

struct labkube;

int node_start(struct labkube *lk);
void node_stop(struct labkube *lk);   /* NULL-safe: may run without start */
/* Why pods cannot run here (NULL when they can). */
const char *node_not_ready_reason(const struct labkube *lk);

#endif
