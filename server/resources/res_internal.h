/*
 * server/resources/res_internal.h: helpers shared by the kind files of
 * server/resources/ and nobody else (the contract is resources.h).
 *
 * registry.c  the table, lookups, metadata validation, field selectors.
 * cells.c     Table cells and the formatting helpers of printers.go.
 * validate.c  apimachinery's name, label and key checks, with their exact
 *             messages, and Go-style rendering of values for causes.
 * quantity.c  resource quantities and the pod QoS class.
 * podspec.c   PodSpec defaults (SetDefaults_PodSpec/Container/...) and
 *             ValidatePodSpec for the common mistakes; shared by Pod,
 *             PodTemplate and every workload template.
 * workload.c  what Deployment, ReplicaSet, ReplicationController,
 *             StatefulSet and DaemonSet validate alike.
 * coldesc.h   column descriptions, verbatim from upstream's swagger docs.
 * One file per kind holds its descriptor, printer, defaults, validation
 * (service_validate.c holds the Service's, which is long).
 *
 * Everything here is pure: no store, no I/O, no globals but constant tables.
 * Returned char * are the caller's (free()).
 */
#ifndef LK_RES_INTERNAL_H
#define LK_RES_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "common/err.h"
#include "common/ip.h"
#include "common/json.h"
#include "common/util.h"
#include "server/resources/coldesc.h"
#include "server/resources/resources.h"

/* The two columns every printer starts or ends with. */
#define COL_NAME { "Name", "string", "name", DESC_NAME, 0 }
#define COL_AGE { "Age", "string", "", DESC_CREATED, 0 }
#define DESC_CONTAINERS "Names of each container in the template."
#define DESC_IMAGES "Images referenced by each container in the template."

/* Iterate members only of the right JSON type (cJSON_ArrayForEach would
 * also walk an array as if it were an object, with NULL keys). */
#define ONLY_OBJ(v) (cJSON_IsObject(v) ? (v) : NULL)
#define ONLY_ARR(v) (cJSON_IsArray(v) ? (v) : NULL)

/* Set obj[key] = v (takes v), key taken literally: label keys and data
 * keys have dots, which jset() would read as a path. */
void res_jput(cJSON *obj, const char *key, cJSON *v);

/* A JSON number as an integer, clamped to int64 (a cast of 1e300 is UB). */
long long res_num(const cJSON *v);

/* categories: ["all"] (pods, services, RCs and the apps workloads). */
extern const char *const res_all_category[];

