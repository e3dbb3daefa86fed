#!/usr/bin/env bash
# t402: Service type changes as upstream and the conformance tests do them
# (services.md §3 and §7): the client sends back the object it read, with
# the old node ports and cluster IP, and only the type changed; allocations
# follow the type (kept, allocated or released).
. "$(dirname "$0")/lib.sh"
lk_plan 26
lk_start

svc() { curl_api "/api/v1/namespaces/default/services/$1"; }
# retype NAME JSON-PY-EXPR: GET, change with Python, PUT back (as client-go does)
put_back() {
	svc "$1" | "$LK_PY" -c "
import json, sys
d = json.load(sys.stdin)
$2
print(json.dumps(d))" >"$LK_TMP/put.json"
	api PUT "/api/v1/namespaces/default/services/$1" -H 'Content-Type: application/json' \
		--data-binary "@$LK_TMP/put.json"
}

expect_ok "create NodePort service" kc create service nodeport t --tcp=80:8080
IP=$(svc t | jf 'd["spec"]["clusterIP"]')
NP=$(svc t | jf 'd["spec"]["ports"][0]["nodePort"]')

put_back t 'd["spec"]["type"] = "ClusterIP"'
expect_code "NodePort -> ClusterIP with the old nodePort sent back" 200
expect_eq "node port dropped, IP kept, eTP dropped" "0 $IP None" \
	"$(svc t | jf '" ".join([str(d["spec"]["ports"][0].get("nodePort", 0)), d["spec"]["clusterIP"], str(d["spec"].get("externalTrafficPolicy"))])')"
mk_np() { printf 'apiVersion: v1\nkind: Service\nmetadata: {name: %s}\nspec: {type: NodePort, ports: [{port: 80, nodePort: %s}]}\n' "$1" "$2" >"$LK_TMP/$1.yaml"; }
mk_np reuse "$NP"
expect_ok "the released node port is free" kc create -f "$LK_TMP/reuse.yaml"
expect_ok "delete it again" kc delete svc reuse

put_back t 'd["spec"]["type"] = "NodePort"'
expect_code "ClusterIP -> NodePort" 200
NP2=$(svc t | jf 'd["spec"]["ports"][0]["nodePort"]')
expect_match "a node port is allocated" '^3[0-9]{4}$' "$NP2"

put_back t 'd["spec"]["type"] = "ExternalName"; d["spec"]["externalName"] = "example.com"'
expect_code "NodePort -> ExternalName with IP and node port sent back" 200
expect_eq "no IP, families, policy or node port" "None None None None 0" \
	"$(svc t | jf '" ".join([str(d["spec"].get(k)) for k in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy")] + [str(d["spec"]["ports"][0].get("nodePort", 0))])')"
mk_np reuse2 "$NP2"
expect_ok "the node port was released" kc create -f "$LK_TMP/reuse2.yaml"
printf 'apiVersion: v1\nkind: Service\nmetadata: {name: ipreuse}\nspec: {clusterIP: %s, ports: [{port: 80}]}\n' "$IP" >"$LK_TMP/ipreuse.yaml"
expect_ok "the cluster IP was released" kc create -f "$LK_TMP/ipreuse.yaml"
expect_ok "delete it" kc delete svc ipreuse

put_back t 'd["spec"]["type"] = "ClusterIP"; d["spec"].pop("externalName")'
expect_code "ExternalName -> ClusterIP" 200
NEWIP=$(svc t | jf 'd["spec"]["clusterIP"]')
expect_match "a cluster IP is allocated" '^10\.' "$NEWIP"
expect_eq "clusterIPs follows" "[\"$NEWIP\"]" "$(svc t | jf 'json.dumps(d["spec"]["clusterIPs"])')"

put_back t 'd["spec"]["type"] = "LoadBalancer"'
expect_code "ClusterIP -> LoadBalancer" 200
lbip() { [ "$(svc t | jf '(d["status"]["loadBalancer"].get("ingress") or [{}])[0].get("ip", "")')" = "$LK_NODE_IP" ]; }
if lk_wait_for 10 lbip; then pass "ingress = node IP"; else fail "ingress = node IP" "$(svc t)"; fi
run kc patch svc t -p '{"spec":{"type":"ClusterIP"}}'
expect_eq "kubectl patch LoadBalancer -> ClusterIP" 0 "$RC"
expect_eq "LB status cleared, node port and allocateLoadBalancerNodePorts dropped" "{} 0 None" \
	"$(svc t | jf '" ".join([json.dumps(d["status"]["loadBalancer"]), str(d["spec"]["ports"][0].get("nodePort", 0)), str(d["spec"].get("allocateLoadBalancerNodePorts"))])')"
run kc get svc t --no-headers
expect_match "get svc after the changes" "^t +ClusterIP +$NEWIP +<none> +80/TCP " "$OUT"

# Re-applying the original manifest keeps the allocated values
# (patchAllocatedValues): no clusterIP and no nodePort in the file.
lk_manifest app.yaml >/dev/null <<'Y'
apiVersion: v1
kind: Service
metadata: {name: app}
spec: {type: NodePort, selector: {app: a}, ports: [{name: http, port: 80}]}
Y
expect_ok "apply" kc apply -f "$LK_TMP/app.yaml"
A1=$(svc app | jf 'd["spec"]["clusterIP"] + " " + str(d["spec"]["ports"][0]["nodePort"])')
expect_ok "replace with the same file" kc replace -f "$LK_TMP/app.yaml"
expect_eq "replace keeps IP and node port" "$A1" "$(svc app | jf 'd["spec"]["clusterIP"] + " " + str(d["spec"]["ports"][0]["nodePort"])')"

# Delete takes the Endpoints with it.
wait_ok "app has its Endpoints" 10 curl_api /api/v1/namespaces/default/endpoints/app -f -o /dev/null
expect_ok "delete app" kc delete svc app
wait_ok "its Endpoints went with it (404 NotFound)" 10 api_notfound /api/v1/namespaces/default/endpoints/app
lk_done
