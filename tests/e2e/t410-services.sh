#!/usr/bin/env bash
# t410: the service proxy (proxy/, issue 4) end to end, in namespaces: the
# hello-world lab (create deployment, expose --type=NodePort, curl
# NODE_IP:NODE_PORT from the outside namespace), the cluster IP from the
# node and from a pod, localhost:NODE_PORT, hairpin, load spreading,
# ClientIP affinity, a service with no endpoints refused at once, UDP,
# blue/green by selector, traffic through a server restart, the layout in
# `nft list table ip labkube`, `labkube proxy rules`, and `labkube cleanup`.
. "$(dirname "$0")/lib.sh"
if lk_fake; then
	lk_plan 1
	skip "service proxy" "the fake server runs no pods"
	exit 0
fi
lk_plan 43
lk_start

K=(kc)
ready_eps() { # ready_eps SVC N: the service has N ready endpoint addresses
	[ "$("${K[@]}" get endpointslices -l "kubernetes.io/service-name=$1" \
		-o jsonpath='{range .items[*].endpoints[?(@.conditions.ready==true)]}{.addresses[0]}{"\n"}{end}' | grep -c .)" = "$2" ]
}

# ---- the hello-world lab
expect_ok "create deployment hello-world" "${K[@]}" create deployment hello-world \
	--image=gcr.io/google-samples/node-hello:1.0 --replicas=2 --port=8080
expect_ok "expose --type=NodePort" "${K[@]}" expose deployment hello-world \
	--type=NodePort --name=example-service
NP=$("${K[@]}" get svc example-service -o jsonpath='{.spec.ports[0].nodePort}')
CIP=$("${K[@]}" get svc example-service -o jsonpath='{.spec.clusterIP}')
expect_match "the service has a node port" '^[0-9]+$' "$NP"
wait_ok "two ready endpoints" 60 ready_eps example-service 2
wait_ok "outside -> NODE_IP:NODE_PORT answers Hello Kubernetes!" 20 \
	has "Hello Kubernetes!" ocurl "http://$LK_NODE_IP:$NP/"
run "${K[@]}" describe service example-service
expect_match "describe shows the node port" "NodePort:.*$NP/TCP" "$OUT"
wait_ok "node -> cluster IP" 10 has "Hello Kubernetes!" ncurl "http://$CIP:8080/"
wait_ok "node -> NODE_IP:NODE_PORT" 10 has "Hello Kubernetes!" ncurl "http://$LK_NODE_IP:$NP/"
wait_ok "node -> localhost:NODE_PORT" 10 has "Hello Kubernetes!" ncurl "http://127.0.0.1:$NP/"
# CVE-2020-8558 guard: packets to 127.0.0.0/8 from outside are dropped
# (curl times out: neither an answer nor a refusal comes back). The outside
# namespace must really send them to the node: its own local table would
# answer 127.x first, and without route_localnet it drops them itself. A
# counter in a table of the test's own shows that they reach the node.
expect_ok "outside sends 127.66.0.1 to the node (rule before the local table, route_localnet)" \
	lk_out sh -c "ip route add 127.0.0.0/8 via $LK_NODE_IP dev ${LK_VETH%a}b table 100 &&
		ip rule add pref 10 to 127.66.0.1 table 100 && ip rule add pref 1000 lookup local &&
		ip rule del pref 0 lookup local && sysctl -qw net.ipv4.conf.all.route_localnet=1"
printf '%s\n' 'table ip lkt-probe {' \
	'	chain pre { type filter hook prerouting priority -300; ip daddr 127.66.0.1 counter; }' '}' \
	>"$LK_TMP/probe.nft"
expect_ok "the node counts packets to 127.66.0.1 (nft table lkt-probe)" lk_nsexec nft -f "$LK_TMP/probe.nft"
run lk_out curl -s -m 2 "http://127.66.0.1:$NP/"
expect_eq "outside -> 127.66.0.1:NODE_PORT gets no answer (CVE-2020-8558: dropped, curl times out)" 28 "$RC"
run lk_nsexec nft list table ip lkt-probe
expect_match "... though its packets reach the node" 'counter packets [1-9]' "$OUT"
run lk_nsexec nft delete table ip lkt-probe

# ---- the layout
run lk_nsexec nft list table ip labkube
expect_match "nft list shows the service-ips verdict map" 'map service-ips' "$OUT"
expect_match "... with the cluster IP" "$CIP . tcp . 8080 : goto svc-default/example-service/tcp/8080" "$OUT"
expect_match "... the node port map" "tcp . $NP : goto svc-default/example-service/tcp/8080" "$OUT"
expect_match "... numgen into a map of endpoints" 'dnat ip to numgen random mod 2 map' "$OUT"
expect_match "... fib daddr type local for node ports" 'fib daddr type local' "$OUT"
run lk_nsexec "$LABKUBE" proxy rules default/example-service
expect_match "labkube proxy rules NS/SVC prints the service chain" 'chain svc-default/example-service/tcp/8080' "$OUT"
run lk_nsexec ip route show 10.96.0.0/12
expect_match "service CIDR routed via the bridge" 'dev labkube0' "$OUT"

