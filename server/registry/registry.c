/*
 * server/registry/registry.c: see registry.h.
 */
#include <stdlib.h>

#include "common/util.h"
#include "server/registry/event.h"
#include "server/registry/registry.h"
#include "server/resources/svcalloc.h"

struct registry *registry_new(struct loop *loop, struct store *st,
			      const struct registry_opts *opts, struct lk_err *err)
{
	static const struct registry_opts defaults = { NULL, NULL };
	struct svcalloc *sa;
	struct registry *reg;
	if (!opts)
		opts = &defaults;
	sa = svcalloc_new(opts->service_cidr, opts->node_port_range, err);
	if (!sa)
		return NULL;
	svcalloc_rebuild(sa, st);
	reg = xcalloc(1, sizeof(*reg));
	reg->loop = loop;
	reg->store = st;
	reg->svcalloc = sa;
	reg->events = event_recorder_new();
	return reg;
}

void registry_free(struct registry *reg)
{
	if (!reg)
		return;
	free(reg->served);
	free(reg->checks);
	svcalloc_free(reg->svcalloc);
	event_recorder_free(reg->events);
	free(reg);
}
