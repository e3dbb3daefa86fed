/*
 * server/registry/write.c: create, update and delete with upstream's generic
 * registry semantics (k8s.io/apiserver registry/rest BeforeCreate,
 * BeforeUpdate, BeforeDelete): system metadata, generation, status
 * subresource split, finalizers, preconditions. Kind specifics come from the
 * resource table's hooks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/json.h"
#include "common/util.h"
#include "server/registry/registry.h"
#include "server/registry/write.h"
#include "server/resources/resources.h"
#include "server/resources/svcalloc.h"
#include "server/store/store.h"

static const char *const system_fields[] = { "uid", "creationTimestamp",
	"deletionTimestamp", "deletionGracePeriodSeconds", "generation" };

int obj_check_type(const struct resource *res, cJSON *obj, struct lk_err *err)
{
	char want[64];
	const char *av, *kind;

	resource_api_version(res, want);
	if (!cJSON_IsObject(obj))
		return lk_error(err, LK_EBADREQUEST, "the body of the request must be an object");
	av = jstr(obj, "apiVersion");
	kind = jstr(obj, "kind");
	if (kind && *kind && strcmp(kind, res->kind) != 0)
		return lk_error(err, LK_EBADREQUEST,
				"the kind in the body (%s) does not match the kind of the resource (%s)",
				kind, res->kind);
	if (av && *av && strcmp(av, want) != 0)
		return lk_error(err, LK_EBADREQUEST,
				"the API version in the data (%s) does not match the expected API version (%s)",
				av, want);
	jset_str(obj, "apiVersion", want);
	jset_str(obj, "kind", res->kind);
	if (!cJSON_IsObject(jget(obj, "metadata")))
		jobj(obj, "metadata");
	return 0;
}

static int check_namespace(struct store *st, const struct resource *res,
			   const char *ns, cJSON *obj, bool creating,
			   struct lk_err *err)
{
	const char *body_ns = jstr(obj, "metadata.namespace");
	if (!res->namespaced) {
		jdel(obj, "metadata.namespace");
		return 0;
	}
	if (body_ns && *body_ns && *ns && strcmp(body_ns, ns) != 0)
		return lk_error(err, LK_EBADREQUEST,
				"the namespace of the provided object does not match the namespace sent on the request");
	if (!*ns)
		return lk_error(err, LK_EBADREQUEST, "the namespace of the object must be set");
	jset_str(obj, "metadata.namespace", ns);
	if (!creating)
		return 0;
	cJSON *nsobj = NULL;
	if (store_get(st, "namespaces", "", ns, &nsobj, NULL) < 0)
		return lk_err_notfound(err, "", "namespaces", ns);
	bool terminating = jget(nsobj, "metadata.deletionTimestamp") != NULL;
	cJSON_Delete(nsobj);
	if (terminating) {
		lk_error(err, LK_EFORBIDDEN,
			 "%s \"%s\" is forbidden: unable to create new content in namespace %s because it is being terminated",
			 res->plural, jstr_or(obj, "metadata.name", ""), ns);
		lk_err_details(err, jstr_or(obj, "metadata.name", ""), res->group, res->plural);
		return -1;
	}
	return 0;
}

static void generate_name(cJSON *obj)
{
	const char *name = jstr(obj, "metadata.name");
	const char *gen = jstr(obj, "metadata.generateName");
	char base[64], suffix[6];
	if ((name && *name) || !gen || !*gen)
		return;
	snprintf(base, sizeof(base), "%.58s", gen);
	lk_rand_suffix(suffix, 5);
	char *full = xasprintf("%s%s", base, suffix);
	jset_str(obj, "metadata.name", full);
	free(full);
}

static int validate(const struct resource *res, const cJSON *obj, const cJSON *old,
		    struct lk_err *err)
{
	struct field_errs fe = { 0 };
	if (!old)
		resource_validate_meta(res, obj, &fe);
	if (res->validate)
		res->validate(obj, old, &fe);
	if (!field_errs_any(&fe))
		return 0;
	return lk_err_invalid(err, res->group, res->kind, jstr_or(obj, "metadata.name", ""), &fe);
}

static void now_stamp(char *buf)
{
	lk_rfc3339(time(NULL), buf);
}

/* A generated name that collides is generated again, as upstream does
 * since 1.32 (KEP-4420): up to 8 tries before AlreadyExists. */
