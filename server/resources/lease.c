/*
 * server/resources/lease.c: coordination.k8s.io/v1 Lease.
 *
 * Printer: NAME, HOLDER (holderIdentity or ""), AGE. Validation:
 * ValidateLeaseSpec's durations. Not here: the node heartbeat that renews
 * kube-node-lease/<node> (server/node).
 */
#include "server/resources/res_internal.h"

static const struct column lease_columns[] = {
	COL_NAME,
	{ "Holder", "string", "", DESC_LEASE_HOLDER, 0 },
	COL_AGE,
};

static void lease_cells(const cJSON *l, time_t now, cJSON *cells)
{
	cell_name(cells, l);
	cell_str(cells, jstr(l, "spec.holderIdentity"));
	cell_age(cells, l, now);
}

static void lease_validate(const cJSON *l, const cJSON *old, struct field_errs *fe)
{
	const cJSON *d = jget(l, "spec.leaseDurationSeconds");
	if (cJSON_IsNumber(d) && d->valuedouble <= 0)
		field_err_invalid_int(fe, "spec.leaseDurationSeconds",
				      res_num(d), "must be greater than 0");
	res_check_nonneg(fe, "spec.leaseTransitions", jget(l, "spec.leaseTransitions"));
}

const struct resource res_lease = {
	.group = "coordination.k8s.io", .version = "v1", .kind = "Lease",
	.plural = "leases", .singular = "lease", .namespaced = true,
	.name_rule = NAME_SUBDOMAIN,
	.columns = lease_columns, .ncolumns = ARRAY_SIZE(lease_columns),
	.cells = lease_cells,
	.validate = lease_validate,
};
