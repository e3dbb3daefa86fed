#!/usr/bin/env bash
# t304: probes, volumes and the rest of a pod's life. A readiness probe
# keeps a container (and the pod) unready until it passes, and the
# Endpoints show such a pod under notReadyAddresses; a failing liveness
# probe restarts the container with the kubelet's Killing and Unhealthy
# events; an exec probe runs inside the container. ConfigMap, Secret,
# downwardAPI and emptyDir volumes are mounted where the spec says (a
# ConfigMap change reaches the running container; two containers share an
# emptyDir); the container's root is writable but its writes never reach
# the host. `kubectl set image` on a bare pod restarts its container with
# the new image; a hostNetwork pod runs with the node's IP.
. "$(dirname "$0")/lib.sh"
if lk_fake; then
	lk_plan 1
	skip "node agent" "the fake server runs no pods"
	exit 0
fi
lk_plan 36
lk_start

NS=lkt-probes
K=(kc -n "$NS")
wait_ok() { # wait_ok DESC SECONDS CMD...
	local desc=$1 secs=$2
	shift 2
	if lk_wait_for "$secs" "$@"; then pass "$desc"; else fail "$desc" "waited ${secs}s for: $*"; fi
}
pod_field() { "${K[@]}" get pod "$1" -o jsonpath="$2"; }
pod_field_is() { [ "$(pod_field "$1" "$2")" = "$3" ]; }
row_matches() { "${K[@]}" get pod "$1" --no-headers 2>/dev/null | grep -Eq -- "$2"; }
events_of() { "${K[@]}" get events --field-selector "involvedObject.name=$1" -o json |
	jf '"\n".join("%s|%s|%s" % (e["type"], e["reason"], e["message"]) for e in d["items"])'; }
has_event() { events_of "$1" | grep -Fxq -- "$2"; }
has_event_match() { events_of "$1" | grep -Eq -- "$2"; }
log_has() { "${K[@]}" logs "$1" -c "$2" 2>/dev/null | grep -Fxq -- "$3"; }

