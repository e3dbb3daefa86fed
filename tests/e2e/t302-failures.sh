#!/usr/bin/env bash
# t302: containers that fail, as a user of a real cluster sees them
# (api-machinery.md §7): a crashing container goes CrashLoopBackOff with the
# kubelet's back-off message and BackOff events while the pod stays
# Running; restartPolicy Never ends in Error/Failed, OnFailure in
# Completed/Succeeded; an image outside the catalog waits in
# ErrImagePull/ImagePullBackOff with a message naming the built-in images
# and the pod stays Pending; a command that does not exist is a StartError
# with runc's wording; a missing ConfigMap is CreateContainerConfigError
# and the pod starts once it exists; a missing ConfigMap volume is a
# FailedMount; init containers run in order first (Init:N/M in kubectl).
. "$(dirname "$0")/lib.sh"
if lk_fake; then
	lk_plan 1
	skip "node agent" "the fake server runs no pods"
	exit 0
fi
lk_plan 39
lk_start

NS=lkt-fail
K=(kc -n "$NS")
wait_ok() { # wait_ok DESC SECONDS CMD...
	local desc=$1 secs=$2
	shift 2
	if lk_wait_for "$secs" "$@"; then pass "$desc"; else fail "$desc" "waited ${secs}s for: $*"; fi
}
pod_field() { "${K[@]}" get pod "$1" -o jsonpath="$2"; }
pod_field_is() { [ "$(pod_field "$1" "$2")" = "$3" ]; }
row() { "${K[@]}" get pod "$1" --no-headers 2>/dev/null; }
row_matches() { row "$1" | grep -Eq -- "$2"; }
events_of() { "${K[@]}" get events --field-selector "involvedObject.name=$1" -o json |
	jf '"\n".join("%s|%s|%s" % (e["type"], e["reason"], e["message"]) for e in d["items"])'; }
has_event() { events_of "$1" | grep -Fxq -- "$2"; }

expect_ok "create namespace" kc create namespace "$NS"
M=$(lk_manifest pods.yaml <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: crash}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: busybox, command: ["sh", "-c", "echo crashing; exit 3"]}
---
apiVersion: v1
kind: Pod
metadata: {name: never}
spec:
  restartPolicy: Never
  containers:
  - {name: c, image: busybox, command: ["sh", "-c", "exit 2"]}
---
apiVersion: v1
kind: Pod
metadata: {name: onfailure}
spec:
  restartPolicy: OnFailure
  containers:
  - {name: c, image: busybox, command: ["true"]}
---
apiVersion: v1
kind: Pod
metadata: {name: noimage}
spec:
  containers:
  - {name: c, image: example.com/no/such-image:1.0}
---
apiVersion: v1
kind: Pod
metadata: {name: nocmd}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: busybox, command: ["no-such-command-lkt"]}
---
apiVersion: v1
kind: Pod
metadata: {name: nocm}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "echo got $X; sleep 3600"]
    env:
    - name: X
      valueFrom: {configMapKeyRef: {name: later, key: x}}
---
apiVersion: v1
kind: Pod
metadata: {name: novol}
spec:
  containers:
  - name: c
    image: busybox
    command: ["sleep", "3600"]
    volumeMounts: [{name: v, mountPath: /etc/v}]
  volumes:
  - {name: v, configMap: {name: missing-cm}}
---
apiVersion: v1
kind: Pod
metadata: {name: init}
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
  - {name: first, image: busybox, command: ["sh", "-c", "sleep 2; echo one > /data/order"], volumeMounts: [{name: d, mountPath: /data}]}
  - {name: second, image: busybox, command: ["sh", "-c", "echo two >> /data/order"], volumeMounts: [{name: d, mountPath: /data}]}
  containers:
  - {name: main, image: busybox, command: ["sh", "-c", "cat /data/order; sleep 3600"], volumeMounts: [{name: d, mountPath: /data}]}
  volumes:
  - {name: d, emptyDir: {}}
EOF
)
expect_ok "create the failing pods" "${K[@]}" apply -f "$M"

# ---- init containers: Init:0/2 while the first runs, then Running ----
wait_ok "init: kubectl shows Init:0/2" 15 row_matches init '^init +0/1 +Init:0/2 '
run pod_field init '{.status.conditions[?(@.type=="Initialized")].message}'
expect_match "init: Initialized False, containers with incomplete status" \
	'^containers with incomplete status: \[first( second)?\]$' "$OUT"
run pod_field init '{.status.containerStatuses[0].state.waiting.reason}'
expect_eq "init: the app container waits in PodInitializing" "PodInitializing" "$OUT"
wait_ok "init: then Running" 20 row_matches init '^init +1/1 +Running +0 '
run "${K[@]}" logs init -c main
expect_eq "init containers ran in order, sharing an emptyDir" "one
two" "$OUT"
run pod_field init '{.status.initContainerStatuses[*].state.terminated.reason}'
expect_eq "init container statuses: Completed" "Completed Completed" "$OUT"

