#!/usr/bin/env bash
# t413: traffic policies of the service proxy (issue 4), as kube-proxy on one
# node: externalTrafficPolicy Cluster masquerades outside clients (the pod
# sees a node address), Local keeps their address; the host itself still
# reaches the node port (short-circuit); healthCheckNodePort answers 200/503
# with the count of local endpoints; internalTrafficPolicy Local; the Local
# chains in `nft list` and `labkube proxy rules`; Local with the only
# endpoint on another node (dropped from outside and for the cluster IP, the
# host and pods still reach the node port); a ClientIP service whose local
# endpoint is only serving+terminating; and `labkube cleanup` (refused while
# the server runs, even under another name) removing the table, the bridge
# and the pods' veths.
. "$(dirname "$0")/lib.sh"
if lk_fake; then
	lk_plan 1
	skip "service traffic policies" "the fake server runs no pods"
	exit 0
fi
lk_plan 58
# The server runs under another name: cleanup knows it by its executable.
ln -s "$LABKUBE" "$LK_TMP/lk-node" || lk_bail "symlink the binary"
LABKUBE=$LK_TMP/lk-node
lk_start

K=(kc)
AG=registry.k8s.io/e2e-test-images/agnhost:2.53
ready_eps() { # ready_eps SVC N: the service has N ready endpoint addresses
	[ "$("${K[@]}" get endpointslices -l "kubernetes.io/service-name=$1" \
		-o jsonpath='{range .items[*].endpoints[?(@.conditions.ready==true)]}{.addresses[0]}{"\n"}{end}' | grep -c .)" = "$2" ]
}
hc_code() { # hc_code URL WANT: the health check answers HTTP WANT
	[ "$(ocurl -o /dev/null -w '%{http_code}' "$1")" = "$2" ]
}
OUT_RE="^${LK_OUT_IP//./\\.}:[0-9]+\$"
BR_RE='^10\.244\.0\.1:[0-9]+$'

# ---- externalTrafficPolicy Cluster (the default): masqueraded
M=$(lk_manifest echo.yaml <<Y
apiVersion: apps/v1
kind: Deployment
metadata: {name: echo}
spec:
  replicas: 2
  selector: {matchLabels: {app: echo}}
  template:
    metadata: {labels: {app: echo}}
    spec:
      containers:
      - name: netexec
        image: $AG
        args: [netexec, --http-port=8080, --udp-port=-1]
        ports: [{containerPort: 8080}]
Y
)
expect_ok "create deployment echo (agnhost netexec)" "${K[@]}" apply -f "$M"
M=$(lk_manifest lb.yaml <<'Y'
apiVersion: v1
kind: Service
metadata: {name: lb-echo}
spec:
  type: LoadBalancer
  selector: {app: echo}
  ports: [{port: 80, targetPort: 8080}]
Y
)
expect_ok "create LoadBalancer service lb-echo" "${K[@]}" apply -f "$M"
NP=$("${K[@]}" get svc lb-echo -o jsonpath='{.spec.ports[0].nodePort}')
expect_match "lb-echo has a node port" '^[0-9]+$' "$NP"
wait_ok "two ready endpoints" 60 ready_eps lb-echo 2
wait_ok "eTP Cluster: outside -> NODE_IP:NODE_PORT/clientip shows a node address" 20 \
	matches "$BR_RE" ocurl "http://$LK_NODE_IP:$NP/clientip"
run ocurl "http://$LK_NODE_IP:$NP/clientip"
expect_match "... every time, not the outside client's own" "$BR_RE" "$OUT"

# ---- externalTrafficPolicy Local: the client's address is kept
expect_ok "patch lb-echo to externalTrafficPolicy Local" "${K[@]}" patch svc lb-echo \
	-p '{"spec":{"externalTrafficPolicy":"Local"}}'
