/*
 * server/registry/selector.h: label selectors and field selectors.
 *
 * Label selectors follow k8s.io/apimachinery/pkg/labels (Parse, NewRequirement,
 * SelectorFromSet) and metav1.LabelSelectorAsSelector; field selectors follow
 * k8s.io/apimachinery/pkg/fields (ParseSelector, Transform) plus the field
 * label conversion of the API server (api-machinery.md §3). Syntax,
 * semantics, ordering and error messages are those of apimachinery
 * v0.27-v0.33 (unchanged across that range), so a bad `?labelSelector=` or
 * `?fieldSelector=` is answered with the same 400 text as kube-apiserver.
 *
 * This module parses and matches; it does not know which field labels a kind
 * supports (the resource table does, through a getter) and never touches the
 * store. Everything is pure and reentrant; no threads.
 *
 * Ownership: every `struct ..._selector *` returned through `out` or by a
 * constructor is the caller's and freed with the matching _free() (NULL-safe).
 * cJSON arguments are borrowed. Strings returned by accessors point into the
 * selector and live as long as it does.
 *
 * Errors: 0 / -1 with err (if non-NULL) filled with LK_EBADREQUEST and the
 * upstream message; the caller adds any prefix.
 */
#ifndef LK_SELECTOR_H
#define LK_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "common/err.h"

/* ---------------------------------------------------------------------------
 * Label selectors
 *
 * Grammar (labels.Parse):
 *   selector    ::= requirement | requirement "," selector
 *   requirement ::= [!] KEY [ ("in"|"notin") "(" VALUES ")"
 *                           | ("="|"=="|"!="|">"|"<") VALUE ]
 * Blanks (space, tab, CR, LF) may surround every token. KEY is a qualified
 * name ([prefix/]name), VALUE a label value (may be empty: `a=`, `a in ()`,
 * `a in (x,,y)`); both are validated like upstream.
 *
 * Semantics (labels.Requirement.Matches):
 *   a=b, a==b, a in (x,y)   key present and value in the set
 *   a!=b, a notin (x)       key missing, or value not in the set
 *   a                       key present (any value)
 *   !a                      key missing
 *   a>5, a<5                key present, value an int64 and compared
 * Requirements are ANDed. Requirements are kept sorted by key, as upstream.
 *
 * Parse errors, worded like upstream, e.g.
 *   unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt
 *   unable to parse requirement: <nil>: Invalid value: "-x": name part must ...
 *   unable to parse requirement: values[0][a]: Invalid value: "b@": a valid label ...
 *   found '', expected: identifier after ','
 *   found ')', expected: !, identifier, or 'end of string'
 * ------------------------------------------------------------------------- */
struct label_selector;

/*
 * Parse a ?labelSelector= string. NULL or "" (or only blanks) gives a
 * selector that matches everything. On success *out is always non-NULL.
 */
int label_selector_parse(const char *s, struct label_selector **out,
			 struct lk_err *err);

/*
 * From a metav1.LabelSelector object {matchLabels, matchExpressions:
 * [{key, operator: In|NotIn|Exists|DoesNotExist, values}]}, as
 * metav1.LabelSelectorAsSelector:
 *   ls NULL or JSON null        → matches nothing (labels.Nothing())
 *   {} (no labels, no exprs)    → matches everything
 * Errors: `"Foo" is not a valid label selector operator`, and the
 * NewRequirement messages with paths `key` / `values` / `values[i][key]`, e.g.
 *   values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty
 * A structurally wrong object (matchLabels not an object, a non-string
 * value, ...) is rejected with a plain message.
 */
int label_selector_from_json(const cJSON *ls, struct label_selector **out,
			     struct lk_err *err);

/*
 * From a map of labels (Service/ReplicationController spec.selector,
 * nodeSelector) as labels.SelectorFromSet: every k=v must match; NULL or {}
 * matches everything. No validation (like upstream); a non-string value
 * matches no object. Never fails.
 */
struct label_selector *label_selector_from_set(const cJSON *set);

/*
 * Does sel select an object with these labels? labels is the
 * metadata.labels object or NULL (no labels). A NULL sel means "no selector
 * given" and matches everything.
 */
bool label_selector_match(const struct label_selector *sel,
			  const cJSON *labels);

/* true when sel does not restrict anything (labels.Selector.Empty()). A
 * "nothing" selector is not empty. NULL is empty. */
bool label_selector_empty(const struct label_selector *sel);

/*
 * Canonical text, as labels.Selector.String(): requirements sorted by key,
 * set values sorted, e.g. "app=web,tier in (a,b),!legacy". "" for an empty
 * or nothing selector. This is what Scale status.selector and
 * metav1.FormatLabelSelector print (the latter shows "" as "<none>").
 * The caller frees the string.
 */
