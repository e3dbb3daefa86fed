#!/usr/bin/env bash
# t300: pods are real processes (server/node). A busybox-like pod (host
# tools) running `env` shows in `kubectl logs` the service environment
# variables upstream's kubelet gives (services.md §4), env from ConfigMaps,
# Secrets and the downward API; the pod's own /etc/hosts, /etc/resolv.conf,
# hostname and service account files; status as upstream writes it (phase,
# conditions, containerStatuses, podIP in the pod CIDR, hostIP) and the
# kubelet's events; `kubectl logs` with --tail, --timestamps, -f, --previous
# and upstream's error wording; deleting a pod stops its processes, removes
# its veth and frees its IP.
. "$(dirname "$0")/lib.sh"
if lk_fake; then
	lk_plan 1
	skip "node agent" "the fake server runs no pods"
	exit 0
fi
lk_plan 87
lk_start

NS=lkt-pods
K=(kc -n "$NS")
wait_ok() { # wait_ok DESC SECONDS CMD...
	local desc=$1 secs=$2
	shift 2
	if lk_wait_for "$secs" "$@"; then pass "$desc"; else fail "$desc" "waited ${secs}s for: $*"; fi
}
pod_field() { "${K[@]}" get pod "$1" -o jsonpath="$2"; }
pod_field_is() { [ "$(pod_field "$1" "$2")" = "$3" ]; }
phase_is() { pod_field_is "$1" '{.status.phase}' "$2"; }
log_has() { "${K[@]}" logs "$1" ${3:+-c "$3"} 2>/dev/null | grep -Fxq -- "$2"; }
no_pod_procs() { no_procs_with "_sandbox $LK_TMP/data" && no_procs_with "_shim $LK_TMP/data"; }
link_gone() { # link_gone DESC DEV: ip says DEV does not exist (not any error)
	run lk_nsexec ip -o link show "$2"
	if [ "$RC" -ne 0 ] && grep -q 'does not exist' <<<"$ERR"; then pass "$1"; return 0; fi
	fail "$1 (expected: Device \"$2\" does not exist)"; lk_cmd_diag ip -o link show "$2"
}

expect_ok "create namespace" kc create namespace "$NS"
# Fixed cluster IPs: the links need one (a service without is skipped).
M=$(lk_manifest svcs.yaml <<'EOF'
apiVersion: v1
kind: Service
metadata: {name: redis-master}
spec:
  clusterIP: 10.96.200.10
  selector: {app: redis}
  ports: [{port: 6379}]
---
apiVersion: v1
kind: Service
metadata: {name: web-front}
spec:
  clusterIP: 10.96.200.11
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}, {name: metrics, port: 9100, protocol: UDP}]
---
apiVersion: v1
kind: Service
metadata: {name: headless}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{port: 80}]
EOF
)
expect_ok "create services (for the links)" "${K[@]}" apply -f "$M"
expect_ok "create configmap" "${K[@]}" create configmap cfg --from-literal=color=blue --from-literal=size=L
expect_ok "create secret" "${K[@]}" create secret generic db --from-literal=password=s3cret
REDIS_IP=$("${K[@]}" get svc redis-master -o jsonpath='{.spec.clusterIP}')
WEB_IP=$("${K[@]}" get svc web-front -o jsonpath='{.spec.clusterIP}')
KUBE_IP=$(kc get svc kubernetes -o jsonpath='{.spec.clusterIP}')