HC=$("${K[@]}" get svc lb-echo -o jsonpath='{.spec.healthCheckNodePort}')
expect_match "lb-echo got a healthCheckNodePort" '^[0-9]+$' "$HC"
wait_ok "eTP Local: outside -> NODE_IP:NODE_PORT/clientip shows the outside client's IP" 20 \
	matches "$OUT_RE" ocurl "http://$LK_NODE_IP:$NP/clientip"
wait_ok "eTP Local: the node itself still reaches NODE_IP:NODE_PORT (masqueraded)" 10 \
	matches "$BR_RE" ncurl "http://$LK_NODE_IP:$NP/clientip"
CIP=$("${K[@]}" get svc lb-echo -o jsonpath='{.spec.clusterIP}')
wait_ok "eTP Local: node -> cluster IP uses all endpoints as before" 10 \
	matches "$BR_RE" ncurl "http://$CIP/clientip"

expect_ok "patch lb-echo to sessionAffinity ClientIP" "${K[@]}" patch svc lb-echo \
	-p '{"spec":{"sessionAffinity":"ClientIP"}}'
wait_ok "eTP Local + ClientIP: the outside client's IP is still kept" 20 \
	matches "$OUT_RE" ocurl "http://$LK_NODE_IP:$NP/clientip"
run lk_nsexec nft list chain ip labkube local-default/lb-echo/tcp/80
expect_match "nft: local- chain looks up the affinity sets" 'ip saddr @aff-default/lb-echo/tcp/80__' "$OUT"
run lk_nsexec nft list table ip labkube
expect_match "nft: the node port goes to the ext- chain" \
	"tcp \\. $NP : goto ext-default/lb-echo/tcp/80" "$OUT"
expect_match "nft: ext- chain sends pods to all endpoints" \
	'ip saddr 10\.244\.0\.0/16 goto svc-default/lb-echo/tcp/80' "$OUT"
expect_match "nft: ... the host too" 'fib saddr type local goto svc-default/lb-echo/tcp/80' "$OUT"
expect_match "nft: ... and everyone else to the local endpoints" 'goto local-default/lb-echo/tcp/80' "$OUT"
run lk_nsexec "$LABKUBE" proxy rules default/lb-echo
expect_match "labkube proxy rules shows the Local chains" 'chain ext-default/lb-echo/tcp/80' "$OUT"
expect_match "... with upstream's comments" 'short-circuit pod traffic' "$OUT"
printf '%s\n' "$OUT" >"$LK_TMP/rules.nft"
expect_ok "... and nft accepts them (nft -c -f)" lk_nsexec nft -c -f "$LK_TMP/rules.nft"

# ---- healthCheckNodePort
wait_ok "health check: 200 from the outside namespace" 10 hc_code "http://$LK_NODE_IP:$HC/healthz" 200
run lk_out curl -s -m 3 -D "$LK_TMP/hc.hdr" "http://$LK_NODE_IP:$HC/anything"
expect_eq "health check body" "$(printf '{\n\t"service": {\n\t\t"namespace": "default",\n\t\t"name": "lb-echo"\n\t},\n\t"localEndpoints": 2,\n\t"serviceProxyHealthy": true\n}')" "$OUT"
HDR=$(tr -d '\r' <"$LK_TMP/hc.hdr")
expect_line "... Content-Type application/json" "Content-Type: application/json" "$HDR"
expect_line "... X-Content-Type-Options nosniff" "X-Content-Type-Options: nosniff" "$HDR"
expect_line "... X-Load-Balancing-Endpoint-Weight 2" "X-Load-Balancing-Endpoint-Weight: 2" "$HDR"
expect_ok "scale echo to 0" "${K[@]}" scale deployment echo --replicas=0
wait_ok "health check: 503 without local endpoints" 60 hc_code "http://$LK_NODE_IP:$HC/" 503
run ocurl "http://$LK_NODE_IP:$HC/"
expect_match "... localEndpoints 0" '"localEndpoints": 0,' "$OUT"
expect_ok "scale echo back to 2" "${K[@]}" scale deployment echo --replicas=2
wait_ok "two ready endpoints again" 60 ready_eps lb-echo 2
expect_ok "patch lb-echo back to externalTrafficPolicy Cluster" "${K[@]}" patch svc lb-echo \
	-p '{"spec":{"externalTrafficPolicy":"Cluster","healthCheckNodePort":null}}'
