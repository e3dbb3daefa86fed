/*
 * server/resources/resources.h: the table of kinds the API serves.
 *
 * Every kind is one `struct resource` descriptor, defined in its own file
 * (pod.c, service.c, ...) next to its defaulting, validation, printer columns
 * and field selectors, and listed once in registry.c. The API layer is
 * generic over this table: adding a kind is one descriptor plus its file.
 * Behaviour follows shared/specs/api-machinery.md (printers §1, field
 * selectors §3, errors §4, metadata §8) and shared/specs/services.md.
 *
 * All hooks are pure functions of their arguments (no store access) except
 * admit/release, which allocate cluster resources (IPs, ports) in issue 4
 * through the write context they are handed (`struct write_ctx`).
 */
#ifndef LK_RESOURCES_H
#define LK_RESOURCES_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "common/err.h"

struct store;
struct svcalloc;

/*
 * What admit and release work with: the store the object is written to and
 * that store's Service allocators. The registry owns both and fills this in
 * (server/registry/write.c); an allocation transaction is open on alloc
 * around admit and the store write, so what admit takes is given back when
 * the write fails. Borrowed for the call.
 */
struct write_ctx {
	struct store *store;
	struct svcalloc *alloc;
};

struct column {
	const char *name;        /* "Name", "Cluster-IP", ... */
	const char *type;        /* "string", "integer", "date" */
	const char *format;      /* "name" for the Name column, else "" */
	const char *description;
	int priority;            /* 1 = shown with -o wide only */
};

enum name_rule {
	NAME_SUBDOMAIN,  /* DNS-1123 subdomain (most kinds) */
	NAME_LABEL,      /* DNS-1123 label (Namespace) */
	NAME_DNS1035,    /* DNS-1035 label (Service) */
	NAME_EVENT,      /* events: any path-segment-safe name */
};

struct resource {
	const char *group;       /* "" for core */
	const char *version;     /* "v1" */
	const char *kind;        /* "Deployment" */
	const char *plural;      /* "deployments" */
	const char *singular;    /* "deployment" */
	bool namespaced;
	const char *const *short_names;  /* NULL-terminated, may be NULL */
	const char *const *categories;   /* NULL-terminated, may be NULL */
	/* Storage key; NULL = plural[.group]. events.k8s.io events share "events". */
	const char *storage;

	bool has_status;          /* /status subresource */
	bool has_scale;           /* /scale subresource (autoscaling/v1 Scale) */
	bool generation;          /* metadata.generation bumped on spec change */
	bool generation_on_annotations; /* ... and annotation change (Deployment) */
	bool delete_returns_object;     /* DELETE answers the object, not Status */
	enum name_rule name_rule;

	/* Printer: columns (NULL → Name + "Created At") and the row cells. */
	const struct column *columns;
	size_t ncolumns;
	/* Append one cell per column to the cells array (the wide variant:
	 * every column; kubectl hides priority 1 ones). */
	void (*cells)(const cJSON *obj, time_t now, cJSON *cells);

	/* Field selectors. Return the value of `label` for obj into buf (0),
	 * or -1 when the label is not supported. Kinds with a hook answer
	 * every label they accept, metadata.name/namespace included; NULL =
	 * only the default pair (see resource_field()). */
	int (*field)(const cJSON *obj, const char *label, char *buf, size_t len);
	/* true: unsupported label says `field label not supported: <l>`;
	 * false: `"<l>" is not a known field selector: only "metadata.name", "metadata.namespace"` */
	bool field_conv;

	/* Fill upstream defaults in place (create and update). */
	void (*defaults)(cJSON *obj);
	/* Kind-specific validation; old is NULL on create. Metadata (name,
	 * namespace, labels, annotations) is validated by the API layer. */
	void (*validate)(const cJSON *obj, const cJSON *old, struct field_errs *fe);
	/* Allocation on create/update (cluster IPs, node ports) and release on
	 * delete; NULL when the kind allocates nothing. */
	int (*admit)(const struct write_ctx *ctx, cJSON *obj, const cJSON *old,
		     struct lk_err *err);
	void (*release)(const struct write_ctx *ctx, const cJSON *obj);

	/* Scale subresource paths (has_scale). */
	const char *scale_spec;    /* "spec.replicas" */
	const char *scale_status;  /* "status.replicas" */

	/* --- Additions (all optional; NULL/false keeps the behaviour above). --- */

