/*
 * server/controllers/controllers.c: the table of controllers, started in
 * order and stopped in reverse.
 */
#include <stddef.h>

#include "common/util.h"
#include "server/controllers/controllers.h"
#include "server/controllers/workload.h"
#include "server/controllers/netctl.h"
#include "server/controllers/servicelb.h"
#include "server/labkube.h"

struct controller {
	const char *name;
	int (*start)(struct labkube *lk);
	void (*stop)(struct labkube *lk);
};

static const struct controller table[] = {
	{ "bootstrap", bootstrap_start, bootstrap_stop },
	{ "scheduler", scheduler_start, scheduler_stop },
	{ "replicaset", replicaset_start, replicaset_stop },
	{ "replicationcontroller", replicationcontroller_start, replicationcontroller_stop },
	{ "deployment", deployment_start, deployment_stop },
	{ "statefulset", statefulset_start, statefulset_stop },
	{ "daemonset", daemonset_start, daemonset_stop },
	{ "garbage-collector", gc_start, gc_stop },
	{ "node", nodeobj_start, nodeobj_stop },
	{ "endpoints", endpoints_start, endpoints_stop },
	{ "endpointslice", endpointslice_start, endpointslice_stop },
	{ "service-lb", servicelb_start, servicelb_stop },
};

int controllers_start(struct labkube *lk)
{
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)
		if (table[i].start(lk) < 0) {
			lk_log("controllers: cannot start '%s'", table[i].name);
			return -1;
		}
	return 0;
}

void controllers_stop(struct labkube *lk)
{
	for (size_t i = ARRAY_SIZE(table); i-- > 0;)
		table[i].stop(lk);
}
