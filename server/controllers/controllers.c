/*
 * server/controllers/controllers.c: the table of controllers, started in
 * order and stopped in reverse; it keeps each one's state (lk->controllers).
 */
#include <stddef.h>
#include <stdlib.h>

#include "common/util.h"
#include "server/controllers/controllers.h"
#include "server/controllers/workload.h"
#include "server/controllers/netctl.h"
#include "server/controllers/servicelb.h"
#include "server/labkube.h"

/* start allocates the controller's state and returns it (NULL: failed);
 * stop takes it back (NULL-safe) and frees it. */
struct controller {
	const char *name;
	void *(*start)(struct labkube *lk);
	void (*stop)(void *state);
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
	{ "endpoints", endpoints_start, endpoints_stop },
	{ "endpointslice", endpointslice_start, endpointslice_stop },
	{ "service-lb", servicelb_start, servicelb_stop },
};

struct controllers {
	void *state[ARRAY_SIZE(table)];  /* table[i]'s, NULL when not started */
};

int controllers_start(struct labkube *lk)
{
	struct controllers *c = xcalloc(1, sizeof(*c));
	lk->controllers = c;
	for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
		c->state[i] = table[i].start(lk);
		if (!c->state[i]) {
			lk_log("controllers: cannot start '%s'", table[i].name);
			return -1;
		}
	}
	return 0;
}

void controllers_stop(struct labkube *lk)
{
	struct controllers *c = lk->controllers;
	if (!c)
		return;
	for (size_t i = ARRAY_SIZE(table); i-- > 0;)
		table[i].stop(c->state[i]);
	free(c);
	lk->controllers = NULL;
}
