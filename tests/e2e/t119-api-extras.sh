#!/usr/bin/env bash
# t119: the rest of the API foundation (issue 2): generateName, dryRun,
# limit/continue, DELETE of a collection, YAML bodies, aggregated discovery,
# watch bookmarks, `describe`, the default ServiceAccount of a namespace and
# the kubernetes Service's Endpoints and EndpointSlice.
. "$(dirname "$0")/lib.sh"
lk_plan $((45 + 9 * $(lk_nversions)))
lk_start

NS=lkt-x
C=/api/v1/namespaces/$NS/configmaps
expect_ok "create namespace" kc create namespace "$NS"
cmjson() { echo "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{$1}}"; }

# ---- generateName
api POST "$C" -H 'Content-Type: application/json' -d "$(cmjson '"generateName":"gen-"')"
expect_code "POST with generateName: 201" 201
expect_match "name = prefix + 5 characters" '^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$' "$(jf 'd["metadata"]["name"]' "$BODY")"
expect_eq "generateName kept" "gen-" "$(jf 'd["metadata"]["generateName"]' "$BODY")"
expect_ok "kubectl create with generateName" kc -n "$NS" create -f - <<EOF
apiVersion: v1
kind: ConfigMap
metadata:
  generateName: kgen-
EOF
expect_match "kubectl prints the generated name" '^configmap/kgen-[bcdfghjklmnpqrstvwxz2456789]{5} created$' "$OUT"

# ---- dryRun
api POST "$C?dryRun=All" -H 'Content-Type: application/json' -d "$(cmjson '"name":"dry"')"
expect_code "POST ?dryRun=All: 201" 201
expect_eq "dry-run answer is the object" "ConfigMap dry" "$(jf 'd["kind"] + " " + d["metadata"]["name"]' "$BODY")"
api GET "$C/dry"
expect_code "dry-run object not stored" 404
expect_ok "kubectl --dry-run=server" kc -n "$NS" create configmap dry2 --dry-run=server
expect_eq "kubectl prints (server dry run)" "configmap/dry2 created (server dry run)" "$OUT"
expect_notfound "server dry run stored nothing" kc -n "$NS" get cm dry2
api POST "$C" -H 'Content-Type: application/json' -d "$(cmjson '"name":"real","labels":{"v":"1"}')"
expect_code "create real: 201" 201
RV=$(jf 'd["metadata"]["resourceVersion"]' "$BODY")
api PATCH "$C/real?dryRun=All" -H 'Content-Type: application/merge-patch+json' -d '{"metadata":{"labels":{"v":"2"}}}'
expect_code "PATCH ?dryRun=All: 200" 200
expect_eq "dry-run patch answers the patched object" 2 "$(jf 'd["metadata"]["labels"]["v"]' "$BODY")"
expect_eq "dry-run patch changed nothing" "1 $RV" "$(curl_api "$C/real" | jf 'd["metadata"]["labels"]["v"] + " " + d["metadata"]["resourceVersion"]')"
api DELETE "$C/real?dryRun=All"
expect_code "DELETE ?dryRun=All: 200" 200
api GET "$C/real"
expect_code "dry-run delete kept the object" 200

# ---- YAML bodies
api POST "$C" -H 'Content-Type: application/yaml' --data-binary $'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  a: "1"\n'
expect_code "POST application/yaml: 201" 201
expect_eq "YAML body decoded" 'from-yaml {"a": "1"}' "$(jf 'd["metadata"]["name"] + " " + json.dumps(d["data"])' "$BODY")"

# ---- limit / continue
for i in 1 2 3 4 5; do
	api POST "$C" -H 'Content-Type: application/json' -d "$(cmjson "\"name\":\"page$i\",\"labels\":{\"grp\":\"p\"}")"
done
names="" token="" pages=0
while :; do
	api GET "$C?labelSelector=grp%3Dp&limit=2${token:+&continue=$token}"
	[ "$CODE" = 200 ] || break
	pages=$((pages + 1))
	names="$names$(jf '" ".join(i["metadata"]["name"] for i in d["items"])' "$BODY") "
	token=$(jf 'd["metadata"].get("continue", "")' "$BODY")
	[ -n "$token" ] && [ "$pages" -lt 10 ] || break
done
expect_eq "limit=2 pages through all five in order" "page1 page2 page3 page4 page5" "$(echo $names)"
expect_eq "three pages" 3 "$pages"
api GET "$C?labelSelector=grp%3Dp&limit=2"
expect_eq "first page: 2 items and a continue token" "2 True" \
	"$(jf '"%d %s" % (len(d["items"]), bool(d["metadata"].get("continue")))' "$BODY")"
expect_ok "kubectl get --chunk-size=2" kc -n "$NS" get cm -l grp=p --chunk-size=2 --no-headers
expect_eq "kubectl prints every page" "page1 page2 page3 page4 page5" "$(awk '{print $1}' <<<"$OUT" | tr '\n' ' ' | sed 's/ $//')"

# ---- DELETE of a collection
api DELETE "$C?labelSelector=grp%3Dp"
expect_code "DELETE collection with a selector: 200" 200
expect_eq "the selected ones are gone, the rest stay" "from-yaml real" \
	"$(curl_api "$C" | jf '" ".join(sorted(i["metadata"]["name"] for i in d["items"] if not i["metadata"]["name"].startswith(("gen-", "kgen-", "kube-"))))')"

