#!/usr/bin/env bash
# t203: DaemonSets on our one node: one pod "<ds>-xxxxx" pinned to the node
# by a required node affinity on metadata.name, with the daemon
# tolerations and labels controller-revision-hash / pod-template-generation;
# a nodeSelector that the node does not match gives no pod until the node
# is labelled, and the pod goes when the label does; status counters,
# `get ds`, and events from daemonset-controller.
. "$(dirname "$0")/lib.sh"
if lk_fake; then
	lk_plan 1
	skip "daemonset controller" "the fake server runs no controllers"
	exit 0
fi
lk_plan 33
lk_start

NS=lkt-ds
K=(kc -n "$NS")
SUFFIX='[bcdfghjklmnpqrstvwxz2456789]{5}'
expect_ok "create namespace" kc create namespace "$NS"

active_pods() {
	"${K[@]}" get pods -l "$1" -o json |
		jf '" ".join(sorted(p["metadata"]["name"] for p in d["items"] if not p["metadata"].get("deletionTimestamp")))'
}
pods_are() { [ "$(active_pods "$1" | wc -w)" = "$2" ]; }
wait_ok() { # wait_ok DESC SECONDS CMD...
	local desc=$1 secs=$2
	shift 2
	if lk_wait_for "$secs" "$@"; then pass "$desc"; else fail "$desc" "waited ${secs}s for: $*"; fi
}
events() { "${K[@]}" get events -o json | jf '"\n".join("%s %s %s %s" % (e["involvedObject"]["kind"], e["source"].get("component", ""), e["reason"], e["message"]) for e in d["items"])'; }
has_event() { events | grep -Fxq -- "$1"; }

DS=$(lk_manifest ds.yaml <<'EOF'
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      containers:
      - name: c
        image: registry.k8s.io/pause:3.9
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: ssd
spec:
  selector:
    matchLabels: {app: ssd}
  template:
    metadata:
      labels: {app: ssd}
    spec:
      nodeSelector: {disktype: ssd}
      containers:
      - name: c
        image: registry.k8s.io/pause:3.9
EOF
)
expect_ok "create daemonsets" "${K[@]}" create -f "$DS"
wait_ok "one agent pod" 10 pods_are app=agent 1
P=$(active_pods app=agent)
expect_match "named agent-<5 chars>" "^agent-$SUFFIX\$" "$P"
run "${K[@]}" get pod "$P" -o json
expect_eq "pinned to the node by required node affinity on metadata.name" \
	"metadata.name In $LK_NODE_NAME" \
	"$(jf 'next(" ".join([t["key"], t["operator"]] + t["values"]) for t in [d["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0]["matchFields"][0]])' "$OUT")"
expect_eq "daemon tolerations" \
	"node.kubernetes.io/not-ready:NoExecute node.kubernetes.io/unreachable:NoExecute node.kubernetes.io/disk-pressure:NoSchedule node.kubernetes.io/memory-pressure:NoSchedule node.kubernetes.io/pid-pressure:NoSchedule node.kubernetes.io/unschedulable:NoSchedule" \
	"$(jf '" ".join(t["key"] + ":" + t["effect"] for t in d["spec"]["tolerations"])' "$OUT")"
expect_eq "labels pod-template-generation 1, controller-revision-hash" "1 True" \
	"$(jf 'd["metadata"]["labels"]["pod-template-generation"] + " " + str(len(d["metadata"]["labels"]["controller-revision-hash"]) > 0)' "$OUT")"
expect_eq "controlled by the DaemonSet" "DaemonSet agent True" \
	"$(jf '" ".join(str(d["metadata"]["ownerReferences"][0][k]) for k in ["kind", "name", "controller"])' "$OUT")"
bound() { [ "$("${K[@]}" get pod "$P" -o jsonpath='{.spec.nodeName}')" = "$LK_NODE_NAME" ]; }
wait_ok "scheduled onto the node" 10 bound
wait_ok "event SuccessfulCreate from daemonset-controller" 10 has_event \
	"DaemonSet daemonset-controller SuccessfulCreate Created pod: $P"
ds_status() { "${K[@]}" get ds "$1" -o jsonpath='{.status.desiredNumberScheduled}/{.status.currentNumberScheduled}/{.status.numberMisscheduled}/{.status.updatedNumberScheduled}'; }
ds_status_is() { [ "$(ds_status "$1")" = "$2" ]; }
wait_ok "agent status: desired 1, current 1, misscheduled 0, updated 1" 10 ds_status_is agent 1/1/0/1
expect_ok "get ds agent" "${K[@]}" get ds agent
expect_match "get ds row" '^agent +1 +1 +[01] +1 +[01] +<none> +[0-9]+s$' "$OUT"
expect_ok "get controllerrevisions" "${K[@]}" get controllerrevisions
expect_match "revision agent-<hash>, daemonset.apps/agent, 1" '^agent-[4-9bcdf]{1,10} +daemonset\.apps/agent +1 +[0-9]+s$' "$OUT"

# A deleted daemon pod is made again.
expect_ok "delete the agent pod" "${K[@]}" delete pod "$P" --wait=false
again() { pods_are app=agent 1 && ! active_pods app=agent | grep -qw "$P"; }
wait_ok "a new agent pod" 15 again

# RollingUpdate: a new template replaces the pod (the node agent runs the
# pod to Ready and finishes its termination).
avail() { [ "$("${K[@]}" get ds agent -o jsonpath='{.status.numberAvailable}')" = 1 ]; }
wait_ok "the agent pod becomes available (numberAvailable 1)" 20 avail
OLDHASH=$("${K[@]}" get pods -l app=agent -o jsonpath='{.items[0].metadata.labels.controller-revision-hash}')
expect_match "the agent pod has a controller-revision-hash" '^[a-z0-9]+$' "$OLDHASH"
expect_ok "set image on the daemonset" "${K[@]}" set image ds/agent c=registry.k8s.io/pause:3.10
newpod() { "${K[@]}" get pods -l app=agent -o json | jf '" ".join(sorted(p["metadata"]["labels"]["controller-revision-hash"] + ":" + p["spec"]["containers"][0]["image"] for p in d["items"] if not p["metadata"].get("deletionTimestamp")))'; }
replaced_img() { newpod | grep -q ':registry.k8s.io/pause:3.10$' && [ "$(newpod | wc -w)" = 1 ]; }
wait_ok "the pod is replaced by one of the new template" 30 replaced_img
expect_nomatch "with a new controller-revision-hash" "^$OLDHASH:" "$(newpod)"
two_revs() { [ "$("${K[@]}" get controllerrevisions -o name | grep -c agent-)" = 2 ]; }
wait_ok "two ControllerRevisions for agent" 10 two_revs
wait_ok "status: updated 1" 20 ds_status_is agent 1/1/0/1

# nodeSelector: nothing until the node has the label.
wait_ok "ssd status: desired 0" 10 ds_status_is ssd 0/0/0/
expect_eq "no ssd pod" "0" "$(active_pods app=ssd | wc -w)"
expect_ok "label the node disktype=ssd" kc label node "$LK_NODE_NAME" disktype=ssd
wait_ok "an ssd pod appears" 10 pods_are app=ssd 1
wait_ok "ssd status: desired 1, current 1" 10 ds_status_is ssd 1/1/0/1
expect_ok "remove the label" kc label node "$LK_NODE_NAME" disktype-
wait_ok "the ssd pod goes" 15 pods_are app=ssd 0

expect_ok "delete daemonset agent" "${K[@]}" delete ds agent
wait_ok "its pod is deleted (garbage collector)" 15 pods_are app=agent 0
lk_done