static int create_named(struct store *st, const struct resource *res, const char *ns,
			cJSON *obj, struct lk_err *err)
{
	char storage[128];
	bool generated = jstr(obj, "metadata.generateName") &&
			 str_has_prefix(jstr_or(obj, "metadata.name", ""),
					jstr(obj, "metadata.generateName"));
	int rc = -1;

	resource_storage(res, storage);
	for (int i = 0; i < 8; i++) {
		struct lk_err e = { 0 };
		rc = store_create(st, storage, res->namespaced ? ns : "",
				  jstr(obj, "metadata.name"), obj, &e);
		if (rc == 0 || e.code != LK_EEXISTS || !generated) {
			lk_err_move(err, &e);
			return rc;
		}
		lk_err_clear(&e);
		jdel(obj, "metadata.name");
		generate_name(obj);
	}
	char gr[128];
	lk_error(err, LK_EEXISTS,
		 "%s \"%s\" already exists, the server was not able to generate a unique name for the object",
		 lk_group_resource(res->group, res->plural, gr), jstr_or(obj, "metadata.name", ""));
	lk_err_details(err, jstr_or(obj, "metadata.name", ""), res->group, res->plural);
	return rc;
}

/* What the kind's admit/release hooks work with: this registry's store and
 * Service allocators (issue 10 item 4: no allocator outside the registry). */
static struct write_ctx write_ctx_of(const struct registry *reg)
{
	return (struct write_ctx){ .store = reg->store, .alloc = reg->svcalloc };
}

int obj_create(struct registry *reg, const struct resource *res, const char *ns,
	       cJSON *obj, unsigned flags, struct lk_err *err)
{
	struct write_ctx ctx = write_ctx_of(reg);
	struct store *st = reg->store;
	char uid[37], ts[32];
	cJSON *md;

	if (obj_check_type(res, obj, err) < 0 ||
	    check_namespace(st, res, ns, obj, true, err) < 0)
		return -1;
	if (res->to_storage)
		res->to_storage(obj);
	generate_name(obj);
	md = jget(obj, "metadata");
	for (size_t i = 0; i < ARRAY_SIZE(system_fields); i++)
		cJSON_DeleteItemFromObjectCaseSensitive(md, system_fields[i]);
	cJSON_DeleteItemFromObjectCaseSensitive(md, "resourceVersion");
	cJSON_DeleteItemFromObjectCaseSensitive(md, "selfLink");
	cJSON_DeleteItemFromObjectCaseSensitive(md, "managedFields");
	lk_uuid(uid);
	now_stamp(ts);
	cJSON_AddStringToObject(md, "uid", uid);
	cJSON_AddStringToObject(md, "creationTimestamp", ts);
	if (res->generation)
		cJSON_AddNumberToObject(md, "generation", 1);
	/* Clients do not set status on create: defaults and the kind's initial
	 * status (prepare_create) do. */
	if (res->has_status)
		jset(obj, "status", cJSON_CreateObject());
	if (res->defaults)
		res->defaults(obj);
	if (res->prepare_create)
		res->prepare_create(obj);
	/* Issue 4: admit (allocation) runs before validation, as upstream's
	 * BeginCreate does, inside an allocation transaction kept only when
	 * the object is stored (a failed create or a dry run gives back). */
	if (res->admit)
		svcalloc_txn_begin(ctx.alloc);
	int rc = -1;
	if (res->admit && res->admit(&ctx, obj, NULL, err) < 0)
		goto done;
	if (validate(res, obj, NULL, err) < 0)
		goto done;
	rc = (flags & WRITE_DRY_RUN) ? 0 : create_named(st, res, ns, obj, err);
done:
	if (res->admit && rc == 0 && !(flags & WRITE_DRY_RUN))
		svcalloc_txn_commit(ctx.alloc);
	else if (res->admit)
		svcalloc_txn_revert(ctx.alloc);
	return rc;
}

