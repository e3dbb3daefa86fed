/*
 * server/resources/podtemplate.c: core/v1 PodTemplate.
 *
 * Printer: NAME, CONTAINERS, IMAGES, POD LABELS (no AGE, as upstream).
 * Defaults: the pod template's. Validation: ValidatePodTemplateSpec on
 * `template`. Generation moves when `template` changes.
 */
#include "server/resources/res_internal.h"

static const struct column pt_columns[] = {
	COL_NAME,
	{ "Containers", "string", "", DESC_CONTAINERS, 0 },
	{ "Images", "string", "", DESC_IMAGES, 0 },
	{ "Pod Labels", "string", "", "The labels for the pod template.", 0 },
};

static void pt_cells(const cJSON *pt, time_t now, cJSON *cells)
{
	const cJSON *pod = jget(pt, "template.spec");
	cell_name(cells, pt);
	cell_take(cells, fmt_containers(pod, "name"));
	cell_take(cells, fmt_containers(pod, "image"));
	cell_take(cells, fmt_labels(jget(pt, "template.metadata.labels")));
}

static void pt_defaults(cJSON *pt)
{
	pod_template_defaults(jobj(pt, "template"));
}

static void pt_validate(const cJSON *pt, const cJSON *old, struct field_errs *fe)
{
	pod_template_validate(jget(pt, "template"), "template", fe);
}

static const char *const pt_generation[] = { "template", NULL };

const struct resource res_podtemplate = {
	.group = "", .version = "v1", .kind = "PodTemplate",
	.plural = "podtemplates", .singular = "podtemplate", .namespaced = true,
	.generation = true, .generation_paths = pt_generation,
	.name_rule = NAME_SUBDOMAIN,
	.columns = pt_columns, .ncolumns = ARRAY_SIZE(pt_columns),
	.cells = pt_cells,
	.defaults = pt_defaults,
	.validate = pt_validate,
};
