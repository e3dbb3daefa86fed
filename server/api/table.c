/*
 * server/api/table.c: server-side printing, meta.k8s.io/v1 Table
 * (api-machinery.md §0). Columns and cells come from the resource table;
 * rows carry the object as PartialObjectMetadata unless includeObject says
 * otherwise, because kubectl takes -A's NAMESPACE and --show-labels from it.
 */
#include <string.h>

#include "server/api/internal.h"
#include "server/resources/resources.h"

int table_check_include(struct req *r, const char **include, struct lk_err *err)
{
	const char *v = req_arg(r, "includeObject");
	*include = v && *v ? v : "Metadata";
	if (strcmp(*include, "Metadata") && strcmp(*include, "Object") && strcmp(*include, "None"))
		return lk_error(err, LK_EBADREQUEST, "unrecognized includeObject value: \"%s\"", v);
	return 0;
}

cJSON *table_new(const struct resource *res, bool with_columns)
{
	cJSON *t = cJSON_CreateObject();
	const struct column *cols;
	size_t n;

	cJSON_AddStringToObject(t, "kind", "Table");
	cJSON_AddStringToObject(t, "apiVersion", "meta.k8s.io/v1");
	cJSON_AddObjectToObject(t, "metadata");
	if (with_columns) {
		cJSON *defs = cJSON_AddArrayToObject(t, "columnDefinitions");
		cols = resource_columns(res, &n);
		for (size_t i = 0; i < n; i++) {
			cJSON *c = cJSON_CreateObject();
			cJSON_AddStringToObject(c, "name", cols[i].name);
			cJSON_AddStringToObject(c, "type", cols[i].type);
			cJSON_AddStringToObject(c, "format", cols[i].format ? cols[i].format : "");
			cJSON_AddStringToObject(c, "description",
						cols[i].description ? cols[i].description : "");
			cJSON_AddNumberToObject(c, "priority", cols[i].priority);
			cJSON_AddItemToArray(defs, c);
		}
	} else {
		cJSON_AddNullToObject(t, "columnDefinitions");
	}
	cJSON_AddArrayToObject(t, "rows");
	return t;
}

static cJSON *partial_metadata(const cJSON *obj)
{
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "kind", "PartialObjectMetadata");
	cJSON_AddStringToObject(p, "apiVersion", "meta.k8s.io/v1");
	const cJSON *md = jget(obj, "metadata");
	cJSON_AddItemToObject(p, "metadata", md ? cJSON_Duplicate(md, 1) : cJSON_CreateObject());
	return p;
}

/* A cell string is cut at its first newline, as upstream's printer does. */
static void trim_cells(cJSON *cells)
{
	cJSON *c;
	cJSON_ArrayForEach(c, cells) {
		char *nl;
		if (cJSON_IsString(c) && (nl = strchr(c->valuestring, '\n'))) {
			char *s = xasprintf("%.*s...", (int)(nl - c->valuestring), c->valuestring);
			cJSON_SetValuestring(c, s);
			free(s);
		}
	}
}

void table_add_row(cJSON *table, const struct resource *res, const cJSON *obj,
		   const char *include, time_t now)
{
	cJSON *row = cJSON_CreateObject();
	cJSON *cells = cJSON_AddArrayToObject(row, "cells");

	resource_cells(res, obj, now, cells);
	trim_cells(cells);
	if (res->row_conditions) {
		cJSON *conds = res->row_conditions(obj);
		if (conds)
			cJSON_AddItemToObject(row, "conditions", conds);
	}
	if (!include || !strcmp(include, "Metadata"))
		cJSON_AddItemToObject(row, "object", partial_metadata(obj));
	else if (!strcmp(include, "Object"))
		cJSON_AddItemToObject(row, "object", api_served(res, cJSON_Duplicate(obj, 1)));
	cJSON_AddItemToArray(cJSON_GetObjectItem(table, "rows"), row);
}
