#!/usr/bin/env bash
# t412: traffic policies of the service proxy (issue 4), as kube-proxy on one
# node: externalTrafficPolicy Cluster masquerades outside clients (the pod
# sees a node address), Local keeps their address; the host itself still
# reaches the node port (short-circuit); healthCheckNodePort answers 200/503
# with the count of local endpoints; internalTrafficPolicy Local; the Local
# chains in `nft list` and `labkube proxy rules`; and `labkube cleanup`
# (refused while the server runs) removing the table and the bridge.
. "$(dirname "$0")/lib.sh"
if lk_fake; then
	skip "service traffic policies" "the fake server runs no pods"
	exit 0
fi
lk_start

K=(kc)
AG=registry.k8s.io/e2e-test-images/agnhost:2.53
wait_ok() { # wait_ok DESC SECONDS CMD...
	local desc=$1 secs=$2
	shift 2
	if lk_wait_for "$secs" "$@"; then pass "$desc"; else fail "$desc" "waited ${secs}s for: $*"; fi
}
ncurl() { lk_nsexec curl -s -m 3 "$@"; }
ocurl() { lk_out curl -s -m 3 "$@"; }
matches() { # matches EREGEX CMD...: CMD's output matches EREGEX
	local re=$1
	shift
	"$@" 2>/dev/null | grep -Eq -- "$re"
}
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
expect_nomatch "... not the outside client's own" "$OUT_RE" "$OUT"

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
wait_ok "the health check port closes with eTP Cluster" 10 hc_code "http://$LK_NODE_IP:$HC/" 000
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

# ---- labkube cleanup
expect_fail "labkube cleanup refuses while the server runs" lk_nsexec "$LABKUBE" cleanup
expect_match "... and says why" 'server .*runs in this network namespace' "$ERR"
expect_ok "delete the workloads" "${K[@]}" delete deployment,svc --all --wait=false
lk_server_stop
expect_ok "labkube cleanup after the server stopped" lk_nsexec "$LABKUBE" cleanup
expect_match "... reports the bridge" 'removed bridge labkube0' "$OUT"
run lk_nsexec nft list table ip labkube
expect_fail "the table is gone" test "$RC" -eq 0
run lk_nsexec ip link show labkube0
expect_fail "the bridge is gone" test "$RC" -eq 0
run lk_nsexec ip -o link show
expect_nomatch "no pod veth is left" '^[0-9]+: lkv' "$OUT"
lk_done