# ---- a pod reaches the service; hairpin; spreading; affinity
M=$(lk_manifest kubia.yaml <<'Y'
apiVersion: apps/v1
kind: Deployment
metadata: {name: kubia}
spec:
  replicas: 2
  selector: {matchLabels: {app: kubia}}
  template:
    metadata: {labels: {app: kubia}}
    spec: {containers: [{name: kubia, image: luksa/kubia, ports: [{containerPort: 8080}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: kubia}
spec:
  clusterIP: 10.96.41.20
  selector: {app: kubia}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: kubia-sticky}
spec:
  clusterIP: 10.96.41.21
  selector: {app: kubia}
  sessionAffinity: ClientIP
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: nobody}
spec:
  clusterIP: 10.96.41.22
  selector: {app: nobody}
  ports: [{port: 80}]
Y
)
expect_ok "apply kubia (2 replicas) and services" "${K[@]}" apply -f "$M"
wait_ok "kubia has two ready endpoints" 60 ready_eps kubia 2
HITS=$(for i in $(seq 30); do ncurl http://10.96.41.20/; echo; done | sort | uniq -c)
expect_eq "load spreads over both replicas" 2 "$(grep -c "You've hit" <<<"$HITS")"
HITS=$(for i in $(seq 15); do ncurl http://10.96.41.21/; echo; done | sort -u | grep -c "You've hit")
expect_eq "ClientIP affinity sticks to one pod" 1 "$HITS"
run lk_nsexec nft list table ip labkube
expect_match "affinity uses a dynamic set with the timeout" 'timeout 3h' "$OUT"
START=$(date +%s%N)
run ncurl -m 5 http://10.96.41.22/
MS=$((($(date +%s%N) - START) / 1000000))
if [ "$RC" -eq 7 ] && [ "$MS" -lt 1000 ]; then pass "no endpoints: refused at once (${MS} ms, curl: connection refused)"
else fail "no endpoints: refused at once (curl rc 7 within 1 s)" "rc $RC after $MS ms"; fi

# ---- UDP
M=$(lk_manifest udp.yaml <<'Y'
apiVersion: v1
kind: Pod
metadata: {name: udp-server, labels: {app: udp}}
spec:
  containers:
  - name: s
    image: registry.k8s.io/e2e-test-images/agnhost:2.40
    args: [netexec, --http-port=8080, --udp-port=8081]
    ports: [{containerPort: 8081, protocol: UDP}]
---
apiVersion: v1
kind: Service
metadata: {name: netexec}
spec:
  clusterIP: 10.96.41.31
  selector: {app: udp}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: udp}
spec:
  clusterIP: 10.96.41.30
  selector: {app: udp}
  ports: [{port: 53, targetPort: 8081, protocol: UDP}]
Y
)
expect_ok "apply a UDP service (agnhost netexec)" "${K[@]}" apply -f "$M"
wait_ok "udp has a ready endpoint" 60 ready_eps udp 1
udp_ask() {
	lk_nsexec timeout 3 python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1); s.sendto(b"hostname", ("10.96.41.30", 53)); print(s.recv(512).decode())'
}
wait_ok "UDP through the cluster IP answers" 15 has udp-server udp_ask
# a pod dials out (agnhost netexec /dial): to another service, and to its own
PODIP=$("${K[@]}" get pod udp-server -o jsonpath='{.status.podIP}')
dial() { ncurl "http://$PODIP:8080/dial?request=$1&host=$2&port=80&protocol=http&tries=1"; }
wait_ok "pod -> cluster IP of another service" 15 has "You've hit" dial hostname 10.96.41.20
wait_ok "hairpin: a pod reaches itself through its service" 15 has udp-server dial hostname 10.96.41.31

# ---- blue/green
M=$(lk_manifest bg.yaml <<'Y'
apiVersion: v1
kind: Pod
metadata: {name: blue, labels: {color: blue}}
spec: {containers: [{name: c, image: hashicorp/http-echo, args: [-text=blue], ports: [{containerPort: 5678}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: green, labels: {color: green}}
spec: {containers: [{name: c, image: hashicorp/http-echo, args: [-text=green], ports: [{containerPort: 5678}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: bg}
spec:
  clusterIP: 10.96.41.40
  selector: {color: blue}
  ports: [{port: 80, targetPort: 5678}]
Y
)
expect_ok "apply blue, green, service -> blue" "${K[@]}" apply -f "$M"
wait_ok "service answers blue" 60 has blue ncurl http://10.96.41.40/
expect_ok "switch the selector to green" "${K[@]}" patch svc bg -p '{"spec":{"selector":{"color":"green"}}}'
wait_ok "service answers green" 20 has green ncurl http://10.96.41.40/

# ---- faults and restarts
run lk_nsexec nft flush table ip labkube
wait_ok "a table flushed by hand is rebuilt" 45 has "Hello Kubernetes!" ocurl "http://$LK_NODE_IP:$NP/"
lk_server_stop
expect_eq "server stops cleanly" 0 "$LK_STOP_RC"
wait_ok "traffic keeps flowing while the server is down" 5 has "Hello Kubernetes!" ocurl "http://$LK_NODE_IP:$NP/"
lk_server_start
wait_ok "and after it restarts" 10 has "Hello Kubernetes!" ocurl "http://$LK_NODE_IP:$NP/"
run curl_api /readyz
expect_eq "/readyz is ok" ok "$OUT"

# ---- cleanup applet (after stopping the server)
expect_ok "delete the workloads" "${K[@]}" delete deployment,pod,svc --all --wait=false
lk_server_stop
expect_ok "labkube cleanup" lk_nsexec "$LABKUBE" cleanup
run lk_nsexec nft list table ip labkube
if [ "$RC" -ne 0 ] && grep -q 'No such file or directory' <<<"$ERR"; then pass "the table is gone (nft: No such file or directory)"
else fail "the table is gone (nft: No such file or directory)"; lk_cmd_diag nft list table ip labkube; fi
lk_done
