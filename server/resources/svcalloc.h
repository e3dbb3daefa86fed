/*
 * server/resources/svcalloc.h: the Service allocators (cluster IPs from the
 * service CIDR, node ports from the node port range), as upstream's
 * ipallocator / portallocator bitmaps and their repair loop
 * (shared/specs/services.md §3).
 *
 * Bands (KEP-3070): the start of each range is a static band that dynamic
 * allocation uses only when the rest is full: cluster IPs
 * offset = min(max(16, size/16), 256) (0 when size <= 16), node ports
 * offset = min(max(16, size/32), 128). Dynamic picks start at a random value
 * of the upper band and scan up with wrap-around. Static requests
 * (spec.clusterIP, nodePort) may be anywhere in the range. IPv4 only: the
 * network and broadcast addresses are never handed out.
 *
 * Persistence: none of its own. The state is rebuilt from the Services in the
 * store at start (svcalloc_init, what upstream's repair loop does), so the
 * values of existing Services are never handed out again after a restart.
 *
 * Transactions: write.c opens one around admit and the store write
 * (svcalloc_txn_begin). Inside it, allocations take effect at once (so a
 * second request cannot get the same value) and releases are deferred;
 * svcalloc_txn_commit applies the releases, svcalloc_txn_revert gives back
 * the allocations and forgets the releases (a failed create or update, a
 * dry run). Outside a transaction a release is immediate (delete).
 *
 * Context: the resource hooks (admit/release) get only the store, so the
 * allocator is one module-level instance, bound to the store it was built
 * from. A hook called with another store (unit tests) rebuilds it from that
 * store with the configured (or default) ranges. One thread (the loop).
 */
#ifndef LK_SVCALLOC_H
#define LK_SVCALLOC_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

struct labkube;
struct store;

enum svcalloc_rc {
	SA_OK = 0,
	SA_TAKEN = -1,      /* "provided ... is already allocated" */
	SA_RANGE = -2,      /* not in the valid range */
	SA_FULL = -3,       /* "range is full" */
};

/* Set the ranges: cidr "10.96.0.0/12", ports "30000-32767". Drops all
 * state. -1 with a message in err when either does not parse. */
int svcalloc_configure(const char *cidr, const char *ports, struct lk_err *err);
/* Configure from lk->cfg (service_cidr, node_port_range) and rebuild from
 * lk->store; called by main.c once the store is open. */
int svcalloc_init(struct labkube *lk);
/* Mark every cluster IP, node port and healthCheckNodePort of the Services
 * in st (the repair pass); duplicates and out-of-range values are logged. */
void svcalloc_rebuild(struct store *st);
/* Rebuild from st unless the allocator was already built from it. */
void svcalloc_ensure(struct store *st);
/* Free everything; the next svcalloc_ensure rebuilds with the defaults. */
void svcalloc_reset(void);

/* "10.96.0.0/12" and "30000-32767", as configured (for error messages). */
const char *svcalloc_cidr(void);
const char *svcalloc_port_range(void);

/* Cluster IPs, dotted quad. next writes into out (>= 16 bytes). */
int svcalloc_ip_take(const char *ip);
int svcalloc_ip_next(char *out);
void svcalloc_ip_release(const char *ip);
bool svcalloc_ip_used(const char *ip);
/* Node ports. */
int svcalloc_port_take(long port);
int svcalloc_port_next(long *out);
void svcalloc_port_release(long port);
bool svcalloc_port_used(long port);
/* Free values left in each range (tests, diagnostics). */
uint32_t svcalloc_ip_free(void);
uint32_t svcalloc_port_free(void);

void svcalloc_txn_begin(void);
void svcalloc_txn_commit(void);
void svcalloc_txn_revert(void);

#endif
