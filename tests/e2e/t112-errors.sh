#!/usr/bin/env bash
# t112: errors as kubectl prints them (metav1.Status with reason and details,
# kubectl-wire.md §9, api-machinery.md §4), and the raw HTTP answers to bad
# requests: malformed JSON, a body over 3 MiB, an unknown resource, a wrong
# method, an unknown media type. After each, the store is unchanged.
. "$(dirname "$0")/lib.sh"
lk_plan $((51 + 22 * $(lk_nversions)))
lk_start

NS=lkt-err
CM=/api/v1/namespaces/$NS/configmaps
expect_ok "create namespace $NS" kc create namespace "$NS"
expect_ok "seed a configmap" kc -n "$NS" create configmap keep --from-literal=k=v
expect_ok "seed a deployment" kc -n "$NS" create deployment dup --image=registry.k8s.io/pause:3.9
expect_ok "seed a service" kc -n "$NS" create service clusterip dupsvc --tcp=80

snapshot() { # every object of ours in $NS with its resourceVersion
	local r
	for r in "$CM" "/api/v1/namespaces/$NS/services" "/apis/apps/v1/namespaces/$NS/deployments"; do
		curl_api "$r" | jf '"\n".join(sorted(i["metadata"]["name"] + "@" + i["metadata"]["resourceVersion"] for i in d["items"] if i["metadata"]["name"] != "kube-root-ca.crt"))'
	done
}
SNAP=$(snapshot)
expect_match "snapshot lists the seeded objects" '^keep@[0-9]+$' "$SNAP"
unchanged() { expect_eq "store unchanged after: $1" "$SNAP" "$(snapshot)"; }

# ---- AlreadyExists
already() {
	local v=$1
	expect_fail "1.$v create deployment twice" k "$v" -n "$NS" create deployment dup --image=x
	expect_eq "1.$v AlreadyExists (create deployment)" \
		'error: failed to create deployment: deployments.apps "dup" already exists' "$ERR"
	expect_fail "1.$v create configmap twice" k "$v" -n "$NS" create configmap keep
	expect_eq "1.$v AlreadyExists (create configmap)" \
		'error: failed to create configmap: configmaps "keep" already exists' "$ERR"
	expect_fail "1.$v create service twice" k "$v" -n "$NS" create service clusterip dupsvc --tcp=80
	expect_eq "1.$v AlreadyExists (create service)" \
		'error: failed to create ClusterIP service: services "dupsvc" already exists' "$ERR"
	expect_fail "1.$v create namespace twice" k "$v" create namespace "$NS"
	expect_eq "1.$v AlreadyExists (create namespace)" \
		"Error from server (AlreadyExists): namespaces \"$NS\" already exists" "$ERR"
}
kall already
f=$(lk_manifest keep.yaml <<EOF
apiVersion: v1
kind: ConfigMap
metadata:
  name: keep
  namespace: $NS
data:
  other: value
EOF
)
expect_fail "create -f of an existing object" kc create -f "$f"
expect_eq "AlreadyExists (create -f)" \
	"Error from server (AlreadyExists): error when creating \"$f\": configmaps \"keep\" already exists" "$ERR"
api POST "$CM" -H 'Content-Type: application/json' -d "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"keep\"}}"
expect_code "POST existing: 409" 409
expect_eq "409 Status body" \
	"Status Failure AlreadyExists 409 configmaps \"keep\" already exists {\"kind\": \"configmaps\", \"name\": \"keep\"}" \
	"$(jf '" ".join([d["kind"], d["status"], d["reason"], str(d["code"]), d["message"], json.dumps(d["details"], sort_keys=True)])' "$BODY")"
unchanged "AlreadyExists"

