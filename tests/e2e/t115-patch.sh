#!/usr/bin/env bash
# t115: PATCH in its three formats (RFC 7386 merge, RFC 6902 JSON patch,
# strategic merge with its $patch / $setElementOrder / $retainKeys /
# $deleteFromPrimitiveList directives), `kubectl patch` and optimistic
# concurrency: a stale resourceVersion gets 409 Conflict and changes nothing
# (api-machinery.md §2, §4).
. "$(dirname "$0")/lib.sh"
lk_plan $((61 + 11 * $(lk_nversions)))
lk_start

NS=lkt-patch
D=/apis/apps/v1/namespaces/$NS/deployments/pd
C=/api/v1/namespaces/$NS/configmaps
expect_ok "create namespace" kc create namespace "$NS"
api POST "/apis/apps/v1/namespaces/$NS/deployments" -H 'Content-Type: application/json' -d '
{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"pd","labels":{"app":"pd"}},
 "spec":{"replicas":1,"selector":{"matchLabels":{"app":"pd"}},
  "template":{"metadata":{"labels":{"app":"pd"}},"spec":{"containers":[
   {"name":"main","image":"registry.k8s.io/pause:3.9","ports":[{"containerPort":80}],
    "env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]}]}}}}'
expect_code "create deployment pd" 201

# The deployment controller writes status after each spec change: read the
# resourceVersion only once the controller has seen the latest spec
# (status.observedGeneration) and the resourceVersion has stopped moving.
observed_latest() {
	[ "$(curl_api "$D" | jf 'str(d.get("status", {}).get("observedGeneration") == d["metadata"]["generation"])')" = True ]
}
settled_rv() {
	local a b i
	lk_wait_for 15 observed_latest
	a=$(curl_api "$D" | jf 'd["metadata"]["resourceVersion"]')
	for i in $(seq 1 40); do
		sleep 0.25
		b=$(curl_api "$D" | jf 'd["metadata"]["resourceVersion"]')
		[ "$a" = "$b" ] && break
		a=$b
	done
	echo "$a"
}

patch() { # patch TYPE PATH BODY: PATCH with that content type
	api PATCH "$2" -H "Content-Type: application/$1" -d "$3"
}
merge() { patch merge-patch+json "$D" "$1"; }
smp() { patch strategic-merge-patch+json "$D" "$1"; }
jpatch() { patch json-patch+json "$D" "$1"; }
tpl='d["spec"]["template"]["spec"]'
cnames="\" \".join(c[\"name\"] for c in ${tpl}[\"containers\"])"
env_of_main="\" \".join(e[\"name\"] + \"=\" + e.get(\"value\", \"\") for e in [c for c in ${tpl}[\"containers\"] if c[\"name\"] == \"main\"][0].get(\"env\", []))"

# ---- merge patch
merge '{"metadata":{"labels":{"x":"1"}},"spec":{"replicas":2}}'
expect_code "merge patch: 200" 200
expect_eq "merge patch merges maps, sets replicas" '{"app": "pd", "x": "1"} 2' \
	"$(jf 'json.dumps(d["metadata"]["labels"], sort_keys=True) + " " + str(d["spec"]["replicas"])' "$BODY")"
merge '{"metadata":{"labels":{"x":null}}}'
expect_eq "merge patch: null deletes" '{"app": "pd"}' "$(jf 'd["metadata"]["labels"]' "$BODY")"
merge '{"spec":{"template":{"spec":{"containers":[{"name":"main","image":"registry.k8s.io/pause:3.10"}]}}}}'
expect_code "merge patch of a list: 200" 200
expect_eq "merge patch replaces lists whole (env and ports gone)" "main registry.k8s.io/pause:3.10 None None" \
	"$(jf "' '.join([${tpl}['containers'][0]['name'], ${tpl}['containers'][0]['image'], str(${tpl}['containers'][0].get('env')), str(${tpl}['containers'][0].get('ports'))]) + ('' if len(${tpl}['containers']) == 1 else ' +more')" "$BODY")"

# ---- strategic merge patch
smp '{"spec":{"template":{"spec":{"containers":[{"name":"main","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]}]}}}}'
expect_code "SMP: 200" 200
expect_eq "SMP merges containers by name (image kept, env added)" "main registry.k8s.io/pause:3.10 A=1 B=2" \
	"$(jf "$cnames + ' ' + ${tpl}['containers'][0]['image'] + ' ' + $env_of_main" "$BODY")"
smp '{"spec":{"template":{"spec":{"containers":[{"name":"side","image":"registry.k8s.io/pause:3.9"}]}}}}'
expect_eq "SMP adds a container by name" "main side" "$(jf "' '.join(sorted(c['name'] for c in ${tpl}['containers']))" "$BODY")"
expect_eq "SMP: a new item goes before the remaining originals" "side main" "$(jf "$cnames" "$BODY")"
smp '{"spec":{"template":{"spec":{"containers":[{"name":"main","env":[{"name":"B","value":"20"},{"name":"C","value":"3"}]}]}}}}'
expect_eq "SMP merges env by name" "A=1 B=20 C=3" \
	"$(jf "' '.join(sorted(($env_of_main).split()))" "$BODY")"
smp '{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"main"},{"name":"side"}],"containers":[{"name":"main","image":"registry.k8s.io/pause:3.9"}]}}}}'
expect_code "SMP with \$setElementOrder: 200" 200
expect_eq "\$setElementOrder orders the list" "main side" "$(jf "$cnames" "$BODY")"
expect_eq "\$setElementOrder patch still merges" "registry.k8s.io/pause:3.9" "$(jf "${tpl}['containers'][0]['image']" "$BODY")"
smp '{"spec":{"template":{"spec":{"containers":[{"name":"side","$patch":"delete"}]}}}}'
expect_eq "\$patch: delete removes a list item" "main" "$(jf "$cnames" "$BODY")"
smp '{"spec":{"template":{"spec":{"containers":[{"name":"main","env":[{"$patch":"replace"},{"name":"Z","value":"9"}]}]}}}}'
expect_eq "\$patch: replace in a list replaces it" "Z=9" "$(jf "$env_of_main" "$BODY")"
smp '{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}'
expect_code "SMP with \$retainKeys: 200" 200
expect_eq "\$retainKeys drops rollingUpdate" '{"type": "Recreate"}' "$(jf 'd["spec"]["strategy"]' "$BODY")"
RV=$(settled_rv)
smp '{"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}}'
expect_code "SMP list item without its merge key: 500 (a bare Go error upstream)" 500
expect_eq "missing merge key Status: no reason, upstream's text" \
	'500||map: map[image:x] does not contain declared merge key: name' \
	"$(jf 'str(d["code"]) + "|" + d.get("reason", "") + "|" + d["message"]' "$BODY")"
expect_eq "refused SMP changed nothing" "$RV" "$(curl_api "$D" | jf 'd["metadata"]["resourceVersion"]')"

# ConfigMap: map directives and primitive lists.
api POST "$C" -H 'Content-Type: application/json' \
	-d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"pc","labels":{"a":"1","b":"2"}},"data":{"k":"v","l":"w"}}'
expect_code "create configmap pc" 201
patch strategic-merge-patch+json "$C/pc" '{"metadata":{"labels":{"$patch":"replace","only":"this"}}}'
expect_eq "\$patch: replace in a map" '{"only": "this"}' "$(jf 'd["metadata"]["labels"]' "$BODY")"
patch strategic-merge-patch+json "$C/pc" '{"data":{"$patch":"delete"}}'
expect_code "\$patch: delete in a map: 200" 200
expect_eq "\$patch: delete empties the map" "{}" "$(jf 'd.get("data") or {}' "$BODY")"
patch merge-patch+json "$C/pc" '{"metadata":{"finalizers":["lkt.example.com/a","lkt.example.com/b"]}}'
expect_eq "finalizers set" '["lkt.example.com/a", "lkt.example.com/b"]' "$(jf 'd["metadata"]["finalizers"]' "$BODY")"
patch strategic-merge-patch+json "$C/pc" '{"metadata":{"$deleteFromPrimitiveList/finalizers":["lkt.example.com/a"]}}'
expect_eq "\$deleteFromPrimitiveList removes a value" '["lkt.example.com/b"]' "$(jf 'd["metadata"]["finalizers"]' "$BODY")"
patch strategic-merge-patch+json "$C/pc" '{"metadata":{"finalizers":["lkt.example.com/b","lkt.example.com/c"]}}'
expect_eq "SMP unions a primitive merge list" '["lkt.example.com/b", "lkt.example.com/c"]' "$(jf 'd["metadata"]["finalizers"]' "$BODY")"
patch merge-patch+json "$C/pc" '{"metadata":{"finalizers":null}}'
expect_eq "finalizers cleared" None "$(jf 'str(d["metadata"].get("finalizers"))' "$BODY")"

# ---- JSON patch
jpatch '[{"op":"replace","path":"/spec/replicas","value":3},{"op":"add","path":"/metadata/labels/y","value":"2"}]'
expect_code "JSON patch: 200" 200
expect_eq "JSON patch replace + add" '3 {"app": "pd", "y": "2"}' \
	"$(jf 'str(d["spec"]["replicas"]) + " " + json.dumps(d["metadata"]["labels"], sort_keys=True)' "$BODY")"
jpatch '[{"op":"add","path":"/metadata/labels/lkt.example.com~1k","value":"s"},{"op":"remove","path":"/metadata/labels/y"}]'
expect_eq "JSON patch: ~1 escapes /, remove" '{"app": "pd", "lkt.example.com/k": "s"}' "$(jf 'd["metadata"]["labels"]' "$BODY")"
jpatch '[{"op":"add","path":"/spec/template/spec/containers/0/env/-","value":{"name":"D","value":"4"}}]'
expect_eq "JSON patch: /- appends" "Z=9 D=4" "$(jf "$env_of_main" "$BODY")"
RV=$(settled_rv)
jpatch '[{"op":"replace","path":"/spec/replicas","value":5},{"op":"test","path":"/spec/replicas","value":99}]'
expect_code "JSON patch with a failing test: 422" 422
expect_eq "failed JSON patch changes nothing (atomic)" "3 $RV" "$(curl_api "$D" | jf 'str(d["spec"]["replicas"]) + " " + d["metadata"]["resourceVersion"]')"
jpatch '[{"op":"remove","path":"/spec/lktnothere"}]'
expect_code "JSON patch removing a missing path: 422" 422

# ---- bad patches
api PATCH "$D" -H 'Content-Type: application/json' -d '{"spec":{"replicas":9}}'
expect_code "PATCH as application/json: 415" 415
expect_eq "415 reason" UnsupportedMediaType "$(jf 'd["reason"]' "$BODY")"
expect_match "415 lists the patch types" 'accepted media types include: .*application/merge-patch\+json' "$(jf 'd["message"]' "$BODY")"
merge '{"spec":{"replicas":'
expect_code "malformed merge patch: 400" 400
merge '{"spec":{"replicas":-1}}'
expect_code "patch that makes the object invalid: 422" 422
expect_match "invalid after patch: spec.replicas" 'spec\.replicas: Invalid value: -1' "$(jf 'd["message"]' "$BODY")"
patch merge-patch+json "/apis/apps/v1/namespaces/$NS/deployments/nope" '{"spec":{"replicas":1}}'
expect_code "patch of a missing object: 404" 404
merge '{"metadata":{"resourceVersion":"1"},"spec":{"replicas":4}}'
expect_code "patch with a stale resourceVersion: 409" 409
expect_eq "stale patch changed nothing" "3 $RV" "$(curl_api "$D" | jf 'str(d["spec"]["replicas"]) + " " + d["metadata"]["resourceVersion"]')"

# ---- /scale
api GET "$D/scale"
expect_code "GET /scale" 200
expect_eq "Scale object" "Scale autoscaling/v1 pd 3 app=pd" \
	"$(jf '" ".join([d["kind"], d["apiVersion"], d["metadata"]["name"], str(d["spec"]["replicas"]), d["status"]["selector"]])' "$BODY")"

# ---- optimistic concurrency (PUT)
api POST "$C" -H 'Content-Type: application/json' -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"oc"},"data":{"v":"0"}}'
expect_code "create configmap oc" 201
RV0=$(jf 'd["metadata"]["resourceVersion"]' "$BODY")
put() { # put RV VALUE
	api PUT "$C/oc" -H 'Content-Type: application/json' \
		-d "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"oc\",\"resourceVersion\":\"$1\"},\"data\":{\"v\":\"$2\"}}"
}
put "$RV0" 1
expect_code "PUT with the current resourceVersion: 200" 200
RV1=$(jf 'd["metadata"]["resourceVersion"]' "$BODY")
expect_gt "PUT bumps resourceVersion" "$RV1" "$RV0"
put "$RV0" 2
expect_code "PUT with a stale resourceVersion: 409" 409
expect_eq "409 Conflict Status" \
	'Conflict 409 Operation cannot be fulfilled on configmaps "oc": the object has been modified; please apply your changes to the latest version and try again' \
	"$(jf 'd["reason"] + " " + str(d["code"]) + " " + d["message"]' "$BODY")"
expect_eq "stale PUT changed nothing" "1 $RV1" "$(curl_api "$C/oc" | jf 'd["data"]["v"] + " " + d["metadata"]["resourceVersion"]')"
put "$RV1" 3
expect_code "PUT with the new resourceVersion: 200" 200
f=$(lk_manifest oc.yaml <<EOF
apiVersion: v1
kind: ConfigMap
metadata:
  name: oc
  namespace: $NS
  resourceVersion: "$RV0"
data:
  v: "4"
EOF
)
expect_fail "kubectl replace with a stale resourceVersion" kc replace -f "$f"
expect_eq "kubectl prints the Conflict" \
	"Error from server (Conflict): error when replacing \"$f\": Operation cannot be fulfilled on configmaps \"oc\": the object has been modified; please apply your changes to the latest version and try again" "$ERR"
api PUT "$D" -H 'Content-Type: application/json' -d "$(curl_api "$D" | jf 'd["metadata"].update(resourceVersion="'"$RV0"'") or d')"
expect_code "stale PUT of a deployment: 409" 409
expect_match "deployments.apps in the conflict message" '^Operation cannot be fulfilled on deployments\.apps "pd": the object has been modified' "$(jf 'd["message"]' "$BODY")"

# ---- kubectl patch
kpatch() {
	local v=$1 rv
	expect_ok "1.$v patch (strategic)" k "$v" -n "$NS" patch deployment pd -p "{\"spec\":{\"replicas\":$((v - 20))}}"
	expect_eq "1.$v patch prints patched" "deployment.apps/pd patched" "$OUT"
	rv=$(settled_rv)
	expect_ok "1.$v the same patch again" k "$v" -n "$NS" patch deployment pd -p "{\"spec\":{\"replicas\":$((v - 20))}}"
	expect_eq "1.$v no-op patch prints (no change)" "deployment.apps/pd patched (no change)" "$OUT"
	expect_eq "1.$v no-op patch keeps resourceVersion" "$rv" "$(curl_api "$D" | jf 'd["metadata"]["resourceVersion"]')"
	expect_ok "1.$v patch --type=merge" k "$v" -n "$NS" patch configmap pc --type=merge -p "{\"data\":{\"v$v\":\"x\"}}"
	expect_eq "1.$v merge patch prints patched" "configmap/pc patched" "$OUT"
	expect_ok "1.$v patch --type=json" k "$v" -n "$NS" patch configmap pc --type=json -p "[{\"op\":\"remove\",\"path\":\"/data/v$v\"}]"
	expect_eq "1.$v json patch prints patched" "configmap/pc patched" "$OUT"
	expect_fail "1.$v patch with a failing test op" k "$v" -n "$NS" patch configmap pc --type=json -p '[{"op":"test","path":"/data/none","value":"x"}]'
	expect_match "1.$v failing JSON patch: The request is invalid" '^The request is invalid' "$ERR"
}
kall kpatch
expect_ok "replicas after kubectl patch" kc -n "$NS" get deploy pd -o 'jsonpath={.spec.replicas}'
expect_eq "replicas = 13 (1.33 patched last)" 13 "$OUT"
