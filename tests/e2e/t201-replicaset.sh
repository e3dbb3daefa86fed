#!/usr/bin/env bash
# t201: standalone ReplicaSets and ReplicationControllers (the course's
# `kubia` RC): pods "<name>-xxxxx" owned by their controller, replaced when
# deleted, released when relabelled, orphans adopted, scale down deleting
# the surplus, events from replicaset-controller / replication-controller,
# status counters and what `get` and `describe` print.
. "$(dirname "$0")/lib.sh"
if lk_fake; then
	lk_plan 1
	skip "replicaset controller" "the fake server runs no controllers"
	exit 0
fi
lk_plan 45
lk_start

NS=lkt-rs
K=(kc -n "$NS")
SUFFIX='[bcdfghjklmnpqrstvwxz2456789]{5}'
expect_ok "create namespace" kc create namespace "$NS"

active_pods() {
	"${K[@]}" get pods -l "$1" -o json |
		jf '" ".join(sorted(p["metadata"]["name"] for p in d["items"] if not p["metadata"].get("deletionTimestamp")))'
}
pods_are() { [ "$(active_pods "$1" | wc -w)" = "$2" ]; }
owners() { # kinds/names of the controllers of the active pods of $1
	"${K[@]}" get pods -l "$1" -o json |
		jf '" ".join(sorted(set(r["kind"] + "/" + r["name"] for p in d["items"] if not p["metadata"].get("deletionTimestamp") for r in p["metadata"].get("ownerReferences", []) if r.get("controller"))))'
}
wait_ok() { # wait_ok DESC SECONDS CMD...
	local desc=$1 secs=$2
	shift 2
	if lk_wait_for "$secs" "$@"; then pass "$desc"; else fail "$desc" "waited ${secs}s for: $*"; fi
}
events() { "${K[@]}" get events -o json | jf '"\n".join("%s %s %s %s" % (e["involvedObject"]["kind"], e["source"].get("component", ""), e["reason"], e["message"]) for e in d["items"])'; }
has_event() { events | grep -Fxq -- "$1"; }

RSY=$(lk_manifest rs.yaml <<'EOF'
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: kubia
spec:
  replicas: 3
  selector:
    matchLabels: {app: kubia}
  template:
    metadata:
      labels: {app: kubia}
    spec:
      containers:
      - name: kubia
        image: luksa/kubia
EOF
)
expect_ok "create replicaset" "${K[@]}" create -f "$RSY"
wait_ok "three pods" 10 pods_are app=kubia 3
PODS=$(active_pods app=kubia)
expect_match "pods named kubia-<5 chars>" "^kubia-$SUFFIX kubia-$SUFFIX kubia-$SUFFIX\$" "$PODS"
expect_eq "all controlled by the ReplicaSet" "ReplicaSet/kubia" "$(owners app=kubia)"
P1=${PODS%% *}
wait_ok "SuccessfulCreate event" 10 has_event \
	"ReplicaSet replicaset-controller SuccessfulCreate Created pod: $P1"
rs_status() { "${K[@]}" get rs kubia -o jsonpath='{.status.replicas}/{.status.fullyLabeledReplicas}/{.status.observedGeneration}'; }
rs_status_is() { [ "$(rs_status)" = "$1" ]; }
wait_ok "status: replicas 3, fullyLabeledReplicas 3, observedGeneration 1" 10 rs_status_is 3/3/1
expect_ok "get rs" "${K[@]}" get rs kubia
expect_match "get rs row" '^kubia +3 +3 +[0-3] +[0-9]+s$' "$OUT"
expect_ok "describe rs" "${K[@]}" describe rs kubia
expect_line "describe: Replicas" "Replicas:     3 current / 3 desired" "$OUT"
expect_match "describe: Pods Status" '^Pods Status:  [0-3] Running / [0-3] Waiting / 0 Succeeded / 0 Failed$' "$OUT"
expect_match "describe: SuccessfulCreate event" \
	"^  Normal  SuccessfulCreate  .* +replicaset-controller  Created pod: kubia-$SUFFIX\$" "$OUT"

# A deleted pod is replaced.
expect_ok "delete a pod" "${K[@]}" delete pod "$P1" --wait=false
replaced() { pods_are app=kubia 3 && ! active_pods app=kubia | grep -qw "$P1"; }
wait_ok "the pod is replaced" 10 replaced

# A relabelled pod is released and replaced.
P2=$(active_pods app=kubia | cut -d' ' -f1)
expect_ok "relabel a pod out of the selector" "${K[@]}" label pod "$P2" app=other --overwrite
released() { [ -z "$("${K[@]}" get pod "$P2" -o jsonpath='{.metadata.ownerReferences}')" ]; }
wait_ok "released: no ownerReferences left" 10 released
wait_ok "and replaced: three kubia pods again" 10 pods_are app=kubia 3
expect_ok "label it back" "${K[@]}" label pod "$P2" app=kubia --overwrite
adopted_back() { pods_are app=kubia 3 && [ "$(owners app=kubia)" = "ReplicaSet/kubia" ]; }
wait_ok "adopted again, one surplus pod deleted" 10 adopted_back

