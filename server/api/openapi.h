/*
 * server/api/openapi.h: the minimal OpenAPI documents that let `kubectl
 * apply -f` and `create -f` run with default (strict) validation in kubectl
 * 1.27-1.33 (shared/kubectl-wire.md §5).
 *
 * kubectl does not validate against schemas here: it only asks the server's
 * OpenAPI whether the PATCH operation of the object's kind takes the
 * `fieldValidation` query parameter, and if so sends fieldValidation=Strict
 * and leaves validation to the server. So the documents hold, for every kind
 * in resource_table[], one path per object URL with a `patch` operation that
 * carries the x-kubernetes-group-version-kind extension and the
 * fieldValidation and dryRun query parameters, and no definitions/schemas:
 *
 *   /openapi/v2       gnostic openapi.v2.Document in protobuf: 1.27 and 1.28
 *                     only accept protobuf here (JSON fails with "proto:
 *                     cannot parse invalid wire-format data"); 1.29+ too.
 *   /openapi/v3       JSON index {"paths":{"<gv path>":{"serverRelativeURL":
 *                     "/openapi/v3/<gv path>?hash=<hash>"}}}: 1.29-1.33.
 *   /openapi/v3/<gv>  JSON per group-version ("api/v1", "apis/apps/v1").
 *
 * The documents are pure functions of resource_table[] and K8S_GIT_VERSION:
 * the same binary always serves the same bytes, so the hashes are stable and
 * the caller may cache the results for the life of the process. Any thread.
 * Every returned buffer is the caller's (free()).
 */
#ifndef LK_OPENAPI_H
#define LK_OPENAPI_H

#include <stddef.h>

/* Content types to serve the documents with. */
#define OPENAPI_V2_PB_CTYPE "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
#define OPENAPI_V3_CTYPE "application/json"

/* The /openapi/v2 document (binary; *len bytes, not NUL-terminated). */
char *openapi_v2_pb(size_t *len);

/* The /openapi/v3 index, NUL-terminated JSON text. */
char *openapi_v3_index(void);

/*
 * The document of one group-version, by the key used in the index:
 * "api/v1" or "apis/<group>/<version>" (no leading slash, no query).
 * NUL-terminated JSON text, *len (if non-NULL) its length; NULL when no
 * kind in resource_table[] has that group-version.
 */
char *openapi_v3_doc(const char *gv_path, size_t *len);

/*
 * A stable content hash: 16 upper-case hex digits plus NUL into buf. Used
 * for the index's ?hash= and usable as an ETag for any document.
 */
#define OPENAPI_HASH_LEN 17
const char *openapi_hash(const void *data, size_t len, char buf[OPENAPI_HASH_LEN]);

#endif