M=$(lk_manifest env.yaml <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: env
  labels: {app: env}
spec:
  restartPolicy: Never
  containers:
  - name: env
    image: busybox:1.36
    command: ["sh", "-c"]
    args:
    - env | sort; echo "HOST=$(hostname)"; echo ---; cat /etc/hosts; echo ---; cat /etc/resolv.conf;
      echo ---; cat /etc/hostname; ls /var/run/secrets/kubernetes.io/serviceaccount;
      cat /var/run/secrets/kubernetes.io/serviceaccount/namespace; echo; echo "PID1=$$$$"; echo FDS-BEGIN; ls /proc/$$$$/fd; echo FDS-END
    env:
    - name: COLOR
      valueFrom: {configMapKeyRef: {name: cfg, key: color}}
    - {name: GREETING, value: "hello $(COLOR) $(REDIS_MASTER_SERVICE_HOST) $(LATER)"}
    - {name: LATER, value: "too late"}
    - name: PASSWORD
      valueFrom: {secretKeyRef: {name: db, key: password}}
    - name: POD_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    - name: POD_NAMESPACE
      valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
    - name: POD_IP
      valueFrom: {fieldRef: {fieldPath: status.podIP}}
    - name: NODE_NAME
      valueFrom: {fieldRef: {fieldPath: spec.nodeName}}
    - name: HOST_IP
      valueFrom: {fieldRef: {fieldPath: status.hostIP}}
    envFrom:
    - configMapRef: {name: cfg}
      prefix: CFG_
EOF
)
expect_ok "create the env pod" "${K[@]}" apply -f "$M"
wait_ok "env pod Succeeded (it ran and exited 0)" 30 phase_is env Succeeded
run "${K[@]}" logs env
LOG=$OUT
for line in "REDIS_MASTER_SERVICE_HOST=$REDIS_IP" "REDIS_MASTER_SERVICE_PORT=6379" \
	"REDIS_MASTER_PORT=tcp://$REDIS_IP:6379" "REDIS_MASTER_PORT_6379_TCP=tcp://$REDIS_IP:6379" \
	"REDIS_MASTER_PORT_6379_TCP_PROTO=tcp" "REDIS_MASTER_PORT_6379_TCP_PORT=6379" \
	"REDIS_MASTER_PORT_6379_TCP_ADDR=$REDIS_IP" "WEB_FRONT_SERVICE_PORT_HTTP=80" \
	"WEB_FRONT_SERVICE_HOST=$WEB_IP" "WEB_FRONT_SERVICE_PORT=80" \
	"WEB_FRONT_SERVICE_PORT_METRICS=9100" "WEB_FRONT_PORT=tcp://$WEB_IP:80" \
	"WEB_FRONT_PORT_9100_UDP=udp://$WEB_IP:9100" "WEB_FRONT_PORT_9100_UDP_PROTO=udp" \
	"KUBERNETES_SERVICE_HOST=$KUBE_IP" \
	"KUBERNETES_SERVICE_PORT=443" "KUBERNETES_SERVICE_PORT_HTTPS=443" \
	"KUBERNETES_PORT=tcp://$KUBE_IP:443" "KUBERNETES_PORT_443_TCP_PROTO=tcp"; do
	expect_line "service variable $line" "$line" "$LOG"
done
# The container's process inherits stdin, stdout and stderr, nothing else.
expect_eq "the container starts with only fds 0, 1 and 2 open" "0 1 2" \
	"$(sed -n '/^FDS-BEGIN$/,/^FDS-END$/p' <<<"$LOG" | grep -vxE 'FDS-(BEGIN|END)' | tr '\n' ' ' | sed 's/ $//')"
expect_line "env from a ConfigMap" "COLOR=blue" "$LOG"
expect_line "env from a Secret" "PASSWORD=s3cret" "$LOG"
expect_line "envFrom with a prefix" "CFG_size=L" "$LOG"
expect_line "\$(VAR) expansion: earlier variables and services, not later ones" \
	"GREETING=hello blue $REDIS_IP \$(LATER)" "$LOG"
expect_nomatch "no variables for a headless service" '^HEADLESS_' "$LOG"
expect_line "downward API metadata.name" "POD_NAME=env" "$LOG"
expect_line "downward API metadata.namespace" "POD_NAMESPACE=$NS" "$LOG"
expect_line "downward API spec.nodeName" "NODE_NAME=$LK_NODE_NAME" "$LOG"
expect_line "downward API status.hostIP" "HOST_IP=$LK_NODE_IP" "$LOG"
expect_match "downward API status.podIP is in the pod CIDR" '^POD_IP=10\.244\.[0-9]+\.[0-9]+$' "$LOG"
POD_IP=$(sed -n 's/^POD_IP=//p' <<<"$LOG")
expect_line "HOSTNAME is the pod name" "HOSTNAME=env" "$LOG"
expect_line "the UTS namespace's hostname is the pod name" "HOST=env" "$LOG"
expect_line "/etc/hosts: the kubelet's header" "# Kubernetes-managed hosts file." "$LOG"
expect_line "/etc/hosts: the pod's IP and name" "$POD_IP	env" "$LOG"
expect_line "resolv.conf search path" "search $NS.svc.cluster.local svc.cluster.local cluster.local" "$LOG"
expect_line "resolv.conf nameserver is the cluster DNS" "nameserver 10.96.0.10" "$LOG"
expect_line "resolv.conf ndots" "options ndots:5" "$LOG"
expect_line "/etc/hostname" "env" "$LOG"
expect_line "service account token mounted" "token" "$LOG"
expect_line "service account namespace file" "$NS" "$LOG"
expect_line "own PID namespace: the container is PID 1 (and \$\$ escapes \$)" 'PID1=1' "$LOG"
expect_eq "pod IP in status matches the container's" "$POD_IP" "$(pod_field env '{.status.podIP}')"

