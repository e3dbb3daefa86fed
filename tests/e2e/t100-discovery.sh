#!/usr/bin/env bash
# t100: discovery as kubectl uses it: api-resources (short names, scope, the
# "all" category), api-versions, `get all`, unknown types, and the raw
# /api, /apis, /api/v1, /apis/apps/v1 documents (kubectl-wire.md §1, §2).
. "$(dirname "$0")/lib.sh"
lk_plan $((25 + 25 * $(lk_nversions)))
lk_start

check_api_resources() {
	local v=$1
	expect_ok "1.$v api-resources" k "$v" api-resources || return
	local o=$OUT
	expect_match "1.$v api-resources header" '^NAME +SHORTNAMES +APIVERSION +NAMESPACED +KIND$' "$o"
	expect_match "1.$v services: svc, v1, namespaced" '^services +svc +v1 +true +Service$' "$o"
	expect_match "1.$v deployments: deploy, apps/v1" '^deployments +deploy +apps/v1 +true +Deployment$' "$o"
	expect_match "1.$v pods: po" '^pods +po +v1 +true +Pod$' "$o"
	expect_match "1.$v configmaps: cm" '^configmaps +cm +v1 +true +ConfigMap$' "$o"
	expect_match "1.$v replicasets: rs" '^replicasets +rs +apps/v1 +true +ReplicaSet$' "$o"
	expect_match "1.$v namespaces: ns, cluster-scoped" '^namespaces +ns +v1 +false +Namespace$' "$o"
	expect_match "1.$v nodes: no, cluster-scoped" '^nodes +no +v1 +false +Node$' "$o"
	expect_match "1.$v endpoints: ep" '^endpoints +ep +v1 +true +Endpoints$' "$o"
	expect_match "1.$v events: ev" '^events +ev +v1 +true +Event$' "$o"
	expect_nomatch "1.$v subresources are hidden" '^(pods/|deployments/)' "$o"
}
kall check_api_resources

expect_ok "api-resources -o wide" kc api-resources -o wide
expect_match "wide: VERBS and CATEGORIES columns" '^NAME +SHORTNAMES +APIVERSION +NAMESPACED +KIND +VERBS +CATEGORIES$' "$OUT"
expect_match "wide: deployments verbs and category all" \
	'^deployments +deploy +apps/v1 +true +Deployment +.*create.*delete.*get.*list.*patch.*update.*watch.* +all$' "$OUT"
expect_ok "api-resources --api-group=apps" kc api-resources --api-group=apps --no-headers
expect_match "apps group lists deployments" '^deployments ' "$OUT"
expect_nomatch "apps group lists no core kinds" '^(pods|services|configmaps) ' "$OUT"
expect_ok "api-resources --namespaced=false" kc api-resources --namespaced=false --no-headers
expect_match "cluster-scoped: namespaces" '^namespaces ' "$OUT"
expect_nomatch "cluster-scoped: no pods" '^pods ' "$OUT"

check_api_versions() {
	local v=$1
	expect_ok "1.$v api-versions" k "$v" api-versions || return
	expect_match "1.$v api-versions has v1" '^v1$' "$OUT"
	expect_match "1.$v api-versions has apps/v1" '^apps/v1$' "$OUT"
}
kall check_api_versions

# get all: the "all" category over pods, services, deployments, replicasets.
expect_ok "create deployment for get all" kc create deployment lkt-all --image=registry.k8s.io/pause:3.9
check_get_all() {
	local v=$1
	expect_ok "1.$v get all" k "$v" get all || return
	expect_match "1.$v get all: service/kubernetes" '^service/kubernetes +ClusterIP +' "$OUT"
	expect_match "1.$v get all: deployment.apps/lkt-all" '^deployment\.apps/lkt-all +[0-9]+/1 ' "$OUT"
	expect_match "1.$v get all: service header" '^NAME +TYPE +CLUSTER-IP +EXTERNAL-IP +PORT\(S\) +AGE$' "$OUT"
	expect_match "1.$v get all: deployment header" '^NAME +READY +UP-TO-DATE +AVAILABLE +AGE$' "$OUT"
	expect_ok "1.$v short names resolve (svc, deploy, cm, ns)" k "$v" get svc,deploy,cm,ns -o name
	expect_match "1.$v get svc,deploy,... -o name" '^deployment\.apps/lkt-all$' "$OUT"
	expect_match "1.$v -o name has namespace/default" '^namespace/default$' "$OUT"
	expect_fail "1.$v unknown resource type" k "$v" get lktfoos
	expect_match "1.$v unknown type error" \
		'^error: the server doesn'"'"'t have a resource type "lktfoos"$' "$ERR"
}
kall check_get_all
expect_ok "get all -A" kc get all -A
expect_match "get all -A: NAMESPACE column" '^NAMESPACE +NAME +TYPE +' "$OUT"
expect_match "get all -A: default/service/kubernetes" '^default +service/kubernetes +ClusterIP' "$OUT"

# The documents themselves.
api GET /api
expect_code "GET /api" 200
expect_eq "/api: APIVersions [v1]" 'APIVersions ["v1"]' "$(jf 'd["kind"] + " " + json.dumps(d["versions"])' "$BODY")"
api GET /apis
expect_code "GET /apis" 200
expect_eq "/apis: APIGroupList" APIGroupList "$(jf 'd["kind"]' "$BODY")"
expect_eq "/apis: apps/v1 preferred" apps/v1 \
	"$(jf '[g for g in d["groups"] if g["name"] == "apps"][0]["preferredVersion"]["groupVersion"]' "$BODY")"
api GET /api/v1
expect_code "GET /api/v1" 200
expect_eq "/api/v1: APIResourceList groupVersion v1" "APIResourceList v1" "$(jf 'd["kind"] + " " + d["groupVersion"]' "$BODY")"
expect_eq "/api/v1: services has shortNames, categories, kind, verbs" \
	'["svc"] ["all"] Service true list' \
	"$(jf '[" ".join([json.dumps(r.get("shortNames")), json.dumps(r.get("categories")), r["kind"], json.dumps(r["namespaced"]), "list" if "list" in r["verbs"] else "-"]) for r in d["resources"] if r["name"] == "services"][0]' "$BODY")"
expect_eq "/api/v1: pods/log subresource" "Pod" \
	"$(jf '[r["kind"] for r in d["resources"] if r["name"] == "pods/log"][0]' "$BODY")"
api GET /apis/apps/v1
expect_code "GET /apis/apps/v1" 200
expect_eq "/apis/apps/v1: deployments/scale is autoscaling/v1 Scale" "autoscaling v1 Scale" \
	"$(jf '[r.get("group", "?") + " " + r.get("version", "?") + " " + r["kind"] for r in d["resources"] if r["name"] == "deployments/scale"][0]' "$BODY")"
api GET /apis/lkt.example.com/v1
expect_code "unknown group version: 404" 404
