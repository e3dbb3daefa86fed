#!/usr/bin/env bash
# t200: Deployment -> ReplicaSet -> Pods as a user sees them with kubectl:
# create --replicas=2 gives one ReplicaSet "<deploy>-<hash>" (label
# pod-template-hash, revision annotations, a controller ownerReference)
# and two pods "<rs>-xxxxx" bound to the node by the scheduler; scale
# 2 -> 5 -> 1; `set image` makes a second ReplicaSet and `rollout history`
# lists both; `rollout undo` brings the first one back as revision 3;
# `describe deployment` shows the Replicas, Conditions, NewReplicaSet and
# Events lines upstream shows; deleting the deployment removes the
# ReplicaSets and their pods (the garbage collector); a progress deadline
# turns Progressing False and fails `rollout status`. When the node agent
# runs pods to Ready, also: `rollout status`, a complete rolling update,
# Recreate (every old pod gone before the first pod of the new RS, read
# from a watch), revisionHistoryLimit. Pods that never become Ready are a
# failure, not a skip.
. "$(dirname "$0")/lib.sh"
if lk_fake; then
	lk_plan 1
	skip "deployment controller" "the fake server runs no controllers"
	exit 0
fi
lk_plan 127
lk_start

NS=lkt-deploy
K=(kc -n "$NS")
SUFFIX='[bcdfghjklmnpqrstvwxz2456789]{5}'
expect_ok "create namespace" kc create namespace "$NS"

# Names of the pods selected by $1 that are not being deleted.
active_pods() {
	"${K[@]}" get pods -l "$1" -o json |
		jf '" ".join(sorted(p["metadata"]["name"] for p in d["items"] if not p["metadata"].get("deletionTimestamp")))'
}
pods_are() { [ "$(active_pods "$1" | wc -w)" = "$2" ]; }
rs_names() { "${K[@]}" get rs -l app=web -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}'; }
rs_count_is() { [ "$("${K[@]}" get rs -l app=web -o json | jf 'str(len(d["items"]))')" = "$1" ]; } # a failing get is no count
rs_field() { "${K[@]}" get rs "$1" -o jsonpath="$2"; }
rs_field_is() { [ "$(rs_field "$1" "$2")" = "$3" ]; }
wait_ok() { # wait_ok DESC SECONDS CMD...
	local desc=$1 secs=$2
	shift 2
	if lk_wait_for "$secs" "$@"; then pass "$desc"; else fail "$desc" "waited ${secs}s for: $*"; fi
}
events() { "${K[@]}" get events -o json | jf '"\n".join("%s %s %s %s" % (e["involvedObject"]["kind"], e["source"].get("component", ""), e["reason"], e["message"]) for e in d["items"])'; }
has_event() { events | grep -Fxq -- "$1"; }

# ---- create ----
expect_ok "create deployment --replicas=2" "${K[@]}" create deployment web \
	--image=registry.k8s.io/pause:3.9 --replicas=2
