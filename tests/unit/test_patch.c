/*
 * tests/unit/test_patch.c: server/api/patch.h, merge, JSON and strategic
 * merge patch. Bodies are the ones kubectl sends (shared/kubectl-wire.md §5,
 * §7); expected results and error texts are kube-apiserver's
 * (shared/specs/api-machinery.md §2).
 *
 * JSON below is written with single quotes for readability; Q() swaps them.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/json.h"
#include "common/util.h"
#include "server/api/patch.h"

static cJSON *Q(const char *s)
{
	char *t = xstrdup(s);
	for (char *p = t; *p; p++)
		if (*p == '\'')
			*p = '"';
	cJSON *v = cJSON_Parse(t);
	ck_assert_msg(v != NULL, "bad test JSON: %s", t);
	free(t);
	return v;
}

static void expect_json(const cJSON *got, const char *want_q)
{
	cJSON *want = Q(want_q);
	char *g = jprint(got), *w = jprint(want);
	ck_assert_msg(jequal(got, want), "got  %s\nwant %s", g, w);
	free(g);
	free(w);
	cJSON_Delete(want);
}

enum flavour { SMP, MERGE, JSONP };

/* Apply patch to orig (kind for SMP), check orig is untouched; returns the
 * result or NULL with err filled. */
static cJSON *run(enum flavour fl, const char *group, const char *kind,
		  const char *orig_q, const char *patch_q, struct lk_err *err)
{
	cJSON *orig = Q(orig_q), *patch = Q(patch_q), *out = (cJSON *)1;
	char *before = jprint(orig);
	int rc;

	if (fl == SMP)
		rc = patch_strategic(orig, patch, group, kind, &out, err);
	else if (fl == MERGE)
		rc = patch_merge(orig, patch, &out, err);
	else
		rc = patch_json(orig, patch, &out, err);
	char *after = jprint(orig);
	ck_assert_str_eq(before, after);
	ck_assert_int_eq(rc, out ? 0 : -1);
	free(before);
	free(after);
	cJSON_Delete(orig);
	cJSON_Delete(patch);
	return out;
}

static void expect(enum flavour fl, const char *kind, const char *orig_q,
		   const char *patch_q, const char *want_q)
{
	struct lk_err err = { 0 };
	const char *group = kind && (!strcmp(kind, "Deployment") ||
				     !strcmp(kind, "ReplicaSet")) ? "apps" : "";
	cJSON *out = run(fl, group, kind, orig_q, patch_q, &err);
	ck_assert_msg(out != NULL, "patch failed: %s", err.msg);
	expect_json(out, want_q);
	cJSON_Delete(out);
	lk_err_clear(&err);
}

static void expect_err(enum flavour fl, const char *kind, const char *orig_q,
		       const char *patch_q, enum lk_code code, const char *msg)
{
	struct lk_err err = { 0 };
	const char *group = kind && !strcmp(kind, "Deployment") ? "apps" : "";
	cJSON *out = run(fl, group, kind, orig_q, patch_q, &err);
	ck_assert_ptr_null(out);
	ck_assert_int_eq(err.code, code);
	ck_assert_str_eq(err.msg, msg);
	lk_err_clear(&err);
}

#define REJECTED "the server rejected our request due to an error in our request"

/* ---- fixtures ---- */

static const char *SVC =
	"{'apiVersion':'v1','kind':'Service','metadata':{'name':'web',"
	"'namespace':'default','labels':{'app':'web'},'annotations':{'a':'1'}},"
	"'spec':{'type':'NodePort','selector':{'app':'web'},'ports':[{'name':'http',"
	"'port':80,'protocol':'TCP','targetPort':80,'nodePort':31000}]}}";

static const char *DEPLOY =
	"{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web',"
	"'labels':{'app':'web'}},'spec':{'replicas':2,"
	"'strategy':{'type':'RollingUpdate','rollingUpdate':{'maxSurge':'25%','maxUnavailable':'25%'}},"
	"'template':{'metadata':{'labels':{'app':'web'}},'spec':{"
	"'containers':[{'name':'web','image':'nginx:1.25','ports':[{'containerPort':80,'protocol':'TCP'}],"
	"'env':[{'name':'A','value':'1'},{'name':'B','value':'2'}]},"
	"{'name':'side','image':'busybox','args':['sleep','1d']}],"
	"'tolerations':[{'key':'k','operator':'Exists'}],"
	"'volumes':[{'name':'data','emptyDir':{}}]}}}}";

