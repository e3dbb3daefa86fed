/*
 * server/api/body.c: request bodies by Content-Type: JSON, YAML (for curl
 * users) and Kubernetes protobuf (kubectl 1.32+ typed create; wire doc §4).
 */
#include <string.h>

#include "server/api/internal.h"
#include "server/api/protobuf.h"

static int parse_json(const char *buf, size_t len, cJSON **out, struct lk_err *err)
{
	const char *end = NULL;
	*out = cJSON_ParseWithLengthOpts(buf, len, &end, false);
	if (*out)
		return 0;
	size_t off = end ? (size_t)(end - buf) : 0;
	return lk_error(err, LK_EBADREQUEST,
			"couldn't get version/kind; json parse error: invalid JSON at offset %zu",
			off);
}

int body_decode(struct req *r, cJSON **out, struct lk_err *err)
{
	const char *ct = req_header(r, "Content-Type");
	const char *msg = NULL;
	const char *buf = r->body.buf ? r->body.buf : "";
	size_t len = r->body.len;

	*out = NULL;
	if (!len)
		return lk_error(err, LK_EBADREQUEST, "the body of the request was empty");
	if (!ct || ctype_is(ct, "application/json") || ctype_is(ct, "*/*"))
		return parse_json(buf, len, out, err);
	if (ctype_is(ct, "application/yaml") || ctype_is(ct, "application/x-yaml") ||
	    ctype_is(ct, "text/yaml")) {
		*out = yaml_to_json(buf, len, &msg);
		if (!*out)
			return lk_error(err, LK_EBADREQUEST, "error converting YAML to JSON: %s",
					msg ? msg : "invalid YAML");
		return 0;
	}
	if (ctype_is(ct, "application/vnd.kubernetes.protobuf"))
		return k8spb_decode(buf, len, out, err);
	return lk_error(err, LK_EMEDIATYPE,
			"the body of the request was in an unknown format - accepted media types include: "
			"application/json, application/yaml, application/vnd.kubernetes.protobuf");
}