/* Field paths for causes ("spec.ports[0].port"); at most FP_MAX bytes. */
#define FP_MAX 256
const char *res_fp(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- cells.c ---- */
void cell_str(cJSON *cells, const char *s);      /* NULL → "" */
void cell_take(cJSON *cells, char *s);           /* takes s */
void cell_int(cJSON *cells, long long v);
void cell_name(cJSON *cells, const cJSON *obj);
void cell_age(cJSON *cells, const cJSON *obj, time_t now);
/* translateTimestampSince: "<unknown>" for a missing or zero time. */
void cell_since(cJSON *cells, const char *rfc3339, time_t now);
/* Number of items of an array or members of an object; 0 otherwise. */
int res_jsize(const cJSON *v);
/* A time that Go would see as zero: missing, null, empty or unparsable. */
bool res_time_zero(const char *rfc3339);
/* layoutContainerCells: `key` ("name", "image") of each container. */
char *fmt_containers(const cJSON *podspec, const char *key);
/* labels.Selector.String() of a metav1.LabelSelector: requirements sorted
 * by key, "" for nil or empty; *bad set (and "" returned) when upstream's
 * LabelSelectorAsSelector fails. */
char *res_selector_string(const cJSON *sel, bool *bad);
/* Does a metav1.LabelSelector (res_map_selector_matches: a plain map, as
 * an RC has) select these labels? An invalid or missing selector selects
 * nothing; {} selects everything. */
bool res_selector_matches(const cJSON *sel, const cJSON *labels);
bool res_map_selector_matches(const cJSON *sel, const cJSON *labels);
/* listWithMoreString: up to 3 items then " + N more...", "" → "<unset>". */
char *res_fmt_more(const char *const *items, int count, bool unset);

/* ---- validate.c ---- */
#define MSG_MAX 4
/* Each check fills msgs (static strings) and returns how many failed. */
typedef int (*check_fn)(const char *v, const char **msgs);
int is_dns1123_label(const char *v, const char **msgs);
int is_dns1123_subdomain(const char *v, const char **msgs);
int is_dns1035_label(const char *v, const char **msgs);
int is_qualified_name(const char *v, const char **msgs);
int is_label_value(const char *v, const char **msgs);
int is_port_name(const char *v, const char **msgs);
int is_config_map_key(const char *v, const char **msgs);
int is_path_segment(const char *v, const char **msgs);
int res_is_percent(const char *v, const char **msgs);
/* ValidateNameFunc with prefix=true: maskTrailingDash, then the check. */
int res_check_prefix(check_fn fn, const char *v, const char **msgs);
/* One FieldValueInvalid per failed message, value rendered %q. */
void res_invalid_each(struct field_errs *fe, const char *field, const char *v,
		      check_fn fn);
/* ValidateNonnegativeField on an integer at path (missing = fine). */
void res_check_nonneg(struct field_errs *fe, const char *field, const cJSON *v);
/* The port-number check (1-65535) on a present integer. */
void res_check_port(struct field_errs *fe, const char *field, long long v);
/* Go %#v of a map[string]string / []string: `map[string]string{"a":"b"}`,
 * `map[string]string(nil)`, `[]string{"a", "b"}`. */
char *res_go_map(const cJSON *map);
char *res_go_strings(const cJSON *arr);
/* Go %#v of *metav1.LabelSelector deref'd (causes on spec.selector). */
char *res_go_label_selector(const cJSON *sel);
/* Go %#v of an intstr.IntOrString. */
char *res_go_intstr(const cJSON *v);
/* ValidateEndpointIP (also for Service externalIPs). */
void check_endpoint_ip(struct field_errs *fe, const char *field, const char *ip);
/* True when v is a string that is one of the NULL-terminated list. */
bool res_str_in(const char *v, const char *const *list);

/* ---- podspec.c ---- */
void podspec_defaults(cJSON *spec);
/* Pod template: metadata.creationTimestamp null (as the Go encoder writes
 * it in 1.32) and the PodSpec defaults. */
void pod_template_defaults(cJSON *tmpl);
/* ValidatePodSpec for the common mistakes; `path` is "spec" or
 * "spec.template.spec". */
void podspec_validate(const cJSON *spec, const char *path,
		      struct field_errs *fe);
/* ValidatePodTemplateSpec: template labels (at <path>.labels, sic) and
 * the PodSpec. */
void pod_template_validate(const cJSON *tmpl, const char *path,
			   struct field_errs *fe);

/* ---- quantity.c ---- */
/* resource.Quantity as a number ("500m" = 0.5, "1Gi"); false if malformed. */
bool res_quantity_parse(const char *s, double *out);
/* qos.GetPodQOS: "BestEffort", "Burstable" or "Guaranteed". */
const char *pod_qos_class(const cJSON *podspec);

/* ---- workload.c ---- */
/* spec.selector: Required when missing, ValidateLabelSelector, and
 * `empty selector is invalid for <word>`. */
void workload_selector_required(const cJSON *spec, const char *word,
				struct field_errs *fe);
/* Its two parts alone (DaemonSet checks the template match in between). */
void workload_label_selector(const cJSON *spec, struct field_errs *fe);
void workload_empty_selector(const cJSON *spec, const char *word,
			     struct field_errs *fe);
/* LabelSelectorAsSelector(spec.selector) against the template labels. */
enum sel_match {
	SEL_INVALID,  /* selector does not convert */
	SEL_EMPTY,    /* {}: selects everything, no match check */
	SEL_MATCH,
	SEL_NO_MATCH, /* including a missing selector (labels.Nothing()) */
};
enum sel_match workload_selector_match(const cJSON *spec);
/* spec.template.metadata.labels: `selector` does not match template `labels` */
void workload_mismatch(const cJSON *spec, struct field_errs *fe);
/* restartPolicy must be Always; activeDeadlineSeconds in <kind> forbidden. */
void workload_template_tail(const cJSON *spec, const char *kind,
			    struct field_errs *fe);
/* ValidatePositiveIntOrPercent / IsNotMoreThan100Percent / value == 0. */
void workload_int_or_percent(const cJSON *v, const char *field,
			     struct field_errs *fe);
void workload_not_over_100(const cJSON *v, const char *field,
			   struct field_errs *fe);
bool workload_intstr_zero(const cJSON *v);
/* Shared ReplicaSet / ReplicationController printer cells; takes selector. */
void rs_cells_common(const cJSON *obj, time_t now, cJSON *cells,
		     char *selector);

/* ---- service_validate.c ---- */
void service_validate(const cJSON *svc, const cJSON *old, struct field_errs *fe);

/* Generic field getters: a table of label → path. */
enum fkind {
	FK_STR,       /* string at path, "" when missing */
	FK_BOOL,      /* "true"/"false" */
	FK_INT,       /* decimal, 0 when missing */
	FK_FIRST_IP,  /* status.podIPs[0].ip, else status.podIP */
	FK_EV_SOURCE, /* source.component, else reportingComponent */
};
struct field_def {
	const char *label;
	const char *path;
	enum fkind kind;
};
/* defs ends with { NULL }. 0 with the value in buf, -1 if not listed. */
int res_field_from_defs(const struct field_def *defs, const cJSON *obj,
		    const char *label, char *buf, size_t len);

#endif