/* Deployment result with only spec.template.spec.containers changed. */
static char *deploy_with_containers(const char *containers)
{
	struct strbuf sb = STRBUF_INIT;
	sb_addf(&sb,
		"{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web',"
		"'labels':{'app':'web'}},'spec':{'replicas':2,"
		"'strategy':{'type':'RollingUpdate','rollingUpdate':{'maxSurge':'25%%','maxUnavailable':'25%%'}},"
		"'template':{'metadata':{'labels':{'app':'web'}},'spec':{"
		"'containers':%s,'tolerations':[{'key':'k','operator':'Exists'}],"
		"'volumes':[{'name':'data','emptyDir':{}}]}}}}",
		containers);
	return sb_detach(&sb, NULL);
}

#define C_WEB "{'name':'web','image':'nginx:1.25','ports':[{'containerPort':80,'protocol':'TCP'}],'env':[{'name':'A','value':'1'},{'name':'B','value':'2'}]}"
#define C_SIDE "{'name':'side','image':'busybox','args':['sleep','1d']}"

static void expect_containers(const char *patch_q, const char *containers)
{
	char *want = deploy_with_containers(containers);
	expect(SMP, "Deployment", DEPLOY, patch_q, want);
	free(want);
}

/* ---- strategic: what kubectl sends ---- */

START_TEST(smp_apply_service)
{
	/* kubectl apply, changed Service (kubectl-wire.md §5) */
	expect(SMP, "Service", SVC,
	       "{'metadata':{'annotations':{'kubectl.kubernetes.io/last-applied-configuration':'{}\\n'},"
	       "'labels':{'tier':'frontend'}},'spec':{'$setElementOrder/ports':[{'port':80}],"
	       "'ports':[{'nodePort':30080,'port':80}]}}",
	       "{'apiVersion':'v1','kind':'Service','metadata':{'name':'web',"
	       "'namespace':'default','labels':{'app':'web','tier':'frontend'},"
	       "'annotations':{'a':'1','kubectl.kubernetes.io/last-applied-configuration':'{}\\n'}},"
	       "'spec':{'type':'NodePort','selector':{'app':'web'},'ports':[{'name':'http',"
	       "'port':80,'protocol':'TCP','targetPort':80,'nodePort':30080}]}}");
}
END_TEST

START_TEST(smp_apply_deployment)
{
	/* kubectl apply, changed Deployment (kubectl-wire.md §5) */
	char *want = deploy_with_containers(
		"[{'name':'web','image':'nginx:1.26','ports':[{'containerPort':80,'protocol':'TCP'}],"
		"'env':[{'name':'A','value':'1'},{'name':'B','value':'2'}]}," C_SIDE "]");
	cJSON *w = Q(want);
	char *ws;

	jset_int(w, "spec.replicas", 3);
	jset(jobj(w, "metadata.annotations"), "last-applied", cJSON_CreateString("{}\n"));
	ws = jprint(w);
	expect(SMP, "Deployment", DEPLOY,
	       "{'metadata':{'annotations':{'last-applied':'{}\\n'}},'spec':{'replicas':3,"
	       "'template':{'spec':{'$setElementOrder/containers':[{'name':'web'},{'name':'side'}],"
	       "'containers':[{'image':'nginx:1.26','name':'web'}]}}}}",
	       ws);
	free(ws);
	free(want);
	cJSON_Delete(w);
}
END_TEST

START_TEST(smp_set_image)
{
	/* kubectl set image (kubectl-wire.md §7): containers the order list
	 * leaves out are server-only and stay */
	expect_containers(
		"{'spec':{'template':{'spec':{'$setElementOrder/containers':[{'name':'side'}],"
		"'containers':[{'image':'busybox:1.36','name':'side'}]}}}}",
		"[" C_WEB ",{'name':'side','image':'busybox:1.36','args':['sleep','1d']}]");
}
END_TEST

START_TEST(smp_label_null)
{
	/* kubectl label svc x lab- sends a merge patch; SMP deletes too */
	expect(SMP, "Service", "{'metadata':{'labels':{'a':'1','lab':'yes'}}}",
	       "{'metadata':{'labels':{'lab':null,'gone':null}}}",
	       "{'metadata':{'labels':{'a':'1'}}}");
	/* nulls inside a value added whole are dropped */
	expect(SMP, "Pod", "{'metadata':{'name':'p'}}",
	       "{'metadata':{'annotations':{'x':'1','y':null}}}",
	       "{'metadata':{'name':'p','annotations':{'x':'1'}}}");
}
END_TEST

/* ---- strategic: list merging and order ---- */