hc_closed() { lk_out curl -s -m 3 -o /dev/null "http://$LK_NODE_IP:$HC/" >/dev/null 2>&1; [ "$?" = 7 ]; }
wait_ok "the health check port closes with eTP Cluster (connection refused)" 10 hc_closed
wait_ok "... and outside clients are masqueraded again" 10 \
	matches "$BR_RE" ocurl "http://$LK_NODE_IP:$NP/clientip"

# ---- internalTrafficPolicy Local
M=$(lk_manifest itp.yaml <<'Y'
apiVersion: v1
kind: Service
metadata: {name: itp-echo}
spec:
  internalTrafficPolicy: Local
  selector: {app: echo}
  ports: [{port: 80, targetPort: 8080}]
Y
)
expect_ok "create service itp-echo (internalTrafficPolicy Local)" "${K[@]}" apply -f "$M"
ICIP=$("${K[@]}" get svc itp-echo -o jsonpath='{.spec.clusterIP}')
wait_ok "iTP Local: node -> cluster IP reaches a local endpoint" 30 \
	matches "$BR_RE" ncurl "http://$ICIP/clientip"
run lk_nsexec nft list table ip labkube
expect_match "nft: the cluster IP goes to the local- chain" \
	"${ICIP//./\\.} \\. tcp \\. 80 : goto local-default/itp-echo/tcp/80" "$OUT"

# ---- Local with the only endpoint on another node
# (selector-less: the hand-written slice puts a real pod "elsewhere")
NODE=$("${K[@]}" get nodes -o jsonpath='{.items[0].metadata.name}')
PODS=$("${K[@]}" get pods -l app=echo --field-selector=status.phase=Running \
	-o jsonpath='{range .items[*]}{.status.podIP} {.metadata.name}{"\n"}{end}')
read -r P1 N1 <<<"$(sed -n 1p <<<"$PODS")"
read -r P2 N2 <<<"$(sed -n 2p <<<"$PODS")"
expect_match "two echo pods with addresses" '^10\.244\.[0-9.]+ [^ ]+$' "$(sed -n 2p <<<"$PODS")"
M=$(lk_manifest remote.yaml <<Y
apiVersion: v1
kind: Service
metadata: {name: remote}
spec:
  type: NodePort
  externalTrafficPolicy: Local
  internalTrafficPolicy: Local
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: remote-1
  labels: {kubernetes.io/service-name: remote}
addressType: IPv4
ports: [{port: 8080, protocol: TCP}]
endpoints:
- addresses: [$P1]
  nodeName: elsewhere
  conditions: {ready: true}
Y
)
expect_ok "create NodePort service remote (eTP+iTP Local, its endpoint elsewhere)" \
	"${K[@]}" apply -f "$M"
RNP=$("${K[@]}" get svc remote -o jsonpath='{.spec.ports[0].nodePort}')
RCIP=$("${K[@]}" get svc remote -o jsonpath='{.spec.clusterIP}')
wait_ok "endpoint elsewhere: node -> NODE_IP:NODE_PORT answers (host short-circuit)" 20 \
	matches "^$N1\$" ncurl "http://$LK_NODE_IP:$RNP/hostname"
run lk_out curl -s -m 2 -o /dev/null "http://$LK_NODE_IP:$RNP/hostname"
expect_eq "... outside -> NODE_IP:NODE_PORT gets no answer (dropped: curl times out)" 28 "$RC"
pdial() { # pdial HOST PORT: pod P2 fetches http://HOST:PORT/hostname
	ncurl "http://$P2:8080/dial?request=hostname&host=$1&port=$2&protocol=http&tries=1"
}
wait_ok "... a pod -> NODE_IP:NODE_PORT answers (pod short-circuit)" 10 \
	matches "\"$N1\"" pdial "$LK_NODE_IP" "$RNP"