char *label_selector_string(const struct label_selector *sel);

void label_selector_free(struct label_selector *sel);

/*
 * Map selectors without building a selector.
 *
 * label_set_match(): labels.SelectorFromSet(set).Matches(labels): every
 * k=v of set is in labels; NULL or {} matches everything. This is what the
 * ReplicationController manager and nodeSelector use.
 *
 * label_set_match_nonempty(): the same, but NULL or {} matches nothing.
 * This is the Service rule: a Service without a selector (or with an empty
 * one; the API drops empty maps) selects no pods, and the endpoints /
 * endpointslice controllers leave its Endpoints alone.
 */
bool label_set_match(const cJSON *set, const cJSON *labels);
bool label_set_match_nonempty(const cJSON *set, const cJSON *labels);

/* ---------------------------------------------------------------------------
 * Field selectors
 *
 * Grammar (fields.ParseSelector): terms `key=value`, `key==value`,
 * `key!=value` joined by ","; nothing is trimmed. In values `\\`, `\,` and
 * `\=` escape a backslash, comma and equals sign; any other escape (also
 * `\!`) and a bare `=` in a value are errors. Terms are kept in the sorted
 * order of their raw text (upstream sorts them), so errors come in the same
 * order as upstream's. Empty terms (`a=b,,c=d`) are skipped; "" matches
 * everything.
 *
 * Values are compared as strings; a field the object does not have is "".
 * So `status.phase!=Failed` matches a pod without status.phase.
 *
 * Parse errors:
 *   invalid selector: 'foo'; can't understand 'foo'
 *   invalid field selector: invalid escape sequence: \x
 *   invalid field selector: unescaped character in value: 61   (Go prints the rune as a number)
 * ------------------------------------------------------------------------- */
struct field_selector;

/*
 * A field getter: write the value of field `label` of obj into buf (at most
 * len bytes including the NUL; truncate if needed) and return its full
 * length, like snprintf; a value the object lacks is "" (return 0). Return
 * -1 when the kind does not support `label`. Getters must accept any object,
 * including {} (field_selector_check() asks with an empty object).
 * Bools are "true"/"false", numbers in decimal, as upstream's fields.Set.
 * A getter that always returns 0 on success also works, but values longer
 * than 512 bytes are then compared truncated.
 */
typedef int field_get_fn(const cJSON *obj, const char *label, char *buf,
			 size_t len, void *arg);

/*
 * The generic getter: metadata.name and metadata.namespace ("" for
 * cluster-scoped objects); -1 for anything else. Kind getters call it first
 * or after their own labels; arg is unused.
 */
int field_get_meta(const cJSON *obj, const char *label, char *buf,
		   size_t len, void *arg);

/* Getter helper: copy v (NULL → "") into buf, truncating; return strlen(v). */
int field_put(char *buf, size_t len, const char *v);

/* Parse a ?fieldSelector= string. NULL or "" matches everything. On success
 * *out is always non-NULL. */
int field_selector_parse(const char *s, struct field_selector **out,
			 struct lk_err *err);

/*
 * Validate every term's key against a getter before listing or watching, in
 * upstream order (sorted terms, first failure wins). The 400 BadRequest
 * message is the API server's field-label conversion error (§3):
 *   field_conv:  field label not supported: <label>
 *   otherwise:   "<label>" is not a known field selector: only "metadata.name", "metadata.namespace"
 * field_conv is true for kinds with a registered conversion func (Pod, Node,
 * Event, Secret, Namespace, ReplicationController, Service on 1.31+).
 * NULL sel is fine (no terms).
 */
int field_selector_check(const struct field_selector *sel, field_get_fn *get,
			 void *arg, bool field_conv, struct lk_err *err);

/*
 * Does obj satisfy every term? Unsupported labels (the getter returns -1)
 * read as "", as in upstream's fields.Set; call field_selector_check()
 * first. NULL sel matches everything.
 */
bool field_selector_match(const struct field_selector *sel, const cJSON *obj,
			  field_get_fn *get, void *arg);

/* The terms, in sorted order. i < nterms; NULL sel has no terms. */
size_t field_selector_nterms(const struct field_selector *sel);
const char *field_selector_term_key(const struct field_selector *sel, size_t i);
/* The unescaped value. */
const char *field_selector_term_value(const struct field_selector *sel,
				      size_t i);
/* true for `!=`, false for `=` and `==`. */
bool field_selector_term_neq(const struct field_selector *sel, size_t i);

/*
 * fields.Selector.RequiresExactMatch: the value of the first `key=value`
 * (or `==`) term for key, or NULL. Lets a list by `metadata.name=x` or
 * `spec.nodeName=n` go straight to the object or index.
 */
const char *field_selector_requires(const struct field_selector *sel,
				    const char *key);

void field_selector_free(struct field_selector *sel);

#endif
