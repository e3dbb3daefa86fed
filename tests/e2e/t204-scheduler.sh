#!/usr/bin/env bash
# t204: the scheduler: a plain pod is bound to our node (spec.nodeName,
# PodScheduled True, Scheduled event from default-scheduler); a pod whose
# nodeSelector the node does not match stays Pending with PodScheduled
# False/Unschedulable and upstream's FailedScheduling message, and is bound
# once the node gets the label; taints and cordon are honoured; a pod with
# spec.nodeName or another schedulerName is left alone.
. "$(dirname "$0")/lib.sh"
if lk_fake; then
	lk_plan 1
	skip "scheduler" "the fake server runs no controllers"
	exit 0
fi
lk_plan 40
lk_start

NS=lkt-sched
K=(kc -n "$NS")
expect_ok "create namespace" kc create namespace "$NS"

wait_ok() { # wait_ok DESC SECONDS CMD...
	local desc=$1 secs=$2
	shift 2
	if lk_wait_for "$secs" "$@"; then pass "$desc"; else fail "$desc" "waited ${secs}s for: $*"; fi
}
events() { "${K[@]}" get events -o json | jf '"\n".join("%s %s %s %s %s" % (e["involvedObject"]["name"], e["source"].get("component", ""), e["type"], e["reason"], e["message"]) for e in d["items"])'; }
has_event() { events | grep -Fxq -- "$1"; }
node_of() { "${K[@]}" get pod "$1" -o jsonpath='{.spec.nodeName}'; }
bound_to() { [ "$(node_of "$1")" = "$2" ]; }
scheduled() { "${K[@]}" get pod "$1" -o jsonpath='{range .status.conditions[?(@.type=="PodScheduled")]}{.status} {.reason} {.message}{end}'; }
scheduled_is() { [ "$(scheduled "$1")" = "$2" ]; }
pod() { # pod NAME [spec lines...]: a pause pod
	local name=$1 f
	shift
	f=$(lk_manifest "$name.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $name
spec:
$(for l in "$@"; do echo "  $l"; done)
  containers:
  - name: c
    image: registry.k8s.io/pause:3.9
EOF
)
	expect_ok "create pod $name" "${K[@]}" create -f "$f"
}
AFF_MSG="0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."

pod plain
wait_ok "plain pod bound to $LK_NODE_NAME" 10 bound_to plain "$LK_NODE_NAME"
wait_ok "PodScheduled True" 10 scheduled_is plain "True  "
wait_ok "Scheduled event" 10 has_event \
	"plain default-scheduler Normal Scheduled Successfully assigned $NS/plain to $LK_NODE_NAME"

pod picky "nodeSelector: {disktype: ssd}"
wait_ok "picky: PodScheduled False Unschedulable, upstream's message" 10 scheduled_is picky \
	"False Unschedulable $AFF_MSG"
expect_eq "picky: still unbound" "" "$(node_of picky)"
wait_ok "FailedScheduling Warning event" 10 has_event "picky default-scheduler Warning FailedScheduling $AFF_MSG"
expect_ok "describe pod picky" "${K[@]}" describe pod picky
expect_match "describe: Status Pending" '^Status: +Pending$' "$OUT"
expect_match "describe: FailedScheduling event line" \
	"^  Warning  FailedScheduling  .* +default-scheduler  0/1 nodes are available: 1 node\\(s\\) didn't match Pod's node affinity/selector\\." "$OUT"

pod pinned "nodeName: elsewhere"
pod other "schedulerName: my-scheduler"
# A pod created after both, for the scheduler: once it is bound, the
# scheduler has been through the queue past the two it must leave alone.
pod later
wait_ok "later pod bound (the scheduler has seen the pods before it)" 10 bound_to later "$LK_NODE_NAME"
wait_ok "later pod: Scheduled event" 10 has_event \
	"later default-scheduler Normal Scheduled Successfully assigned $NS/later to $LK_NODE_NAME"
expect_eq "explicit spec.nodeName is kept" "elsewhere" "$(node_of pinned)"
expect_nomatch "no scheduler event for the pinned pod" '^pinned default-scheduler ' "$(events)"
expect_eq "another schedulerName: left alone" "" "$(node_of other)"
expect_nomatch "no scheduler event for it" '^other default-scheduler ' "$(events)"
expect_eq "another schedulerName: no PodScheduled condition written" "" "$(scheduled other)"

expect_ok "the Node object $LK_NODE_NAME exists" kc get node "$LK_NODE_NAME"
expect_ok "label the node disktype=ssd" kc label node "$LK_NODE_NAME" disktype=ssd
wait_ok "picky is bound once the node matches" 10 bound_to picky "$LK_NODE_NAME"
wait_ok "picky: PodScheduled True" 10 scheduled_is picky "True  "
wait_ok "picky: Scheduled event" 10 has_event \
	"picky default-scheduler Normal Scheduled Successfully assigned $NS/picky to $LK_NODE_NAME"

# Taints: NoSchedule keeps new pods off unless they tolerate it.
expect_ok "taint the node" kc taint nodes "$LK_NODE_NAME" dedicated=db:NoSchedule
pod tainted
wait_ok "untolerated taint: Unschedulable with upstream's message" 10 scheduled_is tainted \
	"False Unschedulable 0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: db}. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
pod tolerant "tolerations: [{key: dedicated, operator: Equal, value: db, effect: NoSchedule}]"
wait_ok "a tolerating pod is bound" 10 bound_to tolerant "$LK_NODE_NAME"
expect_ok "remove the taint" kc taint nodes "$LK_NODE_NAME" dedicated-
wait_ok "the waiting pod is bound once the taint is gone" 10 bound_to tainted "$LK_NODE_NAME"

# Cordon.
expect_ok "cordon" kc cordon "$LK_NODE_NAME"
pod cordoned
wait_ok "cordoned node: Unschedulable, node(s) were unschedulable" 10 scheduled_is cordoned \
	"False Unschedulable 0/1 nodes are available: 1 node(s) were unschedulable. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
expect_ok "uncordon" kc uncordon "$LK_NODE_NAME"
wait_ok "bound after uncordon" 10 bound_to cordoned "$LK_NODE_NAME"
expect_ok "clean up the node label" kc label node "$LK_NODE_NAME" disktype-
lk_done
