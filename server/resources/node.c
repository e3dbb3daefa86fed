/*
 * server/resources/node.c: core/v1 Node (cluster-scoped).
 *
 * Printer: printNode (STATUS from the Ready condition only, plus
 * SchedulingDisabled; ROLES from node-role.kubernetes.io/<r> labels and
 * kubernetes.io/role; wide addresses and node info). Field selectors:
 * metadata.name and spec.unschedulable only (no metadata.namespace).
 * Defaults: SetDefaults_NodeStatus (allocatable = capacity).
 * Not here: the node agent that writes status (server/node).
 */
#include <stdlib.h>
#include <string.h>

#include "server/resources/res_internal.h"

static const struct column node_columns[] = {
	COL_NAME,
	{ "Status", "string", "", "The status of the node", 0 },
	{ "Roles", "string", "", "The roles of the node", 0 },
	COL_AGE,
	{ "Version", "string", "", DESC_NODE_VERSION, 0 },
	{ "Internal-IP", "string", "", DESC_NODE_ADDRS, 1 },
	{ "External-IP", "string", "", DESC_NODE_ADDRS, 1 },
	{ "OS-Image", "string", "", DESC_NODE_OS, 1 },
	{ "Kernel-Version", "string", "", DESC_NODE_KERNEL, 1 },
	{ "Container-Runtime", "string", "", DESC_NODE_RUNTIME, 1 },
};

#define ROLE_PREFIX "node-role.kubernetes.io/"

static char *node_status(const cJSON *node)
{
	const cJSON *c, *ready = NULL;
	const char *st;
	cJSON_ArrayForEach(c, jget(node, "status.conditions"))
		if (str_eq(jstr(c, "type"), "Ready"))
			ready = c; /* conditionMap: the last one wins */
	st = !ready ? "Unknown" : str_eq(jstr(ready, "status"), "True") ? "Ready" : "NotReady";
	return xasprintf("%s%s", st, jbool(node, "spec.unschedulable", false) ?
					     ",SchedulingDisabled" : "");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static char *node_roles(const cJSON *node)
{
	const cJSON *labels = jget(node, "metadata.labels"), *it;
	const char **roles = xcalloc((size_t)res_jsize(labels) + 1, sizeof(*roles));
	struct strbuf sb = STRBUF_INIT;
	int n = 0, m = 0;
	cJSON_ArrayForEach(it, ONLY_OBJ(labels)) {
		const char *v = cJSON_IsString(it) ? it->valuestring : "";
		if (str_has_prefix(it->string, ROLE_PREFIX) && it->string[strlen(ROLE_PREFIX)])
			roles[n++] = it->string + strlen(ROLE_PREFIX);
		else if (!strcmp(it->string, "kubernetes.io/role") && *v)
			roles[n++] = v;
	}
	qsort(roles, (size_t)n, sizeof(*roles), cmp_str);
	for (int i = 0; i < n; i++) {
		if (i && !strcmp(roles[i], roles[i - 1]))
			continue;
		sb_adds(&sb, m++ ? "," : "");
		sb_adds(&sb, roles[i]);
	}
	free(roles);
	if (!m)
		sb_adds(&sb, "<none>");
	return sb_detach(&sb, NULL);
}

static const char *node_address(const cJSON *node, const char *type)
{
	const cJSON *a;
	cJSON_ArrayForEach(a, jget(node, "status.addresses"))
		if (str_eq(jstr(a, "type"), type))
			return jstr_or(a, "address", "");
	return "<none>";
}

static const char *or_unknown(const char *s)
{
	return s && *s ? s : "<unknown>";
}

static void node_cells(const cJSON *node, time_t now, cJSON *cells)
{
	cell_name(cells, node);
	cell_take(cells, node_status(node));
	cell_take(cells, node_roles(node));
	cell_age(cells, node, now);
	cell_str(cells, jstr(node, "status.nodeInfo.kubeletVersion"));
	cell_str(cells, node_address(node, "InternalIP"));
	cell_str(cells, node_address(node, "ExternalIP"));
	cell_str(cells, or_unknown(jstr(node, "status.nodeInfo.osImage")));
	cell_str(cells, or_unknown(jstr(node, "status.nodeInfo.kernelVersion")));
	cell_str(cells, or_unknown(jstr(node, "status.nodeInfo.containerRuntimeVersion")));
}

static const struct field_def node_fields[] = {
	{ "metadata.name", "metadata.name", FK_STR },
	{ "spec.unschedulable", "spec.unschedulable", FK_BOOL },
	{ NULL, NULL, FK_STR },
};

static int node_field(const cJSON *obj, const char *label, char *buf, size_t len)
{
	return res_field_from_defs(node_fields, obj, label, buf, len);
}

static void node_defaults(cJSON *node)
{
	const cJSON *cap = jget(node, "status.capacity");
	if (cJSON_IsObject(cap) && !jget(node, "status.allocatable"))
		jset(node, "status.allocatable", cJSON_Duplicate(cap, 1));
}

static const char *const node_short[] = { "no", NULL };

const struct resource res_node = {
	.group = "", .version = "v1", .kind = "Node",
	.plural = "nodes", .singular = "node", .namespaced = false,
	.short_names = node_short,
	.has_status = true,
	.name_rule = NAME_SUBDOMAIN,
	.columns = node_columns, .ncolumns = ARRAY_SIZE(node_columns),
	.cells = node_cells,
	.field = node_field, .field_conv = true,
	.defaults = node_defaults,
};