wait_ok "one ReplicaSet appears" 10 rs_count_is 1
RS=$(rs_names | head -n 1)
HASH=${RS#web-}
expect_match "ReplicaSet is named web-<hash> (upstream's alphabet, <= 10 chars)" \
	'^web-[4-9bcdf]{1,10}$' "$RS"
DUID=$("${K[@]}" get deploy web -o jsonpath='{.metadata.uid}')
run rs_field "$RS" '{.metadata.labels.pod-template-hash} {.spec.selector.matchLabels.pod-template-hash} {.spec.template.metadata.labels.pod-template-hash} {.spec.selector.matchLabels.app}'
expect_eq "pod-template-hash on RS labels, selector and template" "$HASH $HASH $HASH web" "$OUT"
run rs_field "$RS" '{.metadata.annotations}'
expect_eq "RS annotations: revision 1, desired-replicas 2, max-replicas 3" \
	'1 2 3' "$(jf 'd["deployment.kubernetes.io/revision"] + " " + d["deployment.kubernetes.io/desired-replicas"] + " " + d["deployment.kubernetes.io/max-replicas"]' "$OUT")"
run rs_field "$RS" '{.metadata.ownerReferences}'
expect_eq "RS ownerReference: the Deployment, controller and blockOwnerDeletion" \
	"apps/v1 Deployment web $DUID True True" \
	"$(jf '" ".join(str(d[0][k]) for k in ["apiVersion", "kind", "name", "uid", "controller", "blockOwnerDeletion"])' "$OUT")"

wait_ok "two pods" 10 pods_are app=web 2
PODS=$(active_pods app=web)
P1=${PODS%% *}
expect_match "pods are named <rs>-<5 chars>" "^$RS-$SUFFIX $RS-$SUFFIX\$" "$PODS"
run "${K[@]}" get pod "$P1" -o json
expect_eq "pod labels app and pod-template-hash" "web $HASH" \
	"$(jf 'd["metadata"]["labels"]["app"] + " " + d["metadata"]["labels"]["pod-template-hash"]' "$OUT")"
expect_eq "pod ownerReference: the ReplicaSet, controller" "ReplicaSet $RS True True" \
	"$(jf '" ".join(str(d["metadata"]["ownerReferences"][0][k]) for k in ["kind", "name", "controller", "blockOwnerDeletion"])' "$OUT")"
expect_eq "pod generateName is <rs>-" "$RS-" "$(jf 'd["metadata"]["generateName"]' "$OUT")"
bound() { [ "$("${K[@]}" get pod "$1" -o jsonpath='{.spec.nodeName}')" = "$LK_NODE_NAME" ]; }
wait_ok "pods bound to the node ($LK_NODE_NAME)" 10 bound "$P1"
run "${K[@]}" get pod "$P1" -o jsonpath='{range .status.conditions[?(@.type=="PodScheduled")]}{.status}{end}'
expect_eq "condition PodScheduled True" "True" "$OUT"
wait_ok "event Scheduled from default-scheduler" 10 has_event \
	"Pod default-scheduler Scheduled Successfully assigned $NS/$P1 to $LK_NODE_NAME"
wait_ok "event SuccessfulCreate from replicaset-controller" 10 has_event \
	"ReplicaSet replicaset-controller SuccessfulCreate Created pod: $P1"
wait_ok "event ScalingReplicaSet (1.32 wording)" 10 has_event \
	"Deployment deployment-controller ScalingReplicaSet Scaled up replica set $RS from 0 to 2"

status_ok() {
	[ "$("${K[@]}" get deploy web -o jsonpath='{.status.replicas}/{.status.updatedReplicas}/{.metadata.annotations.deployment\.kubernetes\.io/revision}')" = "2/2/1" ]
}
wait_ok "deployment status replicas 2, updated 2; revision annotation 1" 10 status_ok
run "${K[@]}" get deploy web -o json
expect_eq "observedGeneration = generation" "True" \
	"$(jf 'str(d["status"]["observedGeneration"] == d["metadata"]["generation"])' "$OUT")"
expect_eq "conditions: Available, then Progressing" "Available Progressing" \
	"$(jf '" ".join(c["type"] for c in d["status"]["conditions"])' "$OUT")"

describe() {
	local v=$1
	expect_ok "1.$v describe deployment" k "$v" -n "$NS" describe deployment web
	expect_match "1.$v describe: Replicas line" \
		'^Replicas:               2 desired \| 2 updated \| 2 total \| [0-2] available \| [0-2] unavailable$' "$OUT"
	expect_line "1.$v describe: StrategyType" "StrategyType:           RollingUpdate" "$OUT"
	expect_line "1.$v describe: RollingUpdateStrategy" \
		"RollingUpdateStrategy:  25% max unavailable, 25% max surge" "$OUT"
	expect_line "1.$v describe: Conditions header" "  Type           Status  Reason" "$OUT"
	expect_match "1.$v describe: Available condition" \
		'^  Available      (True    MinimumReplicasAvailable|False   MinimumReplicasUnavailable)$' "$OUT"
	expect_match "1.$v describe: Progressing condition" \
		'^  Progressing    True    (NewReplicaSetCreated|ReplicaSetUpdated|NewReplicaSetAvailable)$' "$OUT"
	expect_line "1.$v describe: NewReplicaSet" "NewReplicaSet:   $RS (2/2 replicas created)" "$OUT"
	expect_line "1.$v describe: OldReplicaSets" "OldReplicaSets:  <none>" "$OUT"
	expect_match "1.$v describe: ScalingReplicaSet event" \
		"^  Normal  ScalingReplicaSet  .* +deployment-controller  Scaled up replica set $RS from 0 to 2\$" "$OUT"
}
for v in 27 30 33; do describe "$v"; done

# ---- scale 2 -> 5 -> 1 ----
expect_ok "scale --replicas=5" "${K[@]}" scale deployment web --replicas=5
rs_at() { [ "$("${K[@]}" get rs "$RS" -o jsonpath='{.spec.replicas}/{.status.replicas}')" = "$1" ]; }
wait_ok "get rs: desired 5, current 5" 10 rs_at 5/5
wait_ok "5 pods" 10 pods_are app=web 5
expect_ok "get rs" "${K[@]}" get rs
expect_match "get rs row: DESIRED 5 CURRENT 5" "^$RS +5 +5 +[0-5] +[0-9]+s\$" "$OUT"
wait_ok "event: Scaled up replica set $RS from 2 to 5" 10 has_event \
	"Deployment deployment-controller ScalingReplicaSet Scaled up replica set $RS from 2 to 5"
run rs_field "$RS" '{.metadata.annotations.deployment\.kubernetes\.io/desired-replicas}/{.metadata.annotations.deployment\.kubernetes\.io/max-replicas}'
expect_eq "RS annotations follow: desired 5, max 7 (25% of 5 rounded up)" "5/7" "$OUT"

expect_ok "scale --replicas=1" "${K[@]}" scale deployment web --replicas=1
wait_ok "get rs: desired 1, current 1" 10 rs_at 1/1
wait_ok "1 pod left (the others deleted or terminating)" 10 pods_are app=web 1
wait_ok "event: Scaled down replica set $RS from 5 to 1" 10 has_event \
	"Deployment deployment-controller ScalingReplicaSet Scaled down replica set $RS from 5 to 1"
deleted_events() { [ "$(events | grep -c "^ReplicaSet replicaset-controller SuccessfulDelete Deleted pod: $RS-")" = 4 ]; }
wait_ok "4 SuccessfulDelete events" 10 deleted_events

# ---- set image, history, undo ----
expect_ok "scale back to 2" "${K[@]}" scale deployment web --replicas=2
wait_ok "get rs: desired 2" 10 rs_at 2/2
expect_ok "set image" "${K[@]}" set image deployment/web pause=registry.k8s.io/pause:3.10
expect_eq "set image prints" "deployment.apps/web image updated" "$OUT"
wait_ok "a second ReplicaSet" 10 rs_count_is 2
RS2=$(rs_names | grep -vx "$RS" | head -n 1)
expect_match "new ReplicaSet named web-<other hash>" '^web-[4-9bcdf]{1,10}$' "$RS2"
wait_ok "new RS has revision 2" 10 rs_field_is "$RS2" '{.metadata.annotations.deployment\.kubernetes\.io/revision}' 2
run rs_field "$RS2" '{.spec.template.spec.containers[0].image}'
expect_eq "new RS runs the new image" "registry.k8s.io/pause:3.10" "$OUT"
wait_ok "event: Scaled up replica set $RS2 from 0 to 1 (maxSurge 25% of 2)" 10 has_event \
	"Deployment deployment-controller ScalingReplicaSet Scaled up replica set $RS2 from 0 to 1"
dep_rev() { [ "$("${K[@]}" get deploy web -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision}')" = "$1" ]; }
wait_ok "deployment revision annotation 2" 10 dep_rev 2
for v in 27 33; do
	expect_ok "1.$v rollout history" k "$v" -n "$NS" rollout history deployment/web
	expect_line "1.$v history header" "REVISION  CHANGE-CAUSE" "$OUT"
	expect_line "1.$v history: revision 1" "1         <none>" "$OUT"
	expect_line "1.$v history: revision 2" "2         <none>" "$OUT"
done

expect_ok "rollout undo" "${K[@]}" rollout undo deployment/web
expect_eq "rollout undo prints" "deployment.apps/web rolled back" "$OUT"
wait_ok "the first ReplicaSet comes back as revision 3" 10 rs_field_is "$RS" \
	'{.metadata.annotations.deployment\.kubernetes\.io/revision}' 3
run rs_field "$RS" '{.metadata.annotations.deployment\.kubernetes\.io/revision-history}'
expect_eq "its revision-history keeps 1" "1" "$OUT"
wait_ok "deployment revision annotation 3" 10 dep_rev 3
run "${K[@]}" get deploy web -o jsonpath='{.spec.template.spec.containers[0].image}'
expect_eq "deployment template back to the first image" "registry.k8s.io/pause:3.9" "$OUT"
expect_ok "rollout history after undo" "${K[@]}" rollout history deployment/web
expect_line "history: revision 2" "2         <none>" "$OUT"
expect_line "history: revision 3" "3         <none>" "$OUT"
expect_nomatch "history: revision 1 is gone (it became 3)" '^1 ' "$OUT"
rs_count_stays() { rs_count_is 2; }
expect_ok "still two ReplicaSets (the old one reused)" rs_count_stays
newrs() { "${K[@]}" describe deployment web | grep -q "^NewReplicaSet:   $RS ("; }
wait_ok "describe: NewReplicaSet is the first one again" 10 newrs

# ---- delete ----
expect_ok "delete deployment" "${K[@]}" delete deployment web
expect_eq "delete prints" "deployment.apps \"web\" deleted" "$OUT"
no_rs() { rs_count_is 0; }
wait_ok "its ReplicaSets are deleted (garbage collector)" 15 no_rs
wait_ok "its pods are deleted or terminating" 15 pods_are app=web 0
# ---- progress deadline (pods that never become ready) ----
STUCK=$(lk_manifest stuck.yaml <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: stuck
spec:
  replicas: 1
  progressDeadlineSeconds: 2
  selector:
    matchLabels: {app: stuck}
  template:
    metadata:
      labels: {app: stuck}
    spec:
      containers:
      - name: c
        image: lkt.invalid/no-such-image:1
EOF
)
expect_ok "create a deployment that cannot become ready" "${K[@]}" create -f "$STUCK"
cond() { "${K[@]}" get deploy "$1" -o jsonpath="{range .status.conditions[?(@.type==\"$2\")]}{.status} {.reason} {.message}{end}"; }
cond_is() { [ "$(cond "$1" "$2")" = "$3" ]; }
stuck_rs() { "${K[@]}" get rs -l app=stuck -o jsonpath='{.items[0].metadata.name}'; }
lk_wait_for 10 stuck_rs
SRS=$(stuck_rs)
wait_ok "Progressing False ProgressDeadlineExceeded after 2 s" 15 cond_is stuck Progressing \
	"False ProgressDeadlineExceeded ReplicaSet \"$SRS\" has timed out progressing."
expect_fail "rollout status fails" "${K[@]}" rollout status deployment/stuck --timeout=10s
expect_match "rollout status: exceeded its progress deadline" \
	'error: deployment "stuck" exceeded its progress deadline' "$ERR"
expect_eq "Available False" "False MinimumReplicasUnavailable Deployment does not have minimum availability." \
	"$(cond stuck Available)"

# ---- with a node agent that runs pods to Ready ----
expect_ok "create deployment web2 --replicas=2" "${K[@]}" create deployment web2 \
	--image=registry.k8s.io/pause:3.9 --replicas=2
available() { [ "$("${K[@]}" get deploy "$1" -o jsonpath='{.status.availableReplicas}')" = "$2" ]; }
wait_ok "web2: 2 pods available" 30 available web2 2
expect_ok "rollout status" "${K[@]}" rollout status deployment/web2 --timeout=30s
expect_line "rollout status: successfully rolled out" 'deployment "web2" successfully rolled out' "$OUT"
RSA=$("${K[@]}" get rs -l app=web2 -o jsonpath='{.items[0].metadata.name}')
wait_ok "Available True MinimumReplicasAvailable" 10 cond_is web2 Available \
	"True MinimumReplicasAvailable Deployment has minimum availability."
wait_ok "Progressing True NewReplicaSetAvailable" 10 cond_is web2 Progressing \
	"True NewReplicaSetAvailable ReplicaSet \"$RSA\" has successfully progressed."
expect_ok "set image web2" "${K[@]}" set image deployment/web2 pause=registry.k8s.io/pause:3.10
expect_ok "rollout status after set image" "${K[@]}" rollout status deployment/web2 --timeout=60s
expect_line "rolled out" 'deployment "web2" successfully rolled out' "$OUT"
old_empty() { [ "$("${K[@]}" get rs "$RSA" -o jsonpath='{.spec.replicas}/{.status.replicas}')" = "0/0" ]; }
wait_ok "old ReplicaSet scaled to 0" 10 old_empty
wait_ok "event: Scaled down replica set $RSA from 1 to 0" 10 has_event \
	"Deployment deployment-controller ScalingReplicaSet Scaled down replica set $RSA from 1 to 0"
expect_ok "describe web2" "${K[@]}" describe deployment web2
expect_line "describe: Replicas all available" \
	"Replicas:               2 desired | 2 updated | 2 total | 2 available | 0 unavailable" "$OUT"
expect_line "describe: OldReplicaSets" "OldReplicaSets:  $RSA (0/0 replicas created)" "$OUT"

# revisionHistoryLimit: old empty ReplicaSets beyond it are deleted.
expect_ok "revisionHistoryLimit 1" "${K[@]}" patch deployment web2 -p '{"spec":{"revisionHistoryLimit":1}}'
expect_ok "set image again" "${K[@]}" set image deployment/web2 pause=registry.k8s.io/pause:3.8
expect_ok "rollout status" "${K[@]}" rollout status deployment/web2 --timeout=60s
two_rs() { [ "$("${K[@]}" get rs -l app=web2 -o name | wc -l)" = 2 ]; }
wait_ok "only the new ReplicaSet and one old one are kept" 15 two_rs
wait_notfound "the oldest ReplicaSet is deleted (NotFound)" 15 "${K[@]}" get rs "$RSA"

# Recreate: every old pod is gone (deleted, or Succeeded/Failed, as
# upstream's oldPodsRunning reads it) before the first pod of the new
# ReplicaSet is created. Read from a watch that starts at the resourceVersion
# of a list taken before `set image` (watch_since), so no event is missed
# however late the watch connects; the list gives the old pods.
REC=$(lk_manifest rec.yaml <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: rec
spec:
  replicas: 2
  strategy: {type: Recreate}
  selector:
    matchLabels: {app: rec}
  template:
    metadata:
      labels: {app: rec}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: c
        image: registry.k8s.io/pause:3.9
EOF
)
expect_ok "create a Recreate deployment" "${K[@]}" create -f "$REC"
wait_ok "rec: 2 available" 30 available rec 2
RSR=$("${K[@]}" get rs -l app=rec -o jsonpath='{.items[0].metadata.name}')
RHASH=$(rs_field "$RSR" '{.metadata.labels.pod-template-hash}')
watch_since "$LK_TMP/rec.watch" "/api/v1/namespaces/$NS/pods?labelSelector=app%3Drec" ||
	fail "rec: list the pods before set image"
RECW=$LK_BGPID
expect_ok "set image rec" "${K[@]}" set image deployment/rec c=registry.k8s.io/pause:3.10
second_rec() { [ "$("${K[@]}" get rs -l app=rec -o name | wc -l)" = 2 ]; }
wait_ok "rec: a new ReplicaSet" 30 second_rec
expect_ok "rec: rollout status" "${K[@]}" rollout status deployment/rec --timeout=60s
new_rec_pods_seen() { [ "$(grep -c '"ADDED"' "$LK_TMP/rec.watch")" -ge 2 ]; }
lk_wait_for 5 new_rec_pods_seen
lk_kill "$RECW"
run "$LK_PY" - "$LK_TMP/rec.watch" "$RHASH" <<'PY'
import json, sys
f, old = sys.argv[1], sys.argv[2]
def running(p):  # upstream's oldPodsRunning: anything not Succeeded/Failed
    return p.get("status", {}).get("phase") not in ("Succeeded", "Failed")
def is_old(p):
    return p["metadata"].get("labels", {}).get("pod-template-hash") == old
alive = {p["metadata"]["name"] for p in json.load(open(f + ".list"))["items"] if is_old(p) and running(p)}
print("old pods running at set image: %d" % len(alive))
new, bad = 0, []
for line in open(f):  # one event per line
    if not line.strip():
        continue
    e = json.loads(line)
    p, n = e["object"], e["object"]["metadata"]["name"]
    if is_old(p):
        if e["type"] == "DELETED" or not running(p):
            alive.discard(n)
        else:
            alive.add(n)
    elif e["type"] == "ADDED":
        new += 1
        if alive:
            bad.append("%s created while old pods ran: %s" % (n, " ".join(sorted(alive))))
print("new pods created: %d" % new)
for b in bad:
    print(b)
PY
expect_eq "rec: both old pods were gone before the first new pod was created (watch)" \
	"$(printf 'old pods running at set image: 2\nnew pods created: 2')" "$OUT"
[ -n "$ERR" ] && lk_diag stderr "$ERR"
wait_ok "rec: event Scaled down replica set $RSR from 2 to 0" 10 has_event \
	"Deployment deployment-controller ScalingReplicaSet Scaled down replica set $RSR from 2 to 0"
lk_done
