/*
 * server/registry/serve.c: see serve.h. A handful of entries each: arrays.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "server/registry/registry.h"
#include "server/registry/serve.h"

struct served {
	const struct resource *res;
	char sub[32];
	sub_fn fn;
	void *arg;
};

static struct served *find_served(const struct registry *reg, const struct resource *res,
				  const char *sub)
{
	for (size_t i = 0; i < reg->nserved; i++)
		if (reg->served[i].res == res && !strcmp(reg->served[i].sub, sub))
			return &reg->served[i];
	return NULL;
}

void registry_serve(struct registry *reg, const struct resource *res, const char *sub,
		    sub_fn fn, void *arg)
{
	struct served *s = find_served(reg, res, sub);
	if (!s) {
		reg->served = xrealloc(reg->served, (reg->nserved + 1) * sizeof(*reg->served));
		s = &reg->served[reg->nserved++];
		s->res = res;
		snprintf(s->sub, sizeof(s->sub), "%s", sub);
	}
	s->fn = fn;
	s->arg = arg;
}

void registry_unserve(struct registry *reg, const struct resource *res, const char *sub)
{
	struct served *s = find_served(reg, res, sub);
	if (!s)
		return;
	*s = reg->served[--reg->nserved];
}

sub_fn registry_served(const struct registry *reg, const struct resource *res,
		       const char *sub, void **arg)
{
	const struct served *s = find_served(reg, res, sub);
	if (!s)
		return NULL;
	*arg = s->arg;
	return s->fn;
}

void registry_check_add(struct registry *reg, const char *name, check_fn fn, void *arg)
{
	struct ready_check *c;
	for (size_t i = 0; i < reg->nchecks; i++)
		if (!strcmp(reg->checks[i].name, name))
			lk_die("registry: readiness check '%s' registered twice", name);
	reg->checks = xrealloc(reg->checks, (reg->nchecks + 1) * sizeof(*reg->checks));
	c = &reg->checks[reg->nchecks++];
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->fn = fn;
	c->arg = arg;
}

void registry_check_del(struct registry *reg, const char *name)
{
	for (size_t i = 0; i < reg->nchecks; i++)
		if (!strcmp(reg->checks[i].name, name)) {
			memmove(&reg->checks[i], &reg->checks[i + 1],
				(reg->nchecks - i - 1) * sizeof(*reg->checks));
			reg->nchecks--;
			return;
		}
}

const struct ready_check *registry_checks(const struct registry *reg, size_t *n)
{
	*n = reg->nchecks;
	return reg->checks;
}