# ---- status as upstream writes it ----
run "${K[@]}" get pod env -o json
ST=$OUT
expect_eq "hostIP and hostIPs" "$LK_NODE_IP $LK_NODE_IP" "$(jf 'd["status"]["hostIP"] + " " + d["status"]["hostIPs"][0]["ip"]' "$ST")"
expect_eq "podIPs" "$POD_IP" "$(jf 'd["status"]["podIPs"][0]["ip"]' "$ST")"
expect_eq "condition order (kubelet's, then the scheduler's)" \
	"PodReadyToStartContainers Initialized Ready ContainersReady PodScheduled" \
	"$(jf '" ".join(c["type"] for c in d["status"]["conditions"])' "$ST")"
expect_eq "Succeeded pod: Ready False PodCompleted" "False PodCompleted" \
	"$(jf '[c["status"] + " " + c["reason"] for c in d["status"]["conditions"] if c["type"] == "Ready"][0]' "$ST")"
expect_eq "terminated state: exit 0, Completed, containerID" "0 Completed labkube" \
	"$(jf 'd["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"].__str__() + " " + d["status"]["containerStatuses"][0]["state"]["terminated"]["reason"] + " " + d["status"]["containerStatuses"][0]["containerID"].split(":")[0]' "$ST")"
expect_match "startTime set" '^20[0-9-]+T[0-9:]+Z$' "$(jf 'd["status"]["startTime"]' "$ST")"
run "${K[@]}" get events --field-selector involvedObject.name=env -o json
EV=$(jf '"\n".join("%s|%s|%s|%s|%s" % (e["source"].get("component"), e["source"].get("host"), e["involvedObject"].get("fieldPath", ""), e["reason"], e["message"]) for e in d["items"])' "$OUT")
expect_line "event Pulled" "kubelet|$LK_NODE_NAME|spec.containers{env}|Pulled|Container image \"busybox:1.36\" already present on machine" "$EV"
expect_line "event Created" "kubelet|$LK_NODE_NAME|spec.containers{env}|Created|Created container env" "$EV"
expect_line "event Started" "kubelet|$LK_NODE_NAME|spec.containers{env}|Started|Started container env" "$EV"

# ---- a long-running pod: Running, logs, -f, --previous, deletion ----
M=$(lk_manifest ticker.yaml <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: ticker}
spec:
  terminationGracePeriodSeconds: 5
  containers:
  - name: tick
    image: busybox
    command: ["sh", "-c", "trap 'echo stopping; exit 0' TERM; i=0; while true; do echo tick $i; echo warn $i >&2; i=$((i+1)); sleep 0.2; done"]
  - name: side
    image: registry.k8s.io/pause:3.9
EOF
)
expect_ok "create a two-container pod" "${K[@]}" apply -f "$M"
wait_ok "ticker Running" 30 phase_is ticker Running
wait_ok "both containers ready" 10 pod_field_is ticker '{.status.containerStatuses[*].ready}' "true true"
run "${K[@]}" get pod ticker --no-headers
expect_match "kubectl get pods: 2/2 Running 0" '^ticker +2/2 +Running +0 ' "$OUT"
wait_ok "stdout and stderr in kubectl logs" 10 log_has ticker "warn 2" tick
run "${K[@]}" logs ticker -c tick --tail=3
expect_eq "--tail=3 gives 3 lines" 3 "$(grep -c . <<<"$OUT")"
run "${K[@]}" logs ticker -c tick --tail=1 --timestamps
expect_match "--timestamps prefixes RFC 3339 nano" '^20[0-9-]+T[0-9:.]+Z (tick|warn) [0-9]+$' "$OUT"
run "${K[@]}" logs ticker -c tick --since=1h
expect_line "--since keeps recent lines" "tick 0" "$OUT"
run "${K[@]}" logs ticker --tail=1
expect_match "kubectl picks the first container of two" 'Defaulted container "tick" out of: tick, side' "$ERR"
api GET "/api/v1/namespaces/$NS/pods/ticker/log"
expect_code "log without container: 400" 400
expect_eq "log without container: message" \
	"a container name must be specified for pod ticker, choose one of: [tick side]" "$(jf 'd["message"]' "$BODY")"