# ---- aggregated discovery
for dv in v2 v2beta1; do
	api GET /apis -H "Accept: application/json;g=apidiscovery.k8s.io;v=$dv;as=APIGroupDiscoveryList,application/json"
	expect_match "aggregated discovery $dv: content type" "as=APIGroupDiscoveryList" "$CTYPE"
	expect_eq "aggregated discovery $dv: apps/v1 deployments (deploy, all, scale)" \
		"APIGroupDiscoveryList deployments Namespaced [\"deploy\"] [\"all\"] scale" \
		"$(jf 'd["kind"] + " " + [" ".join([r["resource"], r["scope"], json.dumps(r.get("shortNames")), json.dumps(r.get("categories")), ",".join(s["subresource"] for s in r.get("subresources", []) if s["subresource"] == "scale")]) for g in d["items"] if g["metadata"]["name"] == "apps" for v in g["versions"] if v["version"] == "v1" for r in v["resources"] if r["resource"] == "deployments"][0]' "$BODY")"
done
api GET /api -H 'Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json'
expect_eq "aggregated /api: one item named \"\" with services" '1 "" svc' \
	"$(jf '"%d %s %s" % (len(d["items"]), json.dumps(d["items"][0]["metadata"].get("name", "")), [r["shortNames"][0] for r in d["items"][0]["versions"][0]["resources"] if r["resource"] == "services"][0])' "$BODY")"

# ---- bookmarks
RVB=$(curl_api "$C" | jf 'd["metadata"]["resourceVersion"]')
got=$(curl_api "$C?watch=true&resourceVersion=$RVB&allowWatchBookmarks=true&timeoutSeconds=4" --max-time 10 |
	"$LK_PY" -c '
import json, sys
for l in sys.stdin:
    if l.strip():
        e = json.loads(l); print(e["type"], e["object"]["kind"], e["object"]["metadata"].get("resourceVersion", ""))')
expect_match "allowWatchBookmarks: a BOOKMARK (kind ConfigMap, with a resourceVersion) before the deadline" \
	'^BOOKMARK ConfigMap [0-9]+$' "$got"
# Without allowWatchBookmarks, over the same 4 s: the stream carries a change
# made meanwhile (so it was a working watch), and no BOOKMARK.
curl_api "$C?watch=true&resourceVersion=$RVB&timeoutSeconds=4" --max-time 10 >"$LK_TMP/nobm.out" &
NOBM=$!
LK_BG_PIDS+=("$NOBM")
api POST "$C" -H 'Content-Type: application/json' -d "$(cmjson '"name":"bm-marker"')"
wait "$NOBM"
got=$(cat "$LK_TMP/nobm.out")
expect_match "watch without allowWatchBookmarks carries the change made meanwhile" '"type": *"ADDED".*"name": *"bm-marker"' "$got"
expect_nomatch "no bookmarks unless asked" 'BOOKMARK' "$got"

# ---- describe
expect_ok "create deployment to describe" kc -n "$NS" create deployment desc --image=registry.k8s.io/pause:3.9 --replicas=2
describe() {
	local v=$1
	expect_ok "1.$v describe deployment" k "$v" -n "$NS" describe deployment desc || return
	expect_match "1.$v describe: Name" '^Name: +desc$' "$OUT"
	expect_match "1.$v describe: Namespace" "^Namespace: +$NS\$" "$OUT"
	expect_match "1.$v describe: Selector" '^Selector: +app=desc$' "$OUT"
	expect_match "1.$v describe: Replicas line" '^Replicas: +2 desired \| [0-9]+ updated \| [0-9]+ total \| [0-9]+ available \| [0-9]+ unavailable$' "$OUT"
	expect_match "1.$v describe: StrategyType RollingUpdate (defaulted)" '^StrategyType: +RollingUpdate$' "$OUT"
	expect_match "1.$v describe: the image" '^ +Image: +registry\.k8s\.io/pause:3\.9$' "$OUT"
	expect_ok "1.$v describe namespace" k "$v" describe namespace "$NS"
	expect_match "1.$v describe ns: Status Active" '^Status: +Active$' "$OUT"
}
kall describe

# ---- what every cluster has
if lk_wait_for 5 lk_nsexec curl -sf "$LK_URL/api/v1/namespaces/$NS/serviceaccounts/default" -o /dev/null; then
	pass "the new namespace gets a default ServiceAccount"
else
	fail "the new namespace gets a default ServiceAccount (within 5 s)"
fi
expect_ok "get sa -n kube-system" kc get sa default -n kube-system -o name
expect_eq "kube-system has one too" "serviceaccount/default" "$OUT"
expect_ok "get ns" kc get ns --no-headers
expect_eq "the four namespaces of every cluster" "default kube-node-lease kube-public kube-system" \
	"$(awk '{print $1}' <<<"$OUT" | grep -vE "^lkt-" | tr '\n' ' ' | sed 's/ $//')"
expect_ok "get endpoints kubernetes" kc get endpoints kubernetes --no-headers
expect_match "kubernetes endpoints point to the node" "^kubernetes +$LK_NODE_IP:[0-9]+ +" "$OUT"
expect_ok "get endpointslices for kubernetes" kc get endpointslices -l kubernetes.io/service-name=kubernetes --no-headers
expect_match "kubernetes endpointslice: IPv4, the node" "^kubernetes +IPv4 +[0-9]+ +$LK_NODE_IP +" "$OUT"
