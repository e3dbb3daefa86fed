/*
 * server/resources/endpointslice.c: discovery.k8s.io/v1 EndpointSlice.
 *
 * Printer: printEndpointSlice (ADDRESSTYPE, PORTS as number/name/"*",
 * ENDPOINTS as every address, both capped at 3 + "+ N more...", "<unset>"
 * when empty). Defaults: ports' name "" and protocol TCP. Validation:
 * ValidateEndpointSliceCreate's common cases (addressType, addresses,
 * ports). Generation moves on any change but metadata (labels count).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/resources/res_internal.h"

static const struct column eps_columns[] = {
	COL_NAME,
	{ "AddressType", "string", "", DESC_EPS_ADDRTYPE, 0 },
	{ "Ports", "string", "", DESC_EPS_PORTS, 0 },
	{ "Endpoints", "string", "", DESC_EPS_ENDPOINTS, 0 },
	COL_AGE,
};

static char *format_ports(const cJSON *eps)
{
	const cJSON *ports = jget(eps, "ports"), *p;
	int n = res_jsize(ports), i = 0;
	char **items = xcalloc((size_t)n + 1, sizeof(*items));
	cJSON_ArrayForEach(p, ports) {
		const cJSON *num = jget(p, "port"), *name = jget(p, "name");
		if (cJSON_IsNumber(num))
			items[i++] = xasprintf("%lld", res_num(num));
		else
			items[i++] = xstrdup(cJSON_IsString(name) ? name->valuestring : "*");
	}
	char *s = res_fmt_more((const char *const *)items, n, true);
	for (i = 0; i < n; i++)
		free(items[i]);
	free(items);
	return s;
}

static char *format_addresses(const cJSON *eps)
{
	const cJSON *e, *a;
	int n = 0;
	const char **items;
	cJSON_ArrayForEach(e, jget(eps, "endpoints"))
		n += res_jsize(jget(e, "addresses"));
	items = xcalloc((size_t)n + 1, sizeof(*items));
	n = 0;
	cJSON_ArrayForEach(e, jget(eps, "endpoints"))
		cJSON_ArrayForEach(a, jget(e, "addresses"))
			items[n++] = cJSON_IsString(a) ? a->valuestring : "";
	char *s = res_fmt_more(items, n, true);
	free(items);
	return s;
}

static void eps_cells(const cJSON *eps, time_t now, cJSON *cells)
{
	cell_name(cells, eps);
	cell_str(cells, jstr(eps, "addressType"));
	cell_take(cells, format_ports(eps));
	cell_take(cells, format_addresses(eps));
	cell_age(cells, eps, now);
}

static void eps_defaults(cJSON *eps)
{
	cJSON *p;
	cJSON_ArrayForEach(p, jget(eps, "ports")) {
		if (!cJSON_IsObject(p))
			continue;
		if (!cJSON_IsString(jget(p, "name")))
			jset_str(p, "name", "");
		if (!cJSON_IsString(jget(p, "protocol")))
			jset_str(p, "protocol", "TCP");
	}
}

static void validate_address(const char *type, const char *addr, const char *f,
			     struct field_errs *fe)
{
	struct lk_ip ip;
	int family = lk_ip_parse(addr, &ip, NULL) == 0 ? ip.family : 0;
	if (!strcmp(type, "IPv4") && family != AF_INET)
		field_err_invalid_str(fe, f, addr, "must be a valid IPv4 address");
	else if (!strcmp(type, "IPv6") && family != AF_INET6)
		field_err_invalid_str(fe, f, addr, "must be a valid IPv6 address");
	else if (strcmp(type, "FQDN"))
		check_endpoint_ip(fe, f, addr);
}

static void validate_endpoints(const cJSON *eps, struct field_errs *fe)
{
	const char *type = jstr_or(eps, "addressType", "");
	const cJSON *e, *a;
	char f[FP_MAX];
	int i = 0;
	cJSON_ArrayForEach(e, jget(eps, "endpoints")) {
		int n = res_jsize(jget(e, "addresses")), j = 0;
		res_fp(f, "endpoints[%d].addresses", i);
		if (!n)
			field_err_required(fe, f, "must contain at least 1 address");
		else if (n > 100)
			field_err_add(fe, "FieldValueTooMany", f,
				      "Too many: %d: must have at most 100 items", n);
		cJSON_ArrayForEach(a, jget(e, "addresses")) {
			res_fp(f, "endpoints[%d].addresses[%d]", i, j++);
			validate_address(type, cJSON_IsString(a) ? a->valuestring : "", f, fe);
		}
		i++;
	}
}

static void validate_ports(const cJSON *eps, struct field_errs *fe)
{
	static const char *const protocols[] = { "SCTP", "TCP", "UDP", NULL };
	cJSON *names = cJSON_CreateObject();
	const cJSON *p;
	char f[FP_MAX];
	int i = 0;
	cJSON_ArrayForEach(p, jget(eps, "ports")) {
		const char *name = jstr_or(p, "name", ""), *proto = jstr(p, "protocol");
		res_fp(f, "ports[%d].name", i);
		if (*name)
			res_invalid_each(fe, f, name, is_dns1123_label);
		if (cJSON_GetObjectItemCaseSensitive(names, name))
			field_err_duplicate_str(fe, f, name);
		else
			cJSON_AddTrueToObject(names, name);
		res_fp(f, "ports[%d].protocol", i);
		if (!proto)
			field_err_required(fe, f, NULL);
		else if (!res_str_in(proto, protocols))
			field_err_unsupported(fe, f, proto, protocols);
		if (jstr(p, "appProtocol"))
			res_invalid_each(fe, res_fp(f, "ports[%d].appProtocol", i), jstr(p, "appProtocol"),
				     is_qualified_name);
		i++;
	}
	cJSON_Delete(names);
}

static void eps_validate(const cJSON *eps, const cJSON *old, struct field_errs *fe)
{
	static const char *const types[] = { "FQDN", "IPv4", "IPv6", NULL };
	const char *type = jstr_or(eps, "addressType", "");
	validate_endpoints(eps, fe);
	validate_ports(eps, fe);
	if (old)
		return;
	if (!*type)
		field_err_required(fe, "addressType", NULL);
	else if (!res_str_in(type, types))
		field_err_unsupported(fe, "addressType", type, types);
}

static const char *const eps_generation[] = { "addressType", "endpoints", "ports",
					      "metadata.labels", NULL };

const struct resource res_endpointslice = {
	.group = "discovery.k8s.io", .version = "v1", .kind = "EndpointSlice",
	.plural = "endpointslices", .singular = "endpointslice", .namespaced = true,
	.generation = true, .generation_paths = eps_generation,
	.name_rule = NAME_SUBDOMAIN,
	.columns = eps_columns, .ncolumns = ARRAY_SIZE(eps_columns),
	.cells = eps_cells,
	.defaults = eps_defaults,
	.validate = eps_validate,
};
