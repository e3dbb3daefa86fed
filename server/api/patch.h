/*
 * server/api/patch.h: the three PATCH flavours of the Kubernetes API, as pure
 * functions over cJSON trees (shared/specs/api-machinery.md §2).
 *
 *   application/merge-patch+json          patch_merge()      RFC 7386
 *   application/json-patch+json           patch_json()       RFC 6902
 *   application/strategic-merge-patch+json patch_strategic() k8s SMP
 *
 * They follow the code paths kube-apiserver 1.27-1.33 takes:
 * evanphx/json-patch v4.12 (MergePatch and Patch.Apply) for the first two and
 * apimachinery's strategicpatch.StrategicMergeMapPatch (server side: parallel
 * lists are merged, unmatched nulls are ignored) for the third, including
 * their quirks: a JSON patch "replace" of a missing object member adds it,
 * negative array indices count from the end, a "replace" of the whole
 * document ("") by a scalar is a no-op; in SMP, the order Go's in-place slice
 * updates leave behind when $setElementOrder meets deletions and additions.
 * Where 1.27 and 1.28+ differ, 1.28+ wins: values taken whole from a patch
 * lose their "$patch" maps, and $deleteFromPrimitiveList also deletes from
 * lists without a merge strategy.
 *
 * Known differences, all where upstream misbehaves: a JSON patch "test"
 * that reaches a null array element crashes upstream (HTTP 500) and works
 * here; when one SMP patch holds two independent errors, or both
 * "$deleteFromPrimitiveList/f" and "f" for a field the object lacks, upstream
 * picks by Go's random map order, we by the patch's member order.
 * (Checked by differential testing against the Go code: >100k random cases.)
 *
 * What they do not do: decode the body (callers parse JSON or YAML and pass
 * the tree), check resourceVersion preconditions, validate the result or
 * report unknown fields. The caller does all of that on the returned object.
 *
 * Ownership: `orig` and the patch are borrowed and never modified. On success
 * *out is a new tree owned by the caller (cJSON_Delete); on failure *out is
 * left NULL and err (if non-NULL) says why. All functions are pure and
 * reentrant; they run on whatever thread calls them.
 *
 * Errors (code, then message, as upstream words them):
 *   patch_merge:  LK_EBADREQUEST "Invalid JSON Patch" (patch is null or not
 *                 an object/array), "Invalid JSON Document" (orig is null).
 *   patch_json:   LK_EBADREQUEST "json: cannot unmarshal object into Go value
 *                 of type jsonpatch.Patch" (ops is not an array, or an op is
 *                 not an object); LK_ETOOLARGE "Request entity too large: The
 *                 allowed maximum operations in a JSON patch is 10000, got N";
 *                 LK_EINVALID "the server rejected our request due to an
 *                 error in our request" for any failing operation (bad path,
 *                 failed test, unknown op): the patch is atomic.
 *   patch_strategic:
 *                 LK_EMEDIATYPE when the kind has no strategic schema (CRDs,
 *                 unknown kinds): "the body of the request was in an unknown
 *                 format - accepted media types include: ...";
 *                 LK_EBADREQUEST "invalid patch format of primitive list" /
 *                 "... of retainKeys" / "... of setElementOrder list", and
 *                 "json: cannot unmarshal array into Go value of type
 *                 map[string]interface {}" when the patch is not an object;
 *                 LK_EINVALID "the server rejected our request due to an
 *                 error in our request" for lists of lists (upstream hides
 *                 "lists of lists are not supported" behind that text);
 *                 LK_EUNKNOWN for everything upstream returns as a bare Go
 *                 error (HTTP 500), with upstream's text, e.g.
 *                 "map: map[image:nginx] does not contain declared merge key: name",
 *                 "merging lists cannot yet be specified in the patch",
 *                 "unknown patch type: merge in map: map[$patch:merge a:b]".
 *                 Upstream sends those with an empty Status reason
 *                 (kubectl prints "Error from server: <msg>").
 */
#ifndef LK_PATCH_H
#define LK_PATCH_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "common/err.h"

#define PATCH_JSON_MAX_OPS 10000

/* The 415 text for a strategic patch on a kind without a schema. */
#define PATCH_SMP_UNSUPPORTED                                                  \
	"the body of the request was in an unknown format - accepted media "  \
	"types include: application/json-patch+json, "                        \
	"application/merge-patch+json, application/apply-patch+yaml"

/* RFC 7386 JSON merge patch: objects merge recursively, null deletes,
 * everything else (arrays included) replaces; nulls inside added values are
 * dropped. */
int patch_merge(const cJSON *orig, const cJSON *patch, cJSON **out,
		struct lk_err *err);

/* RFC 6902 JSON patch: add/remove/replace/move/copy/test applied in order,
 * all or nothing. More than PATCH_JSON_MAX_OPS operations are refused before
 * any is applied. */
int patch_json(const cJSON *orig, const cJSON *ops, cJSON **out,
	       struct lk_err *err);

/* Strategic merge patch for a built-in kind (group "" for core). Lists merge
 * or replace by the field's patch strategy and merge key, as declared in
 * k8s.io/api; the directives $patch, $setElementOrder/<f>, $retainKeys and
 * $deleteFromPrimitiveList/<f> are honoured; null deletes. */
int patch_strategic(const cJSON *orig, const cJSON *patch, const char *group,
		    const char *kind, cJSON **out, struct lk_err *err);

/* Whether patch_strategic() knows the kind (false: answer 415). */
bool patch_strategic_supported(const char *group, const char *kind);

#endif
