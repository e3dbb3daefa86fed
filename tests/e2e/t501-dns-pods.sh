#!/usr/bin/env bash
# t501: pods resolve cluster names through the cluster DNS the way a student's
# pods do: /etc/resolv.conf names 10.96.0.10 with the search path
# NS.svc.cluster.local svc.cluster.local cluster.local and ndots:5, so short
# and partly qualified names (my-service, my-service.default,
# my-service.default.svc, _http._tcp.my-service SRV, web-0.nginx for a
# StatefulSet pod behind its headless service) resolve with dig +search
# (UDP and TCP) and with getent (glibc); a pod in another namespace does
# not see the short name but does see NAME.default; the pod's own
# a-b-c-d.NS.pod record; an unknown name fails. Each pod prints its lookups
# and sleeps; the test reads them with kubectl logs.
. "$(dirname "$0")/lib.sh"
if lk_fake; then
	lk_plan 1
	skip "cluster DNS from pods" "the fake server runs no pods"
	exit 0
fi
lk_plan 43
lk_start --dns-upstream=127.0.0.1:9

K=(kc)
ready_eps() { # ready_eps NS SVC N: the service has N ready endpoints
	[ "$(kc -n "$1" get endpointslices -l "kubernetes.io/service-name=$2" \
		-o jsonpath='{range .items[*].endpoints[?(@.conditions.ready==true)]}{.addresses[0]}{"\n"}{end}' | grep -c .)" = "$3" ]
}
log_done() { kc -n "$1" logs "$2" 2>/dev/null | grep -q '^DONE$'; }

M=$(lk_manifest objs.yaml <<'Y'
apiVersion: v1
kind: Namespace
metadata: {name: other}
---
apiVersion: v1
kind: Service
metadata: {name: my-service}
spec:
  clusterIP: 10.96.51.10
  selector: {app: web}
  ports: [{name: http, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: nginx}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{name: web, port: 80}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: nginx
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: nginx, image: registry.k8s.io/pause:3.9}]}
Y
)
expect_ok "apply my-service, headless nginx, StatefulSet web (2 replicas)" "${K[@]}" apply -f "$M"
wait_ok "web-0 and web-1 are ready endpoints of nginx" 90 ready_eps default nginx 2
IP0=$(kc get pod web-0 -o jsonpath='{.status.podIP}')
IP1=$(kc get pod web-1 -o jsonpath='{.status.podIP}')
expect_match "StatefulSet pods have IPs" '^10\.244\.[0-9.]+ 10\.244\.[0-9.]+$' "$IP0 $IP1"

# The lookups, one "Q <what> <answers...>" line each; "DONE" at the end.
SCRIPT='
q() { printf "Q %s" "$1"; shift; "$@" 2>&1 | tr "\n" " " | sed "s/ *$//; s/^/ /"; echo; }
cat /etc/resolv.conf | sed "s/^/R /"
for n in my-service my-service.default my-service.default.svc kubernetes.default web-0.nginx web-1.nginx nginx; do
	q "udp $n" dig +search +short +time=3 +tries=2 "$n"
	q "tcp $n" dig +search +tcp +short +time=3 +tries=2 "$n"
done
q "srv _http._tcp.my-service" dig +search +short +time=3 +tries=2 _http._tcp.my-service SRV
q "srv _web._tcp.nginx" dig +search +short +time=3 +tries=2 _web._tcp.nginx SRV
q "getent my-service" getent hosts my-service
q "getent web-0.nginx" getent hosts web-0.nginx
q "getent kubernetes.default.svc.cluster.local" getent hosts kubernetes.default.svc.cluster.local
q "status nosuch-service.$NS.svc.cluster.local" sh -c "dig +time=3 +tries=2 nosuch-service.$NS.svc.cluster.local | sed -n \"s/.*status: \\([A-Z]*\\),.*/\\1/p\""
q "short nosuch-service" dig +search +short +time=3 +tries=2 nosuch-service
q "getent nosuch-service" sh -c "getent hosts nosuch-service; echo rc=\$?"
ip=$(hostname -i | cut -d" " -f1)
q "podrec" dig +short +time=3 +tries=2 "$(echo "$ip" | tr . -).$NS.pod.cluster.local"
echo "IP $ip"
echo DONE
exec sleep 3600
'
script_json() { printf '%s' "$SCRIPT" | "$LK_PY" -c 'import json,sys; print(json.dumps(sys.stdin.read()))'; }
SJ=$(script_json)
for p in "client default" "client other"; do
	read -r name ns <<<"$p"
	cat >"$LK_TMP/pod-$ns.yaml" <<Y
apiVersion: v1
kind: Pod
metadata: {name: $name, namespace: $ns}
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: registry.k8s.io/e2e-test-images/jessie-dnsutils:1.7
    env: [{name: NS, value: $ns}]
    command: [sh, -c, $SJ]
Y
	expect_ok "create a dnsutils pod that logs its lookups ($ns)" kc apply -f "$LK_TMP/pod-$ns.yaml"