# ---- NotFound (not named notfound: that is lib.sh's predicate)
missing() {
	local v=$1
	expect_fail "1.$v get missing service" k "$v" -n "$NS" get svc nope
	expect_eq "1.$v NotFound (svc)" 'Error from server (NotFound): services "nope" not found' "$ERR"
	expect_fail "1.$v get missing deployment -o yaml" k "$v" -n "$NS" get deploy nope -o yaml
	expect_eq "1.$v NotFound (deployments.apps)" 'Error from server (NotFound): deployments.apps "nope" not found' "$ERR"
	expect_fail "1.$v delete missing configmap" k "$v" -n "$NS" delete cm nope
	expect_eq "1.$v NotFound (delete cm)" 'Error from server (NotFound): configmaps "nope" not found' "$ERR"
	expect_fail "1.$v describe missing deployment" k "$v" -n "$NS" describe deploy nope
	expect_eq "1.$v NotFound (describe)" 'Error from server (NotFound): deployments.apps "nope" not found' "$ERR"
	expect_fail "1.$v create in a missing namespace" k "$v" -n lkt-missing create configmap x
	expect_eq "1.$v NotFound (namespace)" 'error: failed to create configmap: namespaces "lkt-missing" not found' "$ERR"
}
kall missing
api GET "/apis/apps/v1/namespaces/$NS/deployments/nope"
expect_code "GET missing: 404" 404
expect_eq "404 Status body" \
	'Status Failure NotFound 404 deployments.apps "nope" not found {"group": "apps", "kind": "deployments", "name": "nope"}' \
	"$(jf '" ".join([d["kind"], d["status"], d["reason"], str(d["code"]), d["message"], json.dumps(d["details"], sort_keys=True)])' "$BODY")"
expect_match "404 Status is JSON" '^application/json' "$CTYPE"
unchanged "NotFound"

# ---- Invalid (422)
f=$(lk_manifest badname.yaml <<EOF
apiVersion: v1
kind: Service
metadata:
  name: Bad_Name
  namespace: $NS
spec:
  ports:
  - port: 80
  - port: 70000
EOF
)
invalid() {
	local v=$1
	expect_fail "1.$v create -f of an invalid Service" k "$v" create -f "$f"
	expect_match "1.$v Invalid header" '^The Service "Bad_Name" is invalid: ?$' "$ERR"
	expect_line "1.$v cause: metadata.name (DNS-1035)" \
		"* metadata.name: Invalid value: \"Bad_Name\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')" "$ERR"
	expect_line "1.$v cause: spec.ports[1].port" \
		'* spec.ports[1].port: Invalid value: 70000: must be between 1 and 65535, inclusive' "$ERR"
}
kall invalid
f=$(lk_manifest badcm.yaml <<EOF
apiVersion: v1
kind: ConfigMap
metadata:
  name: Bad_Name
  namespace: $NS
EOF
)
expect_fail "create -f of an invalid ConfigMap name" kc create -f "$f"
expect_eq "one cause on one line" \
	"The ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')" "$ERR"
f=$(lk_manifest neg.yaml <<EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: neg
  namespace: $NS
spec:
  replicas: -1
  selector:
    matchLabels: {app: neg}
  template:
    metadata:
      labels: {app: neg}
    spec:
      containers:
      - name: c
        image: registry.k8s.io/pause:3.9
EOF
)
expect_fail "apply of a Deployment with replicas -1" kc apply -f "$f"
expect_eq "Invalid: spec.replicas" \
	'The Deployment "neg" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0' "$ERR"
api POST "$CM" -H 'Content-Type: application/json' -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Bad_Name"}}'
expect_code "POST invalid: 422" 422
expect_eq "422 Status: reason, details.kind/name, cause field" \
	'Invalid 422 ConfigMap Bad_Name FieldValueInvalid metadata.name' \
	"$(jf '" ".join([d["reason"], str(d["code"]), d["details"]["kind"], d["details"]["name"], d["details"]["causes"][0]["reason"], d["details"]["causes"][0]["field"]])' "$BODY")"
expect_match "422 message: <Kind> \"<name>\" is invalid: <field>: ..." \
	'^ConfigMap "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain' "$(jf 'd["message"]' "$BODY")"
api POST "$CM" -H 'Content-Type: application/json' -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{}}'
expect_code "POST without a name: 422" 422
expect_match "no name: Required value" 'metadata\.name: Required value: name or generateName is required' "$(jf 'd["message"]' "$BODY")"
api POST "$CM" -H 'Content-Type: application/json' \
	-d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","namespace":"lkt-other"}}'
