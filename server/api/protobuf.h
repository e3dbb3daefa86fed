/*
 * server/api/protobuf.h: decode Kubernetes protobuf request bodies to JSON.
 *
 * kubectl 1.32+ typed clients (`create deployment|service|namespace|
 * configmap|secret|serviceaccount`, `debug`) POST
 * `application/vnd.kubernetes.protobuf` and never fall back to JSON on 415
 * (shared/kubectl-wire.md §4). The body is the magic "k8s\0" followed by a
 * runtime.Unknown{typeMeta{apiVersion, kind}, raw, contentEncoding,
 * contentType}; raw is the object encoded with the gogo-generated messages of
 * k8s.io/api (generated.proto).
 *
 * k8spb_decode() turns such a body into the JSON object kubectl would have
 * sent for the same command (what kubectl 1.31 sends as JSON): apiVersion and
 * kind set, Go's encoding/json rules for zero values (omitempty scalars
 * dropped, pointer fields and non-omitempty fields kept, struct fields always
 * present, zero metav1.Time as null, []byte and map<string,[]byte> as
 * base64, resource.Quantity as its string, IntOrString as a number or a
 * string).
 *
 * It is driven by a table of message descriptors transcribed from upstream
 * generated.proto (core/v1, apps/v1, meta/v1, intstr, resource). Kinds:
 * v1 Pod, Service, Namespace, ConfigMap, Secret, ServiceAccount and apps/v1
 * Deployment, ReplicaSet. Fields the table does not model (affinity,
 * topologySpreadConstraints, ephemeral containers, exotic volume sources,
 * status beyond `{}`) are skipped, as are unknown field numbers.
 *
 * It does not encode: responses stay JSON (kubectl accepts them).
 *
 * Errors: malformed input (bad magic, truncated varints, lengths past the
 * end, wrong wire types, nesting deeper than 32, NUL bytes or invalid
 * UTF-8 in strings, times outside years 1-9999) and
 * kinds outside the table give LK_EBADREQUEST with a message naming the
 * problem; an encoded body (contentEncoding set) also gives LK_EBADREQUEST.
 * Never crashes or aborts on input; pure function, any thread.
 */
#ifndef LK_PROTOBUF_H
#define LK_PROTOBUF_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "common/err.h"

/* The 4-byte prefix of every Kubernetes protobuf body: "k8s\0". */
extern const unsigned char k8spb_magic[4];

/*
 * Decode buf (len bytes, borrowed) into a new JSON object in *out (the
 * caller's, free with cJSON_Delete). 0 on success; -1 with err filled
 * (LK_EBADREQUEST) and *out NULL on failure.
 */
int k8spb_decode(const void *buf, size_t len, cJSON **out, struct lk_err *err);

/* true when apiVersion/kind ("apps/v1", "Deployment") can be decoded. */
bool k8spb_supported(const char *api_version, const char *kind);

#endif
