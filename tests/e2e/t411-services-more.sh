#!/usr/bin/env bash
# t411: more of the service proxy (issue 4) end to end, in namespaces:
# a multi-port Service whose ports name their targetPort, over pods that give
# the same port names different numbers (each service port reaches its own
# container port, from the node, from a pod and through the node ports from
# the outside namespace); a Service without a selector fed by hand-written
# Endpoints (one pod, then another, then both, then an address outside the
# cluster, named ports matched by name; deleted Endpoints refuse at once).
# externalIPs and LoadBalancer are t412.
. "$(dirname "$0")/lib.sh"
if lk_fake; then
	lk_plan 1
	skip "service proxy" "the fake server runs no pods"
	exit 0
fi
lk_plan 46
lk_start

answers() { # answers N CMD...: CMD run N times, the distinct answers sorted, one a line
	local n=$1
	shift
	for _ in $(seq "$n"); do "$@" 2>/dev/null; echo; done | grep . | sort -u
}
slice_eps() { # slice_eps SVC: ready "IP:PORT" of the service's slices, sorted
	kc get endpointslices -l "kubernetes.io/service-name=$1" -o json | "$LK_PY" -c '
import json, sys
out = set()
for s in json.load(sys.stdin)["items"]:
    for e in s.get("endpoints") or []:
        if (e.get("conditions") or {}).get("ready", True):
            for p in s.get("ports") or []:
                out.add("%s:%s:%s" % (p.get("name") or "", e["addresses"][0], p["port"]))
print("\n".join(sorted(out)))'
}
n_eps() { [ "$(slice_eps "$1" | grep -c .)" = "$2" ]; }

# ---- multi-port, named targetPorts that differ between pods
# agnhost porter answers SERVE_PORT_<n>'s value on port n: every answer
# names the container port it came from.
M=$(lk_manifest multi.yaml <<'Y'
apiVersion: apps/v1
kind: Deployment
metadata: {name: multi}
spec:
  replicas: 1
  selector: {matchLabels: {app: multi}}
  template:
    metadata: {labels: {app: multi}}
    spec:
      containers:
      - name: porter
        image: registry.k8s.io/e2e-test-images/agnhost:2.40
        args: [porter]
        env: [{name: SERVE_PORT_8080, value: http-8080}, {name: SERVE_PORT_9090, value: metrics-9090}]
        ports: [{name: http, containerPort: 8080}, {name: metrics, containerPort: 9090}]
---
apiVersion: v1
kind: Pod
metadata: {name: multi-odd, labels: {app: multi}}
spec:
  containers:
  - name: porter
    image: registry.k8s.io/e2e-test-images/agnhost:2.40
    args: [porter]
    env: [{name: SERVE_PORT_8081, value: http-8081}, {name: SERVE_PORT_9091, value: metrics-9091}]
    ports: [{name: metrics, containerPort: 9091}, {name: http, containerPort: 8081}]
---
apiVersion: v1
kind: Service
metadata: {name: multi}
spec:
  type: NodePort
  selector: {app: multi}
  ports:
  - {name: web, port: 80, targetPort: http}
  - {name: metrics, port: 9100, targetPort: metrics}
---
apiVersion: v1
kind: Pod
metadata: {name: client, labels: {app: client}}
spec:
  containers:
  - name: c
    image: registry.k8s.io/e2e-test-images/agnhost:2.40
    args: [netexec, --http-port=8080, --udp-port=-1]
Y
)
expect_ok "apply a 2-port deployment, an odd pod, a NodePort service with named targetPorts" \
	k 27 apply -f "$M"
wait_ok "the slices resolve each name per pod (4 ready endpoints)" 60 n_eps multi 4
POD1=$(kc get pods -l app=multi -o jsonpath='{.items[?(@.metadata.name!="multi-odd")].status.podIP}')
POD2=$(kc get pod multi-odd -o jsonpath='{.status.podIP}')
expect_eq "... web -> 8080 and 8081, metrics -> 9090 and 9091" \
	"$(printf '%s\n' "metrics:$POD1:9090" "metrics:$POD2:9091" "web:$POD1:8080" "web:$POD2:8081" | sort)" \
	"$(slice_eps multi)"
run k 30 describe service multi
expect_match "describe (1.30) shows the named targetPorts" 'TargetPort: +http/TCP' "$OUT"
expect_match "... and metrics" 'TargetPort: +metrics/TCP' "$OUT"
CIP=$(kc get svc multi -o jsonpath='{.spec.clusterIP}')
NPW=$(kc get svc multi -o jsonpath='{.spec.ports[?(@.name=="web")].nodePort}')
NPM=$(kc get svc multi -o jsonpath='{.spec.ports[?(@.name=="metrics")].nodePort}')
run k 27 get svc multi --no-headers
expect_match "get svc (1.27) lists both ports with their node ports" "80:$NPW/TCP,9100:$NPM/TCP" "$OUT"