START_TEST(smp_new_item_first)
{
	/* a new container lands before the remaining originals */
	expect_containers("{'spec':{'template':{'spec':{'containers':[{'name':'redis','image':'redis'}]}}}}",
			  "[{'name':'redis','image':'redis'}," C_WEB "," C_SIDE "]");
	/* patch order wins among patch items; live items keep theirs */
	expect_containers("{'spec':{'template':{'spec':{'containers':[{'name':'redis','image':'redis'},{'name':'web','image':'x'}]}}}}",
			  "[{'name':'redis','image':'redis'},{'name':'web','image':'x','ports':[{'containerPort':80,'protocol':'TCP'}],"
			  "'env':[{'name':'A','value':'1'},{'name':'B','value':'2'}]}," C_SIDE "]");
	expect_containers("{'spec':{'template':{'spec':{'containers':[{'name':'side','image':'b'},{'name':'redis','image':'redis'}]}}}}",
			  "[" C_WEB ",{'name':'side','image':'b','args':['sleep','1d']},{'name':'redis','image':'redis'}]");
}
END_TEST

START_TEST(smp_set_element_order)
{
	/* the order list puts the new item between the live ones */
	expect_containers(
		"{'spec':{'template':{'spec':{'$setElementOrder/containers':[{'name':'web'},{'name':'mid'},{'name':'side'}],"
		"'containers':[{'name':'mid','image':'m'}]}}}}",
		"[" C_WEB ",{'name':'mid','image':'m'}," C_SIDE "]");
	/* a full reorder */
	expect_containers(
		"{'spec':{'template':{'spec':{'$setElementOrder/containers':[{'name':'side'},{'name':'web'}]}}}}",
		"[" C_SIDE "," C_WEB "]");
	/* server-only items interleave by their live order */
	expect(SMP, "Pod", "{'spec':{'containers':[{'name':'a'},{'name':'b'},{'name':'c'}]}}",
	       "{'spec':{'$setElementOrder/containers':[{'name':'c'},{'name':'a'}],'containers':[{'name':'a','image':'x'}]}}",
	       "{'spec':{'containers':[{'name':'b'},{'name':'c'},{'name':'a','image':'x'}]}}");
	/* primitive merge list */
	expect(SMP, "Pod", "{'metadata':{'finalizers':['a','b']}}",
	       "{'metadata':{'$setElementOrder/finalizers':['b','c','a'],'finalizers':['c']}}",
	       "{'metadata':{'finalizers':['b','c','a']}}");
	/* a list the live object lacks is taken whole */
	expect(SMP, "Pod", "{'spec':{}}",
	       "{'spec':{'$setElementOrder/containers':[{'name':'b'},{'name':'a'}],'containers':[{'name':'b'},{'name':'a','x':null}]}}",
	       "{'spec':{'containers':[{'name':'b'},{'name':'a','x':null}]}}");
	/* the patch list must follow the order list's order */
	expect_err(SMP, "Pod", "{'spec':{}}",
		   "{'spec':{'$setElementOrder/containers':[{'name':'b'},{'name':'a'}],'containers':[{'name':'a'},{'name':'b'}]}}",
		   LK_EUNKNOWN,
		   "The order in patch list:\n[map[name:a] map[name:b]]\n doesn't match $setElementOrder list:\n[map[name:b] map[name:a]]\n");
	/* the patch list must follow the order list */
	expect_err(SMP, "Pod", "{'spec':{'containers':[{'name':'a'}]}}",
		   "{'spec':{'$setElementOrder/containers':[{'name':'a'}],'containers':[{'name':'b'}]}}",
		   LK_EUNKNOWN,
		   "The order in patch list:\n[map[name:b]]\n doesn't match $setElementOrder list:\n[map[name:a]]\n");
	expect_err(SMP, "Pod", "{'spec':{'containers':[{'name':'a'}]}}",
		   "{'spec':{'$setElementOrder':[{'name':'a'}]}}",
		   LK_EBADREQUEST, "invalid patch format of setElementOrder list");
}
END_TEST

START_TEST(smp_rename_next_to_sidecar)
{
	/* kubectl apply after renaming container a to b, with a sidecar the
	 * server added: upstream's in-place slice updates put b after it */
	expect(SMP, "Pod", "{'spec':{'containers':[{'name':'a','image':'a'},{'name':'s','image':'sidecar'}]}}",
	       "{'spec':{'$setElementOrder/containers':[{'name':'b'}],"
	       "'containers':[{'name':'b','image':'b'},{'$patch':'delete','name':'a'}]}}",
	       "{'spec':{'containers':[{'name':'s','image':'sidecar'},{'name':'b','image':'b'}]}}");
	/* without the order list the new item goes first */
	expect(SMP, "Pod", "{'spec':{'containers':[{'name':'a','image':'a'},{'name':'s','image':'sidecar'}]}}",
	       "{'spec':{'containers':[{'name':'b','image':'b'},{'$patch':'delete','name':'a'}]}}",
	       "{'spec':{'containers':[{'name':'b','image':'b'},{'name':'s','image':'sidecar'}]}}");
}
END_TEST

