/*
 * server/registry/registry.c: see registry.h.
 */
#include <stdlib.h>

#include "common/util.h"
#include "server/registry/registry.h"

struct registry *registry_new(struct loop *loop, struct store *st)
{
	struct registry *reg = xcalloc(1, sizeof(*reg));
	reg->loop = loop;
	reg->store = st;
	return reg;
}

void registry_free(struct registry *reg)
{
	if (!reg)
		return;
	free(reg->served);
	free(reg->checks);
	free(reg);
}