/* What a change of bumps generation: r->generation_paths, else spec. */
static bool spec_changed(const struct resource *res, const cJSON *a, const cJSON *b)
{
	static const char *const spec_only[] = { "spec", NULL };
	const char *const *paths = res->generation_paths ? res->generation_paths : spec_only;
	for (size_t i = 0; paths[i]; i++)
		if (!jequal(jget(a, paths[i]), jget(b, paths[i])))
			return true;
	return false;
}

/* Equal, or the same instant written another way ("Z" vs "+00:00", as the
 * Python client sends timestamps back). */
static bool same_value(const cJSON *a, const cJSON *b)
{
	time_t ta, tb;
	if (jequal(a, b))
		return true;
	ta = lk_parse_rfc3339(cJSON_GetStringValue(a));
	tb = lk_parse_rfc3339(cJSON_GetStringValue(b));
	return ta >= 0 && ta == tb;
}

/* System metadata comes from the stored object; changing it is invalid. */
static int keep_system_fields(const struct resource *res, cJSON *obj,
			      const cJSON *old, struct lk_err *err)
{
	cJSON *md = jget(obj, "metadata");
	const cJSON *omd = jget(old, "metadata");
	struct field_errs fe = { 0 };
	static const char *const immutable[] = { "uid", "creationTimestamp" };

	for (size_t i = 0; i < ARRAY_SIZE(immutable); i++) {
		cJSON *v = cJSON_GetObjectItemCaseSensitive(md, immutable[i]);
		cJSON *ov = cJSON_GetObjectItemCaseSensitive(omd, immutable[i]);
		char field[64];
		snprintf(field, sizeof(field), "metadata.%s", immutable[i]);
		if (cJSON_IsString(v) && *v->valuestring && ov && !same_value(v, ov))
			field_err_invalid_str(&fe, field, v->valuestring, "field is immutable");
	}
	if (field_errs_any(&fe))
		return lk_err_invalid(err, res->group, res->kind, jstr_or(old, "metadata.name", ""), &fe);
	for (size_t i = 0; i < ARRAY_SIZE(system_fields); i++) {
		cJSON *ov = cJSON_GetObjectItemCaseSensitive(omd, system_fields[i]);
		cJSON_DeleteItemFromObjectCaseSensitive(md, system_fields[i]);
		if (ov)
			cJSON_AddItemToObject(md, system_fields[i], cJSON_Duplicate(ov, 1));
	}
	cJSON_DeleteItemFromObjectCaseSensitive(md, "managedFields");
	return 0;
}

static void keep_meta(cJSON *obj, const cJSON *md, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(md, key);
	cJSON *omd = jget(obj, "metadata");
	cJSON_DeleteItemFromObjectCaseSensitive(omd, key);
	if (v)
		cJSON_AddItemToObject(omd, key, cJSON_Duplicate(v, 1));
}

/* The status subresource changes status only; the main resource all but status. */
static void split_status(const struct resource *res, cJSON *obj, const cJSON *old,
			 unsigned flags)
{
	if (!res->has_status)
		return;
	if (flags & WRITE_STATUS) {
		cJSON *status = cJSON_DetachItemFromObjectCaseSensitive(obj, "status");
		cJSON *md = cJSON_DetachItemFromObjectCaseSensitive(obj, "metadata");
		cJSON *copy = cJSON_Duplicate(old, 1);
		cJSON *x;
		/* obj := old with the new status and the caller's metadata rv. */
		while ((x = copy->child)) {
			/* Not jset(obj, x->string, x): replacing frees the key
			 * before copying it. */
			cJSON_DetachItemViaPointer(copy, x);
			cJSON_DeleteItemFromObjectCaseSensitive(obj, x->string);
			cJSON_AddItemToObject(obj, x->string, x);
		}
		cJSON_Delete(copy);
		jset(obj, "status", status ? status : cJSON_CreateObject());
		if (md) {
			cJSON *rv = cJSON_GetObjectItemCaseSensitive(md, "resourceVersion");
			if (rv)
				jset(obj, "metadata.resourceVersion", cJSON_Duplicate(rv, 1));
			/* Upstream's status strategies reset the spec and keep
			 * the caller's annotations (the deployment controller
			 * writes its revision annotation that way); labels too,
			 * except on apps workloads, whose strategies keep the
			 * old labels. The services/status conformance test
			 * relies on both. */
			keep_meta(obj, md, "annotations");
			if (strcmp(res->group, "apps") != 0)
				keep_meta(obj, md, "labels");
			cJSON_Delete(md);
		} else {
			jdel(obj, "metadata.resourceVersion");
		}
		return;
	}
	const cJSON *ost = jget(old, "status");
	jset(obj, "status", ost ? cJSON_Duplicate(ost, 1) : cJSON_CreateObject());
}