START_TEST(smp_directives_in_new_values)
{
	/* 1.28+: a value taken whole loses the maps that carry $patch */
	expect(SMP, "Pod", "{'metadata':{},'spec':{'containers':[{'name':'a'}]}}",
	       "{'metadata':{'finalizers':['x',{'$patch':'delete'}]},"
	       "'spec':{'nodeSelector':{'$patch':'replace','a':'1'},"
	       "'containers':[{'name':'a','env':[{'name':'E','value':'1'},{'$patch':'delete','name':'F'}]}]}}",
	       "{'metadata':{'finalizers':['x']},'spec':{'containers':[{'name':'a','env':[{'name':'E','value':'1'}]}]}}");
	expect(SMP, "Pod", "{'spec':{}}",
	       "{'spec':{'$setElementOrder/containers':[{'name':'a'}],'containers':[{'$patch':'replace'},{'name':'a'}]}}",
	       "{'spec':{'containers':[{'name':'a'}]}}");
}
END_TEST

START_TEST(smp_nested_merge_keys)
{
	/* ports by containerPort, env by name, service ports by port */
	expect_containers(
		"{'spec':{'template':{'spec':{'containers':[{'name':'web','ports':[{'containerPort':443}],"
		"'env':[{'name':'B','value':'3'},{'name':'C','value':'4'}]}]}}}}",
		"[{'name':'web','image':'nginx:1.25','ports':[{'containerPort':443},{'containerPort':80,'protocol':'TCP'}],"
		"'env':[{'name':'A','value':'1'},{'name':'B','value':'3'},{'name':'C','value':'4'}]}," C_SIDE "]");
	expect(SMP, "Service", "{'spec':{'ports':[{'port':80,'name':'http'}]}}",
	       "{'spec':{'ports':[{'port':443,'name':'https'}]}}",
	       "{'spec':{'ports':[{'port':443,'name':'https'},{'port':80,'name':'http'}]}}");
	/* ownerReferences by uid, pod conditions by type */
	expect(SMP, "Pod",
	       "{'metadata':{'ownerReferences':[{'uid':'u1','name':'rs1'}]},'status':{'conditions':"
	       "[{'type':'Ready','status':'False'},{'type':'PodScheduled','status':'True'}]}}",
	       "{'metadata':{'ownerReferences':[{'uid':'u1','controller':true}]},'status':{'conditions':"
	       "[{'type':'Ready','status':'True'}]}}",
	       "{'metadata':{'ownerReferences':[{'uid':'u1','name':'rs1','controller':true}]},'status':{'conditions':"
	       "[{'type':'Ready','status':'True'},{'type':'PodScheduled','status':'True'}]}}");
	/* node podCIDRs: primitive union */
	expect(SMP, "Node", "{'spec':{'podCIDRs':['10.0.0.0/24']}}",
	       "{'spec':{'podCIDRs':['10.0.0.0/24','fd00::/64']}}",
	       "{'spec':{'podCIDRs':['10.0.0.0/24','fd00::/64']}}");
	/* finalizers: union, new values first */
	expect(SMP, "Pod", "{'metadata':{'finalizers':['a','b','c']}}",
	       "{'metadata':{'finalizers':['d','a']}}",
	       "{'metadata':{'finalizers':['d','a','b','c']}}");
}
END_TEST

START_TEST(smp_replace_lists)
{
	/* lists without a strategy are replaced whole: args, tolerations */
	expect_containers("{'spec':{'template':{'spec':{'containers':[{'name':'side','args':['true']}]}}}}",
			  "[" C_WEB ",{'name':'side','image':'busybox','args':['true']}]");
	expect(SMP, "Deployment", "{'spec':{'template':{'spec':{'tolerations':[{'key':'a'},{'key':'b'}]}}}}",
	       "{'spec':{'template':{'spec':{'tolerations':[{'key':'c'}]}}}}",
	       "{'spec':{'template':{'spec':{'tolerations':[{'key':'c'}]}}}}");
	/* a type change replaces; a map merges */
	expect(SMP, "Pod", "{'spec':{'nodeSelector':{'a':'1'},'x':[1]}}",
	       "{'spec':{'nodeSelector':{'b':'2'},'x':{'y':1}}}",
	       "{'spec':{'nodeSelector':{'a':'1','b':'2'},'x':{'y':1}}}");
}
END_TEST

