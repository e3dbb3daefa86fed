#!/usr/bin/env bash
# t202: StatefulSets: pods <set>-<ordinal> with stable identity (hostname,
# subdomain = the headless Service, labels statefulset.kubernetes.io/
# pod-name, apps.kubernetes.io/pod-index, controller-revision-hash), one
# at a time for OrderedReady (the next waits for Running and Ready), all
# at once for Parallel, spec.ordinals.start, scale down from the highest
# ordinal, a template change as a new ControllerRevision, and upstream's
# events ("create Pod web-0 in StatefulSet web successful").
. "$(dirname "$0")/lib.sh"
if lk_fake; then
	skip "statefulset controller" "the fake server runs no controllers"
	exit 0
fi
lk_start

NS=lkt-sts
K=(kc -n "$NS")
expect_ok "create namespace" kc create namespace "$NS"

active_pods() {
	"${K[@]}" get pods -l "$1" -o json |
		jf '" ".join(sorted(p["metadata"]["name"] for p in d["items"] if not p["metadata"].get("deletionTimestamp")))'
}
pods_are() { [ "$(active_pods "$1")" = "$2" ]; }
wait_ok() { # wait_ok DESC SECONDS CMD...
	local desc=$1 secs=$2
	shift 2
	if lk_wait_for "$secs" "$@"; then pass "$desc"; else fail "$desc" "waited ${secs}s for: $*"; fi
}
events() { "${K[@]}" get events -o json | jf '"\n".join("%s %s %s %s" % (e["involvedObject"]["kind"], e["source"].get("component", ""), e["reason"], e["message"]) for e in d["items"])'; }
has_event() { events | grep -Fxq -- "$1"; }

STS=$(lk_manifest sts.yaml <<'EOF'
apiVersion: v1
kind: Service
metadata:
  name: nginx
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{port: 80, name: web}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: nginx
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: registry.k8s.io/pause:3.9
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: par
spec:
  serviceName: nginx
  podManagementPolicy: Parallel
  replicas: 3
  selector:
    matchLabels: {app: par}
  template:
    metadata:
      labels: {app: par}
    spec:
      containers:
      - name: c
        image: registry.k8s.io/pause:3.9
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: ord
spec:
  podManagementPolicy: Parallel
  replicas: 2
  ordinals: {start: 5}
  selector:
    matchLabels: {app: ord}
  template:
    metadata:
      labels: {app: ord}
    spec:
      containers:
      - name: c
        image: registry.k8s.io/pause:3.9
EOF
)
expect_ok "create headless service and statefulsets" "${K[@]}" create -f "$STS"

# OrderedReady: web-0 first; web-1 only once web-0 is Running and Ready.
has_web0() { active_pods app=web | grep -qw web-0; }
wait_ok "web-0 is created" 10 has_web0
run "${K[@]}" get pod web-0 -o json
expect_eq "web-0: hostname, subdomain" "web-0 nginx" "$(jf 'd["spec"]["hostname"] + " " + d["spec"]["subdomain"]' "$OUT")"
expect_eq "web-0: identity labels" "web-0 0" \
	"$(jf 'd["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] + " " + d["metadata"]["labels"]["apps.kubernetes.io/pod-index"]' "$OUT")"
expect_eq "web-0: controlled by the StatefulSet" "StatefulSet web True" \
	"$(jf '" ".join(str(d["metadata"]["ownerReferences"][0][k]) for k in ["kind", "name", "controller"])' "$OUT")"
REV=$(jf 'd["metadata"]["labels"]["controller-revision-hash"]' "$OUT")
expect_match "web-0: controller-revision-hash names the revision" '^web-[4-9bcdf]{1,10}$' "$REV"
expect_ok "get controllerrevisions" "${K[@]}" get controllerrevisions
expect_match "revision web-<hash>, statefulset.apps/web, 1" "^$REV +statefulset\\.apps/web +1 +[0-9]+s\$" "$OUT"
wait_ok "event: create Pod web-0 in StatefulSet web successful" 10 has_event \
	"StatefulSet statefulset-controller SuccessfulCreate create Pod web-0 in StatefulSet web successful"
ready0() { [ "$("${K[@]}" get pod web-0 -o jsonpath='{.status.phase}/{.status.conditions[?(@.type=="Ready")].status}')" = "Running/True" ]; }
if ready0; then
	wait_ok "web-0 ready: web-1 and web-2 follow" 30 pods_are app=web "web-0 web-1 web-2"
else
	expect_eq "web-0 not Running and Ready: web-1 waits" "web-0" "$(active_pods app=web)"
fi
sts_status() { "${K[@]}" get sts web -o jsonpath='{.status.currentRevision} {.status.updateRevision} {.status.observedGeneration}'; }
sts_status_is() { [ "$(sts_status)" = "$REV $REV 1" ]; }
wait_ok "status: current and update revision, observedGeneration 1" 10 sts_status_is

# Parallel: all at once; ordinals.start.
wait_ok "Parallel: par-0, par-1, par-2 at once" 10 pods_are app=par "par-0 par-1 par-2"
wait_ok "ordinals.start 5: ord-5, ord-6" 10 pods_are app=ord "ord-5 ord-6"
par_replicas() { [ "$("${K[@]}" get sts par -o jsonpath='{.status.replicas}')" = "$1" ]; }
wait_ok "par status.replicas 3" 10 par_replicas 3
expect_ok "get sts par" "${K[@]}" get sts par
expect_match "get sts row: READY n/3" '^par +[0-3]/3 +[0-9]+s$' "$OUT"

# Scale down: the highest ordinals go.
expect_ok "scale par to 1" "${K[@]}" scale sts par --replicas=1
wait_ok "par-1 and par-2 removed" 15 pods_are app=par "par-0"
wait_ok "event: delete Pod par-2 in StatefulSet par successful" 10 has_event \
	"StatefulSet statefulset-controller SuccessfulDelete delete Pod par-2 in StatefulSet par successful"
expect_ok "scale par back to 2" "${K[@]}" scale sts par --replicas=2
wait_ok "par-1 comes back with the same name" 10 pods_are app=par "par-0 par-1"

# A deleted pod comes back under its own name.
expect_ok "delete par-0" "${K[@]}" delete pod par-0 --wait=false
back() { "${K[@]}" get pod par-0 -o jsonpath='{.metadata.deletionTimestamp}' 2>/dev/null | grep -q . && return 1; pods_are app=par "par-0 par-1"; }
wait_ok "par-0 is recreated" 20 back

# A template change is a new revision.
expect_ok "set image on par" "${K[@]}" set image sts/par c=registry.k8s.io/pause:3.10
newrev() { [ "$("${K[@]}" get controllerrevisions -o json | jf 'str(len([r for r in d["items"] if r["metadata"]["ownerReferences"][0]["name"] == "par"]))')" = 2 ]; }
wait_ok "a second ControllerRevision for par" 10 newrev
upd() {
	"${K[@]}" get sts par -o json | jf 'str(d["status"]["updateRevision"] != d["status"]["currentRevision"] or d["status"].get("updatedReplicas") == d["status"]["replicas"])'
}
updated() { [ "$(upd)" = True ]; }
wait_ok "updateRevision moves to the new revision" 10 updated
expect_ok "rollout history sts/par" "${K[@]}" rollout history sts/par
expect_line "history: revision 1" "1         <none>" "$OUT"
expect_line "history: revision 2" "2         <none>" "$OUT"

expect_ok "delete statefulset web" "${K[@]}" delete sts web
gone() { pods_are app=web ""; }
wait_ok "its pods are deleted (garbage collector)" 15 gone
lk_done