static void bump_generation(const struct resource *res, cJSON *obj, const cJSON *old)
{
	if (!res->generation)
		return;
	bool changed = spec_changed(res, obj, old);
	if (res->generation_on_annotations &&
	    !jequal(jget(obj, "metadata.annotations"), jget(old, "metadata.annotations")))
		changed = true;
	if (changed)
		jset_int(obj, "metadata.generation", jint(old, "metadata.generation", 0) + 1);
}

static bool list_empty(const cJSON *obj, const char *path)
{
	const cJSON *f = jget(obj, path);
	return !cJSON_IsArray(f) || cJSON_GetArraySize(f) == 0;
}

/* Finalizers hold a deleted object; a Namespace is also held by its
 * spec.finalizers until the namespace controller has emptied it. */
static bool finalizers_empty(const cJSON *obj)
{
	if (!list_empty(obj, "metadata.finalizers"))
		return false;
	return !str_eq(jstr(obj, "kind"), "Namespace") || list_empty(obj, "spec.finalizers");
}

/*
 * After an object is gone: the kind's release hook (a Service's IPs and
 * ports) and, issue 4, a Service takes its same-named Endpoints with it, as
 * upstream's service REST does on delete (NotFound is fine).
 */
static void after_delete(struct registry *reg, const struct resource *res, const char *ns,
			 const char *name, const cJSON *last)
{
	struct delete_opts o = { .grace = -1 };
	struct lk_err e = { 0 };
	bool gone = false;
	struct write_ctx ctx = write_ctx_of(reg);
	if (res->release && last)
		res->release(&ctx, last);
	if (res != &res_service)
		return;
	if (obj_delete(reg, &res_endpoints, ns, name, &o, NULL, &gone, &e) < 0 &&
	    e.code != LK_ENOTFOUND)
		lk_log("service: cannot delete endpoints '%s/%s': %s", ns, name, e.msg);
	lk_err_clear(&e);
}

int obj_update(struct registry *reg, const struct resource *res, const char *ns,
	       const char *name, cJSON *obj, unsigned flags, struct lk_err *err)
{
	struct write_ctx ctx = write_ctx_of(reg);
	struct store *st = reg->store;
	char storage[128];
	cJSON *old = NULL;
	int ret = -1;
	int64_t expect = 0;
	const char *body_name;

	resource_storage(res, storage);
	if (!res->namespaced)
		ns = "";
	if (obj_check_type(res, obj, err) < 0 ||
	    check_namespace(st, res, ns, obj, false, err) < 0)
		return -1;
	body_name = jstr(obj, "metadata.name");
	if (body_name && *body_name && strcmp(body_name, name) != 0)
		return lk_error(err, LK_EBADREQUEST,
				"the name of the object (%s) does not match the name on the URL (%s)",
				body_name, name);
	jset_str(obj, "metadata.name", name);
	if (res->to_storage)
		res->to_storage(obj);
	if (store_get(st, storage, ns, name, &old, NULL) < 0)
		return lk_err_notfound(err, res->group, res->plural, name);
	split_status(res, obj, old, flags);
	const char *rv = jstr(obj, "metadata.resourceVersion");
	if (rv && *rv) {
		expect = atoll(rv);
		if (expect != jint(old, "metadata.resourceVersion", 0)) {
			lk_err_conflict(err, res->group, res->plural, name);
			goto out;
		}
	}
	if (keep_system_fields(res, obj, old, err) < 0)
		goto out;
	if (res->defaults)
		res->defaults(obj);
	if (!(flags & WRITE_STATUS)) /* status writes never bump generation */
		bump_generation(res, obj, old);
	/* Issue 4: admit before validation, as upstream's BeginUpdate
	 * (patchAllocatedValues, allocation, type-dependent drops); its
	 * transaction is committed below only if the write succeeds. */
	if (res->admit)
		svcalloc_txn_begin(ctx.alloc);
	if (res->admit && res->admit(&ctx, obj, old, err) < 0)
		goto out;
	if (validate(res, obj, old, err) < 0)
		goto out;
	/* A no-op update writes nothing and keeps the resourceVersion. */
	jset(obj, "metadata.resourceVersion",
	     cJSON_Duplicate(jget(old, "metadata.resourceVersion"), 1));
	if (jequal(obj, old) || (flags & WRITE_DRY_RUN)) {
		ret = 0;
		goto out;
	}
	/* shouldDeleteDuringUpdate: the last finalizer gone ends a deletion
	 * unless a grace period still runs (a pod the node agent stops). */
	if (jget(obj, "metadata.deletionTimestamp") && finalizers_empty(obj) &&
	    jint(old, "metadata.deletionGracePeriodSeconds", 0) == 0) {
		cJSON *last = NULL;
		ret = store_delete(st, storage, ns, name, 0, &last, err);
		if (ret == 0 && res->admit) /* issue 4: release outside the txn */
			svcalloc_txn_commit(ctx.alloc);
		if (ret == 0)
			after_delete(reg, res, ns, name, last);
		if (last) {
			jset(obj, "metadata.resourceVersion",
			     cJSON_Duplicate(jget(last, "metadata.resourceVersion"), 1));
			cJSON_Delete(last);
		}
		goto out;
	}
	ret = store_update(st, storage, ns, name, obj, expect, err);
out:
	/* Issue 4: keep the allocations of a stored update, else give back. */
	if (res->admit && ret == 0 && !(flags & WRITE_DRY_RUN))
		svcalloc_txn_commit(ctx.alloc);
	else if (res->admit)
		svcalloc_txn_revert(ctx.alloc);
	cJSON_Delete(old);
	return ret;
}