done
wait_ok "the pod in default has done its lookups" 60 log_done default client
wait_ok "the pod in other has done its lookups" 60 log_done other client
LOGD=$(kc logs client)
LOGO=$(kc -n other logs client)
line() { grep -E "^Q $2( |\$)" <<<"$1" | head -n 1 | sed -E "s/^Q $2 ?//"; }
sorted() { tr ' ' '\n' <<<"$1" | grep . | sort | tr '\n' ' ' | sed 's/ $//'; }
pod_ip() { # pod_ip LOG: the address the pod logged ("IP a.b.c.d"), or why not
	local ip
	ip=$(sed -n 's/^IP //p' <<<"$1")
	if [[ $ip =~ ^10\.244\.[0-9]+\.[0-9]+$ ]]; then echo "$ip"; else echo "(the pod logged no address: '$ip')"; fi
}

expect_line "resolv.conf: nameserver 10.96.0.10" "R nameserver 10.96.0.10" "$LOGD"
expect_line "resolv.conf: the search path" "R search default.svc.cluster.local svc.cluster.local cluster.local" "$LOGD"
for t in udp tcp; do
	expect_eq "[$t] my-service (short name, search path)" 10.96.51.10 "$(line "$LOGD" "$t my-service")"
	expect_eq "[$t] my-service.default" 10.96.51.10 "$(line "$LOGD" "$t my-service.default")"
	expect_eq "[$t] my-service.default.svc" 10.96.51.10 "$(line "$LOGD" "$t my-service.default.svc")"
	expect_eq "[$t] kubernetes.default" 10.96.0.1 "$(line "$LOGD" "$t kubernetes.default")"
	expect_eq "[$t] web-0.nginx (StatefulSet pod behind its headless service)" "$IP0" "$(line "$LOGD" "$t web-0.nginx")"
	expect_eq "[$t] web-1.nginx" "$IP1" "$(line "$LOGD" "$t web-1.nginx")"
	expect_eq "[$t] nginx (headless): both pods" "$(sorted "$IP0 $IP1")" "$(sorted "$(line "$LOGD" "$t nginx")")"
done
expect_match "SRV _http._tcp.my-service" '^[0-9]+ [0-9]+ 80 my-service\.default\.svc\.cluster\.local\.$' \
	"$(line "$LOGD" "srv _http._tcp.my-service")"
SRV=$(line "$LOGD" "srv _web._tcp.nginx")
expect_match "SRV _web._tcp.nginx: web-0.nginx.default.svc.cluster.local." \
	'(^| )80 web-0\.nginx\.default\.svc\.cluster\.local\.( |$)' "$SRV"
expect_match "SRV _web._tcp.nginx: web-1.nginx.default.svc.cluster.local." \
	'(^| )80 web-1\.nginx\.default\.svc\.cluster\.local\.( |$)' "$SRV"
expect_match "getent hosts my-service (glibc)" '^10\.96\.51\.10 +my-service\.default\.svc\.cluster\.local$' \
	"$(line "$LOGD" "getent my-service")"
expect_match "getent hosts web-0.nginx" "^${IP0//./\\.} +web-0\.nginx\.default\.svc\.cluster\.local\$" \
	"$(line "$LOGD" "getent web-0.nginx")"
expect_match "getent hosts kubernetes.default.svc.cluster.local" '^10\.96\.0\.1 ' \
	"$(line "$LOGD" "getent kubernetes.default.svc.cluster.local")"
expect_eq "nosuch-service.default.svc.cluster.local: NXDOMAIN" NXDOMAIN "$(line "$LOGD" "status nosuch-service.default.svc.cluster.local")"
expect_line "dig +search +short nosuch-service: no address (nor an error)" "Q short nosuch-service" "$LOGD"
expect_eq "getent hosts nosuch-service fails" rc=2 "$(line "$LOGD" "getent nosuch-service")"
PIP=$(pod_ip "$LOGD")
expect_eq "the pod's own record a-b-c-d.default.pod.cluster.local" "$PIP" "$(line "$LOGD" podrec)"
# another namespace
expect_line "resolv.conf in other: its own search path" "R search other.svc.cluster.local svc.cluster.local cluster.local" "$LOGO"
expect_line "[other] my-service does not resolve from another namespace (no address, no error)" \
	"Q udp my-service" "$LOGO"
expect_eq "[other] my-service.default does" 10.96.51.10 "$(line "$LOGO" "udp my-service.default")"
expect_line "[other] web-0.nginx does not" "Q udp web-0.nginx" "$LOGO"
PIPO=$(pod_ip "$LOGO")
expect_eq "[other] its own pod record (a-b-c-d.other.pod.cluster.local)" "$PIPO" "$(line "$LOGO" podrec)"
if [ "$LK_FAILED" -gt 0 ]; then
	lk_diag "client log (default)" "$LOGD"
	lk_diag "client log (other)" "$LOGO"
fi

# a pod started after a scale-up resolves at once: web-2
expect_ok "scale web to 3" kc scale statefulset web --replicas=3
wait_ok "web-2 is a ready endpoint" 60 ready_eps default nginx 3
IP2=$(kc get pod web-2 -o jsonpath='{.status.podIP}')
expect_ok "dig web-2.nginx.default.svc.cluster.local from the node" \
	lk_nsexec dig @10.96.0.10 +short +time=3 +tries=1 web-2.nginx.default.svc.cluster.local
expect_eq "... is web-2's IP" "$IP2" "$OUT"
expect_ok "delete the clients" kc delete pod client -n default --wait=false
run kc delete pod client -n other --wait=false
lk_done