/* ---- strategic: directives ---- */

START_TEST(smp_patch_directives)
{
	/* $patch: replace / delete in a map */
	expect(SMP, "Pod", "{'metadata':{'labels':{'a':'1','b':'2'}}}",
	       "{'metadata':{'labels':{'$patch':'replace','c':'3'}}}",
	       "{'metadata':{'labels':{'c':'3'}}}");
	expect(SMP, "Pod", "{'metadata':{'labels':{'a':'1'},'name':'p'}}",
	       "{'metadata':{'labels':{'$patch':'delete'}}}",
	       "{'metadata':{'labels':{},'name':'p'}}");
	/* $patch: delete / replace as list elements */
	expect_containers("{'spec':{'template':{'spec':{'containers':[{'name':'web','$patch':'delete'}]}}}}",
			  "[" C_SIDE "]");
	expect_containers("{'spec':{'template':{'spec':{'containers':[{'$patch':'replace'},{'name':'only','image':'o'}]}}}}",
			  "[{'name':'only','image':'o'}]");
	/* $patch: merge is refused in both places */
	expect_err(SMP, "Deployment", DEPLOY,
		   "{'spec':{'template':{'spec':{'containers':[{'name':'web','$patch':'merge'}]}}}}",
		   LK_EUNKNOWN, "merging lists cannot yet be specified in the patch");
	expect_err(SMP, "Pod", "{'metadata':{'labels':{'a':'1'}}}",
		   "{'metadata':{'labels':{'$patch':'merge','app':'x'}}}",
		   LK_EUNKNOWN, "unknown patch type: merge in map: map[$patch:merge app:x]");
	expect_err(SMP, "Pod", "{'metadata':{'labels':{'a':'1'}}}",
		   "{'metadata':{'labels':{'$patch':3}}}",
		   LK_EUNKNOWN, "unknown patch type: %!s(int64=3) in map: map[$patch:3]");
	/* a number past double range (found by fuzzing) */
	expect_err(SMP, "Pod", "{'metadata':{}}", "{'$patch':1e400}", LK_EUNKNOWN,
		   "unknown patch type: %!s(float64=+Inf) in map: map[$patch:+Inf]");
}
END_TEST

START_TEST(smp_retain_keys)
{
	/* DeploymentSpec.strategy: switching to Recreate drops rollingUpdate */
	expect(SMP, "Deployment", "{'spec':{'replicas':1,'strategy':{'type':'RollingUpdate','rollingUpdate':{'maxSurge':1}}}}",
	       "{'spec':{'strategy':{'$retainKeys':['type'],'type':'Recreate'}}}",
	       "{'spec':{'replicas':1,'strategy':{'type':'Recreate'}}}");
	/* volumes (merge,retainKeys): the source type changes */
	expect(SMP, "Pod", "{'spec':{'volumes':[{'name':'v','emptyDir':{}},{'name':'w','emptyDir':{}}]}}",
	       "{'spec':{'volumes':[{'name':'v','$retainKeys':['name','secret'],'secret':{'secretName':'s'}}]}}",
	       "{'spec':{'volumes':[{'name':'v','secret':{'secretName':'s'}},{'name':'w','emptyDir':{}}]}}");
	/* a patched field the list leaves out */
	expect_err(SMP, "Deployment", "{'spec':{'strategy':{'type':'RollingUpdate'}}}",
		   "{'spec':{'strategy':{'$retainKeys':['type'],'type':'Recreate','rollingUpdate':{}}}}",
		   LK_EBADREQUEST, "invalid patch format of retainKeys");
	expect_err(SMP, "Deployment", "{'spec':{'strategy':{'type':'RollingUpdate'}}}",
		   "{'spec':{'strategy':{'$retainKeys':'type'}}}",
		   LK_EBADREQUEST, "invalid patch format of retainKeys");
}
END_TEST