api GET "/api/v1/namespaces/$NS/pods/ticker/log?container=nope"
expect_eq "unknown container: upstream message" "container nope is not valid for pod ticker" "$(jf 'd["message"]' "$BODY")"
api GET "/api/v1/namespaces/$NS/pods/ticker/log?container=tick&previous=true"
expect_eq "--previous without one: upstream message" \
	"previous terminated container \"tick\" in pod \"ticker\" not found" "$(jf 'd["message"]' "$BODY")"
api GET "/api/v1/namespaces/$NS/pods/nope/log"
expect_code "log of a missing pod: 404" 404
api GET "/api/v1/namespaces/$NS/pods/ticker/log?container=tick&tailLines=2&limitBytes=4"
expect_eq "limitBytes" "tick" "$BODY"
kbg "$LK_TMP/follow.out" 33 -n "$NS" logs -f ticker -c tick --tail=1
FOLLOW=$LK_BGPID
lk_wait_file "$LK_TMP/follow.out" 'tick [0-9]+' 5
N1=$(grep -c tick "$LK_TMP/follow.out")
sleep 1
N2=$(grep -c tick "$LK_TMP/follow.out")
expect_gt "logs -f streams new lines" "$N2" "$N1"
kbg "$LK_TMP/follow2.out" 33 -n "$NS" logs -f ticker -c tick --tail=1
LEAVER=$LK_BGPID
lk_wait_file "$LK_TMP/follow2.out" 'tick [0-9]+' 5
lk_kill "$LEAVER"
N3=$(grep -c tick "$LK_TMP/follow.out")
sleep 1
expect_gt "a second follower that leaves does not stop the first" "$(grep -c tick "$LK_TMP/follow.out")" "$N3"
api GET "/api/v1/namespaces/$NS/pods/ticker/log?container=tick&tailLines=6"
expect_match "logs answer after a follower left" '^tick [0-9]+' "$BODY"

IP=$(pod_field ticker '{.status.podIP}')
UID_=$(pod_field ticker '{.metadata.uid}')
VETH=lkv$(tr -d - <<<"$UID_" | cut -c1-12)
run lk_nsexec ip -o link show "$VETH"
expect_match "the pod's veth is on the bridge labkube0" "master labkube0" "$OUT"
expect_match "its processes run (sandbox and shims carry its uid)" '[0-9]' "$(procs_with "$UID_")"
expect_ok "delete the pod (SIGTERM, the container traps it)" "${K[@]}" delete pod ticker --wait=true --timeout=20s
wait_ok "no process of the deleted pod is left" 10 no_procs_with "$UID_"
if wait "$FOLLOW"; then pass "logs -f ends when the container stops"; else fail "logs -f ends when the container stops"; fi
expect_line "the container saw SIGTERM (its log ends with its trap)" "stopping" "$(cat "$LK_TMP/follow.out")"
link_gone "its veth is gone" "$VETH"
run "${K[@]}" get events --field-selector involvedObject.name=ticker -o jsonpath='{range .items[*]}{.reason} {.message}{"\n"}{end}'
expect_line "Killing event" "Killing Stopping container tick" "$OUT"
expect_eq "the pod directory is gone" "" "$(ls "$LK_TMP/data/pods" | grep -- "$UID_")"
if ! grep -rqx -- "$IP" "$LK_TMP"/data/pods/*/ip 2>/dev/null; then pass "its IP is free again"; else fail "its IP is free again"; fi

expect_ok "delete the env pod" "${K[@]}" delete pod env --wait=true --timeout=20s
wait_ok "no pod process left" 10 no_pod_procs
