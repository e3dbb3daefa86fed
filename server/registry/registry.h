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
 * One registry per store, and all of its state hangs off it: the Service
 * allocators that the write path hands to the kinds' admit/release hooks
 * (`struct write_ctx`, resources.h) and the event recorder's dedup table.
 * Two registries over two stores in one process share nothing
 * (tests/unit/test_handles.c). One thread (the loop).
 */
#ifndef LK_REGISTRY_H
#define LK_REGISTRY_H

#include <stddef.h>

#include "common/err.h"

struct event_recorder;
struct inf_cache;
struct loop;
struct ready_check;
struct served;
struct store;
struct svcalloc;

struct registry {
	struct loop *loop;
	struct store *store;
	/* What components serve through the HTTP face (serve.h). */
	struct served *served;
	size_t nserved;
	struct ready_check *checks;
	size_t nchecks;
	struct svcalloc *svcalloc;      /* cluster IPs and node ports (svcalloc.h) */
	struct event_recorder *events;  /* repeats to count (event.h) */
	/* The shared informer caches, one per kind (informer.c): a short list,
	 * a handful of kinds. Every informer is released before registry_free. */
	struct inf_cache *informers;
};

/* The Service ranges; NULL fields (or opts) take upstream's defaults,
 * 10.96.0.0/12 and 30000-32767. */
struct registry_opts {
	const char *service_cidr;
	const char *node_port_range;
};

/* The allocators are built from the Services already in st (the repair
 * pass). NULL with a message in err when a range does not parse. loop may
 * be NULL (unit tests without informers). */
struct registry *registry_new(struct loop *loop, struct store *st,
			      const struct registry_opts *opts, struct lk_err *err);
void registry_free(struct registry *reg);

#endif
