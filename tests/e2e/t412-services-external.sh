#!/usr/bin/env bash
# t412: traffic from outside the node to a Service's other addresses (issue
# 4), in namespaces: spec.externalIPs (an address the outside namespace
# routes to the node, and the node's own IP), a LoadBalancer with the
# default lab balancer (ingress = the node IP), then the server restarted
# with --lb-pool: addresses handed out in order, a pool that runs out leaves
# the next one <pending>, a deleted balancer's address goes to the waiting
# one and traffic follows. Every curl here is the outside namespace's, as a
# user's machine on the lab network would be.
. "$(dirname "$0")/lib.sh"
if lk_fake; then
	lk_plan 1
	skip "service proxy" "the fake server runs no pods"
	exit 0
fi
lk_plan 32
lk_start

EXT=198.51.100.10                # TEST-NET-2: routed to the node by the outside namespace
POOL=203.0.113.10-203.0.113.11   # TEST-NET-3
lb_ip() { kc get svc "$1" -o jsonpath='{.status.loadBalancer.ingress[0].ip}'; }
has_lb_ip() { [ -n "$(lb_ip "$1")" ]; }
# no_http DESC URL WANT_RC: the outside namespace gets no HTTP answer from
# URL, and curl says why (7: refused or unreachable, 28: dropped)
no_http() {
	run lk_out curl -s -m 3 "$2"
	if [ "$RC" = "$3" ] && [ -z "$OUT" ]; then pass "$1"; return 0; fi
	fail "$1 (want curl rc $3, no output)"; lk_cmd_diag curl "$2"
	return 1
}
curl_rc_is() { lk_out curl -s -m 3 -o /dev/null "$2" >/dev/null 2>&1; [ "$?" = "$1" ]; }

run lk_out ip route add 198.51.100.0/24 via "$LK_NODE_IP"
expect_eq "outside routes $EXT to the node" 0 "$RC"
run lk_out ip route add 203.0.113.0/24 via "$LK_NODE_IP"
expect_eq "outside routes the LB pool to the node" 0 "$RC"

