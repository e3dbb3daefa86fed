/*
 * server/api/filter.c: labelSelector and fieldSelector of a list, watch or
 * delete-collection request, parsed and checked once (400 with upstream's
 * wording for unsupported field labels), matched per object.
 */
#include <stdlib.h>
#include <string.h>

#include "server/api/internal.h"
#include "server/registry/selector.h"
#include "server/resources/resources.h"

struct list_filter {
	const struct resource *res;
	struct label_selector *labels;
	struct field_selector *fields;
};

/* Every label the kind accepts, metadata.name/namespace included. */
static int get_field(const cJSON *obj, const char *label, char *buf, size_t len, void *arg)
{
	return resource_field(arg, obj, label, buf, len);
}

int list_filter_new(struct req *r, const struct resource *res,
		    struct list_filter **out, struct lk_err *err)
{
	struct list_filter *f = xcalloc(1, sizeof(*f));
	const char *ls = req_arg(r, "labelSelector"), *fs = req_arg(r, "fieldSelector");

	f->res = res;
	*out = NULL;
	if (label_selector_parse(ls, &f->labels, err) < 0 ||
	    field_selector_parse(fs, &f->fields, err) < 0 ||
	    field_selector_check(f->fields, get_field, (void *)res, res->field_conv, err) < 0) {
		list_filter_free(f);
		return -1;
	}
	*out = f;
	return 0;
}

bool list_filter_match(const struct list_filter *f, const cJSON *obj)
{
	if (!f)
		return true;
	if (!label_selector_match(f->labels, jget(obj, "metadata.labels")))
		return false;
	return field_selector_match(f->fields, obj, get_field, (void *)f->res);
}

void list_filter_free(struct list_filter *f)
{
	if (!f)
		return;
	label_selector_free(f->labels);
	field_selector_free(f->fields);
	free(f);
}