static int check_preconditions(const struct resource *res, const cJSON *old,
			       const struct delete_opts *o, struct lk_err *err)
{
	const char *uid = jstr_or(old, "metadata.uid", "");
	const char *rv = jstr_or(old, "metadata.resourceVersion", "");
	if (o->uid && *o->uid && strcmp(o->uid, uid) != 0)
		return lk_error(err, LK_ECONFLICT,
				"Precondition failed: UID in precondition: %s, UID in object meta: %s",
				o->uid, uid);
	if (o->rv && *o->rv && strcmp(o->rv, rv) != 0)
		return lk_error(err, LK_ECONFLICT,
				"Precondition failed: ResourceVersion in precondition: %s, ResourceVersion in object meta: %s",
				o->rv, rv);
	return 0;
}

/* Pods bound to a node end gracefully: the node agent finishes the delete. */
static bool graceful(const struct resource *res, const cJSON *old,
		     const struct delete_opts *o, long long *grace)
{
	const char *phase = jstr_or(old, "status.phase", "");
	if (strcmp(res->kind, "Pod") != 0 || *res->group)
		return false;
	*grace = o->grace >= 0 ? o->grace : jint(old, "spec.terminationGracePeriodSeconds", 30);
	if (!jstr(old, "spec.nodeName") || !strcmp(phase, "Succeeded") || !strcmp(phase, "Failed"))
		*grace = 0;
	return *grace > 0;
}

static bool has_str(const cJSON *arr, const char *s)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
		if (cJSON_IsString(it) && !strcmp(it->valuestring, s))
			return true;
	return false;
}

/*
 * deletionFinalizersForGarbageCollection: the garbage collector's
 * finalizers ("orphan", "foregroundDeletion") as the propagation policy
 * says; with none given, as the object's finalizers already say, else the
 * kind's default (core/v1 ReplicationController orphans; everything else
 * goes in the background). Namespaces finalize on their own. Returns true
 * when obj's finalizers changed (compared as sets).
 */