expect_ok "create namespace" kc create namespace "$NS"
expect_ok "create configmap" "${K[@]}" create configmap site --from-literal=index.html=v1 --from-literal=mode=blue
expect_ok "create secret" "${K[@]}" create secret generic creds --from-literal=user=admin
M=$(lk_manifest pods.yaml <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: ready, labels: {app: probed}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: gcr.io/google-samples/node-hello:1.0
    ports: [{name: http, containerPort: 8080}]
    readinessProbe:
      httpGet: {path: /, port: http}
      initialDelaySeconds: 6
      periodSeconds: 1
---
apiVersion: v1
kind: Pod
metadata: {name: unready, labels: {app: probed}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: gcr.io/google-samples/node-hello:1.0
    readinessProbe:
      tcpSocket: {port: 9999}
      periodSeconds: 1
---
apiVersion: v1
kind: Pod
metadata: {name: live}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    command: ["sleep", "3600"]
    livenessProbe:
      exec: {command: ["sh", "-c", "test -e /tmp/healthy"]}
      periodSeconds: 1
      failureThreshold: 2
---
apiVersion: v1
kind: Pod
metadata: {name: vols, labels: {tier: front}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: writer
    image: busybox
    command: ["sh", "-c", "echo shared > /cache/note; touch /usr/local/written-by-pod; sleep 3600"]
    volumeMounts: [{name: cache, mountPath: /cache}]
  - name: reader
    image: busybox
    command: ["sh", "-c", "sleep 1; cat /cache/note; for f in /site/index.html /secret/user /info/labels /one/mode; do cat $f; echo; done; touch /site/x 2>&1 | grep -o 'Read-only file system'; while true; do cat /site/index.html; echo; sleep 0.3; done"]
    volumeMounts:
    - {name: cache, mountPath: /cache}
    - {name: site, mountPath: /site, readOnly: true}
    - {name: creds, mountPath: /secret}
    - {name: info, mountPath: /info}
    - {name: site, mountPath: /one/mode, subPath: mode}
  volumes:
  - {name: cache, emptyDir: {}}
  - {name: site, configMap: {name: site}}
  - {name: creds, secret: {secretName: creds}}
  - name: info
    downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}
EOF
)
expect_ok "create the pods" "${K[@]}" apply -f "$M"

# ---- readiness ----
wait_ok "ready: not ready before the probe passes" 10 pod_field_is ready '{.status.phase}/{.status.containerStatuses[0].ready}' "Running/false"
wait_ok "ready: ready once it passes" 20 pod_field_is ready '{.status.containerStatuses[0].ready}' "true"
wait_ok "ready: Ready condition True" 5 pod_field_is ready '{.status.conditions[?(@.type=="Ready")].status}' "True"
wait_ok "unready: Running 0/1" 15 row_matches unready '^unready +0/1 +Running +0 '
run pod_field unready '{.status.conditions[?(@.type=="Ready")].reason} {.status.conditions[?(@.type=="Ready")].message}'
expect_eq "unready: Ready False ContainersNotReady" "ContainersNotReady containers with unready status: [web]" "$OUT"
UIP=$(pod_field unready '{.status.podIP}')
wait_ok "unready: Unhealthy event, dial wording" 10 has_event unready \
	"Warning|Unhealthy|Readiness probe failed: dial tcp $UIP:9999: connect: connection refused"
M=$(lk_manifest svc.yaml <<'EOF'
apiVersion: v1
kind: Service
metadata: {name: probed}
spec:
  selector: {app: probed}
  ports: [{port: 80, targetPort: 8080}]
EOF
)
expect_ok "a service over both" "${K[@]}" apply -f "$M"
RIP=$(pod_field ready '{.status.podIP}')
ep() { "${K[@]}" get endpoints probed -o jsonpath='{.subsets[0].addresses[*].ip}|{.subsets[0].notReadyAddresses[*].ip}'; }
ep_is() { [ "$(ep)" = "$RIP|$UIP" ]; }
wait_ok "endpoints: the ready pod in addresses, the other in notReadyAddresses" 15 ep_is

# ---- liveness ----
wait_ok "live: restarted after the exec probe failed" 20 pod_field_is live '{.status.containerStatuses[0].restartCount}' 1
wait_ok "live: Killing event" 5 has_event live "Normal|Killing|Container c failed liveness probe, will be restarted"
expect_match "live: Unhealthy event" '^Warning\|Unhealthy\|Liveness probe failed: ' "$(events_of live)"
run pod_field live '{.status.containerStatuses[0].lastState.terminated.exitCode}'
expect_eq "live: killed by SIGKILL after the grace period (sleep ignores SIGTERM as PID 1)" 137 "$OUT"

# ---- volumes ----
wait_ok "vols: both containers run" 15 row_matches vols '^vols +2/2 +Running +0 '
wait_ok "vols: the reader's output" 10 log_has vols reader "Read-only file system"
run "${K[@]}" logs vols -c reader
expect_line "emptyDir shared between containers" "shared" "$OUT"
expect_line "configMap volume" "v1" "$OUT"
expect_line "secret volume" "admin" "$OUT"
expect_line "downwardAPI volume" 'tier="front"' "$OUT"
expect_line "configMap key through subPath" "blue" "$OUT"
if [ ! -e /usr/local/written-by-pod ]; then pass "a container's writes to its root do not reach the host"
else rm -f /usr/local/written-by-pod; fail "a container's writes to its root do not reach the host"; fi
expect_ok "update the configmap" "${K[@]}" patch configmap site -p '{"data":{"index.html":"v2"}}'
wait_ok "the running container sees the new content" 15 log_has vols reader "v2"

# ---- set image on a bare pod ----
expect_ok "set image on the ready pod" "${K[@]}" set image pod/ready web=gcr.io/google-samples/hello-app:2.0
wait_ok "set image: restarted once" 20 pod_field_is ready '{.status.containerStatuses[0].restartCount}/{.status.containerStatuses[0].ready}' "1/true"
wait_ok "set image: Killing event" 5 has_event ready "Normal|Killing|Container web definition changed, will be restarted"
hello_v2() { lk_nsexec curl -s -m 2 "http://$RIP:8080/" | grep -qx 'Version: 2.0.0'; }
wait_ok "set image: the new image serves on the same IP" 10 hello_v2

# ---- hostNetwork ----
M=$(lk_manifest hostnet.yaml <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: hostnet}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: busybox, command: ["sh", "-c", "ip -4 -o addr show; sleep 3600"]}
EOF
)
expect_ok "create a hostNetwork pod" "${K[@]}" apply -f "$M"
wait_ok "hostnet: Running" 15 pod_field_is hostnet '{.status.phase}' Running
expect_eq "hostnet: pod IP is the node IP" "$LK_NODE_IP" "$(pod_field hostnet '{.status.podIP}')"
hostnet_log() { "${K[@]}" logs hostnet 2>/dev/null | grep -q "inet $LK_NODE_IP/"; }
wait_ok "hostnet: it sees the node's interfaces" 10 hostnet_log

expect_ok "delete every pod" "${K[@]}" delete pods --all --grace-period=1 --wait=true --timeout=30s
no_pod_procs() {
	local p
	for p in /proc/[0-9]*; do
		case ${p#/proc/} in "$$" | "$BASHPID") continue ;; esac
		case $(tr '\0' ' ' 2>/dev/null <"$p/cmdline") in
		*"_sandbox $LK_TMP/data "* | *"_shim $LK_TMP/data "*) return 1 ;;
		esac
	done
	return 0
}
wait_ok "no pod process left" 15 no_pod_procs
