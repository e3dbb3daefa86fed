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
	lk_plan 1
	skip "statefulset controller" "the fake server runs no controllers"
	exit 0
fi
lk_plan 34
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
# Every change to the web pods from before they exist, in the API's order.
watch_since "$LK_TMP/web.watch" "/api/v1/namespaces/$NS/pods?labelSelector=app%3Dweb" ||
	fail "list the web pods before the StatefulSet exists"
WEBW=$LK_BGPID
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
wait_ok "web-1 and web-2 follow" 30 pods_are app=web "web-0 web-1 web-2"
lk_wait_file "$LK_TMP/web.watch" '"name": *"web-2"' 5
lk_kill "$WEBW"
# From the watch: at the moment web-N is created, web-(N-1) is Running and
# Ready (and not being deleted).
run "$LK_PY" - "$LK_TMP/web.watch" <<'PY'
import json, sys
ready, seen, out = {}, [], []
for line in open(sys.argv[1]):  # one event per line
    if not line.strip():
        continue
    e = json.loads(line)
    p = e["object"]
    n = p["metadata"]["name"]
    if e["type"] == "ADDED" and n not in seen:
        seen.append(n)
        k = int(n.rsplit("-", 1)[1])
        if k > 0 and not ready.get("web-%d" % (k - 1)):
            out.append("%s created before web-%d was Running and Ready" % (n, k - 1))
    ready[n] = e["type"] != "DELETED" and not p["metadata"].get("deletionTimestamp") and \
        p.get("status", {}).get("phase") == "Running" and \
        any(c["type"] == "Ready" and c["status"] == "True" for c in p.get("status", {}).get("conditions", []))
print("created: " + " ".join(seen))
for o in out:
    print(o)
PY
expect_eq "OrderedReady (watch): web-1 created only once web-0 was Running and Ready, web-2 once web-1 was" \
	"created: web-0 web-1 web-2" "$OUT"
[ -n "$ERR" ] && lk_diag stderr "$ERR"
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

# A template change is a new revision: updateRevision leaves the revision
# it had before the change and names the new ControllerRevision.
OLDREV=$("${K[@]}" get sts par -o jsonpath='{.status.updateRevision}')
expect_match "par: an updateRevision before the change" '^par-[4-9bcdf]{1,10}$' "$OLDREV"
expect_ok "set image on par" "${K[@]}" set image sts/par c=registry.k8s.io/pause:3.10
par_revs() { "${K[@]}" get controllerrevisions -o json | jf '" ".join(sorted(r["metadata"]["name"] for r in d["items"] if r["metadata"]["ownerReferences"][0]["name"] == "par"))'; }
newrev() { [ "$(par_revs | wc -w)" = 2 ]; }
wait_ok "a second ControllerRevision for par" 10 newrev
NEWREV=$(par_revs | tr ' ' '\n' | grep -vxF -- "$OLDREV")
updated() { [ -n "$NEWREV" ] && [ "$("${K[@]}" get sts par -o jsonpath='{.status.updateRevision}')" = "$NEWREV" ]; }
wait_ok "updateRevision moves from $OLDREV to the new revision ($NEWREV)" 10 updated
expect_ok "rollout history sts/par" "${K[@]}" rollout history sts/par
expect_line "history: revision 1" "1         <none>" "$OUT"
expect_line "history: revision 2" "2         <none>" "$OUT"

expect_ok "delete statefulset web" "${K[@]}" delete sts web
gone() { pods_are app=web ""; }
wait_ok "its pods are deleted (garbage collector)" 15 gone
lk_done
