#!/usr/bin/env bash
# t114: label selectors (=, ==, !=, in, notin, exists, !key) and field
# selectors (metadata.name/namespace everywhere, involvedObject.* on events,
# status.phase and spec.nodeName on pods), with kubectl and raw lists; a bad
# field selector gets a 400 with upstream's words (api-machinery.md §3).
. "$(dirname "$0")/lib.sh"
lk_plan $((36 + 24 * $(lk_nversions)))
lk_start

NS=lkt-sel
expect_ok "create namespace" kc create namespace "$NS"
cm() { # cm NAME LABELS...: a configmap labelled lkt=1 plus LABELS
	local name=$1; shift
	expect_ok "create cm $name" kc -n "$NS" create configmap "$name" || return
	expect_ok "label cm $name" kc -n "$NS" label configmap "$name" lkt=1 "$@"
}
cm a app=web tier=front
cm b app=web tier=back
cm c app=db
cm d env=prod

names() { # names VERSION SELECTOR-ARGS...: matching names, space-separated
	local v=$1; shift
	run k "$v" -n "$NS" get cm "$@" -o name
	[ "$RC" -eq 0 ] || { echo "<exit $RC: $ERR>"; return; }
	sed 's|^configmap/||' <<<"$OUT" | sort | tr '\n' ' ' | sed 's/ $//'
}
labels() {
	local v=$1
	expect_eq "1.$v -l app=web" "a b" "$(names "$v" -l lkt=1,app=web)"
	expect_eq "1.$v -l app==web" "a b" "$(names "$v" -l 'lkt=1,app==web')"
	expect_eq "1.$v -l app!=web (missing key matches)" "c d" "$(names "$v" -l 'lkt=1,app!=web')"
	expect_eq "1.$v -l 'tier in (front,back)'" "a b" "$(names "$v" -l 'lkt=1,tier in (front,back)')"
	expect_eq "1.$v -l 'tier notin (front)' (missing key matches)" "b c d" "$(names "$v" -l 'lkt=1,tier notin (front)')"
	expect_eq "1.$v -l tier (exists)" "a b" "$(names "$v" -l 'lkt=1,tier')"
	expect_eq "1.$v -l '!tier' (does not exist)" "c d" "$(names "$v" -l 'lkt=1,!tier')"
	expect_eq "1.$v -l app=web,tier!=front" "b" "$(names "$v" -l 'lkt=1,app=web,tier!=front')"
	expect_eq "1.$v -l 'app in (web,db),!env'" "a b c" "$(names "$v" -l 'lkt=1,app in (web,db),!env')"
	run k "$v" -n "$NS" get cm -l app=nothing
	expect_eq "1.$v no match: No resources found" "No resources found in $NS namespace." "$ERR"
	expect_ok "1.$v -l with the table printer" k "$v" -n "$NS" get cm -l app=web
	expect_eq "1.$v -l table rows" "a b" "$(awk 'NR > 1 {printf "%s%s", s, $1; s=" "}' <<<"$OUT")"
}
kall labels

fields() {
	local v=$1
	expect_eq "1.$v --field-selector metadata.name=a" "a" "$(names "$v" --field-selector metadata.name=a)"
	expect_eq "1.$v --field-selector metadata.name==b" "b" "$(names "$v" --field-selector metadata.name==b)"
	expect_eq "1.$v --field-selector metadata.name!=a with -l" "b c d" \
		"$(names "$v" -l lkt=1 --field-selector metadata.name!=a)"
	expect_eq "1.$v metadata.name and metadata.namespace" "c" \
		"$(names "$v" --field-selector "metadata.name=c,metadata.namespace=$NS")"
	expect_eq "1.$v -A --field-selector metadata.namespace" "a b c d" \
		"$(names "$v" -A -l lkt=1 --field-selector "metadata.namespace=$NS")"
	expect_eq "1.$v -A, other namespace: none" "" \
		"$(names "$v" -A -l lkt=1 --field-selector metadata.namespace=default)"
}
kall fields

# Events: involvedObject.*, reason, type.
ev() { # ev NAME KIND OBJ REASON TYPE
	cat <<EOF
{"apiVersion":"v1","kind":"Event","metadata":{"name":"$1","namespace":"$NS"},
 "involvedObject":{"kind":"$2","name":"$3","namespace":"$NS","apiVersion":"v1","uid":"00000000-0000-4000-8000-00000000000${1: -1}"},
 "reason":"$4","type":"$5","message":"lkt test event $1","source":{"component":"lkt"},
 "firstTimestamp":"2024-01-01T00:00:00Z","lastTimestamp":"2024-01-01T00:00:00Z","count":1}
EOF
}
for e in "ev1 Pod p1 Scheduled Normal" "ev2 Deployment d1 ScalingReplicaSet Normal" "ev3 Pod p2 BackOff Warning"; do
	set -- $e
	api POST "/api/v1/namespaces/$NS/events" -H 'Content-Type: application/json' -d "$(ev "$@")"
	expect_code "create event $1" 201