wait_ok "node -> cluster IP:80 answers" 15 has http- ncurl "http://$CIP/"
expect_eq "node -> cluster IP:80 reaches port http of both pods, nothing else" \
	"$(printf 'http-8080\nhttp-8081')" "$(answers 40 ncurl "http://$CIP/")"
expect_eq "node -> cluster IP:9100 reaches port metrics of both pods, nothing else" \
	"$(printf 'metrics-9090\nmetrics-9091')" "$(answers 40 ncurl "http://$CIP:9100/")"
wait_ok "the client pod is ready" 60 has true kc get pod client -o jsonpath='{.status.containerStatuses[0].ready}'
CLIENT=$(kc get pod client -o jsonpath='{.status.podIP}')
dial() { # dial HOST PORT: the client pod fetches http://HOST:PORT/x, prints the answer
	ncurl "http://$CLIENT:8080/dial?request=x&host=$1&port=$2&protocol=http&tries=1" |
		"$LK_PY" -c 'import json, sys; print("\n".join(json.load(sys.stdin).get("responses") or []))'
}
expect_eq "pod -> cluster IP:80 reaches port http of both pods" \
	"$(printf 'http-8080\nhttp-8081')" "$(answers 30 dial "$CIP" 80)"
expect_eq "pod -> cluster IP:9100 reaches port metrics of both pods" \
	"$(printf 'metrics-9090\nmetrics-9091')" "$(answers 30 dial "$CIP" 9100)"
expect_eq "outside -> NODE_IP:web node port reaches port http of both pods" \
	"$(printf 'http-8080\nhttp-8081')" "$(answers 30 ocurl "http://$LK_NODE_IP:$NPW/")"
expect_eq "outside -> NODE_IP:metrics node port reaches port metrics of both pods" \
	"$(printf 'metrics-9090\nmetrics-9091')" "$(answers 30 ocurl "http://$LK_NODE_IP:$NPM/")"
run lk_nsexec "$LABKUBE" proxy rules default/multi
expect_match "proxy rules: a chain per service port, by its name (web)" 'chain svc-default/multi/tcp/web' "$OUT"
expect_match "... (metrics)" 'chain svc-default/multi/tcp/metrics' "$OUT"
expect_match "... web's endpoints are the http ports" "$POD1 \\. 8080" "$OUT"

expect_ok "delete the odd pod (1.33)" k 33 delete pod multi-odd --wait=true
wait_ok "two endpoints left" 30 n_eps multi 2
wait_ok "cluster IP:80 answers only http-8080" 15 \
	test "$(answers 20 ncurl "http://$CIP/")" = http-8080
expect_eq "... and 9100 only metrics-9090" metrics-9090 "$(answers 20 ncurl "http://$CIP:9100/")"

