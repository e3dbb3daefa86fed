#!/usr/bin/env bash
# t404: the Service status lifecycle of the conformance test (services.md
# §7: /status get, merge patch with a metadata change and an ingress,
# update adding a condition without lastTransitionTime), ingress refused on
# a non-LoadBalancer type, and externalIPs shown by kubectl.
. "$(dirname "$0")/lib.sh"
lk_plan 16
lk_start

S=/api/v1/namespaces/default/services
lk_manifest st.yaml >/dev/null <<'Y'
apiVersion: v1
kind: Service
metadata: {name: st, labels: {test-service-static: "true"}}
spec: {type: LoadBalancer, loadBalancerClass: example.com/internal-vip, ports: [{name: http, port: 80, targetPort: 8080}]}
Y
expect_ok "create LB service with its own class" kc create -f "$LK_TMP/st.yaml"
api GET "$S/st/status"
expect_code "GET /status" 200
api PATCH "$S/st/status" -H 'Content-Type: application/merge-patch+json' \
	-d '{"metadata":{"annotations":{"patchedstatus":"true"}},"status":{"loadBalancer":{"ingress":[{"ip":"203.0.113.1"}]}}}'
expect_code "merge-patch /status with an annotation and an ingress" 200
expect_eq "ingress ipMode defaults to VIP, annotation kept" "203.0.113.1 VIP true" \
	"$(jf '" ".join([d["status"]["loadBalancer"]["ingress"][0]["ip"], d["status"]["loadBalancer"]["ingress"][0]["ipMode"], d["metadata"]["annotations"]["patchedstatus"]])' "$BODY")"
printf '%s' "$BODY" | "$LK_PY" -c 'import json, sys
d = json.load(sys.stdin)
d["status"]["conditions"] = [{"type": "StatusUpdate", "status": "True", "reason": "E2E", "message": "Set from e2e test"}]
print(json.dumps(d))' >"$LK_TMP/upd.json"
api PUT "$S/st/status" -H 'Content-Type: application/json' --data-binary "@$LK_TMP/upd.json"
expect_code "update /status with a condition without lastTransitionTime" 200
expect_eq "condition stored, ingress kept" "StatusUpdate 203.0.113.1" \
	"$(curl_api "$S/st" | jf 'd["status"]["conditions"][0]["type"] + " " + d["status"]["loadBalancer"]["ingress"][0]["ip"]')"
# The marker: a plain LoadBalancer created after the status writes gets its
# ingress only once the controller has handled the writes before it.
expect_ok "create a plain LB service after the status writes" kc create service loadbalancer mark --tcp=80
mark_ip() { [ "$(curl_api "$S/mark" | jf '(d["status"]["loadBalancer"].get("ingress") or [{}])[0].get("ip", "")')" = "$LK_NODE_IP" ]; }
wait_ok "... the lab load balancer gives it the node IP" 10 mark_ip
expect_eq "the lab load balancer left the other class alone" "203.0.113.1" \
	"$(curl_api "$S/st" | jf '",".join(i["ip"] for i in d["status"]["loadBalancer"]["ingress"])')"

expect_ok "create a ClusterIP service" kc create service clusterip cip --tcp=80
api PATCH "$S/cip/status" -H 'Content-Type: application/merge-patch+json' \
	-d '{"status":{"loadBalancer":{"ingress":[{"ip":"203.0.113.2"}]}}}'
expect_code "ingress on a ClusterIP service" 422
expect_eq "its message" 'Service "cip" is invalid: status.loadBalancer.ingress: Forbidden: may only be used when `spec.type` is '"'LoadBalancer'" \
	"$(jf 'd["message"]' "$BODY")"

run kc patch svc cip -p '{"spec":{"externalIPs":["192.0.2.50"]}}'
expect_eq "add externalIPs" 0 "$RC"
run kc get svc cip --no-headers
expect_match "EXTERNAL-IP shows them" '^cip +ClusterIP +10\.[0-9.]+ +192\.0\.2\.50 +80/TCP ' "$OUT"
run kc patch svc cip -p '{"spec":{"externalIPs":["127.0.0.1"]}}'
expect_match "loopback externalIP refused" 'spec.externalIPs\[0\]: Invalid value: "127.0.0.1": may not be in the loopback range' "$ERR"
expect_ok "delete the LB service" kc delete svc st
lk_done