done
evnames() {
	run kc -n "$NS" get events --field-selector "$1" -o name
	[ "$RC" -eq 0 ] || { echo "<exit $RC: $ERR>"; return; }
	sed 's|^event/||' <<<"$OUT" | sort | tr '\n' ' ' | sed 's/ $//'
}
expect_eq "events involvedObject.kind=Pod" "ev1 ev3" "$(evnames involvedObject.kind=Pod)"
expect_eq "events involvedObject.name=d1" "ev2" "$(evnames involvedObject.name=d1)"
expect_eq "events involvedObject.kind=Pod,involvedObject.name=p2" "ev3" "$(evnames involvedObject.kind=Pod,involvedObject.name=p2)"
expect_eq "events involvedObject.uid" "ev2" "$(evnames involvedObject.uid=00000000-0000-4000-8000-000000000002)"
expect_eq "events involvedObject.namespace" "ev1 ev2 ev3" "$(evnames "involvedObject.namespace=$NS")"
expect_eq "events reason=BackOff" "ev3" "$(evnames reason=BackOff)"
expect_eq "events type!=Normal" "ev3" "$(evnames type!=Normal)"
expect_ok "get events table" kc -n "$NS" get events --field-selector involvedObject.name=p1
expect_match "events table: LAST SEEN TYPE REASON OBJECT MESSAGE" '^LAST SEEN +TYPE +REASON +OBJECT +MESSAGE$' "$OUT"
expect_match "events table row" '^[0-9a-z]+ +Normal +Scheduled +pod/p1 +lkt test event ev1$' "$OUT"

# Pods: status.phase and spec.nodeName (bound to a node that does not exist,
# so nothing runs them and they stay Pending).
for p in p1 p2; do
	api POST "/api/v1/namespaces/$NS/pods" -H 'Content-Type: application/json' \
		-d "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"$p\"},\"spec\":{\"nodeName\":\"lkt-nowhere-$p\",\"containers\":[{\"name\":\"c\",\"image\":\"registry.k8s.io/pause:3.9\"}]}}"
	expect_code "create pod $p" 201
done
podnames() {
	run kc -n "$NS" get pods --field-selector "$1" -o name
	[ "$RC" -eq 0 ] || { echo "<exit $RC: $ERR>"; return; }
	sed 's|^pod/||' <<<"$OUT" | sort | tr '\n' ' ' | sed 's/ $//'
}
expect_eq "pods status.phase=Pending" "p1 p2" "$(podnames status.phase=Pending)"
expect_eq "pods status.phase=Running: none" "" "$(podnames status.phase=Running)"
expect_eq "pods status.phase!=Failed,status.phase!=Succeeded" "p1 p2" "$(podnames 'status.phase!=Failed,status.phase!=Succeeded')"
expect_eq "pods spec.nodeName" "p2" "$(podnames spec.nodeName=lkt-nowhere-p2)"
run kc -n "$NS" get pods --field-selector status.phase=Running
expect_eq "no pod Running: No resources found" "No resources found in $NS namespace." "$ERR"

# Raw lists.
api GET "/api/v1/namespaces/$NS/configmaps?labelSelector=app%20in%20(web)&fieldSelector=metadata.name%21%3Da"
expect_code "raw list with both selectors" 200
expect_eq "raw list: ConfigMapList with b" "ConfigMapList b" "$(jf 'd["kind"] + " " + " ".join(i["metadata"]["name"] for i in d["items"])' "$BODY")"
api GET "/api/v1/namespaces/$NS/configmaps?labelSelector=app%3Dnothing"
expect_eq "raw list, no match: items is []" "[]" "$(jf 'd["items"]' "$BODY")"

# Bad selectors.
bad() {
	local v=$1
	expect_fail "1.$v unsupported field selector on configmaps" k "$v" -n "$NS" get cm --field-selector spec.foo=x
	expect_eq "1.$v configmaps: not a known field selector" \
		"Error from server (BadRequest): Unable to find \"/v1, Resource=configmaps\" that match label selector \"\", field selector \"spec.foo=x\": \"spec.foo\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"" "$ERR"
	expect_fail "1.$v unsupported field selector on pods" k "$v" -n "$NS" get pods --field-selector spec.foo=x
	expect_eq "1.$v pods: field label not supported" \
		"Error from server (BadRequest): Unable to find \"/v1, Resource=pods\" that match label selector \"\", field selector \"spec.foo=x\": field label not supported: spec.foo" "$ERR"
	expect_fail "1.$v deployments: status.replicas is not a field selector" k "$v" -n "$NS" get deploy --field-selector status.replicas=1
	expect_match "1.$v deployments error names the resource" \
		'^Error from server \(BadRequest\): Unable to find "apps/v1, Resource=deployments" that match label selector "", field selector "status\.replicas=1": "status\.replicas" is not a known field selector' "$ERR"
}
kall bad
api GET "/api/v1/namespaces/$NS/configmaps?fieldSelector=spec.foo%3Dx"
expect_code "raw bad field selector: 400" 400
expect_eq "raw 400: BadRequest and upstream message" \
	'BadRequest "spec.foo" is not a known field selector: only "metadata.name", "metadata.namespace"' \
	"$(jf 'd["reason"] + " " + d["message"]' "$BODY")"
api GET "/api/v1/namespaces/$NS/configmaps?labelSelector=a%20b%20c"
expect_code "raw unparsable label selector: 400" 400
expect_eq "label selector 400 reason" BadRequest "$(jf 'd["reason"]' "$BODY")"
