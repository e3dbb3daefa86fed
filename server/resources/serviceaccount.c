/*
 * server/resources/serviceaccount.c: core/v1 ServiceAccount.
 *
 * Printer: NAME, SECRETS (len(secrets)), AGE. DELETE answers the object
 * (ReturnDeletedObject). Nothing to default or validate beyond metadata.
 * Not here: the default account per namespace (server/controllers).
 */
#include "server/resources/res_internal.h"

static const struct column sa_columns[] = {
	COL_NAME,
	{ "Secrets", "string", "", DESC_SA_SECRETS, 0 },
	COL_AGE,
};

static void sa_cells(const cJSON *sa, time_t now, cJSON *cells)
{
	cell_name(cells, sa);
	cell_int(cells, res_jsize(jget(sa, "secrets")));
	cell_age(cells, sa, now);
}

static const char *const sa_short[] = { "sa", NULL };

const struct resource res_serviceaccount = {
	.group = "", .version = "v1", .kind = "ServiceAccount",
	.plural = "serviceaccounts", .singular = "serviceaccount", .namespaced = true,
	.short_names = sa_short,
	.delete_returns_object = true,
	.name_rule = NAME_SUBDOMAIN,
	.columns = sa_columns, .ncolumns = ARRAY_SIZE(sa_columns),
	.cells = sa_cells,
};