M=$(lk_manifest ext.yaml <<Y
apiVersion: apps/v1
kind: Deployment
metadata: {name: echo}
spec:
  replicas: 2
  selector: {matchLabels: {app: echo}}
  template:
    metadata: {labels: {app: echo}}
    spec: {containers: [{name: c, image: hashicorp/http-echo, args: [-text=hello-external], ports: [{containerPort: 5678}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: ext}
spec:
  selector: {app: echo}
  externalIPs: [$EXT, $LK_NODE_IP]
  ports: [{port: 8080, targetPort: 5678}]
---
apiVersion: v1
kind: Service
metadata: {name: lb}
spec:
  type: LoadBalancer
  selector: {app: echo}
  ports: [{port: 8081, targetPort: 5678}]
Y
)
expect_ok "apply a deployment, a service with externalIPs, a LoadBalancer" k 27 apply -f "$M"
run k 27 get svc ext --no-headers
expect_match "get svc (1.27) shows the external IPs" "^ext +ClusterIP +[0-9.]+ +$EXT,$LK_NODE_IP +8080/TCP " "$OUT"
wait_ok "outside -> $EXT:8080 (externalIP) answers" 60 has hello-external ocurl "http://$EXT:8080/"
wait_ok "outside -> NODE_IP:8080 (the node's IP as an externalIP) answers" 15 \
	has hello-external ocurl "http://$LK_NODE_IP:8080/"
no_http "outside -> $EXT on a port no service has: nothing answers" "http://$EXT:8081/" 7
run lk_nsexec nft list map ip labkube service-ips
expect_match "service-ips maps the external IP" "$EXT \\. tcp \\. 8080 : goto svc-default/ext/tcp/8080" "$OUT"

# the default lab balancer: the node IP
wait_ok "the LoadBalancer gets an ingress IP" 20 has_lb_ip lb
expect_eq "... the node IP (no --lb-pool)" "$LK_NODE_IP" "$(lb_ip lb)"
run k 30 get svc lb --no-headers
expect_match "get svc (1.30) fills EXTERNAL-IP" "^lb +LoadBalancer +[0-9.]+ +$LK_NODE_IP +8081:[0-9]+/TCP " "$OUT"
wait_ok "outside -> LB_IP:8081 answers" 15 has hello-external ocurl "http://$LK_NODE_IP:8081/"
NP=$(kc get svc lb -o jsonpath='{.spec.ports[0].nodePort}')
wait_ok "outside -> NODE_IP:NODE_PORT of the LoadBalancer answers" 15 \
	has hello-external ocurl "http://$LK_NODE_IP:$NP/"
expect_ok "delete the LoadBalancer" kc delete svc lb
wait_ok "... LB_IP:8081 stops answering (connection refused)" 15 curl_rc_is 7 "http://$LK_NODE_IP:8081/"

# --lb-pool
lk_server_stop
expect_eq "server stops cleanly" 0 "$LK_STOP_RC"
lk_server_start --lb-pool "$POOL"
M=$(lk_manifest lbs.yaml <<'Y'
apiVersion: v1
kind: Service
metadata: {name: lb1}
spec: {type: LoadBalancer, selector: {app: echo}, ports: [{port: 80, targetPort: 5678}]}
---
apiVersion: v1
kind: Service
metadata: {name: lb2}
spec: {type: LoadBalancer, selector: {app: echo}, ports: [{port: 81, targetPort: 5678}]}
Y
)
expect_ok "apply two LoadBalancers (pool of two addresses)" k 33 apply -f "$M"
wait_ok "lb1 gets an ingress IP" 20 has_lb_ip lb1
wait_ok "lb2 gets an ingress IP" 20 has_lb_ip lb2
LB1=$(lb_ip lb1)
LB2=$(lb_ip lb2)
expect_eq "lb1 and lb2 get the pool's two addresses" "203.0.113.10 203.0.113.11" \
	"$(printf '%s\n' "$LB1" "$LB2" | sort | tr '\n' ' ' | sed 's/ $//')"
M=$(lk_manifest lb3.yaml <<'Y'
apiVersion: v1
kind: Service
metadata: {name: lb3}
spec: {type: LoadBalancer, selector: {app: echo}, ports: [{port: 82, targetPort: 5678}]}
Y
)
expect_ok "apply a third LoadBalancer" kc apply -f "$M"
run k 33 get svc lb1 lb2 --no-headers
expect_match "get svc (1.33) shows lb1's pool address" "^lb1 +LoadBalancer +[0-9.]+ +$LB1 +80:" "$OUT"
expect_match "... and lb2's" "^lb2 +LoadBalancer +[0-9.]+ +$LB2 +81:" "$OUT"
wait_ok "outside -> LB1_IP:80 answers" 30 has hello-external ocurl "http://$LB1/"
wait_ok "outside -> LB2_IP:81 answers" 15 has hello-external ocurl "http://$LB2:81/"
# (lb3 has been waiting for an address all along: the controller says so)
lb3_failed() {
	curl_api /api/v1/namespaces/default/events | jf 'len([e for e in d["items"] if e["involvedObject"]["name"] == "lb3" and e["reason"] == "AllocationFailed"])' |
		grep -qx '[1-9][0-9]*'
}
wait_ok "the controller reports AllocationFailed for lb3 (event)" 15 lb3_failed
run k 27 get svc lb3 --no-headers
expect_match "the pool is exhausted: lb3 shows <pending>" '^lb3 +LoadBalancer +[0-9.]+ +<pending> +82:' "$OUT"
no_http "outside -> LB1_IP:81 (lb2's port on lb1's address): nothing answers" "http://$LB1:81/" 7
expect_ok "delete lb1" kc delete svc lb1
wait_ok "lb3 gets lb1's address" 20 test "$(lb_ip lb3)" = "$LB1"
wait_ok "outside -> LB1_IP:82 now answers (lb3)" 15 has hello-external ocurl "http://$LB1:82/"
wait_ok "outside -> LB1_IP:80 (lb1, deleted) no longer answers (curl rc 7)" 15 curl_rc_is 7 "http://$LB1/"
lk_done
