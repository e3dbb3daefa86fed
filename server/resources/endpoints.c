/*
 * server/resources/endpoints.c: core/v1 Endpoints.
 *
 * Printer: formatEndpoints (ready addresses × ports as ip:port, IPv6
 * bracketed, the first 3 then "+ N more..."; notReadyAddresses never shown).
 * Defaults: subset ports' protocol TCP. Validation: ValidateEndpoints per
 * shared/specs/services.md §2 (addresses, IPs, hostname, nodeName, ports).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/resources/res_internal.h"

static const struct column ep_columns[] = {
	COL_NAME,
	{ "Endpoints", "string", "", DESC_EP_SUBSETS, 0 },
	COL_AGE,
};

/* The list formatEndpoints builds: at most 3 items, the total counted. */
struct eplist {
	struct strbuf sb;
	int shown, count;
	bool more;
};

static bool ep_add(struct eplist *l, const char *ip, long long port, bool with_port)
{
	if (l->shown == 3) {
		l->more = true;
		return false;
	}
	sb_adds(&l->sb, l->shown++ ? "," : "");
	if (!with_port)
		sb_adds(&l->sb, ip);
	else if (strchr(ip, ':'))
		sb_addf(&l->sb, "[%s]:%lld", ip, port); /* net.JoinHostPort */
	else
		sb_addf(&l->sb, "%s:%lld", ip, port);
	return true;
}

static char *format_endpoints(const cJSON *ep)
{
	struct eplist l = { STRBUF_INIT, 0, 0, false };
	const cJSON *ss, *p, *a;
	if (!res_jsize(jget(ep, "subsets")))
		return xstrdup("<none>");
	cJSON_ArrayForEach(ss, jget(ep, "subsets")) {
		const cJSON *addrs = jget(ss, "addresses");
		if (!res_jsize(jget(ss, "ports"))) {
			l.count += res_jsize(addrs);
			cJSON_ArrayForEach(a, addrs)
				if (!ep_add(&l, jstr_or(a, "ip", ""), 0, false))
					break;
			continue;
		}
		cJSON_ArrayForEach(p, jget(ss, "ports")) {
			l.count += res_jsize(addrs);
			cJSON_ArrayForEach(a, addrs)
				if (!ep_add(&l, jstr_or(a, "ip", ""), jint(p, "port", 0), true))
					break;
		}
	}
	if (l.more)
		sb_addf(&l.sb, " + %d more...", l.count - 3);
	return sb_detach(&l.sb, NULL);
}

static void ep_cells(const cJSON *ep, time_t now, cJSON *cells)
{
	cell_name(cells, ep);
	cell_take(cells, format_endpoints(ep));
	cell_age(cells, ep, now);
}

static void ep_defaults(cJSON *ep)
{
	cJSON *ss, *p;
	cJSON_ArrayForEach(ss, jget(ep, "subsets")) {
		cJSON_ArrayForEach(p, jget(ss, "ports")) {
			const char *proto = jstr(p, "protocol");
			if (cJSON_IsObject(p) && (!proto || !*proto))
				jset_str(p, "protocol", "TCP");
		}
	}
}

static void validate_address(const cJSON *a, const char *base, struct field_errs *fe)
{
	char f[FP_MAX];
	const char *ip = jstr_or(a, "ip", "");
	struct lk_ip v;
	res_fp(f, "%s.ip", base);
	if (lk_ip_parse(ip, &v, NULL) < 0)
		field_err_invalid_str(fe, f, ip,
				      "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
	if (*jstr_or(a, "hostname", ""))
		res_invalid_each(fe, res_fp(f, "%s.hostname", base), jstr(a, "hostname"),
			     is_dns1123_label);
	if (jstr(a, "nodeName"))
		res_invalid_each(fe, res_fp(f, "%s.nodeName", base), jstr(a, "nodeName"),
			     is_dns1123_subdomain);
	check_endpoint_ip(fe, res_fp(f, "%s.ip", base), ip);
}

static void validate_subset_ports(const cJSON *ss, const char *base, struct field_errs *fe)
{
	static const char *const protocols[] = { "SCTP", "TCP", "UDP", NULL };
	const cJSON *p;
	char f[FP_MAX];
	int i = 0, n = res_jsize(jget(ss, "ports"));
	cJSON_ArrayForEach(p, jget(ss, "ports")) {
		const char *name = jstr_or(p, "name", ""), *proto = jstr_or(p, "protocol", "");
		res_fp(f, "%s.ports[%d].name", base, i);
		if (n > 1 && !*name)
			field_err_required(fe, f, NULL);
		else if (*name)
			res_invalid_each(fe, f, name, is_dns1123_label);
		res_check_port(fe, res_fp(f, "%s.ports[%d].port", base, i), jint(p, "port", 0));
		res_fp(f, "%s.ports[%d].protocol", base, i);
		if (!*proto)
			field_err_required(fe, f, NULL);
		else if (!res_str_in(proto, protocols))
			field_err_unsupported(fe, f, proto, protocols);
		if (jstr(p, "appProtocol"))
			res_invalid_each(fe, res_fp(f, "%s.ports[%d].appProtocol", base, i),
				     jstr(p, "appProtocol"), is_qualified_name);
		i++;
	}
}

static void ep_validate(const cJSON *ep, const cJSON *old, struct field_errs *fe)
{
	const cJSON *ss, *a;
	char base[FP_MAX], f[FP_MAX];
	int i = 0;
	cJSON_ArrayForEach(ss, jget(ep, "subsets")) {
		int j = 0;
		res_fp(base, "subsets[%d]", i++);
		if (!res_jsize(jget(ss, "addresses")) && !res_jsize(jget(ss, "notReadyAddresses")))
			field_err_required(fe, base,
					   "must specify `addresses` or `notReadyAddresses`");
		cJSON_ArrayForEach(a, jget(ss, "addresses"))
			validate_address(a, res_fp(f, "%s.addresses[%d]", base, j++), fe);
		j = 0;
		cJSON_ArrayForEach(a, jget(ss, "notReadyAddresses"))
			validate_address(a, res_fp(f, "%s.notReadyAddresses[%d]", base, j++), fe);
		validate_subset_ports(ss, base, fe);
	}
}

static const char *const ep_short[] = { "ep", NULL };

const struct resource res_endpoints = {
	.group = "", .version = "v1", .kind = "Endpoints",
	.plural = "endpoints", .singular = "endpoints", .namespaced = true,
	.short_names = ep_short,
	.name_rule = NAME_SUBDOMAIN,
	.columns = ep_columns, .ncolumns = ARRAY_SIZE(ep_columns),
	.cells = ep_cells,
	.defaults = ep_defaults,
	.validate = ep_validate,
};
