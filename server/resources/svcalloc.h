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
 * store (svcalloc_rebuild, what upstream's repair loop does), so the values
 * of existing Services are never handed out again after a restart.
 *
 * Ownership: one `struct svcalloc` per store, owned by that store's registry
 * (server/registry/registry.h), which hands it to the Service hooks in the
 * write context (`struct write_ctx`, resources.h). No state outside the
 * handle: two registries in one process allocate independently.
 *
 * Transactions: write.c opens one around admit and the store write
 * (svcalloc_txn_begin). Inside it, allocations take effect at once (so a
 * second request cannot get the same value) and releases are deferred;
 * svcalloc_txn_commit applies the releases, svcalloc_txn_revert gives back
 * the allocations and forgets the releases (a failed create or update, a
 * dry run). Outside a transaction a release is immediate (delete).
 * One thread (the loop).
 */
#ifndef LK_SVCALLOC_H
#define LK_SVCALLOC_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

struct store;
struct svcalloc;

enum svcalloc_rc {
	SA_OK = 0,
	SA_TAKEN = -1,      /* "provided ... is already allocated" */
	SA_RANGE = -2,      /* not in the valid range */
	SA_FULL = -3,       /* "range is full" */
};

#define SVCALLOC_DEFAULT_CIDR "10.96.0.0/12"
#define SVCALLOC_DEFAULT_PORTS "30000-32767"

/* Empty allocators for cidr "10.96.0.0/12" and ports "30000-32767" (NULL:
 * those defaults). NULL with a message in err when either does not parse. */
struct svcalloc *svcalloc_new(const char *cidr, const char *ports, struct lk_err *err);
void svcalloc_free(struct svcalloc *sa);
/* Forget everything and mark every cluster IP, node port and
 * healthCheckNodePort of the Services in st (the repair pass); duplicates
 * and out-of-range values are logged. An open transaction starts over. */
void svcalloc_rebuild(struct svcalloc *sa, struct store *st);

/* "10.96.0.0/12" and "30000-32767", as configured (for error messages). */
const char *svcalloc_cidr(const struct svcalloc *sa);
const char *svcalloc_port_range(const struct svcalloc *sa);

/* Cluster IPs, dotted quad. next writes into out (>= 16 bytes: LK_IP4_STRLEN). */
int svcalloc_ip_take(struct svcalloc *sa, const char *ip);
int svcalloc_ip_next(struct svcalloc *sa, char *out);
void svcalloc_ip_release(struct svcalloc *sa, const char *ip);
bool svcalloc_ip_used(const struct svcalloc *sa, const char *ip);
/* Node ports. */
int svcalloc_port_take(struct svcalloc *sa, long port);
int svcalloc_port_next(struct svcalloc *sa, long *out);
void svcalloc_port_release(struct svcalloc *sa, long port);
bool svcalloc_port_used(const struct svcalloc *sa, long port);
/* Free values left in each range (tests, diagnostics). */
uint32_t svcalloc_ip_free(const struct svcalloc *sa);
uint32_t svcalloc_port_free(const struct svcalloc *sa);

void svcalloc_txn_begin(struct svcalloc *sa);
void svcalloc_txn_commit(struct svcalloc *sa);
void svcalloc_txn_revert(struct svcalloc *sa);

#endif
