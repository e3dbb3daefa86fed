/*
 * server/controllers/controllers.c: the table of controllers, started in
 * order and stopped in reverse.
 */
#include <stddef.h>

#include "common/util.h"
#include "server/controllers/controllers.h"
#include "server/labkube.h"

struct controller {
	const char *name;
	int (*start)(struct labkube *lk);
	void (*stop)(struct labkube *lk);
};

static const struct controller table[] = {
	{ "bootstrap", bootstrap_start, bootstrap_stop },
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