expect_code "POST with another namespace in the body: 400" 400
expect_eq "namespace mismatch message" \
	'the namespace of the provided object does not match the namespace sent on the request' "$(jf 'd["message"]' "$BODY")"
api PUT "$CM/keep" -H 'Content-Type: application/json' \
	-d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"other"}}'
expect_code "PUT with another name in the body: 400" 400
expect_eq "name mismatch message" \
	'the name of the object (other) does not match the name on the URL (keep)' "$(jf 'd["message"]' "$BODY")"
unchanged "Invalid"

# ---- malformed bodies, media types, sizes
api POST "$CM" -H 'Content-Type: application/json' -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"'
expect_code "malformed JSON: 400" 400
expect_eq "malformed JSON: Status BadRequest" "Status Failure BadRequest 400" \
	"$(jf '" ".join([d["kind"], d["status"], d["reason"], str(d["code"])])' "$BODY")"
api POST "$CM" -H 'Content-Type: application/json' -d '[1,2,3]'
expect_code "a JSON array is not an object: 400" 400
expect_eq "a JSON array: Status BadRequest" "Status BadRequest 400" "$(jf 'd["kind"] + " " + d["reason"] + " " + str(d["code"])' "$BODY")"
api POST "$CM" -H 'Content-Type: text/plain' -d 'name: x'
expect_code "unknown media type: 415" 415
expect_eq "415 Status reason" UnsupportedMediaType "$(jf 'd["reason"]' "$BODY")"
"$LK_PY" -c '
import json, sys
json.dump({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "huge"},
           "data": {"k": "x" * (3 * 1024 * 1024 + 1024)}}, open(sys.argv[1], "w"))' "$LK_TMP/huge.json"
api POST "$CM" -H 'Content-Type: application/json' --data-binary @"$LK_TMP/huge.json"
expect_code "body over 3 MiB: 413" 413
expect_eq "413 Status reason" "Status RequestEntityTooLarge 413" "$(jf 'd["kind"] + " " + d["reason"] + " " + str(d["code"])' "$BODY")"
api GET "$CM/huge"
expect_code "the huge object was not stored" 404
"$LK_PY" -c '
import json, sys
json.dump({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"},
           "data": {"k": "x" * (900 * 1024)}}, open(sys.argv[1], "w"))' "$LK_TMP/big.json"
api POST "$CM" -H 'Content-Type: application/json' --data-binary @"$LK_TMP/big.json"
expect_code "a 900 KiB object is fine: 201" 201
api DELETE "$CM/big"
expect_code "delete it" 200
unchanged "bad bodies"

# ---- unknown resources and wrong methods
api GET "/api/v1/namespaces/$NS/lktfoos"
expect_code "unknown resource: 404" 404
expect_eq "unknown resource: Status NotFound" "Status NotFound 404" "$(jf 'd["kind"] + " " + d["reason"] + " " + str(d["code"])' "$BODY")"
api POST "/api/v1/namespaces/$NS/lktfoos" -H 'Content-Type: application/json' -d '{}'
expect_code "POST to an unknown resource: 404" 404
api GET "/apis/apps/v1/namespaces/$NS/lktfoos/x"
expect_code "unknown apps resource: 404" 404
api PUT "$CM" -H 'Content-Type: application/json' -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}'
expect_code "PUT on a collection: 405" 405
expect_eq "405 Status reason" "Status MethodNotAllowed 405" "$(jf 'd["kind"] + " " + d["reason"] + " " + str(d["code"])' "$BODY")"
api POST "$CM/keep" -H 'Content-Type: application/json' -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"keep"}}'
expect_code "POST on an object: 405" 405
expect_eq "POST on an object: Status MethodNotAllowed" "Status MethodNotAllowed 405" "$(jf 'd["kind"] + " " + d["reason"] + " " + str(d["code"])' "$BODY")"
expect_fail "kubectl get of an unknown type" kc get lktfoos
expect_eq "unknown type message" "error: the server doesn't have a resource type \"lktfoos\"" "$ERR"
unchanged "unknown resources and wrong methods"