START_TEST(smp_delete_from_primitive_list)
{
	expect(SMP, "Pod", "{'metadata':{'finalizers':['a','b','c']}}",
	       "{'metadata':{'$deleteFromPrimitiveList/finalizers':['b','x']}}",
	       "{'metadata':{'finalizers':['a','c']}}");
	/* nothing to delete from: nothing is added (kubernetes#105146) */
	expect(SMP, "Pod", "{'metadata':{'name':'p'}}",
	       "{'metadata':{'$deleteFromPrimitiveList/finalizers':['b']}}",
	       "{'metadata':{'name':'p'}}");
	/* on a list without strategy it deletes too (kubernetes#110407) */
	expect_containers("{'spec':{'template':{'spec':{'containers':[{'name':'side','$deleteFromPrimitiveList/args':['sleep']}]}}}}",
			  "[" C_WEB ",{'name':'side','image':'busybox','args':['1d']}]");
	/* with the list in the same patch (what kubectl apply sends) */
	expect(SMP, "Pod", "{'metadata':{'finalizers':['a','b']}}",
	       "{'metadata':{'$setElementOrder/finalizers':['a','c'],'$deleteFromPrimitiveList/finalizers':['b'],'finalizers':['c']}}",
	       "{'metadata':{'finalizers':['a','c']}}");
	expect_err(SMP, "Pod", "{'metadata':{'finalizers':['a']}}",
		   "{'metadata':{'$deleteFromPrimitiveList':['a']}}",
		   LK_EBADREQUEST, "invalid patch format of primitive list");
}
END_TEST

/* ---- strategic: errors ---- */

START_TEST(smp_errors)
{
	/* kubectl patch without the merge key */
	expect_err(SMP, "Deployment", DEPLOY,
		   "{'spec':{'template':{'spec':{'containers':[{'image':'nginx'}]}}}}",
		   LK_EUNKNOWN, "map: map[image:nginx] does not contain declared merge key: name");
	expect_err(SMP, "Deployment", DEPLOY,
		   "{'spec':{'template':{'spec':{'containers':[{'$patch':'delete','image':'x'}]}}}}",
		   LK_EUNKNOWN, "map: map[$patch:delete image:x] does not contain declared merge key: name");
	expect_err(SMP, "Service", SVC,
		   "{'spec':{'ports':[{'targetPort':8080,'x':{'b':[1,true,null],'a':1.5}}]}}",
		   LK_EUNKNOWN,
		   "map: map[targetPort:8080 x:map[a:1.5 b:[1 true <nil>]]] does not contain declared merge key: port");
	/* lists of lists: upstream hides the reason */
	expect_err(SMP, "Pod", "{'metadata':{'finalizers':[]}}",
		   "{'metadata':{'finalizers':[['b']]}}", LK_EINVALID, REJECTED);
	/* element types must agree in a merge list */
	expect_err(SMP, "Pod", "{'metadata':{'finalizers':['a']}}",
		   "{'metadata':{'finalizers':[1]}}", LK_EUNKNOWN,
		   "list element types are not identical: [[a] [1]]");
	expect_err(SMP, "Pod", "{'metadata':{'finalizers':['a']}}",
		   "{'metadata':{'finalizers':[['b']]}}", LK_EUNKNOWN,
		   "list element types are not identical: [[a] [[b]]]");
	/* CRDs and unknown kinds: no strategic patch */
	expect_err(SMP, "Widget", "{}", "{}", LK_EMEDIATYPE, PATCH_SMP_UNSUPPORTED);
	ck_assert(patch_strategic_supported("apps", "Deployment"));
	ck_assert(!patch_strategic_supported("", "Deployment"));
	ck_assert(!patch_strategic_supported("example.com", "Widget"));
	expect_err(SMP, "Pod", "{}", "[1]", LK_EBADREQUEST,
		   "json: cannot unmarshal array into Go value of type map[string]interface {}");
}
END_TEST