	/* Paths (NULL-terminated) whose change bumps metadata.generation when
	 * `generation` is set; NULL means { "spec" }. PodTemplate compares
	 * "template", EndpointSlice everything but metadata (plus labels). */
	const char *const *generation_paths;
	/* Strategy PrepareForCreate: replace status with the initial status
	 * upstream stores on create ({phase: Pending} for pods, {replicas: 0}
	 * for ReplicaSets, ...). Call on create only, after defaults. */
	void (*prepare_create)(cJSON *obj);
	/* Table row conditions (Succeeded/Failed pods); new array or NULL. */
	cJSON *(*row_conditions)(const cJSON *obj);
	/* Kinds served in another shape than they are stored in (events.k8s.io
	 * Event, stored as a core v1 Event): to_storage converts a request body
	 * in place before defaults/validation; from_storage converts a stored
	 * object in place before it is answered. cells and field always see the
	 * storage shape. NULL: the shapes are the same. */
	void (*to_storage)(cJSON *obj);
	void (*from_storage)(cJSON *obj);
};

/* The table, in discovery order (the order `kubectl get all` shows):
 * upstream lists a group's resources sorted by name, and the groups in
 * kube-apiserver's priority order (core, apps, events.k8s.io,
 * coordination.k8s.io, discovery.k8s.io). */
extern const struct resource *const resource_table[];
extern const size_t resource_count;

/* Lookup by URL parts; group "" for core. NULL when unknown. */
const struct resource *resource_find(const char *group, const char *version,
				     const char *plural);
const struct resource *resource_by_kind(const char *group, const char *kind);
/* "pods" or "deployments.apps": the key the store uses. buf >= 128. */
const char *resource_storage(const struct resource *r, char *buf);
/* "v1" or "apps/v1". buf >= 64. */
const char *resource_api_version(const struct resource *r, char *buf);

/*
 * Validate metadata on create, as ValidateObjectMeta does, appending causes
 * to fe in upstream order: generateName (trailing '-' masked), name (length
 * error first, then syntax, per r->name_rule; `name or generateName is
 * required` when empty and there is no generateName), namespace (Required on
 * namespaced kinds; Forbidden `not allowed on this type` on cluster-scoped
 * ones: clear it first, as upstream's BeforeCreate does), generation >= 0,
 * labels, annotations (keys and the 256 KiB total), ownerReferences and
 * finalizers. Upstream generates the name from generateName before it
 * validates: call this after generating it to get the same causes.
 */
void resource_validate_meta(const struct resource *r, const cJSON *obj,
			    struct field_errs *fe);

/* ValidateLabels alone: keys and values of a label map at `field`. */
void resource_validate_labels(const cJSON *labels, const char *field,
			      struct field_errs *fe);

/* The printer: r->columns or the default Name + "Created At" pair. */
const struct column *resource_columns(const struct resource *r, size_t *n);
/* Cells of one row: r->cells or the default pair (name, RFC 3339 date). */
void resource_cells(const struct resource *r, const cJSON *obj, time_t now,
		    cJSON *cells);

/*
 * Field selectors, complete: the value of `label` for obj into buf (0), or
 * -1 when upstream rejects the label for this kind (metadata.name and
 * metadata.namespace included: Node and Namespace accept no
 * metadata.namespace). Prefer this over calling r->field directly.
 */
int resource_field(const struct resource *r, const cJSON *obj,
		   const char *label, char *buf, size_t len);
/* The 400 BadRequest for an unsupported label, worded per r->field_conv.
 * Returns -1. */
int resource_field_error(const struct resource *r, const char *label,
			 struct lk_err *err);

/* Shared printer helpers (api-machinery.md §1). Each returns a new string. */
char *fmt_labels(const cJSON *labels);            /* "a=b,c=d" or "<none>" */
char *fmt_label_selector(const cJSON *selector);  /* metav1.LabelSelector */
char *fmt_join_field(const cJSON *arr, const char *key); /* names joined by "," */

/* Every descriptor, one per file. */
extern const struct resource res_namespace, res_pod, res_podtemplate,
	res_replicationcontroller, res_service, res_endpoints, res_node,
	res_event, res_configmap, res_secret, res_serviceaccount,
	res_deployment, res_replicaset, res_statefulset, res_daemonset,
	res_controllerrevision, res_endpointslice, res_events_event, res_lease;

#endif