# ---- no selector: hand-written Endpoints
M=$(lk_manifest echo.yaml <<'Y'
apiVersion: v1
kind: Pod
metadata: {name: echo-a, labels: {app: echo-a}}
spec: {containers: [{name: c, image: hashicorp/http-echo, args: [-text=echo-a], ports: [{containerPort: 5678}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: echo-b, labels: {app: echo-b}}
spec: {containers: [{name: c, image: hashicorp/http-echo, args: [-text=echo-b, -listen=:5679], ports: [{containerPort: 5679}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: manual}
spec:
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: manual-named}
spec:
  ports: [{name: a, port: 81}, {name: b, port: 82}]
---
apiVersion: v1
kind: Service
metadata: {name: marker}
spec:
  selector: {app: echo-a}
  ports: [{port: 80}]
Y
)
expect_ok "apply two echo pods, two services without a selector, one with" k 30 apply -f "$M"
wait_ok "echo-a runs" 60 has true kc get pod echo-a -o jsonpath='{.status.containerStatuses[0].ready}'
wait_ok "echo-b runs" 60 has true kc get pod echo-b -o jsonpath='{.status.containerStatuses[0].ready}'
IPA=$(kc get pod echo-a -o jsonpath='{.status.podIP}')
IPB=$(kc get pod echo-b -o jsonpath='{.status.podIP}')
MIP=$(kc get svc manual -o jsonpath='{.spec.clusterIP}')
MNIP=$(kc get svc manual-named -o jsonpath='{.spec.clusterIP}')
# marker, created after manual, has its Endpoints: the controller has seen manual
wait_ok "the endpoints controller made Endpoints for the service with a selector" 30 kc get endpoints marker
expect_notfound "no Endpoints object is made for a service without a selector" kc get endpoints manual
run ncurl "http://$MIP/"
expect_eq "before any Endpoints the cluster IP refuses (curl: connection refused)" 7 "$RC"

eps() { # eps NAME SUBSET-YAML...: an Endpoints manifest
	local name=$1
	shift
	printf 'apiVersion: v1\nkind: Endpoints\nmetadata: {name: %s}\nsubsets:\n' "$name"
	printf '%s\n' "$@"
}
eps manual "- {addresses: [{ip: $IPA}], ports: [{port: 5678}]}" >"$LK_TMP/ep1.yaml"
expect_ok "kubectl (1.27) apply Endpoints -> echo-a:5678" k 27 apply -f "$LK_TMP/ep1.yaml"
run k 27 get endpoints manual --no-headers
expect_match "get endpoints shows it" "^manual +$IPA:5678 " "$OUT"
wait_ok "a mirrored EndpointSlice carries it" 20 n_eps manual 1
wait_ok "cluster IP:80 answers echo-a (the Endpoints' port, not the service's)" 15 \
	has echo-a ncurl "http://$MIP/"
wait_ok "... from a pod too" 15 has echo-a dial "$MIP" 80
eps manual "- {addresses: [{ip: $IPB}], ports: [{port: 5679}]}" >"$LK_TMP/ep2.yaml"
expect_ok "kubectl (1.30) apply Endpoints -> echo-b:5679" k 30 apply -f "$LK_TMP/ep2.yaml"
wait_ok "traffic follows: the cluster IP answers echo-b only" 15 \
	test "$(answers 10 ncurl "http://$MIP/")" = echo-b
eps manual "- {addresses: [{ip: $IPA}], ports: [{port: 5678}]}" \
	"- {addresses: [{ip: $IPB}], ports: [{port: 5679}]}" >"$LK_TMP/ep3.yaml"
expect_ok "kubectl (1.33) apply Endpoints -> both (two subsets, two ports)" k 33 apply -f "$LK_TMP/ep3.yaml"
wait_ok "traffic spreads over both" 15 \
	test "$(answers 30 ncurl "http://$MIP/")" = "$(printf 'echo-a\necho-b')"
expect_ok "kubectl (1.30) delete endpoints manual" k 30 delete endpoints manual
wait_ok "the mirrored slice goes" 20 n_eps manual 0
wait_ok "deleted Endpoints: the cluster IP refuses (curl: connection refused)" 15 \
	sh -c "ip netns exec $LK_NS curl -s -m 3 http://$MIP/; test \$? -eq 7"

# named ports: matched by name, whatever the order and the numbers
eps manual-named "- {addresses: [{ip: $IPB}], ports: [{name: b, port: 5679}]}" \
	"- {addresses: [{ip: $IPA}], ports: [{name: a, port: 5678}]}" >"$LK_TMP/ep4.yaml"
expect_ok "apply Endpoints with ports named b then a" kc apply -f "$LK_TMP/ep4.yaml"
wait_ok "port a (81) answers echo-a" 15 has echo-a ncurl "http://$MNIP:81/"
expect_eq "port a (81) answers only echo-a" echo-a "$(answers 10 ncurl "http://$MNIP:81/")"
expect_eq "port b (82) answers only echo-b" echo-b "$(answers 10 ncurl "http://$MNIP:82/")"

# an address outside the cluster (the classic use: a database elsewhere):
# a web server in the outside namespace, reached through the cluster IP
mkdir -p "$LK_TMP/www"
echo outside-db >"$LK_TMP/www/index.html"
echo outside-db >"$LK_TMP/www/x" # what dial asks for
# (ip netns exec itself, not the lk_out function: $! must be the server)
ip netns exec "$LK_NS_OUT" /usr/bin/python3 -m http.server 8000 --bind "$LK_OUT_IP" --directory "$LK_TMP/www" \
	>"$LK_TMP/www.log" 2>&1 </dev/null &
LK_BG_PIDS+=("$!")
eps manual "- {addresses: [{ip: $LK_OUT_IP}], ports: [{port: 8000}]}" >"$LK_TMP/ep5.yaml"
expect_ok "apply Endpoints -> $LK_OUT_IP:8000 (outside the cluster)" kc apply -f "$LK_TMP/ep5.yaml"
wait_ok "node -> cluster IP answers from the outside server" 15 has outside-db ncurl "http://$MIP/"
wait_ok "pod -> cluster IP answers from the outside server" 15 has outside-db dial "$MIP" 80
lk_done