START_TEST(smp_null_patch_and_kinds)
{
	expect(SMP, "Pod", "{'a':1}", "null", "{'a':1}");
	/* templates of every workload kind share PodSpec */
	static const char *const kinds[][2] = {
		{ "apps", "ReplicaSet" }, { "apps", "StatefulSet" },
		{ "apps", "DaemonSet" }, { "", "ReplicationController" },
		{ "batch", "Job" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		struct lk_err err = { 0 };
		cJSON *o = Q("{'spec':{'template':{'spec':{'containers':[{'name':'a','image':'1'}]}}}}");
		cJSON *p = Q("{'spec':{'template':{'spec':{'containers':[{'name':'b','image':'2'}]}}}}");
		cJSON *out = NULL;
		ck_assert_int_eq(patch_strategic(o, p, kinds[i][0], kinds[i][1], &out, &err), 0);
		expect_json(out, "{'spec':{'template':{'spec':{'containers':[{'name':'b','image':'2'},{'name':'a','image':'1'}]}}}}");
		cJSON_Delete(o);
		cJSON_Delete(p);
		cJSON_Delete(out);
	}
}
END_TEST

/* ---- merge patch ---- */

START_TEST(merge_patch)
{
	/* kubectl label / unlabel / scale */
	expect(MERGE, NULL, "{'metadata':{'labels':{'a':'1'}}}",
	       "{'metadata':{'labels':{'lab':'yes'}}}",
	       "{'metadata':{'labels':{'a':'1','lab':'yes'}}}");
	expect(MERGE, NULL, "{'metadata':{'labels':{'a':'1','lab':'yes'}}}",
	       "{'metadata':{'labels':{'lab':null}}}",
	       "{'metadata':{'labels':{'a':'1'}}}");
	expect(MERGE, NULL, "{'spec':{'replicas':1,'x':2}}", "{'spec':{'replicas':3}}",
	       "{'spec':{'replicas':3,'x':2}}");
	/* arrays replace; nulls in added objects go, nulls in arrays stay */
	expect(MERGE, NULL, "{'a':[1,2],'b':{'c':1}}",
	       "{'a':[3],'b':{'d':{'e':null,'f':1}},'g':[null,{'h':null}]}",
	       "{'a':[3],'b':{'c':1,'d':{'f':1}},'g':[null,{}]}");
	/* a scalar over an object, an object over a scalar */
	expect(MERGE, NULL, "{'a':{'b':1},'c':1}", "{'a':2,'c':{'d':null,'e':1}}",
	       "{'a':2,'c':{'e':1}}");
	expect(MERGE, NULL, "{'a':1}", "[{'b':null}]", "[{}]");
	expect_err(MERGE, NULL, "{'a':1}", "null", LK_EBADREQUEST, "Invalid JSON Patch");
	expect_err(MERGE, NULL, "{'a':1}", "3", LK_EBADREQUEST, "Invalid JSON Patch");
}
END_TEST

/* ---- JSON patch ---- */

START_TEST(json_patch_ops)
{
	const char *doc = "{'metadata':{'labels':{'a':'1'}},'spec':{'list':[1,2,3]}}";
	expect(JSONP, NULL, doc,
	       "[{'op':'add','path':'/metadata/labels/b','value':'2'},"
	       "{'op':'remove','path':'/metadata/labels/a'},"
	       "{'op':'replace','path':'/spec/list/0','value':9},"
	       "{'op':'add','path':'/spec/list/-','value':4},"
	       "{'op':'add','path':'/spec/list/1','value':8},"
	       "{'op':'test','path':'/spec/list/4','value':4}]",
	       "{'metadata':{'labels':{'b':'2'}},'spec':{'list':[9,8,2,3,4]}}");
	expect(JSONP, NULL, doc,
	       "[{'op':'move','from':'/metadata/labels','path':'/spec/labels'},"
	       "{'op':'copy','from':'/spec/list','path':'/spec/copy'},"
	       "{'op':'remove','path':'/spec/list/-1'}]",
	       "{'metadata':{},'spec':{'list':[1,2],'labels':{'a':'1'},'copy':[1,2,3]}}");
	/* RFC 6901 escapes: ~1 is '/', ~0 is '~' */
	expect(JSONP, NULL, "{'metadata':{'annotations':{'a/b':'x'}}}",
	       "[{'op':'test','path':'/metadata/annotations/a~1b','value':'x'},"
	       "{'op':'add','path':'/metadata/annotations/example.com~1c~0d','value':'y'},"
	       "{'op':'add','path':'/metadata/annotations/~01','value':'z'}]",
	       "{'metadata':{'annotations':{'a/b':'x','example.com/c~d':'y','~1':'z'}}}");
	/* json-patch v4 quirks upstream has: replace adds a missing member,
	 * test of a missing member against null passes, "" replaces all */
	expect(JSONP, NULL, "{'a':1}",
	       "[{'op':'replace','path':'/b','value':2},{'op':'test','path':'/c','value':null}]",
	       "{'a':1,'b':2}");
	expect(JSONP, NULL, "{'a':1}", "[{'op':'replace','path':'','value':{'z':0}}]", "{'z':0}");
	expect(JSONP, NULL, "{'a':1}", "[{'op':'replace','path':'','value':3}]", "{'a':1}");
	/* a path without a leading '/' is read from its first '/' */
	expect(JSONP, NULL, "{'a':1}", "[{'op':'add','path':'x/b','value':2}]", "{'a':1,'b':2}");
	expect(JSONP, NULL, "{'a':1}", "[]", "{'a':1}");
}
END_TEST

START_TEST(json_patch_errors)
{
	const char *doc = "{'metadata':{'labels':{'a':'1'}},'spec':{'list':[1,2,3]}}";
	static const char *const bad[] = {
		/* atomic: the first op applies, the second fails, nothing changes */
		"[{'op':'add','path':'/x','value':1},{'op':'test','path':'/metadata/labels/a','value':'2'}]",
		"[{'op':'remove','path':'/metadata/nope'}]",
		"[{'op':'add','path':'/nope/x','value':1}]",
		"[{'op':'replace','path':'/spec/list/3','value':1}]",
		"[{'op':'add','path':'/spec/list/5','value':1}]",
		"[{'op':'add','path':'/spec/list/x','value':1}]",
		"[{'op':'remove','path':'/spec/list/-4'}]",
		"[{'op':'move','from':'/spec','path':'/spec/x'}]",
		"[{'op':'move','from':'/nope','path':'/x'}]",
		"[{'op':'frobnicate','path':'/x'}]",
		"[{'path':'/x'}]",
		"[{'op':'add','value':1}]",
		"[{'op':'add','path':'','value':1}]",
		"[{'op':'test','path':'/metadata'}]",
		"[null]",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		expect_err(JSONP, NULL, doc, bad[i], LK_EINVALID, REJECTED);
	expect_err(JSONP, NULL, doc, "{'op':'add'}", LK_EBADREQUEST,
		   "json: cannot unmarshal object into Go value of type jsonpatch.Patch");
	expect_err(JSONP, NULL, doc, "['add']", LK_EBADREQUEST,
		   "json: cannot unmarshal string into Go value of type jsonpatch.Operation");
}
END_TEST

START_TEST(json_patch_too_large)
{
	cJSON *orig = Q("{'a':[]}"), *ops = cJSON_CreateArray(), *out = NULL;
	struct lk_err err = { 0 };
	for (int i = 0; i < 10001; i++)
		cJSON_AddItemToArray(ops, Q("{'op':'add','path':'/a/-','value':1}"));
	ck_assert_int_eq(patch_json(orig, ops, &out, &err), -1);
	ck_assert_int_eq(err.code, LK_ETOOLARGE);
	ck_assert_str_eq(err.msg, "Request entity too large: The allowed maximum "
				  "operations in a JSON patch is 10000, got 10001");
	cJSON_DeleteItemFromArray(ops, 0);
	ck_assert_int_eq(patch_json(orig, ops, &out, &err), 0);
	ck_assert_int_eq(cJSON_GetArraySize(jget(out, "a")), 10000);
	cJSON_Delete(out);
	/* copy doubling is bounded */
	cJSON_Delete(ops);
	ops = cJSON_CreateArray();
	cJSON_AddItemToArray(ops, Q("{'op':'add','path':'/a/-','value':[1,2,3,4]}"));
	for (int i = 0; i < 40; i++)
		cJSON_AddItemToArray(ops, Q("{'op':'copy','from':'/a','path':'/a/-'}"));
	ck_assert_int_eq(patch_json(orig, ops, &out, &err), -1);
	ck_assert_int_eq(err.code, LK_EINVALID);
	lk_err_clear(&err);
	cJSON_Delete(orig);
	cJSON_Delete(ops);
}
END_TEST

static Suite *patch_suite(void)
{
	Suite *s = suite_create("patch");
	TCase *smp = tcase_create("strategic");
	TCase *other = tcase_create("merge+json");

	tcase_add_test(smp, smp_apply_service);
	tcase_add_test(smp, smp_apply_deployment);
	tcase_add_test(smp, smp_set_image);
	tcase_add_test(smp, smp_label_null);
	tcase_add_test(smp, smp_new_item_first);
	tcase_add_test(smp, smp_set_element_order);
	tcase_add_test(smp, smp_rename_next_to_sidecar);
	tcase_add_test(smp, smp_directives_in_new_values);
	tcase_add_test(smp, smp_nested_merge_keys);
	tcase_add_test(smp, smp_replace_lists);
	tcase_add_test(smp, smp_patch_directives);
	tcase_add_test(smp, smp_retain_keys);
	tcase_add_test(smp, smp_delete_from_primitive_list);
	tcase_add_test(smp, smp_errors);
	tcase_add_test(smp, smp_null_patch_and_kinds);
	tcase_add_test(other, merge_patch);
	tcase_add_test(other, json_patch_ops);
	tcase_add_test(other, json_patch_errors);
	tcase_add_test(other, json_patch_too_large);
	tcase_set_timeout(other, 60);
	suite_add_tcase(s, smp);
	suite_add_tcase(s, other);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(patch_suite());
	int failed;
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