static bool gc_finalizers(const struct resource *res, cJSON *obj, const char *policy)
{
	cJSON *fin = jget(obj, "metadata.finalizers"), *want, *it;
	bool orphan = false, fg = false, changed;
	if (!*res->group && !strcmp(res->kind, "Namespace"))
		return false;
	if (policy) {
		orphan = !strcmp(policy, "Orphan");
		fg = !strcmp(policy, "Foreground");
	} else {
		cJSON_ArrayForEach(it, fin)
			if (cJSON_IsString(it) && (!strcmp(it->valuestring, "orphan") ||
						   !strcmp(it->valuestring, "foregroundDeletion")))
				break;
		orphan = it ? !strcmp(it->valuestring, "orphan")
			    : !*res->group && !strcmp(res->kind, "ReplicationController");
		fg = it && !orphan;
	}
	want = cJSON_CreateArray();
	cJSON_ArrayForEach(it, fin)
		if (!cJSON_IsString(it) || (strcmp(it->valuestring, "orphan") &&
					    strcmp(it->valuestring, "foregroundDeletion")))
			cJSON_AddItemToArray(want, cJSON_Duplicate(it, 1));
	if (orphan)
		cJSON_AddItemToArray(want, cJSON_CreateString("orphan"));
	if (fg)
		cJSON_AddItemToArray(want, cJSON_CreateString("foregroundDeletion"));
	changed = false;
	cJSON_ArrayForEach(it, want)
		changed |= !has_str(fin, it->valuestring);
	if (!cJSON_IsArray(fin))
		fin = NULL;
	cJSON_ArrayForEach(it, fin)
		changed |= cJSON_IsString(it) && !has_str(want, it->valuestring);
	if (changed && cJSON_GetArraySize(want))
		jset(obj, "metadata.finalizers", want);
	else if (changed)
		jdel(obj, "metadata.finalizers");
	if (!changed || !cJSON_GetArraySize(want))
		cJSON_Delete(want);
	return changed;
}

/* An object already being deleted: a new policy may change its
 * finalizers, and a pod's grace period may only get shorter. */
static int redelete(struct store *st, const char *storage, const char *ns,
		    const char *name, cJSON *old, bool changed, long long grace,
		    struct lk_err *err)
{
	char ts[32];
	if (grace < jint(old, "metadata.deletionGracePeriodSeconds", 0)) {
		lk_rfc3339(time(NULL) + grace, ts);
		jset_str(old, "metadata.deletionTimestamp", ts);
		jset_int(old, "metadata.deletionGracePeriodSeconds", grace);
		changed = true;
	}
	if (!changed)
		return 0;
	return store_update(st, storage, ns, name, old, 0, err);
}

int obj_delete(struct registry *reg, const struct resource *res, const char *ns,
	       const char *name, const struct delete_opts *o, cJSON **out,
	       bool *gone, struct lk_err *err)
{
	struct store *st = reg->store;
	char storage[128], ts[32];
	cJSON *old = NULL;
	long long grace = 0;
	int ret = -1;

	resource_storage(res, storage);
	if (!res->namespaced)
		ns = "";
	*gone = false;
	if (store_get(st, storage, ns, name, &old, NULL) < 0)
		return lk_err_notfound(err, res->group, res->plural, name);
	if (check_preconditions(res, old, o, err) < 0)
		goto out;
	if (o->dry_run) {
		*gone = true;
		ret = 0;
		goto out;
	}
	bool changed = gc_finalizers(res, old, o->propagation);
	/* graceful() always runs: it sets grace even when finalizers hold. */
	bool graceful_hold = graceful(res, old, o, &grace);
	bool hold = !finalizers_empty(old) || graceful_hold;
	if (hold) {
		if (!jget(old, "metadata.deletionTimestamp")) {
			lk_rfc3339(time(NULL) + grace, ts);
			jset_str(old, "metadata.deletionTimestamp", ts);
			jset_int(old, "metadata.deletionGracePeriodSeconds", grace);
			if (!strcmp(res->kind, "Namespace") && !*res->group)
				jset_str(old, "status.phase", "Terminating");
			ret = store_update(st, storage, ns, name, old, 0, err);
		} else {
			ret = redelete(st, storage, ns, name, old, changed, grace, err);
		}
		goto out;
	}
	cJSON_Delete(old);
	old = NULL;
	ret = store_delete(st, storage, ns, name, 0, &old, err);
	if (ret == 0) {
		*gone = true;
		after_delete(reg, res, ns, name, old);
	}
out:
	if (ret == 0 && out) {
		*out = old;
		old = NULL;
	}
	cJSON_Delete(old);
	return ret;
}
