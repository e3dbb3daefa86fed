/*
 * server/registry/registry.h: the layer between the kinds and everything
 * that reads or writes objects (upstream's generic registry and client-go's
 * shared informers, in one process).
 *
 * It holds what every component reads and writes through: the validated
 * write path (write.h), label and field selectors (selector.h), informers
 * (informer.h), work queues (workqueue.h) and the event recorder (event.h).
 * The HTTP face (server/api/) and the components (controllers, node agent,
 * proxy, DNS) stand on it; it stands on the kinds (server/resources/) and
 * the store, and knows nothing of either above it.
 *
 * One registry per store. One thread (the loop).
 */
#ifndef LK_REGISTRY_H
#define LK_REGISTRY_H

#include <stddef.h>

struct loop;
struct ready_check;
struct served;
struct store;

struct registry {
	struct loop *loop;
	struct store *store;
	/* What components serve through the HTTP face (serve.h). */
	struct served *served;
	size_t nserved;
	struct ready_check *checks;
	size_t nchecks;
};

struct registry *registry_new(struct loop *loop, struct store *st);
void registry_free(struct registry *reg);

#endif
