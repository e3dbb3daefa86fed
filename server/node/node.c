/*
 * server/node/node.c: the node agent. Placeholder until issue 3 lands it:
 * pods are stored and scheduled, but nothing runs them yet.
 */
#include "server/labkube.h"
#include "server/node/node.h"

int node_start(struct labkube *lk)
{
	return 0;
}

void node_stop(struct labkube *lk)
{
}

const char *node_not_ready_reason(const struct labkube *lk)
{
	return "the node agent is not implemented yet";
}
