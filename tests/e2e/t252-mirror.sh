#!/usr/bin/env bash
# t252: a Service without selector and its hand-written Endpoints: the
# Endpoints controller leaves them alone, the mirroring controller copies
# them into an EndpointSlice (create, update, delete), and bad endpoint IPs
# are refused with upstream's 422 messages.
. "$(dirname "$0")/lib.sh"
lk_plan $((39 + 4 * $(lk_nversions)))
lk_start

mirror_json() { kc get endpointslices -l kubernetes.io/service-name="$1" -o json; }
MIRROR='" ".join(sorted(a+"="+str(e["conditions"]["ready"]) for i in d["items"] for e in i["endpoints"] for a in e["addresses"]))'
mirrored() { mirror_json "$1" | jf "$MIRROR"; }
wait_mirror() { # wait_mirror DESC NAME WANT
	local t
	check() { [ "$(mirrored "$1")" = "$2" ]; }
	if lk_wait_for 10 check "$2" "$3"; then pass "$1"; else
		t=$(mirrored "$2"); fail "$1"; lk_diag want "$3"; lk_diag got "$t"
	fi
}

cat >"$LK_TMP/ext.yaml" <<'EOF'
apiVersion: v1
kind: Service
metadata: {name: ext}
spec:
  ports: [{name: web, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Endpoints
metadata:
  name: ext
  labels: {team: a}
  annotations: {note: kept}
subsets:
- addresses: [{ip: 192.0.2.50}, {ip: 192.0.2.51}]
  notReadyAddresses: [{ip: 192.0.2.52}]
  ports: [{name: web, port: 8080}]
EOF
expect_ok "apply service + hand-written endpoints" kc apply -f "$LK_TMP/ext.yaml"
wait_mirror "mirrored slice: addresses ready, notReadyAddresses not" ext \
	"192.0.2.50=True 192.0.2.51=True 192.0.2.52=False"
o=$(mirror_json ext)
expect_eq "one mirrored slice" "1" "$(jf 'len(d["items"])' "$o")"
expect_eq "managed-by the mirroring controller, service-name, Endpoints labels" \
	"endpointslicemirroring-controller.k8s.io ext a" \
	"$(jf '" ".join(d["items"][0]["metadata"]["labels"][k] for k in ["endpointslice.kubernetes.io/managed-by", "kubernetes.io/service-name", "team"])' "$o")"
expect_eq "annotations copied but last-applied" "kept False" \
	"$(jf 'd["items"][0]["metadata"]["annotations"]["note"]+" "+str("kubectl.kubernetes.io/last-applied-configuration" in d["items"][0]["metadata"]["annotations"])' "$o")"
expect_eq "owned by the Endpoints" "Endpoints/ext" \
	"$(jf 'd["items"][0]["metadata"]["ownerReferences"][0]["kind"]+"/"+d["items"][0]["metadata"]["ownerReferences"][0]["name"]' "$o")"
expect_eq "ports mirrored" '[{"name": "web", "port": 8080, "protocol": "TCP"}]' "$(jf 'd["items"][0]["ports"]' "$o")"
expect_match "generateName ext-" '^ext-[a-z0-9]{5}$' "$(jf 'd["items"][0]["metadata"]["name"]' "$o")"

# The Endpoints controller does not touch them. The marker: a selector
# Service created after ext gets its Endpoints from that controller.
cat >"$LK_TMP/sel.yaml" <<'EOF'
apiVersion: v1
kind: Service
metadata: {name: sel}
spec:
  selector: {app: none}
  ports: [{port: 80}]
EOF
expect_ok "create service sel (with a selector, after ext)" kc apply -f "$LK_TMP/sel.yaml"
sel_done() { kc get endpoints sel >/dev/null 2>&1; } # only the controller makes it
wait_ok "the Endpoints controller made sel's Endpoints (it got past ext)" 10 sel_done
expect_eq "Endpoints untouched (no trigger-time annotation)" "False" \
	"$(kc get endpoints ext -o json | jf 'str("endpoints.kubernetes.io/last-change-trigger-time" in d["metadata"].get("annotations", {}))')"

for v in $LK_VERSIONS; do
	expect_ok "1.$v get endpoints ext" k "$v" get endpoints ext
	expect_match "1.$v get endpoints row" '^ext +192\.0\.2\.50:8080,192\.0\.2\.51:8080 +[0-9]+s$' "$OUT"
	expect_ok "1.$v describe svc ext" k "$v" describe svc ext
	expect_match "1.$v describe svc: Endpoints" '^Endpoints: +192\.0\.2\.50:8080,192\.0\.2\.51:8080$' "$OUT"
done

# Update: the slice follows.
cat >"$LK_TMP/ext2.yaml" <<'EOF'
apiVersion: v1
kind: Endpoints
metadata: {name: ext, labels: {team: a}}
subsets:
- addresses: [{ip: 192.0.2.60}]
  ports: [{name: web, port: 8080}]
EOF
expect_ok "update the Endpoints" kc apply -f "$LK_TMP/ext2.yaml"
wait_mirror "mirrored slice follows the update" ext "192.0.2.60=True"

# skip-mirror removes the mirrored slice.
expect_ok "label skip-mirror" kc label endpoints ext endpointslice.kubernetes.io/skip-mirror=true
wait_mirror "skip-mirror: mirrored slice removed" ext ""
expect_ok "unlabel skip-mirror" kc label endpoints ext endpointslice.kubernetes.io/skip-mirror-
wait_mirror "mirrored again" ext "192.0.2.60=True"

# Deleting the Endpoints removes the slice.
expect_ok "delete the Endpoints" kc delete endpoints ext
wait_mirror "Endpoints deleted: mirrored slice deleted" ext ""

# Endpoints created before the Service are mirrored once it exists.
cat >"$LK_TMP/late.yaml" <<'EOF'
apiVersion: v1
kind: Endpoints
metadata: {name: late}
subsets:
- addresses: [{ip: 192.0.2.70}]
  ports: [{port: 9000}]
EOF
expect_ok "endpoints first" kc apply -f "$LK_TMP/late.yaml"
# The marker: Endpoints and their Service created after late, mirrored.
cat >"$LK_TMP/mark.yaml" <<'EOF'
apiVersion: v1
kind: Service
metadata: {name: mark}
spec:
  ports: [{port: 9000}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: mark}
subsets:
- addresses: [{ip: 192.0.2.71}]
  ports: [{port: 9000}]
EOF
expect_ok "then a service and endpoints mark" kc apply -f "$LK_TMP/mark.yaml"
wait_mirror "mark mirrored (the controller got past late)" mark "192.0.2.71=True"
expect_eq "no service yet: nothing mirrored" "" "$(mirrored late)"
cat >"$LK_TMP/late-svc.yaml" <<'EOF'
apiVersion: v1
kind: Service
metadata: {name: late}
spec:
  ports: [{port: 9000}]
EOF
expect_ok "then the service" kc apply -f "$LK_TMP/late-svc.yaml"
wait_mirror "mirrored once the service exists" late "192.0.2.70=True"
expect_eq "unnamed mirrored port has name \"\"" '""' \
	"$(mirror_json late | jf 'json.dumps(d["items"][0]["ports"][0]["name"])')"
expect_ok "1.33 describe svc late (unnamed port)" k 33 describe svc late
expect_match "1.33 describe svc late: Endpoints" '^Endpoints: +192\.0\.2\.70:9000$' "$OUT"

# The kubernetes Service keeps the bootstrap's slice only.
expect_eq "kubernetes: only the bootstrap slice" "kubernetes" \
	"$(kc get endpointslices -l kubernetes.io/service-name=kubernetes -o jsonpath='{.items[*].metadata.name}')"

# Bad endpoint IPs: 422 with upstream's messages.
bad_ep() { # bad_ep IP MESSAGE
	api POST /api/v1/namespaces/default/endpoints -H 'Content-Type: application/json' \
		-d "{\"metadata\":{\"name\":\"bad\"},\"subsets\":[{\"addresses\":[{\"ip\":\"$1\"}],\"ports\":[{\"port\":80}]}]}"
	expect_code "endpoints with $1: 422" 422
	expect_match "endpoints with $1: message" "$2" "$(jf 'd["message"]' "$BODY")"
}
bad_ep 127.0.0.1 'subsets\[0\]\.addresses\[0\]\.ip: Invalid value: "127\.0\.0\.1": may not be in the loopback range \(127\.0\.0\.0/8, ::1/128\)'
bad_ep 169.254.1.1 'may not be in the link-local range \(169\.254\.0\.0/16, fe80::/10\)'
bad_ep 224.0.0.5 'may not be in the link-local multicast range \(224\.0\.0\.0/24, ff02::/10\)'
api POST /apis/discovery.k8s.io/v1/namespaces/default/endpointslices -H 'Content-Type: application/json' \
	-d '{"metadata":{"name":"bad"},"addressType":"IPv4","endpoints":[{"addresses":["127.0.0.2"]}]}'
expect_code "endpointslice with a loopback address: 422" 422
expect_match "endpointslice loopback message" 'may not be in the loopback range' "$(jf 'd["message"]' "$BODY")"
cat >"$LK_TMP/bad.yaml" <<'EOF'
apiVersion: v1
kind: Endpoints
metadata: {name: bad}
subsets:
- addresses: [{ip: 127.0.0.1}]
  ports: [{port: 80}]
EOF
expect_fail "kubectl apply of a loopback endpoint fails" kc apply -f "$LK_TMP/bad.yaml"
expect_match "kubectl prints the cause" \
	'The Endpoints "bad" is invalid: subsets\[0\]\.addresses\[0\]\.ip: Invalid value: "127\.0\.0\.1": may not be in the loopback range' "$ERR"

lk_done