# An orphan that matches is adopted.
ORPHAN=$(lk_manifest orphan.yaml <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: stray
  labels: {app: kubia}
spec:
  containers:
  - name: kubia
    image: luksa/kubia
EOF
)
expect_ok "scale to 4" "${K[@]}" scale rs kubia --replicas=4
wait_ok "four pods" 10 pods_are app=kubia 4
expect_ok "scale to 3" "${K[@]}" scale rs kubia --replicas=3
wait_ok "three pods" 10 pods_are app=kubia 3
expect_ok "create a matching orphan pod" "${K[@]}" create -f "$ORPHAN"
stray_owned() { # adopted, or deleted as the surplus (NotFound or terminating; not any error)
	local o
	o=$("${K[@]}" get pod stray -o jsonpath='{.metadata.ownerReferences[0].name}/{.metadata.deletionTimestamp}' 2>/dev/null)
	case $o in kubia/* | */?*) return 0 ;; esac
	notfound "${K[@]}" get pod stray
}
wait_ok "the orphan is adopted (or deleted as the surplus)" 10 stray_owned
wait_ok "three pods, all the ReplicaSet's" 10 adopted_back

# Scale down: an event for each of the two pods this step deletes (pods
# that were active before it and are not after), not earlier ones.
BEFORE=$(active_pods app=kubia)
expect_ok "scale rs --replicas=1" "${K[@]}" scale rs kubia --replicas=1
wait_ok "one pod left" 10 pods_are app=kubia 1
LEFT=$(active_pods app=kubia)
SCALED=$(tr ' ' '\n' <<<"$BEFORE" | grep -vxF -- "$LEFT" | tr '\n' ' ')
deletes() {
	local p ev
	ev=$(events)
	[ "$(wc -w <<<"$SCALED")" = 2 ] || return 1
	for p in $SCALED; do
		grep -Fxq -- "ReplicaSet replicaset-controller SuccessfulDelete Deleted pod: $p" <<<"$ev" || return 1
	done
}
wait_ok "SuccessfulDelete events for the two pods scaled away ($SCALED)" 10 deletes

# ReplicationController (kubectl create -f, the course's kubia-rc.yaml).
RCY=$(lk_manifest rc.yaml <<'EOF'
apiVersion: v1
kind: ReplicationController
metadata:
  name: kubia-rc
spec:
  replicas: 3
  selector:
    app: kubia-rc
  template:
    metadata:
      labels:
        app: kubia-rc
    spec:
      containers:
      - name: kubia
        image: luksa/kubia
        ports:
        - containerPort: 8080
EOF
)
expect_ok "create replicationcontroller" "${K[@]}" create -f "$RCY"
expect_eq "create prints" "replicationcontroller/kubia-rc created" "$OUT"
wait_ok "three RC pods" 10 pods_are app=kubia-rc 3
expect_match "RC pods named kubia-rc-<5 chars>" "^kubia-rc-$SUFFIX kubia-rc-$SUFFIX kubia-rc-$SUFFIX\$" \
	"$(active_pods app=kubia-rc)"
expect_eq "controlled by the RC" "ReplicationController/kubia-rc" "$(owners app=kubia-rc)"
run "${K[@]}" get pods -l app=kubia-rc -o jsonpath='{.items[0].metadata.ownerReferences[0].apiVersion}'
expect_eq "RC ownerReference apiVersion v1" "v1" "$OUT"
RP=$(active_pods app=kubia-rc | cut -d' ' -f1)
wait_ok "SuccessfulCreate from replication-controller" 10 has_event \
	"ReplicationController replication-controller SuccessfulCreate Created pod: $RP"
rc_cur() { [ "$("${K[@]}" get rc kubia-rc -o jsonpath='{.status.replicas}')" = "$1" ]; }
wait_ok "RC status replicas 3" 10 rc_cur 3
expect_ok "get rc" "${K[@]}" get rc
expect_match "get rc row" '^kubia-rc +3 +3 +[0-3] +[0-9]+s$' "$OUT"
RBEFORE=$(active_pods app=kubia-rc)
expect_ok "scale rc --replicas=2" "${K[@]}" scale rc kubia-rc --replicas=2
expect_eq "scale prints" "replicationcontroller/kubia-rc scaled" "$OUT"
wait_ok "two RC pods" 10 pods_are app=kubia-rc 2
wait_ok "RC status replicas 2" 10 rc_cur 2
RGONE=$(tr ' ' '\n' <<<"$RBEFORE" | grep -vxF -f <(active_pods app=kubia-rc | tr ' ' '\n') | tr -d '\n')
rc_deleted() { [ -n "$RGONE" ] && events | grep -Fxq -- "ReplicationController replication-controller SuccessfulDelete Deleted pod: $RGONE"; }
wait_ok "SuccessfulDelete from replication-controller for the pod scaled away ($RGONE)" 10 rc_deleted
lk_done
