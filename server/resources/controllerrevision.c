/*
 * server/resources/controllerrevision.c: apps/v1 ControllerRevision.
 *
 * Printer: NAME, CONTROLLER (`<none>` or lower(Kind[.group])/name of the
 * controller ownerReference, e.g. daemonset.apps/fluentd), REVISION, AGE.
 * Validation: ValidateControllerRevision (data mandatory, revision >= 0)
 * and, on update, data immutable.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "server/resources/res_internal.h"

static const struct column cr_columns[] = {
	COL_NAME,
	{ "Controller", "string", "", "Controller of the object", 0 },
	{ "Revision", "string", "", DESC_CR_REVISION, 0 },
	COL_AGE,
};

static char *controller_name(const cJSON *cr)
{
	const cJSON *ref;
	cJSON_ArrayForEach(ref, jget(cr, "metadata.ownerReferences")) {
		if (!jbool(ref, "controller", false))
			continue;
		const char *av = jstr_or(ref, "apiVersion", ""), *slash = strchr(av, '/');
		const char *kind = jstr_or(ref, "kind", ""), *name = jstr_or(ref, "name", "");
		char *s;
		if (!*kind && !slash)
			return xstrdup(name); /* empty GroupKind: the bare name */
		if (slash)
			s = xasprintf("%s.%.*s/%s", kind, (int)(slash - av), av, name);
		else
			s = xasprintf("%s/%s", kind, name);
		for (char *p = s; *p && p < s + strlen(s) - strlen(name) - 1; p++)
			*p = (char)tolower((unsigned char)*p);
		return s;
	}
	return xstrdup("<none>");
}

static void cr_cells(const cJSON *cr, time_t now, cJSON *cells)
{
	cell_name(cells, cr);
	cell_take(cells, controller_name(cr));
	cell_int(cells, jint(cr, "revision", 0));
	cell_age(cells, cr, now);
}

static void cr_validate(const cJSON *cr, const cJSON *old, struct field_errs *fe)
{
	const cJSON *data = jget(cr, "data");
	if (!data || cJSON_IsNull(data))
		field_err_required(fe, "data", "data is mandatory");
	res_check_nonneg(fe, "revision", jget(cr, "revision"));
	if (old && !jequal(data, jget(old, "data")))
		field_err_add(fe, "FieldValueInvalid", "data",
			      "Invalid value: runtime.RawExtension{...}: field is immutable");
}

const struct resource res_controllerrevision = {
	.group = "apps", .version = "v1", .kind = "ControllerRevision",
	.plural = "controllerrevisions", .singular = "controllerrevision",
	.namespaced = true,
	.name_rule = NAME_SUBDOMAIN,
	.columns = cr_columns, .ncolumns = ARRAY_SIZE(cr_columns),
	.cells = cr_cells,
	.validate = cr_validate,
};
