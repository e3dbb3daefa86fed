#!/usr/bin/env bash
# t400: Service allocation as kubectl users see it (issue 4): `kubectl expose
# --type=NodePort` gets a cluster IP in 10.96.0.0/12 and a node port in
# 30000-32767; ExternalName and headless services get no IP; a LoadBalancer
# shows the node IP as EXTERNAL-IP (the lab-local load balancer). Only API
# behaviour: no traffic goes through a service here (the proxy's tests do).
. "$(dirname "$0")/lib.sh"
lk_plan $((23 + 2 * $(lk_nversions)))
lk_start

in_cidr() { "$LK_PY" -c 'import ipaddress,sys; sys.exit(0 if ipaddress.ip_address(sys.argv[1]) in ipaddress.ip_network("10.96.0.0/12") else 1)' "$1"; }
svc() { curl_api "/api/v1/namespaces/default/services/$1"; }

expect_ok "create deployment" kc create deployment hello --image=registry.k8s.io/pause:3.9 --replicas=1
expect_ok "expose --type=NodePort" kc expose deployment hello --type=NodePort --port=8080 --name=example-service
expect_eq "expose prints" "service/example-service exposed" "$OUT"
IP=$(svc example-service | jf 'd["spec"]["clusterIP"]')
NP=$(svc example-service | jf 'd["spec"]["ports"][0]["nodePort"]')
if in_cidr "$IP"; then pass "cluster IP $IP in 10.96.0.0/12"; else fail "cluster IP $IP in 10.96.0.0/12"; fi
if [ "$NP" -ge 30000 ] && [ "$NP" -le 32767 ]; then pass "node port $NP in 30000-32767"; else fail "node port '$NP' in range"; fi
expect_eq "clusterIPs = [clusterIP]" "[\"$IP\"]" "$(svc example-service | jf 'json.dumps(d["spec"]["clusterIPs"])')"
expect_eq "families and policy" "IPv4 SingleStack Cluster Cluster" \
	"$(svc example-service | jf '" ".join([d["spec"]["ipFamilies"][0], d["spec"]["ipFamilyPolicy"], d["spec"]["externalTrafficPolicy"], d["spec"]["internalTrafficPolicy"]])')"
getsvc() {
	run k "$1" get svc example-service --no-headers
	expect_match "kubectl 1.$1 get svc: TYPE, CLUSTER-IP, PORT(S)" \
		"^example-service +NodePort +$IP +<none> +8080:$NP/TCP " "$OUT"
}
kall getsvc

expect_ok "create ExternalName service" kc create service externalname ext --external-name=example.com
run kc get svc ext --no-headers
expect_match "ExternalName: no cluster IP, EXTERNAL-IP is the name" '^ext +ExternalName +<none> +example.com +<none> ' "$OUT"
expect_eq "ExternalName has no clusterIP(s) or families" "None None None" \
	"$(svc ext | jf '" ".join(str(d["spec"].get(k)) for k in ("clusterIP", "clusterIPs", "ipFamilies"))')"

expect_ok "create headless service" kc create service clusterip hl --clusterip=None --tcp=80
run kc get svc hl --no-headers
expect_match "headless: CLUSTER-IP None" '^hl +ClusterIP +None +<none> +80/TCP ' "$OUT"

expect_ok "create LoadBalancer service" kc create service loadbalancer lb --tcp=80:8080
lbip() { [ "$(svc lb | jf '(d["status"]["loadBalancer"].get("ingress") or [{}])[0].get("ip", "")')" = "$LK_NODE_IP" ]; }
if lk_wait_for 10 lbip; then pass "LoadBalancer ingress = node IP"; else fail "LoadBalancer ingress = node IP" "$(svc lb)"; fi
expect_eq "ingress ipMode VIP" "VIP" "$(svc lb | jf 'd["status"]["loadBalancer"]["ingress"][0]["ipMode"]')"
LBNP=$(svc lb | jf 'd["spec"]["ports"][0]["nodePort"]')
lbget() {
	run k "$1" get svc lb --no-headers
	expect_match "kubectl 1.$1: LoadBalancer EXTERNAL-IP is the node IP" \
		"^lb +LoadBalancer +10\.[0-9.]+ +$LK_NODE_IP +80:$LBNP/TCP " "$OUT"
}
kall lbget
expect_eq "allocateLoadBalancerNodePorts defaulted" "true" "$(svc lb | jf 'd["spec"]["allocateLoadBalancerNodePorts"]')"

# A class of its own: the lab load balancer leaves it alone. lbm, created
# after it, is the marker: once lbm has its ingress the controller has
# handled lbc too.
lk_manifest lbc.yaml >/dev/null <<'Y'
apiVersion: v1
kind: Service
metadata: {name: lbc}
spec: {type: LoadBalancer, loadBalancerClass: example.com/internal-vip, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: lbm}
spec: {type: LoadBalancer, ports: [{port: 80}]}
Y
expect_ok "create LB with a loadBalancerClass, then a plain LB" kc create -f "$LK_TMP/lbc.yaml"
lbmip() { [ "$(svc lbm | jf '(d["status"]["loadBalancer"].get("ingress") or [{}])[0].get("ip", "")')" = "$LK_NODE_IP" ]; }
wait_ok "the plain LB created after it gets its ingress" 10 lbmip
run kc get svc lbc --no-headers
expect_match "other class stays <pending>" '^lbc +LoadBalancer +10\.[0-9.]+ +<pending> ' "$OUT"

# ClientIP affinity defaults.
lk_manifest aff.yaml >/dev/null <<'Y'
apiVersion: v1
kind: Service
metadata: {name: aff}
spec: {sessionAffinity: ClientIP, selector: {app: x}, ports: [{port: 80}]}
Y
expect_ok "create ClientIP service" kc create -f "$LK_TMP/aff.yaml"
expect_eq "timeoutSeconds defaults to 10800" 10800 "$(svc aff | jf 'd["spec"]["sessionAffinityConfig"]["clientIP"]["timeoutSeconds"]')"

# Delete releases: the node port can be requested again at once.
expect_ok "delete the NodePort service" kc delete svc example-service
lk_manifest again.yaml >/dev/null <<Y
apiVersion: v1
kind: Service
metadata: {name: again}
spec: {type: NodePort, clusterIP: $IP, ports: [{port: 80, nodePort: $NP}]}
Y
expect_ok "its cluster IP and node port are free again" kc create -f "$LK_TMP/again.yaml"
lk_done