# ---- CrashLoopBackOff ----
wait_ok "crash: CrashLoopBackOff" 30 row_matches crash '^crash +0/1 +CrashLoopBackOff +[1-9]'
run pod_field crash '{.status.phase}'
expect_eq "crash: the pod stays Running" "Running" "$OUT"
run pod_field crash '{.status.containerStatuses[0].state.waiting.message}'
UID_=$(pod_field crash '{.metadata.uid}')
expect_match "crash: back-off message" "^back-off (10|20|40)s restarting failed container=c pod=crash_${NS}\\($UID_\\)\$" "$OUT"
run pod_field crash '{.status.containerStatuses[0].lastState.terminated.exitCode} {.status.containerStatuses[0].lastState.terminated.reason}'
expect_eq "crash: lastState terminated 3 Error" "3 Error" "$OUT"
wait_ok "crash: BackOff event" 10 has_event crash "Warning|BackOff|Back-off restarting failed container c in pod crash_${NS}($UID_)"
run "${K[@]}" logs crash --previous
expect_eq "crash: logs --previous" "crashing" "$OUT"

# ---- restartPolicy Never / OnFailure ----
wait_ok "never: Failed" 20 pod_field_is never '{.status.phase}' Failed
wait_ok "never: kubectl shows Error" 5 row_matches never '^never +0/1 +Error +0 '
run pod_field never '{.status.containerStatuses[0].state.terminated.exitCode}'
expect_eq "never: exit code 2" 2 "$OUT"
wait_ok "onfailure: Succeeded" 20 pod_field_is onfailure '{.status.phase}' Succeeded
wait_ok "onfailure: kubectl shows Completed" 5 row_matches onfailure '^onfailure +0/1 +Completed +0 '

# ---- images outside the catalog ----
wait_ok "noimage: ErrImagePull or ImagePullBackOff" 20 row_matches noimage '^noimage +0/1 +(ErrImagePull|ImagePullBackOff) +0 '
wait_ok "noimage: then ImagePullBackOff" 20 row_matches noimage '^noimage +0/1 +ImagePullBackOff +0 '
run pod_field noimage '{.status.phase}'
expect_eq "noimage: Pending" "Pending" "$OUT"
run pod_field noimage '{.status.containerStatuses[0].state.waiting.message}'
expect_match "noimage: the message names the image and the built-in images" \
	'example\.com/no/such-image:1\.0.*built-in images: .*node-hello' "$OUT"
run events_of noimage
expect_match "noimage: Failed event (pull)" '^Warning\|Failed\|Failed to pull image "example\.com/no/such-image:1\.0": ' "$OUT"
expect_line "noimage: Failed event ErrImagePull" "Warning|Failed|Error: ErrImagePull" "$OUT"
expect_line "noimage: BackOff event" 'Normal|BackOff|Back-off pulling image "example.com/no/such-image:1.0"' "$OUT"
expect_line "noimage: Failed event ImagePullBackOff" "Warning|Failed|Error: ImagePullBackOff" "$OUT"
api GET "/api/v1/namespaces/$NS/pods/noimage/log"
expect_match "noimage: logs say why (ImagePullBackOff, or ErrImagePull while it retries)" \
	'^container "c" in pod "noimage" is waiting to start: (trying and failing to pull image|image can.t be pulled)$' \
	"$(jf 'd["message"]' "$BODY")"

# ---- a command that does not exist ----
wait_ok "nocmd: StartError then back-off" 30 row_matches nocmd '^nocmd +0/1 +(CrashLoopBackOff|StartError|RunContainerError) +[0-9]'
run pod_field nocmd '{.status.containerStatuses[0].lastState.terminated.reason}|{.status.containerStatuses[0].lastState.terminated.exitCode}|{.status.containerStatuses[0].lastState.terminated.message}'
expect_eq "nocmd: StartError 128 with runc's message" \
	'StartError|128|exec: "no-such-command-lkt": executable file not found in $PATH' "$OUT"

# ---- a ConfigMap that appears later ----
wait_ok "nocm: CreateContainerConfigError" 20 row_matches nocm '^nocm +0/1 +CreateContainerConfigError +0 '
run pod_field nocm '{.status.containerStatuses[0].state.waiting.message}'
expect_eq "nocm: message" 'configmap "later" not found' "$OUT"
expect_ok "create the ConfigMap" "${K[@]}" create configmap later --from-literal=x=42
wait_ok "nocm: Running once it exists" 20 row_matches nocm '^nocm +1/1 +Running +0 '
log_is() { [ "$("${K[@]}" logs "$1" 2>/dev/null)" = "$2" ]; }
wait_ok "nocm: the value arrived" 10 log_is nocm "got 42"

# ---- a volume that cannot be mounted ----
wait_ok "novol: FailedMount event" 20 has_event novol \
	'Warning|FailedMount|MountVolume.SetUp failed for volume "v" : configmap "missing-cm" not found'
run row novol
expect_match "novol: ContainerCreating" '^novol +0/1 +ContainerCreating +0 ' "$OUT"

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