run lk_nsexec curl -s -m 2 -o /dev/null "http://$RCIP/hostname"
expect_eq "... node -> cluster IP gets no answer (iTP Local, dropped)" 28 "$RC"

# ---- ClientIP + Local + a local endpoint that is only serving+terminating:
# the local- chain sends to an endpoint the svc- chain does not have
M=$(lk_manifest term.yaml <<Y
apiVersion: v1
kind: Service
metadata: {name: term}
spec:
  sessionAffinity: ClientIP
  internalTrafficPolicy: Local
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: term-1
  labels: {kubernetes.io/service-name: term}
addressType: IPv4
ports: [{port: 8080, protocol: TCP}]
endpoints:
- addresses: [$P1]
  nodeName: elsewhere
  conditions: {ready: true}
- addresses: [$P2]
  nodeName: $NODE
  conditions: {ready: false, serving: true, terminating: true}
Y
)
expect_ok "create ClientIP service term (iTP Local, local endpoint terminating)" \
	"${K[@]}" apply -f "$M"
TCIP=$("${K[@]}" get svc term -o jsonpath='{.spec.clusterIP}')
wait_ok "term: node -> cluster IP reaches the local terminating endpoint" 20 \
	matches "^$N2\$" ncurl "http://$TCIP/hostname"
M=$(lk_manifest after.yaml <<'Y'
apiVersion: v1
kind: Service
metadata: {name: after}
spec:
  selector: {app: echo}
  ports: [{port: 80, targetPort: 8080}]
Y
)
expect_ok "create service after" "${K[@]}" apply -f "$M"
ACIP=$("${K[@]}" get svc after -o jsonpath='{.spec.clusterIP}')
wait_ok "... services created later are still programmed" 20 \
	matches "$BR_RE" ncurl "http://$ACIP/clientip"
run lk_nsexec nft list chain ip labkube "ep-default/term/tcp/80__$P2/8080"
expect_match "nft: the terminating endpoint has its ep- chain" "update @aff-default/term/tcp/80__${P2//./\\.}/8080" "$OUT"
run lk_nsexec "$LABKUBE" proxy rules
printf '%s\n' "$OUT" >"$LK_TMP/all.nft"
expect_ok "labkube proxy rules (all services): nft accepts them (nft -c -f)" \
	lk_nsexec nft -c -f "$LK_TMP/all.nft"

# ---- labkube cleanup (the pods keep running until the server stops)
expect_fail "labkube cleanup refuses while the server runs" lk_nsexec "$LABKUBE" cleanup
expect_match "... and says why" 'server .*runs in this network namespace' "$ERR"
lk_server_stop
expect_eq "server stops cleanly" 0 "$LK_STOP_RC"
expect_ok "labkube cleanup after the server stopped" lk_nsexec "$LABKUBE" cleanup
expect_match "... reports the bridge" '^removed bridge labkube0$' "$OUT"
expect_match "... and the pods' veths" '^removed link lkv' "$OUT"
run lk_nsexec nft list table ip labkube
if [ "$RC" -ne 0 ] && grep -q 'No such file or directory' <<<"$ERR"; then pass "the table is gone (nft: No such file or directory)"
else fail "the table is gone (nft: No such file or directory)"; lk_cmd_diag nft list table ip labkube; fi
run lk_nsexec ip link show labkube0
if [ "$RC" -ne 0 ] && grep -q 'Device "labkube0" does not exist' <<<"$ERR"; then pass "the bridge is gone (ip: does not exist)"
else fail "the bridge is gone (ip: does not exist)"; lk_cmd_diag ip link show labkube0; fi
run lk_nsexec ip -o link show
if [ "$RC" -eq 0 ] && grep -q ": $LK_VETH@" <<<"$OUT" && ! grep -Eq '^[0-9]+: lkv' <<<"$OUT"; then
	pass "no pod veth is left (the node's own veth is)"
else
	fail "no pod veth is left (the node's own veth is)"; lk_cmd_diag ip -o link show
fi
lk_done
